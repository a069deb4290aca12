"""Two people acting on one order at once: exactly one wins. Real concurrency needs PostgreSQL
(row locks across connections); SQLite in tests is one in-memory connection, so it is skipped there."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from huying.core.errors import DomainError
from huying.dispatch.models import DeadlineState, IdempotencyKey, State, Transition, WorkOrder
from huying.dispatch.services import deadline_sweep, work_order_accept, work_order_dispatch

from .conftest import at

T0 = at(2026, 3, 2, 10)

needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                    reason="row locks across connections need PostgreSQL; SQLite tests share "
                                           "one in-memory connection")


def run_together(*calls):
    """Run the calls in threads released at the same moment; return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def go(fn):
        from django.db import connections

        try:
            barrier.wait()
            results.append(fn())
        except DomainError as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_version", [True, False])
def test_two_handlers_accept_at_once_and_exactly_one_succeeds(world, report, with_version):
    from huying.people.services import membership_grant

    u = world.users
    membership_grant(u["street_a"], unit=world.units["community_a"], role_code="handler", actor=None)
    order = work_order_dispatch(report(), actor=u["dispatcher"], now=T0)
    v = order.version if with_version else None
    results, errors = run_together(
        lambda: work_order_accept(order.pk, actor=u["comm_a"], version=v, now=T0),
        lambda: work_order_accept(order.pk, actor=u["street_a"], version=v, now=T0),
    )
    assert len(results) == 1 and len(errors) == 1
    assert errors[0].status == 409
    assert errors[0].code == ("dispatch.stale" if with_version else "dispatch.transition_forbidden")
    got = WorkOrder.objects.get(pk=order.pk)
    assert got.state == State.ACCEPTED and got.version == order.version + 1
    assert Transition.objects.filter(order=order, action="accepted").count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_idempotency_key_at_once_makes_one_order(world, report):
    results, errors = run_together(*[lambda: report(idempotency_key="same") for _ in range(3)])
    assert errors == [] and len({o.pk for o in results}) == 1
    assert WorkOrder.objects.count() == 1 and IdempotencyKey.objects.count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_sweeps_mark_each_order_once(world, report):
    orders = [work_order_dispatch(report(), actor=world.users["dispatcher"], now=T0) for _ in range(6)]
    late = orders[0].resolve_due
    results, errors = run_together(*[lambda: deadline_sweep(now=late, batch=2) for _ in range(3)])
    assert errors == []
    assert sum(r["overdue"] for r in results) == 6
    assert WorkOrder.objects.filter(deadline_state=DeadlineState.OVERDUE).count() == 6


def test_worker_command_sweeps_once(world, report):
    order = work_order_dispatch(report(), actor=world.users["dispatcher"], now=at(2020, 1, 2, 10))
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert "overdue=1" in out.getvalue()
    assert WorkOrder.objects.get(pk=order.pk).deadline_state == DeadlineState.OVERDUE


def test_simulate_orders_goes_through_intake_and_prints_the_rate_last(world):
    out = StringIO()
    call_command("simulate", "orders", "--count", "5", "--district", "440104", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-1].startswith("orders_per_s: ") and float(lines[-1].split(": ")[1]) > 0
    assert WorkOrder.objects.filter(channel="web", title__startswith="模拟诉求").count() == 5
    # Routed and dispatched with deadlines, with a timeline.
    assert WorkOrder.objects.filter(state=State.DISPATCHED, resolve_due__isnull=False).count() == 5
    assert Transition.objects.filter(action="dispatched").count() == 5
