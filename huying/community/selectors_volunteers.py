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
