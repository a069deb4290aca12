"""应急指挥一张图: the data endpoint's contents and scope, the page, the shortcuts and the sensing tiles."""

from datetime import timedelta

import pytest
from django.urls import reverse

from huying.dispatch.hot.models import Alert, AlertKind
from huying.dispatch.hot.services import alert_acknowledge, alert_close, alert_open_order, alert_raise
from huying.sensing import tiles as sensing_tiles
from huying.sensing.ingest import ingest
from huying.sensing.services import sensor_set_state

from .sensecore_fixtures import T0, at, fresh_calendar, media, reading, sensing, territory_mode, world  # noqa: F401

NOW = T0 + timedelta(hours=2)
DATA = "sensing:emergency_data"


def _user(name, unit, role):
    from huying.people.services import membership_grant, user_create

    user = user_create(username=f"em-{name}", password="Huying-test-2026", display_name=name, actor=None,
                       check_password=False)
    if unit is not None:
        membership_grant(user, unit=unit, role_code=role, actor=None)
    return user


@pytest.fixture
def scene(world, sensing):  # noqa: F811
    """A sensor alert in street a with its order dispatched (to grid a), a hot alert in street b, a
    closed alert in street a; a leader of the district and one of another district."""
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import unit_create
    from huying.territory.models import Division, Level

    make_sensor, make_rule = sensing
    make_sensor("T-1")
    make_rule()
    assert ingest([("T-1", reading(i, 70 + i)) for i in range(5)], now=NOW).alerts == 1
    sensor_alert = Alert.objects.get(kind=AlertKind.SENSOR)
    lng, lat = world.point("b")
    street_b = world.streets[1]
    hot, _c = alert_raise(kind=AlertKind.HOT, dedup_key="hot:test:1", title="人民街噪音投诉激增", evidence={},
                          area_code=world.communities[1].code, district_code=world.district.code,
                          street_code=street_b.code, area_label=street_b.name, lng=lng, lat=lat, now=NOW)
    closed, _c = alert_raise(kind=AlertKind.SENSOR, dedup_key="sensor:test:closed", title="已关闭的烟感预警",
                             evidence={}, area_code=world.communities[0].code, lng=lng, lat=lat, now=NOW)
    alert_close(closed, actor=world.users["street_a"], note="误报")
    city = Division.objects.get(level=Level.CITY)
    other, _c = Division.objects.get_or_create(code="440103", defaults=dict(
        name="荔湾区", level=Level.DISTRICT, kind="区", parent=city))  # the real territory has it
    other_unit = unit_create(code="t-liwan", name="荔湾区人民政府", kind=UnitKind.TERRITORIAL, division=other,
                             actor=None)
    users = {
        "leader": _user("leader", world.units["district"], RoleCode.LEADER),
        "other_leader": _user("other-leader", other_unit, RoleCode.LEADER),
        "city_leader": _user("city-leader", world.units["command"], RoleCode.LEADER),
    }
    return {"sensor": sensor_alert, "hot": hot, "closed": closed, "users": users, "other": other}


def _get(client, user, **params):
    client.force_login(user)
    return client.get(reverse(DATA), params)


def test_data_lists_active_alerts_with_orders_units_and_states(client, world, scene, django_assert_max_num_queries):  # noqa: F811
    client.force_login(scene["users"]["leader"])
    with django_assert_max_num_queries(12):  # session, user, scope, then 4 reads whatever the alert count
        r = client.get(reverse(DATA))
    assert r.status_code == 200
    body = r.json()
    by_id = {a["id"]: a for a in body["alerts"]}
    assert set(by_id) == {scene["sensor"].pk, scene["hot"].pk}  # the closed one is absent
    s = by_id[scene["sensor"].pk]
    assert s["kind"] == "sensor" and s["status"] == "open" and s["urgency"] == "emergency"
    order = scene["sensor"].orders.get()
    [o] = s["orders"]
    assert o["code"] == order.code and o["state"] == "dispatched" and o["state_label"] == "已派单"
    assert [u["name"] for u in o["units"]] == [world.units["grid_a"].name] and o["units"][0]["lead"]
    assert o["url"] == reverse("dispatch:detail", args=[order.pk])
    assert s["lng"] is not None and s["lat"] is not None
    # most urgent first: the sensor alert's order is 特急, the hot alert has no order
    assert [a["id"] for a in body["alerts"]] == [scene["sensor"].pk, scene["hot"].pk]
    assert by_id[scene["hot"].pk]["orders"] == [] and body["count"] == 2 and not body["truncated"]
    assert "13812345678" not in r.content.decode()


def _queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse(DATA)).status_code == 200
    return len(ctx.captured_queries)


def test_acknowledged_stays_closed_goes_and_queries_do_not_grow(client, world, scene):  # noqa: F811
    client.force_login(scene["users"]["leader"])
    client.get(reverse(DATA))  # warm the session
    before = _queries(client)
    alert_acknowledge(scene["hot"], actor=world.users["dispatcher"], note="已知悉")
    lng, lat = world.point("a")
    for i in range(5):  # more alerts, each with its own (undispatched) order
        more, _c = alert_raise(kind=AlertKind.HOT, dedup_key=f"hot:more:{i}", title=f"热点{i}", evidence={},
                               area_code=world.communities[0].code, lng=lng, lat=lat, now=NOW)
        alert_open_order(more, actor=world.users["dispatcher"], subject="E04", now=NOW)
    assert _queries(client) == before  # no per-alert queries
    body = client.get(reverse(DATA)).json()
    statuses = {a["id"]: a["status"] for a in body["alerts"]}
    assert statuses[scene["hot"].pk] == "acknowledged" and scene["closed"].pk not in statuses
    assert body["count"] == 7
    more = [a for a in body["alerts"] if a["title"].startswith("热点")]
    assert len(more) == 5 and all(len(a["orders"]) == 1 and a["orders"][0]["units"] == [] for a in more)
    alert_close(scene["sensor"], actor=world.users["dispatcher"], note="已处置")
    body = client.get(reverse(DATA)).json()
    assert scene["sensor"].pk not in {a["id"] for a in body["alerts"]} and body["count"] == 6


def test_scope_other_district_sees_nothing_and_bad_codes_are_404(client, world, scene):  # noqa: F811
    other = _get(client, scene["users"]["other_leader"])
    assert other.status_code == 200 and other.json()["alerts"] == []
    # another district asked for by code: 404, also for the page
    leader = scene["users"]["leader"]
    assert _get(client, leader, code="440103").status_code == 404
    assert client.get(reverse("sensing:emergency"), {"code": "440103"}).status_code == 404
    assert _get(client, leader, code="440104\x00").status_code == 400  # the project's NUL guard answers first
    for bad in ("abc", "4401", "440104999999", "440100", "4401049" * 4):
        r = _get(client, leader, code=bad)
        assert r.status_code == 404, bad
        assert "message" in r.json()
    # a street of one's own district narrows the list
    body = _get(client, leader, code=world.streets[1].code).json()
    assert [a["id"] for a in body["alerts"]] == [scene["hot"].pk]
    # street b's handler sees the hot alert, not street a's sensor alert
    ids = {a["id"] for a in _get(client, world.users["street_b"]).json()["alerts"]}
    assert ids == {scene["hot"].pk}
    # the city leader sees both, the city code is allowed for them
    ids = {a["id"] for a in _get(client, scene["users"]["city_leader"], code="440100").json()["alerts"]}
    assert ids == {scene["sensor"].pk, scene["hot"].pk}
    # a resident may not read it at all
    assert _get(client, world.users["resident"]).status_code == 403
    assert client.get(reverse("sensing:emergency")).status_code == 403
    client.logout()
    assert client.get(reverse(DATA)).status_code == 302


def test_page_config_shortcuts_and_links(client, world, scene):  # noqa: F811
    leader = scene["users"]["leader"]
    client.force_login(leader)
    page = client.get(reverse("sensing:emergency"))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="emergency-config"' in html and "emergency.js" in html
    assert "<script>" not in html.replace('<script src=', '')  # no inline script (CSP)
    cfg = page.context["config"]
    assert cfg["root"] == world.district.code and cfg["data"] == reverse(DATA)
    assert client.get(reverse("home")).content.decode().count(reverse("sensing:emergency")) >= 1
    client.force_login(world.users["dispatcher"])
    assert reverse("sensing:emergency") in client.get(reverse("home")).content.decode()
    assert client.get(reverse("sensing:emergency")).context["config"]["root"] == "city"
    assert 'id="nav-emergency"' in client.get(reverse("sensing:home")).content.decode()
    # the street's config draws its district and polls its code
    r = client.get(reverse("sensing:emergency"), {"code": world.streets[0].code})
    assert r.context["config"]["data"].endswith(f"?code={world.streets[0].code}")


def test_sensing_tiles(world, scene, sensing):  # noqa: F811
    make_sensor, _rule = sensing
    district = world.district.code
    tile = sensing_tiles.alerts_tile(prefix=district, now=NOW)
    assert tile.value == "1" and tile.warn and tile.url == reverse("sensing:emergency") + f"?code={district}"
    assert sensing_tiles.alerts_tile(prefix="440103", now=NOW) is None  # no sensors, no alerts there
    assert sensing_tiles.alerts_tile(prefix=world.streets[1].code, now=NOW) is None
    alert_close(scene["sensor"], actor=world.users["dispatcher"], note="已处置")
    quiet = sensing_tiles.alerts_tile(prefix=district, now=NOW)
    assert quiet.value == "0" and not quiet.warn
    # T-1 reported at T0+4 min; a day later it is silent; a second one is in maintenance
    s2 = make_sensor("T-2", point="a")
    sensor_set_state(s2, state="maintenance", actor=world.users["street_a"], note="更换电池")
    now = at(2026, 3, 4, 10, 0)
    t = sensing_tiles.sensors_tile(prefix=district, now=now)
    assert t.value == "1 / 1" and t.warn and "2" in t.note
    assert sensing_tiles.sensors_tile(prefix=district, now=NOW).value == "0 / 1"
    assert sensing_tiles.sensors_tile(prefix="440103", now=now) is None
    from huying.core import tiles

    keys = {t.key for t in tiles.registered()}
    assert {"sensing.alerts_active", "sensing.sensors_attention", "party.members_reported",
            "party.services_year"} <= keys
