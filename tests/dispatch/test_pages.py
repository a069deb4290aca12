"""Dispatch pages through Django's test client: each page's GET and POST, bad input next to the
field with nothing stored, scope (404 across territory), stale versions, and the whole lifecycle."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from huying.dispatch.models import Attachment, Extension, IdempotencyKey, State, WorkOrder
from huying.dispatch.services import work_order_accept, work_order_dispatch, work_order_resolve

from .images import PDF, PNG_1x1

pytestmark = pytest.mark.django_db

STALE = "该工单已被他人更新，请刷新后重试"


def field_html(html: str, name: str) -> str:
    """The markup of one field block (id="field-<name>") up to the next field block."""
    start = html.index(f'id="field-{name}"')
    nxt = html.find('id="field-', start + 10)
    return html[start:nxt if nxt != -1 else len(html)]


def key_of(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)


@pytest.fixture
def as_user(client):
    def _as(user):
        client.force_login(user)
        return client
    return _as


def report_data(world, **over):
    lng, lat = world.point("a")
    data = {"idempotency_key": "a" * 32, "request_type": "complaint", "subject_root": "Q01", "subject": "Q010101",
            "title": "路灯不亮", "description": "小区门口路灯坏了三天", "address": "", "lng": lng, "lat": lat,
            "reporter_name": "李四", "reporter_phone": "13900001111"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def dispatched(report, world):
    order = report()
    return work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                               reason="属地社区办理", version=order.version)


# --- resident report -------------------------------------------------------------------------

def test_report_page_anonymous_has_key_and_choices(client, world):
    r = client.get(reverse("dispatch:report"))
    assert r.status_code == 200
    html = r.content.decode()
    assert len(key_of(html)) == 32
    assert key_of(client.get(reverse("dispatch:report")).content.decode()) != key_of(html)
    assert 'value="complaint"' in html and "投诉" in html
    assert 'name="subject_root"' in html and 'value="Q01"' in html
    assert 'name="photos"' in html and 'multiple' in field_html(html, "photos")
    assert 'id="locate-btn"' in html and "WGS-84" in html


def test_report_prefills_signed_in_resident(as_user, world):
    resident = world.users["resident"]
    resident.display_name, resident.phone = "王五", "13700007777"
    resident.save()
    html = as_user(resident).get(reverse("dispatch:report")).content.decode()
    assert 'value="王五"' in field_html(html, "reporter_name")
    assert 'value="13700007777"' in field_html(html, "reporter_phone")


def test_subject_picker_second_level(client, world):
    r = client.get(reverse("dispatch:subjects"), {"subject_root": "Q01"})
    html = r.content.decode()
    assert r.status_code == 200 and "<optgroup" in html
    assert 'value="Q010101"' in html
    assert 'value="Q01"' not in html and 'value="Q0101"' not in html  # inner nodes are groups, not choices
    assert "disabled" in client.get(reverse("dispatch:subjects")).content.decode()


def test_report_success_shows_tracking_code_and_double_submit_is_one_order(client, world):
    data = report_data(world)
    r = client.post(reverse("dispatch:report"), data)
    assert r.status_code == 302
    order = WorkOrder.objects.get()
    assert order.channel == "web" and order.reporter is None and order.reporter_phone == "13900001111"
    assert r["Location"] == f"{reverse('dispatch:track')}?code={order.code}&new=1"
    again = client.post(reverse("dispatch:report"), data)
    assert again["Location"] == r["Location"]
    assert WorkOrder.objects.count() == 1
    page = client.get(r["Location"]).content.decode()
    assert f'id="tracking-code">{order.code}<' in page
    assert "已受理" in page


def test_report_by_address_and_photo(client, world):
    data = report_data(world, lng="", lat="", address="仓边社区 12 号")
    data["photos"] = SimpleUploadedFile("p.png", PNG_1x1, content_type="image/png")
    r = client.post(reverse("dispatch:report"), data)
    assert r.status_code == 302, r.content.decode()[:2000]
    order = WorkOrder.objects.get()
    assert order.community_id == world.communities[0].pk
    assert Attachment.objects.filter(order=order, kind="report").count() == 1


@pytest.mark.parametrize("over, field, status, message", [
    ({"lng": "", "lat": "", "address": ""}, "location", 400, "请在地图上选点或填写地址"),
    ({"lng": "116.397", "lat": "39.909"}, "location", 422, "不在本市范围内"),
    ({"lng": "", "lat": "", "address": "北京市东城区东长安街"}, "location", 422, "不在本市范围内"),
    ({"subject": "Z999"}, "subject", 400, "事项分类“Z999”不存在"),
    ({"title": ""}, "title", 400, "请填写标题"),
    ({"lng": "abc"}, "location", 400, "经度"),
    ({"reporter_phone": "12ab"}, "reporter_phone", 400, "联系电话格式不正确"),
])
def test_report_bad_input_is_shown_at_the_field_and_stores_nothing(client, world, over, field, status, message):
    r = client.post(reverse("dispatch:report"), report_data(world, **over))
    assert r.status_code == status
    html = r.content.decode()
    assert message in field_html(html, field)
    assert WorkOrder.objects.count() == 0 and IdempotencyKey.objects.count() == 0
    assert "小区门口路灯坏了三天" in html  # what the resident typed is kept


def test_report_non_image_photo_refused_at_the_field(client, world):
    data = report_data(world)
    data["photos"] = SimpleUploadedFile("scan.png", PDF, content_type="image/png")
    r = client.post(reverse("dispatch:report"), data)
    assert r.status_code == 415
    assert "不是有效的图片" in field_html(r.content.decode(), "photos")
    assert WorkOrder.objects.count() == 0 and Attachment.objects.count() == 0


def test_anonymous_report_keys_count_per_browser(client, world):
    from django.test import Client

    data = report_data(world)
    assert client.get(reverse("dispatch:report")).status_code == 200
    first = client.post(reverse("dispatch:report"), data)
    assert client.post(reverse("dispatch:report"), data)["Location"] == first["Location"]  # a double submit
    other = Client().post(reverse("dispatch:report"), data)  # another browser, the same key and text
    assert other.status_code == 302 and other["Location"] != first["Location"]
    assert WorkOrder.objects.count() == 2
    assert first["Location"].split("code=")[1][:16] not in other["Location"]


def test_report_reused_key_with_other_content_gets_a_fresh_key(client, world):
    client.post(reverse("dispatch:report"), report_data(world))
    r = client.post(reverse("dispatch:report"), report_data(world, title="另一件事"))
    assert r.status_code == 422
    html = r.content.decode()
    assert "此表单已提交过" in html and key_of(html) != "a" * 32
    assert client.post(reverse("dispatch:report"), report_data(world, title="另一件事",
                                                               idempotency_key=key_of(html))).status_code == 302
    assert WorkOrder.objects.count() == 2


# --- tracking ---------------------------------------------------------------------------------

def test_track_shows_progress_without_personal_data(client, world, report):
    order = dispatched(report, world)
    r = client.get(reverse("dispatch:track"), {"code": order.code})
    html = r.content.decode()
    assert r.status_code == 200
    assert 'id="track-state">已派单<' in html
    assert "受理" in html and "派单" in html
    assert "13812345678" not in html and "张三" not in html and world.units["community_a"].name not in html


def replied(report, world, **kw):
    order = dispatched(lambda: report(**kw), world)
    order = work_order_accept(order, actor=world.users["comm_a"], version=order.version)
    return work_order_resolve(order, actor=world.users["comm_a"], result="已修复，联系人王五 13900001111",
                              version=order.version)


def test_track_by_code_shows_a_masked_title_and_no_reply(client, world, report):
    order = replied(report, world, title="井盖缺失 联系 139.0000.2222")
    r = client.get(reverse("dispatch:track"), {"code": order.code})
    html = r.content.decode()
    assert r.status_code == 200 and 'id="track-state">已办结<' in html
    assert 'id="track-title">井盖缺失 联系 139.****.****<' in html
    assert "2222" not in html and "王五" not in html and "13900001111" not in html
    assert 'id="track-resolution"' not in html and 'id="track-proof-form"' in html
    # The tail never travels in a query string, and a GET with one shows nothing more.
    assert "王五" not in client.get(reverse("dispatch:track"), {"code": order.code, "phone_tail": "5678"}).content.decode()


def test_track_reply_only_for_the_reporter(client, world, report):
    order = replied(report, world, title="井盖缺失 联系 139.0000.2222")  # the reporter's phone: 13812345678
    url = reverse("dispatch:track")
    r = client.post(url, {"code": order.code, "phone_tail": "1111"})
    assert r.status_code == 403
    html = r.content.decode()
    assert "手机号后四位与登记的号码不符" in field_html(html, "phone_tail") and "王五" not in html
    assert client.post(url, {"code": order.code, "phone_tail": "12ab"}).status_code == 400
    r = client.post(url, {"code": order.code, "phone_tail": "5678"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="track-resolution">已修复，联系人王五 13900001111<' in html and 'id="track-proof-form"' not in html
    assert "2222" not in html  # the title stays masked: four digits prove less than a login
    # Signed in, the reporter sees the reply and their own title; another resident sees neither.
    client.force_login(world.users["resident2"])
    html = client.get(url, {"code": order.code}).content.decode()
    assert "王五" not in html and "2222" not in html
    client.force_login(world.users["resident"])
    html = client.get(url, {"code": order.code}).content.decode()
    assert "王五" in html and 'id="track-title">井盖缺失 联系 139.0000.2222<' in html


def test_track_phone_tail_tries_per_code_are_limited(client, world, report):
    order = replied(report, world)
    other = replied(report, world)
    url = reverse("dispatch:track")
    for tail in ("0000", "1111", "2222", "3333", "4444"):
        assert client.post(url, {"code": order.code, "phone_tail": tail}).status_code == 403
    r = client.post(url, {"code": order.code, "phone_tail": "5678"})  # right, but too late
    assert r.status_code == 429 and "王五" not in r.content.decode()
    assert "尝试次数过多" in field_html(r.content.decode(), "phone_tail")
    assert "王五" in client.post(url, {"code": other.code, "phone_tail": "5678"}).content.decode()


def test_track_unknown_code(client, world):
    r = client.get(reverse("dispatch:track"), {"code": "0000000000000000"})
    assert r.status_code == 404
    assert "未找到该查询码" in field_html(r.content.decode(), "code")


# --- operator intake --------------------------------------------------------------------------

def intake_data(world, **over):
    return report_data(world, **{"reporter_phone": "020-83331234", "reporter_name": "赵六", **over})


def test_intake_requires_operator(as_user, world, client):
    assert client.get(reverse("dispatch:intake")).status_code == 302  # to login
    assert as_user(world.users["resident"]).get(reverse("dispatch:intake")).status_code == 403
    r = as_user(world.users["operator"]).get(reverse("dispatch:intake"))
    assert r.status_code == 200 and 'name="emergency"' in r.content.decode()


def test_intake_takes_a_call_and_shows_where_it_goes(as_user, world):
    c = as_user(world.users["operator"])
    r = c.post(reverse("dispatch:intake"), intake_data(world, emergency="on"))
    order = WorkOrder.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("dispatch:detail", args=[order.pk])
    assert order.channel == "hotline" and order.urgency == "emergency" and order.reporter_phone == "020-83331234"
    html = c.get(r["Location"]).content.decode()
    assert order.code in html and "系统建议承办单位" in html
    assert order.proposed_unit.name in field_or(html, "proposed-unit")


def field_or(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</dd>", start)]


def test_intake_phone_required(as_user, world):
    r = as_user(world.users["operator"]).post(reverse("dispatch:intake"), intake_data(world, reporter_phone=""))
    assert r.status_code == 400 and "请填写来电号码" in field_html(r.content.decode(), "reporter_phone")
    assert WorkOrder.objects.count() == 0


def test_intake_offers_override_units_to_the_operator(as_user, world):
    html = as_user(world.users["operator"]).get(reverse("dispatch:intake")).content.decode()
    unit_field = field_html(html, "unit")
    for key in ("dept", "district", "street_a", "street_b"):
        assert f'value="{world.units[key].pk}"' in unit_field
    # Communities and grids are picked by the routing, or by the dispatcher once the order is located.
    assert f'value="{world.units["community_a"].pk}"' not in unit_field
    assert 'name="override_reason"' in html


def test_intake_override_needs_reason_then_dispatches_there(as_user, world):
    from huying.core.models import AuditEntry

    operator = world.users["operator"]  # an operator, not a dispatcher
    c = as_user(operator)
    r = c.post(reverse("dispatch:intake"), intake_data(world, unit=str(world.units["dept"].pk)))
    assert r.status_code == 400 and "请填写理由" in field_html(r.content.decode(), "override_reason")
    assert WorkOrder.objects.count() == 0
    r = c.post(reverse("dispatch:intake"), intake_data(world, unit=str(world.units["dept"].pk),
                                                       override_reason="占道经营归城管"))
    assert r.status_code == 302
    order = WorkOrder.objects.get()
    assert order.state == State.DISPATCHED and order.lead_unit_id == world.units["dept"].pk
    assert order.proposed_unit_id == world.units["community_a"].pk  # what routing proposed stays on record
    a = order.assignments.get()
    assert a.override_reason == "占道经营归城管" and a.dispatched_by_id == operator.pk
    step = order.transitions.get(action="dispatched")
    assert step.actor_id == operator.pk and step.note == "占道经营归城管"
    assert step.data["override"] is True and step.data["proposed_unit_id"] == world.units["community_a"].pk
    audit = AuditEntry.objects.get(action="dispatch.order.dispatched", target_id=str(order.pk))
    assert audit.reason == "占道经营归城管" and audit.actor_id == operator.pk
    assert "已派至 城市管理和综合执法局" in c.get(r["Location"]).content.decode()


def test_intake_override_unit_must_serve_the_place(as_user, world):
    c = as_user(world.users["operator"])
    r = c.post(reverse("dispatch:intake"), intake_data(world, unit=str(world.units["street_b"].pk),
                                                       override_reason="指定人民街道"))
    assert r.status_code == 400 and "不负责该位置" in field_html(r.content.decode(), "unit")
    assert WorkOrder.objects.count() == 0 and IdempotencyKey.objects.count() == 0


# --- lists, board, scope ----------------------------------------------------------------------

def test_list_is_scoped_filtered_and_paginated(as_user, world, report):
    mine = report(title="北京街道的事")
    other = report(title="人民街道的事", point=world.point("b"))
    html = as_user(world.users["street_a"]).get(reverse("dispatch:list")).content.decode()
    assert mine.code in html and other.code not in html
    c = as_user(world.users["dispatcher"])
    html = c.get(reverse("dispatch:list"), {"q": "人民"}).content.decode()
    assert other.code in html and mine.code not in html
    for i in range(21):
        report(title=f"第{i}件")
    page2 = c.get(reverse("dispatch:list"), {"page": 2}).content.decode()
    assert page2.count('class="order-link"') == 3 and "第 2 / 2 页" in page2


def test_detail_across_territory_is_404(as_user, world, report):
    order = report(point=world.point("b"))
    assert as_user(world.users["street_a"]).get(reverse("dispatch:detail", args=[order.pk])).status_code == 404
    assert as_user(world.users["street_b"]).get(reverse("dispatch:detail", args=[order.pk])).status_code == 200


def test_board_needs_dispatcher_and_dispatches_from_the_tab(as_user, world, report):
    order = report()
    assert as_user(world.users["comm_a"]).get(reverse("dispatch:board")).status_code == 403
    c = as_user(world.users["dispatcher"])
    html = c.get(reverse("dispatch:board")).content.decode()
    assert order.code in html and 'id="tab-to_dispatch"' in html
    assert re.search(r'id="tab-to_dispatch".*?<span class="count">1</span>', html, re.S)
    next_url = reverse("dispatch:board") + "?tab=to_dispatch"
    r = c.post(reverse("dispatch:act", args=[order.pk, "dispatch"]), {"dispatch-version": order.version,
                                                                      "next": next_url})
    assert r.status_code == 302 and r["Location"] == next_url
    order.refresh_from_db()
    assert order.state == State.DISPATCHED and order.lead_unit_id == order.proposed_unit_id
    assert order.code not in c.get(next_url).content.decode()


def test_board_reject_needs_reason(as_user, world, report):
    order = report()
    c = as_user(world.users["dispatcher"])
    r = c.post(reverse("dispatch:act", args=[order.pk, "reject"]), {"reject-version": order.version})
    assert r.status_code == 400 and "请填写理由" in field_html(r.content.decode(), "reject-reason")
    r = c.post(reverse("dispatch:act", args=[order.pk, "reject"]),
               {"reject-version": order.version, "reject-reason": "属司法程序，不予受理"})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.state == State.REJECTED


def test_detail_masks_phone_per_viewer(as_user, world, report):
    order = dispatched(report, world)
    url = reverse("dispatch:detail", args=[order.pk])
    assert "138****5678" in field_or(as_user(world.users["dispatcher"]).get(url).content.decode(), "reporter-phone")
    assert "13812345678" in field_or(as_user(world.users["operator"]).get(url).content.decode(), "reporter-phone")
    assert "13812345678" in field_or(as_user(world.users["comm_a"]).get(url).content.decode(), "reporter-phone")


def test_stale_version_is_a_clear_message_not_an_overwrite(as_user, world, report):
    order = dispatched(report, world)
    stale = order.version
    c = as_user(world.users["comm_a"])
    assert c.post(reverse("dispatch:act", args=[order.pk, "accept"]), {"accept-version": stale}).status_code == 302
    order.refresh_from_db()
    r = c.post(reverse("dispatch:act", args=[order.pk, "suspend"]),
               {"suspend-version": stale, "suspend-reason": "等待施工"})
    assert r.status_code == 409 and STALE in r.content.decode()
    order.refresh_from_db()
    assert order.state == State.ACCEPTED


# --- unit queue, actions, extension, callback ---------------------------------------------------

def test_queue_lists_by_deadline_with_actions(as_user, world, report):
    first = dispatched(report, world)
    emergency = report(urgency="emergency", title="燃气泄漏")
    emergency = work_order_dispatch(emergency, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                                    reason="属地", version=emergency.version)
    c = as_user(world.users["comm_a"])
    html = c.get(reverse("dispatch:queue")).content.decode()
    assert html.index(emergency.code) < html.index(first.code)  # the 2-hour clock comes first
    assert "超期" in html or "剩余" in html
    assert 'data-action="accept"' in html and 'data-action="return"' in html
    assert as_user(world.users["dispatcher"]).get(reverse("dispatch:queue")).status_code == 403
    # another community's handler sees an empty queue, not these orders
    other = as_user(world.users["comm_b"]).get(reverse("dispatch:queue")).content.decode()
    assert first.code not in other


def test_return_needs_reason_and_basis_then_redispatch_binding(as_user, world, report):
    order = dispatched(report, world)
    c = as_user(world.users["comm_a"])
    url = reverse("dispatch:act", args=[order.pk, "return"])
    r = c.post(url, {"return-version": order.version, "return-reason": "非本社区职责"})
    assert r.status_code == 400
    assert "请填写退单的法律法规或职责依据" in field_html(r.content.decode(), "return-legal_basis")
    r = c.post(url, {"return-version": order.version, "return-reason": "非本社区职责",
                     "return-legal_basis": "《城市道路管理条例》第三条"})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.state == State.RETURNED
    d = as_user(world.users["dispatcher"])
    assert order.code in d.get(reverse("dispatch:board"), {"tab": "returned"}).content.decode()
    r = d.post(reverse("dispatch:act", args=[order.pk, "redispatch"]),
               {"redispatch-version": order.version, "redispatch-unit": str(world.units["dept"].pk),
                "redispatch-reason": "道路设施归城管", "redispatch-binding": "on"})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.state == State.DISPATCHED and order.lead_unit_id == world.units["dept"].pk
    assert order.assignments.order_by("-id").first().binding


def test_resolve_rejects_non_image_then_succeeds_with_photo(as_user, world, report):
    order = dispatched(report, world)
    order = work_order_accept(order, actor=world.users["comm_a"], version=order.version)
    c = as_user(world.users["comm_a"])
    url = reverse("dispatch:act", args=[order.pk, "resolve"])
    r = c.post(url, {"resolve-version": order.version, "resolve-result": "已更换灯泡",
                     "resolve-photos": SimpleUploadedFile("x.png", PDF, content_type="image/png")})
    assert r.status_code == 415 and "不是有效的图片" in field_html(r.content.decode(), "resolve-photos")
    order.refresh_from_db()
    assert order.state == State.ACCEPTED and not order.attachments.exists()
    r = c.post(url, {"resolve-version": order.version, "resolve-result": "已更换灯泡",
                     "resolve-photos": SimpleUploadedFile("ok.png", PNG_1x1, content_type="image/png")})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.state == State.RESOLVED and order.attachments.filter(kind="result").count() == 1


def test_extension_request_and_decision(as_user, world, report):
    order = dispatched(report, world)
    c = as_user(world.users["comm_a"])
    url = reverse("dispatch:act", args=[order.pk, "extension_request"])
    r = c.post(url, {"extension_request-version": order.version, "extension_request-reason": "需采购材料",
                     "extension_request-new_due": "2020-01-01T10:00"})
    assert r.status_code == 400 and "须晚于当前期限" in field_html(r.content.decode(), "extension_request-new_due")
    later = timezone.localtime(order.resolve_due + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    r = c.post(url, {"extension_request-version": order.version, "extension_request-reason": "需采购材料",
                     "extension_request-new_due": later})
    assert r.status_code == 302
    ext = Extension.objects.get()
    d = as_user(world.users["dispatcher"])
    html = d.get(reverse("dispatch:board"), {"tab": "extensions"}).content.decode()
    assert order.code in html and "需采购材料" in html
    r = d.post(reverse("dispatch:extension_decide", args=[ext.pk]), {f"ext{ext.pk}-approve": "0"})
    assert r.status_code == 400 and "不批准延期时，请填写意见" in field_html(r.content.decode(), f"ext{ext.pk}-note")
    r = d.post(reverse("dispatch:extension_decide", args=[ext.pk]), {f"ext{ext.pk}-approve": "1"})
    assert r.status_code == 302
    order.refresh_from_db()
    ext.refresh_from_db()
    assert ext.decision == "approved" and order.extension_count == 1
    assert timezone.localtime(order.resolve_due).strftime("%Y-%m-%dT%H:%M") == later


def resolved(report, world):
    order = dispatched(report, world)
    order = work_order_accept(order, actor=world.users["comm_a"], version=order.version)
    return work_order_resolve(order, actor=world.users["comm_a"], result="已修复", version=order.version)


def test_callback_unsatisfied_sends_back_then_satisfied_closes(as_user, world, report):
    order = resolved(report, world)
    url = reverse("dispatch:callback", args=[order.pk])
    assert 'id="callback-form"' not in as_user(world.users["comm_a"]).get(url).content.decode()
    c = as_user(world.users["operator"])
    html = c.get(url).content.decode()
    assert 'id="callback-form"' in html and "13812345678" in html and "已修复" in html
    r = c.post(url, {"version": order.version, "reached": "1"})
    assert r.status_code == 400 and "请选择满意度" in field_html(r.content.decode(), "satisfaction")
    r = c.post(url, {"version": order.version, "reached": "1", "solved": "0", "satisfaction": "unsatisfied",
                     "note": "路灯仍不亮"})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.state == State.ACCEPTED and order.rework_count == 1
    order = work_order_resolve(order, actor=world.users["comm_a"], result="已更换线路", version=order.version)
    r = c.post(url, {"version": order.version, "reached": "1", "solved": "1", "satisfaction": "satisfied"})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.state == State.CLOSED
    html = c.get(reverse("dispatch:detail", args=[order.pk])).content.decode()
    timeline = html[html.index('id="order-timeline"'):]
    steps = re.findall(r'<li data-action="(\w+)"', timeline)
    assert steps == ["created", "dispatched", "accepted", "resolved", "reworked", "resolved", "closed"]
    assert "回访不满意，返工" in timeline


# --- grid worker's patrol report ----------------------------------------------------------------

def patrol_data(world, **over):
    lng, lat = world.point("a")
    data = {"idempotency_key": "p" * 32, "subject_root": "E01", "subject": "E0104", "title": "",
            "description": "路口垃圾散落", "address": "", "lng": lng, "lat": lat,
            "photos": SimpleUploadedFile("scene.png", PNG_1x1, content_type="image/png")}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_patrol_page_is_for_grid_workers_and_starts_at_their_grid(as_user, world, client):
    url = reverse("dispatch:patrol")
    assert client.get(url).status_code == 302  # to login
    assert as_user(world.users["resident"]).get(url).status_code == 403
    assert as_user(world.users["operator"]).get(url).status_code == 403
    html = as_user(world.users["grid_a"]).get(url).content.decode()
    grid = world.grids[0]
    assert f'value="{round(grid.lng, 7)}"' in field_html(html, "location")
    assert f'value="{round(grid.lat, 7)}"' in field_html(html, "location")
    assert 'id="locate-btn"' in html and len(key_of(html)) == 32
    roots = field_html(html, "subject")
    assert 'value="E01"' in roots and 'value="C01"' in roots and 'value="Q01"' not in roots
    assert 'name="request_type"' not in html and 'name="reporter_phone"' not in html
    assert 'id="no-patrol-reports"' in html


def test_patrol_report_goes_through_intake_and_is_listed(as_user, world):
    c = as_user(world.users["grid_a"])
    r = c.post(reverse("dispatch:patrol"), patrol_data(world))
    assert r.status_code == 302 and r["Location"] == reverse("dispatch:patrol")
    order = WorkOrder.objects.get()
    assert order.channel == "patrol" and order.created_by_id == world.users["grid_a"].pk
    assert order.title == "道路不洁" and order.subject.code == "E0104"  # the title defaults to the subject
    assert order.grid_id == world.grids[0].pk and order.attachments.get().kind == "report"
    html = c.get(r["Location"]).content.decode()
    assert f"已上报，工单编号 {order.code}" in html
    mine = html[html.index('id="my-patrol-reports"'):]
    assert f'data-order="{order.code}"' in mine
    # A retry of the same form is the same report.
    assert c.post(reverse("dispatch:patrol"), patrol_data(world)).status_code == 302
    assert WorkOrder.objects.count() == 1


@pytest.mark.parametrize("over, field, status, message", [
    ({"photos": None}, "photos", 400, "请拍摄或上传至少一张现场照片"),
    ({"photos": SimpleUploadedFile("scan.png", PDF, content_type="image/png")}, "photos", 415, "不是有效的图片"),
    ({"subject": ""}, "subject", 400, "请选择事项分类"),
    ({"lng": "", "lat": ""}, "location", 400, "请在地图上选点或填写地址"),
    ({"point": "b"}, "location", 403, "不在您负责的网格"),
])
def test_patrol_bad_input_is_shown_at_the_field_and_stores_nothing(as_user, world, over, field, status, message):
    if over.pop("point", None):
        over["lng"], over["lat"] = world.point("b")
    r = as_user(world.users["grid_a"]).post(reverse("dispatch:patrol"), patrol_data(world, **over))
    assert r.status_code == status
    html = r.content.decode()
    assert message in field_html(html, field)
    assert WorkOrder.objects.count() == 0 and IdempotencyKey.objects.count() == 0 and Attachment.objects.count() == 0
    assert "路口垃圾散落" in html


# --- change of subject on the order's page --------------------------------------------------------

def test_change_subject_on_the_detail_page_recomputes_the_deadline(as_user, world, report):
    order = dispatched(report, world)
    assert order.resolve_due is not None
    url = reverse("dispatch:detail", args=[order.pk])
    assert 'data-action="change_subject"' not in as_user(world.users["comm_a"]).get(url).content.decode()
    c = as_user(world.users["dispatcher"])
    html = c.get(url).content.decode()
    form = html[html.index('data-action="change_subject"'):]
    assert 'name="change_subject-subject_root"' in form and 'name="change_subject-subject"' in form
    assert 'value="Q010101" selected' in form  # the current subject is preselected
    act = reverse("dispatch:act", args=[order.pk, "change_subject"])
    r = c.post(act, {"change_subject-version": order.version, "change_subject-subject_root": "E01",
                     "change_subject-subject": "E0104"})
    assert r.status_code == 400 and "请填写修改理由" in field_html(r.content.decode(), "change_subject-reason")
    r = c.post(act, {"change_subject-version": order.version, "change_subject-subject_root": "E01",
                     "change_subject-subject": "NOPE", "change_subject-reason": "分类有误"})
    assert r.status_code == 400 and "事项分类“NOPE”不存在" in field_html(r.content.decode(), "change_subject-subject")
    before = order.resolve_due
    r = c.post(act, {"change_subject-version": order.version, "change_subject-subject_root": "E01",
                     "change_subject-subject": "E0104", "change_subject-reason": "实为道路保洁"})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.subject.code == "E0104" and order.resolve_due < before  # 5 working hours beat 15 days
    html = c.get(url).content.decode()
    assert "已修改事项分类" in html and '<li data-action="subject_changed">' in html
    stale = c.post(act, {"change_subject-version": order.version - 1, "change_subject-subject": "Q010101",
                         "change_subject-reason": "改回"})
    assert stale.status_code == 409 and STALE in stale.content.decode()


def test_prefixed_subject_picker_loads_its_leaves_under_its_own_name(client, world):
    r = client.get(reverse("dispatch:subjects"), {"change_subject-subject_root": "E01",
                                                  "name": "change_subject-subject"})
    html = r.content.decode()
    assert 'name="change_subject-subject"' in html and 'value="E0104"' in html
    bad = client.get(reverse("dispatch:subjects"), {"subject_root": "E01", "name": '"><script>'}).content.decode()
    assert 'name="subject"' in bad and "<script>" not in bad
