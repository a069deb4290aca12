"""Default classification data: request types with Guangdong's limits and the subject tree.

Re-running adds what is missing and leaves edited rows alone (administrators own the data).
"""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from .models import RequestType, Subject, SubjectKind, TimeUnit, Urgency

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
    from .triage.seed import label_routes_seed

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
    from huying.people.models import Unit, UnitKind

    from .models import HandlingLevel, RoutingRule

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
