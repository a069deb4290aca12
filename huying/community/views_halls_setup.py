"""Setting up a deliberation hall (议事厅) and joining it to dispatch: street and community staff open a
hall for a community in their territory; its convener edits the vote rules (in percent), loads the
roll from a file, hands a matter to dispatch as a work order (the dispatch subject picker), and
brings the community's hot-issue groups (热点诉求) to the hall as matters.

Every page answers 404 for a hall or community outside the user's reach (selectors_halls).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from huying.core.errors import DomainError
from huying.core.forms import SpreadsheetField
from huying.core.text import clean_text
from huying.dispatch.forms import DomainForm, SubjectPicker
from huying.dispatch.models import SubjectKind
from huying.territory.models import Division

from . import halls as svc
from . import selectors_halls as sel
from .models import Matter, MatterStatus
from .views_halls import _managed_hall

IMPORT_ERRORS_SHOWN = 200
ORDERABLE = (MatterStatus.OPEN, MatterStatus.SCHEDULED)


def _text(value, field: str, max_length: int) -> str:
    """Posted text through the project's cleaner; a refusal becomes the field's error."""
    try:
        return clean_text(value, field=field, max_length=max_length)
    except DomainError as exc:
        raise forms.ValidationError(exc.message) from None


def _percent_to_share(value) -> Decimal:
    """A percentage as typed (50, 66.7, "50%") → the share stored (0.500, 0.667)."""
    text = _text(value, "percent", 12).replace("%", "").replace("％", "").strip()
    try:
        pct = Decimal(text)
    except InvalidOperation:
        raise forms.ValidationError(_("请填写数字（百分比）。")) from None
    if not pct.is_finite() or not Decimal(0) < pct <= Decimal(100):
        raise forms.ValidationError(_("比例应大于 0%，不超过 100%。"))
    share = (pct / 100).quantize(Decimal("0.001"))
    if share <= 0:
        raise forms.ValidationError(_("比例应大于 0%，不超过 100%。"))
    return share


def _percent(share) -> str:
    """0.500 → "50", 0.667 → "66.7" (the rules form shows what was stored)."""
    pct = (Decimal(share) * 100).quantize(Decimal("0.1"))
    return f"{pct:f}".rstrip("0").rstrip(".")


class RulesForm(DomainForm):
    """The hall's vote rules (议事规则), the shares entered in percent."""

    quorum_share = forms.CharField(label=_l("法定人数比例（%）"), max_length=12,
                                   error_messages={"required": _l("请填写法定人数比例。")})
    pass_share = forms.CharField(label=_l("通过比例（%）"), max_length=12,
                                 error_messages={"required": _l("请填写通过比例。")})
    secret = forms.ChoiceField(label=_l("投票方式"), widget=forms.RadioSelect,
                               choices=[("0", _l("记名")), ("1", _l("无记名"))],
                               error_messages={"required": _l("请选择投票方式。"),
                                               "invalid_choice": _l("请选择投票方式。")})
    per_household = forms.ChoiceField(label=_l("计票单位"), widget=forms.RadioSelect,
                                      choices=[("1", _l("每户一票")), ("0", _l("每人一票"))],
                                      error_messages={"required": _l("请选择计票单位。"),
                                                      "invalid_choice": _l("请选择计票单位。")})

    def clean_quorum_share(self):
        return _percent_to_share(self.cleaned_data["quorum_share"])

    def clean_pass_share(self):
        return _percent_to_share(self.cleaned_data["pass_share"])

    def rules(self) -> dict:
        d = self.cleaned_data
        return {"quorum_share": d["quorum_share"], "pass_share": d["pass_share"], "secret": d["secret"] == "1",
                "per_household": d["per_household"] == "1"}

    @classmethod
    def of(cls, hall, **kwargs):
        return cls(initial={"quorum_share": _percent(hall.quorum_share), "pass_share": _percent(hall.pass_share),
                            "secret": "1" if hall.secret else "0",
                            "per_household": "1" if hall.per_household else "0"}, **kwargs)


class HallForm(RulesForm):
    """A new hall: its convener unit, an optional name, and its first rules."""

    convener_unit = forms.ChoiceField(label=_l("召集单位"), choices=(),
                                      error_messages={"required": _l("请选择召集单位。"),
                                                      "invalid_choice": _l("请选择本社区的单位。")})
    name = forms.CharField(label=_l("名称（可不填）"), max_length=120, required=False)

    field_order = ["convener_unit", "name", "quorum_share", "pass_share", "secret", "per_household"]

    def __init__(self, *args, units=(), **kwargs):
        kwargs.setdefault("initial", {"quorum_share": "50", "pass_share": "50", "secret": "0", "per_household": "1"})
        super().__init__(*args, **kwargs)
        self.units = {str(u.pk): u for u in units}
        self.fields["convener_unit"].choices = [("", _("请选择"))] + [(k, u.name) for k, u in self.units.items()]

    def clean_name(self):
        return _text(self.cleaned_data.get("name"), "name", 120)


class RollImportForm(DomainForm):
    file = SpreadsheetField(label=_l("名册（.xlsx 或 UTF-8 CSV）"))


class ToOrderForm(SubjectPicker, DomainForm):
    """A matter handed to dispatch: its subject (the dispatch picker) and, optionally, an address."""

    SUBJECT_KINDS = (SubjectKind.REQUEST, SubjectKind.EVENT, SubjectKind.COMPONENT)

    subject_root = forms.ChoiceField(label=_l("事项大类"), choices=(), required=False)
    subject = forms.CharField(label=_l("事项分类"), max_length=20, error_messages={"required": _l("请选择事项分类。")})
    address = forms.CharField(label=_l("地址（可不填，默认为本社区）"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._picker_init()

    def clean_subject(self):
        return _text(self.cleaned_data.get("subject"), "subject", 20)

    def clean_address(self):
        return _text(self.cleaned_data.get("address"), "address", 200)


# ---- the manage page's extra parts ------------------------------------------------------------------

def manage_extras(request, hall, matter_rows: list[dict]) -> dict:
    """What the convener's page adds from here: the rules form, order links, the community's hot groups."""
    sel.order_urls(matter_rows, actor=request.user)
    return {"rules_form": RulesForm.of(hall), "orderable": [s.value for s in ORDERABLE],
            "hot_rows": sel.hot_groups_for(hall, actor=request.user, now=timezone.now()),
            "may_set_up": sel.setup_communities(request.user).exists()}


# ---- opening a hall ----------------------------------------------------------------------------------

@login_required
@require_GET
def setup_index(request):
    """The communities in my territory without a hall, each with a link to open one."""
    communities = list(sel.setup_communities(request.user)[:200])
    return render(request, "community/halls/setup_index.html", {
        "communities": communities, "managed": list(sel.halls_managed(request.user)[:50])})


def _setup_community(request, code: str) -> Division:
    division = sel.setup_communities(request.user).filter(code=code).first()
    if division is None:
        raise Http404(_("找不到该社区，或该社区已设立议事厅。"))
    return division


@login_required
@require_http_methods(["GET", "POST"])
def setup_new(request, code: str):
    division = _setup_community(request, code)
    units = list(sel.convener_units(division)[:100])
    form, status = HallForm(units=units), 200
    if request.method == "POST":
        form = HallForm(request.POST, units=units)
        if form.is_valid():
            try:
                hall = svc.hall_create(division, convener_unit=form.units[form.cleaned_data["convener_unit"]],
                                       name=form.cleaned_data["name"], actor=request.user, **form.rules())
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(request, _("已设立%(name)s。") % {"name": hall.name})
                if sel.may_manage(request.user, hall):
                    return redirect("community:halls_manage", pk=hall.pk)
                return redirect("community:halls_setup")
        else:
            status = 400
    return render(request, "community/halls/setup_new.html", {"division": division, "form": form,
                                                               "no_units": not units}, status=status)


# ---- the rules ---------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def rules(request, pk: int):
    """The vote rules form (on the manage page; here again with its errors beside the fields)."""
    hall = _managed_hall(request, pk)
    form, status = RulesForm.of(hall), 200
    if request.method == "POST":
        form = RulesForm(request.POST)
        if form.is_valid():
            try:
                svc.hall_rules_set(hall, actor=request.user, **form.rules())
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(request, _("议事规则已更新，此后开始的表决按新规则计票。"))
                return redirect("community:halls_manage", pk=hall.pk)
        else:
            status = 400
    return render(request, "community/halls/setup_rules.html", {"hall": hall, "form": form}, status=status)


# ---- the roll from a file ------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def roll_import(request, pk: int):
    """Load the roll (议事名册) from Excel/CSV: every row or none, each bad row named."""
    hall = _managed_hall(request, pk)
    form, rows, status = RollImportForm(), [], 200
    if request.method == "POST":
        form = RollImportForm(request.POST, request.FILES)
        if not form.is_valid():
            status = 400
        else:
            upload = form.cleaned_data["file"]
            try:
                result = svc.voters_import(hall, upload, actor=request.user, filename=upload.name)
            except DomainError as exc:
                form.add_domain_error(exc)
                rows, status = exc.details.get("rows", []), exc.status
            else:
                messages.success(request, _("已登记 %(n)s 人到议事名册。") % {"n": result["added"]})
                return redirect("community:halls_manage", pk=hall.pk)
    return render(request, "community/halls/setup_roll.html", {
        "hall": hall, "form": form, "header": svc.ROLL_TEMPLATE_HEADER, "row_errors": rows[:IMPORT_ERRORS_SHOWN],
        "more_errors": max(0, len(rows) - IMPORT_ERRORS_SHOWN)}, status=status)


@login_required
@require_GET
def roll_template(request, pk: int):
    hall = _managed_hall(request, pk)
    out = io.StringIO()
    csv.writer(out).writerow(svc.ROLL_TEMPLATE_HEADER)
    response = HttpResponse(("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename=hall-{hall.pk}-roll.csv"
    return response


# ---- a matter becomes a work order ----------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def to_order(request, pk: int, matter_pk: int):
    """Hand an open matter to dispatch as a work order (转为工单), with a subject and an optional address."""
    hall = _managed_hall(request, pk)
    matter = get_object_or_404(Matter, pk=matter_pk, hall=hall)
    form, status = ToOrderForm(), 200
    if request.method == "POST":
        form = ToOrderForm(request.POST)
        if form.is_valid():
            address = form.cleaned_data["address"]
            # without an address the order is placed inside the community (the service labels it with its name)
            point = None if address else sel.community_point(hall)
            try:
                matter = svc.matter_to_work_order(matter, subject=form.cleaned_data["subject"], address=address,
                                                  lng=point[0] if point else None, lat=point[1] if point else None,
                                                  actor=request.user)
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(request, _("议题已转为工单 %(code)s。") % {"code": matter.work_order_code})
                return redirect("community:halls_manage", pk=hall.pk)
        else:
            status = 400
    return render(request, "community/halls/setup_to_order.html", {
        "hall": hall, "matter": matter, "form": form, "closed": matter.status not in ORDERABLE}, status=status)


# ---- a hot-issue group becomes a matter --------------------------------------------------------------------

@login_required
@require_POST
def hot_to_matter(request, pk: int):
    """立为议题: the posted group is found again among the community's current groups (never taken as sent)."""
    hall = _managed_hall(request, pk)
    key = (request.POST.get("group") or "").strip()
    row = next((r for r in sel.hot_groups_for(hall, actor=request.user, now=timezone.now()) if r["key"] == key), None)
    if row is None:
        messages.error(request, _("该热点诉求已不在本社区的当前热点中，请刷新后重试。"))
    else:
        try:
            matter = svc.matter_from_hot_group(hall, group=row["group"], actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已立为议题：%(title)s") % {"title": matter.title})
    return redirect(reverse("community:halls_manage", args=[hall.pk]) + "#hall-hot")
