"""The hot-issue page and the alerts page in a real browser (Chromium through Playwright)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huying.dispatch.hot.models import Alert, AlertStatus
from huying.dispatch.hot.services import hot_scan

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def recent(world, report):
    """A quiet month at point a (one order every ten days), then five about one manhole in hours."""
    now = timezone.now()
    for d in (25, 15, 5):
        report(title="路面坑洼", now=now - timedelta(days=d))
    orders = [report(title="仓边路井盖缺失，行人容易跌落", description="仓边路口井盖缺失多日",
                     now=now - timedelta(hours=h + 1)) for h in range(5)]
    return now, orders


def test_hot_page_lists_the_group_with_its_orders_and_rejects_bad_filters(world, recent, page, login):
    _now, orders = recent
    login(world.users["street_a"].username, PASSWORD)
    page.goto("/hot/")
    group = page.locator("article.hot-group").first
    expect(group.locator(".hot-title")).to_contain_text("井盖")
    expect(group.locator(".hot-size")).to_have_text("5 件")
    expect(group.locator("tr.hot-order")).to_have_count(5)
    expect(group.locator(f"tr.hot-order[data-code='{orders[0].code}']")).to_be_visible()
    page.fill("#id_days", "0")
    page.click("#hot-submit")
    expect(page.locator("#field-days .field-error")).to_have_text("天数须在 1 到 90 之间。")
    expect(page.locator("#no-groups")).to_be_visible()
    page.fill("#id_days", "14")
    page.fill("#id_min_size", "6")
    page.click("#hot-submit")
    expect(page.locator("#no-groups")).to_be_visible()


def test_hot_page_is_empty_outside_the_viewer_s_territory(world, recent, page, login):
    login(world.users["street_b"].username, PASSWORD)
    page.goto("/hot/")
    expect(page.locator("#no-groups")).to_be_visible()


def test_dispatcher_acknowledges_an_alert_and_opens_an_order(world, recent, page, login):
    now, _orders = recent
    hot_scan(now=now)
    alert = Alert.objects.filter(dedup_key__startswith="hot:subject:").get()
    login(world.users["dispatcher"].username, PASSWORD)
    page.goto("/hot/alerts/")
    row = page.locator(f"tr.alert-row[data-key='{alert.dedup_key}']")
    expect(row.locator(".evidence")).to_contain_text("5 件")
    expect(row.locator(".alert-status")).to_have_text("待处理")
    row.locator(".ack-btn").click()
    expect(page.locator(".messages")).to_contain_text("已确认预警")
    expect(row.locator(".alert-status")).to_contain_text("已确认")
    row.locator(".order-btn").click()
    expect(page.locator(".messages")).to_contain_text("已生成工单")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.orders.count() == 1
    expect(row.locator("a.opened-order")).to_have_text(alert.orders.get().code)
    page.goto("/hot/alerts/?status=bogus")
    expect(page.locator("#field-status .field-error")).to_be_visible()


def test_alerts_page_shows_nothing_outside_the_territory(world, recent, page, login):
    hot_scan(now=recent[0])
    login(world.users["street_b"].username, PASSWORD)
    page.goto("/hot/alerts/")
    expect(page.locator("#no-alerts")).to_be_visible()


def test_dispatcher_sees_the_reply_score_before_closing(world, report, page, login):
    from huying.dispatch.services import work_order_accept, work_order_dispatch, work_order_resolve

    order = report(title="仓边路井盖缺失，行人容易跌落", description="仓边路口井盖缺失多日", now=timezone.now())
    order = work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                                reason="属地社区", version=order.version)
    order = work_order_accept(order, actor=world.users["comm_a"], version=order.version)
    order = work_order_resolve(order, actor=world.users["comm_a"], result="已处理。", version=order.version)
    login(world.users["dispatcher"].username, PASSWORD)
    page.goto(f"/orders/{order.pk}/")
    expect(page.locator("#reply-score #reply-total")).to_contain_text("分")
    page.locator("[data-action=callback]").click()
    score = page.locator("#callback #reply-score")
    expect(score).to_be_visible()
    expect(score.locator("#reply-low")).to_contain_text("返工")
    expect(score.locator("#reply-hints")).to_contain_text("未回应诉求中的“仓边路井盖缺失”")
    expect(score.locator("#reply-hints")).to_contain_text("未说明调查核实情况")
    expect(score.locator("#reply-timeliness")).to_contain_text("100%")
    total = float(score.get_attribute("data-total"))
    assert total < 60
    expect(page.locator("#callback-form")).to_be_visible()
