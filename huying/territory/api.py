"""Territory API: divisions with counts, their children, and the children's polygons for the map."""

import hashlib
import json

from django.core.cache import cache
from django.db.models import Count, Max
from django.http import HttpResponse
from ninja import Router, Schema
from shapely import geometry as shapely_geometry
from shapely import to_geojson

from huying.core.apischema import ErrorOut

from . import selectors
from .models import UNIFIED_LAYER, Division, Grid, Level

router = Router(tags=["territory"])

# Degrees; ~100 m and ~20 m at Guangzhou's latitude. Districts and streets are drawn whole-city or
# whole-district wide, where finer vertices only add payload; communities and grids stay exact.
SIMPLIFY_TOLERANCE = {Level.DISTRICT: 0.001, Level.STREET: 0.0002}
GEOJSON_CACHE_SECONDS = 600


class NodeOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    generated: bool
    official_code: bool
    lng: float | None = None
    lat: float | None = None
    counts: dict[str, int]


class AncestorOut(Schema):
    code: str
    name: str
    level: str


class DivisionOut(NodeOut):
    ancestors: list[AncestorOut]
    child_level: str | None = None


def _division_node(code: str) -> selectors.TerritoryNode:
    return selectors.node_get(code, divisions_only=True)


@router.get("/divisions/{code}", response={200: DivisionOut, 404: ErrorOut})
def division_detail(request, code: str):
    """A division with the counts of what lies below it and its ancestors from the city down."""
    node = _division_node(code)
    ancestors = selectors.node_ancestors([code])[code]
    return {**node.as_dict(), "child_level": node.child_level,
            "ancestors": [{"code": a.code, "name": a.name, "level": a.level} for a in ancestors]}


@router.get("/divisions/{code}/children", response={200: list[NodeOut], 404: ErrorOut})
def division_children(request, code: str):
    """The children with their counts: districts, streets, communities, or a community's unified grids."""
    return [c.as_dict() for c in selectors.node_children(_division_node(code))]


def _fingerprint(node: selectors.TerritoryNode) -> str:
    # Cheap summary of the children's rows: a re-import adds rows and moves the max id, so a changed
    # territory misses the cache instead of serving stale shapes for up to GEOJSON_CACHE_SECONDS.
    if node.level == Level.COMMUNITY:
        qs = Grid.objects.filter(layer=UNIFIED_LAYER, code__startswith=node.code)
    else:
        prefix = node.code[:4] if node.level == Level.CITY else node.code
        qs = Division.objects.filter(level=selectors.CHILD_LEVEL[node.level], code__startswith=prefix)
    agg = qs.aggregate(n=Count("id"), m=Max("id"))
    return f"{agg['n']}-{agg['m']}"


def _children_shapes(node: selectors.TerritoryNode, codes: list[str], level: str) -> dict[str, list]:
    """{child code: [geometry as GeoJSON dict, cp]}, simplified for wide levels; cached, since
    simplifying a district's streets costs more than the whole rest of the request."""
    key = "territory:children-shapes:" + hashlib.sha1(f"{node.code}:{_fingerprint(node)}".encode()).hexdigest()
    shapes = cache.get(key)
    if shapes is not None:
        return shapes
    if node.level == Level.COMMUNITY:
        rows = Grid.objects.filter(layer=UNIFIED_LAYER, code__in=codes).values_list("code", "geometry")
    else:
        rows = Division.objects.filter(code__in=codes).values_list("code", "geometry")
    tolerance = SIMPLIFY_TOLERANCE.get(level)
    shapes = {}
    for code, text in rows:
        if not text:
            continue
        shape = shapely_geometry.shape(json.loads(text))
        if tolerance:
            shape = shape.simplify(tolerance, preserve_topology=True)
        point = shape.representative_point()
        shapes[code] = [json.loads(to_geojson(shape)), [round(point.x, 6), round(point.y, 6)]]
    cache.set(key, shapes, GEOJSON_CACHE_SECONDS)
    return shapes


def children_feature_collection(node: selectors.TerritoryNode) -> dict:
    """The children of `node` as a GeoJSON FeatureCollection; children without geometry are left out.

    Properties: code, name, level, kind, generated, official_code, counts, and `cp` (a point inside
    the shape, which ECharts also uses to place the label). Counts are always fresh; only the
    shapes are cached.
    """
    children = selectors.node_children(node)
    if not children:
        return {"type": "FeatureCollection", "features": []}
    shapes = _children_shapes(node, [c.code for c in children], children[0].level)
    features = []
    for child in children:
        if child.code not in shapes:
            continue
        geometry, cp = shapes[child.code]
        features.append({"type": "Feature", "properties": {**child.as_dict(), "cp": cp}, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


GEOJSON_RESPONSE = {"description": "GeoJSON FeatureCollection", "content": {"application/geo+json": {"schema": {
    "type": "object", "required": ["type", "features"],
    "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": {"type": "object"}}},
}}}}


@router.get("/divisions/{code}/children.geojson", response={200: None, 404: ErrorOut},
            openapi_extra={"responses": {200: GEOJSON_RESPONSE}})
def division_children_geojson(request, code: str):
    """The children's polygons as a GeoJSON FeatureCollection (a community's: its unified grids)."""
    body = json.dumps(children_feature_collection(_division_node(code)), ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body, content_type="application/geo+json; charset=utf-8")
