"""Admin for every services model: the administrator's tool for corrections.

Every save and delete here is audited (`AuditedModelAdmin`: admin.object.created/changed/deleted with
the changed fields' old and new values); phone numbers are masked in the log and the lists.
Where a change must pass a service's rules the admin does not bypass them:
- a position's place is checked by the same rules as `position_create` (kind ↔ division level,
  coordinates, grid and building inside the division); its opening hours and desk setting are
  read-only here (set on the set-up pages through `position_hours_set` / `desk_setting_set`);
- a catalogue item is cleaned by the catalogue's rules (`_clean_item`);
- an admission list's status and dates change only by publishing (`admission_list_publish`), an
  admitted matter of a list no longer in draft only by revocation, a 减负 entry's status only by
  `burden_item_cut`; tasks and applications are read-only (their state machine and deadlines);
- appointments, desk matters and hand-overs are read-only (slot capacity, 首问负责制 ownership);
- a community worker's post, level and grade change only through registration and progression,
  assessments and grade changes are history, the pay scale is data loaded from its file.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from huying.core.adminkit import AuditedModelAdmin, ReadOnlyAdmin, add_refusal_to_form
from huying.core.errors import DomainError
from huying.people.masking import mask_phone

from . import models as m
from .services import _check_position, _clean_item


class _Admin(AuditedModelAdmin):
    show_full_result_count = False
    list_per_page = 50


class _ReadOnly(ReadOnlyAdmin):
    show_full_result_count = False
    list_per_page = 50


# -- positions and the catalogue -----------------------------------------------------------------

class OpeningHoursInline(admin.TabularInline):
    model = m.OpeningHours
    extra = 0
    fields = ("day", "opens", "closes", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(m.ServicePosition)
class ServicePositionAdmin(_Admin):
    list_display = ("name", "kind", "unit", "division", "address", "masked_phone", "open_on_holidays", "active")
    list_filter = ("kind", "active", "open_on_holidays")
    search_fields = ("name", "address", "unit__name", "unit__code", "division__name", "division__code")
    list_select_related = ("unit", "division")
    autocomplete_fields = ("unit", "division", "grid")
    raw_id_fields = ("building",)
    inlines = (OpeningHoursInline,)
    audit_masked = {"phone": mask_phone}

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone) if obj.phone else "—"

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class PositionForm(form_class):
            def clean(self):
                data = super().clean()
                if self.errors or data.get("division") is None:
                    return data
                try:
                    _check_position(kind=data.get("kind"), division=data["division"], grid=data.get("grid"),
                                    building=data.get("building"), lng=data.get("lng"), lat=data.get("lat"))
                    unit = data.get("unit")
                    if unit is not None and not unit.active:
                        raise DomainError("services.position.unit_inactive", _("主办单位已停用。"), field="unit")
                except DomainError as exc:
                    add_refusal_to_form(self, exc)
                return data

        return PositionForm


@admin.register(m.OpeningHours)
class OpeningHoursAdmin(_ReadOnly):
    list_display = ("position", "day", "opens", "closes", "note")
    list_filter = ("day",)
    search_fields = ("position__name",)
    list_select_related = ("position",)


@admin.register(m.ServiceItem)
class ServiceItemAdmin(_Admin):
    list_display = ("code", "name", "category", "level", "time_limit_days", "fee", "active")
    list_filter = ("level", "active", "category")
    search_fields = ("code", "name", "category")
    raw_id_fields = ("departments", "positions")

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class ItemForm(form_class):
            def clean(self):
                data = super().clean()
                if self.errors:
                    return data
                try:
                    data.update(_clean_item({k: data[k] for k in (
                        "code", "name", "category", "level", "documents", "time_limit_days", "fee", "legal_basis")
                        if k in data}))
                except DomainError as exc:
                    add_refusal_to_form(self, exc)
                return data

        return ItemForm

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()  # codes are cited by appointments and matters


# -- admission list and 减负 ------------------------------------------------------------------------

@admin.register(m.AdmissionList)
class AdmissionListAdmin(_Admin):
    list_display = ("version", "title", "status", "published_on", "superseded_on")
    list_filter = ("status",)
    search_fields = ("version", "title")
    readonly_fields = ("status", "published_on", "superseded_on", "created_at")  # publish on the set-up page


@admin.register(m.AdmissionItem)
class AdmissionItemAdmin(_Admin):
    list_display = ("code", "name", "category", "admission_list", "lead_department_name", "revoked_on")
    list_filter = ("admission_list", ("revoked_on", admin.EmptyFieldListFilter))
    search_fields = ("code", "name", "category", "lead_department_name")
    list_select_related = ("admission_list",)
    raw_id_fields = ("lead_department",)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.admission_list.status != m.AdmissionListStatus.DRAFT:
            # in force or superseded: the published record; a matter leaves it only by revocation
            return [f.name for f in self.model._meta.fields]
        return ("revoked_on", "revoked_reason")

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.admission_list.status != m.AdmissionListStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(m.CommunityTask)
class CommunityTaskAdmin(_ReadOnly):
    list_display = ("title", "department", "community", "admitted", "state", "due_on", "created_at")
    list_filter = ("state", "admitted")
    search_fields = ("title", "department__name", "community__name")
    list_select_related = ("department", "community")


@admin.register(m.AdmissionApplication)
class AdmissionApplicationAdmin(_ReadOnly):
    list_display = ("name", "department", "state", "submitted_at", "review_due_at", "reviewed_in_time")
    list_filter = ("state", "reviewed_in_time")
    search_fields = ("name", "department__name")
    list_select_related = ("department",)


@admin.register(m.BurdenItem)
class BurdenItemAdmin(_Admin):
    list_display = ("name", "kind", "department_name", "status", "cut_on")
    list_filter = ("kind", "status")
    search_fields = ("name", "department_name", "note")
    readonly_fields = ("status", "cut_on")  # cut on the set-up page (burden_item_cut)


# -- the desk ----------------------------------------------------------------------------------------

@admin.register(m.DeskSetting)
class DeskSettingAdmin(_ReadOnly):
    list_display = ("position", "slot_minutes", "slot_capacity")
    search_fields = ("position__name",)
    list_select_related = ("position",)


@admin.register(m.Appointment)
class AppointmentAdmin(_ReadOnly):
    list_display = ("position", "item", "slot_start", "name", "masked_phone", "state")
    list_filter = ("state",)
    search_fields = ("position__name", "item__name", "name")
    list_select_related = ("position", "item")
    date_hierarchy = "slot_start"

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone) if obj.phone else "—"


@admin.register(m.DeskMatter)
class DeskMatterAdmin(_ReadOnly):
    list_display = ("item", "position", "applicant_name", "masked_phone", "state", "owner", "due_at", "overdue")
    list_filter = ("state", "overdue")
    search_fields = ("position__name", "item__name", "applicant_name", "work_order_code")
    list_select_related = ("item", "position", "owner")
    exclude = ("applicant_phone",)

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj):
        return mask_phone(obj.applicant_phone) if obj.applicant_phone else "—"


@admin.register(m.MatterHandover)
class MatterHandoverAdmin(_ReadOnly):
    list_display = ("matter", "from_user", "to_user", "reason", "at")
    search_fields = ("reason", "matter__applicant_name")
    list_select_related = ("matter__item", "from_user", "to_user")


# -- community workers and street offices ----------------------------------------------------------

@admin.register(m.PayScale)
class PayScaleAdmin(_ReadOnly):
    list_display = ("version", "title", "in_force", "loaded_at")
    list_filter = ("in_force",)
    search_fields = ("version", "title")


@admin.register(m.PayGrade)
class PayGradeAdmin(_ReadOnly):
    list_display = ("scale", "level_name", "grade", "coefficient")
    list_filter = ("scale", "level")
    list_select_related = ("scale",)


@admin.register(m.CommunityWorker)
class CommunityWorkerAdmin(_Admin):
    list_display = ("user", "unit", "post", "level", "grade", "started_on", "active")
    list_filter = ("post", "level", "active", "education")
    search_fields = ("user__display_name", "user__username", "unit__name", "unit__code")
    list_select_related = ("user", "unit")
    raw_id_fields = ("user", "unit")
    # registered on the pages or by import; grades move only by progression (晋档、降档 with history)
    readonly_fields = ("user", "unit", "post", "level", "grade", "entry_grade", "entry_year", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(m.WorkerAssessment)
class WorkerAssessmentAdmin(_ReadOnly):
    list_display = ("worker", "year", "result", "recorded_by", "recorded_at")
    list_filter = ("year", "result")
    search_fields = ("worker__user__display_name", "worker__unit__name")
    list_select_related = ("worker__user", "worker__unit", "recorded_by")


@admin.register(m.GradeChange)
class GradeChangeAdmin(_ReadOnly):
    list_display = ("worker", "year", "old_grade", "new_grade", "reason", "at")
    list_filter = ("year",)
    search_fields = ("worker__user__display_name", "reason")
    list_select_related = ("worker__user", "worker__unit")


@admin.register(m.StreetOffice)
class StreetOfficeAdmin(_Admin):
    list_display = ("name", "code", "street", "also_named", "order")
    search_fields = ("name", "code", "street__name", "street__code")
    list_select_related = ("street",)
    raw_id_fields = ("unit", "street")


@admin.register(m.OfficeDuty)
class OfficeDutyAdmin(_Admin):
    list_display = ("item", "office", "kind", "order")
    list_filter = ("kind",)
    search_fields = ("item", "legal_basis", "office__name")
    list_select_related = ("office",)
    raw_id_fields = ("office",)
