"""Services that move deadlines without changing the state: extensions (延期), a change of subject,
and the worker's sweep that marks orders as warned (临期) or overdue (超期)."""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.core.worktime import get_calendar
from huying.people.models import RoleCode

from .. import reference
from ..deadlines import applicable_limits, plan_clocks, warn_time
from ..deadlines import deadline_state as deadline_state_at
from ..models import Assignment, DeadlineState, Extension, State, TimeUnit, WorkOrder
from ..signals import order_changed, order_deadline, send_on_commit
from ..workflow import CLOCK_RUNNING, TERMINAL
from .common import lock_order, now_or, record, require_dispatcher, require_lead_member, required_text, save
from .intake import subject_resolve
from .routing import route_for_order

EXTENDABLE = frozenset({State.DISPATCHED, State.ACCEPTED, State.SUSPENDED})


@transaction.atomic
def extension_request(order, *, actor, new_due: datetime, reason: str, version: int | None = None,
                      now=None) -> Extension:
    """The assigned unit asks for a later resolution deadline; a dispatcher decides."""
    now = now_or(now)
    reason = required_text(reason, "reason", _("请填写延期理由。"))
    order = lock_order(order, version=version)
    require_lead_member(actor, order)
    if order.state not in EXTENDABLE or order.resolve_due is None:
        raise DomainError("dispatch.not_extendable", _("当前状态的工单不能申请延期。"), status=409)
    if new_due is None or new_due.tzinfo is None:
        raise DomainError("dispatch.bad_due", _("请填写新的办结期限。"), field="new_due")
    if new_due <= order.resolve_due or new_due <= now:
        raise DomainError("dispatch.bad_due", _("新的办结期限须晚于当前期限。"), field="new_due")
    if order.extensions.filter(decision=Extension.Decision.PENDING).exists():
        raise DomainError("dispatch.extension_pending", _("该工单已有待审批的延期申请。"), status=409)
    ext = Extension.objects.create(order=order, unit_id=order.lead_unit_id, requested_by=actor, requested_at=now,
                                   old_due=order.resolve_due, new_due=new_due, reason=reason)
    save(order, now, [])
    record(order, action="extension_requested", from_state=order.state, actor=actor, now=now, note=reason,
           unit_id=order.lead_unit_id, data={"extension_id": ext.pk, "new_due": new_due.isoformat()})
    return ext


@transaction.atomic
def extension_decide(extension, *, actor, approve: bool, note: str = "", now=None) -> Extension:
    """Approve or refuse an extension; approval moves the resolution deadline (and its warning)."""
    now = now_or(now)
    ext = Extension.objects.select_for_update().get(pk=getattr(extension, "pk", extension))
    order = lock_order(ext.order_id)
    require_dispatcher(actor, order)
    if ext.decision != Extension.Decision.PENDING:
        raise DomainError("dispatch.extension_decided", _("该延期申请已审批。"), status=409)
    note = clean_text(note, field="note", multiline=True)
    if not approve:
        required_text(note, "note", _("不批准延期时，请填写意见。"))
    ext.decision = Extension.Decision.APPROVED if approve else Extension.Decision.REFUSED
    ext.decided_by = actor
    ext.decided_at = now
    ext.decision_note = note or ""
    ext.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
    fields = []
    if approve and order.state in EXTENDABLE and order.resolve_due is not None:
        unit = ((_active_limits(order) or {}).get("resolve") or {}).get("unit", TimeUnit.WORK_DAYS)
        start = order.dispatched_at or now
        order.resolve_due = ext.new_due
        order.warn_at = warn_time(start, ext.new_due, unit, get_calendar())
        order.extension_count += 1
        if order.state != State.SUSPENDED:
            order.deadline_state = deadline_state_at(now=now, warn_at=order.warn_at, resolve_due=order.resolve_due)
        fields = ["resolve_due", "warn_at", "extension_count", "deadline_state"]
    save(order, now, fields)
    record(order, action="extension_approved" if approve else "extension_refused", from_state=order.state,
           actor=actor, now=now, note=note, unit_id=ext.unit_id,
           data={"extension_id": ext.pk, "new_due": ext.new_due.isoformat() if approve else None})
    return ext


def _active_limits(order: WorkOrder) -> dict | None:
    a = order.assignments.filter(outcome=Assignment.Outcome.ACTIVE).order_by("-id").first()
    return a.limits if a else None


@transaction.atomic
def work_order_change_subject(order, *, actor, subject, reason: str = "", version: int | None = None,
                              now=None) -> WorkOrder:
    """Reclassify an order; a running clock is recomputed from its dispatch with the new limits."""
    now = now_or(now)
    subject = subject_resolve(subject)
    order = lock_order(order, version=version)
    require_dispatcher(actor, order, RoleCode.OPERATOR, RoleCode.DISPATCHER)
    if order.state in TERMINAL:
        raise DomainError("dispatch.finished", _("已结束的工单不能修改分类。"), status=409)
    old_code = order.subject.code
    order.subject = subject
    fields = ["subject"]
    data = {"old": old_code, "new": subject.code}
    if order.state in (State.SUBMITTED, State.RETURNED):
        proposal = route_for_order(order, now=now)
        order.proposed_unit_id, order.routing = proposal.unit_id, proposal.as_dict()
        fields += ["proposed_unit", "routing"]
        data["routing"] = proposal.as_dict()
    elif order.dispatched_at is not None:
        cal = get_calendar()
        limits = applicable_limits(request_type=order.request_type, subject_chain=reference.subject_chain(subject),
                                   emergency=order.emergency, start=order.dispatched_at, cal=cal)
        plan = plan_clocks(start=order.dispatched_at, limits=limits, cal=cal)
        order.response_due, order.resolve_due, order.warn_at = plan.response_due, plan.resolve_due, plan.warn_at
        fields += ["response_due", "resolve_due", "warn_at"]
        if order.state in CLOCK_RUNNING:
            order.deadline_state = deadline_state_at(now=now, warn_at=plan.warn_at, resolve_due=plan.resolve_due)
            fields.append("deadline_state")
        Assignment.objects.filter(order=order, outcome=Assignment.Outcome.ACTIVE).update(limits=limits.as_dict())
        data.update(limits=limits.as_dict(), resolve_due=plan.resolve_due.isoformat(),
                    response_due=plan.response_due.isoformat())
    save(order, now, fields)
    record(order, action="subject_changed", from_state=order.state, actor=actor, now=now, note=reason, data=data)
    send_on_commit(order_changed, order_id=order.pk, action="subject_changed")
    return order


def _due_q(now) -> Q:
    return (
        Q(deadline_state=DeadlineState.OK, warn_at__lte=now)
        | Q(deadline_state__in=[DeadlineState.OK, DeadlineState.WARNING], resolve_due__lte=now)
        | Q(state=State.DISPATCHED, response_overdue=False, response_due__lte=now)
    )


def deadline_sweep(*, now=None, batch: int = 500) -> dict[str, int]:
    """Mark running clocks that passed 75 % (warning) or 100 % (overdue), one batch per transaction.

    Rows are taken with FOR UPDATE SKIP LOCKED, so several workers share the work on PostgreSQL
    without waiting on each other or marking an order twice.
    """
    now = now_or(now)
    counts = {"warning": 0, "overdue": 0, "response_overdue": 0}
    while True:
        with transaction.atomic():
            rows = list(
                WorkOrder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(state__in=CLOCK_RUNNING).filter(_due_q(now)).order_by("resolve_due", "id")[:batch]
            )
            for order in rows:
                _sweep_one(order, now, counts)
        if len(rows) < batch:
            return counts


def _sweep_one(order: WorkOrder, now, counts: dict) -> None:
    fields = []
    kinds = []
    if order.state == State.DISPATCHED and not order.response_overdue and order.response_due and now >= order.response_due:
        order.response_overdue = True
        fields.append("response_overdue")
        kinds.append("response_overdue")
    new_state = deadline_state_at(now=now, warn_at=order.warn_at, resolve_due=order.resolve_due)
    if new_state != order.deadline_state and new_state in (DeadlineState.WARNING, DeadlineState.OVERDUE):
        order.deadline_state = new_state
        fields.append("deadline_state")
        kinds.append("overdue" if new_state == DeadlineState.OVERDUE else "warning")
    if not fields:
        return
    # The sweep is bookkeeping, not an edit: it does not bump the version, so a handler's
    # page open meanwhile does not go stale because the clock ran out.
    WorkOrder.objects.filter(pk=order.pk).update(**{f: getattr(order, f) for f in fields})
    for kind in kinds:
        counts[kind] += 1
        audit_log(order, f"dispatch.order.deadline_{kind}", actor=None,
                  data={"resolve_due": order.resolve_due.isoformat() if order.resolve_due else None,
                        "response_due": order.response_due.isoformat() if order.response_due else None,
                        "unit_id": order.lead_unit_id, "at": now.isoformat()})
        send_on_commit(order_deadline, order_id=order.pk, kind=kind)
