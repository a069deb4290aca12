"""Double reporting (双报到) and the service it leads to.

A unit organisation reports to the street where it sits and the street confirms; an in-service
member reports to the community where they live and the community confirms. Reported members
and units then serve there: they claim small wishes (微心愿) and community needs, join service
teams, serve as grid instructors, and their hours are recorded. Each half-year the community's
record of every reported member goes back to the member's own organisation.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.people.models import Unit, UnitKind
from huying.territory.models import UNIFIED_LAYER, Division, Grid, Level

from .. import access
from ..models import (
    ActivityStatus,
    Attendance,
    AttendanceStatus,
    GridInstructor,
    HalfYearReturn,
    Member,
    MemberReport,
    MemberStatus,
    Need,
    NeedKind,
    NeedStatus,
    PartyOrganisation,
    ReportStatus,
    ServiceKind,
    ServiceRecord,
    ServiceTeam,
    ServiceTeamMember,
    UnitReport,
)
from .common import forbid, now_or, require_org_manager, require_territory, street_of

OPEN = (ReportStatus.PENDING, ReportStatus.CONFIRMED)
MAX_HOURS_PER_RECORD = Decimal(24)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("party.reason_required", _("请填写原因。"), field="reason")
    return reason


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError("party.service.bad_hours", _("服务时长应为数字。"), field="hours") from None
    if not hours.is_finite() or hours < 0 or hours > MAX_HOURS_PER_RECORD:
        raise DomainError("party.service.bad_hours", _("服务时长应在 0 到 24 小时之间。"), field="hours")
    return hours.quantize(Decimal("0.1"))


def member_reported_to(member: Member, community: Division) -> bool:
    return MemberReport.objects.filter(member=member, community=community, status=ReportStatus.CONFIRMED).exists()


def unit_reported_to(organisation: PartyOrganisation, street: Division | None) -> bool:
    return street is not None and UnitReport.objects.filter(organisation=organisation, street=street,
                                                            status=ReportStatus.CONFIRMED).exists()


# -- unit organisations → street ---------------------------------------------------------------
@transaction.atomic
def unit_report_submit(organisation: PartyOrganisation, *, actor, commitments: str = "", now=None) -> UnitReport:
    """A unit Party organisation reports (报到) to the street where it sits."""
    now = now_or(now)
    require_org_manager(actor, organisation)
    if organisation.is_territorial:
        raise DomainError("party.report.territorial", _("区域党组织不需要报到。"), field="organisation")
    if organisation.street_id is None:
        raise DomainError("party.report.unit_not_located", _("该党组织的地址未能定位到街道，请先完善地址。"),
                          field="address")
    if UnitReport.objects.filter(organisation=organisation, status__in=OPEN).exists():
        raise DomainError("party.report.exists", _("该党组织已报到或正在等待确认。"), status=409)
    try:
        with transaction.atomic():
            report = UnitReport.objects.create(organisation=organisation, street=organisation.street,
                                               commitments=(commitments or "").strip(), reported_at=now)
    except IntegrityError:
        raise DomainError("party.report.exists", _("该党组织已报到或正在等待确认。"), status=409) from None
    audit_log(report, "party.unit_report.submitted", actor=actor,
              new={"organisation": organisation.unit.code, "street": organisation.street.code})
    return report


def _decide(model, report, *, confirm: bool, actor, territory: str, event: str, now, reason: str = ""):
    """Confirm or reject a pending unit/member report and audit it as `<event>.confirmed|rejected`."""
    report = model.objects.select_for_update(of=("self",)).get(pk=report.pk)
    require_territory(actor, getattr(report, territory))
    if report.status != ReportStatus.PENDING:
        raise DomainError("party.report.not_pending", _("该报到已处理。"), status=409)
    report.status = ReportStatus.CONFIRMED if confirm else ReportStatus.REJECTED
    report.decided_at, report.decided_by, report.note = now, actor, reason
    report.save(update_fields=["status", "decided_at", "decided_by", "note"])
    audit_log(report, f"{event}.{'confirmed' if confirm else 'rejected'}", actor=actor, old={"status": "pending"},
              new={"status": report.status}, reason=reason)
    return report


@transaction.atomic
def unit_report_confirm(report: UnitReport, *, actor, now=None) -> UnitReport:
    """The street confirms a unit organisation's report."""
    return _decide(UnitReport, report, confirm=True, actor=actor, territory="street", event="party.unit_report",
                   now=now_or(now))


@transaction.atomic
def unit_report_reject(report: UnitReport, *, actor, reason: str, now=None) -> UnitReport:
    reason = _reason(reason)
    return _decide(UnitReport, report, confirm=False, actor=actor, territory="street", event="party.unit_report",
                   now=now_or(now), reason=reason)


# -- members → community -----------------------------------------------------------------------
@transaction.atomic
def member_report_submit(member: Member, *, actor, skills: str = "", now=None) -> MemberReport:
    """An in-service member reports (报到) to the community where they live."""
    now = now_or(now)
    member = Member.objects.select_for_update(of=("self",)).select_related("organisation__unit", "home_community").get(
        pk=member.pk)
    if getattr(actor, "pk", None) != member.user_id:
        require_org_manager(actor, member.organisation)
    if member.status == MemberStatus.LEFT:
        raise DomainError("party.member.left", _("该党员已转出。"), status=409)
    if member.home_community_id is None:
        raise DomainError("party.report.home_not_located", _("居住地址未能定位到社区，请先完善居住地址。"),
                          field="home_address")
    if MemberReport.objects.filter(member=member, status__in=OPEN).exists():
        raise DomainError("party.report.exists", _("您已报到或正在等待社区确认。"), status=409)
    report = MemberReport.objects.create(member=member, community=member.home_community,
                                         skills=(skills or "").strip()[:255], reported_at=now)
    audit_log(report, "party.member_report.submitted", actor=actor,
              new={"member": member.user.username, "community": member.home_community.code})
    return report


@transaction.atomic
def member_report_confirm(report: MemberReport, *, actor, now=None) -> MemberReport:
    """The community confirms a member's report."""
    return _decide(MemberReport, report, confirm=True, actor=actor, territory="community",
                   event="party.member_report", now=now_or(now))


@transaction.atomic
def member_report_reject(report: MemberReport, *, actor, reason: str, now=None) -> MemberReport:
    reason = _reason(reason)
    return _decide(MemberReport, report, confirm=False, actor=actor, territory="community",
                   event="party.member_report", now=now_or(now), reason=reason)


# -- service teams and grid instructors --------------------------------------------------------
@transaction.atomic
def service_team_create(*, community: Division, name: str, actor, speciality: str = "", now=None) -> ServiceTeam:
    """A community forms a service team (服务队) of reported members; the team is a Unit."""
    now = now_or(now)
    if community.level != Level.COMMUNITY:
        raise DomainError("party.team.not_community", _("服务队建在社区。"), field="community")
    require_territory(actor, community)
    name = (name or "").strip()
    if not name:
        raise DomainError("party.team.name_required", _("请填写服务队名称。"), field="name")
    parent = Unit.objects.filter(code=f"party-{community.code}", kind=UnitKind.PARTY).first()
    serial = ServiceTeam.objects.filter(community=community).count() + 1
    code = f"team-{community.code}-{serial:03d}"
    while Unit.objects.filter(code=code).exists():
        serial += 1
        code = f"team-{community.code}-{serial:03d}"
    from huying.people.services import unit_create

    unit = unit_create(code=code, name=name, kind=UnitKind.VOLUNTEER_TEAM, parent=parent, division=community,
                       actor=actor)
    team = ServiceTeam.objects.create(unit=unit, community=community, speciality=(speciality or "").strip()[:60],
                                      created_at=now)
    audit_log(team, "party.team.created", actor=actor, new={"unit": code, "community": community.code})
    return team


@transaction.atomic
def service_team_join(team: ServiceTeam, *, member: Member, actor, now=None) -> ServiceTeamMember:
    """A reported member joins a service team of the community they reported to."""
    now = now_or(now)
    if getattr(actor, "pk", None) != member.user_id:
        require_territory(actor, team.community)
    if not member_reported_to(member, team.community):
        raise DomainError("party.team.not_reported", _("只有到本社区报到并经确认的党员可以加入服务队。"),
                          field="member")
    if ServiceTeamMember.objects.filter(team=team, member=member).exists():
        raise DomainError("party.team.already_member", _("已在该服务队中。"), status=409)
    row = ServiceTeamMember.objects.create(team=team, member=member, joined_at=now)
    audit_log(team, "party.team.joined", actor=actor, new={"member": member.user.username})
    return row


@transaction.atomic
def grid_instructor_assign(grid: Grid, *, member: Member, actor, started_on: date) -> GridInstructor:
    """The community names a reported member its grid's instructor (网格指导员)."""
    if grid.layer != UNIFIED_LAYER:
        raise DomainError("party.instructor.bad_grid", _("请选择统一网格。"), field="grid")
    require_territory(actor, grid.community)
    if not member_reported_to(member, grid.community):
        raise DomainError("party.instructor.not_reported", _("网格指导员须为到本社区报到并经确认的党员。"),
                          field="member")
    if GridInstructor.objects.filter(grid=grid, member=member, ended_on__isnull=True).exists():
        raise DomainError("party.instructor.exists", _("该党员已是本网格指导员。"), status=409)
    post = GridInstructor.objects.create(grid=grid, member=member, started_on=started_on)
    audit_log(post, "party.instructor.assigned", actor=actor,
              new={"grid": grid.code, "member": member.user.username, "started_on": started_on.isoformat()})
    return post


@transaction.atomic
def grid_instructor_end(post: GridInstructor, *, actor, ended_on: date) -> GridInstructor:
    post = GridInstructor.objects.select_for_update(of=("self",)).select_related("grid__community").get(pk=post.pk)
    require_territory(actor, post.grid.community)
    if post.ended_on is not None:
        raise DomainError("party.instructor.ended", _("该任职已结束。"), status=409)
    if ended_on < post.started_on:
        raise DomainError("party.instructor.bad_end", _("结束日期不能早于开始日期。"), field="ended_on")
    post.ended_on = ended_on
    post.save(update_fields=["ended_on"])
    audit_log(post, "party.instructor.ended", actor=actor, new={"ended_on": ended_on.isoformat()})
    return post


# -- wishes and needs --------------------------------------------------------------------------
@transaction.atomic
def need_post(*, community: Division, kind: str, title: str, actor, description: str = "",
              requester_name: str = "", now=None) -> Need:
    """The community posts a resident's small wish (微心愿) or a community need for members to claim."""
    now = now_or(now)
    if community.level != Level.COMMUNITY:
        raise DomainError("party.need.not_community", _("需求发布在社区。"), field="community")
    require_territory(actor, community)
    if kind not in NeedKind.values:
        raise DomainError("party.need.bad_kind", _("需求类别无效。"), field="kind")
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise DomainError("party.need.title", _("请填写标题（不超过 120 字）。"), field="title")
    need = Need.objects.create(community=community, kind=kind, title=title, description=(description or "").strip(),
                               requester_name=(requester_name or "").strip()[:60], posted_at=now, posted_by=actor)
    audit_log(need, "party.need.posted", actor=actor, new={"community": community.code, "kind": kind, "title": title})
    return need


@transaction.atomic
def need_claim(need: Need, *, actor, member: Member | None = None, organisation: PartyOrganisation | None = None,
               now=None) -> Need:
    """A reported member, or a reported unit organisation, claims (认领) an open wish or need."""
    now = now_or(now)
    if (member is None) == (organisation is None):
        raise DomainError("party.need.claimer", _("请由一名党员或一个党组织认领。"), field="member")
    need = Need.objects.select_for_update(of=("self",)).select_related("community").get(pk=need.pk)
    if need.status != NeedStatus.OPEN:
        raise DomainError("party.need.not_open", _("该需求已被认领或已关闭。"), status=409)
    if member is not None:
        if getattr(actor, "pk", None) != member.user_id:
            forbid(_("党员本人才能认领。"))
        if not member_reported_to(member, need.community):
            raise DomainError("party.need.not_reported", _("请先到该社区报到，经确认后再认领。"), field="member")
    else:
        require_org_manager(actor, organisation)
        if not unit_reported_to(organisation, street_of(need.community)):
            raise DomainError("party.need.org_not_reported", _("该党组织尚未到所在街道报到。"), field="organisation")
    need.status, need.claimed_at = NeedStatus.CLAIMED, now
    need.claimed_by_member, need.claimed_by_org = member, organisation
    need.save(update_fields=["status", "claimed_at", "claimed_by_member", "claimed_by_org"])
    audit_log(need, "party.need.claimed", actor=actor, old={"status": NeedStatus.OPEN},
              new={"status": need.status, "member": member.user.username if member else None,
                   "organisation": organisation.unit.code if organisation else None})
    return need


@transaction.atomic
def need_complete(need: Need, *, actor, hours, served_on: date | None = None, note: str = "",
                  now=None) -> ServiceRecord:
    """The community confirms a claimed wish or need is done; the service and its hours are recorded."""
    now = now_or(now)
    need = Need.objects.select_for_update(of=("self",)).select_related("community").get(pk=need.pk)
    require_territory(actor, need.community)
    if need.status != NeedStatus.CLAIMED:
        raise DomainError("party.need.not_claimed", _("该需求尚未被认领，或已完成。"), status=409)
    hours = _hours(hours)
    need.status, need.done_at = NeedStatus.DONE, now
    need.save(update_fields=["status", "done_at"])
    record = ServiceRecord.objects.create(
        member=need.claimed_by_member, organisation=need.claimed_by_org, community=need.community,
        kind=ServiceKind.WISH if need.kind == NeedKind.WISH else ServiceKind.NEED, hours=hours,
        served_on=served_on or timezone.localdate(now), need=need, note=(note or "").strip()[:255], confirmed=True,
        recorded_at=now, recorded_by=actor)
    audit_log(need, "party.need.completed", actor=actor, old={"status": NeedStatus.CLAIMED},
              new={"status": need.status, "hours": str(hours), "service_record": record.pk})
    return record


@transaction.atomic
def need_cancel(need: Need, *, actor, reason: str, now=None) -> Need:
    now = now_or(now)
    reason = _reason(reason)
    need = Need.objects.select_for_update(of=("self",)).select_related("community").get(pk=need.pk)
    require_territory(actor, need.community)
    if need.status in (NeedStatus.DONE, NeedStatus.CANCELLED):
        raise DomainError("party.need.closed", _("该需求已关闭。"), status=409)
    old = need.status
    need.status = NeedStatus.CANCELLED
    need.save(update_fields=["status"])
    audit_log(need, "party.need.cancelled", actor=actor, old={"status": old}, new={"status": need.status},
              reason=reason)
    return need


# -- service records ---------------------------------------------------------------------------
@transaction.atomic
def service_record_add(
    *,
    actor,
    kind: str,
    hours,
    served_on: date,
    member: Member | None = None,
    organisation: PartyOrganisation | None = None,
    community: Division | None = None,
    team: ServiceTeam | None = None,
    note: str = "",
    now=None,
) -> ServiceRecord:
    """Record service done in a community. Recorded by the community it stands confirmed; recorded by
    the member themself it waits for the community's confirmation before it counts."""
    now = now_or(now)
    if (member is None) == (organisation is None):
        raise DomainError("party.service.doer", _("请选择一名党员或一个党组织。"), field="member")
    if kind not in ServiceKind.values:
        raise DomainError("party.service.bad_kind", _("服务类别无效。"), field="kind")
    hours = _hours(hours)
    if served_on > timezone.localdate(now):
        raise DomainError("party.service.future", _("服务日期不能晚于今天。"), field="served_on")
    if team is not None:
        community = community or team.community
        if team.community_id != community.pk:
            raise DomainError("party.service.team_elsewhere", _("服务队不属于该社区。"), field="team")
    if member is not None:
        if community is None:
            report = MemberReport.objects.filter(member=member, status=ReportStatus.CONFIRMED).select_related(
                "community").first()
            community = report.community if report else None
        if community is None or not member_reported_to(member, community):
            raise DomainError("party.service.not_reported", _("只有到社区报到并经确认的党员才能登记服务。"),
                              field="member")
    else:
        if community is None or not unit_reported_to(organisation, street_of(community)):
            raise DomainError("party.service.org_not_reported", _("该党组织尚未到该社区所在街道报到。"),
                              field="organisation")
    by_community = access.can_act_for_territory(actor, community.code)
    if not by_community:
        own = member is not None and getattr(actor, "pk", None) == member.user_id
        if not own and not (organisation is not None and access.can_manage_org(actor, organisation)):
            forbid()
    record = ServiceRecord.objects.create(member=member, organisation=organisation, community=community, kind=kind,
                                          hours=hours, served_on=served_on, team=team,
                                          note=(note or "").strip()[:255], confirmed=by_community,
                                          recorded_at=now, recorded_by=actor)
    audit_log(record, "party.service.recorded", actor=actor, new={
        "member": member.user.username if member else None,
        "organisation": organisation.unit.code if organisation else None, "community": community.code,
        "kind": kind, "hours": str(hours), "served_on": served_on.isoformat(), "confirmed": by_community})
    return record


@transaction.atomic
def service_record_confirm(record: ServiceRecord, *, actor, now=None) -> ServiceRecord:
    record = ServiceRecord.objects.select_for_update(of=("self",)).select_related("community").get(pk=record.pk)
    require_territory(actor, record.community)
    if record.confirmed:
        raise DomainError("party.service.confirmed", _("该记录已确认。"), status=409)
    record.confirmed = True
    record.save(update_fields=["confirmed"])
    audit_log(record, "party.service.confirmed", actor=actor, old={"confirmed": False}, new={"confirmed": True})
    return record


# -- half-year returns -------------------------------------------------------------------------
_PERIOD = re.compile(r"^(\d{4})H([12])$")


def half_year_bounds(period: str) -> tuple[date, date]:
    m = _PERIOD.match(period or "")
    if not m:
        raise DomainError("party.return.bad_period", _("半年度格式为 2024H1 或 2024H2。"), field="period")
    year, half = int(m.group(1)), int(m.group(2))
    return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))


@transaction.atomic
def half_year_returns_send(community: Division, *, period: str, actor, comment: str = "", now=None) -> int:
    """Send the half-year record of every member confirmed in this community back to their own
    organisation (反馈); members already sent for the period are skipped. Returns how many were sent."""
    now = now_or(now)
    start, end = half_year_bounds(period)
    if end >= timezone.localdate(now):
        raise DomainError("party.return.too_early", _("半年度结束后才能反馈。"), field="period")
    require_territory(actor, community)
    reports = (MemberReport.objects.filter(community=community, status=ReportStatus.CONFIRMED,
                                           decided_at__date__lte=end)
               .values_list("member_id", "member__organisation_id"))
    orgs = dict(reports)
    done = set(HalfYearReturn.objects.filter(member_id__in=list(orgs), period=period)
               .values_list("member_id", flat=True))
    todo = [m for m in orgs if m not in done]
    if not todo:
        return 0
    service = {r["member_id"]: r for r in ServiceRecord.objects.filter(
        member_id__in=todo, community=community, confirmed=True, served_on__gte=start, served_on__lte=end,
    ).values("member_id").annotate(n=Count("id"), h=Sum("hours"))}
    present = dict(Attendance.objects.filter(
        member_id__in=todo, status=AttendanceStatus.PRESENT, activity__status=ActivityStatus.HELD,
        activity__held_at__date__gte=start, activity__held_at__date__lte=end,
    ).values("member_id").annotate(n=Count("id")).values_list("member_id", "n"))
    rows = [HalfYearReturn(member_id=m, community=community, organisation_id=orgs[m], period=period,
                           services=service.get(m, {}).get("n", 0), hours=service.get(m, {}).get("h") or 0,
                           activities=present.get(m, 0), comment=(comment or "").strip()[:255], sent_at=now,
                           sent_by=actor) for m in todo]
    HalfYearReturn.objects.bulk_create(rows, batch_size=1000)
    audit_log(community, "party.returns.sent", actor=actor, data={"period": period, "members": len(rows)})
    return len(rows)
