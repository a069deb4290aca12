"""The service desk: appointments cut from opening hours with a capacity per slot, matters owned by
whoever takes them (首问负责制) until a formal hand-over, deadlines in working days, the overdue job,
matters that become work orders, and the desk's scope."""

import pytest

from huying.core import jobs
from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.core.worktime import get_calendar
from huying.services import desk as svc
from huying.services.models import Appointment, AppointmentState, DeskMatter, MatterHandover, MatterState

from . import desk_setup
from .conftest import at

desk = desk_setup.desk

NOW = at(2026, 10, 8, 1, 0)  # Thursday after the National Day holidays, 01:00 Beijing


def _book(d, slot, phone, **kw):
    return svc.appointment_book(d.centre, item=d.item, slot_start=slot, name=kw.pop("name", "张三"), phone=phone,
                                now=kw.pop("now", NOW), **kw)


def test_booking_is_a_slot_of_the_opening_hours(desk):
    a = _book(desk, at(2026, 10, 8, 9, 30), "13800000001")
    assert (a.state, a.slot_end) == (AppointmentState.BOOKED, at(2026, 10, 8, 10, 0))
    assert [e.action for e in audit_trail(a)] == ["services.desk.booked"]
    assert "13800000001" not in str(audit_trail(a).get().new)
    for slot, code in [(at(2026, 10, 8, 12, 0), "services.desk.no_such_slot"),  # lunch break
                       (at(2026, 10, 8, 9, 10), "services.desk.no_such_slot"),  # not a slot boundary
                       (at(2026, 10, 3, 9, 0), "services.desk.closed_day"),  # National Day: closed
                       (at(2026, 10, 11, 9, 0), "services.desk.closed_day"),  # Sunday: no hours
                       (at(2026, 10, 7, 9, 0), "services.desk.closed_day")]:
        with pytest.raises(DomainError) as e:
            _book(desk, slot, "13800000002")
        assert e.value.code == code, slot
    # 调休: Saturday 10 October is a working day, the centre works as on a Monday.
    assert _book(desk, at(2026, 10, 10, 16, 30), "13800000002").state == AppointmentState.BOOKED
    with pytest.raises(DomainError) as e:
        _book(desk, at(2026, 10, 8, 9, 30), "13800000003", now=at(2026, 10, 8, 9, 45))
    assert e.value.code == "services.desk.slot_past"


def test_over_capacity_refused_and_cancel_frees_the_place(desk):
    slot = at(2026, 10, 8, 10, 0)
    first = _book(desk, slot, "13800000001")
    _book(desk, slot, "13800000002")
    with pytest.raises(DomainError) as e:
        _book(desk, slot, "13800000003")
    assert (e.value.code, e.value.status) == ("services.desk.slot_full", 409)
    assert "已约满" in e.value.message
    assert Appointment.objects.filter(slot_start=slot).count() == 2
    with pytest.raises(DomainError) as e:  # a stranger cannot cancel it
        svc.appointment_cancel(first, actor=desk.staff.desk_x, now=NOW)
    assert e.value.status == 403
    svc.appointment_cancel(first, by_token=True, now=NOW)
    assert _book(desk, slot, "13800000003").state == AppointmentState.BOOKED


def test_capacity_follows_the_desk_setting(desk):
    svc.desk_setting_set(desk.centre, slot_minutes=60, slot_capacity=1, actor=None)
    _book(desk, at(2026, 10, 8, 9, 0), "13800000001")
    with pytest.raises(DomainError) as e:
        _book(desk, at(2026, 10, 8, 9, 0), "13800000002")
    assert e.value.code == "services.desk.slot_full"
    with pytest.raises(DomainError):
        _book(desk, at(2026, 10, 8, 9, 30), "13800000002")  # no half-hour slots any more


def test_signed_in_resident_books_with_their_account(desk):
    a = svc.appointment_book(desk.centre, item=desk.item, slot_start=at(2026, 10, 8, 14, 0), actor=desk.resident,
                             now=NOW)
    assert (a.resident, a.phone, a.name) == (desk.resident, "13800001111", "resident")


def test_first_contact_owns_until_handed_over(desk):
    s = desk.staff
    m = svc.matter_take(desk.centre, item=desk.quick, actor=s.deskstaff, applicant_name="李四",
                        applicant_phone="13900000000", now=at(2026, 10, 8, 10, 0))
    assert (m.owner, m.taken_by, m.state) == (s.deskstaff, s.deskstaff, MatterState.ACCEPTED)
    for other in (s.desk_b, s.desk_c):  # colleagues of the same desk cannot act on it
        with pytest.raises(DomainError) as e:
            svc.matter_finish(m, result="办好了", actor=other)
        assert e.value.status == 403
    with pytest.raises(DomainError) as e:  # only to a colleague of this desk
        svc.matter_hand_over(m, to_user=s.desk_x, reason="请假", actor=s.deskstaff)
    assert e.value.code == "services.desk.bad_receiver"
    with pytest.raises(DomainError) as e:
        svc.matter_hand_over(m, to_user=s.desk_b, reason="", actor=s.deskstaff)
    assert e.value.code == "services.desk.reason_required"
    svc.matter_start(m, actor=s.deskstaff)
    m = svc.matter_hand_over(m, to_user=s.desk_b, reason="下午轮休", actor=s.deskstaff, now=at(2026, 10, 8, 12, 0))
    assert m.owner == s.desk_b and m.taken_by == s.deskstaff
    h = MatterHandover.objects.get(matter=m)
    assert (h.from_user, h.to_user, h.reason) == (s.deskstaff, s.desk_b, "下午轮休")
    entry = audit_trail(m).get(action="services.desk.matter_handed_over")
    assert (entry.old["owner"], entry.new["owner"], entry.reason) == (s.deskstaff.pk, s.desk_b.pk, "下午轮休")
    for other in (s.deskstaff, s.desk_c):  # the former owner and a third member no longer may
        with pytest.raises(DomainError) as e:
            svc.matter_finish(m, result="办好了", actor=other)
        assert e.value.status == 403
    m = svc.matter_finish(m, result="已办结，材料齐全", actor=s.desk_b, now=at(2026, 10, 8, 15, 0))
    assert (m.state, m.finished_by, m.owner) == (MatterState.DONE, s.desk_b, s.desk_b)
    assert audit_trail(m).last().new["in_time"] is True
    with pytest.raises(DomainError) as e:
        svc.matter_refuse(m, reason="x", actor=s.desk_b)
    assert e.value.code == "services.desk.bad_transition"


def test_any_desk_staff_takes_any_item_from_an_appointment(desk):
    a = _book(desk, at(2026, 10, 8, 9, 0), "13800000001")
    m = svc.matter_take(desk.centre, appointment=a, actor=desk.staff.desk_c, now=at(2026, 10, 8, 9, 5))
    assert (m.item, m.applicant_phone, m.owner) == (desk.item, "13800000001", desk.staff.desk_c)
    a.refresh_from_db()
    assert a.state == AppointmentState.TAKEN
    with pytest.raises(DomainError):  # taken once
        svc.matter_take(desk.centre, appointment=a, actor=desk.staff.desk_b)


def test_scope_other_positions_staff_cannot_take_or_act(desk):
    s = desk.staff
    with pytest.raises(DomainError) as e:
        svc.matter_take(desk.centre, item=desk.quick, actor=s.desk_x, applicant_name="王五")
    assert e.value.status == 403
    a = _book(desk, at(2026, 10, 8, 9, 0), "13800000001")
    with pytest.raises(DomainError) as e:
        svc.matter_take(desk.station, appointment=a, actor=s.desk_x)
    with pytest.raises(DomainError) as e:
        svc.matter_take(desk.centre, appointment=a, actor=s.desk_x)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:  # a unit leader watching the street is not at the desk
        svc.matter_take(desk.centre, item=desk.quick, actor=desk.town.user.bj_staff, applicant_name="王五")
    assert e.value.status == 403
    assert not DeskMatter.objects.exists()


def test_deadline_in_working_days_across_holiday_and_weekend(desk):
    cal = get_calendar()
    # Taken at 01:00 on the last working day before National Day: the clock starts at 09:00, three
    # working days are 30 Sep, 8 and 9 October.
    assert svc.matter_due(at(2026, 9, 30, 1, 0), 3, cal) == at(2026, 10, 9, 17, 0)
    # Taken at 10:00: the rest runs into Saturday 10 October, an adjusted working day (调休).
    m = svc.matter_take(desk.centre, item=desk.quick, actor=desk.staff.deskstaff, applicant_name="李四",
                        now=at(2026, 9, 30, 10, 0))
    assert m.due_at == at(2026, 10, 10, 10, 0)
    # Friday afternoon + one working day skips the weekend; 即办 gets one working day.
    assert svc.matter_due(at(2026, 10, 16, 15, 0), 1, cal) == at(2026, 10, 19, 15, 0)
    assert svc.matter_due(at(2026, 10, 16, 15, 0), None, cal) == at(2026, 10, 19, 15, 0)


def test_overdue_job_flags_open_matters_once(desk):
    s = desk.staff
    late = svc.matter_take(desk.centre, item=desk.quick, actor=s.deskstaff, applicant_name="甲",
                           now=at(2026, 9, 30, 10, 0))  # due 10 Oct 10:00
    done = svc.matter_take(desk.centre, item=desk.quick, actor=s.deskstaff, applicant_name="乙",
                           now=at(2026, 9, 30, 10, 0))
    svc.matter_finish(done, result="办好", actor=s.deskstaff, now=at(2026, 10, 8, 10, 0))
    fresh = svc.matter_take(desk.centre, item=desk.item, actor=s.desk_b, applicant_name="丙",
                            now=at(2026, 10, 9, 10, 0))
    job = next(j for j in jobs.registered() if j.name == "desk-overdue")
    out = jobs.run_job(job, now=at(2026, 10, 10, 9, 59))
    assert out.counts == {"desk_overdue": 0}
    out = jobs.run_job(job, now=at(2026, 10, 12, 1, 0))
    assert out.counts == {"desk_overdue": 1}
    assert [m.overdue for m in DeskMatter.objects.filter(pk__in=[late.pk, done.pk, fresh.pk]).order_by("pk")] == [
        True, False, False]
    entry = audit_trail(late).get(action="services.desk.matter_overdue")
    assert entry.new == {"overdue": True, "owner": s.deskstaff.pk}
    assert jobs.run_job(job, now=at(2026, 10, 12, 2, 0)).counts == {"desk_overdue": 0}
    # the owner (首问责任人) is told once, in the outbox, without the applicant's name
    from huying.dispatch.notify.models import OutboxMessage, RecipientKind

    told = OutboxMessage.objects.filter(event="overdue", recipient_kind=RecipientKind.USER)
    assert {m.recipient_id for m in told} == {s.deskstaff.pk}
    assert told.count() == len({m.channel for m in told}) >= 1
    assert all(desk.quick.name in m.body and "甲" not in m.body for m in told)
    m = svc.matter_finish(late, result="补办完成", actor=s.deskstaff, now=at(2026, 10, 12, 10, 0))
    assert audit_trail(m).last().new["in_time"] is False


def test_matter_becomes_a_work_order(desk):
    from huying.dispatch.models import Channel, WorkOrder
    from huying.dispatch.seed import dispatch_seed
    from huying.services.selectors_desk import work_order_state

    dispatch_seed()
    s = desk.staff
    m = svc.matter_take(desk.centre, item=desk.quick, actor=s.deskstaff, applicant_name="李四",
                        applicant_phone="13900000000", note="楼道灯坏了，需物业和街道处理", now=at(2026, 10, 8, 10, 0))
    with pytest.raises(DomainError) as e:
        svc.matter_to_work_order(m, subject="E0102", actor=s.desk_b)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        svc.matter_to_work_order(m, subject="NOPE", actor=s.deskstaff)
    assert e.value.code == "dispatch.unknown_subject"
    m.refresh_from_db()
    assert m.state == MatterState.ACCEPTED and not WorkOrder.objects.exists()
    m = svc.matter_to_work_order(m, subject="E0102", actor=s.deskstaff, now=at(2026, 10, 8, 10, 30))
    order = WorkOrder.objects.get()
    assert (m.state, m.work_order_id, m.work_order_code) == (MatterState.TRANSFERRED, order.pk, order.code)
    assert order.channel == Channel.OTHER and order.reporter_phone == "13900000000"
    assert "流水井社区党群服务中心" in order.description and "楼道灯坏了" in order.description
    assert audit_trail(m).last().new["work_order"] == order.code
    assert work_order_state(m) == str(order.get_state_display())
    with pytest.raises(DomainError):
        svc.matter_finish(m, result="x", actor=s.deskstaff)


def test_the_overdue_job_is_registered():
    assert "desk-overdue" in {j.name for j in jobs.registered()}


def test_transition_table():
    allowed = {(a, b) for a, targets in svc.ALLOWED_TRANSITIONS.items() for b in targets}
    for a in MatterState.values:
        for b in MatterState.values:
            if (a, b) in allowed:
                svc.transition_check(a, b)
            else:
                with pytest.raises(DomainError):
                    svc.transition_check(a, b)
    assert (MatterState.IN_PROGRESS, MatterState.REFUSED) not in allowed
