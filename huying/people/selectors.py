"""Shared reads of units and people, each scoped by the acting user (see `people.scope`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from .masking import personal
from .models import Membership, RoleCode, Unit, User
from .scope import Scope, scope_for

# Roles that make someone staff rather than a member of the public: their names are not masked.
_PUBLIC_ROLES = (RoleCode.RESIDENT, RoleCode.PARTY_MEMBER)


def _unit_filter(scope: Scope) -> Q | None:
    """None means every unit."""
    if scope.whole_city:
        return None
    q = scope.units_q("pk")
    if scope.division_codes:
        q |= scope.territory_q("division__code") | scope.territory_q("grid__code")
    return q


def units_in_scope(*, actor, kind: str | None = None, include_inactive: bool = False) -> QuerySet[Unit]:
    """Units the actor may see: those they act for and those in their territory."""
    qs = Unit.objects.select_related("division", "grid", "parent")
    q = _unit_filter(scope_for(actor))
    if q is not None:
        qs = qs.filter(q)
    if kind:
        qs = qs.filter(kind=kind)
    if not include_inactive:
        qs = qs.filter(active=True)
    return qs


def users_in_scope(*, actor) -> QuerySet[User]:
    """Users the actor may see, unmasked records: themself and anyone serving in or registered with a
    unit in their scope. For listings use `people_in_scope`, which masks personal data."""
    scope = scope_for(actor)
    if scope.user_id is None:
        return User.objects.none()
    if scope.whole_city:
        return User.objects.all()
    if scope.is_empty:
        return User.objects.filter(pk=scope.user_id)
    units = Unit.objects.filter(_unit_filter(scope)).values("pk")
    serves = Membership.objects.filter(user=OuterRef("pk"), active=True, unit__in=units)
    return User.objects.filter(Q(pk=scope.user_id) | Q(Exists(serves)))


def personal_allowed(scope: Scope, subject_id: int) -> bool:
    """May this scope see a person's personal data unmasked? Only their own, or as administrator."""
    return scope.user_id is not None and (subject_id == scope.user_id or scope.has_role(RoleCode.ADMIN))


@dataclass(frozen=True)
class PersonRow:
    """One line of a people listing, with personal data already masked as the viewer may see it."""

    id: int
    username: str
    name: str
    phone: str
    id_number: str
    is_staff_member: bool
    masked: bool


class MaskedPeople:
    """A lazy, sliceable listing of PersonRow (works with Django's Paginator)."""

    def __init__(self, queryset: QuerySet[User], *, viewer, scope: Scope):
        self._qs = queryset
        self._viewer = viewer
        self._scope = scope

    def count(self) -> int:
        return self._qs.count()

    def __len__(self) -> int:
        return self.count()

    def _row(self, user: User) -> PersonRow:
        allowed = personal_allowed(self._scope, user.pk)
        staff = bool(user.is_staff_member)
        name = user.display_name or ""
        return PersonRow(
            id=user.pk,
            username=user.username,
            # staff names are public in their role; members of the public are masked
            name=name if staff else personal(name, "name", viewer=self._viewer, allowed=allowed),
            phone=personal(user.phone, "phone", viewer=self._viewer, allowed=allowed),
            id_number=personal(user.id_number, "id_number", viewer=self._viewer, allowed=allowed),
            is_staff_member=staff,
            masked=not allowed,
        )

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._row(u) for u in self._qs[item]]
        return self._row(self._qs[item])

    def __iter__(self) -> Iterator[PersonRow]:
        return (self._row(u) for u in self._qs.iterator(chunk_size=500))


def people_in_scope(*, actor, search: str = "") -> MaskedPeople:
    """The people the actor may see, ordered by username, personal data masked unless allowed."""
    scope = scope_for(actor)
    staff = Membership.objects.filter(user=OuterRef("pk"), active=True).exclude(role__code__in=_PUBLIC_ROLES)
    qs = users_in_scope(actor=actor).annotate(is_staff_member=Exists(staff)).order_by("username")
    if search:
        # names of members of the public are masked, so they are not searchable either
        qs = qs.filter(Q(username__icontains=search) | Q(display_name__icontains=search, is_staff_member=True))
    return MaskedPeople(qs, viewer=actor, scope=scope)
