"""Imports of grid layers (网格图层) and buildings (楼栋) from GeoJSON.

Both imports check the whole file before writing anything and write in one transaction, so a bad
file loads nothing. The problems found (up to MAX_PROBLEMS) are reported together in one
DomainError, each naming its feature as `features[i] (编码 …)` so a person can find it in the file.

Areas (`area_m2`) come from a local equal-area approximation instead of a projection library:
a degree of latitude is 111,320 m and a degree of longitude 111,320 m × cos(latitude), taken at
the geometry's centroid, so area = area in square degrees × cos(lat) × 111,320². Over a grid or a
community the latitude barely changes, and against the WGS-84 ellipsoid the result is within
about 0.5 % at Guangzhou's latitude — plenty for grid sizes and overlap shares (a ratio, where the
constant cancels).
"""

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np
import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.validation import explain_validity

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import BAD_RE, clean_text

from ..models import UNIFIED_LAYER, Building, Division, Grid, Level

MAX_PROBLEMS = 20
BATCH = 500
METRES_PER_DEGREE = 111_320.0
LAYER_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
GRID_CODE_MAX = Grid._meta.get_field("code").max_length
BUILDING_CODE_MAX = Building._meta.get_field("code").max_length
GRID_NAME_MAX = Grid._meta.get_field("name").max_length
ADDRESS_MAX = Building._meta.get_field("address").max_length
MAX_HOUSEHOLDS = 2**31 - 1

Progress = Callable[..., Iterable]


def _no_progress(iterable, **_kwargs):
    return iterable


def _chunks(values, size: int = 5000):
    """SQLite caps the number of query parameters, so long `__in` lists go in slices."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


# --- geometry helpers shared with the merge -------------------------------------------------------


def area_m2(geom) -> float:
    """Area in square metres of a lng/lat geometry (see the module docstring for the approximation)."""
    if geom is None or geom.is_empty:
        return 0.0
    return float(areas_m2([geom])[0])


def areas_m2(geoms) -> np.ndarray:
    """`area_m2` of many geometries at once."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return np.zeros(0)
    lat = shapely.get_y(shapely.centroid(geoms))
    return np.nan_to_num(shapely.area(geoms) * np.cos(np.radians(lat))) * METRES_PER_DEGREE ** 2


def geometry_text(geom) -> str:
    """GeoJSON text as stored on Division/Grid (exact coordinates, compact)."""
    return json.dumps(shapely.geometry.mapping(geom), separators=(",", ":"), ensure_ascii=False)


def representative_lnglat(geom) -> tuple[float, float]:
    point = geom.representative_point()
    return round(point.x, 7), round(point.y, 7)


def common_division(community_ids: Iterable[int]) -> Division | None:
    """The deepest division holding all these communities: the audit target of a multi-community change."""
    ids = set(community_ids)
    if not ids:
        return None
    codes = list(Division.objects.filter(pk__in=ids).values_list("code", flat=True))
    prefix = codes[0]
    for code in codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[:-3] if len(prefix) > 6 else ""
    if prefix:
        found = Division.objects.filter(code=prefix).first()
        if found:
            return found
    return (Division.objects.filter(level=Level.CITY, code__startswith=codes[0][:4]).first()
            or Division.objects.filter(pk__in=ids).order_by("code").first())


# --- validation helpers ---------------------------------------------------------------------------


class _Problems:
    """Collects per-feature problems so one run reports many, not just the first."""

    def __init__(self):
        self.items: list[str] = []
        self.total = 0

    def add(self, label: str, message: str) -> None:
        self.total += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(f"{label}: {message}")

    def raise_if_any(self, code: str) -> None:
        if not self.total:
            return
        head = _("文件有 %(n)d 处问题，未导入任何数据：") % {"n": self.total}
        lines = [head, *self.items]
        if self.total > len(self.items):
            lines.append(_("……另有 %(n)d 处问题未列出") % {"n": self.total - len(self.items)})
        raise DomainError(code, "\n".join(lines), field="features", problems=self.items, total=self.total)


def _label(index: int, *, code: str = "", address: str = "") -> str:
    if code:
        return _("features[%(i)d] (编码 %(code)s)") % {"i": index, "code": code}
    if address:
        return _("features[%(i)d] (地址 %(address)s)") % {"i": index, "address": address[:40]}
    return f"features[{index}]"


def feature_list(geojson) -> list:
    """The features of a FeatureCollection, or a DomainError saying why the file is not one."""
    if not isinstance(geojson, dict):
        raise DomainError("territory.import.invalid", _("文件内容应为 GeoJSON 对象（FeatureCollection）"), field="file")
    if geojson.get("type") != "FeatureCollection":
        raise DomainError("territory.import.invalid",
                          _("GeoJSON 顶层 type 应为 FeatureCollection，实际为 %(type)s")
                          % {"type": json.dumps(geojson.get("type"), ensure_ascii=False)}, field="type")
    features = geojson.get("features")
    if not isinstance(features, list):
        raise DomainError("territory.import.invalid", _("FeatureCollection 缺少 features 列表"), field="features")
    if not features:
        raise DomainError("territory.import.invalid", _("FeatureCollection 中没有要素（features 为空）"),
                          field="features")
    return features


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _position_problem(pos) -> str | None:
    if not isinstance(pos, list | tuple) or not 2 <= len(pos) <= 3 or not all(_is_number(v) for v in pos):
        return _("坐标应为 [经度, 纬度] 数字：%(pos)s") % {"pos": json.dumps(pos, ensure_ascii=False)[:60]}
    lng, lat = pos[0], pos[1]
    if not (math.isfinite(lng) and math.isfinite(lat) and -180 <= lng <= 180 and -90 <= lat <= 90):
        return (_("坐标超出经纬度范围：[%(lng)s, %(lat)s]；应为 WGS-84 经纬度，顺序为 [经度, 纬度]，"
                  "经度 −180～180，纬度 −90～90") % {"lng": lng, "lat": lat})
    return None


def _coordinates_problem(coords, depth: int) -> str | None:
    """Checks nested GeoJSON coordinates `depth` levels above a position (0 = a position)."""
    if depth == 0:
        return _position_problem(coords)
    if not isinstance(coords, list) or not coords:
        return _("坐标（coordinates）结构不正确")
    for item in coords:
        problem = _coordinates_problem(item, depth - 1)
        if problem:
            return problem
    return None


_DEPTH = {"Point": 0, "Polygon": 2, "MultiPolygon": 3}


def _parse_geometry(geometry, allowed: tuple[str, ...]):
    """A valid 2-D shapely geometry of an allowed type, or (None, the reason)."""
    if not isinstance(geometry, dict):
        return None, _("缺少几何（geometry）")
    kind = geometry.get("type")
    if kind not in allowed:
        return None, _("几何类型应为 %(allowed)s，实际为 %(kind)s") % {
            "allowed": " 或 ".join(allowed), "kind": json.dumps(kind, ensure_ascii=False)}
    problem = _coordinates_problem(geometry.get("coordinates"), _DEPTH[kind])
    if problem:
        return None, problem
    try:
        geom = shapely.force_2d(shapely.geometry.shape(geometry))
    except (ValueError, TypeError, IndexError, shapely.errors.GEOSException) as exc:
        return None, _("无法读取几何：%(why)s") % {"why": str(exc)[:160]}
    if not geom.is_valid:
        return None, _("几何无效：%(why)s") % {"why": explain_validity(geom)}
    if kind != "Point" and geom.area <= 0:
        return None, _("多边形面积为零")
    return geom, None


def _code_text(value) -> str:
    """Codes may arrive as JSON numbers from spreadsheets; they are identifiers, so compare as text.

    A code holding NUL or a lone surrogate (no database can look it up) keeps them here; the caller
    reports it (`_code_problem`), and the look-ups leave such codes out."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _code_problem(code: str) -> str | None:
    if BAD_RE.search(code):
        return _("编码含有无法保存的字符（空字符或无效的 Unicode 代理字符）")
    return None


def _file_text(value, *, max_length: int, what: str) -> tuple[str, str | None]:
    """A name or address from a file, cleaned as residents' text is (huying.core.text): (text, problem)."""
    if not isinstance(value, str):
        return "", None
    try:
        return clean_text(value, field=None, max_length=max_length, label=what), None
    except DomainError as exc:
        return "", exc.message


def _printable(code: str) -> str:
    """A code as it can be shown in a problem's label (and stored in the audit log)."""
    return BAD_RE.sub("\ufffd", code)


def _properties(feature) -> dict | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None
    props = feature.get("properties")
    if props is None:
        return {}
    return props if isinstance(props, dict) else None


def check_layer(layer, *, allow_unified: bool = False) -> str:
    """A source layer name: lower-case slug; `unified` only when importing an already-merged layer."""
    if not isinstance(layer, str) or not LAYER_PATTERN.fullmatch(layer):
        raise DomainError("territory.layer.invalid",
                          _("图层名应以小写字母开头，只含小写字母、数字、- 和 _，最长 32 个字符：%(layer)s")
                          % {"layer": json.dumps(layer, ensure_ascii=False)}, field="layer")
    if layer == UNIFIED_LAYER and not allow_unified:
        raise DomainError("territory.layer.unified",
                          _("“unified” 是多网合一后的统一网格图层，来源图层请另取名称；"
                            "如确要导入已合并的官方统一网格，请明确允许导入统一图层"), field="layer")
    return layer


# --- grids ----------------------------------------------------------------------------------------


@transaction.atomic
def grids_import(geojson: dict, *, layer: str, actor=None, source: str = "", allow_unified: bool = False,
                 progress: Progress | None = None) -> dict:
    """Load one grid layer (网格图层) from a GeoJSON FeatureCollection; returns counts.

    Features are Polygon/MultiPolygon with properties `code`, `name` and `community` (the
    12-digit community code); a grid code must start with its community's code. Matching is by
    code within the layer, so importing the same file again changes nothing; grids of the layer
    missing from the file are kept (reported as `kept`), never deleted by an import.
    """
    check_layer(layer, allow_unified=allow_unified)
    features = feature_list(geojson)
    progress = progress or _no_progress
    problems = _Problems()

    community_codes = {_code_text((_properties(f) or {}).get("community")) for f in features}
    community_codes = {c for c in community_codes if c and not BAD_RE.search(c)}
    communities = {d.code: d for d in Division.objects.filter(code__in=community_codes)}
    outlines: dict[int, object] = {}
    seen: dict[str, int] = {}
    rows: list[dict] = []
    warnings: list[str] = []
    for i, feature in enumerate(progress(features, desc=_("检查网格"), unit="格")):
        props = _properties(feature)
        if props is None:
            problems.add(_label(i), _("应为 GeoJSON Feature，且 properties 为对象"))
            continue
        code = _code_text(props.get("code"))
        label = _label(i, code=_printable(code))
        before = problems.total
        if not code:
            problems.add(label, _("缺少网格编码（properties.code）"))
        elif _code_problem(code):
            problems.add(label, _code_problem(code))
        elif len(code) > GRID_CODE_MAX:
            problems.add(label, _("网格编码超过 %(n)d 位") % {"n": GRID_CODE_MAX})
        elif code in seen:
            problems.add(label, _("网格编码与 features[%(other)d] 重复") % {"other": seen[code]})
        else:
            seen[code] = i
        name, why = _file_text(props.get("name"), max_length=GRID_NAME_MAX, what=_("网格名称（properties.name）"))
        if why:
            problems.add(label, why)
        elif not name:
            problems.add(label, _("缺少网格名称（properties.name）"))
        community_code = _code_text(props.get("community"))
        community = communities.get(community_code)
        if not community_code:
            problems.add(label, _("缺少所属社区代码（properties.community）"))
        elif _code_problem(community_code):
            problems.add(label, _code_problem(community_code))
        elif community is None:
            problems.add(label, _("所属社区 %(code)s 不存在，请先导入区划") % {"code": community_code})
        elif community.level != Level.COMMUNITY:
            problems.add(label, _("%(code)s 是%(level)s，网格的所属区划应为社区/村")
                         % {"code": community_code, "level": community.get_level_display()})
        elif code and not code.startswith(community.code):
            problems.add(label, _("网格编码应以所属社区代码 %(community)s 开头（网格编码 = 12 位社区代码 + 3 位序号）")
                         % {"community": community.code})
        geom, why = _parse_geometry(feature.get("geometry"), ("Polygon", "MultiPolygon"))
        if why:
            problems.add(label, why)
        if problems.total != before:
            continue
        lng, lat = representative_lnglat(geom)
        outline = _outline(community, outlines)
        if outline is not None and not outline.covers(shapely.Point(lng, lat)):
            warnings.append(f"{label}: " + _("网格不在所属社区 %(community)s 的边界内") % {"community": community.code})
        rows.append({"code": code, "name": name, "community_id": community.pk, "geometry": geometry_text(geom),
                     "lng": lng, "lat": lat, "area_m2": round(area_m2(geom), 1)})
    problems.raise_if_any("territory.grids.invalid")

    existing = {g.code: g for g in Grid.objects.select_for_update().filter(layer=layer)}
    fields = ["name", "community_id", "geometry", "lng", "lat", "area_m2"]
    to_create, to_update = [], []
    unchanged = 0
    for row in rows:
        grid = existing.get(row["code"])
        if grid is None:
            to_create.append(Grid(layer=layer, generated=False, **row))
        elif all(getattr(grid, f) == row[f] for f in fields) and not grid.generated:
            unchanged += 1
        else:
            for f in fields:
                setattr(grid, f, row[f])
            grid.generated = False
            to_update.append(grid)
    Grid.objects.bulk_create(to_create, batch_size=BATCH)
    Grid.objects.bulk_update(to_update, [*fields, "generated"], batch_size=BATCH)
    report = {
        "layer": layer, "source": source, "features": len(rows), "created": len(to_create),
        "updated": len(to_update), "unchanged": unchanged, "kept": len(set(existing) - set(seen)),
        "warnings": warnings[:MAX_PROBLEMS], "warnings_total": len(warnings),
    }
    target = common_division({row["community_id"] for row in rows})
    audit_log(target, "territory.grids.imported", actor=actor,
              data={k: v for k, v in report.items() if k != "warnings"})
    return report


def _outline(division: Division, cache: dict):
    """A division's own (not generated) boundary as shapely, or None."""
    if division.pk not in cache:
        outline = None
        if division.geometry and not getattr(division, "geometry_generated", False):
            try:
                outline = shapely.from_geojson(division.geometry)
                shapely.prepare(outline)
            except shapely.errors.GEOSException:
                outline = None
        cache[division.pk] = outline
    return cache[division.pk]


# --- buildings ------------------------------------------------------------------------------------


def unified_grid_index():
    """(grids as (id, code, community_id) tuples, their shapes, an STRtree over them) of the unified layer."""
    grids = list(Grid.objects.filter(layer=UNIFIED_LAYER).order_by("code")
                 .values_list("id", "code", "community_id", "geometry"))
    shapes = shapely.from_geojson([g[3] for g in grids]) if grids else np.array([], dtype=object)
    return [g[:3] for g in grids], shapes, shapely.STRtree(shapes)


def _households(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 0 <= value <= MAX_HOUSEHOLDS:
        return value
    return None


@transaction.atomic
def buildings_import(geojson: dict, *, actor=None, progress: Progress | None = None) -> dict:
    """Load buildings (楼栋) from Point features placed on their unified grid; returns counts.

    Properties: `address`, `households` (a non-negative integer) and optionally `code`. Each point
    goes to the unified grid containing it (a point on a shared edge goes to the lower code). A
    building without a code gets its grid's code plus the next free 3-digit sequence. Re-import
    matches by code, or for features without one by (grid, address), so a second run changes
    nothing.
    """
    features = feature_list(geojson)
    progress = progress or _no_progress
    problems = _Problems()

    grids, shapes, tree = unified_grid_index()
    if not grids:
        raise DomainError("territory.buildings.no_grids",
                          _("还没有统一网格（unified），请先导入或合并网格再导入楼栋"), status=409)

    parsed: list[dict] = []
    for i, feature in enumerate(progress(features, desc=_("检查楼栋"), unit="栋")):
        props = _properties(feature)
        if props is None:
            problems.add(_label(i), _("应为 GeoJSON Feature，且 properties 为对象"))
            continue
        code = _code_text(props.get("code"))
        address, why = _file_text(props.get("address"), max_length=ADDRESS_MAX, what=_("地址（properties.address）"))
        label = _label(i, code=_printable(code), address=address)
        before = problems.total
        if code and _code_problem(code):
            problems.add(label, _code_problem(code))
        elif code and len(code) > BUILDING_CODE_MAX:
            problems.add(label, _("楼栋编码超过 %(n)d 位") % {"n": BUILDING_CODE_MAX})
        if why:
            problems.add(label, why)
        elif not address:
            problems.add(label, _("缺少地址（properties.address）"))
        households = _households(props.get("households"))
        if households is None:
            problems.add(label, _("户数（properties.households）应为非负整数，实际为 %(value)s")
                         % {"value": json.dumps(props.get("households"), ensure_ascii=False)})
        geom, why = _parse_geometry(feature.get("geometry"), ("Point",))
        if why:
            problems.add(label, why)
        if problems.total == before:
            parsed.append({"index": i, "label": label, "code": code, "address": address,
                           "households": households, "lng": round(geom.x, 7), "lat": round(geom.y, 7)})

    # Place all points in one vectorised query; ties on a shared edge go to the lowest grid code
    # (grids are ordered by code, so the lowest index).
    points = shapely.points([(p["lng"], p["lat"]) for p in parsed]) if parsed else []
    placed: dict[int, int] = {}
    if parsed:
        point_idx, grid_idx = tree.query(points, predicate="intersects")
        for p, g in zip(point_idx.tolist(), grid_idx.tolist(), strict=True):
            if p not in placed or g < placed[p]:
                placed[p] = g
    seen_codes: dict[str, int] = {}
    seen_addresses: dict[tuple[int, str], int] = {}
    for n, row in enumerate(parsed):
        if n not in placed:
            problems.add(row["label"], _("不在任何统一网格内（经度 %(lng)s，纬度 %(lat)s）")
                         % {"lng": row["lng"], "lat": row["lat"]})
            continue
        row["grid_id"], row["grid_code"] = grids[placed[n]][0], grids[placed[n]][1]
        if row["code"]:
            if row["code"] in seen_codes:
                problems.add(row["label"], _("楼栋编码与 features[%(other)d] 重复") % {"other": seen_codes[row["code"]]})
            seen_codes.setdefault(row["code"], row["index"])
        else:
            key = (row["grid_id"], row["address"])
            if key in seen_addresses:
                problems.add(row["label"], _("同一网格内地址与 features[%(other)d] 重复，无法区分，请给出楼栋编码")
                             % {"other": seen_addresses[key]})
            seen_addresses.setdefault(key, row["index"])
    problems.raise_if_any("territory.buildings.invalid")

    grid_ids = {row["grid_id"] for row in parsed}
    by_code = {b.code: b for chunk in _chunks(seen_codes)
               for b in Building.objects.select_for_update().filter(code__in=chunk)}
    by_address: dict[tuple[int, str], Building] = {}
    existing_codes: set[str] = set(by_code)
    for b in Building.objects.select_for_update().filter(grid_id__in=grid_ids).order_by("code"):
        by_address.setdefault((b.grid_id, b.address), b)
        existing_codes.add(b.code)

    fields = ["grid_id", "address", "lng", "lat", "households"]
    to_create, to_update, unchanged = [], [], 0
    fresh: list[dict] = []
    for row in parsed:
        current = by_code.get(row["code"]) if row["code"] else by_address.get((row["grid_id"], row["address"]))
        if current is None:
            if row["code"]:
                existing_codes.add(row["code"])
            fresh.append(row)
        elif all(getattr(current, f) == row[f] for f in fields):
            unchanged += 1
        else:
            for f in fields:
                setattr(current, f, row[f])
            to_update.append(current)
    _assign_codes([r for r in fresh if not r["code"]], existing_codes | set(seen_codes))
    for row in fresh:
        to_create.append(Building(code=row["code"], generated=False, **{f: row[f] for f in fields}))
    Building.objects.bulk_create(to_create, batch_size=BATCH)
    Building.objects.bulk_update(to_update, fields, batch_size=BATCH)

    community_ids = set(Grid.objects.filter(pk__in=grid_ids).values_list("community_id", flat=True))
    report = {"features": len(parsed), "created": len(to_create), "updated": len(to_update),
              "unchanged": unchanged, "grids": len(grid_ids),
              "households": sum(r["households"] for r in parsed)}
    audit_log(common_division(community_ids), "territory.buildings.imported", actor=actor, data=report)
    return report


def _assign_codes(rows: list[dict], taken: set[str]) -> None:
    """Give each row its grid code + the next free 3-digit sequence after the grid's existing ones."""
    if not rows:
        return
    while True:
        next_seq: dict[str, int] = defaultdict(int)
        prefixes = {r["grid_code"] for r in rows}
        for code in taken:
            prefix, tail = code[:-3], code[-3:]
            if prefix in prefixes and tail.isdigit():
                next_seq[prefix] = max(next_seq[prefix], int(tail))
        problems = _Problems()
        assigned = []
        for row in rows:
            prefix = row["grid_code"]
            seq = next_seq[prefix] + 1
            if seq > 999 or len(prefix) + 3 > BUILDING_CODE_MAX:
                problems.add(row["label"], _("网格 %(grid)s 的楼栋序号已用完（最多 999 栋），请给出楼栋编码")
                             % {"grid": prefix})
                continue
            next_seq[prefix] = seq
            row["code"] = f"{prefix}{seq:03d}"
            assigned.append(row["code"])
        problems.raise_if_any("territory.buildings.invalid")
        # A building on another grid may already hold one of these codes (explicit codes, or a
        # building moved by a merge): take those as used and number again.
        clash = {code for chunk in _chunks(assigned)
                 for code in Building.objects.filter(code__in=chunk).values_list("code", flat=True)} - taken
        if not clash:
            return
        taken |= clash
