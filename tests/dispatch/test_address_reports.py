"""Address-only reports: an address that reaches a community, street or district is taken, placed
there with its precision, routed to that division's territorial unit, shown with a badge, and
searched for duplicates by the division's area. On the real divisions of 越秀区 and the real locator."""

import pytest

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.dispatch import selectors
from huying.dispatch.models import LocationPrecision, WorkOrder
from huying.dispatch.services import work_order_create
from huying.people.models import UnitKind
from huying.people.services import unit_create
from huying.territory.models import Division

from .conftest import PASSWORD, at

pytestmark = pytest.mark.parametrize("territory_mode", ["real"])

T0 = at(2026, 3, 2, 10, 0)
BEIJING_STREET = "440104003"  # 北京街道, 越秀区
ADDRESS = "广州市越秀区北京街道北京路100号"


def street_unit(world):
    """The territorial office (块) of 北京街道, whether or not the world made one."""
    street = Division.objects.get(code=BEIJING_STREET)
    for key, s in zip(("street_a", "street_b"), world.streets, strict=True):
        if s.pk == street.pk:
            return world.units[key]
    return unit_create(code="t-street-bj", name=street.name, kind=UnitKind.TERRITORIAL, division=street, actor=None)


def file(world, n=1, **kw):
    args = dict(channel="web", subject="Q010101", request_type="complaint", title="路灯不亮",
                description="北京路100号门口的路灯一直不亮", actor=world.users["resident"],
                reporter_phone="13812345678", idempotency_key=f"addr-{n}", now=T0)
    args.update(kw)
    return work_order_create(**args)


def test_a_street_address_is_taken_at_street_precision_and_routed_to_the_street(world):
    unit = street_unit(world)
    order = file(world, address=ADDRESS)
    street = Division.objects.get(code=BEIJING_STREET)
    assert order.location_precision == LocationPrecision.STREET
    assert (order.street_code, order.district_code, order.area_code) == (BEIJING_STREET, "440104", BEIJING_STREET)
    assert order.grid_id is None and order.community_id is None
    assert "北京街道" in order.area_label
    # Its point is the street's centre until an operator places it.
    assert (order.lng, order.lat) == (street.lng, street.lat)
    assert order.proposed_unit_id == unit.pk
    assert AuditEntry.objects.filter(action="dispatch.order.created", target_id=str(order.pk)).exists()
    # Dispatched at once when auto-dispatch is asked for: the street office leads.
    auto = file(world, n=2, address="越秀区北京街道 北京路100号", auto_dispatch=True)
    assert auto.state == "dispatched" and auto.lead_unit_id == unit.pk
    assert WorkOrder.objects.get(pk=auto.pk).location_precision == LocationPrecision.STREET


def test_a_community_address_is_taken_at_community_precision(world):
    community = world.communities[0]
    order = file(world, address=f"{community.name}门口")
    assert order.location_precision == LocationPrecision.COMMUNITY
    assert order.community_id == community.pk and order.grid_id is None
    assert order.proposed_unit_id == world.units["community_a"].pk


def test_a_district_address_is_taken_and_routed_to_the_district(world):
    order = file(world, address="广州市越秀区某某路1号")
    assert order.location_precision == LocationPrecision.DISTRICT
    assert order.street_code == "" and order.district_code == "440104"
    assert order.proposed_unit_id == world.units["district"].pk


def test_a_point_is_placed_in_its_grid(world):
    order = file(world, lng=world.point("a")[0], lat=world.point("a")[1])
    assert order.location_precision == LocationPrecision.GRID and order.grid_id == world.grids[0].pk


def test_another_city_or_no_division_is_an_error_on_the_address(world):
    with pytest.raises(DomainError) as exc:
        file(world, address="深圳市福田区福华路1号")
    assert (exc.value.code, exc.value.field, exc.value.status) == ("dispatch.outside_city", "address", 422)
    with pytest.raises(DomainError) as exc:
        file(world, n=2, address="广州市某某路1号")
    assert (exc.value.code, exc.value.field) == ("dispatch.address_not_found", "address")
    assert WorkOrder.objects.count() == 0


def test_duplicates_without_a_point_use_the_division(world):
    first = file(world, address=ADDRESS)
    second = file(world, n=2, address="越秀区北京街道北京路100号附近")
    found = selectors.duplicate_candidates(subject=second.subject, lng=second.lng, lat=second.lat,
                                           text=f"{second.title}{second.description}", now=T0, exclude=second,
                                           area_code=second.area_code, precision=second.location_precision)
    assert [c.order.pk for c in found] == [first.pk] and found[0].distance_m is None
    # Without a point and without a division there is nothing to compare.
    assert selectors.duplicate_candidates(subject=second.subject, lng=None, lat=None, text="路灯", now=T0) == []
    # A point inside 北京街道 finds the street-level report; one in another street does not.
    street = Division.objects.get(code=BEIJING_STREET)
    grid = WorkOrder._meta.get_field("grid").related_model.objects.filter(
        layer="unified", community__parent=street).order_by("code").first()
    inside = selectors.duplicate_candidates(subject=first.subject, lng=grid.lng, lat=grid.lat,
                                            text=f"{first.title}{first.description}", now=T0,
                                            area_code=grid.code, precision=LocationPrecision.GRID)
    assert {c.order.pk for c in inside} == {first.pk, second.pk}
    other = world.grids[0] if world.grids[0].community.parent_id != street.pk else world.grids[1]
    elsewhere = selectors.duplicate_candidates(subject=first.subject, lng=other.lng, lat=other.lat,
                                               text=f"{first.title}{first.description}", now=T0,
                                               area_code=other.code, precision=LocationPrecision.GRID)
    assert elsewhere == []


def test_the_precision_shows_on_the_detail_and_the_list(world, client):
    order = file(world, address=ADDRESS)
    precise = file(world, n=2, lng=world.point("a")[0], lat=world.point("a")[1], title="井盖缺失")
    client.login(username=world.users["dispatcher"].username, password=PASSWORD)
    detail = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-precision="street"' in detail and "定位到街道" in detail
    assert 'data-precision' not in client.get(f"/orders/{precise.pk}/").content.decode()
    listing = client.get("/orders/").content.decode()
    assert listing.count('data-precision="street"') == 1


def test_the_picker_shapes_are_public_and_carry_no_counts(world, client):
    city = client.get("/orders/report/map/city.geojson")
    assert city.status_code == 200 and city["Content-Type"].startswith("application/geo+json")
    features = city.json()["features"]
    assert "440104" in {f["properties"]["code"] for f in features}
    assert set(features[0]["properties"]) == {"code", "name", "level", "cp"}
    streets = client.get("/orders/report/map/440104.geojson").json()["features"]
    assert BEIJING_STREET in {f["properties"]["code"] for f in streets}
    assert client.get(f"/orders/report/map/{BEIJING_STREET}.geojson").status_code == 404  # not a picker level
    assert client.get("/orders/report/map/999999.geojson").status_code == 404
    assert client.get("/orders/report/map/abc.geojson").status_code == 404
