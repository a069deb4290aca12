"""Rules as data: parameters checked, each kind decided exactly (pure), and rules set through services."""

from datetime import timedelta

import pytest

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.sensing import rules as R
from huying.sensing.models import AlertRule, Sensor

from .sensecore_fixtures import T0, at, fresh_calendar, media, sensing, territory_mode, ts, world  # noqa: F401


def test_params_are_validated_and_normalised():
    assert R.validate_params("above", {"threshold": "60"}) == {"threshold": 60.0}
    assert R.validate_params("rate", {"per_minute": 2}) == {"per_minute": 2.0, "direction": "up", "window_minutes": 10}
    assert R.validate_params("silence", {"minutes": 30}) == {"minutes": 30}
    c = R.validate_params("combination", {"threshold": 1, "k": 3, "group_by": "grid"})
    assert c["k"] == 3 and c["group_by"] == "grid" and c["direction"] == "above"
    for kind, params in [("above", {}), ("above", {"threshold": "x"}), ("above", {"threshold": float("nan")}),
                         ("above", {"threshold": True}), ("rate", {"per_minute": 0}),
                         ("rate", {"per_minute": 1, "direction": "sideways"}), ("silence", {"minutes": 1.5}),
                         ("silence", {"minutes": 100000}), ("combination", {"threshold": 1, "k": 1}),
                         ("combination", {"threshold": 1, "k": 2, "group_by": "street"}), ("above", [1]),
                         ("nonsense", {})]:
        with pytest.raises(DomainError) as exc:
            R.validate_params(kind, params)
        assert exc.value.field in ("params", "kind"), (kind, params)


def test_threshold_picks_the_extreme_and_knows_when_clear():
    readings = [(ts(0), 50.0), (ts(1), 65.0), (ts(2), 70.0), (ts(3), 55.0)]
    hit = R.threshold_fires(readings, {"threshold": 60}, direction="above")
    assert hit.value == 70.0 and hit.count == 2 and hit.ts == ts(2)
    assert R.latest_clear(readings, {"threshold": 60}, direction="above")
    assert R.threshold_fires(readings, {"threshold": 80}, direction="above") is None
    low = R.threshold_fires(readings, {"threshold": 52}, direction="below")
    assert low.value == 50.0 and low.count == 1


def test_rate_of_change_per_minute_within_the_window():
    p = R.validate_params("rate", {"per_minute": 5, "window_minutes": 5})
    steady = [(ts(i), 20.0 + i) for i in range(10)]
    assert R.rate_fires(steady, p) is None
    jump = steady + [(ts(10), 45.0)]  # +16 in one minute
    hit = R.rate_fires(jump, p)
    assert hit is not None and hit.ts == ts(10) and hit.detail["per_minute"] == 16.0
    # Too far apart: the same change over 20 minutes is not a rate.
    assert R.rate_fires([(ts(0), 20.0), (ts(20), 45.0)], p) is None
    # Only pairs ending at or after `since` count (older ones were judged before).
    assert R.rate_fires(jump, p, since=ts(11)) is None
    down = R.validate_params("rate", {"per_minute": 5, "direction": "down"})
    assert R.rate_fires(jump, down) is None
    assert R.rate_fires([(ts(0), 45.0), (ts(1), 20.0)], down) is not None


def test_silence_counts_from_registration_when_never_heard():
    p = {"minutes": 30}
    assert R.silent(None, ts(0), ts(30), p)
    assert not R.silent(ts(10), ts(0), ts(30), p)
    assert R.silent(ts(0), ts(-100), ts(31), p)


def test_combination_needs_k_sensors_in_the_window():
    p = R.validate_params("combination", {"threshold": 1, "k": 2, "window_minutes": 10})
    by = {1: [(ts(0), 2.0)], 2: [(ts(5), 0.0)], 3: [(ts(-30), 5.0)]}
    assert R.combination_fires(by, p, now=ts(6)) is None  # sensor 3 too early, 2 below
    by[2].append((ts(6), 3.0))
    hit = R.combination_fires(by, p, now=ts(6))
    assert hit.count == 2 and hit.detail["sensors"] == [1, 2]


def test_sensor_create_locates_and_audits(world, sensing):  # noqa: F811
    make_sensor, _ = sensing
    s = make_sensor("T-1")
    assert s.area_code == world.grids[0].code and s.street_code == world.streets[0].code
    assert s.grid_id == world.grids[0].pk
    assert AuditEntry.objects.filter(action="sensing.sensor.created", target_id=str(s.pk)).count() == 1
    with pytest.raises(DomainError) as exc:
        make_sensor("T-1")
    assert exc.value.code == "sensing.duplicate_code"
    with pytest.raises(DomainError) as exc:
        make_sensor("bad code!")
    assert exc.value.field == "code"
    with pytest.raises(DomainError) as exc:
        make_sensor("T-2", name="a\x00b")
    assert exc.value.field == "name"
    with pytest.raises(DomainError):
        make_sensor("T-3", point="outside")
    # street a's handler acts for street a only: point b is outside the owner unit's territory
    with pytest.raises(DomainError) as exc:
        make_sensor("T-4", point="b")
    assert exc.value.code == "sensing.outside_owner"
    # and may not register for street b's office
    with pytest.raises(DomainError) as exc:
        make_sensor("T-5", point="b", owner="street_b")
    assert exc.value.status == 403
    assert set(Sensor.objects.values_list("code", flat=True)) == {"T-1"}


def test_rule_create_checks_scope_kind_and_emergency(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    rule = make_rule()
    assert rule.params == {"threshold": 60.0} and rule.whistle_by is None
    assert AuditEntry.objects.filter(action="sensing.rule.created", target_id=str(rule.pk)).exists()
    with pytest.raises(DomainError) as exc:
        make_rule(area_code=world.streets[1].code)
    assert exc.value.field == "area_code"
    with pytest.raises(DomainError) as exc:
        make_rule(params={"threshold": "hot"})
    assert exc.value.field == "params"
    with pytest.raises(DomainError) as exc:
        make_rule(emergency=True)
    assert exc.value.field == "whistle_departments"
    s = make_sensor("G-1", kind="gas")
    with pytest.raises(DomainError) as exc:
        make_rule(sensor=s)
    assert exc.value.code == "sensing.kind_mismatch"
    urgent = make_rule(emergency=True, whistle_departments=[world.units["dept"]])
    assert urgent.whistle_by == world.users["street_a"]
    # a grid worker holds no whistle role
    with pytest.raises(DomainError):
        make_rule(actor=world.users["grid_a"], owner_unit=world.units["grid_a"], area_code=world.grids[0].code)
    assert AlertRule.objects.count() == 2
    _ = T0 + timedelta(0)
