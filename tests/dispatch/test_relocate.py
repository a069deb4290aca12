"""定位核实: an operator sets the point of an address-only order. The locator runs again, the
precision becomes a point, a submitted order is routed again, a dispatched one only records its
place; stale versions, points outside the known division and people without the role are refused."""

import json

import pytest
from django.test import Client

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.dispatch.models import LocationPrecision, State, Transition, WorkOrder
from huying.dispatch.services import intake, work_order_create, work_order_dispatch, work_order_relocate
from huying.dispatch.services.routing import route_for_order

from .conftest import AddressMatch, Location, Place, at

T0 = at(2026, 3, 2, 10, 0)
T1 = at(2026, 3, 2, 11, 0)


@pytest.fixture
def coarse(world, monkeypatch):
    """Addresses that name only a street ("北京街道…") or the district ("越秀区…") are placed there,
    at the division's centre, as the real locator does for such addresses."""
    district = world.district
    district.lng, district.lat = 113.265, 23.122
    district.save(update_fields=["lng", "lat"])
    for s, (lng, lat) in zip(world.streets, [(113.2705, 23.1255), (113.2605, 23.1205)], strict=True):
        s.lng, s.lat = lng, lat
        s.save(update_fields=["lng", "lat"])
    fine = intake.locate_address
    d = Place(district.code, district.name)

    def locate_address(text):
        for s in world.streets:
            if s.name in text and not any(c.name in text for c in world.communities):
                return AddressMatch(True, False, Location(d, Place(s.code, s.name), None, None, None, None))
        if district.name in text and not any(c.name in text for c in world.communities):
            return AddressMatch(True, False, Location(d, None, None, None, None, None))
        return fine(text)

    monkeypatch.setattr(intake, "locate_address", locate_address)
    return world


def file(world, address="越秀区北京街道北京路100号", n=1, **kw):
    args = dict(channel="web", subject="Q010101", request_type="complaint", title="路灯不亮",
                description="门口的路灯一直不亮", address=address, actor=world.users["resident"],
                reporter_phone="13812345678", idempotency_key=f"reloc-{n}", now=T0)
    args.update(kw)
    return work_order_create(**args)


def relocate(world, order, who="operator", **kw):
    kw.setdefault("version", WorkOrder.objects.get(pk=order.pk).version)
    kw.setdefault("now", T1)
    return work_order_relocate(order, actor=world.users[who], **kw)


def test_a_street_order_gets_its_point_grid_and_a_new_proposal(coarse):
    world = coarse
    order = file(world)
    assert order.location_precision == LocationPrecision.STREET and order.grid_id is None
    before_unit, before_version = order.proposed_unit_id, order.version
    lng, lat = world.point("a")
    done = relocate(world, order, lng=lng, lat=lat, reason="电话核实")

    fresh = WorkOrder.objects.get(pk=order.pk)
    grid, comm = world.grids[0], world.communities[0]
    assert fresh.location_precision == LocationPrecision.GRID
    assert (fresh.lng, fresh.lat) == (lng, lat)
    assert (fresh.grid_id, fresh.community_id) == (grid.pk, comm.pk)
    assert (fresh.district_code, fresh.street_code, fresh.area_code) == ("440104", world.streets[0].code, grid.code)
    assert comm.name in fresh.area_label and grid.name in fresh.area_label
    assert fresh.version == before_version + 1 and done.version == fresh.version
    assert fresh.state == State.SUBMITTED
    # Routed again on the new place: what routing says for the grid, no longer the street's proposal.
    expected = route_for_order(fresh, now=T1)
    assert fresh.proposed_unit_id == expected.unit_id and fresh.routing == expected.as_dict()
    assert fresh.proposed_unit_id != before_unit

    step = Transition.objects.get(order=order, action="relocated")
    assert step.actor == world.users["operator"] and step.from_state == step.to_state == State.SUBMITTED
    assert step.data["old"]["location_precision"] == "street" and step.data["old"]["grid_id"] is None
    assert step.data["new"]["grid_id"] == grid.pk and step.data["new"]["community_code"] == comm.code
    assert step.data["rerouted"] is True and step.data["old_proposed_unit_id"] == before_unit
    assert "北京街道" in step.note and grid.name in step.note and "电话核实" in step.note
    audit = AuditEntry.objects.get(action="dispatch.order.relocated", target_id=str(order.pk))
    assert audit.data["old"]["area_code"] == world.streets[0].code and audit.data["new"]["area_code"] == grid.code
    assert audit.new["version"] == fresh.version


def test_after_dispatch_the_place_is_only_recorded(coarse):
    world = coarse
    order = file(world)
    order = work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["street_a"].pk,
                                version=order.version, now=T0)
    proposed, lead, routing = order.proposed_unit_id, order.lead_unit_id, order.routing
    relocate(world, order, lng=world.point("a")[0], lat=world.point("a")[1])
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert fresh.location_precision == LocationPrecision.GRID and fresh.grid_id == world.grids[0].pk
    assert fresh.state == State.DISPATCHED and fresh.lead_unit_id == lead
    assert fresh.proposed_unit_id == proposed and fresh.routing == routing
    assert fresh.assignments.count() == 1
    step = Transition.objects.get(order=order, action="relocated")
    assert step.data["rerouted"] is False and "proposed_unit_id" not in step.data
    assert step.unit_id == lead


def test_a_stale_version_is_a_conflict_and_changes_nothing(coarse):
    world = coarse
    order = file(world)
    with pytest.raises(DomainError) as exc:
        relocate(world, order, lng=world.point("a")[0], lat=world.point("a")[1], version=order.version + 1)
    assert (exc.value.code, exc.value.status) == ("dispatch.stale", 409)
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert fresh.location_precision == LocationPrecision.STREET and fresh.version == order.version
    assert not Transition.objects.filter(order=order, action="relocated").exists()


def test_a_point_outside_the_known_division_needs_the_tick_and_a_note(coarse):
    world = coarse
    order = file(world)  # 北京街道
    lng, lat = world.point("b")  # in 人民街道
    with pytest.raises(DomainError) as exc:
        relocate(world, order, lng=lng, lat=lat)
    assert (exc.value.code, exc.value.status, exc.value.field) == ("dispatch.outside_division", 422, "location")
    assert "北京街道" in exc.value.message and "地点不在原区域" in exc.value.message
    with pytest.raises(DomainError) as exc:
        relocate(world, order, lng=lng, lat=lat, outside_division=True)
    assert (exc.value.code, exc.value.field) == ("dispatch.required", "reason")
    assert WorkOrder.objects.get(pk=order.pk).location_precision == LocationPrecision.STREET

    relocate(world, order, lng=lng, lat=lat, outside_division=True, reason="来电人说明在大新社区")
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert fresh.street_code == world.streets[1].code and fresh.grid_id == world.grids[1].pk
    step = Transition.objects.get(order=order, action="relocated")
    assert step.data["outside_division"] is True


def test_a_district_order_may_move_anywhere_in_its_district(coarse):
    world = coarse
    order = file(world, address="越秀区某某路1号")
    assert order.location_precision == LocationPrecision.DISTRICT
    relocate(world, order, lng=world.point("b")[0], lat=world.point("b")[1])
    assert WorkOrder.objects.get(pk=order.pk).grid_id == world.grids[1].pk


def test_an_address_is_used_when_it_reaches_a_grid(coarse):
    world = coarse
    order = file(world)
    with pytest.raises(DomainError) as exc:
        relocate(world, order, address="北京街道北京路")
    assert (exc.value.code, exc.value.field) == ("dispatch.address_too_coarse", "address")
    with pytest.raises(DomainError) as exc:
        relocate(world, order)
    assert exc.value.code == "dispatch.no_location"
    relocate(world, order, address="仓边社区12号楼")
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert fresh.grid_id == world.grids[0].pk and fresh.address == "仓边社区12号楼"
    assert fresh.location_precision == LocationPrecision.GRID


def test_refusals_by_role_precision_state_and_city(coarse):
    world = coarse
    order = file(world)
    point = dict(lng=world.point("a")[0], lat=world.point("a")[1])
    for who in ("comm_a", "resident", "street_a"):
        with pytest.raises(DomainError) as exc:
            relocate(world, order, who=who, **point)
        assert exc.value.status == 403, who
    with pytest.raises(DomainError) as exc:
        relocate(world, order, lng=world.point("outside")[0], lat=world.point("outside")[1])
    assert exc.value.code == "dispatch.outside_city"
    relocate(world, order, **point)
    with pytest.raises(DomainError) as exc:  # already a point
        relocate(world, order, **point)
    assert (exc.value.code, exc.value.status) == ("dispatch.already_placed", 409)
    precise = file(world, address="", n=2, lng=point["lng"], lat=point["lat"])
    with pytest.raises(DomainError) as exc:
        relocate(world, precise, **point)
    assert exc.value.code == "dispatch.already_placed"


def _login(user):
    c = Client()
    c.force_login(user)
    return c


def test_the_order_page_offers_the_form_and_saves_the_point(coarse):
    world = coarse
    order = file(world)
    op = _login(world.users["operator"])
    page = op.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="relocate-form"' in page and "地点不在原区域" in page and 'data-start="440104"' in page
    assert 'id="relocate-effect" data-state="submitted"' in page
    assert 'id="relocate-form"' not in _login(world.users["comm_a"]).get(f"/orders/{order.pk}/").content.decode()

    url = f"/orders/{order.pk}/relocate/"
    lng, lat = world.point("b")
    refused = op.post(url, {"version": order.version, "lng": lng, "lat": lat})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "不在工单原定位的" in html and 'id="relocate-form"' in html and str(lng) in html
    half = op.post(url, {"version": order.version, "lng": lng})
    assert half.status_code == 400 and "请同时填写经度和纬度" in half.content.decode()

    lng, lat = world.point("a")
    done = op.post(url, {"version": order.version, "lng": lng, "lat": lat, "reason": "核实"})
    assert done.status_code == 302 and done["Location"] == f"/orders/{order.pk}/"
    after = op.get(done["Location"]).content.decode()
    assert "已按新位置重新生成建议承办单位" in after and world.grids[0].name in after
    assert 'id="relocate-form"' not in after and 'data-precision' not in after
    assert 'data-action="relocated"' in after and "核实位置" in after
    stale = op.post(url, {"version": order.version, "lng": lng, "lat": lat})
    assert stale.status_code == 409


def test_the_page_says_a_dispatched_order_is_not_rerouted(coarse):
    world = coarse
    order = file(world)
    work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["street_a"].pk,
                        version=order.version, now=T0)
    page = _login(world.users["dispatcher"]).get(f"/orders/{order.pk}/").content.decode()
    assert 'data-state="dispatched"' in page and "不会重新派单" in page


def test_the_api_relocates_with_the_version(coarse):
    world = coarse
    order = file(world)
    c = _login(world.users["dispatcher"])
    url = f"/api/v1/dispatch/orders/{order.code}/relocate"
    lng, lat = world.point("b")

    def post(body):
        return c.post(url, data=json.dumps(body), content_type="application/json")

    r = post({"version": order.version, "lng": lng, "lat": lat})
    assert r.status_code == 422 and r.json()["code"] == "dispatch.outside_division"
    r = post({"version": order.version, "lng": lng, "lat": lat, "outside_division": True, "reason": "在人民街道"})
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["area_code"] == world.grids[1].code and out["version"] == order.version + 1
    assert out["timeline"][-1]["action"] == "relocated"
    assert post({"version": order.version, "lng": lng, "lat": lat}).status_code == 409
    other = _login(world.users["comm_b"])
    r = other.post(url, data=json.dumps({"version": out["version"], "lng": lng, "lat": lat}),
                   content_type="application/json")
    assert r.status_code in (403, 404)
