"""Admin for the territory. Tables reach tens of thousands of rows: foreign keys are raw-id or
autocomplete inputs (never a select of every row) and big lists skip the full COUNT(*).

Every change made here is written to the audit log in the admin's own transaction
(`AuditedModelAdmin`), as the one write path requires of any state change. Divisions go through
`services.division_save`/`division_delete` (`ServiceModelAdmin`): a code is checked against its
level and its parent's code before anything is saved, and the refusal shows next to the field.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from huying.core.adminkit import AuditedModelAdmin, ServiceModelAdmin

from .models import Building, Division, Grid, GridCrosswalk
from .services import division_delete, division_save


@admin.register(Division)
class DivisionAdmin(ServiceModelAdmin):
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

    def service_save(self, obj, *, values, actor, reason):
        return division_save(obj, values=values, actor=actor, reason=reason)

    def service_delete(self, obj, *, actor, reason):
        division_delete(obj, actor=actor, reason=reason)

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
