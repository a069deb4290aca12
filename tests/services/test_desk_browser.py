"""The desk in Chromium: the desk staff member opens the desk from home, takes a walk-in matter,
hands it over to a colleague, and the colleague finishes it."""

import pytest

from huying.services import views_desk
from huying.services.models import DeskMatter, MatterState
from tests.browsing import signed_in

from . import desk_setup
from .conftest import at

desk = desk_setup.desk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def test_walk_in_handed_over_and_finished(browser, live_server, desk, monkeypatch):
    monkeypatch.setattr(views_desk, "_now", lambda: at(2026, 10, 8, 10, 0))
    with signed_in(browser, live_server.url, "deskstaff") as pg:
        pg.goto("/")
        pg.click("#shortcuts >> text=服务窗口")
        pg.wait_for_selector("#walk-in")
        pg.select_option("#walk-in-item", label="DB3 低保申请受理（3 个工作日）")
        pg.fill("#walk-in-name", "李四")
        pg.fill("#walk-in-phone", "13900000000")
        pg.click("#walk-in button[type=submit]")
        pg.wait_for_selector(".msg-success")
        matter = DeskMatter.objects.get()
        card = pg.locator(f"#desk-mine #matter-{matter.pk}")
        assert "李四" in card.inner_text() and "2026-10-12 10:00" in card.inner_text()
        card.locator("select[name=to_user]").select_option(label="desk_b")
        card.locator("input[name=reason]").fill("下午轮休")
        card.locator(".dk-handover button").click()
        pg.wait_for_selector(".msg-success")
        assert pg.locator(f"#desk-mine #matter-{matter.pk}").count() == 0
        assert "desk_b" in pg.inner_text(f"#desk-others #matter-{matter.pk}")

    with signed_in(browser, live_server.url, "desk_b") as pg:
        pg.goto("/services/desk/")
        card = pg.locator(f"#desk-mine #matter-{matter.pk}")
        card.locator("input[name=result]").fill("材料齐全，已办结")
        card.locator(".dk-finish button").first.click()
        pg.wait_for_selector(".msg-success")
        assert "已办结" in pg.inner_text(f"#desk-recent #done-{matter.pk}")
    matter.refresh_from_db()
    assert (matter.state, matter.owner.username, matter.finished_by.username) == (MatterState.DONE, "desk_b", "desk_b")
