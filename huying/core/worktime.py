"""Working time: office hours on working days, with Chinese public holidays and adjusted workdays (调休).

Every deadline in the system is computed here. `WorkCalendar` is pure (no database access): it
takes the administrator-entered days as `overrides`. `get_calendar()` builds one from the
`CalendarDay` rows and `settings.HUYING_OFFICE_HOURS` and keeps it per process.

Which days are working days, in order of precedence:
1. a day an administrator entered (`CalendarDay`): holiday or adjusted working day;
2. chinesecalendar, which knows the State Council's holiday notices for the years it ships;
3. otherwise Monday–Friday. A year neither chinesecalendar nor administrators know is reported by
   `unknown_years()` so pages can warn that its deadlines ignore holidays.

Conventions of `add`: a start outside office hours starts at the next opening; a sum that ends
exactly at a closing time ends there (Mon 09:00 + 7 h = Mon 17:00, not Tue 09:00). Arithmetic is in
whole microseconds so `working_seconds_between(start, add(start, hours=h))` is exactly h hours.
"""

from __future__ import annotations

import threading
import time as _time
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.db import transaction
from django.db.models.signals import post_delete, post_save

DEFAULT_OFFICE_HOURS: tuple[tuple[str, str], ...] = (("09:00", "12:00"), ("13:00", "17:00"))
DEFAULT_TZ = "Asia/Shanghai"

_US = 1_000_000  # microseconds per second
_DAY_US = 86_400 * _US
_ONE_DAY = timedelta(days=1)
# A calendar can never go this long without a working day (Mon–Fri fallback); the guard turns a
# misconfigured calendar (e.g. every day entered as a holiday) into an error instead of a hang.
_MAX_IDLE_DAYS = 3_660


def _parse_hhmm(text: str) -> int:
    hh, mm = text.strip().split(":")
    h, m = int(hh), int(mm)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(f"bad office-hours time {text!r}")
    return (h * 3600 + m * 60) * _US


@cache
def chinesecalendar_years() -> tuple[int, ...]:
    """The years whose holidays the installed chinesecalendar knows (e.g. 2004–2026)."""
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return tuple(y for y in sorted(years) if _chinesecalendar_knows(y))


def _chinesecalendar_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class WorkCalendar:
    """Working days and office hours; pure, so deadlines are exact and fast to compute."""

    def __init__(
        self,
        *,
        overrides: Mapping[date, bool] | None = None,
        office_hours: Sequence[tuple[str, str]] = DEFAULT_OFFICE_HOURS,
        tz: str = DEFAULT_TZ,
    ):
        self._overrides: dict[date, bool] = dict(overrides or {})
        self._override_years = frozenset(d.year for d in self._overrides)
        self._tz = ZoneInfo(tz)
        periods = sorted((_parse_hhmm(a), _parse_hhmm(b)) for a, b in office_hours)
        if not periods:
            raise ValueError("office hours must have at least one period")
        previous_end = 0
        for start, end in periods:
            if start >= end or start < previous_end:
                raise ValueError(f"office hours must be ordered, non-empty, non-overlapping: {office_hours!r}")
            previous_end = end
        self._periods: tuple[tuple[int, int], ...] = tuple(periods)
        self._day_us = sum(end - start for start, end in periods)
        self._workday_cache: dict[date, bool] = {}
        self._year_cache: dict[int, bool] = {}
        # The working days of whole years, as ascending ordinals: counting or skipping n working
        # days is then a binary search, not a walk over each calendar day (`_cover`).
        self._span: tuple[int, int] | None = None
        self._workdays: list[int] = []

    # -- days -------------------------------------------------------------------------------
    def is_workday(self, d: date) -> bool:
        """Administrator entry first, then chinesecalendar, then Monday–Friday."""
        try:
            return self._workday_cache[d]
        except KeyError:
            pass
        value = self._overrides.get(d)
        if value is None:
            try:
                value = chinese_calendar.is_workday(d)
            except NotImplementedError:
                value = d.weekday() < 5
        self._workday_cache[d] = value
        return value

    def year_known(self, year: int) -> bool:
        """Whether the year's holidays are known: from chinesecalendar or from administrator entries."""
        try:
            return self._year_cache[year]
        except KeyError:
            known = year in self._override_years or _chinesecalendar_knows(year)
            self._year_cache[year] = known
            return known

    def day_length_hours(self) -> float:
        return self._day_us / (3600 * _US)

    # -- time -------------------------------------------------------------------------------
    def _local(self, moment: datetime) -> tuple[date, int]:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("working-time arithmetic needs an aware datetime")
        local = moment.astimezone(self._tz)
        us = ((local.hour * 60 + local.minute) * 60 + local.second) * _US + local.microsecond
        return local.date(), us

    def _at(self, d: date, us: int) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=self._tz) + timedelta(microseconds=us)

    def _overlap(self, d: date, start_us: int, end_us: int) -> int:
        """Working microseconds of day `d` between two times of that day."""
        if not self.is_workday(d):
            return 0
        total = 0
        for p_start, p_end in self._periods:
            lo, hi = max(p_start, start_us), min(p_end, end_us)
            if hi > lo:
                total += hi - lo
        return total

    def add(self, start: datetime, *, hours: float = 0, days: float = 0) -> datetime:
        """`start` plus working time: `hours`, plus `days` × the length of a working day."""
        remaining = round(hours * 3600 * _US + days * self._day_us)
        if remaining < 0:
            raise ValueError("working time to add must not be negative")
        d, now_us = self._local(start)
        while True:
            if self.is_workday(d):
                for p_start, p_end in self._periods:
                    if now_us >= p_end:
                        continue
                    begin = max(now_us, p_start)
                    available = p_end - begin
                    if remaining <= available:
                        return self._at(d, begin + remaining)
                    remaining -= available
                    now_us = p_end
            # Whole days at a time: skip every working day the rest more than fills, so only the
            # last, partial day walks its periods.
            whole = max(0, (remaining - 1) // self._day_us)
            d = self._nth_workday(d + _ONE_DAY, whole)
            remaining -= whole * self._day_us
            now_us = 0

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds from `start` to `end`; 0 if `end` is not after `start`."""
        d, start_us = self._local(start)
        end_d, end_us = self._local(end)
        if end <= start:
            return 0.0
        if d == end_d:
            return self._overlap(d, start_us, end_us) / _US
        total = self._overlap(d, start_us, _DAY_US)
        total += self._workdays_between(d + _ONE_DAY, end_d) * self._day_us
        total += self._overlap(end_d, 0, end_us)
        return total / _US

    def _cover(self, first: int, last: int) -> None:
        """Make the working-day index cover the years `first` … `last` (and what it covered)."""
        if self._span is not None:
            if self._span[0] <= first and last <= self._span[1]:
                return
            first, last = min(first, self._span[0]), max(last, self._span[1])
        a, b = date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal()
        self._workdays = [o for o in range(a, b + 1) if self.is_workday(date.fromordinal(o))]
        self._span = (first, last)

    def _nth_workday(self, d: date, n: int) -> date:
        """The working day on or after `d` with `n` working days between them."""
        self._cover(d.year, d.year + 1)
        while True:
            i = bisect_left(self._workdays, d.toordinal()) + n
            if i < len(self._workdays):
                return date.fromordinal(self._workdays[i])
            if self._span[1] - d.year > _MAX_IDLE_DAYS // 366 + n // 200:
                raise ValueError("the calendar has no working day for ten years")
            self._cover(d.year, self._span[1] + 2)

    def _workdays_between(self, first: date, last: date) -> int:
        """Working days from `first` up to, not including, `last`."""
        if last <= first:
            return 0
        self._cover(first.year, last.year)
        w = self._workdays
        return bisect_left(w, last.toordinal()) - bisect_left(w, first.toordinal())

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` if it is within office hours, else the next opening."""
        return self.add(moment)


# -- the process-wide calendar ------------------------------------------------------------------
# Rebuilt after any CalendarDay save/delete in this process (signals below) and, so that other
# processes pick up an administrator's change too, at least every _CACHE_SECONDS.
_CACHE_SECONDS = 300.0
_lock = threading.Lock()
_cached: tuple[WorkCalendar, float] | None = None


def get_calendar() -> WorkCalendar:
    """The calendar from `CalendarDay` rows and `settings.HUYING_OFFICE_HOURS`, cached per process."""
    global _cached
    entry = _cached
    if entry is not None and _time.monotonic() - entry[1] < _CACHE_SECONDS:
        return entry[0]
    from django.conf import settings

    from huying.core.models import CalendarDay

    with _lock:
        overrides = dict(CalendarDay.objects.values_list("date", "is_workday"))
        calendar = WorkCalendar(
            overrides=overrides,
            office_hours=settings.HUYING_OFFICE_HOURS,
            tz=getattr(settings, "TIME_ZONE", DEFAULT_TZ) or DEFAULT_TZ,
        )
        _cached = (calendar, _time.monotonic())
    return calendar


def reset_calendar_cache(**_kwargs) -> None:
    """Forget the cached calendar; the next `get_calendar()` reads the database again."""
    global _cached
    _cached = None


def _calendar_day_changed(**_kwargs) -> None:
    reset_calendar_cache()
    # A calendar built by another thread between the save and the commit would miss the change.
    transaction.on_commit(reset_calendar_cache)


post_save.connect(_calendar_day_changed, sender="core.CalendarDay", dispatch_uid="huying.core.worktime.saved")
post_delete.connect(_calendar_day_changed, sender="core.CalendarDay", dispatch_uid="huying.core.worktime.deleted")


def unknown_years(years: Iterable[int]) -> list[int]:
    """The years (sorted) whose holidays nobody knows, where deadlines fall back to Monday–Friday."""
    calendar = get_calendar()
    return [y for y in sorted(set(years)) if not calendar.year_known(y)]
