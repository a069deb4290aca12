"""Volunteers: registry and masking, sign-up capacity, clamped hours, patrols that become work orders,
and volunteer hours feeding a Party member's stars when the rule set says so."""

from datetime import timedelta
from decimal import Decimal as D

import pytest

from huying.community import selectors_volunteers as sel
from huying.community import volunteers as v
from huying.community.models import PatrolKind, TeamType
from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.people.models import Membership, RoleCode, UnitKind
from huying.people.services import unit_create
from tests.party.conftest import at, city, members  # noqa: F401


@pytest.fixture
def vol_teams(city):  # noqa: F811
    """Two teams of the 流水井 committee: a 广州街坊 watch led by 'lead', and a 民间河长 team."""
    committee = city.unit.residents
    watch_unit = unit_create(code="vol-jf-test", name="流水井广州街坊队", kind=UnitKind.VOLUNTEER_TEAM,
                             parent=committee, actor=None)
    river_unit = unit_create(code="vol-hz-test", name="北京街民间河长队", kind=UnitKind.VOLUNTEER_TEAM,
                             parent=committee, actor=None)
    lead = city.person("lead", name="队长")
    director = city.user.lsj_director
    watch = v.volunteer_team_setup(watch_unit, team_type=TeamType.NEIGHBOURHOOD_WATCH, leader=lead, actor=director)
    river = v.volunteer_team_setup(river_unit, team_type=TeamType.RIVER_CHIEFS, actor=director)
    v.volunteer_register(watch, user=lead, skills="组织", actor=director)
    return watch, river, lead


def _volunteer(team, username, phone, actor):
    return v.volunteer_register(team, username=username, display_name=username, phone=phone, skills="急救",
                                availability="周末", actor=actor).user


def test_register_grants_membership_and_masks_phone_for_another_teams_member(city, vol_teams):  # noqa: F811
    watch, river, lead = vol_teams
    director = city.user.lsj_director
    ann = _volunteer(watch, "ann", "13912345678", director)
    rick = _volunteer(river, "rick", "13987654321", director)
    assert not ann.has_usable_password()
    assert Membership.objects.filter(user=ann, unit=watch.unit, role__code=RoleCode.VOLUNTEER, active=True).exists()
    assert audit_trail(ann.volunteer_profile)[0].action == "community.volunteer.registered"

    def phone_seen_by(actor):
        return {r["name"]: r["phone"] for r in sel.team_roster(watch, actor=actor)}["ann"]

    assert phone_seen_by(rick) == "139****5678"  # another team's member
    assert phone_seen_by(ann) == "139****5678"  # a fellow member is not the leader either
    assert phone_seen_by(lead) == "13912345678"  # the team leader
    assert phone_seen_by(director) == "13912345678"  # the registering committee
    with pytest.raises(DomainError) as e:
        v.volunteer_register(watch, username="x", actor=rick)
    assert e.value.code == "community.volunteer.forbidden"


def test_sign_up_over_capacity_is_refused(city, vol_teams):  # noqa: F811
    watch, _, lead = vol_teams
    director = city.user.lsj_director
    act = v.volunteer_activity_create(watch, title="敬老探访", starts_at=at(2024, 5, 4, 9), ends_at=at(2024, 5, 4, 11),
                                      capacity=2, actor=lead)
    a, b, c = (_volunteer(watch, n, "", director) for n in ("a1", "b1", "c1"))
    now = at(2024, 5, 1, 9)
    v.activity_sign_up(act, user=a, now=now)
    with pytest.raises(DomainError) as e:
        v.activity_sign_up(act, user=a, now=now)
    assert e.value.code == "community.activity.already"
    v.activity_sign_up(act, user=b, now=now)
    with pytest.raises(DomainError) as e:
        v.activity_sign_up(act, user=c, now=now)
    assert e.value.code == "community.activity.full"
    assert act.signups.count() == 2
    with pytest.raises(DomainError) as e:
        v.activity_sign_up(act, user=city.user.resident, now=now)
    assert e.value.code == "community.activity.not_volunteer"


def test_hours_from_check_in_and_out_are_clamped_to_the_span(city, vol_teams):  # noqa: F811
    watch, _, lead = vol_teams
    director = city.user.lsj_director
    act = v.volunteer_activity_create(watch, title="清洁家园", starts_at=at(2024, 5, 4, 9), ends_at=at(2024, 5, 4, 11),
                                      capacity=5, actor=lead)
    early, late = _volunteer(watch, "early", "", director), _volunteer(watch, "late", "", director)
    s1 = v.activity_sign_up(act, user=early, now=at(2024, 5, 1, 9))
    s2 = v.activity_sign_up(act, user=late, now=at(2024, 5, 1, 9))
    # arrives half an hour early and stays an hour after the end: 2 hours, not 3.5
    v.signup_check_in(s1, actor=lead, now=at(2024, 5, 4, 8, 30))
    s1 = v.signup_check_out(s1, actor=lead, now=at(2024, 5, 4, 12))
    assert s1.hours == D("2.00")
    # comes 45 minutes late, leaves on time: 1.25 hours
    v.signup_check_in(s2, actor=late, now=at(2024, 5, 4, 9, 45))
    s2 = v.signup_check_out(s2, actor=late, now=at(2024, 5, 4, 11))
    assert s2.hours == D("1.25")
    last = list(audit_trail(s1))[-1]
    assert last.action == "community.activity.checked_out" and last.new["hours"] == "2.00"
    with pytest.raises(DomainError):
        v.signup_check_out(s1, actor=lead, now=at(2024, 5, 4, 13))
    assert sel.hours_total(user=early) == D("2.00")
    assert sel.hours_total(team=watch) == D("3.25")
    # another volunteer cannot check someone else in
    s3 = v.activity_sign_up(v.volunteer_activity_create(watch, title="二", starts_at=at(2024, 6, 1, 9),
                                                        ends_at=at(2024, 6, 1, 10), capacity=3, actor=lead),
                            user=early, now=at(2024, 5, 5, 9))
    with pytest.raises(DomainError) as e:
        v.signup_check_in(s3, actor=late, now=at(2024, 6, 1, 9))
    assert e.value.code == "community.volunteer.forbidden"


@pytest.fixture
def vol_stretch(city):  # noqa: F811
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    grid = city.grid["440104003001001"]
    return v.river_stretch_create(name="东濠涌流水井段", grids=[grid], actor=None,
                                  geometry='{"type": "LineString", "coordinates": [[113.27, 23.126], [113.272, 23.128]]}')


def test_river_patrol_with_a_problem_becomes_a_work_order(city, vol_teams, vol_stretch):  # noqa: F811
    from huying.dispatch.models import WorkOrder

    _, river, _ = vol_teams
    rick = _volunteer(river, "rick", "13987654321", city.user.lsj_director)
    patrol = v.patrol_file(river, patroller=rick, kind=PatrolKind.RIVER, stretch=vol_stretch, note="巡河一次",
                           findings=[{"description": "河面有大片漂浮垃圾", "is_problem": True},
                                     {"description": "护栏完好", "is_problem": False}], now=at(2024, 5, 4, 9))
    problem, fine = patrol.findings.order_by("id")
    order = WorkOrder.objects.get(pk=problem.work_order_id)
    assert order.channel == "volunteer" and order.code == problem.work_order_code
    assert order.subject.code == "E0105"
    assert fine.work_order_id is None and fine.work_order_code == ""
    assert audit_trail(patrol)[0].new["work_orders"] == [order.code]
    shown = sel.my_patrols(rick)[0].finding_list[0]
    assert shown.work_order_code == order.code and shown.order_state


def test_patrol_without_a_problem_opens_no_order(city, vol_teams, vol_stretch):  # noqa: F811
    from huying.dispatch.models import WorkOrder

    watch, river, _ = vol_teams
    rick = _volunteer(river, "rick", "", city.user.lsj_director)
    before = WorkOrder.objects.count()
    v.patrol_file(river, patroller=rick, kind=PatrolKind.RIVER, stretch=vol_stretch,
                  findings=[{"description": "水质清澈", "is_problem": False}], now=at(2024, 5, 4, 9))
    assert WorkOrder.objects.count() == before
    with pytest.raises(DomainError) as e:  # not a member of the watch team
        v.patrol_file(watch, patroller=rick, kind=PatrolKind.WATCH, grid=city.grid["440104003001001"], findings=[])
    assert e.value.code == "community.patrol.not_member"


def test_volunteer_hours_change_a_members_stars_when_the_rule_set_counts_them(city, members, vol_teams):  # noqa: F811
    from huying.party import services as ps

    watch, _, lead = vol_teams
    alice = members.alice
    rules = ps.star_rule_set_create(
        name="含志愿时长", period="year", base="60", max_total="100", report_required=False,
        thresholds=["90", "80", "70", "60"], actor=city.user.root,
        items=[{"code": "meet", "source": "attendance", "points": "1", "cap": "10"},
               {"code": "vol", "source": "volunteer_hours", "points": "5", "cap": "30"}])
    before = ps.star_rating_compute(alice, year=2024, actor=city.user.metro_secretary, rule_set=rules,
                                    now=at(2025, 1, 5, 9))
    assert before.computed_score == D("60.0") and before.stars == 2
    v.volunteer_register(watch, user=alice.user, actor=lead)
    start = at(2024, 5, 4, 9)
    for day in range(3):  # three 2-hour activities: 6 hours, 30 points
        act = v.volunteer_activity_create(watch, title=f"活动{day}", starts_at=start + timedelta(days=day),
                                          ends_at=start + timedelta(days=day, hours=2), capacity=5, actor=lead)
        s = v.activity_sign_up(act, user=alice.user, now=at(2024, 5, 1, 9))
        v.signup_check_in(s, actor=lead, now=act.starts_at)
        v.signup_check_out(s, actor=lead, now=act.ends_at)
    after = ps.star_rating_compute(alice, year=2024, actor=city.user.metro_secretary, rule_set=rules,
                                   now=at(2025, 1, 5, 9))
    assert after.computed_score == D("90.0") and after.stars == 5
    line = next(x for x in after.explanation["periods"][0]["lines"] if x["code"] == "vol")
    assert line["quantity"] == "6.00" or D(line["quantity"]) == 6
    # the default rule set does not name the source: volunteer hours do not count there
    default = ps.star_rating_compute(alice, year=2024, actor=city.user.metro_secretary, now=at(2025, 1, 5, 9))
    assert default.computed_score < D("30")
