"""Fixtures of the sensing core tests: the dispatch test city, plus sensors and rules made through services."""

from datetime import timedelta

import pytest

from tests.dispatch.conftest import at, fresh_calendar, media, territory_mode, world  # noqa: F401

T0 = at(2026, 3, 2, 10, 0)


def ts(minutes: float = 0.0):
    return T0 + timedelta(minutes=minutes)


def reading(minutes: float, value: float) -> dict:
    return {"ts": ts(minutes).isoformat(), "value": value}


@pytest.fixture
def sensing(world):  # noqa: F811
    """make_sensor(code, **kw) and make_rule(**kw), as a street handler of street a would set them up."""
    from huying.sensing import services

    actor = world.users["street_a"]

    def make_sensor(code="S1", *, point="a", owner="street_a", **kw):
        lng, lat = world.point(point)
        args = dict(code=code, name=f"设备{code}", kind="temperature", owner_unit=world.units[owner], lng=lng,
                    lat=lat, measure_unit="℃", actor=actor, now=T0 - timedelta(days=1))
        args.update(kw)
        return services.sensor_create(**args)

    def make_rule(*, kind="above", params=None, **kw):
        args = dict(name="高温", kind=kind, sensor_kind="temperature", params=params or {"threshold": 60},
                    subject="E04", urgency="urgent", owner_unit=world.units["street_a"], actor=actor,
                    area_code=world.streets[0].code, now=T0 - timedelta(days=1))
        args.update(kw)
        return services.rule_create(**args)

    return make_sensor, make_rule
