"""Throttling: who the client is, how often it may write, and what it is told when it may not.

- Logins (`/login/`, `/admin/login/`) are django-axes' job: a lockout per account and per address
  after repeated failures (`LoginAttemptHandler`, `login_lockout_response`).
- Anonymous writes (the report form, Open311 POST, tracking-code look-ups) and the JSON API's writes
  are counted by django-ratelimit (`throttle` for pages, `ApiThrottle` for django-ninja) in the
  "throttle" cache, Django's database cache (`ThrottleCache`), so every gunicorn worker and every
  web machine shares one count without Redis.
- The client address is `client_ip`: X-Forwarded-For is believed only from HUYING_TRUSTED_PROXIES.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import pickle
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage
from ninja.throttling import BaseThrottle

# --- the client's address ----------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(s, strict=False) for s in spec)


def _trusted(addr: str, networks: Iterable) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: HttpRequest) -> str:
    """The address the request came from.

    REMOTE_ADDR, unless it is one of settings.HUYING_TRUSTED_PROXIES: then X-Forwarded-For is read
    from the right (each proxy appends the address it was called from) and the first address that
    is not a trusted proxy is the client. Anyone can send an X-Forwarded-For header, so it is never
    believed from an untrusted peer.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(settings.HUYING_TRUSTED_PROXIES or ()))
    if not networks or not _trusted(remote, networks):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote  # a trusted proxy wrote something that is no address: do not guess
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else remote


# --- the shared counter ------------------------------------------------------------------------


class ThrottleCache(DatabaseCache):
    """Django's database cache table, used as a table of rate counters: one statement per count.

    django-ratelimit counts a request with `add(key, 1)` and, when the key exists, `incr(key)`. On
    Django's database cache that is two transactions and up to nine statements (a COUNT(*) of the
    whole table to decide on culling, a SELECT and a failed INSERT, then a get and a set) — more than
    the work order the request creates. Here:

    - `add(key, n)` is one INSERT … ON CONFLICT DO UPDATE … RETURNING: a missing or expired counter
      starts at `n` (True, as `add` answers); a live one is counted up by `n` in place and keeps its
      expiry (False), and the new value is kept for this thread's next `incr(key)`, which then
      answers without a statement. Counters are stored as plain integers, so the database adds.
    - `incr` otherwise is one UPDATE … RETURNING (atomic under concurrent workers, expiry kept).
    - expired counters are deleted every `CULL_EVERY` adds of a process, not counted on every set.

    Only integer counters go through these paths; anything else falls back to the database cache.
    """

    CULL_EVERY = 1000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._local = threading.local()
        self._adds = 0

    def _now(self, connection):
        return connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        if type(value) is not int:
            return super().add(key, value, timeout, version)
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        timeout = self.get_backend_timeout(timeout)
        expires = (datetime.max if timeout is None
                   else datetime.fromtimestamp(timeout, tz=UTC if settings.USE_TZ else None))
        now = self._now(connection)
        expires = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        live = f"{table}.expires > %s"
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
                f"ON CONFLICT (cache_key) DO UPDATE SET "
                f"value = CASE WHEN {live} THEN CAST(CAST({table}.value AS INTEGER) + %s AS TEXT) "
                f"ELSE EXCLUDED.value END, "
                f"expires = CASE WHEN {live} THEN {table}.expires ELSE EXCLUDED.expires END "
                f"RETURNING value, expires",
                [key, str(value), expires, now, value, now])
            stored, stored_expires = cursor.fetchone()
            self._adds += 1
            if self._adds % self.CULL_EVERY == 0:
                cursor.execute(f"DELETE FROM {table} WHERE expires <= %s", [now])
        count = int(stored)
        if connection.ops.adapt_datetimefield_value(stored_expires) == expires and count == value:
            return True  # a new (or expired, now restarted) counter
        self._local.counted = (key, count)
        return False

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        counted = getattr(self._local, "counted", None)
        self._local.counted = None
        if counted is not None and counted[0] == key and delta == 1:
            return counted[1]  # `add` just counted this request
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET value = CAST(CAST(value AS INTEGER) + %s AS TEXT) "
                           f"WHERE cache_key = %s AND expires > %s RETURNING value",
                           [delta, key, self._now(connection)])
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return int(row[0])

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_read(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {table} WHERE cache_key = %s AND expires > %s",
                           [key, self._now(connection)])
            row = cursor.fetchone()
        if row is None:
            return default
        value = connection.ops.process_clob(row[0])
        if value.lstrip("-").isdigit():
            return int(value)
        return pickle.loads(base64.b64decode(value.encode()))


# --- pages and Open311: django-ratelimit around a view -------------------------------------------


def _rate(group: str, request) -> str | None:
    """The configured rate of a throttle group ("10/h"); an empty setting turns the group off."""
    return settings.HUYING_RATES.get(group) or None


def _ip_key(group: str, request) -> str:
    return client_ip(request)


def usage(request, group: str, *, key: Callable = _ip_key, increment: bool = True) -> dict | None:
    """Count this request in `group`; django-ratelimit's usage dict, None when the group is off."""
    return get_usage(request, group=group, key=key, rate=_rate, increment=increment)


def too_many_page(request, *, retry_after: int | None = None, message: str | None = None, **_view_kwargs) -> HttpResponse:
    """The 429 page in the base layout."""
    response = render(request, "429.html", {"message": message, "retry_minutes": _minutes(retry_after)},
                      status=429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _minutes(seconds: int | None) -> int | None:
    return max(1, -(-seconds // 60)) if seconds else None


def throttle(group: str, *, methods: Iterable[str] = ("POST",), when: Callable | None = None,
             respond: Callable | None = None) -> Callable:
    """Wrap a view: requests with one of `methods` (and `when(request)` true) count per client address.

    Over the rate the view is not called and `respond(request, retry_after=…)` answers (default:
    the 429 page). Applied in urls.py so the views stay as they are.
    """
    methods = {m.upper() for m in methods}
    respond = respond or too_many_page

    def wrap(view):
        @functools.wraps(view)
        def inner(request, *args, **kwargs):
            if request.method in methods and (when is None or when(request)):
                found = usage(request, group)
                if found and found["should_limit"]:
                    return respond(request, retry_after=int(found["time_left"]) or None, **kwargs)
            return view(request, *args, **kwargs)

        return inner

    return wrap


# --- the JSON API: django-ninja's throttle interface over the same counter ------------------------

API_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _api_key(group: str, request) -> str:
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


class ApiThrottle(BaseThrottle):
    """Writes through the API, per signed-in user (per address otherwise), at settings.HUYING_RATES["api"].

    Reads are not counted: every API request needs a token or session, and counting them would
    add a database write to each read. Flooding reads is for the reverse proxy to stop.
    """

    def allow_request(self, request: HttpRequest) -> bool:
        self._wait = None
        if request.method not in API_UNSAFE_METHODS:
            return True
        found = usage(request, "api", key=_api_key)
        if found and found["should_limit"]:
            self._wait = float(found["time_left"])
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


# --- logins: django-axes -------------------------------------------------------------------------


class LoginLockoutBackend(AxesStandaloneBackend):
    """Axes' lockout check, skipped when authenticate() is called without a request.

    Such calls come from code (commands, tests), never from the network; axes would refuse them.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with two limits: HUYING_LOGIN_FAILURE_LIMIT per account, and the
    larger HUYING_LOGIN_ADDRESS_FAILURE_LIMIT per address (a hotline centre signs in from one).

    Axes compares one failure count with one limit (AXES_FAILURE_LIMIT, the account's); the
    address's count is shifted so that it reaches that limit exactly when it reaches its own.
    AXES_LOCKOUT_PARAMETERS is ["username", "ip_address"], in that order.
    """

    def get_failures(self, request, credentials=None) -> int:
        counts = [attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
                  for attempts in self.get_user_attempts(request, credentials)]
        by_account, by_address = (counts + [0, 0])[:2]
        shift = settings.HUYING_LOGIN_ADDRESS_FAILURE_LIMIT - settings.HUYING_LOGIN_FAILURE_LIMIT
        return max(by_account, by_address - shift)


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _("登录失败次数过多，已暂时锁定。请 %(minutes)d 分钟后再试；忘记密码请联系管理员。") % {"minutes": minutes}


def login_lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """Axes' answer to a locked-out login: the login page (or the 429 page for the admin) with a 429."""
    message = lockout_message()
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    if request.path.startswith("/admin/"):
        return too_many_page(request, retry_after=seconds, message=message)
    from django.contrib.auth.forms import AuthenticationForm

    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    response = render(request, "web/login.html",
                      {"form": form, "lockout_message": message, "next": request.POST.get("next", "")}, status=429)
    response["Retry-After"] = str(seconds)
    return response
