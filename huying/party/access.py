"""Who may act on and see Party records. One place, used by services and selectors alike.

- An organisation is managed by the secretaries of its own unit or of a Party unit above it, and
  by administrators.
- A community (or street) acts through the people holding a staff role (Party secretary, unit
  leader, administrator) in a unit whose territory covers it: the community 大党委 and the
  residents' committee confirm members' reports, the street confirms units'.
- A member's identity number, phone and home address are shown unmasked only to the member and
  to the secretaries of the member's own organisation (not to administrators: they manage the
  system, not the member; the admin site is their tool for corrections).
"""

from __future__ import annotations

from django.db.models import Q

from huying.people.models import Membership, RoleCode, Unit
from huying.people.scope import scope_for
from huying.territory.models import Level

# Roles that let a person act for the territory of their unit on Party work.
COMMUNITY_ROLES = (RoleCode.PARTY_SECRETARY, RoleCode.UNIT_LEADER, RoleCode.ADMIN)
# Roles that see (masked) the members living in their territory: Party work and grid work need it.
TERRITORY_VIEW_ROLES = COMMUNITY_ROLES + (RoleCode.GRID_WORKER, RoleCode.LEADER)
_MAX_DEPTH = 12


def is_admin(actor) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_superuser:
        return True
    scope = scope_for(actor)
    # a district's administrator acts for the district only, through its territory
    return scope.whole_city and scope.has_role(RoleCode.ADMIN)


def forget(actor) -> None:
    """Nothing is cached on the user object (units and memberships change under a live object)."""


def secretary_unit_ids(actor) -> frozenset[int]:
    """Units where the actor is an active Party secretary."""
    if actor is None or not getattr(actor, "pk", None):
        return frozenset()
    return frozenset(Membership.objects.filter(
        user_id=actor.pk, active=True, unit__active=True, role__code=RoleCode.PARTY_SECRETARY,
    ).values_list("unit_id", flat=True))


def subtree_unit_ids(unit_ids) -> frozenset[int]:
    """The given units and every unit below them."""
    found = set(unit_ids)
    frontier = set(found)
    for _depth in range(_MAX_DEPTH):
        if not frontier:
            break
        frontier = set(Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return frozenset(found)


def managed_unit_ids(actor) -> frozenset[int]:
    """Units the actor manages as secretary: their own and every unit below them."""
    return subtree_unit_ids(secretary_unit_ids(actor))


def can_manage_org(actor, organisation) -> bool:
    return is_admin(actor) or organisation.unit_id in managed_unit_ids(actor)


def staff_territory_codes(actor, roles=COMMUNITY_ROLES) -> tuple[str, ...]:
    """Division/grid code prefixes covered by the actor's units in which they hold one of `roles`."""
    if actor is None or not getattr(actor, "pk", None):
        return ()
    codes = set()
    memberships = Membership.objects.filter(user_id=actor.pk, active=True, unit__active=True,
                                            role__code__in=[str(r) for r in roles])
    for m in memberships.select_related("unit__division", "unit__grid"):
        if m.unit.division_id and m.unit.division.level == Level.CITY:
            codes.add("")  # a city-level unit: every code starts with ""
            continue
        code = m.unit.territory_code
        if code:
            codes.add(code)
    return tuple(sorted(codes))


def can_act_for_territory(actor, code: str) -> bool:
    """Whether the actor may act on Party work for the Division (street, community) with this code."""
    if is_admin(actor):
        return True
    return any(code.startswith(prefix) for prefix in staff_territory_codes(actor))


def may_see_identity(actor, member, *, secretary_units: frozenset[int] | None = None) -> bool:
    """Unmasked identity data: the member themself and their own organisation's secretaries.

    A listing passes `secretary_units` (from `secretary_unit_ids(actor)`, read once) so deciding
    a page of rows costs no query per row.
    """
    if actor is None or not getattr(actor, "pk", None):
        return False
    if member.user_id == actor.pk:
        return True
    units = secretary_unit_ids(actor) if secretary_units is None else secretary_units
    return member.organisation.unit_id in units


def member_visibility_q(actor, prefix: str = "") -> Q | None:
    """Q over Member rows the actor may see (None: every member); `prefix` for a related path.

    Seen: themself; the members of organisations they manage; as staff of a territory (not as a
    plain member), the members who live there and those of territorial organisations there.
    """
    p = prefix
    none = Q(pk__in=[])
    if actor is None or not getattr(actor, "pk", None) or not actor.is_active:
        return none
    scope = scope_for(actor)
    if actor.is_superuser or (scope.whole_city and scope.has_any_role(RoleCode.ADMIN, RoleCode.LEADER)):
        return None
    q = Q(**{f"{p}user_id": actor.pk})
    managed = managed_unit_ids(actor)
    if managed:
        q |= Q(**{f"{p}organisation__unit_id__in": sorted(managed)})
    for code in staff_territory_codes(actor, roles=TERRITORY_VIEW_ROLES):
        q |= (Q(**{f"{p}home_community__code__startswith": code}) | Q(**{f"{p}home_grid__code__startswith": code})
              | Q(**{f"{p}organisation__unit__division__code__startswith": code})
              | Q(**{f"{p}organisation__unit__grid__code__startswith": code}))
    return q
