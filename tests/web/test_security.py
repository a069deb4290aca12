"""Safe on the internet: login lockout, throttles, a production that fails closed, error pages, CSP,
and an access log without query strings (issue 12, items 3–5 and 9)."""

import base64
import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.utils import timezone

from huying.core.throttle import client_ip

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "grid-pass-2024"
LOCKED = "登录失败次数过多"


def _login(client, username, password, addr="10.0.0.1", path="/login/", **extra):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=addr, **extra)


@pytest.fixture
def lockout(settings):
    """The production rule, with a small per-address limit so the tests stay short."""
    settings.HUYING_LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 5
    settings.HUYING_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    settings.HUYING_TRUSTED_PROXIES = []


# --- item 4: logins ----------------------------------------------------------------------------


def test_account_is_locked_after_five_wrong_passwords_from_anywhere(client, user, lockout):
    for i in range(4):
        assert _login(client, "wangfang", "wrong", addr=f"10.0.1.{i}").status_code == 200
    resp = _login(client, "wangfang", "wrong", addr="10.0.1.9")
    assert resp.status_code == 429
    assert LOCKED in resp.content.decode() and 'id="login-locked"' in resp.content.decode()
    assert int(resp["Retry-After"]) == 15 * 60
    # The right password from a fresh address is refused too while the lock lasts.
    resp = _login(client, "wangfang", PASSWORD, addr="10.0.2.1")
    assert resp.status_code == 429 and "_auth_user_id" not in client.session
    # Another account is not affected.
    other = type(user).objects.create_user("lisi", password=PASSWORD)
    assert _login(client, other.username, PASSWORD, addr="10.0.2.1").status_code == 302


def test_address_is_locked_after_many_failures_across_accounts(client, user, lockout):
    for i in range(7):
        assert _login(client, f"guess{i}", "wrong", addr="10.0.3.3").status_code == 200
    assert _login(client, "guess7", "wrong", addr="10.0.3.3").status_code == 429
    # Even a real account with its right password, from that address; not from another one.
    assert _login(client, "wangfang", PASSWORD, addr="10.0.3.3").status_code == 429
    assert _login(client, "wangfang", PASSWORD, addr="10.0.3.4").status_code == 302


def test_lock_ends_after_the_cool_off(client, user, lockout, settings):
    for _ in range(5):
        _login(client, "wangfang", "wrong")
    assert _login(client, "wangfang", PASSWORD).status_code == 429
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timezone.timedelta(seconds=1))
    assert _login(client, "wangfang", PASSWORD).status_code == 302


def test_admin_login_is_locked_with_a_chinese_page(client, user, lockout):
    user.is_staff = True
    user.save()
    for _ in range(4):
        assert _login(client, "wangfang", "wrong", path="/admin/login/").status_code == 200
    resp = _login(client, "wangfang", "wrong", path="/admin/login/")
    assert resp.status_code == 429
    body = resp.content.decode()
    assert LOCKED in body and 'data-status="429"' in body


def test_forwarded_for_is_not_believed_from_an_untrusted_peer(client, user, lockout):
    # Rotating X-Forwarded-For from one real address does not escape the per-address lock.
    for i in range(8):
        _login(client, f"guess{i}", "wrong", addr="10.0.4.4", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    assert _login(client, "wangfang", PASSWORD, addr="10.0.4.4", HTTP_X_FORWARDED_FOR="203.0.113.200").status_code == 429


def test_forwarded_for_names_the_client_behind_a_trusted_proxy(client, user, lockout, settings):
    settings.HUYING_TRUSTED_PROXIES = ["10.9.0.0/16"]
    for i in range(8):
        _login(client, f"guess{i}", "wrong", addr="10.9.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert _login(client, "wangfang", PASSWORD, addr="10.9.0.1",
                  HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    # Another resident behind the same proxy signs in.
    assert _login(client, "wangfang", PASSWORD, addr="10.9.0.1",
                  HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302


@pytest.mark.parametrize("remote, xff, trusted, expected", [
    ("1.2.3.4", "", [], "1.2.3.4"),
    ("1.2.3.4", "5.6.7.8", [], "1.2.3.4"),                                   # not a trusted peer
    ("10.0.0.2", "5.6.7.8", ["10.0.0.0/8"], "5.6.7.8"),
    ("10.0.0.2", "66.6.6.6, 5.6.7.8, 10.0.0.3", ["10.0.0.0/8"], "5.6.7.8"),  # left of the client is forged
    ("10.0.0.2", "10.0.0.3", ["10.0.0.0/8"], "10.0.0.3"),                    # only proxies: the farthest
    ("10.0.0.2", "not-an-ip", ["10.0.0.0/8"], "10.0.0.2"),
    ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
    ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
])
def test_client_ip(settings, remote, xff, trusted, expected):
    settings.HUYING_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=xff)
    assert client_ip(request) == expected


# --- item 4: anonymous writes and the API --------------------------------------------------------


def test_report_form_posts_are_throttled_per_address(client, db, settings):
    settings.HUYING_RATES = {**settings.HUYING_RATES, "report": "2/h"}
    for _ in range(2):
        assert client.post("/orders/report/", {}, REMOTE_ADDR="10.1.0.1").status_code == 400
    resp = client.post("/orders/report/", {}, REMOTE_ADDR="10.1.0.1")
    assert resp.status_code == 429 and int(resp["Retry-After"]) > 0
    body = resp.content.decode()
    assert "操作过于频繁" in body and "分钟后再试" in body
    assert client.get("/orders/report/", REMOTE_ADDR="10.1.0.1").status_code == 200  # reading the form is free
    assert client.post("/orders/report/", {}, REMOTE_ADDR="10.1.0.2").status_code == 400  # another address


def test_tracking_code_lookups_are_throttled(client, db, settings):
    settings.HUYING_RATES = {**settings.HUYING_RATES, "track": "2/h"}
    for code in ("A1", "A2"):
        assert client.get(f"/orders/track/?code={code}").status_code != 429
    assert client.get("/orders/track/?code=A3").status_code == 429
    assert client.get("/orders/track/").status_code == 200  # the empty form is not a look-up


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_posts_are_throttled_in_the_spec_format(client, db, settings, fmt):
    settings.HUYING_RATES = {**settings.HUYING_RATES, "open311": "2/h"}
    url = f"/open311/v2/requests.{fmt}"
    for _ in range(2):
        assert client.post(url, {"service_code": "Q010101"}).status_code == 403  # no api_key, still counted
    resp = client.post(url, {"service_code": "Q010101"})
    assert resp.status_code == 429
    if fmt == "json":
        assert resp.json()[0]["code"] == 429 and "频繁" in resp.json()[0]["description"]
    else:
        root = ElementTree.fromstring(resp.content)
        assert root.tag == "errors" and root.find("error/code").text == "429"
    assert client.get(url).status_code != 429  # reads are not counted


def test_api_writes_are_throttled_per_user(client, user, settings, django_user_model):
    settings.HUYING_RATES = {**settings.HUYING_RATES, "api": "2/h"}  # per hour: a minute boundary between the posts would reset the count
    client.force_login(user)
    url = "/api/v1/dispatch/orders"
    for _ in range(2):
        assert client.post(url, {}, content_type="application/json").status_code != 429
    resp = client.post(url, {}, content_type="application/json")
    assert resp.status_code == 429
    assert resp.json()["code"] == "throttled" and resp.json()["message"]
    assert int(resp["Retry-After"]) > 0
    assert client.get("/api/v1/dispatch/orders").status_code != 429  # reads are not counted
    other = django_user_model.objects.create_user("lisi", password=PASSWORD)
    client.force_login(other)
    assert client.post(url, {}, content_type="application/json").status_code != 429


def test_throttle_cache_increments_in_place_and_keeps_the_expiry(db):
    cache = caches["throttle"]
    assert cache.add("k", 0, 3600)
    key = cache.make_and_validate_key("k")
    from django.db import connection

    def expires():
        with connection.cursor() as c:
            c.execute("SELECT expires FROM huying_throttle_cache WHERE cache_key = %s", [key])
            return c.fetchone()[0]

    before = expires()
    assert [cache.incr("k") for _ in range(3)] == [1, 2, 3]
    assert cache.get("k") == 3 and expires() == before
    with pytest.raises(ValueError):
        cache.incr("missing")


def test_a_counted_request_costs_one_statement_and_concurrent_counts_add_up(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache = caches["throttle"]
    assert cache.add("c", 1, 60) is True  # a new counter starts at 1
    with CaptureQueriesContext(connection) as ctx:
        # django-ratelimit's way: add, and when the counter exists, incr.
        assert cache.add("c", 1, 60) is False
        assert cache.incr("c") == 2
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]
    assert cache.incr("c") == 3 and cache.get("c") == 3  # a plain incr still counts in the database
    assert cache.get("absent", "d") == "d"
    # An expired counter starts again.
    key = cache.make_and_validate_key("c")
    with connection.cursor() as c:
        c.execute("UPDATE huying_throttle_cache SET expires = %s WHERE cache_key = %s",
                  [connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(seconds=5)), key])
    assert cache.get("c") is None
    assert cache.add("c", 1, 60) is True and cache.get("c") == 1
    # A counter written before integers (pickled, version 1) under the same name is not in the way.
    DatabaseCache.set(cache, "old", 5, 60, version=1)
    assert cache.add("old", 1, 60) is True and cache.incr("old") == 2


# --- item 5: a production that fails closed ------------------------------------------------------


def _env(tmp_path, **extra) -> dict:
    # tests/conftest.py sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; production does not.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HUYING_", "DATABASE_URL")) and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(HUYING_VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               DJANGO_SETTINGS_MODULE="huying.settings", **extra)
    return env


def _run(args, env, timeout=60):
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    env = _env(tmp_path)
    wsgi = _run(["-c", "import huying.wsgi"], env)
    assert wsgi.returncode != 0 and "HUYING_SECRET_KEY is not set" in wsgi.stderr
    serve = _run(["-m", "huying.cli", "serve", "--port", "9"], env)
    assert serve.returncode != 0 and "HUYING_SECRET_KEY is not set" in serve.stderr
    deploy = _run(["-m", "huying.cli", "check", "--deploy"], env)
    assert deploy.returncode != 0 and "huying.E001" in deploy.stderr


def test_the_key_file_is_read_and_lets_the_server_start(tmp_path):
    (tmp_path / "secret_key").write_text("k" * 10 + "from-the-file-" + "x" * 40 + "\n")
    out = _run(["-c", "import huying.wsgi; from django.conf import settings; "
                      "print(settings.SECRET_KEY_SOURCE, settings.SECRET_KEY.startswith('kkkkkkkkkkfrom-the-file-'))"],
               _env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["file", "True"]


def test_documented_production_environment_passes_check_deploy(tmp_path):
    env = _env(tmp_path, HUYING_SECRET_KEY="a" * 20 + base64.b64encode(os.urandom(40)).decode(),
               HUYING_ALLOWED_HOSTS="12345.example.gov.cn", HUYING_HTTPS="1",
               HUYING_PROXY_SSL_HEADER="X-Forwarded-Proto", HUYING_TRUSTED_PROXIES="127.0.0.1")
    out = _run(["-m", "huying.cli", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert out.returncode == 0, out.stderr
    assert "no issues" in out.stdout
    settings_out = _run(["-c", "import django; django.setup(); from django.conf import settings as s; "
                               "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
                               "s.SECURE_PROXY_SSL_HEADER)"], env)
    assert settings_out.stdout.strip() == "True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_demo_writes_a_private_random_key(settings, tmp_path):
    from huying.web.secret_key import key_file_write

    settings.SECRET_KEY_FILE = tmp_path / "var" / "secret_key"
    assert key_file_write() is True
    key = settings.SECRET_KEY_FILE.read_text().strip()
    assert len(key) >= 50 and (settings.SECRET_KEY_FILE.stat().st_mode & 0o777) == 0o600
    assert key_file_write() is False and settings.SECRET_KEY_FILE.read_text().strip() == key


def test_demo_command_writes_the_key_file(db, settings, tmp_path, monkeypatch):
    from huying.web.management.commands import demo

    settings.SECRET_KEY_FILE = tmp_path / "secret_key"
    monkeypatch.delenv("HUYING_SECRET_KEY", raising=False)
    monkeypatch.setattr(demo, "demo_load", lambda **kw: {"logins": []})
    monkeypatch.setattr(demo, "call_command", lambda *a, **kw: None)  # migrate: the test database is ready
    call_command("demo", "--no-serve", "--orders", "0", "--force")  # --force: this test runs on PostgreSQL too
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_demo_refuses_a_non_sqlite_database_without_force(db, monkeypatch):
    from huying.web.management.commands import demo

    monkeypatch.setattr(demo.connection, "vendor", "postgresql")
    loaded = []
    monkeypatch.setattr(demo, "demo_load", lambda **kw: loaded.append(1) or {"logins": []})
    with pytest.raises(CommandError, match="--force"):
        call_command("demo", "--no-serve", "--orders", "0")
    assert loaded == []


# --- CSP ---------------------------------------------------------------------------------------


def test_pages_carry_a_content_security_policy(client, user, territory):
    policy = client.get("/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    client.force_login(user)
    resp = client.get("/territory/?focus=440104001")
    nonce = re.search(r"'nonce-([^']+)'", resp["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in resp.content.decode()


def test_every_inline_handler_is_allowed_by_its_hash(settings):
    """Inline event handlers cannot carry a nonce: each one's text must be hashed into script-src."""
    allowed = set(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"])
    handlers = set()
    for template in (ROOT / "huying").rglob("*.html"):
        handlers.update(re.findall(r'\son[a-z]+="([^"]*)"', template.read_text("utf-8")))
    assert handlers, "expected the unit and organisation pickers' onchange handlers"
    for code in handlers:
        digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, code


# --- item 9: error pages in Chinese ---------------------------------------------------------------


@pytest.fixture
def error_client(settings, db):
    settings.ROOT_URLCONF = "tests.web.error_urls"
    c = Client(raise_request_exception=False)
    return c


@pytest.mark.parametrize("path, status, text", [
    ("/__test__/400/", 400, "请求有误"),
    ("/__test__/403/", 403, "无权访问"),
    ("/no-such-page/", 404, "页面不存在"),
    ("/__test__/500/", 500, "服务暂时出错"),
])
def test_error_pages_are_chinese_in_the_base_layout(error_client, path, status, text):
    resp = error_client.get(path)
    assert resp.status_code == status
    body = resp.content.decode()
    assert f'data-status="{status}"' in body and text in body
    assert 'class="topbar"' in body and "返回首页" in body
    assert "Not Found" not in body and "Forbidden" not in body and "Server Error" not in body


def test_bad_host_and_csrf_failure_pages_are_chinese(client, db):
    resp = client.get("/", HTTP_HOST="evil.example")
    assert resp.status_code == 400 and "请求有误" in resp.content.decode()
    resp = Client(enforce_csrf_checks=True).post("/login/", {"username": "a", "password": "b"})
    assert resp.status_code == 403 and "页面已过期" in resp.content.decode()


def test_500_page_needs_no_database(rf, django_db_blocker):
    from django.views.defaults import server_error

    with django_db_blocker.block():
        resp = server_error(rf.get("/"))
    assert resp.status_code == 500 and "服务暂时出错" in resp.content.decode()


# --- item 3: the access log ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_access_log_has_no_query_strings(tmp_path):
    from huying.web.management.commands.serve import gunicorn_args

    port = _free_port()
    env = _env(tmp_path, HUYING_SECRET_KEY="s" * 60)
    log = tmp_path / "access.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(gunicorn_args("127.0.0.1", port, 1, 1), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/no-such-page/?phone=13812345678&title=%E6%BC%8F%E6%B0%B4"
        request = urllib.request.Request(url, headers={"Referer": f"http://127.0.0.1:{port}/orders/track/?code=SECRET1"})
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(request, timeout=5)
            except urllib.error.HTTPError as exc:
                assert exc.code == 404
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.2)
        # A path with a NUL, a terminal escape and a newline (a forged second line) is logged escaped.
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bad%00path%1b[2J%0aFORGED/", timeout=5)
        except urllib.error.HTTPError:
            pass
        deadline = time.monotonic() + 10
        while ("GET /no-such-page/" not in log.read_text() or "GET /bad" not in log.read_text()) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    text = log.read_text()
    line = next(line for line in text.splitlines() if "GET /no-such-page/" in line)
    assert '"GET /no-such-page/ HTTP/1.1" 404' in line
    assert "13812345678" not in text and "title=" not in text and "SECRET1" not in text and "?" not in line
    bad = next(line for line in text.splitlines() if "GET /bad" in line)
    assert "/bad\\x00path\\x1b[2J\\x0aFORGED/" in bad, bad
    assert "\x00" not in text and "\x1b" not in text
    assert not any(line.startswith("FORGED") for line in text.splitlines())

