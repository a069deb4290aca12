"""Routing with the database: the rules and the territorial units covering the order's place.

Both come from the per-process caches in `reference`, so routing an order reads nothing.
"""

from django.db.models import Q
from django.utils import timezone

from huying.people.models import UnitKind
from huying.territory.models import Division, Level

from .. import reference
from ..models import RoutingRule, WorkOrder
from ..routing import Route, RouteContext, route


def territorial_units(*, grid_id: int | None, district_code: str, street_code: str,
                      community_code: str) -> dict[str, int]:
    """Level → the territorial unit (块) covering that place at that level (smallest id at each level)."""
    return reference.territorial_units(grid_id=grid_id, district_code=district_code, street_code=street_code,
                                       community_code=community_code)


def place_units_q(*, district_code: str, street_code: str, community_code: str, grid_id: int | None) -> Q:
    """Q on Unit: the units that may take an order at this place (active or not; callers add that).

    The territorial offices (块) covering it at each level, and the departments (条) — citywide
    ones, and a department's branch only where its territory covers the place.
    """
    codes = [c for c in (district_code, street_code, community_code) if c]
    here = Q(division__code__in=codes) if codes else Q(pk__in=[])
    if grid_id:
        here |= Q(grid_id=grid_id)
    citywide = Q(division__isnull=True, grid__isnull=True) | Q(division__level=Level.CITY)
    return (Q(kind=UnitKind.TERRITORIAL) & here) | (Q(kind=UnitKind.DEPARTMENT) & (citywide | here))


def community_code_of(order: WorkOrder) -> str:
    if order.community_id is None:
        return ""
    return Division.objects.filter(pk=order.community_id).values_list("code", flat=True).first() or ""


def active_rules() -> list[RoutingRule]:
    return reference.routing_rules()


def route_for(*, subject, subject_chain, request_type, urgency: str, area: dict, now,
              exclude: set[int] = frozenset(), territorial: dict[str, int] | None = None) -> Route:
    """Where an order with these facts goes now; `area` holds the located codes and grid id, and
    `territorial` the units covering it if the caller keeps them (`territorial_units` of `area`)."""
    ctx = RouteContext(
        subject_code=subject.code,
        subject_kind=subject.kind,
        request_type_code=request_type.code if request_type else None,
        area_code=area.get("area_code", ""),
        urgency=urgency,
        local_time=now.astimezone(timezone.get_default_timezone()),
    )
    if territorial is None:
        territorial = territorial_units(grid_id=area.get("grid_id"), district_code=area.get("district_code", ""),
                                        street_code=area.get("street_code", ""),
                                        community_code=area.get("community_code", ""))
    return route(ctx=ctx, rules=reference.rule_index(), subject_chain=subject_chain, territorial=territorial,
                 exclude=set(exclude))


def route_for_order(order: WorkOrder, *, now, exclude: set[int] = frozenset()) -> Route:
    area = {"grid_id": order.grid_id, "district_code": order.district_code, "street_code": order.street_code,
            "community_code": community_code_of(order), "area_code": order.area_code}
    return route_for(subject=order.subject, subject_chain=reference.subject_chain(order.subject),
                     request_type=order.request_type, urgency=order.urgency, area=area, now=now, exclude=exclude)
