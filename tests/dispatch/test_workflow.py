import itertools

import pytest

from huying.core.errors import DomainError
from huying.dispatch.models import State
from huying.dispatch.workflow import ALLOWED_TRANSITIONS, TERMINAL, next_states, transition_check


def test_every_pair_of_states_is_allowed_exactly_when_the_table_says_so():
    allowed = forbidden = 0
    for frm, to in itertools.product(State.values, repeat=2):
        if (frm, to) in ALLOWED_TRANSITIONS:
            transition_check(frm, to)
            allowed += 1
        else:
            with pytest.raises(DomainError) as exc:
                transition_check(frm, to)
            assert exc.value.status == 409 and exc.value.code == "dispatch.transition_forbidden"
            forbidden += 1
    assert allowed == len(ALLOWED_TRANSITIONS)
    assert allowed + forbidden == len(State.values) ** 2


def test_each_rule_has_a_reason_and_uses_known_states():
    for (frm, to), reason in ALLOWED_TRANSITIONS.items():
        assert frm in State.values and to in State.values
        assert reason.strip()


def test_terminal_states_lead_nowhere_and_every_other_state_somewhere():
    for state in State.values:
        if state == State.MERGED:
            # A merged order is never worked on again; only its caller's callback closes it.
            assert next_states(state) == [State.CLOSED]
            continue
        assert (next_states(state) == []) == (state in TERMINAL)
    with pytest.raises(DomainError):
        transition_check(State.MERGED, State.ACCEPTED)  # no rework on a merged order


def test_the_main_path_and_side_paths_are_in_the_table():
    path = [State.SUBMITTED, State.DISPATCHED, State.ACCEPTED, State.RESOLVED, State.CLOSED]
    for frm, to in itertools.pairwise(path):
        transition_check(frm, to)
    transition_check(State.RESOLVED, State.ACCEPTED)  # rework
    transition_check(State.RETURNED, State.DISPATCHED)  # re-dispatch
    with pytest.raises(DomainError):
        transition_check(State.ACCEPTED, State.RETURNED)  # once signed, the unit owns it
