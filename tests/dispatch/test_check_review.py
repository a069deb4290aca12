"""Closing the loop on a unit's result: the unit leader's review (审核) and the grid worker's on-site
check (核查), their scope, versions, audit rows and clocks (dispatch/services/checks.py)."""

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.core.worktime import get_calendar
from huying.dispatch import reference, selectors, selectors_check
from huying.dispatch.models import Attachment, DeadlineState, State, Subject, Transition
from huying.dispatch.open311.selectors import status_of
from huying.dispatch.services import (
    deadline_sweep,
    work_order_accept,
    work_order_callback,
    work_order_check_fail,
    work_order_check_pass,
    work_order_dispatch,
    work_order_resolve,
    work_order_review_approve,
    work_order_review_return,
    work_order_set_onsite_check,
)
from huying.dispatch.services.checks import checker_covers
from huying.dispatch.workflow import CLOCK_RUNNING, WITH_UNIT
from huying.insight.facts import IDX, fact_of
from huying.people.models import RoleCode, UnitKind
from huying.people.services import membership_grant, unit_create, user_create
from tests.people.conftest import territory  # noqa: F401  (the small demo city)

from .conftest import at
from .images import PNG_1x1

T0 = at(2026, 3, 2, 10, 0)  # a Monday


@pytest.fixture
def people(world):
    """A leader for each community unit, and a grid worker of the other street's grid."""
    u = dict(world.users)
    for name, unit_key in [("leader_a", "community_a"), ("leader_b", "community_b")]:
        user = user_create(username=f"x-{name}", password="Huying-test-2026", display_name=name, actor=None,
                           check_password=False)
        membership_grant(user, unit=world.units[unit_key], role_code=RoleCode.UNIT_LEADER, actor=None)
        u[name] = user
    grid_b = unit_create(code="t-grid-b", name=world.grids[1].name, kind=UnitKind.TERRITORIAL, grid=world.grids[1],
                         actor=None)
    u["grid_b"] = user_create(username="x-grid-b", password="Huying-test-2026", display_name="grid_b", actor=None,
                              check_password=False)
    membership_grant(u["grid_b"], unit=grid_b, role_code=RoleCode.GRID_WORKER, actor=None)
    return u


def _reviews(world):
    unit = world.units["community_a"]
    unit.review_results = True
    unit.save(update_fields=["review_results"])


def _checks(code="Q01"):
    """Turn the on-site check on for a subject (here an ancestor of the test's Q010101)."""
    s = Subject.objects.get(code=code)
    s.onsite_check = True
    s.save(update_fields=["onsite_check"])
    reference.reset()


def _accepted(world, report):
    u = world.users
    order = report()
    order = work_order_dispatch(order, actor=u["dispatcher"], version=order.version, now=T0 + timedelta(minutes=5))
    assert order.lead_unit_id == world.units["community_a"].pk
    return work_order_accept(order, actor=u["comm_a"], version=order.version, now=T0 + timedelta(hours=1))


def steps(order):
    return [(t.from_state, t.to_state, t.action) for t in Transition.objects.filter(order=order).order_by("id")]


def test_review_then_check_fail_rework_then_pass_then_callback(world, report, people):
    _reviews(world)
    _checks()
    u = people
    order = _accepted(world, report)
    due = order.resolve_due
    reported = T0 + timedelta(days=1)  # Tue 10:00
    order = work_order_resolve(order, actor=u["comm_a"], result="已修复", version=order.version, now=reported)
    assert order.state == State.REVIEWING and order.resolved_at == reported
    assert order.deadline_state == DeadlineState.OK
    assert order in selectors_check.review_queue(actor=u["leader_a"])
    assert order not in selectors_check.review_queue(actor=u["leader_b"])

    order = work_order_review_approve(order, actor=u["leader_a"], note="可以", version=order.version,
                                      now=reported + timedelta(hours=1))
    assert order.state == State.CHECKING
    assert order in selectors_check.check_queue(actor=u["grid_a"])
    assert order not in selectors_check.check_queue(actor=u["grid_b"])

    failed_at = reported + timedelta(days=1)  # Wed 10:00: one working day after the report
    order = work_order_check_fail(order, actor=u["grid_a"], note="地砖仍松动", photos=[("site.png", PNG_1x1)],
                                  version=order.version, now=failed_at)
    assert order.state == State.ACCEPTED and order.rework_count == 1 and order.resolved_at is None
    # Review and check time is not charged to the unit: its deadline moves by that working time.
    paused = get_calendar().working_seconds_between(reported, failed_at)
    assert paused > 0
    assert order.resolve_due == get_calendar().add(due, hours=paused / 3600)
    assert order.attachments.filter(kind=Attachment.Kind.CHECK).count() == 1

    order = work_order_resolve(order, actor=u["comm_a"], result="已重新铺设", version=order.version,
                               now=failed_at + timedelta(hours=2))
    assert order.state == State.REVIEWING
    order = work_order_review_approve(order, actor=u["leader_a"], version=order.version,
                                      now=failed_at + timedelta(hours=3))
    order = work_order_check_pass(order, actor=u["grid_a"], note="现场已整改", version=order.version,
                                  now=failed_at + timedelta(hours=4))
    assert order.state == State.RESOLVED
    order = work_order_callback(order, actor=u["operator"], satisfaction="satisfied", version=order.version,
                                now=failed_at + timedelta(days=1))
    assert order.state == State.CLOSED

    assert steps(order)[3:] == [
        ("accepted", "reviewing", "review_requested"),
        ("reviewing", "checking", "review_approved"),
        ("checking", "accepted", "check_failed"),
        ("accepted", "reviewing", "review_requested"),
        ("reviewing", "checking", "review_approved"),
        ("checking", "resolved", "resolved"),
        ("resolved", "closed", "closed"),
    ]
    last = Transition.objects.filter(order=order, action="resolved").get()
    assert last.data["via"] == "check" and last.data["on_time"] is True and last.actor_id == u["grid_a"].pk
    assert [a.action for a in audit_trail(order)][3:] == [
        "dispatch.order.review_requested", "dispatch.order.review_approved", "dispatch.order.check_failed",
        "dispatch.order.review_requested", "dispatch.order.review_approved", "dispatch.order.resolved",
        "dispatch.order.closed",
    ]


def test_leader_sends_back_with_a_reason_not_counted_as_rework(world, report, people):
    _reviews(world)
    u = people
    order = _accepted(world, report)
    order = work_order_resolve(order, actor=u["comm_a"], result="已处理", version=order.version, now=T0 + timedelta(hours=2))
    with pytest.raises(DomainError) as exc:
        work_order_review_return(order, actor=u["leader_a"], reason="  ", version=order.version)
    assert exc.value.field == "reason"
    order = work_order_review_return(order, actor=u["leader_a"], reason="照片不清楚，请补拍", version=order.version,
                                     now=T0 + timedelta(hours=3))
    assert order.state == State.ACCEPTED and order.rework_count == 0
    step = Transition.objects.filter(order=order).order_by("-id").first()
    assert (step.action, step.note, step.actor_id) == ("review_returned", "照片不清楚，请补拍", u["leader_a"].pk)
    assert audit_trail(order).last().action == "dispatch.order.review_returned"
    # The resident's tracking page does not show the unit's internal send-back.
    track = selectors.work_order_track(code=order.code)
    assert "review_returned" not in [s["action"] for s in track["steps"]]
    # Without a check, the leader's approval sends the result straight to the callback.
    order = work_order_resolve(order, actor=u["comm_a"], result="已补拍", version=order.version, now=T0 + timedelta(hours=4))
    order = work_order_review_approve(order, actor=u["leader_a"], version=order.version, now=T0 + timedelta(hours=5))
    assert order.state == State.RESOLVED
    assert Transition.objects.filter(order=order, action="resolved").get().data["via"] == "review"


def test_without_review_or_check_the_result_goes_straight_to_the_callback(world, report, people):
    order = _accepted(world, report)
    order = work_order_resolve(order, actor=people["comm_a"], result="已修复", version=order.version,
                               now=T0 + timedelta(hours=2))
    assert order.state == State.RESOLVED
    assert steps(order)[-1] == ("accepted", "resolved", "resolved")


def test_check_only_is_judged_on_time_at_the_units_report(world, report, people):
    _checks()
    u = people
    order = _accepted(world, report)
    reported = order.resolve_due - timedelta(minutes=5)
    order = work_order_resolve(order, actor=u["comm_a"], result="已修复", version=order.version, now=reported)
    assert order.state == State.CHECKING
    assert steps(order)[-1] == ("accepted", "checking", "check_requested")
    # The sweep runs past the deadline: a result waiting for its check is not flagged against the unit.
    assert State.CHECKING not in CLOCK_RUNNING and State.CHECKING in WITH_UNIT
    counts = deadline_sweep(now=reported + timedelta(days=3))
    order.refresh_from_db()
    assert counts["overdue"] == 0 and order.deadline_state == DeadlineState.WARNING
    order = work_order_check_pass(order, actor=u["grid_a"], version=order.version, now=reported + timedelta(days=3))
    assert order.state == State.RESOLVED
    step = Transition.objects.filter(order=order, action="resolved").get()
    assert step.data["on_time"] is True and step.data["check"] == "passed"


def test_reviewing_order_is_not_swept_overdue(world, report, people):
    _reviews(world)
    order = _accepted(world, report)
    order = work_order_resolve(order, actor=people["comm_a"], result="已修复", version=order.version,
                               now=T0 + timedelta(hours=2))
    counts = deadline_sweep(now=order.resolve_due + timedelta(days=1))
    order.refresh_from_db()
    assert counts == {"warning": 0, "overdue": 0, "response_overdue": 0}
    assert order.state == State.REVIEWING and order.deadline_state == DeadlineState.OK


def test_scope_refusals(world, report, people):
    _reviews(world)
    _checks()
    u = people
    order = _accepted(world, report)
    order = work_order_resolve(order, actor=u["comm_a"], result="已修复", version=order.version, now=T0 + timedelta(hours=2))
    for who in ("leader_b", "comm_a", "grid_a", "dispatcher"):  # another unit's leader; the handler; others
        with pytest.raises(DomainError) as exc:
            work_order_review_approve(order, actor=u[who], version=order.version)
        assert exc.value.status == 403, who
    # A grid worker cannot act on a result still under review (wrong state: 409, not a silent pass).
    with pytest.raises(DomainError) as exc:
        work_order_check_pass(order, actor=u["grid_a"], version=order.version)
    assert exc.value.status == 409
    order = work_order_review_approve(order, actor=u["leader_a"], version=order.version, now=T0 + timedelta(hours=3))
    for who in ("grid_b", "comm_a", "leader_a"):  # a grid worker of another grid; the unit itself
        with pytest.raises(DomainError) as exc:
            work_order_check_fail(order, actor=u[who], note="不符", version=order.version)
        assert exc.value.status == 403, who
    with pytest.raises(DomainError) as exc:
        work_order_check_fail(order, actor=u["grid_a"], note="", version=order.version)
    assert exc.value.field == "note"
    assert order.pk not in [o.pk for o in selectors_check.check_queue(actor=u["grid_b"])]
    assert selectors_check.check_review_actions(order, actor=u["grid_b"]) == []
    assert selectors_check.check_review_actions(order, actor=u["grid_a"]) == ["check_pass", "check_fail"]


def test_a_grid_worker_covers_their_grid_and_community_level_orders_in_it():
    grid_worker = ["440104001001001"]
    in_grid = SimpleNamespace(area_code="440104001001001", grid_id=1)
    other_grid = SimpleNamespace(area_code="440104001001002", grid_id=2)
    community_only = SimpleNamespace(area_code="440104001001", grid_id=None)
    other_community = SimpleNamespace(area_code="440104001002", grid_id=None)
    nowhere = SimpleNamespace(area_code="", grid_id=None)
    assert checker_covers(grid_worker, in_grid)
    assert not checker_covers(grid_worker, other_grid)
    assert checker_covers(grid_worker, community_only)
    assert not checker_covers(grid_worker, other_community)
    assert not checker_covers(grid_worker, nowhere)


def test_stale_versions_are_conflicts(world, report, people):
    _reviews(world)
    _checks()
    u = people
    order = _accepted(world, report)
    order = work_order_resolve(order, actor=u["comm_a"], result="已修复", version=order.version, now=T0 + timedelta(hours=2))
    with pytest.raises(DomainError) as exc:
        work_order_review_approve(order, actor=u["leader_a"], version=order.version - 1)
    assert (exc.value.status, exc.value.code) == (409, "dispatch.stale")
    order = work_order_review_approve(order, actor=u["leader_a"], version=order.version, now=T0 + timedelta(hours=3))
    with pytest.raises(DomainError) as exc:
        work_order_check_pass(order, actor=u["grid_a"], version=order.version - 1)
    assert (exc.value.status, exc.value.code) == (409, "dispatch.stale")
    order.refresh_from_db()
    assert order.state == State.CHECKING


def test_dispatcher_asks_for_a_check_on_one_order(world, report, people):
    u = people
    order = _accepted(world, report)
    with pytest.raises(DomainError) as exc:
        work_order_set_onsite_check(order, actor=u["comm_a"], required=True, version=order.version)
    assert exc.value.status == 403
    order = work_order_set_onsite_check(order, actor=u["dispatcher"], required=True, reason="多次投诉",
                                        version=order.version, now=T0 + timedelta(hours=2))
    assert order.onsite_check and order.state == State.ACCEPTED
    assert audit_trail(order).last().action == "dispatch.order.check_required"
    order = work_order_resolve(order, actor=u["comm_a"], result="已修复", version=order.version, now=T0 + timedelta(hours=3))
    assert order.state == State.CHECKING
    with pytest.raises(DomainError) as exc:
        work_order_set_onsite_check(order, actor=u["dispatcher"], required=False, version=order.version)
    assert exc.value.status == 409


def test_insight_counts_a_failed_check_as_rework_and_results_in_review_as_open_not_overdue():
    order = {"id": 1, "created_at": T0, "area_code": "440104001001001", "subject_code": "Q010101",
             "state": "checking", "deadline_state": "overdue", "response_overdue": False, "lead_unit_id": 7,
             "version": 9}
    f = fact_of(order, [{"action": "check_failed", "unit_id": 7, "data": {"check": "failed"}}])
    assert f.area[IDX["reworks"]] == 1 and f.units[7][IDX["reworks"]] == 1
    assert f.area[IDX["open"]] == 1 and f.area[IDX["overdue"]] == 0
    assert fact_of({**order, "state": "reviewing"}, []).area[IDX["open"]] == 1


def test_open311_keeps_results_under_review_or_check_open():
    assert status_of(State.REVIEWING) == "open" and status_of(State.CHECKING) == "open"
    assert status_of(State.RESOLVED) == "closed"


URL = "/api/v1/dispatch"


def _post(client, path, body):
    return client.post(f"{URL}{path}", data=json.dumps(body), content_type="application/json")


def test_api_review_and_check_with_versions(world, report, people):
    _reviews(world)
    _checks()
    u = people
    order = _accepted(world, report)
    order = work_order_resolve(order, actor=u["comm_a"], result="已修复", version=order.version, now=T0 + timedelta(hours=2))
    leader, worker, other = Client(), Client(), Client()
    leader.force_login(u["leader_a"])
    worker.force_login(u["grid_a"])
    other.force_login(u["leader_b"])
    code, v = order.code, order.version
    # the order's actions name what each may do now: the leader reviews, another unit's leader nothing
    assert {"review_approve", "review_return"} <= set(leader.get(f"{URL}/orders/{code}").json()["actions"])
    assert "review_approve" not in other.get(f"{URL}/orders/{code}").json().get("actions", [])
    r = _post(leader, f"/orders/{code}/review/approve", {"version": v - 1})
    assert r.status_code == 409 and r.json()["code"] == "dispatch.stale"
    r = _post(other, f"/orders/{code}/review/approve", {"version": v})
    assert r.status_code in (403, 404)
    r = _post(leader, f"/orders/{code}/review/return", {"version": v, "reason": ""})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = _post(leader, f"/orders/{code}/review/approve", {"version": v, "note": "同意"})
    assert r.status_code == 200 and r.json()["state"] == "checking"
    v = r.json()["version"]
    assert {"check_pass", "check_fail"} <= set(worker.get(f"{URL}/orders/{code}").json()["actions"])
    r = _post(worker, f"/orders/{code}/check/fail", {"version": v, "note": ""})
    assert r.status_code == 400 and r.json()["field"] == "note"
    r = _post(worker, f"/orders/{code}/check/fail", {"version": v, "note": "未整改"})
    assert r.status_code == 200 and r.json()["state"] == "accepted" and r.json()["rework_count"] == 1
    assert [s["action"] for s in r.json()["timeline"]][-1] == "check_failed"


@pytest.mark.django_db
def test_demo_gives_the_unit_leader_and_the_grid_worker_work(territory):  # noqa: F811
    from huying.dispatch.seed import check_review_demo_seed, dispatch_seed
    from huying.people.demo import demo_org_seed
    from huying.people.models import User

    demo_org_seed(password="demo-pass-2026")
    dispatch_seed()
    done = check_review_demo_seed()
    assert done["subjects"] >= 4 and done["units"] == 1 and done["orders"] == 3
    assert Subject.objects.get(code="E0102").onsite_check
    leader, worker = User.objects.get(username="unitleader"), User.objects.get(username="gridworker")
    assert selectors_check.review_queue(actor=leader).count() == 2
    assert selectors_check.check_queue(actor=worker).count() == 1
    assert check_review_demo_seed() == {"subjects": 0, "units": 0, "orders": 0}  # once: admins own it after
