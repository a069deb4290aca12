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

A message to a unit reaches its members with a role that acts on it; a unit with nobody passes it
up its parents to a dispatcher or leader, then to the dispatch centre (`resolve_unit`), and the
receiving unit is kept on the message (`fallback_unit`). Nobody at all: undeliverable at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core import rows
from huying.core.errors import DomainError
from huying.people.models import Membership, RoleCode, Unit, UnitKind, User

from ..models import Transition, WorkOrder
from .models import InAppMessage, NotifyChannel, NotifyEvent, OutboxMessage, RecipientKind
from .senders import Recipient, Undeliverable, sender_for

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



def channels_for(event: str) -> list[str]:
    configured = settings.HUYING_NOTIFY_CHANNELS or {}
    return list(configured.get(event, DEFAULT_CHANNELS.get(event, [NotifyChannel.IN_APP])))


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed delivery (pure).

    By default 30 s, 1 min, 2 min … doubling up to an hour, and then hourly for as long as it takes.
    """
    base = settings.HUYING_NOTIFY_RETRY_BASE
    cap = settings.HUYING_NOTIFY_RETRY_CAP
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _outbox_rows(event: str, *, recipient_kind: str, recipient_id: int, title: str, body: str, dedup_key: str,
                 order_id: int | None = None, channels: list[str] | None = None, data: dict | None = None,
                 now=None) -> list[dict]:
    """The outbox rows (attname → value; the rest take their defaults) of one announcement, one per channel."""
    try:
        event = NotifyEvent(event)
        recipient_kind = RecipientKind(recipient_kind)
    except ValueError:
        raise DomainError("notify.bad_event", _("未知的通知类型或接收方。")) from None
    now = now or timezone.now()
    return [
        {"event": event.value, "channel": str(channel), "recipient_kind": recipient_kind.value,
         "recipient_id": recipient_id, "order_id": order_id, "dedup_key": f"{dedup_key}:{channel}"[:160],
         "title": str(title)[:120], "body": str(body), "data": data or {}, "next_attempt_at": now, "created_at": now}
        for channel in (channels if channels is not None else channels_for(event))
    ]


def _insert(messages: list[dict], *, count: bool = True) -> int:
    """Write the rows in one statement, skipping dedup keys already there (ON CONFLICT DO NOTHING);
    returns how many were new. With `count=False` nothing is read back (a pipelined intake sends the
    statement with the rest of its transaction) and the number of rows offered is returned."""
    if not messages:
        return 0
    written = rows.insert_rows(OutboxMessage, messages, ignore_conflicts=True, returning=count)
    return len(written) if written is not None else len(messages)


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
    row = Transition.objects.filter(order_id=order_id, action=action).order_by("-id").values(*_STEP_FIELDS).first()
    return _step(row) if row is not None else None


def _transition_rows(order_id: int, action: str, unit_id: int | None, order: dict) -> list[dict]:
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
    """`enqueue_for_transition` for many transitions (order_id, action, unit_id) in two queries:
    a batch intake of 500 auto-dispatched orders writes its 500 notices at once.

    An event that carries its step (`step`: the fields of `_STEP_FIELDS` as `_step` gives them, which
    intake has in hand) is not read back: its rows cost one INSERT for the whole batch, which reads
    nothing back either (its step is new, so its dedup keys are too; the count is of rows offered)."""
    events = [e for e in events if e["action"] in TRANSITION_EVENTS]
    if not events:
        return 0
    carried = [e for e in events if e.get("step")]
    if carried:
        out = [m for e in carried for m in _transition_rows(e["order_id"], e["action"], e.get("unit_id"), e["step"])]
        rest = [e for e in events if not e.get("step")]
        return _insert(out, count=False) + (enqueue_for_transitions(rest) if rest else 0)
    if len(events) == 1:
        e = events[0]
        return enqueue_for_transition(order_id=e["order_id"], action=e["action"], unit_id=e.get("unit_id"))
    newest: dict[tuple[int, str], dict] = {}
    for row in (Transition.objects.filter(order_id__in={e["order_id"] for e in events},
                                          action__in={e["action"] for e in events})
                .order_by("id").values(*_STEP_FIELDS)):
        newest[(row["order_id"], row["action"])] = row
    messages = []
    for e in events:
        row = newest.get((e["order_id"], e["action"]))
        if row is not None:
            messages.extend(_transition_rows(e["order_id"], e["action"], e.get("unit_id"), _step(row)))
    return _insert(messages)


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


# ---- who receives a message ----------------------------------------------------------------------

# Roles whose holders act on the notices addressed to their unit (派单, 临期/超期, 督办, 预警). Codes
# that no Role has yet (a community worker, a department handler) simply match nobody.
ACTING_ROLES = (RoleCode.HANDLER, RoleCode.UNIT_LEADER, RoleCode.DISPATCHER, RoleCode.GRID_WORKER,
                "community_worker", "department_handler")
# A unit above takes a notice its unit below cannot receive through the people who can re-dispatch
# or chase the work there (a community committee without a login → the street office's dispatcher).
FALLBACK_ROLES = (RoleCode.DISPATCHER, RoleCode.UNIT_LEADER)
# Last resort, for units whose chain of parents reaches nobody (city departments have no parent):
# the hotline's dispatch centre (指挥调度中心), which routed the order and can route it again.
COMMAND_ROLES = (RoleCode.DISPATCHER, RoleCode.UNIT_LEADER, RoleCode.OPERATOR)


@dataclass(frozen=True)
class Resolution:
    """The people a message goes to, the unit that received it for the addressed one (if any), and,
    when there is nobody, why."""

    recipients: list[Recipient]
    fallback_unit_id: int | None = None
    reason: str = ""


def _unit_people(unit_id: int, roles) -> list[Recipient]:
    users = {m.user for m in Membership.objects.filter(unit_id=unit_id, unit__active=True, active=True,
                                                       user__is_active=True, role__code__in=roles)
             .select_related("user")}
    return [Recipient(u.pk, u.display_name or u.get_username(), u.phone, u.email)
            for u in sorted(users, key=lambda u: u.pk)]


def _command_units(territory: str) -> list[int]:
    """Active dispatch centres, the one covering `territory` most closely first."""
    rows = list(Unit.objects.filter(kind=UnitKind.COMMAND, active=True).values_list("pk", "division__code"))
    return [pk for pk, code in sorted(rows, key=lambda r: (not (r[1] and territory.startswith(r[1])),
                                                           -len(r[1] or ""), r[0]))]


def resolve_unit(unit_id: int) -> Resolution:
    """Who receives a notice addressed to unit `unit_id`: its members with an acting role; else, going
    up its parents, the first unit with a dispatcher or leader; else the dispatch centre's staff."""
    unit = Unit.objects.filter(pk=unit_id).values("pk", "parent_id", "division__code", "grid__code").first()
    if unit is None:
        return Resolution([], reason=_("接收单位不存在（编号 %(id)s）") % {"id": unit_id})
    people = _unit_people(unit_id, ACTING_ROLES)
    if people:
        return Resolution(people)
    seen = {unit_id}
    parent = unit["parent_id"]
    while parent is not None and parent not in seen:
        seen.add(parent)
        people = _unit_people(parent, FALLBACK_ROLES)
        if people:
            return Resolution(people, fallback_unit_id=parent)
        parent = Unit.objects.filter(pk=parent).values_list("parent_id", flat=True).first()
    for command in _command_units(unit["grid__code"] or unit["division__code"] or ""):
        people = _unit_people(command, COMMAND_ROLES)
        if people:
            return Resolution(people, fallback_unit_id=None if command == unit_id else command)
    return Resolution([], reason=_("单位（编号 %(id)s）及其上级单位、指挥调度中心都没有可接收通知的人员")
                      % {"id": unit_id})


def resolve_recipients(message: OutboxMessage, *, cache: dict | None = None) -> Resolution:
    """The people `message` goes to, resolved now (a unit's current staff), with any fallback and reason.

    `cache` (unit id → Resolution) lets one delivery round resolve each unit once.
    """
    kind, rid = message.recipient_kind, message.recipient_id
    if kind == RecipientKind.UNIT:
        if cache is None:
            return resolve_unit(rid)
        if rid not in cache:
            cache[rid] = resolve_unit(rid)
        return cache[rid]
    if kind == RecipientKind.USER:
        u = User.objects.filter(pk=rid, is_active=True).first()
        if u is None:
            return Resolution([], reason=_("接收人（编号 %(id)s）不存在或已停用") % {"id": rid})
        return Resolution([Recipient(u.pk, u.display_name or u.get_username(), u.phone, u.email)])
    order = WorkOrder.objects.filter(pk=rid).select_related("reporter").first()
    if order is None:
        return Resolution([], reason=_("工单（编号 %(id)s）不存在") % {"id": rid})
    who = order.reporter if order.reporter_id and order.reporter.is_active else None
    phone = order.reporter_phone or (who.phone if who else "")
    if who is None and not phone:
        return Resolution([], reason=_("诉求人没有账号也没有手机号"))
    return Resolution([Recipient(who.pk if who else None, order.reporter_name, phone, who.email if who else "")])


def recipients_for(message: OutboxMessage) -> list[Recipient]:
    """The people a message goes to, resolved now (see `resolve_recipients`)."""
    return resolve_recipients(message).recipients


# ---- delivery -----------------------------------------------------------------------------------

def max_attempts() -> int:
    return max(1, int(settings.HUYING_NOTIFY_MAX_ATTEMPTS))


def notify_deliver(*, now=None, limit: int = 100) -> dict[str, int]:
    """Deliver up to `limit` due messages, each in its own transaction; returns {"sent", "failed", "dead"}.

    A message is claimed with SELECT … FOR UPDATE SKIP LOCKED and held until its outcome is
    written, so several workers share the outbox without delivering a message twice. A sender that
    raises leaves the message pending with `next_attempt_at` pushed back (`retry_delay`) — "failed" —
    until its `HUYING_NOTIFY_MAX_ATTEMPTS`-th failure, which makes it a dead letter; a message with
    nobody to receive it (or a sender's `Undeliverable`) is undeliverable at once. Both count as "dead".
    """
    now = now or timezone.now()
    counts = {"sent": 0, "failed": 0, "dead": 0}
    cache: dict = {}
    for _i in range(limit):
        with transaction.atomic():
            message = (OutboxMessage.objects.select_for_update(skip_locked=True)
                       .filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
                       .order_by("next_attempt_at", "id").first())
            if message is None:
                break
            _deliver_one(message, now=now, counts=counts, cache=cache)
    return counts


def deliver_pending(*, now=None, batch: int = 100, stopping=None) -> dict[str, int]:
    """Deliver everything due now, `batch` messages per round, until nothing due is left (or
    `stopping()` says so); returns {"sent", "failed", "dead"}. The entry point for `huying notify`
    and the worker; safe to run in several processes at once."""
    total = {"sent": 0, "failed": 0, "dead": 0}
    while True:
        counts = notify_deliver(now=now, limit=batch)
        for k in total:
            total[k] += counts[k]
        if sum(counts.values()) < batch or (stopping is not None and stopping()):
            return total


def _deliver_one(message: OutboxMessage, *, now, counts: dict, cache: dict | None = None) -> None:
    path, sender = sender_for(message.channel)
    message.attempts += 1
    message.sender = path[:200]
    fields = ["attempts", "sender", "status", "last_error", "fallback_unit"]
    try:
        resolution = resolve_recipients(message, cache=cache)
        message.fallback_unit_id = resolution.fallback_unit_id
        if not resolution.recipients:
            raise Undeliverable(resolution.reason or "no recipients")
        with transaction.atomic():  # a failing sender's own writes are undone, the bookkeeping stays
            sender.send(message, resolution.recipients)
    except Undeliverable as exc:
        message.status = OutboxMessage.Status.UNDELIVERABLE
        message.last_error = f"{_('无法投递')}: {exc}"[:2000]
        message.save(update_fields=fields)
        counts["dead"] += 1
        logger.warning("notify: outbox %s is undeliverable: %s", message.pk, message.last_error)
        return
    except Exception as exc:  # noqa: BLE001 - any sender failure means "try again later"
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= max_attempts():
            message.status = OutboxMessage.Status.DEAD
            message.save(update_fields=fields)
            counts["dead"] += 1
            logger.error("notify: outbox %s is a dead letter after %s attempts: %s", message.pk,
                         message.attempts, message.last_error)
            return
        message.next_attempt_at = now + retry_delay(message.attempts)
        message.save(update_fields=[*fields, "next_attempt_at"])
        counts["failed"] += 1
        logger.warning("notify: outbox %s failed (attempt %s), next at %s: %s", message.pk, message.attempts,
                       message.next_attempt_at.isoformat(), message.last_error)
        return
    message.status = OutboxMessage.Status.SENT
    message.sent_at = now
    message.last_error = ""
    message.save(update_fields=[*fields, "sent_at"])
    counts["sent"] += 1


# ---- the in-app inbox (站内消息) ------------------------------------------------------------------

def inbox_message_read(message: InAppMessage, *, actor, now=None) -> InAppMessage:
    """The recipient opens a message: it is marked read (once; reading is not audited)."""
    if actor is None or message.user_id != actor.pk:
        raise DomainError("notify.inbox.not_yours", _("这不是您的消息。"), status=404)
    if message.read_at is None:
        message.read_at = now or timezone.now()
        InAppMessage.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=message.read_at)
    return message


def inbox_mark_all_read(*, actor, now=None) -> int:
    """Mark every unread message of `actor` read; returns how many."""
    return InAppMessage.objects.filter(user=actor, read_at__isnull=True).update(read_at=now or timezone.now())
