"""The joint-work pages in a real browser: plan and record a joint activity, co-building progress
and a problem that becomes a work order through dispatch's subject picker, and a rating review.

Screenshots go to $HUYING_SCREENSHOTS when it is set, for people to look at.
"""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huying.party import services as s
from huying.party.models import Attendance, JointActivity, ProblemStatus

from .conftest import at
from .test_browser_pages import shot

pytestmark = pytest.mark.browser


def test_activity_planned_and_recorded(page, login, city, members):
    comm = city.div["440104003002"]
    login("metro_secretary", "x")
    page.goto(f"/party/activities/?community={comm.code}")
    page.select_option("#id_plan-activity_type", "theme_day")
    page.fill("#id_plan-title", "七一主题党日")
    page.fill("#id_plan-planned_at", timezone.localtime(timezone.now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.click("#plan-submit")  # no planner ticked: said next to the checkboxes
    expect(page.locator("#field-plan-planners .field-error")).to_contain_text("请至少选择")
    page.locator("#field-plan-planners label", has_text="广州地铁某分公司党委").locator("input").check()
    page.fill("#id_plan-place", "龙藏社区党群服务中心")
    page.click("#plan-submit")
    expect(page.locator(".msg-success")).to_contain_text("活动已安排")
    shot(page, "party-activities")
    page.locator("#activity-rows a", has_text="七一主题党日").click()
    expect(page.locator("#activity-status")).to_have_text("计划中")
    page.locator("#attendance-table tr", has_text="李博").locator("select").select_option("present")
    page.locator("#attendance-table tr", has_text="王大").locator("select").select_option("absent")
    page.fill("#id_rec-minutes", "重温入党誓词；学习党章。")
    page.click("#record-submit")
    expect(page.locator("#activity-status")).to_have_text("已举行")
    expect(page.locator("#attendance-counts")).to_contain_text("出席 1 人")
    shot(page, "party-activity")
    act = JointActivity.objects.get()
    assert dict(Attendance.objects.filter(activity=act).values_list("member__user__username", "status")) == {
        "bob": "present", "dave": "absent"}


def test_cobuilding_progress_and_problem_to_work_order(page, login, city):
    from huying.dispatch.models import WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    u, o = city.user, city.org
    p = s.pairing_create(name="地铁结对共建", lead=o["metro"].unit, division=city.div["440104003"],
                         started_on=date(2024, 1, 1), actor=u.metro_secretary, now=at(2024, 1, 1, 9))
    s.pairing_partner_add(p, unit=o["hospital"].unit, joined_on=date(2024, 1, 1), actor=u.metro_secretary)
    ag = s.agreement_sign(p, title="2024 年共建协议", signed_on=date(2024, 1, 5), actor=u.metro_secretary,
                          shared_venues=["地铁站党群服务站"],
                          commitments=[{"unit": o["hospital"].unit, "description": "每月义诊一次"}])
    problem = s.problem_raise(p, title="站口共享单车乱停放", address="广州市越秀区流水井社区文德路12号",
                              actor=u.hosp_secretary)
    c = ag.commitments.get()
    login("hosp_secretary", "x")
    page.goto(f"/party/cobuilding/{p.pk}/")
    item = page.locator(f"#commitment-{c.pk}")
    item.locator("summary", has_text="填报进展").click()
    item.locator(f"#id_cp-{c.pk}-progress").fill("50")
    item.locator(f"#id_cp-{c.pk}-note").fill("已义诊 6 次")
    item.locator("button", has_text="提交进展").click()
    expect(page.locator(f"#commitment-{c.pk}")).to_contain_text("推进中 50%")
    shot(page, "party-pairing")

    page.context.clear_cookies()
    login("metro_secretary", "x")
    page.goto(f"/party/cobuilding/problems/{problem.pk}/")
    page.select_option("#id_subject_root", "E01")  # dispatch's own picker fills the leaf through htmx
    expect(page.locator("#subject-leaf select option[value=E0102]")).to_have_count(1)
    page.select_option("#subject-leaf select", "E0102")
    shot(page, "party-problem")
    page.click("#order-submit")
    expect(page.locator("#problem-status")).to_have_text("已转工单")
    order = WorkOrder.objects.get()
    expect(page.locator("#problem-order")).to_have_text(order.code)
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.WORK_ORDER


def test_secretary_adjusts_a_rating_with_a_reason(page, login, city, members):
    s.star_ratings_compute(city.org["metro"], year=2024, actor=city.user.metro_secretary, now=at(2025, 1, 5, 9))
    login("metro_secretary", "x")
    page.goto("/party/org/?tab=ratings&year=2024")
    page.locator("#rating-table a", has_text="张丽").click()
    expect(page.locator("#rating-explain")).to_be_visible()
    page.fill("#id_adj-adjustment", "5")
    page.fill("#id_adj-reason", "   ")  # passes the browser's own check, not the server's
    page.click("#adjust-submit")
    expect(page.locator("#field-adj-reason .field-error")).to_contain_text("必须填写理由")
    page.fill("#id_adj-reason", "社区评价优秀")
    page.click("#adjust-submit")
    expect(page.locator(".msg-success")).to_contain_text("评星结果已调整")
    expect(page.locator("#rating-adjustment")).to_have_text("5.0")
    expect(page.locator("#rating-reason")).to_contain_text("社区评价优秀")
    shot(page, "party-rating")


def test_service_team_formed_by_staff_and_joined_by_a_confirmed_member(page, login, city, members):
    from huying.party.models import ServiceTeamMember

    u, comm = city.user, city.div["440104003001"]
    login("lsj_secretary", "x")
    page.goto(f"/party/teams/?community={comm.code}")
    expect(page.locator("#team-rows")).to_contain_text("本社区还没有服务队")
    page.fill("#id_team-name", "   ")  # passes the browser's own check, not the server's
    page.click("#team-submit")
    expect(page.locator("#team-form .field-error")).to_contain_text("请填写服务队名称")
    page.fill("#id_team-name", "流水井党员先锋队")
    page.fill("#id_team-speciality", "助老")
    page.click("#team-submit")
    expect(page.locator(".msg-success")).to_contain_text("服务队已成立")
    expect(page.locator("#team-rows")).to_contain_text("流水井党员先锋队")
    shot(page, "party-teams-staff")
    # alice reports to the community, staff confirm her; she sees the team and joins it.
    s.member_report_confirm(s.member_report_submit(members.alice, actor=members.alice.user), actor=u.lsj_secretary)
    page.context.clear_cookies()
    login(members.alice.user.username, "x")
    page.goto("/party/teams/")
    row = page.locator("#team-rows li", has_text="流水井党员先锋队")
    expect(row).to_contain_text("0 名队员")
    row.get_by_role("button", name="加入").click()
    expect(page.locator(".msg-success")).to_contain_text("已加入")
    row = page.locator("#team-rows li", has_text="流水井党员先锋队")
    expect(row).to_contain_text("已加入")
    expect(row).to_contain_text("1 名队员")
    expect(page.locator("#team-form")).to_have_count(0)  # members cannot form teams
    shot(page, "party-teams-member")
    team = comm.service_teams.get()
    assert ServiceTeamMember.objects.filter(team=team, member=members.alice).exists()
