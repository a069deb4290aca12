"""ingest()'s fast PostgreSQL path (unnest INSERT/UPDATE, epoch-microsecond times) gives the portable path's results."""

from datetime import UTC, timedelta

import pytest
from django.db import connection

from huying.sensing.ingest import ingest
from huying.sensing.models import Reading, Sensor, SensorState
from huying.sensing.services import sensor_set_state

from .sensecore_fixtures import T0, fresh_calendar, media, reading, sensing, territory_mode, ts, world  # noqa: F401

NOW = T0 + timedelta(hours=2)


def _iso(dt) -> str:
    return dt.isoformat()


def test_microseconds_survive_the_round_trip_and_redelivery_is_a_duplicate(world, sensing):  # noqa: F811
    make_sensor, _ = sensing
    s = make_sensor("T-1")
    exact = [ts(1) + timedelta(microseconds=123457), ts(1) + timedelta(microseconds=999999), ts(2)]
    batch = [("T-1", {"ts": _iso(t), "value": float(i)}) for i, t in enumerate(exact)]
    batch.append(("T-1", {"ts": int(ts(3).timestamp() * 1000) + 7, "value": 9.5}))  # epoch ms
    r = ingest(batch, now=NOW)
    assert (r.stored, r.duplicates, r.rejected) == (4, 0, {})
    stored = sorted(Reading.objects.filter(sensor=s).values_list("ts", flat=True))
    assert stored == sorted([*exact, ts(3) + timedelta(milliseconds=7)])
    s.refresh_from_db()
    assert s.last_seen == ts(3) + timedelta(milliseconds=7) and s.last_value == 9.5
    # the same instants again, one of them written with another offset: all duplicates, nothing stored
    again = [("T-1", {"ts": exact[0].astimezone(UTC).isoformat(), "value": 0.0})] + batch[1:]
    r2 = ingest(again, now=NOW)
    assert (r2.stored, r2.duplicates) == (0, 4)
    assert Reading.objects.count() == 4


def test_last_seen_is_the_latest_stored_reading_and_never_moves_back(world, sensing):  # noqa: F811
    make_sensor, _ = sensing
    a, b = make_sensor("T-1"), make_sensor("T-2")
    r = ingest([("T-1", reading(5, 50)), ("T-1", reading(9, 90)), ("T-1", reading(7, 70)),
                ("T-2", reading(3, 30)), ("T-2", reading(3, 31))], now=NOW)  # out of order; T-2 twice in one batch
    assert (r.stored, r.duplicates) == (4, 1)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.last_seen, a.last_value) == (ts(9), 90) and (b.last_seen, b.last_value) == (ts(3), 30)
    # older readings arriving late are stored but leave last_seen where it was
    r = ingest([("T-1", reading(1, 10)), ("T-2", reading(4, 40))], now=NOW)
    assert r.stored == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.last_seen, a.last_value) == (ts(9), 90) and (b.last_seen, b.last_value) == (ts(4), 40)
    # a duplicate of an older reading with another value changes nothing
    ingest([("T-1", reading(5, 999))], now=NOW)
    a.refresh_from_db()
    assert a.last_value == 90 and Reading.objects.get(sensor=a, ts=ts(5)).value == 50


def test_state_and_rules_are_read_fresh_each_batch(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    s = make_sensor("T-1")
    make_sensor("G-1", kind="gas")
    assert ingest([("T-1", reading(1, 99))], now=NOW).alerts == 0  # no rule yet
    make_rule()  # a rule set up a moment later applies to the very next batch
    r = ingest([("T-1", reading(2, 99)), ("G-1", reading(2, 99))], now=NOW)
    assert (r.stored, r.alerts) == (2, 1)
    sensor_set_state(Sensor.objects.get(pk=s.pk), state=SensorState.RETIRED, actor=world.users["street_a"])
    r = ingest([("T-1", reading(3, 99)), ("G-1", reading(3, 1))], now=NOW)  # retired: refused at once
    assert (r.stored, r.rejected) == (1, {"retired": 1})


def test_query_count_does_not_grow_with_the_number_of_sensors(world, sensing, django_assert_max_num_queries):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("the portable path updates last_seen sensor by sensor")
    make_sensor, _ = sensing
    for i in range(30):
        make_sensor(f"Q-{i}", kind="gas")
    batch = [(f"Q-{i}", reading(k, k)) for i in range(30) for k in range(5)]
    with django_assert_max_num_queries(6):  # lookup, savepoint, insert, update, release, rule kinds
        r = ingest(batch, now=NOW)
    assert r.stored == 150
    assert Sensor.objects.filter(code__startswith="Q-", last_seen=ts(4), last_value=4).count() == 30
