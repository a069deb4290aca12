"""The one read path of dispatch, scoped by the acting user.

Who sees which orders (the union of what applies):
- the whole city: superusers, and staff of city-level command centres, leaders, administrators
  (as `people.scope` decides);
- staff of a territorial unit (块): orders located in its territory (a street's staff, their street);
- any unit's staff, a department (条) included: orders it leads or co-handles now;
- a resident: the orders they reported themselves.
The reporter's phone number is shown only to hotline operators, to the assigned unit's staff
and to the reporter; everyone else gets it masked.
"""

import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.people.masking import mask_text, personal
from huying.people.models import RoleCode, Unit, UnitKind
from huying.people.scope import scope_for
from huying.territory.models import Level

from . import duplicates as dup
from .models import COARSE_PRECISIONS, Channel, Extension, State, Subject, Transition, WorkOrder
from .services.common import STAFF_ROLES, has_any_role, in_territory
from .services.routing import place_units_q
from .workflow import CHILD_DONE, CLOCK_RUNNING, SPLIT_FROM, TERMINAL, WITH_UNIT, next_states

NOTHING = Q(pk__in=[])


def _authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def visible_q(actor) -> Q:
    """Q on WorkOrder for the orders `actor` may see."""
    if not _authenticated(actor):
        return NOTHING
    if actor.is_superuser:
        return Q()
    scope = scope_for(actor)
    if scope.whole_city:
        return Q()
    q = Q(reporter_id=actor.pk)
    if scope.has_any_role(*STAFF_ROLES):
        q |= scope.territory_q("area_code")
        if scope.unit_ids:
            ids = sorted(scope.unit_ids)
            cohandled = WorkOrder.cohandlers.through.objects.filter(unit_id__in=ids).values("workorder_id")
            q |= Q(lead_unit_id__in=ids) | Q(pk__in=cohandled)
    return q


def _base(actor) -> QuerySet[WorkOrder]:
    return (WorkOrder.objects.filter(visible_q(actor))
            .select_related("subject", "request_type", "lead_unit", "proposed_unit"))


def work_order_list(*, actor, filters: dict | None = None) -> QuerySet[WorkOrder]:
    """Orders `actor` may see, newest first, narrowed by `filters`:

    state (one or a list), channel, request_type (code), subject (code; its subtree), area (a
    division or grid code; everything below it), lead_unit (id), deadline_state, overdue (bool),
    q (words in the code, title or address), created_from / created_to (aware datetimes).
    """
    f = {k: v for k, v in (filters or {}).items() if v not in (None, "", [], ())}
    qs = _base(actor)
    if "state" in f:
        states = f["state"] if isinstance(f["state"], list | tuple | set) else [f["state"]]
        qs = qs.filter(state__in=list(states))
    if "channel" in f:
        qs = qs.filter(channel=f["channel"])
    if "request_type" in f:
        qs = qs.filter(request_type__code=f["request_type"])
    if "subject" in f:
        qs = qs.filter(subject__code__startswith=f["subject"])
    if "area" in f:
        qs = qs.filter(area_code__startswith=f["area"])
    if "lead_unit" in f:
        qs = qs.filter(lead_unit_id=f["lead_unit"])
    if "deadline_state" in f:
        qs = qs.filter(deadline_state=f["deadline_state"])
    if f.get("overdue") is True:
        qs = qs.filter(deadline_state="overdue")
    if "q" in f:
        text = str(f["q"]).strip()
        qs = qs.filter(Q(code__startswith=text) | Q(title__icontains=text) | Q(address__icontains=text))
    if isinstance(f.get("created_from"), datetime):
        qs = qs.filter(created_at__gte=f["created_from"])
    if isinstance(f.get("created_to"), datetime):
        qs = qs.filter(created_at__lt=f["created_to"])
    return qs.order_by("-created_at", "-id")


def work_order_get(*, actor, pk: int | None = None, code: str | None = None) -> WorkOrder:
    """One order by id or tracking code; one the actor may not see is 'not found', not 'forbidden'."""
    if pk is None and not code:
        raise DomainError("dispatch.not_found", _("工单不存在。"), status=404)
    qs = _base(actor).select_related("grid", "community", "merged_into")
    found = qs.filter(pk=pk).first() if pk is not None else qs.filter(code=str(code).strip()).first()
    if found is None:
        raise DomainError("dispatch.not_found", _("工单不存在。"), status=404)
    return found


def queue_for_unit(*, actor, unit: Unit | int, include_cohandled: bool = True) -> QuerySet[WorkOrder]:
    """A unit's work queue: what it must sign, handle or await a callback on, nearest deadline first."""
    unit_id = getattr(unit, "pk", unit)
    if not actor.is_superuser:
        scope = scope_for(actor)
        if not scope.whole_city and unit_id not in scope.unit_ids:
            raise DomainError("dispatch.forbidden", _("您不是该单位的人员。"), status=403)
    q = Q(lead_unit_id=unit_id)
    if include_cohandled:
        q |= Q(pk__in=WorkOrder.cohandlers.through.objects.filter(unit_id=unit_id).values("workorder_id"))
    return (WorkOrder.objects.filter(q, state__in=list(WITH_UNIT))
            .select_related("subject", "request_type", "lead_unit")
            .order_by("resolve_due", "id"))


def dispatcher_board(*, actor) -> dict[str, QuerySet]:
    """The dispatcher's board within their territory: what waits on the dispatcher, and what is late."""
    orders = _base(actor)
    return {
        "to_dispatch": orders.filter(state=State.SUBMITTED).order_by("created_at", "id"),
        "returned": orders.filter(state=State.RETURNED).order_by("updated_at", "id"),
        "extensions": (Extension.objects.filter(decision=Extension.Decision.PENDING,
                                                order__in=orders.values("pk"))
                       .select_related("order", "unit", "requested_by").order_by("requested_at", "id")),
        "overdue": orders.filter(state__in=list(CLOCK_RUNNING), deadline_state="overdue").order_by("resolve_due"),
        "warning": orders.filter(state__in=list(CLOCK_RUNNING), deadline_state="warning").order_by("resolve_due"),
        "response_overdue": orders.filter(state=State.DISPATCHED, response_overdue=True).order_by("response_due"),
        "awaiting_callback": orders.filter(state=State.RESOLVED).order_by("resolved_at", "id"),
    }


def work_order_timeline(order: WorkOrder) -> QuerySet[Transition] | list[Transition]:
    """Every step of the order, oldest first; from its prefetched steps when it carries them (an
    order fresh from intake does)."""
    cached = getattr(order, "_prefetched_objects_cache", {}).get("transitions")
    if cached is not None:
        return sorted(cached, key=lambda t: (t.at, t.id))
    return Transition.objects.filter(order=order).select_related("unit").order_by("at", "id")


def cohandler_ids(order: WorkOrder) -> list[int]:
    """The ids of the order's co-handling units (协办), from its prefetch cache when it has one."""
    cached = getattr(order, "_prefetched_objects_cache", {}).get("cohandlers")
    if cached is not None:
        return [u.pk for u in cached]
    return list(order.cohandlers.values_list("pk", flat=True))


def phone_visible(order: WorkOrder, *, actor) -> bool:
    """Operators, the assigned unit's staff and the reporter see the number; others see it masked."""
    if not _authenticated(actor):
        return False
    if actor.is_superuser or (order.reporter_id and order.reporter_id == actor.pk):
        return True
    scope = scope_for(actor)
    return scope.has_role(RoleCode.OPERATOR) or (order.lead_unit_id is not None and order.lead_unit_id in scope.unit_ids)


def reporter_for(order: WorkOrder, *, actor) -> dict:
    """The reporter's name and phone as `actor` may see them."""
    allowed = phone_visible(order, actor=actor)
    return {
        "name": personal(order.reporter_name, "name", viewer=actor, allowed=allowed and not order.anonymous),
        "phone": personal(order.reporter_phone, "phone", viewer=actor, allowed=allowed),
        "anonymous": order.anonymous,
    }


def child_states(orders) -> dict[int, set[str]]:
    """The states of each order's split children, in one query, for list pages."""
    out = {o.pk: set() for o in orders}
    for parent_id, state in WorkOrder.objects.filter(parent_id__in=list(out)).values_list("parent_id", "state"):
        out[parent_id].add(state)
    return out


def available_actions(order: WorkOrder, *, actor, children: set[str] | None = None) -> list[str]:
    """The service actions `actor` could try on `order` now (pages show these buttons only)."""
    if not _authenticated(actor):
        return []
    scope = None if actor.is_superuser else scope_for(actor)

    def role(*codes):
        return scope is None or scope.has_any_role(*codes, RoleCode.ADMIN)

    def covers():
        return scope is None or scope.covers(order.area_code)

    lead = scope is None or (order.lead_unit_id is not None and order.lead_unit_id in scope.unit_ids)
    targets = set(next_states(order.state))
    out = []
    can_split = False
    if order.state in SPLIT_FROM and not order.parent_id:
        # A split parent is handled through its children: it offers nothing until they are all done.
        if children is None and "children" in getattr(order, "_prefetched_objects_cache", {}):
            children = {c.state for c in order.children.all()}  # prefetched (a new order: none)
        states = children if children is not None else set(
            WorkOrder.objects.filter(parent_id=order.pk).values_list("state", flat=True))
        if states - CHILD_DONE:
            return []
        can_split = not states and role(RoleCode.DISPATCHER) and covers()
    if State.DISPATCHED in targets and role(RoleCode.DISPATCHER) and covers():
        out.append("dispatch" if order.state == State.SUBMITTED else "redispatch")
    if State.REJECTED in targets and role(RoleCode.OPERATOR, RoleCode.DISPATCHER) and covers():
        out.append("reject")
    if lead:
        out += {State.DISPATCHED: ["accept", "return"], State.ACCEPTED: ["resolve", "suspend"],
                State.SUSPENDED: ["resume"]}.get(order.state, [])
        if order.state in (State.DISPATCHED, State.ACCEPTED, State.SUSPENDED):
            out.append("extension_request")
    if order.state == State.RESOLVED and role(RoleCode.OPERATOR, RoleCode.DISPATCHER):
        out.append("callback")
    if (order.state == State.MERGED and order.merged_into_id and role(RoleCode.OPERATOR, RoleCode.DISPATCHER)
            and order.merged_into.state in (State.RESOLVED, State.CLOSED)):
        out.append("callback")
    if State.MERGED in targets and role(RoleCode.OPERATOR, RoleCode.DISPATCHER) and covers():
        out.append("merge")
    if order.state not in TERMINAL and role(RoleCode.OPERATOR, RoleCode.DISPATCHER) and covers():
        out.append("change_subject")
    if can_split:
        out.append("split")
    return out


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in str(text or "") if ch.isdecimal())


def _phone_tail_matches(phone: str, tail: str) -> bool:
    digits, tail = _ascii_digits(phone), _ascii_digits(tail)
    return len(digits) >= 4 and len(tail) == 4 and hmac.compare_digest(digits[-4:], tail)


def work_order_track(*, code: str, actor=None, phone_tail: str = "") -> dict | None:
    """What the tracking code shows (办理进度查询).

    The code is an identifier, not a secret: Open311 publishes it and residents read it out on the
    phone. So the code alone shows the state, the public timeline and the title with phone and
    identity numbers masked. The staff's reply (办理结果) may name people: it shows only to the
    reporter, signed in or proving it with the last four digits of the phone they gave
    (`tail_wrong` says a given tail did not match; the page counts those).
    """
    order = WorkOrder.objects.filter(code=str(code or "").strip()).select_related("subject").first()
    if order is None:
        return None
    by_login = _authenticated(actor) and order.reporter_id is not None and order.reporter_id == actor.pk
    by_tail = bool(phone_tail) and _phone_tail_matches(order.reporter_phone, phone_tail)
    reporter = by_login or by_tail
    steps = [{"at": t.at, "state": t.to_state, "action": t.action}
             for t in Transition.objects.filter(order=order).order_by("at", "id")
             if t.action not in ("extension_requested", "extension_refused", "review_returned", "check_required",
                                 "check_waived")]
    replied = order.state in (State.RESOLVED, State.CLOSED) and bool(order.resolution)
    return {"code": order.code, "title": order.title if by_login else mask_text(order.title),
            "subject": order.subject.name, "state": order.state, "state_label": State(order.state).label,
            "created_at": order.created_at, "steps": steps,
            "replied": replied, "reporter": reporter, "can_prove": bool(order.reporter_phone),
            "tail_wrong": bool(phone_tail) and not by_tail,
            "resolution": order.resolution if replied and reporter else ""}


# --- following a report (关注此问题) ------------------------------------------------------------
# The resident page offers nearby open reports to follow. It must not hand out their tracking codes
# (a code opens the tracking page), so each offer carries a signed, expiring token of the order's id.

FOLLOW_SALT = "huying.dispatch.follow"
FOLLOW_MAX_AGE = timedelta(hours=2)  # time to finish the report form after the search


def follow_token(order: WorkOrder) -> str:
    """An opaque token that lets the report page follow `order` for the next two hours."""
    return signing.dumps(order.pk, salt=FOLLOW_SALT)


def follow_target(token: str) -> WorkOrder | None:
    """The order a follow token names, or None when the token is forged, altered or expired."""
    try:
        pk = signing.loads(str(token or ""), salt=FOLLOW_SALT, max_age=FOLLOW_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return WorkOrder.objects.filter(pk=pk).first()


def dispatch_candidates(order: WorkOrder, *, actor) -> QuerySet[Unit]:
    """Units a dispatcher may send `order` to: the territorial offices covering its place and the
    departments (a department's branch only where it covers the place); none for someone who may
    not dispatch this order."""
    if not (has_any_role(actor, RoleCode.DISPATCHER) and in_territory(actor, order)):
        return Unit.objects.none()
    q = place_units_q(district_code=order.district_code, street_code=order.street_code,
                      community_code=order.community.code if order.community_id else "", grid_id=order.grid_id)
    return Unit.objects.filter(q, active=True).select_related("division").order_by("kind", "code")


def override_candidates(*, actor) -> QuerySet[Unit]:
    """Units a hotline operator may name at intake instead of the routing's choice, before the call
    is located: departments, and the district and street offices of the operator's territory.
    (The intake service accepts any unit `dispatch_candidates` would offer for the located order.)"""
    if not has_any_role(actor, RoleCode.OPERATOR, RoleCode.DISPATCHER):
        return Unit.objects.none()
    scope = None if actor.is_superuser else scope_for(actor)
    offices = Q(kind=UnitKind.TERRITORIAL, division__level__in=[Level.DISTRICT, Level.STREET])
    branches = Q(kind=UnitKind.DEPARTMENT) & (Q(division__isnull=False) | Q(grid__isnull=False))
    departments = Q(kind=UnitKind.DEPARTMENT) & ~branches
    if scope is None or scope.whole_city:
        q = offices | departments | branches
    else:
        q = (offices & scope.territory_q("division__code")) | departments | (
            branches & (scope.territory_q("division__code") | scope.territory_q("grid__code")))
    return Unit.objects.filter(q, active=True).select_related("division").order_by("kind", "code")


def patrol_reports(*, actor) -> QuerySet[WorkOrder]:
    """The patrol reports (巡查上报) `actor` filed, newest first, as far as they may still see them."""
    if not _authenticated(actor):
        return WorkOrder.objects.none()
    return (_base(actor).filter(channel=Channel.PATROL, created_by_id=actor.pk).order_by("-created_at", "-id"))



# --- duplicates (一事多诉) ------------------------------------------------------------------------

@dataclass
class DuplicateCandidate:
    order: WorkOrder
    distance_m: float | None  # None: matched by division (no point on one side)
    similarity: float
    score: float


def duplicate_radius(subject: Subject) -> int:
    """The subject's own search radius, else the nearest ancestor's, else 250 m."""
    for node in subject.ancestors():
        if node.duplicate_radius_m:
            return node.duplicate_radius_m
    return dup.DEFAULT_RADIUS_M


# Division codes nest by prefix: district (6), street (9), community (12) above a grid's code.
_ANCESTOR_CODE_LENGTHS = (6, 9, 12)


def _area_ancestors(area_code: str) -> list[str]:
    return [area_code[:n] for n in _ANCESTOR_CODE_LENGTHS if n < len(area_code)]


def duplicate_candidates(*, subject, lng: float | None, lat: float | None, text: str, now: datetime,
                         days: int | None = None, radius_m: float | None = None, limit: int = 5, exclude=None,
                         area_code: str = "", precision: str = "") -> list[DuplicateCandidate]:
    """Open orders that are likely the same problem: the same subject or a sibling (same parent),
    within the subject's radius, filed in the last `days`, with similar text; best first.

    Without a point — no lng/lat, or a `precision` coarser than a grid (an address that reached only
    a community, street or district) — the place is the division `area_code`: every order placed in
    it counts as near. A point also finds coarse orders placed at a division that holds it.
    Such matches carry `distance_m=None` and earn no nearness in the score.
    Shows no personal data by itself; pages decide what of each order to show to whom.
    """
    if not isinstance(subject, Subject):
        subject = Subject.objects.filter(code=str(subject)).first()
        if subject is None:
            return []
    area_code = (area_code or "").strip()
    by_area = lng is None or lat is None or precision in COARSE_PRECISIONS
    if by_area and not area_code:
        return []
    radius = float(radius_m or duplicate_radius(subject))
    days = days or dup.DEFAULT_DAYS
    related = Q(pk=subject.pk) | (Q(parent_id=subject.parent_id) if subject.parent_id else NOTHING)
    if by_area:
        place = Q(area_code__startswith=area_code)
    else:
        x0, y0, x1, y1 = dup.bounding_box(lng, lat, radius)
        # A coarse order's point is only its division's centre, not where the problem is.
        place = Q(lng__gte=x0, lng__lte=x1, lat__gte=y0, lat__lte=y1) & ~Q(location_precision__in=COARSE_PRECISIONS)
        if area_code:
            place |= Q(location_precision__in=COARSE_PRECISIONS, area_code__in=_area_ancestors(area_code))
    qs = (WorkOrder.objects.filter(place, subject__in=Subject.objects.filter(related),
                                   created_at__gte=now - timedelta(days=days), created_at__lte=now)
          .exclude(state__in=TERMINAL).select_related("subject"))
    if exclude is not None:
        qs = qs.exclude(pk=getattr(exclude, "pk", exclude))
    window = days * 86400.0
    out = []
    for order in qs[:500]:
        if by_area or order.location_precision in COARSE_PRECISIONS:
            distance = None
        else:
            distance = dup.haversine_m(lng, lat, order.lng, order.lat)
            if distance > radius:
                continue
        sim = dup.text_similarity(text, f"{order.title}{order.description}")
        if sim < dup.TEXT_THRESHOLD:
            continue
        score = dup.duplicate_score(distance_m=radius if distance is None else distance, radius_m=radius,
                                    age_s=(now - order.created_at).total_seconds(), window_s=window, similarity=sim)
        out.append(DuplicateCandidate(order, None if distance is None else round(distance, 1), round(sim, 3), score))
    out.sort(key=lambda c: (-c.score, c.distance_m if c.distance_m is not None else radius, c.order.pk))
    return out[:limit]


def merged_orders_for_callback(order: WorkOrder) -> QuerySet[WorkOrder]:
    """The callers merged into `order` who still await their own callback (回访), oldest first."""
    return WorkOrder.objects.filter(merged_into=order, state=State.MERGED).order_by("created_at", "id")
