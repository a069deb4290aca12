"""Forms of the dispatch pages: they parse and shape input; the services decide and refuse.

A refusal from a service (DomainError) is put next to the field it names with `add_domain_error`,
so the checks live once, in the services, and the page still says what is wrong where it is wrong.
"""

import uuid
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from huying.core.errors import DomainError
from huying.core.forms import DomainForm as CoreDomainForm

from . import selectors
from .models import RequestType, Satisfaction, State, Subject, SubjectKind, WorkOrder

STALE_MESSAGE = _l("该工单已被他人更新，请刷新后重试")


def new_key() -> str:
    return uuid.uuid4().hex


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; their content is checked by the service (images only, size)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class DomainForm(CoreDomainForm):
    """Core's DomainForm, with dispatch's stale-version message and the location group under the address."""

    def add_domain_error(self, exc: DomainError) -> None:
        message = str(STALE_MESSAGE) if exc.code == "dispatch.stale" else exc.message
        field = None if exc.code == "dispatch.stale" else exc.field
        # The location group (address, or a point) shows its errors under the address field.
        if field == "location" and "location" not in self.fields:
            field = "address" if "address" in self.fields else None
        if field not in self.fields:
            field = None
        self.add_error(field, message)


def subject_roots(kinds=None) -> list[Subject]:
    qs = Subject.objects.filter(parent__isnull=True, active=True)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return list(qs.order_by("code"))


def subject_groups(root_code: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The leaves under a top-level subject, grouped by their parent, for a <select> with optgroups."""
    root = Subject.objects.filter(code=root_code, parent__isnull=True, active=True).first()
    if root is None:
        return []
    nodes = list(Subject.objects.filter(code__startswith=root.code, active=True).exclude(pk=root.pk)
                 .order_by("code").values("code", "name", "parent_id", "pk"))
    parents = {n["parent_id"] for n in nodes}
    by_id = {n["pk"]: n for n in nodes}
    groups: dict[str, list] = {}
    for n in nodes:
        if n["pk"] in parents:
            continue  # an inner node: its leaves are offered
        parent = by_id.get(n["parent_id"])
        label = parent["name"] if parent else root.name
        groups.setdefault(label, []).append((n["code"], n["name"]))
    if not nodes:
        groups[root.name] = [(root.code, root.name)]
    return list(groups.items())


def _request_type_choices():
    return [("", _("请选择"))] + [(t.code, t.name) for t in RequestType.objects.filter(active=True).order_by("sort")]


class SubjectPicker:
    """The two-step subject picker (a top-level class, then a leaf loaded by htmx) of a form with
    `subject_root` and `subject` fields; it works under a form prefix too."""

    SUBJECT_KINDS: tuple = (SubjectKind.REQUEST,)

    def _picker_init(self):
        roots = subject_roots(self.SUBJECT_KINDS)
        self.fields["subject_root"].choices = [("", _("请选择"))] + [(s.code, s.name) for s in roots]

    def root_code(self) -> str:
        """The chosen top-level subject: as posted, or derived from the chosen leaf."""
        if self.is_bound:
            root = self.data.get(self.add_prefix("subject_root")) or ""
            leaf = self.data.get(self.add_prefix("subject")) or ""
        else:
            root, leaf = self.initial.get("subject_root") or "", self.initial.get("subject") or ""
        root, leaf = root.strip(), leaf.strip()
        if not root and leaf:
            node = Subject.objects.filter(code=leaf).first()
            while node is not None and node.parent_id:
                node = node.parent
            root = node.code if node else ""
        return root

    def subject_groups(self):
        root = self.root_code()
        return subject_groups(root) if root else []


class ReportForm(SubjectPicker, DomainForm):
    """The resident's report (居民上报)."""

    SUBJECT_KINDS = (SubjectKind.REQUEST,)

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    request_type = forms.ChoiceField(label=_l("诉求类型"), choices=())
    subject_root = forms.ChoiceField(label=_l("事项大类"), choices=(), required=False)
    # A resident may leave it out: the classifier then names it (dispatch/triage/intake.py).
    subject = forms.CharField(label=_l("事项分类"), max_length=20, required=False,
                              error_messages={"required": _l("请选择事项分类。")})
    title = forms.CharField(label=_l("标题"), max_length=120, error_messages={"required": _l("请填写标题。")})
    description = forms.CharField(label=_l("诉求内容"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                  max_length=4000)
    address = forms.CharField(label=_l("地址"), max_length=255, required=False)
    lng = forms.FloatField(label=_l("经度"), required=False)
    lat = forms.FloatField(label=_l("纬度"), required=False)
    reporter_name = forms.CharField(label=_l("姓名"), max_length=60, required=False)
    reporter_phone = forms.CharField(label=_l("联系电话"), max_length=20, required=False)
    anonymous = forms.BooleanField(label=_l("匿名反映（承办人员看不到您的姓名）"), required=False)
    photos = MultipleFileField(label=_l("照片"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request_type"].choices = _request_type_choices()
        self._picker_init()
        for name in ("lng", "lat"):
            self.fields[name].widget.attrs.update(step="any", inputmode="decimal")
        self.fields["reporter_phone"].widget.attrs.update(inputmode="tel", autocomplete="tel")
        self.fields["reporter_name"].widget.attrs.update(autocomplete="name")
        self.fields["request_type"].error_messages["required"] = _("请选择诉求类型。")

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"subject": d["subject"], "request_type": d["request_type"], "title": d["title"],
                "description": d.get("description", ""), "address": d.get("address", ""), "lng": d.get("lng"),
                "lat": d.get("lat"), "reporter_name": d.get("reporter_name", ""),
                "reporter_phone": d.get("reporter_phone", ""), "anonymous": d.get("anonymous", False),
                "photos": d.get("photos") or [], "idempotency_key": d["idempotency_key"]}


def _unit_choices(units) -> list[tuple[str, str]]:
    return [(str(u.pk), f"{u.name}（{u.get_kind_display()}）") for u in units]


class IntakeForm(ReportForm):
    """The hotline operator's console (话务受理): the caller's phone is required and kept; the
    operator may name the handling unit instead of the routing's proposal, with a reason."""

    SUBJECT_KINDS = (SubjectKind.REQUEST, SubjectKind.EVENT, SubjectKind.COMPONENT)

    emergency = forms.BooleanField(label=_l("紧急（涉及生命财产安全，2 小时内处置）"), required=False)
    unit = forms.ChoiceField(label=_l("指定承办单位（不按系统建议）"), required=False, choices=())
    override_reason = forms.CharField(label=_l("指定理由"), max_length=255, required=False)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].required = True  # the operator classifies the call as they take it
        self.fields["reporter_phone"].required = True
        self.fields["reporter_phone"].label = _("来电号码")
        self.fields["reporter_phone"].error_messages["required"] = _("请填写来电号码。")
        self.fields["reporter_name"].label = _("来电人姓名")
        self.fields["anonymous"].label = _("来电人要求匿名")
        self.fields["unit"].choices = [("", _("按系统建议派单"))] + _unit_choices(
            selectors.override_candidates(actor=actor)[:500])

    def clean(self):
        d = super().clean()
        if d.get("unit") and not (d.get("override_reason") or "").strip():
            self.add_error("override_reason", _("指定承办单位时，请填写理由。"))
        return d

    def service_kwargs(self) -> dict:
        kw = super().service_kwargs()
        kw["urgency"] = "emergency" if self.cleaned_data.get("emergency") else None
        if self.cleaned_data.get("unit"):
            kw.update(unit=int(self.cleaned_data["unit"]), override_reason=self.cleaned_data["override_reason"])
        return kw


class PatrolForm(ReportForm):
    """A grid worker's patrol report (巡查上报): an event or component found on patrol, with a photo.

    The point starts at the worker's grid centre; "use my location" puts them where they stand.
    """

    SUBJECT_KINDS = (SubjectKind.EVENT, SubjectKind.COMPONENT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("request_type", "reporter_name", "reporter_phone", "anonymous"):
            del self.fields[name]
        self.fields["subject"].required = True
        self.fields["title"].required = False
        self.fields["title"].label = _("标题（可不填，默认为事项名称）")
        self.fields["description"].label = _("情况描述")
        self.fields["photos"].label = _("现场照片")

    def clean_photos(self):
        photos = self.cleaned_data.get("photos") or []
        if not photos:
            # The photo is the patrol's evidence (DOMAIN.md: 采集上报 with a photo); it cannot be sent without.
            raise forms.ValidationError(_("请拍摄或上传至少一张现场照片。"))
        return photos

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        title = (d.get("title") or "").strip()
        if not title:
            found = Subject.objects.filter(code=d["subject"]).values_list("name", flat=True).first()
            title = found or _("巡查上报")
        return {"subject": d["subject"], "title": title[:120], "description": d.get("description", ""),
                "address": d.get("address", ""), "lng": d.get("lng"), "lat": d.get("lat"),
                "photos": d["photos"], "idempotency_key": d["idempotency_key"]}


class TrackForm(forms.Form):
    """The tracking code; with the last four digits of the reporter's phone the reply shows too."""

    code = forms.CharField(label=_l("查询码"), max_length=20, error_messages={"required": _l("请输入查询码。")})
    phone_tail = forms.RegexField(label=_l("登记手机号后四位"), regex=r"^\d{4}$", required=False, max_length=4,
                                  error_messages={"invalid": _l("请输入 4 位数字。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(inputmode="numeric", autocomplete="off")
        self.fields["phone_tail"].widget.attrs.update(inputmode="numeric", autocomplete="off", pattern="[0-9]{4}")


# --- action forms: each posts the version it was rendered with ------------------------------------

class VersionForm(DomainForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DispatchForm(VersionForm):
    unit = forms.ChoiceField(label=_l("承办单位"), required=False, choices=())
    reason = forms.CharField(label=_l("理由（改变建议单位或终审派单时必填）"), required=False, max_length=255)
    binding = forms.BooleanField(label=_l("终审派单（承办单位不得再退单）"), required=False)

    def __init__(self, *args, order: WorkOrder, actor, **kwargs):
        super().__init__(*args, **kwargs)
        proposed = order.proposed_unit.name if order.proposed_unit_id else _("无")
        self.fields["unit"].choices = [("", _("按系统建议：%(unit)s") % {"unit": proposed})] + _unit_choices(
            selectors.dispatch_candidates(order, actor=actor)[:300])
        if order.state == State.SUBMITTED:
            del self.fields["binding"]


class SubjectChangeForm(SubjectPicker, VersionForm):
    """Reclassify an order (修改分类): the deadlines of a running clock are recomputed."""

    SUBJECT_KINDS = (SubjectKind.REQUEST, SubjectKind.EVENT, SubjectKind.COMPONENT)

    subject_root = forms.ChoiceField(label=_l("事项大类"), choices=(), required=False)
    subject = forms.CharField(label=_l("新的事项分类"), max_length=20,
                              error_messages={"required": _l("请选择事项分类。")})
    reason = forms.CharField(label=_l("修改理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             error_messages={"required": _l("请填写修改理由。")})

    def __init__(self, *args, order: WorkOrder | None = None, **kwargs):
        if order is not None:
            kwargs.setdefault("initial", {}).setdefault("subject", order.subject.code)
        super().__init__(*args, **kwargs)
        self._picker_init()


class ReasonForm(VersionForm):
    reason = forms.CharField(label=_l("理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             error_messages={"required": _l("请填写理由。")})


class MergeForm(VersionForm):
    """一事多诉: fold this order into the order that already handles the same problem."""

    into = forms.CharField(label=_l("合并到工单编号"), max_length=20,
                           error_messages={"required": _l("请填写要合并到的工单编号。")})
    reason = forms.CharField(label=_l("合并理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             error_messages={"required": _l("请填写合并理由。")})


class SplitForm(VersionForm):
    """拆分工单: up to 10 rows of unit + title; rows left blank are ignored, the service checks the count."""

    ROWS = 10

    reason = forms.CharField(label=_l("拆分理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             error_messages={"required": _l("请填写拆分理由。")})

    def __init__(self, *args, order: WorkOrder, actor, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + _unit_choices(selectors.dispatch_candidates(order, actor=actor)[:300])
        for i in range(1, self.ROWS + 1):
            self.fields[f"unit_{i}"] = forms.ChoiceField(label=_("子工单%(n)s 承办单位") % {"n": i},
                                                         choices=choices, required=False)
            self.fields[f"title_{i}"] = forms.CharField(label=_("子工单%(n)s 标题") % {"n": i}, max_length=120,
                                                        required=False)

    def parts(self) -> list[dict]:
        d = self.cleaned_data
        return [{"unit": int(d[f"unit_{i}"]) if d.get(f"unit_{i}") else None, "title": d.get(f"title_{i}", "")}
                for i in range(1, self.ROWS + 1) if d.get(f"unit_{i}") or d.get(f"title_{i}")]


class NoteForm(VersionForm):
    note = forms.CharField(label=_l("说明"), required=False, max_length=2000)


class ReturnForm(VersionForm):
    reason = forms.CharField(label=_l("退单理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             error_messages={"required": _l("请填写退单理由。")})
    legal_basis = forms.CharField(label=_l("法律法规或职责依据"), widget=forms.Textarea(attrs={"rows": 2}),
                                  max_length=2000,
                                  error_messages={"required": _l("请填写退单的法律法规或职责依据。")})


class ResolveForm(VersionForm):
    result = forms.CharField(label=_l("办理结果"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                             error_messages={"required": _l("请填写办理结果。")})
    photos = MultipleFileField(label=_l("办结照片"))


class ExtensionRequestForm(VersionForm):
    new_due = forms.DateTimeField(label=_l("申请延至"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                  error_messages={"required": _l("请填写新的办结期限。"),
                                                  "invalid": _l("日期时间格式不正确。")})
    reason = forms.CharField(label=_l("延期理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             error_messages={"required": _l("请填写延期理由。")})

    def clean_new_due(self):
        value = self.cleaned_data["new_due"]
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
        return value


class ExtensionDecideForm(DomainForm):
    approve = forms.TypedChoiceField(label=_l("审批"), choices=[("1", _l("批准")), ("0", _l("不批准"))],
                                     coerce=lambda v: v == "1", widget=forms.RadioSelect,
                                     error_messages={"required": _l("请选择是否批准。")})
    note = forms.CharField(label=_l("审批意见（不批准时必填）"), required=False, max_length=2000)


class CallbackForm(VersionForm):
    reached = forms.TypedChoiceField(label=_l("是否联系上诉求人"), choices=[("1", _l("已联系上")), ("0", _l("未联系上"))],
                                     coerce=lambda v: v == "1", widget=forms.RadioSelect, initial="1")
    solved = forms.TypedChoiceField(label=_l("问题是否解决"), required=False,
                                    choices=[("1", _l("已解决")), ("0", _l("未解决"))],
                                    coerce=lambda v: v == "1", empty_value=None, widget=forms.RadioSelect)
    satisfaction = forms.ChoiceField(label=_l("满意度"), required=False, choices=Satisfaction.choices,
                                     widget=forms.RadioSelect)
    note = forms.CharField(label=_l("回访记录"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=4000)


class OrderFilterForm(forms.Form):
    """The filters every order list shares; they map onto `selectors.work_order_list` filters."""

    q = forms.CharField(label=_l("搜索"), required=False, max_length=100)
    state = forms.ChoiceField(label=_l("状态"), required=False, choices=[("", _l("全部状态"))] + State.choices)
    request_type = forms.ChoiceField(label=_l("诉求类型"), required=False, choices=())
    subject = forms.CharField(label=_l("分类代码"), required=False, max_length=20)
    deadline_state = forms.ChoiceField(label=_l("时限"), required=False,
                                       choices=[("", _l("全部时限")), ("ok", _l("正常")), ("warning", _l("临期")),
                                                ("overdue", _l("超期"))])

    def __init__(self, *args, states=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request_type"].choices = [("", _("全部类型"))] + _request_type_choices()[1:]
        if states is not None:
            self.fields["state"].choices = [("", _("全部状态"))] + [(s, State(s).label) for s in states]
        self.fields["q"].widget.attrs.update(placeholder=_("工单编号、标题或地址"), type="search")
        self.fields["subject"].widget.attrs.update(placeholder=_("分类代码，如 Q01"))

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class RateForm(DomainForm):
    """The reporter's own rating on the tracking page (诉求人评价); `proof` is the signed token the
    phone-tail check handed out (empty for a signed-in reporter)."""

    code = forms.CharField(widget=forms.HiddenInput, max_length=20)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    proof = forms.CharField(widget=forms.HiddenInput, required=False, max_length=300)
    rating = forms.ChoiceField(label=_l("您对办理结果是否满意"), choices=Satisfaction.choices, widget=forms.RadioSelect,
                               error_messages={"required": _l("请选择满意度。")})
    comment = forms.CharField(label=_l("评价（选填）"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}))
