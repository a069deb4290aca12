"""Pluggable senders: one per channel, chosen by settings.HUYING_NOTIFY_SENDERS.

    HUYING_NOTIFY_SENDERS = {
        "sms": "huying.dispatch.notify.senders.SmsHttpSender",     # POSTs to HUYING_SMS_GATEWAY_URL
        "email": "huying.dispatch.notify.senders.EmailSender",     # Django's EMAIL_BACKEND
        "in_app": "huying.dispatch.notify.senders.InAppSender",    # writes InAppMessage rows
        "*": "huying.dispatch.notify.senders.LoggingSender",       # any channel not named
    }

Without the setting in-app messages go to the inboxes (`InAppSender`) and every other channel to
`LoggingSender`. A sender raises to say "not delivered"; the outbox keeps the message and tries
again later (`Undeliverable`: never, it is marked so at once). A sender runs inside the worker's
transaction (in a savepoint), so database writes it makes are undone when it raises.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.module_loading import import_string

from huying.people.masking import mask_phone

from .models import InAppMessage

logger = logging.getLogger("huying.notify")

DEFAULT_SENDER = "huying.dispatch.notify.senders.LoggingSender"
# In-app delivery needs nothing outside the database, so it is on unless configured otherwise.
DEFAULT_SENDERS = {"in_app": "huying.dispatch.notify.senders.InAppSender"}


class DeliveryError(Exception):
    """The message could not be delivered now; the outbox will try again."""


class Undeliverable(DeliveryError):
    """The message can never be delivered to these recipients (none has an account, a phone, an
    address): the outbox marks it undeliverable at once instead of retrying it."""


@dataclass(frozen=True)
class Recipient:
    user_id: int | None
    name: str = ""
    phone: str = ""
    email: str = ""


class Sender:
    """Deliver `message` (an OutboxMessage) to `recipients`; raise to have it retried."""

    def send(self, message, recipients: list[Recipient]) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class LoggingSender(Sender):
    """Writes each delivery to the `huying.notify` log: the default, and the demo's."""

    def send(self, message, recipients):
        for r in recipients:
            logger.info("notify %s/%s to user=%s phone=%s: %s", message.event, message.channel, r.user_id,
                        mask_phone(r.phone), message.title)


class InAppSender(Sender):
    """Puts the message in each recipient's in-app inbox (once per message and person)."""

    def send(self, message, recipients):
        users = sorted({r.user_id for r in recipients if r.user_id})
        if not users:
            raise Undeliverable("no recipient has an account for in-app messages")
        now = timezone.now()
        InAppMessage.objects.bulk_create(
            [InAppMessage(user_id=u, outbox=message, order_id=message.order_id, event=message.event,
                          title=message.title, body=message.body, created_at=now) for u in users],
            ignore_conflicts=True,
        )


class EmailSender(Sender):
    """Sends through Django's configured EMAIL_BACKEND."""

    def send(self, message, recipients):
        to = sorted({r.email for r in recipients if r.email})
        if not to:
            raise Undeliverable("no recipient has an e-mail address")
        send_mail(message.title, message.body, None, to, fail_silently=False)


class SmsHttpSender(Sender):
    """POSTs {"phones": [...], "text": "..."} as JSON to settings.HUYING_SMS_GATEWAY_URL (any 2xx is success)."""

    timeout = 10

    def send(self, message, recipients):
        url = settings.HUYING_SMS_GATEWAY_URL
        if not url:
            raise DeliveryError("HUYING_SMS_GATEWAY_URL is not set")
        phones = sorted({r.phone for r in recipients if r.phone})
        if not phones:
            raise Undeliverable("no recipient has a phone number")
        body = json.dumps({"phones": phones, "text": f"{message.title}：{message.body}",
                           "ref": f"outbox-{message.pk}"}, ensure_ascii=False).encode()
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - configured gateway URL
            if not 200 <= resp.status < 300:
                raise DeliveryError(f"SMS gateway answered {resp.status}")


def sender_for(channel: str) -> tuple[str, Sender]:
    """The configured sender for `channel` (its dotted path and an instance)."""
    configured = settings.HUYING_NOTIFY_SENDERS or {}
    path = configured.get(channel) or configured.get("*") or DEFAULT_SENDERS.get(channel, DEFAULT_SENDER)
    return path, import_string(path)()
