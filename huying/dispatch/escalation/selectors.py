"""Reads for 吹哨报到 and 督办 pages, scoped by the viewer's units and territory."""

from django.db.models import Q, QuerySet

from huying.people.scope import scope_for

from ..models import WorkOrder
from ..selectors import visible_q
from .models import SupervisionNotice, Whistle, WhistleCall

NOTHING = Q(pk__in=[])


def _units_q(actor, field: str) -> Q:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return NOTHING
    if actor.is_superuser:
        return Q()
    return scope_for(actor).units_q(field)


def whistle_calls_for(*, actor, status: str | None = None) -> QuerySet[WhistleCall]:
    """The summonses of the departments the actor acts for (their 报到 list), pending first by deadline."""
    qs = (WhistleCall.objects.filter(_units_q(actor, "department_id"))
          .select_related("whistle", "whistle__order", "whistle__unit", "department"))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-status", "due_at", "id") if not status else qs.order_by("due_at", "id")


def whistles_for_order(order) -> QuerySet[Whistle]:
    return (Whistle.objects.filter(order=order).select_related("unit", "blown_by")
            .prefetch_related("calls__department"))


def supervision_notice_list(*, actor, cause: str | None = None) -> QuerySet[SupervisionNotice]:
    """Notices addressed to the actor's units, or on orders the actor may see."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return SupervisionNotice.objects.none()
    units = _units_q(actor, "recipients__id")
    mine = SupervisionNotice.objects.filter(units).values("pk")
    seen = WorkOrder.objects.filter(visible_q(actor)).values("pk")
    qs = SupervisionNotice.objects.filter(Q(pk__in=mine) | Q(order_id__in=seen))
    if cause:
        qs = qs.filter(cause=cause)
    return (qs.select_related("order", "unit", "issued_by").prefetch_related("recipients")
            .order_by("-issued_at", "-id"))
