"""Alert-rule evaluation (pure): parameters checked, and each rule kind decided over plain values.

A reading is `(ts, value)`; a sensor's readings are oldest first. Nothing here touches the database,
so each kind is tested exactly; `services` loads the readings and state and acts on the answers.

- above / below: `{"threshold": x}` — a reading beyond the threshold fires.
- rate: `{"per_minute": r, "direction": "up"|"down"|"both", "window_minutes": w}` — two readings at
  most w minutes apart whose change per minute is at least r (in the direction) fire.
- silence: `{"minutes": n}` — no reading for n minutes (the worker's job asks).
- combination: `{"threshold": x, "direction": "above"|"below", "k": k, "window_minutes": w,
  "group_by": "place"|"building"|"grid"}` — at least k sensors of one place, building or grid had a
  reading beyond x within the last w minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from huying.core.errors import DomainError

GROUP_BY = ("place", "building", "grid")
MAX_WINDOW_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Firing:
    """A rule's condition holds: the reading (or the latest of them) that shows it, and its evidence."""

    ts: datetime
    value: float | None
    count: int  # readings (or, for a combination, sensors) beyond the limit
    detail: dict = field(default_factory=dict)


def _bad(message: str) -> DomainError:
    return DomainError("sensing.rule.bad_params", message, field="params")


def _number(params: dict, key: str, label: str, *, minimum: float | None = None, positive: bool = False,
            integer: bool = False, default=None):
    value = params.get(key, default)
    if value is None or value == "":
        raise _bad(_("请填写%(label)s。") % {"label": label})
    if isinstance(value, bool):
        raise _bad(_("%(label)s须为数字。") % {"label": label})
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(_("%(label)s须为数字。") % {"label": label}) from None
    if not math.isfinite(number):
        raise _bad(_("%(label)s须为有限的数字。") % {"label": label})
    if integer:
        if not number.is_integer():
            raise _bad(_("%(label)s须为整数。") % {"label": label})
        number = int(number)
    if positive and number <= 0:
        raise _bad(_("%(label)s须大于 0。") % {"label": label})
    if minimum is not None and number < minimum:
        raise _bad(_("%(label)s不能小于 %(min)s。") % {"label": label, "min": minimum})
    return number


def _window(params: dict, default: int) -> int:
    w = _number(params, "window_minutes", _("时间窗（分钟）"), positive=True, integer=True, default=default)
    if w > MAX_WINDOW_MINUTES:
        raise _bad(_("时间窗不能超过 7 天。"))
    return w


def validate_params(kind: str, params) -> dict:
    """The parameters of a rule of `kind`, checked and normalised; DomainError (field "params") if wrong."""
    if not isinstance(params, dict):
        raise _bad(_("参数格式不正确。"))
    if kind in ("above", "below"):
        return {"threshold": _number(params, "threshold", _("阈值"))}
    if kind == "rate":
        direction = params.get("direction") or "up"
        if direction not in ("up", "down", "both"):
            raise _bad(_("变化方向须为 up、down 或 both。"))
        return {"per_minute": _number(params, "per_minute", _("每分钟变化量"), positive=True),
                "direction": direction, "window_minutes": _window(params, 10)}
    if kind == "silence":
        minutes = _number(params, "minutes", _("静默分钟数"), positive=True, integer=True)
        if minutes > MAX_WINDOW_MINUTES:
            raise _bad(_("静默时长不能超过 7 天。"))
        return {"minutes": minutes}
    if kind == "combination":
        direction = params.get("direction") or "above"
        if direction not in ("above", "below"):
            raise _bad(_("组合方向须为 above 或 below。"))
        group_by = params.get("group_by") or "place"
        if group_by not in GROUP_BY:
            raise _bad(_("组合范围须为 place（场所）、building（楼栋）或 grid（网格）。"))
        k = _number(params, "k", _("设备数"), integer=True, minimum=2)
        return {"threshold": _number(params, "threshold", _("阈值")), "direction": direction, "k": k,
                "window_minutes": _window(params, 10), "group_by": group_by}
    raise DomainError("sensing.rule.bad_kind", _("未知的规则类型。"), field="kind")


def beyond(value: float, threshold: float, direction: str) -> bool:
    return value > threshold if direction == "above" else value < threshold


def threshold_fires(readings: list[tuple[datetime, float]], params: dict, *, direction: str) -> Firing | None:
    """above/below: the most extreme reading beyond the threshold, or None when none is."""
    t = params["threshold"]
    over = [(ts, v) for ts, v in readings if beyond(v, t, direction)]
    if not over:
        return None
    ts, v = (max if direction == "above" else min)(over, key=lambda r: (r[1], r[0]))
    return Firing(ts=ts, value=v, count=len(over), detail={"threshold": t, "direction": direction})


def latest_clear(readings: list[tuple[datetime, float]], params: dict, *, direction: str) -> bool:
    """Whether the newest reading is back within the threshold (the episode is over)."""
    return bool(readings) and not beyond(readings[-1][1], params["threshold"], direction)


def rate_fires(readings: list[tuple[datetime, float]], params: dict, *, since: datetime | None = None
               ) -> Firing | None:
    """rate: the steepest change between consecutive readings at most `window_minutes` apart (only pairs
    ending at or after `since`, the first new reading, count)."""
    limit, direction = params["per_minute"], params["direction"]
    window = timedelta(minutes=params["window_minutes"])
    best = None
    steep = 0
    for (t0, v0), (t1, v1) in zip(readings, readings[1:], strict=False):
        if since is not None and t1 < since:
            continue
        dt = (t1 - t0).total_seconds() / 60
        if dt <= 0 or t1 - t0 > window:
            continue
        rate = (v1 - v0) / dt
        signed = rate if direction == "up" else -rate if direction == "down" else abs(rate)
        if signed >= limit:
            steep += 1
            if best is None or signed > best[0]:
                best = (signed, t1, v1, rate)
    if best is None:
        return None
    _s, ts, v, rate = best
    return Firing(ts=ts, value=v, count=steep, detail={"per_minute": round(rate, 4), "limit": limit,
                                                       "direction": direction})


def silent(last_seen: datetime | None, since: datetime, now: datetime, params: dict) -> bool:
    """silence: no reading for `minutes` (a sensor never heard from counts from when it was registered)."""
    return now - (last_seen or since) >= timedelta(minutes=params["minutes"])


def combination_fires(by_sensor: dict, params: dict, *, now: datetime) -> Firing | None:
    """combination: `by_sensor` maps a sensor id to its readings; fires when at least k sensors had a
    reading beyond the threshold in the window ending at `now`."""
    start = now - timedelta(minutes=params["window_minutes"])
    t, direction = params["threshold"], params["direction"]
    hits = {}
    for sensor_id, readings in by_sensor.items():
        over = [(ts, v) for ts, v in readings if start <= ts <= now and beyond(v, t, direction)]
        if over:
            hits[sensor_id] = max(over)
    if len(hits) < params["k"]:
        return None
    ts, v = max(hits.values())
    return Firing(ts=ts, value=v, count=len(hits),
                  detail={"threshold": t, "direction": direction, "k": params["k"], "sensors": sorted(hits)})
