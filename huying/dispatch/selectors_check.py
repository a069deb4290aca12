"""Reads for the unit leader's review (审核) and the grid worker's on-site check (核查), scoped by the actor."""

from django.db.models import Q, QuerySet

from huying.people.models import Membership, RoleCode

from .models import State, WorkOrder
from .services.checks import CHECK_SETTABLE, check_required, grid_worker_codes, is_unit_leader, may_check
from .services.common import has_any_role, in_territory

NOTHING = Q(pk__in=[])


def _authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _orders() -> QuerySet[WorkOrder]:
    return WorkOrder.objects.select_related("subject", "request_type", "lead_unit", "grid")


def leader_unit_ids(actor) -> list[int]:
    if not _authenticated(actor):
        return []
    return list(Membership.objects.filter(user_id=actor.pk, role__code=RoleCode.UNIT_LEADER, active=True,
                                          unit__active=True).values_list("unit_id", flat=True))


def review_queue(*, actor) -> QuerySet[WorkOrder]:
    """待审核: results of the units the actor leads, oldest report first."""
    if not _authenticated(actor):
        return WorkOrder.objects.none()
    q = Q() if actor.is_superuser else Q(lead_unit_id__in=leader_unit_ids(actor))
    return _orders().filter(q, state=State.REVIEWING).order_by("resolved_at", "id")


def check_q(codes: list[str]) -> Q:
    """Orders a grid worker with these territory codes may check (services.checks.checker_covers as a query)."""
    q = NOTHING
    for code in codes:
        q |= Q(grid__isnull=False, area_code__startswith=code)
        # placed only at a community (or coarser): any grid worker inside it
        q |= Q(grid__isnull=True, area_code__startswith=code)
        q |= Q(grid__isnull=True, area_code__in=[code[:i] for i in range(1, len(code) + 1)])
    return q


def check_queue(*, actor) -> QuerySet[WorkOrder]:
    """待核查: results in the actor's grid waiting for the on-site check, oldest report first."""
    if not _authenticated(actor):
        return WorkOrder.objects.none()
    q = Q() if actor.is_superuser else check_q(grid_worker_codes(actor))
    return _orders().filter(q, state=State.CHECKING).order_by("resolved_at", "id")


def check_review_actions(order: WorkOrder, *, actor) -> list[str]:
    """The review/check actions `actor` could try on `order` now (the order page shows these)."""
    if not _authenticated(actor):
        return []
    out = []
    if order.state == State.REVIEWING and is_unit_leader(actor, order.lead_unit_id):
        out += ["review_approve", "review_return"]
    if order.state == State.CHECKING and may_check(actor, order):
        out += ["check_pass", "check_fail"]
    if order.state in CHECK_SETTABLE and has_any_role(actor, RoleCode.DISPATCHER) and in_territory(actor, order):
        out.append("waive_check" if order.onsite_check else "require_check")
    return out


def check_facts(order: WorkOrder) -> dict:
    """What the order page says about review and check: is a check owed, who checks."""
    return {"required": check_required(order), "by_dispatcher": order.onsite_check}
