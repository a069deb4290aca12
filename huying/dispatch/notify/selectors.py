"""Reads of the in-app inbox (站内消息): a person's own messages only, with residents' numbers masked
for anyone outside the unit handling the order."""

from __future__ import annotations

from django.db.models import QuerySet

from huying.people.masking import mask_text
from huying.people.models import RoleCode, Unit
from huying.people.scope import scope_for

from .models import InAppMessage, RecipientKind

_REQUEST_CACHE = "_huying_inbox_unread"


def inbox_messages(*, actor) -> QuerySet[InAppMessage]:
    """The actor's messages, newest first."""
    return (InAppMessage.objects.filter(user_id=actor.pk)
            .select_related("order", "outbox")
            .order_by("-created_at", "-id"))


def inbox_unread_count(*, actor) -> int:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return 0
    return InAppMessage.objects.filter(user_id=actor.pk, read_at__isnull=True).count()


def inbox_unread_for_request(request) -> int:
    """The signed-in user's unread count, one query per request however often a page asks."""
    if not hasattr(request, _REQUEST_CACHE):
        setattr(request, _REQUEST_CACHE, inbox_unread_count(actor=getattr(request, "user", None)))
    return getattr(request, _REQUEST_CACHE)


def forget_unread_for_request(request) -> None:
    if hasattr(request, _REQUEST_CACHE):
        delattr(request, _REQUEST_CACHE)


def _sees_personal(message: InAppMessage, *, actor, scope) -> bool:
    """The reporter, the handling units (lead and co-handlers), operators and administrators see
    residents' numbers; a person who received the message for another unit (代收) does not."""
    if actor.is_superuser or scope.has_role(RoleCode.OPERATOR):
        return True
    order = message.order
    if order is not None:
        if order.reporter_id == actor.pk:
            return True
        handling = {order.lead_unit_id, *(u.pk for u in order.cohandlers.all())}
        return bool(handling & scope.unit_ids)
    outbox = message.outbox
    return (outbox is not None and outbox.fallback_unit_id is None and outbox.recipient_kind == RecipientKind.UNIT
            and outbox.recipient_id in scope.unit_ids)


def inbox_view_rows(messages, *, actor) -> list[dict]:
    """What the inbox shows of each message: title and body (masked where `_sees_personal` says so),
    and, for a message received for another unit, that unit's name."""
    messages = list(messages)
    scope = scope_for(actor)
    addressed = {m.outbox.recipient_id for m in messages
                 if m.outbox is not None and m.outbox.fallback_unit_id and m.outbox.recipient_kind == RecipientKind.UNIT}
    names = dict(Unit.objects.filter(pk__in=addressed).values_list("pk", "name")) if addressed else {}
    rows = []
    for m in messages:
        plain = _sees_personal(m, actor=actor, scope=scope)
        on_behalf = names.get(m.outbox.recipient_id) if m.outbox is not None and m.outbox.fallback_unit_id else None
        rows.append({"message": m, "title": m.title if plain else mask_text(m.title),
                     "body": m.body if plain else mask_text(m.body), "unread": m.read_at is None,
                     "on_behalf_of": on_behalf})
    return rows
