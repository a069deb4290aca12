"""The demo's organisation: the territorial offices for every Division and unified Grid, the city's
command centre and departments, and one login per role.

Run after the territory is loaded. Idempotent: a second run finds everything and creates nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.territory.models import UNIFIED_LAYER, Division, Grid, Level

from .models import Membership, RoleCode, Unit, UnitKind, User
from .services import membership_grant, roles_ensure, unit_create, user_create

BATCH = 1000
COMMAND_CODE = "cmd-city"

# (code suffix, name after the city's name) — the departments most calls go to.
DEPARTMENTS = (
    ("cgzf", "城市管理和综合执法局"),
    ("zjj", "住房和城乡建设局"),
    ("swj", "水务局"),
    ("jtj", "交通运输局"),
    ("sthj", "生态环境局"),
    ("scjg", "市场监督管理局"),
    ("gaj", "公安局"),
    ("wjw", "卫生健康委员会"),
    ("jyj", "教育局"),
    ("rsj", "人力资源和社会保障局"),
)

# The demo street: 越秀区北京街道, the seat of the city government.
DEMO_STREET_CODE = "440104"
DEMO_STREET_NAME = "北京街道"


def territorial_unit_code(division_code: str) -> str:
    return f"gov-{division_code}"


def grid_station_code(grid_code: str) -> str:
    return f"grid-{grid_code}"


def department_code(suffix: str) -> str:
    return f"dept-{suffix}"


def district_department_code(suffix: str, district_code: str) -> str:
    """A district's branch of a department (区城管局, 公安分局 …): `dept-<suffix>-<district code>`."""
    return f"dept-{suffix}-{district_code}"


# The departments every district has (条): suffix → name, from the district's and the city's names.
# 生态环境 and 公安 are the city bureaus' district branches; the rest are district bureaus.
DISTRICT_DEPARTMENTS = {
    "cgzf": lambda city, d: f"{d.name}城市管理和综合执法局",
    "zjj": lambda city, d: f"{d.name}住房和城乡建设局",
    "sthj": lambda city, d: f"{city}生态环境局{(d.short_name or d.name).removesuffix('区')}分局",
    "scjg": lambda city, d: f"{d.name}市场监督管理局",
    "gaj": lambda city, d: f"{city}公安局{d.name}分局",
}


def office_name(division: Division | dict) -> str:
    """区人民政府 / 街道办事处 / 镇人民政府 / 社区居民委员会 / 村民委员会 for a Division."""
    get = division.get if isinstance(division, dict) else lambda k: getattr(division, k)
    name, level, kind = get("name"), get("level"), get("kind")
    short = get("short_name") or name
    if level == Level.DISTRICT:
        return f"{name}人民政府"
    if level == Level.STREET:
        if kind == "街道" or name.endswith("街道"):
            return f"{name}办事处"
        if kind in ("镇", "乡"):
            return f"{name}人民政府"
        return f"{name}管理处"
    if level == Level.COMMUNITY:
        if name.endswith("委员会"):
            return name
        if kind == "村":
            return f"{short[:-1] if short.endswith('村') else short}村民委员会"
        return f"{short}居民委员会"
    return name


# The services' progress convention (see territory.services.generate): progress(step, done, total).
Progress = Callable[[str, int, int], None]
_STAGES = 6  # districts, streets, communities, grid stations, city and district units, logins


def _say(progress: Progress | None, done: int) -> None:
    if progress is not None:
        progress(_("单位与登录账号"), done, _STAGES)


def _bulk_units(rows: list[Unit], existing: set[str]) -> int:
    new = [u for u in rows if u.code not in existing]
    for i in range(0, len(new), BATCH):
        Unit.objects.bulk_create(new[i:i + BATCH], batch_size=BATCH)
    existing.update(u.code for u in new)
    return len(new)


def _unit_ids(prefix: str) -> dict[str, int]:
    return dict(Unit.objects.filter(code__startswith=prefix).values_list("code", "pk"))


def _territorial_units(progress) -> dict[str, int]:
    """One office per district, street/town and community/village, one station per unified grid."""
    existing = set(Unit.objects.filter(code__startswith="gov-").values_list("code", flat=True))
    existing |= set(Unit.objects.filter(code__startswith="grid-").values_list("code", flat=True))
    counts: dict[str, int] = {}
    parent_level = {Level.STREET: Level.DISTRICT, Level.COMMUNITY: Level.STREET}
    for level in (Level.DISTRICT, Level.STREET, Level.COMMUNITY):
        ids = _unit_ids("gov-")
        divisions = Division.objects.filter(level=level).values(
            "pk", "code", "name", "short_name", "level", "kind", "parent__code")
        rows = []
        for d in divisions.iterator(chunk_size=BATCH):
            parent = ids.get(territorial_unit_code(d["parent__code"])) if level in parent_level else None
            rows.append(Unit(code=territorial_unit_code(d["code"]), name=office_name(d)[:120],
                             kind=UnitKind.TERRITORIAL, parent_id=parent, division_id=d["pk"]))
        counts[str(level)] = _bulk_units(rows, existing)
        _say(progress, len(counts))
    ids = _unit_ids("gov-")
    grids = Grid.objects.filter(layer=UNIFIED_LAYER).values("pk", "code", "name", "community_id", "community__code")
    rows = [
        Unit(code=grid_station_code(g["code"]), name=f"{g['name']}工作站"[:120], kind=UnitKind.TERRITORIAL,
             parent_id=ids.get(territorial_unit_code(g["community__code"])), division_id=g["community_id"],
             grid_id=g["pk"])
        for g in grids.iterator(chunk_size=BATCH)
    ]
    counts["grid"] = _bulk_units(rows, existing)
    _say(progress, len(counts))
    return counts


def _unit(code: str, **create) -> Unit:
    unit = Unit.objects.filter(code=code).first()
    return unit if unit is not None else unit_create(code=code, **create)


def _district_departments(city_name: str, *, actor) -> int:
    """Each district's 城管, 住建, 生态环境, 市场监管 and 公安, under the city bureau of the same line."""
    have = set(Unit.objects.filter(code__startswith="dept-").values_list("code", flat=True))
    made = 0
    for district in Division.objects.filter(level=Level.DISTRICT).order_by("code"):
        for suffix, name in DISTRICT_DEPARTMENTS.items():
            code = district_department_code(suffix, district.code)
            if code not in have:
                unit_create(code=code, name=name(city_name, district)[:120], kind=UnitKind.DEPARTMENT,
                            parent=Unit.objects.filter(code=department_code(suffix)).first(), division=district,
                            actor=actor)
                made += 1
    return made


def _demo_street() -> Division | None:
    streets = Division.objects.filter(level=Level.STREET)
    return (streets.filter(code__startswith=DEMO_STREET_CODE, name=DEMO_STREET_NAME).first()
            or streets.filter(code__startswith=DEMO_STREET_CODE).order_by("code").first()
            or streets.order_by("code").first())


def _id_number(serial: int) -> str:
    """A made-up identity number with a valid check character (birth 1985-06-15, Yuexiu)."""
    from .services import _ID_CHECK, _ID_WEIGHTS

    body = f"44010419850615{serial:03d}"
    return body + _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


@transaction.atomic
def demo_org_seed(*, password: str, actor=None, progress: Progress | None = None) -> list[dict]:
    """Create the demo's units and logins; returns [{username, role, role_name, unit, note}] for printing.

    `progress(step, done, total)`, if given, is called after each of the six stages.
    """
    roles_ensure()
    counts = _territorial_units(progress)

    city = Division.objects.filter(level=Level.CITY).order_by("code").first()
    city_name = city.name if city else "广州市"
    command = _unit(COMMAND_CODE, name=f"{city_name}市民热线指挥调度中心", kind=UnitKind.COMMAND,
                    division=city, actor=actor)
    for suffix, name in DEPARTMENTS:
        _unit(department_code(suffix), name=f"{city_name}{name}", kind=UnitKind.DEPARTMENT, actor=actor)
    counts["district_departments"] = _district_departments(city_name, actor=actor)
    # the city Party committee's organisation department (组织部): runs the Party-building work system
    org_department = _unit(department_code("zzb"), name=f"中共{city_name}委组织部", kind=UnitKind.DEPARTMENT,
                           division=city, actor=actor)
    if any(counts.values()):
        audit_log(command, "people.unit.seeded", actor=actor, data={"created": counts})

    street = _demo_street()
    street_office = Unit.objects.filter(code=territorial_unit_code(street.code)).first() if street else None
    community_office = grid_station = party = branch = department = None
    if street is not None:
        # the residents' committee the street's calls land on first (the first community by code)
        community_office = (Unit.objects.filter(parent=street_office, kind=UnitKind.TERRITORIAL)
                            .order_by("code").first())
        grid_station = (Unit.objects.filter(grid__isnull=False, grid__code__startswith=street.code)
                        .order_by("code").first())
        district = street.parent
        party = _unit(f"party-{street.code}", name=f"中共{district.name if district else ''}{street.name}工作委员会",
                      kind=UnitKind.PARTY, division=street, actor=actor)
        if community_office is not None and community_office.division_id:
            # the community 大党委 the demo Party member belongs to (party.demo gives it its profile)
            c = community_office.division
            branch = _unit(f"party-{c.code}", name=f"中共{c.short_name or c.name}委员会", kind=UnitKind.PARTY,
                           parent=party, division=c, actor=actor)
        if district is not None:
            department = Unit.objects.filter(code=district_department_code("cgzf", district.code)).first()
    street_office = street_office or command
    community_office = community_office or street_office
    grid_station = grid_station or community_office
    party = party or command
    branch = branch or party
    department = department or Unit.objects.filter(code=department_code("cgzf")).first() or command
    # the demo committee's volunteer teams: 广州街坊 (neighbourhood watch) and the street's 民间河长
    watch_team = _unit(f"vol-jf-{community_office.code}", name=f"{community_office.name.replace('居民委员会', '')}广州街坊队",
                       kind=UnitKind.VOLUNTEER_TEAM, parent=community_office, actor=actor)
    river_team = _unit(f"vol-hz-{street_office.code}", name=f"{street_office.name.replace('办事处', '')}民间河长队",
                       kind=UnitKind.VOLUNTEER_TEAM, parent=street_office, actor=actor)
    _say(progress, 5)

    logins = [
        ("admin", RoleCode.ADMIN, command, "系统管理员", "超级用户：后台管理、全部数据"),
        ("leader", RoleCode.LEADER, command, "赵刚", "领导驾驶舱：全市数据"),
        ("operator", RoleCode.OPERATOR, command, "李敏", "12345 热线话务员：受理全市来电"),
        ("dispatcher", RoleCode.DISPATCHER, street_office, "王强", "街道派单员：本街道辖区"),
        ("handler", RoleCode.HANDLER, street_office, "张伟", "街道承办人：办理派给本街道的工单"),
        ("unitleader", RoleCode.UNIT_LEADER, street_office, "刘洋", "街道负责人：审核办理结果"),
        ("gridworker", RoleCode.GRID_WORKER, grid_station, "陈静", "网格员：本网格巡查上报"),
        ("secretary", RoleCode.PARTY_SECRETARY, party, "黄海", "街道党工委书记"),
        ("partymember", RoleCode.PARTY_MEMBER, branch, "周婷", "党员：报到、参加活动"),
        ("resident", RoleCode.RESIDENT, community_office, "吴芳", "居民：只看本人诉求"),
        ("communityworker", RoleCode.COMMUNITY_WORKER, community_office, "孙丽", "社区工作者：签收、办理派给本社区的工单"),
        ("depthandler", RoleCode.HANDLER, department, "郑斌", "区城管局承办人：办理本局牵头、街道协办的工单"),
        ("deskstaff", RoleCode.SERVICE_DESK, street_office, "林晓", "街道党群服务中心窗口：全岗通受理服务事项"),
        ("orgdept", RoleCode.ORG_DEPARTMENT, org_department, "何军", "市委组织部：党建工作计划、项目、联系点"),
        ("convener", RoleCode.CONVENER, community_office, "梁红", "社区议事厅召集人：议题、议事会、表决、决议落实"),
        ("volunteer", RoleCode.VOLUNTEER, watch_team, "罗斌", "广州街坊志愿者：活动报名、签到、巡查上报"),
        ("riverchief", RoleCode.VOLUNTEER, river_team, "谢华", "民间河长：巡河、发现问题即报"),
    ]
    out: list[dict] = []
    for serial, (username, role, unit, display_name, note) in enumerate(logins, start=1):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username, password=password, display_name=display_name,
                phone=f"1380000{serial:04d}", id_number=_id_number(serial) if role == RoleCode.RESIDENT else "",
                actor=actor, is_superuser=(role == RoleCode.ADMIN), check_password=False,
            )
        if not Membership.objects.filter(user=user, unit=unit, role__code=role, active=True).exists():
            membership_grant(user, unit=unit, role_code=role, actor=actor, reason="演示数据")
        out.append({"username": username, "role": str(role), "role_name": str(role.label), "unit": unit.name,
                    "note": note})
    _say(progress, 6)
    return out
