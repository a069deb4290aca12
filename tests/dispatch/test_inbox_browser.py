"""The inbox in a real browser: a handler sees the unread badge, opens the inbox at phone width,
opens a notification, and the count drops."""

import re

import pytest
from playwright.sync_api import expect

from huying.dispatch.models import InAppMessage
from huying.dispatch.notify.services import notify_deliver
from huying.dispatch.services import work_order_dispatch

from .conftest import PASSWORD, at

pytestmark = pytest.mark.browser
T0 = at(2026, 3, 2, 10)


def test_a_handler_reads_a_notification_and_the_badge_drops(world, report, settings, page, login):
    settings.HUYING_NOTIFY_SENDERS = {"in_app": "huying.dispatch.notify.senders.InAppSender"}
    orders = [work_order_dispatch(report(title=f"路灯不亮{i}", idempotency_key=f"b-{i}", now=T0),
                                  actor=world.users["dispatcher"], now=T0) for i in range(2)]
    notify_deliver(now=T0)
    handler = world.users["comm_a"]
    assert InAppMessage.objects.filter(user=handler).count() == 2
    page.set_viewport_size({"width": 390, "height": 800})
    login(handler.username, PASSWORD)
    expect(page.locator("#inbox-badge")).to_have_text("2")
    page.click("#nav-inbox")
    items = page.locator("#inbox-list li.inbox-item")
    expect(items).to_have_count(2)
    expect(page.locator("#inbox-list li.unread")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    items.first.locator("a").click()
    expect(page.locator("#inbox-message h1")).to_contain_text(orders[1].code)
    expect(page.locator("#inbox-badge")).to_have_text("1")
    page.click("#inbox-message a.btn")
    expect(page).to_have_url(re.compile(rf"/orders/{orders[1].pk}/$"))
    page.goto("/inbox/")
    expect(page.locator("#inbox-list li.unread")).to_have_count(1)
    page.click("#read-all")
    expect(page.locator("#inbox-badge")).to_have_count(0)
    expect(page.locator("#inbox-list li.unread")).to_have_count(0)
