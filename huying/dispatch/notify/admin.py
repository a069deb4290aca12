"""Admin: the outbox with its dead letters (status filter: 无法投递 / 死信) and the in-app messages.

Both are records kept by the services, so they are read-only here; an administrator fixes the cause
(a unit's staffing, a sender's settings) and the outbox's next messages go through."""

from django.contrib import admin

from huying.core.adminkit import ReadOnlyAdmin

from .models import InAppMessage, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "event", "channel", "recipient_kind", "recipient_id", "fallback_unit", "status",
                    "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "event", "channel", "recipient_kind"]
    search_fields = ["title", "dedup_key", "order__code", "last_error"]
    list_select_related = ["fallback_unit"]
    date_hierarchy = "created_at"


@admin.register(InAppMessage)
class InAppMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "event", "title", "created_at", "read_at"]
    list_filter = ["event", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "title"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "outbox", "order"]
