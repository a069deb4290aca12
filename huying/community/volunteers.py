"""Volunteers (志愿者): registry, teams, activities with sign-up and hours, patrols (巡河 / 街坊巡查).

A volunteer is a people.User with a VolunteerProfile (skills, availability: only what the work
needs) and a RoleCode.VOLUNTEER membership in the team's Unit (kind volunteer_team). Hours come
from check-in and check-out, clamped to the activity's span. A patrol finding marked as a problem
becomes a work order through dispatch (channel "volunteer"), in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import Membership, RoleCode, Unit, UnitKind, User
from huying.people.services import membership_grant, user_create

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

# What a patrol finding can be filed as, and the dispatch subject (urban_classes.csv) it goes to.
FINDING_SUBJECTS = {
    "E0105": _lazy("水域不洁（漂浮物、排污、异味）"),
    "E0102": _lazy("暴露垃圾"),
    "E0101": _lazy("违法搭建"),
    "E0103": _lazy("积存垃圾渣土"),
}
DEFAULT_SUBJECT = {PatrolKind.RIVER: "E0105", PatrolKind.WATCH: "E0102"}
HUNDREDTH = Decimal("0.01")


def _now(now) -> datetime:
    return now or timezone.now()


# -- who may do what -----------------------------------------------------------------------------
def is_team_member(user, team: VolunteerTeam) -> bool:
    return Membership.objects.filter(user=user, unit_id=team.unit_id, role__code=RoleCode.VOLUNTEER,
                                     active=True).exists()


def can_manage_team(user, team: VolunteerTeam) -> bool:
    """The team leader, or staff of the unit the team belongs to (the registering committee or street office)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or (team.leader_id and team.leader_id == user.pk):
        return True
    parent_id = team.unit.parent_id
    return bool(parent_id) and Membership.objects.filter(user=user, unit_id=parent_id, active=True).exclude(
        role__code__in=[RoleCode.VOLUNTEER, RoleCode.RESIDENT]).exists()


def _require_manager(actor, team: VolunteerTeam) -> None:
    if not can_manage_team(actor, team):
        raise DomainError("community.volunteer.forbidden", _("只有队长或所属社区（街道）工作人员可以操作。"), status=403)


# -- teams and registry --------------------------------------------------------------------------
@transaction.atomic
def volunteer_team_setup(unit: Unit, *, team_type: str, actor, leader: User | None = None) -> VolunteerTeam:
    """Give a volunteer-team unit its profile (type, leader); creates it or updates it."""
    if unit.kind != UnitKind.VOLUNTEER_TEAM:
        raise DomainError("community.volunteer.not_a_team", _("该单位不是志愿服务队。"), field="unit")
    if team_type not in TeamType.values:
        raise DomainError("community.volunteer.bad_team_type", _("队伍类型无效。"), field="team_type")
    team, created = VolunteerTeam.objects.select_for_update().get_or_create(unit=unit, defaults={"team_type": team_type})
    old = None if created else {"team_type": team.team_type, "leader": team.leader_id}
    team.team_type, team.leader = team_type, leader
    team.save()
    audit_log(team, "community.volunteer.team_set", actor=actor, old=old,
              new={"team_type": team.team_type, "leader": team.leader_id})
    return team


@transaction.atomic
def volunteer_register(team: VolunteerTeam, *, actor, user: User | None = None, username: str = "",
                       display_name: str = "", phone: str = "", skills: str = "", availability: str = "",
                       can_log_in: bool = False, password: str = "") -> VolunteerProfile:
    """Register a volunteer in a team (志愿者登记): a new person (no login unless asked) or an existing user."""
    _require_manager(actor, team)
    skills = clean_text(skills, field="skills", max_length=200)
    availability = clean_text(availability, field="availability", max_length=200)
    if user is None:
        user = user_create(username=username, password=password, display_name=clean_text(
            display_name, field="display_name", max_length=60), phone=phone, actor=actor, can_log_in=can_log_in)
    profile, created = VolunteerProfile.objects.get_or_create(
        user=user, defaults={"skills": skills, "availability": availability, "registered_by_id": team.unit.parent_id})
    if not created and (skills or availability):
        profile.skills, profile.availability = skills or profile.skills, availability or profile.availability
        profile.save(update_fields=["skills", "availability"])
    if not is_team_member(user, team):
        membership_grant(user, unit=team.unit, role_code=RoleCode.VOLUNTEER, actor=actor, reason=_("志愿者登记"))
    audit_log(profile, "community.volunteer.registered", actor=actor,
              new={"user": user.username, "team": team.unit.code, "skills": profile.skills,
                   "availability": profile.availability})
    return profile


# -- activities and hours ------------------------------------------------------------------------
@transaction.atomic
def volunteer_activity_create(team: VolunteerTeam, *, title: str, starts_at: datetime, ends_at: datetime,
                              capacity: int, actor, place: str = "") -> VolunteerActivity:
    """Publish a volunteer activity (发布志愿活动) with its capacity (名额) and time span."""
    _require_manager(actor, team)
    title = clean_text(title, field="title", max_length=120)
    if not title:
        raise DomainError("community.activity.title_required", _("请填写活动名称。"), field="title")
    if ends_at <= starts_at:
        raise DomainError("community.activity.bad_span", _("结束时间应晚于开始时间。"), field="ends_at")
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        capacity = 0
    if capacity < 1:
        raise DomainError("community.activity.bad_capacity", _("名额至少为 1。"), field="capacity")
    activity = VolunteerActivity.objects.create(team=team, title=title, place=clean_text(
        place, field="place", max_length=200), starts_at=starts_at, ends_at=ends_at, capacity=capacity,
        created_by=actor)
    audit_log(activity, "community.activity.created", actor=actor, new={
        "title": title, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "capacity": capacity})
    return activity


@transaction.atomic
def activity_sign_up(activity: VolunteerActivity, *, user: User, now=None) -> ActivitySignup:
    """A volunteer signs up (报名); refused when the activity is full or over."""
    now = _now(now)
    activity = VolunteerActivity.objects.select_for_update().get(pk=activity.pk)
    if not Membership.objects.filter(user=user, role__code=RoleCode.VOLUNTEER, active=True).exists():
        raise DomainError("community.activity.not_volunteer", _("请先登记为志愿者。"), status=403)
    if activity.ends_at <= now:
        raise DomainError("community.activity.over", _("活动已结束，不能报名。"), status=409)
    if ActivitySignup.objects.filter(activity=activity, user=user).exists():
        raise DomainError("community.activity.already", _("您已报名该活动。"), status=409)
    # the activity row is locked, so two last-place sign-ups cannot both pass this count
    if ActivitySignup.objects.filter(activity=activity).count() >= activity.capacity:
        raise DomainError("community.activity.full", _("名额已满。"), status=409)
    signup = ActivitySignup.objects.create(activity=activity, user=user, signed_up_at=now)
    audit_log(signup, "community.activity.signed_up", actor=user, new={"activity": activity.pk, "user": user.username})
    return signup


def _locked_signup(signup: ActivitySignup, actor) -> ActivitySignup:
    signup = ActivitySignup.objects.select_for_update(of=("self",)).select_related(
        "activity__team__unit", "user").get(pk=signup.pk)
    if actor.pk != signup.user_id and not can_manage_team(actor, signup.activity.team):
        raise DomainError("community.volunteer.forbidden", _("只有队长或所属社区（街道）工作人员可以操作。"), status=403)
    return signup


def clamped_hours(activity: VolunteerActivity, checked_in_at: datetime, checked_out_at: datetime) -> Decimal:
    """Hours served inside the activity's span: arriving early or leaving late earns nothing extra."""
    start, end = max(checked_in_at, activity.starts_at), min(checked_out_at, activity.ends_at)
    seconds = max((end - start).total_seconds(), 0)
    return (Decimal(seconds) / Decimal(3600)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


@transaction.atomic
def signup_check_in(signup: ActivitySignup, *, actor, now=None) -> ActivitySignup:
    """Check a volunteer in (签到)."""
    now = _now(now)
    signup = _locked_signup(signup, actor)
    if signup.checked_in_at is not None:
        raise DomainError("community.activity.checked_in", _("已签到。"), status=409)
    signup.checked_in_at = now
    signup.save(update_fields=["checked_in_at"])
    audit_log(signup, "community.activity.checked_in", actor=actor, new={"at": now.isoformat()})
    return signup


@transaction.atomic
def signup_check_out(signup: ActivitySignup, *, actor, now=None) -> ActivitySignup:
    """Check a volunteer out (签退): the hours are credited, clamped to the activity's span."""
    now = _now(now)
    signup = _locked_signup(signup, actor)
    if signup.checked_in_at is None:
        raise DomainError("community.activity.not_checked_in", _("尚未签到，不能签退。"), status=409)
    if signup.checked_out_at is not None:
        raise DomainError("community.activity.checked_out", _("已签退。"), status=409)
    signup.checked_out_at = now
    signup.hours = clamped_hours(signup.activity, signup.checked_in_at, now)
    signup.served_on = timezone.localdate(signup.activity.starts_at)
    signup.save(update_fields=["checked_out_at", "hours", "served_on"])
    audit_log(signup, "community.activity.checked_out", actor=actor, new={
        "at": now.isoformat(), "checked_in_at": signup.checked_in_at.isoformat(), "hours": str(signup.hours)})
    return signup


# -- river stretches and patrols -----------------------------------------------------------------
@transaction.atomic
def river_stretch_create(*, name: str, actor, community=None, grids=(), geometry: str = "") -> RiverStretch:
    """Record a river stretch (河段) and the grids it runs through."""
    name = clean_text(name, field="name", max_length=120)
    if not name:
        raise DomainError("community.stretch.name_required", _("请填写河段名称。"), field="name")
    grids = list(grids)
    if community is None and grids:
        community = grids[0].community
    stretch = RiverStretch.objects.create(name=name, community=community, geometry=geometry or "")
    stretch.grids.set(grids)
    audit_log(stretch, "community.stretch.created", actor=actor, new={
        "name": name, "community": community.code if community else None, "grids": [g.code for g in grids]})
    return stretch


def _place(patrol: Patrol, finding: dict) -> tuple[float | None, float | None]:
    if finding.get("lng") not in (None, "") and finding.get("lat") not in (None, ""):
        return float(finding["lng"]), float(finding["lat"])
    grid = patrol.grid or (patrol.stretch.grids.order_by("code").first() if patrol.stretch_id else None)
    if grid is not None:
        return grid.lng, grid.lat
    return None, None


@transaction.atomic
def patrol_file(team: VolunteerTeam, *, patroller: User, kind: str, findings: list[dict], stretch=None, grid=None,
                note: str = "", now=None) -> Patrol:
    """File a patrol report (巡河 / 巡查上报); each finding marked as a problem becomes a work order.

    A finding is {"description", "is_problem", "subject" (optional code), "lng", "lat" (optional)};
    without a point the order is placed at the patrol's grid (or the stretch's first grid). A
    refusal by dispatch (no location, outside the city …) is raised unchanged and nothing is stored.
    """
    from huying.dispatch.services import work_order_create

    now = _now(now)
    if not is_team_member(patroller, team):
        raise DomainError("community.patrol.not_member", _("只有本队志愿者可以上报巡查。"), status=403)
    if kind not in PatrolKind.values:
        raise DomainError("community.patrol.bad_kind", _("巡查类型无效。"), field="kind")
    if kind == PatrolKind.RIVER and stretch is None:
        raise DomainError("community.patrol.stretch_required", _("请选择巡查的河段。"), field="stretch")
    if kind == PatrolKind.WATCH and grid is None:
        raise DomainError("community.patrol.grid_required", _("请选择巡查的网格。"), field="grid")
    cleaned = []
    for i, f in enumerate(findings or ()):
        text = clean_text(f.get("description"), field="description", max_length=500)
        if not text:
            continue
        subject = str(f.get("subject") or "").strip() or DEFAULT_SUBJECT[kind]
        if subject not in FINDING_SUBJECTS:
            raise DomainError("community.patrol.bad_subject", _("问题类别无效。"), field="subject", index=i)
        cleaned.append({**f, "description": text, "subject": subject, "is_problem": bool(f.get("is_problem"))})
    patrol = Patrol.objects.create(team=team, patroller=patroller, kind=kind, stretch=stretch,
                                   grid=grid if kind == PatrolKind.WATCH else None, patrolled_at=now,
                                   note=clean_text(note, field="note", max_length=2000, multiline=True))
    place = stretch.name if stretch is not None else str(grid)
    orders = []
    for f in cleaned:
        lng, lat = _place(patrol, f)
        finding = PatrolFinding.objects.create(patrol=patrol, description=f["description"], is_problem=f["is_problem"],
                                               subject_code=f["subject"] if f["is_problem"] else "", lng=lng, lat=lat)
        if not finding.is_problem:
            continue
        label = _("巡河") if kind == PatrolKind.RIVER else _("街坊巡查")
        order = work_order_create(
            channel="volunteer", subject=f["subject"], title=f"{label}：{f['description']}"[:120],
            description=_("【%(team)s·%(place)s】%(text)s") % {"team": team.unit.name, "place": place,
                                                                "text": f["description"]},
            idempotency_key=f"community-patrol-finding-{finding.pk}", lng=lng, lat=lat, address=place,
            reporter_name=patroller.display_name or patroller.username, reporter_phone=patroller.phone,
            actor=patroller, now=now)
        finding.work_order_id, finding.work_order_code = order.pk, order.code
        finding.save(update_fields=["work_order_id", "work_order_code"])
        orders.append(order.code)
    audit_log(patrol, "community.patrol.filed", actor=patroller, new={
        "kind": kind, "stretch": stretch.pk if stretch else None, "grid": grid.code if grid else None,
        "findings": len(cleaned), "work_orders": orders})
    return patrol


def register_facts() -> None:
    """Offer volunteer hours to whoever counts people's activity (the Party star rating), through
    core.facts: party never imports community, and a rule set counts them only if it names the source."""
    from huying.core import facts

    from .selectors_volunteers import volunteer_hours_by_month

    facts.register("volunteer_hours", label=_lazy("志愿服务时长（小时，社区志愿活动签到签退）"),
                   fn=volunteer_hours_by_month)


# -- registration pages and setup (志愿者登记、队伍与河段设置) -------------------------------------
# A resident's own registration takes effect at once (no pending state): joining a 广州街坊 or
# 民间河长 team is open to the residents of its community or street, the leader sees the new member
# at the top of the team's registrations and may remove them with a reason (volunteer_remove).
CONSENT_VERSION = "2026-12"  # the text of the consent shown on the registration page, by date
STAFF_EXCLUDED_ROLES = (RoleCode.VOLUNTEER, RoleCode.RESIDENT)


def is_unit_staff(user, unit: Unit) -> bool:
    """Staff (any role but volunteer or resident) of a territorial unit, who may set up teams under it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, unit=unit, active=True).exclude(
        role__code__in=STAFF_EXCLUDED_ROLES).exists()


def _find_person(who: str, *, field: str) -> User:
    """The person a leader means by a username or a mobile number."""
    matches = list(User.objects.filter(username__iexact=who, is_active=True)[:2])
    if not matches and who.isdigit():
        matches = list(User.objects.filter(phone=who, is_active=True)[:2])
    if not matches:
        raise DomainError("community.volunteer.no_such_person",
                          _("找不到用户名或手机号为“%(who)s”的人员。") % {"who": who}, field=field)
    if len(matches) > 1:
        raise DomainError("community.volunteer.ambiguous_person",
                          _("该手机号对应多个账号，请改填用户名。"), field=field)
    return matches[0]


def _free_unit_code(parent: Unit) -> str:
    n = Unit.objects.filter(parent=parent, kind=UnitKind.VOLUNTEER_TEAM).count() + 1
    while Unit.objects.filter(code=f"vol-{parent.code}-{n}").exists():
        n += 1
    return f"vol-{parent.code}-{n}"


def _free_username(phone: str) -> str:
    base = f"vol{phone}" if phone else "vol"
    n, name = 1, base if phone else f"{base}{User.objects.count() + 1}"
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


@transaction.atomic
def volunteer_team_create(parent: Unit, *, name: str, team_type: str, actor, leader_who: str = "") -> VolunteerTeam:
    """Set up a new volunteer team (组建志愿服务队) under a community committee or street office."""
    from huying.people.services import unit_create

    if not is_unit_staff(actor, parent):
        raise DomainError("community.volunteer.forbidden", _("只有所属社区（街道）工作人员可以组建队伍。"), status=403)
    if parent.kind != UnitKind.TERRITORIAL or not (parent.division_id or parent.grid_id):
        raise DomainError("community.volunteer.bad_parent", _("志愿服务队只能设在社区居委会、街道办事处或网格工作站下。"),
                          field="parent")
    name = clean_text(name, field="name", max_length=120)
    if not name:
        raise DomainError("community.volunteer.name_required", _("请填写队伍名称。"), field="name")
    if team_type not in TeamType.values:
        raise DomainError("community.volunteer.bad_team_type", _("队伍类型无效。"), field="team_type")
    if Unit.objects.filter(parent=parent, kind=UnitKind.VOLUNTEER_TEAM, name=name).exists():
        raise DomainError("community.volunteer.team_exists", _("本单位已有同名的志愿服务队。"), field="name", status=409)
    who = clean_text(leader_who, field="leader", max_length=150)
    leader = _find_person(who, field="leader") if who else None
    unit = unit_create(code=_free_unit_code(parent), name=name, kind=UnitKind.VOLUNTEER_TEAM, parent=parent,
                       actor=actor)
    team = volunteer_team_setup(unit, team_type=team_type, leader=leader, actor=actor)
    if leader is not None:
        volunteer_register(team, user=leader, actor=actor)
    return team


@transaction.atomic
def volunteer_self_register(team: VolunteerTeam, *, user: User, skills: str = "", availability: str = "",
                            consent: bool = False) -> VolunteerProfile:
    """A resident registers themself as a volunteer (本人登记) in a team of their community or street."""
    from .selectors_volunteers import team_open_to

    if not team_open_to(user, team):
        raise DomainError("community.volunteer.team_not_found", _("找不到该队伍。"), status=404)
    skills = clean_text(skills, field="skills", max_length=200, label=_("技能特长"))
    availability = clean_text(availability, field="availability", max_length=200, label=_("可服务时间"))
    if not consent:
        raise DomainError("community.volunteer.consent_required",
                          _("请阅读并勾选同意个人信息使用说明后再登记。"), field="consent")
    if is_team_member(user, team):
        raise DomainError("community.volunteer.already_member",
                          _("您已是%(team)s的志愿者，无需重复登记。") % {"team": team.unit.name}, status=409)
    profile, created = VolunteerProfile.objects.get_or_create(
        user=user, defaults={"skills": skills, "availability": availability, "registered_by_id": team.unit.parent_id})
    if not created and (skills or availability):
        profile.skills, profile.availability = skills or profile.skills, availability or profile.availability
        profile.save(update_fields=["skills", "availability"])
    membership_grant(user, unit=team.unit, role_code=RoleCode.VOLUNTEER, actor=user, reason=_("本人登记为志愿者"))
    audit_log(profile, "community.volunteer.self_registered", actor=user, new={
        "user": user.username, "team": team.unit.code, "skills": profile.skills,
        "availability": profile.availability, "consent": CONSENT_VERSION})
    return profile


@transaction.atomic
def volunteer_enrol(team: VolunteerTeam, *, actor, who: str = "", display_name: str = "", phone: str = "",
                    skills: str = "", availability: str = "") -> VolunteerProfile:
    """A leader registers a person: an existing user by username or mobile, or a new person (no login)."""
    from huying.people.services import validate_phone

    _require_manager(actor, team)
    who = clean_text(who, field="who", max_length=150)
    skills = clean_text(skills, field="skills", max_length=200, label=_("技能特长"))
    availability = clean_text(availability, field="availability", max_length=200, label=_("可服务时间"))
    if who:
        user = _find_person(who, field="who")
        if is_team_member(user, team):
            raise DomainError("community.volunteer.already_member",
                              _("%(name)s 已是本队志愿者。") % {"name": user.display_name or user.username},
                              field="who", status=409)
        return volunteer_register(team, actor=actor, user=user, skills=skills, availability=availability)
    name = clean_text(display_name, field="display_name", max_length=60, label=_("姓名"))
    if not name:
        raise DomainError("community.volunteer.who_required",
                          _("请填写已有人员的用户名或手机号，或新登记人员的姓名。"), field="who")
    phone = validate_phone(clean_text(phone, field="phone", max_length=20, label=_("手机号")))
    if phone and User.objects.filter(phone=phone).exists():
        raise DomainError("community.volunteer.phone_known",
                          _("该手机号已有账号，请在“用户名或手机号”中填写它。"), field="phone", status=409)
    return volunteer_register(team, actor=actor, username=_free_username(phone), display_name=name, phone=phone,
                              skills=skills, availability=availability)


@transaction.atomic
def volunteer_remove(team: VolunteerTeam, *, user: User, actor, reason: str) -> Membership:
    """The leader removes a volunteer from the team (移出), with a reason; their hours stay."""
    from huying.people.services import membership_revoke

    _require_manager(actor, team)
    reason = clean_text(reason, field="reason", max_length=200)
    if not reason:
        raise DomainError("community.volunteer.reason_required", _("请填写移出原因。"), field="reason")
    membership = Membership.objects.filter(user=user, unit_id=team.unit_id, role__code=RoleCode.VOLUNTEER,
                                           active=True).first()
    if membership is None:
        raise DomainError("community.volunteer.not_member", _("此人不是本队志愿者。"), status=404)
    if team.leader_id == user.pk:
        raise DomainError("community.volunteer.is_leader", _("不能移出队长，请先更换队长。"), status=409)
    membership = membership_revoke(membership, actor=actor, reason=reason)
    audit_log(team, "community.volunteer.removed", actor=actor, new={"user": user.username}, reason=reason)
    return membership


@transaction.atomic
def river_stretch_setup(team: VolunteerTeam, *, name: str, grid_ids, actor) -> RiverStretch:
    """A river-chief team's leader or its committee records a stretch (登记河段) in the team's territory."""
    from huying.territory.models import UNIFIED_LAYER, Grid

    from .selectors_volunteers import team_territory_code

    _require_manager(actor, team)
    if team.team_type != TeamType.RIVER_CHIEFS:
        raise DomainError("community.stretch.not_river_team", _("只有民间河长队可以登记河段。"), status=400)
    name = clean_text(name, field="name", max_length=120, label=_("河段名称"))
    if not name:
        raise DomainError("community.stretch.name_required", _("请填写河段名称。"), field="name")
    try:
        ids = sorted({int(i) for i in grid_ids or ()})
    except (TypeError, ValueError):
        raise DomainError("community.stretch.bad_grid", _("所选网格无效。"), field="grids") from None
    if not ids:
        raise DomainError("community.stretch.grids_required", _("请至少选择一个河段流经的网格。"), field="grids")
    grids = list(Grid.objects.filter(pk__in=ids, layer=UNIFIED_LAYER).select_related("community").order_by("code"))
    territory = team_territory_code(team) or ""
    if len(grids) != len(ids) or any(not g.code.startswith(territory) for g in grids):
        raise DomainError("community.stretch.grid_outside", _("所选网格不在本队所属辖区内。"), field="grids")
    community = grids[0].community
    if RiverStretch.objects.filter(name=name, community=community).exists():
        raise DomainError("community.stretch.exists", _("该社区已登记同名河段。"), field="name", status=409)
    return river_stretch_create(name=name, actor=actor, community=community, grids=grids)
