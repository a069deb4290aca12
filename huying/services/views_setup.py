"""Set-up pages (服务阵地设置): the unit leader who runs a position (and an administrator) opens it,
edits it, sets its weekly hours (错时 evening and weekend periods, holidays), chooses the items it
handles and its appointment slots; an administrator keeps the catalogue, publishes admission-list
drafts and cuts 减负 entries; a community-worker manager registers one worker and records a yearly
assessment. Every change goes through the app's services; every page checks its own scope.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from huying.core.adminkit import service_refusal
from huying.core.errors import DomainError
from huying.core.paging import paged
from huying.core.text import clean_text
from huying.people.models import User
from huying.people.services import user_create, validate_phone
from huying.territory import locator
from huying.territory.models import Division, Grid, Level

from . import admission as admission_svc
from . import selectors_admission, selectors_workers
from . import selectors_setup as sel
from . import services as svc
from . import workers as workers_svc
from .desk import desk_setting_set
from .forms_setup import (
    AssessForm,
    CutForm,
    DeskForm,
    DraftForm,
    HoursForm,
    ItemForm,
    PositionEditForm,
    PositionForm,
    WorkerForm,
    hours_field,
)
from .models import (
    AdmissionList,
    AdmissionListStatus,
    BurdenItem,
    BurdenStatus,
    CommunityWorker,
    DeskSetting,
    PositionKind,
    ServiceItem,
    ServicePosition,
)
from .views import _point_of

ITEM_RESULTS = 30


def _require_setup(user) -> None:
    if not sel.may_set_up(user):
        raise PermissionDenied(_("此页面供服务阵地主办单位的负责人和系统管理员使用。"))


def _require_admin(user) -> None:
    if not selectors_admission.is_admin(user):
        raise PermissionDenied(_("只有系统管理员可以使用此页面。"))


def _editable(request, pk: int) -> ServicePosition:
    """The position, if this person may set it up; 404 otherwise (another unit's positions are not listed)."""
    position = (ServicePosition.objects.select_related("unit__division", "division", "grid")
                .filter(pk=pk).first())
    if position is None or not sel.may_edit_position(request.user, position):
        raise Http404(_("找不到该服务阵地。"))
    return position


def _locate(form, address: str, lng, lat):
    """(Location, (lng, lat)) of a point if given, else of the address; None with the error on the form."""
    if (lng is None) != (lat is None):
        form.add_error("lat" if lat is None else "lng", _("经度和纬度须同时填写。"))
        return None
    if lng is not None:
        loc = locator.locate_point(lng, lat)
        if loc is None:
            form.add_error("lng", _("该位置不在本市范围内。"))
            return None
        return loc, (lng, lat)
    match = locator.locate_address(address)
    point = _point_of(match.location) if match.found and match.location else None
    if point is None:
        form.add_error("address", _("该地址不在本市范围内。") if match.outside
                       else _("没有找到该地址，请写上区、街道或社区的名称，或填写经纬度。"))
        return None
    return match.location, point


def _deepest_code(loc) -> str:
    place = loc.community or loc.street or loc.district
    return place.code if place else ""


def _grid_in(loc, division: Division) -> Grid | None:
    if not loc.grid_id:
        return None
    grid = Grid.objects.filter(pk=loc.grid_id).first()
    return grid if grid is not None and grid.code.startswith(division.code) else None


# -- positions ------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET"])
def setup_home(request):
    """My positions, and the other set-up pages this person may use."""
    is_admin = selectors_admission.is_admin(request.user)
    may_positions = sel.may_set_up(request.user)
    may_workers = selectors_workers.manage_prefixes(request.user) != []
    if not (may_positions or may_workers):
        raise PermissionDenied(_("此页面供服务阵地主办单位的负责人和系统管理员使用。"))
    search = request.GET.get("q", "").strip()[:60]
    positions = sel.positions_to_set_up(request.user, search=search) if may_positions else ServicePosition.objects.none()
    return render(request, "services/setup/home.html", {
        "page": paged(request, positions), "q": search, "is_admin": is_admin, "may_positions": may_positions,
        "may_workers": may_workers})


@login_required
@require_http_methods(["GET", "POST"])
def position_new(request):
    _require_setup(request.user)
    by_code = selectors_admission.is_admin(request.user)
    units = sel.owner_units(request.user)
    form = PositionForm(request.POST or None, units=units, by_code=by_code)
    status = 200
    if request.method == "POST":
        position = form.is_valid() and _create_position(request, form)
        if position:
            messages.success(request, _("已开设服务阵地“%(name)s”，请设置开放时间。") % {"name": position.name})
            return redirect("services:setup_hours", pk=position.pk)
        status = 400
    return render(request, "services/setup/position_form.html", {"form": form, "creating": True}, status=status)


def _create_position(request, form) -> ServicePosition | None:
    data = form.cleaned_data
    unit, kind = data["unit"], data["kind"]
    if unit.division.level != sel.UNIT_LEVEL[PositionKind(kind)]:
        form.add_error("unit", _("街道党群服务中心和服务站由街道办事处主办，社区党群服务中心由社区居委会主办。"))
        return None
    located = _locate(form, data["address"], data.get("lng"), data.get("lat"))
    if located is None:
        return None
    loc, (lng, lat) = located
    code = _deepest_code(loc)
    if not code.startswith(unit.division.code):
        form.add_error("address", _("该地址不在主办单位的辖区内。"))
        return None
    division = unit.division
    if kind == PositionKind.STATION and loc.community is not None:
        division = Division.objects.get(code=loc.community.code)
    try:
        return svc.position_create(kind=kind, name=data["name"], unit=unit, division=division, lng=lng, lat=lat,
                                   address=data["address"], phone=data.get("phone", ""), grid=_grid_in(loc, division),
                                   actor=request.user)
    except DomainError as exc:
        form.add_domain_error(exc)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def position_edit(request, pk: int):
    position = _editable(request, pk)
    initial = {"name": position.name, "address": position.address, "phone": position.phone,
               "active": position.active}
    form = PositionEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid() and _update_position(request, form, position):
            messages.success(request, _("已保存。"))
            return redirect("services:setup_position", pk=position.pk)
        status = 400
    return render(request, "services/setup/position_form.html", {
        "form": form, "p": position, "desk": DeskSetting.objects.filter(position=position).first(),
        "hours": position.hours.all(), "items": position.items.order_by("code")}, status=status)


def _update_position(request, form, position: ServicePosition) -> bool:
    data = form.cleaned_data
    changes = {k: data[k] for k in ("name", "address", "phone", "active")}
    lng, lat = data.get("lng"), data.get("lat")
    if lng is not None or lat is not None or data["address"] != position.address:
        located = _locate(form, data["address"], lng, lat)
        if located is None:
            return False
        loc, (changes["lng"], changes["lat"]) = located
        if not _deepest_code(loc).startswith(position.division.code):
            form.add_error("lng" if lng is not None else "address", _("新位置不在该服务阵地所在的区划内。"))
            return False
        changes["grid"] = _grid_in(loc, position.division)
        changes["building"] = None
    try:
        svc.position_update(position, actor=request.user, **changes)
    except DomainError as exc:
        form.add_domain_error(exc)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def position_hours(request, pk: int):
    """Weekly opening hours: up to three periods per weekday and for statutory holidays."""
    position = _editable(request, pk)
    initial = {"open_on_holidays": position.open_on_holidays}
    slots: dict[int, int] = {}
    for h in position.hours.order_by("day", "opens"):
        slot = slots.get(h.day, 0)
        slots[h.day] = slot + 1
        initial.update({hours_field(h.day, slot, "opens"): h.opens, hours_field(h.day, slot, "closes"): h.closes,
                        hours_field(h.day, slot, "note"): h.note})
    form = HoursForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid() and _set_hours(request, form, position):
            messages.success(request, _("开放时间已保存。"))
            return redirect("services:setup_position", pk=position.pk)
        status = 400
    return render(request, "services/setup/hours.html", {"form": form, "p": position}, status=status)


def _set_hours(request, form, position: ServicePosition) -> bool:
    periods = form.periods()
    try:
        svc.position_hours_set(position, periods=[p[:4] for p in periods], actor=request.user,
                               open_on_holidays=form.cleaned_data["open_on_holidays"])
    except DomainError as exc:
        field = _refused_row(request, position, periods)
        form.add_error(field, exc.message)
        return False
    return True


def _refused_row(request, position, periods) -> str | None:
    """The field of the first row the service refuses (alone, or with the earlier rows of its day)."""
    def refused(rows):
        return service_refusal(lambda: svc.position_hours_set(position, periods=[r[:4] for r in rows],
                                                              actor=request.user))

    for p in periods:
        exc = refused([p])
        if exc is not None:
            return hours_field(p[0], p[4], exc.field if exc.field in ("opens", "closes", "note") else "opens")
    by_day: dict[int, list] = {}
    for p in sorted(periods, key=lambda r: (r[0], r[1])):
        rows = by_day.setdefault(p[0], [])
        rows.append(p)
        if len(rows) > 1 and refused(rows) is not None:
            return hours_field(p[0], p[4], "opens")
    return None


@login_required
@require_http_methods(["GET", "POST"])
def position_items(request, pk: int):
    """Choose the catalogue items the position handles: search, tick, save."""
    position = _editable(request, pk)
    current = set(position.items.values_list("pk", flat=True))
    if request.method == "POST":
        shown = {int(x) for x in request.POST.getlist("shown") if x.isdigit()}
        ticked = {int(x) for x in request.POST.getlist("item") if x.isdigit()} & shown
        changed = [i for i in shown if (i in ticked) != (i in current)]
        with transaction.atomic():
            for item in ServiceItem.objects.filter(pk__in=changed).order_by("pk"):
                positions = [p for p in item.positions.all() if p.pk != position.pk]
                if item.pk in ticked:
                    positions.append(position)
                svc.item_positions_set(item, positions=positions, actor=request.user)
        messages.success(request, _("可办事项已保存：%(n)s 项变动。") % {"n": len(changed)})
        return redirect(request.get_full_path())
    q = request.GET.get("q", "").strip()[:60]
    chosen = list(ServiceItem.objects.filter(pk__in=current).order_by("code"))
    results = []
    if q:
        results = list(ServiceItem.objects.filter(active=True).filter(
            Q(name__icontains=q) | Q(code__icontains=q) | Q(category__icontains=q))
            .exclude(pk__in=current).order_by("code")[:ITEM_RESULTS])
    return render(request, "services/setup/items.html", {
        "p": position, "chosen": chosen, "results": results, "q": q, "limit": ITEM_RESULTS})


@login_required
@require_http_methods(["GET", "POST"])
def position_desk(request, pk: int):
    """Appointment slots: minutes per slot and places per slot (desk_setting_set)."""
    position = _editable(request, pk)
    setting = DeskSetting.objects.filter(position=position).first()
    initial = {"slot_minutes": setting.slot_minutes if setting else DeskSetting._meta.get_field("slot_minutes").default,
               "slot_capacity": (setting.slot_capacity if setting
                                 else DeskSetting._meta.get_field("slot_capacity").default)}
    form = DeskForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                desk_setting_set(position, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("预约设置已保存。"))
                return redirect("services:setup_position", pk=position.pk)
        status = 400
    return render(request, "services/setup/desk.html", {"form": form, "p": position}, status=status)


# -- the catalogue (administrators) -----------------------------------------------------------------------

@login_required
@require_http_methods(["GET"])
def catalogue(request):
    _require_admin(request.user)
    q = request.GET.get("q", "").strip()[:60]
    items = ServiceItem.objects.order_by("code")
    if q:
        items = items.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(category__icontains=q))
    return render(request, "services/setup/catalogue.html", {"page": paged(request, items), "q": q})


@login_required
@require_http_methods(["GET", "POST"])
def item_form(request, pk: int | None = None):
    _require_admin(request.user)
    item = get_object_or_404(ServiceItem, pk=pk) if pk else None
    initial = {}
    if item is not None:
        initial = {f: getattr(item, f) for f in ("code", "name", "category", "level", "time_limit_days", "fee",
                                                  "legal_basis", "active")}
        initial["documents"] = "\n".join(item.documents or [])
    form = ItemForm(request.POST or None, initial=initial, editing=item is not None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = form.values()
            try:
                if item is None:
                    values.pop("active")
                    svc.item_create(actor=request.user, **values)
                else:
                    values.pop("code")
                    svc.item_update(item, actor=request.user, **values)
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(request, _("服务事项已保存。"))
                return redirect("services:setup_catalogue")
        status = 400 if status == 200 else status
    return render(request, "services/setup/item_form.html", {"form": form, "item": item}, status=status)


# -- admission list versions and 减负 (administrators) ------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def admission_versions(request):
    """The list's versions; start a draft (optionally copying a version's standing items)."""
    _require_admin(request.user)
    form = DraftForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                admission_svc.admission_list_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("草稿已创建。"))
                return redirect("services:setup_admission")
        status = 400
    versions = AdmissionList.objects.order_by("-id")
    return render(request, "services/setup/admission.html", {"form": form, "versions": versions,
                                                             "draft": AdmissionListStatus.DRAFT}, status=status)


@login_required
@require_POST
def admission_publish(request, pk: int):
    _require_admin(request.user)
    lst = get_object_or_404(AdmissionList, pk=pk)
    try:
        admission_svc.admission_list_publish(lst, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("“%(title)s”已发布施行，原施行版本同日废止。") % {"title": lst.title})
    return redirect("services:setup_admission")


@login_required
@require_http_methods(["GET"])
def burden_entries(request):
    _require_admin(request.user)
    entries = BurdenItem.objects.filter(status=BurdenStatus.KEPT).order_by("kind", "name")
    q = request.GET.get("q", "").strip()[:60]
    if q:
        entries = entries.filter(Q(name__icontains=q) | Q(department_name__icontains=q))
    return render(request, "services/setup/burden.html", {"page": paged(request, entries), "q": q,
                                                          "form": CutForm()})


@login_required
@require_POST
def burden_cut(request, pk: int):
    _require_admin(request.user)
    entry = get_object_or_404(BurdenItem, pk=pk)
    form = CutForm(request.POST)
    if form.is_valid():
        try:
            admission_svc.burden_item_cut(entry, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已取消“%(name)s”。") % {"name": entry.name})
    return redirect("services:setup_burden")


# -- one community worker at a time (managers) ------------------------------------------------------------

@login_required
@require_http_methods(["GET"])
def workers_choose(request):
    """Pick the community whose roster to add to (communities under the manager's offices)."""
    prefixes = selectors_workers.manage_prefixes(request.user)
    if prefixes == []:
        raise PermissionDenied(_("您无权管理社区工作者。"))
    code = request.GET.get("code", "").strip()[:12]
    if code:
        return redirect("services:setup_workers_community", code=code)
    communities = Division.objects.filter(level=Level.COMMUNITY).order_by("code")
    if prefixes is not None:
        q = Q(pk__in=[])
        for p in prefixes:
            q |= Q(code__startswith=p)
        communities = communities.filter(q)
    return render(request, "services/setup/workers_choose.html", {
        "page": paged(request, communities), "all": prefixes is None})


@login_required
@require_http_methods(["GET", "POST"])
def workers_community(request, code: str):
    """Register one worker on a committee's roster; record a yearly assessment of one on it."""
    division = get_object_or_404(Division, code=code, level=Level.COMMUNITY)
    committee = selectors_workers.committee_of(division)
    if committee is None or not selectors_workers.may_manage(request.user, committee):
        raise Http404(_("找不到该社区。"))
    form = WorkerForm(request.POST if request.POST.get("action") == "register" else None, prefix="w")
    assess_form, assess_for, status = None, None, 200
    if request.method == "POST" and request.POST.get("action") == "register":
        if form.is_valid() and _register_worker(request, form, committee):
            messages.success(request, _("已登记社区工作者 %(name)s。") % {"name": form.cleaned_data["name"]})
            return redirect("services:setup_workers_community", code=code)
        status = 400
    elif request.method == "POST" and request.POST.get("action") == "assess":
        assess_for = get_object_or_404(CommunityWorker, pk=request.POST.get("worker", "0"), unit=committee)
        assess_form = AssessForm(request.POST, prefix=f"a{assess_for.pk}")
        if assess_form.is_valid():
            try:
                workers_svc.worker_assess(assess_for, actor=request.user, **assess_form.cleaned_data)
            except DomainError as exc:
                assess_form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(request, _("已登记 %(name)s 的 %(year)s 年度考核结果。") % {
                    "name": assess_for.user.display_name, "year": assess_form.cleaned_data["year"]})
                return redirect("services:setup_workers_community", code=code)
        status = 400 if status == 200 else status
    workers = list(selectors_workers.roster(division))
    for w in workers:
        w.form = assess_form if assess_for is not None and w.pk == assess_for.pk else AssessForm(prefix=f"a{w.pk}")
        w.recent = sorted(w.assessments.all(), key=lambda a: a.year)[-3:]
    return render(request, "services/setup/workers.html", {
        "division": division, "committee": committee, "form": form, "workers": workers}, status=status)


def _register_worker(request, form, committee) -> bool:
    data = form.cleaned_data
    try:
        phone = validate_phone(data["phone"])
        name = clean_text(data["name"], field="name", max_length=60)
        with transaction.atomic():
            user = User.objects.filter(phone=phone).order_by("-id").first() if phone else None
            if user is None:
                # someone on the roster who does not sign in (as the import records them)
                user = user_create(username=f"cw-{uuid.uuid4().hex[:16]}", password="", display_name=name,
                                   phone=phone, actor=request.user, can_log_in=False)
            workers_svc.worker_register(user=user, unit=committee, post=data["post"], started_on=data["started_on"],
                                        education=data["education"], qualification=data.get("qualification") or "",
                                        entry_grade=data.get("entry_grade"), actor=request.user)
    except DomainError as exc:
        form.add_domain_error(exc)
        return False
    return True

