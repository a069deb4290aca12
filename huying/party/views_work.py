"""Party pages for the joint work: joint activities (四个一), co-building (1+X+N) with its problems,
a rating's review (评议调整), and service teams with the half-year returns.

Same shape as `views`: parse, call one service or selector, render; a refusal goes next to its field.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from huying.core.errors import DomainError
from huying.core.paging import paged
from huying.territory.models import Division, Level

from . import access, selectors
from . import selectors_pages as pages
from . import services as s
from .forms import (
    ActivityFilterForm,
    ActivityPlanForm,
    ActivityRecordForm,
    AgreementForm,
    CommitmentProgressForm,
    MemberImportForm,
    PairingCreateForm,
    PairingFilterForm,
    PartnerAddForm,
    ProblemFilterForm,
    ProblemRaiseForm,
    ProblemSolveForm,
    ProblemToOrderForm,
    RatingAdjustForm,
    ReasonForm,
    ReturnsSendForm,
    TeamCreateForm,
    TeamFilterForm,
)
from .models import CommitmentStatus
from .views import _import_upload, _managed_org, _post_action, _refuse, _run


def _community_param(request, choices) -> Division | None:
    code = request.GET.get("community")
    if not code:
        return choices[0] if choices else None
    community = Division.objects.filter(code=code, level=Level.COMMUNITY).first()
    if community is None:
        raise Http404(_("找不到该社区。"))
    return community


# -- joint activities (四个一) -------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def activity_list(request):
    """联合活动: a community's joint activities, and the form to plan one with its units."""
    actor = request.user
    choices = pages.activity_communities(actor)
    community = _community_param(request, choices)
    units = list(pages.activity_planner_units(community)) if community else []
    managed = access.managed_unit_ids(actor)
    may_plan = community is not None and (access.can_act_for_territory(actor, community.code)
                                          or any(u.pk in managed for u in units))
    form = ActivityPlanForm(prefix="plan", units=units)
    status = 200
    if request.method == "POST":
        if request.POST.get("action") != "plan" or community is None:
            status = 400
        else:
            form = ActivityPlanForm(request.POST, prefix="plan", units=units)
            by_pk = {u.pk: u for u in units}
            status = _run(request, form, lambda d: s.joint_activity_plan(
                community=community, activity_type=d["activity_type"], title=d["title"], planned_at=d["planned_at"],
                place=d["place"], planners=[by_pk[pk] for pk in d["planners"]], actor=actor),
                success=_("活动已安排。"))
        if status is None:
            return redirect(request.get_full_path())
    filters = ActivityFilterForm(request.GET)
    fd = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.activity_list(actor=actor, community=community, year=fd.get("year"))
    if fd.get("type"):
        qs = qs.filter(activity_type=fd["type"])
    if fd.get("status"):
        qs = qs.filter(status=fd["status"])
    return render(request, "party/activities.html", {
        "community": community, "choices": choices, "may_plan": may_plan, "form": form, "filters": filters,
        "rows": paged(request, qs)}, status=status or 200)


@login_required
@require_http_methods(["GET", "POST"])
def activity_detail(request, pk: int):
    """One activity: who planned it, and (for its organisers) the attendance and minutes."""
    actor = request.user
    activity = pages.activity_get(actor, pk)
    if activity is None:
        raise Http404(_("找不到该活动，或您无权查看。"))
    organiser = pages.activity_may_organise(actor, activity)
    members = pages.activity_attendees(activity) if organiser else []
    marked = pages.activity_attendance(activity)
    now = timezone.localtime()
    initial = {"held_at": activity.held_at or min(activity.planned_at, now), "minutes": activity.minutes}
    forms = {"record": ActivityRecordForm(prefix="rec", members=members, marked=marked, initial=initial),
             "cancel": ReasonForm(prefix="cancel")}
    status = 200
    if request.method == "POST" and organiser:
        action = request.POST.get("action")
        if action == "record":
            forms["record"] = form = ActivityRecordForm(request.POST, prefix="rec", members=members, marked=marked)
            status = _run(request, form, lambda d: s.joint_activity_record(
                activity, attendance=form.attendance(), minutes=d["minutes"], held_at=d["held_at"], actor=actor),
                success=_("活动记录已保存。"))
        elif action == "cancel":
            forms["cancel"] = form = ReasonForm(request.POST, prefix="cancel")
            status = _run(request, form, lambda d: s.joint_activity_cancel(activity, reason=d["reason"], actor=actor),
                          success=_("活动已取消。"))
        else:
            status = 400
        if status is None:
            return redirect(request.get_full_path())
    elif request.method == "POST":
        status = _refuse(request, DomainError("party.forbidden", _("只有社区或共同组织单位的书记可以登记活动。"),
                                              status=403))
    counts = {k: sum(1 for v in marked.values() if v == k) for k in ("present", "excused", "absent")}
    return render(request, "party/activity.html", {
        "activity": activity, "organiser": organiser, "forms": forms, "counts": counts,
        "planners": activity.planners.order_by("code")}, status=status or 200)


# -- co-building (1+X+N) -----------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def pairing_list(request):
    """共建项目: the pairings the person leads, joins, or oversees in their territory; a secretary
    starts one with their organisation as the lead."""
    actor = request.user
    led = list(pages.organisations_led(actor))
    form = PairingCreateForm(prefix="new", organisations=led, initial={"started_on": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if request.POST.get("action") != "create" or not led:
            status = 400
        else:
            form = PairingCreateForm(request.POST, prefix="new", organisations=led)
            made = {}

            def create(d):
                division = None
                if d["division_code"]:
                    division = Division.objects.filter(code=d["division_code"].strip()).first()
                    if division is None:
                        raise DomainError("party.cobuilding.division_unknown", _("找不到该区划代码。"),
                                          field="division_code")
                committee = form.organisations.get(d["joint_committee"]) if d["joint_committee"] else None
                made["pairing"] = s.pairing_create(
                    name=d["name"], kind=d["kind"], lead=form.organisations[d["lead"]].unit,
                    joint_committee=committee, division=division, started_on=d["started_on"], actor=actor)

            status = _run(request, form, create, success=_("共建项目已创建，请加入共建单位。"))
            if status is None:
                return redirect("party:pairing", made["pairing"].pk)
    filters = PairingFilterForm(request.GET)
    search = filters.cleaned_data.get("q", "") if filters.is_valid() else ""
    return render(request, "party/pairings.html", {
        "filters": filters, "form": form, "may_create": bool(led),
        "rows": paged(request, pages.pairings_page(actor, search=search))}, status=status or 200)


def _pairing_action(request, actor, pairing, forms, parties):
    action = request.POST.get("action")
    if action == "partner":
        forms["partner"] = form = PartnerAddForm(request.POST, prefix="pa")

        def add(d):
            unit = pages.unit_by_code_or_name(d["unit"])
            if unit is None:
                raise DomainError("party.cobuilding.unit_unknown", _("找不到该党组织，请填写准确的名称或代码。"),
                                  field="unit")
            s.pairing_partner_add(pairing, unit=unit, tier=d["tier"], joined_on=d["joined_on"], actor=actor)

        return _run(request, form, add, success=_("已加入共建单位。"))
    if action == "agreement":
        forms["agreement"] = form = AgreementForm(request.POST, prefix="ag", units=parties)
        return _run(request, form, lambda d: s.agreement_sign(pairing, actor=actor, **form.service_kwargs()),
                    success=_("协议已登记。"))
    if action == "progress":
        from .models import Commitment

        commitment = Commitment.objects.filter(pk=request.POST.get("target") or 0, agreement__pairing=pairing).first()
        if commitment is None:
            return _refuse(request, DomainError("party.cobuilding.commitment_unknown", _("找不到该承诺。"), status=404))
        forms["progress"] = form = CommitmentProgressForm(request.POST, prefix=f"cp-{commitment.pk}")
        forms["progress_target"] = commitment.pk
        return _run(request, form, lambda d: s.commitment_progress(
            commitment, progress=d["progress"], status=d["status"] or None, note=d["note"], actor=actor),
            success=_("进展已更新。"))
    if action == "problem":
        forms["problem"] = form = ProblemRaiseForm(request.POST, prefix="pr")
        return _run(request, form, lambda d: s.problem_raise(pairing, actor=actor, **d), success=_("问题已提出。"))
    return 400


@login_required
@require_http_methods(["GET", "POST"])
def pairing_detail(request, pk: int):
    """One pairing: partners, agreements with commitments and their progress, problems, activities."""
    actor = request.user
    pairing = pages.pairing_get(actor, pk)
    if pairing is None:
        raise Http404(_("找不到该共建项目，或您无权查看。"))
    manage = pages.pairing_may_manage(actor, pairing)
    partners = list(pairing.partners.select_related("unit").order_by("tier", "unit__code"))
    parties = [pairing.lead] + [p.unit for p in partners]
    managed = access.managed_unit_ids(actor)
    forms = {"partner": PartnerAddForm(prefix="pa", initial={"joined_on": timezone.localdate()}),
             "agreement": AgreementForm(prefix="ag", units=parties, initial={"signed_on": timezone.localdate()}),
             "problem": ProblemRaiseForm(prefix="pr")}
    status = 200
    if request.method == "POST":
        status = _pairing_action(request, actor, pairing, forms, parties)
        if status is None:
            return redirect(request.get_full_path())
    agreements = list(pages.pairing_agreements(pairing))
    for ag in agreements:
        for c in ag.commitments.all():  # the prefetched rows: a form rides on each one the actor may update
            open_ = c.status not in (CommitmentStatus.DONE, CommitmentStatus.DROPPED)
            if open_ and (manage or c.unit_id in managed):
                c.form = (forms["progress"] if forms.get("progress_target") == c.pk else
                          CommitmentProgressForm(prefix=f"cp-{c.pk}", initial={"progress": c.progress}))
    filters = ProblemFilterForm(request.GET)
    problem_status = filters.cleaned_data.get("status") if filters.is_valid() else None
    return render(request, "party/pairing.html", {
        "pairing": pairing, "manage": manage, "partners": partners, "managed": managed, "forms": forms,
        "may_raise": manage or any(p.unit_id in managed for p in partners),
        "progress": selectors.pairing_progress(pairing), "agreements": agreements,
        "filters": filters,
        "problems": paged(request, pages.pairing_problems(pairing, status=problem_status), param="pp", size=10),
        "activities": pairing.activities.select_related("community").order_by("-planned_at")[:10]}, status=status or 200)


@login_required
@require_http_methods(["GET", "POST"])
def problem_detail(request, pk: int):
    """One co-building problem: solved together, or handed to dispatch as a work order."""
    actor = request.user
    problem = pages.problem_get(actor, pk)
    if problem is None:
        raise Http404(_("找不到该问题，或您无权查看。"))
    # No prefixes: the subject picker is dispatch's own partial, which names its field "subject".
    forms = {"solve": ProblemSolveForm(), "order": ProblemToOrderForm()}
    status = 200
    if request.method == "POST":
        status = _post_action(request, forms, {
            "solve": (ProblemSolveForm, lambda d: s.problem_solve(problem, resolution=d["resolution"], actor=actor),
                      _("已记录解决情况。")),
            "order": (ProblemToOrderForm, lambda d: s.problem_to_work_order(
                problem, subject=d["subject"], request_type=d["request_type"] or None, actor=actor), _("已转为工单。")),
        })
        if status is None:
            return redirect(request.get_full_path())
    return render(request, "party/problem.html", {
        "problem": problem, "pairing": problem.pairing, "forms": forms,
        "manage": pages.pairing_may_manage(actor, problem.pairing)}, status=status or 200)


# -- star rating review ------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def rating_detail(request, pk: int):
    """A member's rating: how it was made, and (for the organisation) the review that adjusts it."""
    actor = request.user
    rating = pages.rating_get(actor, pk)
    if rating is None:
        raise Http404(_("找不到该评星结果，或您无权查看。"))
    may_adjust = access.can_manage_org(actor, rating.member.organisation)
    form = RatingAdjustForm(prefix="adj", initial={"adjustment": rating.adjustment, "reason": rating.review_reason})
    status = 200
    if request.method == "POST":
        if request.POST.get("action") != "adjust":
            status = 400
        else:
            form = RatingAdjustForm(request.POST, prefix="adj")
            status = _run(request, form, lambda d: s.star_rating_adjust(
                rating, adjustment=d["adjustment"], reason=d["reason"], actor=actor), success=_("评星结果已调整。"))
        if status is None:
            return redirect(request.get_full_path())
        rating.refresh_from_db()
    return render(request, "party/rating.html", {
        "rating": rating, "explain": selectors.rating_explain(rating, actor=actor), "may_adjust": may_adjust,
        "form": form}, status=status or 200)


# -- service teams and half-year returns -------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def teams(request):
    """服务队: a community's teams (formed by its staff, joined by members confirmed there) and the
    half-year returns the community sends back to members' own organisations."""
    actor = request.user
    member = pages.member_of(actor)
    staff_choices = list(pages.communities_for(actor)[:200])
    seen = {d.pk for d in staff_choices}
    choices = staff_choices + [d for d in pages.communities_reported(member) if d.pk not in seen]
    community = _community_param(request, choices)
    if community is None:
        return render(request, "party/teams.html", {"community": None, "choices": []}, status=403)
    staff = access.can_act_for_territory(actor, community.code)
    if not staff and community not in choices:
        raise Http404(_("找不到该社区，或您无权查看。"))
    forms = {"team": TeamCreateForm(prefix="team"), "returns": ReturnsSendForm(prefix="ret")}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            forms["team"] = form = TeamCreateForm(request.POST, prefix="team")
            status = _run(request, form, lambda d: s.service_team_create(community=community, actor=actor, **d),
                          success=_("服务队已成立。"))
        elif action == "join":
            team = pages.teams_of(community).filter(pk=request.POST.get("target") or 0).first()
            if team is None or member is None:
                status = _refuse(request, DomainError("party.team.unknown", _("找不到该服务队。"), status=404))
            else:
                try:
                    s.service_team_join(team, member=member, actor=actor)
                except DomainError as exc:
                    status = _refuse(request, exc)
                else:
                    messages.success(request, _("已加入“%(team)s”。") % {"team": team.unit.name})
                    status = None
        elif action == "returns":
            forms["returns"] = form = ReturnsSendForm(request.POST, prefix="ret")

            def send(d):
                n = s.half_year_returns_send(community, period=d["period"], comment=d["comment"], actor=actor)
                messages.info(request, _("本次反馈 %(n)d 名党员。") % {"n": n})

            status = _run(request, form, send, success=_("半年度反馈已发送到党员所在党组织。"))
        else:
            status = 400
        if status is None:
            return redirect(request.get_full_path())
    filters = TeamFilterForm(request.GET)
    search = filters.cleaned_data.get("q", "") if filters.is_valid() else ""
    return render(request, "party/teams.html", {
        "community": community, "choices": choices, "staff": staff, "member": member, "forms": forms,
        "filters": filters, "rows": paged(request, pages.teams_of(community, search=search)),
        "joined": pages.teams_joined(member),
        "may_join": member is not None and community in pages.communities_reported(member),
        "sent": pages.returns_sent(community) if staff else []}, status=status or 200)


# -- member import (党员导入) ---------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def member_import(request):
    """A secretary loads a member list from Excel/CSV: all rows or none, each bad row named."""
    actor = request.user
    found = _managed_org(request)
    if isinstance(found, HttpResponse):
        return found
    org, led = found
    result, context, status = _import_upload(request, MemberImportForm, lambda upload: s.members_import(
        upload, organisation=org, actor=actor, filename=upload.name))
    if result is not None:
        messages.success(request, _("已导入 %(n)s 名党员。") % {"n": result["created"]})
        return redirect(f"{reverse('party:member_import')}?org={org.pk}")
    return render(request, "party/member_import.html", {"org": org, "led": led, **context}, status=status)


@login_required
@require_http_methods(["GET"])
def member_import_template(request):
    """The empty .xlsx with the header row the import reads."""
    from .services.imports import import_template_bytes

    response = HttpResponse(import_template_bytes(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''member-import-template.xlsx"
    return response
