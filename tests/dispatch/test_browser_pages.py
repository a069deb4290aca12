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
from tests.browsing import phone_context

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
    with phone_context(browser, live_server.url, permissions=["geolocation"],
                       geolocation={"longitude": lng, "latitude": lat, "accuracy": 20}) as pg:
        yield pg


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


def test_grid_worker_patrol_report_from_the_phone(phone, world):
    from .images import PNG_1x1

    page = phone
    page.goto("/login/")
    page.fill("input[name=username]", world.users["grid_a"].username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto("/orders/patrol/")
    grid = world.grids[0]
    assert float(page.input_value("#id_lng")) == pytest.approx(grid.lng, abs=1e-6)  # starts at the grid centre
    page.select_option("#id_subject_root", "E01")
    expect(page.locator("#id_subject optgroup").first).to_be_attached()
    page.select_option("#id_subject", "E0104")
    page.fill("#id_description", "路口垃圾散落")
    page.click("#patrol-submit")
    expect(page.locator("#field-photos .field-error")).to_contain_text("请拍摄或上传至少一张现场照片")
    assert WorkOrder.objects.count() == 0
    page.set_input_files("#id_photos", files=[{"name": "scene.png", "mimeType": "image/png", "buffer": PNG_1x1}])
    page.click("#locate-btn")
    expect(page.locator("#locate-status")).to_contain_text("已获取位置")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "patrol-report-390")
    page.click("#patrol-submit")
    expect(page.locator(".msg-success")).to_contain_text("已上报")
    order = WorkOrder.objects.get()
    assert order.channel == "patrol" and order.grid_id == grid.pk and order.attachments.count() == 1
    expect(page.locator(f"#my-patrol-reports li[data-order='{order.code}']")).to_contain_text("道路不洁")


def test_operator_overrides_routing_at_intake(page, login, world):
    login(world.users["operator"].username, PASSWORD)
    page.goto("/orders/intake/")
    page.fill("#id_reporter_phone", "020-83331234")
    page.select_option("#id_request_type", "complaint")
    page.select_option("#id_subject_root", "Q01")
    page.select_option("#id_subject", "Q010101")
    page.fill("#id_title", "商铺占道经营")
    page.fill("#id_address", "仓边社区")
    page.locator("#override summary").click()
    page.select_option("#id_unit", str(world.units["dept"].pk))
    page.click("#intake-submit")
    expect(page.locator("#field-override_reason .field-error")).to_contain_text("请填写理由")
    page.fill("#id_override_reason", "占道经营归城管执法")
    page.click("#intake-submit")
    expect(page.locator(".msg-success")).to_contain_text("已派至 城市管理和综合执法局")
    expect(page.locator("#order-state")).to_have_text("已派单")
    expect(page.locator("#order-timeline li[data-action=dispatched] .note")).to_have_text("占道经营归城管执法")
    order = WorkOrder.objects.get()
    assert order.lead_unit_id == world.units["dept"].pk


def test_dispatcher_changes_the_subject_on_the_detail_page(page, login, world, report):
    order = report()
    order = work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                                reason="属地社区", version=order.version)
    due = order.resolve_due
    login(world.users["dispatcher"].username, PASSWORD)
    page.goto(f"/orders/{order.pk}/")
    box = page.locator("details[data-action=change_subject]")
    box.locator("summary").click()
    box.locator("#id_change_subject-subject_root").select_option("E01")
    expect(box.locator("#id_change_subject-subject optgroup").first).to_be_attached()  # loaded by htmx
    box.locator("#id_change_subject-subject").select_option("E0104")
    box.locator("#id_change_subject-reason").fill("实为道路保洁")
    box.locator("button[type=submit]").click()
    expect(page.locator(".msg-success")).to_contain_text("已修改事项分类")
    expect(page.locator("#order-timeline li[data-action=subject_changed]")).to_contain_text("实为道路保洁")
    order.refresh_from_db()
    assert order.subject.code == "E0104" and order.resolve_due < due


def test_anonymous_tracking_shows_a_masked_title_and_the_reply_only_with_the_phone_s_last_four(phone, world, report):
    order = report(title="井盖缺失 请回电13812345678")  # the reporter gave 13812345678
    order = work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                                reason="属地社区", version=order.version)
    order = work_order_accept(order, actor=world.users["comm_a"], version=order.version)
    work_order_resolve(order, actor=world.users["comm_a"], result="已修复，联系人王五 13900001111", version=order.version)
    page = phone
    page.goto("/orders/track/")
    page.fill("#id_code", order.code)
    page.click("#track-submit")
    expect(page.locator("#track-state")).to_have_text("已办结")
    expect(page.locator("#track-title")).to_have_text("井盖缺失 请回电138********")
    expect(page.locator("#track-resolution")).to_have_count(0)
    assert "13812345678" not in page.content() and "王五" not in page.content()
    page.fill("#id_phone_tail", "0000")
    page.click("#track-proof-submit")
    expect(page.locator("#field-phone_tail .field-error")).to_contain_text("手机号后四位与登记的号码不符")
    expect(page.locator("#track-resolution")).to_have_count(0)
    page.fill("#id_phone_tail", "5678")
    page.click("#track-proof-submit")
    expect(page.locator("#track-resolution")).to_have_text("已修复，联系人王五 13900001111")
    expect(page.locator("#track-title")).to_have_text("井盖缺失 请回电138********")
    assert "phone_tail" not in page.url and "5678" not in page.url  # POSTed: not in any access log


def test_resident_follows_a_nearby_report_without_seeing_its_code(phone, world, report):
    from django.utils import timezone

    existing = report(title="人行道地砖松动", description="人行道地砖松动绊倒行人", now=timezone.now())
    page = phone
    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    page.goto("/orders/report/")
    page.select_option("#id_request_type", "complaint")
    page.select_option("#id_subject_root", "Q01")
    expect(page.locator("#id_subject optgroup").first).to_be_attached()
    page.select_option("#id_subject", "Q010101")
    page.fill("#id_title", "地砖松动")
    page.fill("#id_description", "人行道地砖松动，有老人绊倒 13900002222")
    page.click("#locate-btn")
    expect(page.locator("#id_lng")).not_to_have_value("")
    page.click("#similar-btn")
    expect(page.locator("#follow-results li")).to_have_count(1)
    assert existing.code not in page.content()
    similar = [(m, u) for m, u in requests if "/similar/" in u]
    assert similar and all(m == "POST" and "?" not in u for m, u in similar)  # the text is not in the URL
    page.click(".follow-btn")
    expect(page.locator("#tracking-code")).to_have_text(re.compile(r"^\d{16}$"))
    mine = WorkOrder.objects.exclude(pk=existing.pk).get()
    assert mine.state == State.MERGED and mine.merged_into_id == existing.pk
    assert page.locator("#tracking-code").inner_text() == mine.code
