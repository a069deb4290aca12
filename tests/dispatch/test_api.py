"""The JSON API: idempotent create, scoped reads, transitions with versions (stale → 409)."""

import base64
import json

import pytest
from django.test import Client

from huying.dispatch.models import State, WorkOrder

from .images import PDF, PNG_1x1

URL = "/api/v1/dispatch"


@pytest.fixture
def as_user(world):
    def _as(name):
        client = Client()
        client.force_login(world.users[name])
        return client

    return _as


def post(client, path, body, **headers):
    return client.post(f"{URL}{path}", data=json.dumps(body), content_type="application/json", headers=headers)


def body(world, **kw):
    lng, lat = world.point("a")
    out = {"subject": "Q010101", "request_type": "complaint", "title": "路灯不亮", "description": "整条路都黑",
           "lng": lng, "lat": lat, "reporter_name": "李四", "reporter_phone": "13900001111"}
    out.update(kw)
    return out


def test_create_needs_a_login_and_an_idempotency_key(client, world):
    assert post(client, "/orders", body(world), **{"Idempotency-Key": "a"}).status_code == 401
    client.force_login(world.users["resident"])
    r = post(client, "/orders", body(world))
    assert r.status_code == 422 and WorkOrder.objects.count() == 0


@pytest.mark.parametrize("territory_mode", ["real"])
def test_full_path_over_http_with_versions(as_user, world):
    c = as_user("resident")
    r = post(c, "/orders", body(world, photos=[{"name": "p.png", "content_base64": base64.b64encode(PNG_1x1).decode()}]),
             **{"Idempotency-Key": "http-1"})
    assert r.status_code == 201, r.content
    order = r.json()
    assert order["state"] == "submitted" and order["reporter_phone"] == "13900001111"
    again = post(c, "/orders", body(world, photos=[{"name": "p.png",
                                                   "content_base64": base64.b64encode(PNG_1x1).decode()}]),
                 **{"Idempotency-Key": "http-1"})
    assert again.status_code == 201 and again.json()["code"] == order["code"]
    clash = post(c, "/orders", body(world, title="别的事"), **{"Idempotency-Key": "http-1"})
    assert clash.status_code == 422 and clash.json()["code"] == "dispatch.idempotency_mismatch"
    code = order["code"]

    d = as_user("dispatcher")
    r = post(d, f"/orders/{code}/dispatch", {"version": 1})
    assert r.status_code == 200 and r.json()["lead_unit_id"] == world.units["community_a"].pk
    assert r.json()["reporter_phone"] == "139****1111"  # a dispatcher sees it masked
    h = as_user("comm_a")
    stale = post(h, f"/orders/{code}/accept", {"version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "dispatch.stale"
    r = post(h, f"/orders/{code}/accept", {"version": 2})
    assert r.status_code == 200 and r.json()["actions"] == ["resolve", "suspend", "extension_request"]
    assert r.json()["reporter_phone"] == "13900001111"  # the assigned handler sees it
    r = post(h, f"/orders/{code}/resolve", {"version": 3, "result": "已更换灯泡"})
    assert r.status_code == 200
    o = as_user("operator")
    r = post(o, f"/orders/{code}/callback", {"version": 4, "satisfaction": "satisfied", "solved": True})
    assert r.status_code == 200 and r.json()["state"] == "closed"
    assert [s["action"] for s in r.json()["timeline"]] == ["created", "dispatched", "accepted", "resolved", "closed"]
    forbidden = post(o, f"/orders/{code}/accept", {"version": 5})
    assert forbidden.status_code in (403, 409)


def test_bad_input_over_http_is_a_clear_4xx(as_user, world):
    c = as_user("resident")
    cases = [
        (body(world, lng=None, lat=None), 400, "location"),
        (body(world, lng=116.397, lat=39.909), 422, "location"),
        (body(world, subject="ZZZ"), 400, "subject"),
        (body(world, photos=[{"name": "x.pdf", "content_base64": base64.b64encode(PDF).decode()}]), 415, "photos"),
        (body(world, photos=[{"name": "x.png", "content_base64": "!!notbase64"}]), 415, "photos"),
    ]
    for i, (payload, status, field) in enumerate(cases):
        r = post(c, "/orders", payload, **{"Idempotency-Key": f"bad-{i}"})
        assert r.status_code == status, (payload, r.content)
        assert r.json()["field"] == field and r.json()["message"]
    assert WorkOrder.objects.count() == 0


def test_list_is_scoped_filtered_and_paginated(as_user, world):
    c = as_user("resident")
    for i in range(3):
        assert post(c, "/orders", body(world, title=f"事{i}"), **{"Idempotency-Key": f"l-{i}"}).status_code == 201
    lng, lat = world.point("b")
    assert post(c, "/orders", body(world, lng=lng, lat=lat), **{"Idempotency-Key": "l-b"}).status_code == 201
    d = as_user("dispatcher")
    r = d.get(f"{URL}/orders", {"page_size": 2, "page": 2})
    assert r.status_code == 200 and r.json()["count"] == 4 and len(r.json()["results"]) == 2
    r = d.get(f"{URL}/orders", {"area": world.streets[1].code})
    assert r.json()["count"] == 1
    s = as_user("street_b")
    assert s.get(f"{URL}/orders").json()["count"] == 1
    code_a = d.get(f"{URL}/orders", {"area": world.streets[0].code}).json()["results"][0]["code"]
    assert s.get(f"{URL}/orders/{code_a}").status_code == 404
    r = as_user("resident2").get(f"{URL}/orders")
    assert r.json()["count"] == 0


def test_classification_lists(as_user, world):
    c = as_user("resident")
    types = c.get(f"{URL}/request-types").json()
    assert [t["name"] for t in types] == ["咨询", "求助", "投诉", "举报", "建议"]
    tops = c.get(f"{URL}/subjects").json()
    assert len(tops) == 28 and c.get(f"{URL}/subjects", {"parent": "E01"}).json()[3]["name"] == "道路不洁"


@pytest.fixture
def receivers_off():
    """Dispatch's signal receivers (outbox, rollups) read what they need; these tests count intake's reads."""
    from django.dispatch import Signal

    from huying.dispatch import signals

    saved = {}
    for sig in [v for v in vars(signals).values() if isinstance(v, Signal)]:
        saved[sig] = sig.receivers
        sig.receivers = []
        sig.sender_receivers_cache.clear()
    yield
    for sig, receivers in saved.items():
        sig.receivers = receivers
        sig.sender_receivers_cache.clear()


def test_create_answers_from_what_intake_wrote(as_user, world, settings, receivers_off):
    """The create response has the detail shape, and its timeline and co-handlers come from the rows
    intake just wrote, not from reading them back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from huying.dispatch.models import RoutingRule, Subject

    settings.HUYING_DISPATCH_AUTO = True
    RoutingRule.objects.create(priority=1, name="路面归城管", subject=Subject.objects.get(code="Q01"),
                               target_unit=world.units["dept"])
    c = as_user("resident")
    post(c, "/orders", body(world, title="预热"), **{"Idempotency-Key": "warm"})
    with CaptureQueriesContext(connection) as ctx:
        r = post(c, "/orders", body(world), **{"Idempotency-Key": "fresh-1"})
    assert r.status_code == 201, r.content
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT")]
    # The lead unit's name comes from the per-process unit rows (dispatch.reference.unit).
    for table in ("dispatch_transition", "dispatch_workorder_cohandlers", "people_unit"):
        assert not [q for q in reads if f'FROM "{table}"' in q], table
    created = r.json()
    assert created["state"] == "dispatched" and created["lead_unit"] == "城市管理和综合执法局"
    assert created["cohandler_ids"] == [world.units["community_a"].pk]
    assert [s["action"] for s in created["timeline"]] == ["created", "dispatched"]
    # Exactly what reading the order answers, field for field.
    assert created == c.get(f"{URL}/orders/{created['code']}").json()
    # A retry is answered from the stored order, the same way.
    assert post(c, "/orders", body(world), **{"Idempotency-Key": "fresh-1"}).json() == created


def test_an_operator_overrides_routing_when_creating_over_the_api(as_user, world):
    c = as_user("operator")
    payload = body(world, channel="hotline", unit_id=world.units["dept"].pk)
    r = post(c, "/orders", payload, **{"Idempotency-Key": "ov-1"})
    assert r.status_code == 400 and r.json()["field"] == "override_reason"
    r = post(c, "/orders", {**payload, "override_reason": "占道经营归城管"}, **{"Idempotency-Key": "ov-1"})
    assert r.status_code == 201, r.content
    order = r.json()
    assert order["state"] == "dispatched" and order["lead_unit_id"] == world.units["dept"].pk
    assert order["timeline"][-1]["note"] == "占道经营归城管"
    r = post(as_user("resident"), "/orders", {**payload, "channel": "api", "override_reason": "想指定"},
             **{"Idempotency-Key": "ov-2"})
    assert r.status_code == 403 and r.json()["field"] == "unit"
    assert WorkOrder.objects.count() == 1


# -- merge (合并) and split (拆分): the same services, versions and scope as the pages --

def test_merge_a_duplicate_over_the_api(world, report, as_user):
    first, dup = report(), report(title="又是路面坑洼")
    c = as_user("dispatcher")
    stale = post(c, f"/orders/{dup.code}/merge", {"into": first.code, "reason": "同一坑洼", "version": 99})
    assert stale.status_code == 409
    no_reason = post(c, f"/orders/{dup.code}/merge", {"into": first.code, "version": dup.version})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    missing = post(c, f"/orders/{dup.code}/merge", {"into": "GZ-NOPE", "reason": "同一坑洼", "version": dup.version})
    assert missing.status_code == 404
    r = post(c, f"/orders/{dup.code}/merge", {"into": first.code, "reason": "同一坑洼", "version": dup.version})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == State.MERGED
    dup.refresh_from_db()
    assert dup.merged_into_id == first.pk
    # A resident cannot merge.
    assert post(as_user("resident"), f"/orders/{first.code}/merge",
                {"into": dup.code, "reason": "x", "version": first.version}).status_code in (403, 404)


def test_split_over_the_api(world, report, as_user):
    order = report()
    c = as_user("dispatcher")
    one = post(c, f"/orders/{order.code}/split", {"reason": "涉及两家单位", "version": order.version,
                                                  "parts": [{"unit_id": world.units["community_a"].pk, "title": "甲"}]})
    assert one.status_code == 400 and one.json()["code"] == "dispatch.split_count"
    assert WorkOrder.objects.filter(parent=order).count() == 0
    parts = [{"unit_id": world.units[k].pk, "title": f"分项-{k}"} for k in ("community_a", "street_a")]
    r = post(c, f"/orders/{order.code}/split", {"reason": "涉及两家单位", "parts": parts, "version": order.version})
    assert r.status_code == 200, r.content
    children = r.json()["children"]
    assert len(children) == 2 and r.json()["parent"]["code"] == order.code
    got = {o.code: o for o in WorkOrder.objects.filter(parent=order)}
    assert set(got) == set(children)
    assert {o.lead_unit_id for o in got.values()} == {world.units["community_a"].pk, world.units["street_a"].pk}
    order.refresh_from_db()
    again = post(c, f"/orders/{order.code}/split", {"reason": "再拆", "parts": parts, "version": order.version})
    assert again.status_code == 409 and again.json()["code"] == "dispatch.split_twice"
