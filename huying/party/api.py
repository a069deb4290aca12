"""Party API: members (masked as the viewer may see them), double reporting, service records, the
summary by territory, and the representatives' studios.

Handlers translate HTTP to the services and selectors and nothing more; a DomainError becomes
{code, message, field} with its status (see `huying.api`). Objects outside the caller's scope are 404.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from huying.core.apischema import Day, ErrorOut, Id, Moment, Page, PageSize, Year
from huying.core.errors import DomainError
from huying.territory.models import Division

from . import selectors, studio_selectors
from . import selectors_pages as pages
from . import services as s
from .models import Member, MemberReport, ServiceRecord, Studio
from .services import studios as st

router = Router(tags=["party"])


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _not_found(what: str) -> DomainError:
    return DomainError("party.not_found", _("找不到该%(what)s，或您无权查看。") % {"what": what}, status=404)


class Paging(Schema):
    page: Page = 1
    page_size: PageSize = 20


def _page(items, paging: Paging, out) -> dict:
    start = (paging.page - 1) * paging.page_size
    return {"count": items.count(), "page": paging.page, "page_size": paging.page_size,
            "results": [out(x) for x in items[start:start + paging.page_size]]}


# -- members -----------------------------------------------------------------------------------
class MemberOut(Schema):
    id: int
    name: str
    phone: str
    id_number: str
    home_address: str
    organisation_id: int
    organisation: str
    home_community: str
    home_community_code: str
    status: str
    in_service: bool
    report_status: str
    masked: bool


class MemberPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[MemberOut]


class MemberFilters(Paging):
    organisation: Id | None = None
    community: str | None = None
    reported: bool | None = None
    status: str | None = None
    q: str = ""


def _member_out(row) -> dict:
    return {k: getattr(row, k) for k in MemberOut.model_fields}


@router.get("/members", response={200: MemberPage, 404: ErrorOut}, summary="党员名册（按权限脱敏）")
def member_list(request, filters: Query[MemberFilters]):
    org = None
    if filters.organisation is not None:
        org = selectors.organisation_list(actor=request.user).filter(pk=filters.organisation).first()
        if org is None:
            raise _not_found(_("党组织"))
    community = None
    if filters.community:
        community = Division.objects.filter(code=filters.community).first()
        if community is None:
            raise _not_found(_("社区"))
    rows = selectors.member_list(actor=request.user, organisation=org, community=community,
                                 reported=filters.reported, search=filters.q, status=filters.status)
    return _page(rows, filters, _member_out)


@router.get("/members/{member_id}", response={200: MemberOut, 404: ErrorOut}, summary="党员信息")
def member_detail(request, member_id: Id):
    return _member_out(selectors.member_get(member_id, actor=request.user))


# -- double reporting --------------------------------------------------------------------------
class ReportIn(Schema):
    member_id: Id | None = Field(default=None, description="空：本人报到")
    skills: str = ""


class ReasonIn(Schema):
    reason: str = ""


class ReportOut(Schema):
    id: int
    member_id: int
    member: str
    community_code: str
    community: str
    status: str
    skills: str
    reported_at: datetime
    decided_at: datetime | None
    note: str


def _report_out(r: MemberReport) -> dict:
    return {"id": r.pk, "member_id": r.member_id, "member": str(r.member.user), "community_code": r.community.code,
            "community": r.community.name, "status": r.status, "skills": r.skills, "reported_at": r.reported_at,
            "decided_at": r.decided_at, "note": r.note}


def _member(request, member_id: int | None) -> Member:
    if member_id is None:
        member = pages.member_of(request.user)
    else:
        member = selectors.members_visible(actor=request.user).filter(pk=member_id).first()
    if member is None:
        raise _not_found(_("党员"))
    return member


def _pending_report(request, report_id: int) -> MemberReport:
    report = selectors.member_reports_pending(actor=request.user).filter(pk=report_id).first()
    if report is None:
        raise _not_found(_("待确认的报到"))
    return report


@router.post("/member-reports", response={201: ReportOut, **ERRORS}, summary="党员到社区报到")
def member_report_submit(request, payload: ReportIn):
    report = s.member_report_submit(_member(request, payload.member_id), actor=request.user, skills=payload.skills)
    return Status(201, _report_out(report))


@router.get("/member-reports/pending", response={200: list[ReportOut]}, summary="待本社区确认的报到")
def member_reports_pending(request, paging: Query[Paging]):
    return _page(selectors.member_reports_pending(actor=request.user), paging, _report_out)["results"]


@router.post("/member-reports/{report_id}/confirm", response={200: ReportOut, **ERRORS}, summary="社区确认报到")
def member_report_confirm(request, report_id: Id):
    return _report_out(s.member_report_confirm(_pending_report(request, report_id), actor=request.user))


@router.post("/member-reports/{report_id}/reject", response={200: ReportOut, **ERRORS}, summary="社区退回报到")
def member_report_reject(request, report_id: Id, payload: ReasonIn):
    return _report_out(s.member_report_reject(_pending_report(request, report_id), actor=request.user,
                                              reason=payload.reason))


# -- service records ---------------------------------------------------------------------------
class ServiceIn(Schema):
    member_id: Id | None = Field(default=None, description="空：本人")
    kind: str
    hours: Decimal = Field(ge=0, max_digits=6, decimal_places=1)
    served_on: Day
    note: str = ""


class ServiceOut(Schema):
    id: int
    member_id: int | None
    member: str | None
    organisation_id: int | None
    community_code: str
    kind: str
    hours: Decimal
    served_on: date
    confirmed: bool
    note: str


class ServicePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ServiceOut]


class ServiceFilters(Paging):
    member: Id | None = None
    community: str | None = None
    year: Year | None = None
    confirmed: bool | None = None


def _service_out(r: ServiceRecord) -> dict:
    return {"id": r.pk, "member_id": r.member_id, "member": str(r.member.user) if r.member_id else None,
            "organisation_id": r.organisation_id, "community_code": r.community.code, "kind": r.kind,
            "hours": r.hours, "served_on": r.served_on, "confirmed": r.confirmed, "note": r.note}


@router.get("/service-records", response={200: ServicePage, 404: ErrorOut}, summary="服务记录")
def service_record_list(request, filters: Query[ServiceFilters]):
    member = _member(request, filters.member) if filters.member is not None else None
    community = Division.objects.filter(code=filters.community).first() if filters.community else None
    if filters.community and community is None:
        raise _not_found(_("社区"))
    qs = selectors.service_records(actor=request.user, member=member, community=community, year=filters.year)
    if filters.confirmed is not None:
        qs = qs.filter(confirmed=filters.confirmed)
    return _page(qs, filters, _service_out)


@router.post("/service-records", response={201: ServiceOut, **ERRORS}, summary="登记服务")
def service_record_add(request, payload: ServiceIn):
    record = s.service_record_add(actor=request.user, member=_member(request, payload.member_id), kind=payload.kind,
                                  hours=payload.hours, served_on=payload.served_on, note=payload.note)
    return Status(201, _service_out(record))


@router.post("/service-records/{record_id}/confirm", response={200: ServiceOut, **ERRORS}, summary="社区确认服务")
def service_record_confirm(request, record_id: Id):
    record = selectors.service_records(actor=request.user).filter(pk=record_id).first()
    if record is None:
        raise _not_found(_("服务记录"))
    return _service_out(s.service_record_confirm(record, actor=request.user))


# -- summary -----------------------------------------------------------------------------------
class SummaryRowOut(Schema):
    code: str
    name: str
    units_reported: int
    members_reported: int
    service_teams: int
    services_done: int
    service_hours: Decimal


class SummaryOut(Schema):
    root: dict
    year: int | None
    total: SummaryRowOut
    rows: list[SummaryRowOut]


@router.get("/summary", response={200: SummaryOut, 403: ErrorOut, 404: ErrorOut}, summary="双报到与服务汇总")
def summary(request, root: str | None = None, year: Year | None = None):
    division = None
    if root:
        division = Division.objects.filter(code=root).first()
        if division is None:
            raise _not_found(_("区划"))
    return selectors.party_summary(actor=request.user, root=division, year=year)


# -- representatives' studios ------------------------------------------------------------------
class StudioOut(Schema):
    id: int
    name: str
    community_code: str
    community: str
    address: str
    open_visits: int


class DutyOut(Schema):
    id: int
    representative: str
    level: str
    starts_at: datetime
    ends_at: datetime


class VisitIn(Schema):
    topic: str
    content: str = ""
    visitor_name: str = ""
    visitor_phone: str = ""
    address: str = ""
    lng: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    received_at: Moment | None = None


class VisitOut(Schema):
    id: int
    studio_id: int
    topic: str
    visitor_name: str
    visitor_phone: str
    representative: str
    received_at: datetime
    status: str
    reply: str
    work_order_code: str


class ToOrderIn(Schema):
    subject: str
    request_type: str | None = None


class StudioFilters(Paging):
    community: str | None = None
    q: str = ""


def _studio_out(x: Studio) -> dict:
    return {"id": x.pk, "name": x.name, "community_code": x.community.code, "community": x.community.name,
            "address": x.address, "open_visits": x.open_visits}


def _visit_out(request, visit_id: int) -> dict:
    row = studio_selectors.visit_row(visit_id, actor=request.user)
    return {k: getattr(row, k) for k in VisitOut.model_fields}


@router.get("/studios", response={200: list[StudioOut], 404: ErrorOut}, summary="党代表工作室")
def studio_list(request, filters: Query[StudioFilters]):
    community = Division.objects.filter(code=filters.community).first() if filters.community else None
    if filters.community and community is None:
        raise _not_found(_("社区"))
    qs = studio_selectors.studio_list(actor=request.user, community=community, search=filters.q)
    return _page(qs, filters, _studio_out)["results"]


def _studio(pk: int) -> Studio:
    studio = Studio.objects.select_related("community").filter(pk=pk, active=True).first()
    if studio is None:
        raise _not_found(_("工作室"))
    return studio


@router.get("/studios/{studio_id}/roster", response={200: list[DutyOut], 404: ErrorOut}, summary="值班安排")
def studio_roster(request, studio_id: Id, start: Moment, end: Moment):
    duties = studio_selectors.studio_roster(_studio(studio_id), start=start, end=end)[:500]
    return [{"id": d.pk, "representative": str(d.representative.user), "level": d.representative.level,
             "starts_at": d.starts_at, "ends_at": d.ends_at} for d in duties]


@router.post("/studios/{studio_id}/visits", response={201: VisitOut, **ERRORS}, summary="登记来访")
def studio_visit_record(request, studio_id: Id, payload: VisitIn):
    visit = st.studio_visit_record(_studio(studio_id), actor=request.user, **payload.dict())
    return Status(201, _visit_out(request, visit.pk))


@router.get("/studios/{studio_id}/visits", response={200: list[VisitOut], 404: ErrorOut}, summary="来访记录")
def studio_visits(request, studio_id: Id, paging: Query[Paging], status: str | None = None):
    rows = studio_selectors.studio_visits(actor=request.user, studio=_studio(studio_id), status=status)
    return _page(rows, paging, lambda r: {k: getattr(r, k) for k in VisitOut.model_fields})["results"]


@router.post("/visits/{visit_id}/work-order", response={200: VisitOut, **ERRORS}, summary="来访转工单")
def studio_visit_to_work_order(request, visit_id: Id, payload: ToOrderIn):
    visit = studio_selectors.visit_get(visit_id, actor=request.user)
    if visit is None:
        raise _not_found(_("来访记录"))
    st.studio_visit_to_work_order(visit, subject=payload.subject, request_type=payload.request_type,
                                  actor=request.user)
    return _visit_out(request, visit.pk)
