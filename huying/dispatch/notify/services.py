"""Writing to the outbox (inside the caller's transaction) and delivering from it (the worker).

Which events notify whom, by default:

| event              | when                                              | to                | channels      |
|--------------------|---------------------------------------------------|-------------------|---------------|
| `dispatch`         | an order is dispatched or re-dispatched to a unit | the lead unit     | in_app, sms   |
| `warning`          | 75 % of the resolution time is used (临期)         | the lead unit     | in_app        |
| `overdue`          | a response or resolution deadline passed (超期)    | the lead unit     | in_app, sms   |
| `callback_request` | the unit reports the order resolved (办结)         | the reporter      | sms, in_app   |
| `supervision`      | a supervision notice (督办) — `notification_enqueue` | the caller's choice | in_app, sms |

settings.HUYING_NOTIFY_CHANNELS = {"overdue": ["in_app"], …} replaces an event's channels.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.errors import DomainError

from .models import NotifyChannel, NotifyEvent, OutboxMessage, RecipientKind
from .senders import DeliveryError, Recipient, sender_for

logger = logging.getLogger("huying.notify")

DEFAULT_CHANNELS: dict[str, list[str]] = {
    NotifyEvent.DISPATCH: [NotifyChannel.IN_APP, NotifyChannel.SMS],
    NotifyEvent.WARNING: [NotifyChannel.IN_APP],
    NotifyEvent.OVERDUE: [NotifyChannel.IN_APP, NotifyChannel.SMS],
    NotifyEvent.CALLBACK_REQUEST: [NotifyChannel.SMS, NotifyChannel.IN_APP],
    NotifyEvent.SUPERVISION: [NotifyChannel.IN_APP, NotifyChannel.SMS],
}

# Transition actions that announce something to someone, and the event they become.
TRANSITION_EVENTS = {
    "dispatched": NotifyEvent.DISPATCH,
    "redispatched": NotifyEvent.DISPATCH,
    "resolved": NotifyEvent.CALLBACK_REQUEST,
}
DEADLINE_EVENTS = {"warning": NotifyEvent.WARNING, "overdue": NotifyEvent.OVERDUE,
                   "response_overdue": NotifyEvent.OVERDUE}

# Retry: 30 s, 1 min, 2 min … doubling up to an hour, and then hourly for as long as it takes.
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600


def channels_for(event: str) -> list[str]:
    configured = getattr(settings, "HUYING_NOTIFY_CHANNELS", None) or {}
    return list(configured.get(event, DEFAULT_CHANNELS.get(event, [NotifyChannel.IN_APP])))


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed delivery (pure)."""
    base = getattr(settings, "HUYING_NOTIFY_RETRY_BASE", RETRY_BASE_SECONDS)
    cap = getattr(settings, "HUYING_NOTIFY_RETRY_CAP", RETRY_CAP_SECONDS)
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _outbox_rows(event: str, *, recipient_kind: str, recipient_id: int, title: str, body: str, dedup_key: str,
                 order_id: int | None = None, channels: list[str] | None = None, data: dict | None = None,
                 now=None) -> list[OutboxMessage]:
    try:
        event = NotifyEvent(event)
        recipient_kind = RecipientKind(recipient_kind)
    except ValueError:
        raise DomainError("notify.bad_event", _("未知的通知类型或接收方。")) from None
    now = now or timezone.now()
    return [
        OutboxMessage(event=event, channel=channel, recipient_kind=recipient_kind, recipient_id=recipient_id,
                      order_id=order_id, dedup_key=f"{dedup_key}:{channel}"[:160], title=title[:120], body=body,
                      data=data or {}, next_attempt_at=now, created_at=now)
        for channel in (channels if channels is not None else channels_for(event))
    ]


def _insert(rows: list[OutboxMessage]) -> int:
    """Write the rows, skipping dedup keys already there; returns how many were new."""
    if not rows:
        return 0
    keys = [r.dedup_key for r in rows]
    before = OutboxMessage.objects.filter(dedup_key__in=keys).count()
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(set(keys)) - before


def notification_enqueue(event: str, *, recipient_kind: str, recipient_id: int, title: str, body: str,
                         dedup_key: str, order_id: int | None = None, channels: list[str] | None = None,
                         data: dict | None = None, now=None) -> int:
    """Put one notification in the outbox, one row per channel; returns the rows written.

    Call it inside the transaction of the change it announces (it writes nothing else and sends
    nothing): supervision (督办) and other later events hook in here. `dedup_key` names the
    announcement; the same key enqueued again is ignored, so a repeated hook cannot notify twice.
    """
    return _insert(_outbox_rows(event, recipient_kind=recipient_kind, recipient_id=recipient_id, title=title,
                                body=body, dedup_key=dedup_key, order_id=order_id, channels=channels, data=data,
                                now=now))


# ---- from dispatch's signals to outbox rows -------------------------------------------------------

def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%m月%d日 %H:%M") if dt else "—"


def _order_row(order_id: int) -> dict | None:
    from ..models import WorkOrder

    return (WorkOrder.objects.filter(pk=order_id)
            .values("id", "code", "title", "lead_unit_id", "response_due", "resolve_due", "warn_at",
                    "reporter_id", "reporter_phone")
            .first())


_STEP_FIELDS = ("id", "order_id", "action", "at", "order__code", "order__title", "order__lead_unit_id",
                "order__response_due", "order__resolve_due", "order__reporter_id", "order__reporter_phone")


def _step(row: dict) -> dict:
    return {"step": row["id"], "at": row["at"], **{k[7:]: v for k, v in row.items() if k.startswith("order__")}}


def _step_row(order_id: int, action: str) -> dict | None:
    """The order's newest step with this action (the one being announced) and the order's fields, in one query."""
    from ..models import Transition

    row = Transition.objects.filter(order_id=order_id, action=action).order_by("-id").values(*_STEP_FIELDS).first()
    return _step(row) if row is not None else None


def _transition_rows(order_id: int, action: str, unit_id: int | None, order: dict) -> list[OutboxMessage]:
    event = TRANSITION_EVENTS[action]
    step, now = order["step"], order["at"]
    args = {"code": order["code"], "title": order["title"]}
    if event == NotifyEvent.DISPATCH:
        unit = unit_id or order["lead_unit_id"]
        if unit is None:
            return []
        return _outbox_rows(
            event, recipient_kind=RecipientKind.UNIT, recipient_id=unit, order_id=order_id, now=now,
            dedup_key=f"t{step}:unit{unit}",
            title=_("新派工单 %(code)s") % args,
            body=_("工单 %(code)s「%(title)s」已派至本单位，请于 %(response)s 前签收、%(resolve)s 前办结。")
            % {**args, "response": _local(order["response_due"]), "resolve": _local(order["resolve_due"])},
            data={"action": action, "unit_id": unit},
        )
    # callback_request: only the channels that can reach this reporter.
    channels = [c for c in channels_for(event)
                if (c == NotifyChannel.SMS and order["reporter_phone"])
                or (c != NotifyChannel.SMS and order["reporter_id"])]
    return _outbox_rows(
        event, recipient_kind=RecipientKind.REPORTER, recipient_id=order_id, order_id=order_id, now=now,
        channels=channels, dedup_key=f"t{step}:reporter",
        title=_("请评价工单 %(code)s 的办理结果") % args,
        body=_("您反映的问题（工单号 %(code)s）已办结，请对办理结果进行评价。") % args,
        data={"action": action},
    )


def enqueue_for_transition(*, order_id: int, action: str, unit_id: int | None = None) -> int:
    """Outbox rows for one transition (see the table above); nothing for actions that notify nobody.

    The rows are due from the step's own time (the service's `now`), so simulated and replayed
    histories deliver in their own time line.
    """
    if action not in TRANSITION_EVENTS:
        return 0
    order = _step_row(order_id, action)
    if order is None:
        return 0
    return _insert(_transition_rows(order_id, action, unit_id, order))


def enqueue_for_transitions(events: list[dict]) -> int:
    """`enqueue_for_transition` for many transitions (order_id, action, unit_id) in three queries:
    a batch intake of 500 auto-dispatched orders writes its 500 notices at once."""
    from ..models import Transition

    events = [e for e in events if e["action"] in TRANSITION_EVENTS]
    if not events:
        return 0
    if len(events) == 1:
        e = events[0]
        return enqueue_for_transition(order_id=e["order_id"], action=e["action"], unit_id=e.get("unit_id"))
    newest: dict[tuple[int, str], dict] = {}
    for row in (Transition.objects.filter(order_id__in={e["order_id"] for e in events},
                                          action__in={e["action"] for e in events})
                .order_by("id").values(*_STEP_FIELDS)):
        newest[(row["order_id"], row["action"])] = row
    rows = []
    for e in events:
        row = newest.get((e["order_id"], e["action"]))
        if row is not None:
            rows.extend(_transition_rows(e["order_id"], e["action"], e.get("unit_id"), _step(row)))
    return _insert(rows)


def enqueue_for_deadline(*, order_id: int, kind: str) -> int:
    """Outbox rows for a clock that passed a threshold (临期 / 超期), to the lead unit.

    The rows are due from the threshold itself (the sweep found it passed), not from the clock on
    the wall, for the same reason as above.
    """
    event = DEADLINE_EVENTS.get(kind)
    order = _order_row(order_id) if event else None
    if order is None or order["lead_unit_id"] is None:
        return 0
    args = {"code": order["code"], "title": order["title"]}
    due = order["response_due"] if kind == "response_overdue" else order["resolve_due"]
    now = order["warn_at"] if kind == "warning" else due
    if kind == "warning":
        title = _("工单临期 %(code)s") % args
        body = _("工单 %(code)s「%(title)s」将于 %(due)s 到期，请抓紧办理。") % {**args, "due": _local(due)}
    elif kind == "response_overdue":
        title = _("工单签收超时 %(code)s") % args
        body = _("工单 %(code)s「%(title)s」已超过签收期限 %(due)s，请立即签收。") % {**args, "due": _local(due)}
    else:
        title = _("工单超期 %(code)s") % args
        body = _("工单 %(code)s「%(title)s」已超过办结期限 %(due)s，请尽快办结。") % {**args, "due": _local(due)}
    unit = order["lead_unit_id"]
    # One notice per clock and deadline: an approved extension moves the deadline and may warn again.
    return notification_enqueue(
        event, recipient_kind=RecipientKind.UNIT, recipient_id=unit, order_id=order_id, now=now,
        dedup_key=f"d{order_id}:{kind}:{due.isoformat() if due else '-'}:unit{unit}", title=title, body=body,
        data={"kind": kind, "unit_id": unit},
    )


# ---- delivery -----------------------------------------------------------------------------------

def recipients_for(message: OutboxMessage) -> list[Recipient]:
    """The people a message goes to, resolved now (a unit's current members)."""
    from huying.people.models import Membership, User

    from ..models import WorkOrder

    kind, rid = message.recipient_kind, message.recipient_id
    if kind == RecipientKind.UNIT:
        users = {m.user for m in Membership.objects.filter(unit_id=rid, active=True, user__is_active=True)
                 .select_related("user")}
        return [Recipient(u.pk, u.display_name or u.get_username(), u.phone, u.email)
                for u in sorted(users, key=lambda u: u.pk)]
    if kind == RecipientKind.USER:
        u = User.objects.filter(pk=rid, is_active=True).first()
        return [Recipient(u.pk, u.display_name or u.get_username(), u.phone, u.email)] if u else []
    order = WorkOrder.objects.filter(pk=rid).select_related("reporter").first()
    if order is None:
        return []
    who = order.reporter
    return [Recipient(who.pk if who else None, order.reporter_name, order.reporter_phone or (who.phone if who else ""),
                      who.email if who else "")]


def notify_deliver(*, now=None, limit: int = 100) -> dict[str, int]:
    """Deliver up to `limit` due messages, each in its own transaction; returns {"sent", "failed"}.

    A message is claimed with SELECT … FOR UPDATE SKIP LOCKED and held until its outcome is
    written, so several workers share the outbox without delivering a message twice. A sender that
    raises leaves the message pending with `next_attempt_at` pushed back (`retry_delay`).
    """
    now = now or timezone.now()
    counts = {"sent": 0, "failed": 0}
    for _i in range(limit):
        with transaction.atomic():
            message = (OutboxMessage.objects.select_for_update(skip_locked=True)
                       .filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
                       .order_by("next_attempt_at", "id").first())
            if message is None:
                break
            _deliver_one(message, now=now, counts=counts)
    return counts


def _deliver_one(message: OutboxMessage, *, now, counts: dict) -> None:
    path, sender = sender_for(message.channel)
    message.attempts += 1
    message.sender = path[:200]
    try:
        recipients = recipients_for(message)
        if not recipients:
            raise DeliveryError("no recipients")
        with transaction.atomic():  # a failing sender's own writes are undone, the bookkeeping stays
            sender.send(message, recipients)
    except Exception as exc:  # noqa: BLE001 - any sender failure means "try again later"
        message.next_attempt_at = now + retry_delay(message.attempts)
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        message.save(update_fields=["attempts", "sender", "next_attempt_at", "last_error"])
        counts["failed"] += 1
        logger.warning("notify: outbox %s failed (attempt %s), next at %s: %s", message.pk, message.attempts,
                       message.next_attempt_at.isoformat(), message.last_error)
        return
    message.status = OutboxMessage.Status.SENT
    message.sent_at = now
    message.last_error = ""
    message.save(update_fields=["attempts", "sender", "status", "sent_at", "last_error"])
    counts["sent"] += 1
