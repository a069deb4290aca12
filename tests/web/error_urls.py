"""The site's URLs plus three that fail on purpose, for the error-page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import include, path


def forbidden(request):
    raise PermissionDenied("not yours")


def bad(request):
    raise SuspiciousOperation("malformed")


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("__test__/403/", forbidden),
    path("__test__/400/", bad),
    path("__test__/500/", broken),
    path("", include("huying.urls")),
]
