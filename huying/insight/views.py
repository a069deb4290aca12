"""The dashboard (一屏观天下): one page, a live tiles partial polled by htmx, and JSON for the charts.

Every endpoint reads the rollups only (through `insight.selectors`) and checks the territory
asked for against the person's scope: a street leader's dashboard is their street. The figures are
read through `core.dbrouter.on_replica` (the streaming replica when there is one and it is current;
the scope check before it, on the primary), and each page says how fresh they are (数据截至).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from huying.core.dbrouter import on_replica
from huying.core.errors import DomainError

from . import metrics, selectors

MAX_DAYS = 366


def _args(request) -> tuple[str, object, int]:
    code = selectors.dashboard_check(request.user, request.GET.get("code", ""))
    try:
        days = max(1, min(MAX_DAYS, int(request.GET.get("days", 30))))
    except ValueError:
        raise DomainError("insight.bad_days", _("天数格式不正确。"), field="days") from None
    return code, selectors.today_local(), days


def _json(fn):
    @login_required
    @require_GET
    def view(request):
        try:
            code, today, days = _args(request)
            return JsonResponse(on_replica(fn, code, today=today, days=days), json_dumps_params={"ensure_ascii": False})
        except DomainError as exc:
            return JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})

    view.__name__ = fn.__name__
    view.__doc__ = fn.__doc__
    return view


def _summary(code, *, today, days):
    return {**selectors.summary(code, today=today, days=days),
            "level": selectors.LEVEL_NAMES[selectors.level_of(code)]}


api_summary = _json(_summary)
api_children = _json(selectors.children)
api_trend = _json(selectors.trend)
api_mix = _json(selectors.mix)
api_units = _json(selectors.units)


def _hotspots(code, *, today, days):
    return selectors.hotspots(code, today=today, days=min(days, 30))


api_hotspots = _json(_hotspots)


def _labels() -> dict:
    return {
        "metrics": {"open": _("未办结"), "overdue": _("超期"), "satisfaction": _("满意率")},
        "rates": {k: _(v) for k, v in metrics.RATE_LABELS.items()},
        "created": _("受理量"), "closes": _("已结案"), "openNow": _("未结"), "score": _("综合得分"),
        "noData": _("暂无数据"), "failed": _("加载失败："), "unit": _("单位"), "rank": _("排名"),
        "orders": _("件"), "dispatches": _("派单"),
        "hotspotsAsOf": _("榜单计算于 %(at)s"), "hotspotsLive": _("实时统计"),
    }


@login_required
@require_GET
def dashboard(request):
    """驾驶舱: the person's territory on one screen."""
    try:
        code = selectors.dashboard_check(request.user, request.GET.get("code", ""))
    except DomainError as exc:
        return render(request, "insight/dashboard.html", {"error": exc.message}, status=exc.status)
    base = reverse("insight:dashboard")
    config = {
        "root": selectors.dashboard_root(request.user), "code": code,
        "cityCode": selectors.city_code(),
        "api": {name: reverse(f"insight:api_{name}") for name in
                ("summary", "children", "trend", "mix", "hotspots", "units")},
        "geo": reverse("api:api-root") + "territory/divisions/",
        "tiles": reverse("insight:tiles"), "base": base,
        "labels": _labels(),
    }
    return render(request, "insight/dashboard.html", {
        "config": config, "code": code, "crumbs": selectors.breadcrumb(request.user, code),
        **on_replica(_tiles, code, today=selectors.today_local()),
    })


def _tiles(code: str, *, today, days: int = 30) -> dict:
    """The tiles' figures, their rollups' backlog and how fresh they are, all from one source."""
    pending = selectors.pending()
    return {"tiles": selectors.summary(code, today=today, days=days), "app_tiles": selectors.app_tiles(code),
            "pending": pending, "freshness": selectors.freshness(pending)}


@login_required
@require_GET
def tiles(request):
    """htmx partial: the tiles, polled every 30 s; the page's script redraws the charts after each swap."""
    try:
        code, today, days = _args(request)
    except DomainError as exc:
        return render(request, "insight/_tiles.html", {"error": exc.message}, status=exc.status)
    return render(request, "insight/_tiles.html", {"code": code, **on_replica(_tiles, code, today=today, days=days)})


def _month(request) -> tuple[int, int]:
    raw = request.GET.get("month", "")
    if raw:
        try:
            y, m = (int(x) for x in raw.split("-", 1))
            if 2000 <= y <= 2100 and 1 <= m <= 12:
                return y, m
        except ValueError:
            pass
        raise DomainError("insight.bad_month", _("月份格式应为 YYYY-MM。"), field="month")
    # Without a month: the last full month, the one a monthly report is written about.
    first = selectors.today_local().replace(day=1)
    return (first.year - 1, 12) if first.month == 1 else (first.year, first.month - 1)


def _report(code: str, *, year: int, month: int) -> tuple[dict, dict]:
    return selectors.monthly_report(code, year=year, month=month), selectors.freshness()


RATE_KEYS = ("response", "resolution", "satisfaction", "on_time", "rework", "return", "score")


@login_required
@require_GET
def report(request):
    """月报: one territory's month on a printable page (the browser prints it to PDF)."""
    try:
        code = selectors.dashboard_check(request.user, request.GET.get("code", ""))
        year, month = _month(request)
    except DomainError as exc:
        return render(request, "insight/report.html", {"error": exc.message}, status=exc.status)
    data, freshness = on_replica(_report, code, year=year, month=month)
    return render(request, "insight/report.html", {"r": data, "freshness": freshness, "rate_keys": RATE_KEYS,
                                                   "rate_labels": {**metrics.RATE_LABELS, "score": "综合得分"},
                                                   "month": f"{year:04d}-{month:02d}"})


@login_required
@require_GET
def report_xlsx(request):
    """The same month as an Excel workbook: 汇总, 下级区域, 每日."""
    try:
        code = selectors.dashboard_check(request.user, request.GET.get("code", ""))
        year, month = _month(request)
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})
    return on_replica(_report_xlsx, code, year=year, month=month)


def _report_xlsx(code: str, *, year: int, month: int):
    from django.http import HttpResponse
    from openpyxl import Workbook

    r = selectors.monthly_report(code, year=year, month=month)
    rate_head = [_(metrics.RATE_LABELS.get(k, "综合得分")) for k in RATE_KEYS]
    counters = list(metrics.COUNTERS)
    wb = Workbook()
    ws = wb.active
    ws.title = _("汇总")
    ws.append([_("区域"), _("代码"), _("月份"), *rate_head, *counters])
    ws.append([r["name"], code, f"{year:04d}-{month:02d}", *(r["rates"][k] for k in RATE_KEYS),
               *(r["totals"][c] for c in counters)])
    ws = wb.create_sheet(_("下级区域"))
    ws.append([_("区域"), _("代码"), *rate_head, *counters])
    for k in r["children"]:
        ws.append([k["name"], k["code"], *(k["rates"][x] for x in RATE_KEYS), *(k[c] for c in counters)])
    ws = wb.create_sheet(_("每日"))
    ws.append([_("日期"), *rate_head, *counters])
    for d in r["days"]:
        ws.append([d["day"], *(d["rates"][x] for x in RATE_KEYS), *(d[c] for c in counters)])
    resp = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="huying-report-{code}-{year:04d}{month:02d}.xlsx"'
    wb.save(resp)
    return resp


def _report_pdf(code: str, *, year: int, month: int, figure: str) -> tuple[dict, bytes]:
    from . import pdf

    data = {**pdf.report_data(code, year=year, month=month), "freshness": selectors.freshness()}
    return data, pdf.monthly_report_pdf(code, year=year, month=month, figure=figure, data=data)


@login_required
@require_GET
def report_pdf(request):
    """The same month as a PDF made on the server, with the map of the child areas (月报 PDF)."""
    from urllib.parse import quote

    from django.http import HttpResponse

    from . import pdf

    try:
        code = selectors.dashboard_check(request.user, request.GET.get("code", ""))
        year, month = _month(request)
        figure = pdf.figure_check(request.GET.get("figure", ""))
    except DomainError as exc:
        return render(request, "insight/report.html", {"error": exc.message}, status=exc.status)
    data, body = on_replica(_report_pdf, code, year=year, month=month, figure=figure)
    ascii_name, full_name = pdf.filename_of(data)
    resp = HttpResponse(body, content_type="application/pdf")
    resp["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(full_name)}"
    return resp
