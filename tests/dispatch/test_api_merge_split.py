"""Merge (合并) and split (拆分) over the JSON API: the same services, versions and scope as the pages."""

import json

import pytest

from huying.dispatch.models import State, WorkOrder

URL = "/api/v1/dispatch"


def post(client, path, body):
    return client.post(f"{URL}{path}", data=json.dumps(body), content_type="application/json")


@pytest.fixture
def as_user(world):
    from django.test import Client

    def _as(name):
        client = Client()
        client.force_login(world.users[name])
        return client

    return _as


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
