"""The forecast model on synthetic series: beats the naive seasonal forecast, honest intervals,
holidays and adjusted workdays from the working calendar, naive fallback for short series."""

from datetime import date, timedelta

import numpy as np
import pytest

from huying.core.worktime import WorkCalendar
from huying.insight import forecast
from huying.insight.forecast import Series, evaluate, evaluate_many, features, fit_forecast, naive_forecast

CAL = WorkCalendar()
WEEKDAY = np.array([1.10, 1.05, 1.04, 1.03, 1.00, 0.78, 0.72])  # Monday first


def synth(start: date, n: int, base: float, *, seed: int, calendar=CAL, yearly: float = 0.12) -> np.ndarray:
    """Poisson calls with a weekly cycle, a summer peak, holidays at 0.6 and adjusted working
    weekend days as busy as a Friday."""
    rng = np.random.default_rng(seed)
    lam = np.empty(n)
    for i in range(n):
        d = start + timedelta(days=i)
        work = calendar.is_workday(d)
        if work:
            f = WEEKDAY[d.weekday()] if d.weekday() < 5 else WEEKDAY[4]
        else:
            f = 0.6 if d.weekday() < 5 else WEEKDAY[d.weekday()]
        doy = d.timetuple().tm_yday
        lam[i] = base * f * (1 + yearly * np.cos(2 * np.pi * (doy - 200) / 365))
    return rng.poisson(lam).astype(float)


@pytest.mark.parametrize("base", [3, 40, 400])
def test_the_model_beats_naive_and_its_interval_covers(base):
    series = [Series(date(2023, 6, 1), synth(date(2023, 6, 1), 700, base, seed=base * 10 + k)) for k in range(4)]
    result = evaluate_many(series, 8, calendar=CAL)
    assert result["points"] == 4 * 8 * 7
    assert result["mase"] < 0.9, result
    assert 0.80 <= result["coverage"] <= 0.97, result
    assert result["naive_series"] == 0


def test_evaluate_counts_the_held_back_weeks_and_compares_with_same_weekday_last_week():
    start = date(2024, 3, 4)  # a Monday
    y = np.tile([10.0, 10, 10, 10, 10, 2, 2], 12)
    y[-1] = 9  # the last Sunday breaks the pattern: naive (last Sunday = 2) misses by 7
    r = evaluate(Series(start, y), holdout_weeks=1, calendar=WorkCalendar(overrides={
        start + timedelta(days=i): (i % 7) < 5 for i in range(84)}))
    assert r["points"] == 7 and r["methods"] == ["seasonal"]
    assert r["naive_abs_error"] == pytest.approx(7.0)
    assert r["mase"] == round(r["abs_error"] / 7.0, 4) and r["coverage"] is not None


def test_national_day_week_is_forecast_lower():
    """History to Wed 24 Sep 2025; 1–8 Oct is 国庆+中秋 (days off), Sun 28 Sep and Sat 11 Oct are worked."""
    end = date(2025, 9, 25)
    start = end - timedelta(days=730)
    y = synth(start, 730, 200, seed=7)
    fc = fit_forecast(Series(start, y), horizon=18, calendar=CAL)
    assert fc.method == "seasonal" and fc.start == end
    by_day = dict(zip(fc.days(), fc.mean, strict=True))
    thu, fri = by_day[date(2025, 9, 25)], by_day[date(2025, 9, 26)]
    holiday = [by_day[date(2025, 10, d)] for d in (1, 2, 3, 6, 7, 8)]  # Wed–Fri and Mon–Wed, all off
    assert max(holiday) < 0.75 * min(thu, fri)
    # The adjusted working Sunday is forecast like a working day, not like a Sunday.
    assert by_day[date(2025, 9, 28)] > 1.2 * by_day[date(2025, 10, 12)]  # a normal Sunday
    # The week after the break is back to normal.
    assert by_day[date(2025, 10, 10)] > 0.9 * fri


def test_administrator_entered_holidays_move_a_later_year():
    """A year chinesecalendar does not know follows the days administrators enter."""
    start = date(2029, 1, 1)
    holidays = {date(2029, m, d): False for m, d in ((1, 1), (4, 4), (5, 1), (5, 2), (6, 18), (10, 1), (10, 2))}
    cal = WorkCalendar(overrides={**holidays, date(2030, 3, 20): False, date(2030, 3, 21): False})
    y = synth(start, 443, 150, seed=3, calendar=cal)  # to 19 Mar 2030
    fc = fit_forecast(Series(start, y), horizon=7, calendar=cal)
    by_day = dict(zip(fc.days(), fc.mean, strict=True))
    # Wed 20 and Thu 21 Mar 2030 entered as holidays: forecast lower than the Friday after.
    assert by_day[date(2030, 3, 20)] < 0.75 * by_day[date(2030, 3, 22)]
    plain = fit_forecast(Series(start, y), horizon=7, calendar=WorkCalendar(overrides=holidays))
    assert dict(zip(plain.days(), plain.mean, strict=True))[date(2030, 3, 20)] > 0.9 * by_day[date(2030, 3, 22)]


def test_features_flag_holidays_adjusted_workdays_and_the_day_after_a_break():
    X = features(date(2025, 9, 26), 17, CAL, yearly=0)  # Fri 26 Sep … Sun 12 Oct 2025
    days = [date(2025, 9, 26) + timedelta(days=i) for i in range(17)]
    col = {d: X[i] for i, d in enumerate(days)}
    off_weekday, work_weekend, after_break = 7, 8, 9
    assert col[date(2025, 10, 1)][off_weekday] == 1 and col[date(2025, 9, 26)][off_weekday] == 0
    assert col[date(2025, 9, 28)][work_weekend] == 1 and col[date(2025, 10, 11)][work_weekend] == 1
    assert col[date(2025, 10, 5)][work_weekend] == 0
    assert col[date(2025, 10, 9)][after_break] == 1 and col[date(2025, 10, 10)][after_break] == 0
    assert features(date(2025, 1, 1), 10, CAL, yearly=2).shape == (10, 14)


@pytest.mark.parametrize("n", [0, 3, 10, 27])
def test_a_short_series_falls_back_to_naive_with_a_flag(n):
    start = date(2026, 5, 1)
    y = np.arange(n, dtype=float) % 7 + 1
    fc = fit_forecast(Series(start, y), calendar=CAL)
    assert fc.method == "naive" and fc.history_days == n and "short" in fc.notes
    assert len(fc.mean) == len(fc.lo) == len(fc.hi) == forecast.HORIZON
    assert (fc.lo >= 0).all() and (fc.lo <= fc.mean + 1e-9).all() and (fc.hi >= fc.mean).all()
    if n >= 7:  # same weekday last week
        assert list(fc.mean[:7]) == list(y[-7:]) and list(fc.mean[7:14]) == list(y[-7:])
    r = evaluate(Series(start, y), holdout_weeks=4, calendar=CAL)  # too short to hold much back: no crash
    assert r["points"] <= n


def test_a_series_without_calls_forecasts_zero():
    fc = fit_forecast(Series(date(2026, 1, 1), np.zeros(90)), calendar=CAL)
    assert fc.method == "naive" and not fc.mean.any() and fc.notes == ["no_calls"]


def test_naive_forecast_interval_from_weekly_differences():
    y = np.array([5.0, 6, 7, 8, 9, 1, 2] * 4)
    fc = naive_forecast(Series(date(2026, 1, 5), y), horizon=7)
    assert list(fc.mean) == [5, 6, 7, 8, 9, 1, 2] and list(fc.lo) == list(fc.mean) == list(fc.hi)
    d = fc.as_dict()
    assert d["days"][0] == "2026-02-02" and d["method"] == "naive" and len(d["mean"]) == 7
