"""Co-governance projects: the art. 278 rule (hand-computed figures), cost shares from the shipped
coefficients, canteen subsidies from the data rules, scope refusals, pages, demo seed and simulation."""

import json
from decimal import Decimal
from fractions import Fraction

import pytest

from huying.community import projects as svc
from huying.community.models import (
    Canteen,
    CanteenMeal,
    HouseholdType,
    LiftOwner,
    LiftProject,
    LiftState,
    OwnerVote,
    RenovationContribution,
)
from huying.core.errors import DomainError

from .projects_setup import lift_with_owners, pc  # noqa: F401

A, D, X, N = OwnerVote.AGREE, OwnerVote.DISAGREE, OwnerVote.ABSTAIN, OwnerVote.NONE


# -- art. 278, pure --------------------------------------------------------------------------------

def test_passes_by_number_fails_by_area():
    # five small flats of 60 m² agree, one 200 m² flat disagrees: 500 m², everyone votes
    t = svc.lift_vote_tally([(60, A), (60, A), (60, A), (60, A), (60, A), (200, D)])
    assert t.participation_by_area == 1 and t.participation_by_number == 1
    assert t.consent_by_number == Fraction(5, 6) and t.consent_number_met        # 83.33% ≥ 75%
    assert t.consent_by_area == Fraction(300, 500) and not t.consent_area_met    # 60% < 75%
    assert t.participation_met and not t.consent_met and not t.passed


def test_fails_participation():
    # six flats of 80 m²: three agree, three do not take part → 3/6 of owners and 240/480 m² take part
    t = svc.lift_vote_tally([(80, A), (80, A), (80, A), (80, N), (80, N), (80, N)])
    assert t.participation_by_number == Fraction(1, 2) and not t.participation_number_met
    assert t.participation_by_area == Fraction(1, 2) and not t.participation_area_met
    assert t.consent_by_area == 1 and t.consent_by_number == 1   # all who voted agree, still not passed
    assert not t.passed


def test_passes():
    # 70+70+80+80+90+110 = 500 m²; the 110 m² owner does not vote, the 90 m² owner abstains
    t = svc.lift_vote_tally([(70, A), (70, A), (80, A), (80, A), (90, X), (110, N)])
    assert (t.participants, t.participant_area, t.agree, t.agree_area) == (5, Decimal(390), 4, Decimal(300))
    assert t.participation_by_area == Fraction(390, 500)     # 78% ≥ 2/3
    assert t.participation_by_number == Fraction(5, 6)       # 83.33% ≥ 2/3
    assert t.consent_by_area == Fraction(300, 390)           # 76.92% ≥ 3/4
    assert t.consent_by_number == Fraction(4, 5)             # 80% ≥ 3/4
    assert [f[3] for f in t.figures()] == [True, True, True, True] and t.passed


def test_thresholds_are_inclusive():
    # exactly 2/3 take part (4 of 6, equal areas) and exactly 3/4 of them agree (3 of 4)
    t = svc.lift_vote_tally([(50, A), (50, A), (50, A), (50, D), (50, N), (50, N)])
    assert t.participation_by_number == Fraction(2, 3) and t.consent_by_number == Fraction(3, 4) and t.passed


# -- cost shares from the shipped coefficients -----------------------------------------------------

def test_cost_shares_sum_to_total_with_data_coefficients():
    table = svc.lift_coefficients()
    assert table["coefficients"]["1"] == 0 and "source" in table
    shares = svc.lift_cost_shares(Decimal("120000"), [(f, Decimal(80)) for f in range(1, 7)], table)
    # weights 0, .4, .7, 1.0, 1.2, 1.4 (sum 4.7); rounded down to the fen, the two fen left go to the
    # largest remainders (5th floor .007872, 2nd floor .005957)
    assert shares == [Decimal(s) for s in ("0.00", "10212.77", "17872.34", "25531.91", "30638.30", "35744.68")]
    assert sum(shares) == Decimal("120000.00")


def test_cost_shares_follow_the_data(tmp_path):
    table = {"weight_by_area": False, "coefficients": {"1": 1, "2": 1, "3": 2}, "above": 2}
    assert svc.lift_cost_shares(Decimal("100"), [(1, 50), (2, 90), (3, 60)], table) == [
        Decimal("25.00"), Decimal("25.00"), Decimal("50.00")]


# -- canteen subsidy from the data rules -----------------------------------------------------------

def test_meal_subsidy_by_the_shipped_rules():
    rules = svc.subsidy_rules()
    price = Decimal("15")
    assert svc.meal_subsidy(age=72, household_type=HouseholdType.ORDINARY, price=price, rules=rules) == Decimal("3.00")
    assert svc.meal_subsidy(age=85, household_type=HouseholdType.ORDINARY, price=price, rules=rules) == Decimal("5.00")
    assert svc.meal_subsidy(age=66, household_type=HouseholdType.LOW_INCOME, price=price, rules=rules) == Decimal("10.00")
    assert svc.meal_subsidy(age=59, household_type=HouseholdType.DESTITUTE, price=price, rules=rules) == Decimal("0.00")
    assert svc.meal_subsidy(age=70, household_type=HouseholdType.DESTITUTE, price=Decimal("12"),
                            rules=rules) == Decimal("12.00")  # capped at the price


def test_canteen_subsidy_changes_with_the_data(pc, tmp_path, monkeypatch):  # noqa: F811
    canteen = svc.canteen_create(pc.div["440104003001"], name="流水井长者饭堂", actor=pc.lsj_worker, meal_price=15)
    e = svc.canteen_enrol(canteen, name="陈伯", age=82, household_type=HouseholdType.ORDINARY, actor=pc.lsj_worker)
    assert svc.canteen_serve(e, actor=pc.lsj_worker).subsidy == Decimal("5.00")
    rules = json.loads(svc.SUBSIDY_RULES_PATH.read_text(encoding="utf-8"))
    for r in rules["rules"]:
        if r["household_type"] == "*" and r["min_age"] == 80:
            r["yuan_per_meal"] = 8
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules), encoding="utf-8")
    monkeypatch.setattr(svc, "SUBSIDY_RULES_PATH", path)
    assert svc.canteen_serve(e, actor=pc.lsj_worker).subsidy == Decimal("8.00")
    assert list(CanteenMeal.objects.order_by("pk").values_list("subsidy", flat=True)) == [Decimal("5.00"),
                                                                                        Decimal("8.00")]


# -- services with the database --------------------------------------------------------------------

def test_owners_vote_and_works_wait_for_art_278(pc):  # noqa: F811
    project = lift_with_owners(pc, [70, 70, 80, 80, 90, 110])
    owners = list(project.owners.order_by("floor"))
    svc.lift_advance(project, actor=pc.lsj_worker)  # design → approval
    for o, v in zip(owners[:4], [A, A, A, A], strict=True):
        svc.lift_vote(o, vote=v, actor=o.user)
    with pytest.raises(DomainError) as exc:  # 4 of 6 by number, 300/500 by area: participation short by area
        svc.lift_advance(project, actor=pc.lsj_worker)
    assert exc.value.code == "community.projects.not_passed"
    svc.lift_vote(owners[4], vote=X, actor=owners[4].user)
    assert svc.project_tally(project).passed
    project = svc.lift_advance(project, actor=pc.lsj_worker)
    assert project.state == LiftState.WORKS
    from huying.core.models import AuditEntry
    assert AuditEntry.objects.filter(action="community.lift.voted").count() == 5
    with pytest.raises(DomainError) as exc:
        svc.lift_vote(owners[5], vote=A, actor=owners[5].user)
    assert exc.value.code == "community.projects.vote_closed"


def test_scope_refusals(pc):  # noqa: F811
    project = lift_with_owners(pc, [60, 60])
    owner1 = project.owners.get(floor=1)
    with pytest.raises(DomainError) as exc:  # another flat's owner cannot vote for it
        svc.lift_vote(owner1, vote=A, actor=pc.owner2)
    assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:  # 龙藏's community worker does not manage 流水井's projects
        svc.lift_advance(project, actor=pc.lc_worker)
    assert exc.value.status == 403
    with pytest.raises(DomainError):
        svc.lift_project_create(pc.building, title="x", total_cost=1, actor=pc.owner1)
    r = svc.renovation_create(pc.div["440104003001"], title="流水井微改造", actor=pc.lsj_worker)
    with pytest.raises(DomainError) as exc:  # only enterprises and agencies are contributors
        svc.renovation_contribute(r, unit=pc.lc, what="场地", actor=pc.lsj_worker)
    assert exc.value.code == "community.projects.not_contributor"
    assert LiftOwner.objects.get(pk=owner1.pk).vote == N


def test_renovation_stages_and_contributors(pc):  # noqa: F811
    r = svc.renovation_create(pc.div["440104003001"], title="流水井微改造", actor=pc.lsj_worker)
    svc.renovation_contribute(r, unit=pc.enterprise, what="外墙翻新材料", amount=50000, actor=pc.lsj_worker)
    svc.renovation_contribute(r, unit=pc.agency, what="居民议事与需求调研", actor=pc.lsj_worker)
    r = svc.renovation_progress(r, stage="construction", progress=40, actor=pc.lsj_worker)
    assert (r.stage, r.progress) == ("construction", 40)
    with pytest.raises(DomainError):
        svc.renovation_progress(r, stage="design", progress=50, actor=pc.lsj_worker)
    assert RenovationContribution.objects.filter(renovation=r).count() == 2


# -- pages -----------------------------------------------------------------------------------------

def test_pages_scope_and_masking(pc, client):  # noqa: F811
    project = lift_with_owners(pc, [60, 60, 60])
    canteen = svc.canteen_create(pc.div["440104003001"], name="流水井长者饭堂", actor=pc.lsj_worker)
    svc.canteen_enrol(canteen, name="陈大伯", phone="13712345678", age=82, actor=pc.lsj_worker)
    client.force_login(pc.owner1)
    page = client.get("/community/projects/").content.decode()
    assert "流水井12号加装电梯" in page and "流水井长者饭堂" in page
    assert client.get(f"/community/projects/manage/lift/{project.pk}/").status_code == 404
    assert client.get("/community/projects/manage/").status_code == 403
    vote_page = client.get(f"/community/projects/lift/{project.pk}/").content.decode()
    assert "13700000002" not in vote_page and "业主2" not in vote_page  # no other owner's name or phone
    client.force_login(pc.lr_resident)  # 六榕街: another street
    assert client.get(f"/community/projects/lift/{project.pk}/").status_code == 404
    client.force_login(pc.lc_worker)  # 龙藏's worker: same street, not the manager
    assert client.get(f"/community/projects/manage/lift/{project.pk}/").status_code == 404
    assert client.get(f"/community/projects/manage/canteen/{canteen.pk}/").status_code == 404
    client.force_login(pc.lsj_worker)
    manage = client.get(f"/community/projects/manage/lift/{project.pk}/").content.decode()
    assert "13700000002" in manage and "业主2" in manage  # the manager sees owners whole
    canteen_page = client.get(f"/community/projects/manage/canteen/{canteen.pk}/").content.decode()
    assert "137****5678" in canteen_page and "13712345678" not in canteen_page


def test_owner_votes_through_the_page(pc, client):  # noqa: F811
    project = lift_with_owners(pc, [60, 60, 60])
    mine = project.owners.get(user=pc.owner1)
    client.force_login(pc.owner2)
    r = client.post(f"/community/projects/lift/{project.pk}/", {"owner": mine.pk, "vote": A})
    assert r.status_code == 403 and LiftOwner.objects.get(pk=mine.pk).vote == N
    client.force_login(pc.owner1)
    client.post(f"/community/projects/lift/{project.pk}/", {"owner": mine.pk, "vote": A})
    assert LiftOwner.objects.get(pk=mine.pk).vote == A


# -- demo and simulation ---------------------------------------------------------------------------

def test_simulate_projects_small(pc):  # noqa: F811
    from huying.community.demo_projects import SCALES, simulate_projects

    out = simulate_projects(scale="small", seed=7)
    sc = SCALES["small"]
    assert out == {"canteens": sc.canteens, "lifts": sc.lifts, "renovations": sc.renovations,
                   "contributors": sc.contributors}
    assert Canteen.objects.count() == sc.canteens and LiftProject.objects.count() == sc.lifts
    assert CanteenMeal.objects.exists() and LiftOwner.objects.count() > sc.lifts * 8
    assert set(RenovationContribution.objects.values_list("unit__kind", flat=True)) == {"enterprise", "agency"}
    assert simulate_projects(scale="small", seed=7) == dict.fromkeys(out, 0)  # a second run adds nothing
    assert Canteen.objects.count() == sc.canteens
    assert SCALES["guangzhou"].canteens == 1036 and SCALES["guangzhou"].lifts == 9183
    assert SCALES["guangzhou"].contributors == 499


def test_dashboard_tiles(pc):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from huying.core import tiles

    project = lift_with_owners(pc, [60, 60])
    canteen = svc.canteen_create(pc.div["440104003001"], name="流水井长者饭堂", actor=pc.lsj_worker)
    e = svc.canteen_enrol(canteen, name="陈伯", age=70, actor=pc.lsj_worker)
    now = timezone.now()
    svc.canteen_serve(e, actor=pc.lsj_worker, on=timezone.localdate(now) - timedelta(days=1))
    LiftProject.objects.filter(pk=project.pk).update(state=LiftState.WORKS)
    shown = {t.key: v for t, v in tiles.compute(prefix="440104003", now=now)}
    assert shown["community_lifts"].value == "1 / 1"
    assert shown["community_canteens"].value == "1" and "1" in shown["community_canteens"].note
    assert "community_lifts" not in {t.key for t, _v in tiles.compute(prefix="440104004", now=now)}
