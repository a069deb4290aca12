"""The ranking page in a real browser: switch the sort, switch the level, follow a row to the dashboard."""

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD
from .test_rankings import rolled  # noqa: F401  the hand-made March rollups

pytestmark = pytest.mark.browser


def codes(page):
    return page.locator("#rank-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")


def test_sort_and_level_switch(page, login, live_server, transactional_db, rolled):  # noqa: F811
    w = rolled
    ca, cb = w.communities[0].code, w.communities[1].code
    sa, sb = w.streets[0].code, w.streets[1].code
    login(w.users["operator"].username, PASSWORD)
    page.goto("/insight/rankings/?level=community&period=2026-03")
    table = page.locator("#rank-table")
    expect(table).to_have_attribute("data-sort", "composite")
    assert codes(page) == [cb, ca]  # composite 85.0 % before 57.5 %
    expect(page.locator(f"#rank-table tr[data-code='{cb}'] td[data-key=composite]")).to_have_text("85.0%")

    page.click("#rank-table thead a[data-sort=response]")
    expect(table).to_have_attribute("data-sort", "response")
    assert codes(page) == [ca, cb]  # 响应率 75.0 % before 50.0 %
    expect(page.locator(f"#rank-table tr[data-code='{ca}'] td.rank")).to_have_text("1")

    page.click(".rank-levels a[data-level=street]")
    expect(table).to_have_attribute("data-level", "street")
    expect(table).to_have_attribute("data-sort", "response")  # the sort is kept across levels
    assert codes(page) == [sa, sb]
    page.click("#rank-table thead a[data-sort=return]")
    expect(table).to_have_attribute("data-sort", "return")
    assert codes(page) == [sb, sa]  # 退单率: lower is better

    page.click(f"#rank-table tr[data-code='{sa}'] td a[href*='code=']")
    page.wait_for_url(f"**/insight/?code={sa}")
