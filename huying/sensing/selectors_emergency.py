"""Reads of the emergency view (应急指挥一张图): the active alerts of one's territory, each with its work
orders, the units working them now and the order's state.

Scope is the alert list's (`dispatch.hot.selectors.alerts_visible_q`): the viewer's territory by a
prefix match on the alert's area code, the whole city for the command centre and city leaders. A
division asked for (`?code=`) outside that territory, or unknown, answers 404.

The whole answer is four queries whatever the number of alerts: the alerts, their orders (through
the alert–order link), the orders' active assignments, and the names of co-handling units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.dispatch.hot.models import Alert, AlertKind, AlertStatus
from huying.dispatch.hot.selectors import alerts_visible_q
from huying.dispatch.models import URGENCY_RANK, Assignment, State, Urgency, WorkOrder
from huying.people.models import Unit
from huying.people.scope import scope_for
from huying.territory.models import Division, Grid

from .selectors import may_view

ACTIVE = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
LIMIT = 300  # a map and a side list beyond this many points help nobody; the answer says it is cut
CODE_RE = re.compile(r"^[0-9]{6,20}$")
DISTRICT_LEN = 6


def _not_found() -> DomainError:
    return DomainError("sensing.emergency.not_found", _("该区域不存在或不在您的管辖范围内。"), status=404)


def _city_code() -> str:
    return Division.objects.filter(level="city").order_by("code").values_list("code", flat=True).first() or ""


def territory_check(actor, code: str) -> str:
    """The territory prefix the view shows: "" (the viewer's whole scope) or a division/grid code inside
    it. Anything else is DomainError 404, never an empty answer that would hide a typo."""
    code = (code or "").strip()
    if not code:
        return ""
    if not may_view(actor) or not CODE_RE.match(code):
        raise _not_found()
    if code == _city_code():
        if actor.is_superuser or scope_for(actor).whole_city:
            return ""
        raise _not_found()
    if not (actor.is_superuser or scope_for(actor).covers(code)):
        raise _not_found()
    if not (Division.objects.filter(code=code).exists() or Grid.objects.filter(code=code).exists()):
        raise _not_found()
    return code


def map_root(actor, prefix: str) -> str:
    """Whose outlines the map draws (dispatch's report-map shapes): "city" (its districts) or a district
    code (its streets) — the district around the asked code or the viewer's territory."""
    if prefix:
        return prefix[:DISTRICT_LEN]
    if actor.is_superuser:
        return "city"
    scope = scope_for(actor)
    districts = {c[:DISTRICT_LEN] for c in scope.division_codes}
    if scope.whole_city or len(districts) != 1:
        return "city"
    return districts.pop()


@dataclass
class _Order:
    id: int
    code: str
    title: str
    state: str
    urgency: str
    resolve_due: object
    units: list


def _rank(urgency: str) -> int:
    try:
        return URGENCY_RANK[Urgency(urgency)]
    except ValueError:
        return 0


def active_alerts(*, actor, prefix: str = "", limit: int = LIMIT) -> dict:
    """The open and acknowledged alerts (hot and sensor) in the viewer's territory under `prefix`,
    most urgent first (their orders' highest urgency; an alert nobody has acknowledged before one that
    somebody has), then newest first; with `truncated` when more than `limit` matched."""
    qs = Alert.objects.filter(alerts_visible_q(actor) if may_view(actor) else Q(pk__in=[]), status__in=ACTIVE)
    if prefix:
        qs = qs.filter(area_code__startswith=prefix)
    rows = list(qs.order_by("-raised_at", "-id").values(
        "id", "kind", "title", "status", "area_code", "area_label", "lng", "lat", "raised_at", "acknowledged_at")[:limit + 1])
    truncated = len(rows) > limit
    rows = rows[:limit]
    ids = [r["id"] for r in rows]
    links: dict[int, list[int]] = {}
    orders: dict[int, _Order] = {}
    if ids:
        for o in (WorkOrder.objects.filter(opened_by_alerts__in=ids)
                  .values("opened_by_alerts", "id", "code", "title", "state", "urgency", "resolve_due")
                  .order_by("id")):
            links.setdefault(o["opened_by_alerts"], []).append(o["id"])
            orders.setdefault(o["id"], _Order(o["id"], o["code"], o["title"], o["state"], o["urgency"],
                                              o["resolve_due"], []))
    cohandlers: dict[int, list[int]] = {}
    if orders:
        for a in (Assignment.objects.filter(order_id__in=list(orders), outcome=Assignment.Outcome.ACTIVE)
                  .values("order_id", "unit_id", "unit__name", "cohandler_ids", "accepted_at").order_by("id")):
            orders[a["order_id"]].units.append({"name": a["unit__name"], "lead": True,
                                                "accepted": a["accepted_at"] is not None})
            ids_ = [int(i) for i in (a["cohandler_ids"] or []) if str(i).isdigit()]
            if ids_:
                cohandlers[a["order_id"]] = ids_
    if cohandlers:
        names = dict(Unit.objects.filter(pk__in={i for v in cohandlers.values() for i in v})
                     .values_list("pk", "name"))
        for order_id, unit_ids in cohandlers.items():
            for uid in unit_ids:
                if uid in names:
                    orders[order_id].units.append({"name": names[uid], "lead": False, "accepted": False})
    alerts = []
    for r in rows:
        mine = [orders[i] for i in links.get(r["id"], [])]
        live = [o for o in mine if o.state not in (State.CLOSED, State.REJECTED, State.MERGED)]
        urgency = max((o.urgency for o in live or mine), key=_rank, default=Urgency.NORMAL)
        alerts.append({**r, "orders": mine, "urgency": urgency})
    alerts.sort(key=lambda a: (-_rank(a["urgency"]), a["status"] != AlertStatus.OPEN,
                               -a["raised_at"].timestamp(), -a["id"]))
    return {"alerts": alerts, "truncated": truncated}


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def emergency_data(*, actor, prefix: str = "", now=None) -> dict:
    """The JSON the emergency page polls: alerts with their orders, units and states, ready to draw."""
    now = now or timezone.now()
    found = active_alerts(actor=actor, prefix=prefix)
    out = []
    for a in found["alerts"]:
        out.append({
            "id": a["id"], "kind": a["kind"], "kind_label": _label(AlertKind, a["kind"]),
            "status": a["status"], "status_label": _label(AlertStatus, a["status"]),
            "title": a["title"], "area_code": a["area_code"], "area_label": a["area_label"],
            "lng": a["lng"], "lat": a["lat"],
            "raised_at": timezone.localtime(a["raised_at"]).isoformat(),
            "raised_label": timezone.localtime(a["raised_at"]).strftime("%m-%d %H:%M"),
            "urgency": a["urgency"], "urgency_label": _label(Urgency, a["urgency"]),
            "orders": [{
                "code": o.code, "title": o.title, "state": o.state, "state_label": _label(State, o.state),
                "urgency": o.urgency, "urgency_label": _label(Urgency, o.urgency),
                "overdue": bool(o.resolve_due and o.resolve_due < now
                                and o.state not in (State.CLOSED, State.RESOLVED, State.REJECTED, State.MERGED)),
                "units": o.units, "url": reverse("dispatch:detail", args=[o.id]),
            } for o in a["orders"]],
        })
    return {"code": prefix, "generated_at": timezone.localtime(now).isoformat(),
            "generated_label": timezone.localtime(now).strftime("%H:%M:%S"),
            "count": len(out), "truncated": found["truncated"], "alerts": out}
