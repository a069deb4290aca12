"""The API-token admin: issued through the service and shown once, read-only, revoked with a reason."""

import re

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from huying.core.audit import audit_trail
from huying.people.auth import api_token_user
from huying.people.models import ApiToken
from huying.people.services import api_token_create, api_token_digest, user_create

ADD = "admin:people_apitoken_add"
LIST = "admin:people_apitoken_changelist"


@pytest.fixture
def admin_client(client, db):
    root = user_create(username="root", password="x", actor=None, check_password=False)
    root.is_staff = root.is_superuser = True
    root.save()
    client.force_login(root)
    client.root = root
    return client


@pytest.fixture
def holder(db):
    return user_create(username="sys-12345", password="x", actor=None, check_password=False)


def test_issuing_shows_the_token_once_and_keeps_only_its_digest(admin_client, holder):
    assert admin_client.get(reverse(ADD)).status_code == 200
    r = admin_client.post(reverse(ADD), {"username": "sys-12345", "name": "12345 热线对接", "expires_at": ""})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    token = re.search(r'id="api-token"[^>]*>([^<]+)<', r.content.decode()).group(1)
    row = ApiToken.objects.get()
    assert row.user == holder and row.name == "12345 热线对接" and row.digest == api_token_digest(token)
    assert api_token_user(token) == holder
    assert audit_trail(row).get().actor_id == admin_client.root.pk
    # The list and the record never show it again.
    assert token not in admin_client.get(reverse(LIST)).content.decode()
    assert token not in admin_client.get(reverse("admin:people_apitoken_change", args=[row.pk])).content.decode()


def test_issuing_refusals_are_shown_and_store_nothing(admin_client, holder):
    r = admin_client.post(reverse(ADD), {"username": "nobody", "name": "x"})
    assert "没有这个用户" in r.content.decode()
    r = admin_client.post(reverse(ADD), {"username": "sys-12345", "name": "过期的", "expires_at": "2020-01-01T10:00"})
    assert "过期时间须晚于现在" in r.content.decode()
    assert ApiToken.objects.count() == 0


def test_a_token_cannot_be_edited_or_deleted(admin_client, holder):
    row, _token = api_token_create(holder, name="脚本", actor=None)
    url = reverse("admin:people_apitoken_change", args=[row.pk])
    html = admin_client.get(url).content.decode()
    assert 'name="_save"' not in html
    assert admin_client.post(url, {"name": "改名"}).status_code == 403
    assert admin_client.get(reverse("admin:people_apitoken_delete", args=[row.pk])).status_code == 403
    assert ApiToken.objects.get().name == "脚本"


def test_revoking_asks_for_a_reason_and_records_it(admin_client, holder):
    row, token = api_token_create(holder, name="脚本", actor=None)
    base = {"action": "revoke", helpers.ACTION_CHECKBOX_NAME: [row.pk]}
    r = admin_client.post(reverse(LIST), base)
    assert r.status_code == 200 and "吊销原因" in r.content.decode()  # the confirmation page
    r = admin_client.post(reverse(LIST), {**base, "confirm": "1", "reason": ""})
    assert r.status_code == 200 and ApiToken.objects.get().revoked_at is None
    r = admin_client.post(reverse(LIST), {**base, "confirm": "1", "reason": "对接系统已下线"})
    assert r.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None and api_token_user(token) is None
    entry = audit_trail(row).filter(action="people.api_token.revoked").get()
    assert entry.reason == "对接系统已下线" and entry.actor_id == admin_client.root.pk
