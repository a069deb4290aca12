"""Open311 GeoReport v2 endpoints under /open311/v2/ (http://wiki.open311.org/GeoReport_v2).

Handlers only translate HTTP to the Open311 services and selectors; a DomainError becomes the
spec's error list with 403 (api_key), 404 (unknown service, request, token or jurisdiction) or
400 (anything else wrong with the input).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from huying.core.errors import DomainError

from . import selectors, services
from .render import error, respond

# When this endpoint's contract last changed (discovery's changeset).
CHANGESET = datetime(2026, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
_ATTRIBUTE = re.compile(r"^attribute\[(?P<code>[^\]]+)\]$")


def _status(exc: DomainError) -> int:
    return exc.status if exc.status in (403, 404) else 400


def open311_view(methods=("GET",)):
    """Method check, jurisdiction check and DomainError → spec error, for one endpoint."""

    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def inner(request, *args, fmt="xml", **kwargs):
            if request.method not in methods:
                resp = error(fmt, 405, _("不支持 %(m)s 方法。") % {"m": request.method})
                resp["Allow"] = ", ".join(methods)
                return resp
            params = request.POST if request.method == "POST" else request.GET
            wanted = (params.get("jurisdiction_id") or "").strip()
            if wanted and wanted != selectors.jurisdiction_id():
                return error(fmt, 404, _("jurisdiction_id“%(j)s”不存在。") % {"j": wanted})
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except DomainError as exc:
                return error(fmt, _status(exc), exc.message)

        return inner

    return wrap


@open311_view()
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("open311:root"))
    return respond(fmt, selectors.discovery(base.rstrip("/"), changeset=CHANGESET), root="discovery")


@open311_view()
def service_list(request, fmt):
    return respond(fmt, selectors.services_list(), root="services", item="service")


@open311_view()
def service_definition(request, code, fmt):
    return respond(fmt, selectors.service_definition(code), root="service_definition")


@open311_view(methods=("GET", "POST"))
def requests(request, fmt):
    if request.method == "GET":
        return respond(fmt, selectors.requests_list(request.GET), root="service_requests", item="request")
    p = request.POST
    attributes = {m.group("code"): v for k, v in p.items() if (m := _ATTRIBUTE.match(k))}
    sub = services.service_request_create(
        api_key=p.get("api_key"), service_code=p.get("service_code", ""), lat=p.get("lat"), long=p.get("long"),
        address_string=p.get("address_string", ""), description=p.get("description", ""),
        email=p.get("email", ""), phone=p.get("phone", ""), first_name=p.get("first_name", ""),
        last_name=p.get("last_name", ""), device_id=p.get("device_id", ""), account_id=p.get("account_id", ""),
        media_url=p.get("media_url", ""), attributes=attributes,
    )
    # The order exists at once, so the id is returned; the token is returned too for clients that
    # track submissions by token (GET tokens/{token}).
    body = [{"service_request_id": sub.order.code, "token": sub.token,
             "service_notice": _("已受理，工单编号 %(code)s，可凭此编号查询办理进度。") % {"code": sub.order.code},
             "account_id": sub.account_id or None}]
    return respond(fmt, body, root="service_requests", item="request", status=201)


@open311_view()
def request_detail(request, request_id, fmt):
    return respond(fmt, [selectors.request_get(request_id)], root="service_requests", item="request")


@open311_view()
def token(request, token, fmt):
    return respond(fmt, [selectors.token_get(token)], root="service_requests", item="request")


@csrf_exempt
def not_found(request, rest=""):
    fmt = "json" if rest.endswith(".json") else "xml"
    return error(fmt, 404, _("没有这个接口：%(p)s（格式须为 .json 或 .xml）。") % {"p": rest or "/"})
