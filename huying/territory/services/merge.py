"""多网合一: merge imported source grid layers into the one unified grid layer.

See `grids_merge` for the rule. Overlay work is done in lng/lat with every coordinate snapped to
GRID_SIZE degrees (about 1 mm), so edges cut from one grid line up exactly with the grid they were
cut against and no hairline slivers appear; areas and shares use `imports.area_m2`.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np
import shapely
from django.db import transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError

from ..models import UNIFIED_LAYER, Building, Division, Grid, GridCrosswalk
from .imports import (
    BATCH,
    area_m2,
    areas_m2,
    check_layer,
    common_division,
    geometry_text,
    representative_lnglat,
)

GRID_SIZE = 1e-8
# Pieces smaller than this are numerical dust from the overlay, not territory.
MIN_PIECE_M2 = 1.0
# Crosswalk rows below this share are boundary dust as well.
MIN_SHARE = 1e-6
# Sequence numbers of grids that only a non-base layer covers: CJ/T 349 numbers merged units from
# 601 upward, which keeps them clear of the base layer's own sequence numbers (001–599 in practice).
ADDED_SEQUENCE_START = 601
EDGE_EPS = 1e-7

Progress = Callable[..., Iterable]


def _no_progress(iterable, **_kwargs):
    return iterable


def _polygons(geom) -> list:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    return [g for part in getattr(geom, "geoms", []) for g in _polygons(part)]


def _polygonal(geom):
    """Drop the points and lines an overlay may leave on shared edges."""
    parts = _polygons(geom)
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _union(geoms: list):
    return shapely.union_all(geoms, grid_size=GRID_SIZE) if geoms else None


def _check_layers(layers) -> list[str]:
    if isinstance(layers, str) or not layers:
        raise DomainError("territory.merge.layers", _("请至少给出一个要合并的来源图层"), field="layers")
    layers = list(layers)
    for layer in layers:
        check_layer(layer)
    dup = sorted({x for x in layers if layers.count(x) > 1})
    if dup:
        raise DomainError("territory.merge.layers", _("图层重复：%(layers)s") % {"layers": "、".join(dup)},
                          field="layers")
    return layers


@transaction.atomic
def grids_merge(layers: list[str], *, tolerance: float = 0.01, actor=None, replace: bool = False,
                progress: Progress | None = None) -> dict:
    """多网合一: build the unified grid layer from source layers; returns a report.

    The rule, in the order the layers are given:
    1. The first layer is the base partition: each base grid becomes a unified grid with the
       same code, name and community. Where base grids overlap each other, the lower code keeps
       the overlap.
    2. Each further layer, grid by grid (code order), fills only what is not yet covered: the
       uncovered remainder of a grid, split into connected pieces, becomes a new unified grid
       in that grid's community, coded community code + a sequence from 601 upward; a piece
       smaller than `tolerance` × its source grid's area is a sliver and is absorbed into the
       unified grid of the same community sharing the longest edge with it (or dropped, and
       reported, if none touches it).
    So the unified layer covers the union of all layers without overlaps.
    3. Crosswalk: every source grid → every unified grid it overlaps, with the share of the
       source grid's area; a source grid's shares sum to 1 unless a sliver of it was dropped.

    Only the unified grids of the communities the source layers touch are replaced; they are
    updated by code, so grid stations bound to a base grid keep their grid. Buildings on replaced
    grids move to the unified grid containing them (the nearest one in their community if none
    does). Unified grids that were imported (not generated and not made by an earlier merge)
    are replaced only with `replace`.

    The report lists, per layer, gaps (a community's area the layer leaves uncovered, above
    `tolerance` as a fraction; the community's own boundary is the reference, or the union of
    all layers there if it has none) and overlaps (pairs of the layer's grids overlapping by
    more than `tolerance` of the smaller grid).
    """
    layers = _check_layers(layers)
    try:
        tolerance = float(tolerance)
    except (TypeError, ValueError):
        tolerance = -1.0
    if not 0 <= tolerance < 1:
        raise DomainError("territory.merge.tolerance", _("容差应为 0 到 1 之间的比例，例如 0.01"), field="tolerance")
    progress = progress or _no_progress

    grids = list(Grid.objects.filter(layer__in=layers).select_related("community"))
    present = {g.layer for g in grids}
    missing = [layer for layer in layers if layer not in present]
    if missing:
        raise DomainError("territory.merge.unknown_layer",
                          _("图层没有任何网格，请先导入：%(layers)s") % {"layers": "、".join(missing)},
                          field="layers", status=404)
    order = {layer: n for n, layer in enumerate(layers)}
    grids.sort(key=lambda g: (order[g.layer], g.code))
    raw = shapely.set_precision(shapely.from_geojson([g.geometry for g in grids]), GRID_SIZE)
    raw = [shapely.make_valid(s) if not s.is_valid else s for s in raw]
    raw = [_polygonal(s) for s in raw]
    raw_area = areas_m2(raw).tolist()
    communities = {g.community_id: g.community for g in grids}

    unified, stats = _build_unified(grids, raw, raw_area, layers[0], tolerance, progress)
    crosswalk = _crosswalk(grids, raw, raw_area, unified)
    references = _references(grids, raw, communities)
    report = {
        "layers": {layer: _layer_report(layer, grids, raw, raw_area, communities, references, tolerance)
                   for layer in layers},
        "tolerance": tolerance,
        "communities": len(communities),
        "unified": stats,
        "crosswalk": len(crosswalk),
    }
    report["unified"].update(_write(unified, crosswalk, grids, communities, replace=replace, progress=progress))
    target = common_division(communities)
    audit_log(target, "territory.grids.merged", actor=actor,
              data={"layers": layers, "tolerance": tolerance, "replace": replace, **report["unified"],
                    "crosswalk": len(crosswalk),
                    "gaps": {k: len(v["gaps"]) for k, v in report["layers"].items()},
                    "overlaps": {k: len(v["overlaps"]) for k, v in report["layers"].items()}})
    return report


def _build_unified(grids, raw, raw_area, base_layer, tolerance, progress):
    """Lay the layers over each other (see grids_merge); returns unified grid dicts and counts."""
    tree = shapely.STRtree(raw)
    unified: list[dict] = []
    contributes: dict[int, set[int]] = defaultdict(set)  # source index → unified indexes holding its area
    by_community: dict[int, list[int]] = defaultdict(list)
    used_codes: set[str] = {g.code for g in grids if g.layer == base_layer}
    next_seq: dict[int, int] = defaultdict(lambda: ADDED_SEQUENCE_START)
    stats = {"from_base": 0, "added": 0, "absorbed": 0, "dropped": 0, "dropped_m2": 0.0, "base_covered": []}

    for i in progress(range(len(grids)), desc=_("合并网格"), unit="格"):
        grid = grids[i]
        taken = sorted({u for j in tree.query(raw[i]).tolist() if j < i for u in contributes[j]})
        # Most neighbours only touch along an edge; only real overlaps need the costly overlay.
        covered = _union([unified[u]["geom"] for u in taken if _overlap(raw[i], unified[u]["geom"])])
        rest = raw[i] if covered is None else _polygonal(shapely.difference(raw[i], covered, grid_size=GRID_SIZE))
        pieces = [p for p in _polygons(rest) if area_m2(p) >= MIN_PIECE_M2]
        if grid.layer == base_layer:
            if not pieces:
                stats["base_covered"].append(grid.code)
                continue
            u = len(unified)
            unified.append({"code": grid.code, "name": grid.name, "community_id": grid.community_id,
                            "geom": pieces[0] if len(pieces) == 1 else shapely.MultiPolygon(pieces)})
            contributes[i].add(u)
            by_community[grid.community_id].append(u)
            stats["from_base"] += 1
            continue
        pieces.sort(key=lambda p: (-p.area, p.bounds))
        big = [p for p in pieces if area_m2(p) >= tolerance * raw_area[i]]
        for n, piece in enumerate(big):
            code = _next_code(grid.community.code, next_seq, grid.community_id, used_codes)
            suffix = "" if len(big) == 1 else str(n + 1)
            u = len(unified)
            unified.append({"code": code, "name": f"{grid.name}（{grid.layer}{suffix}）"[:100],
                            "community_id": grid.community_id, "geom": piece})
            contributes[i].add(u)
            by_community[grid.community_id].append(u)
            stats["added"] += 1
        for piece in pieces:
            if any(piece is p for p in big):
                continue
            u = _longest_edge_neighbour(piece, [(v, unified[v]["geom"]) for v in by_community[grid.community_id]])
            if u is None:
                stats["dropped"] += 1
                stats["dropped_m2"] += area_m2(piece)
                continue
            unified[u]["geom"] = _polygonal(shapely.union(unified[u]["geom"], piece, grid_size=GRID_SIZE))
            contributes[i].add(u)
            stats["absorbed"] += 1
    stats["dropped_m2"] = round(stats["dropped_m2"], 1)
    return unified, stats


def _next_code(community_code: str, next_seq, community_id: int, used: set[str]) -> str:
    seq = next_seq[community_id]
    while f"{community_code}{seq:03d}" in used:
        seq += 1
    if seq > 999:
        raise DomainError("territory.merge.sequence",
                          _("社区 %(community)s 合并新增的网格超过 399 个（序号 601–999），请检查来源图层")
                          % {"community": community_code})
    next_seq[community_id] = seq + 1
    code = f"{community_code}{seq:03d}"
    used.add(code)
    return code


def _longest_edge_neighbour(piece, candidates) -> int | None:
    best, best_len = None, 0.0
    for u, geom in candidates:
        if geom.distance(piece) > EDGE_EPS:
            continue
        shared = piece.boundary.intersection(geom.buffer(EDGE_EPS)).length
        if shared > best_len:
            best, best_len = u, shared
    return best


def _overlap(a, b) -> bool:
    return a.intersects(b) and not a.touches(b)


def _overlap_areas(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Area (m²) shared by each pair left[k], right[k]; pairs that only touch cost no overlay."""
    out = np.zeros(len(left))
    real = ~shapely.touches(left, right)
    if real.any():
        try:
            both = shapely.intersection(left[real], right[real])
        except shapely.errors.GEOSException:
            # The fast floating overlay can fail on nearly coincident edges; snap-rounding cannot.
            both = shapely.intersection(left[real], right[real], grid_size=GRID_SIZE)
        out[real] = areas_m2(both)
    return out


def _crosswalk(grids, raw, raw_area, unified) -> list[tuple[int, int, float]]:
    shapes = np.array([u["geom"] for u in unified], dtype=object)
    sources = np.array(raw, dtype=object)
    src, dst = shapely.STRtree(shapes).query(sources, predicate="intersects")
    shared = _overlap_areas(sources[src], shapes[dst])
    rows = []
    for i, u, m2 in sorted(zip(src.tolist(), dst.tolist(), shared.tolist(), strict=True)):
        share = m2 / raw_area[i] if raw_area[i] > 0 else 0.0
        if share >= MIN_SHARE:
            rows.append((i, u, round(min(share, 1.0), 6)))
    return rows


def _outline(community: Division):
    if community.geometry and not getattr(community, "geometry_generated", False):
        try:
            return _polygonal(shapely.set_precision(shapely.from_geojson(community.geometry), GRID_SIZE))
        except shapely.errors.GEOSException:
            return None
    return None


def _references(grids, raw, communities) -> dict[int, tuple]:
    """Each community's reference area for gaps: its own boundary, else the union of all layers there."""
    by_community = defaultdict(list)
    for i, g in enumerate(grids):
        by_community[g.community_id].append(raw[i])
    out = {}
    for cid, community in communities.items():
        outline, reference = _outline(community), "boundary"
        if outline is None or outline.is_empty:
            outline, reference = _union(by_community[cid]), "layers"
        out[cid] = (outline, reference, area_m2(outline))
    return out


def _layer_report(layer, grids, raw, raw_area, communities, references, tolerance) -> dict:
    mine = [i for i, g in enumerate(grids) if g.layer == layer]
    mine_by_community = defaultdict(list)
    for i in mine:
        mine_by_community[grids[i].community_id].append(raw[i])
    gaps = []
    for cid in sorted(communities, key=lambda c: communities[c].code):
        community = communities[cid]
        outline, reference, total = references[cid]
        if total <= 0:
            continue
        cover = _union(mine_by_community[cid])
        gap = outline if cover is None else shapely.difference(outline, cover, grid_size=GRID_SIZE)
        gap_m2 = area_m2(gap)
        if gap_m2 / total > tolerance:
            gaps.append({"community": community.code, "name": community.name, "reference": reference,
                         "gap_m2": round(gap_m2, 1), "share": round(gap_m2 / total, 4)})
    overlaps = []
    geoms = np.array([raw[i] for i in mine], dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = _overlap_areas(geoms[left], geoms[right])
    for a, b, both in zip(left.tolist(), right.tolist(), shared.tolist(), strict=True):
        i, j = mine[a], mine[b]
        smaller = min(raw_area[i], raw_area[j])
        if smaller > 0 and both / smaller > tolerance:
            overlaps.append({"codes": [grids[i].code, grids[j].code], "overlap_m2": round(both, 1),
                             "share": round(both / smaller, 4)})
    overlaps.sort(key=lambda o: o["codes"])
    return {"grids": len(mine), "area_m2": round(sum(raw_area[i] for i in mine), 1), "gaps": gaps, "overlaps": overlaps}


def _write(unified, crosswalk, grids, communities, *, replace: bool, progress) -> dict:
    """Replace the unified layer in the merged communities; returns counts."""
    existing = {g.code: g for g in Grid.objects.select_for_update()
                .filter(layer=UNIFIED_LAYER, community_id__in=list(communities))}
    merged_before = set(GridCrosswalk.objects.filter(target_id__in=[g.pk for g in existing.values()])
                        .values_list("target_id", flat=True))
    imported = sorted(code for code, g in existing.items() if not g.generated and g.pk not in merged_before)
    if imported and not replace:
        raise DomainError("territory.merge.unified_exists",
                          _("这些社区已有导入的统一网格（%(codes)s 等 %(n)d 个），合并会覆盖它们；确认覆盖请使用替换（replace）")
                          % {"codes": "、".join(imported[:5]), "n": len(imported)}, status=409, codes=imported[:50])

    GridCrosswalk.objects.filter(Q(target_id__in=[g.pk for g in existing.values()])
                                 | Q(source__layer__in={g.layer for g in grids})).delete()
    fields = ["name", "community_id", "geometry", "lng", "lat", "area_m2"]
    to_create, to_update, objects = [], [], []
    unchanged = 0
    for u in unified:
        lng, lat = representative_lnglat(u["geom"])
        row = {"name": u["name"], "community_id": u["community_id"], "geometry": geometry_text(u["geom"]),
               "lng": lng, "lat": lat, "area_m2": round(area_m2(u["geom"]), 1)}
        grid = existing.get(u["code"])
        if grid is None:
            grid = Grid(layer=UNIFIED_LAYER, code=u["code"], generated=False, **row)
            to_create.append(grid)
        elif all(getattr(grid, f) == row[f] for f in fields) and not grid.generated:
            unchanged += 1
        else:
            for f, value in row.items():
                setattr(grid, f, value)
            grid.generated = False
            to_update.append(grid)
        objects.append(grid)
    Grid.objects.bulk_create(to_create, batch_size=BATCH)
    if any(g.pk is None for g in to_create):
        ids = dict(Grid.objects.filter(layer=UNIFIED_LAYER, code__in=[g.code for g in to_create])
                   .values_list("code", "pk"))
        for g in to_create:
            g.pk = ids[g.code]
    Grid.objects.bulk_update(to_update, [*fields, "generated"], batch_size=BATCH)

    moved = _relocate_buildings(list(existing.values()), unified, objects, progress)
    keep = {u["code"] for u in unified}
    doomed = [g for code, g in existing.items() if code not in keep]
    try:
        Grid.objects.filter(pk__in=[g.pk for g in doomed]).delete()
    except (ProtectedError, RestrictedError) as exc:
        blocking = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", None) or []
        raise DomainError("territory.merge.grid_in_use",
                          _("合并后不再存在的统一网格仍被引用，无法删除：%(grids)s（引用者：%(what)s）")
                          % {"grids": "、".join(sorted(g.code for g in doomed)[:5]),
                             "what": "、".join(sorted(str(o) for o in blocking)[:5])}, status=409) from exc

    GridCrosswalk.objects.bulk_create(
        [GridCrosswalk(source_id=grids[i].pk, target_id=objects[u].pk, share=share) for i, u, share in crosswalk],
        batch_size=BATCH)
    return {"created": len(to_create), "updated": len(to_update), "unchanged": unchanged,
            "deleted": len(doomed), "buildings_moved": moved, "total": len(unified)}


def _relocate_buildings(old_grids, unified, objects, progress) -> int:
    """Put each building of the replaced grids on the new unified grid holding it (属地: else the nearest in its community)."""
    old = {g.pk: g for g in old_grids}
    buildings = list(Building.objects.select_for_update().filter(grid_id__in=list(old)).order_by("pk"))
    if not buildings:
        return 0
    shapes = [u["geom"] for u in unified]
    tree = shapely.STRtree(shapes)
    points = shapely.points([(b.lng, b.lat) for b in buildings])
    holder: dict[int, int] = {}
    for p, u in zip(*(a.tolist() for a in tree.query(points, predicate="intersects")), strict=True):
        # Ties on a shared edge go to the lower code, as in buildings_import.
        if p not in holder or unified[u]["code"] < unified[holder[p]]["code"]:
            holder[p] = u
    by_community = defaultdict(list)
    for u, item in enumerate(unified):
        by_community[item["community_id"]].append(u)
    moved, stranded = [], []
    for n, building in enumerate(progress(buildings, desc=_("迁移楼栋"), unit="栋")):
        u = holder.get(n)
        if u is None:
            near = by_community.get(old[building.grid_id].community_id, [])
            if not near:
                stranded.append(building.code)
                continue
            u = min(near, key=lambda v: (shapes[v].distance(points[n]), unified[v]["code"]))
        if objects[u].pk != building.grid_id:
            building.grid_id = objects[u].pk
            moved.append(building)
    if stranded:
        raise DomainError("territory.merge.buildings_stranded",
                          _("合并后这些楼栋所在社区没有统一网格：%(codes)s") % {"codes": "、".join(stranded[:5])},
                          status=409)
    Building.objects.bulk_update(moved, ["grid"], batch_size=BATCH)
    return len(moved)


def merge_report_text(report: dict) -> str:
    """The merge report as readable lines for the command line."""
    u = report["unified"]
    lines = [
        _("统一网格 %(total)d 个：基础图层 %(base)d，补充 %(added)d，吸收碎片 %(absorbed)d，舍弃碎片 %(dropped)d（%(dropped_m2)s 平方米）")
        % {"total": u["total"], "base": u["from_base"], "added": u["added"], "absorbed": u["absorbed"],
           "dropped": u["dropped"], "dropped_m2": u["dropped_m2"]},
        _("写入：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d，删除 %(deleted)d；迁移楼栋 %(moved)d；对照关系 %(cw)d 条")
        % {"created": u["created"], "updated": u["updated"], "unchanged": u["unchanged"], "deleted": u["deleted"],
           "moved": u["buildings_moved"], "cw": report["crosswalk"]},
    ]
    if u["base_covered"]:
        lines.append(_("基础图层中被编码更小的网格完全覆盖的网格：%(codes)s") % {"codes": "、".join(u["base_covered"])})
    for layer, info in report["layers"].items():
        lines.append(_("图层 %(layer)s：网格 %(n)d 个，缺口 %(gaps)d 处，重叠 %(overlaps)d 对")
                     % {"layer": layer, "n": info["grids"], "gaps": len(info["gaps"]), "overlaps": len(info["overlaps"])})
        for gap in info["gaps"]:
            lines.append("  " + _("缺口 %(community)s %(name)s：%(m2)s 平方米，占 %(pct).1f%%")
                         % {"community": gap["community"], "name": gap["name"], "m2": gap["gap_m2"],
                            "pct": gap["share"] * 100})
        for o in info["overlaps"]:
            lines.append("  " + _("重叠 %(a)s × %(b)s：%(m2)s 平方米，占较小网格 %(pct).1f%%")
                         % {"a": o["codes"][0], "b": o["codes"][1], "m2": o["overlap_m2"], "pct": o["share"] * 100})
    return "\n".join(lines)
