"""Keeping the rollups current: refresh one order from its row and timeline, or rebuild everything.

Why recompute-and-diff instead of adding each transition as it comes: a signal can arrive twice
(a retry), late, or never (a process dies after commit); transitions of concurrent transactions
can commit out of id order, so a "last applied transition id" watermark would skip some. Instead
each order's contribution is a pure function of its committed row and timeline (`facts.fact_of`),
and the last contribution applied is stored (`OrderFact`, `OrderUnitFact`). A refresh locks that
stored row, reads the order again, and adds (new − stored) to every rollup row it touches. So a
refresh is idempotent (a second one finds nothing to add), order-independent (the last one to take
the lock reads the latest committed state), and any missed signal is repaired by the next refresh
of that order or by `huying insight rebuild`. Rollup rows are changed with `x = x + delta`
upserts, in key order, so concurrent refreshes of different orders neither lose updates nor
deadlock.
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from huying.core import rows

from .facts import IDX, Fact, N, fact_of, signature
from .metrics import COUNTERS
from .models import (
    CODE_LENGTH,
    SUBJECT_LEVELS,
    AreaDay,
    AreaDayTotal,
    AreaNow,
    Level,
    OrderFact,
    OrderUnitFact,
    RefreshQueue,
    UnitDay,
)

log = logging.getLogger(__name__)
PLACEHOLDER_DAY = date(1970, 1, 1)
_city_code_cache: list[str] = []


def city_code() -> str:
    """The loaded city's code, the top of every rollup chain; "" while no city is loaded.

    Only a loaded city is remembered, so loading one later is picked up without a restart, and
    rollups made before it (under "") are put right by `huying insight rebuild`.
    """
    if not _city_code_cache:
        from huying.territory.selectors import city_code as territory_city_code

        code = territory_city_code()
        if not code:
            return ""
        _city_code_cache.append(code)
    return _city_code_cache[0]


def reset_caches() -> None:
    _city_code_cache.clear()


def ancestors(leaf: str) -> list[tuple[str, int, str]]:
    """(code, level, parent) for the city and every level of `leaf` down to itself."""
    city = city_code()
    out = [(city, Level.CITY, "")]
    parent = city
    for level in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID):
        n = CODE_LENGTH[level]
        if len(leaf) < n:
            break
        out.append((leaf[:n], level, parent))
        parent = leaf[:n]
    return out


# -- reading an order --------------------------------------------------------------------------

ORDER_FIELDS = ("id", "created_at", "area_code", "subject__code", "state", "deadline_state", "response_overdue",
                "lead_unit_id", "version")


def _order_rows(ids=None, *, id_range=None) -> dict[int, dict]:
    from huying.dispatch.models import WorkOrder

    qs = WorkOrder.objects.filter(pk__in=list(ids)) if id_range is None else WorkOrder.objects.filter(
        pk__gte=id_range[0], pk__lte=id_range[1])
    out = {}
    for row in qs.values(*ORDER_FIELDS):
        row["subject_code"] = row.pop("subject__code")
        out[row["id"]] = row
    return out


def _steps(ids=None, *, id_range=None) -> dict[int, list[dict]]:
    from huying.dispatch.models import Transition

    from .facts import UNIT_EVENTS

    out: dict[int, list[dict]] = defaultdict(list)
    qs = Transition.objects.filter(order_id__in=list(ids)) if id_range is None else Transition.objects.filter(
        order_id__gte=id_range[0], order_id__lte=id_range[1])
    qs = (qs.filter(action__in=list(UNIT_EVENTS))
          .order_by("order_id", "id").values_list("order_id", "action", "unit_id", "data"))
    for oid, action, uid, data in qs:
        out[oid].append({"action": action, "unit_id": uid, "data": data})
    return out


# -- applying deltas ---------------------------------------------------------------------------

def _stored_many(order_ids: list[int]) -> dict[int, Fact]:
    """The stored contributions of these orders, their OrderFact rows locked in id order (no deadlocks)."""
    out: dict[int, Fact] = {}
    rows = OrderFact.objects.select_for_update().filter(pk__in=order_ids).order_by("pk")
    for row in rows:
        out[row.pk] = Fact(order_id=row.pk, day=row.day, leaf=row.leaf, subject=row.subject,
                           lead_unit_id=row.lead_unit_id, signature=row.signature,
                           area=[getattr(row, c) for c in COUNTERS])
    for uf in OrderUnitFact.objects.filter(order_id__in=order_ids):
        out[uf.order_id].units[uf.unit_id] = [getattr(uf, c) for c in COUNTERS]
    return out


def _add(target: dict, key, vec: list[int], sign: int) -> None:
    acc = target.get(key)
    if acc is None:
        acc = target[key] = [0] * N
    for i, v in enumerate(vec):
        if v:
            acc[i] += sign * v


class Deltas:
    """Changes to the rollup rows, collected from facts and written in one upsert per table."""

    def __init__(self):
        self.area_day: dict[tuple, list[int]] = {}
        self.area_total: dict[tuple, list[int]] = {}
        self.area_now: dict[tuple, list[int]] = {}
        self.unit_day: dict[tuple, list[int]] = {}

    def fact(self, f: Fact, sign: int) -> None:
        if f.day is None or f.day == PLACEHOLDER_DAY:
            return
        if any(f.area):
            for code, level, parent in ancestors(f.leaf):
                if level in SUBJECT_LEVELS:
                    _add(self.area_day, (code, f.day, f.subject, int(level), parent), f.area, sign)
                _add(self.area_total, (code, f.day, int(level), parent), f.area, sign)
                _add(self.area_now, (code, int(level), parent), f.area, sign)
        for uid, vec in f.units.items():
            if any(vec):
                _add(self.unit_day, (f.day, uid), vec, sign)

    def write(self) -> None:
        _upsert("insight_areaday", ("code", "day", "subject"), ("level", "parent"), self.area_day)
        _upsert("insight_areadaytotal", ("code", "day"), ("level", "parent"), self.area_total)
        _upsert("insight_areanow", ("code",), ("level", "parent"), self.area_now)
        _upsert("insight_unitday", ("day", "unit_id"), (), self.unit_day)


def _upsert(table: str, key: tuple[str, ...], extra: tuple[str, ...], rows: dict[tuple, list[int]]) -> None:
    """rows: (key values + extra values) → counter deltas; adds them, inserting missing rows."""
    items = sorted((k, v) for k, v in rows.items() if any(v))
    if not items:
        return
    cols = (*key, *extra, *COUNTERS)
    qn = connection.ops.quote_name
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    sets = ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + EXCLUDED.{qn(c)}" for c in COUNTERS)
    with connection.cursor() as cur:
        for start in range(0, len(items), 200):
            chunk = items[start:start + 200]
            sql = (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in cols)}) VALUES "
                   f"{', '.join([one] * len(chunk))} ON CONFLICT ({', '.join(qn(c) for c in key)}) "
                   f"DO UPDATE SET {sets}")
            params = []
            for k, v in chunk:
                params.extend(k)
                params.extend(v)
            cur.execute(sql, params)


def _save_many(changed: list[tuple[int, Fact | None, Fact]]) -> None:
    """Store the new contributions of the changed orders: (order id, new or None if gone, old).

    Their rows are locked by this transaction, so they are replaced (one DELETE, one INSERT per
    table) — far cheaper than an UPDATE per row or Django's CASE-per-column bulk_update.
    """
    ids = [oid for oid, _new, _old in changed]
    OrderFact.objects.filter(pk__in=ids).delete()
    OrderUnitFact.objects.filter(order_id__in=ids).delete()
    kept = [(oid, new) for oid, new, _old in changed if new is not None]
    OrderFact.objects.bulk_create([
        OrderFact(order_id=oid, day=new.day, leaf=new.leaf, subject=new.subject, lead_unit_id=new.lead_unit_id,
                  signature=new.signature, **{c: new.area[i] for i, c in enumerate(COUNTERS)})
        for oid, new in kept
    ], batch_size=500)
    OrderUnitFact.objects.bulk_create([
        OrderUnitFact(order_id=oid, unit_id=uid, day=new.day, **{c: vec[i] for i, c in enumerate(COUNTERS)})
        for oid, new in kept for uid, vec in new.units.items() if any(vec)
    ], batch_size=500)


def orders_refresh(order_ids) -> int:
    """Bring the rollups up to date with these orders' committed state, in one transaction and a
    fixed number of queries however many orders; returns how many orders' contributions changed."""
    ids = sorted({int(i) for i in order_ids})
    if not ids:
        return 0
    with transaction.atomic():
        OrderFact.objects.bulk_create([OrderFact(order_id=i, day=PLACEHOLDER_DAY, leaf="", subject="") for i in ids],
                                      ignore_conflicts=True, batch_size=500)
        old = _stored_many(ids)
        # Read after taking the locks: a refresh that waited sees what the one before it committed.
        orders = _order_rows(ids)
        stale = [i for i in ids if i not in orders or old[i].signature != signature(orders[i])]
        if not stale:
            return 0
        steps = _steps([i for i in stale if i in orders])
        deltas = Deltas()
        changed = []
        for i in stale:
            new = fact_of(orders[i], steps.get(i, [])) if i in orders else None
            deltas.fact(old[i], -1)
            if new is not None:
                deltas.fact(new, +1)
            changed.append((i, new, old[i]))
        deltas.write()
        _save_many(changed)
        return len(changed)


def order_refresh(order_id: int) -> bool:
    """Bring the rollups up to date with one order's committed state; True if anything changed."""
    return orders_refresh([order_id]) > 0


# -- rebuilding --------------------------------------------------------------------------------

def clear() -> None:
    tables = [m._meta.db_table for m in (AreaDay, AreaDayTotal, AreaNow, UnitDay, OrderFact, OrderUnitFact)]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables))
        else:
            for t in tables:
                cur.execute(f"DELETE FROM {connection.ops.quote_name(t)}")


def facts_write(facts: list[Fact], *, simulated: bool = False) -> None:
    """Store many orders' facts at once (COPY on PostgreSQL); the caller aggregates afterwards."""
    if not facts:
        return
    if connection.vendor == "postgresql":
        _copy_facts(facts, simulated)
        return
    OrderFact.objects.bulk_create([
        OrderFact(order_id=f.order_id, day=f.day, leaf=f.leaf, subject=f.subject, lead_unit_id=f.lead_unit_id,
                  signature=f.signature, simulated=simulated, **{c: f.area[i] for i, c in enumerate(COUNTERS)})
        for f in facts
    ], batch_size=2000)
    OrderUnitFact.objects.bulk_create([
        OrderUnitFact(order_id=f.order_id, unit_id=uid, day=f.day, **{c: vec[i] for i, c in enumerate(COUNTERS)})
        for f in facts for uid, vec in f.units.items() if any(vec)
    ], batch_size=2000)


def _copy_facts(facts: list[Fact], simulated: bool) -> None:
    sim = "t" if simulated else "f"
    # A batch's counter vectors are a few hundred distinct ones: each is written out once.
    text: dict[tuple, str] = {}

    def text_of(vec: list[int]) -> str:
        key = tuple(vec)
        out = text.get(key)
        if out is None:
            out = text[key] = "\t".join(map(str, vec))
        return out

    buf = io.StringIO()
    for f in facts:
        buf.write(f"{f.order_id}\t{f.day.isoformat()}\t{f.leaf}\t{f.subject}\t"
                  f"{f.lead_unit_id if f.lead_unit_id is not None else chr(92) + 'N'}\t{f.signature}\t{sim}\t"
                  f"{text_of(f.area)}\n")
    ubuf = io.StringIO()
    for f in facts:
        for uid, vec in f.units.items():
            if any(vec):
                ubuf.write(f"{f.order_id}\t{uid}\t{f.day.isoformat()}\t{text_of(vec)}\n")
    counters = ", ".join(COUNTERS)
    with connection.cursor() as cur:
        raw = cur.cursor
        with raw.copy(f"COPY insight_orderfact (order_id, day, leaf, subject, lead_unit_id, signature, simulated, "
                      f"{counters}) FROM STDIN") as cp:
            cp.write(buf.getvalue())
        with raw.copy(f"COPY insight_orderunitfact (order_id, unit_id, day, {counters}) FROM STDIN") as cp:
            cp.write(ubuf.getvalue())


ROLLUP_TABLES = ("insight_areaday", "insight_areadaytotal", "insight_areanow", "insight_unitday")


def _aggregate_statements() -> list[tuple[str, list]]:
    """The INSERT … SELECT statements that rebuild AreaDay, AreaDayTotal, AreaNow and UnitDay from
    the facts; they write disjoint rows, so they may run in any order; `aggregate_parallel` starts
    from the end (units, grids: the largest). On PostgreSQL one statement per level reads the facts
    once for all three area tables (`_grouping_sets_statement`); elsewhere one GROUP BY per table."""
    qn = connection.ops.quote_name
    sums = ", ".join(f"SUM({qn(c)})" for c in COUNTERS)
    cols = ", ".join(qn(c) for c in COUNTERS)
    city = city_code()
    live = [PLACEHOLDER_DAY]
    levels = [(Level.CITY, None, None)]
    prev = None
    for level in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID):
        levels.append((level, CODE_LENGTH[level], prev))
        prev = CODE_LENGTH[level]
    out = []
    for level, n, prev in levels:
        if connection.vendor == "postgresql":
            out.append(_grouping_sets_statement(level, n, prev, city))
            continue
        # (code, parent) of this level as SQL, with their parameters; the city's are constants.
        code, cparams = (f"substr(leaf, 1, {n})", []) if n else ("%s", [city])
        parent, pparams = (f"substr(leaf, 1, {prev})", []) if prev else ("%s", [city if n else ""])
        keys = ", ".join(k for k in (code if n else "", parent if prev else "") if k)
        where = "FROM insight_orderfact WHERE " + (f"length(leaf) >= {n} AND " if n else "") + "day > %s"
        head = [*cparams, int(level), *pparams]
        if level in SUBJECT_LEVELS:
            out.append((f"INSERT INTO insight_areaday (day, code, subject, level, parent, {cols}) "
                        f"SELECT day, {code}, subject, %s, {parent}, {sums} {where} "
                        f"GROUP BY day, subject{', ' + keys if keys else ''}", [*head, *live]))
        out.append((f"INSERT INTO insight_areadaytotal (day, code, level, parent, {cols}) "
                    f"SELECT day, {code}, %s, {parent}, {sums} {where} GROUP BY day{', ' + keys if keys else ''}",
                    [*head, *live]))
        out.append((f"INSERT INTO insight_areanow (code, level, parent, {cols}) "
                    f"SELECT {code}, %s, {parent}, {sums} {where}{' GROUP BY ' + keys if keys else ''}"
                    f"{'' if keys else ' HAVING COUNT(*) > 0'}", [*head, *live]))
    out.append((f"INSERT INTO insight_unitday (day, unit_id, {cols}) "
                f"SELECT day, unit_id, {sums} FROM insight_orderunitfact GROUP BY day, unit_id", []))
    return out


def _grouping_sets_statement(level: int, n: int | None, prev: int | None, city: str) -> tuple[str, list]:
    """One level's AreaDay, AreaDayTotal and AreaNow rows from one read of the facts (PostgreSQL):
    GROUP BY GROUPING SETS ((day, code, subject), (day, code), (code)), each set inserted into its
    table by a data-modifying WITH. Three scans of the facts per level became one (D80). Below
    the streets there is no AreaDay (`SUBJECT_LEVELS`): the first set and its insert are left out."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in COUNTERS)
    sums = ", ".join(f"SUM({qn(c)}) AS {qn(c)}" for c in COUNTERS)
    keys = [k for k in ((f"substr(leaf, 1, {n})" if n else ""), (f"substr(leaf, 1, {prev})" if prev else "")) if k]
    code_sel = f"{keys[0]} AS code" if n else "NULL::text AS code"
    parent_sel = f"{keys[1]} AS parent" if prev else "NULL::text AS parent"
    k = "".join(", " + x for x in keys)
    where = (f"length(leaf) >= {n} AND " if n else "") + "day > %s"
    code_out, code_p = ("code", []) if n else ("%s", [city])
    parent_out, parent_p = ("parent", []) if prev else ("%s", [city if n else ""])
    per_insert = [*code_p, int(level), *parent_p]
    # g numbers the sets as GROUPING(day, subject) does: 0 per subject, 1 per day, 3 in all.
    if level in SUBJECT_LEVELS:
        sets, g, subject = f"(day, subject{k}), (day{k}), ({k[2:]})", "GROUPING(day, subject)", "subject, "
        per_subject = (f"a AS (INSERT INTO insight_areaday (day, code, subject, level, parent, {cols}) "
                       f"SELECT day, {code_out}, subject, %s, {parent_out}, {cols} FROM g WHERE g = 0), ")
        params = [PLACEHOLDER_DAY, *per_insert, *per_insert, *per_insert]
    else:
        sets, g, subject, per_subject = f"(day{k}), ({k[2:]})", "2 * GROUPING(day) + 1", "", ""
        params = [PLACEHOLDER_DAY, *per_insert, *per_insert]
    sql = (f"WITH g AS MATERIALIZED (SELECT day, {subject}{code_sel}, {parent_sel}, {g} AS g, "
           f"{sums} FROM insight_orderfact WHERE {where} GROUP BY GROUPING SETS ({sets}) HAVING COUNT(*) > 0), "
           f"{per_subject}"
           f"t AS (INSERT INTO insight_areadaytotal (day, code, level, parent, {cols}) "
           f"SELECT day, {code_out}, %s, {parent_out}, {cols} FROM g WHERE g = 1) "
           f"INSERT INTO insight_areanow (code, level, parent, {cols}) "
           f"SELECT {code_out}, %s, {parent_out}, {cols} FROM g WHERE g = 3")
    return sql, params


def _clear_rollups(cur) -> None:
    if connection.vendor == "postgresql":
        cur.execute("TRUNCATE " + ", ".join(ROLLUP_TABLES))
        # Building an index once over sorted rows beats maintaining it row by row.
        with connection.schema_editor() as editor:
            for model in (AreaDay, AreaDayTotal, UnitDay):
                for idx in model._meta.indexes:
                    editor.remove_index(model, idx)
    else:
        for t in ROLLUP_TABLES:
            cur.execute(f"DELETE FROM {t}")


def _index_rollups(cur) -> None:
    if connection.vendor == "postgresql":
        with connection.schema_editor() as editor:
            for model in (AreaDay, AreaDayTotal, UnitDay):
                for idx in model._meta.indexes:
                    editor.add_index(model, idx)
        cur.execute("ANALYZE " + ", ".join(ROLLUP_TABLES))


def aggregate() -> None:
    """Recompute the rollups (AreaDay, AreaDayTotal, AreaNow, UnitDay) from the stored facts, in SQL
    (`_aggregate_statements`)."""
    with connection.cursor() as cur:
        _clear_rollups(cur)
        for sql, params in _aggregate_statements():
            cur.execute(sql, params)
        _index_rollups(cur)


def aggregate_parallel(workers: int) -> None:
    """`aggregate` on `workers` connections at once (PostgreSQL, outside a transaction; else
    `aggregate` itself): after a bulk load every core is free, and the statements write disjoint
    rows. Each connection commits its own statements; if one fails the rollups are incomplete
    and the error says to run `huying insight rebuild`."""
    if workers <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic():
            aggregate()
        return
    from concurrent.futures import ThreadPoolExecutor

    with transaction.atomic(), connection.cursor() as cur:
        _clear_rollups(cur)
    statements = _aggregate_statements()

    def run(statement: tuple[str, list]) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(*statement)
        finally:
            connection.close()  # this thread's own connection

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            # The big ones (grid, community) first, so the small ones fill in beside them.
            for f in [pool.submit(run, st) for st in reversed(statements)]:
                f.result()
    except Exception as exc:
        raise RuntimeError(f"the rollups were only partly rebuilt ({exc}); run `huying insight rebuild`") from exc
    finally:
        with transaction.atomic(), connection.cursor() as cur:
            _index_rollups(cur)


def vacuum() -> None:
    """After a bulk load, outside any transaction (PostgreSQL): VACUUM (ANALYZE) the rollups so the
    visibility map is set and the hot-spot list reads only its covering index from the first request,
    not after autovacuum gets round to it. Does nothing elsewhere or inside a transaction."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) " + ", ".join(ROLLUP_TABLES))


def rebuild(*, chunk: int = 20000, progress=None) -> dict[str, int]:
    """Recompute every order's fact and every rollup from the order table and the timelines."""
    from huying.dispatch.models import WorkOrder

    reset_caches()
    with transaction.atomic():
        clear()
        total = WorkOrder.objects.count()
        done = 0
        last = 0
        while True:
            ids = list(WorkOrder.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            last = ids[-1]
            rows = _order_rows(id_range=(ids[0], last))
            steps = _steps(id_range=(ids[0], last))
            facts_write([fact_of(rows[i], steps.get(i, [])) for i in ids if i in rows])
            done += len(ids)
            if progress:
                progress(done, total)
        aggregate()
    vacuum()
    return {"orders": done, "area_rows": AreaDay.objects.count(), "unit_rows": UnitDay.objects.count()}


def on_order_signal(sender=None, order_id=None, **kwargs) -> None:
    """Receiver for dispatch's after-commit signals; a failure is logged, never raised into dispatch."""
    if order_id is None:
        return
    try:
        order_refresh(int(order_id))
    except Exception:  # noqa: BLE001 - the order is committed; a stale rollup is repaired by rebuild
        log.exception("insight: refreshing order %s failed", order_id)


def on_order_events(sender=None, events=(), **kwargs) -> None:
    """Receiver for dispatch's in-transaction `order_events`: queue the orders the change touched.

    One INSERT per transaction however many orders it touched (a batch intake of 500 orders, each
    created and dispatched, queues 1,000 rows in one statement). The rows commit or roll back with
    the change. The worker's `rollups` job applies them (`drain`); with HUYING_INSIGHT_REFRESH =
    "commit" the process that made the change drains the queue itself right after its commit (small
    installations, tests), as the rollups were kept before the queue existed.
    """
    ids = [int(kw["order_id"]) for announced, kw in events
           if announced in _ANNOUNCED and kw.get("order_id") is not None]
    if not ids:
        return
    now = timezone.now()
    rows.insert_rows(RefreshQueue, [{"order_id": i, "noted_at": now} for i in dict.fromkeys(ids)], returning=False)
    if settings.HUYING_INSIGHT_REFRESH == "commit":
        transaction.on_commit(_drain_after_commit)  # outside a transaction: at once


def _drain_after_commit() -> None:
    try:
        drain()
    except Exception:  # noqa: BLE001 - the change is committed; its queue rows stay for the worker
        log.exception("insight: draining the refresh queue failed")


DRAIN_BATCH = 5000


def _take(limit: int) -> list[int]:
    """Delete up to `limit` of the oldest queue rows and return their orders (distinct), in the
    caller's transaction. On PostgreSQL two workers take disjoint rows (SKIP LOCKED); SQLite has
    one writer at a time anyway."""
    qn = connection.ops.quote_name
    table = qn(RefreshQueue._meta.db_table)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT %s{lock}) "
                    f"RETURNING order_id", [limit])
        return sorted({r[0] for r in cur.fetchall()})


def drain(*, batch: int = DRAIN_BATCH, stopping=lambda: False) -> dict[str, int]:
    """Apply the queued changes to the rollups, `batch` queue rows per transaction, until the queue
    is empty (or `stopping()`); returns how many queue rows' orders were refreshed and changed."""
    taken = changed = 0
    while not stopping():
        with transaction.atomic():
            ids = _take(batch)
            if not ids:
                break
            changed += orders_refresh(ids)
        taken += len(ids)
    return {"orders": taken, "changed": changed}


def pending() -> dict:
    """How far behind the rollups are: queued orders and when the oldest was noted (None: current)."""
    from django.db.models import Count, Min

    got = RefreshQueue.objects.aggregate(n=Count("id"), oldest=Min("noted_at"))
    return {"orders": got["n"] or 0, "oldest": got["oldest"]}


def rollups_job(*, now, stopping, every) -> dict:
    """The worker's `rollups` job: drain the refresh queue."""
    return drain(stopping=stopping)


_ANNOUNCED: frozenset = frozenset()  # the signals whose changes move the rollups (set by connect())


def connect() -> None:
    """Follow dispatch's changes (called by the app's ready())."""
    global _ANNOUNCED
    from huying.dispatch import signals

    _ANNOUNCED = frozenset({signals.order_transitioned, signals.order_deadline, signals.order_changed})
    signals.order_events.connect(on_order_events, dispatch_uid="insight.rollups.order_events")


__all__ = ["IDX", "aggregate", "ancestors", "connect", "drain", "facts_write", "on_order_events",
           "on_order_signal", "order_refresh", "orders_refresh", "pending", "rebuild", "rollups_job"]
