"""Pages that close the loop on a unit's result: the unit leader's review list (待审核), the grid
worker's on-site check list (待核查), and the review/check actions on one order.

Each action form posts the order's version (stale → a clear message, never an overwrite); a
refusal is shown next to the field on the page the form came from.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_POST

from huying.core.errors import DomainError
from huying.people.models import RoleCode
from huying.people.scope import scope_for

from . import selectors, selectors_check, services
from .forms import MultipleFileField, VersionForm
from .models import WorkOrder
from .views import _detail  # the order page, with a refused form bound in its review/check panel

PAGE_SIZE = 20


class ReviewForm(VersionForm):
    note = forms.CharField(label=_l("审核意见（退回时必填）"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class CheckForm(VersionForm):
    note = forms.CharField(label=_l("核查情况（不通过时必填）"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    photos = MultipleFileField(label=_l("核查照片"))


class OnsiteCheckForm(VersionForm):
    reason = forms.CharField(label=_l("理由"), required=False, max_length=2000)


def _has_role(user, *roles) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or scope_for(user).has_any_role(*roles, RoleCode.ADMIN)


def _get_order(request, pk: int) -> WorkOrder:
    try:
        return selectors.work_order_get(actor=request.user, pk=pk)
    except DomainError as exc:
        raise Http404(exc.message) from None


def _next(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def forms_for(order: WorkOrder, actions: list[str], bound: dict | None = None) -> dict:
    """The unbound (or the given bound) form of each review/check action the viewer has."""
    bound = bound or {}
    initial = {"version": order.version}
    out = {}
    if "review_approve" in actions:
        out["review"] = bound.get("review") or ReviewForm(prefix=f"review{order.pk}", initial=initial)
    if "check_pass" in actions:
        out["check"] = bound.get("check") or CheckForm(prefix=f"check{order.pk}", initial=initial)
    if "require_check" in actions or "waive_check" in actions:
        out["onsite"] = bound.get("onsite") or OnsiteCheckForm(prefix=f"onsite{order.pk}", initial=initial)
    return out


def _rows(page, actor, bound: tuple | None = None) -> list[dict]:
    rows = []
    for order in page:
        actions = selectors_check.check_review_actions(order, actor=actor)
        mine = bound[1] if bound and bound[0] == order.pk else None
        rows.append({"order": order, "actions": actions, "forms": forms_for(order, actions, mine)})
    return rows


def _list(request, *, kind: str, bound: tuple | None = None, status: int = 200):
    if kind == "reviews":
        if not _has_role(request.user, RoleCode.UNIT_LEADER):
            raise PermissionDenied(_("只有单位负责人可以审核办理结果。"))
        qs = selectors_check.review_queue(actor=request.user)
    else:
        if not _has_role(request.user, RoleCode.GRID_WORKER):
            raise PermissionDenied(_("只有网格员可以现场核查。"))
        qs = selectors_check.check_queue(actor=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dispatch/check_review_list.html", {
        "kind": kind, "page": page, "rows": _rows(page, request.user, bound), "now": timezone.now(),
        # after a refused POST the address is the action's: come back to the list itself
        "back": request.get_full_path() if request.method == "GET" else reverse(f"dispatch:{kind}"),
    }, status=status)


@login_required
@require_GET
def reviews(request):
    """待审核: the handlers' results waiting for this unit leader."""
    return _list(request, kind="reviews")


@login_required
@require_GET
def checks(request):
    """待核查: results in this grid worker's grid waiting for the on-site check."""
    return _list(request, kind="checks")


def _refused(request, order: WorkOrder, key: str, form, exc: DomainError):
    """Show the refusal next to the field, on the page the form came from (a list or the order page)."""
    form.add_domain_error(exc)
    source = request.POST.get("from", "")
    if source in ("reviews", "checks"):
        return _list(request, kind=source, bound=(order.pk, {key: form}), status=exc.status)
    request.check_review_bound = {key: form}
    return _detail(request, _get_order(request, order.pk), status=exc.status)


REVIEW_MESSAGES = {"approve": _l("已审核通过。"), "return": _l("已退回承办人重新办理。")}
CHECK_MESSAGES = {"pass": _l("核查通过，工单等待回访。"), "fail": _l("核查不通过，工单已退回承办单位返工。")}


@login_required
@require_POST
def review_act(request, pk: int, decision: str):
    """The unit leader approves (审核通过) or sends back (退回) a handler's result."""
    if decision not in REVIEW_MESSAGES:
        raise Http404
    order = _get_order(request, pk)
    form = ReviewForm(request.POST, prefix=f"review{order.pk}")
    if not form.is_valid():
        return _refused(request, order, "review", form, DomainError("dispatch.invalid", _("请检查填写的内容。")))
    d = form.cleaned_data
    try:
        if decision == "approve":
            order = services.work_order_review_approve(order, actor=request.user, note=d["note"],
                                                       version=d["version"])
        else:
            order = services.work_order_review_return(order, actor=request.user, reason=d["note"],
                                                      version=d["version"])
    except DomainError as exc:
        if exc.field == "reason":
            exc = DomainError(exc.code, exc.message, field="note", status=exc.status)
        return _refused(request, order, "review", form, exc)
    messages.success(request, REVIEW_MESSAGES[decision])
    return redirect(_next(request, reverse("dispatch:detail", args=[order.pk])))


@login_required
@require_POST
def check_act(request, pk: int, decision: str):
    """The grid worker records the on-site check (核查): passed, or failed → rework."""
    if decision not in CHECK_MESSAGES:
        raise Http404
    order = _get_order(request, pk)
    form = CheckForm(request.POST, request.FILES, prefix=f"check{order.pk}")
    if not form.is_valid():
        return _refused(request, order, "check", form, DomainError("dispatch.invalid", _("请检查填写的内容。")))
    d = form.cleaned_data
    fn = services.work_order_check_pass if decision == "pass" else services.work_order_check_fail
    try:
        order = fn(order, actor=request.user, note=d["note"], photos=d.get("photos") or [], version=d["version"])
    except DomainError as exc:
        return _refused(request, order, "check", form, exc)
    (messages.success if decision == "pass" else messages.warning)(request, CHECK_MESSAGES[decision])
    return redirect(_next(request, reverse("dispatch:detail", args=[order.pk])))


@login_required
@require_POST
def onsite_check(request, pk: int):
    """The dispatcher asks for (or waives) the on-site check of one order (指定核查)."""
    order = _get_order(request, pk)
    form = OnsiteCheckForm(request.POST, prefix=f"onsite{order.pk}")
    if not form.is_valid():
        return _refused(request, order, "onsite", form, DomainError("dispatch.invalid", _("请检查填写的内容。")))
    required = request.POST.get("required") == "1"
    try:
        services.work_order_set_onsite_check(order, actor=request.user, required=required,
                                             reason=form.cleaned_data["reason"], version=form.cleaned_data["version"])
    except DomainError as exc:
        return _refused(request, order, "onsite", form, exc)
    messages.success(request, _("已指定办结后现场核查。") if required else _("已取消指定核查。"))
    return redirect(reverse("dispatch:detail", args=[order.pk]))
