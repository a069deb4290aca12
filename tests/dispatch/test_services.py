from datetime import timedelta

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.dispatch import signals
from huying.dispatch.models import (
    Assignment,
    Attachment,
    DeadlineState,
    IdempotencyKey,
    RoutingRule,
    State,
    Subject,
    Transition,
    WorkOrder,
)
from huying.dispatch.services import (
    work_order_accept,
    work_order_callback,
    work_order_change_subject,
    work_order_dispatch,
    work_order_redispatch,
    work_order_reject,
    work_order_resolve,
    work_order_resume,
    work_order_return,
    work_order_suspend,
)

from .conftest import at
from .images import PNG_1x1

T0 = at(2026, 3, 2, 10, 0)  # a Monday


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    got = []

    def rx(signal, **kw):
        got.append((kw.get("action") or kw.get("kind") or "created", kw["order_id"]))

    for s in (signals.order_created, signals.order_transitioned, signals.order_deadline):
        s.connect(rx, weak=False, dispatch_uid=f"test-{id(s)}")
    yield got
    for s in (signals.order_created, signals.order_transitioned, signals.order_deadline):
        s.disconnect(dispatch_uid=f"test-{id(s)}")


def timeline(order):
    return [(t.from_state, t.to_state, t.action) for t in Transition.objects.filter(order=order).order_by("id")]


@pytest.mark.parametrize("territory_mode", ["real", "fake"])
def test_resident_report_is_routed_to_its_community_and_runs_to_closed(world, report, sent,
                                                                       django_capture_on_commit_callbacks):
    u = world.users
    with django_capture_on_commit_callbacks(execute=True):
        order = report()
    assert order.state == State.SUBMITTED
    assert order.community_id == world.communities[0].pk
    assert order.area_code.startswith(world.streets[0].code)
    assert order.proposed_unit_id == world.units["community_a"].pk
    assert order.routing["level"] == "community"
    assert ("created", order.pk) in sent

    with django_capture_on_commit_callbacks(execute=True):
        order = work_order_dispatch(order, actor=u["dispatcher"], version=1, now=T0 + timedelta(minutes=5))
    assert order.state == State.DISPATCHED and order.lead_unit_id == world.units["community_a"].pk
    # 投诉: 15 working days from Mon 2026-03-02 10:05 → Mon 2026-03-23 10:05; response 1 working day.
    assert order.resolve_due == at(2026, 3, 23, 10, 5)
    assert order.response_due == at(2026, 3, 3, 10, 5)
    assert order.deadline_state == DeadlineState.OK
    assert ("dispatched", order.pk) in sent

    order = work_order_accept(order, actor=u["comm_a"], version=order.version, now=T0 + timedelta(hours=1))
    order = work_order_resolve(order, actor=u["comm_a"], result="已修复地砖", photos=[("done.png", PNG_1x1)],
                               version=order.version, now=T0 + timedelta(days=2))
    assert order.attachments.filter(kind=Attachment.Kind.RESULT).count() == 1
    order = work_order_callback(order, actor=u["operator"], satisfaction="satisfied", solved=True,
                                version=order.version, now=T0 + timedelta(days=3))
    assert order.state == State.CLOSED and order.closed_at == T0 + timedelta(days=3)
    assert timeline(order) == [
        ("", "submitted", "created"),
        ("submitted", "dispatched", "dispatched"),
        ("dispatched", "accepted", "accepted"),
        ("accepted", "resolved", "resolved"),
        ("resolved", "closed", "closed"),
    ]
    assert [a.action for a in audit_trail(order)] == [
        "dispatch.order.created", "dispatch.order.dispatched", "dispatch.order.accepted",
        "dispatch.order.resolved", "dispatch.order.closed",
    ]
    assert order.version == 5
    assert Assignment.objects.get(order=order).outcome == Assignment.Outcome.DONE
    assert order.callbacks.get().satisfaction == "satisfied"


def test_returned_order_is_redispatched_one_level_up_and_counts_against_the_returning_unit(world, report):
    u = world.users
    order = work_order_dispatch(report(), actor=u["dispatcher"], now=T0)
    with pytest.raises(DomainError) as exc:
        work_order_return(order, actor=u["comm_a"], reason="不属本社区职责", legal_basis="", now=T0)
    assert exc.value.field == "legal_basis" and exc.value.status == 400
    with pytest.raises(DomainError) as exc:
        work_order_return(order, actor=u["comm_b"], reason="x", legal_basis="y", now=T0)
    assert exc.value.status == 403
    order = work_order_return(order, actor=u["comm_a"], reason="属市政道路，非社区职责",
                              legal_basis="《广州市城市道路管理条例》第五条", version=order.version,
                              now=T0 + timedelta(hours=2))
    assert order.state == State.RETURNED and order.return_count == 1
    assert order.lead_unit_id is None and order.resolve_due is None
    returned = Assignment.objects.get(order=order)
    assert returned.outcome == Assignment.Outcome.RETURNED and returned.unit_id == world.units["community_a"].pk
    assert returned.return_basis.startswith("《广州市")

    # Without a unit the dispatcher's re-dispatch climbs past the returning community to the street;
    # the clocks start again for the new unit.
    t1 = at(2026, 3, 4, 14, 0)
    order = work_order_redispatch(order, actor=u["dispatcher"], version=order.version, now=t1)
    assert order.state == State.DISPATCHED and order.lead_unit_id == world.units["street_a"].pk
    assert order.dispatched_at == t1 and order.response_due == at(2026, 3, 5, 14, 0)
    # A binding final assignment (终审) needs a reason and cannot be returned again.
    with pytest.raises(DomainError) as exc:
        work_order_redispatch(order, actor=u["dispatcher"], unit=world.units["dept"], binding=True, now=t1)
    assert exc.value.field == "reason"
    order = work_order_redispatch(order, actor=u["dispatcher"], unit=world.units["dept"], binding=True,
                                  cohandlers=[world.units["street_a"]], reason="经审定属城管执法职责", now=t1)
    assert order.lead_unit_id == world.units["dept"].pk
    assert list(order.cohandlers.values_list("pk", flat=True)) == [world.units["street_a"].pk]
    with pytest.raises(DomainError) as exc:
        work_order_return(order, actor=u["dept"], reason="x", legal_basis="y", now=t1)
    assert exc.value.code == "dispatch.binding_assignment" and exc.value.status == 409
    assert timeline(order) == [
        ("", "submitted", "created"),
        ("submitted", "dispatched", "dispatched"),
        ("dispatched", "returned", "returned"),
        ("returned", "dispatched", "redispatched"),
        ("dispatched", "dispatched", "redispatched"),
    ]
    outcomes = list(Assignment.objects.filter(order=order).order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["returned", "reassigned", "active"]


def test_unsatisfied_callback_sends_it_back_as_counted_rework(world, report):
    u = world.users
    order = work_order_dispatch(report(), actor=u["dispatcher"], now=T0)
    order = work_order_accept(order, actor=u["comm_a"], now=T0)
    order = work_order_resolve(order, actor=u["comm_a"], result="已处理", now=T0 + timedelta(hours=3))
    order = work_order_callback(order, actor=u["operator"], satisfaction="unsatisfied", solved=False,
                                note="坑洼仍在", now=T0 + timedelta(days=1))
    assert order.state == State.ACCEPTED and order.rework_count == 1 and order.resolved_at is None
    order = work_order_resolve(order, actor=u["comm_a"], result="已重新铺设", now=T0 + timedelta(days=2))
    order = work_order_callback(order, actor=u["operator"], satisfaction="basically", solved=True,
                                now=T0 + timedelta(days=3))
    assert order.state == State.CLOSED and order.rework_count == 1
    assert [t[2] for t in timeline(order)][-4:] == ["resolved", "reworked", "resolved", "closed"]
    with pytest.raises(DomainError) as exc:
        work_order_callback(order, actor=u["operator"], satisfaction="satisfied", now=T0 + timedelta(days=4))
    assert exc.value.status == 409


def test_callback_needs_a_satisfaction_or_a_note_when_unreachable(world, report):
    u = world.users
    order = work_order_dispatch(report(anonymous=True), actor=u["dispatcher"], now=T0)
    order = work_order_accept(order, actor=u["comm_a"], now=T0)
    order = work_order_resolve(order, actor=u["comm_a"], result="已处理", now=T0)
    with pytest.raises(DomainError) as exc:
        work_order_callback(order, actor=u["operator"], satisfaction="", now=T0)
    assert exc.value.field == "satisfaction"
    with pytest.raises(DomainError):
        work_order_callback(order, actor=u["comm_a"], satisfaction="satisfied", now=T0)  # not an operator
    order = work_order_callback(order, actor=u["operator"], reached=False, note="匿名，无法回访", now=T0)
    assert order.state == State.CLOSED and order.callbacks.get().satisfaction == ""


def test_stale_version_is_a_conflict_and_changes_nothing(world, report):
    u = world.users
    order = work_order_dispatch(report(), actor=u["dispatcher"], now=T0)
    with pytest.raises(DomainError) as exc:
        work_order_accept(order, actor=u["comm_a"], version=order.version - 1, now=T0)
    assert exc.value.status == 409 and exc.value.code == "dispatch.stale"
    assert WorkOrder.objects.get(pk=order.pk).state == State.DISPATCHED
    assert Transition.objects.filter(order=order).count() == 2


def test_only_the_lead_unit_acts_and_only_a_dispatcher_dispatches(world, report):
    u = world.users
    order = report()
    for who in ("comm_a", "operator", "resident"):
        with pytest.raises(DomainError) as exc:
            work_order_dispatch(order, actor=u[who], now=T0)
        assert exc.value.status == 403
    order = work_order_dispatch(order, actor=u["dispatcher"], now=T0)
    for who in ("comm_b", "street_b", "dispatcher", "resident"):
        with pytest.raises(DomainError) as exc:
            work_order_accept(order, actor=u[who], now=T0)
        assert exc.value.status == 403


def test_override_needs_a_reason_and_is_recorded(world, report):
    u = world.users
    order = report()
    with pytest.raises(DomainError) as exc:
        work_order_dispatch(order, actor=u["dispatcher"], unit=world.units["street_a"], now=T0)
    assert exc.value.code == "dispatch.override_reason_required"
    order = work_order_dispatch(order, actor=u["dispatcher"], unit=world.units["street_a"],
                                reason="涉及多个社区，由街道统筹", now=T0)
    a = Assignment.objects.get(order=order)
    assert a.unit_id == world.units["street_a"].pk and a.override_reason == "涉及多个社区，由街道统筹"
    assert order.handling_level == "street"
    assert Transition.objects.filter(order=order).last().data["override"] is True


def test_suspend_pauses_the_clock_and_resume_moves_the_deadline(world, report):
    u = world.users
    order = work_order_dispatch(report(), actor=u["dispatcher"], now=T0)
    due = order.resolve_due
    order = work_order_accept(order, actor=u["comm_a"], now=T0)
    with pytest.raises(DomainError):
        work_order_suspend(order, actor=u["comm_a"], reason="", now=T0)
    order = work_order_suspend(order, actor=u["comm_a"], reason="需道路大修，纳入年度计划", now=at(2026, 3, 3, 9, 0))
    assert order.state == State.SUSPENDED
    # Parked for two full working days (Tue and Wed): the deadline moves by 14 working hours.
    order = work_order_resume(order, actor=u["comm_a"], now=at(2026, 3, 5, 9, 0))
    assert order.state == State.ACCEPTED
    assert order.resolve_due == at(2026, 3, 25, 10, 0) and due == at(2026, 3, 23, 10, 0)


def test_reject_needs_a_reason_and_is_final(world, report):
    u = world.users
    order = report()
    with pytest.raises(DomainError) as exc:
        work_order_reject(order, actor=u["operator"], reason=" ", now=T0)
    assert exc.value.field == "reason"
    order = work_order_reject(order, actor=u["operator"], reason="属民事纠纷，建议通过法律途径解决", now=T0)
    assert order.state == State.REJECTED
    with pytest.raises(DomainError) as exc:
        work_order_dispatch(order, actor=u["dispatcher"], now=T0)
    assert exc.value.status == 409


def test_routing_rules_pick_a_department_with_the_territory_as_co_handler(world, report):
    subject = Subject.objects.get(code="Q0101")
    RoutingRule.objects.create(priority=10, name="夜间安全生产", subject=subject, weekdays="12345",
                               time_from=at(2026, 1, 1, 18).time(), time_to=at(2026, 1, 1, 8).time(),
                               target_level="street")
    RoutingRule.objects.create(priority=20, name="安全生产归城管", subject=subject,
                               target_unit=world.units["dept"], cohandler_level="community")
    day = report(now=T0)
    assert day.proposed_unit_id == world.units["dept"].pk
    assert day.routing["cohandler_ids"] == [world.units["community_a"].pk]
    night = report(now=at(2026, 3, 2, 22, 0))
    assert night.proposed_unit_id == world.units["street_a"].pk
    weekend_night = report(now=at(2026, 3, 7, 22, 0))
    assert weekend_night.proposed_unit_id == world.units["dept"].pk
    other = report(subject="Q0201" if Subject.objects.filter(code="Q0201").exists() else "Q02")
    assert other.proposed_unit_id == world.units["community_a"].pk
    order = work_order_dispatch(day, actor=world.users["dispatcher"], now=T0)
    assert set(order.cohandlers.values_list("pk", flat=True)) == {world.units["community_a"].pk}


def test_events_go_to_the_grid_and_components_to_their_owner(world, report):
    u = world.users
    event = report(channel="patrol", subject="E0104", request_type=None, actor=u["grid_a"])
    assert event.proposed_unit_id == world.units["grid_a"].pk and event.routing["level"] == "grid"
    # No grid station in street b's grid: the event climbs to its community (属地兜底).
    event_b = report(channel="patrol", subject="E0104", request_type=None, actor=u["street_b"],
                     point=world.point("b"))
    assert event_b.proposed_unit_id == world.units["community_b"].pk
    lamp = Subject.objects.get(code="C0112")
    lamp.default_department = world.units["dept"]
    lamp.save()
    comp = report(channel="patrol", subject="C0112", request_type=None, actor=u["grid_a"])
    assert comp.proposed_unit_id == world.units["dept"].pk
    assert comp.routing["cohandler_ids"] == [world.units["community_a"].pk]
    # 道路不洁: 5 working hours, shorter than the default.
    event = work_order_dispatch(event, actor=u["dispatcher"], now=T0)
    assert event.resolve_due == at(2026, 3, 2, 16, 0)


def test_change_of_subject_recomputes_the_running_clock(world, report):
    u = world.users
    order = work_order_dispatch(report(request_type="consult"), actor=u["dispatcher"], now=T0)
    assert order.resolve_due == at(2026, 3, 4, 10, 0)
    order = work_order_change_subject(order, actor=u["dispatcher"], subject="E0104", reason="实为道路保洁",
                                      version=order.version, now=T0 + timedelta(hours=1))
    # 5 working hours from the original dispatch beats 咨询's 2 working days.
    assert order.resolve_due == at(2026, 3, 2, 16, 0)
    assert Transition.objects.filter(order=order, action="subject_changed").get().data["old"] == "Q010101"


def test_emergency_overrides_with_two_clock_hours(world, report):
    order = work_order_dispatch(report(subject="E04", request_type="help"), actor=world.users["dispatcher"],
                                now=at(2026, 3, 7, 23, 0))  # a Saturday night
    assert order.urgency == "emergency"
    assert order.resolve_due == at(2026, 3, 8, 1, 0) and order.response_due == at(2026, 3, 7, 23, 30)
    assert order.warn_at == at(2026, 3, 8, 0, 30)


def test_photos_are_stored_with_the_report(world, report):
    order = report(photos=[("a.png", PNG_1x1)])
    att = Attachment.objects.get(order=order)
    assert att.content_type == "image/png" and att.width == 1 and att.kind == "report"
    # Stored as re-encoded by Pillow (metadata stripped): the same pixels, not the same bytes.
    from PIL import Image

    with Image.open(att.file) as im:
        assert (im.format, im.size) == ("PNG", (1, 1))


def test_auto_dispatch_starts_the_clocks_at_intake(world, report):
    order = report(auto_dispatch=True)
    assert order.state == State.DISPATCHED and order.lead_unit_id == world.units["community_a"].pk
    assert order.dispatched_at == T0
    assert [t[2] for t in timeline(order)] == ["created", "dispatched"]
    assert IdempotencyKey.objects.get(order=order).key == "k-1"
