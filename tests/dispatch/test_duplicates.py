"""一事多诉: finding likely duplicates, merging them, and calling every merged caller back."""

import math
import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.utils import timezone

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.dispatch import duplicates as dup
from huying.dispatch.models import Assignment, Callback, State, Subject, Transition, WorkOrder
from huying.dispatch.selectors import available_actions, duplicate_candidates, merged_orders_for_callback
from huying.dispatch.services import (
    work_order_accept,
    work_order_callback,
    work_order_dispatch,
    work_order_merge,
    work_order_reject,
    work_order_resolve,
)

from .conftest import at

T0 = at(2026, 3, 2, 10, 0)
TEXT = "人行道地砖松动绊倒行人"
NEAR = 0.0009 * 111_320  # metres north of point a for a +0.0009° latitude step


def north(world, dlat, name="a"):
    lng, lat = world.point(name)
    return (lng, lat + dlat)


# --- pure calculators --------------------------------------------------------------------------

def test_haversine_matches_known_distances():
    assert dup.haversine_m(113.27, 23.0, 113.27, 24.0) == pytest.approx(111_195, rel=1e-3)
    assert dup.haversine_m(113.27, 23.125, 113.27, 23.125) == 0
    # One degree of longitude shrinks with the cosine of the latitude.
    assert dup.haversine_m(113.0, 23.125, 114.0, 23.125) == pytest.approx(111_195 * math.cos(math.radians(23.125)),
                                                                          rel=2e-3)


def test_bounding_box_encloses_the_circle():
    x0, y0, x1, y1 = dup.bounding_box(113.27, 23.125, 250)
    for lng, lat in [(x0, 23.125), (x1, 23.125), (113.27, y0), (113.27, y1)]:
        assert dup.haversine_m(113.27, 23.125, lng, lat) == pytest.approx(250, rel=0.01)


def test_bigram_similarity_separates_same_problem_from_another():
    same = dup.text_similarity("人行道地砖松动", "路边人行道的地砖松了！")
    other = dup.text_similarity("人行道地砖松动", "小区路灯晚上不亮")
    assert same >= dup.TEXT_THRESHOLD > other
    assert dup.text_similarity("ＡＢ，c", "ab c") == 1.0  # width, case and punctuation do not matter
    assert dup.text_similarity("", "任何") == 0.0


def test_score_prefers_close_recent_and_alike():
    base = dict(distance_m=100, radius_m=250, age_s=3600, window_s=7 * 86400, similarity=0.5)
    s = dup.duplicate_score(**base)
    assert dup.duplicate_score(**{**base, "distance_m": 10}) > s
    assert dup.duplicate_score(**{**base, "age_s": 60}) > s
    assert dup.duplicate_score(**{**base, "similarity": 0.9}) > s
    assert dup.duplicate_score(**{**base, "distance_m": 250, "age_s": 7 * 86400, "similarity": 0}) == 0


# --- the selector --------------------------------------------------------------------------------

def codes(found):
    return [c.order.code for c in found]


def test_candidates_same_or_sibling_subject_near_recent_and_alike(world, report):
    hit = report(description=TEXT, point=north(world, 0.0009))
    sibling = report(subject="Q010102", description="人行道地砖松动，有人绊倒")
    other_branch = report(subject="Q010201", description=TEXT)  # another parent: not related
    unlike = report(description="小区路灯晚上不亮", title="路灯")
    old = report(description=TEXT, now=T0 - timedelta(days=8))
    far = report(description=TEXT, point=world.point("b"))  # about 1.1 km away
    lng, lat = world.point("a")
    now = T0 + timedelta(hours=1)
    found = duplicate_candidates(subject="Q010101", lng=lng, lat=lat, text="路面坑洼 人行道地砖松动", now=now)
    got = codes(found)
    assert set(got) == {hit.code, sibling.code}
    for excluded in (other_branch, unlike, old, far):
        assert excluded.code not in got
    by_code = {c.order.code: c for c in found}
    assert by_code[hit.code].distance_m == pytest.approx(NEAR, rel=0.01)
    assert all(c.similarity >= dup.TEXT_THRESHOLD for c in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)

    # A longer window reaches the old one; the subject's own radius (data) reaches the far one.
    assert old.code in codes(duplicate_candidates(subject="Q010101", lng=lng, lat=lat, text=TEXT, now=now, days=10))
    Subject.objects.filter(code="Q0101").update(duplicate_radius_m=2000)  # inherited by Q010101
    assert far.code in codes(duplicate_candidates(subject="Q010101", lng=lng, lat=lat, text=TEXT, now=now))
    assert codes(duplicate_candidates(subject="Q010101", lng=lng, lat=lat, text=TEXT, now=now, limit=2)) \
        == codes(duplicate_candidates(subject="Q010101", lng=lng, lat=lat, text=TEXT, now=now))[:2]


def test_candidates_skip_finished_orders_and_the_order_itself(world, report):
    u = world.users
    a = report(description=TEXT)
    b = report(description=TEXT)
    c = report(description=TEXT)
    work_order_reject(b, actor=u["operator"], reason="非政府职责", now=T0)
    work_order_merge(c, into=a, actor=u["operator"], reason="同一问题", now=T0)
    lng, lat = world.point("a")
    found = duplicate_candidates(subject="Q010101", lng=lng, lat=lat, text=TEXT, now=T0 + timedelta(minutes=5))
    assert codes(found) == [a.code]
    assert duplicate_candidates(subject="Q010101", lng=lng, lat=lat, text=TEXT, now=T0, exclude=a) == []
    assert duplicate_candidates(subject="NOPE", lng=lng, lat=lat, text=TEXT, now=T0) == []


# --- merging --------------------------------------------------------------------------------------

def test_merge_moves_the_duplicate_into_the_target_with_history(world, report):
    u = world.users
    target = report(description=TEXT)
    dupe = work_order_dispatch(report(description=TEXT), actor=u["dispatcher"], version=1, now=T0)
    merged = work_order_merge(dupe, into=target.code, actor=u["operator"], reason="同一地点同一问题",
                              version=dupe.version, now=T0 + timedelta(minutes=3))
    assert merged.state == State.MERGED and merged.merged_into_id == target.pk and merged.version == 3
    assert Assignment.objects.get(order=merged).outcome == Assignment.Outcome.CANCELLED
    last = Transition.objects.filter(order=merged).last()
    assert (last.from_state, last.to_state, last.action, last.data["into"]) == (
        "dispatched", "merged", "merged", target.code)
    note = Transition.objects.filter(order=target).last()
    assert (note.action, note.to_state, note.data["order"]) == ("duplicate_merged", "submitted", merged.code)
    assert [a.action for a in audit_trail(merged)][-1] == "dispatch.order.merged"
    assert [a.action for a in audit_trail(target)][-1] == "dispatch.order.duplicate_merged"
    assert list(merged_orders_for_callback(target)) == [merged]
    target.refresh_from_db()
    assert target.state == State.SUBMITTED and target.version == 1  # the target's work is untouched


@pytest.mark.parametrize("case", ["self", "stale", "resident", "no_reason", "missing"])
def test_merge_refusals_change_nothing(world, report, case):
    u = world.users
    target, dupe = report(description=TEXT), report(description=TEXT)
    kw = dict(into=target.code, actor=u["operator"], reason="同一问题", version=1, now=T0)
    expected = {"self": ("dispatch.merge_self", 400), "stale": ("dispatch.stale", 409),
                "resident": ("dispatch.forbidden", 403), "no_reason": ("dispatch.required", 400),
                "missing": ("dispatch.merge_target_missing", 404)}[case]
    kw.update({"self": {"into": dupe.code}, "stale": {"version": 7}, "resident": {"actor": u["resident"]},
               "no_reason": {"reason": "  "}, "missing": {"into": "0000000000000000"}}[case])
    with pytest.raises(DomainError) as exc:
        work_order_merge(dupe, **kw)
    assert (exc.value.code, exc.value.status) == expected
    dupe.refresh_from_db()
    assert dupe.state == State.SUBMITTED and dupe.merged_into_id is None and dupe.version == 1


def test_merge_refuses_closed_targets_and_chains(world, report):
    u = world.users
    root, mid, closed, dupe = (report(description=TEXT) for _ in range(4))
    work_order_merge(mid, into=root, actor=u["operator"], reason="同一问题", now=T0)
    with pytest.raises(DomainError) as exc:
        work_order_merge(dupe, into=mid, actor=u["operator"], reason="同一问题", now=T0)
    assert exc.value.code == "dispatch.merge_chain" and root.code in exc.value.message and exc.value.status == 409
    work_order_reject(closed, actor=u["operator"], reason="非政府职责", now=T0)
    with pytest.raises(DomainError) as exc:
        work_order_merge(dupe, into=closed, actor=u["operator"], reason="同一问题", now=T0)
    assert exc.value.code == "dispatch.merge_target_closed"
    with pytest.raises(DomainError) as exc:  # root has callers merged into it: merge the other way
        work_order_merge(root, into=dupe, actor=u["operator"], reason="同一问题", now=T0)
    assert exc.value.code == "dispatch.merge_has_merged"
    # Once accepted, an order belongs to its unit and is no longer merged away (the table says so).
    work_order_dispatch(dupe, actor=u["dispatcher"], now=T0)
    work_order_accept(dupe, actor=u["comm_a"], now=T0)
    with pytest.raises(DomainError) as exc:
        work_order_merge(dupe, into=root, actor=u["operator"], reason="同一问题", now=T0)
    assert exc.value.code == "dispatch.transition_forbidden"


def test_every_merged_caller_gets_a_callback_once_the_target_is_resolved(world, report):
    u = world.users
    target = report(description=TEXT)
    first = report(description=TEXT, reporter_name="李四")
    second = report(description=TEXT, reporter_name="王五")
    for m in (first, second):
        work_order_merge(m, into=target, actor=u["operator"], reason="同一问题", now=T0)
    first.refresh_from_db()
    assert "callback" not in available_actions(first, actor=u["operator"])
    with pytest.raises(DomainError) as exc:  # nothing has been done yet
        work_order_callback(first, actor=u["operator"], satisfaction="satisfied", now=T0)
    assert exc.value.code == "dispatch.merge_target_open" and exc.value.status == 409

    target = work_order_dispatch(target, actor=u["dispatcher"], now=T0)
    target = work_order_accept(target, actor=u["comm_a"], now=T0 + timedelta(hours=1))
    target = work_order_resolve(target, actor=u["comm_a"], result="已更换地砖", now=T0 + timedelta(days=1))
    first.refresh_from_db()
    assert "callback" in available_actions(first, actor=u["operator"])
    assert "callback" not in available_actions(first, actor=u["comm_a"])
    target = work_order_callback(target, actor=u["operator"], satisfaction="satisfied", now=T0 + timedelta(days=2))
    assert target.state == State.CLOSED
    assert set(merged_orders_for_callback(target)) == {first, second}

    first = work_order_callback(first, actor=u["operator"], satisfaction="satisfied", solved=True,
                                now=T0 + timedelta(days=2, hours=1))
    # An unhappy merged caller is recorded and counted, but the rework belongs to the target's own callback.
    second = work_order_callback(second, actor=u["operator"], satisfaction="unsatisfied", solved=False,
                                 now=T0 + timedelta(days=2, hours=2))
    for m in (first, second):
        assert m.state == State.CLOSED and m.rework_count == 0
        assert Transition.objects.filter(order=m).last().from_state == "merged"
    assert Callback.objects.get(order=second).satisfaction == "unsatisfied"
    assert list(merged_orders_for_callback(target)) == []
    with pytest.raises(DomainError):  # called back once
        work_order_callback(first, actor=u["operator"], satisfaction="satisfied", now=T0 + timedelta(days=3))


# --- pages ----------------------------------------------------------------------------------------

def test_operator_merges_from_the_detail_page_and_calls_back_from_the_target(client, world, report):
    u = world.users
    now = timezone.now()
    target = report(description=TEXT, now=now - timedelta(hours=2))
    dupe = report(description=TEXT, now=now - timedelta(hours=1))
    client.force_login(u["operator"])
    html = client.get(f"/orders/{dupe.pk}/").content.decode()
    assert f'data-merge-into="{target.code}"' in html and "合并到此工单" in html

    stale = client.post(f"/orders/{dupe.pk}/merge/", {"merge-version": 9, "merge-into": target.code,
                                                      "merge-reason": "同一问题"})
    assert stale.status_code == 409
    r = client.post(f"/orders/{dupe.pk}/merge/", {"merge-version": 1, "merge-into": target.code,
                                                  "merge-reason": "同一问题"})
    assert r.status_code == 302
    dupe.refresh_from_db()
    assert dupe.state == State.MERGED and dupe.merged_into_id == target.pk
    assert 'id="merged-into"' in client.get(f"/orders/{dupe.pk}/").content.decode()
    assert f'data-code="{dupe.code}"' in client.get(f"/orders/{target.pk}/").content.decode()
    assert client.post(f"/orders/{dupe.pk}/merge/", {"merge-version": 2, "merge-into": target.code,
                                                     "merge-reason": "x"}).status_code == 409

    target = work_order_dispatch(target, actor=u["dispatcher"], now=now)
    target = work_order_accept(target, actor=u["comm_a"], now=now)
    work_order_resolve(target, actor=u["comm_a"], result="已更换地砖", now=now)
    page = client.get(f"/orders/{target.pk}/callback/").content.decode()
    assert 'id="callback-merged-callers"' in page and f"/orders/{dupe.pk}/callback/" in page
    r = client.post(f"/orders/{dupe.pk}/callback/", {"version": 2, "reached": "1", "solved": "1",
                                                     "satisfaction": "satisfied", "note": ""})
    assert r.status_code == 302
    dupe.refresh_from_db()
    assert dupe.state == State.CLOSED


def test_intake_duplicate_panel(client, world, report):
    now = timezone.now()
    existing = report(description=TEXT, now=now - timedelta(hours=1))
    lng, lat = world.point("a")
    q = {"subject": "Q010101", "title": "地砖松动", "description": "人行道地砖松动", "lng": lng, "lat": lat}
    client.force_login(world.users["resident"])
    assert client.post("/orders/intake/duplicates/", q).status_code == 403
    client.force_login(world.users["operator"])
    # POST only: the caller's words must not travel in a query string (the access log writes those).
    assert client.get("/orders/intake/duplicates/", q).status_code == 405
    html = client.post("/orders/intake/duplicates/", q).content.decode()
    assert f'data-code="{existing.code}"' in html and 'data-count="1"' in html
    html = client.post("/orders/intake/duplicates/", {**q, "description": "路灯不亮", "title": "路灯"}).content.decode()
    assert 'id="no-duplicates"' in html and 'data-count="0"' in html
    assert 'id="duplicate-btn"' in client.get("/orders/intake/").content.decode()
    assert WorkOrder.objects.count() == 1


@pytest.mark.browser
def test_browser_console_shows_likely_duplicates_before_taking_the_call(page, login, world, report):
    from playwright.sync_api import expect

    from .conftest import PASSWORD

    existing = report(description=TEXT, now=timezone.now() - timedelta(hours=3))
    login(world.users["operator"].username, PASSWORD)
    page.goto("/orders/intake/")
    page.select_option("#id_subject_root", "Q01")
    page.select_option("#id_subject", "Q010101")
    page.fill("#id_title", "路灯不亮")
    lng, lat = north(world, 0.0005)
    page.fill("#id_lng", str(lng))
    page.fill("#id_lat", str(lat))
    page.click("#duplicate-btn")
    expect(page.locator("#no-duplicates")).to_be_visible()  # a different problem at the same place
    page.fill("#id_title", "地砖松动")
    page.fill("#id_description", "人行道地砖松动，有老人绊倒")
    page.click("#duplicate-btn")
    row = page.locator(f'#duplicate-results li[data-code="{existing.code}"]')
    expect(row).to_contain_text("相距")
    expect(page.locator("#duplicate-results li")).to_have_count(1)


# --- the resident follows an existing report (关注此问题) -------------------------------------------

def follow_kwargs(world, **over):
    lng, lat = north(world, 0.0003)
    kw = dict(subject="Q010101", request_type="complaint", title="地砖松动", description="人行道地砖松动很危险",
              lng=lng, lat=lat, reporter_name="钱七", reporter_phone="13900002222", idempotency_key="f-1")
    kw.update(over)
    return kw


def test_follow_files_a_merged_order_on_the_existing_one(world, report):
    from huying.dispatch.services import work_order_follow

    u = world.users
    target = report(description=TEXT)
    now = T0 + timedelta(hours=2)
    mine = work_order_follow(target.code, actor=u["resident2"], channel="web", now=now, **follow_kwargs(world))
    assert mine.state == State.MERGED and mine.merged_into_id == target.pk and mine.reporter_name == "钱七"
    assert mine.code != target.code and mine.reporter_id == u["resident2"].pk
    again = work_order_follow(target.code, actor=u["resident2"], channel="web", now=now, **follow_kwargs(world))
    assert again.pk == mine.pk and WorkOrder.objects.count() == 2  # a retry is the same call
    assert list(merged_orders_for_callback(target)) == [mine]

    work_order_reject(target, actor=u["operator"], reason="非政府职责", now=now)
    with pytest.raises(DomainError) as exc:  # no longer open: nothing is stored
        work_order_follow(target.code, actor=u["resident2"], channel="web", now=now,
                          **follow_kwargs(world, idempotency_key="f-2"))
    assert exc.value.code == "dispatch.follow_unavailable" and exc.value.status == 409
    other = report(description="小区路灯晚上不亮", title="路灯")
    with pytest.raises(DomainError):  # a different problem cannot be followed
        work_order_follow(other.code, actor=u["resident2"], channel="web", now=now,
                          **follow_kwargs(world, idempotency_key="f-3"))
    assert WorkOrder.objects.count() == 3


def test_resident_page_offers_to_follow_without_showing_others_data(client, world, report):
    now = timezone.now()
    target = report(description=TEXT, now=now - timedelta(hours=1))
    rejected = report(description=TEXT, now=now - timedelta(hours=1))
    work_order_reject(rejected, actor=world.users["operator"], reason="非政府职责", now=now)
    kw = follow_kwargs(world)
    q = {k: kw[k] for k in ("subject", "title", "description", "lng", "lat")}
    assert client.get("/orders/report/similar/", q).status_code == 405  # POST only: no text in the log
    html = client.post("/orders/report/similar/", q).content.decode()
    # An offer carries a signed token, never the order's tracking code (which opens its tracking page).
    assert 'data-count="1"' in html and target.code not in html and rejected.code not in html
    assert "张三" not in html and TEXT not in html and "13812345678" not in html
    token = re.search(r'name="follow" value="([^"]+)"', html).group(1)
    assert 'id="similar-btn"' in client.get("/orders/report/").content.decode()

    data = {**kw, "subject_root": "Q01", "photos": []}
    for refused in (target.code, token[:-1] + ("A" if token[-1] != "A" else "B"),
                    signing.dumps(rejected.pk, salt="huying.dispatch.follow")):
        r = client.post("/orders/report/", {**data, "follow": refused})
        assert r.status_code == 409 and 'id="follow-error"' in r.content.decode()
    assert WorkOrder.objects.count() == 2
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 3 * 3600):
        r = client.post("/orders/report/", {**data, "follow": token})  # expired after two hours
    assert r.status_code == 409 and WorkOrder.objects.count() == 2
    r = client.post("/orders/report/", {**data, "follow": token})
    assert r.status_code == 302
    mine = WorkOrder.objects.exclude(pk__in=[target.pk, rejected.pk]).get()
    assert r["Location"].endswith(f"code={mine.code}&new=1")
    assert mine.state == State.MERGED and mine.merged_into_id == target.pk and mine.channel == "web"
