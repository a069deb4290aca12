"""Admin for units, users, roles, memberships and API tokens.

Creating, changing and deleting a unit or a user, a user's password, and granting a membership go
through `people.services` (the one write path, with its checks and audit row); the form dry-runs
the service first so a refusal shows next to the field (`ServiceModelAdmin`). Roles are audited
by `AuditedModelAdmin`. Memberships are never edited or deleted
here: they are granted, and revoked with a reason (history is appended, never edited). API tokens
likewise: issued through `api_token_create` (the token is shown once), revoked with a reason.
"""

import contextvars
import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from huying.core.adminkit import (
    AuditedModelAdmin,
    ServiceModelAdmin,
    add_refusal_to_form,
    adopt,
    service_refusal,
)
from huying.core.errors import DomainError

from . import services
from .masking import mask_id_number, mask_phone
from .models import ApiToken, Membership, Role, Unit, User


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
class UnitAdmin(ServiceModelAdmin):
    list_display = ("code", "name", "kind", "parent", "division", "grid", "review_results", "active")
    list_filter = ("kind", "active", "review_results", "division__level")
    search_fields = ("code", "name")
    list_select_related = ("parent", "division", "grid")
    autocomplete_fields = ("parent", "division", "grid")
    show_full_result_count = False
    list_per_page = 50

    def service_save(self, obj, *, values, actor, reason):
        if obj is None:
            return _unit_create_call(values, actor)()
        return services.unit_update(obj, values=values, actor=actor, reason=reason)

    def service_delete(self, obj, *, actor, reason):
        services.unit_delete(obj, actor=actor, reason=reason)


# The admin's password page builds its form itself; the acting user reaches the form's save here.
_password_actor: contextvars.ContextVar = contextvars.ContextVar("people_admin_password_actor", default=None)


class AuditedPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password form, saving through `services.user_set_password` (audited)."""

    def save(self, commit=True):
        usable = self.cleaned_data.get("set_usable_password", True)
        return services.user_set_password(self.user, password=self.cleaned_data["password1"] if usable else None,
                                          actor=_password_actor.get(), reason=str(_("管理后台修改密码")))


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ServiceModelAdmin):
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
        (_("变更说明"), {"fields": ("audit_reason",)}),  # Django's UserAdmin returns these as they are
    )
    change_password_form = AuditedPasswordChangeForm
    inlines = (MembershipInline,)
    show_full_result_count = False
    audit_masked = {"phone": mask_phone, "id_number": mask_id_number}

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()  # a new user has no memberships yet

    def service_values(self, form) -> dict:
        values = super().service_values(form)
        if "password1" in form.cleaned_data:
            values["password1"] = form.cleaned_data["password1"]
        return values

    def service_save(self, obj, *, values, actor, reason):
        if obj is None:
            return _user_create(values, actor)
        return services.user_update(obj, values=values, actor=actor, reason=reason)

    def service_delete(self, obj, *, actor, reason):
        services.user_delete(obj, actor=actor, reason=reason)

    def user_change_password(self, request, id, form_url=""):
        token = _password_actor.set(request.user)
        try:
            with transaction.atomic():
                return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)


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


# -- API tokens: issued through the service, shown once, revoked with a reason; never edited --------

class ApiTokenIssueForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    name = forms.CharField(label=_("用途"), max_length=80, help_text=_("例如：12345 热线系统对接"))
    expires_at = forms.DateTimeField(label=_("过期时间"), required=False, help_text=_("留空为长期有效"),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean_username(self):
        user = User.objects.filter(username=self.cleaned_data["username"].strip()).first()
        if user is None:
            raise forms.ValidationError(_("没有这个用户。"))
        return user


class ApiTokenRevokeForm(forms.Form):
    reason = forms.CharField(label=_("吊销原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


# The pages are small and belong to this admin alone, so their templates live here.
ISSUE_PAGE = """{% extends "admin/base_site.html" %}{% load i18n %}
{% block content %}<div id="content-main">
{% if token %}
  <p>{% translate "令牌已签发。它只显示这一次，系统只保存其摘要；请立即复制并妥善保存。" %}</p>
  <p><code id="api-token" style="font-size:1.2em;user-select:all">{{ token }}</code></p>
  <p>{% translate "请求时放在请求头：" %}<code>Authorization: Bearer …</code></p>
  <p><a class="button" href="{{ list_url }}">{% translate "返回令牌列表" %}</a></p>
{% else %}
  <form method="post" novalidate>{% csrf_token %}
    {{ form.non_field_errors }}
    <fieldset class="module aligned">{% for field in form %}<div class="form-row">
      {{ field.errors }}{{ field.label_tag }} {{ field }}
      {% if field.help_text %}<div class="help">{{ field.help_text }}</div>{% endif %}</div>{% endfor %}
    </fieldset>
    <div class="submit-row"><input type="submit" class="default" value="{% translate '签发令牌' %}"></div>
  </form>
{% endif %}
</div>{% endblock %}"""

REVOKE_PAGE = """{% extends "admin/base_site.html" %}{% load i18n %}
{% block content %}<div id="content-main">
  <p>{% translate "吊销后，携带这些令牌的请求将立即被拒绝：" %}</p>
  <ul>{% for t in tokens %}<li>{{ t }} · {{ t.user }}</li>{% endfor %}</ul>
  <form method="post" novalidate>{% csrf_token %}
    {% for t in tokens %}<input type="hidden" name="{{ checkbox_name }}" value="{{ t.pk }}">{% endfor %}
    <input type="hidden" name="action" value="revoke"><input type="hidden" name="confirm" value="1">
    {{ form.reason.errors }}{{ form.reason.label_tag }} {{ form.reason }}
    <div class="submit-row"><input type="submit" class="default" value="{% translate '确认吊销' %}"></div>
  </form>
</div>{% endblock %}"""


@functools.cache
def _template(source: str):
    return engines["django"].from_string(source)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: a token is issued by `api_token_create` (shown once) and revoked with a reason."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at", "created_at")
    search_fields = ("name", "prefix", "user__username", "user__display_name")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "expires_at", "revoked_at")
    readonly_fields = fields
    show_full_result_count = False
    list_per_page = 50
    actions = ("revoke",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("people.change_apitoken")

    def _page(self, request, template, context, title):
        ctx = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **context}
        response = TemplateResponse(request, _template(template), ctx)
        response["Cache-Control"] = "no-store"  # the token must not stay in any cache
        return response

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiTokenIssueForm(request.POST or None)
        token = None
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                _row, token = services.api_token_create(d["username"], name=d["name"], actor=request.user,
                                                        expires_at=d.get("expires_at"))
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return self._page(request, ISSUE_PAGE, {"form": form, "token": token,
                                                "list_url": reverse("admin:people_apitoken_changelist")},
                          _("签发接口令牌"))

    @admin.action(description=_("吊销所选令牌"), permissions=("revoke",))
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        if not tokens:
            self.message_user(request, _("所选令牌均已吊销。"), messages.WARNING)
            return None
        form = ApiTokenRevokeForm(request.POST if request.POST.get("confirm") else None)
        if form.is_bound and form.is_valid():
            now = timezone.now()
            for token in tokens:
                services.api_token_revoke(token, actor=request.user, reason=form.cleaned_data["reason"], now=now)
            self.message_user(request, ngettext("已吊销 %(n)d 个令牌。", "已吊销 %(n)d 个令牌。", len(tokens))
                              % {"n": len(tokens)}, messages.SUCCESS)
            return None
        return self._page(request, REVOKE_PAGE, {"form": form, "tokens": tokens,
                                                 "checkbox_name": helpers.ACTION_CHECKBOX_NAME},
                          _("吊销接口令牌"))
