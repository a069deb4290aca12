"""`GET /healthz`: whether this instance can take work (for a load balancer's health check).

It answers 200 only when the default database answers and accepts writes: after a failover a web
instance still pointed at a server now in recovery (a standby) must leave the pool, not answer 500s.
No login, no cookies, nothing personal in the answer; a database error is logged without detail.
"""

import logging

from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_is_in_recovery()")
                read_only = bool(cursor.fetchone()[0])
            else:
                cursor.execute("SELECT 1")
                cursor.fetchone()
                read_only = False
    except DatabaseError:
        log.warning("healthz: the database does not answer")
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    if read_only:
        return JsonResponse({"status": "unavailable", "database": "read-only"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
