"""Admission-list pages (社区事务准入): the in-force list and 减负 registers (staff), the department's
tasks and applications, the committee's received tasks, and the reviewer's queue.

Each page checks its own scope: a page for a role the person does not hold answers 403.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods

from huying.core.errors import DomainError
from huying.core.paging import paged

from . import admission as svc
from . import selectors_admission as sel
from .forms_admission import ApplyForm, DecideForm, ReviewForm, RevokeForm, TaskForm
from .models import AdmissionApplication, ApplicationState, BurdenItem, BurdenKind


def _now() -> datetime:
    return timezone.now()


def _roles_nav(user) -> dict:
    return {"is_department": sel.department_units(user).exists(), "is_community": sel.community_units(user).exists(),
            "is_reviewer": sel.is_reviewer(user)}


def _run(request, form, call, success: str) -> int | None:
    """Validate, call the service; None on success (message queued), else the HTTP status to answer with."""
    if not form.is_valid():
        return 400
    try:
        call(form.cleaned_data)
    except DomainError as exc:
        form.add_domain_error(exc)
        messages.error(request, exc.message)
        return exc.status
    messages.success(request, success)
    return None


@login_required
@require_GET
def admission_list(request):
    """The list in force (public within staff), its versions with their sizes, and links for each role."""
    if not sel.is_staff_user(request.user):
        raise PermissionDenied(_("您没有访问此页面的权限。"))
    current = sel.list_in_force()
    q = request.GET.get("q", "").strip()[:60]
    groups = []
    if current:
        items = current.items.select_related("lead_department").order_by("code")
        if q:
            items = items.filter(Q(name__icontains=q) | Q(category__icontains=q))
        for item in items:
            if not groups or groups[-1][0] != item.category:
                groups.append((item.category, []))
            groups[-1][1].append(item)
    return render(request, "services/admission/list.html", {
        "current": current, "groups": groups, "q": q, "versions": sel.list_versions(),
        "draft": sel.list_draft(), **_roles_nav(request.user)})


@login_required
@require_GET
def burden(request):
    """减负 registers: forms and reports, responsibility letters and plaques, kept or cut, with counts."""
    if not sel.is_staff_user(request.user):
        raise PermissionDenied(_("您没有访问此页面的权限。"))
    kind = request.GET.get("kind", "")
    entries = BurdenItem.objects.all()
    if kind in BurdenKind.values:
        entries = entries.filter(kind=kind)
    summary = sel.burden_summary()
    return render(request, "services/admission/burden.html", {
        "summary": summary, "total_cut": sum(r["cut"] for r in summary),
        "total_kept": sum(r["kept"] for r in summary), "versions": sel.list_versions(),
        "page": paged(request, entries), "kind": kind, "kinds": BurdenKind.choices})


@login_required
@require_http_methods(["GET", "POST"])
def department(request):
    """A department's page: send a task to a committee (citing a matter or not), apply for a new matter."""
    departments = sel.department_units(request.user)
    if not departments.exists():
        raise PermissionDenied(_("此页面供职能部门承办人或负责人使用。"))
    kwargs = {"departments": departments, "communities": sel.committees_reached(departments),
              "items": sel.items_in_force()}
    task_form, apply_form = TaskForm(prefix="t", **kwargs), ApplyForm(prefix="a", departments=departments)
    status = 200
    if request.method == "POST":
        now = _now()
        if request.POST.get("action") == "task":
            task_form = TaskForm(request.POST, prefix="t", **kwargs)
            status = _run(request, task_form, lambda d: svc.community_task_send(
                department=d["department"], community=d["community"], title=d["title"], detail=d["detail"],
                due_on=d["due_on"], item=d["item"], actor=request.user, now=now), _("任务已交办。"))
        elif request.POST.get("action") == "apply":
            apply_form = ApplyForm(request.POST, prefix="a", departments=departments)
            status = _run(request, apply_form, lambda d: svc.admission_apply(
                department=d["department"], category=d["category"], name=d["name"], legal_basis=d["legal_basis"],
                funding=d["funding"], reason=d["reason"], actor=request.user, now=now), _("准入申请已提交。"))
        else:
            status = 400
        if status is None:
            return redirect("services:admission_department")
    tasks = sel.tasks_for_department(actor=request.user)
    return render(request, "services/admission/department.html", {
        "task_form": task_form, "apply_form": apply_form, "counts": sel.task_counts(tasks),
        "tasks": paged(request, tasks), "applications": paged(
            request, sel.applications_for_department(actor=request.user).order_by("-submitted_at"), param="apage"),
        "review_days": svc.REVIEW_WORKING_DAYS, **_roles_nav(request.user)}, status=status)


@login_required
@require_GET
def community(request):
    """A committee's received tasks, 未准入 ones flagged, with accept / refuse / return."""
    if not sel.community_units(request.user).exists():
        raise PermissionDenied(_("此页面供社区工作者使用。"))
    tasks = sel.tasks_for_community(actor=request.user)
    return render(request, "services/admission/community.html", {
        "tasks": paged(request, tasks.order_by("state", "due_on", "id")), "counts": sel.task_counts(tasks),
        **_roles_nav(request.user)})


_TASK_ACTIONS = {
    "accept": (lambda task, actor, reason, now: svc.community_task_accept(task, actor=actor, now=now),
               _l("已接收任务。")),
    "refuse": (lambda task, actor, reason, now: svc.community_task_refuse(task, actor=actor, reason=reason, now=now),
               _l("已以“未准入”为由拒绝。")),
    "return": (lambda task, actor, reason, now: svc.community_task_return(task, actor=actor, reason=reason, now=now),
               _l("已退回任务。")),
}


@login_required
@require_http_methods(["POST"])
def task_decide(request, pk: int):
    task = get_object_or_404(sel.tasks_for_community(actor=request.user), pk=pk)
    action = request.POST.get("action")
    if action not in _TASK_ACTIONS:
        return redirect("services:admission_community")
    call, success = _TASK_ACTIONS[action]
    form = DecideForm(request.POST)
    # A refusal's message (e.g. an admitted task refused as 未准入) shows at the top of the list.
    _run(request, form, lambda d: call(task, request.user, d["reason"], _now()), str(success))
    return redirect(reverse("services:admission_community") + f"#task-{task.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def reviews(request):
    """The reviewer's queue, earliest due first, with in-time / late marks; admit, reject, revoke."""
    if not sel.is_reviewer(request.user):
        raise PermissionDenied(_("此页面供区政府负责人或系统管理员审核准入申请。"))
    revoke_form = RevokeForm(prefix="r", items=sel.items_revocable(actor=request.user))
    status = 200
    if request.method == "POST":
        revoke_form = RevokeForm(request.POST, prefix="r", items=sel.items_revocable(actor=request.user))
        status = _run(request, revoke_form, lambda d: svc.admission_item_revoke(
            d["item"], actor=request.user, reason=d["reason"], on=timezone.localdate(_now())), _("准入事项已撤销。"))
        if status is None:
            return redirect("services:admission_reviews")
    now = _now()
    pending = list(sel.applications_to_review(actor=request.user))
    for app in pending:
        app.overdue = now > app.review_due_at
    done = sel.applications_to_review(actor=request.user, state="").exclude(state=ApplicationState.PENDING)
    return render(request, "services/admission/reviews.html", {
        "pending": pending, "done": paged(request, done.order_by("-reviewed_at")), "revoke_form": revoke_form,
        "now": now, **_roles_nav(request.user)}, status=status)


@login_required
@require_http_methods(["POST"])
def review(request, pk: int):
    app = get_object_or_404(AdmissionApplication.objects.select_related("department__division"), pk=pk)
    if not sel.may_review(request.user, app.department):
        raise PermissionDenied(_("您无权审核该部门的准入申请。"))
    form = ReviewForm(request.POST)
    if request.POST.get("action") == "admit":
        _run(request, form, lambda d: svc.admission_application_admit(app, actor=request.user, note=d["note"],
                                                                     now=_now()),
             _("已准入“%(name)s”。") % {"name": app.name})
    elif request.POST.get("action") == "reject":
        _run(request, form, lambda d: svc.admission_application_reject(app, actor=request.user, note=d["note"],
                                                                      now=_now()),
             _("已作出不予准入决定。"))
    return redirect("services:admission_reviews")

