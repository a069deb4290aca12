"""The JSON API (django-ninja). OpenAPI schema at /api/v1/openapi.json.

Each app contributes a router in its `api.py`; handlers stay thin and call services/selectors.
Every refusal, ours or the framework's (validation, authentication, unknown path, wrong method,
throttling), is one JSON body `{"code", "message", "field"?, "details"?}` (`ErrorOut`), and the
schema declares it for every status an operation can answer with (`document_errors`).
"""

import logging
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404
from django.urls import URLPattern, re_path
from django.utils.decorators import method_decorator
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError
from ninja.security import SessionAuth

from huying.core.apischema import ErrorOut
from huying.core.errors import DomainError
from huying.core.throttle import ApiThrottle
from huying.people.auth import ApiTokenAuth

logger = logging.getLogger(__name__)

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
ERROR_DESCRIPTIONS = {
    400: "请求有误（含无法解析的请求体、NUL 等非法字符、超出范围的值）",
    401: "未登录或 API 令牌无效",
    403: "无权执行此操作",
    404: "对象不存在或不在您的管辖范围内",
    405: "不支持该请求方法",
    409: "版本冲突或状态不允许",
    413: "请求体过大",
    415: "内容类型或文件格式不受支持",
    422: "参数校验失败（field 为第一个出错的参数，details.errors 列出全部）",
    429: "请求过于频繁",
}


def document_errors(schema: dict) -> dict:
    """Declare ErrorOut for every error status each operation can answer with.

    Every operation can answer 400 (the request-cleaning middleware, unparsable bodies), 401 when
    it needs a login, 403, 422 when it takes any input, and 429 (throttling); 404 when its path
    names an object. Statuses a router already declares are kept as they are.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}"))
    for path, operations in schema.get("paths", {}).items():
        for op in operations.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            statuses = {400, 403, 429}
            if op.get("security"):
                statuses.add(401)
            if op.get("parameters") or op.get("requestBody"):
                statuses.add(422)
            if "{" in path:
                statuses.add(404)
            responses = op["responses"]
            for status in sorted(statuses):
                if str(status) not in responses and status not in responses:
                    responses[status] = {"description": ERROR_DESCRIPTIONS[status],
                                         "content": {"application/json": {"schema": ERROR_REF}}}
    return schema


class HuyingAPI(NinjaAPI):
    """NinjaAPI whose schema documents every error and whose every answer is JSON."""

    def get_openapi_schema(self, *args, **kwargs):
        return document_errors(super().get_openapi_schema(*args, **kwargs))

    def _get_urls(self):
        urls = [self._json_not_allowed(u) if isinstance(u, URLPattern) else u for u in super()._get_urls()]
        # Anything else under the API's prefix is a JSON 404, not the site's HTML page.
        urls.append(re_path(r"^.*$", self._unknown_path, name="unknown"))
        return urls

    def _error(self, request, status: int, code: str, message: str, **extra):
        return self.create_response(request, {"code": code, "message": str(message), **extra}, status=status)

    @method_decorator(csrf_exempt)
    def _unknown_path(self, request, *args, **kwargs):
        return self._error(request, 404, "not_found", _("接口路径不存在。"))

    def _json_not_allowed(self, pattern: URLPattern) -> URLPattern:
        view = pattern.callback

        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            is_json = response.get("Content-Type", "").startswith("application/json")
            if response.status_code == 405 and not is_json:
                allow = response.get("Allow", "")
                response = self._error(request, 405, "method_not_allowed",
                                       _("不支持 %(method)s 请求。") % {"method": request.method})
                response["Allow"] = allow
            return response

        pattern.callback = wrapped
        return pattern


api = HuyingAPI(
    title="Huying API",
    version="1",
    urls_namespace="api",
    # A bearer token first: SessionAuth refuses a POST without a CSRF token before the next one is tried.
    auth=[ApiTokenAuth(), SessionAuth()],
    throttle=[ApiThrottle()],  # writes per user, settings.HUYING_RATES["api"] (core.throttle)
    docs_url=None,
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


_SCHEMA_PARAMS = {"payload", "filters", "paging"}


def _field_of(loc) -> str:
    """("query", "page"), ("query", "filters", "page"), ("body", "payload", "parts", 0, "title") →
    "page", "page", "parts.0.title": where the value came from and the handler's name for a whole
    schema are left out."""
    parts = [str(p) for p in loc[1:]]
    if len(parts) > 1 and parts[0] in _SCHEMA_PARAMS:
        parts = parts[1:]
    return ".".join(parts)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    errors = [{"field": _field_of(e.get("loc", ())), "location": str(e.get("loc", ("",))[0]),
               "message": str(e.get("msg", ""))} for e in exc.errors]
    first = errors[0] if errors else {"field": "", "message": ""}
    return api.create_response(request, {
        "code": "validation_error",
        "message": _("参数“%(field)s”无效：%(reason)s") % {"field": first["field"], "reason": first["message"]},
        "field": first["field"] or None, "details": {"errors": errors}}, status=422)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc, Throttled):
        response = api._error(request, 429, "throttled", _("请求过于频繁，请稍后再试。"))
        if exc.wait:
            response["Retry-After"] = str(int(exc.wait))
        return response
    if isinstance(exc, AuthenticationError):
        return api._error(request, exc.status_code, "auth.required",
                          _("请先登录，或在 Authorization 头中提供有效的 API 令牌。"))
    if isinstance(exc, AuthorizationError):
        return api._error(request, exc.status_code, "forbidden", _("您无权执行此操作。"))
    if exc.status_code == 400:
        return api._error(request, 400, "bad_request", _("请求体无法解析（应为 JSON）。"))
    if exc.status_code == 403:  # SessionAuth's CSRF check
        return api._error(request, 403, "csrf_failed", _("CSRF 校验失败：请使用 API 令牌，或带上 CSRF 令牌。"))
    return api._error(request, exc.status_code, f"http_{exc.status_code}", str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api._error(request, 404, "not_found", _("对象不存在或不在您的管辖范围内。"))


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api._error(request, 403, "forbidden", _("您无权执行此操作。"))


@api.exception_handler(DataError)
@api.exception_handler(OverflowError)
def _out_of_range(request, exc):
    # The boundary types bound what they can; anything that still does not fit a column or a date is
    # the caller's bad input, not a server fault.
    logger.warning("API input out of range on %s: %s", request.path, exc)
    return api._error(request, 400, "bad_input", _("输入的值超出允许的范围或格式。"))


# Routers are listed here so the URL layout is visible in one place.
ROUTERS = [
    ("/territory/", "huying.territory.api.router"),
    ("/dispatch/", "huying.dispatch.api.router"),
    ("/party/", "huying.party.api.router"),
]

for prefix, dotted in ROUTERS:
    api.add_router(prefix, import_string(dotted))
