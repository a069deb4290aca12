"""Ordinary bad input is refused with the documented error body, never a 500: pages past the end,
ids that do not fit a 64-bit column, years and dates far outside 1900–2100. On SQLite these used to
be "datatype mismatch", on PostgreSQL "bigint out of range", and in Python an OverflowError.

Run on both databases (the suite runs once on each in CI).
"""

import pytest

BIG = "99999999999999999999"  # > 2**63 - 1


@pytest.fixture
def auth(db):
    from huying.people.services import api_token_create, roles_ensure, user_create

    roles_ensure()
    root = user_create(username="root", password="x", actor=None, is_superuser=True, check_password=False)
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(root, name='t', actor=None)[1]}"}


# (GET url, the field the error names)
API_QUERIES = [
    (f"/api/v1/dispatch/orders?page={BIG}", "page"),
    ("/api/v1/dispatch/orders?page=10001", "page"),
    ("/api/v1/dispatch/orders?page=0", "page"),
    (f"/api/v1/dispatch/orders?lead_unit={BIG}", "lead_unit"),
    (f"/api/v1/dispatch/triage?page={BIG}", "page"),
    (f"/api/v1/party/members?page={BIG}", "page"),
    (f"/api/v1/party/members?organisation={BIG}", "organisation"),
    (f"/api/v1/party/members/{BIG}", "member_id"),
    (f"/api/v1/party/member-reports/pending?page={BIG}", "page"),
    (f"/api/v1/party/service-records?page={BIG}", "page"),
    (f"/api/v1/party/service-records?member={BIG}", "member"),
    ("/api/v1/party/service-records?year=-1", "year"),
    ("/api/v1/party/service-records?year=10000", "year"),
    ("/api/v1/party/summary?year=-1", "year"),
    ("/api/v1/party/summary?year=10000", "year"),
    (f"/api/v1/party/studios?page={BIG}", "page"),
    (f"/api/v1/party/studios/{BIG}/visits", "studio_id"),
    (f"/api/v1/party/studios/1/visits?page={BIG}", "page"),
    ("/api/v1/party/studios/1/roster?start=0001-01-01T00:00:00%2B08:00&end=2026-01-01T00:00:00Z", "start"),
    ("/api/v1/party/studios/1/roster?start=2026-01-01T00:00:00Z&end=9999-12-31T23:59:59-23:59", "end"),
]


@pytest.mark.parametrize(("url", "field"), API_QUERIES)
def test_api_query_out_of_range_is_422_with_the_field(client, auth, url, field):
    resp = client.get(url, **auth)
    assert resp.status_code == 422, resp.content
    body = resp.json()
    assert body["code"] == "validation_error"
    assert body["field"] == field
    assert field in body["message"]
    assert body["details"]["errors"][0]["field"] == field


# (POST url, JSON body, the field the error names)
API_BODIES = [
    ("/api/v1/dispatch/orders", {"title": "路灯不亮", "unit_id": int(BIG)}, "unit_id"),
    ("/api/v1/dispatch/orders", {"title": "路灯不亮", "lng": 1e400}, "lng"),  # JSON's 1e400 is infinity
    ("/api/v1/dispatch/orders/X/dispatch", {"version": int(BIG)}, "version"),
    ("/api/v1/dispatch/orders/X/dispatch", {"version": 1, "cohandler_ids": [1, int(BIG)]}, "cohandler_ids.1"),
    ("/api/v1/dispatch/orders/X/extensions", {"version": 1, "new_due": "9999-12-31T23:59:59-23:59"},
     "new_due"),
    ("/api/v1/dispatch/orders/X/split", {"version": 1, "parts": [{"unit_id": int(BIG), "title": "a"}]},
     "parts.0.unit_id"),
    (f"/api/v1/dispatch/extensions/{BIG}/decide", {"approve": True}, "ext_id"),
    ("/api/v1/party/service-records", {"kind": "other", "hours": "1", "served_on": "0001-01-01"},
     "served_on"),
    ("/api/v1/party/service-records", {"kind": "other", "hours": "1", "served_on": "2026-01-01",
                                       "member_id": int(BIG)}, "member_id"),
    ("/api/v1/party/studios/1/visits", {"topic": "x", "received_at": "0001-01-01T00:00:00+08:00"},
     "received_at"),
]


@pytest.mark.parametrize(("url", "payload", "field"), API_BODIES)
def test_api_body_out_of_range_is_422_with_the_field(client, auth, url, payload, field):
    import json

    resp = client.post(url, json.dumps(payload), content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY="k-1", **auth)
    assert resp.status_code == 422, resp.content
    body = resp.json()
    assert body["code"] == "validation_error"
    assert body["field"] == field


@pytest.mark.parametrize("params", [
    {"start_date": "0001-01-01"},
    {"start_date": "9999-12-31T23:59:59-23:59"},
    {"end_date": "0001-01-01"},
    {"end_date": "9999-12-31"},
    {"start_date": "1899-12-31", "end_date": "1900-01-02"},
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_far_dates_are_400(client, db, params, fmt):
    resp = client.get(f"/open311/v2/requests.{fmt}", params)
    assert resp.status_code == 400, resp.content
    if fmt == "json":
        [error] = resp.json()
        assert error["code"] == 400
        assert "1900" in error["description"]


def test_open311_dates_inside_the_bounds_still_work(client, db):
    resp = client.get("/open311/v2/requests.json",
                      {"start_date": "2100-10-15", "end_date": "2100-12-31T23:59:59-23:59"})
    assert resp.status_code == 200, resp.content
    assert resp.json() == []
