"""Scope: each role reads only its own orders; phones are masked except for operators and handlers."""

import pytest

from huying.core.errors import DomainError
from huying.dispatch.selectors import (
    available_actions,
    dispatcher_board,
    queue_for_unit,
    reporter_for,
    work_order_get,
    work_order_list,
    work_order_timeline,
    work_order_track,
)
from huying.dispatch.services import (
    extension_request,
    work_order_accept,
    work_order_dispatch,
    work_order_return,
)

from .conftest import at

T0 = at(2026, 3, 2, 10)


@pytest.fixture
def two_orders(world, report):
    a = work_order_dispatch(report(), actor=world.users["dispatcher"], now=T0)
    b = work_order_dispatch(report(point=world.point("b"), actor=world.users["resident2"]),
                            actor=world.users["dispatcher"], now=T0)
    return a, b


def codes(qs):
    return sorted(o.code for o in qs)


def test_each_role_sees_only_its_territory_or_its_own(world, two_orders):
    a, b = two_orders
    u = world.users
    see = {name: codes(work_order_list(actor=u[name])) for name in u}
    both = sorted([a.code, b.code])
    assert see["operator"] == both and see["dispatcher"] == both and see["district"] == both
    assert see["street_a"] == [a.code] and see["comm_a"] == [a.code] and see["grid_a"] == [a.code]
    assert see["street_b"] == [b.code] and see["comm_b"] == [b.code]
    assert see["resident"] == [a.code] and see["resident2"] == [b.code]
    assert see["dept"] == []
    with pytest.raises(DomainError) as exc:
        work_order_get(actor=u["street_b"], code=a.code)
    assert exc.value.status == 404
    assert work_order_get(actor=u["street_a"], code=a.code).pk == a.pk


def test_a_department_sees_what_it_leads_or_co_handles(world, two_orders):
    a, b = two_orders
    u = world.users
    work_order_return(b, actor=u["comm_b"], reason="属城管职责", legal_basis="职责清单第3条", now=T0)
    work_order_dispatch(b, actor=u["dispatcher"], unit=world.units["dept"], reason="城管执法",
                        cohandlers=[world.units["street_b"]], now=T0)
    assert codes(work_order_list(actor=u["dept"])) == [b.code]
    assert codes(queue_for_unit(actor=u["street_b"], unit=world.units["street_b"])) == [b.code]
    assert codes(queue_for_unit(actor=u["dept"], unit=world.units["dept"])) == [b.code]
    with pytest.raises(DomainError):
        queue_for_unit(actor=u["dept"], unit=world.units["street_a"])


def test_filters_and_queue_order(world, report, two_orders):
    a, b = two_orders
    u = world.users
    c = work_order_dispatch(report(request_type="consult"), actor=u["dispatcher"], now=T0)
    assert codes(work_order_list(actor=u["dispatcher"], filters={"request_type": "consult"})) == [c.code]
    assert codes(work_order_list(actor=u["dispatcher"], filters={"area": world.streets[1].code})) == [b.code]
    assert codes(work_order_list(actor=u["dispatcher"], filters={"state": ["dispatched"], "q": a.code})) == [a.code]
    assert len(work_order_list(actor=u["dispatcher"], filters={"subject": "Q01"})) == 3
    assert [o.pk for o in queue_for_unit(actor=u["comm_a"], unit=world.units["community_a"])] == [c.pk, a.pk]


def test_phone_is_masked_except_for_operators_the_handler_and_the_reporter(world, two_orders):
    a, _b = two_orders
    u = world.users
    shown = {n: reporter_for(a, actor=u[n])["phone"] for n in ("operator", "comm_a", "resident", "dispatcher",
                                                                 "street_a")}
    assert shown["operator"] == shown["comm_a"] == shown["resident"] == "13812345678"
    assert shown["dispatcher"] == shown["street_a"] == "138****5678"
    assert reporter_for(a, actor=u["street_a"])["name"] == "张*"


def test_board_timeline_actions_and_tracking(world, report, two_orders):
    a, b = two_orders
    u = world.users
    fresh = report()
    work_order_return(b, actor=u["comm_b"], reason="不属本社区", legal_basis="职责清单", now=T0)
    a = work_order_accept(a, actor=u["comm_a"], now=T0)
    extension_request(a, actor=u["comm_a"], new_due=at(2026, 5, 1, 17), reason="需施工", now=T0)
    board = dispatcher_board(actor=u["dispatcher"])
    assert [o.pk for o in board["to_dispatch"]] == [fresh.pk]
    assert [o.pk for o in board["returned"]] == [b.pk]
    assert [e.order_id for e in board["extensions"]] == [a.pk]
    street_b_board = dispatcher_board(actor=u["street_b"])
    assert list(street_b_board["extensions"]) == [] and [o.pk for o in street_b_board["returned"]] == [b.pk]
    assert [t.action for t in work_order_timeline(a)] == ["created", "dispatched", "accepted", "extension_requested"]
    assert available_actions(a, actor=u["comm_a"]) == ["resolve", "suspend", "extension_request"]
    assert available_actions(a, actor=u["comm_b"]) == []
    assert available_actions(fresh, actor=u["dispatcher"]) == ["dispatch", "reject", "merge", "change_subject", "split"]
    assert available_actions(fresh, actor=u["operator"]) == ["reject", "merge", "change_subject"]
    tracked = work_order_track(code=a.code)
    assert tracked["state"] == "accepted" and [s["action"] for s in tracked["steps"]] == ["created", "dispatched",
                                                                                         "accepted"]
    assert "13812345678" not in str(tracked) and work_order_track(code="nope") is None
