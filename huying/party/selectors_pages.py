"""Small scoped reads the Party pages and API need beside `party.selectors` (which they also use)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from huying.people.models import RoleCode, Unit
from huying.people.scope import scope_for
from huying.territory.models import Division, Level

from . import access
from .models import (
    TERRITORIAL_TYPES,
    Attendance,
    CoBuildingPairing,
    CoBuildingProblem,
    Commitment,
    CommitmentUpdate,
    HalfYearReturn,
    JointActivity,
    JointBodyMember,
    Member,
    MemberReport,
    MemberStatus,
    Need,
    NeedStatus,
    PartyOrganisation,
    ReportStatus,
    ServiceTeam,
    ServiceTeamMember,
    StarRating,
    UnitReport,
)

_OPEN = (ReportStatus.PENDING, ReportStatus.CONFIRMED)


def member_of(actor) -> Member | None:
    """The actor's own member record, if they are a member."""
    if not getattr(actor, "pk", None):
        return None
    return (Member.objects.filter(user_id=actor.pk)
            .select_related("user", "organisation__unit", "home_community", "home_grid").first())


def member_report_current(member: Member) -> MemberReport | None:
    """The member's open report (pending or confirmed), else the latest one."""
    qs = MemberReport.objects.filter(member=member).select_related("community").order_by("-reported_at", "-id")
    return qs.filter(status__in=_OPEN).first() or qs.first()


def needs_claimed_by(member: Member) -> QuerySet[Need]:
    return Need.objects.filter(claimed_by_member=member, status=NeedStatus.CLAIMED).select_related("community")


def rating_latest(member: Member) -> StarRating | None:
    return StarRating.objects.filter(member=member).select_related("rule_set").order_by("-year").first()


def organisations_led(actor) -> QuerySet[PartyOrganisation]:
    """Organisations where the actor is secretary (the ones their page offers first)."""
    return (PartyOrganisation.objects.filter(unit_id__in=sorted(access.secretary_unit_ids(actor)))
            .select_related("unit", "street").order_by("unit__code"))


def organisation_managed(actor, pk) -> PartyOrganisation | None:
    """An organisation the actor manages (their own or one below it), or None."""
    org = PartyOrganisation.objects.select_related("unit", "street", "division").filter(pk=pk).first()
    return org if org is not None and access.can_manage_org(actor, org) else None


def unit_report_current(org: PartyOrganisation) -> UnitReport | None:
    qs = UnitReport.objects.filter(organisation=org).select_related("street").order_by("-reported_at", "-id")
    return qs.filter(status__in=_OPEN).first() or qs.first()


def communities_for(actor, search: str = "") -> QuerySet[Division]:
    """Communities the actor acts for (staff of the community, or of a street/district above it)."""
    qs = Division.objects.filter(level=Level.COMMUNITY)
    if not access.is_admin(actor):
        codes = access.staff_territory_codes(actor)
        if not codes:
            return qs.none()
        if "" not in codes:
            q = Q(pk__in=[])
            for code in codes:
                # a grid's staff act for no community as a whole; their grid code is longer than it
                q |= Q(code__startswith=code)
            qs = qs.filter(q)
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(short_name__icontains=search))
    return qs.order_by("code")


def community_needs(actor, community: Division) -> QuerySet[Need]:
    """Open and claimed wishes and needs of a community, for its staff."""
    if not access.can_act_for_territory(actor, community.code):
        return Need.objects.none()
    return (Need.objects.filter(community=community, status__in=[NeedStatus.OPEN, NeedStatus.CLAIMED])
            .select_related("claimed_by_member__user", "claimed_by_org__unit").order_by("status", "-posted_at"))


def summary_trail(actor, code: str) -> list[Division]:
    """The divisions above `code` whose summary the actor may also open (for the breadcrumb)."""
    d = Division.objects.filter(code=code).select_related("parent__parent__parent").first()
    scope = scope_for(actor)
    everything = access.is_admin(actor) or (scope.whole_city and scope.has_any_role(RoleCode.LEADER, RoleCode.ADMIN))
    codes = access.staff_territory_codes(actor, roles=access.TERRITORY_VIEW_ROLES)
    trail = []
    d = d.parent if d is not None else None
    while d is not None:
        allowed = everything or "" in codes or (d.level != Level.CITY and any(d.code.startswith(c) for c in codes))
        if allowed:
            trail.insert(0, d)
        d = d.parent
    return trail


# -- joint activities --------------------------------------------------------------------------
def activity_get(actor, pk) -> JointActivity | None:
    """A joint activity the actor may see (see `selectors.activity_list`), or None."""
    from .selectors import activity_list

    return activity_list(actor=actor).filter(pk=pk).select_related("community", "pairing").first()


def activity_may_organise(actor, activity: JointActivity) -> bool:
    """Whether the page offers the record form (the service decides again)."""
    if access.can_act_for_territory(actor, activity.community.code):
        return True
    return activity.planners.filter(pk__in=sorted(access.managed_unit_ids(actor))).exists()


def activity_planner_units(community: Division) -> QuerySet[Unit]:
    """Units that may plan with a community: the 大党委's member units and the unit organisations
    sitting in the community."""
    body_units = JointBodyMember.objects.filter(body__unit__code=f"party-{community.code}", active=True
                                                ).values("unit_id")
    located = PartyOrganisation.objects.filter(division__code__startswith=community.code).exclude(
        org_type__in=TERRITORIAL_TYPES).values("unit_id")
    return Unit.objects.filter(Q(pk__in=body_units) | Q(pk__in=located)).order_by("code")


def activity_attendees(activity: JointActivity, *, limit: int = 300) -> list[Member]:
    """Who may be marked present: members confirmed in the community, members of the planning
    units' organisations, and whoever is already on the attendance list."""
    reported = MemberReport.objects.filter(community=activity.community, status=ReportStatus.CONFIRMED
                                           ).values("member_id")
    planners = activity.planners.values("pk")
    marked = Attendance.objects.filter(activity=activity).values("member_id")
    qs = (Member.objects.filter(Q(pk__in=reported) | Q(organisation__unit_id__in=planners) | Q(pk__in=marked),
                                status=MemberStatus.ACTIVE)
          .select_related("user", "organisation__unit").order_by("organisation__unit__code", "user__username"))
    return list(qs[:limit])


def activity_attendance(activity: JointActivity) -> dict[int, str]:
    return dict(Attendance.objects.filter(activity=activity).values_list("member_id", "status"))


# -- co-building -------------------------------------------------------------------------------
def pairing_get(actor, pk) -> CoBuildingPairing | None:
    from .selectors import pairing_list

    return pairing_list(actor=actor).filter(pk=pk).first()


def pairing_may_manage(actor, pairing: CoBuildingPairing) -> bool:
    from .services.cobuilding import _may_manage

    return _may_manage(actor, pairing)


def pairing_agreements(pairing: CoBuildingPairing):
    """Agreements with their commitments and each commitment's latest updates."""
    updates = Prefetch("updates", queryset=CommitmentUpdate.objects.select_related("by").order_by("-at", "-id"))
    commitments = Prefetch("commitments", queryset=Commitment.objects.select_related("unit")
                           .prefetch_related(updates).order_by("pk"))
    return pairing.agreements.prefetch_related(commitments).order_by("-signed_on", "-pk")


def pairing_problems(pairing: CoBuildingPairing, *, status: str | None = None) -> QuerySet[CoBuildingProblem]:
    qs = pairing.problems.select_related("raised_by").order_by("status", "-raised_at")
    return qs.filter(status=status) if status else qs


def problem_get(actor, pk) -> CoBuildingProblem | None:
    from .selectors import pairing_list

    return (CoBuildingProblem.objects.filter(pk=pk, pairing__in=pairing_list(actor=actor))
            .select_related("pairing", "raised_by").first())


def unit_by_code_or_name(value: str) -> Unit | None:
    """A Party unit named exactly by its code or its name (the partner form's free text)."""
    value = (value or "").strip()
    if not value:
        return None
    qs = Unit.objects.filter(party_org__isnull=False)
    return qs.filter(code=value).first() or qs.filter(name=value).order_by("code").first()


# -- star rating -------------------------------------------------------------------------------
def rating_get(actor, pk) -> StarRating | None:
    """A rating the actor may see: the member's own, or one of an organisation they manage."""
    r = (StarRating.objects.filter(pk=pk)
         .select_related("member__user", "member__organisation__unit", "rule_set", "reviewed_by").first())
    if r is None:
        return None
    if r.member.user_id == getattr(actor, "pk", None) or access.can_manage_org(actor, r.member.organisation):
        return r
    return None


# -- service teams and half-year returns -------------------------------------------------------
def teams_of(community: Division, *, search: str = "") -> QuerySet[ServiceTeam]:
    qs = (ServiceTeam.objects.filter(community=community).select_related("unit")
          .annotate(size=Count("members", distinct=True)))
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(unit__name__icontains=search) | Q(speciality__icontains=search))
    return qs.order_by("unit__code")


def teams_joined(member: Member | None) -> set[int]:
    if member is None:
        return set()
    return set(ServiceTeamMember.objects.filter(member=member).values_list("team_id", flat=True))


def communities_reported(member: Member | None) -> QuerySet[Division]:
    """Communities the member is confirmed in (where they may join a team)."""
    if member is None:
        return Division.objects.none()
    return Division.objects.filter(member_reports__member=member,
                                   member_reports__status=ReportStatus.CONFIRMED).distinct().order_by("code")


def returns_sent(community: Division):
    """Half-year returns a community has sent, per period."""
    return (HalfYearReturn.objects.filter(community=community).values("period")
            .annotate(n=Count("id"), hours=Sum("hours")).order_by("-period"))


def activity_communities(actor) -> list[Division]:
    """Communities whose activities the actor may plan: those they act for, and those where an
    organisation they manage sits."""
    staff = list(communities_for(actor)[:200])
    managed = sorted(access.managed_unit_ids(actor))
    located = Division.objects.filter(
        level=Level.COMMUNITY, pk__in=PartyOrganisation.objects.filter(unit_id__in=managed).values("division_id"),
    ) if managed else Division.objects.none()
    seen = {d.pk for d in staff}
    return staff + [d for d in located.order_by("code") if d.pk not in seen]


def pairings_page(actor, *, search: str = "") -> QuerySet[CoBuildingPairing]:
    """The pairings the actor may see, with the counts a list shows (one query for the page)."""
    from .models import ProblemStatus
    from .selectors import pairing_list

    qs = pairing_list(actor=actor)
    search = (search or "").strip()
    if search:
        qs = qs.filter(name__icontains=search)
    return (qs.annotate(n_partners=Count("partners", distinct=True),
                        n_agreements=Count("agreements", distinct=True),
                        n_open=Count("problems", filter=Q(problems__status=ProblemStatus.OPEN), distinct=True))
            .order_by("-started_on", "-pk"))
