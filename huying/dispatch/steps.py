"""The rows of one dispatch step, built in one place (pure: no database).

A step of an order's life (created, dispatched, accepted, returned, resolved, called back, …) writes
the order's changed fields, sometimes an assignment row or changes to the active one, one timeline
row (Transition) and one audit row (AuditEntry). The services (`services/lifecycle.py`), bulk intake
and the year simulator (`simulate_year.py`) all take those shapes from here, so the `data` keys that
`insight.facts.fact_of` reads (`late`, `on_time`, `callback_id`, `reached`, `solved`,
`satisfaction`) cannot drift apart between them.

Each builder returns a dict with
- "transition": Transition fields (action, from_state, to_state, unit_id, at, note, data);
- "audit": AuditEntry fields (action, old, new, data, reason, created_at);
- "order": the order's changed fields (by attname), always with state, version and updated_at;
- optionally "assignment": the new Assignment row (without id, order_id, dispatched_by_id),
  "assignment_changes": changes to the order's active assignment, and "cohandlers": the order's
  co-handler unit ids after the step.
Ids of the order and of the rows, and the actor, are the caller's to add. `version` is the order's
version after the step (each step bumps it by one; `created` is version 1).
"""

from __future__ import annotations

from datetime import datetime

import orjson

from .deadlines import deadline_state
from .models import State

# The action of a 办结 report by where it goes (as `services.checks.REPORT_ACTIONS`).
REPORT_ACTIONS = {State.REVIEWING.value: "review_requested", State.CHECKING.value: "check_requested",
                  State.RESOLVED.value: "resolved"}


def step(action: str, *, from_state: str, to_state: str, version: int, at: datetime, unit_id: int | None = None,
         note: str = "", data: dict | None = None, order: dict | None = None) -> dict:
    """The timeline and audit rows of one step (the same `data` in both), and the order's changes."""
    data = dict(data or {})
    from_state = from_state or ""
    return {
        "transition": {"action": action, "from_state": from_state, "to_state": to_state, "unit_id": unit_id,
                       "at": at, "note": note, "data": data},
        "audit": {"action": f"dispatch.order.{action}", "old": {"state": from_state} if from_state else None,
                  "new": {"state": to_state, "version": version}, "data": data, "reason": note, "created_at": at},
        "order": {"state": to_state, "version": version, "updated_at": at, **(order or {})},
    }


# -- the data payloads (what the timeline and audit rows carry) ----------------------------------

def isoformat(at: datetime) -> str:
    """`at.isoformat()`, in about a third of its time for an aware datetime (orjson's RFC 3339 text
    is the same for every offset of whole minutes; it rounds the seconds of the local mean time
    some zones kept before 1901–1972, which go through `isoformat` itself). Every dispatch writes two."""
    offset = at.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        return at.isoformat()
    try:
        return orjson.dumps(at)[1:-1].decode()
    except orjson.JSONEncodeError:  # a time zone orjson does not know
        return at.isoformat()


def created_data(*, channel: str, routing: dict, photos: int = 0) -> dict:
    return {"channel": channel, "routing": routing, "photos": photos}


def dispatched_data(*, assignment_id: int | None, unit_id: int, cohandler_ids: list[int], level: str,
                    binding: bool, override: bool, plan, limits: dict) -> dict:
    return {"assignment_id": assignment_id, "unit_id": unit_id, "cohandler_ids": list(cohandler_ids),
            "level": level, "binding": binding, "override": override,
            "response_due": isoformat(plan.response_due), "resolve_due": isoformat(plan.resolve_due),
            "limits": limits}


def accepted_data(*, late: bool) -> dict:
    return {"late": late}


def resolved_data(*, photos: int, on_time: bool, to_state: str = State.RESOLVED.value) -> dict:
    return {"photos": photos, "on_time": on_time, **({"via": "handler"} if to_state == State.RESOLVED else {})}


def returned_data(*, legal_basis: str, unit_id: int | None, assignment_id: int | None) -> dict:
    return {"legal_basis": legal_basis, "unit_id": unit_id, "assignment_id": assignment_id}


def callback_data(*, callback_id: int | None, reached: bool, solved: bool | None, satisfaction: str) -> dict:
    return {"callback_id": callback_id, "reached": reached, "solved": solved, "satisfaction": satisfaction}


# -- the steps -----------------------------------------------------------------------------------

def created(*, at: datetime, channel: str, routing: dict, photos: int = 0) -> dict:
    """An order taken in (受理): version 1, submitted."""
    return step("created", from_state="", to_state=State.SUBMITTED.value, version=1, at=at,
                data=created_data(channel=channel, routing=routing, photos=photos))


def dispatched(*, from_state: str, version: int, at: datetime, unit_id: int, level: str, plan, limits: dict,
               cohandler_ids=(), assignment_id: int | None = None, binding: bool = False,
               override_reason: str = "", note: str = "") -> dict:
    """Dispatch (派单) or re-dispatch (改派) to `unit_id` with the clocks of `plan`; `limits` as a dict."""
    cohandler_ids = [c for c in dict.fromkeys(cohandler_ids or ()) if c and c != unit_id]
    action = "dispatched" if from_state == State.SUBMITTED else "redispatched"
    built = step(action, from_state=from_state, to_state=State.DISPATCHED.value, version=version, at=at,
                 unit_id=unit_id, note=note or override_reason,
                 data=dispatched_data(assignment_id=assignment_id, unit_id=unit_id, cohandler_ids=cohandler_ids,
                                      level=level, binding=binding, override=bool(override_reason), plan=plan,
                                      limits=limits),
                 order={"lead_unit_id": unit_id, "handling_level": level, "dispatched_at": at, "accepted_at": None,
                        "resolved_at": None, "response_due": plan.response_due, "resolve_due": plan.resolve_due,
                        "warn_at": plan.warn_at, "response_overdue": False,
                        "deadline_state": deadline_state(now=at, warn_at=plan.warn_at,
                                                         resolve_due=plan.resolve_due)})
    built["assignment"] = dispatched_assignment(unit_id=unit_id, cohandler_ids=cohandler_ids, level=level, plan=plan,
                                                limits=limits, at=at, binding=binding, override_reason=override_reason)
    if from_state not in (State.SUBMITTED, State.RETURNED):
        built["assignment_changes"] = {"outcome": "reassigned", "ended_at": at}
    built["cohandlers"] = cohandler_ids
    return built


def dispatched_assignment(*, unit_id: int, cohandler_ids, level: str, plan, limits: dict, at: datetime,
                          binding: bool = False, override_reason: str = "") -> dict:
    """The new Assignment row of a dispatch (without id, order_id and dispatched_by_id)."""
    return {"unit_id": unit_id, "cohandler_ids": list(cohandler_ids), "level": level, "binding": binding,
            "override_reason": override_reason, "dispatched_at": at, "response_due": plan.response_due,
            "resolve_due": plan.resolve_due, "warn_at": plan.warn_at, "limits": limits, "accepted_at": None,
            "ended_at": None, "outcome": "active", "return_reason": "", "return_basis": ""}


def accepted(*, from_state: str, version: int, at: datetime, unit_id: int | None, response_due: datetime | None,
             response_overdue: bool = False, note: str = "") -> dict:
    """The unit signs for the order (签收); late when past the response deadline."""
    late = bool(response_overdue or (response_due is not None and at > response_due))
    built = step("accepted", from_state=from_state, to_state=State.ACCEPTED.value, version=version, at=at,
                 unit_id=unit_id, note=note, data=accepted_data(late=late),
                 order={"accepted_at": at, "response_overdue": late})
    built["assignment_changes"] = {"accepted_at": at}
    return built


def resolved(*, from_state: str, version: int, at: datetime, unit_id: int | None, result: str,
             warn_at: datetime | None, resolve_due: datetime | None, photos: int = 0,
             to_state: str = State.RESOLVED.value) -> dict:
    """The unit reports the result (办结); `to_state` is resolved, or reviewing/checking where those apply."""
    return step(REPORT_ACTIONS[to_state], from_state=from_state, to_state=to_state, version=version, at=at,
                unit_id=unit_id, note=result,
                data=resolved_data(photos=photos, on_time=resolve_due is None or at <= resolve_due,
                                   to_state=to_state),
                # The deadline state is frozen at resolution: it is what 按期办结 is counted on.
                order={"resolved_at": at, "resolution": result,
                       "deadline_state": deadline_state(now=at, warn_at=warn_at, resolve_due=resolve_due)})


def called_back(*, from_state: str, version: int, at: datetime, unit_id: int | None, callback_id: int | None,
                reached: bool, solved: bool | None, satisfaction: str, rework_count: int, note: str = "",
                extra: dict | None = None) -> dict:
    """The callback (回访): closed, or back to the unit as rework (返工) when the resident is unsatisfied."""
    data = {**callback_data(callback_id=callback_id, reached=reached, solved=solved, satisfaction=satisfaction),
            **(extra or {})}
    if reworked_by(from_state=from_state, reached=reached, satisfaction=satisfaction):
        return step("reworked", from_state=from_state, to_state=State.ACCEPTED.value, version=version, at=at,
                    unit_id=unit_id, note=note, data=data,
                    order={"rework_count": rework_count + 1, "resolved_at": None})
    built = step("closed", from_state=from_state, to_state=State.CLOSED.value, version=version, at=at,
                 unit_id=unit_id, note=note, data=data, order={"closed_at": at})
    built["assignment_changes"] = {"outcome": "done", "ended_at": at}
    return built


def reworked_by(*, from_state: str, reached: bool, satisfaction: str) -> bool:
    """An unsatisfied resident sends the order back; a merged caller's rework belongs to the target order."""
    return reached and satisfaction == "unsatisfied" and from_state != State.MERGED


def returned(*, from_state: str, version: int, at: datetime, unit_id: int | None, assignment_id: int | None,
             reason: str, legal_basis: str, return_count: int) -> dict:
    """The unit hands the order back (退单); its clocks end here."""
    built = step("returned", from_state=from_state, to_state=State.RETURNED.value, version=version, at=at,
                 unit_id=unit_id, note=reason,
                 data=returned_data(legal_basis=legal_basis, unit_id=unit_id, assignment_id=assignment_id),
                 order={"return_count": return_count + 1, "lead_unit_id": None, "handling_level": "",
                        "response_due": None, "resolve_due": None, "warn_at": None, "deadline_state": "none"})
    built["assignment_changes"] = {"outcome": "returned", "ended_at": at, "return_reason": reason,
                                   "return_basis": legal_basis}
    built["cohandlers"] = []
    return built


def suspended(*, from_state: str, version: int, at: datetime, unit_id: int | None, reason: str) -> dict:
    """Parked works (挂账)."""
    return step("suspended", from_state=from_state, to_state=State.SUSPENDED.value, version=version, at=at,
                unit_id=unit_id, note=reason, order={"suspended_at": at})


def rejected(*, from_state: str, version: int, at: datetime, reason: str) -> dict:
    """不予受理."""
    return step("rejected", from_state=from_state, to_state=State.REJECTED.value, version=version, at=at,
                note=reason, order={"closed_at": at})
