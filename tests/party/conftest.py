"""A small city for Party tests: 越秀区 with two streets and three communities, each community with
grids (real squares, so the real locator places points and addresses), the territorial Party
organisations mirrored from it, two unit organisations, and one person per role that matters."""

import io
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from tests.yuexiu import divisions_and_grids

TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


# community code → south-west corner of its first grid; each community has two grids side by side
ORIGINS = {"440104003001": (113.270, 23.125), "440104003002": (113.280, 23.125), "440104004001": (113.260, 23.130)}
D = 0.004


def xlsx_file(header: list, data: list[list], name: str) -> io.BytesIO:
    """An uploaded .xlsx: `header`, then the rows of `data`."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(header)
    for r in data:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = name
    return buf


def id_number(serial: int) -> str:
    weights, check = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), "10X98765432"
    body = f"44010419800101{serial:03d}"
    return body + check[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@pytest.fixture
def city(db, request):
    from huying.party.models import OrgType, PartyOrganisation
    from huying.party.services import organisation_create, organisations_mirror_territory
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import membership_grant, unit_create, user_create
    from huying.territory import locator
    from huying.territory.models import Building

    div, grid = divisions_and_grids(ORIGINS, grids=2, d=D)
    Building.objects.create(code="B1", grid=grid["440104003001001"], address="广州市越秀区流水井社区文德路12号",
                            lng=113.271, lat=23.126, households=40)
    locator.invalidate()  # ids differ from the previous test's rolled-back territory
    request.addfinalizer(locator.invalidate)

    root = user_create(username="root", password="x", actor=None, is_superuser=True, check_password=False)
    organisations_mirror_territory(div["440100"], actor=root)
    org = {o.unit.code: o for o in PartyOrganisation.objects.select_related("unit")}
    # unit organisations (not territorial): located from their address
    org["metro"] = organisation_create(code="party-metro", name="广州地铁某分公司党委", org_type=OrgType.STATE_ENTERPRISE,
                                       address="广州市越秀区龙藏社区中山四路2号", size=120, actor=root)
    org["hospital"] = organisation_create(code="party-hosp", name="某医院党委", org_type=OrgType.HOSPITAL,
                                          address="越秀区旧南海县社区人民北路5号", size=300, actor=root)
    org["alliance"] = organisation_create(code="party-rail", name="轨道交通行业联合党委",
                                          org_type=OrgType.INDUSTRY_COMMITTEE, actor=root)
    command = unit_create(code="cmd", name="指挥中心", kind=UnitKind.COMMAND, division=div["440100"], actor=None)
    residents = unit_create(code="gov-440104003001", name="流水井社区居民委员会", kind=UnitKind.TERRITORIAL,
                            division=div["440104003001"], actor=None)
    station = unit_create(code="grid-440104003001001", name="流水井第1网格工作站", kind=UnitKind.TERRITORIAL,
                          grid=grid["440104003001001"], actor=None)

    users = SimpleNamespace(root=root)
    serial = iter(range(1, 999))

    def person(username, unit=None, role=None, name=""):
        n = next(serial)
        u = user_create(username=username, password="x", display_name=name or username, phone=f"1390000{n:04d}",
                        id_number=id_number(n), actor=None, check_password=False)
        if unit is not None:
            membership_grant(u, unit=unit, role_code=role, actor=None)
        setattr(users, username, u)
        return u

    S = RoleCode.PARTY_SECRETARY
    person("lsj_secretary", org["party-440104003001"].unit, S, "流水井书记")
    person("lc_secretary", org["party-440104003002"].unit, S, "龙藏书记")
    person("jnh_secretary", org["party-440104004001"].unit, S, "旧南海县书记")
    person("bj_secretary", org["party-440104003"].unit, S, "北京街书记")
    person("lr_secretary", org["party-440104004"].unit, S, "六榕街书记")
    person("metro_secretary", org["metro"].unit, S, "地铁书记")
    person("hosp_secretary", org["hospital"].unit, S, "医院书记")
    person("rail_secretary", org["alliance"].unit, S, "联合党委书记")
    person("lsj_director", residents, RoleCode.UNIT_LEADER, "居委会主任")
    person("gridworker", station, RoleCode.GRID_WORKER, "网格员")
    person("leader", command, RoleCode.LEADER, "领导")
    person("operator", command, RoleCode.OPERATOR, "话务员")
    person("resident", residents, RoleCode.RESIDENT, "居民")

    return SimpleNamespace(div=div, grid=grid, org=org, user=users, person=person, unit=SimpleNamespace(
        command=command, residents=residents, station=station))


@pytest.fixture
def members(city):
    """Members of the metro and the hospital, living in different communities."""
    from huying.party.services import member_register

    o, u = city.org, city.user
    out = SimpleNamespace()
    for username, org, secretary, address in [
        ("alice", o["metro"], u.metro_secretary, "广州市越秀区流水井社区文德路12号"),
        ("bob", o["metro"], u.metro_secretary, "越秀区龙藏社区仓边路8号"),
        ("carol", o["hospital"], u.hosp_secretary, "广州市越秀区流水井社区大塘街3号"),
        ("dave", o["metro"], u.metro_secretary, "越秀区旧南海县社区北京路100号"),
    ]:
        user = city.person(username, name={"alice": "张丽", "bob": "李博", "carol": "陈可", "dave": "王大"}[username])
        setattr(out, username, member_register(user, organisation=org, actor=secretary, joined_on=date(2010, 7, 1),
                                               home_address=address))
    return out
