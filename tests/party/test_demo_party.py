"""The demo's Party data around the demo logins (huying.party.demo), built on the small test city."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from huying.core.models import AuditEntry
from huying.party.demo import party_demo_seed
from huying.party.models import (
    CoBuildingPairing,
    JointActivity,
    Member,
    MemberReport,
    PartyOrganisation,
    ReportStatus,
    ServiceRecord,
    StarRating,
    Studio,
    UnitReport,
)
from huying.people.demo import demo_org_seed
from tests.people.conftest import territory  # noqa: F401  (the small test city)

pytestmark = pytest.mark.django_db
PASSWORD = "demo-pass-2026"
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 01:00 Beijing: the UTC date is the day before


@pytest.fixture
def seeded(territory):  # noqa: F811
    demo_org_seed(password=PASSWORD)
    return party_demo_seed(now=NOW)


def test_secretary_leads_the_street_with_organisations_members_and_stars(seeded):
    assert seeded["members"] == 13 and seeded["ratings"] >= 13
    street = PartyOrganisation.objects.get(unit__code="party-440104003")
    assert street.unit.name == "中共越秀区北京街道工作委员会"
    below = PartyOrganisation.objects.filter(unit__parent=street.unit)
    assert below.filter(org_type="community_committee").count() == 2
    assert below.exclude(org_type__in=["community_committee", "grid_branch"]).count() == 3
    assert UnitReport.objects.filter(street__code="440104003", status=ReportStatus.CONFIRMED).count() == 3
    big = PartyOrganisation.objects.get(unit__code="party-440104003001")
    assert big.member_units.filter(active=True).count() == 3
    assert MemberReport.objects.filter(status=ReportStatus.CONFIRMED).count() == 13
    assert StarRating.objects.filter(year=2025).count() == 13
    assert JointActivity.objects.filter(status="held").count() == 8
    assert CoBuildingPairing.objects.get().partners.count() == 5
    assert Studio.objects.get().duties.count() == 2
    # through the services, each step audited
    assert AuditEntry.objects.filter(action="party.member.registered").count() == 13
    assert AuditEntry.objects.filter(action="party.rating.computed").count() == 13


def test_partymember_is_a_registered_member_with_records(seeded):
    me = Member.objects.get(user__username="partymember")
    assert me.organisation.unit.code == "party-440104003001" and me.home_community.code == "440104003001"
    assert me.reports.get().status == ReportStatus.CONFIRMED
    assert ServiceRecord.objects.filter(member=me, confirmed=True, served_on__year=2025).count() == 5
    assert ServiceRecord.objects.filter(member=me, confirmed=False).count() == 1
    assert StarRating.objects.get(member=me, year=2025).stars >= 1


def test_party_pages_answer_for_the_demo_logins(seeded):
    secretary, member = Client(), Client()
    assert secretary.login(username="secretary", password=PASSWORD)
    assert member.login(username="partymember", password=PASSWORD)
    page = secretary.get("/party/org/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "中共越秀区北京街道工作委员会" in text
    ratings = secretary.get("/party/org/", {"org": PartyOrganisation.objects.get(
        unit__code="party-440104003001").pk, "tab": "ratings", "year": 2025})
    assert ratings.status_code == 200 and "周婷" in ratings.content.decode()
    mine = member.get("/party/me/")
    assert mine.status_code == 200 and "流水井" in mine.content.decode()


def test_second_run_does_nothing(seeded):
    counts = (Member.objects.count(), AuditEntry.objects.count())
    assert party_demo_seed(now=NOW) == {"existing": True}
    assert (Member.objects.count(), AuditEntry.objects.count()) == counts
