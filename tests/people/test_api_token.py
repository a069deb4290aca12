"""API tokens: issued once, stored as a digest, accepted as `Authorization: Bearer`, refused when revoked or expired."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.people.auth import api_token_user
from huying.people.models import ApiToken
from huying.people.services import api_token_create, api_token_digest, api_token_revoke, user_create

LIST = "/api/v1/dispatch/orders"


@pytest.fixture
def user(db):
    return user_create(username="sys-12345", password="Huying-test-2026", actor=None, check_password=False)


def bearer(token: str, **kw) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1", **kw)


def test_a_token_is_shown_once_and_stored_only_as_its_digest(user):
    row, token = api_token_create(user, name="区级对接系统", actor=None)
    assert token.startswith("hy_") and len(token) > 40
    stored = ApiToken.objects.get(pk=row.pk)
    assert stored.digest == api_token_digest(token) and token not in (stored.digest, stored.prefix)
    assert stored.prefix == token[:10]
    entry = audit_trail(stored).get()
    assert entry.action == "people.api_token.created" and token not in str(entry.new)
    _other, second = api_token_create(user, name="另一个", actor=None)
    assert second != token


def test_the_api_accepts_a_bearer_token_as_its_user(user):
    _row, token = api_token_create(user, name="脚本", actor=None)
    assert Client(HTTP_HOST="127.0.0.1").get(LIST).status_code == 401
    response = bearer(token).get(LIST)
    assert response.status_code == 200 and response.json()["count"] == 0
    assert api_token_user(token) == user


def test_a_token_needs_no_csrf_token_where_a_session_would(user):
    _row, token = api_token_create(user, name="脚本", actor=None)
    # Past authentication the request fails on its missing Idempotency-Key, not on CSRF or login.
    response = bearer(token, enforce_csrf_checks=True).post(LIST, data={}, content_type="application/json")
    assert response.status_code not in (401, 403)
    anonymous = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True).post(LIST, data={},
                                                                             content_type="application/json")
    assert anonymous.status_code in (401, 403)


def test_revoked_expired_wrong_or_inactive_tokens_are_refused(user):
    now = timezone.now()
    row, token = api_token_create(user, name="临时", actor=None, expires_at=now + timedelta(hours=1))
    assert api_token_user(token, now=now) == user
    assert api_token_user(token, now=now + timedelta(hours=2)) is None  # expired
    assert api_token_user(token + "x") is None and api_token_user("") is None

    api_token_revoke(row, actor=None, reason="泄露")
    assert api_token_user(token) is None
    assert bearer(token).get(LIST).status_code == 401
    assert audit_trail(row).filter(action="people.api_token.revoked").count() == 1
    with pytest.raises(DomainError) as exc:
        api_token_revoke(row, actor=None)
    assert exc.value.status == 409

    _row, live = api_token_create(user, name="另一个", actor=None)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api_token_user(live) is None


def test_a_token_needs_a_purpose_and_a_future_expiry(user):
    with pytest.raises(DomainError) as exc:
        api_token_create(user, name=" ", actor=None)
    assert exc.value.field == "name"
    with pytest.raises(DomainError) as exc:
        api_token_create(user, name="过期", actor=None, expires_at=timezone.now() - timedelta(seconds=1))
    assert exc.value.field == "expires_at"
    assert ApiToken.objects.count() == 0
