"""Pages of the Party-building work system (书记领航): the roll-up by district for the organisation
department, one district's drill-down, a plan with its measures, sites and projects, a leader's
contact point with its visits, and a joint meeting with its decisions.

Same shape as `views`: parse, call one service or selector, render; a refusal goes next to its field.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from huying.core.errors import DomainError
from huying.core.paging import paged
from huying.people.models import User
from huying.territory.models import Division, Level

from . import selectors_worksystem as ws
from . import services as s
from .forms import VisitToOrderForm
from .forms_worksystem import (
    DecisionDoneForm,
    DecisionForm,
    MeasureForm,
    MeetingForm,
    MilestoneForm,
    PlanEditForm,
    PlanForm,
    PointForm,
    ProgressForm,
    ProjectForm,
    SiteForm,
    VisitRecordForm,
)
from .models import DecisionStatus, KeyProject, MeetingDecision, Milestone, PartyOrganisation, WorkMeasure
from .views import _refuse, _run


def _unit(value, field):
    if not (value or "").strip():
        return None
    unit = ws.unit_lookup(value)
    if unit is None:
        raise DomainError("party.work.unit_unknown", _("找不到该单位，请填写准确的名称或编码。"), field=field)
    return unit


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _forbidden(request, message):
    return _refuse(request, DomainError("party.forbidden", message, status=403))


def _decision_done(request, actor, target):
    """The shared `decision_done` action of the district and meeting pages."""
    decision = MeetingDecision.objects.select_related("meeting__district").filter(pk=target or 0).first()
    if decision is None or ws.meeting_get(actor, decision.meeting_id) is None:
        return _refuse(request, DomainError("party.work.decision_unknown", _("找不到该议定事项。"), status=404))
    form = DecisionDoneForm(request.POST, prefix=f"dd-{decision.pk}")
    return _run(request, form, lambda d: s.meeting_decision_done(decision, note=d["note"], actor=actor),
                success=_("已登记落实。"))


# -- the work system's home: the roll-up by district ---------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def work_home(request):
    """党建工作体系: the districts side by side (organisation department, leaders), the city's plans,
    the plans of the person's own organisations, their contact points; a new plan."""
    actor = request.user
    oversee = ws.may_oversee(actor)
    orgs = list(ws.plan_organisations(actor)[:500])
    plans = ws.plans_visible(actor)
    points = ws.points_visible(actor)
    if not (oversee or orgs or points.exists()):
        return render(request, "party/work_home.html", {"denied": True}, status=403)
    year = timezone.localdate().year
    forms = {"plan": PlanForm(prefix="plan", organisations=orgs, initial={"year": year}),
             "point": PointForm(prefix="pt", initial={"since": timezone.localdate()})}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "plan" and orgs:
            forms["plan"] = form = PlanForm(request.POST, prefix="plan", organisations=orgs)
            made = {}

            def create(d):
                made["plan"] = s.work_plan_create(organisation=form.organisations[d["organisation"]], year=d["year"],
                                                  title=d["title"], summary=d["summary"], actor=actor)

            status = _run(request, form, create, success=_("年度工作方案已建立。"))
            if status is None:
                return redirect("party:work_plan", made["plan"].pk)
        elif action == "point" and oversee:
            forms["point"] = form = PointForm(request.POST, prefix="pt")

            def create_point(d):
                leader = User.objects.filter(username=d["leader"].strip(), is_active=True).first()
                if leader is None:
                    raise DomainError("party.work.leader_unknown", _("找不到该登录名。"), field="leader")
                division = Division.objects.filter(code=d["division_code"].strip()).first()
                if division is None:
                    raise DomainError("party.work.division_unknown", _("找不到该区划代码。"), field="division")
                s.contact_point_create(leader=leader, division=division, since=d["since"], post=d["post"], actor=actor)

            status = _run(request, form, create_point, success=_("联系点已建立。"))
        else:
            status = 400
        if status is None:
            return redirect(request.get_full_path())
    return render(request, "party/work_home.html", {
        "oversee": oversee, "rollup": ws.district_rollup(actor) if oversee else [],
        "city_plans": ws.city_plans(actor) if oversee else [], "forms": forms, "may_plan": bool(orgs),
        "may_point": oversee,
        "plans": paged(request, plans.order_by("-year", "division__code")),
        "points": points.order_by("division__code")[:100]}, status=status)


# -- one district ------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def work_district(request, code: str):
    """One district: its plans (and its streets' and communities'), sites, projects, contact points,
    joint meetings with their decisions — marked done here."""
    actor = request.user
    district = Division.objects.filter(code=code, level=Level.DISTRICT).first()
    if district is None or not ws.districts_overseen(actor).filter(pk=district.pk).exists():
        raise Http404(_("找不到该区，或您无权查看。"))
    from .models import JointMeeting

    probe = JointMeeting(district=district)
    may_meet = ws.may_edit_meeting(actor, probe)
    forms = {"meeting": MeetingForm(prefix="mt", initial={"held_on": timezone.localdate()})}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "decision_done":
            status = _decision_done(request, actor, request.POST.get("target"))
        elif action == "meeting" and may_meet:
            forms["meeting"] = form = MeetingForm(request.POST, prefix="mt")
            made = {}

            def record(d):
                present = [_unit(v, "present") for v in _lines(d["present"])]
                absent = [_unit(v, "absent") for v in _lines(d["absent"])]
                made["meeting"] = s.joint_meeting_record(
                    district=district, title=d["title"], held_on=d["held_on"], agenda=_lines(d["agenda"]),
                    present=present, absent=absent, actor=actor)

            status = _run(request, form, record, success=_("联席会议已登记，请添加议定事项。"))
            if status is None:
                return redirect("party:work_meeting", made["meeting"].pk)
        else:
            status = 400
        if status is None:
            return redirect(request.get_full_path())
    detail = ws.district_detail(actor, district)
    row = next((r for r in ws.district_rollup(actor) if r.district.pk == district.pk), None)
    return render(request, "party/work_district.html", {
        "district": district, "row": row, "may_meet": may_meet, "forms": forms, **detail}, status=status)


# -- a plan ------------------------------------------------------------------------------------
def _target(model, pk, plan):
    obj = model.objects.filter(pk=pk or 0, plan=plan).first()
    if obj is None:
        raise DomainError("party.work.unknown", _("找不到该事项。"), status=404)
    return obj


def _plan_action(request, actor, plan, forms):
    action = request.POST.get("action")
    target = request.POST.get("target")
    if action == "edit":
        forms["edit"] = form = PlanEditForm(request.POST, prefix="ed")
        return _run(request, form, lambda d: s.work_plan_update(plan, actor=actor, **d), success=_("方案已保存。"))
    if action == "measure":
        forms["measure"] = form = MeasureForm(request.POST, prefix="me")
        return _run(request, form, lambda d: s.work_measure_add(
            plan, item=d["item"], due_on=d["due_on"], owner_unit=_unit(d["owner_unit"], "owner_unit"),
            owner_name=d["owner_name"], actor=actor), success=_("措施已加入清单。"))
    if action == "site":
        forms["site"] = form = SiteForm(request.POST, prefix="si")

        def add_site(d):
            division = organisation = None
            if d["division_code"].strip():
                division = Division.objects.filter(code=d["division_code"].strip()).first()
                if division is None:
                    raise DomainError("party.work.division_unknown", _("找不到该区划代码。"), field="division")
            if d["organisation"].strip():
                unit = _unit(d["organisation"], "organisation")
                organisation = PartyOrganisation.objects.filter(unit=unit).first()
                if organisation is None:
                    raise DomainError("party.work.not_party", _("该单位不是党组织。"), field="organisation")
            s.demonstration_site_add(plan, name=d["name"], theme=d["theme"], designated_on=d["designated_on"],
                                     division=division, organisation=organisation, rating=d["rating"], actor=actor)

        return _run(request, form, add_site, success=_("示范点已加入。"))
    if action == "project":
        forms["project"] = form = ProjectForm(request.POST, prefix="pj")
        return _run(request, form, lambda d: s.key_project_add(
            plan, name=d["name"], owner_unit=_unit(d["owner_unit"], "owner_unit"), owner_name=d["owner_name"],
            budget=d["budget"], due_on=d["due_on"], actor=actor), success=_("重点项目已加入。"))
    if action in ("measure_progress", "project_progress", "measure_milestone", "project_milestone"):
        kind, what = action.split("_")
        try:
            obj = _target(WorkMeasure if kind == "measure" else KeyProject, target, plan)
        except DomainError as exc:
            return _refuse(request, exc)
        prefix = f"{kind[0]}{what[0]}-{obj.pk}"
        if what == "progress":
            form = ProgressForm(request.POST, prefix=prefix)
            forms["bound"] = (action, obj.pk, form)
            return _run(request, form, lambda d: s.work_progress_report(
                obj, progress=d["progress"], status=d["status"] or None, note=d["note"], actor=actor),
                success=_("进展已更新。"))
        form = MilestoneForm(request.POST, prefix=prefix)
        forms["bound"] = (action, obj.pk, form)
        return _run(request, form, lambda d: s.milestone_add(obj, title=d["title"], due_on=d["due_on"], actor=actor),
                    success=_("节点已加入。"))
    if action == "milestone_done":
        ms = Milestone.objects.filter(pk=target or 0).select_related("measure", "project").first()
        if ms is None or (ms.measure or ms.project).plan_id != plan.pk:
            return _refuse(request, DomainError("party.work.unknown", _("找不到该事项。"), status=404))
        try:
            s.milestone_done(ms, actor=actor)
        except DomainError as exc:
            return _refuse(request, exc)
        return None
    return 400


@login_required
@require_http_methods(["GET", "POST"])
def work_plan(request, pk: int):
    """A plan: its measures list with milestones and progress, demonstration sites, key projects."""
    actor = request.user
    plan = ws.plan_get(actor, pk)
    if plan is None:
        raise Http404(_("找不到该工作方案，或您无权查看。"))
    may_edit = ws.may_edit_plan(actor, plan)
    forms = {"edit": PlanEditForm(prefix="ed", initial={"title": plan.title, "summary": plan.summary}),
             "measure": MeasureForm(prefix="me"), "site": SiteForm(prefix="si", initial={
                 "designated_on": timezone.localdate()}), "project": ProjectForm(prefix="pj")}
    status = 200
    if request.method == "POST":
        if not may_edit:
            status = _forbidden(request, _("只有本党组织（或上级党组织）书记或组织部门可以编辑该工作方案。"))
        else:
            status = _plan_action(request, actor, plan, forms)
            if status is None:
                return redirect(request.get_full_path())
        plan.refresh_from_db()
    detail = ws.plan_detail(plan)
    bound = forms.get("bound")
    if may_edit:
        for kind, rows in (("measure", detail["measures"]), ("project", detail["projects"])):
            for row in rows:
                for what in ("progress", "milestone"):
                    prefix, act = f"{kind[0]}{what[0]}-{row.pk}", f"{kind}_{what}"
                    if bound and bound[0] == act and bound[1] == row.pk:
                        f = bound[2]
                    elif what == "progress":
                        f = ProgressForm(prefix=prefix, initial={"progress": row.progress})
                    else:
                        f = MilestoneForm(prefix=prefix)
                    setattr(row, f"{what}_form", f)
    return render(request, "party/work_plan.html", {
        "plan": plan, "may_edit": may_edit, "forms": forms, **detail}, status=status or 200)


# -- a contact point ---------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def work_point(request, pk: int):
    """A leader's contact point: the visits, each with what was found and the work order it raised."""
    actor = request.user
    point = ws.point_get(actor, pk)
    if point is None:
        raise Http404(_("找不到该联系点，或您无权查看。"))
    may_edit = ws.may_edit_point(actor, point)
    forms = {"visit": VisitRecordForm(prefix="vi", initial={"visited_on": timezone.localdate()}),
             "order": VisitToOrderForm()}
    order_target = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if not may_edit:
            status = _forbidden(request, _("只有联系领导本人或组织部门可以登记走访。"))
        elif action == "visit":
            forms["visit"] = form = VisitRecordForm(request.POST, prefix="vi")
            status = _run(request, form, lambda d: s.contact_visit_record(point, actor=actor, **d),
                          success=_("走访已登记。"))
        elif action == "order":
            visit = point.visits.filter(pk=request.POST.get("target") or 0).first()
            if visit is None:
                status = _refuse(request, DomainError("party.work.unknown", _("找不到该走访。"), status=404))
            else:
                forms["order"] = form = VisitToOrderForm(request.POST)
                order_target = visit.pk
                status = _run(request, form, lambda d: s.contact_visit_to_work_order(
                    visit, subject=d["subject"], request_type=d["request_type"] or None, actor=actor),
                    success=_("已转为工单。"))
        else:
            status = 400
        if status is None:
            return redirect(request.get_full_path())
    visits = ws.point_visits(point)
    return render(request, "party/work_point.html", {
        "point": point, "may_edit": may_edit, "forms": forms, "visits": visits, "order_target": order_target,
        "orderable": [v for v in visits if not v.work_order_id and v.findings]}, status=status or 200)


# -- a joint meeting ---------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def work_meeting(request, pk: int):
    """A joint meeting: agenda, attendance, decisions with their owners and dates, marked done."""
    actor = request.user
    meeting = ws.meeting_get(actor, pk)
    if meeting is None:
        raise Http404(_("找不到该会议，或您无权查看。"))
    may_edit = ws.may_edit_meeting(actor, meeting)
    forms = {"decision": DecisionForm(prefix="de")}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "decision_done":
            status = _decision_done(request, actor, request.POST.get("target"))
        elif action == "decision" and may_edit:
            forms["decision"] = form = DecisionForm(request.POST, prefix="de")
            status = _run(request, form, lambda d: s.meeting_decision_add(
                meeting, text=d["text"], owner_unit=_unit(d["owner_unit"], "owner_unit"), due_on=d["due_on"],
                actor=actor), success=_("议定事项已登记。"))
        else:
            status = 400 if may_edit else _forbidden(request, _("只有组织部门或本区党委可以登记议定事项。"))
        if status is None:
            return redirect(request.get_full_path())
    on = ws.today()
    decisions = list(meeting.decisions.select_related("owner_unit"))
    for d in decisions:
        d.overdue = ws.decision_overdue(d, on)
        d.may_close = d.status == DecisionStatus.OPEN and ws.may_close_decision(actor, d)
    return render(request, "party/work_meeting.html", {
        "meeting": meeting, "may_edit": may_edit, "forms": forms, "decisions": decisions,
        "attendance": meeting.attendance.select_related("unit"),
        "may_drill": ws.districts_overseen(actor).filter(pk=meeting.district_id).exists()}, status=status or 200)
