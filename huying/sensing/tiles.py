"""The sensing app's tiles on the leader's dashboard (registered in SensingConfig.ready)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from huying.core import tiles
from huying.dispatch.hot.models import Alert, AlertKind, AlertStatus

from .models import Sensor, SensorState

# A sensor in service that has sent nothing for this long counts as silent on the dashboard (the
# silence rules, with their own minutes, are what open maintenance orders).
SILENT_AFTER = timedelta(hours=24)


def _under(prefix: str, field: str = "area_code") -> dict:
    return {f"{field}__startswith": prefix} if prefix else {}


def alerts_tile(*, prefix: str, now: datetime) -> tiles.TileValue | None:
    """Sensor alerts not closed yet in the territory; leads to the emergency view."""
    active = Alert.objects.filter(kind=AlertKind.SENSOR, status__in=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
                                  **_under(prefix)).aggregate(
        n=Count("pk"), unacknowledged=Count("pk", filter=Q(status=AlertStatus.OPEN)))
    n = active["n"] or 0
    if not n and not Sensor.objects.filter(**_under(prefix)).exists():
        return None
    url = reverse("sensing:emergency") + (f"?code={prefix}" if prefix else "")
    return tiles.TileValue(value=str(n), note=_("待确认 %(n)s 条") % {"n": active["unacknowledged"] or 0},
                           url=url, warn=n > 0)


def sensors_tile(*, prefix: str, now: datetime) -> tiles.TileValue | None:
    """Sensors in service that have gone silent, and sensors in maintenance, of all not retired."""
    cutoff = now - SILENT_AFTER
    silent = Q(state=SensorState.IN_SERVICE) & (Q(last_seen__lt=cutoff)
                                                | Q(last_seen__isnull=True, created_at__lt=cutoff))
    row = (Sensor.objects.filter(**_under(prefix)).exclude(state=SensorState.RETIRED)
           .aggregate(total=Count("pk"), silent=Count("pk", filter=silent),
                      maintenance=Count("pk", filter=Q(state=SensorState.MAINTENANCE))))
    if not row["total"]:
        return None
    return tiles.TileValue(value=f"{row['silent']} / {row['maintenance']}",
                           note=_("静默 / 维护中，共 %(n)s 台") % {"n": row["total"]},
                           url=reverse("sensing:home"), warn=row["silent"] > 0)


def register_tiles() -> None:
    tiles.register("sensing.alerts_active", title=_lazy("感知预警"), fn=alerts_tile, order=40)
    tiles.register("sensing.sensors_attention", title=_lazy("感知设备静默/维护"), fn=sensors_tile, order=41)
