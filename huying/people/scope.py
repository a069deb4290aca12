"""What a person may see: their scope, derived once from their active memberships.

Rules (one per membership, the scope is their union):
- superuser: the whole city.
- resident: nobody but themself (no unit, no territory).
- Party member: their Party organisation's unit, no territory.
- administrator or leader of a city-level unit (one with no territory, or the city Division) that
  is not a department: the whole city.
- any staff role in a city-level command centre (the 12345 hotline): the whole city, because
  calls from anywhere arrive there.
- department (条): the department and its sub-units; if the department unit covers a Division or
  Grid (a district branch), that territory too.
- territorial office (块) and other units: the unit, and the Division or Grid it covers with
  everything below it (a code-prefix match); a city-level territorial unit covers the whole city.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from django.db import connections, router
from django.db.models import Q

from huying.territory.models import Level

from .models import AccessGeneration, Membership, RoleCode, Unit, UnitKind

NOTHING = Q(pk__in=[])
_CACHE_ATTR = "_huying_scope"
GENERATION_ATTR = "access_generation"  # set on a user loaded with it (people.auth's token query)
_MAX_UNIT_DEPTH = 12
# Scopes this process has built: user id → (access generation, superuser, scope). A scope is reused
# while the generation has not moved; a full table is simply emptied (one rebuild per person).
_built: dict[int, tuple[int, bool, Scope]] = {}
_built_lock = threading.Lock()
MAX_BUILT = 50_000


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    whole_city: bool = False
    # Code prefixes of the Divisions / Grids covered; none is a prefix of another.
    division_codes: tuple[str, ...] = ()
    # Units the person acts for (their own, and a department's sub-units).
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        """Sees no territory and acts for no unit (a resident, a user without memberships)."""
        return not (self.whole_city or self.division_codes or self.unit_ids)

    def has_role(self, code: str) -> bool:
        return str(code) in self.roles

    def has_any_role(self, *codes: str) -> bool:
        return any(str(c) in self.roles for c in codes)

    def covers(self, code: str | None) -> bool:
        """Whether a Division or Grid code lies in this scope's territory."""
        if self.whole_city:
            return True
        return bool(code) and any(code.startswith(prefix) for prefix in self.division_codes)

    def territory_q(self, field: str) -> Q:
        """Q on a Division/Grid-code field (e.g. "grid__code"): prefix match; an empty scope matches nothing."""
        if self.whole_city:
            return Q()
        q = NOTHING
        for prefix in self.division_codes:
            q |= Q(**{f"{field}__startswith": prefix})
        return q

    def units_q(self, field: str = "pk") -> Q:
        """Q on a Unit-id field: the units this person acts for (not the ones in their territory)."""
        if self.whole_city:
            return Q()
        return Q(**{f"{field}__in": sorted(self.unit_ids)}) if self.unit_ids else NOTHING


def _normalise(prefixes: set[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for code in sorted(prefixes, key=lambda c: (len(c), c)):
        if not any(code.startswith(k) for k in kept):
            kept.append(code)
    return tuple(sorted(kept))


def _is_citywide(unit: Unit) -> bool:
    return unit.grid_id is None and (unit.division_id is None or unit.division.level == Level.CITY)


def _descendant_ids(root_ids: set[int]) -> set[int]:
    found = set(root_ids)
    frontier = set(root_ids)
    for _ in range(_MAX_UNIT_DEPTH):
        frontier = set(Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        if not frontier:
            break
        found |= frontier
    return found


def access_generation(using: str | None = None) -> int | None:
    """The current access generation (see people.models.AccessGeneration): one primary-key read.
    None when the row is missing (a flushed database before its next write): nothing is reused then."""
    connection = connections[using or router.db_for_read(AccessGeneration)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {generation_sql(connection)}")
        return cursor.fetchone()[0]


def generation_sql(connection) -> str:
    """A scalar subquery giving the access generation, for a query that loads a user anyway."""
    table = connection.ops.quote_name(AccessGeneration._meta.db_table)
    return f"(SELECT value FROM {table} WHERE id = 1)"


def scope_for(user, *, fresh: bool = False) -> Scope:
    """The scope of `user` from their active memberships.

    Cached on the user object (for the request) and in this process, keyed by the access generation:
    a change anywhere to memberships, roles, units, users or territory codes moves the generation
    (database triggers) and the next call rebuilds. A user loaded together with the generation
    (`GENERATION_ATTR`, as API token sign-in does) costs no query at all when nothing changed; else
    one primary-key read. `fresh` always rebuilds.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(user_id=None)
    if not fresh:
        cached = getattr(user, _CACHE_ATTR, None)
        if cached is not None:
            return cached
    generation = getattr(user, GENERATION_ATTR, None)
    if generation is None or fresh:
        generation = access_generation()
    if not fresh and generation is not None:
        hit = _built.get(user.pk)
        if hit is not None and hit[0] == generation and hit[1] == bool(user.is_superuser):
            setattr(user, _CACHE_ATTR, hit[2])
            return hit[2]
    scope = _build(user)
    setattr(user, _CACHE_ATTR, scope)
    if generation is None or connections[router.db_for_read(Membership)].in_atomic_block:
        # Read inside a transaction, which may itself have changed (and may yet roll back) what the
        # scope is made of: good for this request only, not for the process.
        return scope
    with _built_lock:
        if len(_built) >= MAX_BUILT:
            _built.clear()
        _built[user.pk] = (generation, bool(user.is_superuser), scope)
    return scope


def forget_built() -> None:
    """Drop every scope this process has built (tests; the generation makes it unnecessary otherwise)."""
    with _built_lock:
        _built.clear()


def _build(user) -> Scope:
    memberships = (
        Membership.objects.filter(user_id=user.pk, active=True, unit__active=True)
        .select_related("unit__division", "unit__grid", "role")
    )
    whole_city = bool(user.is_superuser)
    roles: set[str] = {RoleCode.ADMIN.value} if user.is_superuser else set()
    prefixes: set[str] = set()
    unit_ids: set[int] = set()
    departments: set[int] = set()
    for m in memberships:
        role, unit = m.role.code, m.unit
        roles.add(role)
        if role == RoleCode.RESIDENT:
            continue
        unit_ids.add(unit.pk)
        if role == RoleCode.PARTY_MEMBER:
            continue
        citywide = _is_citywide(unit)
        if unit.kind == UnitKind.DEPARTMENT:
            departments.add(unit.pk)
            if unit.division_id or unit.grid_id:
                if citywide:
                    whole_city = True
                else:
                    prefixes.add(unit.territory_code)
            continue
        if citywide:
            if role in (RoleCode.ADMIN, RoleCode.LEADER) or unit.kind == UnitKind.COMMAND:
                whole_city = True
            elif unit.division_id:  # a city-level territorial office (市人民政府)
                whole_city = True
            continue
        prefixes.add(unit.territory_code)
    if departments:
        unit_ids |= _descendant_ids(departments)
    scope = Scope(
        user_id=user.pk,
        whole_city=whole_city,
        division_codes=() if whole_city else _normalise(prefixes),
        unit_ids=frozenset(unit_ids),
        roles=frozenset(roles),
    )
    return scope


def forget_scope(user) -> None:
    """Drop the scope cached on this user object (after their memberships change)."""
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
