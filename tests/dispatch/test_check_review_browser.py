"""The closed loop in a real browser: the handler reports, the unit leader approves, the grid worker
fails the on-site check (rework), the handler reports again, it passes, and the order awaits the callback."""

import pytest
from playwright.sync_api import expect

from huying.dispatch import reference
from huying.dispatch.models import Attachment, State, Subject, Transition, WorkOrder
from huying.dispatch.services import work_order_accept, work_order_dispatch
from huying.people.models import RoleCode
from huying.people.services import membership_grant, user_create

from .conftest import PASSWORD
from .images import PNG_1x1

pytestmark = pytest.mark.browser


def _as(page, login, user):
    page.context.clear_cookies()
    login(user.username, PASSWORD)


def _resolve_on_the_order_page(page, order, text):
    page.goto(f"/orders/{order.pk}/")
    page.locator("details[data-action=resolve] summary").click()
    page.fill("#id_resolve-result", text)
    page.locator("details[data-action=resolve] button[type=submit]").click()


def test_review_then_failed_check_then_rework_then_passed_check(page, login, world, report, tmp_path):
    unit = world.units["community_a"]
    unit.review_results = True
    unit.save(update_fields=["review_results"])
    subject = Subject.objects.get(code="Q01")
    subject.onsite_check = True
    subject.save(update_fields=["onsite_check"])
    reference.reset()
    leader = user_create(username="x-leader-a", password=PASSWORD, display_name="刘洋", actor=None,
                         check_password=False)
    membership_grant(leader, unit=unit, role_code=RoleCode.UNIT_LEADER, actor=None)
    u = world.users
    order = report()
    order = work_order_dispatch(order, actor=u["dispatcher"], unit=unit.pk, reason="属地社区", version=order.version)
    order = work_order_accept(order, actor=u["comm_a"], version=order.version)

    # The handler reports the result: it waits for the unit leader.
    _as(page, login, u["comm_a"])
    _resolve_on_the_order_page(page, order, "已修复地砖")
    expect(page.locator(".msg-success")).to_contain_text("等待本单位负责人审核")
    expect(page.locator("#order-state")).to_have_text("待审核")

    # The unit leader finds it from the home page and approves it: on to the on-site check.
    _as(page, login, leader)
    page.goto("/")
    page.get_by_role("link", name="审核办理结果").click()
    item = page.locator(f"li[data-order='{order.code}']")
    expect(item.locator(".note")).to_contain_text("已修复地砖")
    item.locator("[data-decision=return]").click()  # sending back needs a reason, shown at the field
    expect(page.locator(f"#field-review{order.pk}-note .field-error")).to_contain_text("请填写退回理由")
    item = page.locator(f"li[data-order='{order.code}']")
    item.locator("textarea").fill("同意")
    item.locator("[data-decision=approve]").click()
    expect(page.locator(".msg-success")).to_contain_text("已审核通过")
    expect(page.locator(f"li[data-order='{order.code}']")).to_have_count(0)

    # The grid worker checks on site and finds it not done: rework.
    _as(page, login, u["grid_a"])
    page.goto("/")
    page.get_by_role("link", name="现场核查").click()
    item = page.locator(f"li[data-order='{order.code}']")
    item.locator("textarea").fill("地砖仍然松动")
    photo = tmp_path / "site.png"
    photo.write_bytes(PNG_1x1)
    item.locator("input[type=file]").set_input_files(str(photo))
    item.locator("[data-decision=fail]").click()
    expect(page.locator(".msg-warning")).to_contain_text("返工")
    order.refresh_from_db()
    assert order.state == State.ACCEPTED and order.rework_count == 1
    assert order.attachments.filter(kind=Attachment.Kind.CHECK).count() == 1

    # The handler does it again; the leader approves on the order page; the check passes.
    _as(page, login, u["comm_a"])
    _resolve_on_the_order_page(page, order, "已重新铺设地砖")
    expect(page.locator("#order-state")).to_have_text("待审核")
    _as(page, login, leader)
    page.goto(f"/orders/{order.pk}/")
    page.locator("#check-review [data-decision=approve]").click()
    expect(page.locator("#order-state")).to_have_text("待核查")
    _as(page, login, u["grid_a"])
    page.goto("/orders/checks/")
    item = page.locator(f"li[data-order='{order.code}']")
    item.locator("textarea").fill("现场已整改")
    item.locator("[data-decision=pass]").click()
    expect(page.locator(".msg-success")).to_contain_text("等待回访")

    # It now waits for the callback on the operator's board.
    _as(page, login, u["operator"])
    page.goto("/orders/board/?tab=awaiting_callback")
    expect(page.locator(f"tr[data-order='{order.code}']")).to_have_count(1)
    page.goto(f"/orders/{order.pk}/")
    expect(page.locator("#order-state")).to_have_text("已办结")
    expect(page.locator("#order-timeline li[data-action=check_failed]")).to_contain_text("核查不通过")
    expect(page.locator("#order-timeline li[data-action=resolved]")).to_contain_text("核查通过")
    order = WorkOrder.objects.get(pk=order.pk)
    assert order.state == State.RESOLVED
    assert [t.action for t in Transition.objects.filter(order=order).order_by("id")][-6:] == [
        "review_requested", "review_approved", "check_failed", "review_requested", "review_approved", "resolved"]
