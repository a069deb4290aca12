"""The volunteers' part of the demo (`volunteers_demo_seed`) and the Guangzhou-scale simulation
(`simulate_volunteers`: the seed's 690,000 community volunteers serving 2,000,000+ residents).

The demo goes through the services (audit rows, a real work order); the simulation writes in bulk,
with volunteers as users that cannot log in, and one audit row for the run (see party/simulate.py).
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
from huying.core.errors import DomainError
from huying.people.models import Membership, RoleCode, Unit, UnitKind, User
from huying.people.services import roles_ensure
from huying.territory.models import UNIFIED_LAYER, Division, Grid, Level

from . import volunteers as svc
from .models import (
    ActivitySignup,
    Patrol,
    PatrolFinding,
    PatrolKind,
    RiverStretch,
    TeamType,
    VolunteerActivity,
    VolunteerProfile,
    VolunteerTeam,
)
from .simulate import Steps, bulk, check_scale, sim_communities

DEMO_PEOPLE = {  # team prefix → (username, name, skills, availability)
    "vol-jf-": [("demo-vol-01", "冯婷", "急救证", "周末上午"), ("demo-vol-02", "邓伟", "电工", "工作日晚上"),
                ("demo-vol-03", "曾秀英", "调解邻里纠纷", "每天下午")],
    "vol-hz-": [("demo-vol-04", "彭建", "游泳、救生", "周末"), ("demo-vol-05", "袁丽", "拍照记录", "周六"),
                ("demo-vol-06", "蔡明", "水质检测", "工作日早上")],
}


def _demo_team(prefix: str, team_type: str, leader_username: str) -> VolunteerTeam | None:
    unit = Unit.objects.filter(code__startswith=prefix, kind=UnitKind.VOLUNTEER_TEAM).order_by("code").first()
    leader = User.objects.filter(username=leader_username).first()
    if unit is None or leader is None:
        return None
    team = VolunteerTeam.objects.filter(unit=unit).first()
    if team is None:
        team = svc.volunteer_team_setup(unit, team_type=team_type, leader=leader, actor=None)
        svc.volunteer_register(team, user=leader, skills=_("组织协调"), availability=_("周末"), actor=leader)
    return team


def volunteers_demo_seed(now=None) -> dict[str, int]:
    """The two demo teams (广州街坊 led by `volunteer`, 民间河长 led by `riverchief`) with their
    volunteers, three activities with hours, a river stretch in the demo street and one patrol that
    raised a work order. Idempotent: a second run adds nothing."""
    now = now or timezone.now()
    out = {"volunteers": 0, "activities": 0, "stretches": 0, "patrols": 0, "work_orders": 0}
    watch = _demo_team("vol-jf-", TeamType.NEIGHBOURHOOD_WATCH, "volunteer")
    river = _demo_team("vol-hz-", TeamType.RIVER_CHIEFS, "riverchief")
    if watch is None or river is None:
        return out
    for team, prefix in ((watch, "vol-jf-"), (river, "vol-hz-")):
        for username, name, skills, availability in DEMO_PEOPLE[prefix]:
            if not User.objects.filter(username=username).exists():
                svc.volunteer_register(team, username=username, display_name=name, skills=skills,
                                       availability=availability, phone=f"1371234{len(username) * 100 + int(username[-2:]):04d}",
                                       actor=team.leader)
                out["volunteers"] += 1
    # activities in the past week, with everyone checked in and out
    plans = [(watch, _("长者探访送温暖"), 5, 2, 6), (watch, _("街巷清洁日"), 3, 3, 5), (river, _("护河清漂行动"), 2, 2, 4)]
    for team, title, days_ago, hours, capacity in plans:
        if VolunteerActivity.objects.filter(team=team, title=title).exists():
            continue
        start = (now - timedelta(days=days_ago)).replace(hour=9, minute=0, second=0, microsecond=0)
        act = svc.volunteer_activity_create(team, title=title, starts_at=start, ends_at=start + timedelta(hours=hours),
                                            capacity=capacity, place=team.unit.name, actor=team.leader)
        people = list(Membership.objects.filter(unit=team.unit, role__code=RoleCode.VOLUNTEER, active=True)
                      .select_related("user").order_by("user__username"))[:capacity]
        for m in people:
            s = svc.activity_sign_up(act, user=m.user, now=start - timedelta(days=1))
            svc.signup_check_in(s, actor=team.leader, now=start - timedelta(minutes=10))
            svc.signup_check_out(s, actor=team.leader, now=act.ends_at)
        out["activities"] += 1
    # the river stretch and the patrol that found a problem
    street_unit = river.unit.parent
    street = street_unit.division if street_unit is not None and street_unit.division_id else None
    grids = list(Grid.objects.filter(layer=UNIFIED_LAYER, code__startswith=street.code).order_by("code")[:2]
                 ) if street is not None else []
    name = _("东濠涌（%(street)s段）") % {"street": street.short_name or street.name} if street else _("东濠涌")
    stretch = RiverStretch.objects.filter(name=name).first()
    if stretch is None and grids:
        line = {"type": "LineString", "coordinates": [[g.lng, g.lat] for g in grids]}
        import json

        stretch = svc.river_stretch_create(name=name, grids=grids, geometry=json.dumps(line), actor=river.leader)
        out["stretches"] += 1
    if stretch is not None and not Patrol.objects.filter(team=river).exists():
        try:
            patrol = svc.patrol_file(river, patroller=river.leader, kind=PatrolKind.RIVER, stretch=stretch,
                                     note=_("例行巡河"), now=now - timedelta(days=1), findings=[
                                         {"description": _("河面有成片漂浮垃圾，近排水口有异味"), "is_problem": True},
                                         {"description": _("护栏、警示牌完好"), "is_problem": False}])
        except DomainError:
            # no dispatch reference data (subjects) loaded: the demo goes on without the patrol
            patrol = None
        if patrol is not None:
            out["patrols"] += 1
            out["work_orders"] += patrol.findings.exclude(work_order_code="").count()
    return out


# -- simulation ----------------------------------------------------------------------------------
SIM_PREFIX = "sim-vol-"
BATCH = 5000
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Scale:
    volunteers: int
    activities: int
    signups_per_activity: int
    patrols: int
    one_district: bool = False


SCALES = {
    # SYSTEM.md C16 / the seed: 690,000 community volunteers serving 2,000,000+ residents
    "guangzhou": Scale(volunteers=690_000, activities=60_000, signups_per_activity=12, patrols=40_000),
    "small": Scale(volunteers=3_000, activities=300, signups_per_activity=10, patrols=200, one_district=True),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力永健新宇浩凯鹏俊"
ACTIVITY_TITLES = ["长者探访", "街巷清洁", "垃圾分类督导", "护河清漂", "文明交通劝导", "义诊义剪", "社区防疫值守",
                   "四点半课堂", "消防安全宣传", "邻里节服务"]



def simulate_volunteers(*, scale: str = "small", seed: int = 2024, progress: Progress | None = None) -> dict:
    """Volunteer teams in every community (广州街坊, service) and street (民间河长), their volunteers,
    a year of activities with hours, and patrols; returns counts. Refuses a second run."""
    check_scale(scale, SCALES)
    sc = SCALES[scale]
    rnd = random.Random(seed)
    if Unit.objects.filter(code__startswith=SIM_PREFIX).exists():
        raise DomainError("community.simulate.exists", _("已有志愿者模拟数据；请在新的数据库中运行。"), status=409)
    communities = sim_communities(one_district=bool(sc.one_district))
    streets = sorted({c.parent_id for c in communities})
    offices = dict(Unit.objects.filter(kind=UnitKind.TERRITORIAL, division__isnull=False, grid__isnull=True)
                   .values_list("division_id", "pk"))
    grids_of: dict[int, list[tuple]] = {}
    for gid, cid, lng, lat in Grid.objects.filter(layer=UNIFIED_LAYER, community__in=communities).values_list(
            "pk", "community_id", "lng", "lat"):
        grids_of.setdefault(cid, []).append((gid, lng, lat))
    step = Steps(progress, 5)

    now = timezone.now()
    with transaction.atomic():
        roles = roles_ensure()
        role = roles[RoleCode.VOLUNTEER]
        # -- teams: a 广州街坊 and a service team per community, a 民间河长 team per street --------
        plans = []
        for c in communities:
            plans.append((f"{SIM_PREFIX}jf-{c.code}", f"{c.short_name or c.name}广州街坊队", TeamType.NEIGHBOURHOOD_WATCH, c))
            plans.append((f"{SIM_PREFIX}fw-{c.code}", f"{c.short_name or c.name}志愿服务队", TeamType.SERVICE, c))
        street_divs = {d.pk: d for d in Division.objects.filter(pk__in=streets)}
        for sid in streets:
            s = street_divs[sid]
            plans.append((f"{SIM_PREFIX}hz-{s.code}", f"{s.short_name or s.name}民间河长队", TeamType.RIVER_CHIEFS, s))
        units = bulk(Unit, [Unit(code=code, name=name[:120], kind=UnitKind.VOLUNTEER_TEAM, division=d,
                                  parent_id=offices.get(d.pk)) for code, name, _t, d in plans], returning=True)
        teams = bulk(VolunteerTeam, [VolunteerTeam(unit=u, team_type=p[2]) for u, p in zip(units, plans, strict=True)],
                      returning=True)
        step(_("志愿服务队"))
        # -- volunteers: users that cannot log in, their membership and profile ----------------
        # river teams are small (a few chiefs a street); the rest is shared by the community teams
        weights = [1 if t.team_type == TeamType.RIVER_CHIEFS else 20 for t in teams]
        team_of = rnd.choices(range(len(teams)), weights=weights, k=sc.volunteers)
        members_of: dict[int, list[int]] = {}
        skills = ["急救", "电工", "水电维修", "法律咨询", "心理疏导", "摄影", "外语", "驾驶", "调解", ""]
        for lo in range(0, sc.volunteers, 20_000):
            hi = min(sc.volunteers, lo + 20_000)
            users = bulk(User, [User(username=f"{SIM_PREFIX}{i:07d}", password="!",
                                      display_name=rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(("", *GIVEN)),
                                      phone=f"1{rnd.choice('3578')}{rnd.randrange(10**9):09d}")
                                 for i in range(lo, hi)], returning=True)
            bulk(Membership, [Membership(user=u, unit_id=teams[team_of[lo + k]].unit_id, role=role)
                               for k, u in enumerate(users)])
            User.groups.through.objects.bulk_create(
                [User.groups.through(user_id=u.pk, group_id=role.group_id) for u in users], batch_size=BATCH)
            bulk(VolunteerProfile, [VolunteerProfile(user=u, skills=rnd.choice(skills), availability=rnd.choice(
                ("周末", "工作日晚上", "每天上午", "节假日")), registered_by_id=units[team_of[lo + k]].parent_id)
                for k, u in enumerate(users)])
            for k, u in enumerate(users):
                members_of.setdefault(team_of[lo + k], []).append(u.pk)
        step(_("志愿者"))
        # -- a year of activities with sign-ups, check-in/out and clamped hours ----------------
        active = [i for i in range(len(teams)) if members_of.get(i)]
        total_hours = Decimal(0)
        activities = 0
        for lo in range(0, sc.activities, 10_000):
            hi = min(sc.activities, lo + 10_000)
            rows, picks = [], []
            for _i in range(lo, hi):
                ti = rnd.choice(active)
                start = (now - timedelta(days=rnd.randrange(1, 365))).replace(minute=0, second=0, microsecond=0)
                start = start.replace(hour=rnd.choice((8, 9, 14, 15, 19)))
                span = rnd.choice((1, 2, 2, 3, 4))
                capacity = sc.signups_per_activity + rnd.randrange(0, 8)
                rows.append(VolunteerActivity(team=teams[ti], title=rnd.choice(ACTIVITY_TITLES), starts_at=start,
                                              ends_at=start + timedelta(hours=span), capacity=capacity))
                pool = members_of[ti]
                picks.append(rnd.sample(pool, min(len(pool), rnd.randrange(1, capacity + 1))))
            made = bulk(VolunteerActivity, rows, returning=True)
            signups = []
            for act, people in zip(made, picks, strict=True):
                served_on = timezone.localdate(act.starts_at)
                for uid in people:
                    came = act.starts_at + timedelta(minutes=rnd.choice((-15, 0, 0, 10, 30)))
                    left = act.ends_at + timedelta(minutes=rnd.choice((-30, 0, 0, 20)))
                    hours = svc.clamped_hours(act, came, left)
                    total_hours += hours
                    signups.append(ActivitySignup(activity=act, user_id=uid, signed_up_at=act.starts_at - timedelta(days=2),
                                                  checked_in_at=came, checked_out_at=left, hours=hours,
                                                  served_on=served_on))
            bulk(ActivitySignup, signups)
            activities += len(made)
        step(_("志愿活动与时长"))
        # -- patrols: river chiefs on their street's stretch, watches on their grids -----------
        river_idx = [i for i in active if teams[i].team_type == TeamType.RIVER_CHIEFS]
        watch_idx = [i for i in active if teams[i].team_type == TeamType.NEIGHBOURHOOD_WATCH]
        stretches: dict[int, RiverStretch] = {}
        for i in river_idx:
            st = RiverStretch.objects.create(name=f"{teams[i].unit.name.replace('民间河长队', '')}河涌段",
                                             community=None)
            stretches[i] = st
        patrols, finding_plan = [], []
        for _i in range(sc.patrols):
            river = river_idx and rnd.random() < 0.4
            ti = rnd.choice(river_idx if river else (watch_idx or river_idx))
            division = teams[ti].unit.division
            grid = rnd.choice(grids_of.get(division.pk, [None])) if not river else None
            if not river and grid is None:
                continue
            patrols.append(Patrol(team=teams[ti], patroller_id=rnd.choice(members_of[ti]),
                                  kind=PatrolKind.RIVER if river else PatrolKind.WATCH,
                                  stretch=stretches.get(ti) if river else None, grid_id=grid[0] if grid else None,
                                  patrolled_at=now - timedelta(days=rnd.randrange(1, 365), hours=rnd.randrange(0, 12))))
            finding_plan.append(_("巡查正常") if rnd.random() < 0.9 else _("发现问题，已现场劝导"))
        made = bulk(Patrol, patrols, returning=True)
        bulk(PatrolFinding, [PatrolFinding(patrol=p, description=text) for p, text in zip(made, finding_plan, strict=True)])
        step(_("巡查"))
        counts = {"volunteers": sc.volunteers, "teams": len(teams), "activities": activities,
                  "hours": float(total_hours), "patrols": len(made)}
        city = Division.objects.filter(level=Level.CITY).order_by("code").first() or communities[0]
        audit_log(city, "community.volunteers.simulated", actor=None, data={"scale": scale, "seed": seed, **counts})
        step(_("完成"))
    return counts
