"""Who may see and manage community workers, and the shared reads of the staffing and roster pages.

Seeing (territory): an administrator or leader sees every community; a community worker their own
committee's; the staff (承办人、派单员、单位负责人) of a street or district office the communities
under it; an organisation department (组织部) its territory (the city's: all). Managing (register,
assess, apply progression, import): an administrator, an organisation department, or the unit
leader of a territorial office above the committee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from huying.people.models import Membership, RoleCode, Unit, UnitKind
from huying.territory.models import Building, Division, Level

from .models import CommunityWorker, PayScale

ALL = None  # the whole city
VIEW_ROLES = (RoleCode.COMMUNITY_WORKER, RoleCode.HANDLER, RoleCode.DISPATCHER, RoleCode.UNIT_LEADER)
DEFAULT_HOUSEHOLDS_PER_WORKER = 300


def _memberships(user) -> QuerySet[Membership]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Membership.objects.none()
    return (Membership.objects.filter(user_id=user.pk, active=True, unit__active=True)
            .select_related("unit__division", "unit__grid", "role"))


def _citywide(unit: Unit) -> bool:
    return unit.grid_id is None and (unit.division_id is None or unit.division.level == Level.CITY)


def view_prefixes(user) -> list[str] | None:
    """Division-code prefixes whose communities this person may see; None for all, [] for none."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return ALL
    out: list[str] = []
    for m in _memberships(user):
        role, unit = m.role.code, m.unit
        if role in (RoleCode.ADMIN, RoleCode.LEADER) or (role == RoleCode.ORG_DEPARTMENT and _citywide(unit)):
            return ALL
        if role == RoleCode.ORG_DEPARTMENT or (role in VIEW_ROLES and unit.kind == UnitKind.TERRITORIAL):
            code = unit.territory_code
            if code and len(code) <= 12:  # a grid station's worker sees no roster
                out.append(code)
    return out


def manage_prefixes(user) -> list[str] | None:
    """Division-code prefixes whose committees this person may manage; None for all, [] for none."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return ALL
    out: list[str] = []
    for m in _memberships(user):
        role, unit = m.role.code, m.unit
        if role == RoleCode.ADMIN or (role == RoleCode.ORG_DEPARTMENT and _citywide(unit)):
            return ALL
        code = unit.territory_code
        if not code:
            continue
        # a unit leader manages the committees below their street or district office, not their own
        below = unit.kind == UnitKind.TERRITORIAL and unit.division_id and unit.division.level in (
            Level.DISTRICT, Level.STREET)
        if role == RoleCode.ORG_DEPARTMENT or (role == RoleCode.UNIT_LEADER and below):
            out.append(code)
    return out


def _covers(prefixes: list[str] | None, code: str) -> bool:
    return prefixes is ALL or any(code.startswith(p) for p in prefixes)


def is_committee(unit: Unit) -> bool:
    return (unit.kind == UnitKind.TERRITORIAL and unit.division_id is not None
            and unit.division.level == Level.COMMUNITY and unit.active)


def may_view(user, code: str) -> bool:
    return _covers(view_prefixes(user), code)


def may_manage(user, unit: Unit) -> bool:
    return unit.division_id is not None and _covers(manage_prefixes(user), unit.division.code)


def communities_in_view(user) -> QuerySet[Division]:
    prefixes = view_prefixes(user)
    qs = Division.objects.filter(level=Level.COMMUNITY)
    if prefixes is ALL:
        return qs
    q = Q(pk__in=[])
    for p in prefixes:
        q |= Q(code__startswith=p)
    return qs.filter(q)


def committee_of(division: Division) -> Unit | None:
    """The residents' (villagers') committee of a community: the territorial unit covering it."""
    return (Unit.objects.filter(kind=UnitKind.TERRITORIAL, division=division, grid__isnull=True, active=True)
            .order_by("id").first())


def households_per_worker() -> int:
    scale = PayScale.objects.filter(in_force=True).order_by("-id").first()
    if scale is None:
        return DEFAULT_HOUSEHOLDS_PER_WORKER
    return int(scale.rules.get("staffing", {}).get("households_per_worker") or DEFAULT_HOUSEHOLDS_PER_WORKER)


@dataclass
class StaffingRow:
    community: Division
    households: int
    workers: int
    required: int  # ceil(households / norm): the staff the norm asks for

    @property
    def shortfall(self) -> int:
        return max(0, self.required - self.workers)

    @property
    def households_per_worker(self) -> float | None:
        return round(self.households / self.workers, 1) if self.workers else None


def required_workers(households: int, norm: int) -> int:
    """About one worker per `norm` households, rounded up: a community of 301 households needs two."""
    return math.ceil(households / norm) if households > 0 else 0


def staffing(*, actor, street: str = "", short_only: bool = False) -> list[StaffingRow]:
    """Per community in the viewer's scope: households (summed over its grids' buildings), active
    workers on its committee's roster, the staff the norm asks for and the shortfall."""
    communities = communities_in_view(actor)
    if street:
        communities = communities.filter(code__startswith=street)
    communities = list(communities.select_related("parent").order_by("code"))
    ids = [c.pk for c in communities]
    households = dict(Building.objects.filter(grid__community_id__in=ids).values("grid__community_id")
                      .annotate(n=Sum("households")).values_list("grid__community_id", "n"))
    workers = dict(CommunityWorker.objects.filter(active=True, unit__division_id__in=ids)
                   .values("unit__division_id").annotate(n=Count("id")).values_list("unit__division_id", "n"))
    norm = households_per_worker()
    rows = []
    for c in communities:
        h = int(households.get(c.pk) or 0)
        row = StaffingRow(c, h, workers.get(c.pk, 0), required_workers(h, norm))
        if not short_only or row.shortfall:
            rows.append(row)
    return rows


def streets_in_view(actor) -> list[Division]:
    codes = {c[:9] for c in communities_in_view(actor).values_list("code", flat=True)}
    return list(Division.objects.filter(level=Level.STREET, code__in=codes).order_by("code"))


def roster(division: Division) -> QuerySet[CommunityWorker]:
    return (CommunityWorker.objects.filter(unit__division=division, active=True)
            .select_related("user", "unit").prefetch_related("assessments").order_by("post", "started_on", "id"))
