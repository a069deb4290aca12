"""What the coverage page's map (地图上的服务圈缺口) draws: the community's outline and grids, the
positions near it open or closed at the chosen moment with their 15-minute radius, covered and
uncovered buildings, and the ranked candidate sites. Built on `community_coverage`, so the map and
the page's figures always agree."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import shapely
from shapely import geometry as shapely_geometry

from huying.territory.models import UNIFIED_LAYER, Building, Division, Grid

from . import coverage as cov
from .models import ServicePosition
from .selectors import _box, community_coverage, open_positions

ROUND = 6  # decimal places of degrees (~0.1 m)


def _xy(lng, lat) -> list[float]:
    return [round(float(lng), ROUND), round(float(lat), ROUND)]


def _outline(community: Division, grids: list[Grid]) -> dict | None:
    """The community's own boundary, else the union of its unified grids (generated territories)."""
    if community.geometry:
        return json.loads(community.geometry)
    shapes = [shapely_geometry.shape(json.loads(g.geometry)) for g in grids if g.geometry]
    if not shapes:
        return None
    return json.loads(shapely.to_geojson(shapely.union_all(shapes)))


def coverage_map(community: Division, *, at: datetime | None, minutes: float = cov.CIRCLE_MINUTES,
                 model: cov.WalkModel = cov.DEFAULT_WALK) -> dict:
    """The map's data as plain JSON-able values (only what the coverage page itself shows)."""
    result = community_coverage(community, at=at, minutes=minutes, model=model)
    radius = model.max_straight_m(minutes)
    grids = list(Grid.objects.filter(community=community, layer=UNIFIED_LAYER).order_by("code"))
    buildings = list(Building.objects.filter(grid__community=community, grid__layer=UNIFIED_LAYER)
                     .order_by("code").values_list("pk", "lng", "lat"))
    gap_ids = {b.pk for b, _m in result.uncovered}
    positions = []
    if buildings:
        b_lng = np.array([b[1] for b in buildings])
        b_lat = np.array([b[2] for b in buildings])
        # The same box and the same opening rule as the page's count of open positions nearby.
        box = _box(b_lng, b_lat, radius * 1.05)
        open_ids = set(open_positions(at=at, near=box)[0].tolist())
        lng0, lat0, lng1, lat1 = box
        nearby = (ServicePosition.objects.filter(active=True, lng__gte=lng0, lng__lte=lng1, lat__gte=lat0,
                                                 lat__lte=lat1).order_by("pk"))
        positions = [{"id": p.pk, "name": p.name, "kind": p.get_kind_display(), "lnglat": _xy(p.lng, p.lat),
                      "open": p.pk in open_ids} for p in nearby]
    # Grids first, the community's outline last so its border is drawn on top.
    features = [{"type": "Feature", "properties": {"code": g.code, "name": g.name, "kind": "grid"},
                 "geometry": json.loads(g.geometry)} for g in grids if g.geometry]
    outline = _outline(community, grids)
    if outline:
        features.append({"type": "Feature", "properties": {"code": community.code, "name": community.name,
                                                           "kind": "community"}, "geometry": outline})
    return {
        "community": {"code": community.code, "name": community.name},
        "at": result.at.isoformat() if result.at else None,
        "minutes": minutes,
        "radius_m": round(radius, 1),
        "shapes": {"type": "FeatureCollection", "features": features},
        "positions": positions,
        "covered": [_xy(lng, lat) for pk, lng, lat in buildings if pk not in gap_ids],
        "uncovered": [{"address": b.address, "grid": b.grid.name, "households": b.households,
                       "minutes": None if m is None else round(m, 1), "lnglat": _xy(b.lng, b.lat)}
                      for b, m in result.uncovered],
        "candidates": [{"rank": i, "label": s.label, "households": s.households, "buildings": s.buildings,
                        "lnglat": _xy(s.lng, s.lat)} for i, s in enumerate(result.candidates, start=1)],
    }
