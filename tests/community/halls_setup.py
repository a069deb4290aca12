"""A small city for the hall tests: 越秀区's three communities (tests/yuexiu), their committees, a
convener per committee, and residents of 流水井 in two households plus one of 龙藏."""

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from tests.yuexiu import divisions_and_grids

TZ = ZoneInfo("Asia/Shanghai")
ORIGINS = {"440104003001": (113.270, 23.125), "440104003002": (113.280, 23.125), "440104004001": (113.260, 23.130)}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def hc(db, request):
    from huying.community import halls
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import membership_grant, unit_create, user_create
    from huying.territory import locator

    div, grid = divisions_and_grids(ORIGINS, grids=2, d=0.004)
    locator.invalidate()
    request.addfinalizer(locator.invalidate)
    root = user_create(username="root", password="x", actor=None, is_superuser=True, check_password=False)
    lsj = unit_create(code="gov-440104003001", name="流水井社区居民委员会", kind=UnitKind.TERRITORIAL,
                      division=div["440104003001"], actor=None)
    lc = unit_create(code="gov-440104003002", name="龙藏社区居民委员会", kind=UnitKind.TERRITORIAL,
                     division=div["440104003002"], actor=None)
    u = SimpleNamespace(root=root)
    serial = iter(range(1, 999))

    def person(username, unit, role, name):
        user = user_create(username=username, password="x", display_name=name, phone=f"1390000{next(serial):04d}",
                           actor=None, check_password=False)
        membership_grant(user, unit=unit, role_code=role, actor=None)
        setattr(u, username, user)
        return user

    person("convener", lsj, RoleCode.CONVENER, "梁红")
    person("lc_convener", lc, RoleCode.CONVENER, "龙藏召集人")
    person("amy", lsj, RoleCode.RESIDENT, "吴芳")
    person("ben", lsj, RoleCode.RESIDENT, "吴斌")  # amy's household
    person("cat", lsj, RoleCode.RESIDENT, "陈可")
    person("dan", lsj, RoleCode.RESIDENT, "邓一")
    person("outsider", lc, RoleCode.RESIDENT, "龙藏居民")
    hall = halls.hall_create(div["440104003001"], convener_unit=lsj, actor=root, now=at(2024, 1, 1, 9))
    lc_hall = halls.hall_create(div["440104003002"], convener_unit=lc, actor=root, now=at(2024, 1, 1, 9))
    for name, household in [("amy", "文德路12号301"), ("ben", "文德路12号301"), ("cat", "文德路12号302"),
                            ("dan", "大塘街3号")]:
        halls.voter_add(hall, user=getattr(u, name), household=household, actor=u.convener, now=at(2024, 1, 2, 9))
    halls.voter_add(lc_hall, user=u.outsider, household="仓边路8号", actor=u.lc_convener)
    return SimpleNamespace(div=div, grid=grid, user=u, hall=hall, lc_hall=lc_hall, unit=SimpleNamespace(lsj=lsj, lc=lc))
