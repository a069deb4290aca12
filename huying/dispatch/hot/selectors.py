"""Reads for hot issues and alerts, scoped by the acting user (the orders through dispatch's selectors)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from huying.people.scope import scope_for

from .. import selectors as order_selectors
from ..models import Urgency, WorkOrder
from .grouping import Call, Group, group_calls
from .heat import rank, text_severity
from .models import Alert, HotSnapshot

# Without a snapshot the page groups at most this many recent orders itself.
MAX_ORDERS = 5000
# The worker's snapshots cover this window; a page asking for another one groups live.
SNAPSHOT_DAYS = 14
# A snapshot older than this (the worker stopped) is not trusted: the page groups live instead.
SNAPSHOT_STALE = timedelta(hours=1)
PLACE_PREFIX = 9  # street level: grouping.group_calls' default `place_prefix`
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


def group_by_street(calls: list[Call], *, days: int, threshold: float = 0.22, min_size: int = 2) -> list[Group]:
    """`group_calls` street by street: two located calls group only within one street (`place_prefix`),
    so splitting changes no link and turns one n² similarity into many small ones."""
    parts: dict[str, list[Call]] = defaultdict(list)
    for c in calls:
        parts[c.area_code[:PLACE_PREFIX] if len(c.area_code) >= PLACE_PREFIX else ""].append(c)
    groups = []
    for part in parts.values():
        groups += group_calls(part, threshold=threshold, window=timedelta(days=days), min_size=min_size,
                              place_prefix=PLACE_PREFIX)
    return groups


def hot_groups(*, actor, now, days: int = 14, min_size: int = 2, threshold: float = 0.22) -> list[Group]:
    """Hot-issue groups among the orders `actor` may see created in the last `days`, hottest first."""
    orders = list(recent_orders(actor=actor, now=now, days=days)[:MAX_ORDERS])
    by_id = {str(o.pk): o for o in orders}
    groups = rank(group_by_street([call_from_order(o) for o in orders], days=days, threshold=threshold,
                                  min_size=min_size))
    for g in groups:
        g.orders = [by_id[c.id] for c in g.calls]
    return groups


def latest_snapshots(*, now, days: int = SNAPSHOT_DAYS) -> list[HotSnapshot]:
    """The newest fresh snapshot of each city."""
    fresh = HotSnapshot.objects.filter(days=days, computed_at__gt=now - SNAPSHOT_STALE, computed_at__lte=now)
    out = []
    for city in sorted(set(fresh.values_list("city_code", flat=True))):
        out.append(fresh.filter(city_code=city).order_by("-computed_at", "-id").first())
    return out


def _visible_orders(actor, ids: list[int]) -> dict[int, WorkOrder]:
    found = {}
    base = order_selectors.work_order_list(actor=actor).exclude(state="merged")
    for i in range(0, len(ids), 2000):  # SQLite caps the parameters of one statement
        found.update((o.pk, o) for o in base.filter(pk__in=ids[i:i + 2000]))
    return found


def hot_groups_page(*, actor, now, days: int = SNAPSHOT_DAYS, min_size: int = 2
                    ) -> tuple[list[Group], datetime | None]:
    """(groups, computed_at) for the hot page: the worker's latest snapshots when fresh, read through
    the actor's visibility (a group shows the orders they may see, its heat recomputed on those), else
    grouped now (computed_at None)."""
    snapshots = latest_snapshots(now=now, days=days) if days == SNAPSHOT_DAYS else []
    if not snapshots:
        return hot_groups(actor=actor, now=now, days=days, min_size=min_size), None
    ids = sorted({i for s in snapshots for g in s.groups for i in g["orders"]})
    visible = _visible_orders(actor, ids)
    groups = []
    for s in snapshots:
        for g in s.groups:
            orders = sorted((visible[i] for i in g["orders"] if i in visible), key=lambda o: (o.created_at, o.pk))
            if len(orders) >= min_size:
                group = Group([call_from_order(o) for o in orders])
                group.orders = orders
                groups.append(group)
    return rank(groups), min(s.computed_at for s in snapshots)


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
