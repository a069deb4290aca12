"""The pages in a real browser (Chromium through Playwright) against the live server."""

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "grid-pass-2024"


def test_login_wrong_password_then_right(page, live_user):
    page.goto("/login/")
    page.fill("input[name=username]", "wangfang")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    error = page.locator("#login-errors")
    expect(error).to_be_visible()
    expect(error).to_contain_text("密码")
    assert page.url.endswith("/login/")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#greeting")).to_contain_text("王芳")
    assert urlparse(page.url).path == "/"


def test_tree_expand_search_and_buildings(page, login, live_user, live_territory):
    login("wangfang", PASSWORD)
    page.goto("/territory/")
    stats = page.locator("#territory-stats")
    expect(stats.locator("[data-kind=street] .stat-n")).to_have_text("3")
    expect(stats.locator("[data-kind=building] .stat-n")).to_have_text("30")
    district = page.locator("#node-440104")
    district.locator("summary").first.click()
    street = page.locator("#node-440104001")
    expect(street).to_be_visible()  # loaded by htmx on opening
    expect(street.locator("summary .count[data-kind=community] b")).to_have_text("2")
    expect(street.locator("summary .count[data-kind=building] b")).to_have_text("29")
    expect(page.locator("#node-440104002 summary .count[data-kind=grid] b")).to_have_text("1")

    page.fill("#territory-q", "流花社区")
    page.press("#territory-q", "Enter")
    page.wait_for_url(re.compile(r"focus=440104001002"))
    crumb = page.locator("#territory-breadcrumb")
    expect(crumb).to_contain_text("越秀区")
    expect(crumb).to_contain_text("洪桥街道")
    expect(crumb.locator("[aria-current=location]")).to_have_text("流花社区")
    focused = page.locator("#node-440104001002")
    expect(focused).to_have_class(re.compile("focused"))
    expect(focused.locator("#node-440104001002001")).to_be_visible()  # its grid, opened in place

    # A grid lists its buildings, 20 a page.
    page.goto("/territory/?focus=440104001001001")
    table = page.locator("#buildings-440104001001001")
    expect(table.locator("tbody tr")).to_have_count(20)
    table.get_by_role("button", name="下一页").click()
    expect(page.locator("#buildings-440104001001001 tbody tr")).to_have_count(5)
    expect(page.locator("#buildings-440104001001001")).to_contain_text("440104001001001u0025")


def _wait_map(page, code):
    page.wait_for_selector(f"#map[data-state=ready][data-code='{code}']")


def test_map_drill_down_back_and_focus(page, login, live_user, live_territory):
    login("wangfang", PASSWORD)
    page.goto("/map/")
    _wait_map(page, "440100")
    expect(page.locator("#map canvas")).to_have_count(1)
    expect(page.locator("#panel-facts [data-kind=district]")).to_have_text("2")

    # Click 越秀区 where a person would: the pixel of a point inside its polygon.
    point = page.evaluate("huyingMap.pixelOf('440104')")
    assert point, "越秀区 is drawn"
    page.mouse.click(point["x"], point["y"])
    _wait_map(page, "440104")
    expect(page.locator("#panel-name")).to_have_text("越秀区")
    expect(page.locator("#panel-facts [data-kind=street]")).to_have_text("2")
    expect(page.locator("#map-breadcrumb")).to_contain_text("广州市")
    expect(page.locator("#panel-children li")).to_have_count(2)
    assert page.evaluate("huyingMap.chart.getOption().series[0].data.map(d => d.name)") == ["440104001", "440104002"]

    point = page.evaluate("huyingMap.pixelOf('440104001')")
    page.mouse.click(point["x"], point["y"])
    _wait_map(page, "440104001")
    expect(page.locator("#map-breadcrumb")).to_contain_text("越秀区")

    page.locator("#map-breadcrumb a[data-code='440100']").click()
    _wait_map(page, "440100")
    expect(page.locator("#panel-name")).to_have_text("广州市")

    # ?focus= opens a community straight away; its children are grids, and a grid is a leaf.
    page.goto("/map/?focus=440104001001")
    _wait_map(page, "440104001001")
    names = page.evaluate("huyingMap.chart.getOption().series[0].data.map(d => d.title)")
    assert names == ["华侨新村第1网格", "华侨新村第2网格"]
    point = page.evaluate("huyingMap.pixelOf('440104001001002')")
    page.mouse.click(point["x"], point["y"])
    expect(page.locator("#panel-name")).to_have_text("华侨新村第2网格")
    expect(page.locator("#panel-facts [data-kind=building]")).to_have_text("3")


def test_switch_to_english(page, login, live_user, live_territory):
    login("wangfang", PASSWORD)
    page.goto("/territory/")
    expect(page.locator("nav.nav")).to_contain_text("辖区")
    page.locator("button.lang-btn[value=en]").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("nav.nav")).to_contain_text("Territory")
    expect(page.locator("h1")).to_have_text("Territory")
    expect(page.locator("#territory-stats [data-kind=building] .stat-label")).to_have_text("Buildings")
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator("button.lang-btn[value=zh-hans]").click()
    expect(page.locator("h1")).to_have_text("辖区")
