"""The triage queue in a real browser: an operator corrects a prediction and dispatches, via htmx."""


import pytest
from playwright.sync_api import expect

from huying.dispatch.classifier import LABELS, Prediction
from huying.dispatch.models import State, WorkOrder
from huying.dispatch.services import work_order_create
from huying.dispatch.triage import intake as step
from huying.dispatch.triage.models import Classification, ClassifierCorrection, LabelRoute

from .conftest import PASSWORD, at
from .test_browser_pages import shot

pytestmark = pytest.mark.browser


def unsure(label):
    scores = {lab: 0.9 if lab == label else 0.1 / (len(LABELS) - 1) for lab in LABELS}
    return Prediction(label=label, confidence=0.42, auto=False, scores=scores)


def test_operator_corrects_and_dispatches_from_the_triage_queue(page, login, world, monkeypatch):
    monkeypatch.setattr(step, "predict", lambda texts: ([unsure("城乡建设") for _t in texts], "model-test"))
    orders = []
    for i, title in enumerate(["地铁站扶梯停运", "公园路灯不亮"]):
        orders.append(work_order_create(
            channel="web", subject="", request_type="complaint", title=title, description="请尽快处理",
            lng=world.point("a")[0], lat=world.point("a")[1], reporter_phone="13812345678",
            actor=world.users["resident"], idempotency_key=f"b-{i}", now=at(2026, 3, 2, 9 + i, 0)))
    first, second = orders

    login(world.users["operator"].username, PASSWORD)
    page.goto("/orders/board/")
    expect(page.locator("#triage-nav-count")).to_have_text("2")  # loaded by htmx into the nav
    page.click("#nav-triage")
    cards = page.locator("article.triage-item")
    expect(cards).to_have_count(2)
    expect(cards.first).to_have_attribute("data-code", first.code)  # oldest first
    card = page.locator(f"article[data-code='{first.code}']")
    expect(card.locator(".predicted-label")).to_have_text("城乡建设")
    expect(card.locator(".phone")).to_have_text("138****5678")
    shot(page, "triage-queue")

    card.locator("select[name=label]").select_option("交通运输")
    page.evaluate("window.__marker = 1")  # survives only if the page is not reloaded
    card.locator("button.triage-dispatch").click()
    done = page.locator(f".triage-done[data-code='{first.code}']")
    expect(done).to_contain_text("已派至")
    expect(page.locator(f"article[data-code='{first.code}']")).to_have_count(0)
    expect(page.locator("#triage-total")).to_have_text("1")
    expect(page.locator("#triage-nav-count")).to_have_text("1")
    assert page.evaluate("window.__marker") == 1
    shot(page, "triage-queue-after-dispatch")

    order = WorkOrder.objects.get(pk=first.pk)
    assert order.state == State.DISPATCHED and order.lead_unit_id is not None
    assert order.subject_id == LabelRoute.objects.get(label="交通运输").subject_id
    k = ClassifierCorrection.objects.get(order=order)
    assert (k.predicted, k.corrected, k.by_id) == ("城乡建设", "交通运输", world.users["operator"].pk)
    assert Classification.objects.get(order=order).needs_triage is False

    page.reload()
    expect(page.locator("article.triage-item")).to_have_count(1)
    expect(page.locator("article.triage-item").first).to_have_attribute("data-code", second.code)
