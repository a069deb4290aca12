"""Every metric on a hand-computed fixture: six orders' timelines, summed, checked exactly."""

from datetime import datetime
from fractions import Fraction as F
from zoneinfo import ZoneInfo

from huying.insight import metrics
from huying.insight.facts import IDX, fact_of

TZ = ZoneInfo("Asia/Shanghai")
U1, U2 = 1, 2


def order(oid, state, *, lead=None, deadline="ok", response_overdue=False):
    return {"id": oid, "created_at": datetime(2026, 3, 2, 10, tzinfo=TZ), "area_code": "440104001001001",
            "subject_code": "Q010101", "state": state, "deadline_state": deadline,
            "response_overdue": response_overdue, "lead_unit_id": lead, "version": 1}


def step(action, unit=None, **data):
    return {"action": action, "unit_id": unit, "data": data}


def cb(action, unit, sat, solved, reached=True):
    return step(action, unit, callback_id=1, reached=reached, solved=solved, satisfaction=sat)


FIXTURE = [
    # A: on time all the way, satisfied and solved.
    (order(1, "closed", lead=U1), [step("created"), step("dispatched", U1), step("accepted", U1, late=False),
                                   step("resolved", U1, on_time=True), cb("closed", U1, "satisfied", True)]),
    # B: returned by U1, signed late by U2, resolved late, reworked (unsatisfied), closed basically satisfied.
    (order(2, "closed", lead=U2), [step("created"), step("dispatched", U1), step("returned", U1),
                                   step("redispatched", U2), step("accepted", U2, late=True),
                                   step("resolved", U2, on_time=False), cb("reworked", U2, "unsatisfied", False),
                                   step("resolved", U2, on_time=False), cb("closed", U2, "basically", None)]),
    # C: dispatched to U2, never signed, both clocks run out.
    (order(3, "dispatched", lead=U2, deadline="overdue", response_overdue=True),
     [step("created"), step("dispatched", U2)]),
    # D: signed by U1, parked (挂账) after its deadline passed.
    (order(4, "suspended", lead=U1, deadline="overdue"),
     [step("created"), step("dispatched", U1), step("accepted", U1, late=False), step("suspended", U1)]),
    # E: not acceptable at intake.
    (order(5, "rejected"), [step("created"), step("rejected")]),
    # F: resolved on time, the resident could not be reached at the callback.
    (order(6, "closed", lead=U1), [step("created"), step("dispatched", U1), step("accepted", U1, late=False),
                                   step("resolved", U1, on_time=True), cb("closed", U1, "", None, reached=False)]),
]


def totals():
    area = dict.fromkeys(metrics.COUNTERS, 0)
    units: dict[int, dict] = {}
    for o, steps in FIXTURE:
        f = fact_of(o, steps)
        for name, i in IDX.items():
            area[name] += f.area[i]
        for uid, vec in f.units.items():
            u = units.setdefault(uid, dict.fromkeys(metrics.COUNTERS, 0))
            for name, i in IDX.items():
                u[name] += vec[i]
    return area, units


def test_counters_by_hand():
    area, _units = totals()
    assert {k: v for k, v in area.items() if v} == {
        "created": 6, "rejected": 1, "dispatches": 6, "accepts": 4, "accepts_on_time": 3, "returns": 1,
        "resolutions": 4, "resolutions_on_time": 2, "reworks": 1, "closes": 3, "callbacks": 3, "cb_solved": 2,
        "cb_satisfied": 1, "cb_basic": 1, "cb_unsatisfied": 1, "open": 2, "overdue": 2, "suspended_overdue": 1,
        "unsigned_late": 1,
    }


def test_every_metric_for_the_territory():
    area, _units = totals()
    assert metrics.response_rate(area) == F(3, 5)          # 3 signed in time / (4 signed + 1 unsigned late)
    assert metrics.resolution_rate(area) == F(2, 3)        # solved, solved (基本满意, not asked), not solved
    assert metrics.satisfaction_rate(area) == F(2, 3)      # 满意 + 基本满意 of 3
    assert metrics.satisfaction_rate(area, basic_weight="0.5") == F(1, 2)
    assert metrics.on_time_rate(area) == F(2, 5)           # 2 on time / (4 resolved + 2 overdue − 1 parked)
    assert metrics.rework_rate(area) == F(1, 4)
    assert metrics.return_rate(area) == F(1, 6)
    ev = metrics.evaluate(area, weights={"response": 30, "resolution": 35, "satisfaction": 35})
    assert ev.score == F(97, 150)                          # (30·3/5 + 35·2/3 + 35·2/3) / 100


def test_every_metric_per_unit():
    _area, units = totals()
    u1, u2 = units[U1], units[U2]
    assert metrics.response_rate(u1) == 1
    assert metrics.on_time_rate(u1) == 1                   # 2 on time / (2 + 1 overdue − 1 parked)
    assert metrics.return_rate(u1) == F(1, 4)
    assert metrics.resolution_rate(u1) == 1
    assert metrics.satisfaction_rate(u1) == 1
    assert metrics.rework_rate(u1) == 0
    assert metrics.response_rate(u2) == 0                  # signed late, and C never signed
    assert metrics.on_time_rate(u2) == 0
    assert metrics.rework_rate(u2) == F(1, 2)
    assert metrics.resolution_rate(u2) == F(1, 2)
    assert metrics.satisfaction_rate(u2) == F(1, 2)
    assert metrics.return_rate(u2) == 0


def test_composite_weights_and_missing_rates():
    c = {"accepts": 10, "accepts_on_time": 8, "resolutions": 4, "reworks": 1, "dispatches": 10, "returns": 2}
    # No callbacks: resolution and satisfaction have no data and drop out with their weights.
    assert metrics.satisfaction_rate(c) is None
    assert metrics.evaluate(c, weights={"response": 30, "resolution": 35, "satisfaction": 35}).score == F(4, 5)
    # Lower-is-better rates enter as 1 − rate: (1·4/5 + 1·3/4 + 2·4/5) / 4.
    ev = metrics.evaluate(c, weights={"response": 1, "rework": 1, "return": 2})
    assert ev.score == (F(4, 5) + F(3, 4) + 2 * F(4, 5)) / 4
    assert metrics.evaluate({}).score is None


def test_weights_come_from_settings(settings):
    settings.HUYING_INSIGHT_WEIGHTS = {"response": 1, "resolution": 0, "satisfaction": 0}
    assert metrics.evaluate({"accepts": 4, "accepts_on_time": 1, "callbacks": 1, "cb_solved": 1}).score == F(1, 4)
