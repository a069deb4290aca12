"""Server-side checks of the pages and the admin (the browser tests drive the same pages in Chromium)."""

import pytest
from django.urls import reverse


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


def test_pages_require_login(client, territory):
    for name in ("home", "territory", "map"):
        resp = client.get(reverse(name))
        assert resp.status_code == 302 and resp["Location"].startswith(reverse("login"))
    assert client.get("/territory/nodes/440104/children/").status_code == 302


def test_home_shows_name_and_roles(client_in, user, territory):
    from django.contrib.auth.models import Group

    from huying.people.models import Membership, Role, Unit

    role = Role.objects.create(code="grid_worker", name="网格员", group=Group.objects.create(name="网格员"))
    unit = Unit.objects.create(code="yx-hq", name="洪桥街道办事处", kind="territorial", division=territory["hongqiao"])
    Membership.objects.create(user=user, unit=unit, role=role)
    html = client_in.get("/").content.decode()
    assert "王芳" in html and "网格员" in html and "洪桥街道办事处" in html
    assert reverse("admin:index") not in html  # not staff
    # A grid worker's first screens: the patrol report and their queue, and nobody else's.
    shortcuts = _shortcuts(html)
    assert reverse("dispatch:patrol") in shortcuts and reverse("dispatch:queue") in shortcuts
    assert reverse("dispatch:board") not in shortcuts and reverse("insight:dashboard") not in shortcuts


def _shortcuts(html: str) -> str:
    start = html.index('id="shortcuts"')
    return html[start:html.index("</section>", start)]


def test_home_shortcuts_follow_each_role_once(client_in, user, territory):
    from django.contrib.auth.models import Group

    from huying.people.models import Membership, Role, Unit

    unit = Unit.objects.create(code="yx-hq", name="洪桥街道办事处", kind="territorial", division=territory["hongqiao"])
    for code in ("handler", "unit_leader"):
        role = Role.objects.create(code=code, name=code, group=Group.objects.create(name=code))
        Membership.objects.create(user=user, unit=unit, role=role)
    shortcuts = _shortcuts(client_in.get("/").content.decode())
    assert shortcuts.count(f'href="{reverse("dispatch:queue")}"') == 1
    assert reverse("insight:dashboard") in shortcuts and reverse("dispatch:intake") not in shortcuts


def test_territory_page_totals_and_roots(client_in, territory):
    resp = client_in.get("/territory/")
    totals = {k: v for k, _, v in __import__("huying.web.templatetags.huying_web", fromlist=["x"])
              .count_items(resp.context["stats"])}
    assert totals == {"district": 2, "street": 3, "community": 3, "grid": 4, "building": 30}
    html = resp.content.decode()
    assert 'id="node-440104"' in html and 'hx-get="/territory/nodes/440104/children/"' in html


def test_children_partial_and_marks(client_in, territory):
    html = client_in.get("/territory/nodes/440104002/children/").content.decode()
    assert "西湖社区" in html and "系统生成" in html and "非官方代码" in html
    assert client_in.get("/territory/nodes/000000/children/").status_code == 404


def test_grid_buildings_paginated(client_in, territory):
    first = client_in.get("/territory/nodes/440104001001001/children/").content.decode()
    assert first.count("<tr>") == 21 and "第 1/2 页，共 25 栋" in first  # header + 20 rows
    second = client_in.get("/territory/grids/440104001001001/buildings/?page=2").content.decode()
    assert second.count("<tr>") == 6 and "440104001001001u0025" in second


def test_search_one_result_jumps_to_node(client_in, territory):
    assert len(client_in.get("/territory/", {"q": "西湖"}).context["results"]) == 2  # community and grid
    resp = client_in.get("/territory/", {"q": "西湖社区"})
    assert resp.status_code == 302
    assert resp["Location"].endswith("?focus=440104002001")
    page = client_in.get(resp["Location"])
    crumbs = [a.name for a in page.context["path"]]
    assert crumbs == ["广州市", "越秀区", "北京街道"]
    html = page.content.decode()
    # Opened along the path: the district, the street, the focused community and its grid.
    assert 'class="node level-community focused"' in html and "西湖第1网格" in html
    assert html.count("<details open>") == 3


def test_search_many_results_and_unknown_focus(client_in, territory):
    resp = client_in.get("/territory/", {"q": "华侨"})
    assert [n.code for n, _ in resp.context["results"]] == ["440104001001", "440104001001001", "440104001001002"]
    resp = client_in.get("/territory/", {"focus": "4401999"})
    assert "4401999" in resp.content.decode() and resp.context["focus"] is None


def test_focus_on_grid_loads_its_buildings(client_in, territory):
    html = client_in.get("/territory/", {"focus": "440104001001002"}).content.decode()
    assert 'hx-get="/territory/grids/440104001001002/buildings/"' in html and 'hx-trigger="load"' in html


def test_search_says_when_results_are_cut(client_in, territory, monkeypatch):
    monkeypatch.setattr("huying.web.views.SEARCH_LIMIT", 2)
    html = client_in.get("/territory/", {"q": "华侨"}).content.decode()
    assert "显示前 2 个结果" in html and html.count('<a href="?focus=') == 2


def test_menu_offers_the_dashboard_only_with_a_territory(client_in, user, territory):
    """A person with no territory (a resident, a Party member) gets no 驾驶舱 link that would be a 403."""
    from django.contrib.auth.models import Group

    from huying.people.models import Membership, Role, Unit

    def nav(html: str) -> str:
        start = html.index('class="nav"')
        return html[start:html.index("</nav>", start)]

    dashboard = f'href="{reverse("insight:dashboard")}"'
    assert dashboard not in nav(client_in.get("/").content.decode())
    role = Role.objects.create(code="grid_worker", name="网格员", group=Group.objects.create(name="网格员"))
    unit = Unit.objects.create(code="yx-hq", name="洪桥街道办事处", kind="territorial", division=territory["hongqiao"])
    Membership.objects.create(user=user, unit=unit, role=role)
    assert dashboard in nav(client_in.get("/").content.decode())
    assert client_in.get(reverse("insight:dashboard")).status_code == 200
