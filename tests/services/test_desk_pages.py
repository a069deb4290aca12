"""Desk pages through Django's client: who may open the desk, phones masked beyond it, the desk on
the desk staff's home, the resident's booking page and booking link."""

import pytest
from django.urls import reverse

from huying.services import desk as svc
from huying.services import views_desk
from huying.services.models import Appointment, AppointmentState
from huying.services.selectors_desk import booking_token

from . import desk_setup
from .conftest import at

desk = desk_setup.desk

NOW = at(2026, 10, 8, 1, 0)


@pytest.fixture(autouse=True)
def _pinned(monkeypatch):
    monkeypatch.setattr(views_desk, "_now", lambda: NOW)


def _client(client, user):
    client.force_login(user)
    return client


def test_desk_scope_and_masking(desk, client):
    svc.appointment_book(desk.centre, item=desk.item, slot_start=at(2026, 10, 8, 9, 0), name="张三",
                         phone="13812345678", now=NOW)
    url = reverse("services:desk", args=[desk.centre.pk])
    page = _client(client, desk.staff.deskstaff).get(url).content.decode()
    assert "13812345678" in page and "现场受理" in page
    page = _client(client, desk.town.user.bj_staff).get(url).content.decode()  # the street's leader watches
    assert "13812345678" not in page and "138****5678" in page and "现场受理" not in page
    for user in (desk.staff.desk_x, desk.town.user.lr_staff, desk.resident):
        assert _client(client, user).get(url).status_code == 403


def test_desk_on_home_and_walk_in_by_post(desk, client):
    c = _client(client, desk.staff.deskstaff)
    assert reverse("services:desk_home") in c.get("/").content.decode()
    assert c.get(reverse("services:desk_home")).url == reverse("services:desk", args=[desk.centre.pk])
    r = c.post(reverse("services:desk_walk_in", args=[desk.centre.pk]),
               {"item": desk.quick.pk, "applicant_name": "李四", "applicant_phone": "13900000000"})
    assert r.status_code == 302
    m = desk.centre.desk_matters.get()
    assert m.owner == desk.staff.deskstaff
    r = _client(client, desk.staff.desk_x).post(reverse("services:desk_matter_act", args=[m.pk, "finish"]),
                                                {"result": "x"}, follow=True)
    m.refresh_from_db()
    assert m.state == "accepted"


def test_resident_books_and_cancels_by_link(desk, client):
    page = client.get(reverse("services:position", args=[desk.centre.pk])).content.decode()
    assert reverse("services:book", args=[desk.centre.pk]) in page
    url = reverse("services:book", args=[desk.centre.pk]) + "?day=2026-10-08"
    assert "09:30" in client.get(url).content.decode()
    closed = client.get(reverse("services:book", args=[desk.centre.pk]) + "?day=2026-10-03").content.decode()
    assert "当天不开放" in closed
    r = client.post(url, {"day": "2026-10-08", "item": desk.item.pk, "slot": "09:30", "name": "张三",
                          "phone": "13812345678"})
    a = Appointment.objects.get()
    assert r.status_code == 302 and r.url == reverse("services:booking", args=[booking_token(a)])
    page = client.get(r.url).content.decode()
    assert "已预约" in page and "138****5678" in page
    svc.desk_setting_set(desk.centre, slot_minutes=30, slot_capacity=1, actor=None)
    r = client.post(url, {"day": "2026-10-08", "item": desk.item.pk, "slot": "09:30", "name": "李四",
                          "phone": "13812340000"})
    assert r.status_code == 409 and "已约满" in r.content.decode()
    client.post(reverse("services:booking", args=[booking_token(a)]))
    a.refresh_from_db()
    assert a.state == AppointmentState.CANCELLED
    assert client.get(reverse("services:booking", args=["forged"])).status_code == 404


def test_resident_sees_the_matter_state(desk, client):
    a = svc.appointment_book(desk.centre, item=desk.item, slot_start=at(2026, 10, 8, 9, 0), actor=desk.resident,
                             now=NOW)
    svc.matter_take(desk.centre, appointment=a, actor=desk.staff.deskstaff, now=at(2026, 10, 8, 9, 0))
    page = _client(client, desk.resident).get(reverse("services:my_bookings")).content.decode()
    assert "已受理" in page
    page = client.get(reverse("services:booking", args=[booking_token(a)])).content.decode()
    assert "办件状态" in page and "前办结" in page
