"""一事多诉: fold a duplicate order into the order that handles the problem."""

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import RoleCode

from ..models import Assignment, DeadlineState, State, WorkOrder
from ..workflow import transition_check
from .common import lock_order, now_or, record, require_children_done, require_dispatcher, required_text, save
from .intake import ADDRESS_MAX, locate, work_order_create

# An order that others were merged into cannot itself be merged away: its callers would hang off
# a merged order (a chain). The operator merges the other way round instead.


def _target_pk(into) -> int:
    if isinstance(into, WorkOrder):
        return into.pk
    text = str(into or "").strip()
    found = WorkOrder.objects.filter(code=text).values_list("pk", flat=True).first()
    if found is None and text.isdigit() and len(text) < 12:
        found = WorkOrder.objects.filter(pk=int(text)).values_list("pk", flat=True).first()
    if found is None:
        raise DomainError("dispatch.merge_target_missing", _("找不到要合并到的工单。"), field="into", status=404)
    return found


@transaction.atomic
def work_order_merge(order, *, into, actor, reason: str, version: int | None = None, now=None) -> WorkOrder:
    """Merge a duplicate `order` into `into` (an order, its code or id): the duplicate stops its clocks
    and is handled once, by the target; its caller still gets a callback when the target is resolved."""
    now = now_or(now)
    reason = required_text(reason, "reason", _("请填写合并理由。"))
    target_pk = _target_pk(into)
    order_pk = getattr(order, "pk", order)
    if target_pk == order_pk:
        raise DomainError("dispatch.merge_self", _("不能把工单合并到它自己。"), field="into")
    # Lock both rows in id order so two operators merging a pair crosswise cannot deadlock.
    locked = {}
    for pk in sorted((order_pk, target_pk)):
        locked[pk] = lock_order(pk, version=version if pk == order_pk else None)
    order, target = locked[order_pk], locked[target_pk]
    require_dispatcher(actor, order, RoleCode.OPERATOR, RoleCode.DISPATCHER)
    require_dispatcher(actor, target, RoleCode.OPERATOR, RoleCode.DISPATCHER)
    return _fold(order, target, actor=actor, reason=reason, now=now)


def _fold(order: WorkOrder, target: WorkOrder, *, actor, reason: str, now) -> WorkOrder:
    """Merge locked `order` into locked `target` once the caller's right to do so is settled."""
    if target.state == State.MERGED:
        root = target.merged_into
        raise DomainError("dispatch.merge_chain",
                          _("工单 %(code)s 已合并至 %(root)s，请合并到 %(root)s。")
                          % {"code": target.code, "root": root.code if root else "?"}, field="into", status=409)
    if target.state in (State.CLOSED, State.REJECTED):
        raise DomainError("dispatch.merge_target_closed",
                          _("工单 %(code)s 已%(state)s，不能合并到已结束的工单。")
                          % {"code": target.code, "state": State(target.state).label}, field="into", status=409)
    require_children_done(order)
    if WorkOrder.objects.filter(merged_into=order).exists():
        raise DomainError("dispatch.merge_has_merged",
                          _("已有其他工单合并到本工单，请把 %(code)s 合并到本工单。") % {"code": target.code},
                          field="into", status=409)
    from_state = order.state
    transition_check(from_state, State.MERGED)
    order.state = State.MERGED
    order.merged_into = target
    order.deadline_state = DeadlineState.NONE
    save(order, now, ["state", "merged_into", "deadline_state"])
    Assignment.objects.filter(order=order, outcome=Assignment.Outcome.ACTIVE).update(
        outcome=Assignment.Outcome.CANCELLED, ended_at=now)
    data = {"into": target.code, "into_id": target.pk}
    record(order, action="merged", from_state=from_state, actor=actor, now=now, note=reason, data=data,
           unit_id=order.lead_unit_id)
    # The target keeps its state; its timeline shows that another caller now waits on it.
    record(target, action="duplicate_merged", from_state=target.state, actor=actor, now=now, note=reason,
           data={"order": order.code, "order_id": order.pk}, unit_id=target.lead_unit_id)
    return order


@transaction.atomic
def work_order_follow(into, *, actor, channel: str, now=None, **report) -> WorkOrder:
    """关注此问题: a resident who finds their problem already reported files their call as a merged
    order on the existing one — it is handled once, and they get their own tracking code and callback.

    `report` is what `work_order_create` takes. Refused (and nothing stored) unless the existing
    order is still a likely duplicate of this report: open, near, recent, same or related subject.
    """
    # Late: selectors -> services.common runs services/__init__, which imports this file (an import cycle).
    from ..selectors import duplicate_candidates

    now = now_or(now)
    order = work_order_create(channel=channel, actor=actor, now=now, **report)
    target_pk = _target_pk(into)
    if order.state == State.MERGED and order.merged_into_id == target_pk:
        return order  # a retry of the same submission (same idempotency key)
    found = duplicate_candidates(subject=order.subject, lng=order.lng, lat=order.lat,
                                 text=f"{order.title}{order.description}", now=now, exclude=order, limit=50,
                                 area_code=order.area_code, precision=order.location_precision)
    if target_pk not in {c.order.pk for c in found}:
        raise DomainError("dispatch.follow_unavailable",
                          _("该问题已办结或与您的反映不相符，请直接提交新的反映。"), field="follow", status=409)
    locked = {pk: lock_order(pk) for pk in sorted((order.pk, target_pk))}
    return _fold(locked[order.pk], locked[target_pk], actor=actor, reason=_("居民关注已有诉求"), now=now)


def report_duplicates(*, subject, text: str, lng=None, lat=None, address: str = "", now=None,
                      limit: int = 3) -> tuple[list, str]:
    """查重 for a report still being typed in: (likely duplicates, why nothing was searched).

    The report is placed as intake will place it — a point in its grid, else the address's division —
    and compared as `work_order_follow` will compare it once filed: without a point the duplicate
    check uses the division's area. A place that cannot be located searches nothing and says why.
    """
    from ..selectors import duplicate_candidates  # late: the cycle through services/__init__ (above)

    try:
        address = clean_text(address, field="address", max_length=ADDRESS_MAX)
        area = locate(lng=lng, lat=lat, address=address)
    except DomainError as exc:
        return [], exc.message
    found = duplicate_candidates(subject=subject, lng=area["lng"], lat=area["lat"], text=text, now=now_or(now),
                                 limit=limit, area_code=area["area_code"], precision=area["location_precision"])
    return found, ""
