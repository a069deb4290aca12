"""Settings, read from the environment so one build serves the demo, CI and production.

Every HUYING_* variable is read here and listed in the README's settings table. The main ones:

DATABASE_URL        default: SQLite file ./var/huying.sqlite3 (the embedded demo)
HUYING_SECRET_KEY   else the file var/secret_key that `huying demo` writes; without either,
                    `huying serve` and the WSGI entry refuse to start (SECRET_KEY_SOURCE "missing")
HUYING_DEBUG        off unless set to 1/true/yes
HUYING_ALLOWED_HOSTS comma-separated, default "127.0.0.1,localhost"
HUYING_VAR_DIR      where SQLite, caches and uploads live, default ./var
HUYING_HTTPS        on behind HTTPS: secure cookies, HTTPS redirect, HSTS (each can be set alone)
"""

import json
import math
import os
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


VAR_DIR = Path(os.environ.get("HUYING_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

def _list(name: str, default: str = "") -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


def _env(name: str, default, parse=str):
    """The environment's value of `name` parsed, else `default` (unset or blank). A value that does not
    parse stops the start with ImproperlyConfigured naming the variable; JSON for lists and mappings."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return parse(value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected 1/0, true/false, yes/no or on/off, got {value!r}")


def _whole(value, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().lstrip("-").isdigit():
        raise ValueError(f"expected a whole number, got {value!r}")
    number = int(value)
    if minimum is not None and number < minimum:
        raise ValueError(f"expected a whole number of at least {minimum}, got {number}")
    return number


def _number(value, minimum: float = 0, maximum: float | None = None) -> float:
    """A finite number (JSON number or text) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < minimum or (maximum is not None and number > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise ValueError(f"expected a number {bounds}, got {value!r}")
    return number if isinstance(value, str) else value


def _json(value: str, kind: type):
    parsed = json.loads(value)
    if not isinstance(parsed, kind):
        raise ValueError(f"expected a JSON {'object' if kind is dict else 'array'}, got {type(parsed).__name__}")
    return parsed


def _strings(items) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
        raise ValueError(f"expected an array of non-empty strings, got {items!r}")
    return items


def _str_list(value: str) -> list[str]:
    return _strings(_json(value, list))


def _str_map(check):
    """A JSON object of non-empty string keys, each value passed through `check` (which raises ValueError)."""
    def parse(value: str) -> dict:
        return {_key(k): check(v) for k, v in _json(value, dict).items()}
    return parse


def _key(key: str) -> str:
    if not key.strip():
        raise ValueError("empty key in JSON object")
    return key


def _dotted(value) -> str:
    if not isinstance(value, str) or "." not in value:
        raise ValueError(f"expected a dotted class path, got {value!r}")
    return value


def _deadline_limits(value: str) -> dict:
    """warn_ratio a number from 0 to 1; every other limit [amount, unit], the amount positive (kept as Decimal)."""
    limits = {}
    for key, limit in _json(value, dict).items():
        if key == "warn_ratio":
            limits[key] = _number(limit, 0, 1)
            continue
        if not (isinstance(limit, list) and len(limit) == 2 and isinstance(limit[1], str)
                and isinstance(limit[0], int | float | str) and not isinstance(limit[0], bool)):
            raise ValueError(f"{key}: expected [amount, unit], got {limit!r}")
        try:
            amount = Decimal(str(limit[0]))
        except ArithmeticError:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount <= 0:
            raise ValueError(f"{key}: expected a positive amount, got {limit[0]!r}")
        limits[key] = (amount, limit[1])
    return limits


def _http_url(value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL")  # the URL may hold a password: not echoed
    return value


def _office_hours(value: str) -> list[tuple[str, str]]:
    import re

    pairs = _json(value, list)
    hhmm = re.compile(r"^\s*(([01]?\d|2[0-3]):[0-5]\d|24:00)\s*$")  # as core.worktime reads them; it checks the order
    if not pairs or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(t, str) and hhmm.match(t) for t in p)
                            for p in pairs):
        raise ValueError(f'expected [["HH:MM", "HH:MM"], ...], got {value!r}')
    return [tuple(pair) for pair in pairs]


def _networks(value: str) -> list[str]:
    import ipaddress

    items = [v.strip() for v in value.split(",") if v.strip()]
    for item in items:
        ipaddress.ip_network(item, strict=False)  # ValueError names the bad one
    return items


def _int(name: str, default: int, minimum: int | None = None) -> int:
    return _env(name, default, lambda v: _whole(v, minimum))


DEBUG = _flag("HUYING_DEBUG")
SECRET_KEY_FILE = VAR_DIR / "secret_key"


def _secret_key() -> tuple[str, str]:
    """(key, where it came from): the environment, the file `huying demo` writes, or nowhere.

    Nowhere gives a random key for this process only, so commands still run, but nothing can be
    served with it: `huying serve` and huying.wsgi refuse to start (see huying.web.secret_key).
    """
    key = os.environ.get("HUYING_SECRET_KEY", "").strip()
    if key:
        return key, "environment"
    try:
        key = SECRET_KEY_FILE.read_text("utf-8").strip()
    except OSError:
        key = ""
    if key:
        return key, "file"
    return secrets.token_urlsafe(50), "missing"


SECRET_KEY, SECRET_KEY_SOURCE = _secret_key()
ALLOWED_HOSTS = _list("HUYING_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "huying.core",
    "huying.territory",
    "huying.people",
    "huying.dispatch",
    "huying.dispatch.hot",
    "huying.dispatch.open311",
    "huying.party",
    "huying.services",
    "huying.community",
    "huying.sensing",
    "huying.insight",
    "huying.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "huying.dispatch.uploads.ApiBodyLimitMiddleware",  # the API's own body cap, 413 JSON beyond it
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "huying.core.middleware.BadCharacterMiddleware",  # NUL / lone surrogates: 400 before any view
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "huying.core.throttle.LoginLockoutBackend",  # django-axes: refuses locked-out accounts and addresses
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "huying.urls"
WSGI_APPLICATION = "huying.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "huying.dispatch.notify.context.inbox",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'huying.sqlite3'}",
        conn_max_age=int(os.environ.get("HUYING_CONN_MAX_AGE", "60")),
    )
}
# Check a kept connection before each request uses it (one round trip): after a database failover a
# broken connection is replaced instead of costing that request a 500 (docs/topology.md).
HUYING_CONN_HEALTH_CHECKS = _env("HUYING_CONN_HEALTH_CHECKS", False, _bool)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = HUYING_CONN_HEALTH_CHECKS
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock up front so two
    # writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("HUYING_TEST_SQLITE", "")  or None



def _prepare(value: str) -> int | None:
    return None if value.lower() == "off" else _whole(value, 0)


# PostgreSQL: intake's row inserts (core.rows) send their values apart from the statement, and a
# statement run this many times on a connection is parsed and planned there once (psycopg's prepared
# statements) instead of each time (measured on intake: a quarter less database CPU). Every other
# query keeps Django's default (values bound into the text). "off": no prepared statements, e.g.
# behind a PgBouncer in transaction mode older than 1.21, which cannot keep them.
HUYING_PG_PREPARE = _env("HUYING_PG_PREPARE", 5, _prepare)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _pg = DATABASES["default"].setdefault("OPTIONS", {})
    _pg["prepare_threshold"] = HUYING_PG_PREPARE
    # Statements the server keeps prepared — the foreign-key checks it runs at commit, trigger
    # functions, and intake's bound inserts (Django's own queries arrive as text and are planned each
    # time) — reuse one generic plan. Rows that reference `dispatch_workorder`, a partitioned table,
    # are otherwise re-planned for each value at commit: a fifth of the database's CPU per order.
    # Not with "off": a PgBouncer refuses start-up options unless told to ignore them.
    if HUYING_PG_PREPARE is not None:
        _pg["options"] = " ".join(filter(None, [_pg.get("options", ""), "-c plan_cache_mode=force_generic_plan"]))

# Issue 18: a streaming replica (database URL; empty: none) that the leaders' figures read from —
# dashboard, rankings, reports and their exports, inside core.dbrouter.replica_reads() — while intake,
# services, scope and sign-in read the primary. Reads fall back to the primary when the replica lags
# more than HUYING_REPLICA_MAX_LAG seconds or cannot be reached. Same connection options as the
# primary; tests treat it as a mirror of the test database.
HUYING_REPLICA_URL = _env("HUYING_REPLICA_URL", "")
HUYING_REPLICA_MAX_LAG = _env("HUYING_REPLICA_MAX_LAG", 30, _number)
DATABASE_ROUTERS = []
if HUYING_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(HUYING_REPLICA_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"])
    DATABASES["replica"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}),
                                       **DATABASES["replica"].get("OPTIONS", {})}
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        # A replica that is down must cost a page a moment, not the kernel's connect timeout.
        DATABASES["replica"]["OPTIONS"].setdefault("connect_timeout", 3)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["huying.core.dbrouter.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request when it is missing
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded photos are private: they are served only through dispatch:photo (scope-checked); never
# let the web server publish MEDIA_ROOT.
# Photo fields stop keeping an upload past its limit while it streams in (dispatch/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "huying.dispatch.uploads.PhotoUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Per photo (all channels) and the API's request body (photos come base64 in the JSON); empty:
# 5 MB a photo, and a body cap of 9 such photos in base64 plus 1 MB (61 MB).
HUYING_DISPATCH_PHOTO_MAX_BYTES = _int("HUYING_DISPATCH_PHOTO_MAX_BYTES", 5 * 1024 * 1024, minimum=1)
# None: the default computed by dispatch.uploads.api_max_body_bytes from the photo limit.
HUYING_API_MAX_BODY_BYTES = _int("HUYING_API_MAX_BODY_BYTES", 0, minimum=0) or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed but not hashed: the manifest variant fails every page whose asset was not collected
    # (tests, a first start); vendored assets carry their version in the path instead.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Tests and the development server serve from the finders; production from collected files.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

# --- HTTPS and the reverse proxy -----------------------------------------------------------------
# Off by default so the demo works on http://127.0.0.1; production sets HUYING_HTTPS=1 (README).
HTTPS = _flag("HUYING_HTTPS")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _flag("HUYING_SECURE_COOKIES", HTTPS)
SECURE_SSL_REDIRECT = _flag("HUYING_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = _int("HUYING_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("HUYING_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = _flag("HUYING_HSTS_PRELOAD", HTTPS)
# "X-Forwarded-Proto" (value https) or "Header-Name: value": the header the TLS-terminating proxy
# sets. Only set it when that proxy always sets or strips it, or a client could claim HTTPS.
_proxy_ssl = os.environ.get("HUYING_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl:
    _name, _, _value = _proxy_ssl.partition(":")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip() or "https")
# Proxy addresses or networks (comma-separated) whose X-Forwarded-For is believed for the client's
# address (throttling, login lockout); empty: REMOTE_ADDR is the client.
HUYING_TRUSTED_PROXIES = _env("HUYING_TRUSTED_PROXIES", [], _networks)
CSRF_TRUSTED_ORIGINS = _list("HUYING_CSRF_TRUSTED_ORIGINS")

# --- Content-Security-Policy (django-csp) --------------------------------------------------------
# Scripts only from this site or with the page's nonce. 'unsafe-hashes' lets exactly one inline
# handler run, onchange="this.form.submit()" on the unit and organisation pickers. Styles allow
# inline style attributes (progress bars, htmx's indicator style): they cannot run code.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, "'unsafe-hashes'", "'sha256-osjxnKEPL/pQJbFk1dKsF7PYFmTyMWGmVSiL9inhxJY='"],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Caches and throttling -----------------------------------------------------------------------
# "default" is per process (simplified map shapes). "throttle" holds the rate counters: Django's
# database cache, shared by every gunicorn worker and web machine without Redis; the table is made
# by the web app's migration. ThrottleCache makes its increments atomic.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": {
        "BACKEND": "huying.core.throttle.ThrottleCache",
        "LOCATION": "huying_throttle_cache",
        # Version 2: counters stored as plain integers (D60); a version-1 row (pickled, from before) is
        # never read as a counter, so an upgrade during a rate window cannot trip over one.
        "VERSION": 2,
        "OPTIONS": {"MAX_ENTRIES": 100000, "CULL_FREQUENCY": 4},
    },
}
RATELIMIT_USE_CACHE = "throttle"
# Requests per client address (per user for "api"), as count/period: s, m, h or d. Empty turns one off.
HUYING_RATES = {
    "report": os.environ.get("HUYING_RATE_REPORT", "10/h"),  # web report form, POST
    "track": os.environ.get("HUYING_RATE_TRACK", "60/h"),  # tracking-code look-ups
    "open311": os.environ.get("HUYING_RATE_OPEN311", "30/h"),  # Open311 POST requests
    "api": os.environ.get("HUYING_RATE_API", "120/m"),  # JSON API writes, per user
}

# django-axes: after HUYING_LOGIN_FAILURE_LIMIT failed logins for one account, or
# HUYING_LOGIN_ADDRESS_FAILURE_LIMIT from one address, logins are refused for the lockout time.
HUYING_LOGIN_FAILURE_LIMIT = _int("HUYING_LOGIN_FAILURE_LIMIT", 5)
HUYING_LOGIN_ADDRESS_FAILURE_LIMIT = max(_int("HUYING_LOGIN_ADDRESS_FAILURE_LIMIT", 20), HUYING_LOGIN_FAILURE_LIMIT)
HUYING_LOGIN_LOCKOUT_MINUTES = _int("HUYING_LOGIN_LOCKOUT_MINUTES", 15)
AXES_FAILURE_LIMIT = HUYING_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=HUYING_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # this order: LoginAttemptHandler relies on it
AXES_HANDLER = "huying.core.throttle.LoginAttemptHandler"
AXES_CLIENT_IP_CALLABLE = "huying.core.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "huying.core.throttle.login_lockout_response"

# `huying serve` (gunicorn) defaults and the demo logins' password (`huying demo`).
HUYING_HOST = os.environ.get("HUYING_HOST", "127.0.0.1")
HUYING_PORT = _int("HUYING_PORT", 8000)
HUYING_WORKERS = _int("HUYING_WORKERS", 2)
HUYING_THREADS = _int("HUYING_THREADS", 4)
HUYING_DEMO_PASSWORD = os.environ.get("HUYING_DEMO_PASSWORD", "huying-demo-2026")

# Sensing: the MQTT broker `huying sensing bridge` subscribes on (mqtt://[user:password@]host[:port], mqtts:// for
# TLS) and its fixed client id, which names its persistent session on the broker (docs/sensing.md).
HUYING_MQTT_URL = os.environ.get("HUYING_MQTT_URL", "mqtt://127.0.0.1:1883")
HUYING_MQTT_CLIENT_ID = os.environ.get("HUYING_MQTT_CLIENT_ID", "huying-sensing-bridge")

# Rollups (insight.rollups, D58): "worker" — the worker's `rollups` job applies the queued changes every
# 2 s (the dashboard is at most a few seconds behind); "commit" — the process that made a change applies
# it right after its commit (tests, a tiny installation without a worker).
HUYING_INSIGHT_REFRESH = os.environ.get("HUYING_INSIGHT_REFRESH", "worker")
if HUYING_INSIGHT_REFRESH not in ("worker", "commit"):
    raise ImproperlyConfigured("HUYING_INSIGHT_REFRESH must be worker or commit")

# Forecasts (insight.forecast): calls one operator on duty handles a day, the capacity line until shifts exist.
HUYING_CALLS_PER_OPERATOR_DAY = _int("HUYING_CALLS_PER_OPERATOR_DAY", 120)

# Working time (core.worktime): office hours on a working day, as (start, end) "HH:MM" pairs.
HUYING_OFFICE_HOURS = _env("HUYING_OFFICE_HOURS", [("09:00", "12:00"), ("13:00", "17:00")], _office_hours)

# dispatch: dispatch a new order at once when routing is sure of its unit.
HUYING_DISPATCH_AUTO = _env("HUYING_DISPATCH_AUTO", False, _bool)
# dispatch.deadlines: overrides of its DEFAULTS, {"resolve": ["10", "work_days"], "warn_ratio": 0.75}, each
# [amount, work_hours|work_days|hours]; {}: the built-in limits.
HUYING_DISPATCH_LIMITS = _env("HUYING_DISPATCH_LIMITS", {}, _deadline_limits)
# dispatch.triage: a confident classifier routes an order without a triage step.
HUYING_CLASSIFIER_AUTO = _env("HUYING_CLASSIFIER_AUTO", True, _bool)
# dispatch.notify: channels per event, {"overdue": ["in_app"]}, over its DEFAULT_CHANNELS; {}: the built-in ones.
HUYING_NOTIFY_CHANNELS = _env("HUYING_NOTIFY_CHANNELS", {}, _str_map(_strings))
# dispatch.notify: sender class per channel ("*": any other), over its DEFAULT_SENDERS; {}: the built-in ones.
HUYING_NOTIFY_SENDERS = _env("HUYING_NOTIFY_SENDERS", {}, _str_map(_dotted))
# dispatch.notify: retry back-off in seconds, doubling from the base up to the cap after each failure.
HUYING_NOTIFY_RETRY_BASE = _int("HUYING_NOTIFY_RETRY_BASE", 30, minimum=0)
HUYING_NOTIFY_RETRY_CAP = _int("HUYING_NOTIFY_RETRY_CAP", 3600, minimum=0)
# dispatch.notify: failed deliveries before a message becomes a dead letter.
HUYING_NOTIFY_MAX_ATTEMPTS = _int("HUYING_NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
# dispatch.notify: where SmsHttpSender POSTs; "": SMS delivery fails (and is retried) until it is set.
HUYING_SMS_GATEWAY_URL = _env("HUYING_SMS_GATEWAY_URL", "", _http_url)
# dispatch.escalation: 吹哨 report minutes per kind (routine, tough, emergency) over its DEFAULT_REPORT_MINUTES;
# {}: the built-in ones.
HUYING_WHISTLE_REPORT_MINUTES = _env("HUYING_WHISTLE_REPORT_MINUTES", {}, _str_map(lambda v: _whole(v, 1)))
# dispatch.escalation: an unanswered 督办 notice is followed one level higher after this many hours.
HUYING_SUPERVISION_ESCALATE_HOURS = _env("HUYING_SUPERVISION_ESCALATE_HOURS", 24, _number)
# dispatch.open311: the jurisdiction_id clients send and discovery names.
HUYING_OPEN311_JURISDICTION = _env("HUYING_OPEN311_JURISDICTION", "guangzhou")
# dispatch.open311: discovery's contact and key_service texts; None: the app's default (the loaded city's
# 12345 hotline, and how keys are issued — both translated there).
HUYING_OPEN311_CONTACT = _env("HUYING_OPEN311_CONTACT", None)
HUYING_OPEN311_KEY_SERVICE = _env("HUYING_OPEN311_KEY_SERVICE", None)
# dispatch.open311: request types never published (举报 by default).
HUYING_OPEN311_HIDDEN_REQUEST_TYPES = _env("HUYING_OPEN311_HIDDEN_REQUEST_TYPES", ["report"], _str_list)
# insight: keep dashboard rollups current on every change (off: only `huying insight rebuild`).
HUYING_INSIGHT_LIVE = _env("HUYING_INSIGHT_LIVE", True, _bool)
# insight.metrics: evaluation weight per rate over its DEFAULT_WEIGHTS, {"on_time": 10}; {}: the built-in ones.
HUYING_INSIGHT_WEIGHTS = _env("HUYING_INSIGHT_WEIGHTS", {}, _str_map(_number))
# insight.metrics: how much a 基本满意 counts as satisfied, 0 to 1.
HUYING_INSIGHT_BASIC_WEIGHT = _env("HUYING_INSIGHT_BASIC_WEIGHT", 1, lambda v: _number(v, 0, 1))
# insight.hotspots: the worker recomputes the hot-spot lists of the city, districts and streets every
# this many seconds; a list older than HUYING_HOTSPOTS_MAX_AGE seconds is not shown (counted live instead).
HUYING_HOTSPOTS_EVERY = _env("HUYING_HOTSPOTS_EVERY", 300, lambda v: _number(v, 10))
HUYING_HOTSPOTS_MAX_AGE = _env("HUYING_HOTSPOTS_MAX_AGE", 900, lambda v: _number(v, 10))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HUYING_LOG_LEVEL", "WARNING")},
}
