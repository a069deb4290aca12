"""The simulated year's call instants: drawn once for the run, handed out oldest first, inside the window."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_the_batches_go_through_the_window_in_time_order():
    from huying.insight.simulate import Options, Simulator
    from huying.territory.testing import load_territory

    load_territory(districts=("440104",))
    end = datetime(2026, 6, 30, 20, 0, tzinfo=TZ)
    sim = Simulator(Options(orders=3000, days=90, end=end, seed=5))
    sim.schedule(3000)
    batches = [sim.draw_times(1000) for _ in range(3)]
    before_today = [t for b in batches for t in b if t.date() < end.date()]
    assert before_today == sorted(before_today) and len(before_today) > 2900
    assert all(b[0] <= b[-1] or b[-1].date() == end.date() for b in batches)
    flat = [t for b in batches for t in b]
    assert min(flat).date() == sim.start_day and max(flat) < end
    # The window's cycles survive the ordering: weekdays busier than Sundays, daytime than night.
    weekday = sum(1 for t in flat if t.weekday() == 1)
    sunday = sum(1 for t in flat if t.weekday() == 6)
    assert weekday > sunday * 1.2
    assert sum(1 for t in flat if 9 <= t.hour < 17) > 5 * sum(1 for t in flat if 0 <= t.hour < 6)
    # A fresh schedule is drawn when the old one is used up.
    assert len(sim.draw_times(10)) == 10


def _rollups():
    """The rollups and facts, units named by code (their ids differ between two loads)."""
    from huying.insight.models import AreaDay, AreaDayTotal, AreaNow, OrderFact, UnitDay
    from huying.people.models import Unit

    def rows(model):
        names = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
        return sorted(model.objects.values_list(*names))

    code = dict(Unit.objects.values_list("id", "code"))
    unit_days = [(code[r["unit_id"]], *(v for k, v in sorted(r.items()) if k != "unit_id"))
                 for r in UnitDay.objects.values(*[f.attname for f in UnitDay._meta.concrete_fields
                                                   if not f.primary_key])]
    return {"AreaDay": rows(AreaDay), "AreaDayTotal": rows(AreaDayTotal), "AreaNow": rows(AreaNow), "UnitDay": sorted(unit_days),
            "facts": sorted(OrderFact.objects.values_list("day", "leaf", "subject", "simulated"))}


def test_rollups_only_keeps_the_rollups_the_whole_history_gives(transactional_db):
    """`--rollups-only` lives every order through the same way and keeps only its facts: the
    dashboard's rollups come out exactly as with the orders, timelines and audit written."""
    from huying.core.models import AuditEntry
    from huying.dispatch.models import Transition, WorkOrder
    from huying.insight.simulate import Options, simulate_year
    from huying.people.models import Unit, UnitKind
    from huying.territory.models import Division
    from huying.territory.testing import load_territory

    load_territory(districts=("440104",))
    Unit.objects.bulk_create([Unit(code=f"gov-{d.code}", name=f"{d.name}办", kind=UnitKind.TERRITORIAL, division=d)
                              for d in Division.objects.filter(code__startswith="440104")])
    opts = dict(orders=600, days=60, end=datetime(2026, 6, 30, 20, 0, tzinfo=TZ), seed=3, batch=200, workers=1)
    import gc

    simulate_year(Options(**opts))
    assert gc.isenabled()  # switched off while simulating, back on after
    whole = _rollups()
    assert WorkOrder.objects.count() == 600 and Transition.objects.exists()
    from huying.insight.models import AreaNow, Level

    assert AreaNow.objects.get(level=Level.CITY).created == 600 and len(whole["UnitDay"]) > 10
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    load_territory(districts=("440104",))
    Unit.objects.bulk_create([Unit(code=f"gov-{d.code}", name=f"{d.name}办", kind=UnitKind.TERRITORIAL, division=d)
                              for d in Division.objects.filter(code__startswith="440104")])
    simulate_year(Options(**opts, history=False))
    assert not WorkOrder.objects.exists() and not Transition.objects.exists()
    assert not AuditEntry.objects.filter(target_type="dispatch.workorder").exists()
    assert _rollups() == whole


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's deferred indexes and parallel rollups")
def test_the_rollups_are_aggregated_while_the_deferred_indexes_are_built(transactional_db, monkeypatch):
    """After a big load the rollups are aggregated while the history's deferred indexes are built,
    each thread on a connection of its own (D84): both really at once (each waits for the other to
    have started), the same rollups as a load that does one after the other, every index back."""
    import threading

    from django.core.management import call_command

    from huying.dispatch import simulate_year as sy
    from huying.dispatch.models import DeferredIndex
    from huying.insight import rollups
    from huying.insight.simulate import Options, simulate_year

    opts = dict(orders=600, days=60, end=datetime(2026, 6, 30, 20, 0, tzinfo=TZ), seed=4, batch=200)
    _yuexiu()
    first = simulate_year(Options(**opts, workers=1))
    assert first["indexes_deferred"] == 0  # small: nothing deferred, nothing overlapped
    whole = _rollups()
    call_command("flush", interactive=False, verbosity=0)
    _yuexiu()

    index_started, rollups_started = threading.Event(), threading.Event()
    where = {"indexes": set()}
    real_build, real_aggregate = sy._build_deferred, rollups.aggregate_parallel

    def build(d):
        where["indexes"].add(threading.get_ident())
        index_started.set()
        assert rollups_started.wait(60), "the rollups did not start while an index was being built"
        return real_build(d)

    def aggregate(workers):
        where["rollups"] = threading.get_ident()
        rollups_started.set()
        assert index_started.wait(60), "no index was built while the rollups were aggregated"
        return real_aggregate(workers)

    def fact_index() -> str | None:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_get_indexdef(to_regclass('insight_fact_leaf_day'))")
            return cur.fetchone()[0]

    fact_index_before = fact_index()
    assert fact_index_before is not None
    during = []
    monkeypatch.setattr(sy, "_build_deferred", build)
    monkeypatch.setattr(rollups, "aggregate_parallel", aggregate)
    result = simulate_year(Options(**opts, workers=2, defer_indexes=True),
                           progress=lambda done, total: during.append(fact_index()))
    assert result["indexes_deferred"] >= 20 and not DeferredIndex.objects.exists()
    # The facts' own (leaf, day) index (`RollupFacts.deferrable`) too: absent while loading, the same after.
    assert during and all(d is None for d in during)
    assert fact_index() == fact_index_before
    assert threading.get_ident() not in where["indexes"] | {where["rollups"]}  # on the pool's own threads
    assert where["indexes"] - {where["rollups"]}  # at least one index built beside the rollups
    assert result["total_seconds"] >= result["seconds"] >= result["index_seconds"]
    assert _rollups() == whole


def _yuexiu():
    from huying.people.models import Unit, UnitKind
    from huying.territory.models import Division
    from huying.territory.testing import load_territory

    load_territory(districts=("440104",))
    Unit.objects.bulk_create([Unit(code=f"gov-{d.code}", name=f"{d.name}办", kind=UnitKind.TERRITORIAL, division=d)
                              for d in Division.objects.filter(code__startswith="440104")])
