"""定位核实 on the order page: an operator or dispatcher sets the point of an address-only order.

The form lives in the order page's side column (`{% relocate_panel %}`, templatetags/dispatch_place.py);
a refusal re-renders the order page with the bound form, its message beside the field.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from huying.core.errors import DomainError

from . import services
from .forms import VersionForm
from .models import State
from .services.relocate import REASON_MAX
from .views import _detail, _get_order, _safe_next

# The bound form of a refused submission rides on the request to the order page's panel.
BOUND_ATTR = "dispatch_relocate_form"


class RelocateForm(VersionForm):
    """定位核实: a point picked on the map (or typed), or an address precise enough for the locator."""

    lng = forms.FloatField(label=_l("经度"), required=False)
    lat = forms.FloatField(label=_l("纬度"), required=False)
    address = forms.CharField(label=_l("详细地址（未选点时按地址定位）"), max_length=255, required=False)
    outside_division = forms.BooleanField(label=_l("地点不在原区域"), required=False)
    reason = forms.CharField(label=_l("说明（地点不在原区域时必填）"), required=False, max_length=REASON_MAX,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("lng", "lat"):
            self.fields[name].widget.attrs.update(step="any", inputmode="decimal")

    def clean(self):
        d = super().clean()
        if (d.get("lng") is None) != (d.get("lat") is None) and not self.has_error("lng") and not self.has_error("lat"):
            self.add_error("lng", _("请同时填写经度和纬度，或在地图上选点。"))
        return d


def relocate_form_for(request, order):
    """The panel's form: the refused one when this request carries it, else a fresh one."""
    bound = getattr(request, BOUND_ATTR, None)
    return bound or RelocateForm(initial={"version": order.version})


@login_required
@require_POST
def relocate(request, pk: int):
    """Set the order's point; a submitted order gets a new proposed unit, a dispatched one keeps its unit."""
    order = _get_order(request, pk)
    form = RelocateForm(request.POST)
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        try:
            order = services.work_order_relocate(order, actor=request.user, lng=d["lng"], lat=d["lat"],
                                                 address=d["address"], outside_division=d["outside_division"],
                                                 reason=d["reason"], version=d["version"])
        except DomainError as exc:
            form.add_domain_error(exc)
            status = exc.status
        else:
            if order.state == State.SUBMITTED:
                messages.success(request, _("位置已核实为 %(place)s，已按新位置重新生成建议承办单位。")
                                 % {"place": order.area_label})
            else:
                messages.success(request, _("位置已核实为 %(place)s（工单已派出，只记录新地点，承办单位不变）。")
                                 % {"place": order.area_label})
            return redirect(_safe_next(request, reverse("dispatch:detail", args=[order.pk])))
    if status == 409:
        messages.error(request, form.non_field_errors()[0] if form.non_field_errors() else _("操作未成功。"))
    setattr(request, BOUND_ATTR, form)
    return _detail(request, _get_order(request, pk), status=status)
