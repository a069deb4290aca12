"""The near-me page (by point, by address), a position's page, and the coverage page's scope."""

import pytest

from huying.services import views

from .conftest import LAT0, at

NEAR = "/services/near/"


@pytest.fixture
def tuesday_evening(monkeypatch):
    monkeypatch.setattr(views, "_now", lambda: at(2026, 3, 10, 19, 0))


def test_near_by_point_nearest_first_with_open_state(client, positions, town, tuesday_evening):
    r = client.get(NEAR, {"lat": LAT0, "lng": town.base + 0.001})
    assert r.status_code == 200
    rows = r.context["rows"]
    assert [row.position for row in rows] == [positions.centre, positions.station]
    assert rows[0].open_now and rows[0].minutes == pytest.approx(102.4 * 1.3 / 75, rel=0.02)
    html = r.content.decode()
    assert "流水井社区党群服务中心" in html and "正在开放" in html and "居住证办理" in html
    assert "18:00–20:00" in html  # Tuesday's hours include the evening period


def test_near_by_point_wednesday_evening_closed(client, positions, town, monkeypatch):
    monkeypatch.setattr(views, "_now", lambda: at(2026, 3, 11, 19, 0))
    rows = client.get(NEAR, {"lat": LAT0, "lng": town.base}).context["rows"]
    assert [row.open_now for row in rows] == [False, True]


def test_near_by_address(client, positions, tuesday_evening):
    r = client.get(NEAR, {"q": "越秀区六榕街旧南海县社区"})
    assert r.status_code == 200
    assert r.context["rows"][0].position == positions.station
    assert "旧南海县" in r.context["place"]


def test_near_unknown_address_and_bad_point(client, positions, tuesday_evening):
    r = client.get(NEAR, {"q": "火星基地"})
    assert r.status_code == 200 and r.context["rows"] == [] and r.context["error"]
    assert client.get(NEAR, {"lat": "nan", "lng": "113"}).status_code == 400


def test_position_page_public(client, positions, tuesday_evening):
    r = client.get(f"/services/positions/{positions.station.pk}/")
    assert r.status_code == 200 and r.context["open_now"]
    html = r.content.decode()
    assert "居住证办理" in html and "身份证" in html and "10 个工作日内办结" in html
    assert client.get("/services/positions/999999/").status_code == 404


def test_coverage_page_for_street_staff(client, positions, town, tuesday_evening):
    client.force_login(town.user.bj_staff)
    r = client.get("/services/coverage/440104003001/", {"day": "2026-03-10", "hour": "19"})
    assert r.status_code == 200
    c = r.context["c"]
    assert (c.households_covered, c.households) == (30, 60)
    html = r.content.decode()
    assert "50%" in html and "文德路3号" in html
    assert client.get("/services/coverage/").status_code == 200


def test_coverage_page_refused_across_streets(client, positions, town):
    client.force_login(town.user.lr_staff)
    assert client.get("/services/coverage/440104003001/").status_code == 403
    assert client.get("/services/coverage/440104004001/").status_code == 200
    client.force_login(town.user.resident)
    assert client.get("/services/coverage/440104003001/").status_code == 403
    assert client.get("/services/coverage/").status_code == 403
    client.logout()
    assert client.get("/services/coverage/440104003001/").status_code == 302
