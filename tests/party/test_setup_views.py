"""Set-up pages: a secretary opens their own organisation's set-up (200), never a foreign one (404),
and each page's form goes through its service."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from huying.core.models import AuditEntry
from huying.party import services as s
from huying.party.models import GridInstructor, JointBodyMember, OrgType, PartyOrganisation, Studio
from huying.party.services import setup as su

from .test_setup_services import HEADER, row, xlsx

PAGES = ["/party/setup/", "/party/setup/import/", "/party/setup/joint/", "/party/setup/instructors/",
         "/party/setup/studios/"]


@pytest.fixture
def lsj(city, client):
    client.force_login(city.user.lsj_secretary)
    return city.org["party-440104003001"]


@pytest.mark.parametrize("url", PAGES)
def test_own_organisation_200_foreign_404(city, client, lsj, url):
    assert client.get(f"{url}?org={lsj.pk}").status_code == 200
    assert client.get(url).status_code == 200  # their own by default
    foreign = city.org["party-440104003002"]
    assert client.get(f"{url}?org={foreign.pk}").status_code == 404
    assert client.post(f"{url}?org={foreign.pk}", {"action": "create"}).status_code == 404


def test_no_secretary_gets_403(city, client):
    client.force_login(city.user.resident)
    assert client.get("/party/setup/").status_code == 403
    assert client.get("/party/setup/rules/").status_code == 403


def test_edit_page_of_a_foreign_organisation_is_404(city, client, lsj):
    foreign = city.org["party-440104003002"]
    assert client.get(f"/party/setup/orgs/{lsj.pk}/").status_code == 200
    assert client.get(f"/party/setup/orgs/{foreign.pk}/").status_code == 404
    r = client.post(f"/party/setup/orgs/{foreign.pk}/", {"action": "edit", "edit-name": "改名", "edit-size": 1})
    assert r.status_code == 404
    assert PartyOrganisation.objects.get(pk=foreign.pk).unit.name == foreign.unit.name


def test_found_a_sub_organisation_and_edit_it(city, client, lsj):
    page = client.get(f"/party/org/?org={lsj.pk}").content.decode()
    assert f"/party/setup/?org={lsj.pk}" in page  # found from the secretary's own page
    r = client.post(f"/party/setup/?org={lsj.pk}", {
        "action": "create", "sub-name": "某餐饮公司党支部", "sub-org_type": OrgType.PRIVATE_ENTERPRISE,
        "sub-code": "party-food", "sub-size": "5", "sub-secretary": "resident"})
    assert r.status_code == 302
    sub = PartyOrganisation.objects.get(unit__code="party-food")
    assert sub.unit.parent_id == lsj.unit_id
    page = client.get(f"/party/setup/?org={lsj.pk}").content.decode()
    assert "某餐饮公司党支部" in page and "居民" in page  # its secretary's name
    r = client.post(f"/party/setup/orgs/{sub.pk}/", {
        "action": "edit", "edit-name": "某餐饮公司党总支", "edit-org_type": OrgType.PRIVATE_ENTERPRISE,
        "edit-size": "9", "edit-address": "", "edit-division_code": "440104003001"})
    assert r.status_code == 302
    sub.refresh_from_db()
    assert (sub.unit.name, sub.size, sub.division.code) == ("某餐饮公司党总支", 9, "440104003001")
    # a refusal shows next to its field
    r = client.post(f"/party/setup/?org={lsj.pk}", {
        "action": "create", "sub-name": "重复的网格党支部", "sub-org_type": OrgType.GRID_BRANCH,
        "sub-grid_code": "440104003001001"})
    assert r.status_code == 409
    assert "已有同类党组织" in r.content.decode()


def test_import_page_lists_bad_rows_and_loads_a_good_file(city, client, lsj):
    t = client.get("/party/setup/import/template.xlsx")
    assert t.status_code == 200
    assert list(next(load_workbook(io.BytesIO(t.content)).worksheets[0].iter_rows(values_only=True))) == HEADER
    bad = xlsx([row("甲公司党支部", "民营企业"), row("乙", "乱写的类型"), row("丙", "民营企业", size="-3")])
    r = client.post(f"/party/setup/import/?org={lsj.pk}", {"file": bad})
    assert r.status_code == 400
    html = r.content.decode()
    assert 'id="import-error-table"' in html and "<td>3</td>" in html and "<td>4</td>" in html
    assert not PartyOrganisation.objects.filter(unit__name="甲公司党支部").exists()
    r = client.post(f"/party/setup/import/?org={lsj.pk}", {"file": xlsx([row("甲公司党支部", "民营企业")])})
    assert r.status_code == 302
    assert PartyOrganisation.objects.get(unit__name="甲公司党支部").unit.parent_id == lsj.unit_id


def test_joint_committee_member_units(city, client, lsj):
    r = client.post(f"/party/setup/joint/?org={lsj.pk}", {
        "action": "add", "jm-unit": city.org["metro"].unit.code, "jm-position": "兼职委员单位",
        "jm-joined_on": "2024-03-01"})
    assert r.status_code == 302
    row_ = JointBodyMember.objects.get(body=lsj)
    assert row_.active and row_.unit == city.org["metro"].unit
    assert "广州地铁某分公司党委" in client.get(f"/party/setup/joint/?org={lsj.pk}").content.decode()
    r = client.post(f"/party/setup/joint/?org={lsj.pk}", {"action": "remove", "target": row_.pk, "rm-reason": "撤并"})
    assert r.status_code == 302
    row_.refresh_from_db()
    assert not row_.active
    assert AuditEntry.objects.filter(action="party.joint.member_removed", reason="撤并").exists()


def test_grid_instructor_named_and_ended(city, client, lsj, members):
    report = s.member_report_submit(members.alice, actor=city.user.alice)
    s.member_report_confirm(report, actor=city.user.lsj_secretary)
    grid = city.grid["440104003001002"]
    page = client.get(f"/party/setup/instructors/?org={lsj.pk}").content.decode()
    assert "张丽" in page
    r = client.post(f"/party/setup/instructors/?org={lsj.pk}", {
        "action": "assign", "gi-grid": grid.pk, "gi-member": members.alice.pk, "gi-started_on": "2024-01-01"})
    assert r.status_code == 302
    post = GridInstructor.objects.get(grid=grid)
    r = client.post(f"/party/setup/instructors/?org={lsj.pk}", {
        "action": "end", "target": post.pk, "end-ended_on": "2024-06-30"})
    assert r.status_code == 302
    post.refresh_from_db()
    assert post.ended_on == date(2024, 6, 30)


def test_studio_opened_representative_registered_and_on_duty(city, client, members):
    street = city.org["party-440104003"]
    client.force_login(city.user.bj_secretary)  # a street may register representatives
    comm = city.div["440104003002"]
    r = client.post(f"/party/setup/studios/?org={street.pk}", {
        "action": "studio", "so-community": comm.pk, "so-name": "龙藏党代表工作室", "so-opened_on": "2024-01-02"})
    assert r.status_code == 302
    studio = Studio.objects.get(community=comm)
    r = client.post(f"/party/setup/studios/?org={street.pk}", {
        "action": "rep", "rep-username": "bob", "rep-level": "district", "rep-term": "第十二次党代会"})
    assert r.status_code == 302
    rep = members.bob.user.party_representative_posts.get()
    r = client.post(f"/party/setup/studios/?org={street.pk}", {
        "action": "duty", "duty-studio": studio.pk, "duty-representative": rep.pk,
        "duty-starts_at": "2024-02-01T09:00", "duty-ends_at": "2024-02-01T12:00"})
    assert r.status_code == 302
    assert studio.duties.get().representative == rep
    # a community secretary sees the studios of their community only, and registers no representatives
    client.force_login(city.user.lsj_secretary)
    page = client.get(f"/party/setup/studios/?org={city.org['party-440104003001'].pk}").content.decode()
    assert "龙藏党代表工作室" not in page and 'id="rep-form"' not in page


def test_rule_sets_page(city, client, members):
    default = s.star_rule_set_default()
    s.star_rating_compute(members.alice, year=2024, actor=city.user.metro_secretary)
    client.force_login(city.user.lsj_secretary)
    page = client.get("/party/setup/rules/").content.decode()
    assert default.name in page and "新建版本" not in page  # secretaries read, administrators write
    assert client.post("/party/setup/rules/", {"action": "version", "target": default.pk,
                                               "ver-name": "x"}).status_code == 403
    client.force_login(city.user.root)
    r = client.post(f"/party/setup/rules/{default.pk}/", {"rs-name": default.name})
    assert r.status_code == 409
    r = client.post("/party/setup/rules/", {"action": "version", "target": default.pk, "ver-name": "2025 版"})
    assert r.status_code == 302
    v2 = su.StarRuleSet.objects.get(name="2025 版")
    form = {"rs-name": "2025 版", "rs-period": "year", "rs-base": "0", "rs-max_total": "100", "rs-t5": "95",
            "rs-t4": "85", "rs-t3": "75", "rs-t2": "65", "rs-report_required": "on",
            "item-TOTAL_FORMS": "2", "item-INITIAL_FORMS": "0", "item-MIN_NUM_FORMS": "0", "item-MAX_NUM_FORMS": "30",
            "item-0-code": "org_life", "item-0-label": "组织生活", "item-0-source": "attendance",
            "item-0-points": "2", "item-0-cap": "40", "item-1-code": "", "item-1-source": ""}
    r = client.post(f"/party/setup/rules/{v2.pk}/", form)
    assert r.status_code == 302, r.content.decode()[:3000]
    v2.refresh_from_db()
    assert v2.thresholds == ["95", "85", "75", "65"] and [i["code"] for i in v2.items] == ["org_life"]
    bad = {**form, "rs-t4": "99"}  # thresholds out of order: said on the form
    r = client.post(f"/party/setup/rules/{v2.pk}/", bad)
    assert r.status_code == 400 and "从高到低" in r.content.decode()


def test_administrator_picks_any_organisation(city, client):
    client.force_login(city.user.root)
    page = client.get("/party/setup/").content.decode()
    street = city.org["party-440104003"]
    assert 'id="setup-pick"' in page and f"/party/setup/?org={street.pk}" in page
    foreign = city.org["party-440104004001"]
    assert client.get(f"/party/setup/?org={foreign.pk}").status_code == 200
    assert client.get(f"/party/setup/orgs/{foreign.pk}/").status_code == 200
