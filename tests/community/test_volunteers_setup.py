"""Volunteer registration and setup: a resident registers themself in a team of their community or
street (consent, duplicates, bad text, another community's team 404), a leader registers people by
username or phone and removes them, staff set up teams, river-chief teams record stretches in their
territory, and the dashboard tile counts volunteers and this year's hours by territory prefix."""

from datetime import datetime
from decimal import Decimal as D

import pytest

from huying.community import selectors_volunteers as sel
from huying.community import volunteers as v
from huying.community.models import RiverStretch, TeamType, VolunteerProfile, VolunteerTeam
from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.people.models import Membership, RoleCode, Unit, UnitKind
from huying.people.services import membership_grant, unit_create
from tests.party.conftest import at, city  # noqa: F401

REGISTER = "/community/volunteers/register/"
SETUP = "/community/volunteers/setup/"


def _setup_team(pk):
    return f"/community/volunteers/setup/team/{pk}/"


@pytest.fixture
def vt(city):  # noqa: F811
    """流水井 committee's watch team (leader 'lead'), 北京街 street's river team, and teams of 龙藏 (same
    street, other community) and 旧南海县 (other street) that the 流水井 resident may not join."""
    from types import SimpleNamespace

    director = city.user.lsj_director
    street = unit_create(code="gov-440104003", name="北京街道办事处", kind=UnitKind.TERRITORIAL,
                         division=city.div["440104003"], actor=None)
    lc = unit_create(code="gov-440104003002", name="龙藏社区居民委员会", kind=UnitKind.TERRITORIAL,
                     division=city.div["440104003002"], parent=street, actor=None)
    jnh = unit_create(code="gov-440104004001", name="旧南海县社区居民委员会", kind=UnitKind.TERRITORIAL,
                      division=city.div["440104004001"], actor=None)
    lead = city.person("lead", name="队长")
    streetstaff = city.person("streetstaff", street, RoleCode.COMMUNITY_WORKER, "街道干部")

    def team(code, name, parent, team_type, leader=None):
        unit = unit_create(code=code, name=name, kind=UnitKind.VOLUNTEER_TEAM, parent=parent, actor=None)
        t = v.volunteer_team_setup(unit, team_type=team_type, leader=leader, actor=None)
        if leader is not None:
            v.volunteer_register(t, user=leader, actor=director if parent == city.unit.residents else streetstaff)
        return t

    return SimpleNamespace(
        watch=team("vol-lsj", "流水井广州街坊队", city.unit.residents, TeamType.NEIGHBOURHOOD_WATCH, lead),
        river=team("vol-bj", "北京街民间河长队", street, TeamType.RIVER_CHIEFS),
        lc=team("vol-lc", "龙藏服务队", lc, TeamType.SERVICE),
        jnh=team("vol-jnh", "旧南海县服务队", jnh, TeamType.SERVICE),
        lead=lead, director=director, street=street, streetstaff=streetstaff, jnh_unit=jnh)


def _post_register(client, team, **extra):
    data = {"team": team.pk, "skills": "急救", "availability": "周末上午", "consent": "on", **extra}
    return client.post(REGISTER, data)


# -- a resident registers themself ---------------------------------------------------------------
def test_resident_registers_and_the_leader_sees_them_whole_others_masked(city, vt, client):  # noqa: F811
    resident = city.user.resident
    client.force_login(resident)
    page = client.get(REGISTER).content.decode()
    assert "流水井广州街坊队" in page and "北京街民间河长队" in page  # own community and own street
    assert "龙藏服务队" not in page and "旧南海县服务队" not in page
    r = _post_register(client, vt.watch)
    assert r.status_code == 302 and r.url == "/community/volunteers/"
    assert Membership.objects.filter(user=resident, unit=vt.watch.unit, role__code=RoleCode.VOLUNTEER,
                                     active=True).exists()
    profile = VolunteerProfile.objects.get(user=resident)
    assert (profile.skills, profile.availability) == ("急救", "周末上午")
    entry = audit_trail(profile)[0]
    assert entry.action == "community.volunteer.self_registered" and entry.actor == resident
    assert entry.new["consent"] == v.CONSENT_VERSION
    # the leader sees the new registration first, with the whole phone and ID number
    client.force_login(vt.lead)
    page = client.get(_setup_team(vt.watch.pk)).content.decode()
    assert "居民" in page and resident.phone in page and resident.id_number in page
    assert resident.phone in client.get("/community/volunteers/lead/").content.decode()
    rows = sel.team_registrations(vt.watch, actor=vt.lead)
    assert rows[0]["user"] == resident
    # a fellow volunteer is not the leader: masked, and the setup page is not theirs
    masked = {r["name"]: r["phone"] for r in sel.team_registrations(vt.watch, actor=resident)}["居民"]
    assert masked != resident.phone and "****" in masked
    client.force_login(resident)
    assert client.get(_setup_team(vt.watch.pk)).status_code == 404


def test_duplicate_registration_is_refused_clearly(city, vt, client):  # noqa: F811
    client.force_login(city.user.resident)
    assert _post_register(client, vt.watch).status_code == 302
    r = _post_register(client, vt.watch, skills="电工")
    assert r.status_code == 409
    assert "无需重复登记" in r.content.decode()
    assert Membership.objects.filter(user=city.user.resident, unit=vt.watch.unit).count() == 1
    assert VolunteerProfile.objects.get(user=city.user.resident).skills == "急救"  # nothing changed
    # another team of the street is still open
    assert _post_register(client, vt.river).status_code == 302


@pytest.mark.parametrize("field,value,message", [
    ("skills", "急救\x00", "无法保存的字符"),
    ("availability", "周" * 201, "不能超过 200 个字符"),
    ("consent", "", "请阅读并勾选同意"),
])
def test_bad_registration_input_is_refused_and_kept_in_the_form(city, vt, client, field, value, message):  # noqa: F811
    client.force_login(city.user.resident)
    data = {"team": vt.watch.pk, "skills": "急救", "availability": "周末上午", "consent": "on", field: value}
    if field == "consent":
        data.pop("consent")
    r = client.post(REGISTER, data)
    assert r.status_code == 400
    page = r.content.decode()
    assert message in page
    if field != "skills":
        assert 'value="急救"' in page  # what was typed is still there
    assert not Membership.objects.filter(user=city.user.resident, unit=vt.watch.unit).exists()
    assert not VolunteerProfile.objects.filter(user=city.user.resident).exists()


def test_another_communitys_team_answers_404(city, vt, client):  # noqa: F811
    client.force_login(city.user.resident)
    for team in (vt.lc, vt.jnh):
        assert _post_register(client, team).status_code == 404
        with pytest.raises(DomainError) as e:
            v.volunteer_self_register(team, user=city.user.resident, consent=True)
        assert e.value.status == 404
    assert client.post(REGISTER, {"team": "x", "consent": "on"}).status_code == 404
    assert not Membership.objects.filter(user=city.user.resident, role__code=RoleCode.VOLUNTEER).exists()
    # someone with no community at all sees no team to join
    client.force_login(city.person("nobody"))
    assert "no-open-team" in client.get(REGISTER).content.decode()


# -- the leader registers and removes ------------------------------------------------------------
def test_leader_registers_by_username_phone_or_as_a_new_person(city, vt, client):  # noqa: F811
    client.force_login(vt.lead)
    url = _setup_team(vt.watch.pk)
    gw = city.user.gridworker
    assert client.post(url, {"form": "enrol", "who": "resident", "skills": "摄影"}).status_code == 302
    assert client.post(url, {"form": "enrol", "who": gw.phone}).status_code == 302
    assert v.is_team_member(city.user.resident, vt.watch) and v.is_team_member(gw, vt.watch)
    r = client.post(url, {"form": "enrol", "display_name": "黄伯", "phone": "13712345678", "skills": "象棋"})
    assert r.status_code == 302
    new = VolunteerProfile.objects.get(user__phone="13712345678").user
    assert new.display_name == "黄伯" and not new.has_usable_password()
    # duplicates and mistakes are refused next to the field, nothing registered twice
    r = client.post(url, {"form": "enrol", "who": "resident"})
    assert r.status_code == 409 and "已是本队志愿者" in r.content.decode()
    r = client.post(url, {"form": "enrol", "who": "13000000000"})
    assert r.status_code == 400 and "找不到" in r.content.decode()
    r = client.post(url, {"form": "enrol", "display_name": "黄伯", "phone": "13712345678"})
    assert r.status_code == 409 and "已有账号" in r.content.decode()
    r = client.post(url, {"form": "enrol", "display_name": "张\x00三", "phone": "13712340000", "skills": "木工"})
    assert r.status_code == 400 and "无法保存的字符" in r.content.decode()  # the site-wide guard answers
    with pytest.raises(DomainError) as e:
        v.volunteer_enrol(vt.watch, actor=vt.lead, display_name="张\x00三", phone="13712340000")
    assert e.value.code == "core.text.bad_character" and e.value.field == "display_name"
    r = client.post(url, {"form": "enrol", "display_name": "张三", "phone": "12345", "skills": "木工"})
    assert r.status_code == 400 and "手机号应为" in r.content.decode() and 'value="木工"' in r.content.decode()
    r = client.post(url, {"form": "enrol", "display_name": "", "who": ""})
    assert r.status_code == 400 and "请填写已有人员" in r.content.decode()
    assert Membership.objects.filter(unit=vt.watch.unit, role__code=RoleCode.VOLUNTEER, active=True).count() == 4
    # a plain volunteer may not register people for the team
    with pytest.raises(DomainError) as e:
        v.volunteer_enrol(vt.watch, actor=gw, who="operator")
    assert e.value.status == 403


def test_leader_removes_a_volunteer_with_a_reason(city, vt, client):  # noqa: F811
    resident = city.user.resident
    v.volunteer_self_register(vt.watch, user=resident, consent=True)
    client.force_login(vt.lead)
    url = _setup_team(vt.watch.pk)
    r = client.post(url, {"form": "remove", "user": resident.pk, "reason": ""})
    assert r.status_code == 400 and "请填写移出原因" in r.content.decode()
    assert v.is_team_member(resident, vt.watch)
    assert client.post(url, {"form": "remove", "user": resident.pk, "reason": "本人要求"}).status_code == 302
    assert not v.is_team_member(resident, vt.watch)
    assert list(audit_trail(vt.watch))[-1].action == "community.volunteer.removed"
    r = client.post(url, {"form": "remove", "user": vt.lead.pk, "reason": "x"})
    assert r.status_code == 409  # the leader stays
    # registering again after removal works (the membership is re-activated)
    v.volunteer_self_register(vt.watch, user=resident, consent=True)
    assert v.is_team_member(resident, vt.watch)


# -- setting up teams and stretches --------------------------------------------------------------
def test_staff_set_up_a_team_in_their_own_unit_only(city, vt, client):  # noqa: F811
    client.force_login(vt.director)
    page = client.get(SETUP).content.decode()
    assert "流水井社区居民委员会" in page and "旧南海县社区居民委员会" not in page
    r = client.post(SETUP, {"parent": city.unit.residents.pk, "name": "流水井护老队", "team_type": "service",
                            "leader": "gridworker"})
    assert r.status_code == 302
    team = VolunteerTeam.objects.get(unit__name="流水井护老队")
    assert r.url == _setup_team(team.pk)
    assert team.unit.parent == city.unit.residents and team.leader == city.user.gridworker
    assert team.team_type == TeamType.SERVICE and v.is_team_member(city.user.gridworker, team)
    # bad input: an error next to the field, no team
    before = Unit.objects.filter(kind=UnitKind.VOLUNTEER_TEAM).count()
    for data, status, text in [
        ({"name": "流水井护老队", "team_type": "service"}, 409, "同名"),
        ({"name": "", "team_type": "service"}, 400, "请填写队伍名称"),
        ({"name": "护\x00老", "team_type": "service"}, 400, "无法保存的字符"),
        ({"name": "护" * 121, "team_type": "service"}, 400, "不能超过 120 个字符"),
        ({"name": "新队", "team_type": "pirates"}, 400, "队伍类型无效"),
        ({"name": "新队", "team_type": "service", "leader": "nosuchuser"}, 400, "找不到"),
    ]:
        r = client.post(SETUP, {"parent": city.unit.residents.pk, **data})
        assert r.status_code == status, data
        assert text in r.content.decode(), data
    assert Unit.objects.filter(kind=UnitKind.VOLUNTEER_TEAM).count() == before
    # another community's committee: 404; a resident: 403
    assert client.post(SETUP, {"parent": vt.jnh_unit.pk, "name": "越界队", "team_type": "service"}).status_code == 404
    with pytest.raises(DomainError) as e:
        v.volunteer_team_create(vt.jnh_unit, name="越界队", team_type="service", actor=vt.director)
    assert e.value.status == 403
    client.force_login(city.user.resident)
    assert client.get(SETUP).status_code == 403


def test_river_team_records_a_stretch_in_its_territory(city, vt, client):  # noqa: F811
    membership_grant(vt.lead, unit=vt.river.unit, role_code=RoleCode.VOLUNTEER, actor=None)
    v.volunteer_team_setup(vt.river.unit, team_type=TeamType.RIVER_CHIEFS, leader=vt.lead, actor=vt.streetstaff)
    client.force_login(vt.lead)
    url = _setup_team(vt.river.pk)
    g1, g2 = city.grid["440104003001001"], city.grid["440104003002001"]
    outside = city.grid["440104004001001"]
    page = client.get(url).content.decode()
    assert g1.name in page and outside.name not in page
    r = client.post(url, {"form": "stretch", "name": "东濠涌北京街段", "grids": [g1.pk, g2.pk]})
    assert r.status_code == 302
    s = RiverStretch.objects.get(name="东濠涌北京街段")
    assert s.community == g1.community and set(s.grids.all()) == {g1, g2}
    assert audit_trail(s)[0].action == "community.stretch.created"
    assert s in sel.stretches_for(vt.river)
    for data, status, text in [
        ({"name": "越界段", "grids": [outside.pk]}, 400, "不在本队所属辖区"),
        ({"name": "无网格段"}, 400, "请至少选择一个"),
        ({"name": "坏网格段", "grids": ["x"]}, 400, "所选网格无效"),
        ({"name": "", "grids": [g1.pk]}, 400, "请填写河段名称"),
        ({"name": "段\x00", "grids": [g1.pk]}, 400, "无法保存的字符"),
        ({"name": "东濠涌北京街段", "grids": [g1.pk]}, 409, "同名河段"),
    ]:
        r = client.post(url, {"form": "stretch", **data})
        assert r.status_code == status, data
        assert text in r.content.decode(), data
    assert RiverStretch.objects.count() == 1
    # a watch team has no stretches; another team's setup page is not found
    assert client.post(_setup_team(vt.watch.pk), {"form": "stretch", "name": "x", "grids": [g1.pk]}).status_code == 404
    with pytest.raises(DomainError):
        v.river_stretch_setup(vt.watch, name="x", grid_ids=[g1.pk], actor=vt.lead)
    assert client.get(_setup_team(vt.jnh.pk)).status_code == 404
    client.force_login(city.user.resident)
    assert client.post(url, {"form": "stretch", "name": "偷偷登记", "grids": [g1.pk]}).status_code == 404


def test_pages_are_linked_from_the_volunteer_home_and_lead_page(city, vt, client):  # noqa: F811
    client.force_login(city.user.resident)
    home = client.get("/community/volunteers/").content.decode()
    assert REGISTER in home and SETUP not in home
    client.force_login(vt.director)  # committee staff with no team of their own yet still reach the setup
    assert SETUP in client.get("/community/volunteers/").content.decode()
    client.force_login(vt.lead)
    assert _setup_team(vt.watch.pk) in client.get("/community/volunteers/lead/").content.decode()


# -- the dashboard tile --------------------------------------------------------------------------
def test_volunteers_tile_counts_volunteers_and_this_years_hours_by_prefix(city, vt):  # noqa: F811
    from huying.core import tiles

    assert "community_volunteers" in {t.key for t in tiles.registered()}
    director = city.user.lsj_director
    ann = v.volunteer_register(vt.watch, username="ann", display_name="ann", actor=director).user
    rick = v.volunteer_register(vt.river, username="rick", display_name="rick", actor=vt.streetstaff).user
    for team, who, start in [(vt.watch, ann, at(2025, 3, 1, 9)), (vt.watch, ann, at(2024, 12, 30, 9)),
                             (vt.river, rick, at(2025, 4, 1, 9))]:
        act = v.volunteer_activity_create(team, title="活动", starts_at=start, ends_at=start.replace(hour=11),
                                          capacity=5, actor=director if team == vt.watch else vt.streetstaff)
        s = v.activity_sign_up(act, user=who, now=at(2024, 12, 1, 9))
        v.signup_check_in(s, actor=who, now=start)
        v.signup_check_out(s, actor=who, now=start.replace(hour=11))
    now = datetime(2025, 6, 1, 10, tzinfo=at(2025, 1, 1).tzinfo)
    community = sel.volunteers_tile(prefix="440104003001", now=now)
    assert community.value == "2"  # lead and ann in the 流水井 watch; the street team is not inside it
    assert "2.0 小时" in community.note  # 2024's hours are not this year's
    street = sel.volunteers_tile(prefix="440104003", now=now)
    assert street.value == "3" and "4.0 小时" in street.note  # 龙藏's team has nobody yet
    assert sel.volunteers_tile(prefix="440104004002", now=now) is None
    assert sel.volunteers_tile(prefix="440104004001", now=now).value == "0"
    shown = {t.key: val for t, val in tiles.compute(prefix="440104003001", now=now)}
    assert shown["community_volunteers"].value == "2"
    assert sel.volunteers_tile(prefix="", now=now).value == "3"
    assert sel.hours_total(team=vt.watch) == D("4.00")
