"""What one order contributes to the rollups, computed (purely) from the order and its timeline.

An order's contribution is a vector of `metrics.COUNTERS` for its territory, keyed by the day it
was taken in (its cohort), its deepest territory code and its subject's level-1 code, plus one
vector per unit that acted on it (dispatch, sign, return, resolve, callback go to the unit the
timeline row names; stocks go to the current lead unit). The rollups are sums of these vectors,
so refreshing an order is: compute its vector again, subtract the stored one, add the new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone

from .metrics import COUNTERS

IDX = {name: i for i, name in enumerate(COUNTERS)}
N = len(COUNTERS)

OPEN_STATES = frozenset({"submitted", "dispatched", "accepted", "suspended", "reviewing", "checking", "resolved",
                         "returned"})
# Not "reviewing"/"checking": the unit's clock stopped when it reported (dispatch/workflow.py).
UNRESOLVED_WITH_UNIT = frozenset({"dispatched", "accepted", "suspended"})
SOLVED_SATISFACTION = frozenset({"satisfied", "basically"})
UNIT_EVENTS = {
    "dispatched": "dispatches",
    "redispatched": "dispatches",
    "accepted": "accepts",
    "returned": "returns",
    "resolved": "resolutions",
    "reworked": "reworks",
    "check_failed": "reworks",  # 核查不通过 → 返工 (DOMAIN.md §1.4), as a failed callback is
    "closed": "closes",
}


def local_day(at: datetime) -> date:
    return at.astimezone(timezone.get_default_timezone()).date()  # cached; reset when the setting changes


def subject_l1(code: str) -> str:
    """Level-1 subject code: Q0103xx → Q01, A0102 → A01 (codes are prefixes, 3 characters at level 1)."""
    return (code or "")[:3]


@dataclass
class Fact:
    order_id: int
    day: date | None = None
    leaf: str = ""
    subject: str = ""
    lead_unit_id: int | None = None
    signature: str = ""
    area: list[int] = field(default_factory=lambda: [0] * N)
    units: dict[int, list[int]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not any(self.area) and not any(any(v) for v in self.units.values())


def signature(order: dict) -> str:
    """What, besides the timeline (which bumps the version), can change an order's contribution."""
    return (f"{order['version']}|{order['state']}|{order['deadline_state']}|{int(bool(order['response_overdue']))}"
            f"|{order['subject_code']}|{order.get('lead_unit_id') or ''}")


# Counter positions, looked up once (fact_of runs for every order of a simulated year).
_UNIT_EVENT_AT = {action: IDX[name] for action, name in UNIT_EVENTS.items()}
_SATISFACTION_AT = {"satisfied": IDX["cb_satisfied"], "basically": IDX["cb_basic"],
                    "unsatisfied": IDX["cb_unsatisfied"]}
(_CREATED, _REJECTED, _MERGED, _ACCEPTS_ON_TIME, _RESOLUTIONS_ON_TIME, _CALLBACKS, _CB_SOLVED, _OPEN, _OVERDUE,
 _SUSPENDED_OVERDUE, _UNSIGNED_LATE) = (IDX[n] for n in (
    "created", "rejected", "merged", "accepts_on_time", "resolutions_on_time", "callbacks", "cb_solved", "open",
    "overdue", "suspended_overdue", "unsigned_late"))


def fact_of(order: dict, steps: list[dict]) -> Fact:
    """The contribution of one order.

    `order`: id, created_at, area_code, subject_code, state, deadline_state, response_overdue,
    lead_unit_id, version. `steps`: its timeline rows (action, unit_id, data) in order.
    """
    f = Fact(order_id=order["id"], day=local_day(order["created_at"]), leaf=order["area_code"] or "",
             subject=subject_l1(order["subject_code"]), lead_unit_id=order.get("lead_unit_id"),
             signature=signature(order))
    a = f.area
    units = f.units

    def bump(counters: tuple[int, ...] | list[int], uid) -> None:
        """Add one to each of `counters` for the territory, and for unit `uid` if there is one."""
        for i in counters:
            a[i] += 1
        if uid is not None:
            u = units.get(uid)
            if u is None:
                u = units[uid] = [0] * N
            for i in counters:
                u[i] += 1

    a[_CREATED] = 1
    state = order["state"]
    if state == "rejected":
        a[_REJECTED] = 1
    elif state == "merged":
        a[_MERGED] = 1
    for s in steps:
        action = s["action"]
        counter = _UNIT_EVENT_AT.get(action)
        if counter is None:
            continue
        data = s.get("data") or {}
        counters = [counter]
        if action == "accepted" and not data.get("late"):
            counters.append(_ACCEPTS_ON_TIME)
        elif action == "resolved" and data.get("on_time", True):
            counters.append(_RESOLUTIONS_ON_TIME)
        if action in ("closed", "reworked") and data.get("reached", True) and "callback_id" in data:
            counters.append(_CALLBACKS)
            sat = data.get("satisfaction") or ""
            if sat in _SATISFACTION_AT:
                counters.append(_SATISFACTION_AT[sat])
            solved = data.get("solved")
            if solved is True or (solved is None and sat in SOLVED_SATISFACTION):
                counters.append(_CB_SOLVED)
        bump(counters, s.get("unit_id"))
    # Stocks: the order as it is now, counted for its current lead unit.
    lead = order.get("lead_unit_id")
    if state in OPEN_STATES:
        bump((_OPEN,), lead)
    if state in UNRESOLVED_WITH_UNIT and order["deadline_state"] == "overdue":
        bump((_OVERDUE, _SUSPENDED_OVERDUE) if state == "suspended" else (_OVERDUE,), lead)
    if state == "dispatched" and order["response_overdue"]:
        bump((_UNSIGNED_LATE,), lead)
    return f
