"""GeoReport v2 bodies in JSON and XML (the spec's element names; XML is the required format)."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# A list under these keys becomes a wrapper element holding one child per item.
ITEM_TAGS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
# What XML 1.0 cannot hold in any form, not even as a character reference: C0 controls but tab and
# line breaks, surrogates, U+FFFE and U+FFFF. Whatever text a record carries (stored before intake
# cleaned it, or from elsewhere), the document stays well-formed.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# An element name from a key: anything but a plain name becomes "item" (no key comes from input today).
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML_RE.sub("", str(value))


def _fill(parent: ET.Element, tag: str, value) -> None:
    el = ET.SubElement(parent, tag if _NAME_RE.match(str(tag)) else "item")
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list | tuple):
        item = ITEM_TAGS.get(tag, "item")
        for v in value:
            _fill(el, item, v)
    else:
        el.text = _text(value)


def to_xml(root: str, body, item: str | None = None) -> bytes:
    """`body` is a dict (the root's children) or a list of dicts (one `item` element each)."""
    el = ET.Element(root)
    if isinstance(body, dict):
        for k, v in body.items():
            _fill(el, k, v)
    else:
        for row in body:
            _fill(el, item, row)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(el, encoding="utf-8", xml_declaration=False)


def respond(fmt: str, body, *, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    if fmt == "json":
        # A lone surrogate cannot be UTF-8: U+FFFD in its place (NUL and controls are escaped by json).
        content = _SURROGATE_RE.sub("\ufffd", json.dumps(body, ensure_ascii=False)).encode()
    else:
        content = to_xml(root, body, item)
    return HttpResponse(content, status=status, content_type=CONTENT_TYPES[fmt])


def error(fmt: str, status: int, description: str) -> HttpResponse:
    """The spec's error body: [{"code": 400, "description": "…"}] / <errors><error>…</error></errors>."""
    return respond(fmt, [{"code": status, "description": description}], root="errors", item="error", status=status)
