"""A river chief at phone width files a patrol with a problem and sees the work order's code."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from huying.community.models import PatrolFinding
from huying.community.volunteers_demo import volunteers_demo_seed
from huying.dispatch.models import WorkOrder
from huying.dispatch.seed import dispatch_seed
from huying.people.demo import demo_org_seed
from tests.browsing import phone_context, sign_in
from tests.people.conftest import territory  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_riverchief_files_a_patrol_that_becomes_a_work_order(browser, live_server, territory):  # noqa: F811
    demo_org_seed(password="x")
    dispatch_seed()
    volunteers_demo_seed(now=datetime(2026, 3, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    with phone_context(browser, live_server.url) as pg:
        sign_in(pg, "riverchief", "x")
        pg.goto("/")
        pg.click("#shortcuts >> text=巡查上报")
        pg.wait_for_selector("#patrol-form")
        pg.fill("#f0-description", "排水口有污水直排入河")
        pg.check("#f0-problem")
        pg.fill("#f1-description", "堤岸步道整洁")
        pg.click("#patrol-submit")
        pg.wait_for_selector("#my-patrols")
        finding = PatrolFinding.objects.get(description="排水口有污水直排入河")
        assert finding.work_order_code
        assert WorkOrder.objects.get(pk=finding.work_order_id).channel == "volunteer"
        assert finding.work_order_code in pg.inner_text("body")
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
        assert not PatrolFinding.objects.get(description="堤岸步道整洁").work_order_code
