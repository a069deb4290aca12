"""Set-up pages of the co-governance projects (共治项目设置): a manager (a community worker of the
community committee, see `projects._require_manager`) opens a lift project on a building of their
community and registers its owners one by one or from an Excel/CSV file; opens and edits a canteen,
enrols its diners and records the day's meals; opens a micro-renovation and lists its partner units.

Views only parse the request and call the services in `projects`; a refusal shows beside its field
(400, nothing typed lost). Another community's project or building answers 404.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods

from huying.core.errors import DomainError
from huying.core.forms import SpreadsheetField
from huying.people.masking import mask_phone
from huying.people.models import Unit
from huying.territory.models import Building

from . import projects as svc
from . import projects_import
from . import selectors_projects as sel
from .models import Canteen, CanteenEnrolment, HouseholdType, LiftProject, Renovation
from .views_projects import _managed, _require_any_manager

IMPORT_ERRORS_SHOWN = 200
DINERS_PER_PAGE = 50


def _text(label, *, max_length: int, required: bool = False, **attrs):
    """A text input; emptiness and content are the services' to judge, so their words show by the field."""
    return forms.CharField(label=label, required=required, max_length=max_length, strip=False,
                           widget=forms.TextInput(attrs=attrs))


class _Form(forms.Form):
    def add_domain_error(self, exc: DomainError) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)


class LiftForm(_Form):
    title = _text(_l("项目名称"), max_length=200)
    total_cost = _text(_l("总造价(元)"), max_length=30, inputmode="decimal")


class OwnerForm(_Form):
    flat = _text(_l("单元/房号"), max_length=60)
    floor = _text(_l("楼层"), max_length=12, inputmode="numeric")
    area_m2 = _text(_l("面积(平方米)"), max_length=30, inputmode="decimal")
    name = _text(_l("业主姓名"), max_length=120)
    phone = _text(_l("联系电话"), max_length=40, inputmode="tel")


class OwnerImportForm(_Form):
    file = SpreadsheetField(label=_l("业主名单（.xlsx 或 UTF-8 CSV）"))


class CanteenForm(_Form):
    name = _text(_l("名称"), max_length=240)
    address = _text(_l("地址"), max_length=400)
    meal_price = _text(_l("每餐价格(元)"), max_length=30, inputmode="decimal")


class EnrolForm(_Form):
    name = _text(_l("姓名"), max_length=120)
    age = _text(_l("年龄"), max_length=12, inputmode="numeric")
    household_type = forms.ChoiceField(label=_l("家庭类别"), choices=HouseholdType.choices,
                                       initial=HouseholdType.ORDINARY)
    phone = _text(_l("联系电话"), max_length=40, inputmode="tel")


class ContributionForm(_Form):
    what = _text(_l("贡献内容"), max_length=400)
    amount = _text(_l("折合金额(元)"), max_length=30, inputmode="decimal")


class RenovationForm(_Form):
    title = _text(_l("项目名称"), max_length=240)


def _id(value) -> int:
    """A posted id; anything else matches nothing, never a server error."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else 0


def _community(request, communities):
    """The community posted (or the only one managed); another community answers 404."""
    if len(communities) == 1:
        return communities[0]
    found = next((c for c in communities if c.pk == _id(request.POST.get("community"))), None)
    if found is None:
        raise DomainError("community.projects.community_required", _("请选择社区。"), field="community")
    return found


def _search(request) -> str:
    return (request.GET.get("q") or request.POST.get("q") or "").strip()[:60]


def _refuse(request, form, exc: DomainError) -> int:
    """Show a refusal by its field (or above the form); another community's object is a 404."""
    if exc.status == 404 and exc.field in ("building", "community"):
        raise Http404(exc.message)
    form.add_domain_error(exc)
    return exc.status if exc.status in (400, 409) else 400


# -- lift retrofit ------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def lift_new(request):
    """Pick a building of my community by address or code, then name the project and its total cost."""
    communities = list(_require_any_manager(request.user))
    q = _search(request)
    try:
        buildings = list(sel.buildings_for_setup(request.user, q))
    except DomainError:
        buildings = []
    form, chosen, status = LiftForm(), None, 200
    if request.method == "POST":
        form = LiftForm(request.POST)
        chosen = Building.objects.select_related("grid__community").filter(pk=_id(request.POST.get("building"))).first()
        if not form.is_valid():
            status = 400
        elif chosen is None:
            form.add_error(None, _("请先搜索并选择楼栋。"))
            status = 400
        else:
            try:
                project = svc.lift_project_setup(chosen, title=form.cleaned_data["title"],
                                                 total_cost=form.cleaned_data["total_cost"], actor=request.user)
            except DomainError as exc:
                status = _refuse(request, form, exc)
            else:
                messages.success(request, _("加装电梯项目已建立，请登记业主。"))
                return redirect("community:setup_lift_owners", pk=project.pk)
        if chosen is not None and chosen not in buildings and sel.is_manager(request.user, chosen.grid.community):
            buildings.insert(0, chosen)
    return render(request, "community/projects/setup_lift_new.html", {
        "communities": communities, "q": q, "buildings": buildings, "form": form,
        "chosen": chosen.pk if chosen else None}, status=status)


def _owner_rows(project: LiftProject) -> list[dict]:
    return [{"o": o, "phone": mask_phone(o.phone)} for o in project.owners.order_by("floor", "flat")]


@login_required
@require_http_methods(["GET", "POST"])
def lift_owners(request, pk: int):
    """The owners of a lift project: add one, or import a file (all rows or none, each bad row named)."""
    project = _managed(request, LiftProject, pk)
    owner_form, import_form, row_errors, status = OwnerForm(), OwnerImportForm(), [], 200
    action = request.POST.get("action")
    if request.method == "POST" and action == "add":
        owner_form = OwnerForm(request.POST)
        if not owner_form.is_valid():
            status = 400
        else:
            try:
                owner = svc.lift_owner_register(project, actor=request.user, **owner_form.cleaned_data)
            except DomainError as exc:
                status = _refuse(request, owner_form, exc)
            else:
                messages.success(request, _("已登记 %(flat)s 的业主。") % {"flat": owner.flat})
                return redirect("community:setup_lift_owners", pk=project.pk)
    elif request.method == "POST" and action == "import":
        import_form = OwnerImportForm(request.POST, request.FILES)
        if not import_form.is_valid():
            status = 400
        else:
            try:
                result = svc.lift_owners_import(project, import_form.cleaned_data["file"], actor=request.user)
            except DomainError as exc:
                status = _refuse(request, import_form, exc)
                row_errors = exc.details.get("rows", [])
            else:
                messages.success(request, _("已导入 %(n)s 户业主。") % {"n": result["created"]})
                return redirect("community:setup_lift_owners", pk=project.pk)
    elif request.method == "POST":
        status = 400
        messages.error(request, _("未知操作。"))
    return render(request, "community/projects/setup_lift_owners.html", {
        "project": project, "owners": _owner_rows(project), "owner_form": owner_form, "import_form": import_form,
        "row_errors": row_errors[:IMPORT_ERRORS_SHOWN], "more_errors": max(0, len(row_errors) - IMPORT_ERRORS_SHOWN),
        "header": [names[0] for names in projects_import.COLUMNS.values()]}, status=status)


@login_required
@require_GET
def lift_owners_template(request):
    _require_any_manager(request.user)
    response = HttpResponse(projects_import.owners_template_bytes(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''lift-owners-template.xlsx"
    return response


# -- canteens -----------------------------------------------------------------------------------------

def _operator_choices(request, current: Unit | None) -> list[Unit]:
    try:
        units = list(sel.partner_units(_search(request)))
    except DomainError:
        units = []
    if current is not None and current not in units:
        units.insert(0, current)
    return units


def _operator(request) -> Unit | None:
    """The operator picked: none, or a unit the service then checks is an enterprise or agency."""
    pk = _id(request.POST.get("operator"))
    if not pk:
        return None
    unit = Unit.objects.filter(pk=pk).first()
    if unit is None:
        raise DomainError("community.projects.not_contributor", _("请从搜索结果中选择运营机构。"), field="operator")
    return unit


@login_required
@require_http_methods(["GET", "POST"])
def canteen_edit(request, pk: int | None = None):
    """Open a canteen (pk None) or edit one: name, address, price, and the operating unit if any."""
    communities = list(_require_any_manager(request.user))
    canteen = _managed(request, Canteen, pk) if pk else None
    initial = {"meal_price": "15"} if canteen is None else {
        "name": canteen.name, "address": canteen.address, "meal_price": str(canteen.meal_price)}
    form, status = CanteenForm(initial=initial), 200
    current = canteen.operator if canteen else None
    if request.method == "POST":
        form = CanteenForm(request.POST)
        if not form.is_valid():
            status = 400
        else:
            try:
                operator = _operator(request)
                current = operator
                if canteen is None:
                    canteen = svc.canteen_open(_community(request, communities), actor=request.user, operator=operator,
                                               **form.cleaned_data)
                    messages.success(request, _("长者饭堂已建立，请登记就餐长者。"))
                else:
                    svc.canteen_update(canteen, actor=request.user, operator=operator, **form.cleaned_data)
                    messages.success(request, _("长者饭堂信息已保存。"))
            except DomainError as exc:
                status = _refuse(request, form, exc)
            else:
                return redirect("community:setup_canteen_diners", pk=canteen.pk)
    return render(request, "community/projects/setup_canteen.html", {
        "canteen": canteen, "communities": communities, "chosen_community": _id(request.POST.get("community")),
        "form": form, "q": _search(request), "units": _operator_choices(request, current),
        "operator": current.pk if current else None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def canteen_diners(request, pk: int):
    """Enrol a diner, and record the day's meals for the diners ticked (names whole here, phones masked)."""
    canteen = _managed(request, Canteen, pk)
    enrol_form, status = EnrolForm(), 200
    serve_error, served_on = "", timezone.localdate().isoformat()
    action = request.POST.get("action")
    if request.method == "POST" and action == "enrol":
        enrol_form = EnrolForm(request.POST)
        if not enrol_form.is_valid():
            status = 400
        else:
            data = enrol_form.cleaned_data
            age = (data["age"] or "").strip()
            try:
                if not age.isdigit() or len(age) > 3:
                    raise DomainError("community.projects.bad_age", _("请填写正确的年龄。"), field="age")
                svc.canteen_enrol(canteen, name=data["name"], age=int(age), household_type=data["household_type"],
                                  phone=data["phone"], actor=request.user)
            except DomainError as exc:
                status = _refuse(request, enrol_form, exc)
            else:
                messages.success(request, _("已登记就餐长者。"))
                return redirect("community:setup_canteen_diners", pk=canteen.pk)
    elif request.method == "POST" and action == "serve":
        served_on = (request.POST.get("served_on") or "").strip()[:10]
        ids = {_id(x) for x in request.POST.getlist("diners")} - {0}
        try:
            try:
                on = date.fromisoformat(served_on)
            except ValueError:
                raise DomainError("community.projects.bad_date", _("请填写就餐日期。"), field="served_on") from None
            enrolments = list(CanteenEnrolment.objects.filter(canteen=canteen, pk__in=ids))
            if len(enrolments) != len(ids):
                raise DomainError("community.projects.not_diner", _("找不到该就餐人。"), field="diners")
            result = svc.canteen_serve_day(canteen, enrolments=enrolments, on=on, actor=request.user)
        except DomainError as exc:
            serve_error, status = exc.message, 400
        else:
            msg = _("已记录 %(n)s 人次就餐。") % {"n": result["served"]}
            if result["skipped"]:
                msg += _("（%(n)s 人当天已记录，未重复计入）") % {"n": result["skipped"]}
            messages.success(request, msg)
            return redirect("community:setup_canteen_diners", pk=canteen.pk)
    elif request.method == "POST":
        status = 400
        messages.error(request, _("未知操作。"))
    page = Paginator(canteen.enrolments.order_by("name", "pk"), DINERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "community/projects/setup_canteen_diners.html", {
        "canteen": canteen, "enrol_form": enrol_form, "serve_error": serve_error, "served_on": served_on,
        "page": page, "diners": [{"e": e, "phone": mask_phone(e.phone)} for e in page.object_list],
        "today_meals": canteen.meals.filter(served_on=timezone.localdate()).count()}, status=status)


# -- micro-renovation ---------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def renovation_new(request):
    communities = list(_require_any_manager(request.user))
    form, status = RenovationForm(), 200
    if request.method == "POST":
        form = RenovationForm(request.POST)
        if not form.is_valid():
            status = 400
        else:
            try:
                renovation = svc.renovation_create(_community(request, communities), title=form.cleaned_data["title"],
                                                   actor=request.user)
            except DomainError as exc:
                status = _refuse(request, form, exc)
            else:
                messages.success(request, _("微改造项目已建立，请登记共建单位。"))
                return redirect("community:setup_renovation_partners", pk=renovation.pk)
    return render(request, "community/projects/setup_renovation.html", {
        "communities": communities, "chosen_community": _id(request.POST.get("community")), "form": form},
        status=status)


@login_required
@require_http_methods(["GET", "POST"])
def renovation_partners(request, pk: int):
    """Partner units (共建单位) of a renovation and what each gave: search a unit, pick it, say what."""
    renovation = _managed(request, Renovation, pk)
    form, status, chosen = ContributionForm(), 200, None
    if request.method == "POST":
        form = ContributionForm(request.POST)
        chosen = Unit.objects.filter(pk=_id(request.POST.get("unit"))).first()
        if not form.is_valid():
            status = 400
        else:
            try:
                svc.renovation_contribution_add(renovation, unit=chosen, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                status = _refuse(request, form, exc)
            else:
                messages.success(request, _("已登记共建单位的贡献。"))
                return redirect("community:setup_renovation_partners", pk=renovation.pk)
    return render(request, "community/projects/setup_renovation_partners.html", {
        "renovation": renovation, "form": form, "q": _search(request),
        "units": _operator_choices(request, chosen if chosen and chosen.kind in sel.PARTNER_KINDS else None),
        "chosen": chosen.pk if chosen else None,
        "contributions": renovation.contributions.select_related("unit").order_by("pk")}, status=status)
