"""Rankings (hand-computed on hand-made rollup rows, scoped per role) and the ledger export (台账)."""

import io
from datetime import date, timedelta
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from huying.core.errors import DomainError
from huying.dispatch.services import (
    work_order_accept,
    work_order_callback,
    work_order_dispatch,
    work_order_resolve,
    work_order_return,
)
from huying.insight import ledger, rankings, selectors, views_rankings
from huying.insight.metrics import COUNTERS
from huying.insight.models import AreaDay, AreaDayTotal, Level, UnitDay

from .conftest import PASSWORD, at

MARCH = rankings.Period(date(2026, 3, 1), date(2026, 3, 31), "2026-03")
T0 = at(2026, 3, 2, 10, 0)


def area_day(code, day, **counters):
    level = {6: Level.DISTRICT, 9: Level.STREET, 12: Level.COMMUNITY}[len(code)]
    parent = {6: "440100", 9: code[:6], 12: code[:9]}[len(code)]
    AreaDay.objects.create(code=code, day=day, subject="Q01", level=level, parent=parent, **counters)
    AreaDayTotal.objects.create(code=code, day=day, level=level, parent=parent, **counters)


# Community A over two March days: 响应 3/4, 解决 1/2, 满意 1/2, 按期 2/2, 返工 1/2, 退单 1/4.
A1 = dict(created=2, dispatches=2, accepts=2, accepts_on_time=2, returns=1, resolutions=1, resolutions_on_time=1,
          callbacks=1, cb_solved=1, cb_satisfied=1)
A2 = dict(created=2, dispatches=2, accepts=2, accepts_on_time=1, resolutions=1, resolutions_on_time=1, reworks=1,
          callbacks=1, cb_unsatisfied=1, open=1)
# Community B: 响应 1/2, 解决 1/1, 满意 1/1, 按期 1/1, 返工 0/1, 退单 0/2.
B1 = dict(created=2, dispatches=2, accepts=1, accepts_on_time=1, unsigned_late=1, resolutions=1,
          resolutions_on_time=1, callbacks=1, cb_solved=1, cb_satisfied=1, closes=1, open=1)


def both(a, b):
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}


@pytest.fixture
def rolled(world):
    """Hand-made rollup rows for March (and a February row that must be left out)."""
    ca, cb = world.communities[0].code, world.communities[1].code
    sa, sb = world.streets[0].code, world.streets[1].code
    area_day(ca, date(2026, 3, 2), **A1)
    area_day(ca, date(2026, 3, 20), **A2)
    area_day(ca, date(2026, 2, 28), created=50, dispatches=50, returns=50, accepts=50)
    area_day(cb, date(2026, 3, 5), **B1)
    area_day(sa, date(2026, 3, 2), **both(A1, A2))
    area_day(sb, date(2026, 3, 5), **B1)
    area_day(world.district.code, date(2026, 3, 2), **both(both(A1, A2), B1))
    # The department: 响应 2/2, 退单 1/2, nothing else due.
    UnitDay.objects.create(unit_id=world.units["dept"].pk, day=date(2026, 3, 3), dispatches=2, accepts=2,
                           accepts_on_time=2, returns=1, open=1)
    return world


def pct(x):
    return round(float(x), 4)


def test_community_ranking_matches_hand_computed_rates(rolled):
    w = rolled
    rows = rankings.ranking(w.users["operator"], level="community", period=MARCH)
    a, b = w.communities[0].code, w.communities[1].code
    assert [r["code"] for r in rows] == [b, a] and [r["rank"] for r in rows] == [1, 2]
    ra, rb = rows[1], rows[0]
    assert (ra["unit_id"], ra["name"]) == (w.units["community_a"].pk, w.units["community_a"].name)
    assert (ra["response"], ra["resolution"], ra["satisfaction"], ra["on_time"], ra["rework"], ra["return"]) == \
        (0.75, 0.5, 0.5, 1.0, 0.5, 0.25)
    # composite = (30·3/4 + 35·1/2 + 35·1/2) / 100 and (30·1/2 + 35 + 35) / 100
    assert ra["score"] == pct(Fraction(30 * 3, 4 * 100) + Fraction(35, 100))
    assert rb["score"] == pct(Fraction(15 + 70, 100))
    assert (ra["created"], ra["dispatches"], ra["returns"], ra["open"]) == (4, 4, 1, 1)  # February left out
    assert (rb["response"], rb["return"], rb["rework"]) == (0.5, 0.0, 0.0)
    # Sorted by 响应率 A leads; by 退单率 (lower is better) B leads; the Chinese label is accepted too.
    by_response = rankings.ranking(w.users["operator"], level="community", period=MARCH,
                                   sort=rankings.sort_parse("响应率"))
    assert [r["code"] for r in by_response] == [a, b]
    by_return = rankings.ranking(w.users["operator"], level="community", period=MARCH, sort="return")
    assert [r["code"] for r in by_return] == [b, a]


def test_weights_and_departments(rolled):
    w = rolled
    rows = rankings.ranking(w.users["operator"], level="department", period=MARCH)
    assert [(r["unit_id"], r["code"], r["response"], r["return"]) for r in rows] == \
        [(w.units["dept"].pk, "", 1.0, 0.5)]
    assert rows[0]["score"] == 1.0  # only 响应率 has a weight and a value
    rows = rankings.ranking(w.users["operator"], level="department", period=MARCH,
                            weights={"response": 1, "return": 1})
    assert rows[0]["score"] == 0.75  # (1 + (1 − 1/2)) / 2


def test_scope_per_role(rolled):
    w, u = rolled, rolled.users
    ca, sa = w.communities[0].code, w.streets[0].code
    # A street leader ranks the communities of their street, or their street itself; nothing above.
    assert rankings.levels_for(u["street_a"]) == ["street", "community"]
    assert rankings.default_level(u["street_a"]) == "community"
    assert [r["code"] for r in rankings.ranking(u["street_a"], level="community", period=MARCH)] == [ca]
    assert [r["code"] for r in rankings.ranking(u["street_a"], level="street", period=MARCH)] == [sa]
    for level in ("district", "department"):
        with pytest.raises(DomainError) as e:
            rankings.ranking(u["street_a"], level=level, period=MARCH)
        assert e.value.status == 403
    # The city sees every street; a district sees its streets; a community only itself.
    assert len(rankings.ranking(u["operator"], level="street", period=MARCH)) == 2
    assert rankings.default_level(u["operator"]) == "district"
    assert rankings.default_level(u["district"]) == "street"
    assert "department" not in rankings.levels_for(u["district"])
    assert [r["code"] for r in rankings.ranking(u["comm_a"], level="community", period=MARCH)] == [ca]
    # A department member ranks departments (their own), no territory.
    assert rankings.levels_for(u["dept"]) == ["department"]
    assert [r["unit_id"] for r in rankings.ranking(u["dept"], level="department", period=MARCH)] == \
        [w.units["dept"].pk]
    assert rankings.levels_for(u["resident"]) == []


def test_rankings_read_rollups_only(rolled):
    with CaptureQueriesContext(connection) as ctx:
        rankings.ranking(rolled.users["operator"], level="community", period=MARCH, sort="on_time")
        rankings.ranking(rolled.users["operator"], level="department", period=MARCH)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "insight_areadaytotal" in sql and "insight_unitday" in sql
    assert "dispatch_workorder" not in sql and "dispatch_transition" not in sql


def test_period_and_sort_parsing():
    today = date(2026, 3, 15)
    assert rankings.period_parse("", today=today) == rankings.Period(date(2026, 2, 14), today, "30d")
    assert rankings.period_parse("7d", today=today).start == date(2026, 3, 9)
    assert rankings.period_parse("2026-02", today=today).end == date(2026, 2, 28)
    for bad in ("0d", "400d", "2026-13", "march"):
        with pytest.raises(DomainError):
            rankings.period_parse(bad, today=today)
    assert rankings.sort_parse("综合得分") == "composite"
    with pytest.raises(DomainError):
        rankings.sort_parse("score; drop")


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_ranking_page(client, rolled, monkeypatch):
    monkeypatch.setattr(selectors, "today_local", lambda now=None: date(2026, 3, 31))
    w = rolled
    c = signed_in(client, w.users["operator"])
    page = c.get("/insight/rankings/", {"level": "community", "period": "2026-03", "sort": "response"})
    assert page.status_code == 200
    assert [r["code"] for r in page.context["rows"]] == [w.communities[0].code, w.communities[1].code]
    html = page.content.decode()
    assert f'href="/insight/?code={w.communities[0].code}"' in html
    assert f'/insight/ledger.xlsx?unit={w.units["community_a"].pk}&amp;period=2026-03' in html
    assert "75.0%" in html and 'data-sort="response" aria-sort="descending"' in html
    # Paginated: one row a page, the link to page 2 keeps level, period and sort.
    monkeypatch.setattr(views_rankings, "PER_PAGE", 1)
    page = c.get("/insight/rankings/", {"level": "community", "period": "2026-03", "sort": "response"})
    assert len(page.context["rows"]) == 1 and page.context["next_url"] == \
        "?level=community&period=2026-03&sort=response&page=2"
    page2 = c.get("/insight/rankings/" + page.context["next_url"])
    assert [r["code"] for r in page2.context["rows"]] == [w.communities[1].code]
    # Refusals: a level above the person, a bad period; login required.
    c2 = signed_in(client.__class__(), w.users["street_a"])
    assert c2.get("/insight/rankings/", {"level": "district"}).status_code == 403
    assert c2.get("/insight/rankings/").context["level"] == "community"
    assert c.get("/insight/rankings/", {"period": "xx"}).status_code == 400
    assert client.__class__().get("/insight/rankings/").status_code == 302


# -- ledger -----------------------------------------------------------------------------------------

@pytest.fixture
def handled(world, report, django_capture_on_commit_callbacks):
    """Three orders for community A in March (closed, returned, open), one in April, one for street B."""
    u, d = world.users, world.users["dispatcher"]

    def live(fn, *args, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kw)

    o = [live(report, now=T0 + timedelta(minutes=i)) for i in range(3)]
    x = live(work_order_dispatch, o[0], actor=d, now=T0)
    x = live(work_order_accept, x, actor=u["comm_a"], now=T0 + timedelta(hours=1))
    x = live(work_order_resolve, x, actor=u["comm_a"], result="已修复", now=T0 + timedelta(hours=5))
    live(work_order_callback, x, actor=u["operator"], satisfaction="basically", solved=True, now=T0 + timedelta(days=1))
    x = live(work_order_dispatch, o[1], actor=d, now=T0)
    live(work_order_return, x, actor=u["comm_a"], reason="非本社区职责", legal_basis="条例第五条", now=T0)
    live(work_order_dispatch, o[2], actor=d, now=T0)
    april = live(report, now=at(2026, 4, 2, 10, 0))
    live(work_order_dispatch, april, actor=d, now=at(2026, 4, 2, 10, 0))
    other = live(report, point=world.point("b"), reporter_phone="13900001111", now=T0)
    live(work_order_dispatch, other, actor=d, now=T0)
    return o


def test_ledger_rows_summary_and_masking(world, handled):
    unit = world.units["community_a"]
    # Chunks of 2: the keyset paging is exercised.
    rows = list(ledger.ledger_rows(unit.pk, actor=world.users["dispatcher"], period=MARCH, chunk=2))
    assert [r["code"] for r in rows] == [o.code for o in handled]
    first, returned = rows[0], rows[1]
    assert first["phone"] == "138****5678" and "13812345678" not in str(rows)
    assert first["on_time"] == "是" and first["satisfaction"] == "基本满意" and first["state"] == "已结案"
    assert first["received"] == T0.replace(tzinfo=None) and first["accepted"] == (T0 + timedelta(hours=1)).replace(
        tzinfo=None)
    assert first["deadline"] is not None and first["closed"] is not None
    assert returned["returns"] == 1 and returned["resolved"] is None and returned["on_time"] == ""
    summary = ledger.ledger_summary(unit.pk, period=MARCH)
    assert summary["counters"]["dispatches"] == 3 and summary["counters"]["returns"] == 1
    assert summary["rates"]["return"] == round(1 / 3, 4) and summary["rates"]["satisfaction"] == 1.0


def test_ledger_xlsx_and_scope(client, world, handled):
    unit = world.units["community_a"]
    c = signed_in(client, world.users["street_a"])
    resp = c.get("/insight/ledger.xlsx", {"unit": unit.pk, "period": "2026-03"})
    assert resp.status_code == 200 and "spreadsheetml" in resp["Content-Type"]
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == ["台账", "汇总"]
    sheet = [list(r) for r in wb["台账"].iter_rows(values_only=True)]
    assert sheet[0] == [str(h) for _k, h in ledger.COLUMNS]
    assert [r[0] for r in sheet[1:]] == [o.code for o in handled]
    phone_col = [str(h) for _k, h in ledger.COLUMNS].index("联系电话")
    assert {r[phone_col] for r in sheet[1:]} == {"138****5678"}
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True)}
    assert summary["单位"] == unit.name and summary["工单数"] == 3 and summary["退单率"] == round(1 / 3, 4)
    assert summary["dispatches"] == 3 and set(COUNTERS) <= set(summary)
    # Outside the person's territory: 403; unknown unit: 404; the unit's own staff may export.
    assert c.get("/insight/ledger.xlsx", {"unit": world.units["community_b"].pk}).status_code == 403
    assert c.get("/insight/ledger.xlsx", {"unit": world.units["dept"].pk}).status_code == 403
    assert c.get("/insight/ledger.xlsx", {"unit": 999999}).status_code == 404
    assert c.get("/insight/ledger.xlsx", {"unit": unit.pk, "period": "x"}).status_code == 400
    c2 = signed_in(client.__class__(), world.users["comm_a"])
    assert c2.get("/insight/ledger.xlsx", {"unit": unit.pk, "period": "2026-03"}).status_code == 200
    assert c2.get("/insight/ledger.xlsx", {"unit": world.units["street_a"].pk}).status_code == 403
