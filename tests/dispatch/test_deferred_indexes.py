"""A big bulk year into a new database builds the history's secondary indexes after the load: the same
rows, the same indexes afterwards (names, definitions, comments, on every partition), none missing
while it loads, and none lost when the load fails or is stopped."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from .conftest import break_batch, wipe_history, yuexiu_with_offices

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="PostgreSQL's indexes (SQLite's bulk path is bulk_create)")

TZ = ZoneInfo("Asia/Shanghai")
OPTS = dict(orders=600, days=90, end=datetime(2026, 6, 30, 20, 0, tzinfo=TZ), seed=5, batch=200, workers=1)


def _indexes() -> dict:
    """Every index of the history tables by name: definition and comment; and, under the key
    "partitions", those of the order table's partitions (PostgreSQL names a partition's copy
    itself, so they are compared by definition without the name)."""
    from huying.dispatch.simulate_year import HISTORY_TABLES

    tables = [m._meta.db_table for m in HISTORY_TABLES]
    with connection.cursor() as cur:
        cur.execute("""SELECT ic.relname, pg_get_indexdef(i.indexrelid), obj_description(i.indexrelid, 'pg_class')
                       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                       WHERE i.indrelid = ANY(%s::regclass[])""", [tables])
        out = {name: (definition, comment) for name, definition, comment in cur.fetchall()}
        cur.execute("""SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                       JOIN pg_class ic ON ic.oid = i.indexrelid
                       WHERE i.indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)""",
                    ["dispatch_workorder"])
        out["partitions"] = sorted(d.replace(f"INDEX {n} ON", "INDEX ON", 1) for n, d in cur.fetchall())
    return out


def _year() -> dict:
    from huying.core.models import AuditEntry
    from huying.dispatch.models import Assignment, Callback, Transition, WorkOrder

    return {"orders": sorted(WorkOrder.objects.values_list("created_at", "subject_id", "grid_id", "state",
                                                           "lead_unit_id", "resolve_due", "version")),
            "steps": sorted(Transition.objects.values_list("action", "at", "to_state", "unit_id")),
            "assignments": Assignment.objects.count(), "callbacks": Callback.objects.count(),
            "audit": AuditEntry.objects.filter(target_type="dispatch.workorder").count()}


@pytest.fixture
def place(transactional_db):
    """Committed data (the writer thread and the processes have connections of their own); every
    index is back afterwards even if a test stops between a drop and its rebuild."""
    from huying.dispatch.simulate_year import rebuild_deferred_indexes

    yuexiu_with_offices()
    yield
    rebuild_deferred_indexes()


def test_the_same_year_and_the_same_indexes_none_of_them_kept_while_loading(place):
    from huying.dispatch import partitions
    from huying.dispatch.models import DeferredIndex
    from huying.dispatch.simulate_year import Options, simulate_year

    kept = simulate_year(Options(**OPTS, defer_indexes=False))
    assert kept["indexes_deferred"] == 0
    rows_kept = _year()
    wipe_history()
    before = _indexes()
    assert len(before) > 30 and (len(before["partitions"]) > 30 or not partitions.is_partitioned())
    during = []
    result = simulate_year(Options(**{**OPTS, "workers": 2}, defer_indexes=True),
                           progress=lambda done, total: during.append(set(_indexes())))
    assert _year() == rows_kept
    assert _indexes() == before  # names, definitions and comments (the tracking code's "was unique")
    assert not DeferredIndex.objects.exists()
    secondary = {"dispatch_transition_order_id_e51419e9", "core_audit_action", "dispatch_wo_area_code"}
    assert secondary <= set(before)
    assert len(during) == 3 and all(not (secondary & seen) for seen in during)  # absent while loading
    # Kept: primary keys, and partial indexes (a scan of their table each to build, for no rows here).
    kept = {"dispatch_transition_pkey", "core_auditentry_pkey", "core_audit_actor_nn", "dispatch_tr_actor_nn",
            "dispatch_wo_reporter_nn"}
    assert all(kept <= seen for seen in during)
    assert result["indexes_deferred"] >= 20 and result["index_seconds"] >= 0


def test_by_default_only_a_big_year_into_a_small_history(place, monkeypatch):
    from huying.dispatch import simulate_year as sy

    assert sy.simulate_year(sy.Options(**OPTS))["indexes_deferred"] == 0  # below DEFER_INDEXES_FROM
    monkeypatch.setattr(sy, "DEFER_INDEXES_FROM", 100)
    # 600 orders there already, more than a tenth of the next 600: a history whose readers need them.
    assert sy.simulate_year(sy.Options(**{**OPTS, "seed": 6}))["indexes_deferred"] == 0
    assert sy.simulate_year(sy.Options(**{**OPTS, "seed": 7}, defer_indexes=False))["indexes_deferred"] == 0
    assert sy.simulate_year(sy.Options(**{**OPTS, "seed": 8}, defer_indexes=True))["indexes_deferred"] > 0  # asked
    wipe_history()
    assert sy.simulate_year(sy.Options(**OPTS))["indexes_deferred"] > 0  # default, big enough, nothing there


def test_a_failed_load_rebuilds_and_a_stopped_one_is_rebuilt_by_the_next(place, monkeypatch):
    from huying.dispatch import simulate_year as sy
    from huying.dispatch.models import DeferredIndex

    before = _indexes()
    break_batch(monkeypatch, 1, "batch one is broken")
    with pytest.raises(ValueError, match="batch one is broken"):
        sy.simulate_year(sy.Options(**OPTS, defer_indexes=True))
    assert _indexes() == before and not DeferredIndex.objects.exists()
    monkeypatch.undo()

    # A load killed after the drop (no `finally` ran): the definitions wait in DeferredIndex.
    dropped = sy.defer_indexes()
    assert set(dropped) == set(DeferredIndex.objects.values_list("name", flat=True))
    assert not set(dropped) & set(_indexes())
    sy.simulate_year(sy.Options(**{**OPTS, "orders": 50}, defer_indexes=False))
    assert _indexes() == before and not DeferredIndex.objects.exists()


def test_a_tables_deferred_indexes_are_built_one_after_another(place):
    """Grouped by table for the builds beside the rollups (D84): two CREATE INDEX on the partitioned
    order table at once can pick the same name for a partition's index, and one fails."""
    from huying.dispatch import simulate_year as sy

    dropped = sy.defer_indexes()
    groups = sy._deferred_by_table()
    assert sorted(d.name for g in groups for d in g) == sorted(dropped)
    tables = [{d.definition.split(" ON ", 1)[1].split(" ")[0] for d in g} for g in groups]
    assert all(len(t) == 1 for t in tables) and len({next(iter(t)) for t in tables}) == len(groups)
    orders = next(g for g in groups if any(d.name == "dispatch_wo_area_code" for d in g))
    assert {"dispatch_workorder_code_key", "dispatch_workorder_code_ca0e89d2_like"} <= {d.name for d in orders}
    # The longest builds handed out first: the audit's, the orders', the timeline's, then the rest (D85).
    assert [next(iter(t)).removeprefix("public.") for t in tables[:3]] == list(sy.LONGEST_BUILDS_FIRST)
    assert len(tables) > 3
    assert sy.rebuild_deferred_indexes() == len(dropped)
