"""In Chromium: the district leader opens 应急指挥一张图 from their home page; the map's canvas is drawn
over the district's street outlines with the alerts on it, the list shows the sensor alert with the unit
working its order, and the page fits a 390 px phone."""

import pytest

from tests.browsing import phone_context, sign_in, signed_in

from .sensecore_fixtures import T0, at, fresh_calendar, media, reading, sensing, territory_mode, world  # noqa: F401
from .test_emergency import scene  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Huying-test-2026"


@pytest.mark.parametrize("territory_mode", ["real"])
def test_leader_sees_the_live_map_and_the_list(browser, live_server, world, scene):  # noqa: F811
    alert = scene["sensor"]
    unit_name = world.units["grid_a"].name
    order = alert.orders.get()
    with signed_in(browser, live_server.url, "em-leader", PASSWORD) as pg:
        pg.goto("/")
        pg.click("#shortcuts >> text=应急指挥一张图")
        pg.wait_for_selector("#em-map[data-state=ready]")
        item = pg.locator(f"#em-alert-{alert.pk}")
        assert item.get_attribute("data-kind") == "sensor" and item.get_attribute("data-urgency") == "emergency"
        text = item.inner_text()
        assert alert.title in text and unit_name in text and order.code in text and "已派单" in text
        assert pg.locator(f"#em-alert-{scene['hot'].pk}").count() == 1
        assert pg.locator(f"#em-alert-{scene['closed'].pk}").count() == 0
        # the canvas is drawn, over real outlines, with both alerts as points
        box = pg.locator("#em-map canvas").first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 200
        assert pg.evaluate("window.huyingEmergency.state.geo") is True
        n = pg.evaluate("window.huyingEmergency.chart.getOption().series[0].data.length")
        assert n == 2
        # a refresh picks up a closed alert without reloading the page
        from huying.dispatch.hot.services import alert_close

        alert_close(scene["hot"], actor=world.users["dispatcher"], note="已处置")
        pg.evaluate("window.huyingEmergency.load()")
        pg.wait_for_function(f"!document.getElementById('em-alert-{scene['hot'].pk}')")
        assert "进行中的预警 1" in pg.inner_text("#em-count")
        with phone_context(browser, live_server.url) as phone:
            sign_in(phone, "em-leader", PASSWORD)
            phone.goto("/sensing/emergency/")
            phone.wait_for_selector("#em-map[data-state=ready]")
            phone.wait_for_selector(f"#em-alert-{alert.pk}")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
