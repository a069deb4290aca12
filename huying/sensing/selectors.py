"""Reads of sensing, scoped by the acting user: who may see and set up which sensors and rules.

A sensor is visible to staff whose territory holds its point, and to the staff of its owner unit
(a citywide department's devices); a rule, likewise by its area (or its one sensor) and its unit.
Anything else answers 404 on the pages.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from huying.people.models import RoleCode, Unit
from huying.people.scope import scope_for

from .models import AlertRule, Reading, Sensor

MANAGE_ROLES = (RoleCode.UNIT_LEADER, RoleCode.HANDLER, RoleCode.DISPATCHER, RoleCode.COMMUNITY_WORKER,
                RoleCode.ADMIN)
VIEW_ROLES = MANAGE_ROLES + (RoleCode.GRID_WORKER, RoleCode.LEADER, RoleCode.OPERATOR)
NOTHING = Q(pk__in=[])


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def may_view(user) -> bool:
    if not _signed_in(user):
        return False
    return user.is_superuser or scope_for(user).has_any_role(*VIEW_ROLES)


def may_manage(user) -> bool:
    if not _signed_in(user):
        return False
    return user.is_superuser or scope_for(user).has_any_role(*MANAGE_ROLES)


def whole_city(user) -> bool:
    return _signed_in(user) and (user.is_superuser or scope_for(user).whole_city)


def sensors_q(user) -> Q:
    if not may_view(user):
        return NOTHING
    if whole_city(user):
        return Q()
    scope = scope_for(user)
    return scope.territory_q("area_code") | scope.units_q("owner_unit_id")


def sensor_in_scope(user, sensor: Sensor) -> bool:
    if whole_city(user):
        return True
    scope = scope_for(user)
    return scope.covers(sensor.area_code) or sensor.owner_unit_id in scope.unit_ids


def may_view_sensor(user, sensor: Sensor) -> bool:
    return may_view(user) and sensor_in_scope(user, sensor)


def may_manage_sensor(user, sensor: Sensor) -> bool:
    return may_manage(user) and sensor_in_scope(user, sensor)


def sensor_list(*, actor, kind: str = "", state: str = "", search: str = "") -> QuerySet[Sensor]:
    qs = Sensor.objects.filter(sensors_q(actor)).select_related("owner_unit")
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name__icontains=search) | Q(place__icontains=search)
                       | Q(address__icontains=search))
    return qs.order_by("code")


def sensor_get(*, actor, pk: int) -> Sensor | None:
    return Sensor.objects.filter(sensors_q(actor), pk=pk).select_related("owner_unit", "building", "grid").first()


def recent_readings(sensor: Sensor, *, limit: int = 20) -> list[Reading]:
    return list(Reading.objects.filter(sensor=sensor).order_by("-ts")[:limit])


def rules_q(user) -> Q:
    if not may_view(user):
        return NOTHING
    if whole_city(user):
        return Q()
    scope = scope_for(user)
    q = scope.units_q("owner_unit_id") | scope.units_q("sensor__owner_unit_id")
    for prefix in scope.division_codes:
        q |= Q(area_code__startswith=prefix) | Q(sensor__area_code__startswith=prefix)
    return q


def rule_list(*, actor) -> QuerySet[AlertRule]:
    return (AlertRule.objects.filter(rules_q(actor)).select_related("subject", "owner_unit", "sensor")
            .order_by("sensor_kind", "name", "id").distinct())


def rule_get(*, actor, pk: int) -> AlertRule | None:
    return rule_list(actor=actor).filter(pk=pk).first()


def rule_in_scope(user, rule: AlertRule) -> bool:
    if whole_city(user):
        return True
    scope = scope_for(user)
    if rule.owner_unit_id in scope.unit_ids:
        return True
    if rule.sensor_id is not None:
        return sensor_in_scope(user, rule.sensor)
    return bool(rule.area_code) and scope.covers(rule.area_code)


def owner_units(user) -> QuerySet[Unit]:
    """The units this person may register sensors and rules for (their own; everyone's for the whole city)."""
    qs = Unit.objects.filter(active=True).select_related("division", "grid")
    if whole_city(user):
        return qs.order_by("code")
    return qs.filter(pk__in=sorted(scope_for(user).unit_ids)).order_by("code")
