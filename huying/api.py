"""The JSON API (django-ninja). OpenAPI schema at /api/v1/openapi.json.

Each app contributes a router in its `api.py`; handlers stay thin and call services/selectors.
A DomainError becomes {"code", "message", "field"?} with its HTTP status.
"""

from django.utils.module_loading import import_string
from ninja import NinjaAPI
from ninja.security import SessionAuth

from huying.core.errors import DomainError
from huying.people.auth import ApiTokenAuth

api = NinjaAPI(
    title="Huying API",
    version="1",
    urls_namespace="api",
    # A bearer token first: SessionAuth refuses a POST without a CSRF token before the next one is tried.
    auth=[ApiTokenAuth(), SessionAuth()],
    docs_url=None,
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


# Routers are listed here so the URL layout is visible in one place.
ROUTERS = [
    ("/territory/", "huying.territory.api.router"),
    ("/dispatch/", "huying.dispatch.api.router"),
    ("/party/", "huying.party.api.router"),
]

for prefix, dotted in ROUTERS:
    api.add_router(prefix, import_string(dotted))
