"""Notifications through an outbox (通知发件箱): dispatch, warning, overdue, supervision, callback request.

Write path: `services.notification_enqueue(...)` inside the caller's transaction; dispatch's
transitions and deadline sweeps reach it through `receivers` without any call of their own.
Delivery: `services.deliver_pending` (run by `huying notify` and the worker), senders per channel
from settings; recipients resolved with fallback up the unit tree, dead letters after
HUYING_NOTIFY_MAX_ATTEMPTS. Reading: the in-app inbox at /inbox/ (`views`, `selectors`).
"""
