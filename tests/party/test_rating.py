"""The pure star calculator: exact scores under two different rule sets."""

from datetime import date
from decimal import Decimal as D

import pytest

from huying.core.errors import DomainError
from huying.party.rating import (
    DEFAULT_RULES,
    Facts,
    Record,
    Rules,
    adjusted,
    periods_of,
    score_year,
    stars_for,
)

DEFAULT = Rules.build(**{k: v for k, v in DEFAULT_RULES.items()})
# The branch variant (DOMAIN.md §3): base 100 plus additions and deductions, may exceed 100,
# scored quarterly, reporting not required, its own thresholds.
BRANCH = Rules.build(
    name="支部加减分制", period="quarter", base="100", max_total=None,
    items=[
        {"code": "meet", "source": "attendance", "points": "2", "cap": "6"},
        {"code": "miss", "source": "absence", "points": "5", "negative": True},
        {"code": "hours", "source": "service_hours", "points": "1"},
        {"code": "unrep", "source": "not_reported", "points": "10", "negative": True},
    ],
    thresholds=["115", "108", "100", "90"], report_required=False)


def rec(source, y, m, d, q=1):
    return Record(source, date(y, m, d), D(str(q)))


ACTIVE = Facts(records=(
    *[rec("attendance", 2024, m, 10) for m in range(1, 13)] * 3,   # 36 sessions: 30 at most
    rec("absence", 2024, 5, 1), rec("absence", 2024, 9, 1),         # 2 × −2
    rec("half_year_return", 2024, 6, 1), rec("half_year_return", 2024, 12, 1),
    rec("needs_done", 2024, 3, 1), rec("needs_done", 2024, 4, 1), rec("needs_done", 2024, 8, 1),  # 15
    *[rec("service_count", 2024, m, 1) for m in range(1, 13)],   # 12: 10 at most
    rec("service_hours", 2024, 2, 1, 12.5), rec("service_hours", 2024, 11, 1, 20),  # 32.5 h × 0.5 = 16.25
    *[rec("grid_instructor", 2024, m, 1) for m in range(7, 13)],   # 6 months
    rec("attendance", 2023, 12, 31), rec("service_hours", 2025, 1, 1, 100),  # other years: ignored
), reported_on=date(2024, 2, 15))


def test_default_rules_score_every_item_with_caps_and_negatives():
    r = score_year(DEFAULT, ACTIVE, year=2024)
    (period,) = r.periods
    points = {ln.code: ln.points for ln in period.lines}
    assert points == {"org_life": D("30"), "absence": D("-4"), "duty_report": D("4"), "duty_return": D("4"),
                      "promise": D("15"), "serve": D("10"), "hours": D("16.3"), "grid": D("6")}
    assert {ln.code for ln in period.lines if ln.capped} == {"org_life", "serve"}
    assert r.score == D("81.3") and r.stars == 4 and r.grade == "qualified" and r.reported


def test_same_record_under_the_branch_rules():
    r = score_year(BRANCH, ACTIVE, year=2024)
    # quarterly: attendance 9 a quarter → 6 (cap); absences Q2 and Q3; hours 12.5 in Q1, 20 in Q4
    assert [p.label for p in r.periods] == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert [p.total for p in r.periods] == [D("118.5"), D("101"), D("101"), D("126")]
    # reported in Q1 (15 Feb), so no deduction in any quarter
    assert r.score == D("111.6") and r.stars == 4 and r.grade == "qualified"


def test_not_reported_caps_the_grade_only_when_the_rules_say_so():
    facts = Facts(records=ACTIVE.records, reported_on=None, in_service=True)
    r = score_year(DEFAULT, facts, year=2024)
    assert r.score == D("77.3")  # no duty_report points
    assert (r.stars, r.grade, r.report_capped) == (2, "basic", True)
    e = r.explanation(DEFAULT)
    assert e["report_capped"] and e["stars"] == 2 and e["periods"][0]["lines"][2]["points"] == "0.0"
    b = score_year(BRANCH, facts, year=2024)
    assert [p.total for p in b.periods] == [D("108.5"), D("91"), D("91"), D("116")]  # −10 each quarter
    assert not b.report_capped and b.stars == 3 and b.grade == "qualified"


def test_a_retired_member_need_not_report():
    r = score_year(DEFAULT, Facts(records=ACTIVE.records, reported_on=None, in_service=False), year=2024)
    assert not r.report_capped and r.stars == 3  # 77.3


def test_reporting_late_counts_from_its_period_on():
    b = score_year(BRANCH, Facts(records=(), reported_on=date(2024, 8, 1)), year=2024)
    assert [p.total for p in b.periods] == [D("90"), D("90"), D("100"), D("100")]
    assert b.score == D("95") and b.stars == 2


def test_totals_are_clamped_to_zero_and_the_maximum():
    bad = Facts(records=tuple(rec("absence", 2024, 1, 1) for _ in range(20)), reported_on=None)
    r = score_year(DEFAULT, bad, year=2024)
    assert r.score == D("0") and r.periods[0].clamped and r.stars == 1 and r.grade == "unqualified"
    generous = Rules.build(name="g", period="year", base="95", max_total="100", thresholds=[90, 80, 70, 60],
                           items=[{"code": "a", "source": "attendance", "points": "10"}])
    r = score_year(generous, Facts(records=(rec("attendance", 2024, 1, 1),), reported_on=date(2024, 1, 1)), year=2024)
    assert r.score == D("100") and r.periods[0].clamped and r.grade == "excellent"


def test_thresholds_and_adjustment():
    assert [stars_for(D(s), DEFAULT.thresholds) for s in ("90", "89.9", "80", "70", "60", "59.9")] == [5, 4, 4, 3, 2, 1]
    assert adjusted(DEFAULT, D("81.3"), D("10"), must_report=True, reported=True) == (D("91.3"), 5, "excellent", False)
    # the review cannot lift a member who did not report above 基本合格
    assert adjusted(DEFAULT, D("81.3"), D("10"), must_report=True, reported=False) == (D("91.3"), 2, "basic", True)


def test_periods():
    assert periods_of(2024, "half") == [("2024H1", date(2024, 1, 1), date(2024, 6, 30)),
                                        ("2024H2", date(2024, 7, 1), date(2024, 12, 31))]
    assert periods_of(2024, "quarter")[0][2] == date(2024, 3, 31)


@pytest.mark.parametrize("change, code", [
    ({"period": "month"}, "party.rules.bad_period"),
    ({"items": []}, "party.rules.no_items"),
    ({"items": [{"code": "a", "source": "nope", "points": 1}]}, "party.rules.bad_source"),
    ({"items": [{"code": "a", "source": "attendance", "points": -1}]}, "party.rules.negative_points"),
    ({"items": [{"code": "a", "source": "attendance", "points": 1}] * 2}, "party.rules.bad_item_code"),
    ({"thresholds": [90, 80, 80, 60]}, "party.rules.bad_thresholds"),
    ({"thresholds": [90, 80, 70]}, "party.rules.bad_thresholds"),
    ({"base": "abc"}, "party.rules.bad_number"),
])
def test_rule_validation(change, code):
    data = {**DEFAULT_RULES, **change}
    with pytest.raises(DomainError) as e:
        Rules.build(**data)
    assert e.value.code == code
