"""Community-worker pages: the staffing list and rosters in scope, refusals out of scope, the import
page naming bad rows, and the demo seed."""

from datetime import date

import pytest

from huying.services import workers as svc
from huying.services.models import CommunityWorker

from . import workers_setup
from .workers_setup import worker

cw = workers_setup.cw  # the shared fixture

pytestmark = pytest.mark.django_db


def test_pages_follow_scope(cw, client):
    w = worker(cw, "甲", "13900000001", post="secretary")
    client.force_login(cw.user.lsj_worker)
    html = client.get("/services/workers/").content.decode()
    assert 'id="community-440104003001"' in html and 'id="community-440104003002"' not in html
    roster = client.get("/services/workers/440104003001/").content.decode()
    assert f'id="worker-{w.pk}"' in roster and str(svc.pay_coefficient(w)) in roster
    assert client.get("/services/workers/440104003002/").status_code == 404
    assert client.post("/services/workers/440104003001/").status_code == 403
    assert client.get("/services/workers/import/").status_code == 403

    client.force_login(cw.user.lr_staff)
    assert client.get("/services/workers/440104003001/").status_code == 404
    assert 'id="community-440104004001"' in client.get("/services/workers/").content.decode()
    client.force_login(cw.user.resident)
    assert client.get("/services/workers/").status_code == 403


def test_manager_applies_progression_and_imports(cw, client):
    w = worker(cw, "甲", "13900000001", started=date(2020, 1, 1))
    year = date.today().year - 1
    for y in (year - 2, year - 1, year):
        svc.worker_assess(w, year=y, result="competent", actor=cw.user.bj_staff)
    client.force_login(cw.user.bj_staff)
    client.post("/services/workers/440104003001/")
    w.refresh_from_db()
    assert w.grade == 2

    csv = ("姓名,手机号,社区编码,岗位,从事社区工作时间,学历\n"
           "王伟,13900000011,440104003001,委员,2015-03-01,本科\n"
           "李娜,13900000012,440104003001,主管,2020-05-01,大专\n"
           "张敏,13900000013,440104003001,专职工作者,2021-01-01,博士\n").encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = client.post("/services/workers/import/", {"file": SimpleUploadedFile("roster.csv", csv)})
    html = resp.content.decode()
    assert resp.status_code == 400 and "第 3、4 行" in html and 'id="import-errors"' in html
    assert CommunityWorker.objects.count() == 1


def test_demo_seed(cw):
    from huying.people.models import User
    from huying.services.demo_workers import workers_demo_seed
    from huying.services.models import StreetOffice, WorkerAssessment
    from huying.services.selectors_workers import staffing
    from huying.territory.models import Building

    Building.objects.create(code="B5", grid=cw.town.grid["440104003002001"], address="龙藏街1号", lng=113.29,
                            lat=23.125, households=2400)
    counts = workers_demo_seed(today=date(2026, 6, 1))
    assert counts["offices"] == 7 and StreetOffice.objects.count() == 7
    admin = User.objects.create(username="root", is_superuser=True)
    rows = {r.community.code: r for r in staffing(actor=admin, street="440104003")}
    assert rows["440104003001"].shortfall == 0  # 60 households: 3 workers, the committee minimum
    assert rows["440104003002"].required == 8 and rows["440104003002"].shortfall > 0  # the second is short
    assert WorkerAssessment.objects.filter(year=2025).count() == CommunityWorker.objects.count()
    assert workers_demo_seed(today=date(2026, 6, 1))["workers"] == 0
