"""Small scoped reads the Party pages and API need beside `party.selectors` (which they also use)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from huying.people.models import RoleCode
from huying.people.scope import scope_for
from huying.territory.models import Division, Level

from . import access
from .models import (
    Member,
    MemberReport,
    Need,
    NeedStatus,
    PartyOrganisation,
    ReportStatus,
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
