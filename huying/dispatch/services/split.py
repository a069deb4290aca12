"""拆分: one order that needs several units becomes child orders, one per unit; the parent waits.

One level only: a child is never split again and a split parent is never a child. The parent keeps
its state, its clocks stop (the children carry theirs), and nothing moves it while a child is open.
When the last child is done the parent is resolved — not closed — so the resident who reported it
gets the one callback on the order they know, with the children's results as its resolution.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import RoleCode

from ..models import Assignment, DeadlineState, State, WorkOrder
from ..workflow import SPLIT_FROM
from .common import lock_order, now_or, record, require_dispatcher, required_text, save, unit_level
from .intake import _draw_codes
from .lifecycle import _unit, dispatch_to

MIN_PARTS, MAX_PARTS = 2, 10

# Copied from the parent: the child is the same call about the same place, for another unit.
_COPIED = ["channel", "request_type_id", "subject_id", "urgency", "reporter_id", "reporter_name", "reporter_phone",
           "anonymous", "lng", "lat", "address", "grid_id", "community_id", "district_code", "street_code",
           "area_code", "area_label"]


def _parts(parts) -> list[tuple]:
    parts = list(parts or [])
    if not MIN_PARTS <= len(parts) <= MAX_PARTS:
        raise DomainError("dispatch.split_count", _("拆分须为 %(lo)s 至 %(hi)s 个子工单。")
                          % {"lo": MIN_PARTS, "hi": MAX_PARTS}, field="parts")
    checked = []
    for i, part in enumerate(parts, 1):
        if not isinstance(part, dict):
            raise DomainError("dispatch.split_part", _("第 %(n)s 个子工单格式不正确。") % {"n": i}, field="parts")
        title = clean_text(part.get("title"), field="parts")
        if not title:
            raise DomainError("dispatch.required", _("请填写第 %(n)s 个子工单的标题。") % {"n": i}, field="parts")
        if len(title) > 120:
            raise DomainError("dispatch.split_part", _("第 %(n)s 个子工单的标题过长。") % {"n": i}, field="parts")
        if not part.get("unit"):
            raise DomainError("dispatch.unknown_unit", _("请选择第 %(n)s 个子工单的承办单位。") % {"n": i},
                              field="parts")
        checked.append((_unit(part["unit"]), title, clean_text(part.get("description"), field="parts",
                                                               multiline=True)))
    return checked


@transaction.atomic
def work_order_split(order, *, actor, parts: list[dict], reason: str, version: int | None = None,
                     now=None) -> list[WorkOrder]:
    """Split `order` into 2–10 child orders, each dispatched to its unit with its own clocks.

    `parts` is a list of {"unit": Unit or id, "title": str, "description": str = ""}. Returns the
    children in the order given. Refused (nothing stored) for a child, an already split order, or
    an order not in submitted/dispatched/accepted.
    """
    now = now_or(now)
    reason = required_text(reason, "reason", _("请填写拆分理由。"))
    order = lock_order(order, version=version)
    require_dispatcher(actor, order, RoleCode.DISPATCHER)
    if order.parent_id:
        raise DomainError("dispatch.split_nested", _("子工单不能再拆分。"), status=409)
    if WorkOrder.objects.filter(parent=order).exists():
        raise DomainError("dispatch.split_twice", _("本工单已拆分过，不能再次拆分。"), status=409)
    if order.state not in SPLIT_FROM:
        raise DomainError("dispatch.split_state", _("工单当前状态为“%(state)s”，不能拆分。")
                          % {"state": State(order.state).label}, status=409)
    checked = _parts(parts)
    children = []
    for (unit, title, description), code in zip(checked, _draw_codes(now, len(checked)), strict=True):
        child = WorkOrder(code=code, parent=order, title=title, description=description or order.description,
                          created_by=actor if getattr(actor, "pk", None) else None, state=State.SUBMITTED,
                          version=1, proposed_unit=unit, created_at=now, updated_at=now,
                          **{f: getattr(order, f) for f in _COPIED})
        child.save()
        record(child, action="created", from_state="", actor=actor, now=now, note=reason,
               data={"split_from": order.code, "split_from_id": order.pk, "channel": child.channel})
        dispatch_to(child, unit_id=unit.pk, level=unit_level(unit), actor=actor, now=now, note=reason)
        children.append(child)
    # The parent's clocks stop here: the children carry theirs, and the sweep must not chase it.
    Assignment.objects.filter(order=order, outcome=Assignment.Outcome.ACTIVE).update(
        outcome=Assignment.Outcome.CANCELLED, ended_at=now)
    order.response_due = order.resolve_due = order.warn_at = None
    order.deadline_state = DeadlineState.NONE
    save(order, now, ["response_due", "resolve_due", "warn_at", "deadline_state"])
    record(order, action="split", from_state=order.state, actor=actor, now=now, note=reason,
           unit_id=order.lead_unit_id,
           data={"children": [{"id": c.pk, "code": c.code, "unit_id": c.lead_unit_id} for c in children]})
    return children
