"""The work system in a real browser: orgdept opens it from home, drills into a district and records a
meeting decision as done."""

from datetime import date

import pytest
from playwright.sync_api import expect

from huying.party import services as s
from huying.party.models import DecisionStatus, MeetingDecision

from .conftest import at
from .test_worksystem import work  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


def test_orgdept_drills_into_a_district_and_closes_a_decision(page, login, work):  # noqa: F811
    from huying.people.models import User

    u, o, d = work.user, work.org, work.div
    orgdept = User.objects.get(username="orgdept")
    orgdept.set_password("x")
    orgdept.save()
    meeting = s.joint_meeting_record(district=d["440104"], title="越秀区党建联席会议", held_on=date(2026, 1, 10),
                                     actor=u.orgdept, now=at(2026, 1, 10, 10))
    dec = s.meeting_decision_add(meeting, text="各街道报送成员单位名单", owner_unit=o["party-440104003"].unit,
                                 due_on=date(2026, 1, 31), actor=u.orgdept)
    login("orgdept", "x")
    page.goto("/")
    page.locator("a", has_text="党建工作体系").first.click()
    expect(page.locator("#rollup-440104")).to_be_visible()
    page.locator("#rollup-440104 a", has_text="越秀区").click()
    expect(page.locator("#district-name")).to_have_text("越秀区")
    form = page.locator(f"#decision-done-{dec.pk}")
    form.locator("input[type=text]").fill("已全部报送")
    form.locator("button").click()
    expect(page.locator(".msg-success")).to_contain_text("已登记落实")
    expect(page.locator(f"#decision-status-{dec.pk}")).to_have_text("已落实")
    assert MeetingDecision.objects.get(pk=dec.pk).status == DecisionStatus.DONE
