"""Dispatch's signals → outbox rows.

The outbox row must commit with the change it announces, or a crash between the commit and an
after-commit hook would lose the notification. So the outbox listens to `order_events`, which
dispatch sends inside the service's transaction (from `send_on_commit` / `send_many_on_commit`):
lifecycle transitions, the deadline sweep and intake's batches arrive there, a batch at a time.

Intake writes its orders in bulk and announces them only after commit (`order_transitioned` with
action "dispatched" when it auto-dispatches). That one path is caught after commit as well; the
dedup key makes the second write of an already captured dispatch a no-op.
"""

import threading
from functools import partial

from django.db import transaction
from django.dispatch import receiver

from ..signals import order_deadline, order_events, order_transitioned

# Orders whose first dispatch was captured inside its transaction, so the after-commit hook can
# skip them without a query. An order enters the set from an on_commit callback registered just
# before dispatch's own (callbacks run in order), so a rolled-back dispatch never enters it; the
# set is cleared if it ever grows, which costs at most a no-op write per order.
_captured = threading.local()
_CAPTURED_MAX = 10_000


def _captured_set() -> set:
    if not hasattr(_captured, "ids") or len(_captured.ids) > _CAPTURED_MAX:
        _captured.ids = set()
    return _captured.ids


def _capture(order_id: int) -> None:
    _captured_set().add(order_id)


@receiver(order_events, dispatch_uid="huying.notify.order_events")
def _in_transaction(sender, events, **kwargs):
    from . import services

    transitions = []
    for announced, kw in events:
        if announced is order_transitioned:
            transitions.append(kw)
            if kw["action"] == "dispatched":
                transaction.on_commit(partial(_capture, kw["order_id"]))
        elif announced is order_deadline:
            services.enqueue_for_deadline(order_id=kw["order_id"], kind=kw["kind"])
    services.enqueue_for_transitions(transitions)


@receiver(order_transitioned, dispatch_uid="huying.notify.after_commit_dispatch")
def _after_commit(sender, order_id, action, unit_id=None, **kwargs):
    # Only the first dispatch can come from intake's bulk path; a dispatch is unique per order,
    # so its dedup key is the same whichever hook writes it.
    if action != "dispatched":
        return
    captured = _captured_set()
    if order_id in captured:
        captured.discard(order_id)
        return
    from . import services

    with transaction.atomic():
        services.enqueue_for_transition(order_id=order_id, action=action, unit_id=unit_id)
