"""The demo street's Party work, around the demo logins (`huying demo`).

The `secretary` login leads the street 党工委; below it the community 大党委s (mirrored from the
territory), three unit organisations that reported to the street (双报到) and joined the demo
community's 大党委, members with their reports, service, activities (四个一) and last year's stars;
the `partymember` login is one of them. Add a 1+X+N co-building and a representatives' studio.

Everything goes through the Party services (each step audited, as a secretary would do it by
hand), in one transaction, with fixed names and dates: a second run finds the `partymember`
registered and does nothing. Unlike `simulate party` (bulk rows, `sim-` users nobody logs in as),
the people here are few and real to the demo: the logins and a dozen named members.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from huying.people.models import Membership, RoleCode, Unit, User
from huying.people.services import user_create
from huying.territory.models import Division, Level

from . import services as s
from .models import (
    ActivityType,
    AttendanceStatus,
    Member,
    OrgType,
    PairingKind,
    PartnerTier,
    PartyOrganisation,
    RepresentativeLevel,
    ServiceKind,
)
from .services.studios import representative_register, studio_create, studio_duty_schedule

# (code suffix, name, type) of the unit organisations in the demo street, each placed in a community.
UNIT_ORGS = [
    ("demo-u1", "中共广州越秀文德科技有限公司支部委员会", OrgType.NEW_ECONOMY, 18),
    ("demo-u2", "中共广州北京路商业管理有限公司委员会", OrgType.STATE_ENTERPRISE, 46),
    ("demo-u3", "中共越秀区北京街社会工作服务中心支部委员会", OrgType.SOCIAL_ORG, 9),
]
# (username, display name) of the members who do not log in; the first ones live in the demo community.
MEMBERS = [
    ("demo-m01", "林志强"), ("demo-m02", "何晓燕"), ("demo-m03", "罗建华"), ("demo-m04", "梁慧敏"),
    ("demo-m05", "郑国栋"), ("demo-m06", "谢丽华"), ("demo-m07", "冯家豪"), ("demo-m08", "邓雅婷"),
    ("demo-m09", "曾伟明"), ("demo-m10", "彭晓琳"), ("demo-m11", "萧永康"), ("demo-m12", "潘美玲"),
]
ROADS = ("北京路", "文德路", "广卫路", "中山五路", "西湖路", "教育路")
ACTIVITIES = [
    (ActivityType.THEME_DAY, "主题党日：清洁家园志愿行动", 3),
    (ActivityType.LECTURE, "党课：基层治理与接诉即办", 5),
    (ActivityType.ORG_LIFE, "组织生活会：对照检查与民主评议", 9),
    (ActivityType.VISIT, "走访慰问困难党员和独居老人", 12),
]
SERVICES = [(ServiceKind.OTHER, "2", 4), (ServiceKind.TEAM, "3", 6), (ServiceKind.OTHER, "1.5", 8),
            (ServiceKind.NEED, "2.5", 10), (ServiceKind.OTHER, "2", 11)]


def _demo_user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _street_of_secretary(secretary: User) -> Division | None:
    m = (Membership.objects.filter(user=secretary, active=True, role__code=RoleCode.PARTY_SECRETARY,
                                   unit__division__level=Level.STREET)
         .select_related("unit__division").order_by("unit__code").first())
    return m.unit.division if m else None


def _address(community: Division, n: int) -> str:
    street = community.parent
    district = street.parent if street else None
    short = community.short_name or community.name
    return (f"广州市{district.name if district else ''}{street.name if street else ''}{short}"
            f"{ROADS[n % len(ROADS)]}{10 + n * 7}号")


@transaction.atomic
def party_demo_seed(*, now: datetime | None = None) -> dict:
    """Build the demo street's Party work; returns counts ({} when the logins are missing, or
    {"existing": True} when it was built before)."""
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    admin, secretary, me = _demo_user("admin"), _demo_user("secretary"), _demo_user("partymember")
    street = _street_of_secretary(secretary) if secretary else None
    if admin is None or me is None or street is None:
        return {}
    if Member.objects.filter(user=me).exists():
        return {"existing": True}
    year = timezone.localdate(now).year - 1
    counts: dict[str, int] = {}

    def at(month: int, day: int, hour: int = 15, y: int = year) -> datetime:
        return datetime.combine(date(y, month, day), time(hour), tzinfo=tz)

    s.star_rule_set_default()
    counts.update({f"mirrored_{k}": v for k, v in s.organisations_mirror_territory(street, actor=admin).items()})
    street_org = PartyOrganisation.objects.select_related("unit").get(unit__code=s.party_unit_code(street.code))
    communities = list(Division.objects.filter(parent=street, level=Level.COMMUNITY).order_by("code")[:3])
    if not communities:
        return counts
    home = communities[0]
    branch = {c.pk: PartyOrganisation.objects.get(unit__code=s.party_unit_code(c.code)) for c in communities}
    big = branch[home.pk]  # the demo community's 大党委, the `partymember` login's organisation

    # unit organisations under the street 党工委, reported to the street and member units of the 大党委
    units = []
    for i, (code, name, org_type, size) in enumerate(UNIT_ORGS):
        where = communities[i % len(communities)]
        org = s.organisation_create(code=f"party-{code}", name=name, org_type=org_type, actor=secretary,
                                    parent=street_org.unit, size=size, address=_address(where, i + 20),
                                    division=where)
        report = s.unit_report_submit(org, actor=secretary, commitments="认领社区服务项目，每季度组织党员进社区服务",
                                      now=at(2, 20 + i, 10))
        s.unit_report_confirm(report, actor=secretary, now=at(2, 24 + i, 10))
        s.joint_body_member_add(big, unit=org.unit, actor=secretary, joined_on=date(year, 3, 1),
                                position="兼职委员单位")
        units.append(org)
    counts["unit_organisations"] = len(units)

    # members: the demo login and twelve named members, in the community 大党委s and the unit organisations
    places = [(big, home)] * 3 + [(branch[c.pk], c) for c in communities[1:] for _ in range(2)]
    places += [(u, communities[i % len(communities)]) for i, u in enumerate(units)]
    people: list[tuple[User, PartyOrganisation, Division]] = [(me, big, home)]
    for k, (username, display_name) in enumerate(MEMBERS):
        org, where = places[k % len(places)]
        user = User.objects.filter(username=username).first() or user_create(
            username=username, password="", display_name=display_name, phone=f"1390000{k + 1:04d}", actor=admin,
            can_log_in=False)
        people.append((user, org, where))
    members: list[Member] = []
    for k, (user, org, where) in enumerate(people):
        m = s.member_register(user, organisation=org, actor=secretary, joined_on=date(1995 + k, 7, 1),
                              home_address=_address(where, k), in_service=org.unit_id != big.unit_id or k == 0)
        report = s.member_report_submit(m, actor=user if user == me else secretary, skills="宣传、助老",
                                        now=at(1, 10 + k, 10))
        s.member_report_confirm(report, actor=secretary, now=at(1, 15 + k, 10))
        members.append(m)
    counts["members"] = len(members)

    # service last year, confirmed by the community; the login also has one of this year awaiting confirmation
    records = 0
    for k, m in enumerate(members):
        for kind, hours, month in SERVICES[: 5 - k % 3]:
            s.service_record_add(actor=secretary, member=m, kind=kind, hours=hours, served_on=date(year, month, 12),
                                 note="社区志愿服务", now=now)
            records += 1
    s.service_record_add(actor=me, member=members[0], kind=ServiceKind.OTHER, hours="2",
                         served_on=timezone.localdate(now), note="协助社区开展垃圾分类宣传", now=now)
    counts["services"] = records + 1

    # 四个一 in each community, planned with a unit organisation, attended by the members living there
    held = 0
    for i, c in enumerate(communities):
        living = [m for m in members if m.home_community_id == c.pk]
        for j, (kind, title, month) in enumerate(ACTIVITIES):
            when = at(month, 8 + i)
            act = s.joint_activity_plan(community=c, activity_type=kind, title=title, planned_at=when,
                                        planners=[units[(i + j) % len(units)].unit], actor=secretary,
                                        place=f"{c.short_name or c.name}党群服务中心")
            attendance = {m: (AttendanceStatus.EXCUSED if (n + j) % 5 == 4 else AttendanceStatus.PRESENT)
                          for n, m in enumerate(living)}
            s.joint_activity_record(act, attendance=attendance, minutes=f"{title}。到会党员交流发言，形成服务清单。",
                                    actor=secretary, held_at=when, now=now)
            held += 1
    s.joint_activity_plan(community=home, activity_type=ActivityType.THEME_DAY, title="主题党日：社区议事协商",
                          planned_at=now + timedelta(days=7), planners=[units[0].unit], actor=secretary,
                          place=f"{home.short_name or home.name}党群服务中心")
    counts["activities"] = held + 1

    # last year's stars for every organisation with members
    counts["ratings"] = sum(s.star_ratings_compute(org, year=year, actor=secretary, now=now)
                            for org in {m.organisation_id: m.organisation for m in members}.values())

    # 1+X+N: the street 党工委 leads, the unit organisations build with it (X), the 大党委s take part (N)
    pairing = s.pairing_create(name=f"{street.name}“1+X+N”党建共建", lead=street_org.unit,
                               started_on=date(year, 3, 1), actor=secretary, kind=PairingKind.PAIRING,
                               division=street, now=now)
    for u in units:
        s.pairing_partner_add(pairing, unit=u.unit, actor=secretary, joined_on=date(year, 3, 1), tier=PartnerTier.X)
    for c in communities:
        s.pairing_partner_add(pairing, unit=branch[c.pk].unit, actor=secretary, joined_on=date(year, 3, 1),
                              tier=PartnerTier.N)
    counts["pairings"] = 1

    # a representatives' studio in the demo community with two district representatives on its roster
    studio = studio_create(community=home, name=f"{home.short_name or home.name}党代表工作室", actor=secretary,
                             opened_on=date(year, 5, 4), address=_address(home, 40), host=big)
    monday = timezone.localdate(now) + timedelta(days=7 - timezone.localdate(now).weekday())
    for k, m in enumerate(members[1:3]):
        rep = representative_register(m.user, level=RepresentativeLevel.DISTRICT, actor=secretary,
                                        term="第十七届", constituency=f"{street.name}选区", now=now)
        start = datetime.combine(monday + timedelta(days=2 * k), time(9), tzinfo=tz)
        studio_duty_schedule(studio, representative=rep, starts_at=start, ends_at=start + timedelta(hours=3),
                               actor=secretary)
    counts["studios"] = 1
    return counts


def party_demo_units() -> list[Unit]:
    """The demo's unit organisations (for tests and the login print)."""
    return list(Unit.objects.filter(code__in=[f"party-{code}" for code, *_rest in UNIT_ORGS]).order_by("code"))
