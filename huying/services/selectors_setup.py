"""Who may set up which service positions (服务阵地设置), and the positions they see there.

A position is set up by the unit leader (单位负责人) of the unit that runs it — the street office's
for the street centre and its stations, the residents' committee's for a community centre — and by
an administrator. Positions are public bodies, but their set-up pages are scoped by that rule.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from huying.people.models import Membership, RoleCode, Unit, UnitKind
from huying.territory.models import Level

from .models import PositionKind, ServicePosition
from .selectors_admission import is_admin

# The level of the running unit's division each kind of position needs.
UNIT_LEVEL = {PositionKind.STREET_CENTRE: Level.STREET, PositionKind.STATION: Level.STREET,
              PositionKind.COMMUNITY_CENTRE: Level.COMMUNITY}


def led_units(user) -> QuerySet[Unit]:
    """The street offices and residents' committees this person leads (unit leader)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Unit.objects.none()
    ids = (Membership.objects.filter(user_id=user.pk, active=True, role__code=RoleCode.UNIT_LEADER)
           .values("unit_id"))
    return (Unit.objects.filter(pk__in=ids, active=True, kind=UnitKind.TERRITORIAL, grid__isnull=True,
                                division__level__in=[Level.STREET, Level.COMMUNITY])
            .select_related("division").order_by("code"))


def owner_units(user) -> QuerySet[Unit]:
    """The units a position may be opened for by this person (an administrator: any street or committee)."""
    if is_admin(user):
        return (Unit.objects.filter(active=True, kind=UnitKind.TERRITORIAL, grid__isnull=True,
                                    division__level__in=[Level.STREET, Level.COMMUNITY])
                .select_related("division"))
    return led_units(user)


def may_set_up(user) -> bool:
    return is_admin(user) or led_units(user).exists()


def may_edit_position(user, position: ServicePosition) -> bool:
    if is_admin(user):
        return True
    return led_units(user).filter(pk=position.unit_id).exists()


def positions_to_set_up(user, *, search: str = "") -> QuerySet[ServicePosition]:
    """The positions this person sets up (inactive ones too), with an optional name/address search."""
    qs = ServicePosition.objects.select_related("unit", "division").order_by("division__code", "kind", "name")
    if not is_admin(user):
        qs = qs.filter(unit__in=led_units(user))
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(address__icontains=search))
    return qs
