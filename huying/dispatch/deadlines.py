"""Deadline arithmetic (pure): which limits apply to an order, and when its clocks run out.

Both clocks — response (签收) and resolution (办结) — start at dispatch. Limits come from the
request type (诉求类型) and the subject (事项分类, nearest node that sets one); the one that ends
first wins, because a subject stricter than the statutory limit is the point of setting it. An
emergency replaces both with short clock-time limits. Nothing here touches the database: the
calendar is passed in (any object with `add(start, hours=, days=)` and
`working_seconds_between(a, b)`), so tests are exact.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings

from .models import TimeUnit

DEFAULTS = {
    # When neither request type nor subject sets a limit (e.g. a patrol event without one).
    "response": (Decimal("1"), TimeUnit.WORK_DAYS),
    "resolve": (Decimal("10"), TimeUnit.WORK_DAYS),
    # Emergencies: respond within 30 minutes, resolve within 2 hours, on the clock.
    "emergency_response": (Decimal("0.5"), TimeUnit.HOURS),
    "emergency_resolve": (Decimal("2"), TimeUnit.HOURS),
    "warn_ratio": 0.75,
}


def setting(name: str):
    return settings.HUYING_DISPATCH_LIMITS.get(name, DEFAULTS[name])


@dataclass(frozen=True)
class Limit:
    value: Decimal
    unit: str
    source: str  # "request_type:<code>", "subject:<code>", "emergency", "default"

    def as_dict(self) -> dict:
        return {"value": format(Decimal(self.value).normalize(), "f"), "unit": str(self.unit), "source": self.source}


@dataclass(frozen=True)
class Limits:
    response: Limit
    resolve: Limit

    def as_dict(self) -> dict:
        return {"response": self.response.as_dict(), "resolve": self.resolve.as_dict()}


@dataclass(frozen=True)
class Plan:
    """An assignment's frozen clocks."""

    start: datetime
    response_due: datetime
    resolve_due: datetime
    warn_at: datetime
    limits: Limits


_ONE_US = timedelta(microseconds=1)


def due(start: datetime, limit: Limit, cal) -> datetime:
    """When `limit` runs out for a clock started at `start`."""
    value = float(limit.value)
    if limit.unit == TimeUnit.HOURS:
        return start + timedelta(hours=value)
    if limit.unit == TimeUnit.WORK_HOURS:
        return cal.add(start, hours=value)
    if limit.unit == TimeUnit.WORK_DAYS:
        return cal.add(start, days=value)
    raise ValueError(f"unknown time unit {limit.unit!r}")


def warn_time(start: datetime, deadline: datetime, unit: str, cal, ratio: float | None = None) -> datetime:
    """The moment `ratio` (75 %) of the allowed time is used, counted the way the limit is counted."""
    ratio = setting("warn_ratio") if ratio is None else ratio
    if unit == TimeUnit.HOURS:
        return start + (deadline - start) * ratio
    seconds = cal.working_seconds_between(start, deadline)
    return cal.add(start, hours=seconds * ratio / 3600)


def _candidates(kind: str, request_type, subject_chain) -> list[Limit]:
    out = []
    if request_type is not None and getattr(request_type, f"{kind}_limit") is not None:
        out.append(Limit(getattr(request_type, f"{kind}_limit"), getattr(request_type, f"{kind}_unit"),
                         f"request_type:{request_type.code}"))
    for node in subject_chain:  # nearest first: a child's limit refines its parent's
        if getattr(node, f"{kind}_limit") is not None:
            out.append(Limit(getattr(node, f"{kind}_limit"), getattr(node, f"{kind}_unit"), f"subject:{node.code}"))
            break
    return out


def _choices(request_type, subject_chain, emergency: bool) -> tuple[list[Limit], list[Limit]]:
    """The candidate (response, resolve) limits; each list has at least one."""
    if emergency:
        r = setting("emergency_response")
        s = setting("emergency_resolve")
        return [Limit(r[0], r[1], "emergency")], [Limit(s[0], s[1], "emergency")]
    out = []
    for kind in ("response", "resolve"):
        found = _candidates(kind, request_type, subject_chain)
        if not found:
            value, unit = setting(kind)
            found = [Limit(Decimal(value), unit, "default")]
        out.append(found)
    return out[0], out[1]


def fixed_limits(*, request_type, subject_chain, emergency: bool) -> Limits | None:
    """The limits an order gets whenever it starts — when each clock has a single candidate —
    else None (the shorter candidate depends on the calendar at the start)."""
    response, resolve = _choices(request_type, subject_chain, emergency)
    if len(response) == 1 and len(resolve) == 1:
        return Limits(response[0], resolve[0])
    return None


def applicable_limits(*, request_type, subject_chain, emergency: bool, start: datetime, cal) -> Limits:
    """The response and resolution limits for an order, the shortest applicable one of each."""
    # Compare by when each would end from this start: 5 working hours vs 1 working day is only
    # comparable on the calendar (a single candidate needs no calendar).
    response, resolve = (found[0] if len(found) == 1 else min(found, key=lambda lim: due(start, lim, cal))
                         for found in _choices(request_type, subject_chain, emergency))
    return Limits(response, resolve)


def plan_clocks(*, start: datetime, limits: Limits, cal) -> Plan:
    """Both clocks from `start`; the response cannot be due after the resolution."""
    resolve_due = due(start, limits.resolve, cal)
    response_due = min(due(start, limits.response, cal), resolve_due)
    return Plan(
        start=start,
        response_due=response_due,
        resolve_due=resolve_due,
        warn_at=warn_time(start, resolve_due, limits.resolve.unit, cal),
        limits=limits,
    )


def _amount_many(limit: Limit, cal) -> tuple[bool, int]:
    """(on the working calendar?, microseconds) of a limit, as `due` counts them."""
    value = float(limit.value)
    if limit.unit == TimeUnit.HOURS:
        return False, timedelta(hours=value) // _ONE_US
    if limit.unit == TimeUnit.WORK_HOURS:
        return True, cal.amount(hours=value)
    if limit.unit == TimeUnit.WORK_DAYS:
        return True, cal.amount(days=value)
    raise ValueError(f"unknown time unit {limit.unit!r}")


def plan_many(starts, limits: Limits, cal):
    """`plan_clocks` for many starts with the same limits (a bulk load's dispatches): the starts and
    the (response_due, resolve_due, warn_at) returned are numpy arrays of local wall-clock
    microseconds (`cal.local_us`). None when a clock would add no working time (`add` then moves
    to the next opening: use `plan_clocks`)."""
    import numpy as np

    def due_many(limit: Limit):
        working, amount = _amount_many(limit, cal)
        if not working:
            return starts + amount, amount
        return (cal.add_many(starts, amount) if amount > 0 else None), amount

    resolve_due, resolve_amount = due_many(limits.resolve)
    response_due, _ = due_many(limits.response)
    if resolve_due is None or response_due is None:
        return None
    ratio = setting("warn_ratio")
    if limits.resolve.unit == TimeUnit.HOURS:  # as `warn_time`: the same share of the same span
        warn_at = starts + (timedelta(microseconds=resolve_amount) * ratio) // _ONE_US
    else:
        # `warn_time` measures the working time from a start to its resolve_due: exactly the
        # amount added, whatever the start (a start out of hours counts from the next opening).
        amount = cal.amount(hours=resolve_amount / 1_000_000 * ratio / 3600)
        if amount <= 0:
            return None
        warn_at = cal.add_many(starts, amount)
    return np.minimum(response_due, resolve_due), resolve_due, warn_at


def deadline_state(*, now: datetime, warn_at: datetime | None, resolve_due: datetime | None) -> str:
    """none / ok / warning / overdue for a running clock at `now`."""
    if resolve_due is None:
        return "none"
    if now >= resolve_due:
        return "overdue"
    if warn_at is not None and now >= warn_at:
        return "warning"
    return "ok"
