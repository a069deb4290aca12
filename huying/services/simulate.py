"""A simulated year of the Party-mass service positions (`huying simulate services`).

On the loaded territory it makes sure of the positions and the catalogue (`services_demo_seed`: a
centre per street and community that has a territorial unit and grids, stations in crowded places,
the 140 items of data/catalogue.json), the admission list (`admission_demo_seed`: 15 categories /
76 items in force) and the pay scale, then writes in bulk:

- community workers: about one per 300 households (the scale's staffing norm) in every
  community's residents' committee, households summed over the buildings of the community's
  grids; a community without buildings counts `Scale.default_households` (Guangzhou: 2,700, about
  7 million households over ~2,600 communities); at least three workers (书记, 副职, 委员) each.
  A committee that already has workers gets none added;
- desk staff (服务窗口人员): at every community centre two of its new workers, at every street office
  `Scale.street_desk` people who staff the street centre and the street's stations; all are
  records without a password (they do not sign in);
- a year of desk matters (窗口办件) ending at `end` (default: now). No published figure gives the
  desk volume (the seed counts 130 items handled at the street centres, not matters), so the
  volume is an assumption: on each working day a street centre takes about 10 matters, a
  community centre 1 and a station 5 (each position scaled by a lognormal weight) — about 1.1
  million a year at Guangzhou scale. Matters are taken on working days within the position's
  opening hours, by one of its desk staff, on an item it handles (popular items more often); the
  deadline is `desk.matter_due` on the working calendar. About 3% are refused on the spot, 0.5%
  are marked transferred (转办) *without* a work order (no order is created: dispatch's bulk path
  is not used for them; `work_order_id` stays empty and the result says so), 4% of the others are
  finished late (and flagged overdue, as the sweep would have), the rest in time; 3% are handed
  over once to another desk staff member, who finishes them. Matters whose finish would fall
  after `end` are still open (and overdue when their deadline has passed).

Everything is written in one transaction with bulk_create in batches, deterministic for a given
seed and end; one audit row records the run. Simulated people are marked by their usernames
(`sim-svc-…`), so a second run refuses rather than doubling the population.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.worktime import get_calendar
from huying.people.models import Membership, RoleCode, Unit, UnitKind, User
from huying.people.services import roles_ensure
from huying.territory.models import Building, Division, Level

from .admission import admission_demo_seed
from .demo import services_demo_seed
from .desk import matter_due
from .hours import BEIJING
from .models import (
    AdmissionItem,
    AdmissionListStatus,
    CommunityWorker,
    DeskMatter,
    Education,
    MatterHandover,
    MatterState,
    OpeningHours,
    PositionKind,
    ServiceItem,
    ServicePosition,
    SocialWorkQualification,
    WorkerPost,
)
from .workers import level_of, pay_scale_load

SIM_PREFIX = "sim-svc-"
BATCH = 5000
FLUSH = 50_000  # matters kept in memory before they are written

P_REFUSED = 0.03
P_TRANSFERRED = 0.005
P_LATE = 0.04
P_HANDOVER = 0.03
MIN_WORKERS = 3  # 书记, 副职, 委员: a committee is never smaller
OFFICE_MINUTES = [(9 * 60, 12 * 60), (13 * 60, 17 * 60)]  # a position without hours on a working day

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力永健新宇浩凯鹏俊帆晨欣怡子涵梓轩佳琪嘉"
HANDOVER_REASONS = ("轮岗调整", "请假，移交同事继续办理", "外出培训", "需熟悉该事项的同事跟进")
REFUSAL = "不符合受理条件，已一次性告知所需材料"
TRANSFER = "需职能部门办理，已转办（模拟数据，未生成工单）"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Scale:
    stations: int  # stations in crowded places, when the positions are seeded here
    per_day: dict  # matters per working day, by position kind
    street_desk: int  # desk staff of each street office (street centre and stations)
    default_households: int  # per community when its grids have no buildings


SCALES = {
    "guangzhou": Scale(stations=20, street_desk=6, default_households=2700,
                       per_day={PositionKind.STREET_CENTRE: 10.0, PositionKind.COMMUNITY_CENTRE: 1.0,
                                PositionKind.STATION: 5.0}),
    "small": Scale(stations=2, street_desk=2, default_households=900,
                   per_day={PositionKind.STREET_CENTRE: 1.0, PositionKind.COMMUNITY_CENTRE: 0.5,
                            PositionKind.STATION: 0.5}),
}


@dataclass
class Options:
    scale: str = "small"
    seed: int = 2025
    end: datetime | None = None  # the last moment simulated (default: now)
    days: int = 365
    matters: int | None = None  # about how many matters (default: the scale's rates)


def _bulk(model, rows: list) -> list:
    out = []
    for i in range(0, len(rows), BATCH):
        out.extend(model.objects.bulk_create(rows[i:i + BATCH], batch_size=BATCH))
    return out


def _name(rng: np.random.Generator) -> str:
    n = 2 if rng.random() < 0.3 else 1
    return SURNAMES[rng.integers(len(SURNAMES))] + "".join(GIVEN[rng.integers(len(GIVEN))] for _ in range(n))


def _phone(rng: np.random.Generator) -> str:
    return f"1{'3578'[rng.integers(4)]}{int(rng.integers(10**9)):09d}"


def counts() -> dict[str, int]:
    """What the service positions hold now (the keys `huying simulate services` prints)."""
    return {
        "centres": ServicePosition.objects.filter(
            kind__in=[PositionKind.STREET_CENTRE, PositionKind.COMMUNITY_CENTRE]).count(),
        "stations": ServicePosition.objects.filter(kind=PositionKind.STATION).count(),
        "items": ServiceItem.objects.count(),
        "admission_items": AdmissionItem.objects.filter(admission_list__status=AdmissionListStatus.IN_FORCE).count(),
        "workers": CommunityWorker.objects.filter(active=True).count(),
        "matters": DeskMatter.objects.count(),
    }


def _periods(position_ids: list[int]) -> dict[int, dict[int, list[tuple[int, int]]]]:
    """position → weekday → opening periods in minutes of the day."""
    out: dict[int, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for pid, day, opens, closes in OpeningHours.objects.filter(position_id__in=position_ids).values_list(
            "position_id", "day", "opens", "closes"):
        out[pid][day].append((opens.hour * 60 + opens.minute, closes.hour * 60 + closes.minute))
    return out


def simulate_services(opts: Options, *, progress: Progress | None = None) -> dict:
    """Positions, catalogue, admission list, workers, desk staff and a year of desk matters; returns the counts."""
    if opts.scale not in SCALES:
        raise DomainError("services.simulate.bad_scale", _("规模应为 %(names)s 之一。") % {"names": ", ".join(SCALES)},
                          field="scale")
    if opts.days < 1 or (opts.matters is not None and opts.matters < 0):
        raise DomainError("services.simulate.bad_options", _("天数须为正数，办件数不能为负数。"))
    sc = SCALES[opts.scale]
    started = time.perf_counter()
    if User.objects.filter(username__startswith=SIM_PREFIX).exists():
        raise DomainError("services.simulate.exists", _("已有服务阵地的模拟数据；请在新的数据库中运行。"), status=409)
    if not Division.objects.filter(level=Level.COMMUNITY).exists():
        raise DomainError("services.simulate.no_territory",
                          _("请先导入区划（huying demo 或 huying import divisions）。"), status=409)
    end = opts.end or timezone.now()
    rng = np.random.default_rng(opts.seed)

    def tick(name: str, done: int = 1, total: int = 1) -> None:
        if progress is not None:
            progress(name, done, total)

    with transaction.atomic():
        roles = roles_ensure()
        tick(_("服务阵地与服务事项"), 0, 1)
        if not ServicePosition.objects.exists():
            services_demo_seed(stations=sc.stations)
        admission_demo_seed()
        scale = pay_scale_load()
        tick(_("服务阵地与服务事项"))

        # -- community workers --------------------------------------------------------------------
        committees = list(Unit.objects.filter(kind=UnitKind.TERRITORIAL, grid__isnull=True, active=True,
                                              division__level=Level.COMMUNITY)
                          .order_by("division__code", "id").values_list("pk", "division_id", "division__code"))
        one: dict[int, tuple] = {}
        for c in committees:  # one committee a community (the first)
            one.setdefault(c[1], c)
        committees = list(one.values())
        staffed = set(CommunityWorker.objects.filter(active=True).values_list("unit_id", flat=True))
        households = dict(Building.objects.filter(grid__community_id__in=[c[1] for c in committees])
                          .values("grid__community_id").annotate(n=Sum("households"))
                          .values_list("grid__community_id", "n"))
        norm = int(scale.rules.get("staffing", {}).get("households_per_worker") or 300)
        levels = {post: level_of(post, scale) for post in WorkerPost.values}
        unusable = make_password(None)
        today = timezone.localdate()
        users: list[User] = []
        plan: list[tuple[int, str, str]] = []  # (committee unit, post, username) per new worker
        for unit_id, division_id, code in committees:
            if unit_id in staffed:
                continue
            h = int(households.get(division_id) or 0) or sc.default_households
            n = max(MIN_WORKERS, math.ceil(h / norm))
            posts = ([WorkerPost.SECRETARY, WorkerPost.DEPUTY, WorkerPost.MEMBER] + [WorkerPost.STAFF] * n)[:n]
            for j, post in enumerate(posts):
                username = f"{SIM_PREFIX}w{code}-{j:03d}"
                plan.append((unit_id, post, username))
                users.append(User(username=username, password=unusable, display_name=_name(rng), phone=_phone(rng)))
        _bulk(User, users)
        user_id = dict(User.objects.filter(username__startswith=f"{SIM_PREFIX}w").values_list("username", "pk"))
        workers = []
        for unit_id, post, username in plan:
            started_on = date(int(rng.integers(2005, today.year)), int(rng.integers(1, 13)), 1)
            max_grade = levels[post]["max_grade"]
            grade = int(min(max_grade, 1 + max(0, today.year - started_on.year) // 3))
            workers.append(CommunityWorker(
                user_id=user_id[username], unit_id=unit_id, post=post, level=levels[post]["code"], grade=grade,
                entry_grade=grade, entry_year=started_on.year, started_on=started_on,
                education=str(rng.choice([Education.COLLEGE, Education.BACHELOR, Education.BACHELOR,
                                          Education.GRADUATE])),
                qualification=str(rng.choice([SocialWorkQualification.NONE, SocialWorkQualification.ASSISTANT,
                                              SocialWorkQualification.SOCIAL_WORKER]))))
        _bulk(CommunityWorker, workers)
        tick(_("社区工作者"), len(workers), len(workers))

        # -- desk staff ---------------------------------------------------------------------------
        positions = list(ServicePosition.objects.filter(active=True).order_by("pk")
                         .values_list("pk", "kind", "unit_id"))
        desk_role = roles[RoleCode.SERVICE_DESK]
        already = defaultdict(list)
        for uid, unit_id in Membership.objects.filter(role=desk_role, active=True, user__is_active=True).values_list(
                "user_id", "unit_id"):
            already[unit_id].append(uid)
        new_workers = defaultdict(list)
        for unit_id, post, username in plan:
            if post in (WorkerPost.STAFF, WorkerPost.MEMBER):
                new_workers[unit_id].append(user_id[username])
        staff: dict[int, list[int]] = {}
        grants: list[tuple[int, int]] = []  # (user, unit)
        desk_users: list[User] = []
        desk_plan: list[tuple[int, str]] = []
        for _pk, kind, unit_id in positions:
            if unit_id in staff:
                continue
            if kind == PositionKind.COMMUNITY_CENTRE and new_workers.get(unit_id):
                chosen = new_workers[unit_id][-2:]  # the centre's desk is staffed by two of its own workers
                staff[unit_id] = already[unit_id] + chosen
                grants.extend((u, unit_id) for u in chosen)
                continue
            staff[unit_id] = list(already[unit_id])
            want = sc.street_desk if kind != PositionKind.COMMUNITY_CENTRE else 2
            for j in range(max(0, want - len(staff[unit_id]))):
                username = f"{SIM_PREFIX}d{unit_id}-{j:02d}"
                desk_users.append(User(username=username, password=unusable, display_name=_name(rng),
                                       phone=_phone(rng)))
                desk_plan.append((unit_id, username))
        _bulk(User, desk_users)
        desk_id = dict(User.objects.filter(username__startswith=f"{SIM_PREFIX}d").values_list("username", "pk"))
        for unit_id, username in desk_plan:
            staff[unit_id].append(desk_id[username])
            grants.append((desk_id[username], unit_id))
        _bulk(Membership, [Membership(user_id=u, unit_id=unit, role=desk_role) for u, unit in grants])
        Through = User.groups.through
        Through.objects.bulk_create([Through(user_id=u, group_id=desk_role.group_id) for u in {g[0] for g in grants}],
                                    batch_size=BATCH, ignore_conflicts=True)
        tick(_("窗口人员"), len(grants), len(grants))

        # -- a year of desk matters ---------------------------------------------------------------
        made = _matters(opts, sc, rng, positions, staff, end, progress)

        city = Division.objects.filter(level=Level.CITY).order_by("code").first() or \
            Division.objects.order_by("code").first()
        result = counts()
        audit_log(city, "services.simulated", actor=None, data={
            "scale": opts.scale, "seed": opts.seed, "end": end.isoformat(), "days": opts.days,
            "created": {"workers": len(workers), "desk_staff": len(grants), "matters": made}})
    if connection.vendor == "postgresql":
        # fresh statistics after a bulk load, or the planner misjudges the first desk pages
        with connection.cursor() as cur:
            for model in (User, Membership, CommunityWorker, DeskMatter, MatterHandover):
                cur.execute(f'ANALYZE "{model._meta.db_table}"')
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _matters(opts: Options, sc: Scale, rng: np.random.Generator, positions: list[tuple], staff: dict[int, list[int]],
             end: datetime, progress: Progress | None) -> int:
    """Write the year of desk matters (and their hand-overs); returns how many were written."""
    calendar = get_calendar()
    end_local = end.astimezone(BEIJING)
    first = end_local.date() - timedelta(days=opts.days - 1)
    workdays = [first + timedelta(days=i) for i in range(opts.days)]
    workdays = [d for d in workdays if calendar.is_workday(d)]
    item_rows = ServiceItem.objects.filter(active=True).order_by("code").values_list("pk", "time_limit_days")
    limit_of = dict(item_rows)
    item_ids = [pk for pk, _limit in item_rows]
    popularity = dict(zip(item_ids, rng.lognormal(0, 1.0, size=len(item_ids)), strict=True))
    handles: dict[int, list[int]] = defaultdict(list)
    for pos_id, item_id in ServiceItem.positions.through.objects.filter(
            serviceitem_id__in=item_ids).order_by("serviceposition_id", "serviceitem_id").values_list(
            "serviceposition_id", "serviceitem_id"):
        handles[pos_id].append(item_id)
    periods = _periods([p[0] for p in positions])
    usable = [p for p in positions if handles.get(p[0]) and staff.get(p[2])]
    weights = rng.lognormal(-0.125, 0.5, size=len(usable))  # mean 1
    expected = sum(sc.per_day[p[1]] * w for p, w in zip(usable, weights, strict=True)) * len(workdays)
    factor = (opts.matters / expected) if (opts.matters is not None and expected) else 1.0
    total_est = int(expected * factor)
    due_cache: dict[tuple[datetime, int | None], datetime] = {}
    names = [_name(rng) for _i in range(4096)]
    rows: list[DeskMatter] = []
    handovers: list[tuple[int, MatterHandover]] = []  # (index in rows, hand-over without its matter)
    written = 0

    def flush() -> None:
        nonlocal rows, handovers, written
        made = _bulk(DeskMatter, rows)
        for i, hand in handovers:
            hand.matter_id = made[i].pk  # bulk insert returns the ids on SQLite and PostgreSQL
        _bulk(MatterHandover, [h for _i, h in handovers])
        written += len(rows)
        rows, handovers = [], []
        if progress is not None:
            progress(_("窗口办件"), written, max(total_est, written))

    for (pos_id, kind, unit_id), weight in zip(usable, weights, strict=True):
        items = handles[pos_id]
        p = np.array([popularity[i] for i in items])
        p /= p.sum()
        people = staff[unit_id]
        per_day = rng.poisson(sc.per_day[kind] * weight * factor, size=len(workdays))
        n = int(per_day.sum())
        per_day = per_day.tolist()
        if not n:
            continue
        chosen_items = rng.choice(len(items), size=n, p=p).tolist()
        u = rng.random((n, 6)).tolist()
        takers = rng.integers(len(people), size=n).tolist()
        who = rng.integers(len(names), size=n).tolist()
        phones = rng.integers(10**9, size=n).tolist()
        k = 0
        for d, count in zip(workdays, per_day, strict=True):
            if not count:
                continue
            spans = periods.get(pos_id, {}).get(d.weekday()) or periods.get(pos_id, {}).get(0) or OFFICE_MINUTES
            open_minutes = sum(b - a for a, b in spans)
            midnight = datetime(d.year, d.month, d.day, tzinfo=BEIJING)
            for _j in range(int(count)):
                offset = u[k][0] * open_minutes
                for a, b in spans:
                    if offset < b - a:
                        minute = a + offset
                        break
                    offset -= b - a
                taken = midnight + timedelta(minutes=int(minute))
                if taken > end:
                    k += 1
                    continue
                item = items[chosen_items[k]]
                limit = limit_of[item]
                key = (taken, limit)
                due = due_cache.get(key)
                if due is None:
                    due = due_cache[key] = matter_due(taken, limit, calendar)
                r = u[k][1]
                if r < P_REFUSED:
                    state, finish = MatterState.REFUSED, taken + timedelta(minutes=5 + 25 * u[k][2])
                elif r < P_REFUSED + P_TRANSFERRED:
                    state, finish = MatterState.TRANSFERRED, taken + timedelta(minutes=30 + 210 * u[k][2])
                elif limit is None:
                    state, finish = MatterState.DONE, taken + timedelta(minutes=10 + 80 * u[k][2])
                elif u[k][3] < P_LATE:
                    state, finish = MatterState.DONE, due + timedelta(hours=1 + 119 * u[k][2])
                else:
                    state, finish = MatterState.DONE, taken + (due - taken) * (0.1 + 0.85 * u[k][2])
                taker = people[takers[k]]
                owner = taker
                hand = None
                if len(people) > 1 and u[k][4] < P_HANDOVER:
                    owner = people[(takers[k] + 1 + int(u[k][5] * (len(people) - 1))) % len(people)]
                    last = min(finish, end)
                    hand = MatterHandover(from_user_id=taker, to_user_id=owner,
                                          reason=HANDOVER_REASONS[int(u[k][5] * 97) % len(HANDOVER_REASONS)],
                                          at=taken + (last - taken) * (0.1 + 0.4 * u[k][2]))
                if finish > end:  # still open at the end of the simulated year
                    state = MatterState.IN_PROGRESS if end - taken > timedelta(hours=1) else MatterState.ACCEPTED
                    finish = None
                    overdue = due < end
                else:
                    overdue = finish > due
                result = {MatterState.REFUSED: REFUSAL, MatterState.TRANSFERRED: TRANSFER,
                          MatterState.DONE: "已办结"}.get(state, "")
                if hand is not None:
                    handovers.append((len(rows), hand))
                rows.append(DeskMatter(
                    position_id=pos_id, item_id=item, applicant_name=names[who[k]], applicant_phone=f"13{phones[k]:09d}",
                    state=state, owner_id=owner, taken_by_id=taker, taken_at=taken, due_at=due, overdue=overdue,
                    finished_at=finish, finished_by_id=owner if finish else None, result=result))
                k += 1
            if len(rows) >= FLUSH:
                flush()
    flush()
    return written
