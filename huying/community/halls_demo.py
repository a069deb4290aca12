"""The halls' part of the demo (`halls_demo_seed`) and the Guangzhou-scale simulation
(`simulate_halls`: the seed's 2,759 community deliberation halls and 7,200+ disputes settled).

The demo goes through the services (audit rows); the simulation writes a year of activity in bulk,
with one audit row for the run.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.people.models import Membership, RoleCode, Unit, UnitKind, User
from huying.people.services import membership_grant, user_create
from huying.territory.models import Level

from . import halls as svc
from .models import (
    Attendance,
    Dispute,
    DisputeStatus,
    Hall,
    Matter,
    MatterStatus,
    Meeting,
    RaiserKind,
    Resolution,
    ResolutionTask,
    Vote,
)
from .simulate import Steps, bulk, check_scale, sim_communities

Progress = Callable[[str, int, int], None]
BATCH = 5000
SCALES = {"guangzhou": None, "small": 1}  # small: the first district only
# (username, name, household) of the demo community's residents on the hall's roll, besides `resident`
DEMO_NEIGHBOURS = [("demo-hall-01", "梁伯", "文德路12号302"), ("demo-hall-02", "何姨", "文德路12号401"),
                   ("demo-hall-03", "吴晓", "文德路12号301")]
MATTER_TITLES = ["老旧小区加装电梯", "楼道堆物清理", "小区停车位划分", "垃圾分类投放点调整", "长者饭堂菜单",
                 "公共空间微改造", "电动车充电桩安装", "噪音扰民", "绿化带改停车位", "物业服务费调整",
                 "社区宣传栏更新", "儿童游乐设施维修"]
DISPUTE_TITLES = ["楼上漏水", "噪音扰民", "占用公共通道", "宠物扰邻", "装修纠纷", "停车位争议", "油烟扰邻"]


def _convener_hall(now):
    convener = User.objects.filter(username="convener").first()
    m = (Membership.objects.filter(user=convener, role__code=RoleCode.CONVENER, active=True,
                                   unit__division__level=Level.COMMUNITY).select_related("unit__division").first()
         if convener else None)
    if m is None:
        return None, None
    hall = Hall.objects.filter(division=m.unit.division).first()
    if hall is None:
        hall = svc.hall_create(m.unit.division, convener_unit=m.unit, actor=convener, now=now - timedelta(days=120))
    return hall, convener


@transaction.atomic
def halls_demo_seed(now=None) -> dict[str, int]:
    """The demo community's hall, convened by `convener`: 3 matters, a held meeting with a closed vote
    and a resolution in progress, an open vote `resident` can cast, and a mediated dispute. Idempotent."""
    now = now or timezone.now()
    hall, convener = _convener_hall(now)
    if hall is None:
        return {"halls": 0, "matters": 0}
    if hall.matters.exists():
        return {"halls": 1, "matters": 0}
    unit = hall.convener_unit
    resident = User.objects.filter(username="resident").first()
    neighbours = []
    for username, name, household in DEMO_NEIGHBOURS:
        u = User.objects.filter(username=username).first()
        if u is None:
            u = user_create(username=username, password="", display_name=name, actor=None, can_log_in=False)
        if not Membership.objects.filter(user=u, unit=unit, role__code=RoleCode.RESIDENT, active=True).exists():
            membership_grant(u, unit=unit, role_code=RoleCode.RESIDENT, actor=None, reason="演示数据")
        svc.voter_add(hall, user=u, household=household, actor=convener, now=now - timedelta(days=100))
        neighbours.append(u)
    if resident is not None and svc.sel.lives_in(resident, hall):
        svc.voter_add(hall, user=resident, household="文德路12号501", actor=convener, now=now - timedelta(days=100))
    a, b, c = neighbours
    lift = svc.matter_raise(hall, title=_("文德路12号加装电梯"), body=_("楼内多为长者，上下楼困难，希望加装电梯。"),
                            actor=a, now=now - timedelta(days=60))
    parking = svc.matter_raise(hall, title=_("小区停车位划分"), body=_("晚上车位紧张，建议划线并错时共享。"),
                               actor=convener, now=now - timedelta(days=20))
    svc.matter_raise(hall, title=_("楼道堆物清理"), body=_("三楼楼道长期堆放纸箱，存在消防隐患。"), actor=b,
                     now=now - timedelta(days=5))
    meeting = svc.meeting_schedule(hall, title=_("加装电梯议事会"), starts_at=now - timedelta(days=45),
                                   place=_("社区党群服务中心二楼"), matters=[lift], actor=convener)
    svc.meeting_attendance(meeting, users=[a, b, c], households=[_("文德路12号502")], actor=convener)
    svc.meeting_minutes(meeting, minutes=_("居民代表介绍加装方案与费用分摊，与会居民充分讨论后进行表决。"),
                        actor=convener)
    vote = svc.vote_open(lift, question=_("是否同意在文德路12号加装电梯"), meeting=meeting, actor=convener,
                         now=now - timedelta(days=45))
    svc.ballot_cast(vote, choice="yes", actor=a, now=now - timedelta(days=45))
    svc.ballot_cast(vote, choice="yes", actor=b, now=now - timedelta(days=45))
    vote = svc.vote_close(vote, actor=convener, now=now - timedelta(days=45))
    res = svc.resolution_adopt(lift, text=_("同意加装电梯，由居委会协助业主办理报建。"), vote=vote, actor=convener,
                               now=now - timedelta(days=44), tasks=[
                                   {"title": _("征集全体业主书面意见"), "owner_unit": unit},
                                   {"title": _("委托设计单位出具方案并报建"), "owner_name": _("业主代表梁伯")}])
    first = res.tasks.order_by("pk").first()
    svc.task_progress(first, progress=100, note=_("已收齐"), actor=convener, now=now - timedelta(days=30))
    svc.task_progress(res.tasks.order_by("pk").last(), progress=40, note=_("设计方案初稿完成"), actor=convener,
                      now=now - timedelta(days=10))
    open_vote = svc.vote_open(parking, question=_("是否同意小区停车位划线并错时共享"), actor=convener,
                              now=now - timedelta(days=2))
    svc.ballot_cast(open_vote, choice="yes", actor=b, now=now - timedelta(days=1))
    d = svc.dispute_open(hall, title=_("楼上漏水纠纷"), parties=_("张建国、李秀兰"),
                         description=_("502 卫生间漏水至 402 天花。"), actor=convener, now=now - timedelta(days=15))
    svc.dispute_close(d, settled=True, outcome=_("双方同意由 502 负责维修防水层，402 天花修复费用各半。"),
                      actor=convener, now=now - timedelta(days=12))
    return {"halls": 1, "matters": 3}



def simulate_halls(*, scale: str = "small", seed: int = 2024, progress: Progress | None = None) -> dict:
    """One hall per community (2,759 in Guangzhou) with a year of matters, meetings, votes,
    resolutions and mediated disputes (7,200+ settled); communities that have a hall are kept."""
    check_scale(scale, SCALES)
    rnd = random.Random(seed)
    communities = sim_communities(one_district=bool(SCALES[scale]))
    offices = dict(Unit.objects.filter(kind=UnitKind.TERRITORIAL, division__in=communities, grid__isnull=True)
                   .order_by("-code").values_list("division_id", "pk"))
    taken = set(Hall.objects.values_list("division_id", flat=True))
    communities = [c for c in communities if c.pk in offices and c.pk not in taken]
    now = timezone.now()
    step = Steps(progress, 4)

    with transaction.atomic():
        halls = bulk(Hall, [Hall(division=c, convener_unit_id=offices[c.pk], name=_("%(name)s议事厅") % {
            "name": c.short_name or c.name}, per_household=rnd.random() < 0.8, secret=rnd.random() < 0.3,
            created_at=now - timedelta(days=400)) for c in communities], returning=True)
        step(_("议事厅"))
        matters = []
        for h in halls:
            for _i in range(rnd.randrange(6, 19)):
                at = now - timedelta(days=rnd.randrange(1, 365), hours=rnd.randrange(0, 10))
                matters.append(Matter(hall=h, title=rnd.choice(MATTER_TITLES), raiser_kind=rnd.choice(
                    (RaiserKind.RESIDENT, RaiserKind.RESIDENT, RaiserKind.PARTY_MEMBER, RaiserKind.UNIT)),
                    raiser_unit_id=h.convener_unit_id, created_at=at, status=MatterStatus.OPEN))
        matters = bulk(Matter, matters, returning=True)
        by_hall: dict[int, list[Matter]] = {}
        for m in matters:
            by_hall.setdefault(m.hall_id, []).append(m)
        step(_("议题"))
        meetings, agenda, votes, vote_matter = [], [], [], []
        for h in halls:
            ms = sorted(by_hall.get(h.pk, []), key=lambda m: m.created_at)
            for k in range(0, len(ms), 3):  # a meeting takes up to three matters raised before it
                group = ms[k:k + 3]
                meetings.append(Meeting(hall=h, title=_("议事会"), starts_at=group[-1].created_at + timedelta(days=7),
                                        place=_("社区党群服务中心"), held=True, minutes=_("与会居民讨论并表决。")))
                agenda.append(group)
        meetings = bulk(Meeting, meetings, returning=True)
        links, attendance = [], []
        through = Meeting.matters.through
        for meeting, group in zip(meetings, agenda, strict=True):
            links += [through(meeting_id=meeting.pk, matter_id=m.pk) for m in group]
            attendance += [Attendance(meeting=meeting, household=f"{rnd.randrange(1, 30)}栋{rnd.randrange(1, 9)}0{j}")
                           for j in range(rnd.randrange(8, 25))]
            hall = meeting.hall
            for m in group:
                eligible = rnd.randrange(40, 400)
                counted = int(eligible * rnd.uniform(0.3, 0.9))
                yes = int(counted * rnd.uniform(0.3, 0.95))
                no = int((counted - yes) * rnd.uniform(0.3, 1))
                v = Vote(hall_id=hall.pk, matter=m, meeting=meeting, question=m.title, quorum_share=hall.quorum_share,
                         pass_share=hall.pass_share, secret=hall.secret, per_household=hall.per_household,
                         is_open=False, opened_at=meeting.starts_at, closed_at=meeting.starts_at + timedelta(hours=2),
                         eligible=eligible, counted=counted, yes=yes, no=no, abstain=counted - yes - no)
                v.quorum_met = Decimal(counted) >= v.quorum_share * eligible
                v.passed = bool(v.quorum_met and Decimal(yes) >= v.pass_share * counted and yes > no)
                m.status = MatterStatus.RESOLVED if v.passed else MatterStatus.REJECTED
                votes.append(v)
                vote_matter.append(m)
        through.objects.bulk_create(links, batch_size=BATCH)
        bulk(Attendance, attendance)
        votes = bulk(Vote, votes, returning=True)
        Matter.objects.bulk_update(vote_matter, ["status"], batch_size=BATCH)
        resolutions, task_plans = [], []
        for v in votes:
            if v.passed:
                done_all = rnd.random() < 0.7
                resolutions.append(Resolution(hall_id=v.hall_id, matter=v.matter, vote=v, text=v.matter.title,
                                              created_at=v.closed_at, done=done_all,
                                              done_at=v.closed_at + timedelta(days=30) if done_all else None))
                task_plans.append(done_all)
        resolutions = bulk(Resolution, resolutions, returning=True)
        tasks = []
        for r, done_all in zip(resolutions, task_plans, strict=True):
            for j in range(rnd.randrange(1, 4)):
                finished = done_all or j == 0 and rnd.random() < 0.5
                tasks.append(ResolutionTask(resolution=r, title=_("落实决议"), owner_unit_id=r.matter.raiser_unit_id,
                                            progress=100 if finished else rnd.randrange(0, 90),
                                            done_at=r.created_at + timedelta(days=20) if finished else None))
        bulk(ResolutionTask, tasks)
        step(_("议事会与表决"))
        disputes = []
        for h in halls:
            for _i in range(rnd.choice((1, 2, 2, 3, 3, 3, 4, 4, 5))):
                opened = now - timedelta(days=rnd.randrange(2, 365))
                status = rnd.choices((DisputeStatus.SETTLED, DisputeStatus.FAILED, DisputeStatus.OPEN), (93, 4, 3))[0]
                disputes.append(Dispute(hall=h, title=rnd.choice(DISPUTE_TITLES), parties=_("当事双方"), status=status,
                                        opened_at=opened, outcome=_("调解达成协议") if status == DisputeStatus.SETTLED
                                        else "", closed_at=None if status == DisputeStatus.OPEN
                                        else opened + timedelta(days=rnd.randrange(1, 15))))
        bulk(Dispute, disputes)
        step(_("纠纷调解"))
        out = {"halls": len(halls), "matters": len(matters), "meetings": len(meetings), "disputes": len(disputes)}
        if halls:
            audit_log(halls[0], "community.halls.simulated", actor=None, data={**out, "scale": scale, "seed": seed})
    return out
