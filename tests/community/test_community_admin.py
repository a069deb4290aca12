"""The community admin: every model registered and audited, lists/search/add pages open, a change
is written to the audit log, and phone numbers are masked in the lists and in the log."""

import pytest
from django.apps import apps
from django.contrib import admin

from huying.community import projects
from huying.community import volunteers as v
from huying.community.models import CanteenEnrolment, RiverStretch
from huying.core.adminkit import AuditedModelAdmin
from huying.core.models import AuditEntry
from huying.people.models import RoleCode
from huying.people.services import membership_grant
from tests.party.conftest import city  # noqa: F401

COMMUNITY_MODELS = list(apps.get_app_config("community").get_models())


def test_every_community_model_is_registered_audited():
    assert len(COMMUNITY_MODELS) >= 25
    missing = [m.__name__ for m in COMMUNITY_MODELS
               if not isinstance(admin.site._registry.get(m), AuditedModelAdmin)]
    assert not missing, missing


def test_lists_search_and_add_forms_open(city, client):  # noqa: F811
    client.force_login(city.user.root)
    for model in COMMUNITY_MODELS:
        base = f"/admin/community/{model._meta.model_name}/"
        assert client.get(base).status_code == 200, base
        assert client.get(base, {"q": "流水井"}).status_code == 200, base
        assert client.get(base + "add/").status_code == 200, base


def test_change_in_admin_writes_the_audit_entry(city, client):  # noqa: F811
    root = city.user.root
    grid = city.grid["440104003001001"]
    stretch = v.river_stretch_create(name="东濠涌", grids=[grid], actor=root)
    client.force_login(root)
    r = client.post(f"/admin/community/riverstretch/{stretch.pk}/change/", {
        "name": "东濠涌流水井段", "community": stretch.community_id, "grids": str(grid.pk), "geometry": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.object.changed", target_id=str(stretch.pk))
    assert entry.actor == root
    assert entry.old == {"name": "东濠涌"} and entry.new == {"name": "东濠涌流水井段"}
    assert RiverStretch.objects.get(pk=stretch.pk).name == "东濠涌流水井段"


def test_phones_are_masked_in_the_list_and_the_log(city, client):  # noqa: F811
    root = city.user.root
    worker = city.person("cw")
    membership_grant(worker, unit=city.unit.residents, role_code=RoleCode.COMMUNITY_WORKER, actor=None)
    canteen = projects.canteen_create(city.div["440104003001"], name="流水井长者饭堂", actor=worker)
    e = projects.canteen_enrol(canteen, name="陈伯", age=80, phone="13912345678", actor=worker)
    client.force_login(root)
    page = client.get("/admin/community/canteenenrolment/").content.decode()
    assert "139****5678" in page and "13912345678" not in page
    r = client.post(f"/admin/community/canteenenrolment/{e.pk}/change/", {
        "canteen": canteen.pk, "name": "陈伯", "phone": "13987654321", "age": 80, "household_type": "ordinary",
        "user": "", "enrolled_on": e.enrolled_on.isoformat()})
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.object.changed", target_id=str(e.pk),
                                   target_type__icontains="canteenenrolment")
    assert set(entry.new) == {"phone"}
    assert "13987654321" not in str(entry.new) and "13912345678" not in str(entry.old)
    assert CanteenEnrolment.objects.get(pk=e.pk).phone == "13987654321"


@pytest.mark.parametrize("url", ["/admin/community/volunteerteam/", "/admin/community/hall/"])
def test_admin_is_for_administrators_only(city, client, url):  # noqa: F811
    client.force_login(city.user.resident)
    assert client.get(url).status_code == 302  # sent to the admin login
