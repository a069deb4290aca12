"""Forms of the admission pages: they parse input; the services in `admission` decide and refuse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _l

from huying.core.forms import DomainForm

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TaskForm(DomainForm):
    department = forms.ModelChoiceField(label=_l("交办部门"), queryset=None, empty_label=None)
    community = forms.ModelChoiceField(label=_l("承接社区"), queryset=None)
    title = forms.CharField(label=_l("任务名称"), max_length=200)
    detail = forms.CharField(label=_l("任务内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label=_l("完成期限"), widget=DATE)
    item = forms.ModelChoiceField(label=_l("依据准入事项"), queryset=None, required=False,
                                  empty_label=_l("（不引用准入事项：将标记为未准入）"))

    def __init__(self, *args, departments, communities, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.fields["community"].queryset = communities
        self.fields["item"].queryset = items
        self.fields["item"].label_from_instance = lambda i: f"{i.code} {i.category} · {i.name}"


class ApplyForm(DomainForm):
    department = forms.ModelChoiceField(label=_l("申请部门"), queryset=None, empty_label=None)
    category = forms.CharField(label=_l("类别"), max_length=60)
    name = forms.CharField(label=_l("事项名称"), max_length=200)
    legal_basis = forms.CharField(label=_l("设定依据"), max_length=255)
    funding = forms.CharField(label=_l("经费保障"), max_length=160)
    reason = forms.CharField(label=_l("申请理由"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class DecideForm(DomainForm):
    """The committee's answer to a task: accept, refuse as 未准入, or return (with a reason)."""

    reason = forms.CharField(label=_l("理由"), max_length=255, required=False)


class ReviewForm(DomainForm):
    note = forms.CharField(label=_l("审核意见"), max_length=255, required=False)


class RevokeForm(DomainForm):
    item = forms.ModelChoiceField(label=_l("准入事项"), queryset=None)
    reason = forms.CharField(label=_l("撤销理由"), max_length=255)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = items
        self.fields["item"].label_from_instance = lambda i: f"{i.code} {i.name}"
