"""Admin pieces every app shares: audited saves and deletes, and service refusals shown on forms.

Every change made in the admin is written to the audit log in the admin's own transaction, as
the one write path requires of any state change.
"""

import datetime
import decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from huying.core.audit import audit_log
from huying.core.errors import DomainError


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and records kept by the services: visible in the admin, never edited there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class ServiceModelAdmin(AuditedModelAdmin):
    """Add, change and delete through the app's service, so the admin keeps the one write path.

    Subclasses give `service_save(obj_or_None, *, values, actor, reason)` and
    `service_delete(obj, *, actor, reason)`. The form dry-runs `service_save` in a rolled-back
    savepoint (`service_refusal`), so a refused value is shown next to its field and nothing is
    saved; the real call then writes the change and its audit row in the admin's transaction.
    The same holds for the changelist's inline edits (`list_editable`). An optional reason field
    on every form goes into the audit row as the why.
    """

    reason_field = "audit_reason"

    def service_save(self, obj, *, values: dict, actor, reason: str):
        raise NotImplementedError

    def service_delete(self, obj, *, actor, reason: str) -> None:
        raise NotImplementedError

    def service_values(self, form) -> dict:
        """The form's model fields as the service takes them (many-to-many ones included).

        A change passes only what the form changed, so a value the form cannot show exactly (a
        join date's microseconds) is neither rewritten nor logged.
        """
        opts = self.model._meta
        model_fields = {f.name for f in (*opts.concrete_fields, *opts.many_to_many) if not f.primary_key}
        names = set(form.changed_data) if form.instance.pk else set(form.fields)
        return {name: value for name, value in form.cleaned_data.items() if name in model_fields and name in names}

    def service_reason(self, form, change: bool) -> str:
        reason = (form.cleaned_data.get(self.reason_field) or "").strip()
        return reason or (_("管理后台修改") if change else _("管理后台新增"))

    def _service_form(self, form_class, request):
        admin_ = self

        class ServiceForm(form_class):
            def clean(self):
                data = super().clean()
                if not self.errors:
                    target = self.instance if self.instance.pk else None
                    exc = service_refusal(lambda: admin_.service_save(
                        target, values=admin_.service_values(self), actor=request.user,
                        reason=admin_.service_reason(self, target is not None)))
                    if exc:
                        add_refusal_to_form(self, exc)
                return data

            def validate_unique(self):
                pass  # the service checks codes and names itself and says so next to the field

        ServiceForm.__name__ = form_class.__name__
        return ServiceForm

    def get_form(self, request, obj=None, **kwargs):
        base = kwargs.get("form") or self.form
        kwargs["form"] = type(base.__name__, (base,), {self.reason_field: forms.CharField(
            label=_lazy("变更原因"), required=False, max_length=500, help_text=_lazy("记入审计日志"))})
        return self._service_form(super().get_form(request, obj, **kwargs), request)

    def get_changelist_form(self, request, **kwargs):
        return self._service_form(super().get_changelist_form(request, **kwargs), request)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if self.reason_field not in flatten_fieldsets(fieldsets):
            fieldsets.append((_lazy("变更说明"), {"fields": (self.reason_field,)}))
        return fieldsets

    def save_model(self, request, obj, form, change):
        # `obj` already holds the form's values; services re-read (and lock) the stored row by pk.
        saved = self.service_save(obj if change else None,
                                  values=self.service_values(form), actor=request.user,
                                  reason=self.service_reason(form, change))
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields were set by the service (and audited there); only inlines remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        self.service_delete(obj, actor=request.user, reason=_("管理后台删除"))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.service_delete(obj, actor=request.user, reason=_("管理后台批量删除"))
