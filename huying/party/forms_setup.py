"""Forms of the set-up pages. They parse and look up (a code becomes a Division, a username a User);
the services decide and refuse, and a refusal goes next to the field it names."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from huying.people.models import Unit, User
from huying.territory.models import UNIFIED_LAYER, Building, Division, Grid

from .forms import DATE, DomainForm, DutyForm, MemberImportForm
from .models import TERRITORIAL_TYPES, OrgType, RatingPeriod, RepresentativeLevel
from .rating import SOURCES


def _lookup(form, field: str, model, message, **extra):
    code = (form.cleaned_data.get(field) or "").strip()
    if not code:
        return None
    obj = model.objects.filter(code=code, **extra).first()
    if obj is None:
        form.add_error(field, message % {"code": code})
    return obj


class _TerritoryMixin:
    """Division / grid / building given by code (a datalist suggests the ones in the territory)."""

    FIELD_ALIASES = {"division": "division_code", "grid": "grid_code", "building": "building_code",
                     "user": "secretary", "role": "secretary"}

    def territory(self) -> dict:
        return {"division": _lookup(self, "division_code", Division, _("找不到区划 %(code)s。")),
                "grid": _lookup(self, "grid_code", Grid, _("找不到网格 %(code)s。"), layer=UNIFIED_LAYER),
                "building": _lookup(self, "building_code", Building, _("找不到楼栋 %(code)s。"))}


def _code_field(label, help_text="", list_id=""):
    attrs = {"autocomplete": "off"}
    if list_id:
        attrs["list"] = list_id
    return forms.CharField(label=label, required=False, max_length=40, help_text=help_text,
                           widget=forms.TextInput(attrs=attrs))


class SubOrgForm(_TerritoryMixin, DomainForm):
    name = forms.CharField(label=_l("党组织名称"), max_length=120, error_messages={"required": _l("请填写党组织名称。")})
    org_type = forms.ChoiceField(label=_l("组织类型"), choices=[("", _l("请选择"))] + list(OrgType.choices),
                                 error_messages={"required": _l("请选择组织类型。")})
    code = forms.CharField(label=_l("组织代码"), required=False, max_length=40,
                           help_text=_l("空：区域党组织按区划编码，其他自动生成"))
    division_code = _code_field(_l("区划代码"), _l("大党工委填街道、大党委填社区的区划代码"), "division-list")
    grid_code = _code_field(_l("网格代码"), _l("网格党支部填写"), "grid-list")
    building_code = _code_field(_l("楼栋编码"), _l("楼栋党小组填写"))
    address = forms.CharField(label=_l("地址"), required=False, max_length=255)
    size = forms.IntegerField(label=_l("党员规模"), min_value=0, required=False, initial=0)
    secretary = forms.CharField(label=_l("书记（用户名）"), required=False, max_length=150,
                                help_text=_l("可稍后指定"))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        data.update(self.territory())
        data["secretary_user"] = None
        if data.get("secretary"):
            data["secretary_user"] = User.objects.filter(username=data["secretary"].strip(), is_active=True).first()
            if data["secretary_user"] is None:
                self.add_error("secretary", _("找不到用户 %(name)s。") % {"name": data["secretary"]})
        return data


class OrgEditForm(_TerritoryMixin, DomainForm):
    name = forms.CharField(label=_l("党组织名称"), max_length=120, error_messages={"required": _l("请填写党组织名称。")})
    org_type = forms.ChoiceField(label=_l("组织类型"), choices=OrgType.choices)
    parent = forms.TypedChoiceField(label=_l("上级党组织"), coerce=int, required=False, choices=())
    division_code = _code_field(_l("所在区划代码"), _l("单位党组织所在的街道或社区"), "division-list")
    address = forms.CharField(label=_l("地址"), required=False, max_length=255)
    size = forms.IntegerField(label=_l("党员规模"), min_value=0, initial=0)

    def __init__(self, *args, org, parents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.parents = {p.pk: p for p in parents}
        if parents:
            self.fields["parent"].choices = [("", _("不变"))] + [(p.pk, str(p)) for p in parents]
        else:
            del self.fields["parent"]
        if org.is_territorial:
            # A territorial organisation mirrors its territory: type and territory are not edited here.
            self.fields["org_type"].disabled = True
            self.fields["division_code"].disabled = True
            self.fields["division_code"].help_text = _("区域党组织与区划对应，不能更改")
        else:
            self.fields["org_type"].choices = [(v, lb) for v, lb in OrgType.choices if v not in TERRITORIAL_TYPES]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        data["division"] = _lookup(self, "division_code", Division, _("找不到区划 %(code)s。"))
        data["parent_org"] = self.parents.get(data.get("parent")) if data.get("parent") else None
        return data


class SecretaryForm(DomainForm):
    FIELD_ALIASES = {"user": "username", "role": "username"}
    username = forms.CharField(label=_l("书记（用户名）"), max_length=150, error_messages={"required": _l("请填写用户名。")})
    reason = forms.CharField(label=_l("原因"), required=False, max_length=255, help_text=_l("例如：换届"))

    def clean_username(self):
        user = User.objects.filter(username=self.cleaned_data["username"].strip(), is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("找不到用户 %(name)s。") % {"name": self.cleaned_data["username"]})
        return user


class OrgImportForm(MemberImportForm):
    """The upload of an organisation list; the service reads and checks every row."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].label = _("党组织名单（.xlsx 或 UTF-8 CSV）")


# -- joint bodies ---------------------------------------------------------------------------------
class JointMemberForm(DomainForm):
    unit = forms.CharField(label=_l("成员单位（编码或全称）"), max_length=120,
                           error_messages={"required": _l("请填写成员单位。")})
    position = forms.CharField(label=_l("职务"), required=False, max_length=40,
                               help_text=_l("例如：兼职委员单位"))
    joined_on = forms.DateField(label=_l("加入日期"), widget=DATE, error_messages={"required": _l("请填写加入日期。")})

    def clean_unit(self):
        value = self.cleaned_data["unit"].strip()
        qs = Unit.objects.filter(active=True)
        unit = qs.filter(code=value).first() or qs.filter(name=value).order_by("code").first()
        if unit is None:
            raise forms.ValidationError(_("找不到单位“%(v)s”，请填写单位编码或全称。") % {"v": value})
        return unit


# -- grid instructors -----------------------------------------------------------------------------
class InstructorForm(DomainForm):
    grid = forms.TypedChoiceField(label=_l("网格"), coerce=int, choices=(), error_messages={"required": _l("请选择网格。")})
    member = forms.TypedChoiceField(label=_l("党员"), coerce=int, choices=(),
                                    error_messages={"required": _l("请选择党员。")},
                                    help_text=_l("须为到本社区报到并经确认的党员"))
    started_on = forms.DateField(label=_l("开始日期"), widget=DATE, error_messages={"required": _l("请填写开始日期。")})

    def __init__(self, *args, grids=(), members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grids = {g.pk: g for g in grids}
        self.members = {m.pk: m for m in members}
        self.fields["grid"].choices = [("", _("请选择"))] + [(g.pk, f"{g.name}（{g.code}）") for g in grids]
        self.fields["member"].choices = [("", _("请选择"))] + [
            (m.pk, f"{m.user}{'（' + m.home_community.name + '）' if m.home_community_id else ''}") for m in members]


class InstructorEndForm(DomainForm):
    ended_on = forms.DateField(label=_l("结束日期"), widget=DATE, error_messages={"required": _l("请填写结束日期。")})


# -- studios and representatives ------------------------------------------------------------------
class StudioOpenForm(DomainForm):
    community = forms.TypedChoiceField(label=_l("所在社区"), coerce=int, choices=(),
                                       error_messages={"required": _l("请选择社区。")})
    name = forms.CharField(label=_l("名称"), max_length=120, error_messages={"required": _l("请填写工作室名称。")})
    address = forms.CharField(label=_l("地址"), required=False, max_length=255)
    opened_on = forms.DateField(label=_l("设立日期"), widget=DATE, error_messages={"required": _l("请填写设立日期。")})

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.communities = {c.pk: c for c in communities}
        self.fields["community"].choices = [("", _("请选择"))] + [(c.pk, c.name) for c in communities]


class RepresentativeForm(DomainForm):
    FIELD_ALIASES = {"user": "username"}
    username = forms.CharField(label=_l("党代表（用户名）"), max_length=150,
                               error_messages={"required": _l("请填写用户名。")})
    level = forms.ChoiceField(label=_l("党代表层级"), choices=RepresentativeLevel.choices)
    term = forms.CharField(label=_l("届次"), required=False, max_length=40, help_text=_l("例如：第十二次党代会"))
    constituency = forms.CharField(label=_l("选举单位"), required=False, max_length=120)

    def clean_username(self):
        user = User.objects.filter(username=self.cleaned_data["username"].strip(), is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("找不到用户 %(name)s。") % {"name": self.cleaned_data["username"]})
        return user


class StudioDutyForm(DutyForm):
    """A turn on a studio's roster, the studio chosen on the page."""

    studio = forms.TypedChoiceField(label=_l("工作室"), coerce=int, choices=(),
                                    error_messages={"required": _l("请选择工作室。")})

    def __init__(self, *args, studios=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.studios = {s.pk: s for s in studios}
        self.fields["studio"].choices = [("", _("请选择"))] + [(s.pk, s.name) for s in studios]
        self.order_fields(["studio", "representative", "starts_at", "ends_at"])


# -- rule sets ------------------------------------------------------------------------------------
class RuleVersionForm(DomainForm):
    name = forms.CharField(label=_l("新版本名称"), max_length=80, error_messages={"required": _l("请填写规则名称。")})


class RuleSetForm(DomainForm):
    FIELD_ALIASES = {"thresholds": "t5", "points": None, "cap": None}
    name = forms.CharField(label=_l("名称"), max_length=80, error_messages={"required": _l("请填写规则名称。")})
    period = forms.ChoiceField(label=_l("计分周期"), choices=RatingPeriod.choices)
    base = forms.DecimalField(label=_l("基础分"), max_digits=6, decimal_places=1, initial=Decimal(0))
    max_total = forms.DecimalField(label=_l("最高分"), max_digits=6, decimal_places=1, required=False,
                                   help_text=_l("空：可超过 100 分"))
    t5 = forms.DecimalField(label=_l("五星最低分"), max_digits=6, decimal_places=1)
    t4 = forms.DecimalField(label=_l("四星最低分"), max_digits=6, decimal_places=1)
    t3 = forms.DecimalField(label=_l("三星最低分"), max_digits=6, decimal_places=1)
    t2 = forms.DecimalField(label=_l("二星最低分"), max_digits=6, decimal_places=1)
    report_required = forms.BooleanField(label=_l("未报到不得评为合格及以上"), required=False)

    @classmethod
    def initial_of(cls, rs) -> dict:
        t = list(rs.thresholds) + [None] * 4
        return {"name": rs.name, "period": rs.period, "base": rs.base, "max_total": rs.max_total,
                "t5": t[0], "t4": t[1], "t3": t[2], "t2": t[3], "report_required": rs.report_required}


class RuleItemForm(forms.Form):
    code = forms.CharField(label=_l("代码"), max_length=30, required=False)
    label = forms.CharField(label=_l("项目名称"), max_length=80, required=False)
    source = forms.ChoiceField(label=_l("数据来源"), required=False,
                               choices=[("", "—")] + [(k, _l(v)) for k, v in SOURCES.items()])
    points = forms.DecimalField(label=_l("分值"), max_digits=6, decimal_places=2, required=False, min_value=0)
    cap = forms.DecimalField(label=_l("上限"), max_digits=6, decimal_places=1, required=False, min_value=0)
    negative = forms.BooleanField(label=_l("扣分"), required=False)

    def as_item(self) -> dict | None:
        d = self.cleaned_data
        if not d or not (d.get("code") or d.get("source")):
            return None  # a blank row
        return {"code": (d.get("code") or "").strip(), "label": (d.get("label") or "").strip(),
                "source": d.get("source"), "points": "" if d.get("points") is None else str(d["points"]),
                "cap": None if d.get("cap") is None else str(d["cap"]), "negative": bool(d.get("negative"))}


RuleItemFormSet = forms.formset_factory(RuleItemForm, extra=2, max_num=30, validate_max=True)
