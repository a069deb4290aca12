"""The monthly report as a server-made PDF: valid, the page's figures, the map coloured by a figure, scope."""

import io
import shutil
import subprocess
from urllib.parse import quote

import pytest
from django.core.cache import cache
from pypdf import PdfReader
from reportlab.graphics.shapes import Path
from reportlab.lib import colors

from huying.insight import pdf, rollups, selectors
from huying.insight.templatetags.insight_tags import pct

from .test_pages import orders, signed_in  # noqa: F401  fixture re-exported for pytest
from .test_rollups import direct_area


@pytest.fixture(autouse=True)
def _no_stale_shapes():
    # The shapes cache outlives a test's rolled-back territory; each test draws its own.
    cache.clear()
    yield
    cache.clear()


def get_pdf(client, user, **params):
    c = signed_in(client, user)
    return c.get("/insight/report.pdf", params)


def pages_text(body: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(body))
    return [page.extract_text() for page in reader.pages]


def lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def seq_at(haystack: list[str], seq: list[str]) -> int:
    """Where `seq` stands as consecutive lines (a table row: one line per cell); -1 if nowhere."""
    for i in range(len(haystack) - len(seq) + 1):
        if haystack[i:i + len(seq)] == seq:
            return i
    return -1


def test_the_district_pdf_carries_the_pages_figures(client, world, orders):  # noqa: F811
    district = world.district.code
    resp = get_pdf(client, world.users["operator"], code=district, month="2026-03")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    disposition = resp["Content-Disposition"]
    assert disposition.startswith('attachment; filename="huying-report-440104-202603.pdf"')
    assert f"filename*=UTF-8''{quote(world.district.name)}-2026-03-" in disposition
    body = resp.content
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(body))
    assert reader.metadata.title == f"{world.district.name} 2026-03 月报"
    texts = pages_text(body)
    assert len(texts) >= 3

    # The figures, as the report page computes them (and, for the counts, as the orders made them).
    page = signed_in(client, world.users["operator"]).get("/insight/report/", {"code": district, "month": "2026-03"})
    r = page.context["r"]
    assert r["totals"]["created"] == direct_area(district)["created"] == 4
    first = lines(texts[0])
    assert f"{world.district.name} 2026-03 月报" in first
    labels = pdf.figure_labels()
    tiles = ([(labels[k], str(r["totals"][k])) for k in pdf.COUNT_FIGURES]
             + [(labels[k], pct(r["rates"][k])) for k in pdf.RATE_KEYS])
    # The tiles table: a row of labels, then a row of values, five a row.
    for i in range(0, len(tiles), 5):
        chunk = tiles[i:i + 5]
        assert seq_at(first, [label for label, _v in chunk] + [value for _label, value in chunk]) >= 0, chunk

    # The map (page 1) labels each street with its figure: 受理量 by default.
    for street, n in ((world.streets[0], 3), (world.streets[1], 1)):
        at = first.index(street.name)
        assert first[at + 1] == str(n)

    # 下级区域: each street's row as on the page.
    body_lines = [line for t in texts for line in lines(t)]
    for k in r["children"]:
        row = [k["name"], str(k["created"]), *(pct(k["rates"][x]) for x in pdf.RATE_KEYS)]
        assert seq_at(body_lines, row) >= 0, row
    assert {k["code"]: k["created"] for k in r["children"]} == {world.streets[0].code: 3, world.streets[1].code: 1}

    # 每日: the day of the calls, and a day without.
    assert seq_at(body_lines, ["03-02", "4", "0", "4", "—", "—", "03-03", "0", "0", "0", "—", "—"]) >= 0

    # 类别构成 and 单位排名 over the same month, from the dashboard's selectors.
    mix = selectors.mix(district, today=r["end"], days=31)["subjects"]
    assert [s["created"] for s in mix] == [4]
    at = body_lines.index("类别构成")
    assert seq_at(body_lines[at:], [str(mix[0]["created"]), mix[0]["name"]]) >= 0  # bar label, then the axis
    units = selectors.units(district, today=r["end"], days=31)["units"]
    assert units, "the dispatched order gives a unit to rank"
    for u in units:
        row = [str(u["rank"]), u["name"], *(pct(u[k]) for k in ("score", "response", "resolution",
                                                                 "satisfaction", "on_time")),
               str(u["dispatches"]), str(u["open"])]
        assert seq_at(body_lines, row) >= 0, row


def test_the_map_is_coloured_by_the_chosen_figure(world, orders):  # noqa: F811
    """Streets of the fake district have no stored boundary: each is drawn as the union of its grids."""
    district = world.district.code
    shapes = pdf.map_shapes(district)
    assert [s["code"] for s in shapes] == [s.code for s in world.streets]
    assert all(s["polys"] and len(s["polys"][0][0]) >= 8 for s in shapes)
    r = pdf.report_data(district, year=2026, month=3)

    def fills(figure):
        drawing = pdf.map_drawing(r, figure)
        return [p.fillColor for p in drawing.contents if isinstance(p, Path)]

    darkest, palest = colors.HexColor(pdf.PALETTE[-1]), colors.HexColor(pdf.PALETTE[0])
    assert fills("created") == [darkest, palest]  # 3 calls against 1
    assert fills("open") == [darkest, palest]
    assert fills("satisfaction") == [pdf.NO_DATA, pdf.NO_DATA]  # no callbacks yet: no data, not zero
    assert pdf.classes([1, 3], whole=True) == [(1, 1), (2, 2), (3, 3)]
    assert pdf.classes([0, 200, None], whole=True) == [(0, 40), (41, 81), (82, 122), (123, 163), (164, 200)]
    rate_bounds = [x for pair in pdf.classes([0.5, 1.0]) for x in pair]
    assert rate_bounds == pytest.approx([0.5, 0.6, 0.6, 0.7, 0.7, 0.8, 0.8, 0.9, 0.9, 1.0])
    assert pdf.class_of(0.95, pdf.classes([0.5, 1.0])) == 4 and pdf.class_of(None, pdf.classes([0.5, 1.0])) is None


def test_scope_and_bad_input(client, world, orders):  # noqa: F811
    assert client.get("/insight/report.pdf").status_code == 302  # login first
    street_a, street_b = world.streets[0].code, world.streets[1].code
    c = signed_in(client, world.users["street_a"])
    own = c.get("/insight/report.pdf", {"code": street_a, "month": "2026-03"})
    assert own.status_code == 200 and own["Content-Type"] == "application/pdf"
    assert f"{world.streets[0].name} 2026-03 月报" in lines(pages_text(own.content)[0])
    # Without a code: the person's own street, as on the page.
    assert pdf.filename_of({"code": street_a, "name": "", "year": 2026, "month": 3})[0] in \
        c.get("/insight/report.pdf", {"month": "2026-03"})["Content-Disposition"]
    for code in (street_b, world.district.code, rollups.city_code()):
        refused = c.get("/insight/report.pdf", {"code": code, "month": "2026-03"})
        assert refused.status_code == 403 and refused["Content-Type"].startswith("text/html")
        assert "该区域不在您的管辖范围内" in refused.content.decode()
    bad_month = c.get("/insight/report.pdf", {"code": street_a, "month": "March"})
    assert bad_month.status_code == 400 and "月份格式应为 YYYY-MM" in bad_month.content.decode()
    bad_figure = c.get("/insight/report.pdf", {"code": street_a, "month": "2026-03", "figure": "nope"})
    assert bad_figure.status_code == 400 and "地图指标" in bad_figure.content.decode()
    assert c.get("/insight/report.pdf", {"code": "12", "month": "2026-03"}).status_code == 404
    # A grid below the street is theirs: its map is the grid itself.
    grid = c.get("/insight/report.pdf", {"code": world.grids[0].code, "month": "2026-03", "figure": "open"})
    assert grid.status_code == 200


def test_the_report_page_links_to_the_pdf(client, world, orders):  # noqa: F811
    c = signed_in(client, world.users["operator"])
    html = c.get("/insight/report/", {"code": world.district.code, "month": "2026-03",
                                      "figure": "on_time"}).content.decode()
    want = f'href="/insight/report.pdf?code={world.district.code}&amp;month=2026-03&amp;figure=on_time"'
    assert want in html and "下载 PDF" in html


@pytest.mark.parametrize("territory_mode", ["real"])
def test_the_city_map_renders(client, world, orders, tmp_path):  # noqa: F811
    """The real city: districts drawn from their stored boundaries; page 1 rendered to PNG when poppler is here."""
    city = rollups.city_code()
    shapes = pdf.map_shapes(city)
    assert len(shapes) == 11 and all(s["polys"] for s in shapes)
    resp = get_pdf(client, world.users["operator"], code=city, month="2026-03", figure="created")
    assert resp.status_code == 200
    first = lines(pages_text(resp.content)[0])
    at = first.index(world.district.name)
    assert first[at + 1] == "4"  # 越秀区: the fixture's four calls; the other districts 0
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: no PNG render")
    src = tmp_path / "city.pdf"
    src.write_bytes(resp.content)
    subprocess.run(["pdftoppm", "-r", "72", "-f", "1", "-l", "1", "-png", str(src), str(tmp_path / "city")],
                   check=True, timeout=60)
    png = next(tmp_path.glob("city*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
