"""Pages: the hot issues (热点问题) with their orders, and the alerts (预警) with acknowledge and
open-an-order actions. Both are scoped by the viewer's territory through the selectors."""


from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from huying.core.errors import DomainError

from . import selectors, services
from .models import Alert, AlertKind, AlertStatus

PAGE_SIZE = 20


class HotFilterForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("最近天数"), min_value=1, max_value=90, required=False,
                              error_messages={"min_value": gettext_lazy("天数须在 1 到 90 之间。"),
                                              "max_value": gettext_lazy("天数须在 1 到 90 之间。"),
                                              "invalid": gettext_lazy("请输入整数天数。")})
    min_size = forms.IntegerField(label=gettext_lazy("最少件数"), min_value=2, max_value=1000, required=False,
                                  error_messages={"min_value": gettext_lazy("最少件数不能小于 2。"),
                                                  "max_value": gettext_lazy("最少件数不能大于 1000。"),
                                                  "invalid": gettext_lazy("请输入整数件数。")})


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False,
                               choices=[("", gettext_lazy("全部"))] + list(AlertStatus.choices))
    kind = forms.ChoiceField(label=gettext_lazy("类别"), required=False,
                             choices=[("", gettext_lazy("全部"))] + list(AlertKind.choices))


@login_required
def hot_list(request):
    """热点问题: groups of similar calls in one place and time, hottest first, each with its orders."""
    form = HotFilterForm(request.GET or None)
    groups, computed_at, valid = [], None, not form.is_bound or form.is_valid()
    if valid:
        data = form.cleaned_data if form.is_bound else {}
        groups, computed_at = selectors.hot_groups_page(actor=request.user, now=timezone.now(),
                                                        days=data.get("days") or selectors.SNAPSHOT_DAYS,
                                                        min_size=data.get("min_size") or 2)
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dispatch/hot/groups.html", {"form": form, "page": page, "computed_at": computed_at,
                                                         "valid": valid},
                  status=400 if form.errors else 200)


def _alert(request, pk: int) -> Alert:
    alert = selectors.alert_list(actor=request.user).filter(pk=pk).first()
    if alert is None:
        raise Http404(_("预警不存在。"))
    return alert


@login_required
def alert_list(request):
    """预警: the alerts in the viewer's territory, with their evidence and actions."""
    form = AlertFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = selectors.alert_list(actor=request.user, status=data.get("status") or None, kind=data.get("kind") or None)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dispatch/hot/alerts.html", {"form": form, "page": page},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def alert_acknowledge(request, pk: int):
    alert = _alert(request, pk)
    try:
        services.alert_acknowledge(alert, actor=request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已确认预警。"))
    return redirect("hot:alerts")


@login_required
@require_POST
def alert_open_order(request, pk: int):
    alert = _alert(request, pk)
    try:
        order = services.alert_open_order(alert, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已生成工单 %(code)s。") % {"code": order.code})
    return redirect("hot:alerts")
