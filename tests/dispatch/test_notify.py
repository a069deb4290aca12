"""The notification outbox: rows written with the change they announce, delivered by pluggable
senders, retried with backoff when a sender fails, and never delivered twice by parallel workers."""

import threading
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from huying.dispatch.models import InAppMessage, OutboxMessage
from huying.dispatch.notify.services import notification_enqueue, notify_deliver, retry_delay
from huying.dispatch.services import (
    deadline_sweep,
    work_order_accept,
    work_order_dispatch,
    work_order_resolve,
)
from tests.threads import at_once

from .conftest import at

T0 = at(2026, 3, 2, 10)
PENDING, SENT = OutboxMessage.Status.PENDING, OutboxMessage.Status.SENT
UNDELIVERABLE, DEAD = OutboxMessage.Status.UNDELIVERABLE, OutboxMessage.Status.DEAD

needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                    reason="SKIP LOCKED between two connections needs PostgreSQL; SQLite tests "
                                           "share one in-memory connection and have no row locks")

DELIVERED: list[tuple[int, str]] = []  # (outbox id, thread name) per successful send
_lock = threading.Lock()


class RecordingSender:
    def send(self, message, recipients):
        assert recipients
        with _lock:
            DELIVERED.append((message.pk, threading.current_thread().name))


class FailingSender:
    """Fails while `FailingSender.failing` is true; writes an inbox row first, to prove it is undone."""

    failing = True

    def send(self, message, recipients):
        InAppMessage.objects.create(user_id=recipients[0].user_id, outbox=message, event=message.event,
                                    title="partial", body="", created_at=T0)
        if FailingSender.failing:
            raise ConnectionError("SMS gateway down")
        with _lock:
            DELIVERED.append((message.pk, "ok"))


@pytest.fixture
def senders(settings):
    DELIVERED.clear()
    FailingSender.failing = True

    def use(path_by_channel):
        settings.HUYING_NOTIFY_SENDERS = {k: f"{__name__}.{v}" if "." not in v else v
                                          for k, v in path_by_channel.items()}

    use({"*": "RecordingSender"})
    return use


def rows(**filters):
    return list(OutboxMessage.objects.filter(**filters).order_by("id"))


def test_dispatch_writes_its_outbox_rows_inside_the_transaction(world, report, senders):
    order = report(now=T0)
    assert rows() == []  # a submission notifies nobody
    # The test's transaction has not committed: these rows were written by the service's own transaction.
    order = work_order_dispatch(order, actor=world.users["dispatcher"], now=T0)
    out = rows(order=order)
    assert [(m.event, m.channel, m.recipient_kind, m.recipient_id) for m in out] == [
        ("dispatch", "in_app", "unit", world.units["community_a"].pk),
        ("dispatch", "sms", "unit", world.units["community_a"].pk),
    ]
    assert all(m.status == PENDING and m.next_attempt_at == T0 and order.code in m.title for m in out)


def test_a_rolled_back_change_leaves_no_outbox_row(world, report, senders):
    order = report(now=T0)
    with pytest.raises(RuntimeError), transaction.atomic():
        work_order_dispatch(order, actor=world.users["dispatcher"], now=T0)
        assert OutboxMessage.objects.count() == 2
        raise RuntimeError("the caller fails after the dispatch")
    assert OutboxMessage.objects.count() == 0


def test_warning_and_overdue_from_the_sweep_once_each(world, report, senders):
    order = work_order_dispatch(report(now=T0), actor=world.users["dispatcher"], now=T0)
    work_order_accept(order, actor=world.users["comm_a"], now=T0)
    order.refresh_from_db()
    deadline_sweep(now=order.warn_at)
    deadline_sweep(now=order.warn_at)  # nothing new
    assert [(m.event, m.channel) for m in rows(event__in=["warning", "overdue"])] == [("warning", "in_app")]
    deadline_sweep(now=order.resolve_due)
    overdue = rows(event="overdue")
    assert [m.channel for m in overdue] == ["in_app", "sms"]
    assert overdue[0].data == {"kind": "overdue", "unit_id": world.units["community_a"].pk}


def test_response_overdue_is_an_overdue_notice(world, report, senders):
    order = work_order_dispatch(report(now=T0), actor=world.users["dispatcher"], now=T0)
    deadline_sweep(now=order.response_due)
    assert {m.data["kind"] for m in rows(event="overdue")} == {"response_overdue"}


def test_resolving_asks_the_reporter_for_a_callback(world, report, senders):
    order = work_order_dispatch(report(now=T0), actor=world.users["dispatcher"], now=T0)
    order = work_order_accept(order, actor=world.users["comm_a"], now=T0)
    work_order_resolve(order, actor=world.users["comm_a"], result="已修复", now=T0 + timedelta(hours=2))
    out = rows(event="callback_request")
    assert [(m.channel, m.recipient_kind, m.recipient_id) for m in out] == [("sms", "reporter", order.pk),
                                                                          ("in_app", "reporter", order.pk)]
    # An anonymous hotline caller without an account gets the SMS only.
    other = report(now=T0, channel="hotline", actor=world.users["operator"], idempotency_key="hot-1")
    other = work_order_dispatch(other, actor=world.users["dispatcher"], now=T0)
    other = work_order_accept(other, actor=world.users["comm_a"], now=T0)
    work_order_resolve(other, actor=world.users["comm_a"], result="已修复", now=T0)
    assert [m.channel for m in rows(event="callback_request", order=other)] == ["sms"]


def test_auto_dispatch_at_intake_is_captured_once(world, report, senders, settings,
                                                   django_capture_on_commit_callbacks):
    settings.HUYING_DISPATCH_AUTO = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order = report(now=T0)
    assert order.state == "dispatched"
    assert [(m.event, m.channel) for m in rows(order=order)] == [("dispatch", "in_app"), ("dispatch", "sms")]
    for cb in callbacks:  # the announcement arriving again changes nothing
        cb()
    assert OutboxMessage.objects.filter(order=order).count() == 2


def test_enqueue_is_idempotent_per_key_and_the_supervision_hook_works(world, senders):
    unit = world.units["street_a"].pk
    args = dict(recipient_kind="unit", recipient_id=unit, title="督办通知", body="请于今日内办结", now=T0,
                dedup_key="supervision:1")
    assert notification_enqueue("supervision", **args) == 2
    assert notification_enqueue("supervision", **args) == 0
    assert [m.channel for m in rows(event="supervision")] == ["in_app", "sms"]


def test_retry_delay_doubles_up_to_an_hour():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 8, 20)] == [30, 60, 120, 240, 3600, 3600]


def test_a_failing_sender_is_retried_with_backoff_and_loses_nothing(world, report, senders):
    senders({"*": "FailingSender"})
    work_order_dispatch(report(now=T0), actor=world.users["dispatcher"], now=T0)
    assert notify_deliver(now=T0) == {"sent": 0, "failed": 2, "dead": 0}
    first = rows()
    assert all(m.status == PENDING and m.attempts == 1 and m.next_attempt_at == T0 + timedelta(seconds=30)
               and "SMS gateway down" in m.last_error for m in first)
    assert InAppMessage.objects.count() == 0  # the sender's partial writes were undone
    assert notify_deliver(now=T0 + timedelta(seconds=29)) == {"sent": 0, "failed": 0, "dead": 0}  # not due yet
    assert notify_deliver(now=T0 + timedelta(seconds=30)) == {"sent": 0, "failed": 2, "dead": 0}
    assert {m.next_attempt_at for m in rows()} == {T0 + timedelta(seconds=90)}
    FailingSender.failing = False
    assert notify_deliver(now=T0 + timedelta(seconds=90)) == {"sent": 2, "failed": 0, "dead": 0}
    done = rows()
    assert all(m.status == SENT and m.attempts == 3 and m.sent_at == T0 + timedelta(seconds=90)
               and m.last_error == "" for m in done)
    assert sorted(pk for pk, _ in DELIVERED) == [m.pk for m in done]
    assert notify_deliver(now=T0 + timedelta(days=1)) == {"sent": 0, "failed": 0, "dead": 0}  # sent is never resent


def test_a_message_for_a_unit_that_does_not_exist_is_undeliverable_at_once(world, senders):
    notification_enqueue("supervision", recipient_kind="unit", recipient_id=world.units["district"].pk + 999,
                         title="t", body="b", dedup_key="nobody", now=T0)
    assert notify_deliver(now=T0) == {"sent": 0, "failed": 0, "dead": 2}
    assert all(m.status == UNDELIVERABLE and m.attempts == 1 and "不存在" in m.last_error for m in rows())
    assert notify_deliver(now=T0 + timedelta(days=1)) == {"sent": 0, "failed": 0, "dead": 0}  # never retried


def test_in_app_sender_fills_the_units_inboxes(world, report, senders):
    senders({"in_app": "huying.dispatch.notify.senders.InAppSender", "*": "RecordingSender"})
    order = work_order_dispatch(report(now=T0), actor=world.users["dispatcher"], now=T0)
    assert notify_deliver(now=T0) == {"sent": 2, "failed": 0, "dead": 0}
    inbox = list(InAppMessage.objects.all())
    assert [(m.user_id, m.order_id, m.event) for m in inbox] == [(world.users["comm_a"].pk, order.pk, "dispatch")]
    assert len(DELIVERED) == 1  # the SMS went through the recording sender


def test_notify_command_once(world, report, senders):
    work_order_dispatch(report(now=T0), actor=world.users["dispatcher"], now=T0)
    out = StringIO()
    call_command("notify", "--once", stdout=out)
    assert out.getvalue().strip() == "sent=2 failed=0 dead=0"
    assert OutboxMessage.objects.filter(status=SENT).count() == 2


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_deliver_each_message_exactly_once(world, senders):
    users = [u.pk for u in world.users.values()]
    for i in range(120):
        notification_enqueue("supervision", recipient_kind="user", recipient_id=users[i % len(users)],
                             channels=["in_app"], title=f"t{i}", body="b", dedup_key=f"load:{i}", now=T0)
    results, errors = at_once(lambda: notify_deliver(now=T0, limit=1000))
    assert errors == []
    assert sum(r["sent"] for r in results) == 120 and sum(r["failed"] for r in results) == 0
    per_message = Counter(pk for pk, _ in DELIVERED)
    assert len(per_message) == 120 and set(per_message.values()) == {1}
    assert OutboxMessage.objects.filter(status=SENT).count() == 120


def test_a_batch_intake_writes_its_dispatch_notices_in_a_fixed_number_of_queries(world, senders):
    from django.test.utils import CaptureQueriesContext

    from huying.dispatch.services import work_orders_create_many

    lng, lat = world.point("a")

    def batch(n, start):
        return [dict(channel="web", subject="Q010101", request_type="complaint", title=f"井盖缺失{start + i}",
                     description="路口井盖不见了", lng=lng, lat=lat, reporter_phone="13812345678",
                     idempotency_key=f"nb-{start + i}", auto_dispatch=True) for i in range(n)]

    counts = []
    for n, start in ((2, 0), (20, 100)):
        with CaptureQueriesContext(connection) as ctx:
            orders = work_orders_create_many(batch(n, start), actor=world.users["operator"], now=T0)
        counts.append(sum(1 for q in ctx.captured_queries if "dispatch_outboxmessage" in q["sql"]))
        for o in orders:
            assert [(m.event, m.recipient_id) for m in rows(order=o, channel="in_app")] == [("dispatch", o.lead_unit_id)]
    assert counts[0] == counts[1], counts
