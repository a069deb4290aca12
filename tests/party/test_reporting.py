"""Double reporting (双报到) end to end: report, confirm, serve, record hours, send back, chase."""

from datetime import UTC, date
from decimal import Decimal

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.party import selectors
from huying.party import services as s
from huying.party.models import (
    HalfYearReturn,
    MemberReport,
    NeedKind,
    NeedStatus,
    ReportStatus,
    ServiceKind,
    ServiceRecord,
    UnitReport,
)

from .conftest import at


def names(rows):
    return sorted(r.name for r in rows)


def test_double_reporting_flow(city, members):
    u, o, div = city.user, city.org, city.div
    # -- a unit organisation reports to the street where it sits; the street confirms
    ur = s.unit_report_submit(o["metro"], commitments="每季度组织一次志愿服务", actor=u.metro_secretary,
                              now=at(2024, 1, 8, 9))
    assert ur.street.code == "440104003" and ur.status == ReportStatus.PENDING
    with pytest.raises(DomainError) as e:
        s.unit_report_confirm(ur, actor=u.lr_secretary, now=at(2024, 1, 9, 9))  # another street
    assert e.value.status == 403
    assert list(selectors.unit_reports_pending(actor=u.bj_secretary)) == [ur]
    assert list(selectors.unit_reports_pending(actor=u.lr_secretary)) == []
    ur = s.unit_report_confirm(ur, actor=u.bj_secretary, now=at(2024, 1, 9, 9))
    assert ur.status == ReportStatus.CONFIRMED and ur.decided_by == u.bj_secretary
    assert [a.action for a in audit_trail(ur)] == ["party.unit_report.submitted", "party.unit_report.confirmed"]
    with pytest.raises(DomainError) as e:
        s.unit_report_submit(o["metro"], actor=u.metro_secretary, now=at(2024, 1, 10, 9))
    assert e.value.status == 409

    # -- members report to the community where they live; that community confirms
    ra = s.member_report_submit(members.alice, skills="法律咨询", actor=members.alice.user, now=at(2024, 1, 10, 9))
    rb = s.member_report_submit(members.bob, actor=members.bob.user, now=at(2024, 1, 10, 9))
    assert (ra.community.code, rb.community.code) == ("440104003001", "440104003002")
    assert names(selectors.members_not_reported(actor=u.metro_secretary)) == ["张丽", "李博", "王大"]
    with pytest.raises(DomainError) as e:
        s.member_report_confirm(ra, actor=u.lc_secretary, now=at(2024, 1, 11, 9))
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:  # a member cannot confirm their own report
        s.member_report_confirm(ra, actor=members.alice.user, now=at(2024, 1, 11, 9))
    assert e.value.status == 403
    assert [r.pk for r in selectors.member_reports_pending(actor=u.lsj_secretary)] == [ra.pk]
    s.member_report_confirm(ra, actor=u.lsj_secretary, now=at(2024, 1, 11, 9))
    with pytest.raises(DomainError):  # 流水井's residents' committee does not confirm for 龙藏
        s.member_report_confirm(rb, actor=u.lsj_director, now=at(2024, 1, 11, 9))
    s.member_report_confirm(rb, actor=u.lc_secretary, now=at(2024, 1, 11, 9))
    # the list to chase: in-service members without a confirmed report
    assert names(selectors.members_not_reported(actor=u.metro_secretary)) == ["王大"]
    assert names(selectors.members_not_reported(actor=u.hosp_secretary)) == ["陈可"]
    assert names(selectors.members_not_reported(actor=u.lsj_secretary)) == ["陈可"]  # lives in 流水井

    # -- service: a small wish claimed by a reported member, done, hours recorded
    wish = s.need_post(community=div["440104003001"], kind=NeedKind.WISH, title="帮独居老人修水龙头",
                       requester_name="刘阿姨", actor=u.lsj_director, now=at(2024, 2, 1, 9))
    assert [n.pk for n in selectors.needs_open(actor=members.alice.user)] == [wish.pk]
    assert list(selectors.needs_open(actor=members.bob.user)) == []  # bob reported elsewhere
    with pytest.raises(DomainError) as e:
        s.need_claim(wish, member=members.bob, actor=members.bob.user, now=at(2024, 2, 2, 9))
    assert e.value.code == "party.need.not_reported"
    with pytest.raises(DomainError) as e:  # claiming is the member's own act
        s.need_claim(wish, member=members.alice, actor=u.lsj_secretary, now=at(2024, 2, 2, 9))
    assert e.value.status == 403
    s.need_claim(wish, member=members.alice, actor=members.alice.user, now=at(2024, 2, 2, 9))
    with pytest.raises(DomainError) as e:
        s.need_claim(wish, member=members.alice, actor=members.alice.user, now=at(2024, 2, 2, 9))
    assert e.value.code == "party.need.not_open"
    rec = s.need_complete(wish, hours="2.5", actor=u.lsj_secretary, now=at(2024, 2, 5, 18))
    wish.refresh_from_db()
    assert wish.status == NeedStatus.DONE and rec.confirmed and rec.hours == Decimal("2.5")
    assert (rec.member, rec.kind, rec.served_on) == (members.alice, ServiceKind.WISH, date(2024, 2, 5))

    # a community need claimed by a reported unit organisation; an unreported one may not
    need = s.need_post(community=div["440104003002"], kind=NeedKind.COMMUNITY, title="社区消防演练",
                       actor=u.lc_secretary, now=at(2024, 3, 1, 9))
    with pytest.raises(DomainError) as e:
        s.need_claim(need, organisation=o["hospital"], actor=u.hosp_secretary, now=at(2024, 3, 2, 9))
    assert e.value.code == "party.need.org_not_reported"
    s.need_claim(need, organisation=o["metro"], actor=u.metro_secretary, now=at(2024, 3, 2, 9))
    org_rec = s.need_complete(need, hours=4, actor=u.lc_secretary, now=at(2024, 3, 9, 18))
    assert org_rec.organisation == o["metro"] and org_rec.member is None

    # service team and grid instructor
    team = s.service_team_create(community=div["440104003001"], name="流水井红色先锋服务队", speciality="助老",
                                 actor=u.lsj_secretary, now=at(2024, 2, 10, 9))
    assert team.unit.kind == "volunteer_team" and team.unit.parent == o["party-440104003001"].unit
    s.service_team_join(team, member=members.alice, actor=members.alice.user, now=at(2024, 2, 11, 9))
    with pytest.raises(DomainError) as e:
        s.service_team_join(team, member=members.carol, actor=members.carol.user, now=at(2024, 2, 11, 9))
    assert e.value.code == "party.team.not_reported"
    post = s.grid_instructor_assign(city.grid["440104003001001"], member=members.alice, actor=u.lsj_secretary,
                                    started_on=date(2024, 3, 1))
    assert post.ended_on is None

    # hours the member records herself count only after the community confirms them
    own = s.service_record_add(member=members.alice, kind=ServiceKind.TEAM, hours=3, served_on=date(2024, 4, 6),
                               team=team, actor=members.alice.user, now=at(2024, 4, 6, 20))
    assert not own.confirmed and own.community.code == "440104003001"
    with pytest.raises(DomainError):
        s.service_record_confirm(own, actor=members.alice.user, now=at(2024, 4, 7, 9))
    s.service_record_confirm(own, actor=u.lsj_secretary, now=at(2024, 4, 7, 9))
    with pytest.raises(DomainError) as e:
        s.service_record_add(member=members.carol, kind=ServiceKind.OTHER, hours=1, served_on=date(2024, 4, 6),
                             actor=u.lsj_secretary, now=at(2024, 4, 6, 20))
    assert e.value.code == "party.service.not_reported"
    with pytest.raises(DomainError) as e:
        s.service_record_add(member=members.alice, kind=ServiceKind.OTHER, hours=30, served_on=date(2024, 4, 6),
                             actor=u.lsj_secretary, now=at(2024, 4, 6, 20))
    assert e.value.code == "party.service.bad_hours"

    # -- half-year: the community's record goes back to the member's own organisation
    with pytest.raises(DomainError) as e:
        s.half_year_returns_send(div["440104003001"], period="2024H1", actor=u.lsj_secretary, now=at(2024, 6, 20, 9))
    assert e.value.code == "party.return.too_early"
    sent = s.half_year_returns_send(div["440104003001"], period="2024H1", comment="表现积极", actor=u.lsj_secretary,
                                    now=at(2024, 7, 5, 9))
    assert sent == 1
    ret = HalfYearReturn.objects.get()
    assert (ret.member, ret.organisation, ret.services, ret.hours) == (members.alice, o["metro"], 2, Decimal("5.5"))
    assert s.half_year_returns_send(div["440104003001"], period="2024H1", actor=u.lsj_secretary,
                                    now=at(2024, 7, 6, 9)) == 0
    assert list(selectors.returns_received(actor=u.metro_secretary, organisation=o["metro"])) == [ret]
    with pytest.raises(DomainError):
        selectors.returns_received(actor=u.hosp_secretary, organisation=o["metro"])
    assert audit_trail(div["440104003001"]).filter(action="party.returns.sent").get().data == {
        "period": "2024H1", "members": 1}
    assert ServiceRecord.objects.filter(confirmed=True).count() == 3


def test_reject_then_report_again_and_moving_ends_the_report(city, members):
    u, alice = city.user, members.alice
    r = s.member_report_submit(alice, actor=alice.user, now=at(2024, 1, 10, 9))
    with pytest.raises(DomainError) as e:
        s.member_report_reject(r, actor=u.lsj_secretary, reason="", now=at(2024, 1, 11, 9))
    assert e.value.code == "party.reason_required"
    s.member_report_reject(r, actor=u.lsj_secretary, reason="请补充联系方式", now=at(2024, 1, 11, 9))
    r2 = s.member_report_submit(alice, actor=alice.user, now=at(2024, 1, 12, 9))
    s.member_report_confirm(r2, actor=u.lsj_secretary, now=at(2024, 1, 13, 9))
    s.member_move_home(alice, home_address="越秀区龙藏社区仓边路9号", actor=alice.user)
    alice.refresh_from_db()
    r2.refresh_from_db()
    assert alice.home_community.code == "440104003002" and r2.status == ReportStatus.ENDED
    assert r2.decided_at == at(2024, 1, 13, 9)  # history keeps when she had reported
    r3 = s.member_report_submit(alice, actor=alice.user, now=at(2024, 2, 1, 9))
    assert r3.community.code == "440104003002"
    assert MemberReport.objects.filter(member=alice).count() == 3


def test_reporting_needs_a_located_home_and_a_located_unit(city):
    from huying.party.models import OrgType

    u = city.user
    nowhere = s.organisation_create(code="party-nowhere", name="某协会党支部", org_type=OrgType.SOCIAL_ORG,
                                    parent=city.org["party-440104003"].unit, actor=u.bj_secretary)
    with pytest.raises(DomainError) as e:
        s.unit_report_submit(nowhere, actor=u.bj_secretary, now=at(2024, 1, 1, 9))
    assert e.value.code == "party.report.unit_not_located"
    with pytest.raises(DomainError) as e:  # territorial organisations do not report
        s.unit_report_submit(city.org["party-440104003001"], actor=u.lsj_secretary, now=at(2024, 1, 1, 9))
    assert e.value.code == "party.report.territorial"
    m = s.member_register(city.person("gina"), organisation=city.org["metro"], home_address="某小区",
                          actor=u.metro_secretary)
    with pytest.raises(DomainError) as e:
        s.member_report_submit(m, actor=m.user, now=at(2024, 1, 1, 9))
    assert e.value.code == "party.report.home_not_located"
    assert UnitReport.objects.count() == 0


def test_dates_are_beijing_dates_after_midnight(city, members):
    """At 01:00 Beijing time the UTC date is still yesterday: "today" must be Beijing's today.

    `now` is given in UTC, as `timezone.now()` gives it."""

    def utc(*args):
        return at(*args).astimezone(UTC)

    u, div = city.user, city.div
    r = s.member_report_submit(members.alice, actor=members.alice.user, now=at(2024, 1, 10, 9))
    s.member_report_confirm(r, actor=u.lsj_secretary, now=at(2024, 1, 11, 9))
    # a service done today, recorded at 01:00, is not "in the future"
    rec = s.service_record_add(member=members.alice, kind=ServiceKind.OTHER, hours=1, served_on=date(2024, 4, 6),
                               actor=u.lsj_secretary, now=utc(2024, 4, 6, 1))
    assert rec.served_on == date(2024, 4, 6)
    # a need completed at 01:00 without a date was served today, Beijing time
    need = s.need_post(community=div["440104003001"], kind=NeedKind.WISH, title="帮老人换灯泡",
                       requester_name="刘阿姨", actor=u.lsj_director, now=at(2024, 4, 1, 9))
    s.need_claim(need, member=members.alice, actor=members.alice.user, now=at(2024, 4, 2, 9))
    done = s.need_complete(need, hours=1, actor=u.lsj_secretary, now=utc(2024, 4, 8, 1))
    assert done.served_on == date(2024, 4, 8)
    # the half year has ended at 01:00 on 1 July, Beijing time
    assert s.half_year_returns_send(div["440104003001"], period="2024H1", actor=u.lsj_secretary,
                                    now=utc(2024, 7, 1, 1)) == 1
