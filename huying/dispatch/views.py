"""Dispatch pages: resident report and tracking, operator intake, dispatcher board, unit queue,
order detail with its actions, callback. Views parse input, call one service or selector, render.

Every action form posts the order's version; a stale one comes back as a clear message (409),
never a silent overwrite. Orders outside the viewer's scope are 404, as the selectors decide.
"""

import hashlib
import math
import re
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from huying.core.errors import DomainError
from huying.people.models import RoleCode
from huying.people.scope import scope_for

from . import selectors, services
from .forms import (
    CallbackForm,
    DispatchForm,
    ExtensionDecideForm,
    ExtensionRequestForm,
    IntakeForm,
    MergeForm,
    NoteForm,
    OrderFilterForm,
    PatrolForm,
    RateForm,
    ReasonForm,
    ReportForm,
    ResolveForm,
    ReturnForm,
    SplitForm,
    SubjectChangeForm,
    TrackForm,
    new_key,
    subject_groups,
)
from .models import Channel, Extension, State, WorkOrder
from .quality.views import reply_score_html  # the reply's quality score, shown before closing (答复质量)

PAGE_SIZE = 20
QUEUE_ROLES = (RoleCode.HANDLER, RoleCode.UNIT_LEADER, RoleCode.GRID_WORKER, RoleCode.COMMUNITY_WORKER)
BOARD_TABS = [
    ("to_dispatch", _l("待派单")),
    ("returned", _l("退单待处理")),
    ("extensions", _l("延期申请")),
    ("overdue", _l("已超期")),
    ("warning", _l("临期预警")),
    ("response_overdue", _l("签收超时")),
    ("awaiting_callback", _l("待回访")),
]


def _has_role(user, *roles) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return scope_for(user).has_any_role(*roles, RoleCode.ADMIN)


def _require_role(user, *roles) -> None:
    if not _has_role(user, *roles):
        raise PermissionDenied(_("您没有访问此页面的权限。"))


def _page(request, qs, size: int = PAGE_SIZE):
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _narrow(qs, *, actor, filters: dict):
    """Apply the list filters of `selectors.work_order_list` to another selector's queryset."""
    if not filters:
        return qs
    return qs.filter(pk__in=selectors.work_order_list(actor=actor, filters=filters).values("pk"))


def _get_order(request, pk: int) -> WorkOrder:
    try:
        return selectors.work_order_get(actor=request.user, pk=pk)
    except DomainError as exc:
        raise Http404(exc.message) from None


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


# --- resident: report and track ---------------------------------------------------------------

BROWSER_KEY = "dispatch.browser"


def _browser_id(request) -> str:
    """A random id kept in the browser's session (made when the form is shown)."""
    found = request.session.get(BROWSER_KEY)
    if not found:
        found = request.session[BROWSER_KEY] = secrets.token_hex(16)
    return found


def _report_kwargs(request, form) -> dict:
    """The service's arguments; an anonymous report's idempotency key counts within its browser.

    Signed-in reports are keyed per user by intake. Anonymous ones would otherwise share one key
    space (`channel:web`): another browser sending the same key and text would get this report's
    tracking code back. A double submit from one browser still makes one report.
    """
    kwargs = form.service_kwargs()
    if not request.user.is_authenticated:
        digest = hashlib.sha256(f"{_browser_id(request)}:{kwargs['idempotency_key']}".encode()).hexdigest()
        kwargs["idempotency_key"] = f"browser:{digest}"
    return kwargs


def _follow_refused(request, form, message: str):
    return render(request, "dispatch/report.html", {"form": form, "follow_error": message}, status=409)


@require_http_methods(["GET", "POST"])
def report(request):
    """居民上报: phone-width, open to anyone; a signed-in resident's name and phone are filled in."""
    user = request.user if request.user.is_authenticated else None
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        # The similar-reports partial hands out signed tokens, never other residents' tracking codes.
        follow = (request.POST.get("follow") or "").strip()[:200]
        if form.is_valid():
            try:
                if follow:
                    target = selectors.follow_target(follow)
                    if target is None:
                        return _follow_refused(request, form, _("关注已失效，请重新查看附近的反映，或直接提交。"))
                    order = services.work_order_follow(target, channel=Channel.WEB, actor=user,
                                                       **_report_kwargs(request, form))
                else:
                    order = services.work_order_create(channel=Channel.WEB, actor=user,
                                                       **_report_kwargs(request, form))
            except DomainError as exc:
                status = exc.status
                if exc.code == "dispatch.follow_unavailable":
                    return _follow_refused(request, form, exc.message)
                if exc.code == "dispatch.idempotency_mismatch":
                    # This form was sent before with other content: a fresh key makes the edit a new report.
                    form.data = form.data.copy()
                    form.data["idempotency_key"] = new_key()
                    exc = DomainError(exc.code, _("此表单已提交过。如需再次反映，请检查内容后重新提交。"))
                form.add_domain_error(exc)
            else:
                return redirect(f"{reverse('dispatch:track')}?code={order.code}&new=1")
        else:
            status = 400
    else:
        initial = {"idempotency_key": new_key()}
        if user is not None:
            initial.update(reporter_name=user.display_name or "", reporter_phone=user.phone or "")
        else:
            _browser_id(request)  # before the first submit, so a double submit shares one browser
        form = ReportForm(initial=initial)
    return render(request, "dispatch/report.html", {"form": form}, status=status)


def _similar_search(request, *, limit: int) -> tuple[list, bool, str]:
    """Candidates for the report being typed in: POSTed, so its text never reaches the access log.

    A point, else the address: without a point the check uses the located division's area. Returns
    (found, searched, why nothing was searched)."""
    p = request.POST
    try:
        lng, lat = float(p.get("lng", "")), float(p.get("lat", ""))
    except ValueError:
        lng = lat = None
    if lng is not None and not (math.isfinite(lng) and math.isfinite(lat)):
        lng = lat = None
    address = (p.get("address") or "").strip()[:255]
    if lng is None and not address:
        return [], False, ""
    found, why = services.report_duplicates(subject=p.get("subject", ""), lng=lng, lat=lat, address=address,
                                            text=f"{p.get('title', '')}{p.get('description', '')}",
                                            now=timezone.now(), limit=limit)
    return found, not why, why


@require_POST
def similar(request):
    """htmx partial for the resident page: open reports of the same problem nearby, to follow instead.

    Shows subject, place, date and state only: other residents' words and names stay private, and
    each offer carries a signed, expiring follow token instead of the order's tracking code.
    """
    found, searched, place_error = _similar_search(request, limit=3)
    offers = [(c, selectors.follow_token(c.order)) for c in found]
    return render(request, "dispatch/_follow.html", {"offers": offers, "searched": searched,
                                                     "place_error": place_error})


SUBJECT_FIELD_NAME = re.compile(r"^(?:[a-z_]{1,40}-)?subject$")


@require_GET
def subjects(request):
    """The second level of the subject picker, loaded by htmx when the first level changes.

    A picker under a form prefix sends its prefixed `…-subject_root` and the leaf's `name`.
    """
    root = request.GET.get("subject_root", "")
    if not root:
        root = next((v for k, v in request.GET.items() if k.endswith("-subject_root")), "")
    root = root.strip()
    name = request.GET.get("name", "subject")
    if not SUBJECT_FIELD_NAME.match(name):
        name = "subject"
    return render(request, "dispatch/_subject_select.html",
                  {"groups": subject_groups(root) if root else [], "selected": request.GET.get("subject", ""),
                   "root": root, "name": name})


TRACK_TAIL_TRIES = 5  # wrong phone tails per tracking code …
TRACK_TAIL_WINDOW = 3600  # … per hour, from any address; then the code's reply stays shut for the hour


def _tail_cache():
    # The throttles' cache is shared by every worker and machine; the default one is per process.
    return caches["throttle" if "throttle" in settings.CACHES else "default"]


def _tail_counter(code: str) -> str:
    return f"dispatch:track-tail:{hashlib.sha256(code.encode()).hexdigest()[:32]}"


def _tail_failed(code: str) -> None:
    key, cache = _tail_counter(code), _tail_cache()
    if not cache.add(key, 1, TRACK_TAIL_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, TRACK_TAIL_WINDOW)


@require_http_methods(["GET", "POST"])
def track(request):
    """办理进度查询: the code shows progress, the public timeline and a masked title; the reply
    (办理结果) only to the reporter, signed in or with the last four digits of their phone (POSTed,
    so they stay out of the access log); that reporter may rate a result awaiting its callback."""
    if request.method == "POST" and request.POST.get("action") == "rate":
        return _track_rate(request)
    result, status = None, 200
    form = TrackForm((request.POST if request.method == "POST" else request.GET) or None)
    if form.is_bound and form.is_valid():
        code = form.cleaned_data["code"].strip()
        tail = (form.cleaned_data.get("phone_tail") or "") if request.method == "POST" else ""
        if tail and (_tail_cache().get(_tail_counter(code)) or 0) >= TRACK_TAIL_TRIES:
            form.add_error("phone_tail", _("尝试次数过多，请一小时后再试。"))
            tail, status = "", 429
        result = selectors.work_order_track(code=code, actor=request.user, phone_tail=tail)
        if result is None:
            form.add_error("code", _("未找到该查询码对应的诉求，请核对后重试。"))
            status = 404
        elif result["tail_wrong"]:
            _tail_failed(code)
            form.add_error("phone_tail", _("手机号后四位与登记的号码不符。"))
            status = 403
    elif form.is_bound:
        status = 400
        code = (form.data.get("code") or "").strip()
        if "code" not in form.errors and code:  # only the tail was malformed: still show the progress
            result = selectors.work_order_track(code=code, actor=request.user)
    return _track_page(request, form, result, status, rate_form=_rate_form_for(request, result))


def _track_page(request, form, result, status, *, rate_form=None, rate_refused=""):
    mine = None
    if request.user.is_authenticated:
        mine = selectors.work_order_list(actor=request.user, filters={}).filter(reporter_id=request.user.pk)[:10]
    return render(request, "dispatch/track.html",
                  {"form": form, "result": result, "new": request.GET.get("new") == "1", "mine": mine,
                   "rate_form": rate_form, "rate_refused": rate_refused},
                  status=status)


RATE_PROOF_SALT = "huying.dispatch.track-rate"
RATE_PROOF_AGE = 1800  # seconds to rate after proving the phone tail; then prove it again


def _rate_proof(order: WorkOrder) -> str:
    """A signed token that the phone tail was proven for this order as it stands (its version);
    the page carries it instead of the tail."""
    return signing.dumps({"o": order.pk, "v": order.version}, salt=RATE_PROOF_SALT)


def _rate_proof_ok(token: str, order: WorkOrder, version) -> bool:
    try:
        value = signing.loads(str(token or ""), salt=RATE_PROOF_SALT, max_age=RATE_PROOF_AGE)
    except signing.BadSignature:
        return False
    return isinstance(value, dict) and value.get("o") == order.pk and value.get("v") == version


def _rate_form_for(request, result) -> RateForm | None:
    """The rating form, only for the proven reporter of a result awaiting its callback."""
    if not result or not result["reporter"] or result["state"] != State.RESOLVED:
        return None
    order = WorkOrder.objects.filter(code=result["code"]).only("pk", "code", "version", "reporter_id").first()
    if order is None:
        return None
    by_login = request.user.is_authenticated and order.reporter_id == request.user.pk
    return RateForm(initial={"code": order.code, "version": order.version,
                             "proof": "" if by_login else _rate_proof(order)})


def _track_rate(request):
    """The reporter's rating POST: signed in as the reporter, or with the proof token of a phone tail."""
    code = str(request.POST.get("code") or "").strip()[:20]
    form = TrackForm(initial={"code": code})
    order = WorkOrder.objects.filter(code=code).first() if code else None
    if order is None:
        form = TrackForm({"code": code})
        form.is_valid()
        form.add_error("code", _("未找到该查询码对应的诉求，请核对后重试。"))
        return _track_page(request, form, None, 404)
    rate_form = RateForm(request.POST)
    result = selectors.work_order_track(code=code, actor=request.user)
    by_login = request.user.is_authenticated and order.reporter_id == request.user.pk
    if not by_login and not _rate_proof_ok(request.POST.get("proof"), order,
                                           rate_form.data.get("version") and _int_or_none(rate_form.data["version"])):
        return _track_page(request, form, result, 403,
                           rate_refused=_("验证已失效，请重新输入手机号后四位后再评价。"))
    if not rate_form.is_valid():
        return _track_page(request, form, result, 400, rate_form=rate_form)
    d = rate_form.cleaned_data
    try:
        services.work_order_rate_by_resident(order, rating=d["rating"], comment=d["comment"],
                                             actor=request.user if by_login else None, via="track",
                                             version=d["version"])
    except DomainError as exc:
        rate_form.add_domain_error(exc)
        return _track_page(request, form, result, exc.status, rate_form=rate_form)
    messages.success(request, _("感谢您的评价！"))
    return redirect(f"{reverse('dispatch:track')}?{urlencode({'code': order.code})}")


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- staff: intake console, lists, board, queue -----------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def intake(request):
    """话务受理: the operator takes a call, may name another unit with a reason, and sees where it went."""
    _require_role(request.user, RoleCode.OPERATOR, RoleCode.DISPATCHER)
    status = 200
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES, actor=request.user)
        if form.is_valid():
            try:
                order = services.work_order_create(channel=Channel.HOTLINE, actor=request.user,
                                                   **form.service_kwargs())
            except DomainError as exc:
                status = exc.status
                if exc.code == "dispatch.idempotency_mismatch":
                    form.data = form.data.copy()
                    form.data["idempotency_key"] = new_key()
                form.add_domain_error(exc)
            else:
                if order.lead_unit_id:
                    messages.success(request, _("工单 %(code)s 已受理，已派至 %(unit)s。")
                                     % {"code": order.code, "unit": order.lead_unit.name})
                else:
                    messages.success(request, _("工单 %(code)s 已受理，系统建议承办单位：%(unit)s。")
                                     % {"code": order.code,
                                        "unit": order.proposed_unit.name if order.proposed_unit_id else _("无")})
                return redirect("dispatch:detail", pk=order.pk)
        else:
            status = 400
    else:
        form = IntakeForm(initial={"idempotency_key": new_key()}, actor=request.user)
    return render(request, "dispatch/intake.html", {"form": form}, status=status)


def _patrol_home(user) -> tuple[float, float] | None:
    """The centre of the grid (else the community) the grid worker patrols: where the point starts."""
    for m in (user.memberships.filter(active=True, unit__active=True, role__code=RoleCode.GRID_WORKER)
              .select_related("unit__grid", "unit__division").order_by("unit__code")):
        place = m.unit.grid or m.unit.division
        if place is not None and place.lng is not None and place.lat is not None:
            return round(place.lng, 7), round(place.lat, 7)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def patrol(request):
    """巡查上报: a grid worker reports what they found in their grid, with a photo, from the phone."""
    _require_role(request.user, RoleCode.GRID_WORKER)
    status = 200
    if request.method == "POST":
        form = PatrolForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                order = services.work_order_create(channel=Channel.PATROL, actor=request.user,
                                                   **form.service_kwargs())
            except DomainError as exc:
                status = exc.status
                if exc.code == "dispatch.idempotency_mismatch":
                    form.data = form.data.copy()
                    form.data["idempotency_key"] = new_key()
                    exc = DomainError(exc.code, _("此表单已提交过。如需再次上报，请检查内容后重新提交。"))
                form.add_domain_error(exc)
            else:
                messages.success(request, _("已上报，工单编号 %(code)s。") % {"code": order.code})
                return redirect("dispatch:patrol")
        else:
            status = 400
    else:
        initial = {"idempotency_key": new_key()}
        home = _patrol_home(request.user)
        if home is not None:
            initial.update(lng=home[0], lat=home[1])
        form = PatrolForm(initial=initial)
    return render(request, "dispatch/patrol.html", {
        "form": form, "page": _page(request, selectors.patrol_reports(actor=request.user), size=10),
        "now": timezone.now(),
    }, status=status)


@login_required
@require_GET
def order_list(request):
    """All orders the viewer may see, filterable and paginated."""
    filters = OrderFilterForm(request.GET or None)
    qs = selectors.work_order_list(actor=request.user, filters=filters.filters())
    return render(request, "dispatch/list.html", {
        "filters": filters, "page": _page(request, qs), "now": timezone.now(),
        "can_board": _has_role(request.user, RoleCode.DISPATCHER, RoleCode.OPERATOR),
        "can_intake": _has_role(request.user, RoleCode.OPERATOR, RoleCode.DISPATCHER),
        "can_queue": _has_role(request.user, *QUEUE_ROLES),
    })


@login_required
@require_GET
def board(request):
    """派单台: what waits on the dispatcher (to dispatch, returned, extensions) and what is late."""
    _require_role(request.user, RoleCode.DISPATCHER, RoleCode.OPERATOR)
    sections = selectors.dispatcher_board(actor=request.user)
    tab = request.GET.get("tab", "to_dispatch")
    if tab not in sections:
        tab = "to_dispatch"
    filters = OrderFilterForm(request.GET or None)
    f = filters.filters()
    qs = sections[tab]
    if tab == "extensions":
        if f:
            qs = qs.filter(order__in=selectors.work_order_list(actor=request.user, filters=f).values("pk"))
    else:
        qs = _narrow(qs, actor=request.user, filters=f)
    page = _page(request, qs)
    rows = []
    children = selectors.child_states([] if tab == "extensions" else page)
    for item in page:
        if tab == "extensions":
            rows.append({"ext": item, "order": item.order, "form": ExtensionDecideForm(prefix=f"ext{item.pk}")})
        else:
            rows.append(_row(item, request.user, children=children.get(item.pk)))
    counts = {key: sections[key].count() for key, _label in BOARD_TABS}
    return render(request, "dispatch/board.html", {
        "tabs": [(key, label, counts[key]) for key, label in BOARD_TABS], "tab": tab, "filters": filters,
        "tab_keep": [("tab", tab)],
        "page": page, "rows": rows, "now": timezone.now(),
    })


# Kept to the order's own page: lists stay light.
DETAIL_ONLY_ACTIONS = ("change_subject", "split")


def _row(order: WorkOrder, actor, *, children: set[str] | None = None) -> dict:
    actions = [a for a in selectors.available_actions(order, actor=actor, children=children)
               if a not in DETAIL_ONLY_ACTIONS]
    return {"order": order, "actions": actions, "forms": _action_forms(order, actions, actor=actor)}


@login_required
@require_GET
def queue(request):
    """承办队列: a unit's orders, nearest deadline first, with time left and the unit's actions."""
    _require_role(request.user, *QUEUE_ROLES)
    units = []
    for m in (request.user.memberships.filter(active=True, unit__active=True, role__code__in=QUEUE_ROLES)
              .select_related("unit").order_by("unit__code")):
        if m.unit not in units:
            units.append(m.unit)
    if not units:
        return render(request, "dispatch/queue.html", {"units": [], "unit": None})
    wanted = request.GET.get("unit", "")
    unit = next((u for u in units if str(u.pk) == wanted), units[0])
    filters = OrderFilterForm(request.GET or None,
                              states=[State.DISPATCHED, State.ACCEPTED, State.SUSPENDED, State.REVIEWING,
                                      State.CHECKING, State.RESOLVED])
    try:
        qs = selectors.queue_for_unit(actor=request.user, unit=unit)
    except DomainError as exc:
        raise PermissionDenied(exc.message) from None
    page = _page(request, _narrow(qs, actor=request.user, filters=filters.filters()))
    children = selectors.child_states(page)
    return render(request, "dispatch/queue.html", {
        "units": units, "unit": unit, "filters": filters, "page": page, "now": timezone.now(),
        "unit_keep": [("unit", unit.pk)],
        "rows": [_row(o, request.user, children=children.get(o.pk)) for o in page],
    })


# --- one order: detail, actions, callback -----------------------------------------------------

ACTION_FORMS = {
    "dispatch": DispatchForm,
    "redispatch": DispatchForm,
    "reject": ReasonForm,
    "accept": NoteForm,
    "return": ReturnForm,
    "resolve": ResolveForm,
    "suspend": ReasonForm,
    "resume": NoteForm,
    "extension_request": ExtensionRequestForm,
    "change_subject": SubjectChangeForm,
    "merge": MergeForm,
    "split": SplitForm,
}


def _call(action: str, order: WorkOrder, actor, d: dict):
    v = d["version"]
    if action in ("dispatch", "redispatch"):
        fn = services.work_order_dispatch if action == "dispatch" else services.work_order_redispatch
        return fn(order, actor=actor, unit=int(d["unit"]) if d.get("unit") else None, reason=d.get("reason", ""),
                  binding=bool(d.get("binding")), version=v)
    if action == "reject":
        return services.work_order_reject(order, actor=actor, reason=d["reason"], version=v)
    if action == "accept":
        return services.work_order_accept(order, actor=actor, note=d.get("note", ""), version=v)
    if action == "return":
        return services.work_order_return(order, actor=actor, reason=d["reason"], legal_basis=d["legal_basis"],
                                          version=v)
    if action == "resolve":
        return services.work_order_resolve(order, actor=actor, result=d["result"], photos=d.get("photos") or [],
                                           version=v)
    if action == "suspend":
        return services.work_order_suspend(order, actor=actor, reason=d["reason"], version=v)
    if action == "resume":
        return services.work_order_resume(order, actor=actor, note=d.get("note", ""), version=v)
    if action == "extension_request":
        return services.extension_request(order, actor=actor, new_due=d["new_due"], reason=d["reason"], version=v)
    if action == "change_subject":
        return services.work_order_change_subject(order, actor=actor, subject=d["subject"], reason=d["reason"],
                                                  version=v)
    if action == "merge":
        return services.work_order_merge(order, into=d["into"], actor=actor, reason=d["reason"], version=v)
    if action == "split":
        return services.work_order_split(order, actor=actor, parts=d["parts"], reason=d["reason"], version=v)
    raise Http404


DONE_MESSAGES = {
    "dispatch": _l("已派单。"), "redispatch": _l("已改派。"), "reject": _l("已作不予受理处理。"),
    "accept": _l("已签收。"), "return": _l("已退单。"), "resolve": _l("已办结，等待回访。"), "suspend": _l("已挂账。"),
    "resume": _l("已恢复办理。"), "extension_request": _l("延期申请已提交，等待派单员审批。"),
    "change_subject": _l("已修改事项分类，办理时限已按新分类重新计算。"),
    "merge": _l("已合并，该诉求将随目标工单一并办理和回访。"),
    "split": _l("已拆分，子工单已派给各承办单位；全部子工单结案后本工单转为已办结，等待回访。"),
}


def _form_for(action: str, order: WorkOrder, data=None, files=None, *, actor):
    cls = ACTION_FORMS[action]
    kwargs = {"prefix": action, "initial": {"version": order.version}}
    if cls in (DispatchForm, SplitForm):
        kwargs.update(order=order, actor=actor)
    elif cls is SubjectChangeForm:
        kwargs["order"] = order
    return cls(data, files, **kwargs) if data is not None else cls(**kwargs)


def _action_forms(order: WorkOrder, actions: list[str], bound: tuple | None = None, *, actor) -> list[tuple]:
    """(action, form) for each action the viewer has; the callback has its own screen (form None)."""
    out = []
    for action in actions:
        if bound and bound[0] == action:
            out.append((action, bound[1]))
        else:
            out.append((action, _form_for(action, order, actor=actor) if action in ACTION_FORMS else None))
    return out


RESOLVE_MESSAGES = {"reviewing": _l("已办结，等待本单位负责人审核。"), "checking": _l("已办结，等待网格员现场核查。")}


def done_message(action: str, result, default) -> str:
    """The order page's message after an action: a handler's 办结 may wait for review or check first."""
    if action == "resolve" and getattr(result, "state", None) in RESOLVE_MESSAGES:
        return str(RESOLVE_MESSAGES[result.state])
    return str(default)


def _detail(request, order: WorkOrder, *, bound: tuple | None = None, decide_form=None, status: int = 200):
    actions = selectors.available_actions(order, actor=request.user)
    pending = order.extensions.filter(decision=Extension.Decision.PENDING).select_related("unit").first()
    can_decide = pending is not None and _has_role(request.user, RoleCode.DISPATCHER)
    return render(request, "dispatch/detail.html", {
        "order": order,
        "reporter": selectors.reporter_for(order, actor=request.user),
        "timeline": selectors.work_order_timeline(order),
        "assignments": order.assignments.select_related("unit", "dispatched_by").order_by("id"),
        "cohandlers": order.cohandlers.all(),
        "extensions": order.extensions.select_related("unit").order_by("-requested_at"),
        "attachments": order.attachments.all(),
        "actions": actions,
        "forms": _action_forms(order, actions, bound, actor=request.user),
        "open_action": bound[0] if bound else "",
        "pending": pending,
        "decide_form": (decide_form or ExtensionDecideForm(prefix=f"ext{pending.pk}")) if can_decide else None,
        "now": timezone.now(),
        "duplicates": _duplicates_for(order) if "merge" in actions else [],
        "merged_callers": order.merged_orders.order_by("created_at", "id"),
    }, status=status)


def _duplicates_for(order: WorkOrder, now=None) -> list:
    """Likely duplicates of an open order, for the operator who may merge it (一事多诉)."""
    return selectors.duplicate_candidates(subject=order.subject, lng=order.lng, lat=order.lat,
                                          text=f"{order.title}{order.description}", now=now or timezone.now(),
                                          exclude=order, area_code=order.area_code,
                                          precision=order.location_precision)


@login_required
@require_POST
def duplicates(request):
    """htmx partial for the operator console: likely duplicates of the call being typed in (POSTed:
    the caller's words stay out of the access log)."""
    _require_role(request.user, RoleCode.OPERATOR, RoleCode.DISPATCHER)
    found, searched, place_error = _similar_search(request, limit=5)
    return render(request, "dispatch/_duplicates.html", {"duplicates": found, "searched": searched,
                                                         "place_error": place_error})


@login_required
@require_GET
def detail(request, pk: int):
    return _detail(request, _get_order(request, pk))


@login_required
@require_POST
def act(request, pk: int, action: str):
    """One lifecycle action on one order; a refusal re-renders the order with the error at its field."""
    if action not in ACTION_FORMS:
        raise Http404
    order = _get_order(request, pk)
    form = _form_for(action, order, request.POST, request.FILES, actor=request.user)
    status = 400
    if form.is_valid():
        try:
            data = {**form.cleaned_data, "parts": form.parts()} if isinstance(form, SplitForm) else form.cleaned_data
            done = _call(action, order, request.user, data)
        except DomainError as exc:
            form.add_domain_error(exc)
            status = exc.status
        else:
            messages.success(request, done_message(action, done, DONE_MESSAGES[action]))
            return redirect(_safe_next(request, reverse("dispatch:detail", args=[order.pk])))
    if status == 409:
        messages.error(request, form.non_field_errors()[0] if form.non_field_errors() else _("操作未成功。"))
    order = _get_order(request, pk)
    return _detail(request, order, bound=(action, form), status=status)


@login_required
@require_POST
def extension_decide(request, pk: int):
    """A dispatcher approves or refuses an extension (延期审批)."""
    ext = Extension.objects.filter(pk=pk).only("pk", "order_id").first()
    if ext is None:
        raise Http404
    order = _get_order(request, ext.order_id)
    form = ExtensionDecideForm(request.POST, prefix=f"ext{ext.pk}")
    status = 400
    if form.is_valid():
        try:
            services.extension_decide(ext, actor=request.user, approve=form.cleaned_data["approve"],
                                      note=form.cleaned_data["note"])
        except DomainError as exc:
            form.add_domain_error(exc)
            status = exc.status
        else:
            messages.success(request, _("已批准延期。") if form.cleaned_data["approve"] else _("已不批准延期。"))
            return redirect(_safe_next(request, reverse("dispatch:detail", args=[order.pk])))
    return _detail(request, order, decide_form=form, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def callback(request, pk: int):
    """回访: solved? and 满意 / 基本满意 / 不满意; unsatisfied sends the order back for rework."""
    order = _get_order(request, pk)
    allowed = "callback" in selectors.available_actions(order, actor=request.user)
    status = 200
    form = CallbackForm(initial={"version": order.version, "reached": "1"})
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied(_("该工单当前不能回访。"))
        form = CallbackForm(request.POST)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                order = services.work_order_callback(order, actor=request.user, satisfaction=d["satisfaction"],
                                                     solved=d["solved"], reached=d["reached"], note=d["note"],
                                                     version=d["version"])
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                if order.state == State.CLOSED:
                    messages.success(request, _("回访已记录，工单已结案。"))
                else:
                    messages.warning(request, _("回访不满意，工单已退回承办单位返工。"))
                return redirect(_safe_next(request, reverse("dispatch:detail", args=[order.pk])))
    return render(request, "dispatch/callback.html", {
        "order": order, "form": form, "allowed": allowed, "reply_score": reply_score_html(request, order),
        "merged_callers": selectors.merged_orders_for_callback(order),
        "reporter": selectors.reporter_for(order, actor=request.user),
        "results": order.attachments.filter(kind="result"),
    }, status=status)
