"""Reads of classification and triage: the queue in the actor's territory, the family of a subject,
the units an order may go to, and the corrections for the next training run."""

from collections.abc import Iterator

from django.db.models import QuerySet

from huying.people.models import RoleCode, Unit
from huying.people.scope import scope_for

from ..models import State, WorkOrder
from ..services.common import has_any_role
from ..services.routing import community_code_of, place_units_q
from .models import ClassifierCorrection, LabelRoute

TRIAGE_ROLES = (RoleCode.OPERATOR, RoleCode.DISPATCHER)


def can_triage(actor) -> bool:
    return has_any_role(actor, *TRIAGE_ROLES)


def triage_queue(*, actor) -> QuerySet[WorkOrder]:
    """Orders waiting for an operator's triage in the actor's territory, oldest first."""
    if not can_triage(actor):
        return WorkOrder.objects.none()
    qs = WorkOrder.objects.filter(state=State.SUBMITTED, classification__needs_triage=True)
    if not actor.is_superuser:
        qs = qs.filter(scope_for(actor).territory_q("area_code"))
    return (qs.select_related("classification", "subject", "request_type", "proposed_unit")
            .order_by("created_at", "id"))


def triage_count(*, actor) -> int:
    return triage_queue(actor=actor).count()


def label_routes() -> list[LabelRoute]:
    return list(LabelRoute.objects.select_related("subject", "department").order_by("label"))


def label_for_subject(code: str, routes: list[LabelRoute] | None = None) -> str | None:
    """The family whose mapped subject is `code` or one of its ancestors (the deepest mapping wins)."""
    best = None
    for r in routes if routes is not None else label_routes():
        if r.active and code.startswith(r.subject.code) and (best is None or len(r.subject.code) > len(best[0])):
            best = (r.subject.code, r.label)
    return best[1] if best else None


def unit_candidates(order: WorkOrder) -> QuerySet[Unit]:
    """Units that may take the order at its place: the territorial offices there and the departments."""
    q = place_units_q(district_code=order.district_code, street_code=order.street_code,
                      community_code=community_code_of(order), grid_id=order.grid_id)
    return Unit.objects.filter(q, active=True).select_related("division").order_by("kind", "code")


def corrections_for_training() -> Iterator[tuple[str, str, str]]:
    """(title, body, label) of every corrected order, by its latest correction; an order corrected back
    to the prediction has nothing to teach and is left out."""
    seen: set[int] = set()
    qs = (ClassifierCorrection.objects.select_related("order").order_by("order_id", "-at", "-id")
          .only("order_id", "predicted", "corrected", "order__title", "order__description"))
    for c in qs.iterator(chunk_size=2000):
        if c.order_id in seen:
            continue
        seen.add(c.order_id)
        if c.corrected != c.predicted:
            yield c.order.title, c.order.description, c.corrected
