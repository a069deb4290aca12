"""Intake by channel: an operator naming the handling unit at intake (override with a reason), and a
grid worker's patrol report, which must lie in the worker's own territory."""

import pytest

from huying.core.audit import AuditEntry
from huying.core.errors import DomainError
from huying.dispatch.models import Assignment, IdempotencyKey, State, Transition, WorkOrder
from huying.dispatch.services import work_order_create, work_orders_create_many

from .conftest import at
from .images import PNG_1x1

T0 = at(2026, 3, 2, 10, 0)  # a Monday


def nothing_stored() -> bool:
    return (WorkOrder.objects.count(), IdempotencyKey.objects.count(), Transition.objects.count(),
            AuditEntry.objects.filter(action__startswith="dispatch.").count()) == (0, 0, 0, 0)


def call(world, **kw):
    """A hotline call at point a (routing proposes community a), taken by the operator."""
    lng, lat = kw.pop("point", world.point("a"))
    args = dict(channel="hotline", subject="Q010101", request_type="complaint", title="占道经营",
                description="商铺占用人行道", lng=lng, lat=lat, reporter_phone="020-83331234",
                actor=world.users["operator"], idempotency_key="call-1", now=T0)
    args.update(kw)
    return args


# -- operator override at intake ------------------------------------------------------------------

def test_an_operator_names_another_unit_with_a_reason_and_the_order_is_dispatched_there(world):
    operator, dept = world.users["operator"], world.units["dept"]
    order = work_order_create(**call(world, unit=dept.pk, override_reason="占道经营归城管执法"))
    assert order.state == State.DISPATCHED and order.version == 2
    assert order.lead_unit_id == dept.pk and order.handling_level == "department"
    assert order.proposed_unit_id == world.units["community_a"].pk
    assert order.response_due is not None and order.resolve_due is not None
    a = Assignment.objects.get(order=order)
    assert (a.unit_id, a.override_reason, a.dispatched_by_id) == (dept.pk, "占道经营归城管执法", operator.pk)
    steps = list(Transition.objects.filter(order=order).order_by("id"))
    assert [s.action for s in steps] == ["created", "dispatched"]
    assert steps[1].actor_id == operator.pk and steps[1].note == "占道经营归城管执法"
    assert steps[1].data["override"] is True and steps[1].data["at_intake"] is True
    audit = AuditEntry.objects.get(action="dispatch.order.dispatched")
    assert audit.actor_id == operator.pk and audit.reason == "占道经营归城管执法" and audit.data["override"] is True


def test_naming_the_proposed_unit_needs_no_reason_and_is_no_override(world):
    community = world.units["community_a"]
    order = work_order_create(**call(world, unit=community))
    assert order.state == State.DISPATCHED and order.lead_unit_id == community.pk
    assert Assignment.objects.get(order=order).override_reason == ""
    step = Transition.objects.get(order=order, action="dispatched")
    assert step.data["override"] is False and step.actor_id == world.users["operator"].pk


@pytest.mark.parametrize("over, code, status, field", [
    ({"unit": "dept"}, "dispatch.override_reason_required", 400, "override_reason"),
    ({"unit": "street_b", "override_reason": "指定人民街道"}, "dispatch.unit_not_here", 400, "unit"),
    ({"unit": 999999, "override_reason": "不存在"}, "dispatch.unknown_unit", 400, "unit"),
    ({"unit": "dept", "override_reason": "x" * 256}, "core.text.too_long", 400, "override_reason"),
    ({"unit": "dept", "override_reason": "居民不能指定", "channel": "web", "actor": "resident"},
     "dispatch.forbidden", 403, "unit"),
])
def test_a_bad_override_is_refused_and_stores_nothing(world, over, code, status, field):
    over = dict(over)
    if isinstance(over.get("unit"), str):
        over["unit"] = world.units[over["unit"]].pk
    if "actor" in over:
        over["actor"] = world.users[over["actor"]]
    with pytest.raises(DomainError) as exc:
        work_order_create(**call(world, **over))
    assert (exc.value.code, exc.value.status, exc.value.field) == (code, status, field)
    assert nothing_stored()


def test_a_district_operator_cannot_name_a_unit_outside_their_district(world):
    """Territory first: an operator seated at a street office names units for that street only."""
    from huying.people.models import RoleCode
    from huying.people.services import membership_grant, user_create

    seat = user_create(username="street-b-operator", password="x", display_name="街道话务", actor=None,
                       check_password=False)
    membership_grant(seat, unit=world.units["street_b"], role_code=RoleCode.OPERATOR, actor=None)
    with pytest.raises(DomainError) as exc:
        work_order_create(**call(world, actor=seat, unit=world.units["dept"].pk, override_reason="城管"))
    assert exc.value.status == 403 and exc.value.field == "unit"
    assert nothing_stored()


def test_the_override_is_part_of_the_idempotent_body(world):
    dept = world.units["dept"].pk
    first = work_order_create(**call(world, unit=dept, override_reason="归城管"))
    assert work_order_create(**call(world, unit=dept, override_reason="归城管")).pk == first.pk
    with pytest.raises(DomainError) as exc:
        work_order_create(**call(world, unit=world.units["street_a"].pk, override_reason="归街道"))
    assert exc.value.code == "dispatch.idempotency_mismatch"
    with pytest.raises(DomainError):
        work_order_create(**call(world))  # the same call without the override is another body
    assert WorkOrder.objects.count() == 1 and Assignment.objects.count() == 1


def test_the_batch_takes_overrides_as_the_single_path_does(world, monkeypatch):
    from huying.dispatch.services import intake

    monkeypatch.setattr(intake, "locate_many", lambda points: [None] * len(points))
    dept = world.units["dept"].pk
    single = work_order_create(**call(world, unit=dept, override_reason="归城管"))
    items = [{k: v for k, v in call(world, unit=dept, override_reason="归城管", idempotency_key=f"b-{n}").items()
              if k not in ("actor", "now")} for n in (1, 2)]
    batch = work_orders_create_many(items, actor=world.users["operator"], now=T0)
    for order in batch:
        assert (order.state, order.lead_unit_id, order.version) == (single.state, single.lead_unit_id, 2)
        a = Assignment.objects.get(order=order)
        assert (a.override_reason, a.dispatched_by_id) == ("归城管", world.users["operator"].pk)
        step = Transition.objects.get(order=order, action="dispatched")
        assert step.note == "归城管" and step.data["override"] is True
    bad = [items[0] | {"idempotency_key": "b-3"}, items[1] | {"idempotency_key": "b-4", "override_reason": ""}]
    with pytest.raises(DomainError) as exc:
        work_orders_create_many(bad, actor=world.users["operator"], now=T0)
    assert exc.value.code == "dispatch.override_reason_required" and exc.value.details["index"] == 1
    assert WorkOrder.objects.count() == 3


# -- patrol reports -------------------------------------------------------------------------------

def patrol(world, **kw):
    lng, lat = kw.pop("point", world.point("a"))
    args = dict(channel="patrol", subject="E0104", title="道路不洁", description="垃圾散落", lng=lng, lat=lat,
                photos=[("scene.png", PNG_1x1)], actor=world.users["grid_a"], idempotency_key="p-1", now=T0)
    args.update(kw)
    return args


def test_a_grid_worker_reports_in_their_grid(world):
    order = work_order_create(**patrol(world))
    assert order.channel == "patrol" and order.grid_id == world.grids[0].pk
    assert order.created_by_id == world.users["grid_a"].pk and order.reporter_id is None
    assert order.proposed_unit_id == world.units["grid_a"].pk  # events go to the grid that found them
    assert order.attachments.get().kind == "report"


def test_a_grid_worker_cannot_report_outside_their_grid(world):
    with pytest.raises(DomainError) as exc:
        work_order_create(**patrol(world, point=world.point("b")))
    assert (exc.value.code, exc.value.status, exc.value.field) == ("dispatch.outside_territory", 403, "location")
    assert "不在您负责的网格" in exc.value.message
    assert nothing_stored()


def test_staff_without_territory_patrol_the_whole_city(world):
    """A citywide department's inspectors (条) have no territory of their own to be kept inside."""
    order = work_order_create(**patrol(world, actor=world.users["dept"], point=world.point("b")))
    assert order.grid_id == world.grids[1].pk
