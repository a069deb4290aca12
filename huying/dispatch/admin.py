"""Admin: classification and routing are edited here; orders are read-only (services change them)."""

from django.contrib import admin

from huying.core.adminkit import ReadOnlyAdmin as ReadOnly

from .models import Assignment, RequestType, RoutingRule, Subject, Transition, WorkOrder


@admin.register(RequestType)
class RequestTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "response_limit", "response_unit", "resolve_limit", "resolve_unit", "active"]
    list_editable = ["response_limit", "response_unit", "resolve_limit", "resolve_unit", "active"]


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "default_level", "default_department", "urgency", "resolve_limit",
                    "resolve_unit", "onsite_check", "active"]
    list_filter = ["kind", "depth", "default_level", "urgency", "onsite_check", "active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent", "default_department"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["priority", "name", "subject", "request_type", "area_prefix", "urgency", "target_level",
                    "target_unit", "cohandler_level", "active"]
    list_editable = ["active"]
    raw_id_fields = ["subject", "target_unit"]


class TransitionInline(admin.TabularInline):
    model = Transition
    fields = ["at", "action", "from_state", "to_state", "actor_label", "unit", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnly):
    list_display = ["code", "title", "state", "channel", "subject", "lead_unit", "resolve_due", "deadline_state"]
    list_filter = ["state", "channel", "deadline_state", "urgency"]
    search_fields = ["code", "title"]
    inlines = [TransitionInline]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnly):
    list_display = ["order", "unit", "dispatched_at", "resolve_due", "outcome", "binding"]
    list_filter = ["outcome", "binding"]


from .notify import admin as _notify_admin  # noqa: E402,F401  the outbox, its dead letters, the inboxes
from .triage import admin as _triage_admin  # noqa: E402,F401  registers the classification mapping and history
