import pytest

SQUARE = '{"type": "Polygon", "coordinates": [[[113.26, 23.12], [113.27, 23.12], [113.27, 23.13], [113.26, 23.12]]]}'

# (code, name, level, kind, parent code)
DIVISIONS = [
    ("440100", "广州市", "city", "市", None),
    ("440104", "越秀区", "district", "区", "440100"),
    ("440104003", "北京街道", "street", "街道", "440104"),
    ("440104003001", "流水井社区居民委员会", "community", "社区", "440104003"),
    ("440104003002", "龙藏社区居民委员会", "community", "社区", "440104003"),
    ("440104004", "六榕街道", "street", "街道", "440104"),
    ("440104004001", "旧南海县社区居民委员会", "community", "社区", "440104004"),
    ("440114", "花都区", "district", "区", "440100"),
    ("440114100", "花山镇", "street", "镇", "440114"),
    ("440114100201", "和郁村民委员会", "community", "村", "440114100"),
]
SHORT = {"440104003": "北京街", "440104003001": "流水井社区", "440104003002": "龙藏社区", "440104004": "六榕街",
         "440104004001": "旧南海县社区", "440114100201": "和郁村"}
# (code, community code, layer)
GRIDS = [
    ("440104003001001", "440104003001", "unified"),
    ("440104003001002", "440104003001", "unified"),
    ("440104003002001", "440104003002", "unified"),
    ("440104004001001", "440104004001", "unified"),
    ("440114100201001", "440114100201", "unified"),
    ("440104003001901", "440104003001", "dangjian"),  # a source layer: no grid station for it
]


@pytest.fixture
def territory(db):
    """A small territory: two streets of 越秀区 and a town of 花都区, five unified grids."""
    from types import SimpleNamespace

    from huying.territory.models import Division, Grid

    div: dict[str, Division] = {}
    for code, name, level, kind, parent in DIVISIONS:
        div[code] = Division.objects.create(code=code, name=name, short_name=SHORT.get(code, name), level=level,
                                            kind=kind, parent=div.get(parent))
    grids: dict[str, Grid] = {}
    for code, community, layer in GRIDS:
        short = SHORT[community]
        grids[code] = Grid.objects.create(code=code, name=f"{short}第{int(code[-3:])}网格", layer=layer,
                                          community=div[community], geometry=SQUARE, lng=113.265, lat=23.125)
    # The real locator caches its index between calls: ids differ from the previous test's rolled-back
    # territory, so forget it now and after the test (an intake here would otherwise locate to ghosts).
    from huying.territory import locator

    locator.invalidate()
    yield SimpleNamespace(div=div, grid=grids)
    locator.invalidate()


def _id_number(serial: int) -> str:
    weights, check = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), "10X98765432"
    body = f"44010419900101{serial:03d}"
    return body + check[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@pytest.fixture
def org(territory):
    """Units over the small territory and one person per case the scope rules distinguish."""
    from types import SimpleNamespace

    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import membership_grant, roles_ensure, unit_create, user_create

    roles_ensure()
    d, g = territory.div, territory.grid
    T = UnitKind.TERRITORIAL
    u = SimpleNamespace()
    u.command = unit_create(code="cmd", name="市民热线指挥调度中心", kind=UnitKind.COMMAND, division=d["440100"], actor=None)
    u.yuexiu = unit_create(code="gov-440104", name="越秀区人民政府", kind=T, division=d["440104"], actor=None)
    u.beijing = unit_create(code="gov-440104003", name="北京街道办事处", kind=T, parent=u.yuexiu,
                            division=d["440104003"], actor=None)
    u.liushuijing = unit_create(code="gov-440104003001", name="流水井社区居民委员会", kind=T, parent=u.beijing,
                                division=d["440104003001"], actor=None)
    u.grid_bj = unit_create(code="grid-440104003001001", name="流水井社区第1网格工作站", kind=T,
                            parent=u.liushuijing, grid=g["440104003001001"], actor=None)
    u.liurong = unit_create(code="gov-440104004", name="六榕街道办事处", kind=T, parent=u.yuexiu,
                            division=d["440104004"], actor=None)
    u.jiunanhai = unit_create(code="gov-440104004001", name="旧南海县社区居民委员会", kind=T, parent=u.liurong,
                              division=d["440104004001"], actor=None)
    u.grid_lr = unit_create(code="grid-440104004001001", name="旧南海县社区第1网格工作站", kind=T,
                            parent=u.jiunanhai, grid=g["440104004001001"], actor=None)
    u.huashan = unit_create(code="gov-440114100", name="花山镇人民政府", kind=T, division=d["440114100"], actor=None)
    u.cg = unit_create(code="dept-cgzf", name="城市管理和综合执法局", kind=UnitKind.DEPARTMENT, actor=None)
    u.cg_yx = unit_create(code="dept-cgzf-440104", name="城市管理和综合执法局越秀分局", kind=UnitKind.DEPARTMENT,
                          parent=u.cg, division=d["440104"], actor=None)
    u.water = unit_create(code="dept-swj", name="水务局", kind=UnitKind.DEPARTMENT, actor=None)
    u.party = unit_create(code="party-440104003", name="北京街道党工委", kind=UnitKind.PARTY,
                          division=d["440104003"], actor=None)

    people = SimpleNamespace()
    serial = iter(range(1, 100))

    def person(username, unit, role, name):
        n = next(serial)
        user = user_create(username=username, password="x", display_name=name, phone=f"1380000{n:04d}",
                           id_number=_id_number(n), actor=None, check_password=False)
        if unit is not None:
            membership_grant(user, unit=unit, role_code=role, actor=None)
        setattr(people, username, user)
        return user

    person("operator", u.command, RoleCode.OPERATOR, "李敏")
    person("leader", u.command, RoleCode.LEADER, "赵刚")
    person("bj_dispatcher", u.beijing, RoleCode.DISPATCHER, "王强")
    person("lr_handler", u.liurong, RoleCode.HANDLER, "张伟")
    person("gridworker", u.grid_bj, RoleCode.GRID_WORKER, "陈静")
    person("yx_leader", u.yuexiu, RoleCode.UNIT_LEADER, "刘洋")
    person("cg_handler", u.cg, RoleCode.HANDLER, "孙磊")
    person("cgyx_handler", u.cg_yx, RoleCode.HANDLER, "钱多")
    person("water_handler", u.water, RoleCode.HANDLER, "冯源")
    person("resident_bj", u.liushuijing, RoleCode.RESIDENT, "吴芳")
    person("resident_lr", u.jiunanhai, RoleCode.RESIDENT, "郑和平")
    person("member", u.party, RoleCode.PARTY_MEMBER, "周婷")
    person("secretary", u.party, RoleCode.PARTY_SECRETARY, "黄海")
    person("nobody", None, None, "")
    root = user_create(username="root", password="x", actor=None, is_superuser=True, check_password=False)
    people.root = root
    return SimpleNamespace(unit=u, user=people, territory=territory)
