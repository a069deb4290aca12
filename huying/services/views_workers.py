"""Community-worker pages (社区工作者): staffing against the 1:300 norm, a community's roster (with
progression for managers), the roster import; and a street's 6+1 offices with their duty lists.

Each page checks its own scope (selectors_workers): out-of-scope communities answer 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from huying.core.errors import DomainError
from huying.core.paging import paged
from huying.territory.models import Division, Level

from . import offices as offices_svc
from . import selectors_admission
from . import selectors_workers as sel
from . import workers as svc
from .models import PayGrade, WorkerPost

POST_ORDER = {value: i for i, value in enumerate(WorkerPost.values)}


def _require_viewer(user) -> None:
    prefixes = sel.view_prefixes(user)
    if prefixes is not None and not prefixes:
        raise PermissionDenied(_("此页面供社区工作者、街道和区的工作人员使用。"))


@login_required
@require_GET
def staffing(request):
    """Communities in scope: households, workers, the staff the norm asks for, shortfall."""
    _require_viewer(request.user)
    street = request.GET.get("street", "").strip()[:12]
    short_only = request.GET.get("short") == "1"
    rows = sel.staffing(actor=request.user, street=street, short_only=short_only)
    return render(request, "services/workers/staffing.html", {
        "page": paged(request, rows), "streets": sel.streets_in_view(request.user), "street": street,
        "short_only": short_only, "norm": sel.households_per_worker(),
        "total_short": sum(r.shortfall for r in rows), "total_workers": sum(r.workers for r in rows),
        "total_households": sum(r.households for r in rows),
        "may_import": sel.manage_prefixes(request.user) != []})


@login_required
@require_http_methods(["GET", "POST"])
def roster(request, code: str):
    """A community's roster: post, level and grade with its pay coefficient, assessments, grade due."""
    division = get_object_or_404(Division, code=code, level=Level.COMMUNITY)
    if not sel.may_view(request.user, division.code):
        raise Http404(_("找不到该社区。"))
    committee = sel.committee_of(division)
    manage = committee is not None and sel.may_manage(request.user, committee)
    year = timezone.localdate().year - 1
    if request.method == "POST":
        if not manage:
            raise PermissionDenied(_("您无权管理该社区的社区工作者。"))
        try:
            n = svc.workers_grade_apply(committee, year=year, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已按 %(year)s 年度考核结果调整档次：%(n)s 人变动。") % {"year": year, "n": n})
        return redirect("services:workers_roster", code=division.code)
    try:
        scale = svc.scale_in_force()
    except DomainError:
        scale = None
    coefficients = ({(g.level, g.grade): g for g in PayGrade.objects.filter(scale=scale)} if scale else {})
    workers = sorted(sel.roster(division), key=lambda w: (POST_ORDER.get(w.post, 99), w.started_on, w.pk))
    for w in workers:
        w.pay = coefficients.get((w.level, w.grade))
        w.recent = sorted(w.assessments.all(), key=lambda a: a.year)[-3:]
        w.due = svc.worker_grade_due(w, year=year, scale=scale) if scale else None
    return render(request, "services/workers/roster.html", {
        "division": division, "committee": committee, "workers": workers, "manage": manage, "year": year,
        "scale": scale})


@login_required
@require_http_methods(["GET", "POST"])
def roster_import(request):
    """Managers load a roster from .xlsx/.csv; a file with bad rows is refused whole, each row named."""
    if sel.manage_prefixes(request.user) == []:
        raise PermissionDenied(_("您无权导入社区工作者花名册。"))
    errors, status = [], 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择文件。"))
            status = 400
        else:
            try:
                result = svc.workers_import(upload, actor=request.user, filename=upload.name)
            except DomainError as exc:
                messages.error(request, exc.message)
                errors = exc.details.get("rows", [])
                status = exc.status
            else:
                messages.success(request, _("已登记 %(n)s 名社区工作者。") % {"n": result["created"]})
                return redirect("services:workers_staffing")
    return render(request, "services/workers/import.html", {
        "errors": errors, "header": svc.TEMPLATE_HEADER}, status=status)


@login_required
@require_GET
def offices(request, code: str):
    """A street's 6+1 offices and each one's 权责清单 (published lists: any staff may read them)."""
    if not selectors_admission.is_staff_user(request.user):
        raise PermissionDenied(_("您没有访问此页面的权限。"))
    street = get_object_or_404(Division, code=code, level=Level.STREET)
    return render(request, "services/workers/offices.html", {
        "street": street, "offices": list(offices_svc.offices_of(street)),
        "source": offices_svc.offices_data()["source"]})
