"""Monthly partitions of the work-order table on PostgreSQL, keyed by a month-carrying id (D15).

A partitioned table's unique constraints must contain the partition key, and a foreign key can
only reference a unique constraint. Partitioning `dispatch_workorder` BY RANGE (id) keeps the
primary key `(id)` — so every foreign key to an order stays real and Django's model stays as it
is — when the id itself carries its month: ``id = YYYYMM * 10**10 + n``, n from one sequence.

- The column default is `dispatch_workorder_next_id()`: the current month in Asia/Shanghai
  times 10**10 plus the next n, so intake's INSERT … RETURNING id is unchanged. The bulk
  simulation gives each order the id of its own month (`month_id`).
- Rows from before the change keep their small ids in `dispatch_workorder_legacy`
  (MINVALUE up to 100000 * 10**10, below any month); a DEFAULT partition takes a month that has
  no partition yet, so an insert never fails; `ensure` creates months ahead and moves rows that
  wait in the default partition into their month.
- The tracking code stays unique across partitions through `dispatch_ordercode` (code primary
  key), kept by statement-level triggers (they fire for COPY too): a duplicate code fails the
  same INSERT with an IntegrityError, which intake already retries.

SQLite (the demo) keeps one plain table; everything here is then a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection as default_connection
from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)

TABLE = "dispatch_workorder"
SEQUENCE = "dispatch_workorder_n_seq"
NEXT_ID = "dispatch_workorder_next_id"
CODES = "dispatch_ordercode"
LEGACY = f"{TABLE}_legacy"
DEFAULT = f"{TABLE}_default"
MONTH = 10**10  # ids per month: n stays below it (the sequence's MAXVALUE)
FIRST_MONTH_ID = 100000 * MONTH  # the lowest month-carrying id; smaller ids are legacy
AHEAD = 3
WAS_UNIQUE = "huying: unique constraint before partitioning"


def _tz() -> ZoneInfo:
    return timezone.get_default_timezone()  # cached; reset when the setting changes


def month_of(when: datetime | date) -> int:
    """YYYYMM of a time (in the project's time zone) or a date."""
    if isinstance(when, datetime):
        when = when.astimezone(_tz()) if when.tzinfo else when
    return when.year * 100 + when.month


def month_id(month: int, n: int) -> int:
    """The id of the n-th order (from the sequence) taken in `month` (YYYYMM)."""
    return month * MONTH + n


def order_month(order_id: int) -> int | None:
    """The month (YYYYMM) an id carries, or None for a legacy id."""
    return order_id // MONTH if order_id >= FIRST_MONTH_ID else None


def add_months(month: int, k: int) -> int:
    y, m = divmod(month // 100 * 12 + month % 100 - 1 + k, 12)
    return y * 100 + m + 1


def partition_name(month: int) -> str:
    return f"{TABLE}_p{month}"


def is_partitioned(connection=None) -> bool:
    connection = connection or default_connection
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cur.fetchone()
    return bool(row and row[0])


# -- converting the table (the migration) ------------------------------------------------------------

def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _shape(cur, table: str) -> dict:
    """What must be rebuilt around `table`: its keys, indexes and the foreign keys in and out."""
    cur.execute("""SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                   WHERE contype = 'f' AND confrelid = %s::regclass AND conparentid = 0 ORDER BY 1, 2""", [table])
    inbound = cur.fetchall()  # the table's own self-references are here too
    cur.execute("""SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                   WHERE contype = 'f' AND conrelid = %s::regclass AND confrelid <> %s::regclass
                   AND conparentid = 0 ORDER BY 1""", [table, table])
    outbound = cur.fetchall()
    cur.execute("SELECT conname FROM pg_constraint WHERE contype = 'p' AND conrelid = %s::regclass", [table])
    pk = cur.fetchone()[0]
    cur.execute("""SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique, con.contype,
                          obj_description(i.indexrelid, 'pg_class'),
                          array(SELECT a.attname FROM unnest(i.indkey) k JOIN pg_attribute a
                                ON a.attrelid = i.indrelid AND a.attnum = k)
                   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                   LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                   WHERE i.indrelid = %s::regclass AND NOT i.indisprimary ORDER BY 1""", [table])
    indexes = cur.fetchall()
    return {"inbound": inbound, "outbound": outbound, "pk": pk, "indexes": indexes}


def _rebuild(connection, *, partitioned: bool) -> None:
    """Rebuild `dispatch_workorder` as a partitioned table (or back), keeping rows, keys and names."""
    old, new = TABLE, f"{TABLE}_rebuild"
    with connection.cursor() as cur:
        cur.execute(f"LOCK TABLE {_q(old)} IN ACCESS EXCLUSIVE MODE")
        shape = _shape(cur, old)
        cur.execute(f"CREATE TABLE {_q(new)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                    f"INCLUDING STORAGE INCLUDING COMMENTS)" + (" PARTITION BY RANGE (id)" if partitioned else ""))
        if partitioned:
            cur.execute(f"CREATE SEQUENCE IF NOT EXISTS {_q(SEQUENCE)} AS bigint MINVALUE 1 MAXVALUE {MONTH - 1}")
            # now() is the transaction's start: a batch of orders shares one month.
            cur.execute(f"""CREATE OR REPLACE FUNCTION {_q(NEXT_ID)}() RETURNS bigint LANGUAGE sql VOLATILE AS $$
                SELECT to_char(now() AT TIME ZONE '{settings.TIME_ZONE}', 'YYYYMM')::bigint * {MONTH}
                       + nextval('{SEQUENCE}') $$""")
            cur.execute(f"ALTER TABLE {_q(new)} ALTER COLUMN id SET DEFAULT {_q(NEXT_ID)}()")
            cur.execute(f"CREATE TABLE {_q(LEGACY)} PARTITION OF {_q(new)} FOR VALUES FROM (MINVALUE) "
                        f"TO ({FIRST_MONTH_ID})")
            this = month_of(datetime.now(_tz()))
            for k in range(AHEAD + 1):
                m = add_months(this, k)
                cur.execute(f"CREATE TABLE {_q(partition_name(m))} PARTITION OF {_q(new)} FOR VALUES "
                            f"FROM ({month_id(m, 0)}) TO ({month_id(add_months(m, 1), 0)})")
            cur.execute(f"CREATE TABLE {_q(DEFAULT)} PARTITION OF {_q(new)} DEFAULT")
        else:
            cur.execute(f"ALTER TABLE {_q(new)} ALTER COLUMN id DROP DEFAULT")
            cur.execute(f"ALTER TABLE {_q(new)} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
        cur.execute(f"INSERT INTO {_q(new)} SELECT * FROM {_q(old)}")
        for table, name, _definition in shape["inbound"]:
            cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_q(name)}")
        cur.execute(f"DROP TABLE {_q(old)}")
        cur.execute(f"ALTER TABLE {_q(new)} RENAME TO {_q(old)}")
        cur.execute(f"ALTER TABLE {_q(old)} ADD CONSTRAINT {_q(shape['pk'])} PRIMARY KEY (id)")
        for name, definition, unique, contype, comment, columns in shape["indexes"]:
            if partitioned and unique and "id" not in columns:
                # A unique index must hold the partition key: uniqueness moves to a side table.
                cur.execute(definition.replace("CREATE UNIQUE INDEX", "CREATE INDEX", 1))
                cur.execute(f"COMMENT ON INDEX {_q(name)} IS %s", [WAS_UNIQUE])
            elif not partitioned and comment == WAS_UNIQUE:
                cols = ", ".join(_q(c) for c in columns)
                cur.execute(f"ALTER TABLE {_q(old)} ADD CONSTRAINT {_q(name)} UNIQUE ({cols})")
            elif contype == "u":
                cols = ", ".join(_q(c) for c in columns)
                cur.execute(f"ALTER TABLE {_q(old)} ADD CONSTRAINT {_q(name)} UNIQUE ({cols})")
            else:
                cur.execute(definition)
        for name, definition in shape["outbound"]:
            cur.execute(f"ALTER TABLE {_q(old)} ADD CONSTRAINT {_q(name)} {definition}")
        for table, name, definition in shape["inbound"]:
            cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_q(name)} {definition}")
        if partitioned:
            _install_codes(cur)
            # Month-carrying ids already there (a table converted back and forth): n goes on after them.
            cur.execute(f"SELECT setval(%s, GREATEST(MAX(id %% {MONTH}), 1), MAX(id) IS NOT NULL) FROM {_q(old)} "
                        f"WHERE id >= {FIRST_MONTH_ID}", [SEQUENCE])
        else:
            cur.execute(f"DROP TABLE IF EXISTS {_q(CODES)}")
            cur.execute(f"DROP FUNCTION IF EXISTS {_q(CODES + '_sync')}() CASCADE")
            cur.execute(f"DROP FUNCTION IF EXISTS {_q(CODES + '_clear')}() CASCADE")
            cur.execute(f"DROP FUNCTION IF EXISTS {_q(CODES + '_change')}() CASCADE")
            cur.execute(f"DROP FUNCTION IF EXISTS {_q(NEXT_ID)}()")
            cur.execute(f"DROP SEQUENCE IF EXISTS {_q(SEQUENCE)}")
            cur.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) "
                        f"FROM {_q(old)}", [old])


def _install_codes(cur) -> None:
    """The side table that keeps tracking codes unique across partitions, and its triggers."""
    # text, not varchar(n): a later change of the code's length needs nothing here.
    cur.execute(f"""CREATE TABLE {_q(CODES)} (code text NOT NULL PRIMARY KEY, order_id bigint NOT NULL)""")
    cur.execute(f"COMMENT ON TABLE {_q(CODES)} IS 'huying: one row per work order; keeps code unique (D15)'")
    cur.execute(f"INSERT INTO {_q(CODES)} (code, order_id) SELECT code, id FROM {_q(TABLE)}")
    # Statement-level with transition tables: one set-based INSERT per statement (and per COPY).
    cur.execute(f"""CREATE FUNCTION {_q(CODES + '_sync')}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('DELETE', 'UPDATE') THEN
            DELETE FROM {CODES} c USING gone g WHERE c.code = g.code AND c.order_id = g.id;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO {CODES} (code, order_id) SELECT code, id FROM came;
          END IF;
          RETURN NULL;
        END $$""")
    cur.execute(f"""CREATE TRIGGER {CODES}_insert AFTER INSERT ON {_q(TABLE)} REFERENCING NEW TABLE AS came
                    FOR EACH STATEMENT EXECUTE FUNCTION {_q(CODES + '_sync')}()""")
    cur.execute(f"""CREATE TRIGGER {CODES}_delete AFTER DELETE ON {_q(TABLE)} REFERENCING OLD TABLE AS gone
                    FOR EACH STATEMENT EXECUTE FUNCTION {_q(CODES + '_sync')}()""")
    # Orders are updated one at a time and their code (almost) never changes: a row trigger that
    # returns at once. No column list and no WHEN clause: either would pin the column's type, and a
    # later migration changing the code's length would fail ("column used in a trigger definition").
    cur.execute(f"""CREATE FUNCTION {_q(CODES + '_change')}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.code IS DISTINCT FROM NEW.code OR OLD.id IS DISTINCT FROM NEW.id THEN
            DELETE FROM {CODES} WHERE code = OLD.code AND order_id = OLD.id;
            INSERT INTO {CODES} (code, order_id) VALUES (NEW.code, NEW.id);
          END IF;
          RETURN NULL;
        END $$""")
    cur.execute(f"""CREATE TRIGGER {CODES}_update AFTER UPDATE ON {_q(TABLE)} FOR EACH ROW
                    EXECUTE FUNCTION {_q(CODES + '_change')}()""")
    cur.execute(f"""CREATE FUNCTION {_q(CODES + '_clear')}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN TRUNCATE {CODES}; RETURN NULL; END $$""")
    cur.execute(f"""CREATE TRIGGER {CODES}_truncate AFTER TRUNCATE ON {_q(TABLE)} FOR EACH STATEMENT
                    EXECUTE FUNCTION {_q(CODES + '_clear')}()""")


def install(schema_editor) -> None:
    """Migration forward: partition the work-order table (PostgreSQL only)."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql" and not is_partitioned(connection):
        _rebuild(connection, partitioned=True)


def uninstall(schema_editor) -> None:
    """Migration backward: one plain table again, ids kept, identity restarting after the largest."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql" and is_partitioned(connection):
        _rebuild(connection, partitioned=False)


# -- keeping partitions ahead ------------------------------------------------------------------------

@dataclass
class Partition:
    name: str
    month: int | None  # None: the legacy or the default partition
    bound: str
    rows: int
    bytes: int


def partitions_list(connection=None) -> list[Partition]:
    """Every partition of the order table with its bounds, exact row count and size (indexes included)."""
    connection = connection or default_connection
    if not is_partitioned(connection):
        return []
    with connection.cursor() as cur:
        cur.execute("""SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), pg_total_relation_size(c.oid)
                       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                       WHERE i.inhparent = %s::regclass ORDER BY c.relname""", [TABLE])
        found = cur.fetchall()
        out = []
        for name, bound, size in found:
            cur.execute(f"SELECT count(*) FROM {_q(name)}")
            month = int(name.rsplit("_p", 1)[1]) if name.startswith(f"{TABLE}_p") else None
            out.append(Partition(name, month, bound, cur.fetchone()[0], size))
    return sorted(out, key=lambda p: (p.name != LEGACY, p.name == DEFAULT, p.month or 0))


def _month_exists(cur, month: int) -> bool:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_name(month)])
    return cur.fetchone()[0]


def _create_month(cur, month: int) -> int:
    """Create `month`'s partition; rows of that month waiting in the default partition move into it.

    A row cannot simply move while foreign keys point at it (their checks look in the partition
    the row left), so the moving case drops the foreign keys to the table, moves the rows and adds
    the keys back (NOT VALID where PostgreSQL allows it; `ensure` validates them after commit).
    Rows are deleted and inserted through the parent table so that the code table's statement
    triggers see them. Returns the number of rows moved.
    """
    lo, hi = month_id(month, 0), month_id(add_months(month, 1), 0)
    name = partition_name(month)
    cur.execute(f"SELECT count(*) FROM {_q(DEFAULT)} WHERE id >= %s AND id < %s", [lo, hi])
    waiting = cur.fetchone()[0]
    if not waiting:
        cur.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(TABLE)} FOR VALUES FROM ({lo}) TO ({hi})")
        return 0
    cur.execute(f"LOCK TABLE {_q(TABLE)} IN ACCESS EXCLUSIVE MODE")
    inbound = _shape(cur, TABLE)["inbound"]
    for table, fk, _definition in inbound:
        cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_q(fk)}")
    cur.execute(f"CREATE TEMPORARY TABLE huying_moving ON COMMIT DROP AS "
                f"WITH gone AS (DELETE FROM {_q(TABLE)} WHERE id >= %s AND id < %s RETURNING *) "
                f"SELECT * FROM gone", [lo, hi])
    cur.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(TABLE)} FOR VALUES FROM ({lo}) TO ({hi})")
    cur.execute(f"INSERT INTO {_q(TABLE)} SELECT * FROM huying_moving")
    cur.execute("DROP TABLE huying_moving")
    for table, fk, definition in inbound:
        cur.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = %s::regclass", [table])
        later = "" if cur.fetchone()[0] else " NOT VALID"  # NOT VALID: not on a partitioned table
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_q(fk)} {definition}{later}")
    return waiting


def ensure(*, ahead: int = AHEAD, months: list[int] | None = None, now: datetime | None = None,
           connection=None) -> dict:
    """Create the partitions for this month and `ahead` more (or for `months`); returns what was done.

    Safe to run from several processes (an advisory lock serialises them); waits at most a few
    seconds for the table lock, so a busy moment makes it fail and the next run try again.
    """
    connection = connection or default_connection
    done = {"created": [], "moved": 0}
    if not is_partitioned(connection):
        return done
    if months is None:
        this = month_of(now or datetime.now(_tz()))
        months = [add_months(this, k) for k in range(ahead + 1)]
    with transaction.atomic(using=connection.alias), connection.cursor() as cur:
        cur.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', '5s', true)")
        was = cur.fetchone()[0]
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
        for month in sorted(set(months)):
            if not _month_exists(cur, month):
                done["moved"] += _create_month(cur, month)
                done["created"].append(partition_name(month))
        cur.execute("SELECT set_config('lock_timeout', %s, true)", [was])
    if done["moved"]:
        with connection.cursor() as cur:
            cur.execute("""SELECT conrelid::regclass::text, conname FROM pg_constraint
                           WHERE contype = 'f' AND confrelid = %s::regclass AND NOT convalidated""", [TABLE])
            for table, fk in cur.fetchall():
                cur.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {_q(fk)}")
    return done


def months_between(first: datetime | date, last: datetime | date) -> list[int]:
    a, b = month_of(first), month_of(last)
    out = [a]
    while out[-1] < b:
        out.append(add_months(out[-1], 1))
    return out


_last_daily: date | None = None


def ensure_daily() -> None:
    """The worker's daily call: keep partitions ahead; a failure is logged and retried next time."""
    global _last_daily
    today = datetime.now(_tz()).date()
    if _last_daily == today or default_connection.vendor != "postgresql":
        return
    try:
        done = ensure()
    except Exception:  # the worker's own job must go on; the next round tries again
        log.exception("partitions: ensure failed")
        return
    _last_daily = today
    if done["created"]:
        log.info("partitions: created %s, moved %s rows from the default partition", done["created"], done["moved"])
