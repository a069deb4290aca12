"""The whistle, 报到 and supervision pages in a real browser (Chromium through Playwright)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huying.dispatch.escalation.models import SupervisionNotice, WhistleCall
from huying.dispatch.escalation.services import whistle_blow
from huying.dispatch.services import work_order_dispatch
from huying.people.models import Unit

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def order(world, report):
    Unit.objects.filter(pk=world.units["community_a"].pk).update(parent=world.units["street_a"])
    o = report(now=timezone.now() - timedelta(hours=3))
    return work_order_dispatch(o, actor=world.users["dispatcher"], version=o.version,
                               now=timezone.now() - timedelta(hours=2))


def test_street_blows_a_whistle_and_bad_input_is_shown_by_the_field(world, order, page, login):
    login(world.users["street_a"].username, PASSWORD)
    page.goto(f"/escalation/orders/{order.pk}/whistle/")
    expect(page.locator("#no-whistles")).to_be_visible()
    page.click("#whistle-submit")
    expect(page.locator("#field-departments .field-error")).to_have_text("请至少选择一个被召集部门。")
    expect(page.locator("#field-reason .field-error")).to_have_text("请填写吹哨事由。")
    page.select_option("#id_kind", "emergency")
    page.get_by_label(world.units["dept"].name).check()
    page.fill("#id_reason", "占道施工围挡倒塌，需城管到场")
    page.click("#whistle-submit")
    row = page.locator(f"tr.call[data-dept='{world.units['dept'].name}']")
    expect(row.locator(".call-status")).to_contain_text("待报到")
    call = WhistleCall.objects.get()
    assert call.whistle.kind == "emergency" and call.whistle.unit_id == world.units["street_a"].pk
    assert call.due_at == call.whistle.blown_at + timedelta(minutes=30)


def test_department_reports_late_with_one_button(world, order, page, login):
    blown = timezone.now() - timedelta(minutes=50)
    whistle_blow(order, actor=world.users["street_a"], kind="emergency", reason="燃气泄漏",
                 department_ids=[world.units["dept"].pk], now=blown)
    login(world.users["dept"].username, PASSWORD)
    page.goto("/escalation/whistles/")
    row = page.locator(f"tr.call[data-order='{order.code}']")
    expect(row).to_contain_text("已超时")
    row.locator(".report-btn").click()
    expect(page.locator(".messages")).to_contain_text("超过报到时限")
    expect(row.locator(".call-status")).to_contain_text("迟到")
    call = WhistleCall.objects.get()
    assert call.status == WhistleCall.Status.REPORTED and call.late and call.report_seconds >= 50 * 60
    assert order.cohandlers.filter(pk=world.units["dept"].pk).exists()


def test_dispatcher_issues_supervision_and_sees_it_listed(world, order, page, login):
    login(world.users["dispatcher"].username, PASSWORD)
    page.goto("/escalation/supervision/")
    expect(page.locator("#no-notices")).to_be_visible()
    page.fill("#id_order", "0000000000000000")
    page.click("#supervise-submit")
    expect(page.locator("#field-order .field-error")).to_have_text("工单不存在。")
    page.fill("#id_order", order.code)
    page.fill("#id_note", "请于今日内处置")
    page.click("#supervise-submit")
    row = page.locator(f"tr.notice[data-order='{order.code}']")
    expect(row).to_contain_text("第 1 次")
    expect(row.locator(".recipients")).to_have_text(f"{world.units['community_a'].name}、{world.units['street_a'].name}")
    assert SupervisionNotice.objects.get().note == "请于今日内处置"
