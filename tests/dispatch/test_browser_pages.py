"""Each dispatch page in a real browser (Chromium through Playwright) against the live server.

Screenshots of the resident page (390 px wide), the dispatcher board and the order detail go to
$HUYING_SCREENSHOTS when it is set, for people to look at.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from huying.dispatch.models import State, WorkOrder
from huying.dispatch.services import work_order_accept, work_order_dispatch, work_order_resolve

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    folder = os.environ.get("HUYING_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def phone(browser, live_server, world):
    """A phone-width page that grants geolocation and stands at point a of the test territory."""
    lng, lat = world.point("a")
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, base_url=live_server.url,
                                  geolocation={"longitude": lng, "latitude": lat, "accuracy": 20},
                                  permissions=["geolocation"], is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(10000)
    yield pg
    context.close()


def test_resident_reports_with_location_and_tracks(phone, world):
    page = phone
    page.goto("/orders/report/")
    page.select_option("#id_request_type", "complaint")
    page.select_option("#id_subject_root", "Q01")
    expect(page.locator("#id_subject optgroup").first).to_be_attached()  # second level loaded by htmx
    page.select_option("#id_subject", "Q010101")
    page.fill("#id_title", "小区门口路灯不亮")
    page.click("#locate-btn")
    expect(page.locator("#id_lng")).not_to_have_value("")
    assert float(page.input_value("#id_lat")) == pytest.approx(world.point("a")[1], abs=1e-6)
    page.fill("#id_reporter_phone", "13900001111")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows the phone
    shot(page, "resident-report-390")
    page.click("#report-submit")
    code = page.locator("#tracking-code")
    expect(code).to_have_text(re.compile(r"^\d{16}$"))
    order = WorkOrder.objects.get()
    assert code.inner_text() == order.code and order.grid_id == world.grids[0].pk

    page.goto("/orders/track/")
    page.fill("#id_code", order.code)
    page.click("#track-submit")
    expect(page.locator("#track-state")).to_have_text("已受理")
    expect(page.locator("#track-timeline li")).to_have_count(1)


def test_resident_sees_the_error_next_to_the_field(phone, world):
    page = phone
    page.goto("/orders/report/")
    page.select_option("#id_request_type", "help")
    page.select_option("#id_subject_root", "Q01")
    page.select_option("#id_subject", "Q010101")
    page.fill("#id_title", "没有位置")
    page.click("#report-submit")
    expect(page.locator("#field-location .field-error")).to_contain_text("请在地图上选点或填写地址")
    assert WorkOrder.objects.count() == 0


def test_operator_intake_console(page, login, world):
    login(world.users["operator"].username, PASSWORD)
    page.goto("/orders/intake/")
    page.fill("#id_reporter_phone", "020-83331234")
    page.fill("#id_reporter_name", "赵六")
    page.select_option("#id_request_type", "report")
    page.select_option("#id_subject_root", "Q01")
    page.select_option("#id_subject", "Q010101")
    page.fill("#id_title", "夜间施工噪音")
    page.fill("#id_address", "仓边社区")
    page.check("#id_emergency")
    shot(page, "operator-intake")
    page.click("#intake-submit")
    expect(page.locator(".msg-success")).to_contain_text("已受理")
    order = WorkOrder.objects.get()
    expect(page.locator("#order-code")).to_have_text(order.code)
    expect(page.locator("#reporter-phone")).to_have_text("020-83331234")  # operators see the number
    assert order.channel == "hotline" and order.urgency == "emergency"


def test_dispatcher_board_dispatches_and_rejects(page, login, world, report):
    first = report(title="人行道地砖松动")
    second = report(title="咨询社保政策", point=world.point("b"))
    login(world.users["dispatcher"].username, PASSWORD)
    page.goto("/orders/board/")
    expect(page.locator("#tab-to_dispatch .count")).to_have_text("2")
    shot(page, "dispatcher-board")
    page.locator(f"tr[data-order='{first.code}'] [data-action=dispatch-proposed] button").click()
    expect(page.locator(".msg-success")).to_contain_text("已派单")
    expect(page.locator("#tab-to_dispatch .count")).to_have_text("1")
    row = page.locator(f"tr[data-order='{second.code}']")
    row.locator("details[data-action=reject] summary").click()
    row.locator("details[data-action=reject] button[type=submit]").click()
    expect(page.locator("#field-reject-reason .field-error")).to_contain_text("请填写理由")  # on the order page
    page.fill("#id_reject-reason", "不属于政府职责")
    page.locator("details[data-action=reject] button[type=submit]").click()
    expect(page.locator("#order-state")).to_have_text("不予受理")
    first.refresh_from_db()
    assert first.state == State.DISPATCHED


def test_unit_queue_accept_and_stale_detail(page, login, world, report):
    order = report()
    order = work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                                reason="属地社区", version=order.version)
    login(world.users["comm_a"].username, PASSWORD)
    page.goto("/orders/queue/")
    item = page.locator(f"li[data-order='{order.code}']")
    expect(item.locator(".left")).to_have_text(re.compile("剩余|超期"))
    shot(page, "unit-queue")
    item.locator("[data-action=accept] button").click()
    expect(page.locator(".msg-success")).to_contain_text("已签收")
    expect(page.locator(f"li[data-order='{order.code}'] .state")).to_have_text("已签收")

    page.goto(f"/orders/{order.pk}/")
    expect(page.locator("#order-state")).to_have_text("已签收")
    shot(page, "order-detail")
    # Someone else acts on the order while this page is open.
    order.refresh_from_db()
    work_order_resolve(order, actor=world.users["comm_a"], result="他人已办结", version=order.version)
    page.locator("details[data-action=suspend] summary").click()
    page.fill("#id_suspend-reason", "等待管线施工")
    page.locator("details[data-action=suspend] button[type=submit]").click()
    expect(page.locator(".msg-error")).to_contain_text("该工单已被他人更新，请刷新后重试")
    expect(page.locator("#order-state")).to_have_text("已办结")


def test_callback_unsatisfied_sends_back_for_rework(page, login, world, report):
    order = report()
    order = work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                                reason="属地社区", version=order.version)
    order = work_order_accept(order, actor=world.users["comm_a"], version=order.version)
    order = work_order_resolve(order, actor=world.users["comm_a"], result="已修补路面", version=order.version)
    login(world.users["operator"].username, PASSWORD)
    page.goto("/orders/board/?tab=awaiting_callback")
    page.locator(f"tr[data-order='{order.code}'] [data-action=callback]").click()
    expect(page.locator("#callback-resolution")).to_contain_text("已修补路面")
    page.click("#callback-submit")
    expect(page.locator("#field-satisfaction .field-error")).to_contain_text("请选择满意度")
    page.check("input[name=solved][value='0']")
    page.check("input[name=satisfaction][value=unsatisfied]")
    page.fill("#id_note", "路面仍有积水")
    page.click("#callback-submit")
    expect(page.locator(".msg-warning")).to_contain_text("返工")
    expect(page.locator("#order-state")).to_have_text("已签收")
    order.refresh_from_db()
    assert order.rework_count == 1
