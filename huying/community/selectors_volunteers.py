"""Volunteer reads shared by pages, the demo and the Party star rating's fact source.

Personal fields (phone) are masked here, once: only the team's leader and the staff of the unit
that registered the volunteer (the committee or street office the team belongs to) see them whole.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from huying.people.masking import mask_id_number, mask_phone
from huying.people.models import Membership, RoleCode

from .models import (
    ActivitySignup,
    Patrol,
    PatrolFinding,
    RiverStretch,
    VolunteerActivity,
    VolunteerProfile,
    VolunteerTeam,
)
from .volunteers import can_manage_team


def my_teams(user) -> list[VolunteerTeam]:
    unit_ids = Membership.objects.filter(user=user, role__code=RoleCode.VOLUNTEER, active=True).values("unit_id")
    return list(VolunteerTeam.objects.filter(unit_id__in=unit_ids).select_related("unit", "leader").order_by("unit__code"))


def led_teams(user) -> list[VolunteerTeam]:
    """Teams this user may run (leader, or staff of the team's parent unit)."""
    parents = Membership.objects.filter(user=user, active=True).exclude(
        role__code__in=[RoleCode.VOLUNTEER, RoleCode.RESIDENT]).values("unit_id")
    qs = VolunteerTeam.objects.select_related("unit", "leader")
    if not user.is_superuser:
        qs = qs.filter(Q(leader=user) | Q(unit__parent_id__in=parents))
    return list(qs.order_by("unit__code"))


def open_activities(user, *, now=None, limit: int = 20) -> list[VolunteerActivity]:
    """Activities of the user's teams that have not ended, with the places taken and whether they signed up."""
    now = now or timezone.now()
    teams = [t.pk for t in my_teams(user)]
    rows = list(VolunteerActivity.objects.filter(team_id__in=teams, ends_at__gt=now).select_related("team__unit")
                .annotate(taken=Count("signups")).order_by("starts_at")[:limit])
    mine = set(ActivitySignup.objects.filter(user=user, activity__in=rows).values_list("activity_id", flat=True))
    for a in rows:
        a.signed_up = a.pk in mine
        a.full = a.taken >= a.capacity
    return rows


def hours_total(*, user=None, team=None) -> Decimal:
    qs = ActivitySignup.objects.all()
    if user is not None:
        qs = qs.filter(user=user)
    if team is not None:
        qs = qs.filter(activity__team=team)
    return qs.aggregate(h=Sum("hours"))["h"] or Decimal(0)


def hours_by_volunteer(team: VolunteerTeam) -> dict[int, Decimal]:
    return {r["user_id"]: r["h"] for r in ActivitySignup.objects.filter(activity__team=team)
            .values("user_id").annotate(h=Sum("hours")).order_by()}


def volunteer_hours_by_month(user_ids, *, start, end):
    """The fact source the Party star rating counts (core.facts): (user_id, month, hours) per month."""
    rows = (ActivitySignup.objects.filter(user_id__in=list(user_ids), served_on__gte=start, served_on__lte=end,
                                          hours__gt=0)
            .annotate(m=TruncMonth("served_on")).values("user_id", "m").annotate(h=Sum("hours")).order_by())
    return [(r["user_id"], r["m"], r["h"]) for r in rows]


def team_roster(team: VolunteerTeam, *, actor) -> list[dict]:
    """The team's volunteers with skills, availability, hours; phone and ID whole only for its managers."""
    whole = can_manage_team(actor, team)
    hours = hours_by_volunteer(team)
    users = (Membership.objects.filter(unit=team.unit, role__code=RoleCode.VOLUNTEER, active=True)
             .select_related("user").order_by("user__display_name", "user_id"))
    profiles = {p.user_id: p for p in VolunteerProfile.objects.filter(user_id__in=users.values("user_id"))}
    out = []
    for m in users:
        u, p = m.user, profiles.get(m.user_id)
        out.append({"user": u, "name": u.display_name or u.username,
                    "phone": u.phone if whole else mask_phone(u.phone),
                    "id_number": u.id_number if whole else mask_id_number(u.id_number),
                    "skills": p.skills if p else "", "availability": p.availability if p else "",
                    "hours": hours.get(u.pk, Decimal(0)), "leader": u.pk == team.leader_id})
    return out


def activity_checkin_list(activity: VolunteerActivity, *, actor) -> list[ActivitySignup]:
    rows = list(activity.signups.select_related("user").order_by("signed_up_at", "id"))
    whole = can_manage_team(actor, activity.team)
    for s in rows:
        s.phone_shown = s.user.phone if whole else mask_phone(s.user.phone)
    return rows


def team_activities(team: VolunteerTeam, *, limit: int = 30) -> list[VolunteerActivity]:
    return list(team.activities.annotate(taken=Count("signups"), hours=Sum("signups__hours"))
                .order_by("-starts_at")[:limit])


def stretches_for(team: VolunteerTeam) -> list[RiverStretch]:
    """River stretches in the territory of the team's parent unit (its street or community)."""
    parent = team.unit.parent
    division = parent.division if parent is not None else None
    qs = RiverStretch.objects.all()
    if division is not None and division.level != "city":
        qs = qs.filter(Q(community__code__startswith=division.code) | Q(grids__code__startswith=division.code))
    return list(qs.distinct().order_by("name"))


def order_states(order_ids) -> dict[int, str]:
    """The current state label of the work orders findings point at (a read of dispatch's table by id)."""
    from huying.dispatch.models import State, WorkOrder

    ids = [i for i in order_ids if i]
    if not ids:
        return {}
    return {pk: str(State(s).label) for pk, s in WorkOrder.objects.filter(pk__in=ids).values_list("pk", "state")}


def my_patrols(user, *, limit: int = 10) -> list[Patrol]:
    patrols = list(Patrol.objects.filter(patroller=user).select_related("stretch", "grid")[:limit])
    findings = defaultdict(list)
    for f in PatrolFinding.objects.filter(patrol__in=patrols):
        findings[f.patrol_id].append(f)
    states = order_states(f.work_order_id for fs in findings.values() for f in fs)
    for p in patrols:
        p.finding_list = findings.get(p.pk, [])
        for f in p.finding_list:
            f.order_state = states.get(f.work_order_id, "")
    return patrols


def grids_for(team: VolunteerTeam, *, limit: int = 200):
    """Unified grids in the territory of the team's parent unit (where its neighbourhood watch patrols)."""
    from huying.territory.models import UNIFIED_LAYER, Grid

    parent = team.unit.parent
    qs = Grid.objects.filter(layer=UNIFIED_LAYER)
    if parent is not None and parent.grid_id:
        return list(qs.filter(pk=parent.grid_id))
    if parent is not None and parent.division_id and parent.division.level != "city":
        qs = qs.filter(code__startswith=parent.division.code)
    return list(qs.order_by("code")[:limit])


# -- registration, setup and the dashboard tile --------------------------------------------------
def team_territory_code(team: VolunteerTeam) -> str | None:
    """The code of the territory the team serves: that of its parent unit (committee, street, grid station)."""
    parent = team.unit.parent
    if parent is None:
        return None
    return parent.territory_code


def home_community_codes(user) -> set[str]:
    """Codes of the communities where the user lives or works (their units' community, or a grid's community)."""
    from huying.territory.models import Level

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    out = set()
    for m in (Membership.objects.filter(user=user, active=True, unit__active=True)
              .exclude(role__code=RoleCode.VOLUNTEER).select_related("unit__division", "unit__grid__community")):
        unit = m.unit
        if unit.grid_id:
            out.add(unit.grid.community.code)
        elif unit.division_id and unit.division.level == Level.COMMUNITY:
            out.add(unit.division.code)
    return out


def teams_open_to(user) -> list[VolunteerTeam]:
    """Teams a person may join themself: those of their community (its committee or grid stations) or street."""
    from huying.territory.models import Division

    codes = home_community_codes(user)
    if not codes:
        return []
    streets = set(Division.objects.filter(code__in=codes).exclude(parent=None).values_list("parent__code", flat=True))
    q = Q(unit__parent__division__code__in=codes | streets)
    for c in codes:
        q |= Q(unit__parent__grid__code__startswith=c)
    return list(VolunteerTeam.objects.filter(q, unit__active=True).select_related("unit__parent", "leader")
                .order_by("unit__code"))


def team_open_to(user, team: VolunteerTeam) -> bool:
    return any(t.pk == team.pk for t in teams_open_to(user))


def staff_units(user) -> list:
    """Territorial units (committee, street office, grid station) under which this person may set up teams."""
    from huying.people.models import Unit, UnitKind

    from .volunteers import STAFF_EXCLUDED_ROLES

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    qs = Unit.objects.filter(kind=UnitKind.TERRITORIAL, active=True).filter(
        Q(division__isnull=False) | Q(grid__isnull=False))
    if not user.is_superuser:
        ids = Membership.objects.filter(user=user, active=True).exclude(
            role__code__in=STAFF_EXCLUDED_ROLES).values("unit_id")
        qs = qs.filter(pk__in=ids)
    return list(qs.select_related("division", "grid").order_by("code")[:50])


def team_registrations(team: VolunteerTeam, *, actor, limit: int = 100) -> list[dict]:
    """The team's volunteers, newest registration first; phone and ID whole only for its managers."""
    whole = can_manage_team(actor, team)
    rows = list(Membership.objects.filter(unit=team.unit, role__code=RoleCode.VOLUNTEER, active=True)
                .select_related("user").order_by("-created_at", "-id")[:limit])
    profiles = {p.user_id: p for p in VolunteerProfile.objects.filter(user_id__in=[m.user_id for m in rows])}
    out = []
    for m in rows:
        u, p = m.user, profiles.get(m.user_id)
        out.append({"user": u, "name": u.display_name or u.username, "joined_at": m.created_at,
                    "phone": u.phone if whole else mask_phone(u.phone),
                    "id_number": u.id_number if whole else mask_id_number(u.id_number),
                    "skills": p.skills if p else "", "availability": p.availability if p else "",
                    "leader": u.pk == team.leader_id})
    return out


def _teams_in(prefix: str):
    qs = VolunteerTeam.objects.all()
    if prefix:
        qs = qs.filter(Q(unit__parent__division__code__startswith=prefix) | Q(unit__parent__grid__code__startswith=prefix))
    return qs


def volunteers_tile(*, prefix: str, now):
    """Dashboard tile: volunteers registered in the territory's teams, and their hours this year."""
    from django.utils.translation import gettext as _

    from huying.core import tiles

    teams = _teams_in(prefix)
    if not teams.exists():
        return None
    people = (Membership.objects.filter(unit_id__in=teams.values("unit_id"), role__code=RoleCode.VOLUNTEER, active=True)
              .values("user_id").distinct().count())
    year = timezone.localdate(now).year
    hours = (ActivitySignup.objects.filter(activity__team__in=teams, served_on__year=year)
             .aggregate(h=Sum("hours"))["h"] or Decimal(0))
    return tiles.TileValue(value=str(people), note=_("名注册志愿者 · 今年服务 %(h)s 小时") % {
        "h": f"{Decimal(hours):.1f}"})


def register_tiles() -> None:
    from django.utils.translation import gettext_lazy as _lazy

    from huying.core import tiles

    tiles.register("community_volunteers", title=_lazy("志愿服务"), fn=volunteers_tile, order=175)
