"""Volunteer registration and setup pages (志愿者登记、组建队伍、登记河段), phone width.

A resident registers themself in a team of their community or street; a team's leader or its
committee registers people, sees the newest registrations and records river stretches; community or
street staff set up new teams. Another community's team answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from huying.core.errors import DomainError
from huying.people.models import User

from . import selectors_volunteers as sel
from . import volunteers as svc
from .models import TeamType, VolunteerTeam


def _status(error) -> int:
    return error.status if error is not None else 200


@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    """A resident registers as a volunteer: skills, availability, a team of their community or street, consent."""
    teams = sel.teams_open_to(request.user)
    error = None
    if request.method == "POST":
        team = next((t for t in teams if str(t.pk) == request.POST.get("team", "")), None)
        if team is None:
            raise Http404(_("找不到该队伍。"))
        try:
            svc.volunteer_self_register(team, user=request.user, skills=request.POST.get("skills", ""),
                                        availability=request.POST.get("availability", ""),
                                        consent=request.POST.get("consent") == "on")
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("登记成功，您已加入%(team)s。") % {"team": team.unit.name})
            return redirect("community:volunteers")
    mine = {t.pk for t in sel.my_teams(request.user)}
    return render(request, "community/volunteers/register.html", {
        "teams": teams, "mine": mine, "error": error, "post": request.POST,
        "chosen": request.POST.get("team", request.GET.get("team", ""))}, status=_status(error))


@login_required
@require_http_methods(["GET", "POST"])
def setup_index(request):
    """Teams this person runs, and (for community or street staff) the form to set up a new team."""
    parents = sel.staff_units(request.user)
    teams = sel.led_teams(request.user)
    if not parents and not teams:
        raise PermissionDenied(_("此页面供志愿服务队队长和社区（街道）工作人员使用。"))
    error = None
    if request.method == "POST":
        parent = next((p for p in parents if str(p.pk) == request.POST.get("parent", "")), None)
        if parent is None:
            raise Http404(_("找不到该单位。"))
        try:
            team = svc.volunteer_team_create(parent, name=request.POST.get("name", ""),
                                             team_type=request.POST.get("team_type", ""),
                                             leader_who=request.POST.get("leader", ""), actor=request.user)
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("已组建：%(name)s") % {"name": team.unit.name})
            return redirect("community:volunteers_setup_team", pk=team.pk)
    return render(request, "community/volunteers/setup_index.html", {
        "parents": parents, "teams": teams, "types": TeamType.choices, "error": error, "post": request.POST},
        status=_status(error))


def _managed_team(request, pk: int) -> VolunteerTeam:
    team = get_object_or_404(VolunteerTeam.objects.select_related("unit__parent", "leader"), pk=pk)
    if not svc.can_manage_team(request.user, team):
        raise Http404(_("找不到该队伍。"))
    return team


@login_required
@require_http_methods(["GET", "POST"])
def setup_team(request, pk: int):
    """A team's registrations (newest first), registering a person, removing one, and its river stretches."""
    team = _managed_team(request, pk)
    is_river = team.team_type == TeamType.RIVER_CHIEFS
    error, form = None, request.POST.get("form", "")
    if request.method == "POST":
        p = request.POST
        try:
            if form == "enrol":
                profile = svc.volunteer_enrol(team, actor=request.user, who=p.get("who", ""),
                                              display_name=p.get("display_name", ""), phone=p.get("phone", ""),
                                              skills=p.get("skills", ""), availability=p.get("availability", ""))
                done = _("已登记：%(name)s") % {"name": profile.user.display_name or profile.user.username}
            elif form == "stretch" and is_river:
                stretch = svc.river_stretch_setup(team, name=p.get("name", ""), grid_ids=p.getlist("grids"),
                                                  actor=request.user)
                done = _("已登记河段：%(name)s") % {"name": stretch.name}
            elif form == "remove":
                user = get_object_or_404(User, pk=p.get("user") if str(p.get("user", "")).isdigit() else 0)
                svc.volunteer_remove(team, user=user, actor=request.user, reason=p.get("reason", ""))
                done = _("已将 %(name)s 移出本队。") % {"name": user.display_name or user.username}
            else:
                raise Http404(_("找不到该操作。"))
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, done)
            return redirect("community:volunteers_setup_team", pk=team.pk)
    return render(request, "community/volunteers/setup_team.html", {
        "team": team, "rows": sel.team_registrations(team, actor=request.user), "is_river": is_river,
        "stretches": sel.stretches_for(team) if is_river else [], "grids": sel.grids_for(team) if is_river else [],
        "error": error, "form": form, "post": request.POST,
        "chosen_grids": request.POST.getlist("grids")}, status=_status(error))
