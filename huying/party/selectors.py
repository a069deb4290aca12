"""Shared reads of Party records, each scoped by the acting user (see `party.access`).

Listings of members come back as `MemberRow`s with identity data (identity number, phone, home
address) already masked unless the viewer is the member or a secretary of the member's own
organisation. Pages, API and exports use these and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.people.masking import personal
from huying.people.models import RoleCode
from huying.people.scope import scope_for
from huying.territory.models import Division, Level

from . import access
from .models import (
    CoBuildingPairing,
    CommitmentStatus,
    HalfYearReturn,
    JointActivity,
    Member,
    MemberReport,
    MemberStatus,
    Need,
    NeedStatus,
    PartyOrganisation,
    ProblemStatus,
    ReportStatus,
    ServiceRecord,
    ServiceTeam,
    StarRating,
    UnitReport,
)

_OPEN = (ReportStatus.PENDING, ReportStatus.CONFIRMED)


# -- members -----------------------------------------------------------------------------------
def members_visible(*, actor) -> QuerySet[Member]:
    """The member records the actor may see (unmasked model rows: for services and counts only)."""
    q = access.member_visibility_q(actor)
    qs = Member.objects.all()
    return qs if q is None else qs.filter(q)


@dataclass(frozen=True)
class MemberRow:
    """One member as the viewer may see them."""

    id: int
    user_id: int
    name: str
    phone: str
    id_number: str
    home_address: str
    organisation_id: int
    organisation: str
    home_community: str
    home_community_code: str
    status: str
    in_service: bool
    report_status: str  # "" when never reported (or the report ended)
    masked: bool


class MaskedMembers:
    """A lazy, sliceable listing of MemberRow (works with Django's Paginator)."""

    def __init__(self, queryset: QuerySet[Member], *, viewer):
        self._qs = queryset
        self._viewer = viewer
        self._secretary_units: frozenset[int] | None = None

    def _units(self) -> frozenset[int]:
        # read once per listing, not once per row (a page of members was ~55 queries)
        if self._secretary_units is None:
            self._secretary_units = access.secretary_unit_ids(self._viewer)
        return self._secretary_units

    def count(self) -> int:
        return self._qs.count()

    def __len__(self) -> int:
        return self.count()

    def _row(self, m: Member) -> MemberRow:
        allowed = access.may_see_identity(self._viewer, m, secretary_units=self._units())
        user = m.user
        return MemberRow(
            id=m.pk, user_id=m.user_id, name=user.display_name or user.username,
            phone=personal(user.phone, "phone", viewer=self._viewer, allowed=allowed),
            id_number=personal(user.id_number, "id_number", viewer=self._viewer, allowed=allowed),
            home_address=personal(m.home_address, "address", viewer=self._viewer, allowed=allowed),
            organisation_id=m.organisation_id, organisation=m.organisation.unit.name,
            home_community=m.home_community.name if m.home_community_id else "",
            home_community_code=m.home_community.code if m.home_community_id else "",
            status=m.status, in_service=m.in_service, report_status=getattr(m, "report_status", None) or "",
            masked=not allowed,
        )

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._row(m) for m in self._qs[item]]
        return self._row(self._qs[item])

    def __iter__(self) -> Iterator[MemberRow]:
        return (self._row(m) for m in self._qs.iterator(chunk_size=500))


def _member_qs(actor) -> QuerySet[Member]:
    latest = MemberReport.objects.filter(member=OuterRef("pk"), status__in=_OPEN).order_by("-reported_at")
    return (members_visible(actor=actor).select_related("user", "organisation__unit", "home_community")
            .annotate(report_status=Subquery(latest.values("status")[:1])))


def member_list(*, actor, organisation: PartyOrganisation | None = None, community: Division | None = None,
                reported: bool | None = None, search: str = "", status: str | None = None) -> MaskedMembers:
    """The members the actor may see, filtered; `reported` True/False: confirmed report or not."""
    qs = _member_qs(actor)
    if organisation is not None:
        # an organisation's roll includes the organisations below it (a street 党工委 sees its branches')
        qs = qs.filter(organisation__unit_id__in=access.subtree_unit_ids([organisation.unit_id]))
    if community is not None:
        qs = qs.filter(home_community__code__startswith=community.code) if community.level != Level.CITY else qs
    if status:
        qs = qs.filter(status=status)
    if reported is not None:
        confirmed = Exists(MemberReport.objects.filter(member=OuterRef("pk"), status=ReportStatus.CONFIRMED))
        qs = qs.filter(confirmed) if reported else qs.exclude(confirmed)
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(user__display_name__icontains=search) | Q(user__username__icontains=search))
    return MaskedMembers(qs.order_by("organisation__unit__code", "user__username"), viewer=actor)


def members_not_reported(*, actor, organisation: PartyOrganisation | None = None,
                         community: Division | None = None) -> MaskedMembers:
    """In-service members who must report (双报到) and have no confirmed report: the list to chase."""
    rows = member_list(actor=actor, organisation=organisation, community=community, reported=False,
                       status=MemberStatus.ACTIVE)
    rows._qs = rows._qs.filter(in_service=True)
    return rows


def member_get(member_id: int, *, actor) -> MemberRow:
    """One member as the actor may see them; 404 when outside their scope."""
    m = _member_qs(actor).filter(pk=member_id).first()
    if m is None:
        raise DomainError("party.member.not_found", _("找不到该党员，或您无权查看。"), status=404)
    return MaskedMembers(Member.objects.none(), viewer=actor)._row(m)


# -- organisations -----------------------------------------------------------------------------
def organisation_list(*, actor, org_type: str | None = None, search: str = "") -> QuerySet[PartyOrganisation]:
    """Organisations the actor may see: all for administrators and leaders; otherwise those they
    belong to or manage and those sitting in the territory they serve."""
    qs = PartyOrganisation.objects.select_related("unit", "division", "street", "grid")
    scope = scope_for(actor)
    if not (getattr(actor, "is_superuser", False)
            or (scope.whole_city and scope.has_any_role(RoleCode.ADMIN, RoleCode.LEADER))):
        q = Q(unit_id__in=sorted(access.managed_unit_ids(actor) | scope.unit_ids))
        for code in access.staff_territory_codes(actor, roles=access.TERRITORY_VIEW_ROLES):
            q |= Q(division__code__startswith=code) | Q(grid__code__startswith=code)
        qs = qs.filter(q)
    if org_type:
        qs = qs.filter(org_type=org_type)
    if search:
        qs = qs.filter(unit__name__icontains=search.strip())
    return qs.order_by("unit__code")


def joint_body_units(body: PartyOrganisation, *, active: bool = True):
    """A joint body's member units (a community 大党委's resident units, an alliance's firms)."""
    qs = body.member_units.select_related("unit")
    return qs.filter(active=True) if active else qs


# -- double reporting --------------------------------------------------------------------------
def _territory_filter(actor, field: str) -> Q | None:
    if access.is_admin(actor):
        return None
    codes = access.staff_territory_codes(actor)
    if not codes:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for code in codes:
        q |= Q(**{f"{field}__startswith": code})
    return q


def member_reports_pending(*, actor) -> QuerySet[MemberReport]:
    """Members' reports waiting for the communities the actor confirms for."""
    qs = MemberReport.objects.filter(status=ReportStatus.PENDING).select_related("member__user", "community")
    q = _territory_filter(actor, "community__code")
    return (qs if q is None else qs.filter(q)).order_by("reported_at")


def unit_reports_pending(*, actor) -> QuerySet[UnitReport]:
    qs = UnitReport.objects.filter(status=ReportStatus.PENDING).select_related("organisation__unit", "street")
    q = _territory_filter(actor, "street__code")
    return (qs if q is None else qs.filter(q)).order_by("reported_at")


def needs_open(*, actor, community: Division | None = None) -> QuerySet[Need]:
    """Open wishes and needs: a member sees those of the community they reported to; community
    staff those of their territory."""
    qs = Need.objects.filter(status=NeedStatus.OPEN).select_related("community")
    q = _territory_filter(actor, "community__code")
    if q is not None:
        reported_to = MemberReport.objects.filter(member__user_id=getattr(actor, "pk", None),
                                                  status=ReportStatus.CONFIRMED).values("community_id")
        q |= Q(community_id__in=reported_to)
        qs = qs.filter(q)
    if community is not None:
        qs = qs.filter(community=community)
    return qs.order_by("posted_at")


def service_records(*, actor, member: Member | None = None, community: Division | None = None,
                    year: int | None = None) -> QuerySet[ServiceRecord]:
    """Service records of members the actor may see (their own, their organisation's, their territory's)."""
    visible = members_visible(actor=actor).values("pk")
    q = Q(member_id__in=visible)
    t = _territory_filter(actor, "community__code")
    q = Q() if t is None else q | t
    qs = ServiceRecord.objects.filter(q).select_related("member__user", "organisation__unit", "community")
    if member is not None:
        qs = qs.filter(member=member)
    if community is not None:
        qs = qs.filter(community=community)
    if year is not None:
        qs = qs.filter(served_on__year=year)
    return qs.order_by("-served_on", "-id")


def returns_received(*, actor, organisation: PartyOrganisation, period: str | None = None
                     ) -> QuerySet[HalfYearReturn]:
    """The half-year returns communities sent back to an organisation (for its secretaries)."""
    if not access.can_manage_org(actor, organisation):
        raise DomainError("party.forbidden", _("只有本组织书记可以查看社区反馈。"), status=403)
    qs = HalfYearReturn.objects.filter(organisation=organisation).select_related("member__user", "community")
    if period:
        qs = qs.filter(period=period)
    return qs.order_by("-period", "member__user__username")


# -- joint activities --------------------------------------------------------------------------
def activity_list(*, actor, community: Division | None = None, year: int | None = None) -> QuerySet[JointActivity]:
    """Joint activities of the actor's territory, of units they manage, or that they attended."""
    qs = JointActivity.objects.select_related("community").prefetch_related("planners")
    t = _territory_filter(actor, "community__code")
    if t is not None:
        managed = sorted(access.managed_unit_ids(actor))
        t |= Q(planners__in=managed) | Q(attendance__member__user_id=getattr(actor, "pk", None))
        qs = qs.filter(t).distinct()
    if community is not None:
        qs = qs.filter(community=community)
    if year is not None:
        qs = qs.filter(planned_at__year=year)
    return qs.order_by("-planned_at")


# -- star rating -------------------------------------------------------------------------------
def rating_explain(rating: StarRating, *, actor) -> dict:
    """How a member's score was made: for the member themself and their organisation's secretaries."""
    member = rating.member
    if not (getattr(actor, "pk", None) == member.user_id or access.can_manage_org(actor, member.organisation)):
        raise DomainError("party.forbidden", _("只有党员本人和所在党组织书记可以查看计分说明。"), status=403)
    return {**rating.explanation, "member": member.user.display_name or member.user.username, "year": rating.year,
            "computed_score": str(rating.computed_score), "adjustment": str(rating.adjustment),
            "score": str(rating.score), "stars": rating.stars, "grade": rating.grade,
            "review_reason": rating.review_reason}


def ratings(*, actor, year: int, organisation: PartyOrganisation | None = None) -> QuerySet[StarRating]:
    qs = StarRating.objects.filter(year=year, member__in=members_visible(actor=actor)).select_related("member__user")
    if organisation is not None:
        qs = qs.filter(member__organisation__unit_id__in=access.subtree_unit_ids([organisation.unit_id]))
    return qs.order_by("-score", "member_id")


# -- co-building -------------------------------------------------------------------------------
def pairing_list(*, actor) -> QuerySet[CoBuildingPairing]:
    qs = CoBuildingPairing.objects.select_related("lead", "division", "joint_committee__unit")
    if access.is_admin(actor) or (scope_for(actor).whole_city and scope_for(actor).has_role(RoleCode.LEADER)):
        return qs
    managed = sorted(access.managed_unit_ids(actor))
    q = Q(lead_id__in=managed) | Q(partners__unit_id__in=managed) | Q(joint_committee__unit_id__in=managed)
    t = _territory_filter(actor, "division__code")
    if t is not None:
        q |= t
    return qs.filter(q).distinct()


def pairing_progress(pairing: CoBuildingPairing) -> dict:
    """Progress at a glance: partners, agreements, commitments done and mean progress, problems."""
    from .models import Commitment

    c = Commitment.objects.filter(agreement__pairing=pairing).exclude(status=CommitmentStatus.DROPPED)
    agg = c.aggregate(n=Count("id"), done=Count("id", filter=Q(status=CommitmentStatus.DONE)), total=Sum("progress"))
    problems = dict(pairing.problems.values("status").annotate(n=Count("id")).values_list("status", "n"))
    n = agg["n"] or 0
    return {
        "partners": pairing.partners.count(),
        "agreements": pairing.agreements.count(),
        "commitments": n,
        "commitments_done": agg["done"] or 0,
        "progress": round((agg["total"] or 0) / n) if n else 0,
        "activities": pairing.activities.count(),
        "problems_open": problems.get(ProblemStatus.OPEN, 0),
        "problems_solved": problems.get(ProblemStatus.SOLVED, 0),
        "problems_to_orders": problems.get(ProblemStatus.WORK_ORDER, 0),
    }


# -- the summary (the seed's own figures, live) ------------------------------------------------
@dataclass
class SummaryRow:
    code: str
    name: str
    units_reported: int = 0
    members_reported: int = 0
    service_teams: int = 0
    services_done: int = 0
    service_hours: Decimal = Decimal(0)


_CHILD_LEVEL = {Level.CITY: Level.DISTRICT, Level.DISTRICT: Level.STREET, Level.STREET: Level.COMMUNITY}


def _summary_root(actor, root: Division | None) -> Division:
    scope = scope_for(actor)
    if root is None:
        if access.is_admin(actor) or (scope.whole_city and scope.has_role(RoleCode.LEADER)):
            root = Division.objects.filter(level=Level.CITY).order_by("code").first()
        else:
            codes = [c for c in access.staff_territory_codes(actor, roles=access.TERRITORY_VIEW_ROLES) if c]
            root = Division.objects.filter(code__in=codes).order_by("code").first() if codes else None
        if root is None:
            raise DomainError("party.summary.no_territory", _("您没有可查看的辖区。"), status=403)
    if root.level == Level.CITY:
        if not (access.is_admin(actor) or (scope.whole_city and scope.has_any_role(RoleCode.LEADER, RoleCode.ADMIN))
                or "" in access.staff_territory_codes(actor, roles=access.TERRITORY_VIEW_ROLES)):
            raise DomainError("party.forbidden", _("您无权查看全市汇总。"), status=403)
    elif not (access.is_admin(actor) or (scope.whole_city and scope.has_role(RoleCode.LEADER))
              or any(root.code.startswith(c)
                     for c in access.staff_territory_codes(actor, roles=access.TERRITORY_VIEW_ROLES))):
        raise DomainError("party.forbidden", _("您无权查看该辖区的汇总。"), status=403)
    return root


def party_summary(*, actor, root: Division | None = None, year: int | None = None) -> dict:
    """Units and members reported, service teams, services done and hours, for `root` and each
    division one level below it (or each community's grids are not split: a community is a leaf).

    Counts are grouped in the database by community (and by street for units) and rolled up in
    Python over at most a few thousand groups, so the answer stays fast at Guangzhou's size.
    """
    root = _summary_root(actor, root)
    sub = root.subtree_q("code")
    child_level = _CHILD_LEVEL.get(root.level)
    children = list(Division.objects.filter(sub, level=child_level).order_by("code").values_list("code", "name")
                    ) if child_level else []
    rows = {code: SummaryRow(code=code, name=name) for code, name in children}
    total = SummaryRow(code=root.code, name=root.name)
    key_len = len(children[0][0]) if children else None

    def bucket(code: str):
        if not code:  # outside the root (a division deleted under it, or another city)
            return []
        out = [total]
        if key_len and code and len(code) >= key_len and code[:key_len] in rows:
            out.append(rows[code[:key_len]])
        return out

    # Group by the foreign key (no join), then name the groups from the divisions under the root.
    code_of = dict(Division.objects.filter(sub, level__in=[Level.STREET, Level.COMMUNITY])
                   .values_list("pk", "code"))
    whole = root.level == Level.CITY

    def under(qs, field: str):
        return qs if whole else qs.filter(**{f"{field}__in": list(code_of)})

    def grouped(qs, field: str, **aggregates):
        return under(qs, field).values(field).annotate(**aggregates).values_list(field, *aggregates).order_by()

    for pk, n in grouped(UnitReport.objects.filter(status=ReportStatus.CONFIRMED), "street_id", n=Count("id")):
        for r in bucket(code_of.get(pk, "")):
            r.units_reported += n
    for pk, n in grouped(MemberReport.objects.filter(status=ReportStatus.CONFIRMED), "community_id",
                         n=Count("id")):
        for r in bucket(code_of.get(pk, "")):
            r.members_reported += n
    for pk, n in grouped(ServiceTeam.objects.all(), "community_id", n=Count("id")):
        for r in bucket(code_of.get(pk, "")):
            r.service_teams += n
    services = ServiceRecord.objects.filter(confirmed=True)
    if year is not None:
        services = services.filter(served_on__gte=date(year, 1, 1), served_on__lte=date(year, 12, 31))
    for pk, n, h in grouped(services, "community_id", n=Count("id"), h=Sum("hours")):
        for r in bucket(code_of.get(pk, "")):
            r.services_done += n
            r.service_hours += h or 0
    return {"root": {"code": root.code, "name": root.name, "level": root.level}, "year": year,
            "total": total, "rows": list(rows.values())}
