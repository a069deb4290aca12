"""The halls' demo around the `convener` and `resident` logins (resident can cast the open vote),
and the bulk simulation: one hall per community with a year of activity."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from huying.community.halls_demo import halls_demo_seed, simulate_halls
from huying.community.models import Ballot, Dispute, Hall, Matter, Meeting, Resolution, Vote
from huying.people.demo import demo_org_seed
from huying.people.models import User
from huying.territory.models import Division, Level
from tests.people.conftest import territory  # noqa: F401

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_demo_seed_and_the_resident_casts_the_open_vote(territory):  # noqa: F811
    demo_org_seed(password="x")
    assert halls_demo_seed(now=NOW) == {"halls": 1, "matters": 3}
    assert halls_demo_seed(now=NOW) == {"halls": 1, "matters": 0}  # idempotent
    hall = Hall.objects.get()
    assert hall.matters.count() == 3 and Meeting.objects.get().held
    closed, open_vote = Vote.objects.get(is_open=False), Vote.objects.get(is_open=True)
    assert closed.passed and not Resolution.objects.get().done
    assert Dispute.objects.get().status == "settled"
    c = Client()
    c.force_login(User.objects.get(username="resident"))
    page = c.get("/community/halls/").content.decode()
    assert hall.name in page and f'action="/community/halls/vote/{open_vote.pk}/"' in page
    c.post(f"/community/halls/vote/{open_vote.pk}/", {"choice": "yes"})
    assert Ballot.objects.filter(vote=open_vote, voter__username="resident").exists()
    c.force_login(User.objects.get(username="convener"))
    assert c.get("/community/halls/manage/", follow=True).status_code == 200


def test_simulate_one_hall_per_community(territory):  # noqa: F811
    demo_org_seed(password="x")
    seen = []
    out = simulate_halls(scale="guangzhou", seed=7, progress=lambda *a: seen.append(a))
    n = Division.objects.filter(level=Level.COMMUNITY).count()
    assert out["halls"] == Hall.objects.count() == n
    assert out["matters"] == Matter.objects.count() >= 6 * n and out["meetings"] == Meeting.objects.count()
    assert out["disputes"] == Dispute.objects.count() >= n
    assert Vote.objects.filter(passed=True).exists() and len(seen) == 4
    assert simulate_halls(scale="guangzhou", seed=7)["halls"] == 0  # the halls exist: nothing twice


def test_dispute_tile(territory):  # noqa: F811
    from huying.community.selectors_halls import disputes_tile
    from huying.core import tiles

    assert "community_hall_disputes" in {t.key for t in tiles.registered()}
    demo_org_seed(password="x")
    halls_demo_seed(now=NOW)
    code = Hall.objects.get().division.code
    assert disputes_tile(prefix=code, now=NOW).value == "1 / 1"
    assert disputes_tile(prefix="449999", now=NOW) is None
