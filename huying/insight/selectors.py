"""Dashboard reads: every figure comes from the rollups (AreaDayTotal, AreaDay, AreaNow, UnitDay, the
worker's hot-spot lists), never the order table.

Periods are counted in days taken in (the cohort of orders received that day), see docs/metrics.md.
Each function takes a territory code the caller has already checked against the actor's scope
(`dashboard_root` / `dashboard_allowed`).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.people.scope import scope_for
from huying.territory.models import UNIFIED_LAYER, Division, Grid

from . import metrics
from .facts import local_day
from .models import CODE_LENGTH, SUBJECT_LEVELS, AreaDay, AreaDayTotal, AreaNow, Level, OrderFact, UnitDay
from .rollups import city_code

SUMS = {c: Sum(c) for c in metrics.COUNTERS}
LEVEL_OF_LENGTH = {n: lvl for lvl, n in CODE_LENGTH.items()}
LEVEL_NAMES = {Level.CITY: "city", Level.DISTRICT: "district", Level.STREET: "street",
               Level.COMMUNITY: "community", Level.GRID: "grid"}


def today_local(now=None) -> date:
    return local_day(now or timezone.now())


def level_of(code: str) -> int:
    if code == city_code():
        return Level.CITY
    lvl = LEVEL_OF_LENGTH.get(len(code))
    if lvl is None:
        raise DomainError("insight.bad_code", _("区域代码“%(code)s”无效。") % {"code": code}, status=404)
    return lvl


# -- scope ---------------------------------------------------------------------------------------

def dashboard_root(actor) -> str | None:
    """The territory a person's dashboard opens on: the city, or their own division or grid."""
    if actor is not None and getattr(actor, "is_superuser", False):
        return city_code()
    scope = scope_for(actor)
    if scope.whole_city:
        return city_code()
    return scope.division_codes[0] if scope.division_codes else None


def dashboard_allowed(actor, code: str) -> bool:
    if actor is not None and getattr(actor, "is_superuser", False):
        return True
    scope = scope_for(actor)
    return scope.whole_city or (code != city_code() and scope.covers(code))


def dashboard_check(actor, code: str) -> str:
    code = (code or "").strip()
    if not code:
        root = dashboard_root(actor)
        if root is None:
            raise DomainError("insight.no_territory", _("您没有可查看的辖区。"), status=403)
        return root
    level_of(code)
    if not dashboard_allowed(actor, code):
        raise DomainError("insight.forbidden", _("该区域不在您的管辖范围内。"), status=403)
    return code


# -- names ---------------------------------------------------------------------------------------

def names(codes) -> dict[str, str]:
    codes = [c for c in set(codes) if c]
    out = dict(Division.objects.filter(code__in=[c for c in codes if len(c) < 15]).values_list("code", "name"))
    grids = [c for c in codes if len(c) >= 15]
    if grids:
        out.update(Grid.objects.filter(layer=UNIFIED_LAYER, code__in=grids).values_list("code", "name"))
    return out


def breadcrumb(actor, code: str) -> list[dict]:
    """From the person's root down to `code`."""
    root = dashboard_root(actor) or code
    chain = []
    lvl = level_of(code)
    if lvl != Level.CITY:
        chain = [code[:CODE_LENGTH[lv]] for lv in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID)
                 if CODE_LENGTH[lv] <= len(code)]
    chain = [city_code(), *chain]
    if root in chain:
        chain = chain[chain.index(root):]
    labels = names(chain)
    return [{"code": c, "name": labels.get(c, c), "level": LEVEL_NAMES[level_of(c)]} for c in chain]


# -- figures -------------------------------------------------------------------------------------

def _rates(c) -> dict:
    return metrics.evaluate(c).as_dict()


def _window(today: date, days: int) -> tuple[date, date]:
    return today - timedelta(days=days - 1), today


def _sum(qs) -> dict[str, int]:
    row = qs.aggregate(**SUMS)
    return {k: int(v or 0) for k, v in row.items()}


def app_tiles(code: str, *, now=None) -> list:
    """The tiles other apps registered (core.tiles), for this territory: [(tile, value)]."""
    from django.utils import timezone

    from huying.core import tiles

    return tiles.compute(prefix="" if code == city_code() else code, now=now or timezone.now())


def summary(code: str, *, today: date, days: int = 30) -> dict:
    """Tiles: calls today, open, overdue, on-time rate and satisfaction (last `days` days)."""
    start, end = _window(today, days)
    now = AreaNow.objects.filter(code=code).values("open", "overdue", "unsigned_late").first() or {}
    # The window ends today: one read gives both the window's sums and today's calls.
    row = AreaDayTotal.objects.filter(code=code, day__gte=start, day__lte=end).aggregate(
        calls_today=Sum("created", filter=Q(day=today)), **SUMS)  # first: the sums' aliases shadow the columns
    period = {k: int(row.get(k) or 0) for k in metrics.COUNTERS}
    calls_today = row["calls_today"] or 0
    return {
        "code": code, "today": today.isoformat(), "days": days,
        "calls_today": int(calls_today),
        "open": int(now.get("open", 0)), "overdue": int(now.get("overdue", 0)),
        "unsigned_late": int(now.get("unsigned_late", 0)),
        "created": period["created"], "closes": period["closes"],
        "rates": _rates(period),
    }


def children(code: str, *, today: date, days: int = 30) -> dict:
    """Per child area: open and overdue now, created and the rates over the last `days` days."""
    start, end = _window(today, days)
    now_rows = {r["code"]: r for r in AreaNow.objects.filter(parent=code).values("code", "open", "overdue")}
    period = {r["code"]: r for r in AreaDayTotal.objects.filter(parent=code, day__gte=start, day__lte=end)
              .values("code").annotate(**SUMS).order_by()}
    codes = sorted(set(now_rows) | set(period))
    labels = names(codes)
    items = []
    for c in codes:
        p = {k: int(period.get(c, {}).get(k) or 0) for k in metrics.COUNTERS}
        rates = _rates(p)
        items.append({"code": c, "name": labels.get(c, c), "open": int(now_rows.get(c, {}).get("open", 0)),
                      "overdue": int(now_rows.get(c, {}).get("overdue", 0)), "created": p["created"],
                      "satisfaction": rates["satisfaction"], "on_time": rates["on_time"]})
    return {"code": code, "days": days, "children": items}


def trend(code: str, *, today: date, days: int = 30) -> dict:
    """Per day: orders taken in, and of those, closed and still open."""
    start, end = _window(today, days)
    rows = {r["day"]: r for r in AreaDayTotal.objects.filter(code=code, day__gte=start, day__lte=end)
            .values("day", "created", "closes", "open", "overdue")}
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        r = rows.get(d, {})
        out.append({"day": d.isoformat(), **{k: int(r.get(k) or 0) for k in ("created", "closes", "open", "overdue")}})
    return {"code": code, "days": out}


def subject_names(codes) -> dict[str, str]:
    from huying.dispatch.models import Subject

    return dict(Subject.objects.filter(code__in=list(codes)).values_list("code", "name"))


def mix(code: str, *, today: date, days: int = 30) -> dict:
    """Orders taken in by level-1 subject over the last `days` days, largest first."""
    start, end = _window(today, days)
    rows = list(by_subject(code, start, end).values("subject")
                .annotate(created=Sum("created"), open=Sum("open")).order_by("-created", "subject"))
    labels = subject_names(r["subject"] for r in rows)
    return {"code": code, "subjects": [{"subject": r["subject"], "name": labels.get(r["subject"], r["subject"]),
                                        "created": int(r["created"] or 0), "open": int(r["open"] or 0)}
                                       for r in rows if r["created"]]}


def below(qs, code: str, *, field: str = "code"):
    """Rows whose `field` starts with `code`. For digit codes also as a range (code ≤ x < code + 1),
    which the (level, day, code) index can use as a condition: without it, PostgreSQL fetches every
    grid row of the window from the table to test the LIKE (a district's hot spots read the city's)."""
    qs = qs.filter(**{f"{field}__startswith": code})
    if code.isdigit() and code.strip("9"):
        qs = qs.filter(**{f"{field}__gte": code, f"{field}__lt": str(int(code) + 1).zfill(len(code))})
    return qs


def by_subject(code: str, start: date, end: date):
    """The rows to sum for `code`'s orders per day taken in (start..end) and level-1 subject: its
    AreaDay rows for the city, a district or a street; below them (`SUBJECT_LEVELS`) the facts of its
    orders, by leaf range and day (D84). Either has day, subject and the counters."""
    if level_of(code) in SUBJECT_LEVELS:
        return AreaDay.objects.filter(code=code, day__gte=start, day__lte=end)
    return below(OrderFact.objects.filter(day__gte=start, day__lte=end), code, field="leaf")


def hotspots(code: str, *, today: date, days: int = 7, limit: int = 10, now=None) -> dict:
    """The grids below `code` with the most orders over the last `days` days: for a city, district
    or street the worker's list when it is current (`as_of`: when it was computed), else counted now
    (`live`); see `hotspots`."""
    from . import hotspots as hs

    now = now or timezone.now()
    lvl = level_of(code)
    row = None
    if lvl in hs.STORED_LEVELS and days in hs.WINDOWS and limit <= hs.KEEP:
        row = hs.stored(code, today=today, days=days, now=now)
    if row is not None:
        spots, as_of = row.spots[:limit], row.computed_at
    else:
        spots, as_of = hs.live(None if lvl == Level.CITY else code, today=today, days=days, limit=limit), now
    labels = names(s["code"] for s in spots)
    return {"code": code, "days": days, "live": row is None, "as_of": as_of.isoformat(),
            "as_of_time": timezone.localtime(as_of).strftime("%H:%M"),
            "spots": [{**s, "name": labels.get(s["code"], s["code"])} for s in spots]}


def _offices(codes: list[str]) -> dict[str, tuple[int, str]]:
    """Area code → (id, name) of the territorial office (块) covering it, where there is one."""
    from huying.people.models import Unit, UnitKind

    out: dict[str, tuple[int, str]] = {}
    grids = [c for c in codes if len(c) >= 15]
    rows = Unit.objects.filter(kind=UnitKind.TERRITORIAL, division__code__in=[c for c in codes if len(c) < 15])
    for pk, name, code in rows.order_by("pk").values_list("pk", "name", "division__code"):
        out.setdefault(code, (pk, name))
    if grids:
        rows = Unit.objects.filter(grid__code__in=grids, grid__layer=UNIFIED_LAYER)
        for pk, name, code in rows.order_by("pk").values_list("pk", "name", "grid__code"):
            out.setdefault(code, (pk, name))
    return out


def units(code: str, *, today: date, days: int = 30, limit: int = 10) -> dict:
    """Ranking by composite score over the last `days` days: the child areas' offices (区、街道、社区、
    网格), each answering for everything in its territory; city-wide also the departments (条), each
    for the orders it was given. Below a community: its grids (a grid: its siblings)."""
    from huying.people.models import Unit, UnitKind

    start, end = _window(today, days)
    parent = code[:CODE_LENGTH[Level.COMMUNITY]] if level_of(code) == Level.GRID else code
    rows = []
    areas = list(AreaDayTotal.objects.filter(parent=parent, day__gte=start, day__lte=end)
                 .values("code").annotate(**SUMS).order_by())
    offices = _offices([r["code"] for r in areas])
    labels = names(r["code"] for r in areas if r["code"] not in offices)
    for r in areas:
        uid, name = offices.get(r["code"], (None, labels.get(r["code"], r["code"])))
        rows.append({"code": r["code"], "unit_id": uid, "name": name, "kind": "area", **r})
    if level_of(code) == Level.CITY:
        depts = dict(Unit.objects.filter(kind=UnitKind.DEPARTMENT, division__isnull=True, grid__isnull=True)
                     .values_list("pk", "name"))
        for r in (UnitDay.objects.filter(unit_id__in=list(depts), day__gte=start, day__lte=end)
                  .values("unit_id").annotate(**SUMS).order_by()):
            rows.append({**r, "code": "", "name": depts[r["unit_id"]], "kind": "department"})
    ranked = []
    for r in rows:
        ev = metrics.evaluate(r)
        if ev.score is None and not r["dispatches"] and not r["open"]:
            continue
        ranked.append({"code": r["code"], "unit_id": r["unit_id"], "name": r["name"], "kind": r["kind"],
                       **ev.as_dict(), "dispatches": int(r["dispatches"] or 0), "open": int(r["open"] or 0)})
    # Orders all still within their limits give no score yet: such rows come last.
    ranked.sort(key=lambda x: (x["score"] is None, -(x["score"] or 0), -x["dispatches"], x["code"], x["unit_id"] or 0))
    for i, row in enumerate(ranked, start=1):
        row["rank"] = i
    return {"code": code, "days": days, "units": ranked[:limit], "count": len(ranked)}


def area_counters(code: str, *, start: date | None = None, end: date | None = None) -> dict[str, int]:
    """All counters of one territory, over a span of days taken in (all days when no span)."""
    if start is None and end is None:
        row = AreaNow.objects.filter(code=code).values(*metrics.COUNTERS).first() or {}
        return {k: int(row.get(k) or 0) for k in metrics.COUNTERS}
    qs = AreaDayTotal.objects.filter(code=code)
    if start:
        qs = qs.filter(day__gte=start)
    if end:
        qs = qs.filter(day__lte=end)
    return _sum(qs)


def unit_counters(unit_id: int, *, start: date | None = None, end: date | None = None) -> dict[str, int]:
    qs = UnitDay.objects.filter(unit_id=unit_id)
    if start:
        qs = qs.filter(day__gte=start)
    if end:
        qs = qs.filter(day__lte=end)
    return _sum(qs)


def monthly_report(code: str, *, year: int, month: int) -> dict:
    """A month of one territory: its counters and rates, each child area's, and the days (月报)."""
    import calendar

    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    totals = _sum(AreaDayTotal.objects.filter(code=code, day__gte=start, day__lte=end))
    kids = list(AreaDayTotal.objects.filter(parent=code, day__gte=start, day__lte=end).values("code")
                .annotate(**SUMS).order_by("code"))
    labels = names([code, *(k["code"] for k in kids)])
    days = {r["day"]: r for r in AreaDayTotal.objects.filter(code=code, day__gte=start, day__lte=end)
            .values("day", *metrics.COUNTERS)}
    rows = []
    for i in range((end - start).days + 1):
        d = start + timedelta(days=i)
        r = {k: int(days.get(d, {}).get(k) or 0) for k in metrics.COUNTERS}
        rows.append({"day": d, **r, "rates": _rates(r)})
    return {
        "code": code, "name": labels.get(code, code), "year": year, "month": month, "start": start, "end": end,
        "totals": totals, "rates": _rates(totals),
        "children": [{"code": k["code"], "name": labels.get(k["code"], k["code"]),
                      **{c: int(k[c] or 0) for c in metrics.COUNTERS}, "rates": _rates(k)} for k in kids],
        "days": rows,
    }


def pending() -> dict:
    """How far the rollups are behind the orders: changes the worker has not applied yet (D58)."""
    from .rollups import pending as rollups_pending

    return rollups_pending()


def freshness(pending: dict | None = None, *, now=None) -> dict:
    """How current a page's figures are (数据截至), for insight/_freshness.html: the time of the data
    they were read from — the replica's replay position inside `core.dbrouter.replica_reads()`, else
    now — and earlier still when the rollups have queued changes not yet applied (their oldest)."""
    from huying.core import dbrouter

    now = now or timezone.now()
    source = dbrouter.current()
    as_of = source.as_of if source is not None else now
    if pending is None:
        from .rollups import pending as rollups_pending

        pending = rollups_pending()
    oldest = pending.get("oldest") if pending else None
    if oldest is not None and oldest < as_of:
        as_of = oldest
    return {"as_of": as_of, "replica": bool(source and source.replica),
            "same_day": timezone.localtime(as_of).date() == timezone.localtime(now).date()}
