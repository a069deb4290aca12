"""Shared fixtures. Browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright."""

import os
import shutil

import pytest

from tests.browsing import phone_context, sign_in

# Playwright's sync API runs an event loop in the test thread; the ORM calls made beside it are
# still plain synchronous calls, so Django's async-safety guard does not apply to them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("HUYING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


# Under pytest-xdist (scripts/test.sh runs two workers) the longest single tests start first, one per
# worker, so neither worker is left running one of them alone at the end (the schemathesis walk alone
# takes minutes). Node id prefixes, longest first; measured with --durations.
RUN_FIRST = (
    "tests/test_api_schemathesis.py::",
    "tests/party/test_member_import.py::test_ten_thousand_rows",
    "tests/web/test_role_links_browser.py::",
    "tests/web/test_worker_process.py::",
    "tests/dispatch/test_kill.py::",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    if not hasattr(config, "workerinput"):  # not an xdist worker: keep the usual order
        return

    def rank(item):
        return next((i for i, prefix in enumerate(RUN_FIRST) if item.nodeid.startswith(prefix)), len(RUN_FIRST))

    items.sort(key=rank)  # stable: the rest keep their collection order


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness would dominate tests that create dozens of logins.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Throttles count per address and every test client is 127.0.0.1; the throttle cache's table is
# not flushed between live-server tests. Tests of throttling itself set real rates (tests/web/test_security.py).
RELAXED_RATES = {"report": "10000/m", "track": "10000/m", "open311": "10000/m", "api": "10000/m"}


@pytest.fixture(autouse=True)
def _relaxed_throttles(settings):
    settings.HUYING_RATES = RELAXED_RATES
    # The rollups are applied right after each commit, so a test reads them at once; the worker's
    # way (queue drained by the `rollups` job) is tested in tests/insight/test_rollups.py.
    settings.HUYING_INSIGHT_REFRESH = "commit"


@pytest.fixture(autouse=True)
def _fresh_calendar():
    # Test transactions roll back without delete signals, so no cached calendar may outlive a test.
    from huying.core.worktime import reset_calendar_cache

    reset_calendar_cache()
    yield
    reset_calendar_cache()


@pytest.fixture(autouse=True)
def _fresh_dispatch_reference():
    # Dispatch caches subjects, rules and units per process; a rolled-back test's rows must not outlive it.
    from huying.dispatch import reference
    from huying.people.scope import forget_built

    reference.reset()
    forget_built()
    yield
    reference.reset()
    forget_built()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def phone(browser, live_server):
    with phone_context(browser, live_server.url) as pg:
        yield pg


@pytest.fixture
def login(page, live_server):
    """login(user, password) signs the browser page in through the real login form."""

    def _login(username: str, password: str):
        return sign_in(page, username, password)

    return _login
