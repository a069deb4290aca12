"""The monthly report (月报) as a PDF made on the server: tiles, trend, category mix, rankings and a map.

Every figure comes from the selectors the report page and the dashboard read
(`selectors.monthly_report`, and `mix` / `units` over exactly the month's days), formatted by the
page's own `pct` filter, so the PDF cannot disagree with the page. Chinese text uses reportlab's
built-in CID font STSong-Light (Adobe-GB1): nothing to ship, every viewer substitutes its own
Song/Sans CJK face. Charts are reportlab.graphics drawings.

The map colours the territory's children (districts of the city, streets of a district,
communities of a street, grids of a community) by one figure. A division without a stored boundary
is drawn as the union of its unified grids; the simplified outlines are cached.
"""

from __future__ import annotations

import hashlib
import io
import json

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import FILL_EVEN_ODD, Drawing, Path, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from huying.core.errors import DomainError
from huying.territory.models import UNIFIED_LAYER, Division, Grid

from . import metrics, selectors
from .models import Level
from .templatetags.insight_tags import pct

FONT = "STSong-Light"
RATE_KEYS = (*metrics.RATES, "score")
COUNT_FIGURES = ("created", "closes", "open")
FIGURES = (*COUNT_FIGURES, *RATE_KEYS)
DEFAULT_FIGURE = "created"
SHAPES_CACHE_SECONDS = 24 * 3600
# Light → dark; a child without data is grey.
PALETTE = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
NO_DATA = colors.HexColor("#dddddd")
SERIES = (colors.HexColor("#3182bd"), colors.HexColor("#31a354"), colors.HexColor("#e6550d"))
PAGE_W, PAGE_H = A4
FRAME_W = PAGE_W - 36 * mm


def figure_labels() -> dict[str, str]:
    return {"created": _("受理量"), "closes": _("已结案"), "open": _("未结"),
            **{k: _(v) for k, v in metrics.RATE_LABELS.items()}, "score": _("综合得分")}


def figure_check(raw: str) -> str:
    """The figure the map is coloured by; blank means 受理量."""
    raw = (raw or "").strip() or DEFAULT_FIGURE
    if raw not in FIGURES:
        raise DomainError("insight.bad_figure", _("地图指标“%(figure)s”无效。") % {"figure": raw}, field="figure")
    return raw


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


# -- map shapes ----------------------------------------------------------------------------------

def _children(code: str) -> list[tuple[str, str, str]]:
    """(code, name, stored GeoJSON or "") of the areas the map shows: the children, or a grid itself."""
    lvl = selectors.level_of(code)
    if lvl == Level.GRID:
        return list(Grid.objects.filter(layer=UNIFIED_LAYER, code=code).values_list("code", "name", "geometry"))
    if lvl == Level.COMMUNITY:
        return list(Grid.objects.filter(layer=UNIFIED_LAYER, community__code=code).order_by("code")
                    .values_list("code", "name", "geometry"))
    return list(Division.objects.filter(parent__code=code).order_by("code").values_list("code", "name", "geometry"))


def _fingerprint(code: str, kids: list[tuple[str, str, str]]) -> str:
    # A re-import or regeneration adds rows and moves the max ids, so changed shapes miss the cache.
    prefix = "" if selectors.level_of(code) == Level.CITY else code
    grids = Grid.objects.filter(layer=UNIFIED_LAYER, code__startswith=prefix).aggregate(n=Count("id"), m=Max("id"))
    divs = Division.objects.filter(code__startswith=prefix).aggregate(n=Count("id"), m=Max("id"))
    text = json.dumps([code, [(c, len(g)) for c, _n, g in kids], grids, divs], default=str)
    return hashlib.sha1(text.encode()).hexdigest()


def _union_of_grids(code: str):
    import shapely

    polys = [shapely.from_geojson(g) for g in
             Grid.objects.filter(layer=UNIFIED_LAYER, code__startswith=code).values_list("geometry", flat=True) if g]
    return shapely.union_all(polys) if polys else None


def _rings(shape) -> list[list[list[float]]]:
    """A (multi)polygon as a list of polygons, each a list of flat rings (exterior first)."""
    polys = getattr(shape, "geoms", [shape])
    out = []
    for p in polys:
        if p.geom_type != "Polygon" or p.is_empty:
            continue
        rings = [p.exterior, *p.interiors]
        out.append([[round(v, 6) for xy in r.coords for v in xy] for r in rings])
    return out


def map_shapes(code: str) -> list[dict]:
    """[{code, name, polys, cp}] in WGS-84, simplified to what a page-wide map can show; cached."""
    import shapely

    kids = _children(code)
    key = f"insight:pdf-shapes:{code}:{_fingerprint(code, kids)}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    loaded = []
    for c, name, text in kids:
        shape = shapely.from_geojson(text) if text else _union_of_grids(c)
        if shape is not None and not shape.is_empty:
            loaded.append((c, name, shape))
    out = []
    if loaded:
        x0, y0, x1, y1 = shapely.total_bounds([s for _c, _n, s in loaded])
        tolerance = max(x1 - x0, y1 - y0) / 1500  # about a third of a point on the page
        for c, name, shape in loaded:
            simple = shape.simplify(tolerance, preserve_topology=True)
            cp = shape.representative_point()
            out.append({"code": c, "name": name, "polys": _rings(simple), "cp": [cp.x, cp.y]})
    cache.set(key, out, SHAPES_CACHE_SECONDS)
    return out


# -- figures -------------------------------------------------------------------------------------

def report_data(code: str, *, year: int, month: int) -> dict:
    """The page's month (`monthly_report`) plus category mix and rankings over the same days."""
    r = selectors.monthly_report(code, year=year, month=month)
    days = (r["end"] - r["start"]).days + 1
    r["mix"] = selectors.mix(code, today=r["end"], days=days)["subjects"]
    r["units"] = selectors.units(code, today=r["end"], days=days)
    return r


def figure_value(row: dict, figure: str):
    return row["rates"].get(figure) if figure in RATE_KEYS else row.get(figure, 0)


def figure_text(value, figure: str) -> str:
    if figure in RATE_KEYS:
        return pct(value)
    return f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def classes(values: list, n: int = len(PALETTE), *, whole: bool = False) -> list[tuple[float, float]]:
    """Equal-interval classes over the values that have data (one class when they are all equal);
    `whole`: counts, so the classes are whole numbers (0–40, 41–81, …; one per value when few)."""
    present = [v for v in values if v is not None]
    if not present:
        return []
    lo, hi = min(present), max(present)
    if lo == hi:
        return [(lo, hi)]
    if whole:
        step = -(-(hi - lo + 1) // n)
        return [(a, min(hi, a + step - 1)) for a in range(lo, hi + 1, step)]
    step = (hi - lo) / n
    return [(lo + i * step, hi if i == n - 1 else lo + (i + 1) * step) for i in range(n)]


def class_of(value, bounds: list[tuple[float, float]]) -> int | None:
    if value is None or not bounds:
        return None
    for i, (_lo, hi) in enumerate(bounds):
        if value <= hi:
            return i
    return len(bounds) - 1


def _colour(index: int | None, count: int):
    if index is None:
        return NO_DATA
    # Spread fewer classes over the whole palette so one class is not always the palest.
    pos = round(index * (len(PALETTE) - 1) / max(count - 1, 1)) if count > 1 else len(PALETTE) - 1
    return colors.HexColor(PALETTE[pos])


# -- drawings ------------------------------------------------------------------------------------

def map_drawing(r: dict, figure: str, *, width: float = FRAME_W, height: float = 160 * mm) -> Drawing:
    """Choropleth of the children by `figure`, with a legend; labels when there are few areas."""
    font = _font()
    labels = figure_labels()
    shapes_ = map_shapes(r["code"])
    by_code = {k["code"]: k for k in r["children"]}
    if selectors.level_of(r["code"]) == Level.GRID:
        by_code[r["code"]] = {**r["totals"], "rates": r["rates"]}
    values = {}
    for s in shapes_:
        row = by_code.get(s["code"])
        values[s["code"]] = figure_value(row, figure) if row else (None if figure in RATE_KEYS else 0)
    bounds = classes(list(values.values()), whole=figure in COUNT_FIGURES)
    d = Drawing(width, height)
    d.add(String(0, height - 10, _("地图：%(figure)s（按下级区域）") % {"figure": labels[figure]},
                 fontName=font, fontSize=10))
    legend_w = 110
    map_w, map_h = width - legend_w - 10, height - 20
    if not shapes_:
        d.add(String(0, height / 2, _("暂无边界数据"), fontName=font, fontSize=10))
        return d
    xs = [v for s in shapes_ for p in s["polys"] for ring in p for v in ring[0::2]]
    ys = [v for s in shapes_ for p in s["polys"] for ring in p for v in ring[1::2]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    # Equirectangular with cos(latitude): at Guangzhou a degree of longitude is ~0.92 of one of latitude.
    import math

    kx = math.cos(math.radians((y0 + y1) / 2))
    scale = min(map_w / max((x1 - x0) * kx, 1e-9), map_h / max(y1 - y0, 1e-9))
    ox = (map_w - (x1 - x0) * kx * scale) / 2
    oy = (map_h - (y1 - y0) * scale) / 2

    def proj(x, y):
        return ox + (x - x0) * kx * scale, oy + (y - y0) * scale

    for s in shapes_:
        fill = _colour(class_of(values[s["code"]], bounds), len(bounds))
        for poly in s["polys"]:
            path = Path(fillColor=fill, strokeColor=colors.white, strokeWidth=0.6, fillMode=FILL_EVEN_ODD)
            for ring in poly:
                pts = [proj(ring[i], ring[i + 1]) for i in range(0, len(ring), 2)]
                path.moveTo(*pts[0])
                for p in pts[1:]:
                    path.lineTo(*p)
                path.closePath()
            d.add(path)
    if len(shapes_) <= 40:
        for s in shapes_:
            x, y = proj(*s["cp"])
            d.add(String(x, y + 1, s["name"], fontName=font, fontSize=6, textAnchor="middle"))
            d.add(String(x, y - 7, figure_text(values[s["code"]], figure), fontName=font, fontSize=6,
                         textAnchor="middle"))
    # Legend: one swatch per class, then 无数据.
    lx, ly = map_w + 14, map_h - 14
    d.add(String(lx, ly, labels[figure], fontName=font, fontSize=8))
    rows = [(_colour(i, len(bounds)), f"{figure_text(lo, figure)} ~ {figure_text(hi, figure)}"
             if lo != hi else figure_text(lo, figure)) for i, (lo, hi) in enumerate(bounds)]
    rows.append((NO_DATA, _("无数据")))
    for i, (fill, text) in enumerate(rows):
        y = ly - 14 - i * 13
        d.add(Rect(lx, y - 2, 12, 9, fillColor=fill, strokeColor=colors.grey, strokeWidth=0.3))
        d.add(String(lx + 16, y, text, fontName=font, fontSize=7))
    return d


def nice_step(raw: float) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ (at least 1) not below `raw`: axis ticks a reader can add up."""
    base = 1
    while True:
        for m in (1, 2, 5):
            if base * m >= raw:
                return base * m
        base *= 10


def trend_drawing(r: dict, *, width: float = FRAME_W, height: float = 70 * mm) -> Drawing:
    """Per day of the month: orders taken in, of those closed, and still open."""
    font = _font()
    d = Drawing(width, height)
    d.add(String(0, height - 10, _("每日趋势"), fontName=font, fontSize=10))
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 30, 30, width - 40, height - 60
    series = ("created", "closes", "open")
    # Drawn last, 受理量 stays visible where nothing was closed and 未结 equals it.
    chart.data = [[day[k] for day in r["days"]] for k in reversed(series)]
    chart.categoryAxis.categoryNames = [str(day["day"].day) if day["day"].day == 1 or day["day"].day % 5 == 0 else ""
                                        for day in r["days"]]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    step = nice_step(max((max(s) for s in chart.data), default=0) / 4)
    chart.valueAxis.valueStep = step
    chart.valueAxis.valueMax = step * 4  # step ≥ peak / 4, so the peak fits
    for i, c in enumerate(reversed(SERIES)):
        chart.lines[i].strokeColor = c
        chart.lines[i].strokeWidth = 1.2
    d.add(chart)
    names = {"created": _("受理量"), "closes": _("已结案"), "open": _("未结")}
    legend = Legend()
    legend.x, legend.y = 40, 12
    legend.fontName, legend.fontSize = font, 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 70
    legend.colorNamePairs = [(SERIES[i], names[k]) for i, k in enumerate(series)]
    d.add(legend)
    return d


def mix_drawing(r: dict, *, width: float = FRAME_W, limit: int = 14) -> Drawing:
    """Orders taken in by level-1 subject, largest first (the first `limit`, the rest as 其他)."""
    font = _font()
    items = [(s["name"], s["created"]) for s in r["mix"]]
    if len(items) > limit:
        items = items[:limit - 1] + [(_("其他"), sum(n for _name, n in items[limit - 1:]))]
    height = 40 + max(1, len(items)) * 16
    d = Drawing(width, height)
    d.add(String(0, height - 10, _("类别构成"), fontName=font, fontSize=10))
    if not items:
        d.add(String(0, height - 30, _("暂无数据"), fontName=font, fontSize=9))
        return d
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 120, 10, width - 170, height - 30
    chart.data = [[n for _name, n in reversed(items)]]
    chart.categoryAxis.categoryNames = [name for name, _n in reversed(items)]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = SERIES[0]
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName, chart.barLabels.fontSize = font, 7
    chart.barLabels.boxAnchor, chart.barLabels.dx = "w", 3
    d.add(chart)
    return d


# -- the document --------------------------------------------------------------------------------

def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=24, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=font, fontSize=8, leading=11, wordWrap="CJK"),
        "muted": ParagraphStyle("muted", fontName=font, fontSize=8, leading=11, textColor=colors.grey,
                                wordWrap="CJK"),
    }


def _table(rows: list[list], widths: list[float] | None = None, *, text_cols: int = 1) -> Table:
    """A plain grid: the first `text_cols` columns left-aligned, the figures right-aligned."""
    t = Table(rows, colWidths=widths, repeatRows=1)
    style = [("FONT", (0, 0), (-1, -1), _font(), 7.5), ("ALIGN", (text_cols, 0), (-1, -1), "RIGHT"),
             ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")))
    t.setStyle(TableStyle(style))
    return t


def tiles_table(r: dict) -> Table:
    """The page's tiles (受理量 and the rates) plus 已结案 and 未结: label over value, five a row."""
    labels = figure_labels()
    cells = [(labels[k], str(r["totals"][k])) for k in COUNT_FIGURES]
    cells += [(labels[k], pct(r["rates"][k])) for k in RATE_KEYS]
    per_row = 5
    rows = []
    for i in range(0, len(cells), per_row):
        chunk = cells[i:i + per_row] + [("", "")] * (per_row - len(cells[i:i + per_row]))
        rows += [[label for label, _v in chunk], [value for _label, value in chunk]]
    t = Table(rows, colWidths=[FRAME_W / per_row] * per_row)
    style = [("FONT", (0, 0), (-1, -1), _font(), 8), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
             ("BOX", (0, 0), (-1, -1), 0.4, colors.HexColor("#cccccc"))]
    for i in range(0, len(rows), 2):
        style += [("TEXTCOLOR", (0, i), (-1, i), colors.grey),
                  ("FONT", (0, i + 1), (-1, i + 1), _font(), 14), ("BOTTOMPADDING", (0, i + 1), (-1, i + 1), 8)]
    t.setStyle(TableStyle(style))
    return t


def children_table(r: dict) -> Table:
    labels = figure_labels()
    rows = [[_("区域"), labels["created"], *(labels[k] for k in RATE_KEYS)]]
    for k in r["children"]:
        rows.append([k["name"], str(k["created"]), *(pct(k["rates"][x]) for x in RATE_KEYS)])
    if not r["children"]:
        rows.append([_("暂无数据"), *[""] * (len(RATE_KEYS) + 1)])
    first = 40 * mm
    return _table(rows, [first] + [(FRAME_W - first) / (len(RATE_KEYS) + 1)] * (len(RATE_KEYS) + 1))


def units_table(r: dict) -> Table:
    labels = figure_labels()
    keys = ("score", "response", "resolution", "satisfaction", "on_time")
    rows = [[_("排名"), _("单位"), *(labels[k] for k in keys), _("派单"), labels["open"]]]
    for u in r["units"]["units"]:
        rows.append([str(u["rank"]), u["name"], *(pct(u[k]) for k in keys), str(u["dispatches"]), str(u["open"])])
    if not r["units"]["units"]:
        rows.append(["", _("暂无数据"), *[""] * (len(keys) + 2)])
    name_w = 55 * mm
    rest = (FRAME_W - 12 * mm - name_w) / (len(keys) + 2)
    return _table(rows, [12 * mm, name_w] + [rest] * (len(keys) + 2), text_cols=2)


def days_table(r: dict) -> Table:
    labels = figure_labels()
    rows = [[_("日期"), labels["created"], labels["closes"], labels["open"], labels["satisfaction"],
             labels["on_time"]]]
    for d in r["days"]:
        rows.append([d["day"].strftime("%m-%d"), str(d["created"]), str(d["closes"]), str(d["open"]),
                     pct(d["rates"]["satisfaction"]), pct(d["rates"]["on_time"])])
    return _table(rows, [FRAME_W / 6] * 6)


def _as_of(r: dict) -> str:
    """" 数据截至 …" when the caller said how fresh the figures are (views.report_pdf: the same line as the pages)."""
    fresh = r.get("freshness")
    if not fresh:
        return ""
    from django.utils import timezone

    at = timezone.localtime(fresh["as_of"]).strftime("%H:%M:%S" if fresh["same_day"] else "%Y-%m-%d %H:%M:%S")
    return " " + _("数据截至 %(at)s") % {"at": at}


def title_of(r: dict) -> str:
    return _("%(name)s %(month)s 月报") % {"name": r["name"], "month": f"{r['year']:04d}-{r['month']:02d}"}


def monthly_report_pdf(code: str, *, year: int, month: int, figure: str = DEFAULT_FIGURE,
                       data: dict | None = None) -> bytes:
    """The month of one territory (already checked against the reader's scope) as PDF bytes."""
    figure = figure_check(figure)
    r = data if data is not None else report_data(code, year=year, month=month)
    st = _styles()
    title = title_of(r)
    story = [
        Paragraph(title, st["title"]),
        Paragraph(_("统计 %(start)s 至 %(end)s 受理的工单；比率定义见 docs/metrics.md。")
                  % {"start": r["start"].isoformat(), "end": r["end"].isoformat()} + _as_of(r), st["muted"]),
        Spacer(1, 4 * mm),
        tiles_table(r),
        Spacer(1, 5 * mm),
        map_drawing(r, figure),
        PageBreak(),
        trend_drawing(r),
        Spacer(1, 4 * mm),
        mix_drawing(r),
        KeepTogether([Paragraph(_("下级区域"), st["h2"]), children_table(r)]),
        KeepTogether([Paragraph(_("单位排名（按综合得分，前 %(n)s 名，共 %(count)s 个）")
                                % {"n": len(r["units"]["units"]), "count": r["units"]["count"]}, st["h2"]),
                      units_table(r)]),
        Paragraph(_("每日"), st["h2"]),
        days_table(r),
    ]

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(_font(), 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(18 * mm, 10 * mm, _("呼应 - %(title)s") % {"title": title})
        canvas.drawRightString(PAGE_W - 18 * mm, 10 * mm, _("第 %(page)s 页") % {"page": doc.page})
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=title, author=_("呼应 Huying"),
                            subject=_("月报"), creator="huying.insight.pdf", invariant=True)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def filename_of(r: dict) -> tuple[str, str]:
    """(ASCII fallback, full name with the territory's name) for Content-Disposition."""
    stamp = f"{r['year']:04d}{r['month']:02d}"
    return (f"huying-report-{r['code']}-{stamp}.pdf",
            f"{r['name']}-{r['year']:04d}-{r['month']:02d}-{_('月报')}.pdf")

