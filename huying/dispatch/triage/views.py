"""The triage queue (人工分拨): orders the classifier was not sure about, settled one by one via htmx.

Each order's card posts to `act`; on success htmx swaps the card for a one-line notice and the
count in the dispatch nav updates out of band; a refusal comes back as the same card with the
message beside the field (status 200 for htmx, which swaps no 4xx answer).
"""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from huying.core.errors import DomainError
from huying.people.masking import mask_phone

from .. import selectors as order_selectors
from ..models import State
from ..templating import package_renderer
from . import selectors, services
from .models import Label

PAGE_SIZE = 20
render = package_renderer(__file__)
_template = render.template


def _require(request) -> None:
    if not selectors.can_triage(request.user):
        raise PermissionDenied(_("您没有访问此页面的权限。"))


def _card(order, *, routes: dict, data=None, error: DomainError | None = None) -> dict:
    c = order.classification
    route = routes.get(c.label)
    return {
        "order": order, "c": c, "phone": mask_phone(order.reporter_phone),
        "labels": Label.values, "units": list(selectors.unit_candidates(order)[:300]),
        "label": (data or {}).get("label") or c.label, "subject": (data or {}).get("subject", ""),
        "unit": (data or {}).get("unit", ""), "reason": (data or {}).get("reason", ""),
        "mapped": route, "error": error, "field": error.field if error else "",
    }


def _routes() -> dict:
    return {r.label: r for r in selectors.label_routes()}


@login_required
@require_GET
def queue(request):
    """待分拨: the orders awaiting triage in the viewer's territory, oldest first."""
    _require(request)
    qs = selectors.triage_queue(actor=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    routes = _routes()
    card = _template("dispatch/triage/_card.html")
    return render(request, "dispatch/triage/queue.html", {
        "page": page, "count": page.paginator.count,
        "cards": [mark_safe(card.render({"card": _card(o, routes=routes)}, request)) for o in page],  # noqa: S308
    })


@login_required
@require_GET
def count(request):
    """The number waiting, for the badge in the dispatch nav (loaded by htmx)."""
    n = selectors.triage_count(actor=request.user) if selectors.can_triage(request.user) else 0
    return HttpResponse(str(n) if n else "", content_type="text/plain; charset=utf-8")


@login_required
@require_POST
def act(request, pk: int, action: str):
    """Dispatch or reject one order from the queue."""
    if action not in ("dispatch", "reject"):
        raise Http404
    _require(request)
    try:
        order = order_selectors.work_order_get(actor=request.user, pk=pk)
    except DomainError as exc:
        raise Http404(exc.message) from None
    p = request.POST
    data = {k: (p.get(k) or "").strip() for k in ("label", "subject", "unit", "reason", "version")}
    try:
        version = int(data["version"]) if data["version"] else None
        if action == "dispatch":
            order = services.triage_dispatch(order, actor=request.user, label=data["label"], subject=data["subject"],
                                             unit=int(data["unit"]) if data["unit"] else None,
                                             reason=data["reason"], version=version)
            done = _("工单 %(code)s 已派至 %(unit)s。") % {"code": order.code, "unit": order.lead_unit.name}
        else:
            order = services.triage_reject(order, actor=request.user, label=data["label"], reason=data["reason"],
                                           version=version)
            done = _("工单 %(code)s 已作不予受理处理。") % {"code": order.code}
    except ValueError:
        error = DomainError("dispatch.bad_input", _("提交的内容格式不正确，请刷新后重试。"))
    except DomainError as exc:
        error = exc
    else:
        if not request.htmx:
            messages.success(request, done)
            return redirect("dispatch:triage:queue")
        return render(request, "dispatch/triage/_done.html", {
            "order": order, "message": done, "count": selectors.triage_count(actor=request.user)})
    if not request.htmx:
        messages.error(request, error.message)
        return redirect("dispatch:triage:queue")
    order = order_selectors.work_order_get(actor=request.user, pk=pk)
    if order.state != State.SUBMITTED or not hasattr(order, "classification"):
        return render(request, "dispatch/triage/_done.html", {"order": order, "message": error.message,
                                                              "count": selectors.triage_count(actor=request.user)})
    return render(request, "dispatch/triage/_card.html", {"card": _card(order, routes=_routes(), data=data,
                                                                        error=error)})

