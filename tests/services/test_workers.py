"""Community workers: grade progression from assessment histories (hand-worked), pay coefficients
read from the scale data, the staffing ratio, the all-or-nothing import and who may manage."""

import json
from datetime import date
from decimal import Decimal

import pytest

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.services import selectors_workers as sel
from huying.services import workers as svc
from huying.services.models import CommunityWorker, GradeChange

from . import workers_setup
from .workers_setup import worker

cw = workers_setup.cw  # the shared fixture

pytestmark = pytest.mark.django_db


def _assess(cw, w, history):
    for year, result in history.items():
        svc.worker_assess(w, year=year, result=result, actor=cw.user.bj_staff)


# Shipped rules: 优秀 counts 2, 称职 1; 3 make a grade; 基本称职 clears the count; 不称职 clears it and
# takes a grade off. Both workers start at grade 1 in 2019.
STEADY = {2019: "competent", 2020: "competent", 2021: "competent", 2022: "excellent", 2023: "competent",
          2024: "competent"}
# 2019 +2, 2020 +2 = 4 → grade 2 (1 carried); 2021 基本称职 → 0; 2022 +1; 2023 不称职 → 0, grade 1; 2024 +1.
UNEVEN = {2019: "excellent", 2020: "excellent", 2021: "basic", 2022: "competent", 2023: "incompetent",
          2024: "competent"}


def test_progression_under_two_histories(cw):
    steady, uneven = worker(cw, "甲", "13900000001"), worker(cw, "乙", "13900000002")
    _assess(cw, steady, STEADY)
    _assess(cw, uneven, UNEVEN)
    # steady: 2019–2021 称职 ×3 → 2; 2022 优秀 (2) + 2023 称职 (1) → 3; 2024 carries 1.
    assert [svc.worker_grade_due(steady, year=y).grade for y in range(2019, 2025)] == [1, 1, 2, 2, 3, 3]
    assert [svc.worker_grade_due(uneven, year=y).grade for y in range(2019, 2025)] == [1, 2, 2, 2, 1, 1]

    svc.worker_grade_apply(steady, year=2024, actor=cw.user.bj_staff)
    steady.refresh_from_db()
    assert steady.grade == 3
    change = GradeChange.objects.get(worker=steady)
    assert (change.old_grade, change.new_grade, change.year) == (1, 3, 2024)
    entry = AuditEntry.objects.filter(action="services.worker.grade_changed").get()
    assert entry.old == {"grade": 1} and entry.new == {"grade": 3}

    svc.worker_grade_apply(uneven, year=2020, actor=cw.user.bj_staff)
    svc.worker_grade_apply(uneven, year=2023, actor=cw.user.bj_staff)
    uneven.refresh_from_db()
    assert uneven.grade == 1
    assert [(c.old_grade, c.new_grade) for c in GradeChange.objects.filter(worker=uneven)] == [(1, 2), (2, 1)]


def test_progression_stops_at_the_top_and_flags_two_unqualified_years(cw):
    rules = cw.scale.rules["progression"]
    top = svc.grade_progression(entry_grade=5, entry_year=2020, results={y: "excellent" for y in range(2020, 2026)},
                                through_year=2025, rules=rules, max_grade=6)
    assert top.grade == 6
    bad = svc.grade_progression(entry_grade=3, entry_year=2020, results={2020: "incompetent", 2021: "incompetent"},
                                through_year=2021, rules=rules, max_grade=6)
    assert (bad.grade, bad.contract_review) == (1, True)
    # A year without an assessment neither counts nor clears.
    gap = svc.grade_progression(entry_grade=1, entry_year=2020, results={2020: "competent", 2022: "excellent"},
                                through_year=2022, rules=rules, max_grade=6)
    assert gap.grade == 2


def test_coefficient_comes_from_the_scale_data(cw, tmp_path):
    secretary = worker(cw, "丙", "13900000003", post="secretary", entry_grade=2)
    staff = worker(cw, "丁", "13900000004")
    data = json.loads(svc.DATA_FILE.read_text(encoding="utf-8"))
    chief = next(lv for lv in data["levels"] if lv["code"] == secretary.level)
    shipped = Decimal(str(next(g["coefficient"] for g in chief["grades"] if g["grade"] == 2)))
    assert secretary.level == "chief" and svc.pay_coefficient(secretary) == shipped

    chief["grades"][1]["coefficient"] = 2.345
    data["version"] = "test-2"
    path = tmp_path / "scale.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    svc.pay_scale_load(path)
    assert svc.pay_coefficient(secretary) == Decimal("2.345")
    assert svc.pay_coefficient(staff) == Decimal(str(data["levels"][0]["grades"][0]["coefficient"]))


def test_staffing_ratio_and_shortfall(cw):
    from huying.territory.models import Building

    # 流水井: 10 + 20 + 30 + 840 = 900 households → 3 required; 1 worker → short 2, 900 per worker.
    Building.objects.create(code="B3", grid=cw.town.grid["440104003001003"], address="文德路4号", lng=113.28,
                            lat=23.125, households=840)
    # 龙藏: 301 households → 2 required (rounded up); 2 workers → none short.
    Building.objects.create(code="B4", grid=cw.town.grid["440104003002001"], address="龙藏街1号", lng=113.29,
                            lat=23.125, households=301)
    worker(cw, "甲", "13900000001")
    worker(cw, "乙", "13900000002", unit=cw.unit.longcang)
    worker(cw, "丙", "13900000003", unit=cw.unit.longcang)
    rows = {r.community.code: r for r in sel.staffing(actor=cw.user.bj_staff)}
    assert set(rows) == {"440104003001", "440104003002"}
    lsj, lc = rows["440104003001"], rows["440104003002"]
    assert (lsj.households, lsj.workers, lsj.required, lsj.shortfall, lsj.households_per_worker) == (
        900, 1, 3, 2, 900.0)
    assert (lc.households, lc.workers, lc.required, lc.shortfall, lc.households_per_worker) == (301, 2, 2, 0, 150.5)
    assert [r.community.code for r in sel.staffing(actor=cw.user.bj_staff, short_only=True)] == ["440104003001"]


HEADER = ["姓名", "手机号", "社区编码", "岗位", "从事社区工作时间", "学历", "社会工作者职业资格", "档次"]


def test_import_refuses_a_file_with_two_bad_rows_naming_both(cw):
    rows = [HEADER,
            ["王伟", "13900000011", "440104003001", "书记", "2015-03-01", "本科", "社会工作师", "2"],
            ["李娜", "1390000", "440104003001", "专职工作者", "2020-05-01", "大专", "", ""],
            ["张敏", "13900000013", "440104003001", "专职工作者", "2021-01-01", "本科", "", ""],
            ["刘洋", "13900000014", "440104004001", "委员", "2019-09-01", "本科", "", ""]]
    with pytest.raises(DomainError) as err:
        svc.workers_import(rows, actor=cw.user.bj_staff)
    assert err.value.details["bad_rows"] == [3, 5]
    assert "第 3、5 行" in err.value.message
    assert {(e["row"], e["field"]) for e in err.value.details["rows"]} == {(3, "手机号"), (5, "社区编码")}
    assert not CommunityWorker.objects.exists()

    del rows[4]
    rows[2][1] = "13900000012"
    assert svc.workers_import(rows, actor=cw.user.bj_staff)["created"] == 3
    wang = CommunityWorker.objects.get(user__display_name="王伟")
    assert (wang.post, wang.level, wang.grade, wang.qualification) == ("secretary", "chief", 2, "social_worker")
    assert wang.started_on == date(2015, 3, 1)


def test_who_may_manage_and_see(cw):
    w = worker(cw, "甲", "13900000001")
    for outsider in (cw.user.lr_staff, cw.user.lsj_worker, cw.user.resident):
        with pytest.raises(DomainError) as err:
            svc.worker_assess(w, year=2024, result="competent", actor=outsider)
        assert err.value.code == "services.worker.not_manager"
        with pytest.raises(DomainError):
            svc.worker_grade_apply(w, year=2024, actor=outsider)
    assert sel.view_prefixes(cw.user.lsj_worker) == ["440104003001"]
    assert [r.community.code for r in sel.staffing(actor=cw.user.lsj_worker)] == ["440104003001"]
    assert [r.community.code for r in sel.staffing(actor=cw.user.lr_staff)] == ["440104004001"]
    assert sel.staffing(actor=cw.user.resident) == []
    assert len(sel.staffing(actor=cw.user.yx_leader)) == 3
    with pytest.raises(DomainError):
        svc.workers_import([HEADER, ["王伟", "13900000011", "440104003001", "书记", "2015-03-01", "本科", "", ""]],
                           actor=cw.user.lsj_worker)
