"""The forecast page, the stored forecasts, the worker job, the tile and `huying forecast`: scope,
bad input, figures from the rollups."""

import json
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.management import call_command

from huying.core import jobs, tiles
from huying.insight import forecast, selectors
from huying.insight.models import AreaDay, CallForecast, Level

from .conftest import PASSWORD

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 3, 2)  # a Monday
OTHER = "440103"  # 荔湾区, a district the world's district user does not cover


@pytest.fixture(autouse=True)
def _no_live_cache():
    """Forecasts fitted on the spot are kept in the process cache for an hour: not across tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _calls(n_days: int, base: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = np.array([1.1, 1.05, 1.0, 1.0, 1.0, 0.7, 0.6])
    days = [TODAY - timedelta(days=n_days - i) for i in range(n_days)]
    return np.array([rng.poisson(base * w[d.weekday()]) for d in days], dtype=int)


@pytest.fixture
def history(world, monkeypatch):
    """120 days of rollups before TODAY: the world's district (two subjects, one street), another district."""
    from huying.territory.models import Division
    from huying.territory.models import Level as TerritoryLevel

    monkeypatch.setattr(selectors, "today_local", lambda now=None: TODAY)
    city = world.district.parent
    Division.objects.create(code=OTHER, name="荔湾区", level=TerritoryLevel.DISTRICT, kind="区", parent=city)
    n = 120
    a, b, other = _calls(n, 60, 1), _calls(n, 20, 2), _calls(n, 900, 3)
    rows = []
    street = world.streets[0].code
    for i in range(n):
        d = TODAY - timedelta(days=n - i)
        for code, level, parent, subject, value in (
                (world.district.code, Level.DISTRICT, city.code, "Q01", a[i]),
                (world.district.code, Level.DISTRICT, city.code, "Q04", b[i]),
                (street, Level.STREET, world.district.code, "Q01", a[i]),
                (OTHER, Level.DISTRICT, city.code, "Q01", other[i]),
                (city.code, Level.CITY, "", "Q01", a[i] + other[i]),
                (city.code, Level.CITY, "", "Q04", b[i])):
            rows.append(AreaDay(day=d, code=code, subject=subject, level=level, parent=parent, created=int(value)))
    AreaDay.objects.bulk_create(rows)
    return {"Q01": a, "Q04": b, "other": other}


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_history_reads_the_rollups_per_subject_and_in_total(world, history):
    series = forecast.history([world.district.code, OTHER], end=TODAY)
    q01 = series[(world.district.code, "Q01")]
    total = series[(world.district.code, forecast.ALL)]
    assert q01.start == TODAY - timedelta(days=120) and q01.end == TODAY
    assert list(q01.counts) == list(history["Q01"])
    assert list(total.counts) == list(history["Q01"] + history["Q04"])
    assert list(series[(OTHER, forecast.ALL)].counts) == list(history["other"])
    assert (OTHER, "Q04") not in series
    # A territory without calls: an empty total, forecast as naive zeros, not an error.
    assert len(forecast.history(["440105"], end=TODAY)[("440105", "")].counts) == 0


def test_refresh_stores_every_series_and_the_job_runs_once_a_day(world, history):
    now = datetime(2026, 3, 2, 2, 0, tzinfo=TZ)
    assert "forecast" in {j.name for j in jobs.registered()}
    out = forecast.forecast_job(now=now, stopping=lambda: False, every=86400)
    stored = {(r.code, r.subject): r for r in CallForecast.objects.all()}
    city = world.district.parent.code
    assert out == {"series": len(stored)}
    assert {(world.district.code, ""), (world.district.code, "Q01"), (world.district.code, "Q04"), (OTHER, ""),
            (city, ""), (city, "Q04")} <= set(stored)
    row = stored[(world.district.code, "")]
    assert row.made_on == TODAY and row.method == "seasonal" and row.history_days == 120
    assert len(row.values["mean"]) == forecast.HORIZON and row.values["days"][0] == TODAY.isoformat()
    mean = np.array(row.values["mean"])
    assert 60 < mean.mean() < 100  # about 60 + 20 a day
    assert forecast.forecast_job(now=now + timedelta(hours=3)) == {"series": 0}  # already made today
    # The next day replaces the rows, it does not add to them.
    forecast.forecast_job(now=now + timedelta(days=1))
    assert CallForecast.objects.count() == len(stored)
    assert set(CallForecast.objects.values_list("made_on", flat=True)) == {TODAY + timedelta(days=1)}


def test_the_tile_shows_tomorrows_expected_calls(world, history):
    now = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    forecast.forecasts_refresh(today=TODAY)
    values = dict((t.key, v) for t, v in tiles.compute(prefix=world.district.code, now=now))
    tile = values["insight.forecast_tomorrow"]
    row = CallForecast.objects.get(code=world.district.code, subject="")
    assert tile.value == f"{row.values['mean'][1]:.0f}" and "区间" in tile.note
    assert tile.url == f"/insight/forecast/?code={world.district.code}"
    # A street has no stored forecast: fitted on the spot from its own rollups.
    street_tile = forecast.tomorrow_tile(prefix=world.streets[0].code, now=now)
    assert street_tile is not None and 40 < float(street_tile.value) < 90
    # A territory with no calls at all has nothing to say.
    assert forecast.tomorrow_tile(prefix=world.streets[1].code, now=now) is None


def test_the_page_for_the_hotline_with_operators_capacity(client, world, history, settings):
    settings.HUYING_CALLS_PER_OPERATOR_DAY = 50
    forecast.forecasts_refresh(today=TODAY)
    c = signed_in(client, world.users["operator"])
    page = c.get("/insight/forecast/")
    assert page.status_code == 200
    ctx = page.context
    assert ctx["code"] == world.district.parent.code and ctx["operators"] == 1 and ctx["capacity"] == 50
    assert len(ctx["rows"]) == forecast.HORIZON and ctx["config"]["capacity"] == 50
    html = page.content.decode()
    assert 'id="fc-chart"' in html and "insight/forecast.js" in html and 'id="forecast-config"' in html
    assert "话务员" in html and "HUYING_CALLS_PER_OPERATOR_DAY" in html
    # The city's busy days exceed one operator's 50 calls: marked.
    assert any(r["over"] for r in ctx["rows"])
    # The dashboard links here.
    assert "/insight/forecast/?code=" in c.get("/insight/").content.decode()


def test_the_subject_select(client, world, history):
    forecast.forecasts_refresh(today=TODAY)
    c = signed_in(client, world.users["district"])
    page = c.get("/insight/forecast/", {"subject": "Q04"})
    assert page.status_code == 200 and page.context["subject"] == "Q04"
    assert page.context["config"]["mean"] == CallForecast.objects.get(code=world.district.code,
                                                                      subject="Q04").values["mean"]
    assert page.context["config"]["capacity"] is None  # operators answer every subject: no per-subject capacity
    assert [s for s, _name in page.context["subjects"]] == ["Q01", "Q04"]
    html = page.content.decode()
    assert 'onchange="this.form.submit()"' in html and '<option value="Q04" selected>' in html


@pytest.mark.parametrize("bad", ["Q99", "Q01\x00", "x" * 40])
def test_a_bad_subject_is_a_clear_400(client, world, history, bad):
    c = signed_in(client, world.users["district"])
    page = c.get("/insight/forecast/", {"subject": bad})
    html = page.content.decode()
    assert page.status_code == 400 and "fc-chart" not in html
    # The clear message: beside the page's own (unknown subject, too long) or, for a NUL, the
    # site-wide refusal of unsaveable characters before any view runs.
    assert ('role="alert"' in html and ("没有该类别" in html or "不能超过 8" in html)) or ("subject" in html and "空字符" in html)


def test_a_district_user_sees_their_district_only(client, world, history):
    forecast.forecasts_refresh(today=TODAY)
    c = signed_in(client, world.users["district"])
    page = c.get("/insight/forecast/")
    assert page.status_code == 200 and page.context["code"] == world.district.code
    assert page.context["config"]["mean"] == CallForecast.objects.get(code=world.district.code,
                                                                      subject="").values["mean"]
    assert page.context["operators"] == 0 and page.context["config"]["capacity"] is None
    assert "没有话务员" in page.content.decode()
    for code in (OTHER, world.district.parent.code):
        refused = c.get("/insight/forecast/", {"code": code})
        assert refused.status_code == 403 and "fc-chart" not in refused.content.decode()
    # A street below is theirs (fitted on the spot).
    street = c.get("/insight/forecast/", {"code": world.streets[0].code})
    assert street.status_code == 200 and len(street.context["rows"]) == forecast.HORIZON


def test_a_street_user_cannot_read_the_district(client, world, history):
    c = signed_in(client, world.users["street_a"])
    assert c.get("/insight/forecast/", {"code": world.district.code}).status_code == 403
    assert c.get("/insight/forecast/").context["code"] == world.streets[0].code


def test_operators_in_scope_count_for_capacity(client, world, history):
    from huying.people.models import RoleCode
    from huying.people.services import membership_grant, user_create

    for i in range(3):
        u = user_create(username=f"op-d{i}", password=PASSWORD, display_name=f"op{i}", actor=None,
                        check_password=False)
        membership_grant(u, unit=world.units["district"], role_code=RoleCode.OPERATOR, actor=None)
    assert forecast.operators_on_duty(world.district.code) == 3
    assert forecast.operators_on_duty(world.streets[0].code) == 0
    assert forecast.operators_on_duty(world.district.parent.code) == 4  # the hotline's own operator too
    c = signed_in(client, world.users["district"])
    page = c.get("/insight/forecast/")
    assert page.context["operators"] == 3
    assert page.context["rows"][0]["per_operator"] == round(page.context["rows"][0]["mean"] / 3, 1)


def test_a_short_history_is_flagged_on_the_page(client, world, monkeypatch):
    monkeypatch.setattr(selectors, "today_local", lambda now=None: TODAY)
    AreaDay.objects.bulk_create([AreaDay(day=TODAY - timedelta(days=i), code=world.district.code, subject="Q01",
                                         level=Level.DISTRICT, parent="440100", created=5 + i % 3)
                                 for i in range(1, 11)])
    c = signed_in(client, world.users["district"])
    page = c.get("/insight/forecast/")
    assert page.status_code == 200 and page.context["naive"] is True
    assert 'id="fc-naive"' in page.content.decode()


def test_login_required(client, world):
    assert client.get("/insight/forecast/").status_code == 302


def test_the_command_prints_forecasts_and_the_evaluation(world, history, monkeypatch):
    from huying.insight.management.commands import forecast as command

    monkeypatch.setattr(command, "local_day", lambda now: TODAY)
    out = StringIO()
    call_command("forecast", "--days", "7", stdout=out)
    body = json.loads(out.getvalue())
    assert body["made_on"] == TODAY.isoformat() and body["days"] == 7
    mine = next(s for s in body["series"] if s["code"] == world.district.code and s["subject"] == "")
    assert len(mine["mean"]) == 7 and mine["method"] == "seasonal"
    assert CallForecast.objects.filter(code=world.district.code).count() == 3
    assert len(CallForecast.objects.get(code=world.district.code, subject="").values["mean"]) == forecast.HORIZON
    out = StringIO()
    call_command("forecast", "--evaluate", stdout=out)
    ev = json.loads(out.getvalue())
    assert ev["holdout_weeks"] == 4 and ev["districts"]["series"] == 2 and ev["districts"]["points"] == 56
    assert 0 < ev["forecast_mase"] < 1.0
    with pytest.raises(Exception, match="--days"):
        call_command("forecast", "--days", "0", stdout=StringIO())
