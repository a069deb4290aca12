"""In Chromium: the convener changes the hall's vote rules on the hall page, then hands a matter to
dispatch as a work order with the dispatch subject picker (its second step loaded by htmx), and the
order's code shows on the matter."""

from decimal import Decimal

import pytest

from huying.community import halls
from tests.browsing import htmx_ready, signed_in

from . import halls_setup

hc = halls_setup.hc  # the shared fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_convener_changes_rules_and_orders_a_matter(browser, live_server, hc):
    from huying.dispatch.models import WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    m = halls.matter_raise(hc.hall, title="文德路垃圾堆放", body="文德路12号门口垃圾成堆", actor=hc.user.amy)
    with signed_in(browser, live_server.url, "convener") as pg:
        pg.goto("/")
        pg.click("#shortcuts >> text=主持议事厅")
        pg.wait_for_selector("#rules-form")
        pg.fill("#rules-quorum", "60")
        pg.fill("#rules-pass", "75")
        pg.locator("#rules-form label", has_text="无记名").click()
        pg.locator("#rules-form label", has_text="每人一票").click()
        pg.click("#rules-form button[type=submit]")
        pg.wait_for_selector("text=议事规则已更新")
        hc.hall.refresh_from_db()
        assert (hc.hall.quorum_share, hc.hall.pass_share, hc.hall.secret, hc.hall.per_household) == (
            Decimal("0.600"), Decimal("0.750"), True, False)
        assert "法定人数比例 60%，通过比例 75%" in pg.inner_text("#hall-manage")

        pg.fill("#rules-pass", "120")  # refused beside the field; nothing changed
        pg.click("#rules-form button[type=submit]")
        pg.wait_for_selector("#rules-form .field-error")
        assert "不超过 100%" in pg.inner_text("#rules-form")
        hc.hall.refresh_from_db()
        assert hc.hall.pass_share == Decimal("0.750")

        pg.goto(f"/community/halls/manage/{hc.hall.pk}/")
        pg.click(f"#matter-{m.pk} .to-order")
        pg.wait_for_selector("#to-order-form")
        htmx_ready(pg, "#id_subject_root")  # swapped in by htmx: bound only after it settles
        pg.select_option("#id_subject_root", "E01")
        pg.wait_for_selector("#id_subject option[value=E0102]", state="attached")
        pg.select_option("#id_subject", "E0102")
        pg.click("#to-order-form button[type=submit]")
        pg.wait_for_selector("text=议题已转为工单")
        order = WorkOrder.objects.get()
        assert order.subject.code == "E0102" and order.channel == "other"
        m.refresh_from_db()
        assert m.work_order_code == order.code
        assert pg.inner_text(f"#matter-{m.pk} .hl-order") == order.code
        assert pg.locator(f"#matter-{m.pk} .to-order").count() == 0
