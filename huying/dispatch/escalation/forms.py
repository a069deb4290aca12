"""Forms of the whistle and supervision pages; services do the checking, forms only parse."""

from django import forms
from django.utils.translation import gettext_lazy as _

from huying.people.models import Unit, UnitKind

from .models import SupervisionCause, WhistleCall, WhistleKind


class WhistleForm(forms.Form):
    kind = forms.ChoiceField(label=_("哨类"), choices=WhistleKind.choices, initial=WhistleKind.ROUTINE)
    departments = forms.ModelMultipleChoiceField(
        label=_("召集部门"), queryset=Unit.objects.none(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一个被召集部门。")})
    reason = forms.CharField(label=_("吹哨事由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             error_messages={"required": _("请填写吹哨事由。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = Unit.objects.filter(kind=UnitKind.DEPARTMENT, active=True).order_by("code")


class CallFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("全部"))] + list(WhistleCall.Status.choices))


class SupervisionFilterForm(forms.Form):
    cause = forms.ChoiceField(label=_("督办原因"), required=False,
                              choices=[("", _("全部"))] + list(SupervisionCause.choices))


class SupervisionForm(forms.Form):
    order = forms.CharField(label=_("工单编号"), max_length=20,
                            error_messages={"required": _("请填写工单编号。")})
    note = forms.CharField(label=_("督办意见"), widget=forms.Textarea(attrs={"rows": 2}), required=False,
                           max_length=2000)
