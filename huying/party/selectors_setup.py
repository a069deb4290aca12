"""Reads of the set-up pages: what lies below an organisation (sub-organisations, grids, studios,
members reported there) and the rule sets. Scoped by the organisation the page was allowed to open
(`selectors_pages.organisation_managed`), and, for territory, by that organisation's territory."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from huying.people.models import Membership, RoleCode
from huying.territory.models import UNIFIED_LAYER, Division, Grid, Level

from . import access
from .models import (
    GridInstructor,
    Member,
    MemberReport,
    PartyOrganisation,
    ReportStatus,
    Representative,
    StarRating,
    StarRuleSet,
    Studio,
)

CHOICES_LIMIT = 500


def territory_of(org: PartyOrganisation) -> str | None:
    """The territory code an organisation's set-up covers (None: a unit organisation covers none)."""
    return org.unit.territory_code


def children(org: PartyOrganisation, *, search: str = "") -> QuerySet[PartyOrganisation]:
    """The organisations directly below `org`, with how many units are below each."""
    qs = (PartyOrganisation.objects.filter(unit__parent_id=org.unit_id, unit__active=True)
          .select_related("unit", "division", "grid")
          .annotate(below=Count("unit__children", distinct=True)))
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(unit__name__icontains=search) | Q(unit__code__startswith=search))
    return qs.order_by("unit__code")


def secretary_names(orgs) -> dict[int, list[str]]:
    """Unit id → its secretaries' names, for a page of organisations (one query)."""
    out: dict[int, list[str]] = {}
    rows = (Membership.objects.filter(unit_id__in=[o.unit_id for o in orgs], role__code=RoleCode.PARTY_SECRETARY,
                                      active=True).select_related("user").order_by("id"))
    for m in rows:
        out.setdefault(m.unit_id, []).append(str(m.user))
    return out


def parent_choices(org: PartyOrganisation, managing: PartyOrganisation) -> list[PartyOrganisation]:
    """Where `org` may be moved on `managing`'s page: `managing` itself and its other direct children."""
    qs = (PartyOrganisation.objects.filter(Q(pk=managing.pk) | Q(unit__parent_id=managing.unit_id), unit__active=True)
          .exclude(pk=org.pk).select_related("unit").order_by("unit__code"))
    return list(qs[:CHOICES_LIMIT])


def root_organisations() -> QuerySet[PartyOrganisation]:
    """Organisations with no parent: where an administrator starts."""
    return PartyOrganisation.objects.filter(unit__parent__isnull=True).select_related("unit").order_by("unit__code")


# -- territory below an organisation --------------------------------------------------------------
def divisions_under(org: PartyOrganisation, *, limit: int = CHOICES_LIMIT) -> list[Division]:
    """Streets and communities in the organisation's territory (the create form's suggestions)."""
    code = territory_of(org)
    if code is None:
        return []
    return list(Division.objects.filter(code__startswith=code, level__in=[Level.STREET, Level.COMMUNITY])
                .order_by("code")[:limit])


def communities_under(org: PartyOrganisation, *, limit: int = CHOICES_LIMIT) -> list[Division]:
    code = territory_of(org)
    if code is None:
        return []
    return list(Division.objects.filter(code__startswith=code, level=Level.COMMUNITY).order_by("code")[:limit])


def grids_under(org: PartyOrganisation, *, limit: int = CHOICES_LIMIT) -> list[Grid]:
    code = territory_of(org)
    if code is None:
        return []
    return list(Grid.objects.filter(code__startswith=code, layer=UNIFIED_LAYER).order_by("code")[:limit])


def instructors_under(org: PartyOrganisation, *, current: bool = True) -> QuerySet[GridInstructor]:
    code = territory_of(org)
    if code is None:
        return GridInstructor.objects.none()
    qs = GridInstructor.objects.filter(grid__code__startswith=code).select_related("grid", "member__user")
    if current:
        qs = qs.filter(ended_on__isnull=True)
    return qs.order_by("grid__code", "started_on", "id")


def reported_members_under(org: PartyOrganisation, *, limit: int = CHOICES_LIMIT) -> list[Member]:
    """Members whose report to a community in this territory was confirmed: who may serve as instructors."""
    code = territory_of(org)
    if code is None:
        return []
    confirmed = MemberReport.objects.filter(member_id=OuterRef("pk"), status=ReportStatus.CONFIRMED,
                                            community__code__startswith=code)
    return list(Member.objects.filter(Exists(confirmed)).select_related("user", "home_community")
                .order_by("user__display_name", "id")[:limit])


def studios_under(org: PartyOrganisation) -> QuerySet[Studio]:
    code = territory_of(org)
    if code is None:
        return Studio.objects.none()
    return (Studio.objects.filter(community__code__startswith=code).select_related("community", "host__unit")
            .annotate(duty_count=Count("duties", filter=Q(duties__cancelled=False), distinct=True))
            .order_by("community__code", "id"))


def representatives(*, search: str = "") -> QuerySet[Representative]:
    qs = Representative.objects.filter(active=True).select_related("user")
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(user__display_name__icontains=search) | Q(user__username__icontains=search))
    return qs.order_by("level", "user__username")


def may_set_up_territory(actor, org: PartyOrganisation) -> bool:
    """Grid instructors and studios are the territory's business: its staff (or an administrator)."""
    code = territory_of(org)
    return code is not None and access.can_act_for_territory(actor, code)


# -- rule sets --------------------------------------------------------------------------------------
def rule_sets() -> QuerySet[StarRuleSet]:
    used = StarRating.objects.filter(rule_set_id=OuterRef("pk"))
    return (StarRuleSet.objects.annotate(in_use=Exists(used), org_count=Count("organisations", distinct=True))
            .order_by("-is_default", "name"))
