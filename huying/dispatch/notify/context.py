"""Template context for the base layout: the signed-in user's unread in-app messages (站内消息).

The value is a callable, so pages that never show it cost nothing, and pages that do pay one
query per request (see `selectors.inbox_unread_for_request`)."""

from functools import partial

from .selectors import inbox_unread_for_request


def inbox(request):
    return {"inbox_unread": partial(inbox_unread_for_request, request)}
