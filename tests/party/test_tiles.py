"""The party app's dashboard tiles: 双报到 and this year's confirmed services, by territory prefix."""

from datetime import date

from django.urls import reverse

from huying.core import tiles
from huying.party import services as s
from huying.party import tiles as party_tiles
from huying.party.models import ServiceKind

from .conftest import at


def test_members_reported_and_services_by_prefix(city, members, django_assert_max_num_queries):
    u = city.user
    now = at(2024, 5, 1, 9)
    # nothing reported yet: the tiles say nothing rather than a misleading zero
    assert party_tiles.members_reported_tile(prefix="440104", now=now) is None
    assert party_tiles.services_year_tile(prefix="440104", now=now) is None
    ra = s.member_report_submit(members.alice, actor=members.alice.user, now=at(2024, 1, 10, 9))  # 流水井
    rb = s.member_report_submit(members.bob, actor=members.bob.user, now=at(2024, 1, 10, 9))  # 龙藏
    s.member_report_submit(members.dave, actor=members.dave.user, now=at(2024, 1, 10, 9))  # 旧南海县, pending
    s.member_report_confirm(ra, actor=u.lsj_secretary, now=at(2024, 1, 11, 9))
    s.member_report_confirm(rb, actor=u.lc_secretary, now=at(2024, 1, 11, 9))
    with django_assert_max_num_queries(1):
        t = party_tiles.members_reported_tile(prefix="440104", now=now)
    assert (t.value, t.url) == ("2", reverse("party:summary")) and "1" in t.note
    assert party_tiles.members_reported_tile(prefix="", now=now).value == "2"
    assert party_tiles.members_reported_tile(prefix="440104003001", now=now).value == "1"
    assert party_tiles.members_reported_tile(prefix="440104004", now=now).value == "0"  # only dave, pending
    assert party_tiles.members_reported_tile(prefix="440103", now=now) is None  # another district
    assert party_tiles.members_reported_tile(prefix="440104003001001", now=now) is None  # a grid

    # services: confirmed ones of this year count; a member's own record counts once confirmed
    s.service_record_add(member=members.alice, kind=ServiceKind.OTHER, hours=2, served_on=date(2024, 3, 1),
                         actor=u.lsj_secretary, now=at(2024, 3, 1, 18))
    s.service_record_add(member=members.alice, kind=ServiceKind.OTHER, hours=1.5, served_on=date(2023, 12, 30),
                         actor=u.lsj_secretary, now=at(2024, 1, 20, 18))  # last year
    own = s.service_record_add(member=members.bob, kind=ServiceKind.OTHER, hours=4, served_on=date(2024, 4, 1),
                               actor=members.bob.user, now=at(2024, 4, 1, 18))
    with django_assert_max_num_queries(1):
        t = party_tiles.services_year_tile(prefix="440104", now=now)
    assert t.value == "1" and "2024" in t.note and "2 小时" in t.note
    s.service_record_confirm(own, actor=u.lc_secretary, now=at(2024, 4, 2, 9))
    t = party_tiles.services_year_tile(prefix="440104", now=now)
    assert t.value == "2" and "6 小时" in t.note
    assert party_tiles.services_year_tile(prefix="440104003002", now=now).value == "1"
    assert party_tiles.services_year_tile(prefix="440103", now=now) is None
    assert party_tiles.services_year_tile(prefix="", now=at(2025, 1, 2, 9)) is None  # a new year

    keys = [t.key for t in tiles.registered()]
    assert "party.members_reported" in keys and "party.services_year" in keys
    drawn = {tile.key: v for tile, v in tiles.compute(prefix="440104", now=now)}
    assert drawn["party.members_reported"].value == "2"
