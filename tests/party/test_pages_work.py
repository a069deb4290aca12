"""The joint-work pages through Django's test client: joint activities, co-building with a problem
that becomes a work order, a rating's review, and service teams with the half-year returns —
each with its refusals shown next to the field."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from huying.core.audit import audit_trail
from huying.party import services as s
from huying.party.models import (
    ActivityStatus,
    Attendance,
    CommitmentStatus,
    HalfYearReturn,
    JointActivity,
    PartnerTier,
    ProblemStatus,
    ServiceTeamMember,
)

from .conftest import at


@pytest.fixture
def as_user(city):
    def _as(user):
        c = Client()
        c.force_login(user)
        return c

    return _as


def _fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _field(html: str, name: str) -> str:
    """The markup of one field's block (where its error message must sit)."""
    return html.split(f'id="field-{name}"', 1)[1][:600]


def test_activity_planned_and_recorded_from_the_pages(city, members, as_user):
    u, comm = city.user, city.div["440104003002"]  # 龙藏: the metro sits there
    metro = as_user(u.metro_secretary)
    page = metro.get(f"/party/activities/?community={comm.code}")
    assert page.status_code == 200 and 'id="plan-form"' in page.content.decode()
    assert "广州地铁某分公司党委" in page.content.decode()  # offered as a planner
    when = timezone.now() - timedelta(days=1)
    bad = metro.post(f"/party/activities/?community={comm.code}", {
        "action": "plan", "plan-activity_type": "lecture", "plan-title": "", "plan-planned_at": _fmt(when)})
    html = bad.content.decode()
    assert bad.status_code == 400
    assert "请填写主题" in _field(html, "plan-title") and "请至少选择一个共同组织的单位" in html
    ok = metro.post(f"/party/activities/?community={comm.code}", {
        "action": "plan", "plan-activity_type": "lecture", "plan-title": "专题党课", "plan-planned_at": _fmt(when),
        "plan-place": "党群服务中心", "plan-planners": [city.org["metro"].unit.pk]})
    assert ok.status_code == 302
    act = JointActivity.objects.get()
    assert set(act.planners.values_list("code", flat=True)) == {"party-440104003002", "party-metro"}
    assert "专题党课" in metro.get(f"/party/activities/?community={comm.code}&type=lecture").content.decode()
    assert "专题党课" not in metro.get(f"/party/activities/?community={comm.code}&type=theme_day").content.decode()
    # another community's secretary does not see it; a plain member cannot plan here
    assert as_user(u.jnh_secretary).get(f"/party/activities/{act.pk}/").status_code == 404
    assert 'id="plan-form"' not in as_user(members.bob.user).get(
        f"/party/activities/?community={comm.code}").content.decode()

    detail = metro.get(f"/party/activities/{act.pk}/").content.decode()
    assert 'id="record-form"' in detail and "李博" in detail and "张丽" in detail  # the metro's members
    future = metro.post(f"/party/activities/{act.pk}/", {
        "action": "record", "rec-held_at": _fmt(timezone.now() + timedelta(days=2)), "rec-minutes": "x"})
    assert future.status_code == 400 and "活动举行时间不能晚于现在" in _field(future.content.decode(), "rec-held_at")
    empty = metro.post(f"/party/activities/{act.pk}/", {"action": "record", "rec-held_at": _fmt(when),
                                                        "rec-minutes": ""})
    assert empty.status_code == 400 and "请填写会议记录" in _field(empty.content.decode(), "rec-minutes")
    bad_choice = metro.post(f"/party/activities/{act.pk}/", {
        "action": "record", "rec-held_at": _fmt(when), "rec-minutes": "x", f"rec-att-{members.bob.pk}": "sleeping"})
    assert bad_choice.status_code == 400
    done = metro.post(f"/party/activities/{act.pk}/", {
        "action": "record", "rec-held_at": _fmt(when), "rec-minutes": "学习党章第一章。",
        f"rec-att-{members.bob.pk}": "present", f"rec-att-{members.alice.pk}": "excused"})
    assert done.status_code == 302
    act.refresh_from_db()
    assert act.status == ActivityStatus.HELD and act.minutes == "学习党章第一章。"
    assert dict(Attendance.objects.filter(activity=act).values_list("member__user__username", "status")) == {
        "bob": "present", "alice": "excused"}
    # bob attended: he sees the activity and its counts, without the organisers' form
    seen = as_user(members.bob.user).get(f"/party/activities/{act.pk}/").content.decode()
    assert "出席 1 人" in seen and 'id="record-form"' not in seen
    assert as_user(members.bob.user).post(f"/party/activities/{act.pk}/", {
        "action": "record", "rec-minutes": "x"}).status_code == 403


@pytest.fixture
def pairing(city):
    p = s.pairing_create(name="地铁结对共建", lead=city.org["metro"].unit, division=city.div["440104003"],
                         started_on=date(2024, 1, 1), actor=city.user.metro_secretary, now=at(2024, 1, 1, 9))
    s.pairing_partner_add(p, unit=city.org["hospital"].unit, joined_on=date(2024, 1, 1), actor=city.user.metro_secretary)
    return p


def test_cobuilding_pages_partners_agreement_progress_problem(city, pairing, as_user):
    from huying.dispatch.models import WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    u = city.user
    metro, hosp = as_user(u.metro_secretary), as_user(u.hosp_secretary)
    listing = metro.get("/party/cobuilding/").content.decode()
    assert "地铁结对共建" in listing
    assert "地铁结对共建" not in as_user(u.jnh_secretary).get("/party/cobuilding/").content.decode()
    assert "地铁结对共建" not in metro.get("/party/cobuilding/?q=医院").content.decode()
    url = f"/party/cobuilding/{pairing.pk}/"
    assert as_user(u.jnh_secretary).get(url).status_code == 404
    # partners: an unknown name is refused next to the field; the alliance by its exact name is added
    bad = metro.post(url, {"action": "partner", "pa-unit": "不存在的单位", "pa-tier": PartnerTier.X, "pa-joined_on": "2024-02-01"})
    assert bad.status_code == 400 and "找不到该党组织" in _field(bad.content.decode(), "pa-unit")
    assert metro.post(url, {"action": "partner", "pa-unit": "轨道交通行业联合党委", "pa-tier": PartnerTier.N,
                            "pa-joined_on": "2024-02-01"}).status_code == 302
    assert pairing.partners.count() == 2
    # agreement: a commitment without its text is refused by the form; a full one is stored
    metro_unit, hosp_unit = city.org["metro"].unit, city.org["hospital"].unit
    base = {"action": "agreement", "ag-title": "2024 年共建协议", "ag-signed_on": "2024-01-05",
            "ag-shared_venues": "地铁站党群服务站\n医院健康驿站", "ag-c1_unit": metro_unit.pk}
    bad = metro.post(url, {**base, "ag-c1_description": ""})
    assert bad.status_code == 400 and "请填写承诺事项" in _field(bad.content.decode(), "ag-c1_description")
    assert metro.post(url, {**base, "ag-c1_description": "开放站内党员活动室", "ag-c2_unit": hosp_unit.pk,
                            "ag-c2_description": "每月义诊一次", "ag-c2_due_on": "2024-12-31"}).status_code == 302
    agreement = pairing.agreements.get()
    assert agreement.shared_venues == ["地铁站党群服务站", "医院健康驿站"]
    hc = agreement.commitments.get(unit=hosp_unit)
    # the hospital reports its own progress; going backwards is refused next to the field
    assert hosp.post(url, {"action": "progress", "target": hc.pk, f"cp-{hc.pk}-progress": "60",
                           f"cp-{hc.pk}-note": "已义诊 7 次"}).status_code == 302
    back = hosp.post(url, {"action": "progress", "target": hc.pk, f"cp-{hc.pk}-progress": "40"})
    assert back.status_code == 400 and "进度不能倒退" in _field(back.content.decode(), f"cp-{hc.pk}-progress")
    hc.refresh_from_db()
    assert (hc.progress, hc.status) == (60, CommitmentStatus.IN_PROGRESS)
    html = metro.get(url).content.decode()
    assert "已义诊 7 次" in html and "60%" in html
    # the hospital (a partner) raises a problem; the lead turns it into a work order from its page
    assert hosp.post(url, {"action": "problem", "pr-title": ""}).status_code == 400
    assert hosp.post(url, {"action": "problem", "pr-title": "站口共享单车乱停放",
                           "pr-address": "广州市越秀区流水井社区文德路12号"}).status_code == 302
    problem = pairing.problems.get()
    page = metro.get(f"/party/cobuilding/problems/{problem.pk}/").content.decode()
    assert 'id="order-form"' in page and 'id="subject-leaf"' in page
    assert 'id="order-form"' not in hosp.get(f"/party/cobuilding/problems/{problem.pk}/").content.decode()
    bad = metro.post(f"/party/cobuilding/problems/{problem.pk}/", {"action": "order", "subject_root": "E01",
                                                                  "subject": ""})
    assert bad.status_code == 400 and "请选择事项分类" in bad.content.decode()
    unsolved = metro.post(f"/party/cobuilding/problems/{problem.pk}/", {"action": "solve", "resolution": ""})
    assert unsolved.status_code == 400 and "请填写解决情况" in _field(unsolved.content.decode(), "resolution")
    assert metro.post(f"/party/cobuilding/problems/{problem.pk}/", {
        "action": "order", "subject_root": "E01", "subject": "E0102"}).status_code == 302
    problem.refresh_from_db()
    order = WorkOrder.objects.get()
    assert (problem.status, problem.work_order_code) == (ProblemStatus.WORK_ORDER, order.code)
    assert order.code in metro.get(f"/party/cobuilding/problems/{problem.pk}/").content.decode()
    assert "已转工单" in metro.get(f"{url}?status=work_order").content.decode()


def test_rating_review_page(city, members, as_user):
    u = city.user
    s.star_ratings_compute(city.org["metro"], year=2024, actor=u.metro_secretary, now=at(2025, 1, 5, 9))
    rating = members.alice.ratings.get(year=2024)
    url = f"/party/ratings/{rating.pk}/"
    metro = as_user(u.metro_secretary)
    ratings_tab = metro.get("/party/org/?tab=ratings&year=2024").content.decode()
    assert f'href="{url}"' in ratings_tab
    page = metro.get(url).content.decode()
    assert 'id="adjust-form"' in page and 'id="rating-explain"' in page
    no_reason = metro.post(url, {"action": "adjust", "adj-adjustment": "5", "adj-reason": ""})
    assert no_reason.status_code == 400 and "必须填写理由" in _field(no_reason.content.decode(), "adj-reason")
    too_much = metro.post(url, {"action": "adjust", "adj-adjustment": "80", "adj-reason": "x"})
    assert too_much.status_code == 400 and 'class="field-error"' in _field(too_much.content.decode(), "adj-adjustment")
    assert metro.post(url, {"action": "adjust", "adj-adjustment": "10", "adj-reason": "社区评价优秀"}).status_code == 302
    rating.refresh_from_db()
    assert rating.adjustment == Decimal("10.0") and rating.score == rating.computed_score + 10
    assert rating.review_reason == "社区评价优秀"
    assert [a.action for a in audit_trail(rating)][-1] == "party.rating.adjusted"
    # alice sees how it was made, with the reason, but cannot adjust; others cannot open it
    mine = as_user(members.alice.user).get(url).content.decode()
    assert "社区评价优秀" in mine and 'id="adjust-form"' not in mine
    assert as_user(members.alice.user).post(url, {"action": "adjust", "adj-adjustment": "50",
                                                  "adj-reason": "x"}).status_code == 403
    assert as_user(u.hosp_secretary).get(url).status_code == 404
    assert as_user(members.bob.user).get(url).status_code == 404


def test_service_teams_and_half_year_returns(city, members, as_user):
    u, comm = city.user, city.div["440104003001"]
    staff = as_user(u.lsj_secretary)
    url = f"/party/teams/?community={comm.code}"
    bad = staff.post(url, {"action": "create", "team-name": ""})
    assert bad.status_code == 400 and "请填写服务队名称" in _field(bad.content.decode(), "team-name")
    assert staff.post(url, {"action": "create", "team-name": "流水井党员先锋队", "team-speciality": "助老"}).status_code == 302
    team = comm.service_teams.get()
    # alice is confirmed here and joins; carol has not reported: no join button, and a forged join is refused
    s.member_report_confirm(s.member_report_submit(members.alice, actor=members.alice.user), actor=u.lsj_secretary)
    alice = as_user(members.alice.user)
    page = alice.get("/party/teams/").content.decode()
    assert "流水井党员先锋队" in page and 'value="join"' in page and 'id="team-form"' not in page
    assert alice.post("/party/teams/", {"action": "join", "target": team.pk}).status_code == 302
    assert ServiceTeamMember.objects.filter(team=team, member=members.alice).exists()
    assert "已加入" in alice.get("/party/teams/").content.decode()
    assert alice.post("/party/teams/", {"action": "join", "target": team.pk}).status_code == 409
    assert as_user(members.carol.user).get("/party/teams/").status_code == 403
    assert as_user(members.carol.user).get(url).status_code == 404
    # returns: a bad period and a period not yet over are refused next to the field
    bad = staff.post(url, {"action": "returns", "ret-period": "2024-1"})
    assert bad.status_code == 400 and "2024H1" in _field(bad.content.decode(), "ret-period")
    this_half = f"{timezone.localdate().year}H{1 if timezone.localdate().month <= 6 else 2}"
    early = staff.post(url, {"action": "returns", "ret-period": this_half})
    assert early.status_code == 400 and "半年度结束后才能反馈" in _field(early.content.decode(), "ret-period")
    last_year = f"{timezone.localdate().year - 1}H2"
    HalfYearReturn.objects.all().delete()
    # alice's report was confirmed today, after last year's half: she is not in it; nobody is sent
    assert staff.post(url, {"action": "returns", "ret-period": last_year}).status_code == 302
    assert HalfYearReturn.objects.count() == 0
    from huying.party.models import MemberReport

    MemberReport.objects.filter(member=members.alice).update(decided_at=at(2020, 1, 2, 9))
    assert staff.post(url, {"action": "returns", "ret-period": last_year, "ret-comment": "积极参加服务"}
                      ).status_code == 302
    ret = HalfYearReturn.objects.get()
    assert (ret.member, ret.organisation, ret.comment) == (members.alice, city.org["metro"], "积极参加服务")
    assert last_year in staff.get(url).content.decode()
    # the metro's secretary reads it on their page; the hospital's does not see it
    assert "积极参加服务" in as_user(u.metro_secretary).get("/party/org/?tab=returns").content.decode()
    assert "积极参加服务" not in as_user(u.hosp_secretary).get("/party/org/?tab=returns").content.decode()


def test_secretary_starts_a_pairing_from_the_list(city, as_user):
    from huying.party.models import CoBuildingPairing, PairingKind

    metro = as_user(city.user.metro_secretary)
    assert 'id="pairing-form"' in metro.get("/party/cobuilding/").content.decode()
    assert 'id="pairing-form"' not in as_user(city.user.resident).get("/party/cobuilding/").content.decode()
    base = {"action": "create", "new-name": "地铁与小微企业结对", "new-lead": city.org["metro"].pk,
            "new-started_on": "2024-03-01"}
    alliance = metro.post("/party/cobuilding/", {**base, "new-kind": PairingKind.ALLIANCE})
    assert alliance.status_code == 400
    assert "行业联盟需要指定其行业联合党委" in _field(alliance.content.decode(), "new-joint_committee")
    nowhere = metro.post("/party/cobuilding/", {**base, "new-kind": PairingKind.PAIRING, "new-division_code": "999"})
    assert nowhere.status_code == 400 and "找不到该区划代码" in _field(nowhere.content.decode(), "new-division_code")
    foreign = metro.post("/party/cobuilding/", {**base, "new-kind": PairingKind.PAIRING,
                                                "new-lead": city.org["hospital"].pk})
    assert foreign.status_code == 400  # not an organisation they lead: not among the choices
    ok = metro.post("/party/cobuilding/", {**base, "new-kind": PairingKind.PAIRING, "new-division_code": "440104003"})
    pairing = CoBuildingPairing.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/party/cobuilding/{pairing.pk}/"
    assert (pairing.lead, pairing.division.code) == (city.org["metro"].unit, "440104003")
    assert CoBuildingPairing.objects.count() == 1
