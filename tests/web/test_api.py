import json

import pytest
from shapely.geometry import shape

from huying.territory.models import Building, Division

API = "/api/v1/territory"


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


def test_detail_counts_and_ancestors(client_in, territory):
    body = client_in.get(f"{API}/divisions/440104001").json()
    assert body["name"] == "洪桥街道" and body["level"] == "street" and body["child_level"] == "community"
    assert body["counts"] == {"community": 2, "grid": 3, "building": 29}
    assert [a["code"] for a in body["ancestors"]] == ["440100", "440104"]
    city = client_in.get(f"{API}/divisions/440100").json()
    assert city["counts"] == {"district": 2, "street": 3, "community": 3, "grid": 4, "building": 30}
    assert city["ancestors"] == []


def test_children_lists(client_in, territory):
    streets = client_in.get(f"{API}/divisions/440104/children").json()
    assert [(s["code"], s["counts"]["grid"]) for s in streets] == [("440104001", 3), ("440104002", 1)]
    grids = client_in.get(f"{API}/divisions/440104001001/children").json()
    assert [(g["code"], g["level"], g["counts"]) for g in grids] == [
        ("440104001001001", "grid", {"building": 25}), ("440104001001002", "grid", {"building": 3})]
    xihu = client_in.get(f"{API}/divisions/440104002/children").json()[0]
    assert (xihu["generated"], xihu["official_code"]) == (True, False)


def test_children_geojson(client_in, territory):
    resp = client_in.get(f"{API}/divisions/440100/children.geojson")
    assert resp["Content-Type"].startswith("application/geo+json")
    fc = json.loads(resp.content)
    assert fc["type"] == "FeatureCollection"
    props = {f["properties"]["code"]: f["properties"] for f in fc["features"]}
    assert set(props) == {"440103", "440104"}
    assert props["440104"]["counts"]["street"] == 2
    for f in fc["features"]:
        poly = shape(f["geometry"])
        assert poly.is_valid and poly.area > 0
        assert poly.contains(shape({"type": "Point", "coordinates": f["properties"]["cp"]}))
    grids = json.loads(client_in.get(f"{API}/divisions/440104001001/children.geojson").content)
    assert [f["properties"]["code"] for f in grids["features"]] == ["440104001001001", "440104001001002"]
    assert grids["features"][0]["properties"]["counts"] == {"building": 25}


def test_geojson_skips_children_without_shape_and_keeps_counts_fresh(client_in, territory):
    first = json.loads(client_in.get(f"{API}/divisions/440104/children.geojson").content)
    assert len(first["features"]) == 2
    Division.objects.filter(code="440104002").update(geometry="")
    g = territory["grids"][0]
    Building.objects.create(code="extra-1", grid=g, address="新楼", lng=g.lng, lat=g.lat)
    again = json.loads(client_in.get(f"{API}/divisions/440104/children.geojson").content)
    # Shapes come from the cache (same rows), counts are recomputed.
    assert len(again["features"]) == 2
    assert again["features"][0]["properties"]["counts"]["building"] == 30
    Division.objects.create(code="440104003", name="新街道", level="street", kind="街道", parent=territory["yuexiu"])
    fresh = json.loads(client_in.get(f"{API}/divisions/440104/children.geojson").content)
    assert [f["properties"]["code"] for f in fresh["features"]] == ["440104001"]


def test_unknown_code_is_404_with_message(client_in, territory):
    for url in (f"{API}/divisions/123456", f"{API}/divisions/123456/children",
                f"{API}/divisions/123456/children.geojson"):
        resp = client_in.get(url)
        assert resp.status_code == 404
        assert resp.json()["code"] == "territory.division.not_found"
        assert "123456" in resp.json()["message"]
    # A grid code is not a division.
    resp = client_in.get(f"{API}/divisions/440104001001001")
    assert resp.status_code == 404 and resp.json()["code"] == "territory.division.not_found"


def test_login_required(client, territory):
    for url in (f"{API}/divisions/440104", f"{API}/divisions/440104/children",
                f"{API}/divisions/440104/children.geojson"):
        assert client.get(url).status_code == 401
