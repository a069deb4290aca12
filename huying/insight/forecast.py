"""Call-volume forecasts (来电量预测): expected calls per day for the next 14 days, with an interval.

One series per territory (the city, each district; a street or below on demand) and level-1
subject ("" = all subjects), read from the daily rollup `AreaDay.created` (below the streets from the
orders' facts, D84), never the order table.

The model, per series, is a seasonal Poisson regression fitted by iteratively reweighted least
squares (numpy only): log E[calls] = intercept + day of week + a weekday holiday (休息日 on
Mon–Fri) + an adjusted working weekend day (调休上班) + the first working day after a break of
three days or more + yearly Fourier terms (once the history covers most of a year). Which days are
working days comes from the project's calendar (`core.worktime`: administrator-entered days,
then chinesecalendar, then Mon–Fri), so later years follow what administrators enter. A recent
level factor (the last weeks' calls against the fit, shrunk towards 1 for small series) carries
shifts the seasonal terms do not know. The interval is the fitted mean plus the 5 % and 95 %
quantiles of the in-sample Pearson residuals, scaled by √mean: a nominal 90 % band whose width
follows the series' own over-dispersion. Too short a history (under `MIN_MODEL_DAYS`) falls back
to the naive seasonal forecast (same weekday last week), flagged `method="naive"`.

Pure functions (`fit_forecast`, `naive_forecast`, `evaluate`) take arrays and a calendar; the
database part reads the rollups (`history`), stores the fitted forecasts (`CallForecast`, refreshed
daily by the worker job "forecast") and reads them back for the page and the dashboard tile.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

HORIZON = 14
HISTORY_DAYS = 730  # two years: the yearly terms see each season twice
MIN_MODEL_DAYS = 28  # below four weeks the day-of-week effects are guesses: naive fallback
YEARLY_MIN_DAYS = 300  # yearly Fourier terms only once the history covers most of a year
YEARLY_TERMS = 2  # harmonics of the year (3 from two years of history)
RIDGE = 1.0  # penalty on every coefficient but the intercept (small series: effects shrink to 0)
LEVEL_HALF_LIFE = 7.0  # days: weight of the recent-level factor's days
LEVEL_WINDOW = 28
LEVEL_PRIOR = 30.0  # calls: the recent level of a small series stays near the fit
Q_LO, Q_HI = 0.05, 0.95
ONE_DAY = timedelta(days=1)


# -- pure part --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    """Daily counts from `start`, one per day."""

    start: date
    counts: np.ndarray

    @property
    def end(self) -> date:
        """The day after the last count."""
        return self.start + timedelta(days=len(self.counts))

    def head(self, n: int) -> Series:
        return Series(self.start, self.counts[:n])


@dataclass
class Forecast:
    start: date  # first forecast day
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    method: str  # "seasonal" (the regression) or "naive" (same weekday last week)
    history_days: int
    notes: list[str] = field(default_factory=list)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(len(self.mean))]

    def as_dict(self, ndigits: int = 1) -> dict:
        return {
            "start": self.start.isoformat(), "method": self.method, "history_days": self.history_days,
            "days": [d.isoformat() for d in self.days()],
            "mean": [round(float(x), ndigits) for x in self.mean],
            "lo": [round(float(x), ndigits) for x in self.lo],
            "hi": [round(float(x), ndigits) for x in self.hi],
        }


def _workdays(days: Sequence[date], calendar) -> np.ndarray:
    return np.array([calendar.is_workday(d) for d in days], dtype=bool)


def features(start: date, n: int, calendar, *, yearly: int) -> np.ndarray:
    """The design matrix of `n` days from `start`: intercept, Tue–Sun, holiday flags, yearly terms."""
    days = [start + timedelta(days=i) for i in range(n)]
    # Three days before `start` too, for "first working day after a break".
    before = _workdays([start - timedelta(days=k) for k in (3, 2, 1)], calendar)
    work = _workdays(days, calendar)
    allw = np.concatenate([before, work])
    dow = np.array([d.weekday() for d in days])
    cols = [np.ones(n)]
    for k in range(1, 7):
        cols.append((dow == k).astype(float))
    cols.append(((~work) & (dow < 5)).astype(float))  # holiday on a weekday (节假日)
    cols.append((work & (dow >= 5)).astype(float))  # adjusted working day at the weekend (调休上班)
    after = work & ~allw[2:-1] & ~allw[1:-2] & ~allw[0:-3]  # first working day after ≥ 3 days off
    cols.append(after.astype(float))
    if yearly:
        doy = np.array([d.timetuple().tm_yday for d in days], dtype=float)
        for k in range(1, yearly + 1):
            angle = 2 * math.pi * k * doy / 365.25
            cols.append(np.sin(angle))
            cols.append(np.cos(angle))
    return np.column_stack(cols)


def _yearly_terms(n: int) -> int:
    if n < YEARLY_MIN_DAYS:
        return 0
    return YEARLY_TERMS + (1 if n >= 2 * 365 - 30 else 0)


def _poisson_fit(X: np.ndarray, y: np.ndarray, *, ridge: float = RIDGE, iters: int = 50) -> np.ndarray:
    """Ridge-penalised Poisson regression by iteratively reweighted least squares."""
    p = X.shape[1]
    penalty = np.full(p, ridge)
    penalty[0] = 0.0
    beta = np.zeros(p)
    beta[0] = math.log(max(float(y.mean()), 1e-3))
    for _ in range(iters):
        eta = np.clip(X @ beta, -20, 20)
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        XtW = X.T * mu
        new = np.linalg.solve(XtW @ X + np.diag(penalty), XtW @ z)
        if np.max(np.abs(new - beta)) < 1e-7:
            beta = new
            break
        beta = new
    return beta


def naive_forecast(series: Series, *, horizon: int = HORIZON, note: str = "") -> Forecast:
    """Same weekday last week (the mean of what there is when under a week); interval from the
    weekly differences when there are two weeks, else a Poisson-like ±1.645√mean."""
    y = np.asarray(series.counts, dtype=float)
    n = len(y)
    if n >= 7:
        mean = np.array([y[n - 7 + (h % 7)] for h in range(horizon)])
    else:
        mean = np.full(horizon, float(y.mean()) if n else 0.0)
    if n >= 21:
        diffs = y[7:] - y[:-7]
        lo = mean + np.quantile(diffs, Q_LO)
        hi = mean + np.quantile(diffs, Q_HI)
    else:
        spread = 1.645 * np.sqrt(np.maximum(mean, 1.0))
        lo, hi = mean - spread, mean + spread
    return Forecast(series.end, mean, np.maximum(lo, 0.0), np.maximum(hi, mean), "naive", n,
                    [note] if note else [])


def fit_forecast(series: Series, *, horizon: int = HORIZON, calendar=None) -> Forecast:
    """Forecast the `horizon` days after the series; naive fallback (flagged) when it is too short."""
    if calendar is None:
        from huying.core.worktime import get_calendar

        calendar = get_calendar()
    y = np.asarray(series.counts, dtype=float)
    n = len(y)
    if n < MIN_MODEL_DAYS:
        return naive_forecast(series, horizon=horizon, note="short")
    if not y.any():
        return naive_forecast(series, horizon=horizon, note="no_calls")
    yearly = _yearly_terms(n)
    X_all = features(series.start, n + horizon, calendar, yearly=yearly)
    X, X_f = X_all[:n], X_all[n:]
    beta = _poisson_fit(X, y)
    mu = np.exp(np.clip(X @ beta, -20, 20))
    # Recent level: the last weeks' calls against the fit, weighted towards the latest days.
    m = min(LEVEL_WINDOW, n)
    w = 0.5 ** (np.arange(m)[::-1] / LEVEL_HALF_LIFE)
    level = (float(w @ y[-m:]) + LEVEL_PRIOR) / (float(w @ mu[-m:]) + LEVEL_PRIOR)
    mean = np.exp(np.clip(X_f @ beta, -20, 20)) * level
    # Interval: in-sample Pearson residuals' quantiles, a little wider for the estimated coefficients.
    pearson = (y - mu) / np.sqrt(np.maximum(mu, 1e-6))
    inflate = math.sqrt(1 + X.shape[1] / n)
    q_lo, q_hi = np.quantile(pearson, [Q_LO, Q_HI]) * inflate
    sd = np.sqrt(np.maximum(mean, 1e-6))
    lo = np.maximum(mean + q_lo * sd, 0.0)
    hi = np.maximum(mean + q_hi * sd, mean)
    return Forecast(series.end, mean, lo, hi, "seasonal", n)


def evaluate(history: Series, holdout_weeks: int = 4, *, calendar=None) -> dict:
    """Hold back the last `holdout_weeks` weeks; for each, fit on what came before and forecast
    that week. Returns the summed absolute errors of the model and of the naive seasonal forecast
    (same weekday last week), their ratio `mase` (below 1: better than naive), and how many
    held-out days fell inside the interval."""
    y = np.asarray(history.counts, dtype=float)
    n = len(y)
    out = {"points": 0, "abs_error": 0.0, "naive_abs_error": 0.0, "covered": 0, "methods": []}
    for k in range(holdout_weeks, 0, -1):
        origin = n - 7 * k
        if origin < 7:
            continue
        past = history.head(origin)
        fc = fit_forecast(past, horizon=7, calendar=calendar)
        actual = y[origin:origin + 7]
        naive = y[origin - 7:origin]
        out["points"] += len(actual)
        out["abs_error"] += float(np.abs(fc.mean - actual).sum())
        out["naive_abs_error"] += float(np.abs(naive - actual).sum())
        out["covered"] += int(((actual >= fc.lo - 1e-9) & (actual <= fc.hi + 1e-9)).sum())
        out["methods"].append(fc.method)
    return _ratios(out)


def _ratios(out: dict) -> dict:
    out["mase"] = round(out["abs_error"] / out["naive_abs_error"], 4) if out["naive_abs_error"] else None
    out["coverage"] = round(out["covered"] / out["points"], 4) if out["points"] else None
    return out


def evaluate_many(histories: Iterable[Series], holdout_weeks: int = 4, *, calendar=None) -> dict:
    """`evaluate` pooled over many series: errors summed before the ratio, so a series whose naive
    forecast happens to be perfect does not divide by zero, and busy series count for their calls."""
    total = {"series": 0, "points": 0, "abs_error": 0.0, "naive_abs_error": 0.0, "covered": 0, "naive_series": 0}
    for s in histories:
        r = evaluate(s, holdout_weeks, calendar=calendar)
        total["series"] += 1
        for key in ("points", "abs_error", "naive_abs_error", "covered"):
            total[key] += r[key]
        total["naive_series"] += int("naive" in r["methods"])
    out = _ratios(total)
    out["abs_error"] = round(out["abs_error"], 2)
    out["naive_abs_error"] = round(out["naive_abs_error"], 2)
    return out


# -- reading the rollups ----------------------------------------------------------------------

ALL = ""  # the subject key of a territory's total


def history(codes: Iterable[str], *, end: date, days: int = HISTORY_DAYS) -> dict[tuple[str, str], Series]:
    """Daily calls taken in per (territory code, level-1 subject) and per code in total (subject ""),
    for the `days` days before `end`, from `AreaDay` (below the streets from the facts:
    `selectors.by_subject`). Each code's series start on its first day with
    any call (a district loaded last month has a month of history, not two years of zeros)."""
    from django.db.models import Sum

    from .selectors import by_subject

    codes = sorted(set(codes))
    start = end - timedelta(days=days)
    rows = [(code, subject, day, n) for code in codes
            for subject, day, n in by_subject(code, start, end - timedelta(days=1))
            .values_list("subject", "day").annotate(n=Sum("created")).order_by()]
    first: dict[str, date] = {}
    cells: dict[tuple[str, str], dict[date, int]] = {}
    for code, subject, day, n in rows:
        if not n:
            continue
        first[code] = min(first.get(code, day), day)
        for key in ((code, subject), (code, ALL)):
            cell = cells.setdefault(key, {})
            cell[day] = cell.get(day, 0) + int(n)
    out: dict[tuple[str, str], Series] = {}
    for code in codes:
        s0 = first.get(code)
        if s0 is None:
            out[(code, ALL)] = Series(end, np.zeros(0))
            continue
        length = (end - s0).days
        for (c, subject), cell in cells.items():
            if c != code:
                continue
            arr = np.zeros(length)
            for day, n in cell.items():
                arr[(day - s0).days] = n
            out[(c, subject)] = Series(s0, arr)
    return out


def forecast_codes() -> list[str]:
    """The territories forecast ahead by the worker: the city and its districts."""
    from huying.territory.models import Division, Level

    from .rollups import city_code

    return [city_code(), *Division.objects.filter(level=Level.DISTRICT).order_by("code").values_list("code", flat=True)]


def compute(codes: Iterable[str], *, today: date, horizon: int = HORIZON, calendar=None) -> dict[tuple[str, str], Forecast]:
    """Fitted forecasts of every series of these codes, from the complete days before `today`."""
    if calendar is None:
        from huying.core.worktime import get_calendar

        calendar = get_calendar()
    series = history(codes, end=today)
    return {key: fit_forecast(s, horizon=horizon, calendar=calendar) for key, s in series.items()}


def forecasts_refresh(*, today: date, horizon: int = HORIZON,
                      codes: Iterable[str] | None = None) -> dict[tuple[str, str], Forecast]:
    """Fit the city's and districts' series again and replace the stored forecasts (derived data,
    like the rollups: recomputed whole, not audited). Returns the fitted forecasts."""
    from django.db import transaction
    from django.utils import timezone

    from .models import CallForecast

    fitted = compute(forecast_codes() if codes is None else codes, today=today, horizon=horizon)
    now = timezone.now()
    rows = [CallForecast(code=code, subject=subject, made_on=today, computed_at=now, method=fc.method,
                         history_days=fc.history_days, values=fc.as_dict())
            for (code, subject), fc in sorted(fitted.items())]
    with transaction.atomic():
        CallForecast.objects.all().delete()
        CallForecast.objects.bulk_create(rows, batch_size=500)
    return fitted


def forecast_job(*, now: datetime, stopping=None, every=None) -> dict:
    """Worker job "forecast": once a day, the forecasts from today on (skipped if already made today)."""
    from .facts import local_day
    from .models import CallForecast

    today = local_day(now)
    if CallForecast.objects.filter(made_on=today).exists():
        return {"series": 0}
    return {"series": len(forecasts_refresh(today=today))}


def _live_key(code: str, today: date) -> str:
    return f"huying.insight.forecast:{code}:{today.isoformat()}"


def forecasts_for(code: str, *, today: date) -> dict[str, dict]:
    """Every series of one territory, subject → `Forecast.as_dict()` (+ "live": True when fitted
    now): the stored ones when made today, else fitted from the rollups (a street, or before the
    worker's first run) and kept in the process cache for an hour."""
    from django.core.cache import cache

    from .models import CallForecast

    stored = {r.subject: {**r.values, "live": False}
              for r in CallForecast.objects.filter(code=code, made_on=today)}
    if stored:
        return stored
    cached = cache.get(_live_key(code, today))
    if cached is not None:
        return cached
    fitted = {subject: {**fc.as_dict(), "live": True}
              for (_c, subject), fc in compute([code], today=today).items()}
    cache.set(_live_key(code, today), fitted, 3600)
    return fitted


# -- staffing ---------------------------------------------------------------------------------

def operators_on_duty(code: str) -> int:
    """Hotline operators (话务员) whose unit covers this territory or lies in it. There is no shift
    or seat data in the project, so every active operator counts as on duty each day."""
    from django.db.models import Q

    from huying.people.models import Membership, RoleCode

    from .rollups import city_code

    qs = Membership.objects.filter(active=True, role__code=RoleCode.OPERATOR, unit__active=True,
                                   user__is_active=True)
    if code != city_code():
        qs = qs.filter(Q(unit__division__code__startswith=code) | Q(unit__grid__code__startswith=code))
    return qs.values("user_id").distinct().count()


def calls_per_operator_day() -> int:
    from django.conf import settings

    return settings.HUYING_CALLS_PER_OPERATOR_DAY


# -- the dashboard tile -----------------------------------------------------------------------

def tomorrow_tile(*, prefix: str, now: datetime):
    """Tomorrow's expected calls in the territory, with the interval."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from huying.core import tiles

    from .facts import local_day
    from .rollups import city_code

    code = prefix or city_code()
    today = local_day(now)
    fc = forecasts_for(code, today=today).get(ALL)
    if not fc or len(fc["mean"]) < 2 or not fc["history_days"]:
        return None
    url = reverse("insight:forecast") + ("?code=" + code if prefix else "")
    return tiles.TileValue(value=f"{fc['mean'][1]:.0f}",
                           note=_("区间 %(lo).0f–%(hi).0f 件") % {"lo": fc["lo"][1], "hi": fc["hi"][1]}, url=url)


def register() -> None:
    """The tile and the worker job (called by InsightConfig.ready)."""
    from django.utils.translation import gettext_lazy as _l

    from huying.core import jobs, tiles

    tiles.register("insight.forecast_tomorrow", title=_l("明日预计来电"), fn=tomorrow_tile, order=5)
    jobs.register("forecast", interval=24 * 3600, fn=forecast_job, exclusive=True, title="来电量预测（每日）")


# -- the benchmark ----------------------------------------------------------------------------


def bench_forecast(*, orders: int = 20000, seed: int = 2025, end: datetime | None = None,
                   holdout_weeks: int = 4, simulate: bool | None = None, grids_target: int = 1100) -> dict:
    """Forecast error on a simulated year: the pooled MASE of the district totals and the city's
    level-1 subject series against the naive seasonal forecast, over the last `holdout_weeks` weeks.

    Simulates the year first (`huying simulate year --scale small`: `orders` orders over the 365
    days to `end`, default now) when the database holds no rollups or `simulate=True`; if no grids
    are loaded it loads Guangzhou's divisions with generated grids in every district (`grids_target`
    city-wide, small so it takes seconds). Returns {"forecast_mase": …, "coverage": …, …}.
    """
    from huying.territory.models import UNIFIED_LAYER, Grid

    from .models import AreaDay, Level
    from .rollups import city_code, reset_caches
    from .simulate import Options, simulate_year

    if simulate is None:
        simulate = not AreaDay.objects.exists()
    if simulate:
        if not Grid.objects.filter(layer=UNIFIED_LAYER).exists():
            from huying.territory.testing import load_territory, shipped_data

            # Every district of the shipped city's data, gridded.
            districts = [d["code"] for d in shipped_data("divisions.json")["districts"]]
            load_territory(districts=districts, grids_target=grids_target)
        reset_caches()
        simulate_year(Options(orders=orders, end=end, days=365, seed=seed))
    last = AreaDay.objects.filter(level=Level.CITY).order_by("-day").values_list("day", flat=True).first()
    if last is None:
        raise RuntimeError("no rollups to evaluate on")
    # The last day is partial (the simulation stops "now"): evaluate on the complete days before it.
    series = history(forecast_codes(), end=last)
    city = city_code()
    picked = [s for (code, subject), s in series.items()
              if (code != city and subject == ALL and len(s.counts)) or (code == city and subject != ALL)]
    result = evaluate_many(picked, holdout_weeks)
    return {"forecast_mase": result["mase"], "coverage": result["coverage"], "series": result["series"],
            "points": result["points"], "naive_series": result["naive_series"], "through": last.isoformat()}


def bench_forecast_mase(**kwargs) -> float:
    """`bench_forecast(...)["forecast_mase"]`: for bench/sensing.py's last line `forecast_mase: Y`."""
    return bench_forecast(**kwargs)["forecast_mase"]
