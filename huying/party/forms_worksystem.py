"""Forms of the Party-building work-system pages: they parse input; the services decide and refuse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _l

from .forms import DATE, DomainForm
from .models import WorkStatus


def _date(label, required=True):
    return forms.DateField(label=label, required=required, widget=DATE,
                           error_messages={"required": _l("请填写日期。"), "invalid": _l("日期格式无效。")})


def _unit_field(label, required=False):
    return forms.CharField(label=label, required=required, max_length=120,
                           help_text=_l("单位名称或编码"), error_messages={"required": _l("请填写单位。")})


class PlanForm(DomainForm):
    organisation = forms.TypedChoiceField(label=_l("党组织"), coerce=int, choices=(),
                                          error_messages={"required": _l("请选择党组织。")})
    year = forms.IntegerField(label=_l("年度"), min_value=2000, max_value=2100,
                              error_messages={"required": _l("请填写年度。")})
    title = forms.CharField(label=_l("方案名称"), max_length=120, error_messages={"required": _l("请填写方案名称。")})
    summary = forms.CharField(label=_l("主要内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = {o.pk: o for o in organisations}
        self.fields["organisation"].choices = [(o.pk, f"{o.unit.name}（{o.division.name}）") for o in organisations]


class PlanEditForm(DomainForm):
    title = forms.CharField(label=_l("方案名称"), max_length=120, error_messages={"required": _l("请填写方案名称。")})
    summary = forms.CharField(label=_l("主要内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class MeasureForm(DomainForm):
    item = forms.CharField(label=_l("措施"), max_length=255, error_messages={"required": _l("请填写措施内容。")})
    owner_unit = _unit_field(_l("责任单位"))
    owner_name = forms.CharField(label=_l("责任人"), required=False, max_length=60)
    due_on = _date(_l("完成时限"))


class MilestoneForm(DomainForm):
    title = forms.CharField(label=_l("节点"), max_length=120, error_messages={"required": _l("请填写节点。")})
    due_on = _date(_l("计划日期"))


class ProgressForm(DomainForm):
    progress = forms.IntegerField(label=_l("进度(%)"), min_value=0, max_value=100,
                                  error_messages={"required": _l("请填写进度。")})
    status = forms.ChoiceField(label=_l("状态"), required=False,
                               choices=[("", _l("按进度自动"))] + list(WorkStatus.choices))
    note = forms.CharField(label=_l("进展说明"), required=False, max_length=255)


class SiteForm(DomainForm):
    name = forms.CharField(label=_l("名称"), max_length=120, error_messages={"required": _l("请填写示范点名称。")})
    theme = forms.CharField(label=_l("示范主题"), max_length=120, error_messages={"required": _l("请填写示范主题。")})
    division_code = forms.CharField(label=_l("区划代码"), required=False, max_length=20,
                                    help_text=_l("示范点为街道或社区时填写"))
    organisation = _unit_field(_l("党组织"))
    rating = forms.TypedChoiceField(label=_l("评定星级"), required=False, coerce=int, empty_value=None,
                                    choices=[("", _l("未评定"))] + [(i, "★" * i) for i in range(1, 6)])
    designated_on = _date(_l("确定日期"))
    FIELD_ALIASES = {"division": "division_code"}


class ProjectForm(DomainForm):
    name = forms.CharField(label=_l("项目名称"), max_length=120, error_messages={"required": _l("请填写项目名称。")})
    owner_unit = _unit_field(_l("责任单位"))
    owner_name = forms.CharField(label=_l("责任人"), required=False, max_length=60)
    budget = forms.DecimalField(label=_l("预算（万元）"), required=False, min_value=0, max_digits=12, decimal_places=2)
    due_on = _date(_l("完成时限"), required=False)


class PointForm(DomainForm):
    leader = forms.CharField(label=_l("联系领导（登录名）"), max_length=150,
                             error_messages={"required": _l("请填写联系领导。")})
    division_code = forms.CharField(label=_l("街道或社区代码"), max_length=20,
                                    error_messages={"required": _l("请填写区划代码。")})
    post = forms.CharField(label=_l("职务"), required=False, max_length=60)
    since = _date(_l("建立日期"))
    FIELD_ALIASES = {"division": "division_code"}


class VisitRecordForm(DomainForm):
    visited_on = _date(_l("走访日期"))
    visitors = forms.CharField(label=_l("参加人员"), max_length=255, error_messages={"required": _l("请填写参加人员。")})
    findings = forms.CharField(label=_l("发现的问题"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    follow_ups = forms.CharField(label=_l("跟进事项"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    address = forms.CharField(label=_l("问题地址"), required=False, max_length=255)


class MeetingForm(DomainForm):
    title = forms.CharField(label=_l("会议名称"), max_length=120, error_messages={"required": _l("请填写会议名称。")})
    held_on = _date(_l("召开日期"))
    agenda = forms.CharField(label=_l("议题（每行一项）"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    present = forms.CharField(label=_l("出席单位（每行一个，名称或编码）"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    absent = forms.CharField(label=_l("缺席单位（每行一个）"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(DomainForm):
    text = forms.CharField(label=_l("议定事项"), max_length=255, error_messages={"required": _l("请填写议定事项。")})
    owner_unit = _unit_field(_l("责任单位"), required=True)
    due_on = _date(_l("完成时限"))


class DecisionDoneForm(DomainForm):
    note = forms.CharField(label=_l("落实情况"), required=False, max_length=255)
