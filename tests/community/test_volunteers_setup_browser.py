"""At phone width a resident registers as a volunteer from the volunteers page; the team leader then
sees them at the top of the team's registrations with their phone and skills."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from huying.community.models import VolunteerTeam
from huying.community.volunteers_demo import volunteers_demo_seed
from huying.people.demo import demo_org_seed
from huying.people.models import User
from tests.browsing import phone_context, sign_in
from tests.people.conftest import territory  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_registers_and_the_leader_sees_them(browser, live_server, territory):  # noqa: F811
    demo_org_seed(password="x")
    volunteers_demo_seed(now=datetime(2026, 3, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    resident = User.objects.get(username="resident")
    watch = VolunteerTeam.objects.get(leader__username="volunteer")
    with phone_context(browser, live_server.url) as pg:
        sign_in(pg, "resident", "x")
        pg.goto("/community/volunteers/")
        pg.click("#volunteer-register-link")
        pg.wait_for_selector("#volunteer-register")
        pg.select_option("#rg-team", str(watch.pk))
        pg.fill("#rg-skills", "急救证")
        pg.fill("#rg-availability", "周六上午")
        pg.click("#register-submit")  # without consent: refused, what was typed stays
        pg.wait_for_selector("text=请阅读并勾选同意")
        assert pg.input_value("#rg-skills") == "急救证"
        pg.check("#rg-consent")
        pg.click("#register-submit")
        pg.wait_for_selector("#my-teams")
        assert watch.unit.name in pg.inner_text("#my-teams")
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    with phone_context(browser, live_server.url) as pg:
        sign_in(pg, "volunteer", "x")
        pg.goto("/community/volunteers/lead/")
        pg.click(f"#team-{watch.pk} .setup-team-link")
        pg.wait_for_selector("#team-registrations")
        first = pg.locator("#team-registrations .vl-list > li").first
        assert resident.display_name in first.inner_text() and resident.phone in first.inner_text()
        assert "急救证" in first.inner_text()
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
