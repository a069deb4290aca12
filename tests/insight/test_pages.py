"""The dashboard page, its tiles partial and JSON endpoints: login, scope, figures from the rollups."""

from datetime import timedelta

import pytest

from huying.dispatch.services import work_order_dispatch
from huying.insight import rollups, selectors

from .conftest import PASSWORD, at
from .test_rollups import direct_area

T0 = at(2026, 3, 2, 10, 0)


@pytest.fixture
def orders(world, report, django_capture_on_commit_callbacks, monkeypatch):
    # "Today" for the dashboard is the day of the fixture's calls; never the machine's clock.
    monkeypatch.setattr(selectors, "today_local", lambda now=None: T0.date())
    with django_capture_on_commit_callbacks(execute=True):
        a = [report(now=T0 + timedelta(minutes=i)) for i in range(3)]
        b = [report(point=world.point("b"), now=T0)]
        work_order_dispatch(a[0], actor=world.users["dispatcher"], now=T0)
    return a + b


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_login_required(client, world):
    assert client.get("/insight/").status_code == 302
    assert client.get("/insight/api/summary/").status_code == 302


def test_a_street_leader_sees_their_street_and_nothing_else(client, world, orders):
    c = signed_in(client, world.users["street_a"])
    street_a, street_b = world.streets[0].code, world.streets[1].code
    page = c.get("/insight/")
    assert page.status_code == 200
    assert page.context["code"] == street_a
    assert [x["code"] for x in page.context["crumbs"]] == [street_a]
    html = page.content.decode()
    assert "驾驶舱" in html and 'hx-trigger="every 30s"' in html
    summary = c.get("/insight/api/summary/", {"code": street_a}).json()
    want = direct_area(street_a)
    assert (summary["created"], summary["open"]) == (want["created"], want["open"]) == (3, 3)
    kids = c.get("/insight/api/children/", {"code": street_a}).json()["children"]
    assert [(k["code"], k["open"]) for k in kids] == [(world.communities[0].code, 3)]
    # Someone else's street, the district and the city are refused, on the page and in the API.
    for code in (street_b, world.district.code, rollups.city_code()):
        assert c.get("/insight/api/summary/", {"code": code}).status_code == 403
        assert c.get("/insight/api/trend/", {"code": code}).status_code == 403
        assert c.get("/insight/", {"code": code}).status_code == 403
    # A grid below the street is theirs.
    assert c.get("/insight/api/summary/", {"code": world.grids[0].code}).status_code == 200


def test_the_city_dashboard_for_the_hotline(client, world, orders):
    c = signed_in(client, world.users["operator"])
    page = c.get("/insight/")
    assert page.context["code"] == rollups.city_code()
    tiles = c.get("/insight/tiles/", {"code": world.district.code})
    assert tiles.status_code == 200
    body = tiles.content.decode()
    assert 'data-tile="calls_today">4<' in body and 'data-tile="open">4<' in body
    city = rollups.city_code()
    trend = c.get("/insight/api/trend/", {"code": city, "days": 7}).json()["days"]
    assert len(trend) == 7 and trend[-1] == {"day": "2026-03-02", "created": 4, "closes": 0, "open": 4, "overdue": 0}
    mix = c.get("/insight/api/mix/", {"code": city}).json()["subjects"]
    assert mix == [{"subject": "Q01", "name": mix[0]["name"], "created": 4, "open": 4}]
    spots = c.get("/insight/api/hotspots/", {"code": city}).json()["spots"]
    assert [(s["code"], s["created"]) for s in spots] == [(world.grids[0].code, 3), (world.grids[1].code, 1)]
    units = c.get("/insight/api/units/", {"code": world.streets[0].code}).json()
    assert units["units"][0]["unit_id"] == world.units["community_a"].pk and units["units"][0]["dispatches"] == 1
    assert c.get("/insight/api/summary/", {"code": "12"}).status_code == 404
    assert c.get("/insight/api/summary/", {"code": city, "days": "x"}).status_code == 400


def test_the_tiles_say_how_many_changes_are_still_being_summed(client, world, orders, settings):
    # In the worker's way a new call is queued, not yet summed: the tiles say so, then count it.
    settings.HUYING_INSIGHT_REFRESH = "worker"
    c = signed_in(client, world.users["operator"])
    body = c.get("/insight/tiles/", {"code": world.district.code}).content.decode()
    assert "data-pending" not in body and 'data-tile="calls_today">4<' in body
    from huying.dispatch.services import work_order_create

    lng, lat = world.point("a")
    work_order_create(channel="web", subject="Q010101", title="井盖松动", idempotency_key="pending-1", lng=lng,
                      lat=lat, now=T0)
    body = c.get("/insight/tiles/", {"code": world.district.code}).content.decode()
    assert 'data-pending="1"' in body and "正在汇总" in body and 'data-tile="calls_today">4<' in body
    rollups.drain()
    body = c.get("/insight/tiles/", {"code": world.district.code}).content.decode()
    assert "data-pending" not in body and 'data-tile="calls_today">5<' in body


def test_monthly_report_page_and_excel(client, world, orders):
    import io

    from openpyxl import load_workbook

    c = signed_in(client, world.users["operator"])
    district = world.district.code
    page = c.get("/insight/report/", {"code": district, "month": "2026-03"})
    assert page.status_code == 200
    r = page.context["r"]
    assert r["totals"] == direct_area(district) and r["totals"]["created"] == 4
    assert [k["code"] for k in r["children"]] == [s.code for s in world.streets]
    assert r["days"][1]["created"] == 4 and len(r["days"]) == 31
    assert c.get("/insight/report/", {"code": district, "month": "2026-02"}).context["r"]["totals"]["created"] == 0
    assert c.get("/insight/report/", {"code": district, "month": "March"}).status_code == 400
    xlsx = c.get("/insight/report.xlsx", {"code": district, "month": "2026-03"})
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith('202603.xlsx"')
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["汇总", "下级区域", "每日"]
    head, row = list(wb["汇总"].iter_rows(values_only=True))
    assert row[head.index("created")] == 4 and row[head.index("open")] == 4
    streets = {row[1]: row[head.index("created") - 1] for row in list(wb["下级区域"].iter_rows(values_only=True))[1:]}
    assert streets == {world.streets[0].code: 3, world.streets[1].code: 1}
    # Someone without the district in scope gets neither.
    c2 = signed_in(client, world.users["street_a"])
    assert c2.get("/insight/report.xlsx", {"code": district, "month": "2026-03"}).status_code == 403


@pytest.mark.parametrize("beijing, expected", [
    ((2026, 12, 1, 1, 0), (2026, 11)),  # 01:00 on the 1st: the UTC date is still in November
    ((2026, 12, 31, 23, 0), (2026, 11)),
    ((2027, 1, 1, 1, 0), (2026, 12)),
])
def test_monthly_report_defaults_to_the_last_full_month(monkeypatch, rf, beijing, expected):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from huying.insight import views

    at = datetime(*beijing, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    monkeypatch.setattr(timezone, "now", lambda: at)
    assert views._month(rf.get("/insight/report/")) == expected
    assert views._month(rf.get("/insight/report/", {"month": "2026-03"})) == (2026, 3)
