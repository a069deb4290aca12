"""Browser-test helpers shared by the test packages (the fixtures themselves live in conftest.py)."""

import contextlib


@contextlib.contextmanager
def phone_context(browser, base_url: str, *, timeout: int = 10000, **options):
    """A phone-width (390 px) touch page in a fresh browser context; `options` go to new_context."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, base_url=base_url,
                                  is_mobile=True, has_touch=True, **options)
    pg = context.new_page()
    pg.set_default_timeout(timeout)
    try:
        yield pg
    finally:
        context.close()


def sign_in(pg, username: str, password: str = "x"):
    """Sign `pg` in through the real login form and wait for the page it lands on."""
    pg.goto("/login/")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")
    pg.wait_for_load_state("networkidle")
    return pg


@contextlib.contextmanager
def signed_in(browser, base_url: str, username: str, password: str = "x", *, timeout: int = 15000):
    """A desktop-width (1280 px) page in a fresh browser context, signed in as `username`."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, base_url=base_url)
    pg = context.new_page()
    pg.set_default_timeout(timeout)
    try:
        yield sign_in(pg, username, password)
    finally:
        context.close()


def htmx_ready(pg, selector: str):
    """Wait until htmx has processed the element at `selector` (its hx- attributes are live).

    Content that htmx swaps in is in the page about 20 ms before htmx binds its triggers (the
    settle delay), so a test that changes a select in between fires an event nobody hears."""
    pg.wait_for_function(
        "sel => { const e = document.querySelector(sel);"
        " return !!(e && e['htmx-internal-data'] && e['htmx-internal-data'].initHash); }",
        arg=selector)
    return pg.locator(selector)
