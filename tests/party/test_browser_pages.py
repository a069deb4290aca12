"""The member (phone width), secretary and community pages in a real browser (Chromium via Playwright).

Screenshots of the member page at 390 px, the secretary page and the summary go to
$HUYING_SCREENSHOTS when it is set, for people to look at.
"""

import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huying.party.models import MemberReport, ReportStatus
from huying.party.services import (
    member_report_confirm,
    member_report_submit,
    need_post,
    service_record_add,
    service_team_create,
)

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    folder = os.environ.get("HUYING_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "x")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_member_page_on_a_phone(phone, city, members):
    u = city.user
    # bob is confirmed in 龙藏 with a wish to claim; alice has not reported yet
    member_report_confirm(member_report_submit(members.bob, actor=members.bob.user), actor=u.lc_secretary)
    need_post(community=city.div["440104003002"], kind="wish", title="帮独居老人买菜", actor=u.lc_secretary)
    service_record_add(actor=u.lc_secretary, member=members.bob, kind="team", hours="2",
                       served_on=timezone.localdate())
    page = phone
    sign_in(page, "bob")
    page.goto("/party/me/")
    expect(page.locator("#report-status")).to_have_text("已报到")
    expect(page.locator("#needs")).to_contain_text("帮独居老人买菜")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows the phone
    shot(page, "party-member-390")
    page.locator("#needs button", has_text="认领").click()
    expect(page.locator(".msg-success")).to_contain_text("已认领")
    expect(page.locator("#claimed")).to_contain_text("帮独居老人买菜")
    # a wrong service entry: the message sits under the field
    page.fill("#id_service-hours", "2")
    page.fill("#id_service-served_on", "2999-01-01")
    page.click("#service-submit")
    expect(page.locator("#field-service-served_on .field-error")).to_contain_text("服务日期不能晚于今天")

    page.context.clear_cookies()
    sign_in(page, "alice")
    page.goto("/party/me/")
    page.fill("#id_report-skills", "法律咨询")
    page.click("#report-submit")
    expect(page.locator("#report-status")).to_have_text("待社区确认")
    assert MemberReport.objects.get(member=members.alice).status == ReportStatus.PENDING


def test_community_and_secretary_pages(page, city, members):
    u = city.user
    member_report_submit(members.alice, actor=members.alice.user)
    member_report_submit(members.carol, actor=members.carol.user)
    service_team_create(community=city.div["440104003001"], name="流水井党员先锋队", actor=u.lsj_secretary)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, "lsj_secretary")
    page.goto("/party/community/")
    pending = page.locator("#pending-reports")
    expect(pending).to_contain_text("张丽")
    # reject without a reason: the error shows next to the reason field, nothing changes
    row = pending.locator("li", has_text="陈可")
    row.locator("summary", has_text="退回").click()
    row.locator("button", has_text="退回报到").click()
    expect(page.locator("#pending-reports .field-error")).to_contain_text("请填写原因")
    page.locator("#pending-reports li", has_text="张丽").locator("button", has_text="确认").click()
    expect(page.locator(".msg-success")).to_contain_text("已确认 张丽 的报到")
    expect(page.locator("#community-totals .stat-n").first).to_have_text("1")
    resident = page.locator("#resident-table")
    expect(resident).to_contain_text("张丽")
    assert members.alice.user.phone not in resident.inner_text()  # masked for the community
    shot(page, "party-community")

    page.context.clear_cookies()
    sign_in(page, "metro_secretary")
    page.goto("/party/org/")
    table = page.locator("#member-table")
    expect(table).to_contain_text(members.alice.user.phone)  # unmasked for their own secretary
    page.select_option("select[name=reported]", "no")
    page.click("#filter-submit")
    expect(table.locator("tbody tr")).to_have_count(2)  # bob and dave have not reported
    expect(table).not_to_contain_text("张丽")
    page.goto("/party/org/")
    shot(page, "party-secretary")

    page.context.clear_cookies()
    sign_in(page, "leader")
    page.goto("/party/summary/?root=440104")
    expect(page.locator("#summary-table")).to_contain_text("北京街道")
    page.locator("#summary-table a", has_text="北京街道").click()
    expect(page.locator("h1")).to_contain_text("北京街道")
    expect(page.locator("#summary-table")).to_contain_text("流水井社区居民委员会")
    shot(page, "party-summary")
