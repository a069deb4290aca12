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


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _from_env(name: str, parse=str) -> None:
    """Declare a setting whose default lives beside the code that reads it (getattr(settings, name,
    DEFAULT)): it is set here only when the environment has it; JSON for lists and mappings."""
    value = os.environ.get(name)
    if value is not None and value.strip():
        globals()[name] = parse(value.strip())


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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock up front so two
    # writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("HUYING_TEST_SQLITE", "")  or None

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
HUYING_DISPATCH_PHOTO_MAX_BYTES = int(os.environ.get("HUYING_DISPATCH_PHOTO_MAX_BYTES") or 5 * 1024 * 1024)
HUYING_API_MAX_BODY_BYTES = int(os.environ.get("HUYING_API_MAX_BODY_BYTES") or 0) or None
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
HUYING_TRUSTED_PROXIES = _list("HUYING_TRUSTED_PROXIES")
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
HUYING_OFFICE_HOURS = [tuple(pair) for pair in json.loads(
    os.environ.get("HUYING_OFFICE_HOURS") or '[["09:00", "12:00"], ["13:00", "17:00"]]')]

# Read where they are used, with their defaults there; set here only from the environment.
_from_env("HUYING_DISPATCH_AUTO", lambda v: v.lower() in {"1", "true", "yes", "on"})
# {"resolve": ["10", "work_days"], "warn_ratio": 0.75}: [amount, work_hours|work_days|hours] per limit.
_from_env("HUYING_DISPATCH_LIMITS", lambda v: {k: (Decimal(str(x[0])), x[1]) if isinstance(x, list) else x
                                               for k, x in json.loads(v).items()})
_from_env("HUYING_CLASSIFIER_AUTO", lambda v: v.lower() in {"1", "true", "yes", "on"})
_from_env("HUYING_NOTIFY_CHANNELS", json.loads)
_from_env("HUYING_NOTIFY_SENDERS", json.loads)
_from_env("HUYING_NOTIFY_RETRY_BASE", int)
_from_env("HUYING_NOTIFY_RETRY_CAP", int)
_from_env("HUYING_NOTIFY_MAX_ATTEMPTS", int)
_from_env("HUYING_SMS_GATEWAY_URL")
_from_env("HUYING_WHISTLE_REPORT_MINUTES", json.loads)
_from_env("HUYING_SUPERVISION_ESCALATE_HOURS", float)
_from_env("HUYING_OPEN311_JURISDICTION")
_from_env("HUYING_OPEN311_CONTACT")
_from_env("HUYING_OPEN311_KEY_SERVICE")
_from_env("HUYING_OPEN311_HIDDEN_REQUEST_TYPES", json.loads)
_from_env("HUYING_INSIGHT_LIVE", lambda v: v.lower() in {"1", "true", "yes", "on"})
_from_env("HUYING_INSIGHT_WEIGHTS", json.loads)
_from_env("HUYING_INSIGHT_BASIC_WEIGHT", float)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HUYING_LOG_LEVEL", "WARNING")},
}
