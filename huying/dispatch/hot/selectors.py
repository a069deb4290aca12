"""Reads for hot issues and alerts, scoped by the acting user (the orders through dispatch's selectors)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet

from huying.people.scope import scope_for

from .. import selectors as order_selectors
from ..models import Urgency, WorkOrder
from .grouping import Call, Group, group_calls
from .heat import rank, text_severity
from .models import Alert

# The page groups at most this many recent orders; beyond it, groups come from the scan (see report).
MAX_ORDERS = 5000
URGENCY_SEVERITY = {Urgency.NORMAL: 0.0, Urgency.URGENT: 0.5, Urgency.EMERGENCY: 1.0}


def call_from_order(o: WorkOrder) -> Call:
    return Call(id=str(o.pk), title=o.title, body=o.description, at=o.created_at, area_code=o.area_code,
                reporter=str(o.reporter_id or o.reporter_phone or ""), subject=o.subject.code if o.subject_id else "",
                severity=max(URGENCY_SEVERITY.get(o.urgency, 0.0), text_severity(o.title, o.description)),
                lng=o.lng, lat=o.lat)


def recent_orders(*, actor, now, days: int) -> QuerySet[WorkOrder]:
    return (order_selectors.work_order_list(actor=actor, filters={"created_from": now - timedelta(days=days),
                                                                   "created_to": now})
            .exclude(state="merged"))


def hot_groups(*, actor, now, days: int = 14, min_size: int = 2, threshold: float = 0.22) -> list[Group]:
    """Hot-issue groups among the orders `actor` may see created in the last `days`, hottest first."""
    orders = list(recent_orders(actor=actor, now=now, days=days)[:MAX_ORDERS])
    by_id = {str(o.pk): o for o in orders}
    groups = rank(group_calls([call_from_order(o) for o in orders], threshold=threshold,
                              window=timedelta(days=days), min_size=min_size))
    for g in groups:
        g.orders = [by_id[c.id] for c in g.calls]
    return groups


def alerts_visible_q(actor) -> Q:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Q(pk__in=[])
    if actor.is_superuser:
        return Q()
    scope = scope_for(actor)
    return scope.territory_q("area_code") if not scope.whole_city else Q()


def alert_list(*, actor, status: str | None = None, kind: str | None = None) -> QuerySet[Alert]:
    """Alerts in the actor's territory (the dispatch centre sees the whole city), newest first."""
    qs = Alert.objects.filter(alerts_visible_q(actor)).select_related("subject").prefetch_related("orders")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-raised_at", "-id")
