"""The near-me page at phone width (390 px), in Chromium."""

import pytest

from huying.services import views

from .conftest import at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_near_me_by_address_at_phone_width(phone, positions, monkeypatch):
    monkeypatch.setattr(views, "_now", lambda: at(2026, 3, 10, 19, 0))
    phone.goto("/services/near/")
    phone.fill("#sv-q", "越秀区北京街流水井社区")
    phone.click("#sv-address button[type=submit]")
    phone.wait_for_selector("#sv-results")
    first = phone.locator(".sv-result").first
    assert "流水井社区党群服务中心" in first.inner_text()
    assert "正在开放" in first.inner_text()
    # nothing wider than the phone
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    first.locator("a").first.click()
    phone.wait_for_selector("#sv-items")
    assert "居住证办理" in phone.inner_text("#sv-items")
