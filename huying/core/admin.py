"""Admin for the core app: the audit log (read-only) and the holiday calendar (through services)."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .models import AuditEntry, CalendarDay
from .services import calendar_day_delete, calendar_day_set
from .worktime import chinesecalendar_years, unknown_years


def year_ranges(years) -> str:
    """[2004, 2005, 2006, 2010] → "2004–2006、2010"."""
    years = sorted(set(years))
    parts: list[str] = []
    i = 0
    while i < len(years):
        j = i
        while j + 1 < len(years) and years[j + 1] == years[j] + 1:
            j += 1
        parts.append(str(years[i]) if i == j else f"{years[i]}–{years[j]}")
        i = j + 1
    return "、".join(parts)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log is append-only: administrators read and search it, nobody edits it."""

    list_display = ("created_at", "actor_label", "action", "target_label", "reason")
    list_filter = ("action", "target_type")
    search_fields = ("action", "target_label", "target_id", "actor_label", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "is_workday", "name")
    list_filter = ("is_workday",)
    search_fields = ("name",)
    date_hierarchy = "date"

    @admin.display(description=_lazy("星期"))
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]

    def get_readonly_fields(self, request, obj=None):
        # A day is keyed by its date; moving it is a delete plus a new entry, each audited.
        return ("date",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        saved = calendar_day_set(obj.date, is_workday=obj.is_workday, name=obj.name, actor=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        calendar_day_delete(obj, actor=request.user, reason=_("后台删除"))

    def delete_queryset(self, request, queryset):
        for day in queryset:
            calendar_day_delete(day, actor=request.user, reason=_("后台批量删除"))

    def changelist_view(self, request, extra_context=None):
        this_year = timezone.localdate().year
        entered = sorted({d.year for d in CalendarDay.objects.dates("date", "year")})
        known_lib = chinesecalendar_years()
        context = {
            "calendar_notice": {
                "library_years": year_ranges(known_lib),
                "entered_years": year_ranges(entered),
                "overridden_years": year_ranges(y for y in entered if y in known_lib),
                "entered_only_years": year_ranges(y for y in entered if y not in known_lib),
                "unknown_soon": year_ranges(unknown_years([this_year, this_year + 1])),
            }
        }
        context.update(extra_context or {})
        return super().changelist_view(request, extra_context=context)
