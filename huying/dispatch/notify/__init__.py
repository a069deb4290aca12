"""Notifications through an outbox (通知发件箱): dispatch, warning, overdue, supervision, callback request.

Write path: `services.notification_enqueue(...)` inside the caller's transaction; dispatch's
transitions and deadline sweeps reach it through `receivers` without any call of their own.
Delivery: `huying notify` (`services.notify_deliver`), senders per channel from settings.
"""
