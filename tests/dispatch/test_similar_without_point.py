"""查重 without a point: a report with only an address is compared by the division the address
reaches — on the resident's report page (关注此问题), the operator's intake page and in the
duplicate service. Real divisions of 越秀区, real locator."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from huying.dispatch.models import LocationPrecision, State, WorkOrder
from huying.dispatch.services import report_duplicates, work_order_create

from .conftest import at

pytestmark = pytest.mark.parametrize("territory_mode", ["real"])

T0 = at(2026, 3, 2, 10, 0)
ADDRESS = "广州市越秀区北京街道北京路100号"
TEXT = {"title": "路灯不亮", "description": "北京路100号门口的路灯一直不亮"}


def first_report(world, now=T0):
    """A street-level report; pages compare with the real clock, so theirs is filed an hour ago."""
    order = work_order_create(channel="web", subject="Q010101", request_type="complaint", address=ADDRESS,
                              actor=world.users["resident"], reporter_phone="13812345678", idempotency_key="s-1",
                              now=now, **TEXT)
    assert order.location_precision == LocationPrecision.STREET
    return order


def test_the_service_checks_by_the_division_when_there_is_no_point(world):
    first = first_report(world)
    found, why = report_duplicates(subject="Q010101", text="北京路的路灯不亮了，晚上很黑",
                                   address="越秀区北京街道北京路102号", now=T0)
    assert why == "" and [c.order.pk for c in found] == [first.pk] and found[0].distance_m is None
    # Another street of the district is another area.
    other = next(s for s in world.streets if s.code != first.street_code)
    found, why = report_duplicates(subject="Q010101", text="北京路的路灯不亮了", address=f"越秀区{other.name}某路1号",
                                   now=T0)
    assert found == [] and why == ""
    # Nothing located: nothing searched, and the reason is said.
    found, why = report_duplicates(subject="Q010101", text="路灯", address="广州市某某路1号", now=T0)
    assert found == [] and "未能识别该地址" in why
    found, why = report_duplicates(subject="Q010101", text="路灯", now=T0)
    assert found == [] and why


def an_hour_ago():
    return timezone.now() - timedelta(hours=1)


def test_the_report_page_offers_a_similar_report_for_an_address_only(world):
    first = first_report(world, an_hour_ago())
    c = Client()
    page = c.get("/orders/report/").content.decode()
    assert "#report-form [name=address]" in page  # the button sends the address too
    html = c.post("/orders/report/similar/", {"subject": "Q010101", "title": "路灯不亮",
                                              "description": "北京路门口路灯一直不亮", "address": ADDRESS}).content.decode()
    assert 'data-count="1"' in html and "同一区域" in html and "关注此问题" in html
    assert first.code not in html  # a signed token, never the tracking code
    token = html.split('name="follow" value="')[1].split('"')[0]

    # Following from the address alone files the call onto the existing order (the service agrees).
    form = c.get("/orders/report/").content.decode()
    key = form.split('name="idempotency_key" value="')[1].split('"')[0]
    r = c.post("/orders/report/", {"idempotency_key": key, "request_type": "complaint", "subject": "Q010101",
                                   "title": "路灯不亮", "description": "北京路门口路灯一直不亮", "address": ADDRESS,
                                   "reporter_phone": "13900001111", "follow": token})
    assert r.status_code == 302, r.content.decode()[:2000]
    follower = WorkOrder.objects.exclude(pk=first.pk).get()
    assert follower.state == State.MERGED and follower.merged_into_id == first.pk


def test_an_unknown_address_says_why_nothing_was_searched(world):
    first_report(world, an_hour_ago())
    html = Client().post("/orders/report/similar/", {"subject": "Q010101", "title": "路灯不亮",
                                                      "address": "广州市某某路1号"}).content.decode()
    assert 'id="similar-place-error"' in html and "未能识别该地址" in html and 'data-count="0"' in html
    empty = Client().post("/orders/report/similar/", {"subject": "Q010101", "title": "路灯不亮"}).content.decode()
    assert 'id="no-similar"' not in empty and 'id="similar-place-error"' not in empty


def test_the_operator_intake_check_works_with_an_address_only(world):
    first = first_report(world, an_hour_ago())
    op = Client()
    op.force_login(world.users["operator"])
    assert "#intake-form [name=address]" in op.get("/orders/intake/").content.decode()
    html = op.post("/orders/intake/duplicates/", {"subject": "Q010101", "title": "路灯不亮",
                                                   "description": "北京路100号门口路灯不亮",
                                                   "address": "越秀区北京街道北京路"}).content.decode()
    assert f'data-code="{first.code}"' in html and "同在" in html
