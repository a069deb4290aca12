"""One row shape: an order's life through the services and the same life through the year
simulator's `Life` (which builds its rows with `huying.dispatch.steps`) give the same timeline,
audit, assignment and order rows, and the same per-order fact for the rollups."""

import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import at

IDS = ("assignment_id", "callback_id")  # row ids: present on both sides, their values differ
ORDER_FIELDS = ("state", "version", "lead_unit_id", "handling_level", "dispatched_at", "accepted_at", "resolved_at",
                "closed_at", "response_due", "resolve_due", "warn_at", "deadline_state", "response_overdue",
                "resolution", "return_count", "rework_count")
ASSIGNMENT_FIELDS = ("unit_id", "cohandler_ids", "level", "binding", "override_reason", "dispatched_at",
                     "response_due", "resolve_due", "warn_at", "limits", "accepted_at", "ended_at", "outcome",
                     "return_reason", "return_basis")


def _plain(value):
    """As stored in a JSON column (the services' rows are read back from one); the simulator's rows
    for binary COPY (PostgreSQL) carry jsonb's binary form already: a version byte and the text."""
    if isinstance(value, bytes):
        assert value[:1] == b"\x01"
        return json.loads(value[1:])
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _data(data: dict) -> dict:
    d = {k: v for k, v in (_plain(data) or {}).items() if k != "simulated"}
    for k in IDS:
        if d.get(k) is not None:
            d[k] = "<id>"
    return _plain(d)


def _service_rows(order):
    from huying.core.models import AuditEntry
    from huying.dispatch.models import Assignment, Transition

    steps = [{"action": t.action, "from_state": t.from_state, "to_state": t.to_state, "unit_id": t.unit_id,
              "at": t.at, "note": t.note, "data": _data(t.data)}
             for t in Transition.objects.filter(order=order).order_by("id")]
    audits = [{"action": a.action, "old": a.old, "new": a.new, "data": _data(a.data), "reason": a.reason}
              for a in AuditEntry.objects.filter(target_type="dispatch.workorder", target_id=str(order.pk),
                                                 action__startswith="dispatch.order.").order_by("id")]
    assignments = [{f: getattr(a, f) for f in ASSIGNMENT_FIELDS} for a in Assignment.objects.filter(order=order)
                   .order_by("id")]
    return steps, audits, assignments


def _sim_rows(w):
    def dicts(table):
        return [dict(zip(table.attnames, row, strict=True)) for row in table.rows]

    steps = [{"action": t["action"], "from_state": t["from_state"], "to_state": t["to_state"], "unit_id": t["unit_id"],
              "at": t["at"], "note": t["note"], "data": _data(t["data"])} for t in dicts(w.transitions)]
    audits = [{"action": a["action"], "old": _plain(a["old"]), "new": _plain(a["new"]), "data": _data(a["data"]),
               "reason": a["reason"]} for a in dicts(w.audits)]
    assignments = [{f: (_plain(a[f]) if f in ("limits", "cohandler_ids") else a[f]) for f in ASSIGNMENT_FIELDS}
                   for a in dicts(w.assignments)]
    return steps, audits, assignments


def _route(order, *, now, exclude=frozenset()):
    """The proposal as the simulator asks for it (`route_for` on the order's place)."""
    from huying.dispatch import reference
    from huying.dispatch.services.routing import route_for
    from huying.territory.models import Division

    area = {"grid_id": order.grid_id, "community_id": order.community_id, "district_code": order.district_code,
            "street_code": order.street_code, "community_code": Division.objects.get(pk=order.community_id).code,
            "area_code": order.area_code}
    return route_for(subject=order.subject, subject_chain=reference.subject_chain(order.subject),
                     request_type=order.request_type, urgency=order.urgency, area=area, now=now, exclude=exclude)


def _life(order):
    """The simulator's Life for `order`, planning its dispatches with the simulator's own `plan`."""
    from huying.core.worktime import get_calendar
    from huying.dispatch import reference
    from huying.dispatch.simulate_year import Life, Simulator, Writer

    sim = Simulator.__new__(Simulator)  # only its planning: no places, subjects or schedule
    sim.cal, sim._fixed = get_calendar(), {}
    chain = reference.subject_chain(order.subject)
    w = Writer(10)
    life = Life(w, order.pk, label="simulate", plan=lambda t: sim.plan(order.request_type, chain, order.emergency, t))
    life.planned = lambda t: sim.plans([(order.request_type, chain, order.emergency, t)])[0]
    return w, life


def _fact_of_service(order):
    from huying.insight import rollups
    from huying.insight.facts import fact_of

    return fact_of(rollups._order_rows([order.pk])[order.pk], rollups._steps([order.pk]).get(order.pk, []))


def _fact_of_life(order, life):
    from huying.insight.facts import fact_of

    o = life.o
    return fact_of({"id": order.pk, "created_at": order.created_at, "area_code": order.area_code,
                    "subject_code": order.subject.code, "state": o["state"], "deadline_state": o["deadline_state"],
                    "response_overdue": o["response_overdue"], "lead_unit_id": o["lead_unit_id"],
                    "version": o["version"]}, life.steps)


def _compare(order, w, life):
    order.refresh_from_db()
    life.finish()  # the simulator adds the assignments and co-handlers as they stand at the end
    s_steps, s_audits, s_assignments = _service_rows(order)
    m_steps, m_audits, m_assignments = _sim_rows(w)
    assert [s["action"] for s in m_steps] == [s["action"] for s in s_steps]
    for service, simulated in zip(s_steps, m_steps, strict=True):
        assert simulated == service, service["action"]
    for service, simulated in zip(s_audits, m_audits, strict=True):
        assert simulated == service, service["action"]
    assert len(m_audits) == len(s_audits)
    assert m_assignments == s_assignments
    assert {f: life.o[f] for f in ORDER_FIELDS} == {f: getattr(order, f) for f in ORDER_FIELDS}
    assert sorted(life.cohandlers) == sorted(order.cohandlers.values_list("pk", flat=True))
    assert all(t["data"].get("simulated") is True for t in life.steps)
    fact = _fact_of_service(order)
    assert _fact_of_life(order, life) == fact
    return fact


def _created(report):
    """A submitted order through the services and the same creation in the simulator's `Life`."""
    t0 = at(2026, 3, 2, 10, 0)
    order = report(auto_dispatch=False, now=t0)
    w, life = _life(order)
    route = _route(order, now=t0)
    life.create(t0, channel="web", routing=route.as_dict())
    return t0, order, w, life, route


def test_a_simulated_life_writes_the_rows_the_services_write(world, report):
    from huying.dispatch.models import State
    from huying.dispatch.services import (
        work_order_accept,
        work_order_callback,
        work_order_dispatch,
        work_order_resolve,
    )

    u = world.users
    t0, order, w, life, route = _created(report)

    t1 = t0 + timedelta(minutes=20)
    order = work_order_dispatch(order, actor=u["dispatcher"], now=t1)
    planned = life.planned(t1)  # the first dispatch's clocks as a batch computes them, many at once
    assert planned is not None
    life.dispatch(t1, route.unit_id, route.level, route.cohandler_ids, planned=planned)
    assert order.lead_unit_id == world.units["community_a"].pk
    # Signed a day late: the response clock ran out (the fact counts it as not on time).
    t2 = at(2026, 3, 4, 11, 0)
    order = work_order_accept(order, actor=u["comm_a"], now=t2)
    life.accept(t2)
    assert order.response_overdue
    t3 = at(2026, 3, 5, 15, 0)
    order = work_order_resolve(order, actor=u["comm_a"], result="已办理", now=t3)
    life.resolve(t3, "已办理")
    assert order.state == State.RESOLVED
    t4 = at(2026, 3, 6, 10, 0)
    order = work_order_callback(order, actor=u["operator"], satisfaction="satisfied", solved=True, now=t4)
    life.callback(t4, reached=True, solved=True, satisfaction="satisfied")
    assert order.state == State.CLOSED

    fact = _compare(order, w, life)
    assert fact.area[fact_index("closes")] == 1 and fact.area[fact_index("accepts_on_time")] == 0


def test_a_returned_and_reworked_life_writes_the_same_rows_too(world, report):
    from huying.dispatch.models import State
    from huying.dispatch.services import (
        work_order_accept,
        work_order_callback,
        work_order_dispatch,
        work_order_redispatch,
        work_order_resolve,
        work_order_return,
    )

    u = world.users
    t0, order, w, life, route = _created(report)
    t = t0 + timedelta(minutes=5)
    order = work_order_dispatch(order, actor=u["dispatcher"], now=t)
    life.dispatch(t, route.unit_id, route.level, route.cohandler_ids)

    t = t0 + timedelta(hours=2)
    returning = order.lead_unit_id
    order = work_order_return(order, actor=u["comm_a"], reason="非本单位职责", legal_basis="《办法》第五条", now=t)
    life.ret(t, "非本单位职责", "《办法》第五条")
    t = t0 + timedelta(hours=3)
    again = _route(order, now=t, exclude={returning})
    order = work_order_redispatch(order, actor=u["dispatcher"], now=t)
    life.routing = again.as_dict()
    life.dispatch(t, again.unit_id, again.level)
    assert order.lead_unit_id == world.units["street_a"].pk == again.unit_id
    assert order.routing == life.routing

    t = t0 + timedelta(hours=4)
    order = work_order_accept(order, actor=u["street_a"], now=t)
    life.accept(t)
    for day, satisfaction in ((3, "unsatisfied"), (5, "satisfied")):
        t = at(2026, 3, day, 9, 30)
        order = work_order_resolve(order, actor=u["street_a"], result="已修复", now=t)
        life.resolve(t, "已修复")
        t = at(2026, 3, day, 16, 0)
        order = work_order_callback(order, actor=u["operator"], satisfaction=satisfaction,
                                    solved=satisfaction != "unsatisfied", now=t)
        life.callback(t, reached=True, solved=satisfaction != "unsatisfied", satisfaction=satisfaction)
    assert order.state == State.CLOSED and order.rework_count == 1 and order.return_count == 1

    fact = _compare(order, w, life)
    assert fact.area[fact_index("returns")] == 1 and fact.area[fact_index("reworks")] == 1


def fact_index(name: str) -> int:
    from huying.insight.facts import IDX

    return IDX[name]


@pytest.mark.parametrize("to_state, action", [("resolved", "resolved"), ("reviewing", "review_requested"),
                                              ("checking", "check_requested")])
def test_the_report_step_names_where_it_goes(to_state, action):
    from huying.dispatch import steps
    from huying.dispatch.services.checks import REPORT_ACTIONS

    built = steps.resolved(from_state="accepted", version=4, at=at(2026, 3, 2, 10, 0), unit_id=7, result="ok",
                           warn_at=None, resolve_due=at(2026, 3, 1, 10, 0), to_state=to_state)
    assert built["transition"]["action"] == action == REPORT_ACTIONS[to_state]
    assert built["transition"]["data"]["on_time"] is False
    assert ("via" in built["transition"]["data"]) == (to_state == "resolved")
    assert built["audit"]["data"] is built["transition"]["data"]
    assert built["audit"]["new"] == {"state": to_state, "version": 4} and built["order"]["state"] == to_state


def test_a_batch_plans_its_first_dispatches_as_plan_does_one_by_one(db):
    """`Simulator.plans` (the clocks of many dispatches at once, grouped by their limits' amounts)
    gives each dispatch what `Simulator.plan` gives it alone, limits' sources included."""
    import random

    from huying.core.worktime import get_calendar
    from huying.dispatch import reference
    from huying.dispatch.models import RequestType, Subject
    from huying.dispatch.seed import dispatch_seed
    from huying.dispatch.simulate_year import Simulator

    dispatch_seed()
    sim = Simulator.__new__(Simulator)
    sim.cal, sim._fixed = get_calendar(), {}
    rng = random.Random(3)
    subjects = list(Subject.objects.filter(active=True))
    types = [None, *RequestType.objects.filter(active=True)]
    t0 = at(2026, 1, 1, 0, 0)
    dispatches = [(rng.choice(types), reference.subject_chain(rng.choice(subjects)), rng.random() < 0.1,
                   t0 + timedelta(seconds=rng.randrange(330 * 86_400), microseconds=rng.randrange(10**6)))
                  for _ in range(600)]
    got = sim.plans(dispatches)
    assert sum(g is not None for g in got) > 500
    for (rt, chain, emergency, t), planned in zip(dispatches, got, strict=True):
        if planned is not None:
            assert planned == sim.plan(rt, chain, emergency, t)


_ZONES = ("Asia/Shanghai", "UTC", "Africa/Monrovia", "Asia/Kathmandu", "America/St_Johns", "Europe/Amsterdam")


@settings(max_examples=400, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2100, 12, 31)),
       zone=st.sampled_from([*_ZONES, None, "+05:45", "-00:44:30"]))
def test_a_steps_moments_are_written_as_isoformat_writes_them(moment, zone):
    """`steps.isoformat` (every dispatch's two deadlines in its data) is `datetime.isoformat`, for any
    moment and zone: local mean times with seconds in their offset (Monrovia until 1972, Shanghai
    before 1901), fixed offsets, naive moments."""
    from huying.dispatch.steps import isoformat

    if zone is None:
        at_ = moment
    elif zone[0] in "+-":
        sign = -1 if zone[0] == "-" else 1
        h, m, *s = (int(x) for x in zone[1:].split(":"))
        at_ = moment.replace(tzinfo=dt_timezone(sign * timedelta(hours=h, minutes=m, seconds=s[0] if s else 0)))
    else:
        at_ = moment.replace(tzinfo=ZoneInfo(zone))
    assert isoformat(at_) == at_.isoformat()
