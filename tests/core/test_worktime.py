from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from huying.core.models import CalendarDay
from huying.core.services import calendar_day_delete, calendar_day_set
from huying.core.worktime import WorkCalendar, chinesecalendar_years, get_calendar, unknown_years

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
HOUR = 3600.0


def at(y, m, d, hh=0, mm=0, ss=0):
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


# -- days ----------------------------------------------------------------------------------------
def test_national_day_2026_from_chinesecalendar():
    for day in range(1, 8):
        assert not CAL.is_workday(date(2026, 10, day)), f"2026-10-0{day} is a National Day holiday"
    assert CAL.is_workday(date(2026, 9, 30))
    assert CAL.is_workday(date(2026, 10, 8)) and CAL.is_workday(date(2026, 10, 9))
    # adjusted working days (调休上班) on a weekend, as chinesecalendar 1.11 has them
    assert date(2026, 10, 10).weekday() == 5 and CAL.is_workday(date(2026, 10, 10))
    assert date(2026, 9, 20).weekday() == 6 and CAL.is_workday(date(2026, 9, 20))
    assert not CAL.is_workday(date(2026, 10, 11))


def test_unknown_year_falls_back_to_monday_to_friday():
    assert not CAL.year_known(2027)
    assert CAL.year_known(2026)
    assert CAL.is_workday(date(2027, 1, 1))  # a Friday: nobody told us it is New Year's Day
    assert not CAL.is_workday(date(2027, 1, 2))
    assert 2026 in chinesecalendar_years() and 2027 not in chinesecalendar_years()


def test_overrides_beat_chinesecalendar_and_make_a_year_known():
    cal = WorkCalendar(overrides={date(2026, 10, 8): False, date(2027, 1, 1): False, date(2027, 1, 9): True})
    assert not cal.is_workday(date(2026, 10, 8))
    assert cal.year_known(2027) and not cal.year_known(2028)
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 9))  # an entered adjusted Saturday
    assert not cal.is_workday(date(2027, 1, 16))  # other Saturdays stay off


# -- adding working time ---------------------------------------------------------------------------
def test_two_working_days_from_monday_10_is_wednesday_10():
    assert CAL.add(at(2026, 3, 9, 10), days=2) == at(2026, 3, 11, 10)
    assert CAL.day_length_hours() == 7


def test_sum_ending_at_closing_time_ends_there():
    assert CAL.add(at(2026, 3, 9, 9), hours=7) == at(2026, 3, 9, 17)
    assert CAL.add(at(2026, 3, 9, 9), hours=3) == at(2026, 3, 9, 12)
    assert CAL.add(at(2026, 3, 9, 9), hours=3.5) == at(2026, 3, 9, 13, 30)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2026, 3, 9, 7, 30), at(2026, 3, 9, 10)),  # before opening
        (at(2026, 3, 9, 12, 30), at(2026, 3, 9, 14)),  # lunch break
        (at(2026, 3, 9, 18), at(2026, 3, 10, 10)),  # after closing
        (at(2026, 3, 14, 10), at(2026, 3, 16, 10)),  # Saturday
    ],
)
def test_start_outside_office_hours_starts_at_next_opening(start, expected):
    assert CAL.add(start, hours=1) == expected


def test_zero_added_is_the_next_opening():
    assert CAL.add(at(2026, 3, 9, 10, 15)) == at(2026, 3, 9, 10, 15)
    assert CAL.add(at(2026, 3, 9, 12)) == at(2026, 3, 9, 13)
    assert CAL.next_opening(at(2026, 3, 13, 17)) == at(2026, 3, 16, 9)


def test_deadline_from_the_afternoon_before_national_day_2026():
    start = at(2026, 9, 30, 14)
    # 3 h on 30 Sep, the holiday week, then 4 h on Thursday 8 Oct
    assert CAL.add(start, hours=7) == at(2026, 10, 8, 14)
    # 3 working days = 21 h: 3 + 7 (8 Oct) + 7 (9 Oct) + 4 on the adjusted Saturday 10 Oct
    assert CAL.add(start, days=3) == at(2026, 10, 10, 14)
    assert CAL.add(start, days=4) == at(2026, 10, 12, 14)
    assert CAL.working_seconds_between(start, at(2026, 10, 8, 14)) == 7 * HOUR
    assert CAL.working_seconds_between(at(2026, 10, 1, 9), at(2026, 10, 7, 17)) == 0


def test_across_new_year_into_2027_without_entries_uses_monday_to_friday():
    cal = WorkCalendar()
    # 2 h on 31 Dec 2026, then Friday 1 Jan 2027 counts as a working day
    assert cal.add(at(2026, 12, 31, 15), hours=7) == at(2027, 1, 1, 15)
    assert cal.add(at(2027, 1, 8, 15), hours=7) == at(2027, 1, 11, 15)


def test_across_new_year_into_2027_with_administrator_entries():
    cal = WorkCalendar(overrides={date(2027, 1, 1): False, date(2027, 1, 9): True})
    assert cal.add(at(2026, 12, 31, 15), hours=7) == at(2027, 1, 4, 15)
    assert cal.add(at(2027, 1, 8, 15), hours=7) == at(2027, 1, 9, 15)
    assert cal.working_seconds_between(at(2026, 12, 31, 9), at(2027, 1, 4, 17)) == 14 * HOUR


def test_aware_in_aware_out_in_shanghai_time():
    start = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # 10:00 in Guangzhou
    out = CAL.add(start, hours=1)
    assert out == at(2026, 3, 9, 11)
    assert out.utcoffset() == timedelta(hours=8)


def test_refuses_naive_datetimes_and_negative_time():
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 3, 9, 10), hours=1)
    with pytest.raises(ValueError):
        CAL.working_seconds_between(datetime(2026, 3, 9, 10), at(2026, 3, 9, 11))
    with pytest.raises(ValueError):
        CAL.add(at(2026, 3, 9, 10), hours=-1)


def test_custom_office_hours():
    cal = WorkCalendar(office_hours=[("08:30", "12:00"), ("14:30", "18:00")])
    assert cal.day_length_hours() == 7
    assert cal.add(at(2026, 3, 9, 11), hours=2) == at(2026, 3, 9, 15, 30)
    with pytest.raises(ValueError):
        WorkCalendar(office_hours=[("09:00", "12:00"), ("11:00", "17:00")])
    with pytest.raises(ValueError):
        WorkCalendar(office_hours=[])


def test_working_seconds_between():
    assert CAL.working_seconds_between(at(2026, 3, 9, 11), at(2026, 3, 9, 14)) == 2 * HOUR
    assert CAL.working_seconds_between(at(2026, 3, 9, 14), at(2026, 3, 9, 11)) == 0
    assert CAL.working_seconds_between(at(2026, 3, 13, 16), at(2026, 3, 16, 10)) == 2 * HOUR
    # a whole ordinary year: 2027 has 261 weekdays under the fallback
    assert CAL.working_seconds_between(at(2027, 1, 1), at(2028, 1, 1)) == 261 * 7 * HOUR


# -- properties ------------------------------------------------------------------------------------
starts = st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 1), timezones=st.just(SH))
amounts = st.floats(min_value=0, max_value=400, allow_nan=False, allow_infinity=False)
HYP_CAL = WorkCalendar(overrides={date(2027, 1, 1): False, date(2027, 2, 6): True})


@settings(max_examples=300, deadline=None)
@given(starts, amounts)
def test_add_then_measure_round_trips(start, hours):
    end = HYP_CAL.add(start, hours=hours)
    assert end >= start
    assert HYP_CAL.working_seconds_between(start, end) == pytest.approx(hours * HOUR, abs=1e-5)


@settings(max_examples=300, deadline=None)
@given(starts, amounts, amounts)
def test_add_is_monotonic_in_hours(start, a, b):
    low, high = sorted((a, b))
    assert HYP_CAL.add(start, hours=low) <= HYP_CAL.add(start, hours=high)


def _walk_add(cal, start, hours):
    """The working-time sum the slow way, minute by minute over each day's office hours — the
    reference the calendar's day skipping (a binary search over working-day ordinals) must match."""
    left = round(hours * 60)
    consumed = False
    t = start.astimezone(SH)
    periods = [(a // 60_000_000, b // 60_000_000) for a, b in cal._periods]  # minutes of the day
    while True:
        minute = t.hour * 60 + t.minute
        workday = cal.is_workday(t.date())
        if left == 0 and consumed and workday and any(minute == b for _a, b in periods):
            return t  # the sum ends exactly at a closing time
        if workday and any(a <= minute < b for a, b in periods):
            if left == 0:
                return t
            left -= 1
            consumed = True
        t += timedelta(minutes=1)


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2027, 2, 20), timezones=st.just(SH))
       .map(lambda d: d.replace(second=0, microsecond=0)), st.integers(min_value=0, max_value=15 * 8 * 60))
# Whole days from an opening end at a closing time, not at the next opening: the edge of the skip.
@example(at(2026, 9, 28, 9, 0), 2 * 7 * 60)
@example(at(2026, 9, 30, 9, 0), 3 * 7 * 60)  # across the National Day holiday
@example(at(2026, 12, 31, 13, 0), 4 * 60 + 5 * 7 * 60)  # from the afternoon's opening into 2027
def test_add_matches_the_minute_by_minute_walk_across_holidays_and_years(start, minutes):
    assert HYP_CAL.add(start, hours=minutes / 60) == _walk_add(HYP_CAL, start, minutes / 60)


def _walk_seconds(cal, start, end):
    """Working seconds the slow way: each minute from `start` to `end` that is in office hours."""
    periods = [(a // 60_000_000, b // 60_000_000) for a, b in cal._periods]
    t, total = start.astimezone(SH), 0
    while t < end:
        minute = t.hour * 60 + t.minute
        if cal.is_workday(t.date()) and any(a <= minute < b for a, b in periods):
            total += 60
        t += timedelta(minutes=1)
    return float(total)


minutes = st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2027, 2, 20),
                       timezones=st.just(SH)).map(lambda d: d.replace(second=0, microsecond=0))
# Three periods, a holiday and an adjusted working day: the positions walk every period.
SPLIT_CAL = WorkCalendar(overrides={date(2026, 12, 30): False, date(2027, 1, 9): True},
                         office_hours=(("08:30", "11:45"), ("14:00", "17:30"), ("19:00", "20:15")))


@settings(max_examples=60, deadline=None)
@given(minutes, st.integers(min_value=0, max_value=20 * 24 * 60), st.sampled_from([HYP_CAL, SPLIT_CAL]))
@example(at(2026, 9, 30, 10, 0), 9 * 24 * 60, HYP_CAL)  # across the National Day holiday
@example(at(2026, 12, 31, 12, 0), 3 * 24 * 60, HYP_CAL)  # across New Year into 2027
@example(at(2026, 12, 29, 11, 45), 11 * 24 * 60, SPLIT_CAL)  # from a closing, over the entered days
def test_working_seconds_match_the_minute_by_minute_count(start, span, cal):
    end = start + timedelta(minutes=span)
    assert cal.working_seconds_between(start, end) == _walk_seconds(cal, start, end)


@settings(max_examples=60, deadline=None)
@given(minutes, st.integers(min_value=0, max_value=12 * 12 * 60))
@example(at(2026, 12, 29, 20, 15), 1)  # after the last period, over the holiday
@example(at(2026, 12, 31, 8, 30), (195 + 210 + 75) * 2)  # two whole days end at the last closing
def test_add_with_three_periods_matches_the_walk(start, mins):
    assert SPLIT_CAL.add(start, hours=mins / 60) == _walk_add(SPLIT_CAL, start, mins / 60)


def test_sums_stay_right_when_the_index_grows_backwards():
    """The working-day index grows to earlier years when asked about them; a sum counts from the
    index it started with, so one asked before and after gives the same moment."""
    cal = WorkCalendar()
    first = cal.add(at(2027, 3, 1, 10), days=30)
    assert cal.working_seconds_between(at(2027, 3, 1, 10), first) == 30 * 7 * HOUR
    cal.add(at(2024, 2, 1, 10), hours=1)  # widens the index to 2024
    assert cal._span[0] == 2024
    assert cal.add(at(2027, 3, 1, 10), days=30) == first
    assert cal.working_seconds_between(at(2027, 3, 1, 10), first) == 30 * 7 * HOUR
    assert cal.working_seconds_between(at(2023, 12, 29, 16), at(2024, 1, 2, 10)) == 2 * HOUR


@settings(max_examples=200, deadline=None)
@given(starts, st.integers(min_value=0, max_value=60))
def test_days_are_day_length_hours(start, days):
    assert HYP_CAL.add(start, days=days) == HYP_CAL.add(start, hours=days * HYP_CAL.day_length_hours())


@settings(max_examples=200, deadline=None)
@given(starts, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90)))
def test_measure_then_add_reaches_the_end_or_the_last_closing_before_it(start, span):
    end = start + span
    worked = HYP_CAL.working_seconds_between(start, end)
    reached = HYP_CAL.add(start, hours=worked / HOUR)
    if worked > 0:  # with nothing worked, add() moves on to the next opening, possibly after `end`
        assert reached <= end
    assert HYP_CAL.working_seconds_between(reached, end) == 0


# -- the process-wide calendar ------------------------------------------------------------------------
@pytest.mark.django_db
def test_get_calendar_reads_entries_and_is_reset_when_they_change():
    assert get_calendar().is_workday(date(2027, 1, 1))
    assert unknown_years([2026, 2027, 2027]) == [2027]
    calendar = get_calendar()
    assert get_calendar() is calendar  # cached

    day = calendar_day_set(date(2027, 1, 1), is_workday=False, name="元旦", actor=None)
    assert not get_calendar().is_workday(date(2027, 1, 1))
    assert unknown_years([2026, 2027]) == []
    assert get_calendar().add(at(2026, 12, 31, 15), hours=7) == at(2027, 1, 4, 15)

    calendar_day_delete(day, actor=None)
    assert not CalendarDay.objects.exists()
    assert get_calendar().is_workday(date(2027, 1, 1))
    assert unknown_years([2027, 2028]) == [2027, 2028]


@pytest.mark.django_db
def test_get_calendar_uses_settings_office_hours(settings):
    settings.HUYING_OFFICE_HOURS = [("08:00", "12:00"), ("14:00", "18:00")]
    from huying.core.worktime import reset_calendar_cache

    reset_calendar_cache()
    assert get_calendar().day_length_hours() == 8


# -- many at once (a bulk load's deadlines) -------------------------------------------------------
EDGES = [at(2026, 9, 30, 17, 0), at(2026, 9, 30, 12, 0), at(2026, 9, 30, 9, 0), at(2026, 10, 1, 0, 0),
         at(2026, 12, 31, 23, 59, 59), at(2026, 12, 29, 11, 45), at(2027, 1, 8, 13, 0), at(2026, 3, 6, 16, 59)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(minutes, starts), min_size=1, max_size=40), st.floats(min_value=0.01, max_value=30 * 8),
       st.sampled_from([HYP_CAL, SPLIT_CAL]))
@example(EDGES, 7.0, HYP_CAL)
@example(EDGES, 0.25, SPLIT_CAL)
@example(EDGES, 5 * 8.0, SPLIT_CAL)
def test_add_many_is_add_for_each_start(starts, hours, cal):
    amount = cal.amount(hours=hours)
    got = cal.add_many([cal.local_us(s) for s in starts], amount)
    assert [cal.moment(int(x)) for x in got] == [cal.add(s, hours=hours) for s in starts]
    assert [cal.moment(cal.local_us(s)) for s in starts] == starts


def test_add_many_widens_the_index_as_add_does():
    cal = WorkCalendar()
    start = at(2026, 12, 1, 10, 0)
    got = cal.add_many([cal.local_us(start)], cal.amount(days=400))  # well into 2028
    assert cal.moment(int(got[0])) == WorkCalendar().add(start, days=400)
    with pytest.raises(ValueError):
        cal.add_many([cal.local_us(start)], 0)
