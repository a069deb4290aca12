"""定位核实 in a real browser: an operator opens an address-only order from the dispatch board (their
queue of orders to dispatch), taps its point on the order page's map, and the order shows its new
grid. Real divisions of 越秀区, real locator, under the site's Content-Security-Policy."""

import re

import pytest
from playwright.sync_api import expect

from huying.dispatch.models import LocationPrecision, WorkOrder
from huying.dispatch.services import work_order_create

from .conftest import PASSWORD
from .test_address_reports import ADDRESS, BEIJING_STREET
from .test_browser_pages import shot

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("territory_mode", ["real"])]


def tap(page, lng, lat):
    page.locator("#report-map").scroll_into_view_if_needed()
    p = page.evaluate("([lng, lat]) => window.huyingReportMap.pixelOf(lng, lat)", [lng, lat])
    page.mouse.click(p["x"], p["y"])


def test_operator_sets_the_point_of_an_address_only_order(page, login, world):
    order = work_order_create(channel="web", subject="Q010101", request_type="complaint", title="北京路路灯不亮",
                              description="门口的路灯一直不亮", address=ADDRESS, actor=world.users["resident"],
                              reporter_phone="13812345678", idempotency_key="b-1")
    assert order.location_precision == LocationPrecision.STREET
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    login(world.users["operator"].username, PASSWORD)
    page.goto("/orders/board/")
    page.locator(f"tr[data-order='{order.code}'] a.order-link").click()
    expect(page.locator("#order-code")).to_have_text(order.code)
    expect(page.locator("#order-area [data-precision=street]")).to_be_visible()
    expect(page.locator("#relocate-effect")).to_contain_text("重新生成建议承办单位")

    # The picker opens at the order's district; a tap inside 北京街道 fills in the point.
    picker = page.locator("#report-map")
    expect(picker).to_have_attribute("data-state", "ready")
    expect(picker).to_have_attribute("data-level", "district")
    expect(picker).to_have_attribute("data-code", "440104")
    lng, lat = world.point("b")
    assert world.grids[1].community.parent.code == BEIJING_STREET
    tap(page, lng, lat)
    expect(page.locator("#relocate-form [name=lng]")).not_to_have_value("")
    expect(page.locator("#map-status")).to_contain_text("已选位置")
    shot(page, "order-relocate")
    page.click("#relocate-submit")

    expect(page.locator(".msg-success")).to_contain_text("位置已核实")
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert fresh.location_precision == LocationPrecision.GRID and fresh.grid_id is not None
    assert fresh.street_code == BEIJING_STREET
    assert fresh.lng == pytest.approx(lng, abs=0.001) and fresh.lat == pytest.approx(lat, abs=0.001)
    expect(page.locator("#order-area")).to_contain_text(fresh.grid.name)
    expect(page.locator("#order-area [data-precision]")).to_have_count(0)
    expect(page.locator("#relocate-form")).to_have_count(0)
    expect(page.locator("#order-timeline [data-action=relocated]")).to_contain_text(re.compile("核实位置"))
    assert not errors, errors
