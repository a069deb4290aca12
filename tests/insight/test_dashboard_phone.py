"""The leader's dashboard, rankings and monthly report on a 390 px phone: nothing wider than the
screen, charts drawn to its width, ranking rows stacked so every figure is on screen."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .test_browser import live_city  # noqa: F401  越秀区 with four weeks of simulated calls

pytestmark = pytest.mark.browser

WIDTH = 390
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def sign_in(pg):
    pg.goto("/login/")
    pg.fill("input[name=username]", "leader")
    pg.fill("input[name=password]", "leader-pass-2026")
    pg.click("button[type=submit]")
    pg.wait_for_load_state("networkidle")


def no_horizontal_overflow(pg):
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{pg.url} is {width} px wide on a {WIDTH} px screen"


def cells_on_screen(pg, rows_selector):
    """Every cell of every row lies inside the viewport's width (none cut off, none behind a scroll)."""
    rows = pg.locator(rows_selector)
    expect(rows.first).to_be_visible()
    boxes = rows.evaluate_all("""rows => rows.flatMap(r => [r, ...r.cells]).map(n => {
        const b = n.getBoundingClientRect();
        return {left: b.left, right: b.right, width: b.width, text: n.textContent.trim()};
    })""")
    assert boxes
    for b in boxes:
        assert b["left"] >= 0 and b["right"] <= WIDTH, f"{b['text']!r} spans {b['left']:.0f}–{b['right']:.0f} px"
    # A cut-off table would also hide its cells behind its own scroll bar.
    hidden = pg.evaluate(f"""Array.from(document.querySelectorAll('{rows_selector}'))
        .map(r => r.closest('.table-wrap')).filter(w => w && w.scrollWidth > w.clientWidth + 1).length""")
    assert hidden == 0


def shot(pg, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / name), full_page=True)


def test_dashboard_fits_a_phone(phone, live_city):  # noqa: F811
    sign_in(phone)
    phone.goto("/insight/")
    phone.wait_for_selector("#dash-map[data-state=ready][data-code='440100']")
    expect(phone.locator("#dash-units tbody tr[data-unit]").first).to_be_visible()
    shot(phone, "insight-phone.png")
    no_horizontal_overflow(phone)
    # The tiles stack (two to a row at most) and the charts are drawn to the card's width.
    tiles = phone.locator("#tiles .tile").evaluate_all("ts => ts.map(t => t.getBoundingClientRect().right)")
    assert tiles and max(tiles) <= WIDTH
    for chart in ("#dash-map", "#dash-trend", "#dash-mix"):
        widths = phone.evaluate(f"""(() => {{
            const el = document.querySelector('{chart}'), c = el.querySelector('canvas');
            return [el.getBoundingClientRect().right, c ? c.getBoundingClientRect().width : 0, el.clientWidth];
        }})()""")
        right, canvas, box = widths
        assert right <= WIDTH and canvas > 0 and abs(canvas - box) <= 1, f"{chart}: {widths}"
    cells_on_screen(phone, "#dash-units tbody tr[data-unit]")


def test_rankings_fit_a_phone(phone, live_city):  # noqa: F811
    sign_in(phone)
    phone.goto("/insight/rankings/?level=street")
    expect(phone.locator("#rank-table")).to_have_attribute("data-level", "street")
    shot(phone, "insight-rankings-phone.png")
    no_horizontal_overflow(phone)
    cells_on_screen(phone, "#rank-table tbody tr[data-code]")
    # Stacked into cards, each figure keeps its column's name beside it.
    first = phone.locator("#rank-table tbody tr[data-code]").first
    expect(first.locator("td[data-key=composite]")).to_have_attribute("data-label", "综合得分")


def test_monthly_report_fits_a_phone(phone, live_city):  # noqa: F811
    sign_in(phone)
    phone.goto(f"/insight/report/?code={live_city[0]}")
    expect(phone.locator("#report-title")).to_contain_text("越秀区")
    shot(phone, "insight-report-phone.png")
    no_horizontal_overflow(phone)
    cells_on_screen(phone, "#report-children tbody tr[data-code]")
    cells_on_screen(phone, "#report-days tbody tr")
