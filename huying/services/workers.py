"""Community workers (社区专职工作人员): the roster, yearly assessments, the 三级十八档 pay scale and
grade progression, and the roster import.

The scale and its rules are data (data/community_workers.json, loaded into PayScale/PayGrade):
which posts belong to which level (正职、副职、一般), each grade's pay coefficient, how assessment
results count toward the next grade, and the staffing norm (about one worker per 300 households).
`grade_progression` is a pure calculator over those rules; the services apply its answer with an
audit row and a GradeChange row in the same transaction.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.party.services.imports import (
    _cell_text,
    _parse_date,
    filename_of,
    read_rows,
    refuse_rows,
    table_of,
)
from huying.people.masking import mask_phone
from huying.people.models import Unit, User

from . import selectors_workers as sel
from .models import (
    AssessmentResult,
    CommunityWorker,
    Education,
    GradeChange,
    PayGrade,
    PayScale,
    SocialWorkQualification,
    WorkerAssessment,
    WorkerPost,
)

DATA_FILE = Path(__file__).parent / "data" / "community_workers.json"
_PHONE = re.compile(r"^1\d{10}$")


# -- the scale (data) ----------------------------------------------------------------------------------

@transaction.atomic
def pay_scale_load(path: Path = DATA_FILE, *, actor=None) -> PayScale:
    """Load a scale version from its JSON and put it in force (a version already loaded is only put in force)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    scale = PayScale.objects.filter(version=data["version"]).first()
    if scale is None:
        rules = {"levels": [{"code": lv["code"], "name": lv["name"], "posts": lv["posts"],
                             "max_grade": max(g["grade"] for g in lv["grades"])} for lv in data["levels"]],
                 "progression": data["progression"], "staffing": data["staffing"]}
        scale = PayScale.objects.create(version=data["version"], title=data["title"], rules=rules,
                                        source_note=data["source"])
        PayGrade.objects.bulk_create([
            PayGrade(scale=scale, level=lv["code"], level_name=lv["name"], grade=g["grade"],
                     coefficient=Decimal(str(g["coefficient"])))
            for lv in data["levels"] for g in lv["grades"]])
        audit_log(scale, "services.worker.scale_loaded", actor=actor,
                  new={"version": scale.version, "grades": scale.grades.count()})
    if not scale.in_force:
        PayScale.objects.filter(in_force=True).update(in_force=False)
        scale.in_force = True
        scale.save(update_fields=["in_force"])
        audit_log(scale, "services.worker.scale_in_force", actor=actor, new={"version": scale.version})
    return scale


def scale_in_force() -> PayScale:
    scale = PayScale.objects.filter(in_force=True).order_by("-id").first()
    if scale is None:
        raise DomainError("services.worker.no_scale", _("尚未载入社区工作者薪酬档次表。"), status=409)
    return scale


def level_of(post: str, scale: PayScale) -> dict:
    """The level (级) a post belongs to under `scale`: {code, name, posts, max_grade}."""
    for level in scale.rules["levels"]:
        if post in level["posts"]:
            return level
    raise DomainError("services.worker.bad_post", _("岗位无效。"), field="post")


def pay_coefficient(worker: CommunityWorker, *, scale: PayScale | None = None) -> Decimal | None:
    """The pay coefficient of the worker's level and grade in the scale in force (None if the scale lacks it)."""
    scale = scale or scale_in_force()
    return (PayGrade.objects.filter(scale=scale, level=worker.level, grade=worker.grade)
            .values_list("coefficient", flat=True).first())


# -- progression (pure) --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Progression:
    grade: int
    credit: int
    steps: list = field(default_factory=list)  # (year, result, grade after that year)
    contract_review: bool = False


def grade_progression(*, entry_grade: int, entry_year: int, results: dict[int, str], through_year: int,
                      rules: dict, max_grade: int) -> Progression:
    """The grade a worker should hold after the assessment of `through_year`.

    Each assessed year from `entry_year` on adds its result's credit (优秀 2, 称职 1 in the shipped
    rules); a result marked `reset` clears the credit gathered so far, `demote` takes grades off
    (never below 1); every `credits_per_grade` credits make one grade up, the rest carried, up to
    the level's top grade. A year without an assessment counts nothing and clears nothing.
    """
    per = int(rules["credits_per_grade"])
    table = rules["results"]
    review_after = int(rules.get("contract_review_after_incompetent_years") or 0)
    grade, credit, bad_run, review, steps = entry_grade, 0, 0, False, []
    for year in range(entry_year, through_year + 1):
        result = results.get(year)
        if result is None:
            continue
        spec = table[result]
        if spec.get("reset"):
            credit = 0
        grade = max(1, grade - int(spec.get("demote", 0)))
        credit += int(spec.get("credit", 0))
        while credit >= per and grade < max_grade:
            grade += 1
            credit -= per
        bad_run = bad_run + 1 if result == AssessmentResult.INCOMPETENT else 0
        review = review or (review_after > 0 and bad_run >= review_after)
        steps.append((year, result, grade))
    return Progression(grade=grade, credit=credit, steps=steps, contract_review=review)


def worker_grade_due(worker: CommunityWorker, *, year: int, scale: PayScale | None = None) -> Progression:
    """What `grade_progression` says this worker should hold after the assessment of `year`."""
    scale = scale or scale_in_force()
    results = dict(worker.assessments.values_list("year", "result"))
    level = level_of(worker.post, scale)
    return grade_progression(entry_grade=worker.entry_grade, entry_year=worker.entry_year, results=results,
                             through_year=year, rules=scale.rules["progression"], max_grade=level["max_grade"])


# -- state changes -------------------------------------------------------------------------------------

def _require_manager(actor, unit: Unit) -> None:
    if not sel.may_manage(actor, unit):
        raise DomainError("services.worker.not_manager", _("您无权管理该社区的社区工作者。"), status=403)


def _snapshot(w: CommunityWorker) -> dict:
    return {"user": w.user_id, "unit": w.unit_id, "post": w.post, "level": w.level, "grade": w.grade,
            "entry_grade": w.entry_grade, "entry_year": w.entry_year, "started_on": w.started_on.isoformat(),
            "education": w.education, "qualification": w.qualification, "active": w.active}


def _check_values(*, unit: Unit, post: str, started_on: date, education: str, qualification: str,
                  scale: PayScale, entry_grade: int | None) -> tuple[dict, int]:
    if not sel.is_committee(unit):
        raise DomainError("services.worker.not_committee", _("社区工作者须登记在社区（村）居委会。"), field="unit")
    level = level_of(post, scale)
    if education not in Education.values:
        raise DomainError("services.worker.bad_education", _("学历无效。"), field="education")
    if qualification not in SocialWorkQualification.values:
        raise DomainError("services.worker.bad_qualification", _("职业资格无效。"), field="qualification")
    if started_on is None or started_on > timezone.localdate():
        raise DomainError("services.worker.bad_start", _("从事社区工作时间不能晚于今天。"), field="started_on")
    grade = entry_grade or 1
    if not 1 <= grade <= level["max_grade"]:
        raise DomainError("services.worker.bad_grade", _("档次应在 1 至 %(n)s 之间。") % {"n": level["max_grade"]},
                          field="entry_grade")
    return level, grade


@transaction.atomic
def worker_register(*, user: User, unit: Unit, post: str, started_on: date, education: str, actor,
                    qualification: str = "", entry_grade: int | None = None,
                    entry_year: int | None = None) -> CommunityWorker:
    """Put a person on a committee's roster at a grade of their post's level (定档, default the first)."""
    _require_manager(actor, unit)
    return _register(user=user, unit=unit, post=post, started_on=started_on, education=education, actor=actor,
                     qualification=qualification, entry_grade=entry_grade, entry_year=entry_year)


def _register(*, user, unit, post, started_on, education, actor, qualification, entry_grade, entry_year):
    scale = scale_in_force()
    level, grade = _check_values(unit=unit, post=post, started_on=started_on, education=education,
                                 qualification=qualification, scale=scale, entry_grade=entry_grade)
    if CommunityWorker.objects.filter(user=user, unit=unit).exists():
        raise DomainError("services.worker.exists", _("此人已在该社区的花名册上。"), status=409)
    worker = CommunityWorker.objects.create(
        user=user, unit=unit, post=post, level=level["code"], grade=grade, entry_grade=grade,
        entry_year=entry_year or started_on.year, started_on=started_on, education=education,
        qualification=qualification)
    audit_log(worker, "services.worker.registered", actor=actor, new=_snapshot(worker))
    return worker


@transaction.atomic
def worker_assess(worker: CommunityWorker, *, year: int, result: str, actor, note: str = "") -> WorkerAssessment:
    """Record a yearly assessment (年度考核); a year is assessed once."""
    worker = CommunityWorker.objects.select_for_update(of=("self",)).select_related("unit__division").get(pk=worker.pk)
    _require_manager(actor, worker.unit)
    return _assess(worker, year=year, result=result, actor=actor, note=note)


def _assess(worker, *, year, result, actor, note=""):
    if result not in AssessmentResult.values:
        raise DomainError("services.worker.bad_result", _("考核结果无效。"), field="result")
    if year < worker.started_on.year or year > timezone.localdate().year:
        raise DomainError("services.worker.bad_year", _("考核年度应在从事社区工作之后、不晚于今年。"), field="year")
    if worker.assessments.filter(year=year).exists():
        raise DomainError("services.worker.assessed", _("该年度已有考核结果。"), field="year", status=409)
    note = clean_text(note, field="note", max_length=255)
    assessment = WorkerAssessment.objects.create(worker=worker, year=year, result=result, note=note,
                                                 recorded_by=actor if getattr(actor, "pk", None) else None)
    audit_log(worker, "services.worker.assessed", actor=actor, new={"year": year, "result": result}, reason=note)
    return assessment


@transaction.atomic
def worker_grade_apply(worker: CommunityWorker, *, year: int, actor) -> CommunityWorker:
    """Set the grade progression gives after the assessment of `year` (晋档 or 降档), with audit and history."""
    worker = CommunityWorker.objects.select_for_update(of=("self",)).select_related("unit__division").get(pk=worker.pk)
    _require_manager(actor, worker.unit)
    return _grade_apply(worker, year=year, actor=actor)


def _grade_apply(worker, *, year, actor):
    due = worker_grade_due(worker, year=year)
    if due.grade != worker.grade:
        old = worker.grade
        worker.grade = due.grade
        worker.save(update_fields=["grade"])
        word = _("晋档") if due.grade > old else _("降档")
        reason = _("%(word)s：依据 %(first)s–%(year)s 年度考核结果") % {
            "word": word, "first": worker.entry_year, "year": year}
        GradeChange.objects.create(worker=worker, year=year, old_grade=old, new_grade=due.grade, reason=reason,
                                   actor=actor if getattr(actor, "pk", None) else None)
        audit_log(worker, "services.worker.grade_changed", actor=actor, old={"grade": old},
                  new={"grade": due.grade}, reason=reason,
                  data={"year": year, "steps": [list(s) for s in due.steps], "credit": due.credit})
    return worker


def workers_grade_apply(unit: Unit, *, year: int, actor) -> int:
    """Apply progression to a committee's whole active roster; returns how many grades changed."""
    _require_manager(actor, unit)
    changed = 0
    for worker in CommunityWorker.objects.filter(unit=unit, active=True).order_by("pk"):
        before = worker.grade
        changed += worker_grade_apply(worker, year=year, actor=actor).grade != before
    return changed


# -- import ----------------------------------------------------------------------------------------------

COLUMNS = {
    "name": ("姓名",),
    "phone": ("手机号", "手机号码", "联系电话"),
    "community": ("社区编码", "所在社区编码", "社区"),
    "post": ("岗位",),
    "started_on": ("从事社区工作时间", "入职日期", "参加社区工作时间"),
    "education": ("学历",),
    "qualification": ("社会工作者职业资格", "职业资格"),
    "grade": ("档次", "定档档次"),
}
REQUIRED = ("name", "phone", "community", "post", "started_on", "education")
TEMPLATE_HEADER = [names[0] for names in COLUMNS.values()]
MAX_ROWS = 5000
_LABELS = {
    "post": {str(label): value for value, label in WorkerPost.choices} | {"书记、主任": WorkerPost.SECRETARY,
                                                                          "副书记": WorkerPost.DEPUTY,
                                                                          "副主任": WorkerPost.DEPUTY},
    "education": {str(label): value for value, label in Education.choices} | {"高中": Education.SECONDARY,
                                                                              "中专": Education.SECONDARY},
    "qualification": {str(label): value for value, label in SocialWorkQualification.choices} | {"": ""},
}


def _committee_of(code: str) -> Unit | None:
    """A committee by its Unit code (gov-440104003001) or by its community's Division code."""
    return (Unit.objects.filter(code__in=[code, f"gov-{code}"]).select_related("division")
            .order_by("-code").first())


@transaction.atomic
def workers_import(source, *, actor, filename: str = "") -> dict:
    """Register every worker listed in an .xlsx/.csv file (or a list of rows), or none.

    Refuses the whole file, naming each bad row (header = row 1), through the shared reader of
    `party.services.imports`. A person is matched by phone number; an unknown one is recorded as a
    person who does not sign in. Returns {"created": n, "file": name}.
    """
    filename = filename_of(source, filename)
    rows, _cols = read_rows(table_of(source, filename), COLUMNS, REQUIRED,
                            no_rows=_("文件中没有社区工作者数据。"),
                            too_many=_("一次最多导入 %(n)s 名社区工作者。") % {"n": MAX_ROWS}, max_rows=MAX_ROWS)
    scale = scale_in_force()
    errors: list[dict] = []
    good: list[dict] = []
    seen: dict[tuple, int] = {}

    def bad(n, key, message):
        errors.append({"row": n, "field": COLUMNS[key][0], "message": str(message)})

    for row in rows:
        n, v, before = row.number, row.values, len(errors)
        text = {}
        for key in COLUMNS:
            try:
                text[key] = clean_text(_cell_text(v.get(key)), field=key, max_length=120)
            except DomainError as exc:
                bad(n, key, exc.message)
                text[key] = ""
        for key in REQUIRED:
            if not text[key]:
                bad(n, key, _("必填"))
        phone = text["phone"].replace(" ", "").replace("-", "")
        if phone and not _PHONE.match(phone):
            bad(n, "phone", _("手机号应为以 1 开头的 11 位数字"))
        unit = _committee_of(text["community"]) if text["community"] else None
        if text["community"] and (unit is None or not sel.is_committee(unit)):
            bad(n, "community", _("找不到该社区居委会"))
        elif unit is not None and not sel.may_manage(actor, unit):
            bad(n, "community", _("该社区不在您的管理范围内"))
        values = {}
        for key in ("post", "education", "qualification"):
            if text[key] or key == "qualification":
                values[key] = _LABELS[key].get(text[key])
                if values[key] is None:
                    bad(n, key, _("无效的值“%(v)s”") % {"v": text[key]})
        started_on = None
        if v.get("started_on") not in (None, ""):
            try:
                started_on = _parse_date(v["started_on"])
            except ValueError:
                bad(n, "started_on", _("日期格式应为 2019-03-01"))
            else:
                if started_on > timezone.localdate():
                    bad(n, "started_on", _("不能晚于今天"))
        grade = None
        if text["grade"]:
            level = next((lv for lv in scale.rules["levels"] if values.get("post") in lv["posts"]), None)
            if not text["grade"].isdigit() or (level and not 1 <= int(text["grade"]) <= level["max_grade"]):
                bad(n, "grade", _("档次应为本岗位级别内的整数"))
            else:
                grade = int(text["grade"])
        if len(errors) > before:
            continue
        key = (phone, unit.pk)
        if key in seen:
            bad(n, "phone", _("与第 %(row)s 行重复") % {"row": seen[key]})
            continue
        seen[key] = n
        good.append({"n": n, "name": text["name"], "phone": phone, "unit": unit, "started_on": started_on,
                     "grade": grade, **values})
    users = {u.phone: u for u in User.objects.filter(phone__in=[g["phone"] for g in good]).order_by("-id")}
    on_roster = set(CommunityWorker.objects.filter(user__in=users.values()).values_list("user__phone", "unit_id"))
    for g in good:
        if (g["phone"], g["unit"].pk) in on_roster:
            bad(g["n"], "phone", _("此人已在该社区的花名册上"))
    if errors:
        refuse_rows(errors, _("导入被拒绝，未登记任何社区工作者：第 %(rows)s 行有错误（共 %(n)s 行），请改正后重新导入。"))
    unusable = make_password(None)
    created = 0
    for g in good:
        user = users.get(g["phone"])
        if user is None:
            user = User.objects.create(username=f"cw-{uuid.uuid4().hex[:16]}", password=unusable,
                                       display_name=g["name"], phone=g["phone"])
            audit_log(user, "people.user.created", actor=actor, new={
                "username": user.username, "display_name": user.display_name, "phone": mask_phone(user.phone),
                "is_staff": False, "is_superuser": False})
            users[g["phone"]] = user
        worker_register(user=user, unit=g["unit"], post=g["post"], started_on=g["started_on"],
                        education=g["education"], qualification=g["qualification"], entry_grade=g["grade"],
                        actor=actor)
        created += 1
    audit_log(scale, "services.worker.imported", actor=actor, data={"count": created, "file": filename})
    return {"created": created, "file": filename}
