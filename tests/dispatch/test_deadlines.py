"""Working-time deadlines across holidays, the sweep, and extensions."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from huying.core.audit import AuditEntry
from huying.core.errors import DomainError
from huying.core.models import CalendarDay
from huying.core.worktime import WorkCalendar, unknown_years
from huying.dispatch.deadlines import Limit, applicable_limits, fixed_limits, plan_clocks
from huying.dispatch.models import DeadlineState, Extension, RequestType, State, Subject, TimeUnit, WorkOrder
from huying.dispatch.services import (
    deadline_sweep,
    extension_decide,
    extension_request,
    work_order_accept,
    work_order_dispatch,
    work_order_resolve,
)

from .conftest import at

CAL = WorkCalendar()


def consult():
    return RequestType(code="consult", resolve_limit=Decimal(2), resolve_unit=TimeUnit.WORK_DAYS,
                       response_limit=Decimal(1), response_unit=TimeUnit.WORK_DAYS)


def plan(start, request_type=None, chain=(), emergency=False, cal=CAL):
    limits = applicable_limits(request_type=request_type, subject_chain=list(chain), emergency=emergency,
                               start=start, cal=cal)
    return plan_clocks(start=start, limits=limits, cal=cal)


def test_national_day_2026_is_skipped():
    # Wed 09-30 15:00 + 2 working days (14 h): 2 h that day, Oct 1–7 off, 7 h Oct 8, 5 h Oct 9.
    p = plan(at(2026, 9, 30, 15, 0), consult())
    assert p.resolve_due == at(2026, 10, 9, 15, 0)
    assert p.response_due == at(2026, 10, 8, 15, 0)
    assert p.warn_at == at(2026, 10, 9, 10, 30)  # 75 % = 10.5 working hours


def test_the_adjusted_saturday_2026_10_10_is_a_working_day():
    p = plan(at(2026, 10, 9, 15, 0), consult())
    assert p.resolve_due == at(2026, 10, 12, 15, 0)  # Sat 10-10 counts, so Monday, not Tuesday
    assert p.response_due == at(2026, 10, 10, 15, 0)


def test_shortest_applicable_limit_wins_across_units():
    road = Subject(code="E0104", resolve_limit=Decimal(5), resolve_unit=TimeUnit.WORK_HOURS)
    p = plan(at(2026, 9, 30, 15, 0), consult(), [road])
    assert p.resolve_due == at(2026, 10, 8, 12, 0)  # 2 h + 3 h after the holiday
    assert p.limits.resolve.source == "subject:E0104"
    long = Subject(code="E0101", resolve_limit=Decimal(15), resolve_unit=TimeUnit.WORK_DAYS)
    assert plan(at(2026, 9, 30, 15, 0), consult(), [long]).limits.resolve.source == "request_type:consult"


def test_fixed_limits_only_when_no_calendar_comparison_is_needed():
    road = Subject(code="E0104", resolve_limit=Decimal(5), resolve_unit=TimeUnit.WORK_HOURS)
    # Two resolve candidates (2 working days, 5 working hours): which ends first needs the calendar.
    assert fixed_limits(request_type=consult(), subject_chain=[road], emergency=False) is None
    # One candidate per clock: the same limits whenever the order starts, as applicable_limits says.
    fixed = fixed_limits(request_type=consult(), subject_chain=[], emergency=False)
    assert fixed.resolve.source == "request_type:consult" and fixed.response.source == "request_type:consult"
    for start in (at(2026, 9, 30, 15, 0), at(2026, 10, 3, 9, 0), at(2027, 1, 4, 8, 0)):
        assert applicable_limits(request_type=consult(), subject_chain=[], emergency=False, start=start,
                                 cal=CAL) == fixed
    assert fixed_limits(request_type=None, subject_chain=[road], emergency=True).resolve.source == "emergency"
    assert fixed_limits(request_type=None, subject_chain=[], emergency=False).resolve.source == "default"


def test_the_nearest_subject_limit_refines_its_parents():
    child = Subject(code="E0104", resolve_limit=Decimal(5), resolve_unit=TimeUnit.WORK_HOURS)
    parent = Subject(code="E01", resolve_limit=Decimal(1), resolve_unit=TimeUnit.WORK_HOURS)
    limits = applicable_limits(request_type=None, subject_chain=[child, parent], emergency=False,
                               start=at(2026, 3, 2, 9), cal=CAL)
    assert limits.resolve == Limit(Decimal(5), TimeUnit.WORK_HOURS, "subject:E0104")
    assert limits.response.source == "default"


def test_emergency_runs_on_the_clock_even_on_a_holiday():
    p = plan(at(2026, 10, 1, 20, 0), consult(), emergency=True)
    assert p.resolve_due == at(2026, 10, 1, 22, 0) and p.response_due == at(2026, 10, 1, 20, 30)


@pytest.mark.django_db
def test_new_year_2027_without_and_with_administrator_entered_holidays():
    from huying.core.worktime import get_calendar

    start = at(2026, 12, 31, 15, 0)  # Thursday
    assert unknown_years([2026, 2027]) == [2027]
    # Unknown year: Monday–Friday, so Fri 2027-01-01 counts.
    assert plan(start, consult(), cal=get_calendar()).resolve_due == at(2027, 1, 4, 15, 0)
    CalendarDay.objects.create(date=date(2027, 1, 1), is_workday=False, name="元旦")
    assert unknown_years([2027]) == []
    assert plan(start, consult(), cal=get_calendar()).resolve_due == at(2027, 1, 5, 15, 0)


def test_an_order_dispatched_before_national_day_gets_the_holiday_deadline(world, report):
    order = report(request_type="consult", now=at(2026, 9, 30, 14, 0))
    order = work_order_dispatch(order, actor=world.users["dispatcher"], now=at(2026, 9, 30, 15, 0))
    assert order.resolve_due == at(2026, 10, 9, 15, 0)
    assert order.assignments.get().limits["resolve"] == {"value": "2", "unit": "work_days",
                                                         "source": "request_type:consult"}


def test_sweep_marks_warning_then_overdue_once_each(world, report):
    u = world.users
    order = work_order_dispatch(report(request_type="consult"), actor=u["dispatcher"], now=at(2026, 3, 2, 10))
    order = work_order_accept(order, actor=u["comm_a"], now=at(2026, 3, 2, 11))
    warn, due = order.warn_at, order.resolve_due
    assert deadline_sweep(now=warn - timedelta(seconds=1)) == {"warning": 0, "overdue": 0, "response_overdue": 0}
    assert deadline_sweep(now=warn) == {"warning": 1, "overdue": 0, "response_overdue": 0}
    assert deadline_sweep(now=warn) == {"warning": 0, "overdue": 0, "response_overdue": 0}
    assert WorkOrder.objects.get(pk=order.pk).deadline_state == DeadlineState.WARNING
    assert deadline_sweep(now=due) == {"warning": 0, "overdue": 1, "response_overdue": 0}
    got = WorkOrder.objects.get(pk=order.pk)
    assert got.deadline_state == DeadlineState.OVERDUE and got.version == order.version
    actions = list(AuditEntry.objects.filter(action__startswith="dispatch.order.deadline").values_list("action",
                                                                                                       flat=True))
    assert sorted(actions) == ["dispatch.order.deadline_overdue", "dispatch.order.deadline_warning"]


def test_sweep_marks_an_unsigned_order_response_overdue_and_skips_finished_ones(world, report):
    u = world.users
    late = work_order_dispatch(report(), actor=u["dispatcher"], now=at(2026, 3, 2, 10))
    done = work_order_dispatch(report(), actor=u["dispatcher"], now=at(2026, 3, 2, 10))
    done = work_order_accept(done, actor=u["comm_a"], now=at(2026, 3, 2, 10, 30))
    work_order_resolve(done, actor=u["comm_a"], result="ok", now=at(2026, 3, 2, 11))
    counts = deadline_sweep(now=at(2026, 3, 3, 10, 0), batch=1)
    assert counts == {"warning": 0, "overdue": 0, "response_overdue": 1}
    assert WorkOrder.objects.get(pk=late.pk).response_overdue
    # Signing late is remembered for the response rate.
    assert work_order_accept(late, actor=u["comm_a"], now=at(2026, 3, 3, 11)).response_overdue
    assert deadline_sweep(now=at(2026, 6, 1)) == {"warning": 0, "overdue": 1, "response_overdue": 0}


def test_extension_moves_the_deadline_not_the_state(world, report):
    u = world.users
    order = work_order_dispatch(report(), actor=u["dispatcher"], now=at(2026, 3, 2, 10))
    order = work_order_accept(order, actor=u["comm_a"], now=at(2026, 3, 2, 10))
    with pytest.raises(DomainError) as exc:
        extension_request(order, actor=u["comm_a"], new_due=order.resolve_due - timedelta(days=1), reason="x")
    assert exc.value.field == "new_due"
    new_due = at(2026, 4, 1, 17, 0)
    ext = extension_request(order, actor=u["comm_a"], new_due=new_due, reason="需协调供电部门",
                            now=at(2026, 3, 10, 9))
    with pytest.raises(DomainError) as exc:
        extension_request(order, actor=u["comm_a"], new_due=new_due, reason="again", now=at(2026, 3, 10, 9))
    assert exc.value.status == 409
    with pytest.raises(DomainError):
        extension_decide(ext, actor=u["comm_a"], approve=True)  # a unit cannot approve its own
    ext = extension_decide(ext, actor=u["dispatcher"], approve=True, note="同意", now=at(2026, 3, 10, 10))
    got = WorkOrder.objects.get(pk=order.pk)
    assert ext.decision == Extension.Decision.APPROVED
    assert got.state == State.ACCEPTED and got.resolve_due == new_due and got.extension_count == 1
    assert got.warn_at < new_due and got.warn_at > order.warn_at
    with pytest.raises(DomainError) as exc:
        extension_decide(ext, actor=u["dispatcher"], approve=False, note="no")
    assert exc.value.status == 409
    ext2 = extension_request(got, actor=u["comm_a"], new_due=at(2026, 5, 1, 17), reason="再延", now=at(2026, 3, 11))
    with pytest.raises(DomainError) as exc:
        extension_decide(ext2, actor=u["dispatcher"], approve=False)
    assert exc.value.field == "note"
    extension_decide(ext2, actor=u["dispatcher"], approve=False, note="不予延期", now=at(2026, 3, 11))
    assert WorkOrder.objects.get(pk=order.pk).resolve_due == new_due
    actions = list(got.transitions.values_list("action", flat=True))
    assert actions[-3:] == ["extension_approved", "extension_requested", "extension_refused"]


# -- a bulk load's plans, many at once --------------------------------------------------------------
MANY_LIMITS = [
    (Limit(Decimal(1), TimeUnit.WORK_DAYS, "a"), Limit(Decimal(10), TimeUnit.WORK_DAYS, "b")),
    (Limit(Decimal(5), TimeUnit.WORK_HOURS, "a"), Limit(Decimal("2.5"), TimeUnit.WORK_DAYS, "b")),
    (Limit(Decimal("0.5"), TimeUnit.HOURS, "a"), Limit(Decimal(2), TimeUnit.HOURS, "b")),
    (Limit(Decimal(3), TimeUnit.WORK_DAYS, "a"), Limit(Decimal(4), TimeUnit.WORK_HOURS, "b")),  # response capped
    (Limit(Decimal(2), TimeUnit.HOURS, "a"), Limit(Decimal("7.3"), TimeUnit.WORK_HOURS, "b")),
    (Limit(Decimal(30), TimeUnit.WORK_DAYS, "a"), Limit(Decimal(36), TimeUnit.HOURS, "b")),
]


@pytest.mark.parametrize("response, resolve", MANY_LIMITS)
def test_plan_many_is_plan_clocks_for_each_start(response, resolve):
    import random

    import numpy as np

    from huying.dispatch.deadlines import Limits, plan_many

    rng = random.Random(f"{response}{resolve}")
    starts = [at(2026, 9, 30, 17, 0), at(2026, 9, 30, 12, 0), at(2026, 10, 1, 0, 0), at(2026, 12, 31, 23, 59),
              at(2026, 12, 25, 16, 0)]
    base = at(2026, 1, 1, 0, 0)
    starts += [base + timedelta(microseconds=rng.randrange(365 * 86_400_000_000)) for _ in range(400)]
    starts += [base + timedelta(days=rng.randrange(365), minutes=rng.randrange(24 * 60)) for _ in range(400)]
    limits = Limits(response, resolve)
    got = plan_many(np.array([CAL.local_us(s) for s in starts]), limits, CAL)
    for i, s in enumerate(starts):
        want = plan_clocks(start=s, limits=limits, cal=CAL)
        assert [CAL.moment(int(a[i])) for a in got] == [want.response_due, want.resolve_due, want.warn_at], s
