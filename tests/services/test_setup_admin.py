"""The services models in the Django admin (audited, service rules kept), the administrator's set-up
pages (catalogue, admission list publishing, 减负 cuts) and the single-worker forms."""

from datetime import date

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.utils import timezone

from huying.core.models import AuditEntry
from huying.services import models as m
from huying.services.admission import admission_list_create

from . import workers_setup

cw = workers_setup.cw  # the shared fixture


@pytest.fixture
def superuser(town):
    from huying.people.services import user_create

    return user_create(username="root", password="x", display_name="root", actor=None, is_staff=True,
                       is_superuser=True, check_password=False)


def test_every_services_model_is_in_the_admin_and_rule_bound_ones_are_read_only(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model in apps.get_app_config("services").get_models():
        assert model in admin.site._registry, model
    for model in (m.OpeningHours, m.DeskSetting, m.Appointment, m.DeskMatter, m.MatterHandover, m.CommunityTask,
                  m.AdmissionApplication, m.WorkerAssessment, m.GradeChange, m.PayScale):
        assert not admin.site._registry[model].has_change_permission(request), model
    assert {"status", "cut_on"} <= set(admin.site._registry[m.BurdenItem].get_readonly_fields(request))
    assert "status" in admin.site._registry[m.AdmissionList].get_readonly_fields(request)
    assert "grade" in admin.site._registry[m.CommunityWorker].get_readonly_fields(request)


def _position_post(town, **extra):
    return {"kind": m.PositionKind.COMMUNITY_CENTRE, "name": "流水井社区党群服务中心", "unit": town.unit.liushuijing.pk,
            "division": town.div["440104003001"].pk, "grid": "", "building": "", "lng": town.base, "lat": 23.125,
            "address": "文德路1号", "phone": "13800138000", "active": "on",
            "hours-TOTAL_FORMS": "0", "hours-INITIAL_FORMS": "0", **extra}


def test_admin_position_create_and_change_audited_with_phone_masked(client, town, superuser):
    client.force_login(superuser)
    r = client.post("/admin/services/serviceposition/add/", _position_post(town))
    assert r.status_code == 302, r.content.decode()[:3000]
    p = m.ServicePosition.objects.get()
    created = AuditEntry.objects.get(action="admin.object.created", target_id=str(p.pk))
    assert created.actor == superuser and created.new["name"] == "流水井社区党群服务中心"
    assert "13800138000" not in str(created.new)
    r = client.post(f"/admin/services/serviceposition/{p.pk}/change/", _position_post(town, name="流水井中心"))
    assert r.status_code == 302
    changed = AuditEntry.objects.get(action="admin.object.changed", target_id=str(p.pk))
    assert changed.old == {"name": "流水井社区党群服务中心"} and changed.new == {"name": "流水井中心"}


def test_admin_position_keeps_the_services_rules(client, town, superuser):
    client.force_login(superuser)
    # a community centre placed in a street: refused next to the field, nothing saved
    r = client.post("/admin/services/serviceposition/add/", _position_post(town, division=town.div["440104003"].pk))
    assert r.status_code == 200 and "社区中心须设在社区" in r.content.decode()
    assert not m.ServicePosition.objects.exists()


def test_admin_burden_item_create_and_change_audited_status_read_only(client, superuser):
    client.force_login(superuser)
    r = client.post("/admin/services/burdenitem/add/", {"kind": "form", "name": "安全生产月报", "department_name": "应急局",
                                                        "note": "", "status": "cut"})
    assert r.status_code == 302
    entry = m.BurdenItem.objects.get()
    assert entry.status == m.BurdenStatus.KEPT  # status only changes by burden_item_cut
    assert AuditEntry.objects.filter(action="admin.object.created", target_id=str(entry.pk)).exists()
    r = client.post(f"/admin/services/burdenitem/{entry.pk}/change/", {"kind": "form", "name": "安全生产季报",
                                                                       "department_name": "应急局", "note": ""})
    assert r.status_code == 302
    row = AuditEntry.objects.get(action="admin.object.changed", target_id=str(entry.pk))
    assert row.old == {"name": "安全生产月报"} and row.new == {"name": "安全生产季报"}


# -- administrators' set-up pages -------------------------------------------------------------------------

def test_admin_pages_refused_to_unit_leaders(client, town):
    client.force_login(town.user.bj_staff)
    for url in ("/services/setup/catalogue/", "/services/setup/catalogue/new/", "/services/setup/admission/",
                "/services/setup/burden/"):
        assert client.get(url).status_code == 403, url


def test_admin_creates_and_edits_a_catalogue_item(client, superuser):
    client.force_login(superuser)
    r = client.post("/services/setup/catalogue/new/", {"code": "SHBZ", "name": "最低生活保障申请", "level": "street",
                                                       "documents": "身份证\n户口簿\n", "time_limit_days": "20",
                                                       "category": "社会救助"})
    assert r.status_code == 302
    item = m.ServiceItem.objects.get(code="SHBZ")
    assert item.documents == ["身份证", "户口簿"] and item.time_limit_days == 20
    r = client.post(f"/services/setup/catalogue/{item.pk}/", {"code": "IGNORED", "name": "低保申请", "level": "street",
                                                              "time_limit_days": "400"})
    assert r.status_code == 400 and r.context["form"].errors["time_limit_days"]
    r = client.post(f"/services/setup/catalogue/{item.pk}/", {"name": "低保申请", "level": "street", "active": "on"})
    assert r.status_code == 302
    item.refresh_from_db()
    assert (item.code, item.name, item.documents) == ("SHBZ", "低保申请", [])
    assert AuditEntry.objects.filter(action="services.item.updated", target_id=str(item.pk)).exists()
    r = client.post("/services/setup/catalogue/new/", {"code": "SHBZ", "name": "重复", "level": "street"})
    assert r.status_code == 409 and r.context["form"].errors["code"]


def test_admin_drafts_and_publishes_a_list_version(client, superuser):
    old = admission_list_create(version="2019", title="旧清单", actor=superuser)
    client.force_login(superuser)
    client.post(f"/services/setup/admission/{old.pk}/publish/")
    old.refresh_from_db()
    assert old.status == m.AdmissionListStatus.IN_FORCE
    r = client.post("/services/setup/admission/", {"version": "2024", "title": "新清单", "copy_from": old.pk})
    assert r.status_code == 302
    new = m.AdmissionList.objects.get(version="2024")
    assert new.status == m.AdmissionListStatus.DRAFT
    assert "发布施行" in client.get("/services/setup/admission/").content.decode()
    client.post(f"/services/setup/admission/{new.pk}/publish/")
    new.refresh_from_db()
    old.refresh_from_db()
    assert new.status == m.AdmissionListStatus.IN_FORCE and old.status == m.AdmissionListStatus.SUPERSEDED
    assert new.published_on == timezone.localdate()


def test_admin_cuts_a_burden_entry(client, superuser):
    entry = m.BurdenItem.objects.create(kind="plaque", name="创建文明社区挂牌")
    client.force_login(superuser)
    assert "创建文明社区挂牌" in client.get("/services/setup/burden/").content.decode()
    client.post(f"/services/setup/burden/{entry.pk}/cut/", {"reason": "清理挂牌"})
    entry.refresh_from_db()
    assert entry.status == m.BurdenStatus.CUT and entry.cut_on == timezone.localdate()
    assert AuditEntry.objects.get(action="services.burden.cut").reason == "清理挂牌"
    html = client.get("/services/setup/burden/").content.decode()
    assert "创建文明社区挂牌" not in html.split('id="burden-kept"', 1)[1]


# -- one community worker ---------------------------------------------------------------------------------

def test_manager_registers_one_worker_and_records_an_assessment(client, cw):
    client.force_login(cw.user.bj_staff)
    assert "440104003001" in client.get("/services/setup/workers/").content.decode()
    url = "/services/setup/workers/440104003001/"
    r = client.post(url, {"action": "register", "w-name": "陈晓", "w-phone": "13900001111", "w-post": "staff",
                          "w-started_on": "2019-03-01", "w-education": "bachelor", "w-qualification": ""})
    assert r.status_code == 302, r.content.decode()[:3000]
    worker = m.CommunityWorker.objects.get(user__phone="13900001111")
    assert worker.unit == cw.unit.liushuijing and worker.user.display_name == "陈晓"
    assert not worker.user.has_usable_password()
    r = client.post(url, {"action": "register", "w-name": "陈晓", "w-phone": "13900001111", "w-post": "staff",
                          "w-started_on": "2019-03-01", "w-education": "bachelor"})
    assert r.status_code == 400 and "花名册" in r.content.decode()
    year = timezone.localdate().year - 1
    p = f"a{worker.pk}-"
    r = client.post(url, {"action": "assess", "worker": worker.pk, p + "year": year, p + "result": "excellent"})
    assert r.status_code == 302
    assert worker.assessments.get().result == "excellent"
    r = client.post(url, {"action": "assess", "worker": worker.pk, p + "year": year, p + "result": "competent"})
    assert r.status_code == 409 and r.context["workers"][0].form.errors["year"]
    r = client.post(url, {"action": "register", "w-name": "x", "w-phone": "13900002222", "w-post": "staff",
                          "w-started_on": date(2100, 1, 1).isoformat(), "w-education": "bachelor"})
    assert r.status_code == 400 and r.context["form"].errors["started_on"]


def test_other_street_cannot_manage_this_roster(client, cw):
    client.force_login(cw.user.lr_staff)
    assert client.get("/services/setup/workers/440104003001/").status_code == 404
    client.force_login(cw.user.lsj_worker)
    assert client.get("/services/setup/workers/").status_code == 403


def test_every_services_admin_page_renders(client, positions, superuser):
    client.force_login(superuser)
    for model in apps.get_app_config("services").get_models():
        base = f"/admin/services/{model._meta.model_name}/"
        assert client.get(base).status_code == 200, base
        model_admin = admin.site._registry[model]
        request = RequestFactory().get(base)
        request.user = superuser
        if model_admin.has_add_permission(request):
            assert client.get(base + "add/").status_code == 200, base
    assert client.get(f"/admin/services/serviceposition/{positions.centre.pk}/change/").status_code == 200
    assert client.get(f"/admin/services/serviceitem/{positions.item.pk}/change/").status_code == 200
