"""Reads of the Party-building work system (书记领航, 四级动力轴): who may see and edit what, the
district roll-up the organisation department reads, and one district's drill-down.

Who:
- the organisation department (组织部门), administrators and leaders oversee every plan, point and
  meeting in their territory (the whole city for city-level units); the department and
  administrators edit anything there, a leader keeps their own contact points;
- a secretary sees and edits the plans (and their measures, sites, projects) of the organisations
  they manage (`access.managed_unit_ids`), and the joint meetings of a district their unit covers.

Overdue is decided by Beijing's local date (`timezone.localdate`), never the UTC date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from huying.people.models import RoleCode
from huying.people.scope import scope_for
from huying.territory.models import Division, Level

from . import access
from .models import (
    ContactPoint,
    ContactVisit,
    DecisionStatus,
    DemonstrationSite,
    JointMeeting,
    KeyProject,
    MeetingDecision,
    Milestone,
    WorkMeasure,
    WorkPlan,
    WorkStatus,
)

VISIT_WINDOW_DAYS = 90
CLOSED = (WorkStatus.DONE, WorkStatus.DROPPED)
NOTHING = Q(pk__in=[])


def today(now=None) -> date:
    """Beijing's date at `now` (default: now)."""
    return timezone.localdate(now) if now is not None else timezone.localdate()


# -- who ---------------------------------------------------------------------------------------
def _authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and actor.is_active


def is_department(actor) -> bool:
    """Holds the organisation department's role (组织部门), at any level."""
    return _authenticated(actor) and scope_for(actor).has_role(RoleCode.ORG_DEPARTMENT)


def may_oversee(actor) -> bool:
    """Sees the roll-up by district: the organisation department, administrators and leaders."""
    if not _authenticated(actor):
        return False
    if actor.is_superuser or access.is_admin(actor):
        return True
    return scope_for(actor).has_any_role(RoleCode.ORG_DEPARTMENT, RoleCode.LEADER, RoleCode.ADMIN)


def covers(actor, code: str) -> bool:
    """Whether the actor's territory (as overseer) covers a division code."""
    return access.is_admin(actor) or scope_for(actor).covers(code)


def may_edit_territory(actor, division: Division) -> bool:
    """The organisation department and administrators edit anything in their territory."""
    if access.is_admin(actor):
        return True
    return is_department(actor) and scope_for(actor).covers(division.code)


def may_edit_plan(actor, plan: WorkPlan) -> bool:
    """The department over the plan's territory, or a secretary of the plan's organisation (or above)."""
    if may_edit_territory(actor, plan.division):
        return True
    return plan.organisation.unit_id in access.managed_unit_ids(actor)


def may_edit_meeting(actor, meeting: JointMeeting) -> bool:
    """The department, or the district's own Party staff (its secretaries and leaders)."""
    return may_edit_territory(actor, meeting.district) or access.can_act_for_territory(actor, meeting.district.code)


def may_close_decision(actor, decision: MeetingDecision) -> bool:
    """Whoever edits the meeting, or a secretary of the unit that owns the decision."""
    return may_edit_meeting(actor, decision.meeting) or decision.owner_unit_id in access.managed_unit_ids(actor)


def may_edit_point(actor, point: ContactPoint) -> bool:
    """The leader keeping the point, or the department over its territory."""
    return getattr(actor, "pk", None) == point.leader_id or may_edit_territory(actor, point.division)


# -- lists, scoped -----------------------------------------------------------------------------
def plans_visible(actor) -> QuerySet[WorkPlan]:
    qs = WorkPlan.objects.select_related("organisation__unit", "division")
    if not _authenticated(actor):
        return qs.none()
    if may_oversee(actor):
        return qs.filter(scope_for(actor).territory_q("division__code")) if not access.is_admin(actor) else qs
    managed = access.managed_unit_ids(actor)
    return qs.filter(organisation__unit_id__in=sorted(managed)) if managed else qs.none()


def plan_get(actor, pk) -> WorkPlan | None:
    return plans_visible(actor).filter(pk=pk).first()


def plan_organisations(actor):
    """The Party organisations the actor may write a plan for: those they manage, or (department) any."""
    from .models import PartyOrganisation

    qs = PartyOrganisation.objects.select_related("unit", "division").filter(division__isnull=False)
    if access.is_admin(actor):
        return qs.order_by("unit__code")
    if is_department(actor):
        return qs.filter(scope_for(actor).territory_q("division__code")).order_by("unit__code")
    managed = access.managed_unit_ids(actor)
    return qs.filter(unit_id__in=sorted(managed)).order_by("unit__code") if managed else qs.none()


def points_visible(actor) -> QuerySet[ContactPoint]:
    qs = ContactPoint.objects.select_related("leader", "division")
    if not _authenticated(actor):
        return qs.none()
    if may_oversee(actor):
        return qs if access.is_admin(actor) else qs.filter(
            Q(leader_id=actor.pk) | scope_for(actor).territory_q("division__code"))
    codes = access.staff_territory_codes(actor)
    q = Q(leader_id=actor.pk)
    for code in codes:
        q |= Q(division__code__startswith=code)
    return qs.filter(q)


def point_get(actor, pk) -> ContactPoint | None:
    return points_visible(actor).filter(pk=pk).first()


def meetings_visible(actor) -> QuerySet[JointMeeting]:
    qs = JointMeeting.objects.select_related("district")
    if not _authenticated(actor):
        return qs.none()
    if access.is_admin(actor):
        return qs
    q = scope_for(actor).territory_q("district__code") if may_oversee(actor) else NOTHING
    codes = access.staff_territory_codes(actor)
    if "" in codes:
        return qs
    # staff of a district, or of a street or community in it (they attend its meetings)
    ids = [d.pk for d in Division.objects.filter(level=Level.DISTRICT).only("code")
           if any(c.startswith(d.code) or d.code.startswith(c) for c in codes)]
    if ids:
        q |= Q(district_id__in=ids)
    managed = access.managed_unit_ids(actor)
    if managed:  # the owners of its decisions see the meeting that gave them work
        q |= Q(decisions__owner_unit_id__in=sorted(managed))
    return qs.filter(q).distinct()


def meeting_get(actor, pk) -> JointMeeting | None:
    return meetings_visible(actor).filter(pk=pk).first()


def districts_overseen(actor) -> QuerySet[Division]:
    qs = Division.objects.filter(level=Level.DISTRICT).order_by("code")
    if access.is_admin(actor):
        return qs
    if not may_oversee(actor):
        return qs.none()
    scope = scope_for(actor)
    if scope.whole_city:
        return qs
    # a district-level department or leader: their own district(s); below a district, none
    ids = [d.pk for d in qs.only("code") if any(d.code.startswith(c) for c in scope.division_codes)]
    return qs.filter(pk__in=ids)


# -- flags -------------------------------------------------------------------------------------
def measure_overdue(measure: WorkMeasure, on: date) -> bool:
    return measure.status not in CLOSED and measure.due_on < on


def milestone_overdue(milestone: Milestone, on: date) -> bool:
    return milestone.done_on is None and milestone.due_on < on


def decision_overdue(decision: MeetingDecision, on: date) -> bool:
    return decision.status == DecisionStatus.OPEN and decision.due_on < on


def overdue_measures_q(on: date, prefix: str = "") -> Q:
    return ~Q(**{f"{prefix}status__in": CLOSED}) & Q(**{f"{prefix}due_on__lt": on})


# -- the roll-up by district -------------------------------------------------------------------
@dataclass
class DistrictRow:
    district: Division
    plans: int = 0
    measures: int = 0
    measures_done: int = 0
    measures_overdue: int = 0
    milestones_overdue: int = 0
    sites: int = 0
    projects: int = 0
    projects_progress: int | None = None  # mean %, None without projects
    points: int = 0
    visits_recent: int = 0
    decisions_open: int = 0
    decisions_overdue: int = 0
    extra: dict = field(default_factory=dict)


def _by_district(qs, code_field: str, width: int, **aggregates) -> dict[str, dict]:
    rows = qs.annotate(d=Substr(code_field, 1, width)).values("d").annotate(**aggregates).order_by()
    return {r["d"]: r for r in rows}


def district_rollup(actor, *, now=None) -> list[DistrictRow]:
    """Per district in the actor's oversight: plans, measures done/overdue, sites, key projects'
    mean progress, active contact points and their visits in the last 90 days, meeting decisions
    open/overdue. A fixed number of grouped queries, whatever the number of districts."""
    on = today(now)
    districts = list(districts_overseen(actor))
    if not districts:
        return []
    width = len(districts[0].code)
    plans = _by_district(WorkPlan.objects.all(), "division__code", width, n=Count("id"))
    measures = _by_district(WorkMeasure.objects.all(), "plan__division__code", width, n=Count("id"),
                            done=Count("id", filter=Q(status=WorkStatus.DONE)),
                            overdue=Count("id", filter=overdue_measures_q(on)))
    milestones = _by_district(
        Milestone.objects.filter(done_on__isnull=True, due_on__lt=on).annotate(
            code=Coalesce("measure__plan__division__code", "project__plan__division__code")),
        "code", width, n=Count("id"))
    sites = _by_district(DemonstrationSite.objects.all(), "plan__division__code", width, n=Count("id"))
    projects = _by_district(KeyProject.objects.all(), "plan__division__code", width, n=Count("id"),
                            mean=Avg("progress"))
    points = _by_district(ContactPoint.objects.filter(active=True), "division__code", width, n=Count("id"))
    visits = _by_district(ContactVisit.objects.filter(visited_on__gt=on - timedelta(days=VISIT_WINDOW_DAYS),
                                                      visited_on__lte=on),
                          "point__division__code", width, n=Count("id"))
    decisions = _by_district(MeetingDecision.objects.filter(status=DecisionStatus.OPEN), "meeting__district__code",
                             width, n=Count("id"), overdue=Count("id", filter=Q(due_on__lt=on)))
    out = []
    for d in districts:
        c = d.code
        m, p, dec = measures.get(c, {}), projects.get(c, {}), decisions.get(c, {})
        mean = p.get("mean")
        out.append(DistrictRow(
            district=d, plans=plans.get(c, {}).get("n", 0), measures=m.get("n", 0), measures_done=m.get("done", 0),
            measures_overdue=m.get("overdue", 0), milestones_overdue=milestones.get(c, {}).get("n", 0),
            sites=sites.get(c, {}).get("n", 0), projects=p.get("n", 0),
            projects_progress=round(mean) if mean is not None else None, points=points.get(c, {}).get("n", 0),
            visits_recent=visits.get(c, {}).get("n", 0), decisions_open=dec.get("n", 0),
            decisions_overdue=dec.get("overdue", 0)))
    return out


def city_plans(actor) -> QuerySet[WorkPlan]:
    """Plans above the districts (the city's own)."""
    return plans_visible(actor).filter(division__level=Level.CITY)


# -- one district ------------------------------------------------------------------------------
def district_detail(actor, district: Division, *, now=None) -> dict:
    """Everything of one district, for its drill-down page."""
    on = today(now)
    sub = Q(division__code__startswith=district.code)
    plans = list(plans_visible(actor).filter(sub).annotate(
        n_measures=Count("measures", distinct=True),
        n_done=Count("measures", filter=Q(measures__status=WorkStatus.DONE), distinct=True),
        n_overdue=Count("measures", filter=overdue_measures_q(on, "measures__"), distinct=True),
    ).order_by("division__code", "-year"))
    plan_ids = [p.pk for p in plans]
    projects = list(KeyProject.objects.filter(plan_id__in=plan_ids).select_related("plan", "owner_unit"))
    sites = list(DemonstrationSite.objects.filter(plan_id__in=plan_ids)
                 .select_related("plan", "division", "organisation__unit"))
    since = on - timedelta(days=VISIT_WINDOW_DAYS)
    points = list(ContactPoint.objects.filter(sub, active=True).select_related("leader", "division").annotate(
        recent=Count("visits", filter=Q(visits__visited_on__gt=since, visits__visited_on__lte=on))))
    meetings = list(JointMeeting.objects.filter(district=district).prefetch_related("decisions__owner_unit")
                    .order_by("-held_on", "-id")[:20])
    for mt in meetings:
        for dcs in mt.decisions.all():
            dcs.overdue = decision_overdue(dcs, on)
            dcs.may_close = dcs.status == DecisionStatus.OPEN and may_close_decision(actor, dcs)
    return {"plans": plans, "projects": projects, "sites": sites, "points": points, "meetings": meetings,
            "today": on}


def plan_detail(plan: WorkPlan, *, now=None) -> dict:
    """A plan's measures (with milestones), sites and projects, each flagged overdue by local date."""
    on = today(now)
    measures = list(plan.measures.select_related("owner_unit").prefetch_related("milestones"))
    for m in measures:
        m.overdue = measure_overdue(m, on)
        for ms in m.milestones.all():
            ms.overdue = milestone_overdue(ms, on)
    projects = list(plan.projects.select_related("owner_unit").prefetch_related("milestones"))
    for p in projects:
        p.overdue = p.due_on is not None and p.status not in CLOSED and p.due_on < on
        for ms in p.milestones.all():
            ms.overdue = milestone_overdue(ms, on)
    sites = list(plan.sites.select_related("division", "organisation__unit"))
    return {"measures": measures, "projects": projects, "sites": sites, "today": on}


def order_states(order_ids) -> dict[int, str]:
    """The current state label of work orders the Party records point at (id → label).

    A read of dispatch's table by id only (dispatch owns it; party stores the id and code).
    """
    from huying.dispatch.models import State, WorkOrder

    ids = [i for i in order_ids if i]
    if not ids:
        return {}
    return {pk: str(State(state).label) for pk, state in WorkOrder.objects.filter(pk__in=ids).values_list("pk", "state")}


def point_visits(point: ContactPoint) -> list[ContactVisit]:
    visits = list(point.visits.select_related("recorded_by"))
    states = order_states(v.work_order_id for v in visits)
    for v in visits:
        v.order_state = states.get(v.work_order_id, "")
    return visits


def unit_lookup(value: str):
    """Any active unit named exactly by its code or its name (the forms' free text)."""
    from huying.people.models import Unit

    value = (value or "").strip()
    if not value:
        return None
    qs = Unit.objects.filter(active=True)
    return qs.filter(code=value).first() or qs.filter(name=value).order_by("code").first()
