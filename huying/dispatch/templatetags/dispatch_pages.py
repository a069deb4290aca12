"""Labels and badges for the dispatch pages: timeline actions, deadline states, time left."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from huying.dispatch.deadlines import deadline_state
from huying.dispatch.models import HandlingLevel, State
from huying.people.masking import mask_text
from huying.people.models import RoleCode
from huying.people.scope import scope_for

register = template.Library()

ACTION_LABELS = {
    "created": _l("受理"),
    "dispatched": _l("派单"),
    "redispatched": _l("改派"),
    "accepted": _l("签收"),
    "returned": _l("退单"),
    "resolved": _l("办结"),
    "closed": _l("结案"),
    "reworked": _l("回访不满意，返工"),
    "suspended": _l("挂账"),
    "resumed": _l("恢复办理"),
    "rejected": _l("不予受理"),
    "merged": _l("合并"),
    "duplicate_merged": _l("并入重复诉求"),
    "extension_requested": _l("申请延期"),
    "extension_approved": _l("批准延期"),
    "extension_refused": _l("不批准延期"),
    "subject_changed": _l("修改分类"),
    "relocated": _l("核实位置"),
    "split": _l("拆分工单"),
    "split_resolved": _l("子工单全部结案，转为办结"),
    "review_requested": _l("办结，提交负责人审核"),
    "review_approved": _l("审核通过，待现场核查"),
    "review_returned": _l("审核退回"),
    "check_requested": _l("办结，待现场核查"),
    "check_failed": _l("核查不通过，返工"),
    "check_required": _l("指定现场核查"),
    "check_waived": _l("取消指定核查"),
}
# A step into "awaiting callback" let out by the leader's review or the on-site check (data.via).
RESOLVED_VIA_LABELS = {"review": _l("审核通过，办结"), "check": _l("核查通过，办结")}

BUTTON_LABELS = {
    "dispatch": _l("派单"),
    "redispatch": _l("改派 / 终审派单"),
    "reject": _l("不予受理"),
    "accept": _l("签收"),
    "return": _l("退单"),
    "resolve": _l("办结"),
    "suspend": _l("挂账"),
    "resume": _l("恢复办理"),
    "extension_request": _l("申请延期"),
    "callback": _l("回访"),
    "change_subject": _l("修改分类"),
    "merge": _l("合并到此工单"),
    "split": _l("拆分工单"),
}

DEADLINE_LABELS = {"ok": _l("正常"), "warning": _l("临期"), "overdue": _l("超期"), "none": ""}


@register.filter
def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


@register.filter
def step_label(step) -> str:
    """A timeline step's label: its action's, told apart by who let the result out (review, check)."""
    data = getattr(step, "data", None) or {}
    if step.action == "resolved" and data.get("via") in RESOLVED_VIA_LABELS:
        return str(RESOLVED_VIA_LABELS[data["via"]])
    return action_label(step.action)


@register.filter
def button_label(code: str) -> str:
    return str(BUTTON_LABELS.get(code, code))


@register.filter
def state_label(code: str) -> str:
    try:
        return str(State(code).label)
    except ValueError:
        return code


def _live_state(order, now) -> str:
    # The worker marks warnings in sweeps; the page shows the clock as it stands now.
    if order.state not in (State.DISPATCHED, State.ACCEPTED):
        # A reported result (awaiting review, check or callback): the clock stopped at the report.
        return order.deadline_state if order.state in (State.RESOLVED, State.REVIEWING, State.CHECKING) else "none"
    return deadline_state(now=now, warn_at=order.warn_at, resolve_due=order.resolve_due)


@register.inclusion_tag("dispatch/_deadline.html")
def deadline_badge(order, now: datetime | None = None):
    now = now or timezone.now()
    state = _live_state(order, now)
    return {"state": state, "label": DEADLINE_LABELS.get(state, ""), "due": order.resolve_due,
            "left": time_left(order.resolve_due, now)
            if state != "none" and order.state not in (State.RESOLVED, State.REVIEWING, State.CHECKING) else ""}


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s天%(h)s小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s小时%(m)s分") % {"h": hours, "m": mins}
    return _("%(m)s分钟") % {"m": mins}


@register.simple_tag
def time_left(due: datetime | None, now: datetime | None = None) -> str:
    """'剩余 2天3小时' or '超期 5小时10分', on the clock (the deadline itself already counts working time)."""
    if due is None:
        return ""
    seconds = (due - (now or timezone.now())).total_seconds()
    if seconds >= 0:
        return _("剩余 %(span)s") % {"span": _span(seconds)}
    return _("超期 %(span)s") % {"span": _span(seconds)}


@register.inclusion_tag("dispatch/_nav.html", takes_context=True)
def dispatch_nav(context, current: str = ""):
    """The dispatch sub-navigation: only the pages the viewer's roles open."""
    user = context["request"].user
    scope = scope_for(user) if user.is_authenticated and not user.is_superuser else None

    def has(*codes):
        return user.is_superuser or (scope is not None and scope.has_any_role(*codes, RoleCode.ADMIN))

    return {"current": current, "authenticated": user.is_authenticated,
            "intake": has(RoleCode.OPERATOR, RoleCode.DISPATCHER),
            "board": has(RoleCode.OPERATOR, RoleCode.DISPATCHER),
            "queue": has(RoleCode.HANDLER, RoleCode.UNIT_LEADER, RoleCode.GRID_WORKER),
            "patrol": has(RoleCode.GRID_WORKER), "reviews": has(RoleCode.UNIT_LEADER),
            "checks": has(RoleCode.GRID_WORKER)}


@register.filter
def live_deadline(order) -> str:
    return _live_state(order, timezone.now())


ROUTING_REASONS = {
    "rule": _l("按派单规则"),
    "owner_first": _l("部件：权属部门优先，属地协办"),
    "territory_first": _l("属地优先（重心下移）"),
    "owner_fallback": _l("属地无承办单位，转责任部门"),
    "no_unit": _l("未找到承办单位，需人工派单"),
}


@register.filter
def routing_reason(routing: dict | None) -> str:
    routing = routing or {}
    label = ROUTING_REASONS.get(routing.get("reason", ""), routing.get("reason", ""))
    if routing.get("rule_id"):
        return f"{label} #{routing['rule_id']}"
    return str(label)


@register.filter
def level_label(code: str) -> str:
    if code == "department":
        return _("职能部门")
    try:
        return str(HandlingLevel(code).label)
    except ValueError:
        return code


@register.filter
def masked(text) -> str:
    """Free text with phone and identity numbers hidden: titles in lists and anything shown outside
    the order's own page (people.masking.mask_text)."""
    return mask_text(text)
