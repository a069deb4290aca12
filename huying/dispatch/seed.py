"""Default classification data: request types with Guangdong's limits and the subject tree.

Re-running adds what is missing and leaves edited rows alone (administrators own the data).
"""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from huying.people.models import Membership, RoleCode, Unit, UnitKind, User

from . import services
from .models import (
    Channel,
    HandlingLevel,
    RequestType,
    RoutingRule,
    State,
    Subject,
    SubjectKind,
    TimeUnit,
    Urgency,
)
from .triage.seed import label_routes_seed

DATA = Path(__file__).resolve().parent / "data"

# 《广东省12345政务服务便民热线管理办法》: 咨询 2 working days; 求助 and 建议 10; 投诉 and 举报 15.
# Signing (签收) within 1 working day is the common practice quoted in DOMAIN.md §2.
REQUEST_TYPES = [
    ("consult", "咨询", 2),
    ("help", "求助", 10),
    ("complaint", "投诉", 15),
    ("report", "举报", 15),
    ("suggestion", "建议", 10),
]


@transaction.atomic
def request_types_seed() -> int:
    created = 0
    for sort, (code, name, days) in enumerate(REQUEST_TYPES, start=1):
        _obj, made = RequestType.objects.get_or_create(
            code=code,
            defaults={"name": name, "sort": sort, "resolve_limit": Decimal(days), "resolve_unit": TimeUnit.WORK_DAYS,
                      "response_limit": Decimal(1), "response_unit": TimeUnit.WORK_DAYS},
        )
        created += made
    return created


def _taxonomy_rows() -> list[tuple[str, str, str]]:
    with open(DATA / "taxonomy.csv", encoding="utf-8") as f:
        return [(r["level1"].strip(), r["level2"].strip(), r["level3"].strip()) for r in csv.DictReader(f)]


@transaction.atomic
def subjects_seed() -> int:
    """Load taxonomy.csv (诉求) and urban_classes.csv (事件/部件); returns the number of new nodes."""
    rows: list[dict] = []  # parents before children

    l1: dict[str, str] = {}
    l2: dict[tuple[str, str], str] = {}
    l3_count: dict[str, int] = {}
    source = "taxonomy.csv (2020 泰迪杯 C 题)"
    for a, b, c in _taxonomy_rows():
        if a not in l1:
            l1[a] = f"Q{len(l1) + 1:02d}"
            rows.append({"code": l1[a], "name": a, "parent": None, "depth": 1, "kind": SubjectKind.REQUEST,
                         "source": source})
        if (a, b) not in l2:
            n = sum(1 for key in l2 if key[0] == a) + 1
            l2[(a, b)] = f"{l1[a]}{n:02d}"
            rows.append({"code": l2[(a, b)], "name": b, "parent": l1[a], "depth": 2, "kind": SubjectKind.REQUEST,
                         "source": source})
        parent = l2[(a, b)]
        l3_count[parent] = l3_count.get(parent, 0) + 1
        rows.append({"code": f"{parent}{l3_count[parent]:02d}", "name": c, "parent": parent, "depth": 3,
                     "kind": SubjectKind.REQUEST, "source": source})

    with open(DATA / "urban_classes.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            code = r["code"].strip()
            row = {"code": code, "name": r["name"].strip(), "parent": code[:-2] if len(code) > 3 else None,
                   "depth": 1 if len(code) <= 3 else 2, "kind": SubjectKind(r["kind"].strip()),
                   "source": r["source"].strip(), "default_level": r["default_level"].strip()}
            if r["resolve_limit"].strip():
                row["resolve_limit"] = Decimal(r["resolve_limit"].strip())
                row["resolve_unit"] = r["resolve_unit"].strip()
            if r["urgency"].strip():
                row["urgency"] = Urgency(r["urgency"].strip())
            rows.append(row)

    # One insert per depth: each level's parents exist (and have ids) before their children.
    ids = dict(Subject.objects.values_list("code", "id"))
    created = 0
    for depth in sorted({r["depth"] for r in rows}):
        new = [Subject(**{**r, "parent": None, "parent_id": ids.get(r["parent"]) if r["parent"] else None})
               for r in rows if r["depth"] == depth and r["code"] not in ids]
        Subject.objects.bulk_create(new, batch_size=500)
        created += len(new)
        ids.update(Subject.objects.filter(depth=depth).values_list("code", "id"))
    return created


def dispatch_seed() -> dict[str, int]:
    done = {"request_types": request_types_seed(), "subjects": subjects_seed()}
    label_routes_seed()  # the classifier's seven families → the top-level subjects of the same name
    return done


# 条块: subjects a district department leads, with the street (块) as co-handler. The department by its
# code suffix (people.demo.DISTRICT_DEPARTMENTS), the subjects as (一级, 二级) names in taxonomy.csv;
# an empty 二级 takes the whole 一级 branch.
DISTRICT_DEPARTMENT_SUBJECTS = {
    "cgzf": [("城乡建设", "城市建设和市政管理")],
    "zjj": [("城乡建设", "住房保障与房地产"), ("城乡建设", "工程质量"), ("城乡建设", "建筑市场")],
    "sthj": [("环境保护", "")],
    "scjg": [("商贸旅游", "市场监管"), ("卫生计生", "食品药品监管")],
    "gaj": [("政法", "社会治安"), ("政法", "户籍证件")],
}
DISTRICT_RULE_PRIORITY = 50


def _subject_named(level1: str, level2: str) -> Subject | None:
    top = Subject.objects.filter(kind=SubjectKind.REQUEST, depth=1, name=level1).order_by("code").first()
    if top is None or not level2:
        return top
    return Subject.objects.filter(parent=top, name=level2).order_by("code").first()


@transaction.atomic
def district_routing_seed() -> int:
    """A routing rule per district department and subject: the department leads (牵头), the street
    covering the place co-handles (属地协办). Adds what is missing; edited or disabled rules stay."""
    subjects = {pair: _subject_named(*pair) for pairs in DISTRICT_DEPARTMENT_SUBJECTS.values() for pair in pairs}
    have = set(RoutingRule.objects.filter(target_unit__isnull=False).values_list("target_unit_id", "subject_id"))
    made = 0
    departments = Unit.objects.filter(kind=UnitKind.DEPARTMENT, code__startswith="dept-", division__isnull=False)
    for unit in departments.select_related("division").order_by("code"):
        suffix = unit.code.split("-")[1]
        for pair in DISTRICT_DEPARTMENT_SUBJECTS.get(suffix, ()):
            subject = subjects[pair]
            if subject is None or unit.division.code != unit.code.split("-")[-1] or (unit.pk, subject.pk) in have:
                continue
            RoutingRule.objects.create(
                priority=DISTRICT_RULE_PRIORITY, name=f"{unit.name[:50]}：{subject.name}"[:80], subject=subject,
                area_prefix=unit.division.code, target_unit=unit, cohandler_level=HandlingLevel.STREET)
            made += 1
    return made


# 核查 and 审核 in the demo (DOMAIN.md §1.4): city-management subjects whose results the grid worker
# checks on site, and the demo unit leader's unit reviewing its handlers' results. Codes from
# urban_classes.csv (违法搭建, 暴露垃圾, 积存垃圾渣土, 街面秩序 — 占道经营 is a 街面秩序 event) and
# the 诉求 node 违章建筑 by its name.
ONSITE_CHECK_CODES = ("E0101", "E0102", "E0103", "E05")
ONSITE_CHECK_NAMES = ("违章建筑",)
DEMO_CHECK_REPORTS = [
    ("E0102", "小区门口暴露垃圾成堆", "巡查发现小区门口垃圾成堆，已有异味。"),
    ("E05", "人行道占道经营", "早市摊贩占用人行道经营，行人需绕行。"),
    ("E0101", "楼顶违法搭建铁皮房", "巡查发现楼顶新搭铁皮房一间。"),
]


def check_review_demo_seed(*, now=None) -> dict[str, int]:
    """Turn on on-site checks for a few city-management subjects and result review for the demo
    unit leader's unit, and put a few patrol reports through to their review and check, so the
    demo's `unitleader` and `gridworker` logins have work. Runs once: if any subject checks or any
    unit reviews already, an administrator owns those settings and nothing is changed."""
    if Subject.objects.filter(onsite_check=True).exists() or Unit.objects.filter(review_results=True).exists():
        return {"subjects": 0, "units": 0, "orders": 0}
    users = {u.username: u for u in User.objects.filter(
        username__in=["dispatcher", "handler", "unitleader", "gridworker"])}
    with transaction.atomic():
        subjects = 0
        for s in Subject.objects.filter(Q(code__in=ONSITE_CHECK_CODES) | Q(name__in=ONSITE_CHECK_NAMES)):
            s.onsite_check = True
            s.save(update_fields=["onsite_check"])  # save(): the subject cache hears of it
            subjects += 1
        leader = users.get("unitleader")
        unit = (Membership.objects.filter(user=leader, role__code=RoleCode.UNIT_LEADER, active=True)
                .select_related("unit").first() if leader else None)
        if unit is not None:
            unit = unit.unit
            unit.review_results = True
            unit.save(update_fields=["review_results"])
    if unit is None or len(users) < 4:
        return {"subjects": subjects, "units": int(unit is not None), "orders": 0}
    station = (Membership.objects.filter(user=users["gridworker"], role__code=RoleCode.GRID_WORKER, active=True)
               .select_related("unit__grid").first())
    grid = station.unit.grid if station and station.unit.grid_id else None
    if grid is None or grid.lng is None or grid.lat is None:
        return {"subjects": subjects, "units": 1, "orders": 0}
    now = now or timezone.now()
    made = 0
    for i, (code, title, text) in enumerate(DEMO_CHECK_REPORTS):
        if not Subject.objects.filter(code=code).exists():
            continue
        order = services.work_order_create(
            channel=Channel.PATROL, subject=code, title=title, description=text, lng=grid.lng, lat=grid.lat,
            idempotency_key=f"demo-check-review-{i}", actor=users["gridworker"], now=now)
        if order.state == State.SUBMITTED:
            order = services.work_order_dispatch(order, actor=users["dispatcher"], unit=unit.pk,
                                                 reason="演示：由街道办理并审核", now=now)
        elif order.lead_unit_id != unit.pk:
            order = services.work_order_redispatch(order, actor=users["dispatcher"], unit=unit.pk,
                                                   reason="演示：由街道办理并审核", now=now)
        order = services.work_order_accept(order, actor=users["handler"], now=now)
        order = services.work_order_resolve(order, actor=users["handler"], result="已安排人员现场处理完毕。", now=now)
        if i == 0:  # one already approved: waiting for the grid worker's check
            services.work_order_review_approve(order, actor=leader, note="处理到位，请网格员核查。", now=now)
        made += 1
    return {"subjects": subjects, "units": 1, "orders": made}
