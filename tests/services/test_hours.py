"""Open now: weekday evening (错时), weekend, statutory holiday and adjusted working day, Beijing time."""

from datetime import UTC, datetime, time

import pytest

from huying.core.worktime import WorkCalendar
from huying.services.hours import DayType, Period, day_type, is_open, periods_on

from .conftest import at

CAL = WorkCalendar()
OFFICE = ([Period(d, time(9), time(12)) for d in range(5)] + [Period(d, time(13), time(17)) for d in range(5)])
CENTRE = OFFICE + [Period(1, time(18), time(20)), Period(5, time(9), time(12))]  # Tue evening, Sat morning
STATION = [Period(d, time(8), time(22)) for d in range(7)]


def test_day_types():
    assert day_type(CAL, at(2026, 3, 10).date()) is DayType.WORKDAY
    assert day_type(CAL, at(2026, 3, 14).date()) is DayType.WEEKEND
    assert day_type(CAL, at(2026, 10, 1).date()) is DayType.HOLIDAY  # Thursday, National Day
    assert day_type(CAL, at(2026, 10, 3).date()) is DayType.HOLIDAY  # Saturday inside the holiday
    assert day_type(CAL, at(2026, 10, 10).date()) is DayType.WORKDAY  # Saturday made a working day (调休)


@pytest.mark.parametrize(("moment", "centre", "station"), [
    (at(2026, 3, 10, 10, 0), True, True),     # Tuesday morning
    (at(2026, 3, 10, 12, 30), False, True),   # lunch break
    (at(2026, 3, 10, 19, 0), True, True),     # Tuesday evening: 错时 hours
    (at(2026, 3, 11, 19, 0), False, True),    # Wednesday evening: closed
    (at(2026, 3, 10, 20, 0), False, True),    # closing time itself is closed
    (at(2026, 3, 14, 10, 0), True, True),     # Saturday morning 错时
    (at(2026, 3, 15, 10, 0), False, True),    # Sunday
    (at(2026, 10, 1, 10, 0), False, True),    # National Day, a Thursday: only the station
    (at(2026, 10, 3, 10, 0), False, True),    # a holiday Saturday: not the centre's Saturday hours
    (at(2026, 10, 10, 15, 0), True, True),    # adjusted working Saturday: weekday (Monday) hours
])
def test_open_at(moment, centre, station):
    assert is_open(CENTRE, moment, calendar=CAL, open_on_holidays=False) is centre
    assert is_open(STATION, moment, calendar=CAL, open_on_holidays=True) is station


def test_station_closed_on_holiday_without_the_flag():
    assert not is_open(STATION, at(2026, 10, 1, 10, 0), calendar=CAL, open_on_holidays=False)


def test_holiday_periods_win_over_weekday_periods():
    periods = STATION + [Period(7, time(10), time(16))]
    assert not is_open(periods, at(2026, 10, 1, 9, 0), calendar=CAL, open_on_holidays=True)
    assert is_open(periods, at(2026, 10, 1, 11, 0), calendar=CAL, open_on_holidays=True)
    assert [p.day for p in periods_on(periods, at(2026, 10, 1).date(), calendar=CAL, open_on_holidays=True)] == [7]


def test_beijing_date_not_utc():
    # 2026-03-10 17:30 UTC is Wednesday 01:30 in Beijing; 2026-03-11 01:30 UTC is Wednesday 09:30 Beijing
    assert not is_open(STATION, datetime(2026, 3, 10, 17, 30, tzinfo=UTC), calendar=CAL, open_on_holidays=True)
    assert is_open(CENTRE, datetime(2026, 3, 11, 1, 30, tzinfo=UTC), calendar=CAL, open_on_holidays=False)


def test_administrator_holiday_entry_closes_the_centre():
    cal = WorkCalendar(overrides={at(2026, 3, 10).date(): False})
    assert not is_open(CENTRE, at(2026, 3, 10, 10, 0), calendar=cal, open_on_holidays=False)


@pytest.mark.django_db
@pytest.mark.parametrize("moment", [
    at(2026, 3, 10, 10, 0), at(2026, 3, 10, 12, 30), at(2026, 3, 10, 19, 0), at(2026, 3, 11, 19, 0),
    at(2026, 3, 10, 20, 0), at(2026, 3, 14, 10, 0), at(2026, 3, 15, 10, 0), at(2026, 10, 1, 10, 0),
    at(2026, 10, 1, 9, 0), at(2026, 10, 1, 11, 0), at(2026, 10, 3, 10, 0), at(2026, 10, 10, 15, 0),
])
def test_the_counted_open_positions_are_those_is_open_says(moment):
    """`selectors.open_count` (one query) agrees with `is_open` position by position."""
    from huying.people.models import Unit, UnitKind
    from huying.services.models import OpeningHours, ServicePosition
    from huying.services.selectors import open_count, periods_of
    from huying.territory.models import Division, Level

    district = Division.objects.create(code="440104", name="越秀区", level=Level.DISTRICT)
    unit = Unit.objects.create(code="gov-440104", name="越秀区政府", kind=UnitKind.TERRITORIAL, division=district)
    shapes = {"centre": (CENTRE, False), "station": (STATION, True), "station_closed": (STATION, False),
              "holiday_hours": (STATION + [Period(7, time(10), time(16))], True), "none": ([], True)}
    for name, (periods, holidays) in shapes.items():
        p = ServicePosition.objects.create(kind="station", name=name, open_on_holidays=holidays, lng=113.27, lat=23.13,
                                           division=district, unit=unit)
        OpeningHours.objects.bulk_create([OpeningHours(position=p, day=x.day, opens=x.opens, closes=x.closes)
                                          for x in periods])
    positions = ServicePosition.objects.prefetch_related("hours")
    expected = sum(1 for p in positions if is_open(periods_of(p), moment, calendar=CAL,
                                                   open_on_holidays=p.open_on_holidays))
    assert open_count(ServicePosition.objects.all(), moment, calendar=CAL) == expected
