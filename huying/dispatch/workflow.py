"""The work-order lifecycle as one table: which state may follow which, and why."""

from django.utils.translation import gettext as _

from huying.core.errors import DomainError

from .models import State

S = State

# (from, to) → the reason the step exists. Anything not listed is refused.
ALLOWED_TRANSITIONS: dict[tuple[str, str], str] = {
    # 受理 → 派单: the dispatcher (or auto-dispatch) sends the order to the routed unit.
    (S.SUBMITTED, S.DISPATCHED): "dispatch to the handling unit",
    # 不予受理: an operator or dispatcher decides it is not a government matter, with a reason.
    (S.SUBMITTED, S.REJECTED): "not acceptable at intake",
    # Duplicates are folded into an earlier order before anyone works on them (next issue).
    (S.SUBMITTED, S.MERGED): "duplicate of an earlier order",
    # 改派 before signing: the dispatcher corrects a mistaken dispatch; the new unit's clocks start.
    (S.DISPATCHED, S.DISPATCHED): "dispatcher reassigns before the unit accepts",
    # 签收: the assigned unit takes responsibility (首接负责); the response clock stops.
    (S.DISPATCHED, S.ACCEPTED): "unit accepts",
    # 退单: only before signing — once signed, the unit owns it; reason and legal basis required.
    (S.DISPATCHED, S.RETURNED): "unit returns it as not its duty",
    (S.DISPATCHED, S.MERGED): "duplicate found after dispatch",
    # 办结: the unit reports the result (optionally with a photo); it awaits the callback.
    # Clock: the unit's resolve clock stops here, whichever of the next three states follows.
    (S.ACCEPTED, S.RESOLVED): "unit reports the result",
    # 审核本单位办理结果: in a unit that reviews results (Unit.review_results) the handler's 办结
    # waits for a unit leader. Clock: stopped — review time is not charged to the unit.
    (S.ACCEPTED, S.REVIEWING): "handler reports the result to the unit leader",
    # 核查: the subject (Subject.onsite_check) or the dispatcher asks for an on-site check by the
    # grid's worker before the callback (DOMAIN.md §1.4). Clock: stopped — check time is not charged.
    (S.ACCEPTED, S.CHECKING): "unit reports the result, to be checked on site",
    # The leader approves: the result leaves the unit (to the callback, or to the on-site check).
    (S.REVIEWING, S.RESOLVED): "unit leader approves the result",
    (S.REVIEWING, S.CHECKING): "unit leader approves the result, to be checked on site",
    # The leader sends it back with a reason: the unit's own affair, not a rework counted to the
    # resident. Clock: runs again, its deadline moved by the working time spent in review.
    (S.REVIEWING, S.ACCEPTED): "unit leader sends the result back",
    # 核查通过: the result matches what is on site; it awaits the callback.
    (S.CHECKING, S.RESOLVED): "on-site check confirms the result",
    # 核查不通过 → 返工: back to the same unit, counted as rework. Clock: runs again, its deadline
    # moved by the working time spent in review and check.
    (S.CHECKING, S.ACCEPTED): "on-site check fails: rework",
    # 挂账: long engineering or seasonal works leave the active queue until resumed.
    (S.ACCEPTED, S.SUSPENDED): "long works parked",
    (S.SUSPENDED, S.ACCEPTED): "long works resumed",
    # 回访满意/基本满意 → 结案.
    (S.RESOLVED, S.CLOSED): "callback confirms the result",
    # 回访不满意 → 返工: back to the same unit, counted as rework.
    (S.RESOLVED, S.ACCEPTED): "callback unsatisfied: rework",
    # After a return the dispatcher re-dispatches, or makes a binding final assignment (终审).
    (S.RETURNED, S.DISPATCHED): "re-dispatch after a return",
    # ... or concludes, after the return, that no government unit should take it.
    (S.RETURNED, S.REJECTED): "not acceptable, found after a return",
    # 一事多诉: a merged order is handled once, by the order it was merged into; when that order
    # is resolved, each merged caller is still owed their own callback, which closes their order.
    (S.MERGED, S.CLOSED): "merged caller's callback after the target is resolved",
}

# 拆分: a split parent waits in the state it had (submitted, dispatched or accepted) while its
# children are handled; when the last child closes it is resolved from that state, so the
# resident's callback happens once, on the order they reported. Only the split service uses this.
SPLIT_FROM = frozenset({S.SUBMITTED, S.DISPATCHED, S.ACCEPTED})
# A child counts as done once closed or rejected; a merged child still owes its caller a callback.
CHILD_DONE = frozenset({S.CLOSED, S.REJECTED})

# MERGED is terminal for the work (nobody handles it again); only its caller's callback follows.
TERMINAL = frozenset({S.CLOSED, S.REJECTED, S.MERGED})
# States in which a unit's clock is running (the worker sweeps these). Not REVIEWING or CHECKING:
# the unit's clock stops when it reports its result (the frozen deadline state is what counts).
CLOCK_RUNNING = frozenset({S.DISPATCHED, S.ACCEPTED})
# States in which the order sits with a unit (its queue).
WITH_UNIT = frozenset({S.DISPATCHED, S.ACCEPTED, S.SUSPENDED, S.REVIEWING, S.CHECKING, S.RESOLVED})
# The unit has reported a result that is being reviewed or checked: its clock is stopped.
AWAITING_CONFIRMATION = frozenset({S.REVIEWING, S.CHECKING})


def transition_allowed(from_state: str, to_state: str) -> bool:
    return (from_state, to_state) in ALLOWED_TRANSITIONS


def transition_check(from_state: str, to_state: str) -> None:
    """Raise DomainError (409) unless the table allows `from_state` → `to_state`."""
    if (from_state, to_state) not in ALLOWED_TRANSITIONS:
        raise DomainError(
            "dispatch.transition_forbidden",
            _("工单当前状态为“%(from)s”，不能变更为“%(to)s”。")
            % {"from": State(from_state).label, "to": State(to_state).label},
            status=409,
            from_state=str(from_state),
            to_state=str(to_state),
        )


def next_states(from_state: str) -> list[str]:
    """The states reachable in one step, for pages that show only the possible actions."""
    return [to for (frm, to) in ALLOWED_TRANSITIONS if frm == from_state]
