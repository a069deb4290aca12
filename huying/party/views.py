"""Party pages: the member's own page (phone width), the organisation secretary's page, the community's
page, the summary by territory, and the representatives' studios.

Views parse input, call one service or selector, and render. A page with several small forms posts
back to itself with an `action`; a refusal re-renders the page with the message next to the field.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from huying.core.errors import DomainError
from huying.core.paging import paged
from huying.territory.models import Division, Level

from . import access, selectors, studio_selectors
from . import selectors_pages as pages
from . import services as s
from .forms import (
    DutyForm,
    MemberFilterForm,
    MemberReportForm,
    NeedCompleteForm,
    NeedPostForm,
    PeriodFilterForm,
    RatingComputeForm,
    ReasonForm,
    ServiceRecordForm,
    StudioFilterForm,
    SummaryFilterForm,
    UnitReportForm,
    VisitFilterForm,
    VisitForm,
    VisitReplyForm,
    VisitToOrderForm,
    YearFilterForm,
)
from .models import Studio
from .services import studios as st

PAGE_SIZE = 20


def _run(request, form, call, *, success: str):
    """Validate `form`, call the service; None on success (message queued), else the HTTP status."""
    if not form.is_valid():
        return 400
    try:
        call(form.cleaned_data)
    except DomainError as exc:
        form.add_domain_error(exc)
        return exc.status
    messages.success(request, success)
    return None


IMPORT_ERRORS_SHOWN = 500


def _import_upload(request, form_class, load):
    """An import page's form (Excel/CSV, all rows or none): on POST, validate it and load the file with
    `load(upload)`. Returns (result — None unless the file loaded —, the template context: the form and
    the bad rows the refusal names, the HTTP status)."""
    form, rows, result, status = form_class(), [], None, 200
    if request.method == "POST":
        form = form_class(request.POST, request.FILES)
        if not form.is_valid():
            status = 400
        else:
            try:
                result = load(form.cleaned_data["file"])
            except DomainError as exc:
                form.add_domain_error(exc)
                rows, status = exc.details.get("rows", []), exc.status
    return result, {"form": form, "row_errors": rows[:IMPORT_ERRORS_SHOWN],
                    "more_errors": max(0, len(rows) - IMPORT_ERRORS_SHOWN)}, status


def _post_action(request, forms: dict, actions: dict):
    """Run the posted `action` of a page with several forms: `actions` maps it to (form class, call, success).

    The bound form replaces forms[action] so its errors show; None on success, else the HTTP status.
    """
    action = request.POST.get("action")
    if action not in actions:
        return 400
    form_class, call, success = actions[action]
    forms[action] = form = form_class(request.POST)
    return _run(request, form, call, success=success)


def _refuse(request, exc: DomainError) -> int:
    messages.error(request, exc.message)
    return exc.status


# -- hub ---------------------------------------------------------------------------------------
@login_required
@require_GET
def index(request):
    """党建: the pages this person can use."""
    actor = request.user
    return render(request, "party/index.html", {
        "member": pages.member_of(actor),
        "orgs": pages.organisations_led(actor)[:20],
        "communities": pages.communities_for(actor)[:1].exists(),
    })


# -- the member's page (phone width) -----------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def member_home(request):
    """我的党员主页: report to the community, claim wishes, record service, see how stars were made."""
    actor = request.user
    member = pages.member_of(actor)
    if member is None:
        return render(request, "party/member_none.html", status=404)
    forms = {"report": MemberReportForm(prefix="report"),
             "service": ServiceRecordForm(prefix="service", initial={"served_on": timezone.localdate()})}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "report":
            forms["report"] = form = MemberReportForm(request.POST, prefix="report")
            status = _run(request, form, lambda d: s.member_report_submit(member, actor=actor, skills=d["skills"]),
                          success=_("已提交报到，请等待社区确认。"))
        elif action == "service":
            forms["service"] = form = ServiceRecordForm(request.POST, prefix="service")
            status = _run(request, form, lambda d: s.service_record_add(
                actor=actor, member=member, kind=d["kind"], hours=d["hours"], served_on=d["served_on"],
                note=d["note"]), success=_("服务记录已提交，社区确认后计入。"))
        elif action == "claim":
            need = selectors.needs_open(actor=actor).filter(pk=request.POST.get("need") or 0).first()
            if need is None:
                status = _refuse(request, DomainError("party.need.not_open", _("该需求已被认领或已关闭。"),
                                                      status=409))
            else:
                try:
                    s.need_claim(need, actor=actor, member=member)
                except DomainError as exc:
                    status = _refuse(request, exc)
                else:
                    messages.success(request, _("已认领“%(title)s”。") % {"title": need.title})
                    status = None
        else:
            status = 400
        if status is None:
            return redirect(request.get_full_path())
    year = timezone.localdate().year
    records = selectors.service_records(actor=actor, member=member)
    rating = pages.rating_latest(member)
    context = {
        "member": member,
        "me": selectors.member_get(member.pk, actor=actor),
        "report": pages.member_report_current(member),
        "forms": forms,
        "needs": paged(request, selectors.needs_open(actor=actor), param="np", size=10),
        "claimed": pages.needs_claimed_by(member),
        "records": paged(request, records, param="page", size=10),
        "year": year,
        "rating": rating,
        "explain": selectors.rating_explain(rating, actor=actor) if rating else None,
    }
    return render(request, "party/member.html", context, status=status or 200)


def _managed_org(request):
    """(organisation, the ones they lead) for a secretary's page (`?org=`, else the first they lead);
    a person who leads none gets the 403 page (returned), an organisation they may not manage a 404."""
    led = list(pages.organisations_led(request.user))
    pk = request.GET.get("org") or (led[0].pk if led else None)
    org = pages.organisation_managed(request.user, pk) if pk else None
    if org is None:
        if not led and pk is None:
            return render(request, "party/org_none.html", status=403)
        raise Http404(_("找不到该党组织，或您无权管理。"))
    return org, led


# -- the organisation secretary's page ---------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def org_home(request):
    """党组织书记: members (masked unless one's own organisation), who has not reported, the unit's
    own report to its street, the communities' half-year returns, and the year's stars."""
    actor = request.user
    found = _managed_org(request)
    if isinstance(found, HttpResponse):
        return found
    org, led = found
    tab = request.GET.get("tab") if request.GET.get("tab") in ("members", "returns", "ratings") else "members"
    forms = {"unit_report": UnitReportForm(prefix="ur"),
             "compute": RatingComputeForm(prefix="rc", initial={"year": timezone.localdate().year - 1})}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "unit_report":
            forms["unit_report"] = form = UnitReportForm(request.POST, prefix="ur")
            status = _run(request, form, lambda d: s.unit_report_submit(org, actor=actor,
                                                                        commitments=d["commitments"]),
                          success=_("已向街道报到，请等待街道确认。"))
        elif action == "compute":
            forms["compute"] = form = RatingComputeForm(request.POST, prefix="rc")
            status = _run(request, form, lambda d: s.star_ratings_compute(org, year=d["year"], actor=actor),
                          success=_("已按规则重新计算评星。"))
        else:
            status = 400
        if status is None:
            return redirect(request.get_full_path())
    context = {"org": org, "led": led, "tab": tab, "forms": forms,
               "unit_report": None if org.is_territorial else pages.unit_report_current(org)}
    if tab == "members":
        filters = MemberFilterForm(request.GET)
        context["filters"] = filters
        context["rows"] = paged(request, selectors.member_list(actor=actor, organisation=org,
                                                                **filters.selector_kwargs()))
        context["not_reported"] = selectors.members_not_reported(actor=actor, organisation=org).count()
    elif tab == "returns":
        filters = PeriodFilterForm(request.GET)
        period = filters.cleaned_data.get("period") if filters.is_valid() else None
        context["filters"] = filters
        context["rows"] = paged(request, selectors.returns_received(actor=actor, organisation=org, period=period))
    else:
        filters = YearFilterForm(request.GET)
        year = (filters.cleaned_data.get("year") if filters.is_valid() else None) or timezone.localdate().year - 1
        context["filters"], context["year"] = filters, year
        context["rows"] = paged(request, selectors.ratings(actor=actor, year=year, organisation=org))
    return render(request, "party/org.html", context, status=status or 200)


# -- the community's page ----------------------------------------------------------------------
def _community_action(request, actor, community, forms):
    """Handle one POST of the community page; None when done (redirect), else the status to render."""
    action = request.POST.get("action")
    target = request.POST.get("target") or 0
    if action in ("confirm", "reject"):
        report = selectors.member_reports_pending(actor=actor).filter(pk=target).first()
        if report is None:
            return _refuse(request, DomainError("party.report.not_pending", _("该报到已处理。"), status=409))
        if action == "confirm":
            try:
                s.member_report_confirm(report, actor=actor)
            except DomainError as exc:
                return _refuse(request, exc)
            messages.success(request, _("已确认 %(name)s 的报到。") % {"name": report.member.user})
            return None
        forms["reject"] = form = ReasonForm(request.POST, prefix=f"reject-{report.pk}")
        forms["reject_target"] = report.pk
        return _run(request, form, lambda d: s.member_report_reject(report, actor=actor, reason=d["reason"]),
                    success=_("已退回该报到。"))
    if action in ("unit_confirm", "unit_reject"):
        report = selectors.unit_reports_pending(actor=actor).filter(pk=target).first()
        if report is None:
            return _refuse(request, DomainError("party.report.not_pending", _("该报到已处理。"), status=409))
        if action == "unit_confirm":
            try:
                s.unit_report_confirm(report, actor=actor)
            except DomainError as exc:
                return _refuse(request, exc)
            messages.success(request, _("已确认 %(org)s 的报到。") % {"org": report.organisation})
            return None
        forms["unit_reject"] = form = ReasonForm(request.POST, prefix=f"ureject-{report.pk}")
        forms["unit_reject_target"] = report.pk
        return _run(request, form, lambda d: s.unit_report_reject(report, actor=actor, reason=d["reason"]),
                    success=_("已退回该单位报到。"))
    if action == "post_need":
        forms["need"] = form = NeedPostForm(request.POST, prefix="need")
        return _run(request, form, lambda d: s.need_post(community=community, actor=actor, **d),
                    success=_("已发布，报到党员可以认领。"))
    if action == "complete_need":
        need = pages.community_needs(actor, community).filter(pk=target).first()
        if need is None:
            return _refuse(request, DomainError("party.need.not_claimed", _("该需求尚未被认领，或已完成。"),
                                                status=409))
        forms["complete"] = form = NeedCompleteForm(request.POST, prefix=f"done-{need.pk}")
        forms["complete_target"] = need.pk
        return _run(request, form, lambda d: s.need_complete(need, actor=actor, hours=d["hours"], note=d["note"]),
                    success=_("已确认完成，服务时长已记录。"))
    if action == "confirm_service":
        record = selectors.service_records(actor=actor, community=community).filter(pk=target).first()
        if record is None:
            return _refuse(request, DomainError("party.service.not_found", _("找不到该服务记录。"), status=404))
        try:
            s.service_record_confirm(record, actor=actor)
        except DomainError as exc:
            return _refuse(request, exc)
        messages.success(request, _("服务记录已确认。"))
        return None
    return 400


@login_required
@require_http_methods(["GET", "POST"])
def community_home(request):
    """社区: confirm members' (and, for a street, units') reports, post wishes and needs, confirm the
    service done, and see the members who live here (masked) — reported or not."""
    actor = request.user
    search = request.GET.get("cq", "")
    choices = pages.communities_for(actor, search)
    code = request.GET.get("community")
    community = choices.filter(code=code).first() if code else choices.first()
    if community is None:
        if code:
            raise Http404(_("找不到该社区，或您无权查看。"))
        return render(request, "party/community_none.html", status=403)
    forms = {"need": NeedPostForm(prefix="need")}
    status = 200
    if request.method == "POST":
        status = _community_action(request, actor, community, forms)
        if status is None:
            return redirect(request.get_full_path())
    filters = MemberFilterForm(request.GET)
    street = community.parent if community.parent_id and community.parent.level == Level.STREET else None
    context = {
        "community": community, "choices": choices[:200], "cq": search, "forms": forms,
        "totals": selectors.party_summary(actor=actor, root=community)["total"],
        "reports": paged(request, selectors.member_reports_pending(actor=actor).filter(community=community),
                          param="rp", size=10),
        "unit_reports": selectors.unit_reports_pending(actor=actor).filter(street=street)[:20] if street else [],
        "needs": paged(request, pages.community_needs(actor, community), param="np", size=10),
        "unconfirmed": paged(request, selectors.service_records(actor=actor, community=community)
                              .filter(confirmed=False), param="sp", size=10),
        "filters": filters,
        "rows": paged(request, selectors.member_list(actor=actor, community=community, **filters.selector_kwargs())),
        "studios": studio_selectors.studio_list(actor=actor, community=community),
    }
    return render(request, "party/community.html", context, status=status or 200)


# -- the summary -------------------------------------------------------------------------------
@login_required
@require_GET
def summary(request):
    """汇总: units and members reported, service teams, services and hours, by territory."""
    filters = SummaryFilterForm(request.GET)
    data = filters.cleaned_data if filters.is_valid() else {}
    root = None
    if data.get("root"):
        root = Division.objects.filter(code=data["root"]).first()
        if root is None:
            raise Http404(_("找不到该区划。"))
    try:
        result = selectors.party_summary(actor=request.user, root=root, year=data.get("year"))
    except DomainError as exc:
        return render(request, "party/summary.html", {"filters": filters, "error": exc.message}, status=exc.status)
    trail = pages.summary_trail(request.user, result["root"]["code"])
    return render(request, "party/summary.html", {"filters": filters, "result": result, "trail": trail,
                                                  "year": data.get("year")})


# -- representatives' studios ------------------------------------------------------------------
@login_required
@require_GET
def studio_list(request):
    filters = StudioFilterForm(request.GET)
    search = filters.cleaned_data.get("q", "") if filters.is_valid() else ""
    studios = studio_selectors.studio_list(actor=request.user, search=search)
    return render(request, "party/studios.html", {"filters": filters, "page": paged(request, studios)})


def _week_start(request) -> date:
    try:
        day = date.fromisoformat(request.GET.get("week", ""))
        if not 1900 <= day.year <= 2100:  # the week's arithmetic overflows near year 1 and 9999
            raise ValueError(day)
    except ValueError:
        day = timezone.localdate()
    return day - timedelta(days=day.weekday())


@login_required
@require_http_methods(["GET", "POST"])
def studio_detail(request, pk: int):
    """One studio: its week's roster, the visits, and (for the one on duty or the community) the
    forms to record a visit and to put a representative on the roster."""
    actor = request.user
    studio = get_object_or_404(Studio.objects.select_related("community", "host__unit"), pk=pk)
    staff = access.can_act_for_territory(actor, studio.community.code)
    reps = list(studio_selectors.representative_list()) if staff else []
    forms = {"visit": VisitForm(prefix="visit"), "duty": DutyForm(prefix="duty", representatives=reps)}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "visit":
            forms["visit"] = form = VisitForm(request.POST, prefix="visit")
            status = _run(request, form, lambda d: st.studio_visit_record(studio, actor=actor, **d),
                          success=_("来访已登记。"))
        elif action == "duty":
            forms["duty"] = form = DutyForm(request.POST, prefix="duty", representatives=reps)
            rep = {r.pk: r for r in reps}

            def schedule(d):
                if d["representative"] not in rep:
                    raise DomainError("party.studio.rep_unknown", _("请选择党代表。"), field="representative")
                st.studio_duty_schedule(studio, representative=rep[d["representative"]], starts_at=d["starts_at"],
                                        ends_at=d["ends_at"], actor=actor)

            status = _run(request, form, schedule, success=_("值班已安排。"))
        else:
            status = 400
        if status is None:
            return redirect(request.get_full_path())
    monday = _week_start(request)
    tz = timezone.get_current_timezone()
    start = datetime.combine(monday, time.min, tzinfo=tz)
    filters = VisitFilterForm(request.GET)
    fd = filters.cleaned_data if filters.is_valid() else {}
    now = timezone.now()
    on_duty = st.on_duty(studio, now)
    context = {
        "studio": studio, "staff": staff, "forms": forms, "monday": monday,
        "prev_week": (monday - timedelta(days=7)).isoformat(), "next_week": (monday + timedelta(days=7)).isoformat(),
        "roster": studio_selectors.studio_roster(studio, start=start, end=start + timedelta(days=7)),
        "on_duty": on_duty,
        "may_record": staff or (on_duty is not None and on_duty.representative.user_id == actor.pk),
        "filters": filters,
        "visits": paged(request, studio_selectors.studio_visits(actor=actor, studio=studio,
                                                                 status=fd.get("status"), search=fd.get("q", ""))),
    }
    return render(request, "party/studio.html", context, status=status or 200)


@login_required
@require_http_methods(["GET", "POST"])
def visit_detail(request, pk: int):
    """One visit: answer it, or hand it to dispatch as a work order."""
    actor = request.user
    visit = studio_selectors.visit_get(pk, actor=actor)
    if visit is None:
        raise Http404(_("找不到该来访记录，或您无权查看。"))
    # No prefixes: the subject picker is dispatch's own partial, which names its field "subject".
    forms = {"reply": VisitReplyForm(), "order": VisitToOrderForm()}
    status = 200
    if request.method == "POST":
        status = _post_action(request, forms, {
            "reply": (VisitReplyForm, lambda d: st.studio_visit_reply(visit, reply=d["reply"], actor=actor),
                      _("已答复。")),
            "order": (VisitToOrderForm, lambda d: st.studio_visit_to_work_order(
                visit, subject=d["subject"], request_type=d["request_type"] or None, actor=actor), _("已转为工单。")),
        })
        if status is None:
            return redirect(request.get_full_path())
    row = studio_selectors.visit_row(visit.pk, actor=actor)
    return render(request, "party/visit.html", {"visit": visit, "row": row, "forms": forms},
                  status=status or 200)

