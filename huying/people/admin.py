"""Admin for units, users, roles and memberships.

Creating a unit, a user or a membership goes through `people.services` (the one write path, with
its checks and audit row); the form dry-runs the service first so a refusal shows next to the
field. Other edits are audited by `AuditedModelAdmin`. Memberships are never edited or deleted
here: they are granted, and revoked with a reason (history is appended, never edited).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from huying.territory.admin import AuditedModelAdmin, add_refusal_to_form, adopt, service_refusal

from . import services
from .masking import mask_id_number, mask_phone
from .models import Membership, Role, Unit, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("unit", "role", "active", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _unit_create_call(data: dict, actor):
    return lambda: services.unit_create(code=data.get("code", ""), name=data.get("name", ""), kind=data.get("kind", ""),
                                        parent=data.get("parent"), division=data.get("division"),
                                        grid=data.get("grid"), actor=actor)


@admin.register(Unit)
class UnitAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind", "parent", "division", "grid", "active")
    list_filter = ("kind", "active", "division__level")
    search_fields = ("code", "name")
    list_select_related = ("parent", "division", "grid")
    autocomplete_fields = ("parent", "division", "grid")
    show_full_result_count = False
    list_per_page = 50

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        if obj is not None:
            return form_class

        class UnitAddForm(form_class):
            def clean(self):
                data = super().clean()
                if not self.errors:
                    exc = service_refusal(_unit_create_call(data, request.user))
                    if exc:
                        add_refusal_to_form(self, exc)
                return data

            def validate_unique(self):
                pass  # unit_create checks the code itself and says so next to the field

        return UnitAddForm

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        adopt(obj, _unit_create_call(form.cleaned_data, request.user)())


@admin.register(User)
class UserAdmin(DjangoUserAdmin, AuditedModelAdmin):
    list_display = ("username", "display_name", "phone", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "display_name", "phone", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("个人信息"), {"fields": ("display_name", "phone", "id_number", "first_name", "last_name", "email")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("username", "display_name", "phone", "id_number", "password1", "password2")}),
    )
    inlines = (MembershipInline,)
    show_full_result_count = False
    audit_masked = {"phone": mask_phone, "id_number": mask_id_number}

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()  # a new user has no memberships yet

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        if obj is not None:
            return form_class

        class UserAddForm(form_class):
            def clean(self):
                data = super().clean()
                if not self.errors:
                    exc = service_refusal(lambda: _user_create(data, request.user))
                    if exc:
                        add_refusal_to_form(self, exc)
                return data

        return UserAddForm

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        adopt(obj, _user_create(form.cleaned_data, request.user))


def _user_create(data: dict, actor) -> User:
    # Django's creation form has already judged the password against the validators.
    return services.user_create(username=data.get("username", ""), password=data.get("password1") or "",
                                display_name=data.get("display_name", ""), phone=data.get("phone", ""),
                                id_number=data.get("id_number", ""), actor=actor, check_password=False)


@admin.register(Role)
class RoleAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "group")
    search_fields = ("code", "name")
    list_select_related = ("group",)
    raw_id_fields = ("group",)


class MembershipGrantForm(forms.ModelForm):
    reason = forms.CharField(label=_("原因"), required=False, max_length=500)

    class Meta:
        model = Membership
        fields = ("user", "unit", "role")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "unit", "active", "created_at")
    list_filter = ("active", "role", "unit__kind")
    search_fields = ("user__username", "user__display_name", "unit__name", "unit__code", "role__name")
    list_select_related = ("user", "role", "unit")
    autocomplete_fields = ("user", "unit", "role")
    show_full_result_count = False
    list_per_page = 50
    actions = ("revoke",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, **kwargs)
        kwargs["form"] = MembershipGrantForm
        form_class = super().get_form(request, obj, **kwargs)

        class GrantForm(form_class):
            def clean(self):
                data = super().clean()
                if not self.errors:
                    exc = service_refusal(lambda: _grant(data, request.user))
                    if exc:
                        add_refusal_to_form(self, exc)
                return data

            def validate_unique(self):
                pass  # granting re-activates a revoked membership; the service refuses a live duplicate

        return GrantForm

    def get_fields(self, request, obj=None):
        return ("user", "unit", "role", "reason") if obj is None else ("user", "unit", "role", "active", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("user", "unit", "role", "active", "created_at")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is editable on a membership; it is revoked with the action instead
        adopt(obj, _grant(form.cleaned_data, request.user))

    @admin.action(description=_("撤销所选任职"), permissions=("change",))
    def revoke(self, request, queryset):
        done = 0
        for membership in queryset.filter(active=True):
            services.membership_revoke(membership, actor=request.user, reason=str(_("管理后台撤销")))
            done += 1
        self.message_user(request, ngettext("已撤销 %(n)d 项任职。", "已撤销 %(n)d 项任职。", done) % {"n": done},
                          messages.SUCCESS)


def _grant(data: dict, actor) -> Membership:
    return services.membership_grant(data["user"], unit=data["unit"], role_code=data["role"].code, actor=actor,
                                     reason=data.get("reason", ""))
