"""Every notification the outbox writes reaches someone who acts on it: the unit's staff, or — when the
unit has nobody — a dispatcher or leader above it, then the dispatch centre, with the fallback kept on
the message; a message nobody can receive is undeliverable at once, and one that keeps failing ends
as a dead letter after HUYING_NOTIFY_MAX_ATTEMPTS tries."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from huying.dispatch.models import InAppMessage, OutboxMessage
from huying.dispatch.notify.services import (
    deliver_pending,
    notification_enqueue,
    notify_deliver,
    resolve_unit,
)
from huying.dispatch.services import (
    deadline_sweep,
    work_order_accept,
    work_order_callback,
    work_order_dispatch,
    work_order_resolve,
)
from huying.people.models import Membership, RoleCode, UnitKind
from huying.people.services import membership_grant, membership_revoke, unit_create, user_create

from .conftest import PASSWORD, at

T0 = at(2026, 3, 2, 10)
Status = OutboxMessage.Status
IN_APP = "huying.dispatch.notify.senders.InAppSender"


class AlwaysFails:
    def send(self, message, recipients):
        raise ConnectionError("gateway down")


@pytest.fixture
def staffed_street(world):
    """The demo's shape: a street office with a dispatcher and a handler, a community committee under it
    where only a resident holds a membership, and a grid station under the committee with nobody."""
    def unit(code, name, parent, **kw):
        return unit_create(code=code, name=name, kind=UnitKind.TERRITORIAL, parent=parent, actor=None, **kw)

    office = unit("s-office", "北京街道办事处", None, division=world.streets[0])
    committee = unit("s-comm", "仓边社区居委会", office, division=world.communities[0])
    station = unit("s-grid", "仓边第1网格工作站", committee, grid=world.grids[0])
    people = {}
    for name, where, role in [("s_dispatcher", office, RoleCode.DISPATCHER), ("s_handler", office, RoleCode.HANDLER),
                              ("s_resident", committee, RoleCode.RESIDENT)]:
        people[name] = user_create(username=name, password=PASSWORD, display_name=name, actor=None,
                                   check_password=False)
        membership_grant(people[name], unit=where, role_code=role, actor=None)
    return {"office": office, "committee": committee, "station": station, **people}


def test_a_unit_without_acting_staff_falls_back_to_the_dispatcher_above(world, staffed_street):
    s = staffed_street
    committee = resolve_unit(s["committee"].pk)
    # The resident's membership does not make them the committee's handler; the street's handler is
    # not the committee's either: the street office's dispatcher takes it.
    assert [r.user_id for r in committee.recipients] == [s["s_dispatcher"].pk]
    assert committee.fallback_unit_id == s["office"].pk
    assert resolve_unit(s["station"].pk).fallback_unit_id == s["office"].pk  # two levels up
    staffed = resolve_unit(s["office"].pk)
    assert {r.user_id for r in staffed.recipients} == {s["s_dispatcher"].pk, s["s_handler"].pk}
    assert staffed.fallback_unit_id is None
    # A department with no parent and nobody: the dispatch centre's dispatcher and operator.
    dept = unit_create(code="t-zjj", name="住房和城乡建设局", kind=UnitKind.DEPARTMENT, actor=None)
    centre = resolve_unit(dept.pk)
    assert centre.fallback_unit_id == world.units["command"].pk
    assert {r.user_id for r in centre.recipients} == {world.users["operator"].pk, world.users["dispatcher"].pk}


def test_the_fallback_is_recorded_and_reaches_the_inbox(world, staffed_street, report, settings):
    settings.HUYING_NOTIFY_SENDERS = {"in_app": IN_APP}
    s = staffed_street
    order = work_order_dispatch(report(now=T0), actor=world.users["dispatcher"], unit=s["committee"],
                                reason="属地", now=T0)
    assert notify_deliver(now=T0) == {"sent": 2, "failed": 0, "dead": 0}
    assert {(m.status, m.fallback_unit_id) for m in OutboxMessage.objects.filter(order=order)} == {
        (Status.SENT, s["office"].pk)}
    assert list(InAppMessage.objects.values_list("user_id", flat=True)) == [s["s_dispatcher"].pk]


def test_a_unit_with_nobody_anywhere_is_undeliverable_with_a_reason_not_retried(world, settings):
    for m in Membership.objects.filter(unit=world.units["command"]):
        membership_revoke(m, actor=None, reason="调离")
    lonely = unit_create(code="t-lonely", name="无人单位", kind=UnitKind.DEPARTMENT, actor=None)
    notification_enqueue("supervision", recipient_kind="unit", recipient_id=lonely.pk, title="督办", body="b",
                         dedup_key="lonely", now=T0)
    assert notify_deliver(now=T0) == {"sent": 0, "failed": 0, "dead": 2}
    out = list(OutboxMessage.objects.all())
    assert all(m.status == Status.UNDELIVERABLE and m.attempts == 1 and "没有可接收通知的人员" in m.last_error
               for m in out)
    assert notify_deliver(now=T0 + timedelta(days=2)) == {"sent": 0, "failed": 0, "dead": 0}
    assert OutboxMessage.objects.get(pk=out[0].pk).attempts == 1


def test_a_message_that_keeps_failing_becomes_a_dead_letter_after_max_attempts(world, settings):
    settings.HUYING_NOTIFY_SENDERS = {"*": f"{__name__}.AlwaysFails"}
    settings.HUYING_NOTIFY_MAX_ATTEMPTS = 3
    notification_enqueue("supervision", recipient_kind="user", recipient_id=world.users["comm_a"].pk,
                         channels=["sms"], title="督办", body="b", dedup_key="flaky", now=T0)
    now, results = T0, []
    for _i in range(4):
        results.append(notify_deliver(now=now))
        now += timedelta(days=1)
    assert results == [{"sent": 0, "failed": 1, "dead": 0}, {"sent": 0, "failed": 1, "dead": 0},
                       {"sent": 0, "failed": 0, "dead": 1}, {"sent": 0, "failed": 0, "dead": 0}]
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (Status.DEAD, 3)
    assert "gateway down" in message.last_error


def test_a_sender_that_cannot_reach_anyone_makes_the_message_undeliverable_at_once(world, settings):
    settings.HUYING_NOTIFY_SENDERS = {"email": "huying.dispatch.notify.senders.EmailSender"}
    assert world.users["resident"].email == ""
    notification_enqueue("supervision", recipient_kind="user", recipient_id=world.users["resident"].pk,
                         channels=["email"], title="t", body="b", dedup_key="mail", now=T0)
    assert notify_deliver(now=T0) == {"sent": 0, "failed": 0, "dead": 1}
    message = OutboxMessage.objects.get()
    assert message.status == Status.UNDELIVERABLE and "e-mail" in message.last_error


def test_after_a_citys_orders_run_their_lifecycle_notify_once_delivers_everything(world, staffed_street, report,
                                                                                   settings):
    from huying.dispatch.escalation.services import supervision_issue

    settings.HUYING_NOTIFY_SENDERS = {"in_app": IN_APP}
    s = staffed_street
    dept = unit_create(code="t-zjj", name="住房和城乡建设局", kind=UnitKind.DEPARTMENT, actor=None)
    targets = [None, s["committee"], s["station"], world.units["dept"], dept, world.units["street_b"]]
    orders = []
    for i, unit in enumerate(targets):
        order = work_order_dispatch(report(now=T0, idempotency_key=f"city-{i}"), actor=world.users["dispatcher"],
                                    unit=unit, reason="测试" if unit else "", now=T0)
        orders.append(order)
    handler = world.users["comm_a"]
    first = work_order_accept(orders[0], actor=handler, now=T0 + timedelta(minutes=10))
    first = work_order_resolve(first, actor=handler, result="已修复", now=T0 + timedelta(hours=1))
    work_order_callback(first, actor=world.users["operator"], satisfaction="satisfied", solved=True,
                        now=T0 + timedelta(hours=2))
    supervision_issue(orders[3], actor=world.users["dispatcher"], note="请加快", now=T0 + timedelta(hours=1))
    late = work_order_accept(orders[5], actor=world.users["street_b"], now=T0 + timedelta(minutes=5))
    deadline_sweep(now=late.warn_at)  # 临期
    deadline_sweep(now=T0 + timedelta(days=30))  # 超期, for everything still open
    events = set(OutboxMessage.objects.values_list("event", flat=True))
    assert {"dispatch", "callback_request", "supervision", "warning", "overdue"} <= events
    out = StringIO()
    call_command("notify", "--once", stdout=out)
    total = OutboxMessage.objects.count()
    assert out.getvalue().strip() == f"sent={total} failed=0 dead=0"
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}
    assert OutboxMessage.objects.filter(fallback_unit__isnull=False).exists()
    assert deliver_pending() == {"sent": 0, "failed": 0, "dead": 0}


def test_administrators_find_dead_letters_through_the_admins_status_filter(world, settings, client):
    settings.HUYING_NOTIFY_SENDERS = {"*": f"{__name__}.AlwaysFails"}
    settings.HUYING_NOTIFY_MAX_ATTEMPTS = 1
    for key in ("dead-one", "fine-one"):
        notification_enqueue("supervision", recipient_kind="user", recipient_id=world.users["comm_a"].pk,
                             channels=["sms"], title=key, body="b", dedup_key=key, now=T0)
    OutboxMessage.objects.filter(title="fine-one").update(next_attempt_at=T0 + timedelta(days=9))
    assert notify_deliver(now=T0) == {"sent": 0, "failed": 0, "dead": 1}
    admin = user_create(username="root", password=PASSWORD, actor=None, is_superuser=True, check_password=False)
    client.force_login(admin)
    html = client.get("/admin/dispatch/outboxmessage/", {"status__exact": "dead"}).content.decode()
    assert "死信（多次失败）" in html and "gateway down" in html
    assert client.get("/admin/dispatch/outboxmessage/", {"status__exact": "pending"}).context["cl"].result_count == 1
