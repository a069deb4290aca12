"""The Party admin: every model registered, audited; a rule set that rated someone is read-only."""

from datetime import date

import pytest
from django.apps import apps
from django.contrib import admin

from huying.core.adminkit import AuditedModelAdmin
from huying.core.models import AuditEntry
from huying.party import services as s
from huying.party.models import Need, Studio
from huying.party.services import studios as st

PARTY_MODELS = sorted(m._meta.model_name for m in apps.get_app_config("party").get_models())


def test_every_party_model_is_registered_audited():
    for model in apps.get_app_config("party").get_models():
        assert isinstance(admin.site._registry.get(model), AuditedModelAdmin), model.__name__


@pytest.mark.parametrize("model", PARTY_MODELS)
def test_lists_search_and_add_forms(city, client, model):
    client.force_login(city.user.root)
    base = f"/admin/party/{model}/"
    assert client.get(base).status_code == 200
    assert client.get(base, {"q": "流水井"}).status_code == 200
    assert client.get(base + "add/").status_code == 200


def test_change_and_add_in_admin_write_the_audit_entry(city, client):
    root = city.user.root
    client.force_login(root)
    comm = city.div["440104003001"]
    studio = st.studio_create(community=comm, name="流水井党代表工作室", actor=root, opened_on=date(2024, 1, 2))
    r = client.post(f"/admin/party/studio/{studio.pk}/change/", {
        "name": "流水井社区党代表工作室", "community": comm.pk, "host": studio.host_id, "address": "文德路12号",
        "opened_on": "2024-01-02", "active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.object.changed", target_id=str(studio.pk))
    assert entry.actor == root
    assert entry.old == {"name": "流水井党代表工作室", "address": ""}
    assert entry.new == {"name": "流水井社区党代表工作室", "address": "文德路12号"}
    assert Studio.objects.get(pk=studio.pk).name == "流水井社区党代表工作室"

    r = client.post("/admin/party/need/add/", {
        "community": comm.pk, "kind": "wish", "title": "帮独居老人换灯泡", "description": "", "requester_name": "",
        "status": "open", "posted_at_0": "2024-03-01", "posted_at_1": "09:00:00"})
    assert r.status_code == 302, r.content.decode()[:2000]
    need = Need.objects.get(title="帮独居老人换灯泡")
    created = AuditEntry.objects.get(action="admin.object.created", target_id=str(need.pk))
    assert created.actor == root and created.new["title"] == "帮独居老人换灯泡"


def test_visitor_phone_is_masked_in_the_audit(city, client):
    root = city.user.root
    client.force_login(root)
    studio = st.studio_create(community=city.div["440104003001"], name="工作室", actor=root, opened_on=date(2024, 1, 2))
    visit = st.studio_visit_record(studio, topic="路灯不亮", actor=root)
    r = client.post(f"/admin/party/studiovisit/{visit.pk}/change/", {
        "studio": studio.pk, "topic": "路灯不亮", "visitor_phone": "13912345678", "status": "open",
        "received_at_0": visit.received_at.strftime("%Y-%m-%d"), "received_at_1": visit.received_at.strftime("%H:%M:%S"),
        "content": "", "address": "", "visitor_name": "", "reply": "", "work_order_code": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.object.changed", target_id=str(visit.pk))
    assert "13912345678" not in str(entry.new) and entry.new["visitor_phone"]


def test_rule_set_that_rated_someone_is_read_only(city, client, members):
    default = s.star_rule_set_default()
    client.force_login(city.user.root)
    assert 'name="name"' in client.get(f"/admin/party/starruleset/{default.pk}/change/").content.decode()
    s.star_rating_compute(members.alice, year=2024, actor=city.user.metro_secretary)
    page = client.get(f"/admin/party/starruleset/{default.pk}/change/").content.decode()
    assert 'name="name"' not in page and 'name="thresholds"' not in page
