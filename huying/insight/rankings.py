"""Rankings (排名) of units at one level over one period, from the rollups only, scoped to the viewer.

Territorial levels (district, street, community) rank the office (块) of each area in the viewer's
territory on everything taken in there (`AreaDayTotal`), as the dashboard does; the department level
ranks departments (条) on the orders they were given (`UnitDay`). Figures come from
`metrics.evaluate`, so a ranking, the dashboard and the monthly report never disagree.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.people.scope import scope_for

from . import metrics, selectors
from .models import AreaDayTotal, Level, UnitDay

TERRITORIAL = {"district": Level.DISTRICT, "street": Level.STREET, "community": Level.COMMUNITY}
LEVEL_NAME = {lvl: name for name, lvl in TERRITORIAL.items()}  # = territory.models.Level values
LEVELS = ("district", "street", "community", "department")
LEVEL_LABELS = {"district": "区", "street": "街道/镇", "community": "社区/村", "department": "部门"}
SORTS = ("composite", *metrics.RATES)
# Counts shown next to the rates (the numerators and denominators people ask about first).
COUNTS = ("created", "dispatches", "accepts", "returns", "resolutions", "reworks", "callbacks", "closes", "open",
          "overdue")
MAX_DAYS = 366
_DAYS = re.compile(r"^(\d{1,3})d$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """Days taken in (a cohort, see docs/metrics.md), both ends included."""

    start: date
    end: date
    key: str  # as given in the URL: "2026-03" or "30d"


def period_parse(raw: str | None, *, today: date) -> Period:
    """"YYYY-MM" (a calendar month) or "Nd" (the last N days up to today); default the last 30 days."""
    raw = (raw or "").strip() or "30d"
    m = _DAYS.match(raw)
    if m and 1 <= int(m.group(1)) <= MAX_DAYS:
        days = int(m.group(1))
        return Period(today - timedelta(days=days - 1), today, raw)
    m = _MONTH.match(raw)
    if m and 2000 <= int(m.group(1)) <= 2100 and 1 <= int(m.group(2)) <= 12:
        y, mo = int(m.group(1)), int(m.group(2))
        return Period(date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]), raw)
    raise DomainError("insight.bad_period", _("统计周期应为 YYYY-MM 或 30d 形式。"), field="period")


def sort_parse(raw: str | None) -> str:
    """A rate key or its Chinese label (响应率 …), or composite / 综合得分."""
    raw = (raw or "").strip() or "composite"
    if raw in SORTS:
        return raw
    by_label = {v: k for k, v in metrics.RATE_LABELS.items()} | {"综合得分": "composite"}
    if raw in by_label:
        return by_label[raw]
    raise DomainError("insight.bad_sort", _("不支持的排序方式。"), field="sort")


def _is_city(actor) -> bool:
    return bool(getattr(actor, "is_superuser", False)) or scope_for(actor).whole_city


def levels_for(actor) -> list[str]:
    """The levels this person may rank: those at or below their territory, and departments if they see any."""
    out = []
    root = selectors.dashboard_root(actor)
    if root is not None:
        depth = selectors.level_of(root)
        out = [name for name, lvl in TERRITORIAL.items() if lvl >= depth]
    if _is_city(actor) or _department_ids(actor):
        out.append("department")
    return out


def default_level(actor) -> str | None:
    """One level below the person's own territory (a street leader: communities), else the first allowed."""
    allowed = levels_for(actor)
    root = selectors.dashboard_root(actor)
    if root is not None:
        below = selectors.level_of(root) + 1
        for name, lvl in TERRITORIAL.items():
            if lvl == below and name in allowed:
                return name
    return allowed[0] if allowed else None


def _department_ids(actor) -> list[int]:
    from huying.people.models import Unit, UnitKind

    qs = Unit.objects.filter(kind=UnitKind.DEPARTMENT, active=True)
    if not _is_city(actor):
        scope = scope_for(actor)
        if not scope.unit_ids:
            return []
        qs = qs.filter(pk__in=sorted(scope.unit_ids))
    return list(qs.values_list("pk", flat=True))


def _sort_key(sort: str):
    def key(row):
        value = row["score"] if sort == "composite" else row[sort]
        if value is None:
            return (1, 0, -row["dispatches"], row["name"], row["code"], row["unit_id"] or 0)
        # The lower-is-better rates (返工率, 退单率) rank their lowest first.
        v = value if sort in metrics.LOWER_IS_BETTER else -value
        return (0, v, -row["dispatches"], row["name"], row["code"], row["unit_id"] or 0)

    return key


def _row(*, code: str, unit_id: int | None, name: str, counters: dict, weights) -> dict:
    ev = metrics.evaluate(counters, weights=weights)
    return {"code": code, "unit_id": unit_id, "name": name, **ev.as_dict(),
            **{k: int(counters.get(k) or 0) for k in COUNTS}}


def _territorial(actor, level: int, period: Period, weights) -> list[dict]:
    from huying.territory.models import Division

    qs = AreaDayTotal.objects.filter(level=level, day__gte=period.start, day__lte=period.end)
    areas = Division.objects.filter(level=LEVEL_NAME[level])
    if not _is_city(actor):
        scope = scope_for(actor)
        q = Q(pk__in=[])
        for prefix in scope.division_codes:
            q |= Q(code__startswith=prefix)
        qs, areas = qs.filter(q), areas.filter(q)
    sums = {r["code"]: r for r in qs.values("code").annotate(**selectors.SUMS).order_by()}
    # Every area of the level is listed, with or without orders, so a quiet community is seen as quiet.
    codes = sorted(set(areas.values_list("code", flat=True)) | set(sums))
    offices = selectors._offices(codes)
    labels = selectors.names(codes)
    rows = []
    for code in codes:
        uid, name = offices.get(code, (None, labels.get(code, code)))
        rows.append(_row(code=code, unit_id=uid, name=name, counters=sums.get(code, {}), weights=weights))
    return rows


def _departments(actor, period: Period, weights) -> list[dict]:
    from huying.people.models import Unit

    ids = _department_ids(actor)
    depts = dict(Unit.objects.filter(pk__in=ids).values_list("pk", "name"))
    sums = {r["unit_id"]: r for r in UnitDay.objects.filter(unit_id__in=ids, day__gte=period.start,
                                                            day__lte=period.end)
            .values("unit_id").annotate(**selectors.SUMS).order_by()}
    return [_row(code="", unit_id=pk, name=name, counters=sums.get(pk, {}), weights=weights)
            for pk, name in depts.items()]


def ranking(actor, *, level: str, period: Period, sort: str = "composite", weights=None) -> list[dict]:
    """Every unit of `level` the person may see over `period`, best first by `sort`, each with `rank`.

    Rows carry the six rates and the composite `score` (floats in [0, 1] or None), `COUNTS`, the
    area `code` ("" for departments) and the office's `unit_id` (None where an area has no office).
    Rows without a value for the sort key come last.
    """
    if level not in LEVELS:
        raise DomainError("insight.bad_level", _("不支持的排名层级。"), field="level")
    if level not in levels_for(actor):
        raise DomainError("insight.forbidden", _("该层级不在您的管辖范围内。"), status=403)
    if sort not in SORTS:
        raise DomainError("insight.bad_sort", _("不支持的排序方式。"), field="sort")
    if level == "department":
        rows = _departments(actor, period, weights)
    else:
        rows = _territorial(actor, TERRITORIAL[level], period, weights)
    rows.sort(key=_sort_key(sort))
    for i, row in enumerate(rows, start=1):
        row["rank"] = i
    return rows
