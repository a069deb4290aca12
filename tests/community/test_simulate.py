"""huying simulate community: one run of the three parts, one JSON line with the issue's keys."""

import json
from io import StringIO

import pytest

from tests.people.conftest import territory  # noqa: F401  (the small test city)

pytestmark = pytest.mark.django_db


def test_simulate_community_prints_the_counts_it_made(territory, monkeypatch, capsys):  # noqa: F811
    from django.core.management import call_command

    from huying.cli import SIMULATE_ALIASES
    from huying.community.models import Canteen, Dispute, Hall, LiftProject, VolunteerProfile
    from huying.people.demo import demo_org_seed

    assert SIMULATE_ALIASES["community"] == "simulate_community"
    demo_org_seed(password="demo-pass-2026")  # the committees the halls belong to
    out = StringIO()
    call_command("simulate_community", "--scale", "small", "--seed", "7", stdout=out, stderr=StringIO())
    counts = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {"halls", "canteens", "lifts", "volunteers", "disputes", "seconds"} <= set(counts)
    assert counts["halls"] == Hall.objects.count() > 0
    assert counts["canteens"] == Canteen.objects.count() > 0
    assert counts["lifts"] == LiftProject.objects.count() > 0
    assert counts["volunteers"] == VolunteerProfile.objects.count() > 0
    assert counts["disputes"] == Dispute.objects.count()
