"""Multi-row INSERTs for intake's append-only rows, without the ORM's per-value machinery.

Shared by every app that writes many append-only rows (dispatch's intake, insight's refresh queue).
`QuerySet.bulk_create` runs every value through the insert compiler (pre_save, prepare, quote)
and every row through `Model.__init__`: at thousands of orders a second that is most of the
time. Here a table's INSERT is built once; a plain value (str, int, float, bool, None) in a
plain column (text, integer, boolean, float, foreign key) goes to the driver as it is, and
everything else through the field's own `get_db_prep_save`, exactly as the ORM would. Columns
the caller leaves out get the field's default; `auto_now`/`auto_now_add` columns get the time.
Ids come back through INSERT … RETURNING (PostgreSQL, SQLite ≥ 3.35); a backend without it
falls back to `bulk_create`.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import connections, models, router
from django.db.backends.utils import CursorDebugWrapper
from django.utils import timezone

_PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.FloatField,
                 models.ForeignKey)
_PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})
_NOT_SET = object()


class _Table:
    def __init__(self, model: type[models.Model], connection):
        meta = model._meta
        self.fields = [f for f in meta.concrete_fields if not (f.primary_key and f.db_returning)]
        self.attnames = [f.attname for f in self.fields]
        qn = connection.ops.quote_name
        self.head = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in self.fields)}) VALUES ")
        self.row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        self.tail = f" RETURNING {qn(meta.db_table)}.{qn(meta.pk.column)}"
        self.tail_ignore = f" ON CONFLICT DO NOTHING{self.tail}"
        limit = connection.features.max_query_params or 65535
        self.chunk = max(1, min(1000, limit // len(self.fields)))
        if connection.vendor == "postgresql":
            self.chunk = 1000
        # PostgreSQL: one array per column (INSERT … SELECT FROM unnest), as Django's own bulk insert
        # does there. The statement stays short and the same, so the driver does not re-parse a
        # VALUES list with tens of thousands of placeholders for every batch.
        self.unnest = None
        if connection.vendor == "postgresql":
            casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in self.fields)
            self.unnest = self.head.removesuffix(" VALUES ") + f" SELECT * FROM unnest({casts})"
        self.prep = [
            (f.get_db_prep_save, isinstance(f, _PLAIN_FIELDS) and not getattr(f, "auto_now", False)
             and not getattr(f, "auto_now_add", False))
            for f in self.fields
        ]
        self.stamped = frozenset(i for i, f in enumerate(self.fields)
                                 if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))


_tables: dict[tuple[type, str], _Table] = {}
# Below this many rows a plain VALUES list is cheaper: psycopg quotes every value of an array literal
# in Python, which for one order's rows cost more than the rest of its intake (measured: ~7 ms of ~15).
UNNEST_FROM = 32


def _table(model, connection) -> _Table:
    key = (model, connection.alias)
    t = _tables.get(key)
    if t is None:
        t = _tables[key] = _Table(model, connection)
    return t


def insert_rows(model: type[models.Model], rows: list[dict], *, ignore_conflicts: bool = False,
                returning: bool = True) -> list[int] | None:
    """INSERT `rows` (dicts of attname → value) and return their new ids, in order.

    With `ignore_conflicts`, a row that would break a unique constraint is skipped (ON CONFLICT DO
    NOTHING) and only the ids of the rows written come back. With `returning=False` nothing is read
    back and None is returned: inside `pipelined()` the statement then costs no round trip of its own
    (an error still surfaces, at the latest when the pipeline ends)."""
    if not rows:
        return [] if returning else None
    alias = router.db_for_write(model)
    connection = connections[alias]
    if not connection.features.can_return_rows_from_bulk_insert:  # pragma: no cover - PostgreSQL and SQLite can
        objs = model._default_manager.using(alias).bulk_create([model(**r) for r in rows],
                                                              ignore_conflicts=ignore_conflicts)
        return [o.pk for o in objs]
    t = _table(model, connection)
    tail = t.tail_ignore if ignore_conflicts else t.tail
    if not returning:
        tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    fields = list(enumerate(zip(t.fields, t.prep, strict=True)))
    # Many rows share values (a batch's `now`, its deadlines, defaults): each is converted once.
    converted: dict = {}
    stamp = timezone.now() if t.stamped else None
    ids: list[int] = []
    with bound_cursor(connection) as cursor:
        for start in range(0, len(rows), t.chunk):
            part = rows[start:start + t.chunk]
            params = []
            for row in part:
                for i, (field, (prep, plain)) in fields:
                    value = row.get(field.attname, _NOT_SET)
                    if i in t.stamped and (value is None or value is _NOT_SET or field.auto_now):
                        value = stamp
                    elif value is _NOT_SET:
                        try:
                            params.append(converted[i, _NOT_SET])
                        except KeyError:
                            params.append(converted.setdefault((i, _NOT_SET), prep(field.get_default(), connection)))
                        continue
                    if plain and type(value) in _PLAIN_VALUES:
                        params.append(value)
                    elif type(value) is datetime:
                        try:
                            params.append(converted[i, value])
                        except KeyError:
                            params.append(converted.setdefault((i, value), prep(value, connection)))
                    else:
                        params.append(prep(value, connection))
            if t.unnest is not None and len(part) >= UNNEST_FROM:
                width = len(t.fields)
                cursor.execute(t.unnest + tail, [params[i::width] for i in range(width)])
            else:
                cursor.execute(t.head + ", ".join([t.row] * len(part)) + tail, params)
            if returning:
                ids.extend(r[0] for r in cursor.fetchall())
    if not returning:
        return None
    if len(ids) != len(rows) and not ignore_conflicts:  # pragma: no cover - RETURNING gives one row per inserted row
        raise RuntimeError(f"{model.__name__}: inserted {len(rows)} rows, got {len(ids)} ids")
    return ids


def insert_objects(objs: list[models.Model]) -> list[models.Model]:
    """INSERT unsaved instances of one model, set their ids and mark them saved."""
    if not objs:
        return objs
    model = type(objs[0])
    alias = router.db_for_write(model)
    t = _table(model, connections[alias])
    if t.stamped:
        stamp = timezone.now()
        for o in objs:
            for i in t.stamped:
                f = t.fields[i]
                if f.auto_now or getattr(o, f.attname) is None:
                    setattr(o, f.attname, stamp)
    ids = insert_rows(model, [{a: getattr(o, a) for a in t.attnames} for o in objs])
    for o, pk in zip(objs, ids, strict=True):
        o.pk = pk
        o._state.adding = False
        o._state.db = alias
    return objs


def bound_cursor(connection):
    """A cursor of `connection` for the same few statements run again and again (intake's inserts).

    On PostgreSQL its values travel apart from the statement (psycopg's server-side binding), so
    the statement's text is the same every time and the server parses and plans it once per
    connection after HUYING_PG_PREPARE runs (a prepared statement). Django's own cursors bind values
    into the text (client-side), which nothing can prepare; they stay the default for every other
    query, some of which PostgreSQL does not accept with server-side parameters (DDL, SET …). The
    cursor is Django's wrapper all the same: errors, query logging and execute wrappers as usual.
    Prepared statements use generic plans (settings: plan_cache_mode), so keep these cursors to
    inserts and look-ups by key: a generic plan cannot use an index for `LIKE $1`.
    """
    if connection.vendor != "postgresql" or settings.HUYING_PG_PREPARE is None:
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return _BoundDebugCursor(raw, connection)
    return connection.make_cursor(raw)


class _BoundDebugCursor(CursorDebugWrapper):
    """Django's query log for a bound cursor: the statement as sent, with its placeholders.

    Django asks the driver for the last executed query text, which psycopg leaves unset for a
    statement run prepared inside a pipeline; the statement itself is what the log needs."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


@contextmanager
def pipelined(using: str = "default"):
    """Send the statements run inside without waiting for each one's answer (PostgreSQL's pipeline
    mode, through psycopg 3); elsewhere a no-op.

    A statement whose rows are read (INSERT … RETURNING and fetch, any query) still waits for its
    own answer, but everything queued before it travels in the same round trip, and statements
    nobody reads (`insert_rows(..., returning=False)`) travel with the next one that is read or
    with the end of the block. Errors keep their meaning: a failed statement raises Django's own
    exception (IntegrityError …) at the latest when the block ends, and the statements after it
    are not run, so the surrounding transaction rolls back as it would have. Use it inside a
    transaction, for writes whose row counts nobody reads (`QuerySet.update()`'s count is not
    known inside a pipeline).
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or not _pipeline_supported():
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


@functools.cache
def _pipeline_supported() -> bool:
    try:
        import psycopg

        return bool(psycopg.Pipeline.is_supported())
    except (ImportError, AttributeError):  # psycopg 2, or a libpq without pipeline mode
        return False
