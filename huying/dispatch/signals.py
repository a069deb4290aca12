"""Signals the dispatch app sends, always after the transaction commits (never for rolled-back work).

Receivers get `sender=WorkOrder` and keyword arguments; they must not assume the order is unchanged
since (read it again if needed):

- `order_created(order_id, code, state, channel)` — a new order was taken in (受理).
- `order_transitioned(order_id, action, from_state, to_state, unit_id)` — any state change,
  and also events that keep the state (`action` says which: e.g. `extension_approved`).
- `order_deadline(order_id, kind)` — the worker found a clock past a threshold; `kind` is
  `warning` (75 % of the resolution time used), `overdue` or `response_overdue`.
- `order_changed(order_id, action)` — data changed without a state change (subject, deadlines).
"""

from django.db import transaction
from django.dispatch import Signal

order_created = Signal()
order_transitioned = Signal()
order_deadline = Signal()
order_changed = Signal()


def send_on_commit(signal: Signal, **kwargs) -> None:
    """Send `signal` once the current transaction commits (immediately outside a transaction)."""
    from .models import WorkOrder

    transaction.on_commit(lambda: signal.send(sender=WorkOrder, **kwargs))
