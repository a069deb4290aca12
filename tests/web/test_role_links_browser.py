"""Every demo role, in a real browser: log in through the form, open every link of the home page and
its menu, and get no 4xx/5xx and no script error. Then the roles' own tasks: the secretary sees the
organisation with its members and ratings, the Party member their own records, the community worker
signs for and resolves an order routed to their committee.

The demo's logins, offices, departments and Party data are built on the small test city exactly as
`huying demo` builds them on Guangzhou (people.demo, dispatch.seed, web.demo_seed)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from huying.dispatch.models import State, Subject
from huying.dispatch.seed import dispatch_seed, district_routing_seed
from huying.dispatch.services import work_order_create, work_order_dispatch
from huying.people.demo import demo_org_seed
from huying.people.models import User
from huying.web.demo_seed import apps_demo_seed
from tests.people.conftest import territory  # noqa: F401  (the small test city)

pytestmark = [pytest.mark.browser]
PASSWORD = "demo-pass-2026"
SKIP = ("/logout", "/i18n/", "/admin/logout")
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def live_demo(transactional_db, live_server, territory):  # noqa: F811
    logins = demo_org_seed(password=PASSWORD)
    dispatch_seed()
    district_routing_seed()
    apps_demo_seed(now=NOW)
    return logins


def _login(page, username):
    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login/" not in page.url, username


def _home_links(page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href^='/']", "els => els.map(e => e.getAttribute('href'))")
    return sorted({h.split("#")[0] for h in hrefs if h and not h.startswith(SKIP)})


def test_every_demo_role_opens_every_link_in_the_browser(page, live_demo):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    broken, opened = [], 0
    assert len(live_demo) >= 12
    for row in live_demo:
        username = row["username"]
        _login(page, username)
        links = _home_links(page)
        assert links, username
        for href in links:
            response = page.goto(href)
            opened += 1
            status = response.status if response else 0
            if status >= 400 or status == 0:
                broken.append(f"{username} {href} {status}")
    assert not broken, broken
    assert not errors, errors
    assert opened >= 80


def test_secretary_and_party_member_see_their_records(page, live_demo):
    _login(page, "secretary")
    page.goto("/party/org/")
    page.get_by_role("link", name="党员名册").click()
    members = page.locator("#member-table tbody tr")
    expect(members.first).to_be_visible()
    assert members.count() >= 3
    page.get_by_role("link", name="评星定级").click()
    ratings = page.locator("#rating-table tbody tr")
    expect(ratings.first).to_be_visible()
    assert ratings.count() >= 3
    assert page.locator("#rating-table .p-stars .on").count() >= 3

    _login(page, "partymember")
    page.goto("/party/me/")
    expect(page.locator("#member-card")).to_contain_text("周婷")
    expect(page.locator("#report-status")).to_be_visible()
    assert page.locator("#records li").count() >= 1  # their own service records
    expect(page.locator("#rating-card")).to_contain_text("★")


def test_community_worker_signs_for_and_resolves_in_the_browser(page, live_demo):
    operator = User.objects.get(username="operator")
    subject = Subject.objects.filter(kind="request", depth=3, parent__parent__name="民政").order_by("code").first()
    order = work_order_create(channel="hotline", subject=subject, title="小区门口井盖松动", description="请尽快处理",
                              idempotency_key="browser-comm-1", reporter_name="吴女士",
                              reporter_phone="13800001111", actor=operator, lng=113.268, lat=23.121,
                              address="广州市越秀区北京街道流水井社区北京路100号")
    order = work_order_dispatch(order, actor=User.objects.get(username="dispatcher"))
    assert order.lead_unit.code == "gov-440104003001"

    _login(page, "communityworker")
    # the order is in the queue reachable from the home page
    page.goto("/")
    queue = [h for h in _home_links(page) if h.startswith("/orders")]
    assert queue
    page.goto(queue[0])
    page.get_by_role("link", name=re.compile(order.code)).first.click()
    page.locator("form[data-action=accept] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    order.refresh_from_db()
    assert order.state == State.ACCEPTED
    resolve = page.locator("details[data-action=resolve]")
    resolve.locator("summary").click()
    resolve.locator("textarea").first.fill("社区已上门核实并解决")
    resolve.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    order.refresh_from_db()
    assert order.state == State.RESOLVED
    assert order.resolution == "社区已上门核实并解决"
