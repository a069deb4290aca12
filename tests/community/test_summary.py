"""The co-governance summary (协同共治汇总): figures equal to a hand-counted city, rows that add up to the
totals, scope (a street sees its street, anything else 404), bad ?division= (400/404), the Excel
export, the dashboard tile, and a constant number of queries whatever the size.

The hand-counted city for the co-governance summary: two districts, three streets, four communities,
and halls, canteens, lifts, renovations, volunteers, hours and patrols placed so each figure is known.

广州市 440100
  越秀区 440104: 北京街 440104003 (流水井 …001, 龙藏 …002), 六榕街 440104004 (旧南海县 …001)
  荔湾区 440103: 沙面街 440103001 (沙面 …001)
"""

from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 15, 10, tzinfo=TZ)
THIS_YEAR = NOW - timedelta(days=30)
LAST_YEAR = datetime(2025, 11, 1, 10, tzinfo=TZ)

DIVISIONS = [
    ("440100", "广州市", "city", None),
    ("440104", "越秀区", "district", "440100"),
    ("440104003", "北京街道", "street", "440104"),
    ("440104003001", "流水井社区", "community", "440104003"),
    ("440104003002", "龙藏社区", "community", "440104003"),
    ("440104004", "六榕街道", "street", "440104"),
    ("440104004001", "旧南海县社区", "community", "440104004"),
    ("440103", "荔湾区", "district", "440100"),
    ("440103001", "沙面街道", "street", "440103"),
    ("440103001001", "沙面社区", "community", "440103001"),
]
SQUARE = '{"type": "Polygon", "coordinates": [[[113.2, 23.1], [113.21, 23.1], [113.21, 23.11], [113.2, 23.1]]]}'

# What the fixture holds, counted by hand: {code: {column: figure}} at community (and street-own) level.
C1, C2, C3, C4 = "440104003001", "440104003002", "440104004001", "440103001001"
S1 = "440104003"
EXPECTED = {
    C1: {"halls": 1, "matters": 3, "matters_resolved": 1, "disputes": 2, "disputes_settled": 1, "canteens": 1,
         "meals": 3, "lifts_done": 1, "lifts_building": 1, "lifts_voted": 3, "renovations": 1, "partners": 3,
         "volunteers": 3, "hours": Decimal("4.0"), "patrols": 2, "findings_to_orders": 1, "stretches": 0},
    C2: {"halls": 1, "matters": 1, "matters_resolved": 1, "disputes": 1, "disputes_settled": 0, "canteens": 0,
         "meals": 0, "lifts_done": 0, "lifts_building": 0, "lifts_voted": 0, "renovations": 1, "partners": 1,
         "volunteers": 0, "hours": Decimal(0), "patrols": 0, "findings_to_orders": 0, "stretches": 1},
    # 北京街's own level: its river-chief team, a volunteer it registered, their patrol and stretch
    S1: {"halls": 0, "matters": 0, "matters_resolved": 0, "disputes": 0, "disputes_settled": 0, "canteens": 0,
         "meals": 0, "lifts_done": 0, "lifts_building": 0, "lifts_voted": 0, "renovations": 0, "partners": 0,
         "volunteers": 1, "hours": Decimal("2.0"), "patrols": 1, "findings_to_orders": 1, "stretches": 1},
    C3: {"halls": 0, "matters": 0, "matters_resolved": 0, "disputes": 0, "disputes_settled": 0, "canteens": 1,
         "meals": 2, "lifts_done": 0, "lifts_building": 0, "lifts_voted": 0, "renovations": 0, "partners": 1,
         "volunteers": 0, "hours": Decimal(0), "patrols": 0, "findings_to_orders": 0, "stretches": 0},
    C4: {"halls": 1, "matters": 2, "matters_resolved": 1, "disputes": 1, "disputes_settled": 1, "canteens": 1,
         "meals": 1, "lifts_done": 0, "lifts_building": 0, "lifts_voted": 1, "renovations": 1, "partners": 1,
         "volunteers": 2, "hours": Decimal("3.0"), "patrols": 1, "findings_to_orders": 0, "stretches": 1},
}


@pytest.fixture
def sw(db):
    from huying.community import models as m
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import membership_grant, roles_ensure, unit_create, user_create
    from huying.territory.models import Building, Division, Grid

    roles_ensure()
    div, grid, building = {}, {}, {}
    for code, name, level, parent in DIVISIONS:
        div[code] = Division.objects.create(code=code, name=name, short_name=name, level=level, kind="x",
                                            parent=div.get(parent))
        if level == "community":
            grid[code] = Grid.objects.create(code=code + "001", name=name + "第1网格", community=div[code],
                                             geometry=SQUARE, lng=113.2, lat=23.1)
            building[code] = Building.objects.create(code="B" + code, grid=grid[code], address=name + "1号",
                                                     lng=113.2, lat=23.1, households=20)

    def unit(code, name, kind, division, parent=None):
        return unit_create(code=code, name=name, kind=kind, division=division, parent=parent, actor=None)

    city = unit("gov-440100", "广州市人民政府", UnitKind.TERRITORIAL, div["440100"])
    office = {c: unit(f"gov-{c}", div[c].name + "办事处", UnitKind.TERRITORIAL, div[c])
              for c in ("440104003", "440104004", "440103001")}
    committee = {c: unit(f"gov-{c}", div[c].name + "居委会", UnitKind.TERRITORIAL, div[c]) for c in (C1, C2, C3, C4)}
    e1 = unit("ent-1", "广州建工", UnitKind.ENTERPRISE, None)
    e2 = unit("ent-2", "越秀物业", UnitKind.ENTERPRISE, None)
    a1 = unit("agy-1", "颐康中心", UnitKind.AGENCY, None)
    users = SimpleNamespace()
    for username, u, role in [("leader", city, RoleCode.LEADER), ("street", office[S1], RoleCode.UNIT_LEADER),
                              ("worker", committee[C1], RoleCode.COMMUNITY_WORKER),
                              ("resident", committee[C1], RoleCode.RESIDENT)]:
        user = user_create(username=username, password="x", display_name=username, actor=None, check_password=False)
        membership_grant(user, unit=u, role_code=role, actor=None)
        setattr(users, username, user)
    nobody = users.resident

    # -- halls: matters and disputes
    hall = {c: m.Hall.objects.create(division=div[c], convener_unit=committee[c], name=div[c].name + "议事厅",
                                     created_at=LAST_YEAR) for c in (C1, C2, C4)}
    for c, statuses in {C1: ["resolved", "open", "work_order"], C2: ["resolved"], C4: ["resolved", "rejected"]}.items():
        for i, s in enumerate(statuses):
            m.Matter.objects.create(hall=hall[c], title=f"议题{i}", raiser_kind="resident", status=s, created_at=THIS_YEAR)
    for c, statuses in {C1: ["settled", "failed"], C2: ["open"], C4: ["settled"]}.items():
        for i, s in enumerate(statuses):
            m.Dispute.objects.create(hall=hall[c], title=f"纠纷{i}", parties="甲、乙", status=s, opened_at=THIS_YEAR)

    # -- canteens and meals (one of 流水井's last year, not counted)
    canteen = {C1: m.Canteen.objects.create(community=div[C1], name="流水井饭堂", operator=a1, created_at=LAST_YEAR),
               C3: m.Canteen.objects.create(community=div[C3], name="旧南海县饭堂", operator=a1, created_at=LAST_YEAR),
               C4: m.Canteen.objects.create(community=div[C4], name="沙面饭堂", created_at=LAST_YEAR)}
    for c, days in {C1: [THIS_YEAR, THIS_YEAR, NOW, LAST_YEAR], C3: [THIS_YEAR, NOW], C4: [NOW]}.items():
        diner = m.CanteenEnrolment.objects.create(canteen=canteen[c], name="陈伯", age=80, enrolled_on=LAST_YEAR.date())
        for d in days:
            m.CanteenMeal.objects.create(canteen=canteen[c], enrolment=diner, served_on=d.astimezone(TZ).date(),
                                         price=Decimal(15), subsidy=Decimal(5))

    # -- lifts: done, building, at design with the vote passed, at design without votes; 沙面 at approval, passed
    def lift(c, state, votes):
        p = m.LiftProject.objects.create(building=building[c], community=div[c], title=f"{c}-{state}", state=state,
                                         created_at=LAST_YEAR)
        for i, v in enumerate(votes):
            m.LiftOwner.objects.create(project=p, flat=f"{i + 1}01", floor=i + 1, area_m2=Decimal(80), name="业主",
                                       vote=v)
        return p

    lift(C1, "acceptance", ["agree"] * 3)
    lift(C1, "works", ["agree"] * 3)
    lift(C1, "design", ["agree", "agree", "agree", "agree"])
    lift(C1, "design", ["none", "none", "agree"])
    lift(C4, "approval", ["agree", "agree", "agree", "abstain", "agree"])  # 4/5 agree ≥ 3/4: passed
    lift(C4, "design", ["agree", "disagree", "agree", "none"])  # 2/3 agree < 3/4: not passed

    # -- renovations and their partner units
    for c, units in {C1: [e1, e2], C2: [e1], C4: [e1]}.items():
        r = m.Renovation.objects.create(community=div[c], title=f"{c}微改造", created_at=LAST_YEAR)
        for u in units:
            m.RenovationContribution.objects.create(renovation=r, unit=u, what="捐资", amount=Decimal(1000))

    # -- volunteer teams, volunteers, hours, patrols, stretches
    def team(code, name, division, parent, kind):
        u = unit(code, name, UnitKind.VOLUNTEER_TEAM, division, parent)
        return m.VolunteerTeam.objects.create(unit=u, team_type=kind)

    t1 = team("vt-1", "流水井志愿服务队", div[C1], committee[C1], "watch")
    t2 = team("vt-2", "北京街民间河长队", div[S1], office[S1], "river")
    t4 = team("vt-4", "沙面志愿服务队", div[C4], committee[C4], "service")
    serial = iter(range(1000))

    def volunteers(n, registered_by):
        out = []
        for _i in range(n):
            u = user_create(username=f"v{next(serial)}", password="x", actor=None, check_password=False)
            m.VolunteerProfile.objects.create(user=u, registered_by=registered_by)
            out.append(u)
        return out

    v1 = volunteers(3, committee[C1])
    v2 = volunteers(1, office[S1])
    v4 = volunteers(2, committee[C4])

    def activity(t, when, hours: dict):
        a = m.VolunteerActivity.objects.create(team=t, title="护河", starts_at=when, ends_at=when + timedelta(hours=3),
                                               capacity=10)
        for u, h in hours.items():
            m.ActivitySignup.objects.create(activity=a, user=u, signed_up_at=when, hours=Decimal(h),
                                            served_on=when.astimezone(TZ).date())

    activity(t1, THIS_YEAR, {v1[0]: "2.5", v1[1]: "1.5"})
    activity(t1, LAST_YEAR, {v1[2]: "10"})
    activity(t2, THIS_YEAR, {v2[0]: "2"})
    activity(t4, THIS_YEAR, {v4[0]: "1", v4[1]: "2"})
    r1 = m.RiverStretch.objects.create(name="北京街河涌段")  # no community, no grid: 北京街 by its patrolling team
    m.RiverStretch.objects.create(name="龙藏涌", community=div[C2])
    r3 = m.RiverStretch.objects.create(name="沙面涌")
    r3.grids.add(grid[C4])

    def patrol(t, who, kind, findings, *, grid_=None, stretch=None):
        p = m.Patrol.objects.create(team=t, patroller=who, kind=kind, grid=grid_, stretch=stretch, patrolled_at=THIS_YEAR)
        for i, order in enumerate(findings):
            m.PatrolFinding.objects.create(patrol=p, description=f"发现{i}", is_problem=bool(order),
                                           work_order_id=order)

    patrol(t1, v1[0], "watch", [101, None], grid_=grid[C1])
    patrol(t1, v1[1], "watch", [], grid_=grid[C1])
    patrol(t2, v2[0], "river", [102], stretch=r1)
    patrol(t4, v4[0], "watch", [None], grid_=grid[C4])
    return SimpleNamespace(div=div, grid=grid, user=users, nobody=nobody, units=SimpleNamespace(e1=e1, e2=e2, a1=a1))


def add(*figures: dict) -> dict:
    out = {}
    for f in figures:
        for k, v in f.items():
            out[k] = out.get(k, 0) + v
    return out


D1, D2 = "440104", "440103"
S2, S3 = "440104004", "440103001"


def _table(code, *, now=NOW):
    from huying.community import selectors_summary as sel
    from huying.territory.models import Division

    return sel.summary_table(Division.objects.get(code=code), now=now)


def _by_code(t) -> dict:
    return {r["division"].code: r["figures"] for r in t["rows"]}


def _sum_rows(t, key):
    return sum(r["figures"][key] for r in t["rows"]) + (t["own"][key] if t["own"] else 0)


def test_city_rows_are_the_districts_with_hand_counted_figures(sw):
    from huying.community.selectors_summary import KEYS

    t = _table("440100")
    rows = _by_code(t)
    assert list(rows) == [D2, D1]  # by code
    d1 = add(EXPECTED[C1], EXPECTED[C2], EXPECTED[S1], EXPECTED[C3])
    d1["partners"] = 3  # 广州建工, 越秀物业, 颐康中心: 颐康中心 runs two canteens in 越秀区, counted once there
    assert rows[D1] == d1
    assert rows[D2] == EXPECTED[C4]
    assert t["own"] is None
    for key in KEYS:
        if key != "partners":
            assert t["totals"][key] == _sum_rows(t, key), key
    # partners: 广州建工 works in both districts, one unit in the city's total
    assert t["totals"]["partners"] == 3 and rows[D1]["partners"] + rows[D2]["partners"] == 4
    assert t["totals"]["halls"] == 3 and t["totals"]["hours"] == Decimal("9.0")
    assert t["totals"]["lifts_voted"] == 4 and t["totals"]["meals"] == 6


def test_district_and_street_drill_down_with_the_street_own_row(sw):
    from huying.community.selectors_summary import KEYS

    t = _table(D1)
    rows = _by_code(t)
    assert list(rows) == [S1, S2]
    assert rows[S2] == EXPECTED[C3]
    s1 = add(EXPECTED[C1], EXPECTED[C2], EXPECTED[S1])
    s1["partners"] = 3
    assert rows[S1] == s1
    t = _table(S1)
    rows = _by_code(t)
    assert rows == {C1: EXPECTED[C1], C2: EXPECTED[C2]}
    assert t["own"] == EXPECTED[S1]  # the river-chief team of the street itself
    for key in KEYS:
        if key != "partners":
            assert t["totals"][key] == _sum_rows(t, key), key
    assert t["totals"]["partners"] == 3  # 广州建工 in both communities, once
    # the street's totals are its row at the district level
    street_row = _by_code(_table(D1))[S1]
    assert t["totals"] == street_row


def test_meals_and_hours_count_this_year_only(sw):
    t = _table("440100", now=datetime(2027, 1, 2, 9, tzinfo=TZ))
    assert t["year"] == 2027
    assert t["totals"]["meals"] == 0 and t["totals"]["hours"] == 0
    assert t["totals"]["halls"] == 3  # the rest are standing figures


def test_query_count_does_not_grow_with_the_communities(sw, django_assert_max_num_queries):
    from huying.territory.models import Division

    with django_assert_max_num_queries(20):
        _table("440100")
    # ten more communities with halls in 沙面街: still the same queries
    from huying.community.models import Hall

    street = Division.objects.get(code=S3)
    for i in range(2, 12):
        d = Division.objects.create(code=f"{S3}{i:03d}", name=f"社区{i}", level="community", kind="x", parent=street)
        Hall.objects.create(division=d, convener_unit_id=sw.units.e1.pk, name=f"议事厅{i}", created_at=NOW)
    with django_assert_max_num_queries(20):
        t = _table(S3)
    assert len(t["rows"]) == 11 and t["totals"]["halls"] == 11


# -- the page -----------------------------------------------------------------------------------

def _page(client, user, query=""):
    client.force_login(user)
    return client.get("/community/summary/" + query)


def _cells(resp) -> dict:
    """{row code: [cell texts]} from the rendered table."""
    import re

    html = resp.content.decode()
    out = {}
    for code, body in re.findall(r'<tr data-code="([^"]+)">(.*?)</tr>', html, flags=re.S):
        out[code] = re.findall(r'<td class="num">(?:<b>)?([^<]*)', body)
    return out


def test_leader_sees_the_city_and_drills_down(client, sw):
    resp = _page(client, sw.user.leader)
    assert resp.status_code == 200
    cells = _cells(resp)
    assert set(cells) == {D1, D2, "total"}
    assert cells["total"][0] == "3" and cells["total"][13] == "9.0"  # halls, hours
    assert f'href="?division={D1}"' in resp.content.decode()
    resp = _page(client, sw.user.leader, f"?division={D1}")
    assert set(_cells(resp)) == {S1, S2, "total"}
    resp = _page(client, sw.user.leader, f"?division={S1}")
    cells = _cells(resp)
    assert set(cells) == {C1, C2, "own", "total"}
    assert cells[C1][0] == "1" and cells["own"][12] == "1"  # 流水井's hall; the street's own volunteer


def test_street_staff_sees_only_their_street(client, sw):
    resp = _page(client, sw.user.street)
    assert resp.status_code == 200
    assert set(_cells(resp)) == {C1, C2, "own", "total"}
    assert resp.context["t"]["division"].code == S1
    for other in ("440100", D1, D2, S2, S3, C3, C4):
        resp = _page(client, sw.user.street, f"?division={other}")
        assert resp.status_code == 404, other
        assert "不在您的管辖范围内" in resp.content.decode()
    assert _page(client, sw.user.street, f"?division={C1}").status_code == 200
    assert client.get(f"/community/summary.xlsx?division={D1}").status_code == 404


def test_community_worker_sees_their_community_row(client, sw):
    resp = _page(client, sw.user.worker)
    assert resp.status_code == 200
    assert set(_cells(resp)) == {C1, "total"}
    assert _page(client, sw.user.worker, f"?division={C2}").status_code == 404


def test_resident_and_anonymous(client, sw):
    resp = _page(client, sw.nobody)
    assert resp.status_code == 404 and "您没有可查看的辖区" in resp.content.decode()
    client.logout()
    assert client.get("/community/summary/").status_code == 302


@pytest.mark.parametrize("raw,status", [("abc", 400), ("4401%00", 400), ("%00", 400), ("4401 04", 400),
                                        ("1" * 40, 400), ("４４０１０４", 400), ("999999", 404), ("", 200)])
def test_bad_division_answers_clearly(client, sw, raw, status):
    resp = _page(client, sw.user.leader, f"?division={raw}")
    assert resp.status_code == status
    if status == 400:
        # NUL is refused by the site's middleware before the page, with its own clear message
        assert ("区划代码格式不正确" if "%00" not in raw else "含有无法保存的字符") in resp.content.decode()
    resp = client.get(f"/community/summary.xlsx?division={raw}")
    assert resp.status_code == status


def test_post_is_refused(client, sw):
    client.force_login(sw.user.leader)
    assert client.post("/community/summary/").status_code == 405


def test_export_has_the_same_numbers(client, sw):
    from io import BytesIO

    from openpyxl import load_workbook

    from huying.community.selectors_summary import KEYS

    client.force_login(sw.user.street)
    page = _page(client, sw.user.street)
    cells = _cells(page)
    resp = client.get(f"/community/summary.xlsx?division={S1}")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "区划" and len(rows[0]) == 2 + len(KEYS)
    body = {r[1] if r[0] not in ("合计", "本级（未落到下级区划）") else
            ("total" if r[0] == "合计" else "own"): r[2:] for r in rows[1:] if r and r[0] and r[1]}
    assert set(body) == {C1, C2, "own", "total"}
    for code, values in body.items():
        shown = [f"{v:.1f}" if i == KEYS.index("hours") else str(v) for i, v in enumerate(values)]
        assert shown == cells[code], code
    t = _table(S1)
    assert body["total"][KEYS.index("volunteers")] == t["totals"]["volunteers"] == 4


def test_pages_leaders_and_street_staff_reach_link_the_summary(client, sw):
    from huying.community.models import Hall
    from huying.people.models import RoleCode
    from huying.people.services import membership_grant

    # the index lists a convener's halls (with one hall it goes straight to it): convener of two
    for hall in Hall.objects.filter(division__code__in=[C1, C2]):
        membership_grant(sw.user.worker, unit=hall.convener_unit, role_code=RoleCode.CONVENER, actor=None)
    client.force_login(sw.user.worker)
    for url in ("/community/halls/manage/", "/community/projects/manage/"):
        resp = client.get(url)
        assert resp.status_code == 200 and 'id="to-summary"' in resp.content.decode(), url


# -- the dashboard tile -------------------------------------------------------------------------

def test_tile_value_and_link(sw):
    from huying.community.selectors_summary import summary_tile
    from huying.core import tiles

    assert "community_summary" in {t.key for t in tiles.registered()}
    v = summary_tile(prefix="", now=NOW)
    assert v.value == "3" and v.url == "/community/summary/"
    assert "长者饭堂 3 家" in v.note and "志愿者 6 人" in v.note
    v = summary_tile(prefix=D2, now=NOW)
    assert v.value == "1" and v.url == f"/community/summary/?division={D2}" and "志愿者 2 人" in v.note
    v = summary_tile(prefix=S1, now=NOW)
    assert v.value == "2" and "志愿者 4 人" in v.note
    v = summary_tile(prefix=C1 + "001", now=NOW)  # a grid's dashboard leads to its community
    assert v.url == f"/community/summary/?division={C1}"
    assert summary_tile(prefix="440105", now=NOW) is None


def test_tile_on_the_leaders_dashboard(client, sw):
    client.force_login(sw.user.leader)
    resp = client.get("/insight/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-app-tile="community_summary"' in html and 'href="/community/summary/"' in html
