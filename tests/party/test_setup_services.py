"""Set-up services: sub-organisations within the secretary's own scope, their secretaries, the
organisation import (all rows or none, each bad row named) and rule-set versions."""

import pytest

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.party import access
from huying.party import services as s
from huying.party.models import OrgType, PartyOrganisation, StarRuleSet
from huying.party.services import setup as su
from huying.people.models import Membership, RoleCode
from huying.territory.models import Building

from .conftest import xlsx_file


def _audit(action, target):
    return AuditEntry.objects.filter(action=action, target_id=str(target.pk))


# -- sub-organisations -----------------------------------------------------------------------------
def test_secretary_founds_sub_organisation_with_secretary(city):
    org, secretary = city.org["party-440104003001"], city.user.lsj_secretary
    newcomer = city.person("newcomer")
    sub = su.suborganisation_create(org, actor=secretary, name="文德路12号楼栋党小组", org_type=OrgType.BUILDING_GROUP,
                                    building=Building.objects.get(code="B1"), size=8, secretary=newcomer)
    assert sub.unit.parent_id == org.unit_id and sub.unit.code.startswith("party-")
    assert sub.grid == city.grid["440104003001001"] and sub.unit.grid == city.grid["440104003001001"]
    assert _audit("party.organisation.created", sub).get().actor == secretary
    assert _audit("party.organisation.secretary_set", sub).get().new == {"secretary": "newcomer"}
    assert sub.unit_id in access.secretary_unit_ids(newcomer)
    # the founder manages what they founded; its new secretary manages only it
    assert access.can_manage_org(secretary, sub) and not access.can_manage_org(newcomer, org)


def test_foreign_organisation_is_refused(city):
    foreign, secretary = city.org["party-440104003002"], city.user.lsj_secretary
    before = PartyOrganisation.objects.count()
    with pytest.raises(DomainError) as exc:
        su.suborganisation_create(foreign, actor=secretary, name="某公司党支部", org_type=OrgType.PRIVATE_ENTERPRISE)
    assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:
        su.organisation_update(foreign, actor=secretary, name="改名", size=1)
    assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:
        su.organisation_secretary_set(foreign, user=secretary, actor=secretary)
    assert exc.value.status == 403
    assert PartyOrganisation.objects.count() == before
    assert foreign.unit.name == PartyOrganisation.objects.get(pk=foreign.pk).unit.name


def test_territorial_sub_organisation_must_lie_in_own_territory(city):
    """Founding a branch elsewhere would widen the founder's view: refused (an administrator may)."""
    org, secretary = city.org["party-440104003001"], city.user.lsj_secretary
    elsewhere = Building.objects.create(code="B9", grid=city.grid["440104003002001"], address="龙藏某路1号",
                                        lng=113.281, lat=23.126, households=10)
    with pytest.raises(DomainError) as exc:
        su.suborganisation_create(org, actor=secretary, name="外社区楼栋党小组", org_type=OrgType.BUILDING_GROUP,
                                  building=elsewhere)
    assert exc.value.code == "party.setup.outside" and exc.value.status == 403
    sub = su.suborganisation_create(org, actor=city.user.root, name="外社区楼栋党小组", org_type=OrgType.BUILDING_GROUP,
                                    building=elsewhere)
    assert sub.unit.parent_id == org.unit_id


def test_update_moves_only_between_managed_organisations_and_keeps_territorial_type(city):
    street, secretary = city.org["party-440104003"], city.user.bj_secretary
    firm = su.suborganisation_create(street, actor=secretary, name="某科技公司党支部", org_type=OrgType.NEW_ECONOMY)
    lsj = city.org["party-440104003001"]
    moved = su.organisation_update(firm, actor=secretary, name="某科技公司党总支", size=30, parent=lsj,
                                   org_type=OrgType.PRIVATE_ENTERPRISE)
    assert moved.unit.name == "某科技公司党总支" and moved.unit.parent_id == lsj.unit_id
    entry = _audit("party.organisation.changed", firm).get()
    assert entry.old["name"] == "某科技公司党支部" and entry.new["parent"] == lsj.unit.code
    # the community's secretary may not move it out of their community to a foreign one
    with pytest.raises(DomainError) as exc:
        su.organisation_update(moved, actor=city.user.lsj_secretary, name="x", size=1,
                               parent=city.org["party-440104003002"])
    assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:
        su.organisation_update(lsj, actor=secretary, name="x", size=1, parent=moved)
    assert exc.value.code == "party.setup.cycle"
    with pytest.raises(DomainError) as exc:
        su.organisation_update(lsj, actor=secretary, name="x", size=1, org_type=OrgType.GOVERNMENT)
    assert exc.value.code == "party.setup.type_fixed"


def test_new_secretary_ends_the_previous_post(city):
    org, street_secretary = city.org["party-440104003001"], city.user.bj_secretary
    successor = city.person("successor")
    su.organisation_secretary_set(org, user=successor, actor=street_secretary, reason="换届")
    holders = set(Membership.objects.filter(unit=org.unit, role__code=RoleCode.PARTY_SECRETARY, active=True)
                  .values_list("user__username", flat=True))
    assert holders == {"successor"}
    assert AuditEntry.objects.filter(action="people.membership.revoked", reason="换届").count() == 1
    with pytest.raises(DomainError) as exc:
        su.organisation_secretary_set(org, user=successor, actor=street_secretary)
    assert exc.value.status == 409


# -- import ----------------------------------------------------------------------------------------
HEADER = su.ORG_TEMPLATE_HEADER


def xlsx(data, header=HEADER):
    return xlsx_file(header, data, "orgs.xlsx")


def row(name, org_type, code="", parent="", division="", grid="", building="", address="", size="", sec=""):
    return [name, org_type, code, parent, division, grid, building, address, size, sec]


def test_import_with_two_bad_rows_is_refused_naming_both_then_corrected_file_loads(city):
    org, secretary = city.org["party-440104003"], city.user.bj_secretary
    good = [
        row("某科技公司党委", "民营企业", code="party-tech", size=40),
        row("某科技公司研发党支部", "private_enterprise", code="party-tech-rd", parent="party-tech", size=12),
        row("某社会组织党支部", "社会组织", code="party-soc", sec="resident"),
        row("文德路12号楼栋党小组", "楼栋党小组", building="B1", parent="party-440104003001"),
    ]
    bad = [list(r) for r in good]
    bad[1][1] = "不存在的类型"  # spreadsheet row 3
    bad[3][6] = "B404"  # spreadsheet row 5: no such building
    before, audits = PartyOrganisation.objects.count(), AuditEntry.objects.count()
    with pytest.raises(DomainError) as exc:
        su.organisations_import(xlsx(bad), organisation=org, actor=secretary)
    err = exc.value
    assert err.code == "party.import.rows_invalid"
    assert err.details["bad_rows"] == [3, 5]
    assert [(e["row"], e["field"]) for e in err.details["rows"]] == [(3, "组织类型"), (5, "楼栋编码")]
    assert "3" in err.message and "5" in err.message
    assert PartyOrganisation.objects.count() == before and AuditEntry.objects.count() == audits

    result = su.organisations_import(xlsx(good), organisation=org, actor=secretary)
    assert result == {"created": 4, "file": "orgs.xlsx"}
    tech = PartyOrganisation.objects.get(unit__code="party-tech")
    assert tech.unit.parent_id == org.unit_id and tech.size == 40
    assert PartyOrganisation.objects.get(unit__code="party-tech-rd").unit.parent_id == tech.unit_id
    group = PartyOrganisation.objects.get(org_type=OrgType.BUILDING_GROUP)
    assert group.unit.parent_id == city.org["party-440104003001"].unit_id
    assert PartyOrganisation.objects.get(unit__code="party-soc").unit_id in access.secretary_unit_ids(city.user.resident)
    assert _audit("party.organisation.imported", org).get().data["count"] == 4


def test_import_names_rows_outside_scope_and_clashes_found_on_creation(city):
    org, secretary = city.org["party-440104003001"], city.user.lsj_secretary
    data = [
        row("某公司党支部", "民营企业", code="party-x1", parent="party-440104004001"),  # a foreign community
        row("流水井社区大党委", "社区大党委", division="440104003001"),  # the territory already has one
        row("第二个", "民营企业", code="party-x1"),  # duplicate code in the file
        row("", "民营企业"),
    ]
    with pytest.raises(DomainError) as exc:
        su.organisations_import([HEADER] + data, organisation=org, actor=secretary)
    by_row = {e["row"]: e for e in exc.value.details["rows"]}
    assert sorted(by_row) == [2, 3, 4, 5]
    assert by_row[2]["field"] == "上级党组织代码" and by_row[3]["field"] == "区划代码"
    assert by_row[4]["field"] == "组织代码" and by_row[5]["field"] == "党组织名称"


def test_import_refused_for_a_foreign_organisation(city):
    with pytest.raises(DomainError) as exc:
        su.organisations_import([HEADER, row("a", "民营企业")], organisation=city.org["party-440104003002"],
                                actor=city.user.lsj_secretary)
    assert exc.value.status == 403


# -- rule sets -------------------------------------------------------------------------------------
def test_rule_set_in_use_is_never_edited_a_new_version_is(city, members):
    root = city.user.root
    default = s.star_rule_set_default()
    assert not su.rule_set_in_use(default)
    s.star_rating_compute(members.alice, year=2024, actor=city.user.metro_secretary)
    assert su.rule_set_in_use(default)
    with pytest.raises(DomainError) as exc:
        su.star_rule_set_update(default, actor=root, name=default.name, period="year", base=0, max_total=100,
                                items=default.items, thresholds=["95", "85", "75", "65"], report_required=True)
    assert exc.value.code == "party.rules.in_use" and exc.value.status == 409
    assert StarRuleSet.objects.get(pk=default.pk).thresholds == ["90", "80", "70", "60"]

    v2 = su.star_rule_set_version(default, actor=root, name="默认评星规则 2025 版")
    assert v2.items == default.items and not v2.is_default
    assert _audit("party.rules.versioned", v2).get().data["from"] == default.pk
    v2 = su.star_rule_set_update(v2, actor=root, name="默认评星规则 2025 版", period="half", base=0, max_total=100,
                                 items=default.items[:3], thresholds=["95", "85", "75", "65"], report_required=True)
    assert v2.thresholds == ["95", "85", "75", "65"] and v2.period == "half" and len(v2.items) == 3
    assert _audit("party.rules.changed", v2).get().old["thresholds"] == ["90", "80", "70", "60"]
    su.star_rule_set_make_default(v2, actor=root)
    assert StarRuleSet.objects.get(is_default=True) == v2
    assert s.rule_set_for(members.bob.organisation) == v2


def test_rule_sets_are_for_administrators(city):
    default = s.star_rule_set_default()
    for call in (lambda: su.star_rule_set_version(default, actor=city.user.lsj_secretary, name="x"),
                 lambda: su.star_rule_set_make_default(default, actor=city.user.lsj_secretary)):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:
        su.star_rule_set_version(default, actor=city.user.root, name=default.name)
    assert exc.value.code == "party.rules.name_taken"
