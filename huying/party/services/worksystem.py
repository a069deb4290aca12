"""The Party-building work system (书记领航, 四级动力轴, "四个一" of 2020): each level's yearly plan
(年度工作方案) with its measures list (措施清单), demonstration sites (示范点) and key projects
(重点项目); leaders' contact points (联系点) and their visits, whose problems can become work orders
the way co-building problems and studio visits do (`common.open_work_order`); and districts' joint
meetings (党建联席会议) with decisions tracked to done.

Who may do what is decided once, in `selectors_worksystem` (`may_edit_plan` …). Every change is
audited; progress reports are appended to their history, never edited.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import Unit, User
from huying.territory.models import Division, Level

from .. import selectors_worksystem as ws
from ..models import (
    ContactPoint,
    ContactVisit,
    DecisionStatus,
    DemonstrationSite,
    JointMeeting,
    KeyProject,
    MeetingAttendance,
    MeetingDecision,
    Milestone,
    PartyOrganisation,
    WorkMeasure,
    WorkPlan,
    WorkProgress,
    WorkStatus,
)
from .common import forbid, now_or, open_work_order

PLAN_LEVELS = (Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY)


def _required(value, field: str, message: str, limit: int, *, multiline: bool = False) -> str:
    value = clean_text(value, field=field, max_length=limit, multiline=multiline)
    if not value:
        raise DomainError("party.work.required", message, field=field)
    return value


def _optional(value, field: str, limit: int | None, *, multiline: bool = False) -> str:
    return clean_text(value, field=field, max_length=limit, multiline=multiline)


def _require_plan_editor(actor, plan: WorkPlan) -> None:
    if not ws.may_edit_plan(actor, plan):
        forbid(_("只有本党组织（或上级党组织）书记或组织部门可以编辑该工作方案。"))


def _progress_value(progress) -> int:
    try:
        progress = int(progress)
    except (TypeError, ValueError):
        raise DomainError("party.work.bad_progress", _("进度应为 0–100 的整数。"), field="progress") from None
    if not 0 <= progress <= 100:
        raise DomainError("party.work.bad_progress", _("进度应为 0–100 的整数。"), field="progress")
    return progress


# -- plans and what they hold ------------------------------------------------------------------
@transaction.atomic
def work_plan_create(*, organisation: PartyOrganisation, year: int, title: str, actor, summary: str = "",
                     now=None) -> WorkPlan:
    """A Party organisation's plan for a year; it covers the organisation's own territory."""
    now = now_or(now)
    division = organisation.division
    if division is None or division.level not in PLAN_LEVELS:
        raise DomainError("party.work.no_territory", _("该党组织没有所辖区划，不能制定年度工作方案。"),
                          field="organisation")
    plan = WorkPlan(organisation=organisation, division=division, year=int(year), created_at=now, created_by=actor,
                    title=_required(title, "title", _("请填写方案名称（不超过 120 字）。"), 120),
                    summary=_optional(summary, "summary", 4000, multiline=True))
    _require_plan_editor(actor, plan)
    if not 2000 <= plan.year <= 2100:
        raise DomainError("party.work.bad_year", _("年度无效。"), field="year")
    if WorkPlan.objects.filter(organisation=organisation, year=plan.year).exists():
        raise DomainError("party.work.plan_exists", _("该党组织本年度已有工作方案。"), field="year", status=409)
    plan.save()
    audit_log(plan, "party.work.plan_created", actor=actor, new={
        "organisation": organisation.unit.code, "division": division.code, "year": plan.year, "title": plan.title})
    return plan


@transaction.atomic
def work_plan_update(plan: WorkPlan, *, title: str, actor, summary: str = "") -> WorkPlan:
    plan = WorkPlan.objects.select_for_update(of=("self",)).select_related("organisation", "division").get(pk=plan.pk)
    _require_plan_editor(actor, plan)
    old = {"title": plan.title, "summary": plan.summary}
    plan.title = _required(title, "title", _("请填写方案名称（不超过 120 字）。"), 120)
    plan.summary = _optional(summary, "summary", 4000, multiline=True)
    plan.save(update_fields=["title", "summary"])
    audit_log(plan, "party.work.plan_changed", actor=actor, old=old, new={"title": plan.title, "summary": plan.summary})
    return plan


@transaction.atomic
def work_measure_add(plan: WorkPlan, *, item: str, due_on: date, actor, owner_unit: Unit | None = None,
                     owner_name: str = "") -> WorkMeasure:
    """Add a line to the plan's measures list (措施清单)."""
    _require_plan_editor(actor, plan)
    if due_on is None:
        raise DomainError("party.work.due_required", _("请填写完成时限。"), field="due_on")
    measure = WorkMeasure.objects.create(
        plan=plan, item=_required(item, "item", _("请填写措施内容（不超过 255 字）。"), 255), due_on=due_on,
        owner_unit=owner_unit, owner_name=_optional(owner_name, "owner_name", 60))
    audit_log(measure, "party.work.measure_added", actor=actor, new={
        "plan": plan.pk, "item": measure.item, "due_on": due_on.isoformat(),
        "owner_unit": owner_unit.code if owner_unit else None, "owner_name": measure.owner_name})
    return measure


@transaction.atomic
def demonstration_site_add(plan: WorkPlan, *, name: str, theme: str, designated_on: date, actor,
                           division: Division | None = None, organisation: PartyOrganisation | None = None,
                           rating: int | None = None) -> DemonstrationSite:
    """Name a demonstration site (示范点): a division or a Party organisation, with its theme."""
    _require_plan_editor(actor, plan)
    if (division is None) == (organisation is None):
        raise DomainError("party.work.site_target", _("示范点请选择一个区划或一个党组织（二选一）。"), field="division")
    if rating is not None and not 1 <= int(rating) <= 5:
        raise DomainError("party.work.bad_rating", _("星级为 1–5。"), field="rating")
    site = DemonstrationSite.objects.create(
        plan=plan, name=_required(name, "name", _("请填写示范点名称（不超过 120 字）。"), 120),
        theme=_required(theme, "theme", _("请填写示范主题（不超过 120 字）。"), 120), designated_on=designated_on,
        division=division, organisation=organisation, rating=int(rating) if rating is not None else None)
    audit_log(site, "party.work.site_added", actor=actor, new={
        "plan": plan.pk, "name": site.name, "theme": site.theme, "rating": site.rating,
        "division": division.code if division else None, "organisation": organisation.unit.code if organisation else None})
    return site


@transaction.atomic
def key_project_add(plan: WorkPlan, *, name: str, actor, owner_unit: Unit | None = None, owner_name: str = "",
                    budget=None, due_on: date | None = None) -> KeyProject:
    """Add a key project (重点项目); the budget (万元) is optional."""
    _require_plan_editor(actor, plan)
    if budget not in (None, ""):
        try:
            budget = Decimal(str(budget))
        except InvalidOperation:
            raise DomainError("party.work.bad_budget", _("预算应为数字（万元）。"), field="budget") from None
        if budget < 0:
            raise DomainError("party.work.bad_budget", _("预算不能为负数。"), field="budget")
    else:
        budget = None
    project = KeyProject.objects.create(
        plan=plan, name=_required(name, "name", _("请填写项目名称（不超过 120 字）。"), 120), owner_unit=owner_unit,
        owner_name=_optional(owner_name, "owner_name", 60), budget=budget, due_on=due_on)
    audit_log(project, "party.work.project_added", actor=actor, new={
        "plan": plan.pk, "name": project.name, "owner_unit": owner_unit.code if owner_unit else None,
        "budget": str(budget) if budget is not None else None, "due_on": due_on.isoformat() if due_on else None})
    return project


def _locked_target(target):
    model = type(target)
    return model.objects.select_for_update(of=("self",)).select_related("plan__organisation", "plan__division").get(
        pk=target.pk)


@transaction.atomic
def work_progress_report(target: WorkMeasure | KeyProject, *, progress, actor, note: str = "",
                         status: str | None = None, now=None):
    """Report progress on a measure or a key project: appended to its history and audited; 100% is done."""
    now = now_or(now)
    target = _locked_target(target)
    _require_plan_editor(actor, target.plan)
    if target.status in (WorkStatus.DONE, WorkStatus.DROPPED):
        raise DomainError("party.work.closed", _("该事项已完成或已终止。"), status=409)
    progress = _progress_value(progress)
    if progress < target.progress and status != WorkStatus.DROPPED:
        raise DomainError("party.work.progress_back", _("进度不能倒退；如需终止请选择“已终止”。"), field="progress")
    if not status:
        status = WorkStatus.DONE if progress == 100 else (WorkStatus.IN_PROGRESS if progress > 0 else WorkStatus.OPEN)
    elif status not in WorkStatus.values:
        raise DomainError("party.work.bad_status", _("状态无效。"), field="status")
    note = _optional(note, "note", 255)
    if status == WorkStatus.DROPPED and not note:
        raise DomainError("party.reason_required", _("终止请说明原因。"), field="note")
    old = {"progress": target.progress, "status": target.status}
    target.progress, target.status = progress, status
    target.save(update_fields=["progress", "status"])
    kind = "measure" if isinstance(target, WorkMeasure) else "project"
    WorkProgress.objects.create(**{kind: target}, progress=progress, status=status, note=note, at=now, by=actor)
    audit_log(target, f"party.work.{kind}_progress", actor=actor, old=old, new={"progress": progress, "status": status},
              reason=note)
    return target


@transaction.atomic
def milestone_add(target: WorkMeasure | KeyProject, *, title: str, due_on: date, actor) -> Milestone:
    """A dated step of a measure or a key project."""
    _require_plan_editor(actor, target.plan)
    if due_on is None:
        raise DomainError("party.work.due_required", _("请填写计划日期。"), field="due_on")
    kind = "measure" if isinstance(target, WorkMeasure) else "project"
    milestone = Milestone.objects.create(**{kind: target}, due_on=due_on,
                                         title=_required(title, "title", _("请填写节点（不超过 120 字）。"), 120))
    audit_log(milestone, "party.work.milestone_added", actor=actor, new={
        kind: target.pk, "title": milestone.title, "due_on": due_on.isoformat()})
    return milestone


@transaction.atomic
def milestone_done(milestone: Milestone, *, actor, done_on: date | None = None, now=None) -> Milestone:
    """Mark a milestone reached, on Beijing's date by default."""
    milestone = Milestone.objects.select_for_update(of=("self",)).select_related(
        "measure__plan__division", "project__plan__division").get(pk=milestone.pk)
    owner = milestone.measure or milestone.project
    _require_plan_editor(actor, owner.plan)
    if milestone.done_on is not None:
        raise DomainError("party.work.milestone_done", _("该节点已完成。"), status=409)
    milestone.done_on = done_on or ws.today(now)
    milestone.save(update_fields=["done_on"])
    audit_log(milestone, "party.work.milestone_done", actor=actor, old={"done_on": None},
              new={"done_on": milestone.done_on.isoformat()})
    return milestone


# -- leaders' contact points -------------------------------------------------------------------
@transaction.atomic
def contact_point_create(*, leader: User, division: Division, since: date, actor, post: str = "") -> ContactPoint:
    """A leader takes a contact point (联系点) at a street or community."""
    if division.level not in (Level.STREET, Level.COMMUNITY):
        raise DomainError("party.work.point_level", _("联系点设在街道或社区。"), field="division")
    if not (ws.may_edit_territory(actor, division) or (getattr(actor, "pk", None) == leader.pk
                                                      and ws.may_oversee(actor))):
        forbid(_("只有组织部门或联系领导本人可以建立联系点。"))
    if ContactPoint.objects.filter(leader=leader, division=division, active=True).exists():
        raise DomainError("party.work.point_exists", _("该领导已在此设有联系点。"), field="division", status=409)
    point = ContactPoint.objects.create(leader=leader, division=division, since=since, post=_optional(post, "post", 60))
    audit_log(point, "party.work.point_created", actor=actor, new={
        "leader": leader.username, "division": division.code, "since": since.isoformat(), "post": point.post})
    return point


@transaction.atomic
def contact_visit_record(point: ContactPoint, *, visited_on: date, visitors: str, actor, findings: str = "",
                         follow_ups: str = "", address: str = "", lng: float | None = None,
                         lat: float | None = None, now=None) -> ContactVisit:
    """Record a leader's visit to their contact point: who went, what they found, what follows."""
    now = now_or(now)
    if not ws.may_edit_point(actor, point):
        forbid(_("只有联系领导本人或组织部门可以登记走访。"))
    if visited_on is None or visited_on > ws.today(now):
        raise DomainError("party.work.visit_future", _("走访日期不能晚于今天。"), field="visited_on")
    if (lng is None) != (lat is None):
        raise DomainError("party.work.bad_point", _("请同时填写经度和纬度。"), field="lng")
    visit = ContactVisit.objects.create(
        point=point, visited_on=visited_on, recorded_at=now, recorded_by=actor,
        visitors=_required(visitors, "visitors", _("请填写参加人员（不超过 255 字）。"), 255),
        findings=_optional(findings, "findings", 4000, multiline=True),
        follow_ups=_optional(follow_ups, "follow_ups", 4000, multiline=True),
        address=_optional(address, "address", 255), lng=lng, lat=lat)
    audit_log(visit, "party.work.visit_recorded", actor=actor, new={
        "point": point.pk, "visited_on": visited_on.isoformat(), "visitors": visit.visitors})
    return visit


@transaction.atomic
def contact_visit_to_work_order(visit: ContactVisit, *, subject, actor, request_type=None, urgency=None,
                                now=None) -> ContactVisit:
    """Hand what a visit found to dispatch as a work order, in this same transaction (as co-building
    problems and studio visits do). Needs the findings and a place; dispatch's refusals come through."""
    now = now_or(now)
    visit = ContactVisit.objects.select_for_update(of=("self",)).select_related("point__division", "point__leader").get(
        pk=visit.pk)
    if not ws.may_edit_point(actor, visit.point):
        forbid(_("只有联系领导本人或组织部门可以转办。"))
    if visit.work_order_id:
        raise DomainError("party.work.visit_ordered", _("该走访已转为工单 %(code)s。") % {"code": visit.work_order_code},
                          status=409)
    if not visit.findings:
        raise DomainError("party.work.nothing_found", _("请先填写发现的问题。"), field="subject")
    title = visit.findings.splitlines()[0]
    order = open_work_order(
        subject=subject, request_type=request_type, urgency=urgency, title=title,
        description=_("【领导联系点·%(place)s】%(text)s") % {"place": visit.point.division.name, "text": visit.findings},
        key=f"party-contact-visit-{visit.pk}", lng=visit.lng, lat=visit.lat,
        address=visit.address, actor=actor, now=now)
    visit.work_order_id, visit.work_order_code = order.pk, order.code
    visit.save(update_fields=["work_order_id", "work_order_code"])
    audit_log(visit, "party.work.visit_to_order", actor=actor, new={"work_order": order.code})
    return visit


# -- joint meetings ----------------------------------------------------------------------------
@transaction.atomic
def joint_meeting_record(*, district: Division, title: str, held_on: date, actor, agenda=(), present=(),
                         absent=(), now=None) -> JointMeeting:
    """Record a district's joint meeting: agenda items and which member units came."""
    now = now_or(now)
    if district.level != Level.DISTRICT:
        raise DomainError("party.work.meeting_level", _("党建联席会议由区召开。"), field="district")
    meeting = JointMeeting(district=district, held_on=held_on, created_at=now, created_by=actor,
                           title=_required(title, "title", _("请填写会议名称（不超过 120 字）。"), 120))
    if not ws.may_edit_meeting(actor, meeting):
        forbid(_("只有组织部门或本区党委可以登记联席会议。"))
    if held_on is None or held_on > ws.today(now):
        raise DomainError("party.work.meeting_future", _("召开日期不能晚于今天。"), field="held_on")
    meeting.agenda = [a for a in (_optional(x, "agenda", 255) for x in agenda) if a]
    present, absent = list(present), list(absent)
    if {u.pk for u in present} & {u.pk for u in absent}:
        raise DomainError("party.work.attendance_clash", _("同一单位不能既出席又缺席。"), field="absent")
    meeting.save()
    MeetingAttendance.objects.bulk_create(
        [MeetingAttendance(meeting=meeting, unit=u, present=True) for u in present]
        + [MeetingAttendance(meeting=meeting, unit=u, present=False) for u in absent])
    audit_log(meeting, "party.work.meeting_recorded", actor=actor, new={
        "district": district.code, "title": meeting.title, "held_on": held_on.isoformat(), "agenda": meeting.agenda,
        "present": [u.code for u in present], "absent": [u.code for u in absent]})
    return meeting


@transaction.atomic
def meeting_decision_add(meeting: JointMeeting, *, text: str, owner_unit: Unit, due_on: date, actor
                         ) -> MeetingDecision:
    """A decision of the meeting (议定事项), with the unit that owns it and its due date."""
    if not ws.may_edit_meeting(actor, meeting):
        forbid(_("只有组织部门或本区党委可以登记议定事项。"))
    if owner_unit is None:
        raise DomainError("party.work.owner_required", _("请选择责任单位。"), field="owner_unit")
    if due_on is None:
        raise DomainError("party.work.due_required", _("请填写完成时限。"), field="due_on")
    decision = MeetingDecision.objects.create(
        meeting=meeting, owner_unit=owner_unit, due_on=due_on,
        text=_required(text, "text", _("请填写议定事项（不超过 255 字）。"), 255))
    audit_log(decision, "party.work.decision_added", actor=actor, new={
        "meeting": meeting.pk, "text": decision.text, "owner_unit": owner_unit.code, "due_on": due_on.isoformat()})
    return decision


@transaction.atomic
def meeting_decision_done(decision: MeetingDecision, *, actor, note: str = "", done_on: date | None = None,
                          now=None) -> MeetingDecision:
    """The decision is carried out (已落实), on Beijing's date by default."""
    decision = MeetingDecision.objects.select_for_update(of=("self",)).select_related("meeting__district").get(
        pk=decision.pk)
    if not ws.may_close_decision(actor, decision):
        forbid(_("只有责任单位、组织部门或本区党委可以登记落实情况。"))
    if decision.status == DecisionStatus.DONE:
        raise DomainError("party.work.decision_done", _("该事项已落实。"), status=409)
    on = done_on or ws.today(now)
    if on > ws.today(now):
        raise DomainError("party.work.done_future", _("落实日期不能晚于今天。"), field="done_on")
    decision.status, decision.done_on, decision.done_by = DecisionStatus.DONE, on, actor
    decision.done_note = _optional(note, "note", 255)
    decision.save(update_fields=["status", "done_on", "done_by", "done_note"])
    audit_log(decision, "party.work.decision_done", actor=actor, old={"status": DecisionStatus.OPEN},
              new={"status": decision.status, "done_on": on.isoformat()}, reason=decision.done_note)
    return decision
