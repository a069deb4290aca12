"""The admission review in Chromium: the district leader admits a department's application from the
queue, the department sends a task citing the new matter, and the community accepts it."""

import pytest

from huying.services import admission as svc
from huying.services import views_admission
from huying.services.models import CommunityTask, CommunityTaskState
from tests.browsing import signed_in

from . import admission_setup
from .admission_setup import SUBMITTED
from .conftest import at

adm = admission_setup.adm  # the shared fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def test_reviewer_admits_then_task_citing_it_is_accepted(browser, live_server, adm, monkeypatch):
    monkeypatch.setattr(views_admission, "_now", lambda: at(2026, 10, 12, 10, 0))
    app = svc.admission_apply(department=adm.unit.civil, category="养老服务与老龄工作", name="协助开展长者助餐配送登记",
                              legal_basis="《广州市养老服务条例》", funding="区财政", actor=adm.user.mz_handler,
                              now=SUBMITTED)

    with signed_in(browser, live_server.url, "yx_leader") as pg:
        pg.goto("/services/admission/reviews/")
        row = pg.locator(f"#app-{app.pk}")
        assert "2026-10-21 17:00" in row.inner_text() and "已逾期" not in row.inner_text()
        row.locator("input[name=note]").fill("同意准入")
        row.locator("button[value=admit]").click()
        pg.wait_for_selector(".msg-success")
        assert "没有待审核的申请" in pg.inner_text("#review-queue")
        assert "按期" in pg.inner_text("#reviewed")

    app.refresh_from_db()
    code = app.item.code
    with signed_in(browser, live_server.url, "mz_handler") as pg:
        pg.goto("/services/admission/department/")
        pg.select_option("#id_t-community", label=str(adm.unit.liushuijing))
        pg.fill("#id_t-title", "登记长者助餐需求")
        pg.fill("#id_t-due_on", "2026-10-30")
        pg.select_option("#id_t-item", label=f"{code} 养老服务与老龄工作 · 协助开展长者助餐配送登记")
        pg.click("#task-form button[type=submit]")
        pg.wait_for_selector(".msg-success")
        assert "未准入" not in pg.inner_text("#sent-tasks")

    task = CommunityTask.objects.get()
    assert task.admitted and task.item_id == app.item_id
    with signed_in(browser, live_server.url, "lsj_worker") as pg:
        pg.goto("/services/admission/community/")
        row = pg.locator(f"#task-{task.pk}")
        assert row.locator("button[value=refuse]").count() == 0
        row.locator("button[value=accept]").click()
        pg.wait_for_selector(".msg-success")
        assert "已接收" in pg.inner_text(f"#task-{task.pk}")
    task.refresh_from_db()
    assert task.state == CommunityTaskState.ACCEPTED
