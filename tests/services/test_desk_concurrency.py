"""Two residents booking the last place of a slot at the same moment: only one gets it (PostgreSQL;
SQLite has one writer anyway)."""

import threading

import pytest
from django.db import connection, connections, transaction

from huying.core.errors import DomainError
from huying.services import desk as svc
from huying.services.models import Appointment, AppointmentState

from . import desk_setup
from .conftest import at

desk = desk_setup.desk

pytestmark = pytest.mark.django_db(transaction=True)

NOW = at(2026, 10, 8, 1, 0)
SLOT = at(2026, 10, 8, 10, 0)


def test_concurrent_last_place_bookings_cannot_both_succeed(desk):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    svc.appointment_book(desk.centre, item=desk.item, slot_start=SLOT, name="甲", phone="13800000001", now=NOW)
    booked_a, release = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                svc.appointment_book(desk.centre, item=desk.item, slot_start=SLOT, name="乙", phone="13800000002",
                                     now=NOW)
                booked_a.set()
                release.wait(10)  # still uncommitted while the second booking runs
            outcome["first"] = "ok"
        except DomainError as exc:
            outcome["first"] = exc.code
        finally:
            booked_a.set()
            connections.close_all()

    def second():
        try:
            svc.appointment_book(desk.centre, item=desk.item, slot_start=SLOT, name="丙", phone="13800000003",
                                 now=NOW)
            outcome["second"] = "ok"
        except DomainError as exc:
            outcome["second"] = exc.code
        finally:
            connections.close_all()

    t1 = threading.Thread(target=first)
    t1.start()
    assert booked_a.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()
    t2.join(1.0)  # with the lock it waits for the first to commit; without it, it would finish now
    release.set()
    t1.join(10)
    t2.join(10)
    assert outcome == {"first": "ok", "second": "services.desk.slot_full"}
    assert Appointment.objects.filter(slot_start=SLOT, state=AppointmentState.BOOKED).count() == 2
