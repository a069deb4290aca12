"""Forms of the Party pages: they parse and shape input; the services decide and refuse.

A service's refusal (DomainError) goes next to the field it names through `add_domain_error`, so the
rules live once, in the services, and the page still says what is wrong where it is wrong.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from huying.core.errors import DomainError

from .models import (
    MemberStatus,
    NeedKind,
    ServiceKind,
    VisitStatus,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class DomainForm(forms.Form):
    """A form that can show a service's refusal beside the field it concerns (or above the form)."""

    # Service field names that the form calls differently.
    FIELD_ALIASES: dict[str, str] = {}

    def add_domain_error(self, exc: DomainError) -> None:
        field = self.FIELD_ALIASES.get(exc.field, exc.field)
        self.add_error(field if field in self.fields else None, exc.message)


def _hours_field():
    return forms.DecimalField(label=_l("服务时长（小时）"), min_value=0, max_value=24, decimal_places=1,
                              widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
                              error_messages={"required": _l("请填写服务时长。")})


# -- filters -----------------------------------------------------------------------------------
class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_l("姓名"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": _l("姓名"), "type": "search"}))
    reported = forms.ChoiceField(label=_l("报到情况"), required=False, choices=[
        ("", _l("全部报到情况")), ("yes", _l("已报到")), ("no", _l("未报到"))])
    status = forms.ChoiceField(label=_l("状态"), required=False,
                               choices=[("", _l("全部状态"))] + list(MemberStatus.choices))

    def selector_kwargs(self) -> dict:
        d = self.cleaned_data if self.is_valid() else {}
        reported = {"yes": True, "no": False}.get(d.get("reported") or "")
        return {"search": d.get("q") or "", "reported": reported, "status": d.get("status") or None}


class PeriodFilterForm(forms.Form):
    period = forms.RegexField(label=_l("半年度"), regex=r"^\d{4}H[12]$", required=False,
                              widget=forms.TextInput(attrs={"placeholder": "2024H1"}))


class YearFilterForm(forms.Form):
    year = forms.IntegerField(label=_l("年度"), min_value=2000, max_value=2100, required=False)


class SummaryFilterForm(forms.Form):
    root = forms.CharField(label=_l("区划代码"), required=False, max_length=20, widget=forms.HiddenInput)
    year = forms.IntegerField(label=_l("年度"), min_value=2000, max_value=2100, required=False,
                              widget=forms.NumberInput(attrs={"placeholder": _l("全部年度")}))


class StudioFilterForm(forms.Form):
    q = forms.CharField(label=_l("名称或地址"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": _l("名称或地址"), "type": "search"}))


class VisitFilterForm(forms.Form):
    status = forms.ChoiceField(label=_l("状态"), required=False,
                               choices=[("", _l("全部状态"))] + list(VisitStatus.choices))
    q = forms.CharField(label=_l("反映事项"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": _l("反映事项"), "type": "search"}))


# -- member ------------------------------------------------------------------------------------
class MemberReportForm(DomainForm):
    skills = forms.CharField(label=_l("特长/服务意向"), required=False, max_length=255,
                             widget=forms.TextInput(attrs={"placeholder": _l("例如：法律咨询、义诊、辅导功课")}))


class ServiceRecordForm(DomainForm):
    kind = forms.ChoiceField(label=_l("服务类别"), choices=ServiceKind.choices)
    hours = _hours_field()
    served_on = forms.DateField(label=_l("服务日期"), widget=DATE, error_messages={"required": _l("请选择服务日期。")})
    note = forms.CharField(label=_l("说明"), required=False, max_length=255)


# -- secretary ---------------------------------------------------------------------------------
class UnitReportForm(DomainForm):
    FIELD_ALIASES = {"organisation": "commitments", "address": "commitments"}
    commitments = forms.CharField(label=_l("服务承诺"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class RatingComputeForm(DomainForm):
    year = forms.IntegerField(label=_l("年度"), min_value=2000, max_value=2100)


# -- community ---------------------------------------------------------------------------------
class ReasonForm(DomainForm):
    reason = forms.CharField(label=_l("原因"), max_length=255, error_messages={"required": _l("请填写原因。")})


class NeedPostForm(DomainForm):
    kind = forms.ChoiceField(label=_l("类别"), choices=NeedKind.choices)
    title = forms.CharField(label=_l("标题"), max_length=120, error_messages={"required": _l("请填写标题。")})
    description = forms.CharField(label=_l("说明"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    requester_name = forms.CharField(label=_l("提出人"), required=False, max_length=60)


class NeedCompleteForm(DomainForm):
    hours = _hours_field()
    note = forms.CharField(label=_l("说明"), required=False, max_length=255)


# -- studios -----------------------------------------------------------------------------------
class VisitForm(DomainForm):
    topic = forms.CharField(label=_l("反映事项"), max_length=120, error_messages={"required": _l("请填写反映事项。")})
    content = forms.CharField(label=_l("具体内容"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    visitor_name = forms.CharField(label=_l("来访人"), required=False, max_length=60)
    visitor_phone = forms.CharField(label=_l("联系电话"), required=False, max_length=20,
                                    widget=forms.TextInput(attrs={"inputmode": "tel"}))
    address = forms.CharField(label=_l("地址"), required=False, max_length=255)
    lng = forms.FloatField(label=_l("经度"), required=False, widget=forms.NumberInput(attrs={"step": "any"}))
    lat = forms.FloatField(label=_l("纬度"), required=False, widget=forms.NumberInput(attrs={"step": "any"}))


class VisitReplyForm(DomainForm):
    reply = forms.CharField(label=_l("答复内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                            error_messages={"required": _l("请填写答复内容。")})


class VisitToOrderForm(DomainForm):
    """Which subject (事项分类) the work order opens under; the visit supplies the rest."""

    FIELD_ALIASES = {"location": "subject", "lng": "subject", "address": "subject"}
    request_type = forms.ChoiceField(label=_l("诉求类型"), required=False, choices=())
    subject_root = forms.ChoiceField(label=_l("事项大类"), required=False, choices=())
    subject = forms.CharField(label=_l("事项分类"), max_length=20, error_messages={"required": _l("请选择事项分类。")})

    def __init__(self, *args, **kwargs):
        from huying.dispatch.forms import subject_roots
        from huying.dispatch.models import RequestType, SubjectKind

        super().__init__(*args, **kwargs)
        self.fields["request_type"].choices = [("", _("请选择"))] + [
            (t.code, t.name) for t in RequestType.objects.filter(active=True).order_by("sort")]
        roots = subject_roots((SubjectKind.REQUEST, SubjectKind.EVENT, SubjectKind.COMPONENT))
        self.fields["subject_root"].choices = [("", _("请选择"))] + [(s.code, s.name) for s in roots]

    def root_code(self) -> str:
        data = self.data if self.is_bound else self.initial
        return (data.get("subject_root") or "").strip()

    def subject_groups(self):
        from huying.dispatch.forms import subject_groups

        root = self.root_code()
        return subject_groups(root) if root else []


class DutyForm(DomainForm):
    representative = forms.TypedChoiceField(label=_l("值班党代表"), coerce=int, choices=(),
                                            error_messages={"required": _l("请选择党代表。")})
    starts_at = forms.DateTimeField(label=_l("开始时间"), widget=DATETIME, input_formats=DATETIME_FORMATS,
                                    error_messages={"required": _l("请填写开始时间。")})
    ends_at = forms.DateTimeField(label=_l("结束时间"), widget=DATETIME, input_formats=DATETIME_FORMATS,
                                  error_messages={"required": _l("请填写结束时间。")})

    def __init__(self, *args, representatives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["representative"].choices = [("", _("请选择"))] + [
            (r.pk, f"{r.user}（{r.get_level_display()}）") for r in representatives]
