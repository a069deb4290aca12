"""Is a position open at a moment? Pure: opening periods and the working calendar in, answers out.

Which periods apply on a date (Beijing time):
- a working day Monday–Friday: that weekday's periods;
- an adjusted working day on a weekend (调休上班): the position works as on a Monday, because the
  State Council's notice makes it an ordinary working day;
- an ordinary weekend day: that weekday's periods (错时 Saturday service and stations);
- a statutory holiday (a weekday the calendar makes a rest day, or any day of a named holiday
  period): closed, unless the position opens on holidays — then its HOLIDAY periods, or, if it
  has none, that weekday's periods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from zoneinfo import ZoneInfo

import chinese_calendar

from huying.core.worktime import WorkCalendar

BEIJING = ZoneInfo("Asia/Shanghai")
HOLIDAY = 7  # models.Day.HOLIDAY, repeated so this module needs no Django models


class DayType(Enum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


@dataclass(frozen=True)
class Period:
    day: int  # 0 Monday … 6 Sunday, 7 statutory holidays
    opens: time
    closes: time


def _named_holiday(d: date) -> bool:
    try:
        return chinese_calendar.get_holiday_detail(d)[1] is not None
    except NotImplementedError:
        return False


def day_type(calendar: WorkCalendar, d: date) -> DayType:
    """Working day, ordinary weekend day or statutory holiday, by the working calendar."""
    if calendar.is_workday(d):
        return DayType.WORKDAY
    if d.weekday() < 5 or _named_holiday(d):
        return DayType.HOLIDAY
    return DayType.WEEKEND


def day_rule(calendar: WorkCalendar, d: date) -> tuple[DayType, int]:
    """The kind of date `d` and the weekday whose periods apply on it (on a holiday: the weekday a
    position open on holidays without HOLIDAY periods follows)."""
    kind = day_type(calendar, d)
    weekday = d.weekday()
    if kind is DayType.WORKDAY and weekday >= 5:
        return kind, 0  # 调休上班: as on a Monday
    return kind, weekday


def periods_on(periods: Iterable[Period], d: date, *, calendar: WorkCalendar,
               open_on_holidays: bool) -> list[Period]:
    """The periods that apply on date `d`, ordered by opening time."""
    periods = list(periods)
    kind, wanted = day_rule(calendar, d)
    if kind is DayType.HOLIDAY:
        if not open_on_holidays:
            return []
        wanted = HOLIDAY if any(p.day == HOLIDAY for p in periods) else wanted
    return sorted((p for p in periods if p.day == wanted), key=lambda p: p.opens)


def is_open(periods: Sequence[Period], moment: datetime, *, calendar: WorkCalendar,
            open_on_holidays: bool) -> bool:
    """Whether one of the periods that apply on the moment's Beijing date contains it (closing excluded)."""
    if moment.tzinfo is None:
        raise ValueError("is_open needs an aware datetime")
    local = moment.astimezone(BEIJING)
    t = local.time().replace(tzinfo=None)
    return any(p.opens <= t < p.closes
               for p in periods_on(periods, local.date(), calendar=calendar, open_on_holidays=open_on_holidays))
