"""The resident's own rating (诉求人评价) on the tracking page: signed in as the reporter or proven by
the last four digits of their phone; it closes or sends back the order exactly as the callback does."""

import re

import pytest
from django.urls import reverse

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.dispatch.models import Callback, State, Transition, WorkOrder
from huying.dispatch.services import (
    work_order_accept,
    work_order_callback,
    work_order_dispatch,
    work_order_rate_by_resident,
    work_order_resolve,
)
from tests.browsing import phone_context

pytestmark = pytest.mark.django_db

URL = "dispatch:track"


def resolved(report, world):
    """A resident's report (phone 13812345678), dispatched, accepted and resolved: awaiting callback."""
    order = report()
    order = work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                                reason="属地社区办理", version=order.version)
    order = work_order_accept(order, actor=world.users["comm_a"], version=order.version)
    return work_order_resolve(order, actor=world.users["comm_a"], result="已修复路面", version=order.version)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def test_signed_in_reporter_rates_satisfied_and_the_order_closes(client, world, report):
    order = resolved(report, world)
    client.force_login(world.users["resident"])
    html = client.get(reverse(URL), {"code": order.code}).content.decode()
    assert 'id="track-rate-form"' in html and 'value="satisfied"' in html and 'value="basically"' in html
    assert 'name="proof"' in html and 'name="proof" value=' not in html  # a login needs no phone proof
    r = client.post(reverse(URL), {"action": "rate", "code": order.code, "version": hidden(html, "version"),
                                   "rating": "satisfied", "comment": "  修得很快\u200b，谢谢  "})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.state == State.CLOSED and order.closed_at is not None
    cb = Callback.objects.get(order=order)
    assert cb.actor == world.users["resident"] and cb.satisfaction == "satisfied" and cb.note == "修得很快，谢谢"
    entry = AuditEntry.objects.filter(action="dispatch.order.closed", target_id=str(order.pk)).get()
    assert entry.actor == world.users["resident"]
    assert entry.data["via"] == "track" and entry.data["verified"] == "login" and entry.data["rated_by"] == "resident"
    page = client.get(r.url).content.decode()
    assert "感谢您的评价" in page and 'id="track-rate-form"' not in page


def test_code_and_phone_tail_rate_dissatisfied_and_the_order_goes_back(client, world, report):
    order = resolved(report, world)
    r = client.post(reverse(URL), {"code": order.code, "phone_tail": "5678"})
    html = r.content.decode()
    assert r.status_code == 200 and 'id="track-rate-form"' in html
    assert "5678" not in html  # the tail is never carried in the page: a signed proof is
    r = client.post(reverse(URL), {"action": "rate", "code": order.code, "version": hidden(html, "version"),
                                   "proof": hidden(html, "proof"), "rating": "unsatisfied", "comment": "还是坑"})
    assert r.status_code == 302 and "5678" not in r.url
    order.refresh_from_db()
    assert order.state == State.ACCEPTED and order.rework_count == 1 and order.resolved_at is None
    step = Transition.objects.filter(order=order, action="reworked").get()
    assert step.actor is None and step.actor_label == "resident (tracking code)"
    entry = AuditEntry.objects.filter(action="dispatch.order.reworked", target_id=str(order.pk)).get()
    assert entry.actor is None and entry.data["via"] == "track" and entry.data["verified"] == "phone_tail"
    assert Callback.objects.get(order=order).satisfaction == "unsatisfied"


def test_wrong_tail_or_forged_proof_is_refused_and_nothing_changes(client, world, report):
    order = resolved(report, world)
    r = client.post(reverse(URL), {"code": order.code, "phone_tail": "1111"})
    assert r.status_code == 403 and 'id="track-rate-form"' not in r.content.decode()
    before = WorkOrder.objects.get(pk=order.pk).version
    for proof in ("", "forged"):
        r = client.post(reverse(URL), {"action": "rate", "code": order.code, "version": before, "proof": proof,
                                       "rating": "satisfied"})
        assert r.status_code == 403 and 'id="track-rate-refused"' in r.content.decode()
    # A proof for another order does not open this one.
    other = resolved(report, world)
    html = client.post(reverse(URL), {"code": other.code, "phone_tail": "5678"}).content.decode()
    r = client.post(reverse(URL), {"action": "rate", "code": order.code, "version": before,
                                   "proof": hidden(html, "proof"), "rating": "satisfied"})
    assert r.status_code == 403
    # Another signed-in resident is no reporter.
    client.force_login(world.users["resident2"])
    r = client.post(reverse(URL), {"action": "rate", "code": order.code, "version": before, "rating": "satisfied"})
    assert r.status_code == 403
    order.refresh_from_db()
    assert order.state == State.RESOLVED and order.version == before and not Callback.objects.filter(order=order)


def test_second_rating_is_a_409(client, world, report):
    order = resolved(report, world)
    html = client.post(reverse(URL), {"code": order.code, "phone_tail": "5678"}).content.decode()
    data = {"action": "rate", "code": order.code, "version": hidden(html, "version"), "proof": hidden(html, "proof"),
            "rating": "satisfied"}
    assert client.post(reverse(URL), data).status_code == 302
    # Replaying the same form: the proof's version is stale → 409.
    assert client.post(reverse(URL), data).status_code == 409
    order.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        work_order_rate_by_resident(order, rating="unsatisfied", version=order.version)
    assert exc.value.status == 409 and exc.value.code == "dispatch.already_rated"
    assert Callback.objects.filter(order=order).count() == 1
    client.force_login(world.users["resident"])
    r = client.post(reverse(URL), {"action": "rate", "code": order.code, "version": order.version,
                                   "rating": "unsatisfied"})
    assert r.status_code == 409 and "您已评价过本次办理结果" in r.content.decode()


def test_wrong_state_is_a_409_and_shows_no_form(client, world, report):
    order = report()
    client.force_login(world.users["resident"])
    assert 'id="track-rate-form"' not in client.get(reverse(URL), {"code": order.code}).content.decode()
    with pytest.raises(DomainError) as exc:
        work_order_rate_by_resident(order, rating="satisfied", actor=world.users["resident"])
    assert exc.value.status == 409 and exc.value.code == "dispatch.rating_state"
    # After the operator's callback closed it, the resident has nothing left to rate.
    done = resolved(report, world)
    done = work_order_callback(done, actor=world.users["operator"], satisfaction="basically", version=done.version)
    with pytest.raises(DomainError) as exc:
        work_order_rate_by_resident(done, rating="satisfied", actor=world.users["resident"])
    assert exc.value.code == "dispatch.rating_state"


def test_anonymous_without_proof_sees_no_form(client, world, report):
    order = resolved(report, world)
    html = client.get(reverse(URL), {"code": order.code}).content.decode()
    assert 'id="track-proof-form"' in html and 'id="track-rate-form"' not in html and 'name="proof"' not in html


def test_comment_is_length_checked_and_the_rating_required(client, world, report):
    order = resolved(report, world)
    client.force_login(world.users["resident"])
    base = {"action": "rate", "code": order.code, "version": order.version}
    r = client.post(reverse(URL), {**base, "rating": "satisfied", "comment": "长" * 501})
    assert r.status_code == 400
    r = client.post(reverse(URL), base)
    assert r.status_code == 400 and "请选择满意度" in r.content.decode()
    with pytest.raises(DomainError) as exc:
        work_order_rate_by_resident(order, rating="satisfied", comment="长" * 501, actor=world.users["resident"])
    assert exc.value.code == "core.text.too_long"
    order.refresh_from_db()
    assert order.state == State.RESOLVED


# --- in a real browser ----------------------------------------------------------------------------

@pytest.fixture
def phone(browser, live_server, world):
    with phone_context(browser, live_server.url) as pg:
        yield pg


@pytest.mark.browser
def test_browser_resident_proves_the_tail_and_rates(phone, world, report):
    from playwright.sync_api import expect

    order = resolved(report, world)
    page = phone
    page.goto(f"/orders/track/?code={order.code}")
    expect(page.locator("#track-rate-form")).to_have_count(0)
    page.fill("#id_phone_tail", "5678")
    page.click("#track-proof-submit")
    expect(page.locator("#track-resolution")).to_have_text("已修复路面")
    page.check("#track-rate-form input[name=rating][value=basically]")
    page.fill("#track-rate-form textarea[name=comment]", "处理及时")
    page.click("#track-rate-submit")
    expect(page.locator(".messages")).to_contain_text("感谢您的评价")
    expect(page.locator("#track-state")).to_have_text("已结案")
    expect(page.locator("#track-rate-form")).to_have_count(0)
    assert "5678" not in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    order.refresh_from_db()
    assert order.state == State.CLOSED and Callback.objects.get(order=order).satisfaction == "basically"
