"""The staffing page in Chromium: a street's unit leader opens it from their home page, sees the
short community flagged, and opens its roster."""

import pytest

from huying.territory.models import Building
from tests.browsing import signed_in

from . import workers_setup
from .workers_setup import worker

cw = workers_setup.cw  # the shared fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_unit_leader_opens_staffing_from_home(browser, live_server, cw):
    Building.objects.create(code="B3", grid=cw.town.grid["440104003001003"], address="文德路4号", lng=113.28,
                            lat=23.125, households=840)
    w = worker(cw, "甲", "13900000001", post="secretary")
    with signed_in(browser, live_server.url, "bj_staff") as pg:
        pg.goto("/")
        pg.click("#shortcuts >> text=社区工作者配备")
        pg.wait_for_selector("#staffing-table")
        row = pg.locator("#community-440104003001")
        cells = row.locator("td").all_inner_texts()
        assert cells[2:] == ["900", "1", "3", "900.0", "2"]
        assert pg.locator("#community-440104004001").count() == 0  # 六榕街 is another street's
        row.locator("a").click()
        pg.wait_for_selector("#roster-table")
        assert "书记" in pg.inner_text(f"#worker-{w.pk}")
