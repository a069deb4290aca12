"""The simulation at small scale over the test territory: counts agree with the database and the summary."""

import pytest
from django.core.management import call_command
from django.db.models import F

from huying.core.errors import DomainError
from huying.party.models import HalfYearReturn, Member, MemberReport, ReportStatus, ServiceRecord
from huying.party.selectors import party_summary
from huying.party.simulate import simulate_party


def test_small_simulation(city):
    out = simulate_party(scale="small", year=2024, seed=7)
    c = out["counts"]
    assert c["members"] == Member.objects.filter(user__username__startswith="sim-").count() == 3000
    assert c["members_reported"] == 2700 == MemberReport.objects.filter(
        status=ReportStatus.CONFIRMED, member__user__username__startswith="sim-").count()
    # every simulated member lives in the test city's communities, reported where they live
    assert not MemberReport.objects.exclude(community_id=F("member__home_community_id")).exists()
    assert c["services"] == ServiceRecord.objects.count() == 2500
    assert c["returns"] == HalfYearReturn.objects.count()
    assert c["grid_instructors"] == 6  # one per unified grid
    total = party_summary(actor=city.user.leader, year=2024)["total"]
    assert total.members_reported == 2700 and total.units_reported == c["units_reported"]
    assert total.service_teams == c["service_teams"] == 20
    assert total.services_done == ServiceRecord.objects.filter(confirmed=True).count()
    with pytest.raises(DomainError) as e:
        simulate_party(scale="small", year=2024)
    assert e.value.status == 409


def test_command_routes_through_the_cli(city, capsys, monkeypatch):
    from huying import cli

    seen = []
    monkeypatch.setattr("django.core.management.execute_from_command_line", lambda argv: seen.append(argv))
    cli.main(["huying", "simulate", "party", "--scale", "small"])
    cli.main(["huying", "simulate", "orders", "--count", "1"])
    assert seen == [["huying", "simulate_party", "--scale", "small"], ["huying", "simulate", "orders", "--count", "1"]]
    call_command("simulate_party", "--scale", "small", "--year", "2024", "--no-summary")
    assert '"members": 3000' in capsys.readouterr().out
