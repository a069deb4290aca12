"""Routing with the database: load the rules and the territorial units covering the order's place."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from huying.people.models import Unit, UnitKind
from huying.territory.models import Division

from ..models import HandlingLevel, RoutingRule, WorkOrder
from ..routing import Route, RouteContext, route

_LEVEL_BY_DIVISION = {"district": HandlingLevel.DISTRICT, "street": HandlingLevel.STREET,
                      "community": HandlingLevel.COMMUNITY}


def territorial_units(*, grid_id: int | None, district_code: str, street_code: str,
                      community_code: str) -> dict[str, int]:
    """Level → the territorial unit (块) covering that place at that level, in one query."""
    codes = [c for c in (district_code, street_code, community_code) if c]
    q = Q(division__code__in=codes) if codes else Q(pk__in=[])
    if grid_id:
        q |= Q(grid_id=grid_id)
    found: dict[str, int] = {}
    rows = (Unit.objects.filter(kind=UnitKind.TERRITORIAL, active=True).filter(q)
            .order_by("id").values_list("id", "grid_id", "division__code"))
    for unit_id, unit_grid, division_code in rows:
        if unit_grid:
            level = HandlingLevel.GRID if unit_grid == grid_id else None
        elif division_code == community_code:
            level = HandlingLevel.COMMUNITY
        elif division_code == street_code:
            level = HandlingLevel.STREET
        elif division_code == district_code:
            level = HandlingLevel.DISTRICT
        else:
            level = None
        if level is not None:
            found.setdefault(str(level), unit_id)
    return found


def community_code_of(order: WorkOrder) -> str:
    if order.community_id is None:
        return ""
    return Division.objects.filter(pk=order.community_id).values_list("code", flat=True).first() or ""


def active_rules() -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(active=True).select_related("subject", "request_type"))


def route_for(*, subject, subject_chain, request_type, urgency: str, area: dict, now,
              exclude: set[int] = frozenset()) -> Route:
    """Where an order with these facts goes now; `area` holds the located codes and grid id."""
    ctx = RouteContext(
        subject_code=subject.code,
        subject_kind=subject.kind,
        request_type_code=request_type.code if request_type else None,
        area_code=area.get("area_code", ""),
        urgency=urgency,
        local_time=now.astimezone(ZoneInfo(settings.TIME_ZONE)),
    )
    territorial = territorial_units(grid_id=area.get("grid_id"), district_code=area.get("district_code", ""),
                                    street_code=area.get("street_code", ""),
                                    community_code=area.get("community_code", ""))
    return route(ctx=ctx, rules=active_rules(), subject_chain=subject_chain, territorial=territorial,
                 exclude=set(exclude))


def route_for_order(order: WorkOrder, *, now, exclude: set[int] = frozenset()) -> Route:
    area = {"grid_id": order.grid_id, "district_code": order.district_code, "street_code": order.street_code,
            "community_code": community_code_of(order), "area_code": order.area_code}
    return route_for(subject=order.subject, subject_chain=order.subject.ancestors(),
                     request_type=order.request_type, urgency=order.urgency, area=area, now=now, exclude=exclude)
