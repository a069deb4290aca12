"""Admin: classification and routing are edited here; orders are read-only (services change them).

Request types, subjects and routing rules are added, changed and deleted through
`services.refdata` (`ServiceModelAdmin`): its checks show next to the field, and each change is
audited with old and new values in the admin's transaction.
"""

from django.contrib import admin

from huying.core.adminkit import ReadOnlyAdmin as ReadOnly
from huying.core.adminkit import ServiceModelAdmin

from .models import Assignment, RequestType, RoutingRule, Subject, Transition, WorkOrder
from .services import refdata


@admin.register(RequestType)
class RequestTypeAdmin(ServiceModelAdmin):
    list_display = ["code", "name", "response_limit", "response_unit", "resolve_limit", "resolve_unit", "active"]
    list_editable = ["response_limit", "response_unit", "resolve_limit", "resolve_unit", "active"]

    def service_save(self, obj, *, values, actor, reason):
        return refdata.request_type_save(obj, values=values, actor=actor, reason=reason)

    def service_delete(self, obj, *, actor, reason):
        refdata.request_type_delete(obj, actor=actor, reason=reason)


@admin.register(Subject)
class SubjectAdmin(ServiceModelAdmin):
    list_display = ["code", "name", "kind", "default_level", "default_department", "urgency", "resolve_limit",
                    "resolve_unit", "onsite_check", "active"]
    list_filter = ["kind", "depth", "default_level", "urgency", "onsite_check", "active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent", "default_department"]
    readonly_fields = ["depth"]  # follows from the parent

    def service_save(self, obj, *, values, actor, reason):
        return refdata.subject_save(obj, values=values, actor=actor, reason=reason)

    def service_delete(self, obj, *, actor, reason):
        refdata.subject_delete(obj, actor=actor, reason=reason)


@admin.register(RoutingRule)
class RoutingRuleAdmin(ServiceModelAdmin):
    list_display = ["priority", "name", "subject", "request_type", "area_prefix", "urgency", "target_level",
                    "target_unit", "cohandler_level", "active"]
    list_editable = ["active"]
    raw_id_fields = ["subject", "target_unit"]

    def service_save(self, obj, *, values, actor, reason):
        return refdata.routing_rule_save(obj, values=values, actor=actor, reason=reason)

    def service_delete(self, obj, *, actor, reason):
        refdata.routing_rule_delete(obj, actor=actor, reason=reason)


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
