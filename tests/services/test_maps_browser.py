"""The service maps in Chromium at phone width (390 px), under the site's Content-Security-Policy:
the coverage page draws its map without script errors or CSP violations, and on the near-me page a
tap on the map reloads the list for the tapped point."""

import json

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from huying.services import views
from huying.territory.models import Division
from tests.browsing import phone_context, sign_in

from .conftest import LAT0, at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture
def phone(browser, live_server):
    with phone_context(browser, live_server.url, timeout=15000) as pg:
        errors = []
        pg.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.add_init_script(WATCH_CSP)
        pg.errors = errors
        yield pg


def _rect(lng0, lat0, lng1, lat1) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[lng0, lat0], [lng1, lat0], [lng1, lat1], [lng0, lat1],
                                                           [lng0, lat0]]]})


@pytest.fixture
def outlines(town):
    """Outlines for 越秀区 and its two streets (the town fixture has only grid squares)."""
    Division.objects.filter(code="440104").update(geometry=_rect(113.24, 23.115, 113.31, 23.145))
    Division.objects.filter(code="440104003").update(geometry=_rect(113.265, 23.115, 113.31, 23.145))
    Division.objects.filter(code="440104004").update(geometry=_rect(113.24, 23.115, 113.265, 23.145))
    cache.clear()
    yield
    cache.clear()


def test_coverage_map_draws_without_errors(phone, positions, town):
    pg = phone
    sign_in(pg, "bj_staff")
    pg.goto("/services/coverage/440104003001/?day=2026-03-10&hour=19")
    m = pg.locator("#coverage-map")
    expect(m).to_have_attribute("data-state", "ready")
    expect(m.locator("canvas")).to_have_count(1)
    box = m.bounding_box()
    assert box["width"] > 300 and box["height"] > 250
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    data = pg.evaluate("window.huyingCoverageMap.data")
    assert [p["open"] for p in data["positions"]] == [True] and len(data["uncovered"]) == 1
    # the chart holds every layer: the circle, the buildings, the positions and the ranked site
    counts = pg.evaluate("""() => Object.fromEntries(window.huyingCoverageMap.chart.getOption().series
                                   .map((s) => [s.name, s.data.length]))""")
    assert counts == {"15分钟步行范围（直线近似）": 1, "已覆盖楼栋": 2, "未覆盖楼栋": 1, "开放的服务阵地": 1,
                      "关闭的服务阵地": 0, "建议新设站点": 1}
    # the canvas has really been painted (not blank)
    painted = pg.evaluate("""() => { const c = document.querySelector('#coverage-map canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set(); for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] + ',' + d[i+1] + ',' + d[i+2]);
        return seen.size; }""")
    assert painted > 3
    assert pg.evaluate("window.__csp") == []
    assert pg.errors == []


def test_near_map_tap_reloads_the_list(phone, positions, town, outlines, monkeypatch):
    monkeypatch.setattr(views, "_now", lambda: at(2026, 3, 10, 19, 0))
    pg = phone
    pg.goto(f"/services/near/?lat={LAT0}&lng={town.base}")
    m = pg.locator("#near-map")
    expect(m).to_have_attribute("data-state", "ready")
    expect(m).to_have_attribute("data-code", "440104")  # the district's streets around the point
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    first = pg.locator(".sv-result").first
    assert "流水井社区党群服务中心" in first.inner_text() and first.get_attribute("data-num") == "1"
    markers = pg.evaluate("window.huyingNearMap.chart.getOption().series[0].data.map((d) => d.num)")
    assert markers == ["1", "2"]

    # Tap close to the 六榕街 station: the list reloads for that point, the station now first.
    m.scroll_into_view_if_needed()
    p = pg.evaluate("window.huyingNearMap.pixelOf(113.2572, 23.1348)")
    box = m.bounding_box()
    assert box["x"] < p["x"] < box["x"] + box["width"] and box["y"] < p["y"] < box["y"] + box["height"]
    with pg.expect_navigation():
        pg.mouse.click(p["x"], p["y"])
    expect(pg.locator(".sv-result").first).to_contain_text("北京路步行街服务站")
    assert "lat=23.13" in pg.url and "lng=113.25" in pg.url
    expect(pg.locator("#sv-place")).to_contain_text("您的位置")
    expect(pg.locator("#near-map")).to_have_attribute("data-state", "ready")
    assert pg.evaluate("window.__csp") == []
    assert pg.errors == []


def test_near_map_hidden_without_outlines(phone, positions, town):
    """No outlines loaded: the map stays hidden, the address path still works."""
    cache.clear()
    phone.goto("/services/near/")
    expect(phone.locator("#near-map")).to_have_attribute("data-state", "empty")
    expect(phone.locator("#near-map-box")).to_be_hidden()
    assert phone.errors == []
