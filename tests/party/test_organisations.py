from datetime import date

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.party.models import JointBodyMember, Member, OrgType, PartyOrganisation
from huying.people.models import Membership, RoleCode, UnitKind


def test_mirror_builds_the_tree_over_the_territory(city):
    o = city.org
    street, community, grid = o["party-440104003"], o["party-440104003001"], o["party-440104003001001"]
    assert (street.org_type, community.org_type, grid.org_type) == (
        OrgType.STREET_COMMITTEE, OrgType.COMMUNITY_COMMITTEE, OrgType.GRID_BRANCH)
    assert community.unit.parent_id == street.unit_id and grid.unit.parent_id == community.unit_id
    assert community.unit.kind == UnitKind.PARTY and community.unit.division.code == "440104003001"
    assert grid.unit.grid.code == "440104003001001" and grid.street.code == "440104003"
    # 2 streets + 3 communities + 6 grids, plus the three unit organisations
    assert PartyOrganisation.objects.filter(org_type__in=[OrgType.STREET_COMMITTEE, OrgType.COMMUNITY_COMMITTEE,
                                                          OrgType.GRID_BRANCH]).count() == 11


def test_mirror_is_idempotent_and_adopts_the_demo_party_unit(city):
    from huying.party.services import organisations_mirror_territory

    before = PartyOrganisation.objects.count()
    counts = organisations_mirror_territory(city.div["440100"], actor=city.user.root)
    assert counts == {"street": 0, "community": 0, "grid": 0, "adopted": 0}
    assert PartyOrganisation.objects.count() == before


def test_mirror_refused_to_non_admin(city):
    from huying.party.services import organisations_mirror_territory

    with pytest.raises(DomainError) as e:
        organisations_mirror_territory(city.div["440104"], actor=city.user.bj_secretary)
    assert e.value.status == 403


def test_unit_organisation_is_located_from_its_address_and_covers_no_territory(city):
    metro = city.org["metro"]
    assert metro.division.code == "440104003002" and metro.street.code == "440104003"
    assert metro.unit.division_id is None and metro.unit.grid_id is None  # its secretary sees no territory
    assert metro.size == 120
    entry = audit_trail(metro).get()
    assert entry.action == "party.organisation.created" and entry.new["street"] == "440104003"


def test_territorial_type_must_match_the_level(city):
    from huying.party.services import organisation_create

    with pytest.raises(DomainError) as e:
        organisation_create(code="party-x", name="x", org_type=OrgType.COMMUNITY_COMMITTEE,
                            division=city.div["440104003"], actor=city.user.root)
    assert e.value.code == "party.org.bad_territory"
    with pytest.raises(DomainError) as e:  # the community already has its 大党委
        organisation_create(code="party-y", name="y", org_type=OrgType.COMMUNITY_COMMITTEE,
                            division=city.div["440104003001"], actor=city.user.root)
    assert e.value.status == 409


def test_building_group_under_community_by_its_secretary_only(city):
    from huying.party.services import organisation_create
    from huying.territory.models import Building

    building = Building.objects.get(code="B1")
    parent = city.org["party-440104003001001"].unit  # the grid branch, below the community 大党委
    group = organisation_create(code="party-B1", name="文德路12号楼栋党小组", org_type=OrgType.BUILDING_GROUP,
                                parent=parent, building=building, actor=city.user.lsj_secretary)
    assert group.building == building and group.grid == building.grid and group.unit.grid == building.grid
    with pytest.raises(DomainError) as e:  # another community's secretary
        organisation_create(code="party-B1b", name="x", org_type=OrgType.BUILDING_GROUP, parent=parent,
                            building=building, actor=city.user.lc_secretary)
    assert e.value.status == 403


def test_joint_bodies_list_member_units(city):
    from huying.party.services import joint_body_member_add, joint_body_member_remove

    community, alliance = city.org["party-440104003002"], city.org["alliance"]
    row = joint_body_member_add(community, unit=city.org["metro"].unit, joined_on=date(2024, 3, 1),
                                position="兼职委员单位", actor=city.user.lc_secretary)
    joint_body_member_add(alliance, unit=city.org["metro"].unit, joined_on=date(2024, 3, 1),
                          actor=city.user.rail_secretary)
    assert list(JointBodyMember.objects.filter(unit=city.org["metro"].unit).values_list("body__unit__code", flat=True)
                .order_by("body__unit__code")) == ["party-440104003002", "party-rail"]
    with pytest.raises(DomainError) as e:
        joint_body_member_add(community, unit=city.org["metro"].unit, joined_on=date(2024, 3, 1),
                              actor=city.user.lc_secretary)
    assert e.value.status == 409
    with pytest.raises(DomainError) as e:  # a unit organisation is not a joint body
        joint_body_member_add(city.org["metro"], unit=city.org["hospital"].unit, joined_on=date(2024, 3, 1),
                              actor=city.user.metro_secretary)
    assert e.value.code == "party.joint.not_joint"
    with pytest.raises(DomainError):
        joint_body_member_add(community, unit=city.org["hospital"].unit, joined_on=date(2024, 3, 1),
                              actor=city.user.lsj_secretary)  # not this community's secretary
    joint_body_member_remove(row, actor=city.user.lc_secretary, reason="搬迁")
    row.refresh_from_db()
    assert not row.active
    assert [a.action for a in audit_trail(community)] == ["party.joint.member_added", "party.joint.member_removed"]


def test_member_home_community_from_the_address(city, members):
    alice, bob, dave = members.alice, members.bob, members.dave
    assert alice.home_community.code == "440104003001"
    assert alice.home_grid.code == "440104003001001"  # a known building's address places the grid too
    assert bob.home_community.code == "440104003002" and bob.home_grid is None
    assert dave.home_community.code == "440104004001"
    # registering made them Party members of their organisation's unit
    assert Membership.objects.filter(user=alice.user, unit=city.org["metro"].unit, role__code=RoleCode.PARTY_MEMBER,
                                     active=True).exists()
    entry = audit_trail(alice).get()
    assert entry.new["home_address"] == "广州市越秀区流水井社区文德路****"  # the log keeps it masked


def test_member_outside_the_city_and_unknown_address(city):
    from huying.party.services import member_register

    u = city.person("eve")
    with pytest.raises(DomainError) as e:
        member_register(u, organisation=city.org["metro"], home_address="北京市东城区东华门大街1号",
                        actor=city.user.metro_secretary)
    assert e.value.code == "party.member.home_outside"
    m = member_register(u, organisation=city.org["metro"], home_address="某小区5栋", actor=city.user.metro_secretary)
    assert m.home_community is None  # the locator does not guess


def test_only_the_organisations_secretary_registers(city):
    from huying.party.services import member_register

    u = city.person("frank")
    with pytest.raises(DomainError) as e:
        member_register(u, organisation=city.org["metro"], actor=city.user.hosp_secretary)
    assert e.value.status == 403
    member_register(u, organisation=city.org["metro"], actor=city.user.metro_secretary)
    with pytest.raises(DomainError) as e:
        member_register(u, organisation=city.org["metro"], actor=city.user.metro_secretary)
    assert e.value.status == 409
    assert Member.objects.filter(user=u).count() == 1
