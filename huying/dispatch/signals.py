"""Signals the dispatch app sends, always after the transaction commits (never for rolled-back work).

Receivers get `sender=WorkOrder` and keyword arguments; they must not assume the order is unchanged
since (read it again if needed):

- `order_created(order_id, code, state, channel)` — a new order was taken in (受理).
- `order_transitioned(order_id, action, from_state, to_state, unit_id)` — any state change,
  and also events that keep the state (`action` says which: e.g. `extension_approved`).
- `order_deadline(order_id, kind)` — the worker found a clock past a threshold; `kind` is
  `warning` (75 % of the resolution time used), `overdue` or `response_overdue`.
- `order_changed(order_id, action)` — data changed without a state change (subject, deadlines).

One signal is sent *inside* the transaction instead, so a receiver's rows commit or roll back with
the change itself (the notification outbox, `dispatch/notify`):

- `order_event(announced, **kwargs)` — sent by `send_on_commit` just before it schedules the signal
  `announced`, with the arguments that signal will get after commit. Receivers must not do slow I/O.
- `order_events(events)` — the same, once for a whole batch: `events` is a list of
  `(announced, kwargs)`. `send_many_on_commit` (intake's batch path) sends it once and then
  `order_event` for each item; `send_on_commit` sends it with one item. A receiver that can do a
  batch's work in a few queries listens here (the outbox, the rollups); others listen to
  `order_event` and see every item either way.
"""

from functools import partial

from django.db import transaction
from django.dispatch import Signal

from .models import WorkOrder

order_created = Signal()
order_transitioned = Signal()
order_deadline = Signal()
order_changed = Signal()
order_event = Signal()
order_events = Signal()


def send_on_commit(signal: Signal, **kwargs) -> None:
    """Send `signal` once the current transaction commits (immediately outside a transaction)."""
    send_many_on_commit([(signal, kwargs)])


def send_many_on_commit(events: list[tuple[Signal, dict]]) -> None:
    """`send_on_commit` for many signals, announced inside the transaction as one batch."""
    events = list(events)
    if not events:
        return
    order_events.send(sender=WorkOrder, events=events)
    for signal, kwargs in events:
        order_event.send(sender=WorkOrder, announced=signal, **kwargs)
        transaction.on_commit(partial(signal.send, sender=WorkOrder, **kwargs))
