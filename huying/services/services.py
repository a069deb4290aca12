"""State changes of service positions, their opening hours and the service catalogue.

Each function checks, changes and writes its audit row in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import time

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import Unit
from huying.territory.coords import check_coordinates
from huying.territory.models import Building, Division, Grid, Level

from .models import Day, HandlingLevel, OpeningHours, PositionKind, ServiceItem, ServicePosition

# The division level each kind of position belongs to (stations sit in any street or community).
_KIND_LEVELS = {
    PositionKind.STREET_CENTRE: {Level.STREET},
    PositionKind.COMMUNITY_CENTRE: {Level.COMMUNITY},
    PositionKind.STATION: {Level.STREET, Level.COMMUNITY},
}
_POSITION_FIELDS = ("kind", "name", "unit_id", "division_id", "grid_id", "building_id", "lng", "lat", "address",
                    "phone", "open_on_holidays", "active")


def _snapshot(position: ServicePosition) -> dict:
    return {f: getattr(position, f) for f in _POSITION_FIELDS}


def _check_position(*, kind, division: Division, grid: Grid | None, building: Building | None, lng, lat) -> None:
    if kind not in PositionKind.values:
        raise DomainError("services.position.bad_kind", _("服务阵地类别无效。"), field="kind")
    if division.level not in _KIND_LEVELS[PositionKind(kind)]:
        raise DomainError("services.position.bad_division",
                          _("街道中心须设在街道（镇），社区中心须设在社区（村），服务站须设在街道或社区。"),
                          field="division")
    if lng is None or lat is None:
        raise DomainError("services.position.coordinates_required", _("请填写经纬度。"), field="lng")
    check_coordinates(lng, lat)
    if grid is not None and not grid.code.startswith(division.code):
        raise DomainError("services.position.grid_outside", _("所选网格不在所选区划内。"), field="grid")
    if building is not None and grid is not None and building.grid_id != grid.pk:
        raise DomainError("services.position.building_outside", _("所选楼栋不在所选网格内。"), field="building")


@transaction.atomic
def position_create(*, kind: str, name: str, unit: Unit, division: Division, lng: float, lat: float,
                    address: str, phone: str = "", grid: Grid | None = None, building: Building | None = None,
                    open_on_holidays: bool = False, actor) -> ServicePosition:
    """Open a service centre or station (服务阵地) run by `unit`."""
    name = clean_text(name, field="name", max_length=120)
    address = clean_text(address, field="address", max_length=255)
    phone = clean_text(phone, field="phone", max_length=40)
    if not name:
        raise DomainError("services.position.name_required", _("请填写名称。"), field="name")
    if not address:
        raise DomainError("services.position.address_required", _("请填写地址。"), field="address")
    if grid is None and building is not None:
        grid = building.grid
    _check_position(kind=kind, division=division, grid=grid, building=building, lng=lng, lat=lat)
    if not unit.active:
        raise DomainError("services.position.unit_inactive", _("主办单位已停用。"), field="unit")
    position = ServicePosition.objects.create(
        kind=kind, name=name, unit=unit, division=division, grid=grid, building=building, lng=float(lng),
        lat=float(lat), address=address, phone=phone, open_on_holidays=open_on_holidays)
    audit_log(position, "services.position.created", actor=actor, new=_snapshot(position))
    return position


_EDITABLE = {"name", "address", "phone", "lng", "lat", "open_on_holidays", "active", "unit", "grid", "building"}


@transaction.atomic
def position_update(position: ServicePosition, *, actor, reason: str = "", **changes) -> ServicePosition:
    """Change a position's details (name, address, phone, place, holiday opening, active)."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValueError(f"position_update cannot change {sorted(unknown)}")
    position = ServicePosition.objects.select_for_update().get(pk=position.pk)
    old = _snapshot(position)
    for key, limit in (("name", 120), ("address", 255), ("phone", 40)):
        if key in changes:
            changes[key] = clean_text(changes[key], field=key, max_length=limit)
            if key != "phone" and not changes[key]:
                raise DomainError(f"services.position.{key}_required", _("此项必填。"), field=key)
    for key, value in changes.items():
        setattr(position, key, value)
    _check_position(kind=position.kind, division=position.division, grid=position.grid,
                    building=position.building, lng=position.lng, lat=position.lat)
    position.save()
    new = _snapshot(position)
    diff = {k for k in new if new[k] != old[k]}
    if diff:
        audit_log(position, "services.position.updated", actor=actor, old={k: old[k] for k in diff},
                  new={k: new[k] for k in diff}, reason=reason)
    return position


def _as_time(value, field: str) -> time:
    if isinstance(value, time):
        return value
    try:
        hh, mm = str(value).strip().split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError):
        raise DomainError("services.hours.bad_time", _("时间格式应为 时:分，例如 09:00。"), field=field) from None


@transaction.atomic
def position_hours_set(position: ServicePosition, *, periods: Iterable[Sequence], actor,
                       open_on_holidays: bool | None = None) -> ServicePosition:
    """Replace a position's opening periods: (day, opens, closes[, note]) with day 0 Monday … 6 Sunday, 7 holidays."""
    position = ServicePosition.objects.select_for_update().get(pk=position.pk)
    rows = []
    for period in periods:
        day, opens, closes, *rest = period
        if day not in Day.values:
            raise DomainError("services.hours.bad_day", _("开放日无效。"), field="day")
        opens, closes = _as_time(opens, "opens"), _as_time(closes, "closes")
        if opens >= closes:
            raise DomainError("services.hours.empty_period", _("结束时间须晚于开始时间。"), field="closes")
        note = clean_text(rest[0] if rest else "", field="note", max_length=60)
        rows.append(OpeningHours(position=position, day=int(day), opens=opens, closes=closes, note=note))
    rows.sort(key=lambda r: (r.day, r.opens))
    for a, b in zip(rows, rows[1:], strict=False):
        if a.day == b.day and b.opens < a.closes:
            raise DomainError("services.hours.overlap", _("同一天的开放时段不能重叠。"), field="opens")
    old = [str(h) for h in position.hours.all()]
    position.hours.all().delete()
    OpeningHours.objects.bulk_create(rows)
    changes = {"hours": [str(r) for r in rows]}
    if open_on_holidays is not None and open_on_holidays != position.open_on_holidays:
        changes["open_on_holidays"] = open_on_holidays
        position.open_on_holidays = open_on_holidays
        position.save(update_fields=["open_on_holidays"])
    audit_log(position, "services.position.hours_set", actor=actor, old={"hours": old}, new=changes)
    return position


# -- the catalogue ---------------------------------------------------------------------------------

_ITEM_FIELDS = ("code", "name", "category", "level", "documents", "time_limit_days", "fee", "legal_basis", "active")


def _item_snapshot(item: ServiceItem) -> dict:
    return {f: getattr(item, f) for f in _ITEM_FIELDS}


def _clean_item(values: dict) -> dict:
    out = dict(values)
    for key, limit in (("code", 40), ("name", 120), ("category", 40), ("fee", 60), ("legal_basis", 255)):
        if key in out:
            out[key] = clean_text(out[key], field=key, max_length=limit)
    if "code" in out and not out["code"]:
        raise DomainError("services.item.code_required", _("请填写事项编码。"), field="code")
    if "name" in out and not out["name"]:
        raise DomainError("services.item.name_required", _("请填写事项名称。"), field="name")
    if "level" in out and out["level"] not in HandlingLevel.values:
        raise DomainError("services.item.bad_level", _("办理层级无效。"), field="level")
    if "documents" in out:
        out["documents"] = [d for d in (clean_text(x, field="documents", max_length=120)
                                        for x in out["documents"] or []) if d]
    if "time_limit_days" in out:
        days = out["time_limit_days"]
        if days is not None and (not isinstance(days, int) or days < 0 or days > 365):
            raise DomainError("services.item.bad_time_limit", _("办结时限须为 0–365 个工作日。"),
                              field="time_limit_days")
    return out


@transaction.atomic
def item_create(*, code: str, name: str, level: str, actor, category: str = "", documents: Sequence[str] = (),
                time_limit_days: int | None = None, fee: str = "", legal_basis: str = "",
                departments: Iterable[Unit] = ()) -> ServiceItem:
    """Add a service item (服务事项) to the catalogue."""
    values = _clean_item(dict(code=code, name=name, level=level, category=category, documents=list(documents),
                              time_limit_days=time_limit_days, fee=fee, legal_basis=legal_basis))
    if ServiceItem.objects.filter(code=values["code"]).exists():
        raise DomainError("services.item.code_taken", _("事项编码已被使用。"), field="code", status=409)
    item = ServiceItem.objects.create(**values)
    departments = list(departments)
    item.departments.set(departments)
    audit_log(item, "services.item.created", actor=actor,
              new={**_item_snapshot(item), "departments": sorted(u.pk for u in departments)})
    return item


@transaction.atomic
def item_update(item: ServiceItem, *, actor, departments: Iterable[Unit] | None = None, reason: str = "",
                **changes) -> ServiceItem:
    """Change an item's name, level, documents, time limit, fee, basis, departments or active flag."""
    unknown = set(changes) - (set(_ITEM_FIELDS) - {"code"})
    if unknown:
        raise ValueError(f"item_update cannot change {sorted(unknown)}")
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    old = {**_item_snapshot(item), "departments": sorted(item.departments.values_list("pk", flat=True))}
    for key, value in _clean_item(changes).items():
        setattr(item, key, value)
    item.save()
    if departments is not None:
        item.departments.set(list(departments))
    new = {**_item_snapshot(item), "departments": sorted(item.departments.values_list("pk", flat=True))}
    diff = {k for k in new if new[k] != old[k]}
    if diff:
        audit_log(item, "services.item.updated", actor=actor, old={k: old[k] for k in diff},
                  new={k: new[k] for k in diff}, reason=reason)
    return item


@transaction.atomic
def item_positions_set(item: ServiceItem, *, positions: Iterable[ServicePosition], actor) -> ServiceItem:
    """Set where an item is handled (its positions)."""
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    old = sorted(item.positions.values_list("pk", flat=True))
    positions = list(positions)
    item.positions.set(positions)
    new = sorted(p.pk for p in positions)
    if new != old:
        audit_log(item, "services.item.positions_set", actor=actor, old={"positions": old}, new={"positions": new})
    return item
