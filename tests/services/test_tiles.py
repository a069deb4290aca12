"""The services app's tiles on the dashboard: registered by the app, computed per territory."""

import logging
from datetime import date, timedelta

from django.test import Client

from huying.core import tiles
from huying.services.desk import matter_take
from huying.services.tiles import desk_overdue_tile, positions_open_tile
from tests.services.conftest import TZ, at
from tests.services.desk_setup import desk  # noqa: F401

TUESDAY_EVENING = at(2026, 3, 10, 19, 0)  # the centre's 错时 hours and the station's
WEDNESDAY_EVENING = at(2026, 3, 11, 19, 0)  # only the station (08:00–22:00 every day)


def test_positions_open_counts_the_territory_at_the_moment(positions):
    assert positions_open_tile(prefix="", now=TUESDAY_EVENING).value == "2 / 2"
    assert positions_open_tile(prefix="", now=WEDNESDAY_EVENING).value == "1 / 2"
    assert positions_open_tile(prefix="440104003", now=WEDNESDAY_EVENING).value == "0 / 1"  # 北京街: the centre
    assert positions_open_tile(prefix="440104004", now=TUESDAY_EVENING).value == "1 / 1"  # 六榕街: the station
    assert positions_open_tile(prefix="440114", now=TUESDAY_EVENING) is None  # no position there: no tile


def test_desk_overdue_counts_open_matters_past_their_deadline(desk):  # noqa: F811
    taken = at(2026, 3, 9, 10, 0)  # Monday, a 3-working-day item
    matter = matter_take(desk.centre, item=desk.quick, actor=desk.staff.deskstaff, applicant_name="陈先生",
                         applicant_phone="13912345678", now=taken)
    assert matter.due_at.astimezone(TZ).date() == date(2026, 3, 12)  # Thursday
    on_time = desk_overdue_tile(prefix="440104003", now=matter.due_at - timedelta(minutes=1))
    assert (on_time.value, on_time.warn, on_time.note) == ("0", False, "在办 1 件")
    late = desk_overdue_tile(prefix="440104003", now=matter.due_at + timedelta(minutes=1))
    assert (late.value, late.warn) == ("1", True)
    assert desk_overdue_tile(prefix="440104004", now=matter.due_at + timedelta(minutes=1)).value == "0"  # 六榕街


def test_the_dashboard_draws_registered_tiles_and_survives_a_failing_one(positions, caplog, django_user_model):
    keys = [t.key for t in tiles.registered()]
    assert {"services.positions_open", "services.desk_overdue"} <= set(keys)  # registered by the app itself

    def broken(*, prefix, now):
        raise RuntimeError("13912345678 must never reach the log")

    tiles.register("test.broken", title="坏", fn=broken, order=1)
    try:
        with caplog.at_level(logging.ERROR, logger="huying.tiles"):
            shown = tiles.compute(prefix="", now=TUESDAY_EVENING)
        assert {"services.positions_open", "services.desk_overdue"} <= {t.key for t, _v in shown}
        assert "test.broken" in caplog.text and "RuntimeError" in caplog.text
        assert "13912345678" not in caplog.text
        admin = django_user_model.objects.create_superuser("root", password="x")
        c = Client()
        c.force_login(admin)
        page = c.get("/insight/tiles/").content.decode()
        assert 'data-app-tile="services.positions_open"' in page and 'data-app-tile="test.broken"' not in page
    finally:
        tiles.unregister("test.broken")
