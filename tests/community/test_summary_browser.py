"""In Chromium: the city leader goes from their home to the dashboard, follows the 协同共治 tile to the
summary, drills down a district and a street, and the page fits a 390 px phone."""

import pytest

from tests.browsing import phone_context, sign_in, signed_in

from .test_summary import C1, D1, S1, sw  # noqa: F401  (sw is the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_opens_the_summary_and_drills_down(browser, live_server, sw):  # noqa: F811
    with signed_in(browser, live_server.url, "leader", timeout=60000) as pg:
        pg.goto("/")
        pg.click("#shortcuts >> text=驾驶舱")
        tile = pg.locator('[data-app-tile="community_summary"]')
        tile.locator("a", has_text="协同共治").click()
        pg.wait_for_selector("#summary-table")
        assert pg.locator("#summary-crumbs strong").inner_text() == "广州市"
        assert pg.locator('#summary-table tfoot tr[data-code="total"] td').first.inner_text() == "3"
        pg.locator(f'#summary-table tr[data-code="{D1}"] a').click()
        pg.wait_for_selector(f'#summary-table tr[data-code="{S1}"]')
        assert pg.locator("#summary-crumbs strong").inner_text() == "越秀区"
        assert pg.locator('#summary-table tr[data-code="440103"]').count() == 0
        pg.locator(f'#summary-table tr[data-code="{S1}"] a').click()
        pg.wait_for_selector(f'#summary-table tr[data-code="{C1}"]')
        assert pg.locator('#summary-table tr[data-code="own"]').count() == 1
        # back up through the breadcrumb
        pg.locator("#summary-crumbs a", has_text="广州市").click()
        pg.wait_for_selector(f'#summary-table tr[data-code="{D1}"]')
        with pg.expect_download() as dl:
            pg.click("#summary-export")
        assert dl.value.suggested_filename.endswith(".xlsx")


def test_street_staff_on_a_phone(browser, live_server, sw):  # noqa: F811
    with phone_context(browser, live_server.url, timeout=60000) as phone:
        sign_in(phone, "street")
        phone.goto("/community/summary/")
        phone.wait_for_selector(f'#summary-table tr[data-code="{C1}"]')
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
