"""The forecast page in a real browser: from the dashboard, the chart with its band and the
operators' capacity, then one subject picked from the select."""

import pytest
from playwright.sync_api import expect

from huying.insight import forecast

from .conftest import PASSWORD
from .test_forecast_page import TODAY, history  # noqa: F401  the 120 days of hand-made rollups

pytestmark = pytest.mark.browser


def test_forecast_page_from_the_dashboard(page, login, live_server, transactional_db, world, history):  # noqa: F811
    forecast.forecasts_refresh(today=TODAY)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(world.users["operator"].username, PASSWORD)
    page.goto("/insight/")
    page.click("#to-forecast")
    page.wait_for_url("**/insight/forecast/?code=*")
    expect(page.locator("#fc-table tbody tr")).to_have_count(forecast.HORIZON)
    page.wait_for_function("window.huyingForecast && window.huyingForecast.chart")
    names = page.evaluate("window.huyingForecast.chart.getOption().series.map(s => s.name)")
    assert names == ["lo", "90% 区间", "预计来电", "话务员日处理能力"]
    mean = page.evaluate("window.huyingForecast.chart.getOption().series[2].data")
    assert [round(x, 1) for x in mean] == forecast.forecasts_for(world.district.parent.code, today=TODAY)[""]["mean"]
    # Something was painted on the canvas.
    assert page.evaluate("document.querySelector('#fc-chart canvas').width") > 100

    page.select_option("#fc-subject", "Q04")
    page.wait_for_url("**subject=Q04**")
    expect(page.locator("#fc-subject")).to_have_value("Q04")
    names = page.evaluate("window.huyingForecast.chart.getOption().series.map(s => s.name)")
    assert "话务员日处理能力" not in names
    assert not errors, errors


def test_forecast_page_at_phone_width(page, login, live_server, transactional_db, world, history):  # noqa: F811
    forecast.forecasts_refresh(today=TODAY)
    page.set_viewport_size({"width": 375, "height": 800})
    login(world.users["district"].username, PASSWORD)
    page.goto("/insight/forecast/")
    expect(page.locator("#fc-table tbody tr")).to_have_count(forecast.HORIZON)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
