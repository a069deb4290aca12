"""Co-governance project pages (共治项目): residents' phone pages (projects near me, my lift vote) and
the managers' pages (the community workers of the community committee).

Each page checks its scope (selectors_projects): a project outside it answers 404.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from huying.core.errors import DomainError
from huying.people.masking import mask_name, mask_phone

from . import projects as svc
from . import selectors_projects as sel
from .models import Canteen, LiftProject, OwnerVote, Renovation, RenovationStage


@login_required
@require_GET
def projects_home(request):
    """Projects in my community and nearby, and the lift projects I vote on (phone width)."""
    data = sel.projects_near(request.user)
    return render(request, "community/projects/home.html", {
        **data, "flats": list(sel.my_flats(request.user)),
        "manages": sel.managed_communities(request.user).exists()})


@login_required
@require_http_methods(["GET", "POST"])
def lift_vote(request, pk: int):
    """An owner's page of a lift project: the stage, the art. 278 figures, and their vote."""
    project = get_object_or_404(LiftProject.objects.select_related("building", "community"), pk=pk)
    flats = list(sel.my_flats(request.user).filter(project=project))
    if not flats and not sel.may_view(request.user, project.community):
        raise Http404(_("找不到该项目。"))
    if request.method == "POST":
        owner = next((f for f in flats if str(f.pk) == request.POST.get("owner", "")), None)
        if owner is None:
            raise PermissionDenied(_("您不是该房屋登记的业主，不能表决。"))
        try:
            svc.lift_vote(owner, vote=request.POST.get("vote", ""), actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("您的表决意见已记录。"))
        return redirect("community:lift_vote", pk=project.pk)
    return render(request, "community/projects/lift_vote.html", {
        "project": project, "flats": flats, "tally": (tally := svc.project_tally(project)), "figures": figures(tally),
        "choices": [c for c in OwnerVote.choices if c[0] != OwnerVote.NONE]})


def figures(tally) -> list[dict]:
    """The four art. 278 figures for a page: exact fraction, percentage, threshold, met."""
    return [{"label": label, "fraction": f"{value.numerator}/{value.denominator}", "percent": f"{float(value) * 100:.2f}%",
             "threshold": f"{threshold.numerator}/{threshold.denominator}", "met": met}
            for label, value, threshold, met in tally.figures()]


def _require_any_manager(user):
    communities = sel.managed_communities(user)
    if not communities.exists():
        raise PermissionDenied(_("此页面供社区居委会的社区工作者管理共治项目使用。"))
    return communities


@login_required
@require_GET
def manage(request):
    """The manager's list: lifts, canteens and renovations of the communities they serve."""
    communities = list(_require_any_manager(request.user))
    ids = [c.pk for c in communities]
    return render(request, "community/projects/manage.html", {
        "communities": communities,
        "lifts": LiftProject.objects.filter(community_id__in=ids).select_related("building", "community"),
        "canteens": Canteen.objects.filter(community_id__in=ids).annotate(diners=Count("enrolments")),
        "renovations": Renovation.objects.filter(community_id__in=ids).annotate(n=Count("contributions"))})


def _managed(request, model, pk):
    obj = get_object_or_404(model, pk=pk)
    if not sel.is_manager(request.user, obj.community):
        raise Http404(_("找不到该项目。"))
    return obj


@login_required
@require_GET
def lift_manage(request, pk: int):
    """The four art. 278 figures, each owner's vote and cost share (names and phones whole here)."""
    project = _managed(request, LiftProject, pk)
    table = svc.lift_coefficients()
    rows = [{"owner": o, "share": share, "coefficient": svc.floor_coefficient(o.floor, table)}
            for o, share in svc.project_shares(project, table)]
    return render(request, "community/projects/lift_manage.html", {
        "project": project, "rows": rows, "tally": (tally := svc.project_tally(project)), "figures": figures(tally), "table": table,
        "next_state": svc.LIFT_NEXT.get(project.state)})


@login_required
@require_POST
def lift_advance(request, pk: int):
    project = _managed(request, LiftProject, pk)
    try:
        svc.lift_advance(project, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("项目已进入下一阶段。"))
    return redirect("community:lift_manage", pk=project.pk)


@login_required
@require_GET
def canteen_manage(request, pk: int):
    """Diners (names and phones masked), meals per day with subsidies, ratings, the subsidy rules."""
    canteen = _managed(request, Canteen, pk)
    per_day = (canteen.meals.values("served_on").annotate(n=Count("pk"), subsidy=Sum("subsidy"))
               .order_by("-served_on")[:14])
    meals_by_diner = defaultdict(int)
    for e_id in canteen.meals.values_list("enrolment_id", flat=True):
        meals_by_diner[e_id] += 1
    rules = svc.subsidy_rules()
    diners = [{"e": e, "name": mask_name(e.name), "phone": mask_phone(e.phone), "meals": meals_by_diner[e.pk],
               "subsidy": svc.meal_subsidy(age=e.age, household_type=e.household_type, price=canteen.meal_price,
                                           rules=rules)}
              for e in canteen.enrolments.all()]
    return render(request, "community/projects/canteen_manage.html", {
        "canteen": canteen, "diners": diners, "per_day": per_day, "rules": rules,
        "ratings": canteen.ratings.all()[:20], "stars": canteen.ratings.aggregate(a=Avg("stars"))["a"]})


@login_required
@require_http_methods(["GET", "POST"])
def renovation_manage(request, pk: int):
    renovation = _managed(request, Renovation, pk)
    if request.method == "POST":
        try:
            svc.renovation_progress(renovation, stage=request.POST.get("stage", ""),
                                    progress=int(request.POST.get("progress") or -1), actor=request.user)
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", _("进度须为 0–100。")))
        else:
            messages.success(request, _("进度已更新。"))
        return redirect("community:renovation_manage", pk=renovation.pk)
    return render(request, "community/projects/renovation_manage.html", {
        "renovation": renovation, "stages": RenovationStage.choices,
        "contributions": renovation.contributions.select_related("unit")})

