"""NUL and lone surrogates are refused with a 400 in the caller's format before any view runs
(huying/core/middleware.py), on pages, the API and Open311 alike, and nothing of them is logged."""

import json
import logging
from xml.etree import ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client


@pytest.fixture
def staff(db):
    from huying.people.services import roles_ensure, user_create

    roles_ensure()
    user = user_create(username="root", password="x", actor=None, is_superuser=True, check_password=False)
    client = Client()
    client.force_login(user)
    return client


def _api_error(r, field):
    assert r.status_code == 400, (r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["code"] == "core.text.bad_character" and body["field"] == field
    assert "字符" in body["message"]


@pytest.mark.parametrize("url", [
    "/api/v1/dispatch/orders/%00",
    "/api/v1/dispatch/orders/abc%00def",
])
def test_api_path_with_nul_is_a_json_400(staff, url):
    _api_error(staff.get(url), "path")


@pytest.mark.parametrize("url", ["/api/v1/dispatch/orders?q=%00", "/api/v1/dispatch/orders?q=%E8%B7%AF%00%00"])
def test_api_query_with_nul_is_a_json_400_naming_the_parameter(staff, url):
    _api_error(staff.get(url), "q")


@pytest.mark.parametrize(("raw", "field"), [
    ('{"title": "\\u0000", "lng": 1}', "title"),
    ('{"title": "ok", "photos": [{"name": "\\ud800x"}]}', "photos[0].name"),
    ('{"title": "\\udc00"}', "title"),
    ('{"title": "a\\\\\\u0000"}', "title"),  # an escaped backslash, then a real \u0000
])
def test_api_json_body_with_nul_or_lone_surrogate_escape_is_a_json_400(staff, raw, field):
    r = staff.post("/api/v1/dispatch/orders", data=raw, content_type="application/json",
                   headers={"Idempotency-Key": "h1"})
    _api_error(r, field)


@pytest.mark.parametrize("raw", [
    '{"title": "\\ud83d\\ude00 emoji pair"}',  # a surrogate *pair* is one astral character: fine
    '{"title": "a\\\\u0000 is text, not NUL"}',  # an escaped backslash before u0000
])
def test_api_json_body_with_harmless_escapes_reaches_the_view(staff, raw):
    r = staff.post("/api/v1/dispatch/orders", data=raw, content_type="application/json",
                   headers={"Idempotency-Key": "h2"})
    assert r.status_code != 400 or r.json().get("code") != "core.text.bad_character"


@pytest.mark.parametrize(("url", "fmt"), [
    ("/open311/v2/requests/%00.json", "json"),
    ("/open311/v2/requests/%00.xml", "xml"),
    ("/open311/v2/requests.json?service_code=%00", "json"),
    ("/open311/v2/requests.xml?status=open%00", "xml"),
])
def test_open311_answers_its_own_error_list(db, client, url, fmt):
    r = client.get(url)
    assert r.status_code == 400
    if fmt == "json":
        assert r.json()[0]["code"] == 400 and r.json()[0]["description"]
    else:
        root = ET.fromstring(r.content)
        assert root.tag == "errors" and root.find("error/code").text == "400"


def test_open311_post_form_field_with_nul_is_refused(db, client):
    r = client.post("/open311/v2/requests.json", {"api_key": "x", "service_code": "Q010101",
                                                  "description": "井盖\x00缺失", "lat": "23.1", "long": "113.2"})
    assert r.status_code == 400
    assert r.json()[0]["code"] == 400


def test_page_with_nul_in_query_is_a_short_chinese_page(staff):
    r = staff.get("/orders/?q=%00")
    assert r.status_code == 400
    assert r["Content-Type"].startswith("text/html")
    assert "请求无效" in r.content.decode()


def test_page_form_post_with_nul_is_refused(db, client):
    r = client.post("/orders/report/", {"title": "路灯\x00不亮"})
    assert r.status_code == 400 and "请求无效" in r.content.decode()


def test_multipart_checks_text_fields_not_file_contents(db, client):
    upload = SimpleUploadedFile("p.png", b"\x89PNG\x00\x00\x00binary\x00", content_type="image/png")
    r = client.post("/orders/report/", {"title": "路灯不亮", "photos": upload})
    assert not (r.status_code == 400 and "请求无效" in r.content.decode())  # NUL bytes in a file are fine
    upload.seek(0)
    r = client.post("/orders/report/", {"title": "路灯\x00不亮", "photos": upload})
    assert r.status_code == 400 and "请求无效" in r.content.decode()


def test_neither_query_nor_body_is_logged(staff, caplog):
    secret = "13812345678"
    with caplog.at_level(logging.DEBUG):
        staff.get(f"/api/v1/dispatch/orders?q={secret}%00")
        staff.post("/api/v1/dispatch/orders", data=json.dumps({"title": secret + "\x00"}),
                   content_type="application/json")
    assert caplog.records, "the refusal is logged (where, not what)"
    assert secret not in caplog.text


def test_form_put_is_checked_too(staff):
    r = staff.put("/api/v1/dispatch/orders/x", data="note=%00", content_type="application/x-www-form-urlencoded")
    _api_error(r, "note")
