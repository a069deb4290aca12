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
