"""The sensing part of the demo (`sensing_demo_seed`): a few dozen sensors across the demo city's streets,
the rules over them, an hour of ordinary readings and one gas sensor over its limit (one alert, one order)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from huying.people.models import Membership, RoleCode, Unit, UnitKind
from huying.territory.models import UNIFIED_LAYER, Grid, Level

from . import services as svc
from .ingest import ingest
from .models import AlertRule, Sensor

STREETS = 8
# kind, name, measure unit, ordinary value, spread
KINDS = [("smoke", "烟感探测器", "dB/m", 0.05, 0.02), ("water_level", "积水监测", "m", 0.1, 0.05),
         ("gas", "燃气浓度监测", "%LEL", 2.0, 1.0), ("temperature", "配电房温度", "℃", 28.0, 2.0)]
RULES = [  # name, kind, sensor kind, params, subject code, urgency
    ("烟感报警", "above", "smoke", {"threshold": 0.5}, "E04", "emergency"),
    ("多点烟感", "combination", "smoke", {"threshold": 0.3, "k": 2, "window_minutes": 5, "group_by": "grid"},
     "E04", "emergency"),
    ("积水超过 0.3 米", "above", "water_level", {"threshold": 0.3}, "E04", "urgent"),
    ("水位陡涨", "rate", "water_level", {"per_minute": 0.05, "window_minutes": 10}, "E04", "urgent"),
    ("燃气浓度超限", "above", "gas", {"threshold": 20}, "E04", "emergency"),
    ("配电房高温", "above", "temperature", {"threshold": 60}, "C06", "urgent"),
    ("设备离线", "silence", "smoke", {"minutes": 60}, "C06", "normal"),
    ("设备离线", "silence", "gas", {"minutes": 60}, "C06", "normal"),
]


def _street_units() -> list[Unit]:
    return list(Unit.objects.filter(kind=UnitKind.TERRITORIAL, active=True, division__level=Level.STREET)
                .select_related("division").order_by("code")[:STREETS])


def sensing_demo_seed(now=None, progress=None) -> dict[str, int]:
    """Idempotent: sensors already there (by code) are kept; returns what was made."""
    now = now or timezone.now()
    made = {"sensors": 0, "rules": 0, "readings": 0, "alerts": 0}
    units = _street_units()
    for n, unit in enumerate(units):
        grids = list(Grid.objects.filter(layer=UNIFIED_LAYER, code__startswith=unit.division.code)
                     .exclude(lng__isnull=True).order_by("code")[:2])
        for g, grid in enumerate(grids):
            for k, (kind, name, measure, _v, _s) in enumerate(KINDS):
                code = f"demo-{unit.division.code}-{g}{k}"
                if Sensor.objects.filter(code=code).exists():
                    continue
                try:
                    svc.sensor_create(code=code, name=f"{grid.name}{name}", kind=kind, owner_unit=unit,
                                      lng=grid.lng + 0.0002 * k, lat=grid.lat, measure_unit=measure,
                                      place=grid.name, actor=None, now=now - timedelta(days=30))
                except Exception:  # a grid centre the locator places elsewhere: skip it
                    continue
                made["sensors"] += 1
        if progress is not None:
            progress("sensing", n + 1, len(units))
    for unit in units[:1] or []:
        handler = (Membership.objects.filter(unit=unit, active=True, role__code__in=[RoleCode.HANDLER,
                                                                                     RoleCode.UNIT_LEADER])
                   .select_related("user").first())
        department = Unit.objects.filter(kind=UnitKind.DEPARTMENT, active=True).order_by("code").first()
        for name, kind, sensor_kind, params, subject, urgency in RULES:
            if AlertRule.objects.filter(name=name, sensor_kind=sensor_kind).exists():
                continue
            emergency = sensor_kind == "gas" and kind == "above" and handler is not None and department is not None
            svc.rule_create(name=name, kind=kind, sensor_kind=sensor_kind, params=params, subject=subject,
                            urgency=urgency, owner_unit=unit, emergency=emergency,
                            whistle_departments=[department] if emergency else (),
                            actor=handler.user if emergency else None, area_code="" if not emergency else
                            unit.division.code, now=now - timedelta(days=30))
            made["rules"] += 1
    items = []
    sensors = list(Sensor.objects.filter(code__startswith="demo-").order_by("code"))
    base = {kind: (v, s) for kind, _n, _m, v, s in KINDS}
    for i, s in enumerate(sensors):
        v, spread = base.get(s.kind, (1.0, 0.1))
        for m in range(12):
            items.append((s.code, {"ts": (now - timedelta(minutes=5 * (12 - m))).isoformat(),
                                   "value": round(v + spread * (((i * 7 + m * 3) % 10) / 10 - 0.5), 3)}))
    gas = next((s for s in sensors if s.kind == "gas"), None)
    if gas is not None:
        items.append((gas.code, {"ts": (now - timedelta(minutes=1)).isoformat(), "value": 35.0}))
    if items:
        result = ingest(items, now=now)
        made["readings"], made["alerts"] = result.stored, result.alerts
    return made
