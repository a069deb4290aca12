"""Admin for the territory. Tables reach tens of thousands of rows: foreign keys are raw-id or
autocomplete inputs (never a select of every row) and big lists skip the full COUNT(*).

Every change made here is written to the audit log in the admin's own transaction
(`AuditedModelAdmin`), as the one write path requires of any state change.
"""

import datetime
import decimal

from django.contrib import admin
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError

from .models import Building, Division, Grid, GridCrosswalk


def _plain(value):
    """A form value as JSON: model instances by primary key, dates and decimals as text."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet | list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date | datetime.time | decimal.Decimal):
        return str(value)
    return value


class AuditedModelAdmin(admin.ModelAdmin):
    """Writes `admin.object.created/changed/deleted` with the changed fields' old and new values.

    `audit_masked` maps a field to a function that hides its value in the log (the log is read
    more widely than the record); `audit_hidden` fields are logged as changed without values.
    """

    audit_masked: dict = {}
    audit_hidden: tuple = ("password", "password1", "password2")

    def _audit_values(self, form, source) -> dict:
        out = {}
        for name in form.changed_data:
            if name in self.audit_hidden:
                out[name] = "***"
                continue
            value = _plain(source.get(name))
            out[name] = self.audit_masked[name](value) if name in self.audit_masked and value else value
        return out

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.audit_saved(request, obj, form, change)

    def audit_saved(self, request, obj, form, change):
        old = self._audit_values(form, form.initial) if change else None
        audit_log(obj, "admin.object.changed" if change else "admin.object.created", actor=request.user,
                  old=old, new=self._audit_values(form, form.cleaned_data))

    def delete_model(self, request, obj):
        audit_log(obj, "admin.object.deleted", actor=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                audit_log(obj, "admin.object.deleted", actor=request.user)
            super().delete_queryset(request, queryset)


class _DryRun(Exception):
    pass


def service_refusal(call) -> DomainError | None:
    """Run a service call in a savepoint that is always rolled back; return its refusal, if any.

    Admin forms use it to show a service's DomainError next to the field before the real call.
    """
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        return None
    except DomainError as exc:
        return exc


def add_refusal_to_form(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def adopt(obj, created) -> None:
    """Make the admin's unsaved `obj` stand for the row a service created (for messages and redirects)."""
    obj.pk = created.pk
    obj._state.adding = False
    obj._state.db = created._state.db


@admin.register(Division)
class DivisionAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "level", "kind", "parent", "official_code", "generated")
    list_filter = ("level", "kind", "official_code", "generated")
    search_fields = ("code", "name", "short_name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    ordering = ("code",)
    show_full_result_count = False
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("code", "name", "short_name", "level", "kind", "parent")}),
        (_("来源"), {"fields": ("official_code", "generated", "geometry_generated")}),
        (_("位置"), {"fields": ("lng", "lat", "geometry"), "classes": ("collapse",)}),
    )

    def get_search_results(self, request, queryset, search_term):
        # A code typed in full or in part is a prefix: match it on the index, not with LIKE '%…%'.
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(code__startswith=term), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Grid)
class GridAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "layer", "community", "area_m2", "generated")
    list_filter = ("layer", "generated", "community__level")
    search_fields = ("code", "name")
    list_select_related = ("community",)
    autocomplete_fields = ("community",)
    show_full_result_count = False
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("code", "name", "layer", "community", "generated")}),
        (_("位置"), {"fields": ("lng", "lat", "area_m2", "geometry"), "classes": ("collapse",)}),
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(code__startswith=term), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Building)
class BuildingAdmin(AuditedModelAdmin):
    list_display = ("code", "address", "grid", "households", "generated")
    list_filter = ("generated", "grid__layer")
    search_fields = ("code", "address", "grid__code")
    list_select_related = ("grid",)
    raw_id_fields = ("grid",)
    show_full_result_count = False
    list_per_page = 50

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(code__startswith=term), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(GridCrosswalk)
class GridCrosswalkAdmin(AuditedModelAdmin):
    list_display = ("source", "source_layer", "target", "share", "created_at")
    list_filter = ("source__layer",)
    search_fields = ("source__code", "source__name", "target__code", "target__name")
    list_select_related = ("source", "target")
    raw_id_fields = ("source", "target")
    show_full_result_count = False
    list_per_page = 50

    @admin.display(description=_("原图层"), ordering="source__layer")
    def source_layer(self, obj):
        return obj.source.layer
