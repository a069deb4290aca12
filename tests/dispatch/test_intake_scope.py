"""Hotline intake follows the seat's territory: the city's 12345 centre takes calls from anywhere, a
district or street seat only for its own district or street, a seat without territory none — in the
service, so the page, the API and the batch path answer alike."""

import pytest

from huying.core.errors import DomainError
from huying.dispatch.models import WorkOrder
from huying.dispatch.services import work_order_create, work_orders_create_many
from huying.people.models import RoleCode
from huying.people.services import membership_grant, user_create

from .conftest import PASSWORD, at
from .test_intake_channels import call, nothing_stored

T0 = at(2026, 3, 2, 10, 0)


def seat(world, unit_key: str, role=RoleCode.DISPATCHER):
    user = user_create(username=f"seat-{unit_key}-{role}", password=PASSWORD, display_name="座席", actor=None,
                       check_password=False)
    membership_grant(user, unit=world.units[unit_key], role_code=role, actor=None)
    return user


def test_a_street_dispatcher_cannot_file_a_hotline_order_for_another_street(world):
    street_a = seat(world, "street_a")
    with pytest.raises(DomainError) as exc:
        work_order_create(**call(world, actor=street_a, point=world.point("b")))
    e = exc.value
    assert (e.code, e.status, e.field) == ("dispatch.outside_territory", 403, "location")
    # The message names the caller's place and the seat's own territory.
    assert world.streets[1].name in e.message and world.streets[0].name in e.message
    assert nothing_stored()
    # Their own street is theirs to take.
    order = work_order_create(**call(world, actor=street_a, idempotency_key="call-2"))
    assert order.street_code == world.streets[0].code and order.created_by_id == street_a.pk


def test_the_same_rule_for_operators_and_the_batch_path(world, monkeypatch):
    street_a = seat(world, "street_a", RoleCode.OPERATOR)
    items = [{k: v for k, v in call(world, idempotency_key=f"b-{n}", point=world.point(p)).items()
              if k not in ("actor", "now")} for n, p in ((1, "a"), (2, "b"))]
    with pytest.raises(DomainError) as exc:
        work_orders_create_many(items, actor=street_a, now=T0)
    assert exc.value.code == "dispatch.outside_territory" and exc.value.details["index"] == 1
    assert nothing_stored()


def test_the_city_centre_and_the_district_take_calls_for_their_whole_territory(world):
    district = seat(world, "district")
    for n, p in enumerate("ab"):
        assert work_order_create(**call(world, actor=district, idempotency_key=f"d-{n}", point=world.point(p)))
        assert work_order_create(**call(world, idempotency_key=f"c-{n}", point=world.point(p)))  # the 12345 operator
    assert WorkOrder.objects.count() == 4


def test_a_seat_without_territory_takes_no_hotline_calls(world):
    dept = seat(world, "dept")  # a citywide department (条): no territory of its own
    with pytest.raises(DomainError) as exc:
        work_order_create(**call(world, actor=dept))
    assert (exc.value.code, exc.value.status) == ("dispatch.outside_territory", 403)
    assert nothing_stored()


def test_the_intake_page_shows_the_refusal(client, world):
    from .test_pages import report_data

    street_a = seat(world, "street_a")
    assert client.login(username=street_a.username, password=PASSWORD)
    lng, lat = world.point("b")
    r = client.post("/orders/intake/", report_data(world, lng=lng, lat=lat, reporter_phone="020-83331234"))
    assert r.status_code == 403 and "不在您的辖区" in r.content.decode()
    assert WorkOrder.objects.count() == 0
