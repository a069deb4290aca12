"""A small city for the co-governance project tests: 越秀区's communities (tests/yuexiu), the committees
of 流水井 and 龙藏 with a community worker each (the managers), a building in 流水井 and six owner logins."""

from types import SimpleNamespace

import pytest

from tests.yuexiu import divisions_and_grids

ORIGINS = {"440104003001": (113.270, 23.125), "440104003002": (113.280, 23.125), "440104004001": (113.260, 23.130)}


@pytest.fixture
def pc(db, request):
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import membership_grant, unit_create, user_create
    from huying.territory import locator
    from huying.territory.models import Building

    div, grid = divisions_and_grids(ORIGINS, grids=2, d=0.004)
    locator.invalidate()
    request.addfinalizer(locator.invalidate)
    lsj = unit_create(code="gov-440104003001", name="流水井社区居民委员会", kind=UnitKind.TERRITORIAL,
                      division=div["440104003001"], actor=None)
    lc = unit_create(code="gov-440104003002", name="龙藏社区居民委员会", kind=UnitKind.TERRITORIAL,
                     division=div["440104003002"], actor=None)
    jnh = unit_create(code="gov-440104004001", name="旧南海县社区居民委员会", kind=UnitKind.TERRITORIAL,
                      division=div["440104004001"], actor=None)
    u = SimpleNamespace(div=div, grid=grid, lsj=lsj, lc=lc, jnh=jnh)
    serial = iter(range(1, 999))

    def person(username, unit, role, name):
        user = user_create(username=username, password="x", display_name=name, phone=f"1390000{next(serial):04d}",
                           actor=None, check_password=False)
        membership_grant(user, unit=unit, role_code=role, actor=None)
        setattr(u, username, user)
        return user

    person("lsj_worker", lsj, RoleCode.COMMUNITY_WORKER, "孙丽")
    person("lc_worker", lc, RoleCode.COMMUNITY_WORKER, "钱红")
    for i in range(1, 7):
        person(f"owner{i}", lsj, RoleCode.RESIDENT, f"业主{i}")
    person("lr_resident", jnh, RoleCode.RESIDENT, "郑和平")
    u.building = Building.objects.create(code="B-LSJ-1", grid=grid["440104003001001"], address="流水井12号",
                                         lng=113.272, lat=23.127, households=6)
    u.enterprise = unit_create(code="ent-1", name="广州某物业服务有限公司", kind=UnitKind.ENTERPRISE, actor=None)
    u.agency = unit_create(code="agc-1", name="越秀区某社会工作服务中心", kind=UnitKind.AGENCY, actor=None)
    return u


def lift_with_owners(pc, areas, *, total=120000):
    """A lift project with one owner login per area, floor = its position (1-based)."""
    from huying.community import projects

    owners = [{"flat": f"{i}01", "floor": i, "area_m2": a, "name": f"业主{i}", "phone": f"1370000{i:04d}",
               "user": getattr(pc, f"owner{i}")} for i, a in enumerate(areas, start=1)]
    return projects.lift_project_create(pc.building, title="流水井12号加装电梯", total_cost=total,
                                        actor=pc.lsj_worker, owners=owners)
