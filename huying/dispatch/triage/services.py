"""Triage (人工分拨) of orders the classifier was not sure about, and the corrections it leaves.

An operator or dispatcher confirms or corrects the family (and optionally a finer subject), then
dispatches the order — to the mapped department, the routed unit or a unit they pick — or rejects
it. Operators may dispatch here although the dispatcher's board is not theirs: triage finishes the
intake they would otherwise have done with a named unit (受理即派), so it is allowed to the same
roles as naming a unit at intake.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import RoleCode

from ..models import State, Subject, Transition, WorkOrder
from ..services import work_order_change_subject, work_order_reject
from ..services.common import lock_order, now_or, require_dispatcher, unit_level
from ..services.intake import subject_resolve
from ..services.lifecycle import dispatch_to
from . import selectors
from .models import Classification, ClassifierCorrection, Label, LabelRoute


def _label(label) -> str:
    label = str(label or "").strip()
    if label not in Label.values:
        raise DomainError("dispatch.triage_bad_label", _("请选择七个类别之一。"), field="label")
    return label


def correction_record(order: WorkOrder, label: str, *, actor, now, source: str) -> ClassifierCorrection | None:
    """Record that the order's family is now `label`, if that differs from what was last said about it.

    Nothing for an order the classifier never read. An order corrected and then set back to the
    prediction gets a row too (corrected = predicted), so its latest row is always the final word.
    """
    c = Classification.objects.filter(order_id=order.pk).only("label").first()
    if c is None:
        return None
    latest = (ClassifierCorrection.objects.filter(order_id=order.pk).order_by("-at", "-id")
              .values_list("corrected", flat=True).first())
    if label == (latest or c.label):
        return None
    row = ClassifierCorrection.objects.create(order_id=order.pk, predicted=c.label, corrected=label, source=source,
                                              by=actor if getattr(actor, "pk", None) else None, at=now)
    audit_log(row, "dispatch.classifier.corrected", actor=actor,
              data={"order_id": order.pk, "predicted": c.label, "corrected": label, "source": source})
    return row


def correction_after_subject_change(order_id: int) -> None:
    """A subject change that moves the order into another family's subjects is a correction."""
    if not Classification.objects.filter(order_id=order_id).exists():
        return  # the classifier never read it: nothing to correct
    order = WorkOrder.objects.filter(pk=order_id).select_related("subject").first()
    if order is None:
        return
    label = selectors.label_for_subject(order.subject.code)
    if label is None:
        return
    step = (Transition.objects.filter(order_id=order_id, action="subject_changed").order_by("-at", "-id")
            .select_related("actor").first())
    correction_record(order, label, actor=step.actor if step else None, now=step.at if step else now_or(None),
                      source=ClassifierCorrection.Source.SUBJECT_CHANGE)


def _awaiting(order: WorkOrder) -> Classification:
    c = Classification.objects.select_for_update().filter(order_id=order.pk).first()
    if c is None or not c.needs_triage or order.state != State.SUBMITTED:
        raise DomainError("dispatch.triage_done", _("该工单不在待分拨队列中（可能已被他人处理），请刷新。"), status=409)
    return c


def _subject_for(label: str, subject) -> tuple[Subject, LabelRoute | None]:
    route = LabelRoute.objects.filter(label=label, active=True).select_related("subject", "department").first()
    if subject not in (None, ""):
        chosen = subject_resolve(subject)
        family = selectors.label_for_subject(chosen.code)
        if family is not None and family != label:
            raise DomainError("dispatch.triage_subject_mismatch",
                              _("所选事项分类属于“%(family)s”，与所选类别“%(label)s”不符。")
                              % {"family": family, "label": label}, field="subject")
        return chosen, route
    if route is None or not route.subject.active:
        raise DomainError("dispatch.subject_required", _("该类别没有启用的分类映射，请填写事项分类。"), field="subject")
    return route.subject, route


def _finish(c: Classification, *, actor, now, label: str, outcome: str) -> None:
    c.needs_triage = False
    c.triaged_at, c.triaged_by = now, actor if getattr(actor, "pk", None) else None
    c.final_label, c.outcome = label, outcome
    c.save(update_fields=["needs_triage", "triaged_at", "triaged_by", "final_label", "outcome"])
    audit_log(c, f"dispatch.triage.{outcome}", actor=actor,
              data={"order_id": c.order_id, "predicted": c.label, "label": label})


@transaction.atomic
def triage_dispatch(order, *, actor, label, subject=None, unit=None, reason: str = "", version: int | None = None,
                    now=None) -> WorkOrder:
    """Confirm or correct the family (and subject) of an order awaiting triage and dispatch it.

    Without `unit` it goes to the family's mapped department, else to the routed unit; another
    unit than that proposal needs `reason`, as at the dispatcher's board.
    """
    now = now_or(now)
    label = _label(label)
    reason = clean_text(reason, field="reason", max_length=255, multiline=True)  # Assignment.override_reason
    order = lock_order(order, version=version)
    require_dispatcher(actor, order, RoleCode.OPERATOR, RoleCode.DISPATCHER)
    c = _awaiting(order)
    chosen, route = _subject_for(label, subject)
    # First the correction, then the subject change: its own receiver then finds nothing new to record.
    correction_record(order, label, actor=actor, now=now, source=ClassifierCorrection.Source.TRIAGE)
    if chosen.pk != order.subject_id:
        order = work_order_change_subject(order, actor=actor, subject=chosen, now=now,
                                          reason=_("人工分拨：%(label)s") % {"label": label})
    department = route.department if route is not None and route.department_id and route.department.active else None
    proposed = department.pk if department is not None else order.proposed_unit_id
    if unit not in (None, ""):
        target = selectors.unit_candidates(order).filter(pk=getattr(unit, "pk", unit)).first()
        if target is None:
            raise DomainError("dispatch.unit_not_here", _("所选承办单位不负责该位置，请另选单位。"), field="unit")
    elif proposed is None:
        raise DomainError("dispatch.no_route", _("未能自动确定承办单位，请选择承办单位。"), field="unit")
    else:
        target = None
    target_id = target.pk if target is not None else proposed
    override = ""
    if target_id != proposed:
        if not reason:
            raise DomainError("dispatch.override_reason_required", _("改变系统建议的承办单位时，请填写理由。"),
                              field="reason")
        override = reason
    if department is not None and target_id == department.pk:
        level, cohandlers = "department", []
    elif target is None:
        level, cohandlers = (order.routing or {}).get("level", ""), list((order.routing or {}).get("cohandler_ids") or [])
    else:
        level, cohandlers = unit_level(target), []
    order = dispatch_to(order, unit_id=target_id, cohandler_ids=cohandlers, level=level, actor=actor, now=now,
                        note=reason, override_reason=override)
    _finish(c, actor=actor, now=now, label=label, outcome=Classification.Outcome.DISPATCHED)
    return order


@transaction.atomic
def triage_reject(order, *, actor, reason: str, label=None, version: int | None = None, now=None) -> WorkOrder:
    """Reject (不予受理) an order awaiting triage; a family given with it is kept as a correction."""
    now = now_or(now)
    label = _label(label) if label not in (None, "") else ""
    order = lock_order(order, version=version)
    require_dispatcher(actor, order, RoleCode.OPERATOR, RoleCode.DISPATCHER)
    c = _awaiting(order)
    if label:
        correction_record(order, label, actor=actor, now=now, source=ClassifierCorrection.Source.TRIAGE)
    order = work_order_reject(order, actor=actor, reason=reason, now=now)
    _finish(c, actor=actor, now=now, label=label, outcome=Classification.Outcome.REJECTED)
    return order


@transaction.atomic
def label_route_set(label, *, subject, actor, department=None, active: bool = True) -> LabelRoute:
    """Map a family to a subject (and optionally a department); audited like an admin edit."""
    label = _label(label)
    chosen = subject if isinstance(subject, Subject) else Subject.objects.filter(code=str(subject)).first()
    if chosen is None:
        raise DomainError("dispatch.unknown_subject", _("事项分类“%(code)s”不存在。") % {"code": subject},
                          field="subject")
    route = LabelRoute.objects.select_for_update().filter(label=label).first()
    old = None
    if route is None:
        route = LabelRoute(label=label)
    else:
        old = {"subject": route.subject_id, "department": route.department_id, "active": route.active}
    route.subject = chosen
    route.department_id = getattr(department, "pk", department)
    route.active = bool(active)
    route.save()
    audit_log(route, "dispatch.label_route.changed" if old else "dispatch.label_route.created", actor=actor, old=old,
              new={"subject": route.subject_id, "department": route.department_id, "active": route.active})
    return route
