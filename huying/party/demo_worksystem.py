"""The demo's Party-building work system (`work_system_demo_seed`): this year's plans of the city,
the demo district and the demo street, measures with milestones (some overdue), two demonstration
sites, two key projects, the `leader` login's contact point at the demo street with two visits (one
raised a work order), and one district joint meeting with its decisions.

Through the services, as the organisation department (`orgdept`) and the leader would do it by
hand. Run after the people and Party demo seeds; a second run finds the city's plan and does nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from huying.people.models import Membership, RoleCode, Unit, User
from huying.territory.models import Division, Grid, Level

from . import services as s
from .models import OrgType, PartyOrganisation, WorkPlan
from .services.organisations import party_unit_code


def _committee(division: Division, name: str, actor) -> PartyOrganisation:
    """The city's or a district's Party committee, as a Party organisation covering that division."""
    code = party_unit_code(division.code)
    org = PartyOrganisation.objects.filter(unit__code=code).first()
    if org is None:
        org = s.organisation_create(code=code, name=name, org_type=OrgType.GOVERNMENT, division=division, actor=actor)
    return org


@transaction.atomic
def work_system_demo_seed(now=None) -> dict:
    """Seed the work system around the demo logins; returns counts ({} when already seeded or not possible)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    admin = User.objects.filter(username="admin", is_active=True).first()
    dept = User.objects.filter(username="orgdept", is_active=True).first()
    leader = User.objects.filter(username="leader", is_active=True).first()
    secretary = User.objects.filter(username="secretary", is_active=True).first()
    if not (admin and dept and leader and secretary):
        return {}
    m = (Membership.objects.filter(user=secretary, active=True, role__code=RoleCode.PARTY_SECRETARY,
                                   unit__division__level=Level.STREET).select_related("unit__division").first())
    street_org = PartyOrganisation.objects.filter(unit=m.unit).select_related("division").first() if m else None
    if street_org is None or street_org.division is None:
        return {}
    street = street_org.division
    district = street.parent
    city = Division.objects.filter(level=Level.CITY).order_by("code").first()
    city_org = _committee(city, f"中共{city.name}委员会", admin)
    if WorkPlan.objects.filter(organisation=city_org, year=today.year).exists():
        return {}
    district_org = _committee(district, f"中共{city.name}{district.name}委员会", admin)
    year = today.year
    d = lambda days: today + timedelta(days=days)  # noqa: E731
    owner = Unit.objects.filter(code=f"gov-{street.code}").first() or street_org.unit

    city_plan = s.work_plan_create(organisation=city_org, year=year, actor=dept, now=now,
                                   title=f"{year} 年城市基层党建“四个一”工作方案",
                                   summary="书记领航，拧紧市、区、街道、社区四级“动力轴”。")
    district_plan = s.work_plan_create(organisation=district_org, year=year, actor=dept, now=now,
                                       title=f"{district.name}{year} 年城市基层党建工作要点")
    street_plan = s.work_plan_create(organisation=street_org, year=year, actor=secretary, now=now,
                                     title=f"{street.name}{year} 年党建引领基层治理工作方案")
    measures = 0
    for plan, item, due, progress, steps in [
        (city_plan, "市、区两级党委常委建立街道、社区联系点", d(60), 40, [("完成联系点名单", -20, True), ("常委首轮走访", 10, False)]),
        (district_plan, "全区街道党建联席会议全覆盖", d(-15), 60, [("制定会议规则", -45, True), ("各街道首次会议", -10, False)]),
        (district_plan, "区直机关党组织到街道报到", d(90), 100, []),
        (street_plan, "社区党群服务中心延时服务", d(-3), 30, [("排出延时值班表", -20, False)]),
        (street_plan, "网格党支部全覆盖", d(120), 10, [("试点社区建支部", 30, False)]),
    ]:
        measure = s.work_measure_add(plan, item=item, due_on=due, owner_unit=owner, owner_name="", actor=dept)
        measures += 1
        for title, offset, done in steps:
            ms = s.milestone_add(measure, title=title, due_on=d(offset), actor=dept)
            if done:
                s.milestone_done(ms, done_on=d(offset), actor=dept, now=now)
        s.work_progress_report(measure, progress=progress, actor=dept, note="演示进展", now=now)
    s.demonstration_site_add(district_plan, name=f"{street.name}党建引领示范点", theme="党建引领基层治理",
                             designated_on=d(-60), division=street, rating=4, actor=dept)
    s.demonstration_site_add(street_plan, name="党群服务中心示范点", theme="党群服务“全岗通”",
                             designated_on=d(-30), organisation=street_org, actor=secretary)
    p1 = s.key_project_add(district_plan, name="老旧小区党建引领微改造", owner_unit=owner, budget="120.00",
                           due_on=d(150), actor=dept)
    s.milestone_add(p1, title="完成居民意见征集", due_on=d(-5), actor=dept)
    s.work_progress_report(p1, progress=35, actor=dept, now=now)
    p2 = s.key_project_add(city_plan, name="“红色物业”示范创建", owner_name="市委组织部组织二处", due_on=d(200),
                           actor=dept)
    s.work_progress_report(p2, progress=20, actor=dept, now=now)

    point = s.contact_point_create(leader=leader, division=street, since=d(-120), post="市委常委", actor=dept)
    s.contact_visit_record(point, visited_on=d(-40), visitors="赵刚、街道党工委书记黄海", actor=leader, now=now,
                           findings="", follow_ups="研究社区党群服务中心延时服务方案")
    grid = Grid.objects.filter(code__startswith=street.code, lng__isnull=False).order_by("code").first()
    visit = s.contact_visit_record(
        point, visited_on=d(-7), visitors="赵刚、区委组织部", actor=leader, now=now,
        findings="老旧小区楼道堆放杂物，存在消防隐患\n居民反映多次未处理", follow_ups="转工单交街道办理，两周内回访",
        lng=grid.lng if grid else None, lat=grid.lat if grid else None)
    ordered = 0
    if grid is not None:
        from huying.dispatch.models import Subject

        subject = Subject.objects.filter(code="E0102").first() or Subject.objects.filter(
            active=True).exclude(parent__isnull=True).order_by("code").first()
        if subject is not None:
            s.contact_visit_to_work_order(visit, subject=subject.code, actor=leader, now=now)
            ordered = 1

    units = list(Unit.objects.filter(code__in=[street_org.unit.code, owner.code]).order_by("code"))
    absent = [u for u in Unit.objects.filter(code__startswith="dept-", division=district).order_by("code")[:1]]
    meeting = s.joint_meeting_record(district=district, title=f"{district.name}党建联席会议（第一次）", held_on=d(-20),
                                     agenda=["通报城市基层党建重点任务", "研究老旧小区微改造"], present=units,
                                     absent=absent, actor=dept, now=now)
    s.meeting_decision_add(meeting, text="各街道月底前报送联席会议成员单位名单", owner_unit=street_org.unit, due_on=d(-5),
                           actor=dept)
    s.meeting_decision_add(meeting, text="微改造项目资金统筹方案", owner_unit=owner, due_on=d(30), actor=dept)
    done = s.meeting_decision_add(meeting, text="明确联席会议议事规则", owner_unit=street_org.unit, due_on=d(-10),
                                  actor=dept)
    s.meeting_decision_done(done, done_on=d(-12), actor=dept, now=now)
    return {"plans": 3, "measures": measures, "sites": 2, "projects": 2, "points": 1, "visits": 2,
            "work_orders": ordered, "meetings": 1, "decisions": 3}
