"""The routing rule index picks the same rule as trying every rule in order (`rule_matches`)."""

from datetime import datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from huying.dispatch.routing import RouteContext, RuleIndex, first_match

TZ = ZoneInfo("Asia/Shanghai")
SUBJECTS = ["Q01", "Q0101", "Q010101", "Q0102", "Q02", "Q0201", "E01", "E0102"]
AREAS = ["440104", "440104001", "440104001001", "440106", "440106002"]


def rule_of(i, subject, rt, area, urgency, weekdays, window, active):
    t_from, t_to = window
    return SimpleNamespace(
        id=i, active=active, subject_id=1 if subject else None, subject=SimpleNamespace(code=subject or ""),
        request_type_id=1 if rt else None, request_type=SimpleNamespace(code=rt or ""), area_prefix=area,
        urgency=urgency, weekdays=weekdays, time_from=t_from, time_to=t_to)


times = st.sampled_from([None, time(0, 0), time(8), time(18)])
rules = st.lists(st.builds(
    rule_of, st.integers(), st.sampled_from([None, *SUBJECTS]), st.sampled_from([None, "complaint", "help"]),
    st.sampled_from(["", *AREAS]), st.sampled_from(["", "emergency", "normal"]), st.sampled_from(["", "12345", "67"]),
    st.tuples(times, times), st.booleans()), max_size=12)
contexts = st.builds(
    RouteContext, subject_code=st.sampled_from(SUBJECTS), subject_kind=st.just("request"),
    request_type_code=st.sampled_from([None, "complaint", "help"]), area_code=st.sampled_from(AREAS),
    urgency=st.sampled_from(["normal", "emergency"]),
    local_time=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
        lambda t: t.replace(tzinfo=TZ)))


@settings(max_examples=400, deadline=None)
@given(rules, st.lists(contexts, min_size=1, max_size=5))
def test_the_index_matches_like_the_plain_loop(rs, ctxs):
    index = RuleIndex(rs)
    for ctx in ctxs:  # several orders through one index: its per-subject lists are reused
        assert first_match(index, ctx) is first_match(rs, ctx)


def test_the_index_iterates_its_rules_in_order():
    rs = [rule_of(i, None, None, "", "", "", (None, None), True) for i in range(3)]
    assert list(RuleIndex(rs)) == rs
