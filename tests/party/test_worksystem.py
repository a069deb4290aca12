"""The Party-building work system (书记领航): plans and measures overdue by Beijing's date, a secretary
kept to their own organisation's plan, a leader's visit that becomes a work order, the district
roll-up on hand-counted figures, and the admin's audit."""

from datetime import UTC, date

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.party import selectors_worksystem as ws
from huying.party import services as s
from huying.party.models import DecisionStatus, WorkMeasure, WorkStatus
from huying.people.models import RoleCode

from .conftest import at


@pytest.fixture
def work(city):
    """The fixture city plus the organisation department, and the district/city committees."""
    from huying.party.models import OrgType
    from huying.people.models import UnitKind
    from huying.people.services import unit_create

    dept_unit = unit_create(code="dept-zzb", name="市委组织部", kind=UnitKind.DEPARTMENT, division=city.div["440100"],
                            actor=None)
    city.person("orgdept", dept_unit, RoleCode.ORG_DEPARTMENT, "组织部")
    city.org["district"] = s.organisation_create(code="party-440104", name="中共越秀区委", org_type=OrgType.GOVERNMENT,
                                                 division=city.div["440104"], actor=city.user.root)
    return city


def test_overdue_measure_and_decision_by_beijing_date(work):
    u, o, d = work.user, work.org, work.div
    plan = s.work_plan_create(organisation=o["party-440104003"], year=2026, title="北京街方案", actor=u.bj_secretary,
                              now=at(2026, 1, 5, 9))
    m = s.work_measure_add(plan, item="延时服务", due_on=date(2026, 3, 1), actor=u.bj_secretary)
    ms = s.milestone_add(m, title="排班", due_on=date(2026, 3, 1), actor=u.bj_secretary)
    meeting = s.joint_meeting_record(district=d["440104"], title="联席会议", held_on=date(2026, 2, 1),
                                     actor=u.orgdept, now=at(2026, 2, 1, 10))
    dec = s.meeting_decision_add(meeting, text="报送名单", owner_unit=o["party-440104003"].unit,
                                 due_on=date(2026, 3, 1), actor=u.orgdept)
    # 01:00 on 2 March in Beijing is still 1 March in UTC: overdue by the local date only
    now = at(2026, 3, 2, 1, 0)
    on = ws.today(now)
    assert on == date(2026, 3, 2) and now.astimezone(UTC).date() == date(2026, 3, 1)
    assert ws.measure_overdue(m, on) and ws.milestone_overdue(ms, on) and ws.decision_overdue(dec, on)
    assert not ws.measure_overdue(m, ws.today(at(2026, 3, 1, 23, 59)))
    row = next(r for r in ws.district_rollup(u.orgdept, now=now) if r.district.code == "440104")
    assert (row.measures_overdue, row.milestones_overdue, row.decisions_open, row.decisions_overdue) == (1, 1, 1, 1)
    row = next(r for r in ws.district_rollup(u.orgdept, now=at(2026, 3, 1, 23, 0)) if r.district.code == "440104")
    assert (row.measures_overdue, row.decisions_overdue) == (0, 0)
    # the owner's secretary marks the decision done: no longer open
    s.meeting_decision_done(dec, note="已报送", actor=u.bj_secretary, now=now)
    dec.refresh_from_db()
    assert dec.status == DecisionStatus.DONE and dec.done_on == date(2026, 3, 2)
    assert audit_trail(dec).last().action == "party.work.decision_done"


def test_secretary_edits_only_their_own_organisations_plan(work, client):
    u, o = work.user, work.org
    liurong = s.work_plan_create(organisation=o["party-440104004"], year=2026, title="六榕街方案",
                                 actor=u.lr_secretary, now=at(2026, 1, 5, 9))
    with pytest.raises(DomainError) as e:
        s.work_measure_add(liurong, item="越权措施", due_on=date(2026, 6, 1), actor=u.bj_secretary)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        s.work_plan_update(liurong, title="改名", actor=u.bj_secretary)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:  # nor write a plan for the other street
        s.work_plan_create(organisation=o["party-440104004"], year=2027, title="x", actor=u.bj_secretary)
    assert e.value.status == 403
    assert not WorkMeasure.objects.exists()
    client.force_login(u.bj_secretary)
    assert client.get(f"/party/work/plans/{liurong.pk}/").status_code == 404
    r = client.post(f"/party/work/plans/{liurong.pk}/", {"action": "edit", "ed-title": "改名"})
    assert r.status_code == 404
    # the organisation department edits anything; the street's own secretary too
    s.work_measure_add(liurong, item="部门措施", due_on=date(2026, 6, 1), actor=u.orgdept)
    client.force_login(u.lr_secretary)
    r = client.post(f"/party/work/plans/{liurong.pk}/", {"action": "measure", "me-item": "网格党支部全覆盖",
                                                          "me-due_on": "2026-09-30", "me-owner_unit": ""})
    assert r.status_code == 302
    assert set(WorkMeasure.objects.values_list("item", flat=True)) == {"部门措施", "网格党支部全覆盖"}


def test_contact_visit_becomes_a_work_order_and_shows_its_state(work, client):
    from huying.dispatch.models import State, WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    u, d = work.user, work.div
    point = s.contact_point_create(leader=u.leader, division=d["440104003"], since=date(2026, 1, 1), post="市委常委",
                                   actor=u.orgdept)
    quiet = s.contact_visit_record(point, visited_on=date(2026, 3, 1), visitors="领导", actor=u.leader,
                                   now=at(2026, 3, 1, 15))
    with pytest.raises(DomainError) as e:  # nothing found: nothing to hand over
        s.contact_visit_to_work_order(quiet, subject="E0102", actor=u.leader, now=at(2026, 3, 1, 16))
    assert e.value.code == "party.work.nothing_found"
    visit = s.contact_visit_record(point, visited_on=date(2026, 3, 2), visitors="领导、街道书记", actor=u.leader,
                                   findings="楼道堆放杂物\n消防隐患", address="广州市越秀区流水井社区文德路12号",
                                   lng=113.271, lat=23.126, now=at(2026, 3, 2, 10))
    with pytest.raises(DomainError) as e:  # another leader's point
        s.contact_visit_to_work_order(visit, subject="E0102", actor=u.bj_secretary, now=at(2026, 3, 2, 11))
    assert e.value.status == 403
    visit = s.contact_visit_to_work_order(visit, subject="E0102", actor=u.leader, now=at(2026, 3, 2, 11))
    order = WorkOrder.objects.get()
    assert (visit.work_order_id, visit.work_order_code) == (order.pk, order.code)
    assert order.title == "楼道堆放杂物" and "领导联系点" in order.description
    assert audit_trail(visit).last().new == {"work_order": order.code}
    with pytest.raises(DomainError) as e:
        s.contact_visit_to_work_order(visit, subject="E0102", actor=u.leader)
    assert e.value.status == 409
    client.force_login(u.leader)
    page = client.get(f"/party/work/points/{point.pk}/").content.decode()
    assert order.code in page and str(State(order.state).label) in page
    WorkOrder.objects.filter(pk=order.pk).update(state=State.CLOSED)
    assert str(State.CLOSED.label) in client.get(f"/party/work/points/{point.pk}/").content.decode()


def test_district_rollup_on_hand_counted_figures(work, client):
    u, o, d = work.user, work.org, work.div
    now = at(2026, 5, 10, 1, 0)
    district_plan = s.work_plan_create(organisation=o["district"], year=2026, title="区要点", actor=u.orgdept, now=now)
    bj = s.work_plan_create(organisation=o["party-440104003"], year=2026, title="北京街", actor=u.bj_secretary, now=now)
    lsj = s.work_plan_create(organisation=o["party-440104003001"], year=2026, title="流水井", actor=u.lsj_secretary,
                             now=now)
    # measures: 1 done, 2 overdue (due before 10 May, not done), 1 open in time, 1 dropped overdue (not counted)
    done = s.work_measure_add(district_plan, item="a", due_on=date(2026, 4, 1), actor=u.orgdept)
    s.work_progress_report(done, progress=100, actor=u.orgdept, now=now)
    s.work_measure_add(bj, item="b", due_on=date(2026, 5, 9), actor=u.bj_secretary)
    late = s.work_measure_add(lsj, item="c", due_on=date(2026, 5, 1), actor=u.lsj_secretary)
    s.work_progress_report(late, progress=50, actor=u.lsj_secretary, now=now)
    s.work_measure_add(lsj, item="d", due_on=date(2026, 5, 10), actor=u.lsj_secretary)
    dropped = s.work_measure_add(bj, item="e", due_on=date(2026, 5, 1), actor=u.bj_secretary)
    s.work_progress_report(dropped, progress=0, status=WorkStatus.DROPPED, note="合并", actor=u.bj_secretary, now=now)
    s.demonstration_site_add(district_plan, name="示范街", theme="治理", designated_on=date(2026, 2, 1),
                             division=d["440104003"], rating=5, actor=u.orgdept)
    s.demonstration_site_add(bj, name="示范社区", theme="服务", designated_on=date(2026, 2, 1),
                             organisation=o["party-440104003001"], actor=u.bj_secretary)
    p1 = s.key_project_add(district_plan, name="微改造", budget="80", actor=u.orgdept)
    s.work_progress_report(p1, progress=40, actor=u.orgdept, now=now)
    p2 = s.key_project_add(bj, name="红色物业", actor=u.bj_secretary)
    s.work_progress_report(p2, progress=70, actor=u.bj_secretary, now=now)
    point = s.contact_point_create(leader=u.leader, division=d["440104003"], since=date(2025, 1, 1), actor=u.orgdept)
    s.contact_point_create(leader=u.leader, division=d["440104004001"], since=date(2025, 1, 1), actor=u.orgdept)
    for day in (date(2026, 1, 1), date(2026, 2, 10), date(2026, 5, 9)):  # 1 Jan is 129 days before: outside 90
        s.contact_visit_record(point, visited_on=day, visitors="领导", actor=u.leader, now=now)
    meeting = s.joint_meeting_record(district=d["440104"], title="联席会议", held_on=date(2026, 4, 1),
                                     present=[o["party-440104003"].unit], absent=[o["party-440104004"].unit],
                                     actor=u.orgdept, now=now)
    s.meeting_decision_add(meeting, text="x", owner_unit=o["party-440104003"].unit, due_on=date(2026, 5, 1),
                           actor=u.orgdept)
    s.meeting_decision_add(meeting, text="y", owner_unit=o["party-440104004"].unit, due_on=date(2026, 6, 1),
                           actor=u.orgdept)
    closed = s.meeting_decision_add(meeting, text="z", owner_unit=o["party-440104004"].unit, due_on=date(2026, 4, 1),
                                    actor=u.orgdept)
    s.meeting_decision_done(closed, actor=u.orgdept, now=now)

    rows = ws.district_rollup(u.orgdept, now=now)
    assert [r.district.code for r in rows] == ["440104"]
    r = rows[0]
    assert (r.plans, r.measures, r.measures_done, r.measures_overdue) == (3, 5, 1, 2)
    assert (r.sites, r.projects, r.projects_progress) == (2, 2, 55)
    assert (r.points, r.visits_recent) == (2, 2)
    assert (r.decisions_open, r.decisions_overdue) == (2, 1)
    # a secretary does not see the roll-up; the department drills into the district
    assert ws.district_rollup(u.bj_secretary, now=now) == []
    client.force_login(u.bj_secretary)
    assert client.get("/party/work/districts/440104/").status_code == 404
    client.force_login(u.orgdept)
    page = client.get("/party/work/").content.decode()
    assert 'id="rollup-440104"' in page
    assert client.get("/party/work/districts/440104/").status_code == 200


def test_admin_change_of_a_decision_is_audited(work, client):
    from huying.core.models import AuditEntry

    u, o, d = work.user, work.org, work.div
    meeting = s.joint_meeting_record(district=d["440104"], title="联席会议", held_on=date(2026, 4, 1), actor=u.orgdept,
                                     now=at(2026, 4, 1, 10))
    dec = s.meeting_decision_add(meeting, text="报送名单", owner_unit=o["party-440104003"].unit,
                                 due_on=date(2026, 5, 1), actor=u.orgdept)
    client.force_login(u.root)
    r = client.post(f"/admin/party/meetingdecision/{dec.pk}/change/", {
        "meeting": meeting.pk, "text": "报送成员单位名单", "owner_unit": o["party-440104003"].unit.pk,
        "due_on": "2026-05-15", "status": "open", "done_on": "", "done_note": "", "done_by": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.object.changed", target_id=str(dec.pk))
    assert entry.new["text"] == "报送成员单位名单" and entry.old["due_on"] == "2026-05-01"


def test_demo_seed_builds_the_work_system(db):
    from huying.party.demo_worksystem import work_system_demo_seed

    assert work_system_demo_seed() == {}  # without the demo logins there is nothing to hang it on
