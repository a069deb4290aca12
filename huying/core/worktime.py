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
_DAY_US = 86_400 * _US  # a calendar day, for local wall-clock microseconds (`local_us`)
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
        self._midnights: dict[int, datetime] = {}  # ordinal -> local midnight, for results
        self._year_cache: dict[int, bool] = {}
        # The working days of whole years, as ascending ordinals: counting or skipping n working
        # days is then a binary search, not a walk over each calendar day (`_cover`).
        self._span: tuple[int, int] | None = None
        self._workdays: list[int] = []
        self._workdays_array = None  # (the list it was made from, that list as a numpy array)

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
        if moment.tzinfo is self._tz:  # already local (the usual case): no conversion
            local = moment
        elif moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("working-time arithmetic needs an aware datetime")
        else:
            local = moment.astimezone(self._tz)
        us = ((local.hour * 60 + local.minute) * 60 + local.second) * _US + local.microsecond
        return local.date(), us

    def _at(self, ordinal: int, us: int) -> datetime:
        """The moment `us` after local midnight of the day with this ordinal (midnights are kept)."""
        midnight = self._midnights.get(ordinal)
        if midnight is None:
            d = date.fromordinal(ordinal)
            midnight = self._midnights[ordinal] = datetime(d.year, d.month, d.day, tzinfo=self._tz)
        return midnight + timedelta(microseconds=us)

    def amount(self, *, hours: float = 0, days: float = 0) -> int:
        """Working microseconds in `hours` plus `days` × the length of a working day (as `add` counts)."""
        return round(hours * 3600 * _US + days * self._day_us)

    def add(self, start: datetime, *, hours: float = 0, days: float = 0) -> datetime:
        """`start` plus working time: `hours`, plus `days` × the length of a working day."""
        remaining = self.amount(hours=hours, days=days)
        if remaining < 0:
            raise ValueError("working time to add must not be negative")
        d, now_us = self._local(start)
        if not remaining:
            return self._next_opening(d, now_us)
        self._cover(d.year, d.year + 1)
        while True:
            workdays = self._workdays  # one list throughout: another thread may widen the index
            found = self._at_position(workdays, self._position(workdays, d, now_us) + remaining)
            if found is not None:
                return found
            if self._span[1] - d.year > _MAX_IDLE_DAYS // 366 + remaining // self._day_us // 200:
                raise ValueError("the calendar has no working day for ten years")
            self._cover(d.year, self._span[1] + 2)

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds from `start` to `end`; 0 if `end` is not after `start`."""
        (d, us), (end_d, end_us) = self._local(start), self._local(end)  # refuses naive datetimes
        if end <= start:
            return 0.0
        self._cover(d.year, end_d.year)
        workdays = self._workdays
        return (self._position(workdays, end_d, end_us) - self._position(workdays, d, us)) / _US

    # Working time as a position on a line: the working microseconds from the first day of a
    # working-day index (`_workdays`, ascending ordinals of whole years) up to a moment. A sum is
    # then one binary search each way — the deadlines of a year's 8 million orders are computed
    # here — and the difference of two positions is the working time between them.
    def _position(self, workdays: list[int], d: date, us: int) -> int:
        """The working microseconds before local day `d`, time `us` (a day the index covers)."""
        o = d.toordinal()
        i = bisect_left(workdays, o)
        worked = 0
        if i < len(workdays) and workdays[i] == o:
            for p_start, p_end in self._periods:
                if us <= p_start:
                    break
                worked += min(us, p_end) - p_start
        return i * self._day_us + worked

    def _at_position(self, workdays: list[int], position: int) -> datetime | None:
        """The earliest moment at `position` (> 0) — a sum that ends exactly at a closing time ends
        there — or None when it lies beyond the index."""
        i, rest = divmod(position - 1, self._day_us)
        if i >= len(workdays):
            return None
        rest += 1  # 1 … a day's length: day i's working microseconds up to the moment
        for p_start, p_end in self._periods:
            if rest <= p_end - p_start:
                return self._at(workdays[i], p_start + rest)
            rest -= p_end - p_start
        raise AssertionError("unreachable: rest is at most a working day")

    def _next_opening(self, d: date, now_us: int) -> datetime:
        if self.is_workday(d):
            for p_start, p_end in self._periods:
                if now_us < p_end:
                    return self._at(d.toordinal(), max(now_us, p_start))
        return self._at(self._nth_workday(d + _ONE_DAY, 0).toordinal(), self._periods[0][0])

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

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` if it is within office hours, else the next opening."""
        return self.add(moment)

    # -- many moments at once (a bulk load's deadlines) -------------------------------------------
    # A moment as local wall-clock microseconds: its local day's ordinal × a day plus the time of
    # day. Python adds a timedelta to an aware datetime on the wall clock too, so a start plus a
    # duration is the sum of the two numbers, and `add` itself works on this clock.
    def local_us(self, moment: datetime) -> int:
        """`moment` as local wall-clock microseconds."""
        d, us = self._local(moment)
        return d.toordinal() * _DAY_US + us

    def moment(self, local_us: int) -> datetime:
        """The aware moment of local wall-clock microseconds (`local_us` undone)."""
        ordinal, us = divmod(local_us, _DAY_US)
        return self._at(ordinal, us)

    def add_many(self, starts, remaining: int):
        """`add` of the same `remaining` working microseconds (> 0, from `amount`) to many starts
        given as a numpy array of local wall-clock microseconds; the results in the same form. The
        same positions as `_position` and `_at_position`, on arrays."""
        import numpy as np

        if remaining <= 0:
            raise ValueError("add_many adds a positive amount of working time")
        starts = np.asarray(starts, dtype=np.int64)
        if not len(starts):
            return starts.copy()
        days = starts // _DAY_US
        first, last = date.fromordinal(int(days.min())).year, date.fromordinal(int(days.max())).year
        self._cover(first, last + 1)
        while True:
            workdays = self._workdays  # one list throughout (see `add`)
            wd = self._as_array(workdays)
            result = self._at_positions(wd, self._positions(wd, days, starts - days * _DAY_US) + remaining)
            if result is not None:
                return result
            if self._span[1] - last > _MAX_IDLE_DAYS // 366 + remaining // self._day_us // 200:
                raise ValueError("the calendar has no working day for ten years")
            self._cover(first, self._span[1] + 2)

    def _as_array(self, workdays: list[int]):
        import numpy as np

        kept = self._workdays_array
        if kept is None or kept[0] is not workdays:
            kept = self._workdays_array = (workdays, np.asarray(workdays, dtype=np.int64))
        return kept[1]

    def _positions(self, wd, days, us):
        """`_position` of many (day ordinal, time of day) pairs."""
        import numpy as np

        i = np.searchsorted(wd, days, side="left")
        on_workday = wd[np.minimum(i, len(wd) - 1)] == days
        worked = np.zeros_like(us)
        for p_start, p_end in self._periods:
            worked += np.clip(us - p_start, 0, p_end - p_start)
        return i * self._day_us + np.where(on_workday & (i < len(wd)), worked, 0)

    def _at_positions(self, wd, positions):
        """`_at_position` of many positions (> 0), as local wall-clock microseconds; None if any lies
        beyond the index."""
        import numpy as np

        i, rest = np.divmod(positions - 1, self._day_us)
        if len(i) and int(i.max()) >= len(wd):
            return None
        rest += 1
        lengths = np.array([p_end - p_start for p_start, p_end in self._periods], dtype=np.int64)
        ends = np.cumsum(lengths)  # a day's working microseconds up to each period's end
        k = np.searchsorted(ends, rest, side="left")  # the period the moment falls in
        opens = np.array([p_start for p_start, _ in self._periods], dtype=np.int64)
        return wd[i] * _DAY_US + opens[k] + rest - (ends[k] - lengths[k])


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
