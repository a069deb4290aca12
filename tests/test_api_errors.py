"""Every refusal of the JSON API has the documented shape {code, message, field?, details?}: the
framework's own (validation, authentication, unknown path, wrong method, unparsable body, 404 from
Http404, throttling) as well as the services' DomainError."""

import json

import pytest


@pytest.fixture
def auth(db):
    from huying.people.services import api_token_create, roles_ensure, user_create

    roles_ensure()
    root = user_create(username="root", password="x", actor=None, is_superuser=True, check_password=False)
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(root, name='t', actor=None)[1]}"}


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) <= {"code", "message", "field", "details"}, body
    assert body["code"] == code, body
    assert body["message"].strip()
    return body


def test_no_token_is_401(client, db):
    _error(client.get("/api/v1/dispatch/orders"), 401, "auth.required")


def test_wrong_token_is_401(client, db):
    _error(client.get("/api/v1/dispatch/orders", HTTP_AUTHORIZATION="Bearer nope"), 401, "auth.required")


def test_validation_error_names_the_first_field_and_lists_all(client, auth):
    resp = client.get("/api/v1/dispatch/orders?page=0&page_size=9999", **auth)
    body = _error(resp, 422, "validation_error")
    assert body["field"] == "page"
    errors = body["details"]["errors"]
    assert [(e["field"], e["location"]) for e in errors] == [("page", "query"), ("page_size", "query")]
    assert all(e["message"] for e in errors)


def test_body_validation_error_names_the_body_field(client, auth):
    resp = client.post("/api/v1/dispatch/orders", json.dumps({"description": "没有标题"}),
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY="k", **auth)
    body = _error(resp, 422, "validation_error")
    assert body["field"] == "title"
    assert body["details"]["errors"][0]["location"] == "body"


def test_unparsable_body_is_400(client, auth):
    resp = client.post("/api/v1/dispatch/orders", "{not json", content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY="k", **auth)
    _error(resp, 400, "bad_request")


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/dispatch/orders/a/b/c",
                                  "/api/v1/dispatch/orders/a%2Fb"])
def test_unknown_path_is_a_json_404(client, auth, path):
    _error(client.get(path, **auth), 404, "not_found")


def test_unknown_path_takes_a_post_without_csrf(auth):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    resp = client.post("/api/v1/nothing-here", "{}", content_type="application/json", **auth)
    _error(resp, 404, "not_found")


def test_wrong_method_is_a_json_405_with_allow(client, auth):
    resp = client.delete("/api/v1/dispatch/orders", **auth)
    _error(resp, 405, "method_not_allowed")
    assert set(resp["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_http404_from_a_handler_is_the_documented_body(client, auth, monkeypatch):
    from django.http import Http404

    from huying.dispatch import selectors

    def missing(**kwargs):
        raise Http404("gone")

    monkeypatch.setattr(selectors, "work_order_get", missing)
    _error(client.get("/api/v1/dispatch/orders/X", **auth), 404, "not_found")


@pytest.mark.parametrize("exc", [OverflowError("date value out of range"), "data_error"])
def test_value_the_database_cannot_hold_is_400_not_500(client, auth, monkeypatch, exc):
    from django.db import DataError

    from huying.dispatch import selectors

    def overflow(**kwargs):
        raise DataError("integer out of range") if exc == "data_error" else exc

    monkeypatch.setattr(selectors, "work_order_get", overflow)
    _error(client.get("/api/v1/dispatch/orders/X", **auth), 400, "bad_input")


def test_domain_error_keeps_its_code_and_field(client, auth):
    body = _error(client.get("/api/v1/dispatch/orders/NOPE", **auth), 404, "dispatch.not_found")
    assert "field" not in body or body["field"]


def test_throttled_is_429_with_retry_after(rf, db):
    from ninja.errors import Throttled

    from huying.api import api

    resp = api.on_exception(rf.post("/api/v1/dispatch/orders"), Throttled(wait=41.2))
    assert resp.status_code == 429
    body = json.loads(resp.content)
    assert body["code"] == "throttled" and body["message"]
    assert resp["Retry-After"] == "41"


def test_throttled_write_through_the_api_is_429(client, auth, settings):
    settings.HUYING_RATES = {**settings.HUYING_RATES, "api": "1/m"}
    post = lambda: client.post("/api/v1/dispatch/orders", "{}", content_type="application/json",  # noqa: E731
                               HTTP_IDEMPOTENCY_KEY="k", **auth)
    post()
    _error(post(), 429, "throttled")
