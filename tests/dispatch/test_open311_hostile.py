"""Open311 after hostile input: what a client posts is cleaned on the way in, and whatever a record
holds, requests.xml stays well-formed XML and requests.json parses."""

import json
from io import StringIO
from xml.etree import ElementTree as ET

import pytest
from django.core.management import call_command
from django.db import connection

from huying.dispatch.models import WorkOrder

HOSTILE = "井盖\x01缺失\x08\x0b\x0c\x1b[2J\x7f\u202e反向\u200b，\ufeff联系１３８\u200b１２３４\u200d５６７８\r\n第二行"


def _key() -> str:
    out = StringIO()
    call_command("open311", "create-key", "测试应用", stdout=out)
    return out.getvalue().strip()


def _post(client, key, world, **over):
    lng, lat = world.point("a")
    data = {"api_key": key, "service_code": "Q010101", "lat": lat, "long": lng, "description": HOSTILE,
            "first_name": "三\x07", "last_name": "张\u202e"}
    data.update(over)
    return client.post("/open311/v2/requests.json", data)


def _read_back(client, key, code):
    """The request by itself and in the list, in both formats: XML must parse, JSON must parse."""
    docs = {}
    for fmt in ("xml", "json"):
        for url in (f"/open311/v2/requests/{code}.{fmt}", f"/open311/v2/requests.{fmt}?api_key={key}"):
            r = client.get(url)
            assert r.status_code == 200, (url, r.content[:300])
            if fmt == "xml":
                root = ET.fromstring(r.content)  # raises on a character XML 1.0 forbids
                docs.setdefault(fmt, []).append(root)
            else:
                docs.setdefault(fmt, []).append(json.loads(r.content.decode("utf-8")))
    return docs


def test_hostile_post_is_cleaned_and_both_formats_stay_well_formed(client, world):
    key = _key()
    r = _post(client, key, world)
    assert r.status_code == 201, r.content
    code = r.json()[0]["service_request_id"]
    order = WorkOrder.objects.get(code=code)
    assert order.description == "井盖缺失\n\n[2J反向，联系13812345678\n第二行"  # \v and \f are line breaks
    assert order.title.startswith("井盖缺失") and order.reporter_name == "张三"
    docs = _read_back(client, key, code)
    description = docs["xml"][0].find("request/description").text
    assert "\x01" not in description and "井盖缺失" in description
    assert docs["json"][0][0]["service_request_id"] == code


def test_records_stored_before_cleaning_still_render(client, world, report):
    # Rows written before intake cleaned text (or by a migration, an import, a database console).
    key = _key()
    order = report()
    dirty = "路\x01灯\x1f不\ufffe亮\x0b"
    if connection.vendor == "sqlite":  # PostgreSQL cannot store NUL at all
        dirty += "\x00"
    WorkOrder.objects.filter(pk=order.pk).update(description=dirty, address="仓边\x02路")
    docs = _read_back(client, key, order.code)
    assert docs["xml"][0].find("request/description").text.startswith("路灯不亮")
    assert docs["json"][0][0]["description"].startswith("路\x01灯")  # JSON escapes controls: valid as is


@pytest.mark.parametrize(("over", "field"), [
    ({"first_name": "名" * 31, "last_name": "姓" * 30}, "诉求人"),
    ({"address_string": "仓边路" + "号" * 253, "lat": "", "long": ""}, "地址"),
])
def test_too_long_name_or_address_is_a_400_not_cut_short(client, world, over, field):
    r = _post(client, _key(), world, **over)
    assert r.status_code == 400, r.content
    assert field in r.json()[0]["description"]
    assert WorkOrder.objects.count() == 0
