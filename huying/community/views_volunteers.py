"""Volunteer pages (志愿者, phone width): the volunteer's home (my teams, activities to sign up, my
hours, my patrols), the patrol form (巡河 / 街坊巡查), and the team leader's page (activities, the
check-in list). Each page checks the user's own teams; another team's pages answer 404.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from huying.core.errors import DomainError

from . import selectors_volunteers as sel
from . import volunteers as svc
from .models import ActivitySignup, PatrolKind, TeamType, VolunteerActivity

FINDING_ROWS = 3


@login_required
@require_GET
def home(request):
    """The volunteer's home: teams, activities to sign up for, hours, patrols filed."""
    teams = sel.my_teams(request.user)
    return render(request, "community/volunteers/home.html", {
        "teams": teams, "activities": sel.open_activities(request.user), "hours": sel.hours_total(user=request.user),
        "patrols": sel.my_patrols(request.user), "led": sel.led_teams(request.user),
        "can_setup": bool(sel.staff_units(request.user))})


@login_required
@require_POST
def sign_up(request, pk: int):
    activity = get_object_or_404(VolunteerActivity.objects.select_related("team"), pk=pk)
    if activity.team not in sel.my_teams(request.user):
        raise Http404(_("找不到该活动。"))
    try:
        svc.activity_sign_up(activity, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("报名成功：%(title)s") % {"title": activity.title})
    return redirect("community:volunteers")


@login_required
@require_http_methods(["GET", "POST"])
def patrol_new(request):
    """File a patrol: a river chief on a stretch, a neighbourhood watch on a grid; problems become work orders."""
    teams = sel.my_teams(request.user)
    if not teams:
        return render(request, "community/volunteers/patrol.html", {"teams": []})
    team = next((t for t in teams if str(t.pk) == request.POST.get("team", request.GET.get("team", ""))), teams[0])
    kind = PatrolKind.RIVER if team.team_type == TeamType.RIVER_CHIEFS else PatrolKind.WATCH
    stretches = sel.stretches_for(team) if kind == PatrolKind.RIVER else []
    grids = sel.grids_for(team) if kind == PatrolKind.WATCH else []
    error = None
    if request.method == "POST":
        stretch = next((s for s in stretches if str(s.pk) == request.POST.get("stretch")), None)
        grid = next((g for g in grids if str(g.pk) == request.POST.get("grid")), None)
        findings = [{"description": request.POST.get(f"f{i}-description", ""),
                     "is_problem": request.POST.get(f"f{i}-problem") == "on",
                     "subject": request.POST.get(f"f{i}-subject", "")} for i in range(FINDING_ROWS)]
        try:
            patrol = svc.patrol_file(team, patroller=request.user, kind=kind, stretch=stretch, grid=grid,
                                     note=request.POST.get("note", ""), findings=findings)
        except DomainError as exc:
            error = exc
        else:
            codes = [f.work_order_code for f in patrol.findings.all() if f.work_order_code]
            if codes:
                messages.success(request, _("巡查已上报，问题已转为工单：%(codes)s") % {"codes": "、".join(codes)})
            else:
                messages.success(request, _("巡查已上报，未发现需处置的问题。"))
            return redirect("community:volunteers")
    return render(request, "community/volunteers/patrol.html", {
        "teams": teams, "team": team, "kind": kind, "stretches": stretches, "grids": grids, "error": error,
        "rows": range(FINDING_ROWS), "subjects": list(svc.FINDING_SUBJECTS.items()),
        "default_subject": svc.DEFAULT_SUBJECT[kind], "post": request.POST})


def _parse_dt(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return timezone.make_aware(dt) if timezone.is_naive(dt) else dt


@login_required
@require_http_methods(["GET", "POST"])
def lead(request):
    """The team leader's page: the teams they run, their activities, the roster; publish an activity."""
    teams = sel.led_teams(request.user)
    if not teams:
        raise PermissionDenied(_("此页面供志愿服务队队长和所属社区工作人员使用。"))
    error = None
    if request.method == "POST":
        team = next((t for t in teams if str(t.pk) == request.POST.get("team")), None)
        if team is None:
            raise Http404(_("找不到该队伍。"))
        starts, ends = _parse_dt(request.POST.get("starts_at")), _parse_dt(request.POST.get("ends_at"))
        try:
            if starts is None or ends is None:
                raise DomainError("community.activity.bad_time", _("请填写开始和结束时间。"), field="starts_at")
            svc.volunteer_activity_create(team, title=request.POST.get("title", ""), place=request.POST.get("place", ""),
                                          starts_at=starts, ends_at=ends, capacity=request.POST.get("capacity"),
                                          actor=request.user)
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("活动已发布。"))
            return redirect("community:volunteers_lead")
    rows = [{"team": t, "activities": sel.team_activities(t), "roster": sel.team_roster(t, actor=request.user),
             "hours": sel.hours_total(team=t)} for t in teams]
    return render(request, "community/volunteers/lead.html", {"rows": rows, "teams": teams, "error": error,
                                                                "post": request.POST})


@login_required
@require_http_methods(["GET", "POST"])
def activity(request, pk: int):
    """An activity's check-in list (签到表): the leader checks volunteers in and out."""
    activity = get_object_or_404(VolunteerActivity.objects.select_related("team__unit"), pk=pk)
    if not svc.can_manage_team(request.user, activity.team):
        raise Http404(_("找不到该活动。"))
    if request.method == "POST":
        signup = get_object_or_404(ActivitySignup, pk=request.POST.get("signup"), activity=activity)
        try:
            if request.POST.get("action") == "out":
                signup = svc.signup_check_out(signup, actor=request.user)
                messages.success(request, _("已签退，计入 %(h)s 小时。") % {"h": signup.hours})
            else:
                svc.signup_check_in(signup, actor=request.user)
                messages.success(request, _("已签到。"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("community:volunteers_activity", pk=activity.pk)
    return render(request, "community/volunteers/activity.html", {
        "activity": activity, "signups": sel.activity_checkin_list(activity, actor=request.user)})
