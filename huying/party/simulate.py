"""A simulated year of Party work over the loaded territory (`huying simulate party`).

At `guangzhou` scale it reproduces the seed's figures: 3,000+ unit organisations reporting to
their streets, 300,000 in-service members of whom 270,000 report to the community where they
live, 1,925 service teams, 240,000+ services with hours, four kinds of joint activity in every
community with attendance, small wishes claimed and done, grid instructors, and the half-year
returns. Everything is written in bulk (no per-row service call and no per-row audit: one audit
row records the run), deterministic for a given seed.

Simulated rows are marked by their codes and usernames (`sim-…`), so a second run refuses
rather than doubling the population.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.people.models import Membership, Role, RoleCode, Unit, UnitKind, User
from huying.people.services import roles_ensure
from huying.territory.models import UNIFIED_LAYER, Division, Grid, Level

from .models import (
    ActivityStatus,
    ActivityType,
    Attendance,
    AttendanceStatus,
    GridInstructor,
    HalfYearReturn,
    JointActivity,
    Member,
    MemberReport,
    Need,
    NeedKind,
    NeedStatus,
    OrgType,
    PartyOrganisation,
    ReportStatus,
    ServiceKind,
    ServiceRecord,
    ServiceTeam,
    ServiceTeamMember,
    UnitReport,
)
from .services.organisations import organisations_mirror_territory
from .services.rating import star_rule_set_default

SIM_PREFIX = "sim-"
BATCH = 5000


@dataclass(frozen=True)
class Scale:
    units: int
    members: int
    report_share: float  # of in-service members who reported
    teams: int
    services: int  # target for service records, wishes included
    wishes: int
    activities_per_community: int
    one_district: bool = False  # a small run stays in one district so its communities are not thin


SCALES = {
    # the seed's figures (SYSTEM.md C7): 3,000+ units, 270,000+ members reported, 1,925 teams, 240,000+ services
    "guangzhou": Scale(units=3200, members=300_000, report_share=0.9, teams=1925, services=245_000, wishes=60_000,
                       activities_per_community=6),
    "small": Scale(units=60, members=3_000, report_share=0.9, teams=20, services=2_500, wishes=600,
                   activities_per_community=4, one_district=True),
}

UNIT_TYPES = [
    (OrgType.GOVERNMENT, "机关党委", 22), (OrgType.STATE_ENTERPRISE, "有限公司党委", 18),
    (OrgType.PRIVATE_ENTERPRISE, "有限公司党支部", 20), (OrgType.SCHOOL, "学校党总支", 12),
    (OrgType.HOSPITAL, "医院党委", 8), (OrgType.NEW_ECONOMY, "科技公司党支部", 12),
    (OrgType.SOCIAL_ORG, "协会党支部", 8),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力永健新宇浩凯鹏俊帆晨欣怡子涵梓轩佳琪嘉"
ROADS = "中山路 解放路 人民路 东风路 环市路 天河路 江南大道 广州大道 黄埔大道 工业大道 沿江路 越秀路".split()
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

Progress = Callable[[str, int, int], None]


def _id_number(rnd: random.Random, district: str) -> str:
    born = date(1950, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 50))
    body = f"{district[:6]}{born:%Y%m%d}{rnd.randrange(1000):03d}"
    return body + _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _bulk(model, rows: list, *, returning: bool = False) -> list:
    out = []
    for i in range(0, len(rows), BATCH):
        made = model.objects.bulk_create(rows[i:i + BATCH], batch_size=BATCH)
        if returning:
            out.extend(made)
    return out


class _Clock:
    def __init__(self, progress: Progress | None, steps: int):
        self.progress, self.steps, self.done = progress, steps, 0
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}
        self._last = self.started

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._last, 2)
        self._last = now
        self.done += 1
        if self.progress is not None:
            self.progress(name, self.done, self.steps)


def simulate_party(*, scale: str = "small", year: int | None = None, seed: int = 2024,
                   progress: Progress | None = None) -> dict:
    """Create the simulated organisations, members and a year of their activity; returns counts
    and the seconds each stage took."""
    if scale not in SCALES:
        raise DomainError("party.simulate.bad_scale", _("规模应为 %(names)s 之一。") % {"names": ", ".join(SCALES)},
                          field="scale")
    sc = SCALES[scale]
    tz = ZoneInfo(settings.TIME_ZONE)
    year = year or (datetime.now(tz).year - 1)
    rnd = random.Random(seed)
    if Unit.objects.filter(code__startswith=f"{SIM_PREFIX}u").exists():
        raise DomainError("party.simulate.exists", _("已有模拟数据；请在新的数据库中运行。"), status=409)
    city = Division.objects.filter(level=Level.CITY).order_by("code").first()
    communities = list(Division.objects.filter(level=Level.COMMUNITY).order_by("code")
                       .values_list("pk", "code", "name", "parent_id"))
    if city is None or not communities:
        raise DomainError("party.simulate.no_territory", _("请先导入区划（huying demo 或 huying import divisions）。"),
                          status=409)
    if sc.one_district:
        first = "440104" if any(c[1].startswith("440104") for c in communities) else communities[0][1][:6]
        communities = [c for c in communities if c[1].startswith(first)]
    clock = _Clock(progress, 10)
    counts: dict[str, int] = {}
    with transaction.atomic():
        roles = roles_ensure()
        star_rule_set_default()
        admin = User.objects.filter(username=f"{SIM_PREFIX}admin").first()
        if admin is None:
            admin = User.objects.create(username=f"{SIM_PREFIX}admin", display_name="模拟管理员", is_superuser=True,
                                        is_staff=True, password="!")
        counts["territorial"] = sum(organisations_mirror_territory(city, actor=admin, grids=False).values())
    clock.step(_("区域党组织"))

    by_street: dict[int, list[tuple]] = defaultdict(list)
    for c in communities:
        by_street[c[3]].append(c)
    streets = {s.pk: s for s in Division.objects.filter(level=Level.STREET)}
    street_ids = sorted(by_street)
    community_party = dict(PartyOrganisation.objects.filter(org_type=OrgType.COMMUNITY_COMMITTEE)
                           .values_list("division_id", "unit_id"))
    start, end = date(year, 1, 1), date(year, 12, 31)

    def when(d: date, hour: int = 9) -> datetime:
        return datetime(d.year, d.month, d.day, hour, tzinfo=tz)

    def day_in(a: date, b: date) -> date:
        return a + timedelta(days=rnd.randrange((b - a).days + 1))

    # -- unit organisations, located in a community of their street, 95% reported ------------
    with transaction.atomic():
        weights = [len(by_street[s]) for s in street_ids]
        homes = rnd.choices(street_ids, weights=weights, k=sc.units)
        kinds = rnd.choices(UNIT_TYPES, weights=[w for *_x, w in UNIT_TYPES], k=sc.units)
        units = _bulk(Unit, [Unit(code=f"{SIM_PREFIX}u{i:05d}", kind=UnitKind.PARTY,
                                  name=f"中共{streets[homes[i]].name[:6]}{i:05d}{kinds[i][1]}"[:120])
                             for i in range(sc.units)], returning=True)
        sizes = [max(3, int(rnd.lognormvariate(3.6, 0.9))) for _ in range(sc.units)]
        orgs = []
        for i, unit in enumerate(units):
            comm = rnd.choice(by_street[homes[i]])
            orgs.append(PartyOrganisation(unit=unit, org_type=kinds[i][0], size=sizes[i], division_id=comm[0],
                                          street_id=homes[i],
                                          address=f"{comm[2]}{rnd.choice(ROADS)}{rnd.randrange(1, 300)}号"))
        orgs = _bulk(PartyOrganisation, orgs, returning=True)
        reports = []
        for org in orgs:
            if rnd.random() < 0.95:
                d = day_in(date(year - 1, 3, 1), date(year, 2, 28))
                reports.append(UnitReport(organisation=org, street_id=org.street_id, reported_at=when(d),
                                          status=ReportStatus.CONFIRMED, decided_at=when(d + timedelta(days=2)),
                                          decided_by=admin, commitments="认领社区服务项目"))
        _bulk(UnitReport, reports)
        counts["units"], counts["units_reported"] = len(orgs), len(reports)
    clock.step(_("单位党组织与单位报到"))

    # -- members: users, their Party membership, registry rows --------------------------------
    member_role: Role = roles[RoleCode.PARTY_MEMBER]
    district_of_street = {s.pk: s.parent_id for s in streets.values()}
    comms_by_district: dict[int, list[tuple]] = defaultdict(list)
    for c in communities:
        comms_by_district[district_of_street.get(c[3])].append(c)
    org_weights = [o.size for o in orgs]
    org_district = [district_of_street.get(o.street_id) for o in orgs]
    member_org = rnd.choices(range(len(orgs)), weights=org_weights, k=sc.members)
    member_ids: list[int] = []
    member_comm: list[tuple] = []
    for lo in range(0, sc.members, 20_000):
        hi = min(sc.members, lo + 20_000)
        with transaction.atomic():
            users, homes_of = [], []
            for i in range(lo, hi):
                oi = member_org[i]
                pool = comms_by_district.get(org_district[oi]) if rnd.random() < 0.7 else None
                comm = rnd.choice(pool or communities)
                homes_of.append(comm)
                users.append(User(username=f"{SIM_PREFIX}m{i:06d}", password="!",
                                  display_name=rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(("", *GIVEN)),
                                  phone=f"1{rnd.choice('3578')}{rnd.randrange(10**9):09d}",
                                  id_number=_id_number(rnd, comm[1])))
            users = _bulk(User, users, returning=True)
            _bulk(Membership, [Membership(user=u, unit_id=orgs[member_org[lo + k]].unit_id, role=member_role)
                               for k, u in enumerate(users)])
            User.groups.through.objects.bulk_create(
                [User.groups.through(user_id=u.pk, group_id=member_role.group_id) for u in users], batch_size=BATCH)
            made = _bulk(Member, [Member(
                user=u, organisation=orgs[member_org[lo + k]], in_service=True,
                joined_on=date(rnd.randrange(1970, year), rnd.randrange(1, 13), 1),
                home_address=f"{homes_of[k][2]}{rnd.choice(ROADS)}{rnd.randrange(1, 500)}号{rnd.randrange(1, 30)}栋",
                home_community_id=homes_of[k][0]) for k, u in enumerate(users)], returning=True)
            member_ids.extend(m.pk for m in made)
            member_comm.extend(homes_of)
    counts["members"] = len(member_ids)
    clock.step(_("党员"))

    # -- member reports: 90% confirmed in their home community --------------------------------
    reported: dict[int, list[int]] = defaultdict(list)  # community id → member ids
    reported_on: dict[int, date] = {}
    with transaction.atomic():
        rows = []
        # exactly the share (270,000 of 300,000 at Guangzhou scale), a few more still waiting
        chosen = set(rnd.sample(range(len(member_ids)), round(len(member_ids) * sc.report_share)))
        for i, (mid, comm) in enumerate(zip(member_ids, member_comm, strict=True)):
            if i in chosen:
                d = day_in(date(year - 2, 1, 1), date(year, 3, 31))
                rows.append(MemberReport(member_id=mid, community_id=comm[0], status=ReportStatus.CONFIRMED,
                                         reported_at=when(d), decided_at=when(d + timedelta(days=3)),
                                         decided_by=admin))
                reported[comm[0]].append(mid)
                reported_on[mid] = d + timedelta(days=3)
            elif rnd.random() < 0.3:
                rows.append(MemberReport(member_id=mid, community_id=comm[0], status=ReportStatus.PENDING,
                                         reported_at=when(date(year, 12, 20))))
        _bulk(MemberReport, rows)
        counts["members_reported"] = sum(len(v) for v in reported.values())
    clock.step(_("党员报到"))

    active_comms = [c for c in communities if reported.get(c[0])]
    comm_by_id = {c[0]: c for c in communities}

    # -- service teams ------------------------------------------------------------------------
    with transaction.atomic():
        team_comms = rnd.choices(active_comms, weights=[len(reported[c[0]]) for c in active_comms], k=sc.teams)
        team_units = _bulk(Unit, [Unit(code=f"{SIM_PREFIX}t{i:05d}", kind=UnitKind.VOLUNTEER_TEAM,
                                       name=f"{c[2][:20]}党员志愿服务队{i:05d}", division_id=c[0],
                                       parent_id=community_party.get(c[0]))
                                  for i, c in enumerate(team_comms)], returning=True)
        teams = _bulk(ServiceTeam, [ServiceTeam(unit=u, community_id=c[0], created_at=when(start),
                                                speciality=rnd.choice(("助老", "助学", "环境", "法律", "医疗", "平安")))
                                    for u, c in zip(team_units, team_comms, strict=True)], returning=True)
        tm = []
        for team in teams:
            pool = reported[team.community_id]
            for mid in rnd.sample(pool, min(len(pool), rnd.randrange(8, 25))):
                tm.append(ServiceTeamMember(team=team, member_id=mid, joined_at=when(start)))
        _bulk(ServiceTeamMember, tm)
        counts["service_teams"], counts["team_members"] = len(teams), len(tm)
    clock.step(_("服务队"))

    # -- joint activities with attendance -----------------------------------------------------
    tally: dict[tuple[int, int], list] = defaultdict(lambda: [0, Decimal(0), 0])  # (member, half) → n, h, present
    units_by_street: dict[int, list[int]] = defaultdict(list)
    for o in orgs:
        units_by_street[o.street_id].append(o.unit_id)
    with transaction.atomic():
        acts, planners, comm_of_act = [], [], []
        types = list(ActivityType.values)
        for c in active_comms:
            for k in range(sc.activities_per_community):
                d = day_in(start, end)
                acts.append(JointActivity(activity_type=types[k % 4], title=f"{ActivityType(types[k % 4]).label}",
                                          community_id=c[0], planned_at=when(d, 14), held_at=when(d, 14),
                                          status=ActivityStatus.HELD, minutes="（模拟）会议记录", created_by=admin))
                comm_of_act.append(c[0])
        acts = _bulk(JointActivity, acts, returning=True)
        Through = JointActivity.planners.through
        for act, cid in zip(acts, comm_of_act, strict=True):
            ids = {community_party.get(cid)} if community_party.get(cid) else set()
            local = units_by_street.get(comm_by_id[cid][3]) or []
            ids.update(rnd.sample(local, min(len(local), 2)))
            planners.extend(Through(jointactivity_id=act.pk, unit_id=u) for u in ids)
        _bulk(Through, planners)
        att = []
        for act, cid in zip(acts, comm_of_act, strict=True):
            half = 1 if act.held_at.month <= 6 else 2
            for mid in reported[cid]:
                r = rnd.random()
                if r < 0.45:
                    att.append(Attendance(activity=act, member_id=mid, status=AttendanceStatus.PRESENT))
                    tally[(mid, half)][2] += 1
                elif r < 0.50:
                    att.append(Attendance(activity=act, member_id=mid, status=AttendanceStatus.EXCUSED))
                elif r < 0.53:
                    att.append(Attendance(activity=act, member_id=mid, status=AttendanceStatus.ABSENT))
            if len(att) >= 50_000:
                _bulk(Attendance, att)
                counts["attendance"] = counts.get("attendance", 0) + len(att)
                att = []
        _bulk(Attendance, att)
        counts["attendance"] = counts.get("attendance", 0) + len(att)
        counts["activities"] = len(acts)
    clock.step(_("联合活动"))

    # -- wishes and needs, claimed and done; other services with hours ------------------------
    with transaction.atomic():
        weights = [len(reported[c[0]]) for c in active_comms]
        need_comms = rnd.choices(active_comms, weights=weights, k=sc.wishes)
        needs, claimers, done_days = [], [], []
        for i, c in enumerate(need_comms):
            posted = day_in(start, date(year, 11, 30))
            kind = NeedKind.WISH if rnd.random() < 0.7 else NeedKind.COMMUNITY
            mid = rnd.choice(reported[c[0]])
            r = rnd.random()
            status = NeedStatus.DONE if r < 0.85 else (NeedStatus.CLAIMED if r < 0.93 else NeedStatus.OPEN)
            done = posted + timedelta(days=rnd.randrange(1, 20))
            needs.append(Need(community_id=c[0], kind=kind, title=f"{'微心愿' if kind == NeedKind.WISH else '社区需求'}{i:06d}",
                              status=status, posted_at=when(posted), posted_by=admin,
                              claimed_by_member_id=mid if status != NeedStatus.OPEN else None,
                              claimed_at=when(posted + timedelta(days=1)) if status != NeedStatus.OPEN else None,
                              done_at=when(done, 18) if status == NeedStatus.DONE else None))
            claimers.append(mid)
            done_days.append(done)
        needs = _bulk(Need, needs, returning=True)
        records = []
        for n, mid, d in zip(needs, claimers, done_days, strict=True):
            if n.status == NeedStatus.DONE:
                records.append(ServiceRecord(member_id=mid, community_id=n.community_id, need=n, confirmed=True,
                                             kind=ServiceKind.WISH if n.kind == NeedKind.WISH else ServiceKind.NEED,
                                             hours=Decimal(rnd.choice((1, 1.5, 2, 2.5, 3, 4))).quantize(Decimal("0.1")),
                                             served_on=d, recorded_at=when(d, 18), recorded_by=admin))
        counts["needs"], counts["needs_done"] = len(needs), len(records)
        team_members = defaultdict(list)
        for row in tm:
            team_members[row.team_id].append(row.member_id)
        teams_by_comm = defaultdict(list)
        for team in teams:
            teams_by_comm[team.community_id].append(team)
        rest = max(0, sc.services - len(records))
        other_comms = rnd.choices(active_comms, weights=weights, k=rest)
        for c in other_comms:
            d = day_in(start, end)
            team = None
            if teams_by_comm.get(c[0]) and rnd.random() < 0.6:
                team = rnd.choice(teams_by_comm[c[0]])
                team = team if team_members[team.pk] else None
            mid = rnd.choice(team_members[team.pk]) if team is not None else rnd.choice(reported[c[0]])
            records.append(ServiceRecord(member_id=mid, community_id=c[0], team=team,
                                         kind=ServiceKind.TEAM if team else ServiceKind.OTHER,
                                         hours=Decimal(rnd.choice((1, 1.5, 2, 2, 3, 4, 6))).quantize(Decimal("0.1")),
                                         served_on=d, confirmed=rnd.random() < 0.97, recorded_at=when(d, 20),
                                         recorded_by=admin))
        for r in records:
            if r.confirmed:
                t = tally[(r.member_id, 1 if r.served_on.month <= 6 else 2)]
                t[0] += 1
                t[1] += r.hours
        _bulk(ServiceRecord, records)
        counts["services"] = len(records)
    clock.step(_("服务记录"))

    # -- grid instructors: one reported member per unified grid, where there are grids --------
    with transaction.atomic():
        posts = []
        for gid, cid in Grid.objects.filter(layer=UNIFIED_LAYER).values_list("pk", "community_id").iterator(
                chunk_size=BATCH):
            if reported.get(cid):
                posts.append(GridInstructor(grid_id=gid, member_id=rnd.choice(reported[cid]),
                                            started_on=day_in(date(year - 1, 1, 1), date(year, 6, 30))))
        _bulk(GridInstructor, posts)
        counts["grid_instructors"] = len(posts)
    clock.step(_("网格指导员"))

    # -- half-year returns to the members' organisations ----------------------------------------
    with transaction.atomic():
        org_of = {mid: orgs[member_org[i]].pk for i, mid in enumerate(member_ids)}
        rows = []
        for cid, mids in reported.items():
            for mid in mids:
                for half, last in ((1, date(year, 6, 30)), (2, date(year, 12, 31))):
                    if reported_on[mid] <= last:
                        n, h, present = tally.get((mid, half), (0, 0, 0))
                        rows.append(HalfYearReturn(member_id=mid, community_id=cid, organisation_id=org_of[mid],
                                                   period=f"{year}H{half}", services=n, hours=h, activities=present,
                                                   sent_at=when(last + timedelta(days=10)), sent_by=admin))
            if len(rows) >= 50_000:
                _bulk(HalfYearReturn, rows)
                counts["returns"] = counts.get("returns", 0) + len(rows)
                rows = []
        _bulk(HalfYearReturn, rows)
        counts["returns"] = counts.get("returns", 0) + len(rows)
        audit_log(city, "party.simulated", actor=admin, data={"scale": scale, "year": year, "seed": seed,
                                                               "counts": counts})
    if connection.vendor == "postgresql":
        # fresh statistics after a bulk load, or the planner misjudges the first summaries
        with connection.cursor() as cur:
            for model in (User, Membership, Member, MemberReport, UnitReport, ServiceRecord, ServiceTeam,
                          Attendance, JointActivity, Need, HalfYearReturn):
                cur.execute(f'ANALYZE "{model._meta.db_table}"')
    clock.step(_("半年反馈"))
    return {"scale": scale, "year": year, "counts": counts, "seconds": clock.timings,
            "total_seconds": round(time.perf_counter() - clock.started, 1)}
