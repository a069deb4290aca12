"""The projects' part of the demo (`projects_demo_seed`) and the Guangzhou-scale simulation
(`simulate_projects`: the seed's 1,036 elderly canteens, 9,183 lifts added to old buildings and 499
enterprises and agencies taking part in old-estate micro-renovation).

The demo goes through the services (audit rows) around the demo logins `communityworker` (the
manager) and `resident` (an owner who can vote); the simulation writes in bulk with one audit row.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.people.models import Membership, RoleCode, Unit, UnitKind, User
from huying.territory.models import Building, Grid, Level

from . import projects as svc
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
from .simulate import Steps, bulk, check_scale, sim_communities

Progress = Callable[[str, int, int], None]
SIM_PREFIX = "pj-sim-"  # code prefix of the simulated enterprises and agencies


@dataclass(frozen=True)
class Scale:
    canteens: int
    lifts: int
    contributors: int
    renovations: int
    one_district: bool = False


SCALES = {
    # the seed: 1,036 长者饭堂, 9,183 lifts added, 499 enterprises and agencies; the number of micro-renovation
    # projects is not in the seed: 779 old estates is Guangzhou's 2018–2020 micro-renovation plan (assumption)
    "guangzhou": Scale(canteens=1036, lifts=9183, contributors=499, renovations=779),
    "small": Scale(canteens=20, lifts=120, contributors=12, renovations=15, one_district=True),
}

SURNAMES = "陈李黄张梁林何吴刘郑周罗谢冯叶邓"
GIVEN = ("伯", "姨", "叔", "婆", "公", "华", "芳", "强", "明", "英")


def _name(rnd) -> str:
    return rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN)


def _phone(rnd) -> str:
    return f"13{rnd.randrange(0, 10)}{rnd.randrange(10_000_000, 100_000_000)}"


# -- demo ------------------------------------------------------------------------------------------

@transaction.atomic
def projects_demo_seed(now=None) -> dict:
    """A lift project with owners and votes, a canteen with diners and meals, a micro-renovation with two
    contributors, in the demo community (the `communityworker` login's committee). Idempotent."""
    now = now or timezone.now()
    m = (Membership.objects.filter(user__username="communityworker", role__code=RoleCode.COMMUNITY_WORKER,
                                   active=True, unit__division__level=Level.COMMUNITY)
         .select_related("user", "unit__division").first())
    if m is None:
        return {"lifts": 0, "canteens": 0, "renovations": 0}
    worker, committee, community = m.user, m.unit, m.unit.division
    resident = User.objects.filter(username="resident").first()
    rnd = random.Random(15)
    out = {"lifts": 0, "canteens": 0, "renovations": 0}
    short = community.short_name or community.name
    building = Building.objects.filter(grid__community=community).order_by("code").first()
    if building is None:
        grid = Grid.objects.filter(community=community).order_by("code").first()
        if grid is not None:
            building = Building.objects.create(code=f"{grid.code}-pj1", grid=grid, address=_("%(c)s演示楼栋1号") % {
                "c": short}, lng=grid.lng, lat=grid.lat, households=12, generated=True)
    if building is not None and not LiftProject.objects.filter(building=building).exists():
        owners = []
        for floor in range(1, 8):
            for unit_no in (1, 2):
                owners.append({"flat": f"{floor}0{unit_no}", "floor": floor,
                               "area_m2": Decimal(rnd.choice((62, 68, 75, 83, 96))), "name": _name(rnd),
                               "phone": _phone(rnd), "user": None})
        owners[-3]["user"] = resident  # 吴芳 owns 602 and has not voted yet
        project = svc.lift_project_create(building, title=_("%(a)s加装电梯") % {"a": building.address},
                                          total_cost=Decimal("680000"), actor=worker, owners=owners, now=now)
        svc.lift_advance(project, actor=worker)  # design → approval: the vote is open
        votes = [OwnerVote.DISAGREE, OwnerVote.NONE, OwnerVote.AGREE, OwnerVote.AGREE, OwnerVote.AGREE,
                 OwnerVote.ABSTAIN] + [OwnerVote.AGREE] * 5
        for o, v in zip(project.owners.filter(user__isnull=True).order_by("floor", "flat"), votes, strict=False):
            if v != OwnerVote.NONE:
                LiftOwner.objects.filter(pk=o.pk).update(vote=v, voted_at=now)
        out["lifts"] = 1
    if not Canteen.objects.filter(community=community).exists():
        canteen = svc.canteen_create(community, name=_("%(c)s长者饭堂") % {"c": short}, address=short,
                                     actor=worker, meal_price=15, now=now)
        kinds = [HouseholdType.ORDINARY] * 6 + [HouseholdType.LOW_INCOME] * 2 + [HouseholdType.DESTITUTE]
        diners = [svc.canteen_enrol(canteen, name=_name(rnd), phone=_phone(rnd), age=rnd.randrange(60, 95),
                                    household_type=kind, actor=worker, on=timezone.localdate(now) - timedelta(days=30))
                  for kind in kinds]
        for back in range(1, 4):
            for d in diners:
                if rnd.random() < 0.8:
                    svc.canteen_serve(d, actor=worker, on=timezone.localdate(now) - timedelta(days=back))
        for d in diners[:4]:
            CanteenRating.objects.create(canteen=canteen, enrolment=d, stars=rnd.choice((4, 5, 5)),
                                         comment=rnd.choice(("饭菜软烂，合口味", "价格实惠", "")), created_at=now)
        out["canteens"] = 1
    if not Renovation.objects.filter(community=community).exists():
        r = svc.renovation_create(community, title=_("%(c)s老旧小区微改造") % {"c": short}, actor=worker, now=now)
        ent, _c = Unit.objects.get_or_create(code=f"ent-{community.code}-1", defaults={
            "name": _("%(c)s共建物业服务企业") % {"c": short}, "kind": UnitKind.ENTERPRISE, "division": community})
        agc, _c = Unit.objects.get_or_create(code=f"agc-{community.code}-1", defaults={
            "name": _("%(c)s社会工作服务站") % {"c": short}, "kind": UnitKind.AGENCY, "division": community})
        svc.renovation_contribute(r, unit=ent, what=_("捐建三线整治和楼道照明"), amount=120000, actor=worker)
        svc.renovation_contribute(r, unit=agc, what=_("组织居民议事、收集改造需求"), actor=worker)
        svc.renovation_progress(r, stage=RenovationStage.CONSTRUCTION, progress=45, actor=worker)
        out["renovations"] = 1
    if committee is not None and any(out.values()):
        audit_log(committee, "community.projects.demo_seeded", actor=None, data=out)
    return out


# -- simulation ------------------------------------------------------------------------------------


def simulate_projects(*, scale: str = "small", seed: int = 2024, progress: Progress | None = None) -> dict:
    """Canteens with diners and a day of meals, lift projects with owners and votes, micro-renovations with
    their enterprise and agency contributors, spread over the communities. A second run adds nothing."""
    check_scale(scale, SCALES)
    sc = SCALES[scale]
    out = {"canteens": 0, "lifts": 0, "renovations": 0, "contributors": 0}
    if Unit.objects.filter(code__startswith=SIM_PREFIX).exists():
        return out
    communities = sim_communities(one_district=bool(sc.one_district))
    rnd = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate(now)
    rules = svc.subsidy_rules()
    step = Steps(progress, 3)

    with transaction.atomic():
        canteens = bulk(Canteen, [Canteen(
            community=c, name=_("%(c)s长者饭堂") % {"c": c.short_name or c.name}, address=c.short_name or c.name,
            meal_price=Decimal(rnd.choice((12, 15, 18))), created_at=now - timedelta(days=rnd.randrange(100, 2000)))
            for c in (communities[i % len(communities)] for i in range(sc.canteens))], returning=True)
        diners = []
        for cn in canteens:
            for _i in range(rnd.randrange(15, 40)):
                diners.append(CanteenEnrolment(
                    canteen=cn, name=_name(rnd), phone=_phone(rnd), age=rnd.randrange(60, 98),
                    household_type=rnd.choices(HouseholdType.values, weights=(85, 12, 3))[0],
                    enrolled_on=today - timedelta(days=rnd.randrange(1, 700))))
        diners = bulk(CanteenEnrolment, diners, returning=True)
        by_id = {cn.pk: cn for cn in canteens}
        meals, ratings = [], []
        for d in diners:
            cn = by_id[d.canteen_id]
            if rnd.random() < 0.7:
                meals.append(CanteenMeal(canteen=cn, enrolment=d, served_on=today - timedelta(days=1),
                                         price=cn.meal_price, subsidy=svc.meal_subsidy(
                                             age=d.age, household_type=d.household_type, price=cn.meal_price,
                                             rules=rules)))
            if rnd.random() < 0.1:
                ratings.append(CanteenRating(canteen=cn, enrolment=d, stars=rnd.choice((3, 4, 4, 5, 5, 5)),
                                             created_at=now - timedelta(days=rnd.randrange(1, 60))))
        bulk(CanteenMeal, meals)
        bulk(CanteenRating, ratings)
        out["canteens"] = len(canteens)
        step(_("长者饭堂"))

        codes = [c.code for c in communities]
        buildings = list(Building.objects.filter(grid__community__code__in=codes).values_list("pk", "grid__community_id"))
        if not buildings:
            # a lift needs a building: one generated building per grid where the territory has none yet
            grids = list(Grid.objects.filter(community__code__in=codes, layer="unified").order_by("code"))
            bulk(Building, [Building(code=f"{g.code}-pj", grid=g, address=_("%(g)s模拟楼栋") % {"g": g.name},
                                      lng=g.lng, lat=g.lat, households=24, generated=True) for g in grids])
            buildings = list(Building.objects.filter(grid__community__code__in=codes)
                             .values_list("pk", "grid__community_id"))
        if buildings:
            lifts = bulk(LiftProject, [LiftProject(
                building_id=b, community_id=c, title=_("第%(n)s号加装电梯项目") % {"n": i + 1},
                state=rnd.choices(LiftState.values, weights=(10, 15, 15, 60))[0],
                total_cost=Decimal(rnd.randrange(450, 900) * 1000), created_at=now - timedelta(days=rnd.randrange(30, 2500)))
                for i, (b, c) in enumerate(buildings[i % len(buildings)] for i in range(sc.lifts))], returning=True)
            owners = []
            for lp in lifts:
                done_vote = lp.state != LiftState.DESIGN
                for floor in range(1, rnd.randrange(6, 10)):
                    for unit_no in (1, 2):
                        vote = (rnd.choices((OwnerVote.AGREE, OwnerVote.DISAGREE, OwnerVote.ABSTAIN, OwnerVote.NONE),
                                            weights=(80, 6, 4, 10))[0] if done_vote else OwnerVote.NONE)
                        owners.append(LiftOwner(project=lp, flat=f"{floor}0{unit_no}", floor=floor,
                                                area_m2=Decimal(rnd.randrange(50, 110)), name=_name(rnd),
                                                phone=_phone(rnd), vote=vote,
                                                voted_at=now if vote != OwnerVote.NONE else None))
            bulk(LiftOwner, owners)
            out["lifts"] = len(lifts)
        step(_("加装电梯"))

        units = bulk(Unit, [Unit(
            code=f"{SIM_PREFIX}{i + 1:04d}", kind=UnitKind.ENTERPRISE if i % 3 else UnitKind.AGENCY,
            name=(_("模拟共建企业%(n)s号") if i % 3 else _("模拟社会服务机构%(n)s号")) % {"n": i + 1})
            for i in range(sc.contributors)], returning=True)
        units = list(Unit.objects.filter(code__startswith=SIM_PREFIX).order_by("code"))
        renovations = bulk(Renovation, [Renovation(
            community=communities[rnd.randrange(len(communities))], title=_("第%(n)s号老旧小区微改造") % {"n": i + 1},
            stage=(stage := rnd.choice(RenovationStage.values)),
            progress=100 if stage == RenovationStage.ACCEPTED else rnd.randrange(0, 95),
            created_at=now - timedelta(days=rnd.randrange(30, 2000))) for i in range(sc.renovations)], returning=True)
        contribution_rows = []
        for i, r in enumerate(renovations):
            picked = {units[i % len(units)].pk} | {rnd.choice(units).pk for _k in range(rnd.randrange(0, 3))}
            for u in sorted(picked):
                contribution_rows.append(RenovationContribution(
                    renovation=r, unit_id=u, what=rnd.choice(("捐资", "捐建设施", "专业设计", "组织居民议事", "施工支持")),
                    amount=Decimal(rnd.randrange(0, 200) * 1000)))
        bulk(RenovationContribution, contribution_rows)
        out["renovations"], out["contributors"] = len(renovations), len(units)
        step(_("微改造"))
        if canteens:
            audit_log(canteens[0], "community.projects.simulated", actor=None, data={**out, "scale": scale, "seed": seed})
    return out
