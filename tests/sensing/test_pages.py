"""Sensing pages: scope (another territory's sensor is 404), set-up through the forms, import refusing bad rows."""

import pytest
from django.urls import reverse

from huying.sensing.models import AlertRule, Sensor

from .sensecore_fixtures import T0, at, fresh_calendar, media, sensing, territory_mode, world  # noqa: F401


def client_for(client, user):
    client.force_login(user)
    return client


def test_list_detail_and_scope(client, world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    s = make_sensor("T-1")
    c = client_for(client, world.users["street_a"])
    r = c.get(reverse("sensing:home"))
    assert r.status_code == 200 and "T-1" in r.content.decode() and 'id="nav-sensing"' in r.content.decode()
    assert c.get(reverse("sensing:sensor", args=[s.pk])).status_code == 200
    other = client_for(client, world.users["street_b"])
    assert "T-1" not in other.get(reverse("sensing:home")).content.decode()
    assert other.get(reverse("sensing:sensor", args=[s.pk])).status_code == 404
    assert other.post(reverse("sensing:sensor", args=[s.pk]), {"state": "retired"}).status_code == 404
    s.refresh_from_db()
    assert s.state == "in_service"
    # a resident sees no sensing menu and may not open the page
    res = client_for(client, world.users["resident"])
    assert 'id="nav-sensing"' not in res.get(reverse("home")).content.decode()
    assert res.get(reverse("sensing:home")).status_code == 403
    # the district handler sees street a's sensor (territory), the alert list link is dispatch's
    dist = client_for(client, world.users["district"])
    page = dist.get(reverse("sensing:sensor", args=[s.pk])).content.decode()
    assert reverse("hot:alerts") + "?kind=sensor" in page


def test_register_and_state_through_the_forms(client, world):  # noqa: F811
    c = client_for(client, world.users["street_a"])
    lng, lat = world.point("a")
    form = {"code": "F-1", "name": "仓边路烟感", "kind": "smoke", "measure_unit": "dB/m",
            "owner_unit": world.units["street_a"].pk, "lng": lng, "lat": lat}
    r = c.post(reverse("sensing:sensor_new"), form)
    assert r.status_code == 302
    s = Sensor.objects.get(code="F-1")
    bad = c.post(reverse("sensing:sensor_new"), {**form, "code": "F-2", "name": "坏\x00名"})
    assert bad.status_code == 400 and not Sensor.objects.filter(code="F-2").exists()
    far = c.post(reverse("sensing:sensor_new"), {**form, "code": "F-3", "lng": 116.397, "lat": 39.909})
    assert far.status_code == 400 and "本市" in far.content.decode()
    # another unit as owner is not offered: the form refuses it
    assert c.post(reverse("sensing:sensor_new"), {**form, "code": "F-4",
                                                  "owner_unit": world.units["street_b"].pk}).status_code == 400
    r = c.post(reverse("sensing:sensor", args=[s.pk]), {"state": "maintenance", "note": "更换电池"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.state == "maintenance"


def test_rule_set_up_and_scope(client, world, sensing):  # noqa: F811
    c = client_for(client, world.users["street_a"])
    form = {"name": "高温", "kind": "above", "sensor_kind": "temperature", "params": '{"threshold": 60}',
            "area_code": world.streets[0].code, "owner_unit": world.units["street_a"].pk, "subject": "E04",
            "urgency": "urgent"}
    assert c.post(reverse("sensing:rules"), form).status_code == 302
    rule = AlertRule.objects.get()
    bad = c.post(reverse("sensing:rules"), {**form, "params": '{"threshold": "hot"}'})
    assert bad.status_code == 400 and "阈值" in bad.content.decode()
    assert c.post(reverse("sensing:rules"), {**form, "params": "not json"}).status_code == 400
    outside = c.post(reverse("sensing:rules"), {**form, "area_code": world.streets[1].code})
    assert outside.status_code == 400 and AlertRule.objects.count() == 1
    other = client_for(client, world.users["street_b"])
    assert other.get(reverse("sensing:rule", args=[rule.pk])).status_code == 404
    assert "高温" not in other.get(reverse("sensing:rules")).content.decode()
    c = client_for(client, world.users["street_a"])
    r = c.post(reverse("sensing:rule", args=[rule.pk]), {"params": '{"threshold": 70}', "urgency": "normal"})
    assert r.status_code == 302
    rule.refresh_from_db()
    assert rule.params == {"threshold": 70.0} and not rule.active and rule.urgency == "normal"


def _csv(rows):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = "\n".join(",".join(str(c) for c in r) for r in rows)
    return SimpleUploadedFile("sensors.csv", text.encode("utf-8"), content_type="text/csv")


def test_import_is_all_or_nothing_and_names_bad_rows(client, world):  # noqa: F811
    c = client_for(client, world.users["street_a"])
    (lng, lat), (blng, blat) = world.point("a"), world.point("b")
    header = ["设备编码", "名称", "类别", "经度", "纬度", "计量单位"]
    bad = [header, ["I-1", "一号", "烟感", lng, lat, "dB/m"], ["I 2", "二号", "smoke", lng, lat, ""],
           ["I-3", "三号", "电磁炉", lng, lat, ""], ["I-4", "四号", "gas", "x", lat, ""],
           ["I-5", "五号", "gas", blng, blat, ""], ["I-1", "重复", "gas", lng, lat, ""]]
    r = c.post(reverse("sensing:import"), {"file": _csv(bad), "owner_unit": world.units["street_a"].pk})
    assert r.status_code == 400
    page = r.content.decode()
    for n in ("3", "4", "5", "6", "7"):
        assert f"<td>{n}</td>" in page
    assert "<td>2</td>" not in page
    assert not Sensor.objects.exists()
    good = [header, ["I-1", "一号", "烟感", lng, lat, "dB/m"], ["I-2", "二号", "smoke", lng, lat, ""]]
    r = c.post(reverse("sensing:import"), {"file": _csv(good), "owner_unit": world.units["street_a"].pk})
    assert r.status_code == 302
    assert set(Sensor.objects.values_list("code", flat=True)) == {"I-1", "I-2"}
    assert c.get(reverse("sensing:import_template")).status_code == 200


@pytest.mark.parametrize("name", ["sensing:home", "sensing:rules", "sensing:import", "sensing:sensor_new"])
def test_pages_need_a_login(client, db, name):  # noqa: F811
    r = client.get(reverse(name))
    assert r.status_code == 302 and "login" in r["Location"]
