"""The volunteers' demo (around the `volunteer` and `riverchief` logins), the pages behind it, and the
bulk simulation."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from huying.community import selectors_volunteers as sel
from huying.community.models import ActivitySignup, Patrol, RiverStretch, VolunteerProfile, VolunteerTeam
from huying.community.volunteers_demo import simulate_volunteers, volunteers_demo_seed
from huying.core.errors import DomainError
from huying.dispatch.seed import dispatch_seed
from huying.people.demo import demo_org_seed
from huying.people.models import User
from tests.people.conftest import territory  # noqa: F401

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def vol_demo(territory):  # noqa: F811
    demo_org_seed(password="x")
    dispatch_seed()
    return volunteers_demo_seed(now=NOW)


def test_demo_seed_builds_teams_activities_and_a_patrol_with_an_order(vol_demo):
    assert vol_demo == {"volunteers": 6, "activities": 3, "stretches": 1, "patrols": 1, "work_orders": 1}
    assert VolunteerProfile.objects.count() == 8
    volunteer, riverchief = User.objects.get(username="volunteer"), User.objects.get(username="riverchief")
    assert VolunteerTeam.objects.get(leader=volunteer).team_type == "watch"
    assert sel.hours_total(user=riverchief) > 0
    patrol = Patrol.objects.get(patroller=riverchief)
    assert patrol.findings.exclude(work_order_code="").count() == 1
    again = volunteers_demo_seed(now=NOW)
    assert not any(again.values())
    assert RiverStretch.objects.count() == 1 and ActivitySignup.objects.filter(hours__gt=0).count() >= 8


def test_pages_for_the_volunteer_and_the_leader(vol_demo):
    c = Client()
    c.force_login(User.objects.get(username="riverchief"))
    home = c.get("/community/volunteers/").content.decode()
    code = Patrol.objects.get().findings.exclude(work_order_code="").get().work_order_code
    assert code in home and "护河清漂行动" not in home  # past activity: not offered for sign-up
    assert c.get("/community/volunteers/patrol/").status_code == 200
    assert "东濠涌" in c.get("/community/volunteers/patrol/").content.decode()
    lead = c.get("/community/volunteers/lead/").content.decode()
    assert "民间河长队" in lead and "13712341104" in lead  # the leader sees the phone whole
    # another team's member does not reach this team's activities
    c2 = Client()
    c2.force_login(User.objects.get(username="volunteer"))
    act = VolunteerTeam.objects.get(team_type="river").activities.get()
    assert c2.get(f"/community/volunteers/lead/activity/{act.pk}/").status_code == 404
    assert c2.get(f"/community/volunteers/lead/activity/{VolunteerTeam.objects.get(team_type='watch').activities.first().pk}/").status_code == 200
    assert "volunteers/" in c2.get("/").content.decode()


def test_simulation_in_bulk(territory):  # noqa: F811
    demo_org_seed(password="x")
    out = simulate_volunteers(scale="small", seed=7)
    assert out["volunteers"] == 3000 and out["teams"] > 0 and out["activities"] == 300 and out["hours"] > 0
    assert out["patrols"] > 0
    assert User.objects.filter(username__startswith="sim-vol-").count() == 3000
    assert not User.objects.filter(username__startswith="sim-vol-").first().has_usable_password()
    with pytest.raises(DomainError):
        simulate_volunteers(scale="small", seed=7)


def test_patrol_page_without_a_team_profile_says_so(territory):  # noqa: F811
    demo_org_seed(password="x")  # the logins' team units exist, their profiles not yet
    c = Client()
    c.force_login(User.objects.get(username="volunteer"))
    page = c.get("/community/volunteers/patrol/")
    assert page.status_code == 200 and 'id="no-team"' in page.content.decode()
    assert c.get("/community/volunteers/").status_code == 200
