"""Dispatch's signals → outbox rows.

The outbox row must commit with the change it announces, or a crash between the commit and an
after-commit hook would lose the notification. So the outbox listens only to `order_events`, which
dispatch sends inside the service's transaction (from `send_on_commit` / `send_many_on_commit`):
intake (one order or a batch), lifecycle transitions and the deadline sweep all arrive there, a
batch at a time. Connected by `DispatchConfig.ready()`.
"""

from ..signals import order_deadline, order_events, order_transitioned
from . import services


def on_order_events(sender, events, **kwargs):
    transitions = []
    for announced, kw in events:
        if announced is order_transitioned:
            transitions.append(kw)
        elif announced is order_deadline:
            services.enqueue_for_deadline(order_id=kw["order_id"], kind=kw["kind"])
    services.enqueue_for_transitions(transitions)


def connect() -> None:
    order_events.connect(on_order_events, dispatch_uid="huying.notify.order_events")
