"""Access per role: who sees which members, and whose identity data stays masked."""

import pytest

from huying.core.errors import DomainError
from huying.party import selectors
from huying.party import services as s
from huying.people.masking import mask_address, mask_id_number, mask_phone

from .conftest import at

ALL = ["alice", "bob", "carol", "dave"]


def seen(actor):
    return {r.name: r for r in selectors.member_list(actor=actor)}


def usernames(actor, members):
    by_id = {m.pk: m.user.username for m in (members.alice, members.bob, members.carol, members.dave)}
    return sorted(by_id[r.id] for r in selectors.member_list(actor=actor))


@pytest.mark.parametrize("who, expected, unmasked", [
    ("lsj_secretary", ["alice", "carol"], []),           # community: those living there, masked
    ("lc_secretary", ["bob"], []),
    ("jnh_secretary", ["dave"], []),
    ("bj_secretary", ["alice", "bob", "carol"], []),      # street: its communities' residents
    ("metro_secretary", ["alice", "bob", "dave"], ["alice", "bob", "dave"]),  # own organisation: unmasked
    ("hosp_secretary", ["carol"], ["carol"]),
    ("rail_secretary", [], []),
    ("lsj_director", ["alice", "carol"], []),
    ("gridworker", ["alice"], []),                        # lives in the grid (a known building)
    ("leader", ALL, []),
    ("root", ALL, []),                                    # administrators do not see identity data
    ("operator", [], []),
    ("resident", [], []),
])
def test_member_visibility_per_role(city, members, who, expected, unmasked):
    actor = getattr(city.user, who)
    rows = list(selectors.member_list(actor=actor))
    by_id = {m.pk: m for m in (members.alice, members.bob, members.carol, members.dave)}
    assert sorted(by_id[r.id].user.username for r in rows) == expected
    for r in rows:
        m = by_id[r.id]
        if m.user.username in unmasked:
            assert (r.phone, r.id_number, r.home_address, r.masked) == (m.user.phone, m.user.id_number,
                                                                        m.home_address, False)
        else:
            assert r.masked
            assert r.phone == mask_phone(m.user.phone) and r.phone != m.user.phone
            assert r.id_number == mask_id_number(m.user.id_number) and "*" in r.id_number
            assert r.home_address == mask_address(m.home_address) and r.home_address.endswith("****")


def test_a_member_sees_only_themself_unmasked(city, members):
    rows = list(selectors.member_list(actor=members.alice.user))
    assert [r.id for r in rows] == [members.alice.pk]
    assert rows[0].id_number == members.alice.user.id_number and not rows[0].masked


def test_member_get_is_scoped(city, members):
    row = selectors.member_get(members.carol.pk, actor=city.user.lsj_secretary)
    assert row.masked and row.home_community_code == "440104003001"
    with pytest.raises(DomainError) as e:
        selectors.member_get(members.carol.pk, actor=city.user.lc_secretary)
    assert e.value.status == 404


def test_filters_and_report_status(city, members):
    u = city.user
    r = s.member_report_submit(members.alice, actor=members.alice.user, now=at(2024, 1, 10, 9))
    rows = {row.id: row for row in selectors.member_list(actor=u.metro_secretary)}
    assert rows[members.alice.pk].report_status == "pending" and rows[members.bob.pk].report_status == ""
    s.member_report_confirm(r, actor=u.lsj_secretary, now=at(2024, 1, 11, 9))
    assert [row.id for row in selectors.member_list(actor=u.metro_secretary, reported=True)] == [members.alice.pk]
    assert len(selectors.member_list(actor=u.metro_secretary, reported=False)) == 2
    assert [row.id for row in selectors.member_list(actor=u.leader, community=city.div["440104004001"])] == [
        members.dave.pk]
    assert [row.id for row in selectors.member_list(actor=u.leader, search="陈")] == [members.carol.pk]
    # the list to chase, as the community sees it
    assert [row.id for row in selectors.members_not_reported(actor=u.lsj_secretary)] == [members.carol.pk]


def test_organisation_list_is_scoped(city):
    u = city.user
    mine = set(selectors.organisation_list(actor=u.metro_secretary).values_list("unit__code", flat=True))
    assert mine == {"party-metro"}
    lc = set(selectors.organisation_list(actor=u.lc_secretary).values_list("unit__code", flat=True))
    # its own 大党委, its grid branches, and the unit organisation sitting in the community
    assert lc == {"party-440104003002", "party-440104003002001", "party-440104003002002", "party-metro"}
    assert selectors.organisation_list(actor=u.leader).count() == selectors.organisation_list(actor=u.root).count()


def test_summary_scoped_by_territory(city, members):
    u = city.user
    ur = s.unit_report_submit(city.org["metro"], actor=u.metro_secretary, now=at(2024, 1, 8, 9))
    s.unit_report_confirm(ur, actor=u.bj_secretary, now=at(2024, 1, 9, 9))
    for m, sec in ((members.alice, u.lsj_secretary), (members.carol, u.lsj_secretary), (members.bob, u.lc_secretary)):
        s.member_report_confirm(s.member_report_submit(m, actor=m.user, now=at(2024, 1, 10, 9)), actor=sec,
                                now=at(2024, 1, 11, 9))
    team = s.service_team_create(community=city.div["440104003001"], name="先锋队", actor=u.lsj_secretary,
                                 now=at(2024, 1, 12, 9))
    from datetime import date

    from huying.party.models import ServiceKind

    s.service_record_add(member=members.alice, kind=ServiceKind.TEAM, team=team, hours="2.5",
                         served_on=date(2024, 2, 1), actor=u.lsj_secretary, now=at(2024, 2, 1, 20))
    s.service_record_add(member=members.bob, kind=ServiceKind.OTHER, hours=1, served_on=date(2024, 2, 1),
                         actor=u.lc_secretary, now=at(2024, 2, 1, 20))
    s.service_record_add(member=members.bob, kind=ServiceKind.OTHER, hours=1, served_on=date(2023, 2, 1),
                         actor=u.lc_secretary, now=at(2024, 2, 1, 20))
    city_sum = selectors.party_summary(actor=u.leader, year=2024)
    t = city_sum["total"]
    assert (t.units_reported, t.members_reported, t.service_teams, t.services_done, t.service_hours) == (
        1, 3, 1, 2, 3.5)
    assert [(r.code, r.members_reported) for r in city_sum["rows"]] == [("440104", 3)]
    street = selectors.party_summary(actor=u.bj_secretary, root=city.div["440104003"])
    assert [(r.code, r.members_reported, r.services_done) for r in street["rows"]] == [
        ("440104003001", 2, 1), ("440104003002", 1, 2)]
    mine = selectors.party_summary(actor=u.lsj_secretary)
    assert mine["root"]["code"] == "440104003001" and mine["total"].members_reported == 2
    with pytest.raises(DomainError) as e:
        selectors.party_summary(actor=u.lsj_secretary, root=city.div["440104003"])
    assert e.value.status == 403
    with pytest.raises(DomainError):
        selectors.party_summary(actor=u.metro_secretary)  # a unit organisation has no territory
