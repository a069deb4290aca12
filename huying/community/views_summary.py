"""协同共治汇总 page: the co-governance figures of the person's territory, one row per child division,
drilled down district → street → community with ?division=<code>, and the same table as .xlsx.

The division asked for is checked against the person's scope (selectors_summary.summary_check): a
malformed code answers 400, one outside the scope 404, each with a clear message.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from huying.core.errors import DomainError

from . import selectors_summary as sel

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error(request, exc: DomainError):
    return render(request, "community/summary.html", {"error": exc.message}, status=exc.status)


@login_required
@require_GET
def summary(request):
    """The table for the person's territory (or the division they drilled down to)."""
    try:
        division = sel.summary_check(request.user, request.GET.get("division"))
    except DomainError as exc:
        return _error(request, exc)
    table = sel.summary_table(division, now=timezone.now())
    for r in table["rows"]:
        r["cells"] = _shown(r["figures"])
    return render(request, "community/summary.html", {
        "t": table, "own": _shown(table["own"]) if table["own"] else None, "totals": _shown(table["totals"]),
        "columns": sel.COLUMNS, "groups": sel.column_groups(),
        "crumbs": sel.breadcrumb(request.user, division)})


def _shown(figures: dict) -> list[str]:
    return [f"{figures[c.key]:.1f}" if c.hours else str(figures[c.key]) for c in sel.COLUMNS]


def _cells(figures: dict) -> list:
    return [float(figures[c.key]) if c.hours else figures[c.key] for c in sel.COLUMNS]


@login_required
@require_GET
def summary_xlsx(request):
    """The same table as an Excel workbook (sheet 协同共治汇总), rows then the totals row."""
    from openpyxl import Workbook

    try:
        division = sel.summary_check(request.user, request.GET.get("division"))
    except DomainError as exc:
        return _error(request, exc)
    t = sel.summary_table(division, now=timezone.now())
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("协同共治汇总"))
    ws.append([_("区划"), _("代码"), *(str(c.label) for c in sel.COLUMNS)])
    for r in t["rows"]:
        ws.append([r["division"].name, r["division"].code, *_cells(r["figures"])])
    if t["own"] is not None:
        ws.append([_("本级（未落到下级区划）"), division.code, *_cells(t["own"])])
    ws.append([_("合计"), division.code, *_cells(t["totals"])])
    ws.append([])
    ws.append([_("统计口径：助餐人次、服务时长为 %(year)s 年 1 月 1 日至今；合计中的共建单位每家只计一次。")
               % {"year": t["year"]}])
    resp = HttpResponse(content_type=XLSX)
    name = _("协同共治汇总") + f"-{division.code}.xlsx"
    resp["Content-Disposition"] = (f"attachment; filename=\"huying-summary-{division.code}.xlsx\"; "
                                   f"filename*=UTF-8''{quote(name)}")
    wb.save(resp)
    return resp
