"""The unit leader's set-up pages (服务阵地设置): create a position, set its hours, choose its items,
set its appointment slots; another street's leader cannot reach them."""

import pytest

from huying.core.models import AuditEntry
from huying.services import selectors, views
from huying.services.models import DeskSetting, HandlingLevel, OpeningHours, PositionKind, ServicePosition
from huying.services.services import item_create

from .conftest import at

NEW = "/services/setup/positions/new/"
ADDRESS = "越秀区北京街龙藏社区仓边路8号"


def _create(client, town, **extra):
    data = {"kind": PositionKind.STATION, "name": "仓边路服务站", "unit": town.unit.beijing.pk, "address": ADDRESS,
            "phone": "020-83001234", **extra}
    return client.post(NEW, data)


def _hours(**rows):
    data = {}
    for key, value in rows.items():
        data[key] = value
    return data


@pytest.fixture
def station(client, town):
    client.force_login(town.user.bj_staff)
    r = _create(client, town)
    assert r.status_code == 302, r.content.decode()[:2000]
    return ServicePosition.objects.get(name="仓边路服务站")


def test_home_shortcut_and_list(client, town, station):
    r = client.get("/")
    assert "/services/setup/" in r.content.decode() and "服务阵地设置" in r.content.decode()
    r = client.get("/services/setup/")
    assert r.status_code == 200 and list(r.context["page"]) == [station]
    assert "/services/setup/positions/new/" in r.content.decode()


def test_leader_creates_position_located_by_address(town, station):
    assert station.unit == town.unit.beijing and station.kind == PositionKind.STATION
    assert station.division == town.div["440104003002"]  # the station sits in the located community
    assert station.phone == "020-83001234"
    row = AuditEntry.objects.get(action="services.position.created", target_id=str(station.pk))
    assert row.actor == town.user.bj_staff


def test_create_refuses_address_outside_the_unit(client, town):
    client.force_login(town.user.bj_staff)
    r = _create(client, town, address="越秀区六榕街旧南海县社区")
    assert r.status_code == 400 and "辖区" in str(r.context["form"].errors["address"])
    r = _create(client, town, kind=PositionKind.COMMUNITY_CENTRE)
    assert r.status_code == 400 and r.context["form"].errors["unit"]
    assert not ServicePosition.objects.exists()


def test_create_by_point(client, town):
    client.force_login(town.user.bj_staff)
    g = town.grid["440104003001002"]
    r = _create(client, town, lng=g.lng, lat=g.lat, address="文德路2号")
    assert r.status_code == 302
    p = ServicePosition.objects.get()
    assert (p.lng, p.lat) == (g.lng, g.lat) and p.grid == g and p.division == town.div["440104003001"]


def test_hours_set_and_near_me_shows_it_open(client, town, station, monkeypatch):
    url = f"/services/setup/positions/{station.pk}/hours/"
    assert client.get(url).status_code == 200
    r = client.post(url, _hours(d0_0_opens="09:00", d0_0_closes="12:00", d1_0_opens="09:00", d1_0_closes="12:00",
                                d1_1_opens="18:00", d1_1_closes="21:00", d1_1_note="错时延时服务",
                                d5_0_opens="09:00", d5_0_closes="12:00", open_on_holidays="on"))
    assert r.status_code == 302
    station.refresh_from_db()
    assert station.open_on_holidays
    assert sorted((h.day, f"{h.opens:%H:%M}", h.note) for h in station.hours.all()) == [
        (0, "09:00", ""), (1, "09:00", ""), (1, "18:00", "错时延时服务"), (5, "09:00", "")]
    monkeypatch.setattr(views, "_now", lambda: at(2026, 3, 10, 19, 0))  # a Tuesday evening
    rows = client.get("/services/near/", {"q": "越秀区北京街龙藏社区"}).context["rows"]
    assert rows[0].position == station and rows[0].open_now
    assert not selectors.position_open_at(station, at(2026, 3, 11, 19, 0))  # Wednesday evening: closed
    # the form shows the saved periods again
    html = client.get(url).content.decode()
    assert 'value="18:00"' in html and "错时延时服务" in html


@pytest.mark.parametrize("rows, field", [
    ({"d0_0_opens": "17:00", "d0_0_closes": "09:00"}, "d0_0_closes"),
    ({"d2_0_opens": "09:00", "d2_0_closes": "12:00", "d2_1_opens": "11:00", "d2_1_closes": "13:00"}, "d2_1_opens"),
    ({"d3_0_opens": "09:00"}, "d3_0_closes"),
    ({"d4_0_opens": "25:00", "d4_0_closes": "26:00"}, "d4_0_opens"),
])
def test_bad_hours_refused_next_to_the_field_nothing_saved(client, town, station, rows, field):
    url = f"/services/setup/positions/{station.pk}/hours/"
    assert client.post(url, {"d6_0_opens": "08:00", "d6_0_closes": "10:00"}).status_code == 302
    audits = AuditEntry.objects.filter(action="services.position.hours_set").count()
    r = client.post(url, rows)
    assert r.status_code == 400
    assert r.context["form"].errors[field]
    html = r.content.decode()
    block = html.split(f'id="field-{field}"', 1)[1].split("</span>", 2)
    assert "field-error" in "".join(block[:2])
    assert [(h.day, f"{h.opens:%H:%M}") for h in OpeningHours.objects.filter(position=station)] == [(6, "08:00")]
    assert AuditEntry.objects.filter(action="services.position.hours_set").count() == audits


def test_another_streets_leader_gets_404(client, town, station):
    client.force_login(town.user.lr_staff)
    for suffix in ("", "hours/", "items/", "desk/"):
        assert client.get(f"/services/setup/positions/{station.pk}/{suffix}").status_code == 404
    r = client.post(f"/services/setup/positions/{station.pk}/hours/", {"d0_0_opens": "09:00", "d0_0_closes": "10:00"})
    assert r.status_code == 404 and not station.hours.exists()
    assert list(client.get("/services/setup/").context["page"]) == []
    # nor can they open one for 北京街
    r = _create(client, town, name="越界服务站")
    assert r.status_code == 400 and r.context["form"].errors["unit"]
    client.force_login(town.user.resident)
    assert client.get("/services/setup/").status_code == 403
    assert client.get(NEW).status_code == 403


def test_position_page_links_to_setup_for_editors_only(client, town, station):
    url = f"/services/positions/{station.pk}/"
    assert f"/services/setup/positions/{station.pk}/" in client.get(url).content.decode()
    client.force_login(town.user.lr_staff)
    assert f"/services/setup/positions/{station.pk}/" not in client.get(url).content.decode()


def test_edit_position(client, town, station):
    url = f"/services/setup/positions/{station.pk}/"
    r = client.post(url, {"name": "仓边路党群服务站", "address": ADDRESS, "phone": "020-83009999", "active": "on"})
    assert r.status_code == 302
    station.refresh_from_db()
    assert station.name == "仓边路党群服务站" and station.phone == "020-83009999"
    r = client.post(url, {"name": "x", "address": "越秀区六榕街旧南海县社区", "active": "on"})
    assert r.status_code == 400 and r.context["form"].errors["address"]
    station.refresh_from_db()
    assert station.address == ADDRESS


def test_items_chosen_from_catalogue(client, town, station):
    a = item_create(code="JZZ", name="居住证办理", level=HandlingLevel.STREET, actor=None)
    b = item_create(code="LNZ", name="老年人优待证办理", level=HandlingLevel.STREET, actor=None)
    url = f"/services/setup/positions/{station.pk}/items/"
    r = client.get(url, {"q": "办理"})
    assert [i.code for i in r.context["results"]] == ["JZZ", "LNZ"]
    r = client.post(url + "?q=办理", {"shown": [a.pk, b.pk], "item": [a.pk]})
    assert r.status_code == 302
    assert list(station.items.all()) == [a]
    assert AuditEntry.objects.filter(action="services.item.positions_set", target_id=str(a.pk)).exists()
    # unticking a shown item removes it; items not shown are left alone
    r = client.post(url, {"shown": [b.pk], "item": [b.pk]})
    assert sorted(i.code for i in station.items.all()) == ["JZZ", "LNZ"]
    client.post(url, {"shown": [a.pk, b.pk], "item": [b.pk]})
    assert [i.code for i in station.items.all()] == ["LNZ"]


def test_desk_capacity_set(client, town, station):
    url = f"/services/setup/positions/{station.pk}/desk/"
    assert client.get(url).context["form"].initial == {"slot_minutes": 30, "slot_capacity": 2}
    r = client.post(url, {"slot_minutes": "20", "slot_capacity": "5"})
    assert r.status_code == 302
    s = DeskSetting.objects.get(position=station)
    assert (s.slot_minutes, s.slot_capacity) == (20, 5)
    r = client.post(url, {"slot_minutes": "20", "slot_capacity": "0"})
    assert r.status_code == 400 and r.context["form"].errors["slot_capacity"]
    s.refresh_from_db()
    assert s.slot_capacity == 5
