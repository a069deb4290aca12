"""应急指挥一张图: a live map of the active alerts in one's territory and the units working them.

The page draws nothing itself: its script reads `data.json` (polled every 30 s) and the division
outlines from dispatch's report-map shapes. Both views check the territory asked for (`?code=`):
outside the viewer's scope, or unknown, it is 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from huying.core.errors import DomainError

from . import selectors_emergency as sel
from .selectors import may_view

REFRESH_SECONDS = 30


def _require_view(user) -> None:
    if not may_view(user):
        raise PermissionDenied(_("此页面供设备权属单位和辖区的工作人员使用。"))


def _labels() -> dict:
    return {
        "orders": _("工单"), "units": _("处置单位"), "noUnit": _("尚未派单"), "noOrder": _("未生成工单"),
        "none": _("辖区内没有进行中的预警。"), "updated": _("更新于"), "failed": _("刷新失败："),
        "truncated": _("预警过多，仅显示最紧急的一部分。"), "cohandler": _("协办"), "accepted": _("已签收"),
        "overdue": _("超期"), "noShapes": _("暂无区划边界，按经纬度显示。"), "count": _("进行中的预警"),
    }


@login_required
@require_GET
def emergency(request):
    """The page: map, side list, and the config its script needs (json_script, no inline script)."""
    _require_view(request.user)
    try:
        prefix = sel.territory_check(request.user, request.GET.get("code", ""))
    except DomainError as exc:
        raise Http404(exc.message) from None
    query = f"?code={prefix}" if prefix else ""
    config = {
        "data": reverse("sensing:emergency_data") + query,
        "shapes": reverse("dispatch:report_map", args=["CODE"]),
        "root": sel.map_root(request.user, prefix),
        "refresh": REFRESH_SECONDS,
        "labels": _labels(),
    }
    return render(request, "sensing/emergency.html", {"config": config, "code": prefix})


@login_required
@require_GET
@never_cache
def emergency_data(request):
    """JSON: the active alerts with their orders, the units working them and the orders' states."""
    if not may_view(request.user):
        return JsonResponse({"code": "sensing.forbidden", "message": _("此页面供设备权属单位和辖区的工作人员使用。")},
                            status=403, json_dumps_params={"ensure_ascii": False})
    try:
        prefix = sel.territory_check(request.user, request.GET.get("code", ""))
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})
    return JsonResponse(sel.emergency_data(actor=request.user, prefix=prefix),
                        json_dumps_params={"ensure_ascii": False})
