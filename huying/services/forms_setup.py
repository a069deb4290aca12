"""Forms of the set-up pages (服务阵地设置): they parse input; the services decide and refuse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _l

from .forms_admission import DATE, DomainForm
from .models import (
    AdmissionList,
    AssessmentResult,
    Day,
    Education,
    HandlingLevel,
    PositionKind,
    SocialWorkQualification,
    WorkerPost,
)

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
PERIODS_PER_DAY = 3  # e.g. morning, afternoon and a 错时 evening period


class PositionForm(DomainForm):
    kind = forms.ChoiceField(label=_l("类别"), choices=PositionKind.choices)
    name = forms.CharField(label=_l("名称"), max_length=120)
    unit = forms.ModelChoiceField(label=_l("主办单位"), queryset=None, empty_label=None)
    address = forms.CharField(label=_l("地址"), max_length=255, widget=forms.TextInput(attrs={
        "size": 40, "placeholder": _l("写上区、街道、社区名称，系统据此定位；也可填写经纬度")}))
    lng = forms.FloatField(label=_l("经度"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=_l("纬度"), required=False, min_value=-90, max_value=90)
    phone = forms.CharField(label=_l("联系电话"), max_length=40, required=False)

    def __init__(self, *args, units, by_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        field.queryset = units
        if by_code:  # an administrator: any street office or committee, named by its unit code
            field.to_field_name = "code"
            field.widget = forms.TextInput(attrs={"placeholder": "gov-440104003"})
            field.help_text = _l("单位编码")


class PositionEditForm(DomainForm):
    name = forms.CharField(label=_l("名称"), max_length=120)
    address = forms.CharField(label=_l("地址"), max_length=255)
    lng = forms.FloatField(label=_l("经度"), required=False, min_value=-180, max_value=180,
                           help_text=_l("留空：按地址重新定位（地址改动时）"))
    lat = forms.FloatField(label=_l("纬度"), required=False, min_value=-90, max_value=90)
    phone = forms.CharField(label=_l("联系电话"), max_length=40, required=False)
    active = forms.BooleanField(label=_l("启用"), required=False)


def hours_field(day: int, slot: int, part: str) -> str:
    return f"d{day}_{slot}_{part}"


class HoursForm(DomainForm):
    """Rows per weekday (and statutory holidays), each with up to PERIODS_PER_DAY periods."""

    open_on_holidays = forms.BooleanField(label=_l("法定节假日开放"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day in Day.values:
            for slot in range(PERIODS_PER_DAY):
                self.fields[hours_field(day, slot, "opens")] = forms.TimeField(
                    label=_l("开始"), required=False, widget=TIME)
                self.fields[hours_field(day, slot, "closes")] = forms.TimeField(
                    label=_l("结束"), required=False, widget=TIME)
                self.fields[hours_field(day, slot, "note")] = forms.CharField(
                    label=_l("说明"), required=False, max_length=60)

    def rows(self):
        """Per day: (label, [(opens, closes, note) bound fields])."""
        return [(Day(day).label, [tuple(self[hours_field(day, slot, part)] for part in ("opens", "closes", "note"))
                                  for slot in range(PERIODS_PER_DAY)]) for day in Day.values]

    def clean(self):
        data = super().clean()
        for day in Day.values:
            for slot in range(PERIODS_PER_DAY):
                o, c = hours_field(day, slot, "opens"), hours_field(day, slot, "closes")
                if o in self.errors or c in self.errors:
                    continue
                if data.get(o) and not data.get(c):
                    self.add_error(c, _l("请填写结束时间。"))
                elif data.get(c) and not data.get(o):
                    self.add_error(o, _l("请填写开始时间。"))
        return data

    def periods(self) -> list[tuple]:
        """(day, opens, closes, note, slot) of every filled row."""
        data = self.cleaned_data
        out = []
        for day in Day.values:
            for slot in range(PERIODS_PER_DAY):
                opens = data.get(hours_field(day, slot, "opens"))
                if opens:
                    out.append((day, opens, data[hours_field(day, slot, "closes")],
                                data.get(hours_field(day, slot, "note")) or "", slot))
        return out


class DeskForm(DomainForm):
    slot_minutes = forms.IntegerField(label=_l("每个预约时段（分钟）"))
    slot_capacity = forms.IntegerField(label=_l("每个时段可约人数"))


class ItemForm(DomainForm):
    code = forms.CharField(label=_l("事项编码"), max_length=40)
    name = forms.CharField(label=_l("事项名称"), max_length=120)
    category = forms.CharField(label=_l("类别"), max_length=40, required=False)
    level = forms.ChoiceField(label=_l("办理层级"), choices=HandlingLevel.choices)
    documents = forms.CharField(label=_l("所需材料"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                help_text=_l("每行一项"))
    time_limit_days = forms.IntegerField(label=_l("法定办结时限（工作日）"), required=False,
                                         help_text=_l("空：即办件"))
    fee = forms.CharField(label=_l("收费"), max_length=60, required=False, help_text=_l("空：不收费"))
    legal_basis = forms.CharField(label=_l("设定依据"), max_length=255, required=False)
    active = forms.BooleanField(label=_l("启用"), required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["documents"] = [line.strip() for line in (data.get("documents") or "").splitlines() if line.strip()]
        return data


class DraftForm(DomainForm):
    version = forms.CharField(label=_l("版本"), max_length=40)
    title = forms.CharField(label=_l("名称"), max_length=160)
    copy_from = forms.ModelChoiceField(label=_l("复制事项自"), queryset=AdmissionList.objects.all(), required=False,
                                       empty_label=_l("（不复制，空白草稿）"))
    source_note = forms.CharField(label=_l("来源说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CutForm(DomainForm):
    reason = forms.CharField(label=_l("说明"), max_length=255, required=False)


class WorkerForm(DomainForm):
    name = forms.CharField(label=_l("姓名"), max_length=60)
    phone = forms.CharField(label=_l("手机号码"), max_length=20)
    post = forms.ChoiceField(label=_l("岗位"), choices=WorkerPost.choices)
    started_on = forms.DateField(label=_l("从事社区工作时间"), widget=DATE)
    education = forms.ChoiceField(label=_l("学历"), choices=Education.choices)
    qualification = forms.ChoiceField(label=_l("社会工作者职业资格"), choices=SocialWorkQualification.choices,
                                      required=False)
    entry_grade = forms.IntegerField(label=_l("定档档次"), required=False, help_text=_l("空：本级第 1 档"))


class AssessForm(DomainForm):
    year = forms.IntegerField(label=_l("年度"))
    result = forms.ChoiceField(label=_l("考核结果"), choices=AssessmentResult.choices)
    note = forms.CharField(label=_l("说明"), max_length=255, required=False)
