"""Dispatch's signals → outbox rows.

The outbox row must commit with the change it announces, or a crash between the commit and an
after-commit hook would lose the notification. So the outbox listens to `order_event`, which
dispatch sends inside the service's transaction (from `send_on_commit`): lifecycle transitions and
the deadline sweep arrive there.

Intake writes its orders in bulk and announces them only after commit (`order_transitioned` with
action "dispatched" when it auto-dispatches). That one path is caught after commit as well; the
dedup key makes the second write of an already captured dispatch a no-op.
"""

import threading

from django.db import transaction
from django.dispatch import receiver

from ..signals import order_deadline, order_event, order_transitioned

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


@receiver(order_event, dispatch_uid="huying.notify.order_event")
def _in_transaction(sender, announced, **kwargs):
    from . import services

    if announced is order_transitioned:
        services.enqueue_for_transition(order_id=kwargs["order_id"], action=kwargs["action"],
                                        unit_id=kwargs.get("unit_id"))
        if kwargs["action"] == "dispatched":
            order_id = kwargs["order_id"]
            transaction.on_commit(lambda: _captured_set().add(order_id))
    elif announced is order_deadline:
        services.enqueue_for_deadline(order_id=kwargs["order_id"], kind=kwargs["kind"])


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
