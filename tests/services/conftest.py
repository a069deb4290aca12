"""A small city for service tests: 越秀区, street 北京街 (two communities) and street 六榕街 (one),
real square grids (so the real locator places points and addresses), buildings at known offsets,
the territorial units, and staff of each street."""

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tests.yuexiu import divisions_and_grids

TZ = ZoneInfo("Asia/Shanghai")
LAT0 = 23.125
M_PER_DEG_LNG = np.pi / 180 * 6_371_008.8 * np.cos(np.radians(LAT0))
D = 0.004  # grid side in degrees (about 410 m east–west)

ORIGINS = {"440104003001": (113.270, 23.123), "440104003002": (113.290, 23.123), "440104004001": (113.250, 23.133)}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def east(lng: float, metres: float) -> float:
    return lng + metres / M_PER_DEG_LNG


@pytest.fixture
def town(db, request):
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import membership_grant, unit_create, user_create
    from huying.territory import locator
    from huying.territory.models import Building

    div, grid = divisions_and_grids(ORIGINS, grids=3, d=D)
    # 流水井: three buildings on one parallel, 0 m, 800 m and 900 m east of the centre's point.
    base = 113.2705
    buildings = [
        Building.objects.create(code="B0", grid=grid["440104003001001"], address="广州市越秀区流水井社区文德路1号",
                                lng=base, lat=LAT0, households=10),
        Building.objects.create(code="B1", grid=grid["440104003001002"], address="广州市越秀区流水井社区文德路2号",
                                lng=east(base, 800), lat=LAT0, households=20),
        Building.objects.create(code="B2", grid=grid["440104003001003"], address="广州市越秀区流水井社区文德路3号",
                                lng=east(base, 900), lat=LAT0, households=30),
    ]
    locator.invalidate()
    request.addfinalizer(locator.invalidate)

    T = UnitKind.TERRITORIAL
    unit = SimpleNamespace()
    unit.district = unit_create(code="gov-440104", name="越秀区人民政府", kind=T, division=div["440104"], actor=None)
    unit.beijing = unit_create(code="gov-440104003", name="北京街道办事处", kind=T, parent=unit.district,
                               division=div["440104003"], actor=None)
    unit.liushuijing = unit_create(code="gov-440104003001", name="流水井社区居民委员会", kind=T, parent=unit.beijing,
                                   division=div["440104003001"], actor=None)
    unit.liurong = unit_create(code="gov-440104004", name="六榕街道办事处", kind=T, parent=unit.district,
                               division=div["440104004"], actor=None)
    unit.civil = unit_create(code="dept-mz", name="越秀区民政局", kind=UnitKind.DEPARTMENT, division=div["440104"],
                             actor=None)
    users = SimpleNamespace()
    for username, u, role in [("bj_staff", unit.beijing, RoleCode.UNIT_LEADER),
                              ("lsj_worker", unit.liushuijing, RoleCode.COMMUNITY_WORKER),
                              ("lr_staff", unit.liurong, RoleCode.UNIT_LEADER),
                              ("resident", unit.liushuijing, RoleCode.RESIDENT)]:
        person = user_create(username=username, password="x", display_name=username, actor=None, check_password=False)
        membership_grant(person, unit=u, role_code=role, actor=None)
        setattr(users, username, person)
    return SimpleNamespace(div=div, grid=grid, unit=unit, user=users, buildings=buildings, base=base)


WEEKDAYS = [(d, "09:00", "12:00") for d in range(5)] + [(d, "13:00", "17:00") for d in range(5)]


@pytest.fixture
def positions(town):
    """A community centre at B0 (weekday hours + Tuesday evening + Saturday morning) and a station in
    六榕街 (every day 08:00–22:00, also on holidays)."""
    from huying.people.models import UnitKind  # noqa: F401
    from huying.services.models import HandlingLevel, PositionKind
    from huying.services.services import item_create, item_positions_set, position_create, position_hours_set

    d = town.div
    centre = position_create(kind=PositionKind.COMMUNITY_CENTRE, name="流水井社区党群服务中心", unit=town.unit.liushuijing,
                             division=d["440104003001"], lng=town.base, lat=LAT0, address="文德路1号",
                             phone="020-83000001", actor=None)
    position_hours_set(centre, periods=WEEKDAYS + [(1, "18:00", "20:00", "错时延时服务"), (5, "09:00", "12:00")],
                       actor=None)
    station = position_create(kind=PositionKind.STATION, name="北京路步行街服务站", unit=town.unit.liurong,
                              division=d["440104004"], lng=113.257, lat=23.135, address="北京路100号",
                              open_on_holidays=True, actor=None)
    position_hours_set(station, periods=[(day, "08:00", "22:00") for day in range(7)], actor=None)
    item = item_create(code="JZZ", name="居住证办理", level=HandlingLevel.STREET, documents=["身份证", "租赁合同"],
                       time_limit_days=10, actor=None, departments=[town.unit.civil])
    item_positions_set(item, positions=[centre, station], actor=None)
    return SimpleNamespace(centre=centre, station=station, item=item)
