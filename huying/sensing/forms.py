"""Forms of the sensing pages: they parse input; the services decide and refuse."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _l

from huying.core.forms import DomainForm, SpreadsheetField
from huying.dispatch.models import Subject, Urgency
from huying.people.models import Unit, UnitKind

from .models import RuleKind, SensorKind, SensorState


class FilterForm(forms.Form):
    q = forms.CharField(label=_l("编码、名称或场所"), required=False, max_length=60)
    kind = forms.ChoiceField(label=_l("类别"), required=False, choices=[("", _l("全部"))] + list(SensorKind.choices))
    state = forms.ChoiceField(label=_l("状态"), required=False,
                              choices=[("", _l("全部"))] + list(SensorState.choices))


class SensorForm(DomainForm):
    code = forms.CharField(label=_l("设备编码"), max_length=40)
    name = forms.CharField(label=_l("名称"), max_length=120)
    kind = forms.ChoiceField(label=_l("类别"), choices=SensorKind.choices)
    measure_unit = forms.CharField(label=_l("计量单位"), max_length=16, required=False)
    owner_unit = forms.ModelChoiceField(label=_l("权属单位"), queryset=Unit.objects.none(), empty_label=None)
    lng = forms.FloatField(label=_l("经度"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=_l("纬度"), min_value=-90, max_value=90)
    address = forms.CharField(label=_l("地址"), max_length=255, required=False)
    place = forms.CharField(label=_l("场所"), max_length=60, required=False,
                            help_text=_l("同一场所的设备可设“多设备组合”规则"))
    building = forms.CharField(label=_l("楼栋编码"), max_length=24, required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].queryset = units


class StateForm(DomainForm):
    state = forms.ChoiceField(label=_l("状态"), choices=SensorState.choices)
    note = forms.CharField(label=_l("说明"), max_length=200, required=False)


class ImportForm(DomainForm):
    file = SpreadsheetField(label=_l("设备清单（.xlsx 或 UTF-8 CSV）"))
    owner_unit = forms.ModelChoiceField(label=_l("默认权属单位"), queryset=Unit.objects.none(), required=False,
                                        help_text=_l("文件中未填写权属单位编码的行用此单位"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].queryset = units


PARAMS_HELP = _l('JSON，例如 {"threshold": 60}；变化速率 {"per_minute": 0.5}；静默 {"minutes": 30}；'
                 '组合 {"threshold": 0.5, "k": 2, "window_minutes": 5, "group_by": "place"}')


class RuleForm(DomainForm):
    name = forms.CharField(label=_l("名称"), max_length=120)
    kind = forms.ChoiceField(label=_l("规则类型"), choices=RuleKind.choices)
    sensor_kind = forms.ChoiceField(label=_l("设备类别"), choices=SensorKind.choices)
    params = forms.CharField(label=_l("参数"), max_length=500, help_text=PARAMS_HELP,
                             widget=forms.TextInput(attrs={"size": 40}))
    area_code = forms.CharField(label=_l("适用区域代码"), max_length=20, required=False,
                                help_text=_l("本辖区或其下级的区划/网格代码"))
    sensor = forms.CharField(label=_l("仅限设备编码"), max_length=40, required=False)
    owner_unit = forms.ModelChoiceField(label=_l("设置单位"), queryset=Unit.objects.none(), empty_label=None)
    subject = forms.ModelChoiceField(label=_l("工单事项分类"), queryset=Subject.objects.none(), to_field_name="code",
                                     empty_label=None)
    urgency = forms.ChoiceField(label=_l("紧急程度"), choices=Urgency.choices, initial=Urgency.URGENT)
    emergency = forms.BooleanField(label=_l("应急：自动吹哨"), required=False)
    whistle_departments = forms.ModelMultipleChoiceField(label=_l("吹哨召集部门"), queryset=Unit.objects.none(),
                                                         required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].queryset = units
        self.fields["subject"].queryset = Subject.objects.filter(active=True).order_by("code")
        self.fields["subject"].label_from_instance = lambda s: f"{s.code} {s.name}"
        self.fields["whistle_departments"].queryset = Unit.objects.filter(kind=UnitKind.DEPARTMENT,
                                                                          active=True).order_by("code")

    def clean_params(self):
        text = self.cleaned_data["params"]
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_l("参数须为 JSON 对象。")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_l("参数须为 JSON 对象。"))
        return value


class RuleEditForm(DomainForm):
    params = forms.CharField(label=_l("参数"), max_length=500, help_text=PARAMS_HELP,
                             widget=forms.TextInput(attrs={"size": 40}))
    urgency = forms.ChoiceField(label=_l("紧急程度"), choices=Urgency.choices)
    active = forms.BooleanField(label=_l("启用"), required=False)

    clean_params = RuleForm.clean_params
