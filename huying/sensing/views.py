"""Pages of sensing (感知预警): the sensors of one's unit and territory (list, register, import, state),
the alert rules, and a link to dispatch's alert list filtered to sensor alerts (one alert page for all).
Views parse input and call services; every page checks its own scope (another's sensor answers 404).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from huying.core.errors import DomainError
from huying.core.paging import paged
from huying.dispatch.hot.models import AlertKind

from . import imports
from . import selectors as sel
from . import services as svc
from .forms import FilterForm, ImportForm, RuleEditForm, RuleForm, SensorForm, StateForm


def _require_view(user) -> None:
    if not sel.may_view(user):
        raise PermissionDenied(_("此页面供设备权属单位和辖区的工作人员使用。"))


def _require_manage(user) -> None:
    if not sel.may_manage(user):
        raise PermissionDenied(_("您没有设置感知设备的权限。"))


def _alerts_url() -> str:
    return reverse("hot:alerts") + f"?kind={AlertKind.SENSOR.value}"


@login_required
@require_http_methods(["GET"])
def home(request):
    """感知设备: the sensors this person may see, filterable, with links to set-up and the alerts."""
    _require_view(request.user)
    form = FilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    sensors = sel.sensor_list(actor=request.user, kind=data.get("kind") or "", state=data.get("state") or "",
                              search=(data.get("q") or "").strip())
    return render(request, "sensing/home.html", {
        "form": form, "page": paged(request, sensors), "may_manage": sel.may_manage(request.user),
        "alerts_url": _alerts_url()}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def sensor_new(request):
    _require_manage(request.user)
    form = SensorForm(request.POST or None, units=sel.owner_units(request.user))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                sensor = svc.sensor_create(code=d["code"], name=d["name"], kind=d["kind"], owner_unit=d["owner_unit"],
                                           lng=d["lng"], lat=d["lat"], measure_unit=d["measure_unit"],
                                           address=d["address"], place=d["place"], building=d["building"] or None,
                                           actor=request.user)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("已登记设备 %(code)s。") % {"code": sensor.code})
                return redirect("sensing:sensor", pk=sensor.pk)
        status = 400
    return render(request, "sensing/sensor_form.html", {"form": form}, status=status)


def _sensor(request, pk: int):
    sensor = sel.sensor_get(actor=request.user, pk=pk)
    if sensor is None:
        raise Http404(_("设备不存在。"))
    return sensor


@login_required
@require_http_methods(["GET", "POST"])
def sensor_detail(request, pk: int):
    _require_view(request.user)
    sensor = _sensor(request, pk)
    may_manage = sel.may_manage_sensor(request.user, sensor)
    form = StateForm(request.POST or None, initial={"state": sensor.state})
    status = 200
    if request.method == "POST":
        if not may_manage:
            raise Http404(_("设备不存在。"))
        if form.is_valid():
            try:
                svc.sensor_set_state(sensor, state=form.cleaned_data["state"], note=form.cleaned_data["note"],
                                     actor=request.user)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("已保存。"))
                return redirect("sensing:sensor", pk=sensor.pk)
        status = 400
    return render(request, "sensing/sensor.html", {
        "s": sensor, "form": form, "may_manage": may_manage, "readings": sel.recent_readings(sensor),
        "rules": sel.rule_list(actor=request.user).filter(sensor_kind=sensor.kind), "alerts_url": _alerts_url()},
        status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sensor_import(request):
    _require_manage(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, units=sel.owner_units(request.user))
    errors, status = [], 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                out = svc.sensors_import(upload, filename=upload.name, owner_unit=form.cleaned_data["owner_unit"],
                                         actor=request.user)
            except DomainError as exc:
                form.add_domain_error(exc)
                errors = exc.details.get("rows", [])
            else:
                messages.success(request, _("已导入 %(n)s 台设备。") % {"n": out["created"]})
                return redirect("sensing:home")
        status = 400
    return render(request, "sensing/import.html", {"form": form, "errors": errors}, status=status)


@login_required
@require_http_methods(["GET"])
def import_template(request):
    _require_manage(request.user)
    response = HttpResponse(imports.template(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="sensors.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def rules(request):
    """预警规则: the rules this person may see, and a form to set one."""
    _require_view(request.user)
    may_manage = sel.may_manage(request.user)
    form = RuleForm(request.POST or None, units=sel.owner_units(request.user)) if may_manage else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("您没有设置感知设备的权限。"))
        if form.is_valid():
            rule = _create_rule(request, form)
            if rule is not None:
                messages.success(request, _("已设置规则“%(name)s”。") % {"name": rule.name})
                return redirect("sensing:rules")
        status = 400
    return render(request, "sensing/rules.html", {"form": form, "page": paged(request, sel.rule_list(
        actor=request.user))}, status=status)


def _create_rule(request, form):
    d = form.cleaned_data
    sensor = None
    if d["sensor"]:
        sensor = sel.sensor_list(actor=request.user).filter(code=d["sensor"].strip()).first()
        if sensor is None:
            form.add_error("sensor", _("设备不存在。"))
            return None
    try:
        return svc.rule_create(name=d["name"], kind=d["kind"], sensor_kind=d["sensor_kind"], params=d["params"],
                               subject=d["subject"], urgency=d["urgency"], emergency=d["emergency"],
                               whistle_departments=list(d["whistle_departments"]), area_code=d["area_code"],
                               sensor=sensor, owner_unit=d["owner_unit"], actor=request.user)
    except DomainError as exc:
        form.add_domain_error(exc)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int):
    _require_view(request.user)
    rule = sel.rule_get(actor=request.user, pk=pk)
    if rule is None:
        raise Http404(_("规则不存在。"))
    form = RuleEditForm(request.POST or None, initial={"params": json.dumps(rule.params, ensure_ascii=False),
                                                        "urgency": rule.urgency, "active": rule.active})
    status = 200
    if request.method == "POST":
        if not sel.may_manage(request.user):
            raise PermissionDenied(_("您没有设置感知设备的权限。"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                svc.rule_update(rule, params=d["params"], urgency=d["urgency"], active=d["active"], actor=request.user)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("已保存。"))
                return redirect("sensing:rules")
        status = 400
    return render(request, "sensing/rule.html", {"rule": rule, "form": form}, status=status)

