"""Demo data: a Party-mass service centre in every street and community, 20 stations in crowded
places, their opening hours, and the street-level service catalogue (data/catalogue.json).

`services_demo_seed()` runs after the territory and the people demo (it needs the territorial units
`gov-<division code>`); it is idempotent: it does nothing if positions already exist.
"""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import numpy as np
from django.db import transaction

from huying.core.audit import audit_row
from huying.core.models import AuditEntry
from huying.people.models import Unit
from huying.territory.models import UNIFIED_LAYER, Division, Grid, Level

from .models import HandlingLevel, OpeningHours, PositionKind, ServiceItem, ServicePosition

CATALOGUE = Path(__file__).with_name("data") / "catalogue.json"
STATIONS = 20
BATCH = 2000
OFFICE = [(d, time(9), time(12), "") for d in range(5)] + [(d, time(13), time(17), "") for d in range(5)]
SATURDAY = [(5, time(9), time(12), "错时服务")]
EVENING = [(1, time(18), time(20), "错时延时服务"), (3, time(18), time(20), "错时延时服务")]
STATION_HOURS = [(d, time(8), time(22), "") for d in range(7)]


def catalogue() -> list[dict]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))["items"]


def _nearest(rows: list[tuple], lng: float | None, lat: float | None):
    """The grid row (id, code, lng, lat) nearest the point, or the first if the point is unknown."""
    if lng is None or lat is None:
        return rows[0]
    d = [(r[2] - lng) ** 2 + (r[3] - lat) ** 2 for r in rows]
    return rows[int(np.argmin(d))]


@transaction.atomic
def services_demo_seed(*, actor=None, stations: int = STATIONS) -> dict[str, int]:
    """Create the demo's service positions, hours and catalogue; returns counts of what was created."""
    if ServicePosition.objects.exists():
        return {"positions": 0, "items": 0}
    units = dict(Unit.objects.filter(code__startswith="gov-").values_list("code", "pk"))
    grids: dict[str, list[tuple]] = {}
    for row in Grid.objects.filter(layer=UNIFIED_LAYER).order_by("code").values_list("pk", "code", "lng", "lat"):
        grids.setdefault(row[1][:12], []).append(row)
    divisions = list(Division.objects.filter(level__in=[Level.STREET, Level.COMMUNITY]).order_by("code"))
    positions: list[ServicePosition] = []
    hours_of: list[list] = []
    street_ids: list[int] = []
    for div in divisions:
        unit_id = units.get(f"gov-{div.code}")
        rows = [r for code, rs in grids.items() if code.startswith(div.code) for r in rs] \
            if div.level == Level.STREET else grids.get(div.code, [])
        if unit_id is None or not rows:
            continue
        if div.level == Level.STREET:
            lng = div.lng if div.lng is not None else float(np.mean([r[2] for r in rows]))
            lat = div.lat if div.lat is not None else float(np.mean([r[3] for r in rows]))
        else:
            lng, lat = div.lng, div.lat
        grid = _nearest(rows, lng, lat)
        short = div.short_name or div.name
        street = div.level == Level.STREET
        positions.append(ServicePosition(
            kind=PositionKind.STREET_CENTRE if street else PositionKind.COMMUNITY_CENTRE,
            name=f"{short}党群服务中心", unit_id=unit_id, division=div, grid_id=grid[0], lng=grid[2], lat=grid[3],
            address=f"{div.name}{short}党群服务中心", phone=f"020-{8300_0000 + len(positions):08d}"[:13]))
        evening = not street and len(positions) % 3 == 0
        hours_of.append(OFFICE + (SATURDAY if street else []) + (EVENING if evening else []))
        if street:
            street_ids.append(len(positions) - 1)
    # Stations in crowded places: every n-th street, at the street grid farthest from its centre.
    step = max(1, len(street_ids) // max(stations, 1))
    for i in street_ids[::step][:stations]:
        centre = positions[i]
        rows = [r for code, rs in grids.items() if code.startswith(centre.division.code) for r in rs]
        far = max(rows, key=lambda r: (r[2] - centre.lng) ** 2 + (r[3] - centre.lat) ** 2)
        short = centre.division.short_name or centre.division.name
        positions.append(ServicePosition(
            kind=PositionKind.STATION, name=f"{short}商圈党群服务站", unit_id=centre.unit_id,
            division=centre.division, grid_id=far[0], lng=far[2], lat=far[3],
            address=f"{centre.division.name}商圈服务站", open_on_holidays=True))
        hours_of.append(STATION_HOURS)
    ServicePosition.objects.bulk_create(positions, batch_size=BATCH)
    if not positions[0].pk:  # backends that do not return ids on bulk insert
        positions = list(ServicePosition.objects.order_by("pk"))
    OpeningHours.objects.bulk_create(
        [OpeningHours(position=p, day=d, opens=a, closes=b, note=note)
         for p, hours in zip(positions, hours_of, strict=True) for d, a, b, note in hours], batch_size=BATCH)
    AuditEntry.objects.bulk_create(
        [AuditEntry(**audit_row(p, "services.position.seeded", actor=actor, data={"kind": p.kind}))
         for p in positions], batch_size=BATCH)

    departments = dict(Unit.objects.filter(code__startswith="dept-").values_list("code", "pk"))
    items = []
    dept_links = []
    for row in catalogue():
        item = ServiceItem(code=row["code"], name=row["name"], category=row["category"], level=row["level"],
                           documents=row["documents"], time_limit_days=row["time_limit_days"], fee=row["fee"])
        items.append(item)
        dept_links.append([departments[f"dept-{s}"] for s in row["departments"] if f"dept-{s}" in departments])
    ServiceItem.objects.bulk_create(items, batch_size=BATCH)
    items = list(ServiceItem.objects.filter(code__in=[i.code for i in items]).order_by("code"))
    by_code = {i.code: i for i in items}
    Through = ServiceItem.departments.through
    Through.objects.bulk_create(
        [Through(serviceitem_id=by_code[row["code"]].pk, unit_id=u)
         for row, links in zip(catalogue(), dept_links, strict=True) for u in links], batch_size=BATCH)
    # One door: a street centre (and a station) handles every item; a community centre its community items.
    PosThrough = ServiceItem.positions.through
    community_items = [i for i in items if i.level == HandlingLevel.COMMUNITY]
    links = []
    for p in positions:
        for i in (community_items if p.kind == PositionKind.COMMUNITY_CENTRE else items):
            links.append(PosThrough(serviceitem_id=i.pk, serviceposition_id=p.pk))
    PosThrough.objects.bulk_create(links, batch_size=BATCH * 5)
    AuditEntry.objects.bulk_create(
        [AuditEntry(**audit_row(i, "services.item.seeded", actor=actor)) for i in items], batch_size=BATCH)
    return {"positions": len(positions), "items": len(items)}
