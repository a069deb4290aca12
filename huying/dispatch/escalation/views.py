"""Pages of 吹哨报到 and 督办: the whistle form of one order, a department's summons list with its
report button, and the supervision notices with a dispatcher's manual notice."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from huying.core.errors import DomainError
from huying.people.models import RoleCode

from .. import selectors as order_selectors
from ..services.common import has_any_role
from . import selectors, services
from .forms import CallFilterForm, SupervisionFilterForm, SupervisionForm, WhistleForm
from .models import WhistleCall

PAGE_SIZE = 20


def _order(request, pk: int):
    try:
        return order_selectors.work_order_get(actor=request.user, pk=pk)
    except DomainError as exc:
        raise Http404(exc.message) from None


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def whistle(request, pk: int):
    """吹哨: the order's whistles so far and a form to blow another."""
    order = _order(request, pk)
    form = WhistleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.whistle_blow(order, actor=request.user, kind=form.cleaned_data["kind"],
                                  department_ids=[d.pk for d in form.cleaned_data["departments"]],
                                  reason=form.cleaned_data["reason"])
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已吹哨，被召集部门须按时报到。"))
            return redirect("escalation:whistle", pk=order.pk)
    return render(request, "dispatch/escalation/whistle.html", {
        "order": order, "form": form, "whistles": selectors.whistles_for_order(order), "now": timezone.now(),
        "limits": {k: services.report_minutes(k) for k in ("routine", "tough", "emergency")},
    }, status=400 if form.errors else 200)


@login_required
def whistle_calls(request):
    """报到: the summonses of the viewer's departments, pending first, each with one button."""
    filters = CallFilterForm(request.GET or None)
    status = filters.cleaned_data.get("status") if filters.is_valid() else None
    page = Paginator(selectors.whistle_calls_for(actor=request.user, status=status or None),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dispatch/escalation/calls.html",
                  {"page": page, "filters": filters, "now": timezone.now(), "pending": WhistleCall.Status.PENDING})


@login_required
@require_POST
def whistle_call_report(request, pk: int):
    try:
        call = services.whistle_report(pk, actor=request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if call.late:
            messages.warning(request, _("已报到（超过报到时限）。"))
        else:
            messages.success(request, _("已报到，本部门已成为该工单的协办单位。"))
    return redirect("escalation:calls")


@login_required
@require_http_methods(["GET", "POST"])
def supervision(request):
    """督办: notices addressed to the viewer's units or on orders they may see; dispatchers issue one."""
    can_issue = has_any_role(request.user, RoleCode.DISPATCHER)
    form = SupervisionForm(request.POST or None) if can_issue else None
    if request.method == "POST":
        if form is None:
            raise Http404()
        if form.is_valid():
            try:
                order = order_selectors.work_order_get(actor=request.user, code=form.cleaned_data["order"])
                notice = services.supervision_issue(order, actor=request.user, note=form.cleaned_data["note"])
            except DomainError as exc:
                if exc.code == "dispatch.not_found":
                    exc.field = "order"
                _form_error(form, exc)
            else:
                messages.success(request, _("已发出第 %(level)s 次督办。") % {"level": notice.level})
                return redirect("escalation:supervision")
    filters = SupervisionFilterForm(request.GET or None)
    cause = filters.cleaned_data.get("cause") if filters.is_valid() else None
    page = Paginator(selectors.supervision_notice_list(actor=request.user, cause=cause or None),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    for notice in page:
        # Recipients in the order of the chain: the supervised unit's side first, then up.
        addressed = {u.pk for u in notice.recipients.all()}
        notice.recipient_list = [u for u in services.superior_chain(notice.unit) if u.pk in addressed]
    return render(request, "dispatch/escalation/supervision.html",
                  {"page": page, "filters": filters, "form": form},
                  status=400 if form is not None and form.errors else 200)
