"""Forms of the Party pages: they parse and shape input; the services decide and refuse.

A service's refusal (DomainError) goes next to the field it names through `add_domain_error`, so the
rules live once, in the services, and the page still says what is wrong where it is wrong.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from huying.core.forms import DomainForm, SpreadsheetField

from .models import (
    ActivityStatus,
    ActivityType,
    AttendanceStatus,
    CommitmentStatus,
    MemberStatus,
    NeedKind,
    OrgType,
    PairingKind,
    PartnerTier,
    ProblemStatus,
    ServiceKind,
    VisitStatus,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


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


# -- joint activities (四个一) -------------------------------------------------------------------
class ActivityFilterForm(forms.Form):
    year = forms.IntegerField(label=_l("年度"), min_value=2000, max_value=2100, required=False,
                              widget=forms.NumberInput(attrs={"placeholder": _l("全部年度")}))
    type = forms.ChoiceField(label=_l("活动类型"), required=False,
                             choices=[("", _l("全部类型"))] + list(ActivityType.choices))
    status = forms.ChoiceField(label=_l("状态"), required=False,
                               choices=[("", _l("全部状态"))] + list(ActivityStatus.choices))


class ActivityPlanForm(DomainForm):
    activity_type = forms.ChoiceField(label=_l("活动类型"), choices=ActivityType.choices)
    title = forms.CharField(label=_l("主题"), max_length=120, error_messages={"required": _l("请填写主题。")})
    planned_at = forms.DateTimeField(label=_l("计划时间"), widget=DATETIME, input_formats=DATETIME_FORMATS,
                                     error_messages={"required": _l("请填写计划时间。")})
    place = forms.CharField(label=_l("地点"), required=False, max_length=120)
    planners = forms.TypedMultipleChoiceField(
        label=_l("共同组织单位"), coerce=int, choices=(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _l("请至少选择一个共同组织的单位。")})

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["planners"].choices = [(u.pk, u.name) for u in units]


class ActivityRecordForm(DomainForm):
    """Minutes, when it was held, and one attendance choice per member (`att-<member id>`)."""

    FIELD_ALIASES = {"attendance": "minutes"}
    held_at = forms.DateTimeField(label=_l("举行时间"), widget=DATETIME, input_formats=DATETIME_FORMATS,
                                  error_messages={"required": _l("请填写举行时间。")})
    minutes = forms.CharField(label=_l("会议记录"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5}),
                              error_messages={"required": _l("请填写会议记录。")})

    def __init__(self, *args, members=(), marked=None, **kwargs):
        super().__init__(*args, **kwargs)
        marked = marked or {}
        self.members = list(members)
        choices = [("", _("未登记"))] + list(AttendanceStatus.choices)
        for m in self.members:
            self.fields[f"att-{m.pk}"] = forms.ChoiceField(
                label=m.user.display_name or m.user.username, required=False, choices=choices,
                initial=marked.get(m.pk, ""))

    def attendance_rows(self):
        return [(m, self[f"att-{m.pk}"]) for m in self.members]

    def attendance(self) -> dict:
        return {m: self.cleaned_data[f"att-{m.pk}"] for m in self.members if self.cleaned_data.get(f"att-{m.pk}")}


# -- co-building (1+X+N) -----------------------------------------------------------------------
class ProblemFilterForm(forms.Form):
    status = forms.ChoiceField(label=_l("问题状态"), required=False,
                               choices=[("", _l("全部问题"))] + list(ProblemStatus.choices))


class PairingFilterForm(forms.Form):
    q = forms.CharField(label=_l("名称"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": _l("共建项目名称"), "type": "search"}))


class PairingCreateForm(DomainForm):
    FIELD_ALIASES = {"division": "division_code"}
    name = forms.CharField(label=_l("共建项目名称"), max_length=120, error_messages={"required": _l("请填写共建项目名称。")})
    kind = forms.ChoiceField(label=_l("类别"), choices=PairingKind.choices)
    lead = forms.TypedChoiceField(label=_l("牵头单位"), coerce=int, choices=(),
                                  error_messages={"required": _l("请选择牵头单位。")})
    joint_committee = forms.TypedChoiceField(label=_l("行业联合党委"), coerce=int, required=False, choices=(),
                                             empty_value=None)
    division_code = forms.CharField(label=_l("所在区划代码"), required=False, max_length=20,
                                    widget=forms.TextInput(attrs={"placeholder": "440104003"}))
    started_on = forms.DateField(label=_l("开始日期"), widget=DATE, error_messages={"required": _l("请选择开始日期。")})

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = {o.pk: o for o in organisations}
        self.fields["lead"].choices = [("", _("请选择"))] + [(o.pk, str(o)) for o in organisations]
        self.fields["joint_committee"].choices = [("", _("不适用"))] + [
            (o.pk, str(o)) for o in organisations if o.org_type == OrgType.INDUSTRY_COMMITTEE]


class PartnerAddForm(DomainForm):
    unit = forms.CharField(label=_l("共建单位（党组织名称或代码）"), max_length=120,
                           error_messages={"required": _l("请填写共建单位。")})
    tier = forms.ChoiceField(label=_l("层次"), choices=PartnerTier.choices)
    joined_on = forms.DateField(label=_l("加入日期"), widget=DATE, error_messages={"required": _l("请选择加入日期。")})


COMMITMENT_ROWS = 3


class AgreementForm(DomainForm):
    """An agreement with up to three commitments (unit, what, by when); more are added by a new agreement."""

    title = forms.CharField(label=_l("协议标题"), max_length=120, error_messages={"required": _l("请填写协议标题。")})
    signed_on = forms.DateField(label=_l("签订日期"), widget=DATE, error_messages={"required": _l("请选择签订日期。")})
    text = forms.CharField(label=_l("协议内容"), required=False, max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    shared_venues = forms.CharField(label=_l("共享阵地（每行一个）"), required=False, max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("请选择"))] + [(u.pk, u.name) for u in units]
        self.units = {u.pk: u for u in units}
        for i in range(1, COMMITMENT_ROWS + 1):
            self.fields[f"c{i}_unit"] = forms.TypedChoiceField(label=_l("承诺单位"), required=False, coerce=int,
                                                               choices=choices, empty_value=None)
            self.fields[f"c{i}_description"] = forms.CharField(label=_l("承诺事项"), required=False, max_length=255)
            self.fields[f"c{i}_due_on"] = forms.DateField(label=_l("完成期限"), required=False, widget=DATE)

    def commitment_rows(self):
        return [(self[f"c{i}_unit"], self[f"c{i}_description"], self[f"c{i}_due_on"])
                for i in range(1, COMMITMENT_ROWS + 1)]

    def clean(self):
        d = super().clean()
        for i in range(1, COMMITMENT_ROWS + 1):
            unit, text = d.get(f"c{i}_unit"), (d.get(f"c{i}_description") or "").strip()
            if unit and not text:
                self.add_error(f"c{i}_description", _("请填写承诺事项。"))
            elif text and not unit:
                self.add_error(f"c{i}_unit", _("请选择承诺单位。"))
        return d

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        commitments = [{"unit": self.units[d[f"c{i}_unit"]], "description": d[f"c{i}_description"],
                        "due_on": d.get(f"c{i}_due_on")}
                       for i in range(1, COMMITMENT_ROWS + 1) if d.get(f"c{i}_unit")]
        return {"title": d["title"], "signed_on": d["signed_on"], "text": d["text"],
                "shared_venues": (d["shared_venues"] or "").splitlines(), "commitments": commitments}


class CommitmentProgressForm(DomainForm):
    progress = forms.IntegerField(label=_l("进度（%）"), min_value=0, max_value=100,
                                  error_messages={"required": _l("请填写进度。")})
    status = forms.ChoiceField(label=_l("状态"), required=False,
                               choices=[("", _l("按进度"))] + [(CommitmentStatus.DROPPED, _l("终止"))])
    note = forms.CharField(label=_l("进展说明"), required=False, max_length=255)


class ProblemRaiseForm(DomainForm):
    title = forms.CharField(label=_l("问题"), max_length=120, error_messages={"required": _l("请填写问题。")})
    description = forms.CharField(label=_l("说明"), required=False, max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    address = forms.CharField(label=_l("地址"), required=False, max_length=255)


class ProblemSolveForm(DomainForm):
    resolution = forms.CharField(label=_l("解决情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                                 error_messages={"required": _l("请填写解决情况。")})


class ProblemToOrderForm(VisitToOrderForm):
    """The same subject picker as a studio visit's; the problem supplies title, text and place."""


# -- star rating -------------------------------------------------------------------------------
class RatingAdjustForm(DomainForm):
    adjustment = forms.DecimalField(label=_l("调整分值"), min_value=-50, max_value=50, decimal_places=1,
                                    widget=forms.NumberInput(attrs={"step": "0.5"}),
                                    error_messages={"required": _l("请填写调整分值（可为负数）。")})
    reason = forms.CharField(label=_l("调整理由"), max_length=255, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _l("调整评星结果必须填写理由。")})


# -- service teams and half-year returns ---------------------------------------------------------
class TeamCreateForm(DomainForm):
    name = forms.CharField(label=_l("服务队名称"), max_length=120, error_messages={"required": _l("请填写服务队名称。")})
    speciality = forms.CharField(label=_l("服务方向"), required=False, max_length=60)


class ReturnsSendForm(DomainForm):
    period = forms.RegexField(label=_l("半年度"), regex=r"^\d{4}H[12]$", max_length=7,
                              widget=forms.TextInput(attrs={"placeholder": "2024H1"}),
                              error_messages={"required": _l("请填写半年度。"),
                                              "invalid": _l("半年度格式为 2024H1 或 2024H2。")})
    comment = forms.CharField(label=_l("社区评价"), required=False, max_length=255)


class TeamFilterForm(forms.Form):
    q = forms.CharField(label=_l("名称或方向"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": _l("名称或方向"), "type": "search"}))


# -- member import -------------------------------------------------------------------------------
class MemberImportForm(DomainForm):
    """The upload of a member list (党员导入); the service reads and checks every row."""

    file = SpreadsheetField(label=_l("党员名单（.xlsx 或 UTF-8 CSV）"))
