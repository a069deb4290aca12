"""Admin pieces every app shares: audited saves and deletes, and service refusals shown on forms.

Every change made in the admin is written to the audit log in the admin's own transaction, as
the one write path requires of any state change.
"""

import datetime
import decimal

from django.contrib import admin
from django.db import models, transaction

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
