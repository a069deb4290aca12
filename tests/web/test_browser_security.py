"""The Content-Security-Policy in a real browser: the pages' own scripts run, nothing is refused."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "grid-pass-2024"
# Runs before any page script (through the DevTools protocol, so the policy does not apply to it).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  e => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || "")));
"""


def test_pages_run_under_the_policy(page, login, live_user, live_territory):
    page.add_init_script(RECORD_VIOLATIONS)
    refused = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and refused.append(msg.text))
    login("wangfang", PASSWORD)
    assert page.evaluate("window.__csp") == []
    # The focus script is inline (with the page's nonce): it scrolls the focused node into view.
    page.set_viewport_size({"width": 1280, "height": 300})
    page.goto("/territory/?focus=440104001001001")
    focused = page.locator("#node-440104001001001")
    expect(focused).to_be_in_viewport()
    assert page.evaluate("window.__csp") == []
    # htmx and ECharts from static files: the map draws and drills down.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/map/")
    expect(page.locator("#map canvas").first).to_be_visible()
    assert page.evaluate("window.__csp") == []
    page.goto("/admin/login/")
    assert page.evaluate("window.__csp") == []
    assert refused == []
