"""Deliberation hall pages (议事厅): the resident's phone page of their community's hall (matters,
meetings, votes and results; cast a ballot), and the convener's page that runs the hall.

Scope is checked on every page (selectors_halls): another community's hall answers 404.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from huying.core.errors import DomainError
from huying.people.models import User

from . import halls as svc
from . import selectors_halls as sel
from .models import Choice, Dispute, Hall, Matter, Meeting, ResolutionTask, Vote


def _vote_rows(hall: Hall, user) -> list[dict]:
    mine = sel.my_ballots(user, hall)
    voter = sel.voter_of(user, hall)
    rows = []
    for v in sel.votes(hall):
        rows.append({"vote": v, "result": v if not v.is_open else svc.tally(v), "mine": mine.get(v.pk),
                     "may_cast": v.is_open and voter is not None and v.pk not in mine})
    return rows


@login_required
@require_GET
def home(request):
    """My community's hall at phone width: matters, meetings, votes and their results."""
    hall = sel.my_hall(request.user)
    managed = list(sel.halls_managed(request.user)[:20])
    if hall is None:
        return render(request, "community/halls/home.html", {"hall": None, "managed": managed})
    return render(request, "community/halls/home.html", {
        "hall": hall, "managed": managed, "voter": sel.voter_of(request.user, hall),
        "matters": sel.matter_rows(hall, viewer=request.user)[:30], "meetings": sel.meetings(hall)[:10],
        "votes": _vote_rows(hall, request.user)[:20], "resolutions": sel.resolutions(hall)[:10],
        "choices": Choice.choices})


@login_required
@require_POST
def cast(request, pk: int):
    vote = get_object_or_404(Vote.objects.select_related("hall__division"), pk=pk)
    if not sel.may_view(request.user, vote.hall):
        raise Http404(_("找不到该表决。"))
    try:
        svc.ballot_cast(vote, choice=request.POST.get("choice", ""), actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("您的票已投出。"))
    return redirect("community:halls")


@login_required
@require_POST
def raise_matter(request):
    hall = sel.my_hall(request.user)
    if hall is None:
        raise Http404(_("您所在的社区尚未设立议事厅。"))
    try:
        svc.matter_raise(hall, title=request.POST.get("title", ""), body=request.POST.get("body", ""),
                         actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("议题已提交。"))
    return redirect("community:halls")


def _managed_hall(request, pk: int) -> Hall:
    hall = get_object_or_404(Hall.objects.select_related("division", "convener_unit"), pk=pk)
    if not sel.may_manage(request.user, hall):
        raise Http404(_("找不到该议事厅。"))
    return hall


@login_required
@require_GET
def manage_index(request):
    halls = list(sel.halls_managed(request.user)[:50])
    if len(halls) == 1:
        return redirect("community:halls_manage", pk=halls[0].pk)
    return render(request, "community/halls/manage_index.html", {
        "halls": halls, "may_set_up": sel.setup_communities(request.user).exists()})


@login_required
@require_GET
def manage(request, pk: int):
    """The convener's page: raise, schedule, attendance, votes, minutes, resolutions, tasks, disputes."""
    from .views_halls_setup import manage_extras  # rules form, order links, hot groups

    hall = _managed_hall(request, pk)
    matters = sel.matter_rows(hall, viewer=request.user)[:50]
    return render(request, "community/halls/manage.html", {
        **manage_extras(request, hall, matters), "hall": hall, "matters": matters,
        "open_matters": Matter.objects.filter(hall=hall, status__in=["open", "scheduled"]),
        "meetings": sel.meetings(hall)[:20], "votes": _vote_rows(hall, request.user)[:30],
        "resolutions": sel.resolutions(hall)[:20], "disputes": sel.dispute_rows(hall, viewer=request.user)[:30],
        "voters": hall.voters.select_related("user").order_by("household", "pk")[:200]})


def _parse_dt(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise DomainError("community.meeting.bad_time", _("请填写会议时间。"), field="starts_at") from exc
    return timezone.make_aware(dt) if timezone.is_naive(dt) else dt


def _id(value) -> int:
    """A posted id; anything else matches nothing (404), never a server error."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else 0


def _act(request, hall: Hall, action: str) -> str:
    p, user = request.POST, request.user
    if action == "raise":
        svc.matter_raise(hall, title=p.get("title", ""), body=p.get("body", ""), actor=user)
        return _("议题已提交。")
    if action == "schedule":
        matters = list(Matter.objects.filter(hall=hall, pk__in=[_id(x) for x in p.getlist("matters")]))
        svc.meeting_schedule(hall, title=p.get("title", ""), starts_at=_parse_dt(p.get("starts_at", "")),
                             place=p.get("place", ""), matters=matters, actor=user)
        return _("议事会已安排。")
    if action == "attendance":
        meeting = get_object_or_404(Meeting, pk=_id(p.get("meeting")), hall=hall)
        users = list(User.objects.filter(hall_rolls__hall=hall, pk__in=[_id(x) for x in p.getlist("users")]))
        households = [h for h in p.get("households", "").replace("，", ",").split(",") if h.strip()]
        n = svc.meeting_attendance(meeting, users=users, households=households, actor=user)
        if p.get("minutes", "").strip():
            svc.meeting_minutes(meeting, minutes=p["minutes"], actor=user)
        return _("已记录出席 %(n)s 人（户）。") % {"n": n}
    if action == "open_vote":
        matter = get_object_or_404(Matter, pk=_id(p.get("matter")), hall=hall)
        meeting = Meeting.objects.filter(pk=_id(p.get("meeting")) or None, hall=hall).first()
        svc.vote_open(matter, question=p.get("question", ""), meeting=meeting, actor=user)
        return _("表决已开始。")
    if action == "close_vote":
        v = svc.vote_close(get_object_or_404(Vote, pk=_id(p.get("vote")), hall=hall), actor=user)
        return _("表决已结束：%(r)s") % {"r": _("通过") if v.passed else _("未通过")}
    if action == "resolve":
        vote = get_object_or_404(Vote, pk=_id(p.get("vote")), hall=hall)
        tasks = [{"title": t.strip()} for t in p.get("tasks", "").splitlines() if t.strip()]
        svc.resolution_adopt(vote.matter, text=p.get("text", ""), vote=vote, tasks=tasks, actor=user)
        return _("决议已形成。")
    if action == "progress":
        task = get_object_or_404(ResolutionTask, pk=_id(p.get("task")), resolution__hall=hall)
        svc.task_progress(task, progress=p.get("progress", ""), note=p.get("note", ""), actor=user)
        return _("进度已更新。")
    if action == "dispute":
        svc.dispute_open(hall, title=p.get("title", ""), parties=p.get("parties", ""),
                         description=p.get("description", ""), actor=user)
        return _("纠纷已受理。")
    if action == "mediate":
        d = get_object_or_404(Dispute, pk=_id(p.get("dispute")), hall=hall)
        svc.dispute_close(d, settled=p.get("settled") == "1", outcome=p.get("outcome", ""), actor=user)
        return _("调解结果已记录。")
    if action == "voter":
        target = User.objects.filter(username=p.get("username", "").strip()).first()
        if target is None:
            raise DomainError("community.hall.no_user", _("找不到该账号。"), field="username")
        svc.voter_add(hall, user=target, household=p.get("household", ""), actor=user)
        return _("已登记到议事名册。")
    raise Http404(_("未知操作。"))


@login_required
@require_POST
def manage_act(request, pk: int, action: str):
    hall = _managed_hall(request, pk)
    try:
        messages.success(request, _act(request, hall, action))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("community:halls_manage", pk=hall.pk)
