"""The coverage page's map data (JSON) on the small town of conftest, answers computed by hand.

15 minutes reach 15 × 75 ÷ 1.3 = 865.4 m in a straight line. The centre stands at B0; B1 is 800 m east
(covered while the centre is open), B2 900 m east (never covered by it). The 六榕街 station is ~1.4 km
west of B0, outside the box searched around the community, so it is not drawn."""

import pytest
import shapely
from shapely.geometry import shape

from .conftest import LAT0

URL = "/services/coverage/440104003001/map.json"
TUESDAY_EVENING = {"day": "2026-03-10", "hour": "19"}  # the centre's 错时 evening hours
WEDNESDAY_EVENING = {"day": "2026-03-11", "hour": "19"}  # closed


def _get(client, user, params):
    client.force_login(user)
    r = client.get(URL, params)
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    return r.json()


def test_map_data_tuesday_evening(client, positions, town):
    data = _get(client, town.user.bj_staff, TUESDAY_EVENING)
    assert data["community"] == {"code": "440104003001", "name": "流水井社区居民委员会"}
    assert data["minutes"] == 15 and data["radius_m"] == pytest.approx(865.4, abs=0.1)
    assert data["at"].startswith("2026-03-10T19:30")
    assert data["positions"] == [{"id": positions.centre.pk, "name": "流水井社区党群服务中心", "kind": "社区党群服务中心",
                                  "lnglat": [town.base, LAT0], "open": True}]
    b0, b1, b2 = town.buildings
    assert data["covered"] == [[round(b.lng, 6), round(b.lat, 6)] for b in (b0, b1)]
    assert data["uncovered"] == [{"address": "广州市越秀区流水井社区文德路3号", "grid": "流水井社区第3网格", "households": 30,
                                  "minutes": None, "lnglat": [round(b2.lng, 6), LAT0]}]
    # B2 (113.2793) is 746 m from the first grid's centre (113.272): that grid wins the tie by order.
    assert data["candidates"] == [{"rank": 1, "label": "流水井社区第1网格", "households": 30, "buildings": 1,
                                   "lnglat": [113.272, LAT0]}]
    # three grids and the community's outline (no surveyed boundary: the union of its grids), last
    kinds = [(f["properties"]["code"], f["properties"]["kind"]) for f in data["shapes"]["features"]]
    assert kinds == [("440104003001001", "grid"), ("440104003001002", "grid"), ("440104003001003", "grid"),
                     ("440104003001", "community")]
    outline = shape(data["shapes"]["features"][-1]["geometry"])
    assert outline.geom_type == "Polygon"
    assert outline.symmetric_difference(shapely.box(113.270, 23.123, 113.282, 23.127)).area < 1e-12


def test_map_data_follows_the_hour(client, positions, town):
    closed = _get(client, town.user.lsj_worker, WEDNESDAY_EVENING)
    assert [p["open"] for p in closed["positions"]] == [False]
    assert closed["covered"] == []
    assert [b["address"][-5:] for b in closed["uncovered"]] == ["文德路1号", "文德路2号", "文德路3号"]
    assert sum(c["households"] for c in closed["candidates"]) == 60
    every = _get(client, town.user.lsj_worker, {"hour": "all"})
    assert every["at"] is None and [p["open"] for p in every["positions"]] == [True]
    assert len(every["covered"]) == 2


def test_map_data_agrees_with_the_page(client, positions, town):
    client.force_login(town.user.bj_staff)
    page = client.get("/services/coverage/440104003001/", TUESDAY_EVENING)
    html = page.content.decode()
    assert 'id="coverage-map"' in html and "map.json?day=2026-03-10&amp;hour=19" in html
    data = client.get(URL, TUESDAY_EVENING).json()
    c = page.context["c"]
    assert len(data["covered"]) == c.buildings_covered
    assert [u["address"] for u in data["uncovered"]] == [b.address for b, _m in c.uncovered]
    assert sum(p["open"] for p in data["positions"]) == c.positions_open
    assert [s["label"] for s in data["candidates"]] == [s.label for s in c.candidates]


def test_map_data_scope(client, positions, town):
    assert client.get(URL).status_code == 302  # signed out: to the login page
    client.force_login(town.user.lr_staff)  # 六榕街 staff: not their street
    assert client.get(URL).status_code == 403
    assert client.get("/services/coverage/440104004001/map.json").status_code == 200
    client.force_login(town.user.resident)
    assert client.get(URL).status_code == 403
    client.force_login(town.user.bj_staff)
    assert client.get("/services/coverage/440104999999/map.json").status_code == 404
    assert client.get("/services/coverage/440104003/map.json").status_code == 404  # a street, not a community
