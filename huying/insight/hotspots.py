"""Hot-spot grids (热点网格): the grids with the most orders below a territory over the last days.

A community's or a grid's list is counted live from `AreaDayTotal` (a few hundred rows). A city's
sums every grid row of the window — at Beijing's 21.4 M orders a year ~140 k rows a week, ~130 ms
(D80) — so the worker's `hotspots` job computes the lists of the city, every district and every
street in one pass over the grid rows (`refresh`), and the dashboard shows those with the time they
were computed, as long as they are of today's window and younger than HUYING_HOTSPOTS_MAX_AGE.
A list too old (no worker, a stopped one) is counted live: slower, never wrong.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from .facts import local_day
from .models import CODE_LENGTH, AreaDayTotal, HotspotList, Level

WINDOWS = (7, 30)  # the page asks 7 days; the API allows 1–30 and 30 is its longest
KEEP = 10  # spots kept per list: the dashboard's, and the API's, longest list
STORED_LEVELS = (Level.CITY, Level.DISTRICT, Level.STREET)


def _grid_sums(today: date, days: int):
    """Per grid: orders taken in over the last `days` days and how many of them are open."""
    from .selectors import _window

    start, end = _window(today, days)
    return (AreaDayTotal.objects.filter(level=Level.GRID, day__gte=start, day__lte=end)
            .values("code").annotate(created=Sum("created"), open=Sum("open")))


def ranked(rows) -> list[dict]:
    """(code, created, open) rows → spots with orders, busiest first (ties: by code)."""
    spots = [{"code": c, "created": int(cr or 0), "open": int(op or 0)} for c, cr, op in rows if cr]
    spots.sort(key=lambda s: (-s["created"], s["code"]))
    return spots


def live(code: str | None, *, today: date, days: int, limit: int = KEEP) -> list[dict]:
    """The busiest grids below `code` (None: the whole city), counted from the rollups now."""
    from .selectors import below

    qs = _grid_sums(today, days)
    if code is not None:
        qs = below(qs, code)
    return ranked(qs.order_by("-created", "code").values_list("code", "created", "open")[:limit])


def stored(code: str, *, today: date, days: int, now: datetime | None = None) -> HotspotList | None:
    """The worker's list for this territory and window, if it is of today's window and young enough."""
    now = now or timezone.now()
    oldest = now - timedelta(seconds=float(settings.HUYING_HOTSPOTS_MAX_AGE))
    return (HotspotList.objects.filter(code=code, days=days, ends_on=today, computed_at__gte=oldest)
            .only("computed_at", "spots").first())


def refresh(*, now: datetime | None = None) -> dict[str, int]:
    """Recompute every stored list (city, districts, streets × WINDOWS) from one grouped read of the
    grid rows per window, and replace the old ones in one transaction. Every district and street
    gets a list, an empty one where nothing was taken in, so a quiet street is not counted live."""
    from huying.territory.models import Division

    from .rollups import city_code

    now = now or timezone.now()
    today = local_day(now)
    city = city_code()
    areas = list(Division.objects.filter(level__in=["district", "street"]).values_list("code", flat=True))
    made = []
    for days in WINDOWS:
        rows = _grid_sums(today, days).order_by().values_list("code", "created", "open")
        city_list: list[dict] = []
        lists: dict[str, list[dict]] = {c: [] for c in areas}
        for spot in ranked(rows):
            if len(city_list) < KEEP:
                city_list.append(spot)
            for n in (CODE_LENGTH[Level.DISTRICT], CODE_LENGTH[Level.STREET]):
                below = lists.get(spot["code"][:n])
                if below is not None and len(below) < KEEP:
                    below.append(spot)
        made.append(HotspotList(code=city, days=days, ends_on=today, computed_at=now, spots=city_list))
        made.extend(HotspotList(code=c, days=days, ends_on=today, computed_at=now, spots=spots)
                    for c, spots in lists.items() if c != city)
    with transaction.atomic():
        HotspotList.objects.all().delete()
        HotspotList.objects.bulk_create(made, batch_size=500)
    return {"lists": len(made)}


def hotspots_job(*, now, stopping=None, every=None) -> dict[str, int]:
    """The worker's `hotspots` job."""
    return refresh(now=now)


def register() -> None:
    """The worker job (called by InsightConfig.ready); one worker at a time."""
    from huying.core import jobs

    jobs.register("hotspots", interval=float(settings.HUYING_HOTSPOTS_EVERY), fn=hotspots_job, exclusive=True,
                  title="热点网格榜")
