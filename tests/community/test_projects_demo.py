"""The projects' demo around the `communityworker` (manager) and `resident` (an owner who can vote) logins."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from huying.community.demo_projects import projects_demo_seed
from huying.community.models import Canteen, CanteenMeal, LiftOwner, LiftProject, Renovation
from huying.people.demo import demo_org_seed
from huying.people.models import User
from tests.people.conftest import territory  # noqa: F401

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_demo_seed_and_the_resident_votes(territory):  # noqa: F811
    demo_org_seed(password="x")
    assert projects_demo_seed(now=NOW) == {"lifts": 1, "canteens": 1, "renovations": 1}
    assert projects_demo_seed(now=NOW) == {"lifts": 0, "canteens": 0, "renovations": 0}  # idempotent
    project = LiftProject.objects.get()
    assert project.community.code == "440104003001" and project.owners.count() == 14
    assert Canteen.objects.get().enrolments.count() == 9 and CanteenMeal.objects.exists()
    assert {c.unit.kind for c in Renovation.objects.get().contributions.all()} == {"enterprise", "agency"}
    mine = LiftOwner.objects.get(user__username="resident")
    c = Client()
    c.force_login(User.objects.get(username="resident"))
    assert project.title in c.get("/community/projects/").content.decode()
    c.post(f"/community/projects/lift/{project.pk}/", {"owner": mine.pk, "vote": "agree"})
    assert LiftOwner.objects.get(pk=mine.pk).vote == "agree"
    c.force_login(User.objects.get(username="communityworker"))
    assert c.get(f"/community/projects/manage/lift/{project.pk}/").status_code == 200
