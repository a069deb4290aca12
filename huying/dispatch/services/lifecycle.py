"""The order's lifecycle: dispatch, accept, resolve, callback, return, re-dispatch, suspend, reject.

Each service locks the row, checks the version (stale → 409) and the transition table, changes
the order, and appends the timeline and audit rows in the same transaction; signals go out
after commit.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.core.worktime import get_calendar
from huying.people.models import RoleCode, Unit

from .. import reference, steps
from ..deadlines import applicable_limits, plan_clocks
from ..deadlines import deadline_state as deadline_state_at
from ..models import Assignment, Attachment, Callback, DeadlineState, Satisfaction, State, WorkOrder
from ..workflow import CHILD_DONE, SPLIT_FROM, transition_check
from .checks import after_report_state
from .common import (
    lock_order,
    now_or,
    record,
    require_children_done,
    require_dispatcher,
    require_lead_member,
    require_role,
    required_text,
    save,
    unit_level,
)
from .photos import photos_attach, photos_check
from .routing import route_for_order

# A dispatch reason becomes the assignment's override reason (a bounded column).
REASON_MAX = Assignment._meta.get_field("override_reason").max_length
CLOCK_FIELDS = ["dispatched_at", "accepted_at", "resolved_at", "response_due", "resolve_due", "warn_at",
                "deadline_state", "response_overdue"]


def _unit(unit) -> Unit:
    if isinstance(unit, Unit):
        return unit
    found = Unit.objects.filter(pk=unit, active=True).first() if unit else None
    if found is None:
        raise DomainError("dispatch.unknown_unit", _("承办单位不存在或已停用。"), field="unit")
    return found


def _record(order: WorkOrder, built: dict, *, actor, now, label: str = "") -> None:
    """Append the timeline and audit rows a `steps` builder gave for this step."""
    t = built["transition"]
    record(order, action=t["action"], from_state=t["from_state"], actor=actor, now=now, note=t["note"],
           unit_id=t["unit_id"], data=t["data"], label=label)


def _apply(order: WorkOrder, built: dict) -> list[str]:
    """Set the order's fields a `steps` builder changes (the same changes the simulator writes);
    returns their names for `save`, which bumps the version and stamps updated_at itself."""
    changed = [f for f in built["order"] if f not in ("version", "updated_at")]
    for field in changed:
        setattr(order, field, built["order"][field])
    return changed


def _active_assignment(order: WorkOrder) -> Assignment | None:
    return order.assignments.filter(outcome=Assignment.Outcome.ACTIVE).order_by("-id").first()


def dispatch_to(order: WorkOrder, *, unit_id: int, cohandler_ids=(), level: str = "", actor, now,
                binding: bool = False, note: str = "", override_reason: str = "",
                subject_chain: list | None = None) -> WorkOrder:
    """Send a locked order to `unit_id` and start both clocks; callers check permission and state."""
    from_state = order.state
    transition_check(from_state, State.DISPATCHED)
    # A fresh order has no assignment yet: skip the lookup on the hot intake path.
    previous = None if from_state == State.SUBMITTED else _active_assignment(order)
    if previous is not None:
        previous.outcome = Assignment.Outcome.REASSIGNED
        previous.ended_at = now
        previous.save(update_fields=["outcome", "ended_at"])
    cal = get_calendar()
    chain = subject_chain if subject_chain is not None else reference.subject_chain(order.subject)
    limits = applicable_limits(request_type=order.request_type, subject_chain=chain,
                               emergency=order.emergency, start=now, cal=cal)
    plan = plan_clocks(start=now, limits=limits, cal=cal)
    cohandler_ids = [c for c in dict.fromkeys(cohandler_ids or ()) if c and c != unit_id]
    assignment = Assignment.objects.create(
        order=order, unit_id=unit_id, cohandler_ids=cohandler_ids, level=level, binding=binding,
        override_reason=override_reason, dispatched_by=actor if getattr(actor, "pk", None) else None,
        dispatched_at=now, response_due=plan.response_due, resolve_due=plan.resolve_due, warn_at=plan.warn_at,
        limits=limits.as_dict(),
    )
    order.state = State.DISPATCHED
    order.lead_unit_id = unit_id
    order.handling_level = level
    order.dispatched_at = now
    order.accepted_at = None
    order.resolved_at = None
    order.response_due, order.resolve_due, order.warn_at = plan.response_due, plan.resolve_due, plan.warn_at
    order.deadline_state = deadline_state_at(now=now, warn_at=plan.warn_at, resolve_due=plan.resolve_due)
    order.response_overdue = False
    save(order, now, ["state", "lead_unit", "handling_level", *CLOCK_FIELDS])
    if cohandler_ids or from_state != State.SUBMITTED:
        order.cohandlers.set(cohandler_ids)
    _record(order, steps.dispatched(from_state=from_state, version=order.version, at=now, unit_id=unit_id,
                                    level=level, plan=plan, limits=limits.as_dict(), cohandler_ids=cohandler_ids,
                                    assignment_id=assignment.pk, binding=binding, override_reason=override_reason,
                                    note=note), actor=actor, now=now)
    return order


@transaction.atomic
def work_order_dispatch(order, *, actor, unit=None, cohandlers=None, reason: str = "", binding: bool = False,
                        version: int | None = None, now=None) -> WorkOrder:
    """Dispatch (派单) a submitted order, or re-dispatch (改派) a returned or not-yet-accepted one.

    Without `unit` it goes where routing proposes. Choosing another unit than the proposal is an
    operator override and needs a reason. `binding=True` is the final assignment (终审派单) after
    a return: the unit may no longer return it, and it needs a reason too.
    """
    now = now_or(now)
    reason = clean_text(reason, field="reason", max_length=REASON_MAX, multiline=True)
    order = lock_order(order, version=version)
    require_children_done(order)
    require_dispatcher(actor, order)
    transition_check(order.state, State.DISPATCHED)
    if order.state in (State.RETURNED, State.DISPATCHED) and unit is None:
        # The units that handed it back are not asked again; routing climbs a level instead.
        returned = set(order.assignments.filter(outcome=Assignment.Outcome.RETURNED).values_list("unit_id", flat=True))
        if order.lead_unit_id:
            returned.add(order.lead_unit_id)
        proposal = route_for_order(order, now=now, exclude=returned)
        order.proposed_unit_id = proposal.unit_id
        order.routing = proposal.as_dict()
        order.save(update_fields=["proposed_unit", "routing"])
    proposal = order.routing or {}
    if unit is None:
        if not order.proposed_unit_id:
            raise DomainError("dispatch.no_route", _("未能自动确定承办单位，请选择承办单位。"), field="unit")
        target = _unit(order.proposed_unit_id)
        level = proposal.get("level", "")
        co_ids = list(proposal.get("cohandler_ids") or []) if cohandlers is None else [_unit(c).pk for c in cohandlers]
        override = ""
    else:
        target = _unit(unit)
        level = unit_level(target)
        co_ids = [_unit(c).pk for c in (cohandlers or ())]
        if target.pk != order.proposed_unit_id:
            if not reason:
                raise DomainError("dispatch.override_reason_required",
                                  _("改变系统建议的承办单位时，请填写理由。"), field="reason")
            override = reason
        else:
            override = ""
    if target.pk == order.lead_unit_id and order.state == State.DISPATCHED:
        raise DomainError("dispatch.same_unit", _("工单已派给该单位。"), field="unit", status=409)
    if binding and not reason:
        raise DomainError("dispatch.binding_reason_required", _("终审派单须填写理由。"), field="reason")
    return dispatch_to(order, unit_id=target.pk, cohandler_ids=co_ids, level=level, actor=actor, now=now,
                       binding=binding, note=reason, override_reason=override)


def work_order_redispatch(order, *, actor, unit=None, cohandlers=None, reason: str = "", binding: bool = False,
                          version: int | None = None, now=None) -> WorkOrder:
    """Re-dispatch after a return (or reassign before acceptance); `binding=True` is 终审派单."""
    locked = WorkOrder.objects.only("state").filter(pk=getattr(order, "pk", order)).first()
    if locked is not None and locked.state == State.SUBMITTED:
        raise DomainError("dispatch.not_dispatched", _("工单尚未派单，请使用派单。"), status=409)
    return work_order_dispatch(order, actor=actor, unit=unit, cohandlers=cohandlers, reason=reason,
                               binding=binding, version=version, now=now)


@transaction.atomic
def work_order_accept(order, *, actor, note: str = "", version: int | None = None, now=None) -> WorkOrder:
    """The assigned unit signs for the order (签收); the response clock stops."""
    now = now_or(now)
    note = clean_text(note, field="note", multiline=True)
    order = lock_order(order, version=version)
    require_children_done(order)
    require_lead_member(actor, order)
    from_state = order.state
    transition_check(from_state, State.ACCEPTED)
    order.state = State.ACCEPTED
    order.accepted_at = now
    order.response_overdue = order.response_overdue or (order.response_due is not None and now > order.response_due)
    save(order, now, ["state", "accepted_at", "response_overdue"])
    Assignment.objects.filter(order=order, outcome=Assignment.Outcome.ACTIVE).update(accepted_at=now)
    _record(order, steps.accepted(from_state=from_state, version=order.version, at=now, unit_id=order.lead_unit_id,
                                  response_due=order.response_due, response_overdue=order.response_overdue,
                                  note=note), actor=actor, now=now)
    return order


@transaction.atomic
def work_order_resolve(order, *, actor, result: str, photos=(), version: int | None = None, now=None) -> WorkOrder:
    """The unit reports the result (办结), optionally with photos; the order awaits the callback, or
    first the unit leader's review and the on-site check where those apply (services/checks.py).
    Either way the unit's resolve clock stops here."""
    now = now_or(now)
    result = required_text(result, "result", _("请填写办理结果。"))
    checked = photos_check(photos)
    order = lock_order(order, version=version)
    require_children_done(order)
    require_lead_member(actor, order)
    from_state = order.state
    transition_check(from_state, State.RESOLVED)
    target = after_report_state(order)
    transition_check(from_state, target)
    order.state = target
    order.resolved_at = now
    order.resolution = result
    # The deadline state is frozen at resolution: it is what 按期办结 is counted on.
    order.deadline_state = deadline_state_at(now=now, warn_at=order.warn_at, resolve_due=order.resolve_due)
    save(order, now, ["state", "resolved_at", "resolution", "deadline_state"])
    if checked:
        photos_attach(order, checked, kind=Attachment.Kind.RESULT, actor=actor, now=now)
    _record(order, steps.resolved(from_state=from_state, version=order.version, at=now, unit_id=order.lead_unit_id,
                                  result=result, warn_at=order.warn_at, resolve_due=order.resolve_due,
                                  photos=len(checked), to_state=target), actor=actor, now=now)
    return order


@transaction.atomic
def work_order_callback(order, *, actor, satisfaction: str = "", solved: bool | None = None, reached: bool = True,
                        note: str = "", version: int | None = None, now=None) -> WorkOrder:
    """Record the callback (回访): satisfied → closed; unsatisfied → back to the unit as rework (返工).

    If the resident cannot be reached (`reached=False`, e.g. anonymous), the order is closed
    without a satisfaction score.
    """
    now = now_or(now)
    note = clean_text(note, field="note", multiline=True)
    order = lock_order(order, version=version)
    require_children_done(order)
    require_role(actor, RoleCode.OPERATOR, RoleCode.DISPATCHER)
    if reached:
        try:
            satisfaction = Satisfaction(satisfaction)
        except ValueError:
            raise DomainError("dispatch.satisfaction_required", _("请选择满意度。"), field="satisfaction") from None
    else:
        satisfaction = ""
        note = required_text(note, "note", _("未联系上诉求人时，请说明情况。"))
    return apply_callback(order, actor=actor, satisfaction=satisfaction, solved=solved, reached=reached, note=note,
                          now=now)


def apply_callback(order: WorkOrder, *, actor, satisfaction: str, solved: bool | None, reached: bool, note: str,
                   now, data: dict | None = None, label: str = "") -> WorkOrder:
    """Close or send back a locked order on a checked result: the operator's callback and the
    resident's own rating (`data` adds to the timeline/audit row, `label` names a user-less actor)."""
    from_state = order.state
    if from_state == State.MERGED:
        # A merged caller is called back once the order that handled the problem is resolved; their
        # dissatisfaction is recorded (and counted) but the rework belongs to that order's own callback.
        target = order.merged_into
        if target is None or target.state not in (State.RESOLVED, State.CLOSED):
            raise DomainError("dispatch.merge_target_open",
                              _("合并目标工单尚未办结，暂不能回访本工单的诉求人。"), status=409)
    rework = steps.reworked_by(from_state=from_state, reached=reached, satisfaction=satisfaction)
    transition_check(from_state, State.ACCEPTED if rework else State.CLOSED)
    callback = Callback.objects.create(order=order, actor=actor if getattr(actor, "pk", None) else None, at=now,
                                       reached=reached, solved=solved, satisfaction=satisfaction, note=note)
    built = steps.called_back(from_state=from_state, version=order.version + 1, at=now, unit_id=order.lead_unit_id,
                              callback_id=callback.pk, reached=reached, solved=solved, satisfaction=satisfaction,
                              rework_count=order.rework_count, note=note, extra=data)
    if rework:
        order.state = State.ACCEPTED
        order.rework_count += 1
        order.resolved_at = None
        save(order, now, ["state", "rework_count", "resolved_at"])
        _record(order, built, actor=actor, now=now, label=label)
    else:
        order.state = State.CLOSED
        order.closed_at = now
        save(order, now, ["state", "closed_at"])
        Assignment.objects.filter(order=order, outcome=Assignment.Outcome.ACTIVE).update(
            outcome=Assignment.Outcome.DONE, ended_at=now)
        _record(order, built, actor=actor, now=now, label=label)
        _after_child_done(order, actor=actor, now=now)
    return order


@transaction.atomic
def work_order_return(order, *, actor, reason: str, legal_basis: str, version: int | None = None,
                      now=None) -> WorkOrder:
    """The assigned unit hands the order back as not its duty (退单); counted against that unit."""
    now = now_or(now)
    reason = required_text(reason, "reason", _("请填写退单理由。"))
    legal_basis = required_text(legal_basis, "legal_basis", _("请填写退单的法律法规或职责依据。"))
    order = lock_order(order, version=version)
    require_children_done(order)
    require_lead_member(actor, order)
    from_state = order.state
    transition_check(from_state, State.RETURNED)
    assignment = _active_assignment(order)
    if assignment is not None and assignment.binding:
        raise DomainError("dispatch.binding_assignment", _("该工单为终审派单，承办单位不得退单。"), status=409)
    returning_unit = order.lead_unit_id
    if assignment is not None:
        assignment.outcome = Assignment.Outcome.RETURNED
        assignment.ended_at = now
        assignment.return_reason = reason
        assignment.return_basis = legal_basis
        assignment.save(update_fields=["outcome", "ended_at", "return_reason", "return_basis"])
    order.state = State.RETURNED
    order.return_count += 1
    order.lead_unit = None
    order.handling_level = ""
    # The returning unit's clocks end here; the next unit's start when it is dispatched again.
    order.response_due = order.resolve_due = order.warn_at = None
    order.deadline_state = DeadlineState.NONE
    save(order, now, ["state", "return_count", "lead_unit", "handling_level", "response_due", "resolve_due",
                      "warn_at", "deadline_state"])
    order.cohandlers.clear()
    _record(order, steps.returned(from_state=from_state, version=order.version, at=now, unit_id=returning_unit,
                                  assignment_id=assignment.pk if assignment else None, reason=reason,
                                  legal_basis=legal_basis, return_count=order.return_count - 1),
            actor=actor, now=now)
    return order


@transaction.atomic
def work_order_suspend(order, *, actor, reason: str, version: int | None = None, now=None) -> WorkOrder:
    """Park long engineering or seasonal works (挂账); the clock pauses until resumed."""
    now = now_or(now)
    reason = required_text(reason, "reason", _("请填写挂账理由。"))
    order = lock_order(order, version=version)
    require_children_done(order)
    require_lead_member(actor, order)
    from_state = order.state
    transition_check(from_state, State.SUSPENDED)
    built = steps.suspended(from_state=from_state, version=order.version + 1, at=now, unit_id=order.lead_unit_id,
                            reason=reason)
    save(order, now, _apply(order, built))
    _record(order, built, actor=actor, now=now)
    return order


@transaction.atomic
def work_order_resume(order, *, actor, note: str = "", version: int | None = None, now=None) -> WorkOrder:
    """Take parked works up again; the deadlines move by the working time spent parked."""
    now = now_or(now)
    note = clean_text(note, field="note", multiline=True)
    order = lock_order(order, version=version)
    require_lead_member(actor, order)
    from_state = order.state
    transition_check(from_state, State.ACCEPTED)
    cal = get_calendar()
    paused = cal.working_seconds_between(order.suspended_at, now) if order.suspended_at else 0.0
    if paused > 0:
        if order.resolve_due:
            order.resolve_due = cal.add(order.resolve_due, hours=paused / 3600)
        if order.warn_at:
            order.warn_at = cal.add(order.warn_at, hours=paused / 3600)
    order.state = State.ACCEPTED
    order.suspended_at = None
    order.deadline_state = deadline_state_at(now=now, warn_at=order.warn_at, resolve_due=order.resolve_due)
    save(order, now, ["state", "suspended_at", "resolve_due", "warn_at", "deadline_state"])
    record(order, action="resumed", from_state=from_state, actor=actor, now=now, note=note,
           unit_id=order.lead_unit_id,
           data={"paused_working_seconds": paused,
                 "resolve_due": order.resolve_due.isoformat() if order.resolve_due else None})
    return order


@transaction.atomic
def work_order_reject(order, *, actor, reason: str, version: int | None = None, now=None) -> WorkOrder:
    """不予受理: an operator or dispatcher decides it is not a matter for the government, with a reason."""
    now = now_or(now)
    reason = required_text(reason, "reason", _("请填写不予受理的理由。"))
    order = lock_order(order, version=version)
    require_children_done(order)
    require_dispatcher(actor, order, RoleCode.OPERATOR, RoleCode.DISPATCHER)
    from_state = order.state
    transition_check(from_state, State.REJECTED)
    built = steps.rejected(from_state=from_state, version=order.version + 1, at=now, reason=reason)
    save(order, now, _apply(order, built))
    _record(order, built, actor=actor, now=now)
    _after_child_done(order, actor=actor, now=now)
    return order


def _after_child_done(order: WorkOrder, *, actor, now) -> None:
    if order.parent_id:
        parent_resolve_if_done(order, actor=actor, now=now)


def parent_resolve_if_done(child: WorkOrder, *, actor, now) -> WorkOrder | None:
    """Called in the transaction that closed or rejected `child` (a split order's part, services/split.py):
    resolve its parent if it was the last.

    The parent's row lock comes before reading the siblings, so two children closing at once
    serialise here and exactly one of them sees all done.
    """
    if not child.parent_id:
        return None
    parent = lock_order(child.parent_id)
    if parent.state not in SPLIT_FROM:
        return None
    siblings = list(WorkOrder.objects.filter(parent=parent).order_by("id").values("code", "state", "resolution"))
    if any(s["state"] not in CHILD_DONE for s in siblings):
        return None
    from_state = parent.state
    parent.state = State.RESOLVED
    parent.resolved_at = now
    parent.resolution = "\n".join(
        f"{s['code']}：{s['resolution'] or State(s['state']).label}" for s in siblings)
    save(parent, now, ["state", "resolved_at", "resolution"])
    record(parent, action="split_resolved", from_state=from_state, actor=actor, now=now,
           note=_("全部子工单已结案"), unit_id=parent.lead_unit_id,
           data={"children": [s["code"] for s in siblings], "last": child.code})
    return parent
