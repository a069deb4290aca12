"""预测来电: the next 14 days of expected calls in the person's territory against the operators on duty.

Reads the stored forecasts (`forecast.forecasts_for`, refreshed daily by the worker job "forecast")
and the operators on duty from the streaming replica when there is one (`core.dbrouter.on_replica`,
as the dashboard), and says how fresh they are; the territory is checked against the person's scope
by the dashboard's own check, on the primary.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET

from huying.core.dbrouter import on_replica
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.core.worktime import get_calendar, unknown_years

from . import forecast, selectors

WEEKDAYS = (_l("周一"), _l("周二"), _l("周三"), _l("周四"), _l("周五"), _l("周六"), _l("周日"))


def _subject(request, available: dict) -> str:
    subject = clean_text(request.GET.get("subject", ""), field="subject", max_length=8)
    if subject and subject not in available:
        raise DomainError("insight.forecast.bad_subject", _("没有该类别的预测。"), field="subject")
    return subject


def _rows(fc: dict, *, operators: int, per_operator: int, total: bool) -> list[dict]:
    calendar = get_calendar()
    rows = []
    for i, iso in enumerate(fc["days"]):
        d = date.fromisoformat(iso)
        mean = fc["mean"][i]
        rows.append({
            "day": iso, "weekday": str(WEEKDAYS[d.weekday()]),
            "off": not calendar.is_workday(d), "mean": mean, "lo": fc["lo"][i], "hi": fc["hi"][i],
            "per_operator": round(mean / operators, 1) if operators else None,
            "over": total and bool(operators) and mean > operators * per_operator,
        })
    return rows


def _figures(code: str, *, today: date) -> tuple[dict, int, dict]:
    """The territory's forecasts, its operators on duty, and how fresh they are (reads only)."""
    return forecast.forecasts_for(code, today=today), forecast.operators_on_duty(code), selectors.freshness()


@login_required
@require_GET
def forecast_page(request):
    """The dispatch centre's expected load for the next 14 days, per day and per level-1 subject."""
    try:
        code = selectors.dashboard_check(request.user, request.GET.get("code", ""))
        today = selectors.today_local()
        series, operators, freshness = on_replica(_figures, code, today=today)
        subject = _subject(request, series)
    except DomainError as exc:
        return render(request, "insight/forecast.html", {"error": exc.message}, status=exc.status)
    fc = series.get(subject) or series.get(forecast.ALL)
    per_operator = forecast.calls_per_operator_day()
    capacity = operators * per_operator
    labels = selectors.subject_names(s for s in series if s)
    subjects = sorted(((s, labels.get(s, s)) for s in series if s), key=lambda x: x[0])
    rows = _rows(fc, operators=operators, per_operator=per_operator, total=not subject) if fc else []
    years = sorted({int(r["day"][:4]) for r in rows})
    config = {
        "days": fc["days"] if fc else [], "mean": fc["mean"] if fc else [], "lo": fc["lo"] if fc else [],
        "hi": fc["hi"] if fc else [], "capacity": capacity if (operators and not subject) else None,
        "labels": {"mean": _("预计来电"), "band": _("90% 区间"), "capacity": _("话务员日处理能力"),
                   "calls": _("件")},
    }
    crumbs = selectors.breadcrumb(request.user, code)
    return render(request, "insight/forecast.html", {
        "code": code, "place": crumbs[-1]["name"] if crumbs else code, "subject": subject, "subjects": subjects,
        "fc": fc, "rows": rows, "config": config, "operators": operators, "per_operator": per_operator,
        "capacity": capacity, "naive": bool(fc) and fc.get("method") == "naive",
        "unknown_years": unknown_years(years), "dashboard_url": reverse("insight:dashboard") + "?code=" + code,
        "total_14": round(sum(fc["mean"]), 0) if fc else 0, "freshness": freshness,
    })
