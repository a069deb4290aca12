"""The bulk year in several processes writes the same year as in one: each batch draws from its
own generators, so which process simulates it does not matter; ids follow the clock."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from .conftest import break_batch, wipe_history, yuexiu_with_offices

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="several processes write at once on PostgreSQL only (SQLite: one writer)")

TZ = ZoneInfo("Asia/Shanghai")


def _year():
    from huying.core.models import AuditEntry
    from huying.dispatch.models import Assignment, Callback, Transition, WorkOrder

    orders = sorted(WorkOrder.objects.values_list("created_at", "subject_id", "grid_id", "state", "lead_unit_id",
                                                  "resolve_due", "closed_at", "version"))
    order_ids = [i for i, _t in sorted(WorkOrder.objects.values_list("id", "created_at"), key=lambda r: r[1])]
    steps = sorted(Transition.objects.values_list("action", "at", "to_state", "unit_id"))
    return {"orders": orders, "steps": steps, "assignments": Assignment.objects.count(),
            "callbacks": Callback.objects.count(),
            "audit": AuditEntry.objects.filter(target_type="dispatch.workorder").count(),
            "ids_in_time_order": order_ids == sorted(order_ids)}


def test_two_processes_write_the_year_one_process_writes(transactional_db):
    from huying.dispatch.simulate_year import Options, simulate_year

    yuexiu_with_offices()
    opts = dict(orders=900, days=120, end=datetime(2026, 6, 30, 20, 0, tzinfo=TZ), seed=11, batch=150)
    one = simulate_year(Options(**opts, workers=1))
    assert one["workers"] == 1
    alone = _year()
    wipe_history()
    seen = []
    two = simulate_year(Options(**opts, workers=2), progress=lambda done, total: seen.append((done, total)))
    assert two["workers"] == 2 and two["orders"] == 900
    assert seen[-1] == (900, 900) and len(seen) == 6  # one report per batch, from both processes
    together = _year()
    assert len(together["orders"]) == 900 and together["steps"]
    assert together == alone
    assert together["ids_in_time_order"]


def test_a_failing_process_stops_the_run_with_its_error(transactional_db, monkeypatch):
    from huying.dispatch import simulate_year as sy

    yuexiu_with_offices()
    break_batch(monkeypatch, 3, "batch three is broken")
    with pytest.raises(RuntimeError, match="batch three is broken"):
        sy.simulate_year(sy.Options(orders=1200, days=60, end=datetime(2026, 6, 30, 20, 0, tzinfo=TZ), seed=2,
                                    batch=100, workers=2))
    from huying.dispatch.models import WorkOrder

    written = WorkOrder.objects.count()
    assert written % 100 == 0 and written < 1200  # whole batches only; the others stopped


def test_a_year_that_would_fill_the_disk_is_refused_before_it_starts(db, monkeypatch):
    import shutil
    from collections import namedtuple

    from django.core.management import CommandError, call_command

    from huying.dispatch import simulate_year as sy
    from huying.dispatch.models import WorkOrder

    usage = namedtuple("usage", "total used free")
    seen = []

    def disk_usage(path):
        seen.append(path)
        return usage(10**12, 10**12 - 50 * 10**9, 50 * 10**9)  # 50 GB free

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    assert sy.disk_shortfall(1_000_000) is None  # 6.7 GB fits
    need, free = sy.disk_shortfall(21_400_000)  # Beijing's year does not
    assert need == 21_400_000 * sy.BYTES_PER_ORDER and free == 50 * 10**9
    assert seen and seen[0]  # the server's own data directory, read from pg_settings
    with pytest.raises(CommandError, match=r"need about 143 GB .* 50 GB are free"):
        call_command("simulate_year", "--orders", "21400000")
    assert WorkOrder.objects.count() == 0  # nothing started
