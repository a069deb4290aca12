"""The write path of 吹哨报到 and 督办: blow a whistle, report to it, issue supervision, and the sweep.

Co-handlers: a department that reports is added to `WorkOrder.cohandlers` here, under the order's
row lock, with a timeline (Transition) and audit row. The order's `version` is not bumped: the
change touches no field the lead unit's forms post, so their open forms stay valid.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.people.models import RoleCode, Unit, UnitKind
from huying.people.scope import scope_for

from ..models import DeadlineState, WorkOrder
from ..notify.models import NotifyEvent, RecipientKind
from ..notify.services import notification_enqueue
from ..services.common import (
    in_territory,
    lock_order,
    member_of,
    now_or,
    record,
    require_dispatcher,
    require_role,
)
from ..workflow import CLOCK_RUNNING
from .models import SupervisionCause, SupervisionNotice, Whistle, WhistleCall, WhistleKind

# 报到时限 by whistle kind, in minutes; settings.HUYING_WHISTLE_REPORT_MINUTES overrides any of them.
# 应急 follows 平谷's 30-minute rule; the others are local choices (a working day, four hours).
DEFAULT_REPORT_MINUTES = {WhistleKind.ROUTINE: 24 * 60, WhistleKind.TOUGH: 4 * 60, WhistleKind.EMERGENCY: 30}
# The sweep climbs at most this many levels; dispatchers may go further by hand.
SWEEP_MAX_LEVEL = 2
WHISTLE_ROLES = (RoleCode.HANDLER, RoleCode.UNIT_LEADER, RoleCode.DISPATCHER)
WHISTLE_STATES = CLOCK_RUNNING


def report_minutes(kind: str) -> int:
    """The reporting limit of a whistle kind, in minutes (settings override the defaults)."""
    configured = settings.HUYING_WHISTLE_REPORT_MINUTES or {}
    return int(configured.get(str(kind), DEFAULT_REPORT_MINUTES[WhistleKind(kind)]))


def escalate_after() -> timedelta:
    """A supervision notice still unanswered after this long is followed by one a level higher."""
    return timedelta(hours=float(settings.HUYING_SUPERVISION_ESCALATE_HOURS))


def superior_chain(unit: Unit) -> list[Unit]:
    """The unit, its superior, the superior's superior … (stops at a cycle)."""
    chain, seen = [], set()
    while unit is not None and unit.pk not in seen:
        chain.append(unit)
        seen.add(unit.pk)
        unit = unit.parent
    return chain


def _whistling_unit(actor, order: WorkOrder) -> Unit:
    """The actor's street or community office (块) whose territory covers the order."""
    scope = scope_for(actor)
    units = Unit.objects.filter(pk__in=scope.unit_ids, kind__in=[UnitKind.TERRITORIAL, UnitKind.COMMAND],
                                active=True).select_related("division", "grid")
    covering = [u for u in units if u.territory_code and (order.area_code or "").startswith(u.territory_code)]
    if covering:
        return max(covering, key=lambda u: len(u.territory_code))  # the most local office
    if getattr(actor, "is_superuser", False) and order.lead_unit_id:
        return order.lead_unit
    raise DomainError("escalation.forbidden", _("只有工单所在街道或社区的人员可以吹哨。"), status=403)


@transaction.atomic
def whistle_blow(order: WorkOrder, *, actor, kind: str, department_ids, reason: str, now=None) -> Whistle:
    """吹哨: a street or community summons departments to an order; each must report within the limit."""
    now = now_or(now)
    require_role(actor, *WHISTLE_ROLES)
    order = lock_order(order)
    if not in_territory(actor, order):
        raise DomainError("escalation.forbidden", _("该工单不在您的管辖范围内。"), status=403)
    if order.state not in WHISTLE_STATES:
        raise DomainError("escalation.bad_state", _("只能对已派单或办理中的工单吹哨。"), status=409)
    try:
        kind = WhistleKind(kind)
    except ValueError:
        raise DomainError("escalation.bad_kind", _("请选择哨类：日常、攻坚或应急。"), field="kind") from None
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("escalation.required", _("请填写吹哨事由。"), field="reason")
    ids = list(dict.fromkeys(int(d) for d in (department_ids or ()) if str(d).strip()))
    if not ids:
        raise DomainError("escalation.required", _("请至少选择一个被召集部门。"), field="departments")
    departments = list(Unit.objects.filter(pk__in=ids, kind=UnitKind.DEPARTMENT, active=True).order_by("pk"))
    if len(departments) != len(ids):
        raise DomainError("escalation.bad_department", _("只能召集启用中的职能部门。"), field="departments")
    unit = _whistling_unit(actor, order)
    minutes = report_minutes(kind)
    whistle = Whistle.objects.create(order=order, kind=kind, reason=reason, unit=unit,
                                     blown_by=actor if getattr(actor, "pk", None) else None,
                                     blown_at=now, report_minutes=minutes)
    due = now + timedelta(minutes=minutes)
    WhistleCall.objects.bulk_create([WhistleCall(whistle=whistle, department=d, due_at=due) for d in departments])
    record(order, action="whistle_blown", from_state=order.state, actor=actor, now=now, note=reason,
           unit_id=unit.pk, data={"whistle": whistle.pk, "kind": kind.value, "departments": [d.pk for d in departments],
                                  "due_at": due.isoformat()})
    for d in departments:
        notification_enqueue(
            NotifyEvent.DISPATCH, recipient_kind=RecipientKind.UNIT, recipient_id=d.pk,
            title=_("%(kind)s：%(unit)s召集报到") % {"kind": kind.label, "unit": unit.name},
            body=_("工单 %(code)s「%(title)s」：%(reason)s。请在 %(minutes)s 分钟内报到。")
            % {"code": order.code, "title": order.title, "reason": reason, "minutes": minutes},
            dedup_key=f"whistle:{whistle.pk}:{d.pk}", order_id=order.pk,
            data={"whistle": whistle.pk, "kind": kind.value}, now=now)
    return whistle


@transaction.atomic
def whistle_report(call: WhistleCall, *, actor, note: str = "", now=None) -> WhistleCall:
    """报到: a summoned department reports and becomes a co-handler; lateness and time taken are kept."""
    now = now_or(now)
    pk = getattr(call, "pk", call)
    call = (WhistleCall.objects.select_for_update().select_related("whistle").filter(pk=pk).first())
    if call is None:
        raise DomainError("escalation.not_found", _("召集记录不存在。"), status=404)
    if not member_of(actor, call.department_id):
        raise DomainError("escalation.forbidden", _("只有被召集部门的人员可以报到。"), status=403)
    if call.status == WhistleCall.Status.REPORTED:
        raise DomainError("escalation.already_reported", _("本部门已报到。"), status=409)
    order = lock_order(call.whistle.order_id)
    call.status = WhistleCall.Status.REPORTED
    call.reported_at = now
    call.reported_by = actor if getattr(actor, "pk", None) else None
    call.report_seconds = max(0, int((now - call.whistle.blown_at).total_seconds()))
    call.late = now > call.due_at
    call.note = (note or "").strip()
    call.save(update_fields=["status", "reported_at", "reported_by", "report_seconds", "late", "note"])
    if call.department_id != order.lead_unit_id:
        order.cohandlers.add(call.department_id)
    record(order, action="whistle_reported", from_state=order.state, actor=actor, now=now, note=call.note,
           unit_id=call.department_id,
           data={"whistle": call.whistle_id, "call": call.pk, "late": call.late, "seconds": call.report_seconds})
    return call


def _issue(order: WorkOrder, *, unit: Unit, level: int, cause: str, actor, note: str, now) -> SupervisionNotice:
    chain = superior_chain(unit)
    recipients = chain[level - 1:level + 1]
    if not recipients:
        raise DomainError("escalation.no_superior", _("已无更高一级单位可督办。"), field="unit", status=409)
    notice = SupervisionNotice.objects.create(order=order, unit=unit, level=level, cause=cause, note=note,
                                              issued_by=actor if getattr(actor, "pk", None) else None,
                                              issued_at=now)
    notice.recipients.set(recipients)
    record(order, action="supervised", from_state=order.state, actor=actor, now=now, note=note, unit_id=unit.pk,
           data={"notice": notice.pk, "level": level, "cause": str(cause), "recipients": [u.pk for u in recipients]})
    for r in recipients:
        notification_enqueue(
            NotifyEvent.SUPERVISION, recipient_kind=RecipientKind.UNIT, recipient_id=r.pk,
            title=_("督办（第%(level)s次）：工单 %(code)s") % {"level": level, "code": order.code},
            body=_("%(unit)s承办的工单「%(title)s」%(cause)s，请督促办理。%(note)s")
            % {"unit": unit.name, "title": order.title, "cause": SupervisionCause(cause).label, "note": note},
            dedup_key=f"supervision:{notice.pk}:{r.pk}", order_id=order.pk,
            data={"notice": notice.pk, "level": level}, now=now)
    return notice


@transaction.atomic
def supervision_issue(order: WorkOrder, *, actor, unit: Unit | int | None = None, note: str = "",
                      now=None) -> SupervisionNotice:
    """人工督办 by a dispatcher: the next level for the supervised unit (default the lead unit)."""
    now = now_or(now)
    order = lock_order(order)
    require_dispatcher(actor, order)
    unit_id = getattr(unit, "pk", unit) or order.lead_unit_id
    target = Unit.objects.select_related("parent").filter(pk=unit_id).first() if unit_id else None
    if target is None:
        raise DomainError("escalation.no_unit", _("该工单尚无承办单位，无法督办。"), field="unit")
    last = (SupervisionNotice.objects.filter(order=order, unit=target).order_by("-level")
            .values_list("level", flat=True).first()) or 0
    return _issue(order, unit=target, level=last + 1, cause=SupervisionCause.MANUAL, actor=actor,
                  note=(note or "").strip(), now=now)


def _sweep_one(order_id: int, unit_id: int, cause: str, now) -> SupervisionNotice | None:
    """Issue the next automatic notice for (order, unit) if one is due; None when nothing is due."""
    with transaction.atomic():
        order = lock_order(order_id)
        notices = list(SupervisionNotice.objects.filter(order=order, unit_id=unit_id).order_by("-level")[:1])
        if notices:
            last = notices[0]
            if last.level >= SWEEP_MAX_LEVEL or now - last.issued_at < escalate_after():
                return None
            level = last.level + 1
        else:
            level = 1
        unit = Unit.objects.select_related("parent").get(pk=unit_id)
        if len(superior_chain(unit)) < level:
            return None
        try:
            with transaction.atomic():
                return _issue(order, unit=unit, level=level, cause=cause, actor=None, note="", now=now)
        except IntegrityError:  # another sweep issued it first
            return None


def escalation_sweep(*, now=None) -> dict[str, int]:
    """Flag whistle calls past their limit, and issue or escalate supervision for overdue and flagged orders."""
    now = now_or(now)
    flagged = 0
    for call_id in list(WhistleCall.objects.filter(status=WhistleCall.Status.PENDING, flagged_at__isnull=True,
                                                   due_at__lt=now).values_list("pk", flat=True)):
        with transaction.atomic():
            call = (WhistleCall.objects.select_for_update().select_related("whistle")
                    .filter(pk=call_id, status=WhistleCall.Status.PENDING, flagged_at__isnull=True).first())
            if call is None:
                continue
            order = lock_order(call.whistle.order_id)
            call.flagged_at = now
            call.save(update_fields=["flagged_at"])
            record(order, action="whistle_missed", from_state=order.state, actor=None, now=now,
                   unit_id=call.department_id, data={"whistle": call.whistle_id, "call": call.pk,
                                                     "due_at": call.due_at.isoformat()})
            flagged += 1
    issued = 0
    overdue = (WorkOrder.objects.filter(state__in=CLOCK_RUNNING, deadline_state=DeadlineState.OVERDUE,
                                        lead_unit__isnull=False).values_list("pk", "lead_unit_id"))
    for order_id, unit_id in list(overdue):
        issued += _sweep_one(order_id, unit_id, SupervisionCause.OVERDUE, now) is not None
    missed = (WhistleCall.objects.filter(status=WhistleCall.Status.PENDING, flagged_at__isnull=False,
                                         whistle__order__state__in=CLOCK_RUNNING)
              .values_list("whistle__order_id", "department_id").distinct())
    for order_id, unit_id in list(missed):
        issued += _sweep_one(order_id, unit_id, SupervisionCause.WHISTLE_MISSED, now) is not None
    return {"flagged": flagged, "supervised": issued}
