"""ingest(): validation, idempotent storage, last_seen, and rules turning readings into one alert and one order."""

from datetime import timedelta

from huying.core.models import AuditEntry
from huying.dispatch.escalation.models import Whistle, WhistleKind
from huying.dispatch.hot.models import Alert, AlertKind, AlertStatus
from huying.dispatch.hot.services import alert_close
from huying.dispatch.models import Channel, State, WorkOrder
from huying.sensing.ingest import ingest
from huying.sensing.models import Reading, Sensor, SensorState
from huying.sensing.services import sensor_set_state

from .sensecore_fixtures import T0, at, fresh_calendar, media, reading, sensing, territory_mode, ts, world  # noqa: F401

NOW = T0 + timedelta(hours=2)


def test_threshold_crossing_is_one_alert_and_one_order_for_many_readings(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    s = make_sensor("T-1")
    make_rule()
    r1 = ingest([("T-1", reading(i, 20 + i)) for i in range(5)], now=NOW)
    assert (r1.stored, r1.duplicates, r1.rejected, r1.alerts) == (5, 0, {}, 0)
    r2 = ingest([("T-1", reading(10 + i, 70 + i)) for i in range(20)], now=NOW)
    assert r2.stored == 20 and r2.alerts == 1
    r3 = ingest([("T-1", reading(40 + i, 90)) for i in range(20)], now=NOW)  # still over: same alert
    assert r3.alerts == 0
    alerts = list(Alert.objects.filter(kind=AlertKind.SENSOR))
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.subject.code == "E04" and alert.area_code == s.area_code and alert.evidence["value"] == 90
    orders = list(alert.orders.all())
    assert len(orders) == 1
    order = orders[0]
    assert order.channel == Channel.SENSOR and order.subject.code == "E04"
    assert order.urgency == "emergency"  # E04 (突发事件) carries 特急 and intake keeps the higher of the two
    assert order.state == State.DISPATCHED and order.lead_unit == world.units["grid_a"]
    assert WorkOrder.objects.filter(channel=Channel.SENSOR).count() == 1
    s.refresh_from_db()
    assert s.last_seen == ts(59) and s.last_value == 90
    # Back to normal, then over again while the alert is still open: still the same alert and order.
    ingest([("T-1", reading(70, 30))], now=NOW)
    assert ingest([("T-1", reading(71, 95))], now=NOW).alerts == 0
    assert Alert.objects.filter(kind=AlertKind.SENSOR).count() == 1
    # Once people close it, a new crossing is a new episode: a new alert and order.
    alert_close(alert, actor=world.users["street_a"], note="已处置")
    ingest([("T-1", reading(72, 30))], now=NOW)
    assert ingest([("T-1", reading(73, 99))], now=NOW).alerts == 1
    assert Alert.objects.filter(kind=AlertKind.SENSOR).count() == 2
    assert WorkOrder.objects.filter(channel=Channel.SENSOR).count() == 2


def test_duplicates_are_ignored_and_not_evaluated_again(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    make_sensor("T-1")
    batch = [("T-1", reading(i, 10 + i)) for i in range(10)]
    assert ingest(batch, now=NOW).stored == 10
    again = ingest(batch + [("T-1", reading(0, 10)), ("T-1", {"ts": int(ts(20).timestamp() * 1000), "value": 1})],
                   now=NOW)
    assert (again.stored, again.duplicates) == (1, 11)
    assert Reading.objects.count() == 11
    # epoch milliseconds and ISO with another offset name the same instant: a duplicate
    same = ingest([("T-1", {"ts": ts(20).astimezone(at(2026, 1, 1).tzinfo).isoformat(), "value": 5})], now=NOW)
    assert (same.stored, same.duplicates) == (0, 1)


def test_bad_readings_are_counted_never_raise_and_good_ones_are_stored(world, sensing):  # noqa: F811
    make_sensor, _ = sensing
    make_sensor("T-1")
    make_sensor("T-2")
    sensor_set_state(Sensor.objects.get(code="T-2"), state=SensorState.RETIRED, actor=world.users["street_a"])
    items = [
        ("T-1", reading(1, 20)),
        ("NOPE", reading(1, 20)),
        ("T-2", reading(1, 20)),
        ("T-1", {"ts": "yesterday", "value": 1}),
        ("T-1", {"ts": "2026-03-02T10:00:00", "value": 1}),  # no offset
        ("T-1", {"ts": (NOW + timedelta(hours=1)).isoformat(), "value": 1}),
        ("T-1", {"ts": ts(2).isoformat(), "value": "hot"}),
        ("T-1", {"ts": ts(3).isoformat(), "value": float("nan")}),
        ("T-1", {"ts": ts(4).isoformat(), "value": True}),
        ("T-1", {"ts": ts(5).isoformat(), "value": 1, "status": "fault"}),
        ("T-1", {"ts": ts(6).isoformat(), "value": 1, "status": "weird"}),
        ("T-1", "not a dict"),
        ("T-1\x00", reading(7, 1)),
        ("T-1", {"ts": 10**30, "value": 1}),
        ("T-1", {"ts": [1], "value": 1}),
        None,
        ("T-1", reading(8, 21)),
    ]
    result = ingest(items, now=NOW)
    assert result.stored == 2
    assert result.rejected == {"unknown_sensor": 2, "retired": 1, "bad_ts": 4, "future_ts": 1, "bad_value": 3,
                               "fault": 1, "bad_payload": 3}
    assert sorted(Reading.objects.values_list("value", flat=True)) == [20.0, 21.0]
    assert ingest([], now=NOW).stored == 0


def test_maintenance_sensor_stores_readings_but_raises_nothing(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    s = make_sensor("T-1")
    make_rule()
    sensor_set_state(s, state=SensorState.MAINTENANCE, actor=world.users["street_a"])
    r = ingest([("T-1", reading(1, 99))], now=NOW)
    assert r.stored == 1 and r.alerts == 0 and not Alert.objects.exists()


def test_rate_of_change_raises_once(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    make_sensor("W-1", kind="water_level", measure_unit="m")
    make_rule(kind="rate", sensor_kind="water_level", name="水位陡涨", params={"per_minute": 0.5})
    ingest([("W-1", reading(i, 1.0 + 0.01 * i)) for i in range(10)], now=NOW)
    assert not Alert.objects.exists()
    r = ingest([("W-1", reading(10, 2.5)), ("W-1", reading(11, 3.5))], now=NOW)
    assert r.alerts == 1
    alert = Alert.objects.get()
    assert alert.evidence["per_minute"] >= 0.5 and alert.orders.count() == 1


def test_combination_of_sensors_in_one_place(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    for i in range(3):
        make_sensor(f"SM-{i}", kind="smoke", measure_unit="dB/m", place="仓边路仓库")
    make_sensor("SM-X", kind="smoke", measure_unit="dB/m", place="别处")
    make_rule(kind="combination", sensor_kind="smoke", name="多点烟感",
              params={"threshold": 0.5, "k": 2, "window_minutes": 5, "group_by": "place"})
    assert ingest([("SM-0", reading(0, 0.9)), ("SM-X", reading(0, 0.9))], now=NOW).alerts == 0
    assert ingest([("SM-1", reading(2, 0.8))], now=NOW).alerts == 1
    assert ingest([("SM-2", reading(3, 0.8))], now=NOW).alerts == 0  # the same place's open alert
    alert = Alert.objects.get()
    assert set(alert.evidence["sensors"]) == {"SM-0", "SM-1", "SM-2"} and alert.orders.count() == 1
    assert "仓边路仓库" in alert.title


def test_emergency_rule_blows_the_whistle(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    make_sensor("G-1", kind="gas", measure_unit="%LEL")
    make_rule(kind="above", sensor_kind="gas", name="燃气泄漏", params={"threshold": 20}, emergency=True,
              whistle_departments=[world.units["dept"]])
    assert ingest([("G-1", reading(1, 35))], now=NOW).alerts == 1
    order = Alert.objects.get().orders.get()
    whistle = Whistle.objects.get(order=order)
    assert whistle.kind == WhistleKind.EMERGENCY and whistle.blown_by == world.users["street_a"]
    assert list(whistle.calls.values_list("department_id", flat=True)) == [world.units["dept"].pk]


def test_an_emergency_rule_whose_authority_is_gone_still_opens_the_order(world, sensing):  # noqa: F811
    from huying.people.models import Membership

    make_sensor, make_rule = sensing
    make_sensor("G-1", kind="gas")
    make_rule(kind="above", sensor_kind="gas", params={"threshold": 20}, emergency=True,
              whistle_departments=[world.units["dept"]])
    Membership.objects.filter(user=world.users["street_a"]).update(active=False)
    assert ingest([("G-1", reading(1, 35))], now=NOW).alerts == 1
    alert = Alert.objects.get()
    assert alert.orders.count() == 1 and not Whistle.objects.exists()
    assert AuditEntry.objects.filter(action="sensing.alert.whistle_failed", target_id=str(alert.pk)).exists()
    assert alert.status == AlertStatus.OPEN
