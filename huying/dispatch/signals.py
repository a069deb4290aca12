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
"""

from django.db import transaction
from django.dispatch import Signal

order_created = Signal()
order_transitioned = Signal()
order_deadline = Signal()
order_changed = Signal()
order_event = Signal()


def send_on_commit(signal: Signal, **kwargs) -> None:
    """Send `signal` once the current transaction commits (immediately outside a transaction)."""
    from .models import WorkOrder

    order_event.send(sender=WorkOrder, announced=signal, **kwargs)
    transaction.on_commit(lambda: signal.send(sender=WorkOrder, **kwargs))
