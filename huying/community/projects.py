"""Co-governance projects (共治项目): lift retrofits (加装电梯), elderly canteens (长者饭堂) and old-estate
micro-renovation (微改造).

- The lift decision follows Civil Code art. 278: owners holding at least two-thirds of the exclusive
  area AND at least two-thirds of the owners take part; of those taking part, owners holding at least
  three-quarters of their area AND three-quarters of them agree. `lift_vote_tally` is that rule, pure.
- Cost is shared by floor with coefficients kept as data (data/lift_cost_coefficients.json), weighted
  by area; shares are rounded to the fen and always add up to the total.
- A canteen meal's subsidy comes from data rules (data/canteen_subsidy_rules.json) by household type
  and age band, capped at the meal's price.

Managers are the community workers (RoleCode.COMMUNITY_WORKER) of the project's community committee.
Each service locks, checks, changes and writes its audit row in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import Unit, UnitKind
from huying.people.services import validate_phone

from . import selectors_projects as sel
from .models import (
    Canteen,
    CanteenEnrolment,
    CanteenMeal,
    CanteenRating,
    HouseholdType,
    LiftOwner,
    LiftProject,
    LiftState,
    OwnerVote,
    Renovation,
    RenovationContribution,
    RenovationStage,
)

DATA = Path(__file__).resolve().parent / "data"
LIFT_COEFFICIENTS_PATH = DATA / "lift_cost_coefficients.json"
SUBSIDY_RULES_PATH = DATA / "canteen_subsidy_rules.json"

TWO_THIRDS = Fraction(2, 3)
THREE_QUARTERS = Fraction(3, 4)
FEN = Decimal("0.01")


# -- Civil Code art. 278 (pure) -------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    """The four figures of art. 278 and whether each threshold is met."""

    owners: int
    area: Decimal
    participants: int
    participant_area: Decimal
    agree: int
    agree_area: Decimal
    participation_by_area: Fraction   # participants' area / all owners' area, needs ≥ 2/3
    participation_by_number: Fraction  # participants / owners, needs ≥ 2/3
    consent_by_area: Fraction          # agreeing area / participants' area, needs ≥ 3/4
    consent_by_number: Fraction        # agreeing / participants, needs ≥ 3/4

    @property
    def participation_area_met(self) -> bool:
        return self.participation_by_area >= TWO_THIRDS

    @property
    def participation_number_met(self) -> bool:
        return self.participation_by_number >= TWO_THIRDS

    @property
    def consent_area_met(self) -> bool:
        return self.consent_by_area >= THREE_QUARTERS

    @property
    def consent_number_met(self) -> bool:
        return self.consent_by_number >= THREE_QUARTERS

    @property
    def participation_met(self) -> bool:
        return self.participation_area_met and self.participation_number_met

    @property
    def consent_met(self) -> bool:
        return self.consent_area_met and self.consent_number_met

    @property
    def passed(self) -> bool:
        return self.participation_met and self.consent_met

    def figures(self) -> list[tuple[str, Fraction, Fraction, bool]]:
        """(label, figure, threshold, met) for the four figures, in the order the law states them."""
        return [
            (_("参与表决的专有面积占比"), self.participation_by_area, TWO_THIRDS, self.participation_area_met),
            (_("参与表决的业主人数占比"), self.participation_by_number, TWO_THIRDS, self.participation_number_met),
            (_("同意的专有面积占参与表决面积"), self.consent_by_area, THREE_QUARTERS, self.consent_area_met),
            (_("同意的人数占参与表决人数"), self.consent_by_number, THREE_QUARTERS, self.consent_number_met),
        ]


def _ratio(part, whole) -> Fraction:
    whole = Fraction(str(whole))
    return Fraction(str(part)) / whole if whole else Fraction(0)


def lift_vote_tally(votes: list[tuple[Decimal | float | str, str]]) -> Tally:
    """Art. 278 on [(exclusive area, vote)]: abstaining owners take part but do not agree."""
    owners = len(votes)
    area = sum((Decimal(str(a)) for a, _v in votes), Decimal(0))
    part = [(Decimal(str(a)), v) for a, v in votes if v != OwnerVote.NONE]
    agree = [(a, v) for a, v in part if v == OwnerVote.AGREE]
    part_area = sum((a for a, _v in part), Decimal(0))
    agree_area = sum((a for a, _v in agree), Decimal(0))
    return Tally(
        owners=owners, area=area, participants=len(part), participant_area=part_area, agree=len(agree),
        agree_area=agree_area,
        participation_by_area=_ratio(part_area, area), participation_by_number=_ratio(len(part), owners),
        consent_by_area=_ratio(agree_area, part_area), consent_by_number=_ratio(len(agree), len(part)))


# -- cost sharing (pure, coefficients as data) -----------------------------------------------------

def lift_coefficients(path: Path | None = None) -> dict:
    """The floor coefficients as shipped (or from `path`): {"coefficients": {floor: c}, "above": c, ...}."""
    with open(path or LIFT_COEFFICIENTS_PATH, encoding="utf-8") as f:
        return json.load(f)


def floor_coefficient(floor: int, table: dict) -> Decimal:
    value = table["coefficients"].get(str(floor))
    if value is None:
        value = table.get("above", 0) if floor > 1 else 0
    return Decimal(str(value))


def lift_cost_shares(total: Decimal, owners: list[tuple[int, Decimal]], table: dict) -> list[Decimal]:
    """Each owner's share of `total` for [(floor, area)]: coefficient × area (or × 1), rounded to the fen
    with the remaining fen going to the largest remainders, so the shares add up to the total exactly."""
    total = Decimal(str(total)).quantize(FEN)
    by_area = table.get("weight_by_area", True)
    weights = [floor_coefficient(f, table) * (Decimal(str(a)) if by_area else 1) for f, a in owners]
    weight_sum = sum(weights, Decimal(0))
    if not owners or total == 0:
        return [Decimal("0.00")] * len(owners)
    if weight_sum == 0:
        raise DomainError("community.projects.no_weights", _("按楼层系数，没有需要分摊费用的业主。"))
    exact = [total * w / weight_sum for w in weights]
    shares = [x.quantize(FEN, rounding=ROUND_DOWN) for x in exact]
    left = int((total - sum(shares, Decimal(0))) / FEN)
    order = sorted(range(len(owners)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += FEN
    return shares


# -- canteen subsidy (pure, rules as data) ---------------------------------------------------------

def subsidy_rules(path: Path | None = None) -> dict:
    with open(path or SUBSIDY_RULES_PATH, encoding="utf-8") as f:
        return json.load(f)


def meal_subsidy(*, age: int, household_type: str, price: Decimal, rules: dict) -> Decimal:
    """Yuan per meal: the first rule whose household type and age band fit, capped at the price."""
    for rule in rules["rules"]:
        if rule["household_type"] not in ("*", household_type):
            continue
        if age < rule.get("min_age", 0) or age > rule.get("max_age", 200):
            continue
        return min(Decimal(str(rule["yuan_per_meal"])), Decimal(str(price))).quantize(FEN)
    return Decimal("0.00")


# -- lift services ---------------------------------------------------------------------------------

# 方案设计 → 审批 → 施工 → 竣工验收; each step only forward, and works need the owners' decision.
LIFT_NEXT = {LiftState.DESIGN: LiftState.APPROVAL, LiftState.APPROVAL: LiftState.WORKS,
             LiftState.WORKS: LiftState.ACCEPTANCE}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _require_manager(actor, community) -> None:
    if not sel.is_manager(actor, community):
        raise DomainError("community.projects.forbidden", _("只有本社区居委会的社区工作者可以管理该项目。"),
                          status=403)


@transaction.atomic
def lift_project_create(building, *, title: str, total_cost, actor, owners: list[dict] = (),
                        now: datetime | None = None) -> LiftProject:
    """A manager opens a lift project for a building, with its owners [{flat, floor, area_m2, name, phone, user}]."""
    community = building.grid.community
    _require_manager(actor, community)
    title = clean_text(title, field="title", max_length=120)
    if not title:
        raise DomainError("community.projects.title_required", _("请填写项目名称。"), field="title")
    project = LiftProject.objects.create(building=building, community=community, title=title,
                                         total_cost=Decimal(str(total_cost)), created_at=_now(now), created_by=actor)
    for o in owners:
        lift_owner_add(project, actor=actor, **o)
    audit_log(project, "community.lift.created", actor=actor,
              new={"building": building.code, "owners": len(owners), "total_cost": str(project.total_cost)})
    return project


@transaction.atomic
def lift_owner_add(project: LiftProject, *, flat: str, floor: int, area_m2, name: str, phone: str = "",
                   user=None, actor) -> LiftOwner:
    _require_manager(actor, project.community)
    flat = clean_text(flat, field="flat", max_length=30)
    name = clean_text(name, field="name", max_length=60)
    phone = validate_phone(clean_text(phone, field="phone", max_length=20)) if phone else ""
    if not flat or not name:
        raise DomainError("community.projects.owner_required", _("请填写房号和业主姓名。"), field="flat")
    area = Decimal(str(area_m2))
    if area <= 0 or int(floor) < 1:
        raise DomainError("community.projects.bad_owner", _("楼层须不小于 1，面积须大于 0。"), field="area_m2")
    owner = LiftOwner.objects.create(project=project, flat=flat, floor=int(floor), area_m2=area, name=name,
                                     phone=phone, user=user)
    audit_log(owner, "community.lift.owner_added", actor=actor, new={"flat": flat, "floor": int(floor)})
    return owner


@transaction.atomic
def lift_vote(owner: LiftOwner, *, vote: str, actor, now: datetime | None = None) -> LiftOwner:
    """An owner records their own vote; voting is open while the project is at design or approval."""
    owner = LiftOwner.objects.select_for_update().select_related("project").get(pk=owner.pk)
    if actor is None or owner.user_id != getattr(actor, "pk", None):
        raise DomainError("community.projects.not_owner", _("您不是该房屋登记的业主，不能表决。"), status=403)
    if vote not in (OwnerVote.AGREE, OwnerVote.DISAGREE, OwnerVote.ABSTAIN):
        raise DomainError("community.projects.bad_vote", _("请选择同意、反对或弃权。"), field="vote")
    if owner.project.state not in (LiftState.DESIGN, LiftState.APPROVAL):
        raise DomainError("community.projects.vote_closed", _("项目已进入施工，表决已结束。"), status=409)
    old = owner.vote
    owner.vote, owner.voted_at = vote, _now(now)
    owner.save(update_fields=["vote", "voted_at"])
    audit_log(owner, "community.lift.voted", actor=actor, old={"vote": old}, new={"vote": vote})
    return owner


def project_tally(project: LiftProject) -> Tally:
    return lift_vote_tally(list(project.owners.values_list("area_m2", "vote")))


def project_shares(project: LiftProject, table: dict | None = None) -> list[tuple[LiftOwner, Decimal]]:
    owners = list(project.owners.order_by("floor", "flat"))
    shares = lift_cost_shares(project.total_cost, [(o.floor, o.area_m2) for o in owners],
                              table or lift_coefficients())
    return list(zip(owners, shares, strict=True))


@transaction.atomic
def lift_advance(project: LiftProject, *, actor) -> LiftProject:
    """Move the project one stage on; works start only once art. 278 is met."""
    project = LiftProject.objects.select_for_update().get(pk=project.pk)
    _require_manager(actor, project.community)
    target = LIFT_NEXT.get(project.state)
    if target is None:
        raise DomainError("community.projects.finished", _("项目已竣工验收。"), status=409)
    if target == LiftState.WORKS and not project_tally(project).passed:
        raise DomainError("community.projects.not_passed",
                          _("业主表决未达到《民法典》第二百七十八条规定的比例，不能开工。"), status=409)
    old = project.state
    project.state = target
    project.save(update_fields=["state"])
    audit_log(project, "community.lift.advanced", actor=actor, old={"state": old}, new={"state": target})
    return project


# -- canteens --------------------------------------------------------------------------------------

@transaction.atomic
def canteen_create(community, *, name: str, actor, address: str = "", operator: Unit | None = None,
                   meal_price=15, now: datetime | None = None) -> Canteen:
    _require_manager(actor, community)
    name = clean_text(name, field="name", max_length=120)
    if not name:
        raise DomainError("community.projects.name_required", _("请填写名称。"), field="name")
    canteen = Canteen.objects.create(community=community, name=name, operator=operator,
                                     address=clean_text(address, field="address", max_length=200),
                                     meal_price=Decimal(str(meal_price)), created_at=_now(now))
    audit_log(canteen, "community.canteen.created", actor=actor, new={"name": name})
    return canteen


@transaction.atomic
def canteen_enrol(canteen: Canteen, *, name: str, age: int, actor, phone: str = "",
                  household_type: str = HouseholdType.ORDINARY, user=None, on: date | None = None) -> CanteenEnrolment:
    _require_manager(actor, canteen.community)
    name = clean_text(name, field="name", max_length=60)
    if not name:
        raise DomainError("community.projects.name_required", _("请填写姓名。"), field="name")
    if household_type not in HouseholdType.values:
        raise DomainError("community.projects.bad_household", _("请选择家庭类别。"), field="household_type")
    if not (0 < int(age) < 130):
        raise DomainError("community.projects.bad_age", _("请填写正确的年龄。"), field="age")
    phone = validate_phone(clean_text(phone, field="phone", max_length=20)) if phone else ""
    e = CanteenEnrolment.objects.create(canteen=canteen, name=name, phone=phone, age=int(age),
                                        household_type=household_type, user=user,
                                        enrolled_on=on or timezone.localdate())
    # The audit log is read more widely than the roll: no name or phone in it.
    audit_log(e, "community.canteen.enrolled", actor=actor, new={"age": e.age, "household_type": household_type})
    return e


@transaction.atomic
def canteen_serve(enrolment: CanteenEnrolment, *, actor, on: date | None = None,
                  rules: dict | None = None) -> CanteenMeal:
    """Record one meal served; its subsidy is fixed from the rules in force that day."""
    canteen = enrolment.canteen
    _require_manager(actor, canteen.community)
    subsidy = meal_subsidy(age=enrolment.age, household_type=enrolment.household_type, price=canteen.meal_price,
                           rules=rules or subsidy_rules())
    meal = CanteenMeal.objects.create(canteen=canteen, enrolment=enrolment, served_on=on or timezone.localdate(),
                                      price=canteen.meal_price, subsidy=subsidy)
    audit_log(meal, "community.canteen.served", actor=actor, new={"subsidy": str(subsidy)})
    return meal


@transaction.atomic
def canteen_rate(enrolment: CanteenEnrolment, *, stars: int, actor, comment: str = "",
                 now: datetime | None = None) -> CanteenRating:
    """A diner rates the canteen they are enrolled at."""
    if actor is None or enrolment.user_id != getattr(actor, "pk", None):
        raise DomainError("community.projects.not_diner", _("只有登记就餐的长者可以评价。"), status=403)
    if not (1 <= int(stars) <= 5):
        raise DomainError("community.projects.bad_stars", _("评分须为 1–5 星。"), field="stars")
    rating = CanteenRating.objects.create(canteen=enrolment.canteen, enrolment=enrolment, stars=int(stars),
                                          comment=clean_text(comment, field="comment", max_length=200),
                                          created_at=_now(now))
    audit_log(rating, "community.canteen.rated", actor=actor, new={"stars": rating.stars})
    return rating


# -- micro-renovation ------------------------------------------------------------------------------

@transaction.atomic
def renovation_create(community, *, title: str, actor, now: datetime | None = None) -> Renovation:
    _require_manager(actor, community)
    title = clean_text(title, field="title", max_length=120)
    if not title:
        raise DomainError("community.projects.title_required", _("请填写项目名称。"), field="title")
    r = Renovation.objects.create(community=community, title=title, created_at=_now(now))
    audit_log(r, "community.renovation.created", actor=actor, new={"title": title})
    return r


@transaction.atomic
def renovation_progress(renovation: Renovation, *, stage: str, progress: int, actor) -> Renovation:
    renovation = Renovation.objects.select_for_update().get(pk=renovation.pk)
    _require_manager(actor, renovation.community)
    if stage not in RenovationStage.values:
        raise DomainError("community.projects.bad_stage", _("请选择阶段。"), field="stage")
    if RenovationStage.values.index(stage) < RenovationStage.values.index(renovation.stage):
        raise DomainError("community.projects.stage_back", _("阶段只能向前推进。"), field="stage", status=409)
    if not (0 <= int(progress) <= 100):
        raise DomainError("community.projects.bad_progress", _("进度须为 0–100。"), field="progress")
    old = {"stage": renovation.stage, "progress": renovation.progress}
    renovation.stage, renovation.progress = stage, int(progress)
    renovation.save(update_fields=["stage", "progress"])
    audit_log(renovation, "community.renovation.progressed", actor=actor, old=old,
              new={"stage": stage, "progress": renovation.progress})
    return renovation


@transaction.atomic
def renovation_contribute(renovation: Renovation, *, unit: Unit, what: str, actor,
                          amount=0) -> RenovationContribution:
    """List an enterprise or agency (共建单位) and what it contributed."""
    _require_manager(actor, renovation.community)
    if unit.kind not in (UnitKind.ENTERPRISE, UnitKind.AGENCY):
        raise DomainError("community.projects.not_contributor", _("共建单位须为企事业单位或社会服务机构。"),
                          field="unit")
    what = clean_text(what, field="what", max_length=200)
    if not what:
        raise DomainError("community.projects.what_required", _("请填写贡献内容。"), field="what")
    c = RenovationContribution.objects.create(renovation=renovation, unit=unit, what=what,
                                              amount=Decimal(str(amount)))
    audit_log(c, "community.renovation.contributed", actor=actor, new={"unit": unit.code, "amount": str(c.amount)})
    return c


# -- set-up from the managers' pages (views_projects_setup) ------------------------------------------
# Page input arrives as text: these parse and bound it (so a bad figure is a clear 400, never a 500 from
# the database), refuse what the columns cannot hold, and then call the services above.

MAX_FLOOR = 200


def owner_label(key: str | None) -> str:
    """The column an owner's field is known by (in the import template and the bad-row list)."""
    return {"flat": _("单元/房号"), "floor": _("楼层"), "area_m2": _("面积(平方米)"), "name": _("业主姓名"),
            "phone": _("联系电话")}.get(key or "", key or "")


def _decimal(value, *, field: str, message: str, max_value: Decimal, allow_zero: bool = True) -> Decimal:
    """A non-negative amount with at most two decimals, at most `max_value` (the column's width)."""
    from decimal import InvalidOperation

    text = clean_text("" if value is None else str(value), field=field, max_length=30).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise DomainError("community.projects.bad_number", message, field=field) from None
    if (not number.is_finite() or number < 0 or (number == 0 and not allow_zero) or number > max_value
            or number != number.quantize(FEN)):
        raise DomainError("community.projects.bad_number", message, field=field)
    return number.quantize(FEN)


def _whole(value, *, field: str, message: str, low: int, high: int) -> int:
    text = clean_text("" if value is None else str(value), field=field, max_length=12)
    if text.endswith(".0"):
        text = text[:-2]  # Excel writes a whole floor as 3.0
    if not text.isdigit() or not (low <= int(text) <= high):
        raise DomainError("community.projects.bad_number", message, field=field)
    return int(text)


def _partner(unit: Unit | None, *, field: str) -> Unit | None:
    if unit is not None and (not unit.active or unit.kind not in sel.PARTNER_KINDS):
        raise DomainError("community.projects.not_contributor", _("共建单位须为企事业单位或社会服务机构。"),
                          field=field)
    return unit


@transaction.atomic
def lift_project_setup(building, *, title: str, total_cost, actor, now: datetime | None = None) -> LiftProject:
    """A manager opens a lift project from the set-up page: the building must lie in a community they manage."""
    if not sel.is_manager(actor, building.grid.community):
        raise DomainError("community.projects.no_building", _("找不到该楼栋。"), field="building", status=404)
    cost = _decimal(total_cost, field="total_cost", max_value=Decimal("9999999999.99"),
                    message=_("总造价须为不小于 0 的金额（元，最多两位小数）。"))
    return lift_project_create(building, title=title, total_cost=cost, actor=actor, now=now)


def _owner_values(*, flat, floor, area_m2, name, phone) -> dict:
    """An owner's fields parsed and bounded, or the DomainError naming the first wrong one."""
    flat = clean_text(flat, field="flat", max_length=30, label=owner_label("flat"))
    name = clean_text(name, field="name", max_length=60, label=owner_label("name"))
    if not flat:
        raise DomainError("community.projects.owner_required", _("请填写房号。"), field="flat")
    if not name:
        raise DomainError("community.projects.owner_required", _("请填写业主姓名。"), field="name")
    floor = _whole(floor, field="floor", low=1, high=MAX_FLOOR,
                   message=_("楼层须为 1–%(n)s 的整数。") % {"n": MAX_FLOOR})
    area = _decimal(area_m2, field="area_m2", max_value=Decimal("99999.99"), allow_zero=False,
                    message=_("面积须为大于 0 的平方米数（最多两位小数）。"))
    phone = validate_phone(clean_text(phone, field="phone", max_length=20, label=owner_label("phone")))
    return {"flat": flat, "floor": floor, "area_m2": area, "name": name, "phone": phone}


def _owner_account(community, phone: str):
    """The one active resident account of `community` with this phone (so the owner can vote), else None."""
    from huying.people.models import RoleCode, User

    if not phone:
        return None
    users = list(User.objects.filter(phone=phone, is_active=True, memberships__active=True,
                                     memberships__role__code=RoleCode.RESIDENT,
                                     memberships__unit__division=community).distinct()[:2])
    return users[0] if len(users) == 1 else None


def _open_for_owners(project: LiftProject) -> None:
    if project.state not in (LiftState.DESIGN, LiftState.APPROVAL):
        raise DomainError("community.projects.owners_closed", _("项目已进入施工，不能再登记业主。"), status=409)


@transaction.atomic
def lift_owner_register(project: LiftProject, *, flat, floor, area_m2, name, phone="", actor) -> LiftOwner:
    """Add one owner typed on the page; a flat already registered is refused. An owner whose phone is that of
    exactly one resident account of the community is linked to it, so they can vote on their phone."""
    project = LiftProject.objects.select_for_update().get(pk=project.pk)
    _require_manager(actor, project.community)
    _open_for_owners(project)
    values = _owner_values(flat=flat, floor=floor, area_m2=area_m2, name=name, phone=phone)
    if project.owners.filter(flat=values["flat"]).exists():
        raise DomainError("community.projects.flat_taken", _("房号 %(flat)s 已登记。") % {"flat": values["flat"]},
                          field="flat", status=409)
    return lift_owner_add(project, actor=actor, user=_owner_account(project.community, values["phone"]), **values)


@transaction.atomic
def lift_owners_import(project: LiftProject, source, *, actor, filename: str = "") -> dict:
    """Register every owner listed in an .xlsx/.csv file, or none: each bad row is named (header = row 1)."""
    from . import projects_import as imp

    project = LiftProject.objects.select_for_update().get(pk=project.pk)
    _require_manager(actor, project.community)
    _open_for_owners(project)
    filename = imp.filename_of(source, filename)
    rows, errors = imp.owner_rows(source, filename)
    taken = set(project.owners.values_list("flat", flat=True))
    seen: dict[str, int] = {}
    good = []
    for number, text in rows:
        try:
            values = _owner_values(**text)
        except DomainError as exc:
            errors.append({"row": number, "field": owner_label(exc.field),
                           "message": exc.message})
            continue
        flat = values["flat"]
        if flat in taken:
            errors.append({"row": number, "field": owner_label("flat"),
                           "message": _("房号 %(flat)s 已登记。") % {"flat": flat}})
        elif flat in seen:
            errors.append({"row": number, "field": owner_label("flat"),
                           "message": _("与第 %(row)s 行的房号重复") % {"row": seen[flat]}})
        else:
            seen[flat] = number
            good.append(values)
    if errors:
        imp.refuse_rows(errors, _("导入被拒绝，未登记任何业主：第 %(rows)s 行有错误（共 %(n)s 行），请改正后重新导入。"))
    for values in good:
        lift_owner_add(project, actor=actor, user=_owner_account(project.community, values["phone"]), **values)
    audit_log(project, "community.lift.owners_imported", actor=actor, data={"count": len(good), "file": filename})
    return {"created": len(good), "file": filename}


def _meal_price(value) -> Decimal:
    return _decimal(value, field="meal_price", max_value=Decimal("9999.99"),
                    message=_("每餐价格须为不小于 0 的金额（元，最多两位小数）。"))


@transaction.atomic
def canteen_open(community, *, name: str, actor, address: str = "", operator: Unit | None = None,
                 meal_price=15, now: datetime | None = None) -> Canteen:
    """Open a canteen from the set-up page: the price parsed and bounded, the operator an enterprise or agency."""
    _require_manager(actor, community)
    return canteen_create(community, name=name, actor=actor, address=address,
                          operator=_partner(operator, field="operator"), meal_price=_meal_price(meal_price), now=now)


@transaction.atomic
def canteen_update(canteen: Canteen, *, name: str, address: str = "", operator: Unit | None = None, meal_price,
                   actor) -> Canteen:
    """Edit a canteen's name, address, operator and price; meals already served keep the price they had."""
    canteen = Canteen.objects.select_for_update().get(pk=canteen.pk)
    _require_manager(actor, canteen.community)
    name = clean_text(name, field="name", max_length=120)
    if not name:
        raise DomainError("community.projects.name_required", _("请填写名称。"), field="name")
    address = clean_text(address, field="address", max_length=200)
    operator = _partner(operator, field="operator")
    price = _meal_price(meal_price)
    old = {"name": canteen.name, "address": canteen.address, "operator": canteen.operator_id,
           "meal_price": str(canteen.meal_price)}
    canteen.name, canteen.address, canteen.operator, canteen.meal_price = name, address, operator, price
    canteen.save(update_fields=["name", "address", "operator", "meal_price"])
    audit_log(canteen, "community.canteen.updated", actor=actor, old=old, new={
        "name": name, "address": address, "operator": canteen.operator_id, "meal_price": str(price)})
    return canteen


@transaction.atomic
def canteen_serve_day(canteen: Canteen, *, enrolments: list[CanteenEnrolment], on: date, actor) -> dict:
    """Record the day's meals for the diners ticked; a diner already recorded that day is not counted twice."""
    canteen = Canteen.objects.select_for_update().get(pk=canteen.pk)
    _require_manager(actor, canteen.community)
    if on > timezone.localdate():
        raise DomainError("community.projects.future_meal", _("就餐日期不能晚于今天。"), field="served_on")
    if not enrolments:
        raise DomainError("community.projects.no_diners", _("请勾选就餐的长者。"), field="diners")
    if any(e.canteen_id != canteen.pk for e in enrolments):
        raise DomainError("community.projects.not_diner", _("找不到该就餐人。"), field="diners", status=404)
    done = set(CanteenMeal.objects.filter(canteen=canteen, served_on=on).values_list("enrolment_id", flat=True))
    served = [canteen_serve(e, actor=actor, on=on) for e in enrolments if e.pk not in done]
    return {"served": len(served), "skipped": len(enrolments) - len(served)}


@transaction.atomic
def renovation_contribution_add(renovation: Renovation, *, unit: Unit | None, what: str, amount, actor
                                ) -> RenovationContribution:
    """List a partner unit's contribution from the set-up page: the amount parsed and bounded."""
    _require_manager(actor, renovation.community)
    if unit is None:
        raise DomainError("community.projects.unit_required", _("请选择共建单位。"), field="unit")
    value = _decimal(amount or "0", field="amount", max_value=Decimal("9999999999.99"),
                     message=_("折合金额须为不小于 0 的金额（元，最多两位小数）。"))
    return renovation_contribute(renovation, unit=unit, what=what, amount=value, actor=actor)
