"""Residents' text is cleaned once where it enters dispatch (every channel goes through intake; the
lifecycle's notes and reasons through their services), lengths are checked against the columns so
SQLite and PostgreSQL answer alike, and the consumers of stored text cope with anything."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from huying.core.errors import DomainError
from huying.dispatch.models import Transition, WorkOrder
from huying.dispatch.services import (
    work_order_accept,
    work_order_dispatch,
    work_order_resolve,
    work_order_return,
    work_orders_create_many,
)
from huying.dispatch.services.intake import _request_hash

from .conftest import at


def test_title_with_nul_or_lone_surrogate_is_a_400_naming_the_field(report):
    for bad in ("路灯\x00不亮", "路灯\ud800不亮"):
        with pytest.raises(DomainError) as exc:
            report(title=bad)
        assert (exc.value.code, exc.value.status, exc.value.field) == ("core.text.bad_character", 400, "title")
    with pytest.raises(DomainError) as exc:
        report(description="看\udc00这里")
    assert exc.value.field == "description"
    assert WorkOrder.objects.count() == 0


def test_request_hash_takes_any_text():
    # json.dumps(ensure_ascii=False).encode() raised UnicodeEncodeError on a lone surrogate.
    assert len(_request_hash({"title": "\ud800", "x": ["\udfff"]})) == 64
    assert _request_hash({"title": "路灯"}) == _request_hash({"title": "路灯"})


def test_text_is_cleaned_before_it_is_stored(report):
    order = report(title=" \u202e路灯\x07不亮\u200b ", description="第一行\r\n第二行\x1b\t完",
                   reporter_name="张\u00a0三\ufeff", reporter_phone="１３８１２３４５６７８",
                   address="仓边路\u200d１号")
    order.refresh_from_db()
    assert order.title == "路灯不亮"
    assert order.description == "第一行\n第二行\t完"
    assert order.reporter_name == "张 三" and order.reporter_phone == "13812345678"
    assert order.address == "仓边路1号"


def test_a_retry_with_the_same_text_dirty_or_clean_is_the_same_order(report):
    first = report(title="路灯不亮", idempotency_key="same")
    assert report(title="路灯\u200b不亮 ", idempotency_key="same").pk == first.pk


@pytest.mark.parametrize(("field", "value", "limit"), [
    ("reporter_name", "名" * 61, 60),
    ("address", "仓边社区" + "号" * 252, 255),
    ("title", "标" * 121, 120),
])
def test_too_long_is_the_same_400_on_both_databases(report, field, value, limit):
    with pytest.raises(DomainError) as exc:
        report(**{field: value})
    assert (exc.value.code, exc.value.status, exc.value.field) == ("core.text.too_long", 400, field)
    assert str(limit) in exc.value.message
    assert WorkOrder.objects.count() == 0
    assert report(**{field: value[:limit]}).pk  # exactly at the limit is stored whole
    assert getattr(WorkOrder.objects.get(), field) == value[:limit]


@pytest.mark.parametrize(("field", "value"), [("reporter_name", "名" * 61), ("address", "仓边社区" + "号" * 252)])
def test_api_answers_too_long_with_its_json_error(world, field, value):
    client = Client()
    client.force_login(world.users["resident"])
    lng, lat = world.point("a")
    body = {"subject": "Q010101", "request_type": "complaint", "title": "路灯不亮", "lng": lng, "lat": lat,
            "reporter_name": "李四", "reporter_phone": "13900001111", field: value}
    r = client.post("/api/v1/dispatch/orders", data=json.dumps(body), content_type="application/json",
                    headers={"Idempotency-Key": "long-1"})
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "core.text.too_long" and r.json()["field"] == field
    assert WorkOrder.objects.count() == 0


def test_batch_intake_names_the_item_with_bad_text(world):
    lng, lat = world.point("a")
    item = dict(channel="other", subject="Q010101", title="路灯不亮", lng=lng, lat=lat)
    with pytest.raises(DomainError) as exc:
        work_orders_create_many([{**item, "idempotency_key": "b1"},
                                 {**item, "idempotency_key": "b2", "title": "坏\x00"}],
                                actor=None, now=at(2026, 3, 2, 10, 0))
    assert exc.value.code == "core.text.bad_character" and exc.value.details["index"] == 1
    assert WorkOrder.objects.count() == 0


def test_lifecycle_notes_and_reasons_are_cleaned_or_refused(world, report):
    u = world.users
    order = work_order_dispatch(report(), actor=u["dispatcher"], reason="按\x07属地\u202e派")
    with pytest.raises(DomainError) as exc:
        work_order_accept(order, actor=u["comm_a"], note="收到\x00")
    assert exc.value.code == "core.text.bad_character" and exc.value.field == "note"
    order = work_order_accept(order, actor=u["comm_a"], note="收到\x1b")
    with pytest.raises(DomainError) as exc:
        work_order_return(order, actor=u["comm_a"], reason="不归我们\ud800", legal_basis="职责清单")
    assert exc.value.field == "reason"
    order = work_order_resolve(order, actor=u["comm_a"], result="已修复\r\n\x08电话１３９")
    order.refresh_from_db()
    assert order.resolution == "已修复\n电话139"
    notes = list(Transition.objects.filter(order=order).order_by("id").values_list("note", flat=True))
    assert notes[-3:] == ["按属地派", "收到", "已修复\n电话139"]


def test_dispatch_reason_longer_than_the_assignment_column_is_a_400(world, report):
    order = report()
    with pytest.raises(DomainError) as exc:
        work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["dept"].pk, reason="理" * 256)
    assert exc.value.code == "core.text.too_long" and exc.value.field == "reason"


def test_hot_page_and_command_cope_with_a_nul_stored_before_cleaning(world, report, capsys):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL cannot store NUL at all")
    now = timezone.now()
    orders = [report(title="仓边路井盖缺失，行人容易跌落", now=now - timedelta(hours=h + 1)) for h in range(3)]
    # A row written before intake refused NUL (SQLite kept it).
    WorkOrder.objects.filter(pk=orders[0].pk).update(title="仓边路井盖缺失\x00，行人容易跌落")
    client = Client()
    client.force_login(world.users["dispatcher"])
    assert client.get("/hot/").status_code == 200
    call_command("hot", "run", "--top", "1")
    assert capsys.readouterr().out.startswith("orders: 3")
