"""台账: the ledger a unit keeps — every order it handled in a period, as an Excel workbook.

"Handled" is what the unit's figures count: the orders taken in during the period (the cohort,
docs/metrics.md) that the unit acted on, i.e. those with an `OrderUnitFact` row for it. So the
summary sheet (the unit's rates from `UnitDay` through `metrics.evaluate`) and the order sheet
describe the same orders. Orders are read in keyset-paginated chunks and the workbook is written
in openpyxl's write-only mode, so 100 000 rows never sit in memory at once.

The order sheet is exactly what the person's order list shows: its rows are the unit's orders
narrowed by `dispatch.selectors.visible_q(actor)`, and a person who sees no orders at all (a Party
secretary, a resident; only staff roles see orders) may not export a ledger, whatever territory
their unit covers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huying.core.errors import DomainError
from huying.people.masking import mask_phone
from huying.people.scope import scope_for

from . import metrics, selectors
from .models import OrderUnitFact
from .rankings import Period

CHUNK = 2000
RATE_KEYS = (*metrics.RATES, "score")

# (key, header): the order sheet's columns, in order.
COLUMNS = (
    ("code", gettext_lazy("工单编号")),
    ("received", gettext_lazy("受理时间")),
    ("subject", gettext_lazy("事项分类")),
    ("request_type", gettext_lazy("诉求类型")),
    ("area", gettext_lazy("所在区域")),
    ("state", gettext_lazy("状态")),
    ("deadline", gettext_lazy("办结期限")),
    ("accepted", gettext_lazy("签收时间")),
    ("resolved", gettext_lazy("办结时间")),
    ("closed", gettext_lazy("结案时间")),
    ("on_time", gettext_lazy("按期办结")),
    ("returns", gettext_lazy("退单次数")),
    ("reworks", gettext_lazy("返工次数")),
    ("satisfaction", gettext_lazy("满意度")),
    ("phone", gettext_lazy("联系电话")),
)


def sees_orders(actor) -> bool:
    """Whether the person's order list can hold anyone else's orders (the roles `visible_q` opens to)."""
    from huying.dispatch.services.common import STAFF_ROLES

    if getattr(actor, "is_superuser", False):
        return True
    scope = scope_for(actor)
    return scope.whole_city or scope.has_any_role(*STAFF_ROLES)


def ledger_unit_check(actor, unit_id) -> object:
    """The unit whose ledger `actor` asks for: 404 if there is none, 403 if it is outside their scope
    or if they see no orders at all."""
    from huying.people.models import Unit

    try:
        unit = Unit.objects.select_related("division", "grid").get(pk=int(unit_id))
    except (TypeError, ValueError, Unit.DoesNotExist):
        raise DomainError("insight.no_unit", _("单位不存在。"), field="unit", status=404) from None
    if not sees_orders(actor):
        raise DomainError("insight.forbidden", _("您的岗位不能查看工单，不能导出工单台账。"), status=403)
    scope = scope_for(actor)
    if getattr(actor, "is_superuser", False) or scope.whole_city or unit.pk in scope.unit_ids:
        return unit
    code = unit.territory_code
    if code and scope.covers(code):
        return unit
    raise DomainError("insight.forbidden", _("该单位不在您的管辖范围内。"), status=403)


def _local(at: datetime | None):
    # Excel has no time zones: write the wall-clock time people read on their screens.
    return None if at is None else at.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)


def _on_time(o: dict) -> str:
    due = o["resolve_due"]
    if o["resolved_at"] is not None and due is not None:
        return _("是") if o["resolved_at"] <= due else _("否")
    if o["deadline_state"] == "overdue":
        return _("否")
    return ""


def ledger_rows(unit_id: int, *, actor, period: Period, chunk: int = CHUNK) -> Iterator[dict]:
    """The unit's orders of the period that `actor` may see, oldest first, one dict per order keyed as
    `COLUMNS`, phone masked."""
    from huying.dispatch.models import Callback, Satisfaction, State, WorkOrder
    from huying.dispatch.selectors import visible_q

    states = dict(State.choices)
    sats = dict(Satisfaction.choices)
    ids = OrderUnitFact.objects.filter(unit_id=unit_id, day__gte=period.start, day__lte=period.end).values("order_id")
    base = WorkOrder.objects.filter(visible_q(actor), pk__in=ids).order_by("pk")
    fields = ("pk", "code", "created_at", "subject__name", "request_type__name", "area_label", "area_code", "state",
              "resolve_due", "accepted_at", "resolved_at", "closed_at", "deadline_state", "return_count",
              "rework_count", "reporter_phone")
    last = 0
    while True:
        batch = list(base.filter(pk__gt=last).values(*fields)[:chunk])
        if not batch:
            return
        last = batch[-1]["pk"]
        # The latest callback that reached the resident gives the order's satisfaction.
        sat = {}
        for order_id, value in (Callback.objects.filter(order_id__in=[o["pk"] for o in batch], reached=True)
                                .exclude(satisfaction="").order_by("order_id", "at", "id")
                                .values_list("order_id", "satisfaction")):
            sat[order_id] = value
        for o in batch:
            yield {
                "code": o["code"], "received": _local(o["created_at"]), "subject": o["subject__name"] or "",
                "request_type": o["request_type__name"] or "", "area": o["area_label"] or o["area_code"],
                "state": str(states.get(o["state"], o["state"])), "deadline": _local(o["resolve_due"]),
                "accepted": _local(o["accepted_at"]), "resolved": _local(o["resolved_at"]),
                "closed": _local(o["closed_at"]), "on_time": _on_time(o), "returns": o["return_count"],
                "reworks": o["rework_count"], "satisfaction": str(sats.get(sat.get(o["pk"]), "")),
                "phone": mask_phone(o["reporter_phone"]),
            }
        if len(batch) < chunk:
            return


def ledger_summary(unit_id: int, *, period: Period, weights=None) -> dict:
    """The unit's counters and rates over the period (the same figures as its ranking row)."""
    counters = selectors.unit_counters(unit_id, start=period.start, end=period.end)
    return {"counters": counters, "rates": metrics.evaluate(counters, weights=weights).as_dict()}


def ledger_workbook(unit, *, actor, period: Period, out, chunk: int = CHUNK) -> int:
    """Write the ledger workbook (sheets 台账 and 汇总) to the file-like `out`; returns the order count."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("台账"))
    ws.append([str(header) for _key, header in COLUMNS])
    n = 0
    for row in ledger_rows(unit.pk, actor=actor, period=period, chunk=chunk):
        ws.append([row[key] for key, _header in COLUMNS])
        n += 1
    summary = ledger_summary(unit.pk, period=period)
    ws = wb.create_sheet(_("汇总"))
    labels = {**metrics.RATE_LABELS, "score": "综合得分"}
    ws.append([_("单位"), unit.name])
    ws.append([_("统计周期"), f"{period.start.isoformat()} ~ {period.end.isoformat()}"])
    ws.append([_("工单数"), n])
    for key in RATE_KEYS:
        ws.append([_(labels[key]), summary["rates"][key]])
    for key in metrics.COUNTERS:
        ws.append([key, summary["counters"][key]])
    wb.save(out)
    return n
