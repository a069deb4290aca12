"""Admin for sensing: the administrator's tool for corrections; every save and delete is audited.

Readings and rule states are derived data and read-only here (readings come only through ingest).
"""

from django.contrib import admin

from huying.core.adminkit import AuditedModelAdmin

from . import models as m


class _Admin(AuditedModelAdmin):
    show_full_result_count = False
    list_per_page = 50


@admin.register(m.Sensor)
class SensorAdmin(_Admin):
    list_display = ("code", "name", "kind", "owner_unit", "state", "area_label", "last_seen")
    list_filter = ("kind", "state")
    search_fields = ("code", "name", "place", "address")
    list_select_related = ("owner_unit",)
    raw_id_fields = ("owner_unit", "building", "grid")
    readonly_fields = ("last_seen", "last_value")


@admin.register(m.AlertRule)
class AlertRuleAdmin(_Admin):
    list_display = ("name", "kind", "sensor_kind", "area_code", "subject", "urgency", "emergency", "active")
    list_filter = ("kind", "sensor_kind", "emergency", "active")
    search_fields = ("name", "area_code")
    list_select_related = ("subject",)
    raw_id_fields = ("sensor", "owner_unit", "subject", "whistle_by", "whistle_departments")


class _ReadOnly(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(m.Reading)
class ReadingAdmin(_ReadOnly):
    list_display = ("sensor", "ts", "value")
    raw_id_fields = ("sensor",)


@admin.register(m.RuleState)
class RuleStateAdmin(_ReadOnly):
    list_display = ("rule", "key", "firing", "since", "alert")
    list_filter = ("firing",)
