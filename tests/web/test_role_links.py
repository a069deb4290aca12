"""Every demo role opens every link of its home page and top menu without a 4xx or 5xx.

The demo's logins, offices, departments and Party data are built on the small test city exactly as
`huying demo` builds them on Guangzhou (people.demo, dispatch.seed, web.demo_seed)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from huying.dispatch.seed import dispatch_seed, district_routing_seed
from huying.people.demo import demo_org_seed
from huying.web.demo_seed import apps_demo_seed
from tests.people.conftest import territory  # noqa: F401  (the small test city)

pytestmark = pytest.mark.django_db
PASSWORD = "demo-pass-2026"
HREF = re.compile(r'<a [^>]*href="(/[^"#]*)"')
SKIP = ("/logout", "/i18n/", "/admin/logout")


@pytest.fixture
def demo(territory):  # noqa: F811
    logins = demo_org_seed(password=PASSWORD)
    dispatch_seed()
    district_routing_seed()
    made = apps_demo_seed(now=datetime(2026, 3, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    # every app's piece of the demo is built around the logins, also on the small test city
    assert made["party"]["members"] and made["work_system"]["work_orders"] == 1
    assert made["services"]["positions"] and made["services"]["items"] >= 130
    assert made["admission"]["items"] == 76 and made["admission"]["tasks"] == 2
    assert made["workers"]["workers"] and made["workers"]["offices"] == 7 and made["desk"]["matters"] == 1
    return logins


def test_every_role_opens_every_link_of_its_home_page(demo):
    assert len(demo) >= 12
    broken, opened = [], 0
    for row in demo:
        client = Client()
        assert client.login(username=row["username"], password=PASSWORD), row["username"]
        home = client.get("/")
        assert home.status_code == 200, row["username"]
        links = sorted({h.replace("&amp;", "&") for h in HREF.findall(home.content.decode())
                        if not h.startswith(SKIP)})
        assert links, row["username"]
        for href in links:
            status = client.get(href).status_code
            opened += 1
            if status >= 400:
                broken.append(f"{row['username']} {href} {status}")
    assert not broken, broken
    assert opened >= 80


def test_the_services_hub_offers_each_role_its_own_pages(demo, client):
    def sections(username=None):
        c = Client()
        if username:
            assert c.login(username=username, password=PASSWORD)
        page = c.get("/services/")
        assert page.status_code == 200
        return set(re.findall(r'data-section="([a-z]+)"', page.content.decode()))

    assert sections() == {"near"}
    assert sections("resident") == {"near", "bookings"}
    assert {"desk"} <= sections("deskstaff") and "setup" not in sections("deskstaff")
    assert {"setup", "workers", "coverage", "admission"} <= sections("unitleader")
    assert {"tasks", "workers"} <= sections("communityworker") and "desk" not in sections("communityworker")
    assert "tasks" not in sections("depthandler") and "admission" in sections("depthandler")
    # every section offered opens for the person it is offered to (the rule is the page's own)
    for username in ("resident", "deskstaff", "unitleader", "communityworker", "depthandler", "admin"):
        c = Client()
        c.login(username=username, password=PASSWORD)
        hrefs = re.findall(r'<li data-section="[a-z]+"><a href="([^"]+)"', c.get("/services/").content.decode())
        assert hrefs
        for href in hrefs:
            assert c.get(href).status_code == 200, (username, href)
