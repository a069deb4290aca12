"""Shared reads of service positions: near a point and open now, one position's page, and the
15-minute circle of a community. Positions are public bodies, so their reads need no scope; the
coverage of a community is for the staff whose territory covers it (`may_view_coverage`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.db.models import Prefetch, Q, QuerySet

from huying.core.worktime import WorkCalendar, get_calendar
from huying.people.models import RoleCode
from huying.people.scope import scope_for
from huying.territory.models import UNIFIED_LAYER, Building, Division, Grid, Level

from . import coverage as cov
from .hours import BEIJING, HOLIDAY, DayType, Period, day_rule, day_type, is_open, periods_on
from .models import Day, OpeningHours, ServiceItem, ServicePosition

# Roles that look after the services of a street or community (and see its coverage).
COVERAGE_ROLES = (RoleCode.ADMIN, RoleCode.LEADER, RoleCode.UNIT_LEADER, RoleCode.COMMUNITY_WORKER,
                  RoleCode.PARTY_SECRETARY, RoleCode.DISPATCHER)


def periods_of(position: ServicePosition) -> list[Period]:
    """The position's opening periods (uses prefetched `hours`)."""
    return [Period(day=h.day, opens=h.opens, closes=h.closes) for h in position.hours.all()]


def position_open_at(position: ServicePosition, at: datetime, *, calendar: WorkCalendar | None = None) -> bool:
    if not position.active:
        return False
    return is_open(periods_of(position), at, calendar=calendar or get_calendar(),
                   open_on_holidays=position.open_on_holidays)


def positions_public() -> QuerySet[ServicePosition]:
    return (ServicePosition.objects.filter(active=True)
            .select_related("division", "unit")
            .prefetch_related("hours", Prefetch("items", queryset=ServiceItem.objects.filter(active=True))))


def position_get(pk: int) -> ServicePosition:
    """An active position with hours and items (raises ServicePosition.DoesNotExist)."""
    return positions_public().get(pk=pk)


@dataclass
class NearRow:
    position: ServicePosition
    metres: float
    minutes: float
    open_now: bool
    today: list[Period] = field(default_factory=list)


def positions_near(*, lng: float, lat: float, at: datetime, limit: int = 10,
                   model: cov.WalkModel = cov.DEFAULT_WALK) -> list[NearRow]:
    """The `limit` active positions nearest the point (by walking time), with their open-now state."""
    rows = list(ServicePosition.objects.filter(active=True).values_list("pk", "lng", "lat"))
    if not rows:
        return []
    ids = np.array([r[0] for r in rows])
    p_lng = np.array([r[1] for r in rows], dtype=float)
    p_lat = np.array([r[2] for r in rows], dtype=float)
    mins = model.minutes(lng, lat, p_lng, p_lat)
    metres = cov.haversine_m(lng, lat, p_lng, p_lat)
    order = np.lexsort((ids, mins))[:limit]
    by_id = positions_public().in_bulk([int(ids[i]) for i in order])
    calendar = get_calendar()
    local_day = at.astimezone(BEIJING).date()
    out = []
    for i in order:
        p = by_id[int(ids[i])]
        periods = periods_of(p)
        out.append(NearRow(position=p, metres=float(metres[i]), minutes=float(mins[i]),
                           open_now=is_open(periods, at, calendar=calendar, open_on_holidays=p.open_on_holidays),
                           today=periods_on(periods, local_day, calendar=calendar,
                                            open_on_holidays=p.open_on_holidays)))
    return out


@dataclass
class DayHours:
    label: str
    periods: list[OpeningHours]


def weekly_hours(position: ServicePosition) -> list[DayHours]:
    """The position's opening table, Monday to Sunday and holidays (uses prefetched `hours`)."""
    by_day: dict[int, list[OpeningHours]] = {d: [] for d in Day.values}
    for h in position.hours.all():
        by_day[h.day].append(h)
    return [DayHours(label=str(Day(d).label), periods=sorted(by_day[d], key=lambda h: h.opens)) for d in Day.values]


def coming_days(position: ServicePosition, *, start: date, days: int = 7) -> list[tuple[date, str, list[Period]]]:
    """The periods that apply on each of the next `days` days, with the day type (holidays shown)."""
    calendar = get_calendar()
    periods = periods_of(position)
    return [(d, day_type(calendar, d).value,
             periods_on(periods, d, calendar=calendar, open_on_holidays=position.open_on_holidays))
            for d in (start + timedelta(days=i) for i in range(days))]


# -- the 15-minute circle --------------------------------------------------------------------------


def may_view_coverage(actor, community: Division) -> bool:
    scope = scope_for(actor)
    if not scope.has_any_role(*COVERAGE_ROLES):
        return False
    return scope.covers(community.code)


def coverage_communities(*, actor) -> QuerySet[Division]:
    """The communities whose 15-minute circle the actor may see."""
    scope = scope_for(actor)
    if not scope.has_any_role(*COVERAGE_ROLES):
        return Division.objects.none()
    return Division.objects.filter(scope.territory_q("code"), level=Level.COMMUNITY).select_related("parent")


def open_positions(*, at: datetime | None, near: tuple[float, float, float, float] | None = None):
    """(ids, lng, lat) of active positions open at `at` (all active ones if None), optionally in a box."""
    qs = ServicePosition.objects.filter(active=True)
    if near is not None:
        lng0, lat0, lng1, lat1 = near
        qs = qs.filter(lng__gte=lng0, lng__lte=lng1, lat__gte=lat0, lat__lte=lat1)
    if at is None:
        rows = list(qs.values_list("pk", "lng", "lat"))
    else:
        calendar = get_calendar()
        rows = [(p.pk, p.lng, p.lat) for p in qs.prefetch_related("hours")
                if is_open(periods_of(p), at, calendar=calendar, open_on_holidays=p.open_on_holidays)]
    return (np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=float),
            np.array([r[2] for r in rows], dtype=float))


@dataclass
class Candidate:
    label: str
    lng: float
    lat: float
    households: int
    buildings: int


@dataclass
class CommunityCoverage:
    community: Division
    at: datetime | None
    minutes: float
    buildings: int
    buildings_covered: int
    households: int
    households_covered: int
    positions_open: int
    uncovered: list  # (Building, nearest minutes or None), farthest first
    candidates: list[Candidate]

    @property
    def building_share(self) -> float | None:
        return cov.share(self.buildings_covered, self.buildings)

    @property
    def household_share(self) -> float | None:
        return cov.share(self.households_covered, self.households)


def _box(lngs, lats, metres: float):
    pad_lat = metres / 111_000
    pad_lng = metres / (111_000 * max(np.cos(np.radians(float(np.max(np.abs(lats))))), 0.1))
    return (float(np.min(lngs)) - pad_lng, float(np.min(lats)) - pad_lat,
            float(np.max(lngs)) + pad_lng, float(np.max(lats)) + pad_lat)


def community_coverage(community: Division, *, at: datetime | None, minutes: float = cov.CIRCLE_MINUTES,
                       model: cov.WalkModel = cov.DEFAULT_WALK, k: int = 5) -> CommunityCoverage:
    """The community's buildings and households within `minutes` walk of a position open at `at`
    (positions of neighbouring communities count too), its uncovered buildings, and the `k` sites
    (its grid centres and buildings) that would each cover the most households still uncovered."""
    buildings = list(Building.objects.filter(grid__community=community, grid__layer=UNIFIED_LAYER)
                     .select_related("grid").order_by("code"))
    empty = CommunityCoverage(community=community, at=at, minutes=minutes, buildings=0, buildings_covered=0,
                              households=0, households_covered=0, positions_open=0, uncovered=[], candidates=[])
    if not buildings:
        return empty
    b_lng = np.array([b.lng for b in buildings])
    b_lat = np.array([b.lat for b in buildings])
    w = np.array([b.households for b in buildings], dtype=np.int64)
    _ids, p_lng, p_lat = open_positions(at=at, near=_box(b_lng, b_lat, model.max_straight_m(minutes) * 1.05))
    c = cov.building_coverage(b_lng, b_lat, p_lng, p_lat, minutes=minutes, model=model)
    uncovered = [(buildings[i], None if not np.isfinite(c.nearest_minutes[i]) else float(c.nearest_minutes[i]))
                 for i in np.flatnonzero(~c.covered)]
    grids = list(Grid.objects.filter(community=community, layer=UNIFIED_LAYER).order_by("code"))
    labels = [g.name for g in grids] + [b.address for b in buildings]
    c_lng = np.array([g.lng for g in grids] + list(b_lng))
    c_lat = np.array([g.lat for g in grids] + list(b_lat))
    picks = cov.greedy_sites(c_lng, c_lat, b_lng, b_lat, w, covered=c.covered, k=k, minutes=minutes, model=model)
    return CommunityCoverage(
        community=community, at=at, minutes=minutes, buildings=len(buildings),
        buildings_covered=int(c.covered.sum()), households=int(w.sum()), households_covered=int(w[c.covered].sum()),
        positions_open=len(p_lng), uncovered=uncovered,
        candidates=[Candidate(label=labels[p.candidate], lng=float(c_lng[p.candidate]), lat=float(c_lat[p.candidate]),
                              households=p.households, buildings=p.buildings) for p in picks])


def community_positions(community: Division) -> QuerySet[ServicePosition]:
    """Positions placed in the community or its street (for the coverage page)."""
    q = Q(division=community)
    if community.parent_id:
        q |= Q(division_id=community.parent_id)
    return ServicePosition.objects.filter(q, active=True).order_by("kind", "name")


def open_now(at: datetime, *, calendar: WorkCalendar | None = None) -> Q:
    """The condition "this service position is open at `at`" — `hours.is_open` as SQL, for a filter
    or a conditional count (a city has thousands of positions; loading them with their hours took
    the dashboard a second)."""
    local = at.astimezone(BEIJING)
    t = local.time().replace(tzinfo=None)
    kind, wanted = day_rule(calendar or get_calendar(), local.date())
    # Uncorrelated IN (…): PostgreSQL hashes the day's open rows once instead of probing every
    # position's hours (a city's 2,865 positions: 9 → 3 ms).
    now_open = OpeningHours.objects.filter(opens__lte=t, closes__gt=t)

    def open_on(day):
        return Q(pk__in=now_open.filter(day=day).values("position_id"))

    if kind is not DayType.HOLIDAY:
        return open_on(wanted)
    has_holiday = Q(pk__in=OpeningHours.objects.filter(day=HOLIDAY).values("position_id"))
    return Q(open_on_holidays=True) & ((has_holiday & open_on(HOLIDAY)) | (~has_holiday & open_on(wanted)))


def open_count(positions: QuerySet[ServicePosition], at: datetime, *, calendar: WorkCalendar | None = None) -> int:
    """How many of `positions` are open at `at`, counted in one query (`open_now`)."""
    return positions.filter(open_now(at, calendar=calendar)).count()

