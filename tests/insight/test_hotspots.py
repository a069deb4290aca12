"""Hot-spot grids: the worker's stored lists (city, districts, streets) and the live count agree;
the dashboard shows a stored list only while it is of today's window and young enough."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huying.core import jobs
from huying.insight import hotspots, selectors
from huying.insight.models import AreaDayTotal, HotspotList, Level
from huying.insight.rollups import city_code
from huying.territory.models import Division

from .conftest import at

NOW = at(2026, 3, 20, 10, 0)
TODAY = date(2026, 3, 20)


def grid_rows(world, seed: int) -> dict[str, list[int]]:
    """Random grid rows under every street of up to three districts, over 40 days before TODAY (so
    some fall outside each window), with many ties and zero days. Returns code → [created per day]."""
    rng = random.Random(seed)
    streets = []
    for district in Division.objects.filter(level="district").order_by("code")[:3]:
        streets += list(Division.objects.filter(level="street", code__startswith=district.code)
                        .order_by("code").values_list("code", flat=True)[:3])
    assert len(streets) >= 2
    rows, made = [], {}
    for street in streets:
        for g in range(rng.randint(9, 16)):
            code = f"{street}{g + 1:06d}"
            for back in rng.sample(range(40), rng.randint(4, 12)):
                created = rng.choice([0, 1, 1, 2, 3, 5])
                rows.append(AreaDayTotal(code=code, day=TODAY - timedelta(days=back), level=Level.GRID,
                                         parent=code[:12], created=created, open=rng.randint(0, created)))
            made[code] = True
    AreaDayTotal.objects.bulk_create(rows)
    return made


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_lists_equal_the_live_count_for_every_city_district_and_street(world, seed):
    grid_rows(world, seed)
    result = hotspots.refresh(now=NOW)
    areas = list(Division.objects.filter(level__in=["district", "street"]).values_list("code", flat=True))
    assert result["lists"] == len(hotspots.WINDOWS) * (len(areas) + 1)
    city = city_code()
    non_empty = 0
    for days in hotspots.WINDOWS:
        for code in [city, *areas]:
            row = HotspotList.objects.get(code=code, days=days)
            assert row.ends_on == TODAY and row.computed_at == NOW
            want = hotspots.live(None if code == city else code, today=TODAY, days=days)
            assert row.spots == want, (code, days)
            non_empty += bool(want)
            # Busiest first, ties by code, nothing without orders, at most KEEP.
            assert len(row.spots) <= hotspots.KEEP and all(s["created"] > 0 for s in row.spots)
            assert [(-s["created"], s["code"]) for s in row.spots] == sorted((-s["created"], s["code"])
                                                                              for s in row.spots)
    assert non_empty >= 6  # the check compared real lists, not only empty ones
    # The city's 30-day list is full and differs from its 7-day one: the windows are not mixed up.
    week, month = (HotspotList.objects.get(code=city, days=d).spots for d in (7, 30))
    assert len(month) == hotspots.KEEP and week != month


def test_the_dashboard_shows_the_stored_list_while_it_is_current_and_counts_live_otherwise(world):
    made = sorted(grid_rows(world, 7))
    hotspots.refresh(now=NOW)
    city = city_code()
    street = made[0][:9]
    stored = selectors.hotspots(city, today=TODAY, days=7, now=NOW + timedelta(minutes=1))
    assert stored["live"] is False and stored["as_of_time"] == "10:00"
    assert stored["spots"] == [{**s, "name": s["code"]} for s in HotspotList.objects.get(code=city, days=7).spots]
    # A burst of orders in a quiet grid after the run: the stored list does not have it yet …
    burst = made[0][:9] + "999999"  # a new grid of the first street
    AreaDayTotal.objects.create(code=burst, day=TODAY, level=Level.GRID, parent=burst[:12], created=999)
    for code in (city, street):
        got = selectors.hotspots(code, today=TODAY, days=7, now=NOW + timedelta(minutes=5))
        assert got["live"] is False and burst not in [s["code"] for s in got["spots"]]
    # … the live count (a list too old, another day, a window not stored, a community) has it.
    older = NOW + timedelta(seconds=float(hotspots.settings.HUYING_HOTSPOTS_MAX_AGE) + 1)
    cases = [dict(code=city, today=TODAY, days=7, now=older),
             dict(code=city, today=TODAY + timedelta(days=1), days=7, now=NOW),
             dict(code=city, today=TODAY, days=14, now=NOW),
             dict(code=burst[:12], today=TODAY, days=7, now=NOW)]
    for case in cases:
        got = selectors.hotspots(case.pop("code"), **case)
        assert got["live"] is True and got["spots"][0]["code"] == burst, case
    # The next run picks it up.
    hotspots.refresh(now=NOW + timedelta(minutes=5))
    got = selectors.hotspots(street, today=TODAY, days=7, now=NOW + timedelta(minutes=6))
    assert got["live"] is False and got["spots"][0]["code"] == burst and got["as_of_time"] == "10:05"


def test_a_stored_list_is_read_without_summing_grid_rows(world):
    grid_rows(world, 4)
    hotspots.refresh(now=NOW)
    with CaptureQueriesContext(connection) as ctx:
        selectors.hotspots(city_code(), today=TODAY, days=7, now=NOW)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "insight_hotspotlist" in sql and "insight_areadaytotal" not in sql


def test_a_refresh_replaces_every_list_at_once(world):
    grid_rows(world, 5)
    first = hotspots.refresh(now=NOW)["lists"]
    # A list of an area that is gone (a street merged away) does not outlive the next run.
    HotspotList.objects.create(code="440104999", days=7, ends_on=TODAY, computed_at=NOW, spots=[])
    assert hotspots.refresh(now=NOW + timedelta(minutes=5))["lists"] == first
    assert HotspotList.objects.count() == first and not HotspotList.objects.filter(code="440104999").exists()
    assert set(HotspotList.objects.values_list("computed_at", flat=True)) == {NOW + timedelta(minutes=5)}


def test_the_worker_runs_the_job_in_one_worker_at_a_time(settings):
    job = next(j for j in jobs.registered() if j.name == "hotspots")
    assert job.exclusive and job.interval == float(settings.HUYING_HOTSPOTS_EVERY)
