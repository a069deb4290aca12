"""GeoReport v2 under /open311/v2/: every resource ends in .json or .xml."""

from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from huying.core.throttle import throttle

from . import views
from .render import error


def _too_many(request, *, retry_after=None, fmt="xml", **kwargs):
    """The spec's error list with a 429, in the format asked for."""
    response = error(fmt, 429, _("提交过于频繁，请稍后再试。"))
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


app_name = "open311"
FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    path("", views.not_found, name="root"),
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.service_list, name="services"),
    re_path(r"^services/(?P<code>[^/]+?)" + FMT, views.service_definition, name="service"),
    # POST creates a work order: counted per client address (settings.HUYING_RATES["open311"]).
    re_path(r"^requests" + FMT, csrf_exempt(throttle("open311", respond=_too_many)(views.requests)),
            name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]+?)" + FMT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FMT, views.token, name="token"),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
