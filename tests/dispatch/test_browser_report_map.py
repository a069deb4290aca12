"""A resident files one report with only an address and another by tapping a point on the report
page's map (our own outlines, no tile server); both are routed. Real divisions of 越秀区, real locator,
phone width, under the site's Content-Security-Policy."""

import re

import pytest
from playwright.sync_api import expect

from huying.dispatch.models import LocationPrecision, WorkOrder
from tests.browsing import phone_context

from .test_address_reports import ADDRESS, BEIJING_STREET, street_unit

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("territory_mode", ["real"])]


@pytest.fixture
def phone(browser, live_server, world):
    with phone_context(browser, live_server.url, timeout=15000) as pg:
        errors = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.errors = errors
        yield pg


def fill_report(page, title):
    page.goto("/orders/report/")
    page.select_option("#id_request_type", "complaint")
    page.select_option("#id_subject_root", "Q01")
    expect(page.locator("#id_subject optgroup").first).to_be_attached()
    page.select_option("#id_subject", "Q010101")
    page.fill("#id_title", title)
    page.fill("#id_reporter_phone", "13900001111")


def submit_and_track(page) -> WorkOrder:
    page.click("#report-submit")
    code = page.locator("#tracking-code")
    expect(code).to_have_text(re.compile(r"^\d{16}$"))
    order = WorkOrder.objects.get(code=code.inner_text())
    expect(page.locator("#track-state")).to_have_text("已受理")
    return order


def tap(page, lng, lat):
    page.locator("#report-map").scroll_into_view_if_needed()
    p = page.evaluate("([lng, lat]) => window.huyingReportMap.pixelOf(lng, lat)", [lng, lat])
    page.mouse.click(p["x"], p["y"])


def test_address_only_and_map_point_reports_are_both_routed(phone, world):
    page = phone
    unit = street_unit(world)

    # 1. Only an address.
    fill_report(page, "北京路路灯不亮")
    page.fill("#id_address", ADDRESS)
    first = submit_and_track(page)
    assert first.location_precision == LocationPrecision.STREET and first.street_code == BEIJING_STREET
    assert first.proposed_unit_id == unit.pk

    # 2. A point tapped on the map: the district first, then the place inside it.
    fill_report(page, "人行道井盖缺失")
    picker = page.locator("#report-map")
    expect(picker).to_have_attribute("data-state", "ready")
    expect(picker).to_have_attribute("data-level", "city")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows the phone
    lng, lat = world.point("b")
    tap(page, lng, lat)
    expect(picker).to_have_attribute("data-level", "district")
    expect(picker).to_have_attribute("data-code", "440104")
    expect(page.locator("#map-back")).to_be_visible()
    tap(page, lng, lat)
    expect(page.locator("#id_lng")).not_to_have_value("")
    expect(page.locator("#map-status")).to_contain_text("已选位置")
    assert float(page.input_value("#id_lng")) == pytest.approx(lng, abs=0.001)
    assert float(page.input_value("#id_lat")) == pytest.approx(lat, abs=0.001)
    status = page.inner_text("#map-status")
    second = submit_and_track(page)
    assert second.location_precision == LocationPrecision.GRID and second.grid_id is not None
    assert second.district_code == "440104" and second.proposed_unit_id is not None
    # The street the picker named is the one the locator placed the order in.
    assert second.grid.community.parent.name in status
    assert not page.errors, page.errors  # no script error, no Content-Security-Policy refusal
