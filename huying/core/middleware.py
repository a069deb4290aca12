"""Refuse text no store can hold before any view runs.

`BadCharacterMiddleware` answers 400 when the path, the query string, a form field or a JSON string
holds NUL or a lone surrogate (also written as the JSON escapes \\u0000 and an unpaired
\\ud800–\\udfff). PostgreSQL refuses NUL in text with an error deep inside a view (a 500), and a lone
surrogate cannot be encoded as UTF-8 at all; the services clean what they store anyway
(`huying.core.text.clean_text`), this is the cheap guard in front of everything else.

The answer takes the caller's format: the API's `{"code", "message", "field"}` JSON under /api/,
the Open311 error list (JSON or XML, by the path's suffix) under /open311/, a short Chinese page
elsewhere. Neither the body nor the query string is ever logged.
"""

from __future__ import annotations

import json
import logging
import re

from django.conf import settings
from django.http import HttpResponse, JsonResponse, QueryDict
from django.utils.html import escape

from huying.core.text import BAD_RE, bad_character_error, find_bad_in_json

logger = logging.getLogger(__name__)

# A JSON escape that may decode to NUL or a surrogate: only then is the body parsed here.
_JSON_ESCAPE_RE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_PERCENT_NUL_RE = re.compile(r"%00")
# Bodies larger than this are left to the view (which refuses them by DATA_UPLOAD_MAX_MEMORY_SIZE),
# so nothing here reads a huge body or raises on it before the view can answer in its own format.
DEFAULT_BODY_LIMIT = 2_621_440


def _body_limit() -> int:
    limit = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
    return DEFAULT_BODY_LIMIT if limit is None else int(limit)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _bad_in_pairs(items) -> str | None:
    """The name of the first (name, value) pair holding a bad character."""
    for key, value in items:
        if BAD_RE.search(key):
            return "query"
        if isinstance(value, str) and BAD_RE.search(value):
            return key
    return None


def bad_character_in(request) -> tuple[str, str] | None:
    """(where, field) of the first NUL or lone surrogate in the request, or None."""
    if BAD_RE.search(request.path):
        return "path", "path"
    query = request.META.get("QUERY_STRING", "")
    if query and (_PERCENT_NUL_RE.search(query) or BAD_RE.search(query)):
        found = _bad_in_pairs(request.GET.items())
        return "query", found or "query"
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        # Django's parser hands file parts to the upload handlers and keeps only text fields here; the
        # view reads the same parsed request.POST, so nothing is read twice.
        try:
            found = _bad_in_pairs(request.POST.items())
        except OSError:  # the client went away mid-upload: the view sees the same
            return None
        return ("form", found) if found else None
    if content_type in ("application/x-www-form-urlencoded",) or content_type.endswith(("/json", "+json")):
        if not hasattr(request, "_body") and _content_length(request) > _body_limit():
            return None
        try:
            body = request.body  # kept on the request: the view reads it from memory
        except OSError:
            return None
        if content_type == "application/x-www-form-urlencoded":
            if b"%00" not in body and b"\x00" not in body:
                return None
            # Parsed here rather than through request.POST, which Django fills for POST only (not PUT, PATCH).
            found = _bad_in_pairs(QueryDict(body, encoding=request.encoding).items())
            return ("form", found or "body")
        if b"\x00" in body:
            return "json", "body"
        if not _JSON_ESCAPE_RE.search(body):
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None  # malformed JSON: the view says so in its own words
        found = find_bad_in_json(data)
        return ("json", found) if found else None
    return None


def _open311_format(path: str) -> str:
    return "json" if path.rstrip("/").endswith(".json") else "xml"


PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>请求无效</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">
<h1>请求无效（400）</h1><p>{message}</p><p><a href="/">返回首页</a></p></body></html>
"""


def bad_character_response(request, field: str) -> HttpResponse:
    error = bad_character_error(field)
    path = request.path
    if path.startswith("/api/"):
        return JsonResponse({"code": error.code, "message": error.message, "field": field}, status=400,
                            json_dumps_params={"ensure_ascii": False})
    if path.startswith("/open311/"):
        from huying.dispatch.open311.render import error as open311_error  # core serves dispatch's format

        return open311_error(_open311_format(path), 400, error.message)
    return HttpResponse(PAGE.format(message=escape(error.message)), status=400,
                        content_type="text/html; charset=utf-8")


class BadCharacterMiddleware:
    """See the module docstring; cheap: a regex over the path and query, the body only when it is text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = bad_character_in(request)
        if found is not None:
            where, field = found
            # Where, never what: the body and the query string may hold residents' personal data.
            logger.info("refused a bad character in the %s of %s %s", where, request.method,
                        BAD_RE.sub("\ufffd", request.path)[:200])
            return bad_character_response(request, field)
        return self.get_response(request)
