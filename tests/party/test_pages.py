"""The Party pages through Django's test client: what each role sees (masked or not), the double
reporting flow across the member's and the community's pages, refusals next to their field, the
summary by territory, and a studio visit that becomes a work order from its page."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from huying.party.models import MemberReport, ReportStatus, ServiceRecord, StudioVisit, VisitStatus
from huying.party.services import member_report_confirm, member_report_submit, need_post
from huying.party.services import studios as st
from huying.people.masking import mask_phone


@pytest.fixture
def as_user(city):
    def _as(user):
        c = Client()
        c.force_login(user)
        return c

    return _as


def test_member_reports_and_the_community_confirms(city, members, as_user):
    u = city.user
    alice = as_user(members.alice.user)
    page = alice.get("/party/me/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "张丽" in html and members.alice.user.phone in html  # her own data, unmasked
    assert 'id="report-form"' in html and "流水井社区" in html
    r = alice.post("/party/me/", {"action": "report", "report-skills": "法律咨询"})
    assert r.status_code == 302
    report = MemberReport.objects.get(member=members.alice)
    assert (report.status, report.skills) == (ReportStatus.PENDING, "法律咨询")
    again = alice.post("/party/me/", {"action": "report", "report-skills": ""})
    assert again.status_code == 409 and "您已报到或正在等待社区确认" in again.content.decode()
    assert "待社区确认" in alice.get("/party/me/").content.decode()

    # the community sees it pending, refuses a reject without a reason next to the field, confirms
    comm = as_user(u.lsj_secretary)
    html = comm.get("/party/community/").content.decode()
    assert "流水井社区居民委员会" in html and "张丽" in html
    bad = comm.post("/party/community/", {"action": "reject", "target": report.pk, f"reject-{report.pk}-reason": ""})
    assert bad.status_code == 400
    assert f'id="field-reject-{report.pk}-reason"' in bad.content.decode() and "请填写原因" in bad.content.decode()
    assert comm.post("/party/community/", {"action": "confirm", "target": report.pk}).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.CONFIRMED and report.decided_by == u.lsj_secretary
    # another community cannot confirm it (it is not among their pending reports)
    other = as_user(u.lc_secretary).post("/party/community/", {"action": "confirm", "target": report.pk})
    assert other.status_code == 409


def test_member_claims_records_service_and_errors_sit_by_the_field(city, members, as_user):
    u = city.user
    member_report_confirm(member_report_submit(members.alice, actor=members.alice.user), actor=u.lsj_secretary)
    need = need_post(community=city.div["440104003001"], kind="wish", title="帮独居老人换灯泡", actor=u.lsj_secretary)
    alice = as_user(members.alice.user)
    assert "帮独居老人换灯泡" in alice.get("/party/me/").content.decode()
    assert alice.post("/party/me/", {"action": "claim", "need": need.pk}).status_code == 302
    need.refresh_from_db()
    assert need.claimed_by_member == members.alice
    today = timezone.localdate()
    bad = alice.post("/party/me/", {"action": "service", "service-kind": "other", "service-hours": "30",
                                    "service-served_on": today.isoformat()})
    assert bad.status_code == 400 and 'id="field-service-hours"' in bad.content.decode()
    future = alice.post("/party/me/", {"action": "service", "service-kind": "other", "service-hours": "2",
                                       "service-served_on": (today + timedelta(days=2)).isoformat()})
    html = future.content.decode()  # the service's refusal, beside the date field
    assert future.status_code == 400 and "服务日期不能晚于今天" in html.split('id="field-service-served_on"')[1][:600]
    ok = alice.post("/party/me/", {"action": "service", "service-kind": "other", "service-hours": "2.5",
                                   "service-served_on": today.isoformat(), "service-note": "社区清洁"})
    assert ok.status_code == 302
    record = ServiceRecord.objects.get(member=members.alice)
    assert (record.hours, record.confirmed) == (2.5, False)
    comm = as_user(u.lsj_secretary)
    assert "社区清洁" in comm.get("/party/community/").content.decode()
    assert comm.post("/party/community/", {"action": "confirm_service", "target": record.pk}).status_code == 302
    record.refresh_from_db()
    assert record.confirmed
    # the community completes the claimed wish with hours beside the field when wrong
    bad = comm.post("/party/community/", {"action": "complete_need", "target": need.pk, f"done-{need.pk}-hours": ""})
    assert bad.status_code == 400 and f'id="field-done-{need.pk}-hours"' in bad.content.decode()
    assert comm.post("/party/community/", {"action": "complete_need", "target": need.pk,
                                           f"done-{need.pk}-hours": "1.5"}).status_code == 302
    assert ServiceRecord.objects.filter(need=need, hours=1.5, confirmed=True).exists()
    # not a member: the member page says so
    assert as_user(u.resident).get("/party/me/").status_code == 404


def test_secretary_sees_own_members_unmasked_and_the_community_masked(city, members, as_user):
    u = city.user
    metro = city.org["metro"]
    page = as_user(u.metro_secretary).get("/party/org/")
    html = page.content.decode()
    assert page.status_code == 200 and "广州地铁某分公司党委" in html
    assert members.alice.user.phone in html and members.alice.user.id_number in html
    assert "陈可" not in html  # the hospital's member
    assert "未到社区报到的在职党员 3 人" in html
    html = as_user(u.metro_secretary).get(f"/party/org/?org={metro.pk}&tab=members&q=李").content.decode()
    assert "李博" in html and "张丽" not in html
    # the community sees the members living there, identity masked
    html = as_user(u.lsj_secretary).get("/party/community/").content.decode()
    resident_table = html.split('id="resident-table"')[1]
    assert "张丽" in resident_table and "陈可" in resident_table
    assert members.alice.user.phone not in html and mask_phone(members.alice.user.phone) in resident_table
    assert members.alice.user.id_number not in html
    assert "李博" not in resident_table  # lives in 龙藏
    # another organisation's page is not theirs
    assert as_user(u.hosp_secretary).get(f"/party/org/?org={metro.pk}").status_code == 404
    assert as_user(u.resident).get("/party/org/").status_code == 403
    # the unit organisation reports to its street from its page
    r = as_user(u.metro_secretary).post(f"/party/org/?org={metro.pk}", {"action": "unit_report",
                                                                      "ur-commitments": "开放活动室"})
    assert r.status_code == 302 and metro.unit_reports.get().street.code == "440104003"
    html = as_user(u.bj_secretary).get("/party/community/?community=440104003002").content.decode()
    assert 'id="unit-reports"' in html and "广州地铁某分公司党委" in html
    # lists are paginated and keep their filters
    html = as_user(u.metro_secretary).get(f"/party/org/?org={metro.pk}&tab=ratings&year=2024").content.decode()
    assert "2024 年度尚未评星" in html


def test_summary_by_territory(city, members, as_user):
    u = city.user
    member_report_confirm(member_report_submit(members.alice, actor=members.alice.user), actor=u.lsj_secretary)
    member_report_confirm(member_report_submit(members.bob, actor=members.bob.user), actor=u.lc_secretary)
    html = as_user(u.leader).get("/party/summary/").content.decode()
    assert "广州市 · 双报到与服务" in html and 'href="?root=440104"' in html
    html = as_user(u.leader).get("/party/summary/?root=440104003&year=2024").content.decode()
    table = html.split('id="summary-table"')[1]
    assert "流水井社区居民委员会" in table and "龙藏社区居民委员会" in table
    totals = html.split('id="summary-totals"')[1].split("</div>\n  </div>")[0]
    assert '<span class="stat-n">2</span><span class="stat-label">报到在职党员' in totals
    # a community secretary sees their community, not the street's or the city's
    assert "流水井社区居民委员会 · 双报到与服务" in as_user(u.lsj_secretary).get("/party/summary/").content.decode()
    assert as_user(u.lsj_secretary).get("/party/summary/?root=440104003").status_code == 403
    assert as_user(u.resident).get("/party/summary/").status_code == 403


def test_studio_visit_becomes_a_work_order_from_its_page(city, as_user):
    from huying.dispatch.models import WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    u = city.user
    city.person("rep_wang", name="王代表")
    rep = st.representative_register(u.rep_wang, level="district", actor=u.bj_secretary)
    studio = st.studio_create(community=city.div["440104003001"], name="流水井社区党代表工作室",
                              opened_on=date(2024, 1, 1), actor=u.lsj_secretary)
    now = timezone.now()
    staff = as_user(u.lsj_secretary)
    fmt = "%Y-%m-%dT%H:%M"
    local = timezone.localtime(now)
    bad = staff.post(f"/party/studios/{studio.pk}/", {
        "action": "duty", "duty-representative": rep.pk, "duty-starts_at": (local + timedelta(hours=1)).strftime(fmt),
        "duty-ends_at": local.strftime(fmt)})
    assert bad.status_code == 400 and "结束时间应晚于开始时间" in bad.content.decode().split('id="field-duty-ends_at"')[1][:500]
    assert staff.post(f"/party/studios/{studio.pk}/", {
        "action": "duty", "duty-representative": rep.pk, "duty-starts_at": (local - timedelta(hours=1)).strftime(fmt),
        "duty-ends_at": (local + timedelta(hours=2)).strftime(fmt)}).status_code == 302
    wang = as_user(u.rep_wang)
    assert "正在值班" in wang.get(f"/party/studios/{studio.pk}/").content.decode()
    r = wang.post(f"/party/studios/{studio.pk}/", {
        "action": "visit", "visit-topic": "文德路人行道破损", "visit-visitor_name": "钱伯",
        "visit-visitor_phone": "13900002222", "visit-lng": "113.271", "visit-lat": "23.126"})
    assert r.status_code == 302
    visit = StudioVisit.objects.get()
    assert visit.representative == rep
    # the resident's phone is masked to a street secretary of another street, who cannot see the visit at all
    assert as_user(u.lr_secretary).get(f"/party/visits/{visit.pk}/").status_code == 404
    page = wang.get(f"/party/visits/{visit.pk}/")
    assert "13900002222" in page.content.decode() and 'id="order-form"' in page.content.decode()
    bad = wang.post(f"/party/visits/{visit.pk}/", {"action": "order", "subject_root": "E01", "subject": ""})
    assert bad.status_code == 400 and "请选择事项分类" in bad.content.decode()
    assert wang.post(f"/party/visits/{visit.pk}/", {"action": "order", "subject_root": "E01",
                                                    "subject": "E0102"}).status_code == 302
    visit.refresh_from_db()
    order = WorkOrder.objects.get()
    assert (visit.status, visit.work_order_code) == (VisitStatus.WORK_ORDER, order.code)
    assert order.reporter_phone == "13900002222"
    assert order.code in staff.get(f"/party/visits/{visit.pk}/").content.decode()
    html = as_user(u.resident).get("/party/studios/").content.decode()
    assert "流水井社区党代表工作室" in html  # studios are public notice
    assert "钱伯" not in as_user(u.resident).get(f"/party/studios/{studio.pk}/").content.decode()


def test_hub_lists_what_the_person_can_use(city, members, as_user):
    html = as_user(members.alice.user).get("/party/").content.decode()
    assert "我的党员主页" in html and "社区党建" not in html
    html = as_user(city.user.lsj_secretary).get("/party/").content.decode()
    assert "社区党建" in html and "中共流水井社区委员会" in html
    assert 'href="/party/"' in html  # the top bar's link
