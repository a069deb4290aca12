"""Closing the loop on a unit's result: the unit leader's review (审核) and the on-site check (核查).

DOMAIN.md §1.4: after the unit reports back, the grid's 信息采集员 checks on site; the case goes on
to the callback only if the check matches, otherwise it goes back to the unit as rework (返工).
A unit may also have its leader review every result before it leaves the unit (Unit.review_results).

Timeline actions (also the audit codes `dispatch.order.<action>`):
- review_requested  ACCEPTED → REVIEWING   the handler's 办结 in a reviewing unit
- check_requested   ACCEPTED → CHECKING    the handler's 办结 when a check is required
- review_approved   REVIEWING → CHECKING   the leader approves, a check follows
- review_returned   REVIEWING → ACCEPTED   the leader sends it back (recorded, not a rework)
- check_failed      CHECKING → ACCEPTED    核查不通过: rework, rework_count + 1
- resolved          → RESOLVED             every arrival at "awaiting callback"; `data.via` says
                                           who let it out (handler, review, check)
核查通过率 = steps from CHECKING to RESOLVED / all steps out of CHECKING.

The unit's resolve clock stops when the handler reports (resolved_at); time in review and check
is not charged to the unit: going back to ACCEPTED moves its deadlines by that working time.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.core.worktime import get_calendar
from huying.people.models import Membership, RoleCode, Unit

from .. import reference
from ..deadlines import deadline_state as deadline_state_at
from ..models import Attachment, State, WorkOrder
from ..workflow import TERMINAL, transition_check
from .common import lock_order, now_or, record, require_children_done, require_dispatcher, required_text, save
from .photos import photos_attach, photos_check

# Before the result is out a dispatcher may still ask for (or waive) an on-site check of one order.
CHECK_SETTABLE = frozenset({State.SUBMITTED, State.DISPATCHED, State.ACCEPTED, State.SUSPENDED, State.RETURNED,
                            State.REVIEWING})


def check_required(order: WorkOrder) -> bool:
    """Whether the order's result must be checked on site: set on the order, or on its subject or an ancestor."""
    if order.onsite_check:
        return True
    return any(node.onsite_check for node in reference.subject_chain(order.subject))


def unit_reviews(unit_id: int | None) -> bool:
    return bool(unit_id) and Unit.objects.filter(pk=unit_id, review_results=True).exists()


def after_report_state(order: WorkOrder) -> str:
    """Where a handler's 办结 goes: to the leader's review, to the on-site check, or to the callback."""
    if unit_reviews(order.lead_unit_id):
        return State.REVIEWING
    return State.CHECKING if check_required(order) else State.RESOLVED


REPORT_ACTIONS = {State.REVIEWING: "review_requested", State.CHECKING: "check_requested", State.RESOLVED: "resolved"}


def _superuser(actor) -> bool:
    return bool(getattr(actor, "is_superuser", False))


def is_unit_leader(actor, unit_id: int | None) -> bool:
    """A unit leader (单位负责人) of exactly this unit."""
    if unit_id is None or actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if _superuser(actor):
        return True
    return Membership.objects.filter(user_id=actor.pk, unit_id=unit_id, role__code=RoleCode.UNIT_LEADER,
                                     active=True, unit__active=True).exists()


def grid_worker_codes(actor) -> list[str]:
    """The territory codes (grid, else division) of the actor's active grid-worker memberships."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return []
    out = []
    for m in (Membership.objects.filter(user_id=actor.pk, role__code=RoleCode.GRID_WORKER, active=True,
                                        unit__active=True).select_related("unit__grid", "unit__division")):
        code = m.unit.grid.code if m.unit.grid_id else (m.unit.division.code if m.unit.division_id else "")
        if code:
            out.append(code)
    return out


def checker_covers(codes: list[str], order: WorkOrder) -> bool:
    """A grid worker checks the orders in their grid; an order placed only at a community (or coarser)
    may be checked by any grid worker inside that area."""
    area = order.area_code or ""
    if not area:
        return False
    if order.grid_id:
        return any(area.startswith(c) for c in codes)
    return any(area.startswith(c) or c.startswith(area) for c in codes)


def may_check(actor, order: WorkOrder) -> bool:
    return _superuser(actor) or checker_covers(grid_worker_codes(actor), order)


def _require_leader(actor, order: WorkOrder) -> None:
    if not is_unit_leader(actor, order.lead_unit_id):
        raise DomainError("dispatch.forbidden", _("只有承办单位的负责人可以审核办理结果。"), status=403)


def _require_checker(actor, order: WorkOrder) -> None:
    if not may_check(actor, order):
        raise DomainError("dispatch.forbidden", _("只有工单所在网格的网格员可以核查。"), status=403)


def _require_state(order: WorkOrder, state: str, message) -> None:
    if order.state != state:
        raise DomainError("dispatch.transition_forbidden", message, status=409, from_state=str(order.state),
                          to_state=str(state))


def _on_time(order: WorkOrder) -> bool:
    """按期办结 is judged at the unit's report (resolved_at), not when review or check let it out."""
    return order.resolve_due is None or order.resolved_at is None or order.resolved_at <= order.resolve_due


def _clock_resume(order: WorkOrder, now) -> float:
    """Back to the unit: its deadlines move by the working time spent in review and check."""
    cal = get_calendar()
    paused = cal.working_seconds_between(order.resolved_at, now) if order.resolved_at and now > order.resolved_at \
        else 0.0
    if paused > 0:
        if order.resolve_due:
            order.resolve_due = cal.add(order.resolve_due, hours=paused / 3600)
        if order.warn_at:
            order.warn_at = cal.add(order.warn_at, hours=paused / 3600)
    order.resolved_at = None
    order.deadline_state = deadline_state_at(now=now, warn_at=order.warn_at, resolve_due=order.resolve_due)
    return paused


CLOCK_RESUME_FIELDS = ["resolve_due", "warn_at", "resolved_at", "deadline_state"]


def _release(order: WorkOrder, *, actor, now, via: str, note: str, data: dict) -> WorkOrder:
    """The result leaves the unit (review approved or check passed): to the check if one is still
    owed, else to the callback."""
    from_state = order.state
    target = State.CHECKING if via == "review" and check_required(order) else State.RESOLVED
    transition_check(from_state, target)
    order.state = target
    save(order, now, ["state"])
    action = "review_approved" if target == State.CHECKING else "resolved"
    record(order, action=action, from_state=from_state, actor=actor, now=now, note=note, unit_id=order.lead_unit_id,
           data={"via": via, "on_time": _on_time(order), **data})
    return order


@transaction.atomic
def work_order_review_approve(order, *, actor, note: str = "", version: int | None = None, now=None) -> WorkOrder:
    """The unit leader approves the handler's result (审核通过): on to the on-site check or the callback."""
    now = now_or(now)
    note = clean_text(note, field="note", multiline=True)
    order = lock_order(order, version=version)
    require_children_done(order)
    _require_leader(actor, order)
    _require_state(order, State.REVIEWING, _("该工单不在待审核状态。"))
    return _release(order, actor=actor, now=now, via="review", note=note, data={})


@transaction.atomic
def work_order_review_return(order, *, actor, reason: str, version: int | None = None, now=None) -> WorkOrder:
    """The unit leader sends the result back to the handler (审核退回), with a reason.

    It is the unit's own affair: recorded on the timeline, not counted as rework to the resident.
    """
    now = now_or(now)
    reason = required_text(reason, "reason", _("请填写退回理由。"))
    order = lock_order(order, version=version)
    require_children_done(order)
    _require_leader(actor, order)
    _require_state(order, State.REVIEWING, _("该工单不在待审核状态。"))
    from_state = order.state
    transition_check(from_state, State.ACCEPTED)
    paused = _clock_resume(order, now)
    order.state = State.ACCEPTED
    save(order, now, ["state", *CLOCK_RESUME_FIELDS])
    record(order, action="review_returned", from_state=from_state, actor=actor, now=now, note=reason,
           unit_id=order.lead_unit_id,
           data={"paused_working_seconds": paused,
                 "resolve_due": order.resolve_due.isoformat() if order.resolve_due else None})
    return order


def _check(order, *, actor, passed: bool, note: str, photos, version, now) -> WorkOrder:
    now = now_or(now)
    if passed:
        note = clean_text(note, field="note", multiline=True)
    else:
        note = required_text(note, "note", _("核查不通过时，请写明现场情况。"))
    checked = photos_check(photos)
    order = lock_order(order, version=version)
    require_children_done(order)
    _require_checker(actor, order)
    _require_state(order, State.CHECKING, _("该工单不在待核查状态。"))
    data = {"check": "passed" if passed else "failed", "photos": len(checked)}
    if checked:
        photos_attach(order, checked, kind=Attachment.Kind.CHECK, actor=actor, now=now)
    if passed:
        return _release(order, actor=actor, now=now, via="check", note=note, data=data)
    from_state = order.state
    transition_check(from_state, State.ACCEPTED)
    paused = _clock_resume(order, now)
    order.state = State.ACCEPTED
    order.rework_count += 1
    save(order, now, ["state", "rework_count", *CLOCK_RESUME_FIELDS])
    record(order, action="check_failed", from_state=from_state, actor=actor, now=now, note=note,
           unit_id=order.lead_unit_id,
           data={**data, "paused_working_seconds": paused,
                 "resolve_due": order.resolve_due.isoformat() if order.resolve_due else None})
    return order


@transaction.atomic
def work_order_check_pass(order, *, actor, note: str = "", photos=(), version: int | None = None,
                          now=None) -> WorkOrder:
    """核查通过: the grid worker finds the result on site as reported; the order awaits the callback."""
    return _check(order, actor=actor, passed=True, note=note, photos=photos, version=version, now=now)


@transaction.atomic
def work_order_check_fail(order, *, actor, note: str, photos=(), version: int | None = None,
                          now=None) -> WorkOrder:
    """核查不通过: the result is not what is on site; back to the unit as rework (返工)."""
    return _check(order, actor=actor, passed=False, note=note, photos=photos, version=version, now=now)


@transaction.atomic
def work_order_set_onsite_check(order, *, actor, required: bool, reason: str = "", version: int | None = None,
                                now=None) -> WorkOrder:
    """The dispatcher asks for (or waives) an on-site check of this order's result (派单员指定核查).

    Waiving only lifts the order's own flag: a subject that requires checks still does.
    """
    now = now_or(now)
    reason = clean_text(reason, field="reason", multiline=True)
    order = lock_order(order, version=version)
    require_dispatcher(actor, order)
    if order.state in TERMINAL or order.state not in CHECK_SETTABLE:
        raise DomainError("dispatch.check_too_late", _("工单已办结或已进入核查，不能再修改是否核查。"), status=409)
    required = bool(required)
    if order.onsite_check == required:
        return order
    order.onsite_check = required
    save(order, now, ["onsite_check"])
    record(order, action="check_required" if required else "check_waived", from_state=order.state, actor=actor,
           now=now, note=reason, data={"onsite_check": required})
    return order
