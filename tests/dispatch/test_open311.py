"""Open311 GeoReport v2: the real `georeport` client against a live server, plain-HTTP posting and
tokens, the spec's errors, and what the public records leave out."""

import json
import re
from datetime import timedelta
from io import StringIO
from xml.etree import ElementTree as ET

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone
from georeport import GeoReport

from huying.dispatch.models import State, Subject
from huying.dispatch.open311.models import Open311ApiKey, Open311Submission
from huying.dispatch.open311.selectors import services_list
from huying.dispatch.services import work_order_accept, work_order_dispatch, work_order_resolve

PHONE = "13812345678"


def _key(name="测试应用") -> str:
    out = StringIO()
    call_command("open311", "create-key", name, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def orders(world, report):
    """One open (dispatched) and one closed-in-Open311 (resolved) order, filed an hour ago, plus a 举报."""
    u = world.users
    t = timezone.now() - timedelta(hours=1)
    open_order = work_order_dispatch(report(now=t, description=f"井盖缺失，联系我 {PHONE}"), actor=u["dispatcher"],
                                     now=t)
    done = work_order_dispatch(report(now=t, subject="Q010102"), actor=u["dispatcher"], now=t)
    done = work_order_accept(done, actor=u["comm_a"], now=t)
    done = work_order_resolve(done, actor=u["comm_a"], result="已处理，联系人王五 13900001111", now=t)
    hidden = report(now=t, request_type="report", description="举报某店占道经营")
    return open_order, done, hidden


def _leaf_count() -> int:
    return sum(1 for s in Subject.objects.filter(active=True) if not s.children.filter(active=True).exists())


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_and_plain_http_posts_and_reads_back(live_server, world, orders, fmt):
    open_order, done, hidden = orders
    root = f"{live_server.url}/open311/v2"
    client = GeoReport(root, output_format=fmt)

    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert len(codes) == _leaf_count() > 500
    q010101 = next(s for s in services if s["service_code"] == "Q010101")
    assert q010101["service_name"] == Subject.objects.get(code="Q010101").name
    assert q010101["group"] == Subject.objects.get(code="Q01").name
    assert str(q010101["metadata"]).lower() == "true"
    assert "Q01" not in codes and "Q0101" not in codes  # only leaves are services

    definition = client.get_service_definition("Q010101")
    assert definition["service_code"] == "Q010101"
    attrs = definition["attributes"]
    attr = attrs["attribute"] if fmt == "xml" else attrs[0]
    assert attr["code"] == "request_type" and attr["datatype"] == "singlevaluelist"
    values = attr["values"]["value"] if fmt == "xml" else attr["values"]
    assert {v["key"] for v in values} == {"consult", "help", "complaint", "suggestion"}  # 举报 is never offered

    def as_list(x):
        return x if isinstance(x, list) else [x]

    open_ids = [r["service_request_id"] for r in as_list(client.get_service_requests(status="open"))]
    closed_ids = [r["service_request_id"] for r in as_list(client.get_service_requests(status="closed"))]
    assert open_order.code in open_ids and done.code not in open_ids and hidden.code not in open_ids
    assert closed_ids == [done.code]

    one = client.get_service_request(open_order.code)
    assert one["status"] == "open"
    assert one["service_code"] == "Q010101"
    assert one["agency_responsible"] == world.units["community_a"].name
    assert one["expected_datetime"] == timezone.localtime(open_order.resolve_due).isoformat(timespec="seconds")
    assert one["requested_datetime"] == timezone.localtime(open_order.created_at).isoformat(timespec="seconds")
    assert "井盖缺失，联系我 138********" == one["description"] and PHONE not in one["description"]
    closed = client.get_service_request(done.code)
    assert closed["status"] == "closed" and "办结" in closed["status_notes"]
    assert "13900001111" not in json.dumps(closed, ensure_ascii=False)  # the staff's free text is not published

    # POST as the spec says: form-encoded, with api_key; then read it back by id and by token.
    key = _key()
    lng, lat = world.point("b")
    resp = requests.post(f"{root}/requests.{fmt}", data={
        "api_key": key, "service_code": "Q010201", "lat": str(lat), "long": str(lng),
        "description": "路灯不亮已经三天", "email": "li@example.com", "phone": "13700001234",
        "first_name": "四", "last_name": "李", "attribute[request_type]": "help",
    }, timeout=30)
    assert resp.status_code == 201, resp.text
    if fmt == "json":
        assert resp.headers["Content-Type"].startswith("application/json")
        created = resp.json()[0]
    else:
        assert resp.headers["Content-Type"].startswith("text/xml")
        created = {c.tag: c.text for c in ET.fromstring(resp.content).find("request")}
    request_id, token = created["service_request_id"], created["token"]
    assert created["service_notice"]

    back = client.get_service_request(request_id)
    assert back["service_request_id"] == request_id and back["service_code"] == "Q010201"
    assert back["status"] == "open" and back["description"] == "路灯不亮已经三天"
    assert float(back["lat"]) == round(lat, 3) and float(back["long"]) == round(lng, 3)
    raw = requests.get(f"{root}/requests/{request_id}.{fmt}", timeout=30).text
    for private in ("13700001234", "li@example.com", "李四"):
        assert private not in raw

    by_token = requests.get(f"{root}/tokens/{token}.{fmt}", timeout=30)
    assert by_token.status_code == 200
    if fmt == "json":
        assert by_token.json() == [{"service_request_id": request_id, "token": token}]
    else:
        req = ET.fromstring(by_token.content).find("request")
        assert (req.findtext("service_request_id"), req.findtext("token")) == (request_id, token)

    sub = Open311Submission.objects.select_related("order", "order__request_type").get(token=token)
    assert sub.order.code == request_id and sub.order.channel == "api"
    assert sub.order.request_type.code == "help" and sub.order.reporter_name == "李四"
    assert sub.order.reporter_phone == "13700001234" and sub.email == "li@example.com"
    assert sub.api_key.last_used_at is not None


def _post(client, fmt="json", **data):
    return client.post(f"/open311/v2/requests.{fmt}", data=data)


def _errors(resp, fmt="json"):
    if fmt == "json":
        return resp.json()
    return [{"code": int(e.findtext("code")), "description": e.findtext("description")}
            for e in ET.fromstring(resp.content).findall("error")]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_have_the_spec_shape_and_codes(client, world, fmt):
    key = _key()
    lng, lat = world.point("a")
    good = {"service_code": "Q010101", "lat": lat, "long": lng, "description": "x"}

    cases = [
        (_post(client, fmt, **good), 403),                                          # no api_key
        (_post(client, fmt, api_key="h311_wrong", **good), 403),                    # bad api_key
        (_post(client, fmt, api_key=key, **{**good, "service_code": "NOPE"}), 400),  # unknown service
        (_post(client, fmt, api_key=key, **{**good, "service_code": "Q01"}), 400),   # a group, not a service
        (_post(client, fmt, api_key=key, service_code="Q010101", description="x"), 400),  # no location
        (_post(client, fmt, api_key=key, **{**good, "lat": 39.9, "long": 116.4}), 400),   # outside the city
        (_post(client, fmt, api_key=key, **{**good, "attribute[request_type]": "report"}), 400),
        (_post(client, fmt, api_key=key, **{**good, "email": "not-an-email"}), 400),
        (_post(client, fmt, api_key=key, **{**good, "phone": "12"}), 400),
        (client.get(f"/open311/v2/services/NOPE.{fmt}"), 404),
        (client.get(f"/open311/v2/requests/0000.{fmt}"), 404),
        (client.get(f"/open311/v2/tokens/nope.{fmt}"), 404),
        (client.get(f"/open311/v2/services.{fmt}", {"jurisdiction_id": "beijing"}), 404),
        (client.get(f"/open311/v2/requests.{fmt}", {"status": "pending"}), 400),
        (client.get(f"/open311/v2/requests.{fmt}", {"start_date": "yesterday"}), 400),
        (client.get(f"/open311/v2/requests.{fmt}", {"start_date": "2026-01-01T00:00:00Z",
                                                      "end_date": "2026-06-01T00:00:00Z"}), 400),
        (client.delete(f"/open311/v2/requests.{fmt}"), 405),
        (client.get(f"/open311/v2/nothing.{fmt}"), 404),
    ]
    for resp, status in cases:
        assert resp.status_code == status, (status, resp.content.decode())
        errors = _errors(resp, fmt)
        assert len(errors) == 1 and errors[0]["code"] == status and errors[0]["description"]
    assert Open311Submission.objects.count() == 0  # nothing refused was stored
    assert _post(client, fmt, api_key=key, **good).status_code == 201


def test_request_filters_ids_codes_dates_and_status(client, world, orders):
    open_order, done, hidden = orders

    def ids(**params):
        return [r["service_request_id"] for r in client.get("/open311/v2/requests.json", params).json()]

    # newest first; same time, so the later id first; a hidden (举报) or unknown id is just absent
    assert ids(service_request_id=f"{open_order.code},{done.code},{hidden.code},nope") == [done.code, open_order.code]
    # service_request_id overrides the other filters
    assert ids(service_request_id=done.code, status="open") == [done.code]
    assert ids(service_code="Q010102") == [done.code]
    assert ids(service_code="Q010101,Q010102") == [done.code, open_order.code]
    assert ids(status="open,closed") == [done.code, open_order.code]
    assert ids(status="open") == [open_order.code]
    created = open_order.created_at
    around = {"start_date": (created - timedelta(minutes=1)).isoformat(),
              "end_date": (created + timedelta(minutes=1)).isoformat()}
    assert ids(**around) == [done.code, open_order.code]
    assert ids(start_date=(created + timedelta(minutes=5)).isoformat()) == []
    assert ids(end_date=(created - timedelta(minutes=5)).isoformat()) == []
    # an unescaped "+08:00" arrives as " 08:00" and still parses
    local = timezone.localtime(created - timedelta(minutes=1)).isoformat(timespec="seconds").replace("+", " ")
    assert ids(start_date=local) == [done.code, open_order.code]


def test_discovery_in_both_formats(client, db):  # the contact names the loaded city
    j = client.get("/open311/v2/discovery.json").json()
    assert j["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert j["endpoints"][0]["url"].endswith("/open311/v2")
    assert set(j["endpoints"][0]["formats"]) == {"text/xml", "application/json"}
    x = ET.fromstring(client.get("/open311/v2/discovery.xml").content)
    assert x.tag == "discovery"
    assert [f.text for f in x.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_create_key_prints_a_working_key_and_stores_only_its_hash(db):
    from huying.core.errors import DomainError
    from huying.dispatch.open311.services import api_key_check

    raw = _key("12345 小程序")
    key = Open311ApiKey.objects.get()
    assert raw.startswith("h311_") and raw not in key.key_hash and key.prefix == raw[:12]
    assert api_key_check(raw) == key
    call_command("open311", "revoke-key", key.prefix, stdout=StringIO())
    with pytest.raises(DomainError) as exc:
        api_key_check(raw)
    assert exc.value.status == 403


def test_services_are_the_active_leaves(world):
    leaf = Subject.objects.get(code="Q010101")
    leaf.active = False
    leaf.save(update_fields=["active"])
    codes = {s["service_code"] for s in services_list()}
    assert "Q010101" not in codes and "Q010102" in codes
    assert len(codes) == _leaf_count()


def test_merged_and_rejected_orders_are_closed_with_notes(world, report):
    from huying.dispatch.open311.selectors import public_request, status_of
    from huying.dispatch.services import work_order_reject

    order = work_order_reject(report(), actor=world.users["dispatcher"], reason="非政府职能")
    assert status_of(State.REJECTED) == "closed" and status_of(State.SUSPENDED) == "open"
    out = public_request(order)
    assert out["status"] == "closed" and "不予受理" in out["status_notes"] and "非政府职能" not in out["status_notes"]
    assert out["agency_responsible"] == "" and out["expected_datetime"] is None


# Phone and identity numbers as residents type them, and what of each stays readable.
NUMBER_FORMATS = [
    ("13812345678", "138"),
    ("138-1234-5678", "138"),
    ("138 1234 5678", "138"),
    ("138.1234.5678", "138"),
    ("138/1234/5678", "138"),
    ("138\u00a01234\u00a05678", "138"),
    ("１３８１２３４５６７８", "138"),
    ("一三八一二三四五六七八", "138"),
    ("+86 138 1234 5678", "86138"),
    ("020-8888 6666", "020"),
    ("44010419900101123X", "440"),
    ("440104900101123", "440"),
]


def test_public_records_mask_numbers_in_every_format_and_the_code_opens_nothing_unmasked(client, world, report):
    """The public listing (no key) keeps the spec's behaviour, tracking codes included; whatever it
    returns, and the tracking page its codes open, shows the numbers masked and no staff reply."""
    import unicodedata

    cn = dict(zip("〇一二三四五六七八九", "0123456789", strict=True))

    def digits(text):
        return "".join(cn.get(ch) or (str(unicodedata.decimal(ch)) if ch.isdecimal() else "") for ch in text)

    u = world.users
    t = timezone.now() - timedelta(hours=1)
    by_code = {}
    for written, head in NUMBER_FORMATS:
        order = report(now=t, title=f"请联系{written}", description=f"井盖缺失，联系我 {written} 谢谢")
        by_code[order.code] = (written, head)
    done = work_order_dispatch(order, actor=u["dispatcher"], now=t)
    done = work_order_accept(done, actor=u["comm_a"], now=t)
    work_order_resolve(done, actor=u["comm_a"], result="已处理，联系人王五 13900001111", now=t)

    listed = {r["service_request_id"]: r for r in client.get("/open311/v2/requests.json").json()}
    tree = ET.fromstring(client.get("/open311/v2/requests.xml").content)
    in_xml = {r.findtext("service_request_id"): r.findtext("description") for r in tree}
    assert set(by_code) <= set(listed)
    for code, (written, head) in by_code.items():
        for description in (listed[code]["description"], in_xml[code]):
            assert digits(description) == head, (written, description)
        page = client.get("/orders/track/", {"code": code}).content.decode()
        title = re.search(r'id="track-title">([^<]*)<', page).group(1)
        assert digits(title) == head, (written, title)
        assert "王五" not in page and "13900001111" not in page and 'id="track-resolution"' not in page
