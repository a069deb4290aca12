"""Ranking pages (排名) and the unit ledger export (台账); reads go through `rankings` and `ledger`, on the
replica when there is one (`core.dbrouter.on_replica`; the scope checks on the primary)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from huying.core.dbrouter import on_replica
from huying.core.errors import DomainError

from . import ledger, metrics, rankings, selectors

PER_PAGE = 20
RATE_KEYS = metrics.RATES


def _ranking(actor, **kwargs) -> tuple[list, dict]:
    return rankings.ranking(actor, **kwargs), selectors.freshness()


@login_required
@require_GET
def ranking_page(request):
    """排名: the units of one level in the person's territory, sortable by any rate or the composite score."""
    actor = request.user
    try:
        level = request.GET.get("level", "").strip() or rankings.default_level(actor)
        if level is None:
            raise DomainError("insight.no_territory", _("您没有可查看的辖区。"), status=403)
        period = rankings.period_parse(request.GET.get("period"), today=selectors.today_local())
        sort = rankings.sort_parse(request.GET.get("sort"))
        rows, freshness = on_replica(_ranking, actor, level=level, period=period, sort=sort)
    except DomainError as exc:
        return render(request, "insight/rankings.html", {"error": exc.message}, status=exc.status)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    labels = {**{k: _(v) for k, v in metrics.RATE_LABELS.items()}, "composite": _("综合得分")}

    def link(**change) -> str:
        args = {"level": level, "period": period.key, "sort": sort, **change}
        return "?" + urlencode({k: v for k, v in args.items() if v not in (None, "")})

    return render(request, "insight/rankings.html", {
        "rows": page.object_list, "page": page, "freshness": freshness, "level": level, "period": period, "sort": sort,
        "rate_keys": RATE_KEYS, "labels": labels,
        "levels": [{"key": lv, "label": _(rankings.LEVEL_LABELS[lv]), "url": link(level=lv, page=None),
                    "current": lv == level} for lv in rankings.levels_for(actor)],
        "sorts": [{"key": s, "label": labels[s], "url": link(sort=s), "current": s == sort}
                  for s in rankings.SORTS],
        "prev_url": link(page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": link(page=page.next_page_number()) if page.has_next() else "",
        "ledger_period": period.key,
        "can_export_ledger": ledger.sees_orders(actor),
    })


@login_required
@require_GET
def ledger_xlsx(request):
    """台账 export of one unit over one period (403 outside the person's scope)."""
    try:
        unit = ledger.ledger_unit_check(request.user, request.GET.get("unit"))
        period = rankings.period_parse(request.GET.get("period"), today=selectors.today_local())
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})
    return on_replica(_ledger_xlsx, unit, actor=request.user, period=period)


def _ledger_xlsx(unit, *, actor, period):
    resp = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = (f'attachment; filename="huying-ledger-{unit.code}-'
                                   f'{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"')
    ledger.ledger_workbook(unit, actor=actor, period=period, out=resp)
    return resp
