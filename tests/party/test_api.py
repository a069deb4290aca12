"""The Party API over HTTP: masked members, reporting submit/confirm/reject, service records, the
summary, and a studio visit turned into a work order."""

import json
from datetime import date

import pytest
from django.test import Client

from huying.party.models import MemberReport, ReportStatus
from huying.party.services import studios as st
from huying.people.masking import mask_id_number, mask_phone

from .conftest import at

URL = "/api/v1/party"


@pytest.fixture
def as_user(city):
    def _as(user):
        c = Client()
        c.force_login(user)
        return c

    return _as


def post(client, path, body=None):
    return client.post(f"{URL}{path}", data=json.dumps(body or {}), content_type="application/json")


def test_members_are_masked_except_for_their_own_secretaries(city, members, as_user):
    u = city.user
    assert Client().get(f"{URL}/members").status_code == 401
    mine = as_user(u.metro_secretary).get(f"{URL}/members", {"page_size": 2}).json()
    assert mine["count"] == 3 and len(mine["results"]) == 2  # alice, bob, dave: paginated
    alice = next(r for r in as_user(u.metro_secretary).get(f"{URL}/members").json()["results"] if r["name"] == "张丽")
    assert (alice["phone"], alice["id_number"], alice["masked"]) == (
        members.alice.user.phone, members.alice.user.id_number, False)
    # the community secretary sees who lives there, masked
    rows = as_user(u.lsj_secretary).get(f"{URL}/members").json()["results"]
    assert sorted(r["name"] for r in rows) == ["张丽", "陈可"]
    alice = next(r for r in rows if r["name"] == "张丽")
    assert alice["phone"] == mask_phone(members.alice.user.phone)
    assert alice["id_number"] == mask_id_number(members.alice.user.id_number) and alice["masked"] is True
    assert as_user(u.lc_secretary).get(f"{URL}/members/{members.alice.pk}").status_code == 404
    assert as_user(u.resident).get(f"{URL}/members").json()["count"] == 0
    filtered = as_user(u.metro_secretary).get(f"{URL}/members", {"community": "440104003002"}).json()
    assert [r["name"] for r in filtered["results"]] == ["李博"]


def test_reporting_and_service_over_http(city, members, as_user):
    u = city.user
    alice = as_user(members.alice.user)
    r = post(alice, "/member-reports", {"skills": "义诊"})
    assert r.status_code == 201 and r.json()["status"] == "pending" and r.json()["community_code"] == "440104003001"
    again = post(alice, "/member-reports")
    assert again.status_code == 409 and again.json()["code"] == "party.report.exists"
    report_id = r.json()["id"]
    assert post(as_user(u.lc_secretary), f"/member-reports/{report_id}/confirm").status_code == 404
    pending = as_user(u.lsj_secretary).get(f"{URL}/member-reports/pending").json()
    assert [p["id"] for p in pending] == [report_id]
    r = post(as_user(u.lsj_secretary), f"/member-reports/{report_id}/confirm")
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert MemberReport.objects.get(pk=report_id).status == ReportStatus.CONFIRMED
    # bob's secretary submits for him; the community rejects with a reason (required)
    r = post(as_user(u.metro_secretary), "/member-reports", {"member_id": members.bob.pk})
    bob_report = r.json()["id"]
    bad = post(as_user(u.lc_secretary), f"/member-reports/{bob_report}/reject", {"reason": ""})
    assert bad.status_code == 400 and bad.json()["field"] == "reason"
    assert post(as_user(u.lc_secretary), f"/member-reports/{bob_report}/reject",
                {"reason": "地址不在本社区"}).json()["status"] == "rejected"

    r = post(alice, "/service-records", {"kind": "other", "hours": "3", "served_on": "2024-05-01", "note": "清洁"})
    assert r.status_code == 201 and r.json()["confirmed"] is False
    bad = post(alice, "/service-records", {"kind": "other", "hours": "30", "served_on": "2024-05-01"})
    assert bad.status_code == 400 and bad.json()["field"] == "hours"
    not_reported = post(as_user(members.carol.user), "/service-records",
                        {"kind": "other", "hours": "1", "served_on": "2024-05-01"})
    assert not_reported.status_code == 400 and not_reported.json()["code"] == "party.service.not_reported"
    rid = r.json()["id"]
    assert post(alice, f"/service-records/{rid}/confirm").status_code == 403  # not her own to confirm
    assert post(as_user(u.lsj_secretary), f"/service-records/{rid}/confirm").json()["confirmed"] is True
    listed = as_user(u.lsj_secretary).get(f"{URL}/service-records", {"year": 2024, "confirmed": True}).json()
    assert listed["count"] == 1 and listed["results"][0]["hours"] == "3.0"
    assert as_user(u.jnh_secretary).get(f"{URL}/service-records").json()["count"] == 0

    s = as_user(u.leader).get(f"{URL}/summary", {"root": "440104003", "year": 2024}).json()
    assert s["total"]["members_reported"] == 1 and s["total"]["services_done"] == 1
    assert {r["code"]: r["members_reported"] for r in s["rows"]} == {"440104003001": 1, "440104003002": 0}
    assert as_user(u.lsj_secretary).get(f"{URL}/summary", {"root": "440104"}).status_code == 403
    assert as_user(u.leader).get(f"{URL}/summary", {"root": "999"}).status_code == 404


def test_studio_visit_to_work_order_over_http(city, as_user):
    from huying.dispatch.models import WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    u = city.user
    city.person("rep_wang", name="王代表")
    rep = st.representative_register(u.rep_wang, level="city", actor=u.root)
    studio = st.studio_create(community=city.div["440104003001"], name="流水井工作室", opened_on=date(2024, 1, 1),
                              actor=u.lsj_secretary)
    st.studio_duty_schedule(studio, representative=rep, starts_at=at(2024, 3, 5, 9), ends_at=at(2024, 3, 5, 12),
                            actor=u.lsj_secretary)
    assert [x["name"] for x in as_user(u.resident).get(f"{URL}/studios").json()] == ["流水井工作室"]
    roster = as_user(u.resident).get(f"{URL}/studios/{studio.pk}/roster",
                                     {"start": "2024-03-04T00:00:00+08:00", "end": "2024-03-11T00:00:00+08:00"})
    assert [d["level"] for d in roster.json()] == ["city"]
    body = {"topic": "路灯不亮", "visitor_name": "赵大妈", "visitor_phone": "13812345678", "lng": 113.271,
            "lat": 23.126, "received_at": "2024-03-05T10:00:00+08:00"}
    # the staff record it for the turn on duty then; the representative is filled in
    r = post(as_user(u.lsj_secretary), f"/studios/{studio.pk}/visits", body)
    assert r.status_code == 201 and r.json()["representative"] == "王代表"
    assert post(as_user(u.resident), f"/studios/{studio.pk}/visits", body).status_code == 403
    vid = r.json()["id"]
    assert as_user(u.lc_secretary).get(f"{URL}/studios/{studio.pk}/visits").json() == []
    assert post(as_user(u.lc_secretary), f"/visits/{vid}/work-order", {"subject": "E0102"}).status_code == 404
    r = post(as_user(u.rep_wang), f"/visits/{vid}/work-order", {"subject": "E0102"})
    assert r.status_code == 200 and r.json()["status"] == "work_order"
    assert r.json()["work_order_code"] == WorkOrder.objects.get().code
    again = post(as_user(u.rep_wang), f"/visits/{vid}/work-order", {"subject": "E0102"})
    assert again.status_code == 409
