"""The reply-quality score of an order's resolution, shown before the callback closes it (答复质量)."""

from datetime import timedelta

import pytest
from django.test import Client

from huying.dispatch.quality.reply_quality import reply_quality, unaddressed
from huying.dispatch.quality.reply_review import LOW_SCORE, order_reply_review
from huying.dispatch.services import (
    work_order_accept,
    work_order_callback,
    work_order_dispatch,
    work_order_merge,
    work_order_resolve,
)

from .conftest import at

T0 = at(2026, 3, 2, 10, 0)
GOOD = ("您好，关于您反映的仓边路井盖缺失、行人容易跌落的问题，经调查核实，该井盖属供水公司管理。我单位已责令其于3月5日前"
        "完成更换，并根据《城市道路管理条例》加强巡查，现井盖已更换完毕。如有疑问，请拨打联系电话12345咨询。") * 2


def resolved(world, report, result, *, days=2, **kw):
    order = report(title="仓边路井盖缺失，行人容易跌落", description="仓边路口井盖缺失多日", now=T0, **kw)
    order = work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                                reason="属地社区", version=order.version, now=T0)
    order = work_order_accept(order, actor=world.users["comm_a"], version=order.version, now=T0)
    return work_order_resolve(order, actor=world.users["comm_a"], result=result, version=order.version,
                              now=T0 + timedelta(days=days))


def test_unaddressed_names_the_title_words_the_reply_never_mentions():
    assert unaddressed("仓边路井盖缺失，行人容易跌落", "已修补仓边路路面") == ["井盖缺失", "行人容易跌落"]
    assert unaddressed("仓边路井盖缺失", "仓边路井盖缺失已更换") == []
    notes = reply_quality("仓边路井盖缺失", "", "已修补路面", None, None).notes
    assert "unaddressed:仓边路井盖缺失" in notes


def test_review_of_a_poor_and_a_good_resolution(world, report):
    poor = order_reply_review(resolved(world, report, "已处理。"))
    assert poor["low"] and poor["total"] < LOW_SCORE
    assert "未回应诉求中的“仓边路井盖缺失”" in poor["hints"]
    assert "未说明调查核实情况" in poor["hints"] and "答复过短（不足 150 字）" in poor["hints"]
    # Resolved within its deadline: on time, whatever the text.
    assert poor["timeliness"] == 1.0 and poor["days"] == 2.0 and poor["percent"]["timeliness"] == 100
    good = order_reply_review(resolved(world, report, GOOD))
    assert not good["low"] and good["total"] > poor["total"] + 30 and good["hints"] == []
    assert good["relevance"] > poor["relevance"] and good["completeness"] == 1.0


def test_review_timeliness_follows_the_order_s_own_deadline(world, report):
    order = resolved(world, report, GOOD, days=60)
    review = order_reply_review(order)
    limit = (order.resolve_due - order.created_at).total_seconds() / 86400
    assert review["due_days"] == pytest.approx(limit, abs=0.1) and review["days"] == 60.0
    assert review["timeliness"] == pytest.approx(max(0.0, 1 - (60 - limit) / (3 * limit)), abs=1e-3)
    assert any(h.startswith("办结用时 60.0 天，超过时限") for h in review["hints"])


def test_no_review_before_resolution_and_merged_callers_get_the_target_s(world, report):
    open_order = report(title="仓边路井盖缺失", now=T0)
    assert order_reply_review(open_order) is None
    target = resolved(world, report, GOOD)
    twin = report(title="仓边路井盖缺失，行人容易跌落", description="井盖缺失", now=T0 + timedelta(hours=1))
    twin = work_order_merge(twin, into=target.code, actor=world.users["operator"], reason="同一问题",
                            version=twin.version, now=T0 + timedelta(hours=2))
    review = order_reply_review(twin)
    assert review is not None and not review["low"]


def test_callback_page_and_api_show_the_score_to_staff_only(world, report):
    order = resolved(world, report, "已处理。")
    c = Client()
    c.force_login(world.users["dispatcher"])
    html = c.get(f"/orders/{order.pk}/callback/").content.decode()
    assert 'id="reply-score"' in html and 'id="reply-low"' in html and "未说明调查核实情况" in html
    detail = c.get(f"/api/v1/dispatch/orders/{order.code}").json()
    assert detail["reply_score"]["total"] == order_reply_review(order)["total"]
    assert detail["reply_score"]["hints"]
    partial = c.get(f"/quality/reply/{order.pk}/").content.decode()
    assert 'id="reply-score"' in partial
    resident = Client()
    resident.force_login(world.users["resident"])
    assert resident.get(f"/api/v1/dispatch/orders/{order.code}").json()["reply_score"] is None
    assert resident.get(f"/quality/reply/{order.pk}/").content == b""
    outsider = Client()
    outsider.force_login(world.users["street_b"])
    assert outsider.get(f"/quality/reply/{order.pk}/").status_code == 404
    # Once closed, the score stays on record with the order.
    work_order_callback(order, actor=world.users["dispatcher"], satisfaction="satisfied", solved=True,
                        version=order.version, now=T0 + timedelta(days=3))
    assert 'id="reply-score"' in c.get(f"/quality/reply/{order.pk}/").content.decode()
