"""Form pieces every app's pages share: a service's refusal shown beside its field, and the upload of
a spreadsheet (an all-or-nothing import reads it; see `party.services.imports`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from huying.core.errors import DomainError

SPREADSHEET_SUFFIXES = (".xlsx", ".csv")


class DomainForm(forms.Form):
    """A form that shows a service's refusal (DomainError) beside the field it names, or above the form."""

    # Service field names that the form calls differently.
    FIELD_ALIASES: dict[str, str] = {}

    def add_domain_error(self, exc: DomainError) -> None:
        field = self.FIELD_ALIASES.get(exc.field, exc.field)
        self.add_error(field if field in self.fields else None, exc.message)


class SpreadsheetField(forms.FileField):
    """An .xlsx or UTF-8 CSV upload; another suffix is refused beside the field."""

    def __init__(self, *, label, **kwargs):
        kwargs.setdefault("error_messages", {"required": _l("请选择文件。")})
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ",".join(SPREADSHEET_SUFFIXES)}))
        super().__init__(label=label, **kwargs)

    def clean(self, data, initial=None):
        f = super().clean(data, initial)
        if f and not f.name.lower().endswith(SPREADSHEET_SUFFIXES):
            raise forms.ValidationError(_("请上传 .xlsx 或 .csv 文件。"), code="suffix")
        return f
