"""Admission pages through the Django client: each role's page, its scope, and the forms."""

from datetime import date

import pytest

from huying.services import admission as svc
from huying.services import selectors_admission as sel
from huying.services import views_admission
from huying.services.models import AdmissionApplication, ApplicationState, CommunityTask, CommunityTaskState

from . import admission_setup
from .admission_setup import SUBMITTED
from .conftest import at

adm = admission_setup.adm  # the shared fixture

BASE = "/services/admission/"


@pytest.fixture
def monday(monkeypatch):
    monkeypatch.setattr(views_admission, "_now", lambda: at(2026, 9, 28, 1, 0))


def test_list_and_burden_pages_for_staff_not_residents(client, adm):
    client.force_login(adm.user.lsj_worker)
    r = client.get(BASE)
    assert r.status_code == 200
    html = r.content.decode()
    assert "协助开展人口普查" in html and "协助做好征兵工作" in html
    assert sum(len(items) for _c, items in r.context["groups"]) == 76 and len(r.context["groups"]) == 15
    assert client.get(BASE, {"q": "征兵"}).context["groups"][0][0] == "兵役与退役军人服务"
    r = client.get(BASE + "burden/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "35" in html and "175" in html and "责任状" in html and 'data-version="2015"' in html
    client.force_login(adm.town.user.resident)
    assert client.get(BASE).status_code == 403
    assert client.get(BASE + "burden/").status_code == 403


def test_role_pages_refuse_other_roles(client, adm):
    client.force_login(adm.user.lsj_worker)
    assert client.get(BASE + "department/").status_code == 403
    assert client.get(BASE + "reviews/").status_code == 403
    client.force_login(adm.user.mz_handler)
    assert client.get(BASE + "community/").status_code == 403
    assert client.get(BASE + "reviews/").status_code == 403
    client.force_login(adm.town.user.bj_staff)  # a street leader is no reviewer
    assert client.get(BASE + "reviews/").status_code == 403


def test_department_sends_unadmitted_task_and_community_refuses(client, adm, monday):
    client.force_login(adm.user.mz_handler)
    r = client.get(BASE + "department/")
    assert "15 个工作日内作出决定" in r.content.decode()
    communities = list(r.context["task_form"].fields["community"].queryset)
    assert adm.unit.liushuijing in communities and adm.unit.beijing not in communities
    r = client.post(BASE + "department/", {"action": "task", "t-department": adm.unit.civil.pk,
                                          "t-community": adm.unit.liushuijing.pk, "t-title": "填报创文台账",
                                          "t-due_on": "2026-10-09", "t-item": ""})
    assert r.status_code == 302
    task = CommunityTask.objects.get()
    assert not task.admitted and task.created_at == at(2026, 9, 28, 1, 0)
    # a past due date is refused beside the field
    r = client.post(BASE + "department/", {"action": "task", "t-department": adm.unit.civil.pk,
                                          "t-community": adm.unit.liushuijing.pk, "t-title": "x",
                                          "t-due_on": "2026-09-01"})
    assert r.status_code == 400 and r.context["task_form"].errors["due_on"]
    client.force_login(adm.user.lc_worker)  # another committee cannot even find it
    assert client.post(f"{BASE}tasks/{task.pk}/decide/", {"action": "accept"}).status_code == 404
    client.force_login(adm.user.lsj_worker)
    r = client.get(BASE + "community/")
    assert "未准入" in r.content.decode() and 'value="refuse"' in r.content.decode()
    client.post(f"{BASE}tasks/{task.pk}/decide/", {"action": "refuse", "reason": "不在准入清单内"})
    task.refresh_from_db()
    assert task.state == CommunityTaskState.REFUSED


def test_refusing_admitted_task_as_unadmitted_is_refused_on_page(client, adm, monday):
    item = sel.items_in_force().get(code="04-01")
    task = svc.community_task_send(department=adm.unit.civil, community=adm.unit.liushuijing, title="低保入户调查",
                                   due_on=date(2026, 10, 9), item=item, actor=adm.user.mz_handler, now=SUBMITTED)
    client.force_login(adm.user.lsj_worker)
    assert 'value="refuse"' not in client.get(BASE + "community/").content.decode()
    r = client.post(f"{BASE}tasks/{task.pk}/decide/", {"action": "refuse", "reason": "x"}, follow=True)
    assert "不能以“未准入”为由拒绝" in r.content.decode()
    task.refresh_from_db()
    assert task.state == CommunityTaskState.SENT


def test_apply_and_review_on_pages_late(client, adm, monkeypatch):
    monkeypatch.setattr(views_admission, "_now", lambda: SUBMITTED)
    client.force_login(adm.user.mz_handler)
    r = client.post(BASE + "department/", {"action": "apply", "a-department": adm.unit.civil.pk,
                                          "a-category": "养老服务与老龄工作", "a-name": "协助开展长者助餐配送登记",
                                          "a-legal_basis": "《广州市养老服务条例》", "a-funding": ""})
    assert r.status_code == 400 and r.context["apply_form"].errors["funding"]
    client.post(BASE + "department/", {"action": "apply", "a-department": adm.unit.civil.pk,
                                      "a-category": "养老服务与老龄工作", "a-name": "协助开展长者助餐配送登记",
                                      "a-legal_basis": "《广州市养老服务条例》", "a-funding": "区财政"})
    app = AdmissionApplication.objects.get()
    monkeypatch.setattr(views_admission, "_now", lambda: at(2026, 10, 22, 9, 0))
    client.force_login(adm.user.yx_leader)
    r = client.get(BASE + "reviews/")
    assert r.context["pending"] == [app] and r.context["pending"][0].overdue and "已逾期" in r.content.decode()
    client.post(f"{BASE}applications/{app.pk}/review/", {"action": "admit", "note": "同意"})
    app.refresh_from_db()
    assert app.state == ApplicationState.ADMITTED and app.reviewed_in_time is False
    assert "逾期" in client.get(BASE + "reviews/").content.decode()
    # revoke it from the same page
    r = client.post(BASE + "reviews/", {"r-item": app.item.pk, "r-reason": "并入05-03"})
    assert r.status_code == 302
    app.item.refresh_from_db()
    assert app.item.revoked_on == date(2026, 10, 22)


def test_reviewer_of_another_district_cannot_review(client, adm, town):
    app = svc.admission_apply(department=adm.unit.civil, category="c", name="n", legal_basis="b", funding="f",
                              actor=adm.user.mz_handler, now=SUBMITTED)
    client.force_login(town.user.bj_staff)
    assert client.post(f"{BASE}applications/{app.pk}/review/", {"action": "admit"}).status_code == 403
    app.refresh_from_db()
    assert app.state == ApplicationState.PENDING


def test_home_links_community_worker_to_received_tasks(client, adm):
    client.force_login(adm.user.lsj_worker)
    assert 'href="/services/admission/community/"' in client.get("/").content.decode()
