"""In Chromium: a street's unit leader goes from their home page to 服务阵地设置, opens a station,
sets its hours with a 错时 evening period, and finds it open on the near-me page by address."""

import pytest

from huying.services import views

from .conftest import at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_unit_leader_opens_a_station_and_residents_find_it_open(login, town, monkeypatch):
    monkeypatch.setattr(views, "_now", lambda: at(2026, 3, 10, 19, 0))  # a Tuesday evening
    pg = login("bj_staff", "x")
    pg.goto("/")
    pg.click("#shortcuts >> text=服务阵地设置")
    pg.wait_for_selector("#setup-home")
    pg.click("#setup-new")
    pg.wait_for_selector("#position-form")
    pg.select_option("#id_kind", "station")
    pg.fill("#id_name", "仓边路服务站")
    pg.fill("#id_address", "越秀区北京街龙藏社区仓边路8号")
    pg.fill("#id_phone", "020-83001234")
    pg.click("#position-form button[type=submit]")
    pg.wait_for_selector("#hours-form")
    for day in range(5):
        pg.fill(f"#id_d{day}_0_opens", "09:00")
        pg.fill(f"#id_d{day}_0_closes", "17:00")
    pg.fill("#id_d1_1_opens", "18:00")
    pg.fill("#id_d1_1_closes", "21:00")
    pg.fill("#id_d1_1_note", "错时延时服务")
    pg.click("#hours-form button[type=submit]")
    pg.wait_for_selector("#setup-position")
    assert "18:00" in pg.inner_text("#setup-position") and "错时延时服务" in pg.inner_text("#setup-position")
    pg.goto("/services/near/")
    pg.fill("#sv-q", "越秀区北京街龙藏社区")
    pg.click("#sv-address button[type=submit]")
    pg.wait_for_selector("#sv-results")
    first = pg.locator(".sv-result").first
    assert "仓边路服务站" in first.inner_text() and "正在开放" in first.inner_text()
