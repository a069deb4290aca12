"""Generated territory: street, community and grid areas, and buildings, where no survey exists.

Guangzhou publishes its divisions by name and code but not the boundaries below district level,
nor its 19,660 grids. For a working demo and for tests the generator draws them: each district
polygon is split into its streets' areas, each street into its communities', each community into
grids, and buildings are placed in the grids. Everything drawn is marked `generated`, and imported
(surveyed) boundaries and grids are kept and worked around.

How it partitions (all in a local metric projection, snapped to a 1 cm grid so neighbours share
edges exactly):

* Streets and communities get areas in proportion to an *area weight* (`AREA_WEIGHT`: a village
  covers five times the land of an urban community). The split is a power diagram (a weighted
  Voronoi diagram): sites and weights are fitted on lattice sample points until every cell holds
  its share (capacity-constrained Lloyd), refined on the exact clipped areas, cut exactly by
  half-planes and clipped to the parent; areas land within ±5 % of their share for 90 % of the
  communities. Denser children start nearest the city centre, so the urban streets of 白云区
  lie towards 越秀区 and its towns to the north.
* Grids inside one community are roughly equal: Lloyd-relaxed sites and
  `shapely.voronoi_polygons` (fast; the smallest grid of a community is typically ≥ 60 % of the
  mean).
* A piece that the clipping leaves in several parts keeps its largest part; the others join the
  neighbour they share most boundary with, so every street, community and grid is one Polygon.

How many grids (see `community_grid_counts`): Guangzhou sizes a basic grid by people served
(about 200–300 households), so grids follow population, not land. Each district's 2020 census
population is spread over its communities with a residents' committee (社区) weighing three times
a villagers' committee (村); the city-wide target is shared out by that weight with the
largest-remainder method. Central districts are small and populous, so their grids come out
small (越秀 ≈ 0.03 km², 从化 ≈ 2 km²), as in the real city.

Determinism: every random choice draws from a generator seeded by (seed, the division's code),
so the result for a district does not depend on which other districts are generated with it.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError

from ..models import UNIFIED_LAYER, Building, Division, Grid, Level
from .divisions import division_short_name

GRID_SIZE = 0.01  # metres: overlay precision, so shared edges are identical in both neighbours
EARTH_RADIUS = 6_371_008.8
# Streets and communities are ordered from the city centre outwards: the city row's lng/lat when
# it has them, else the middle of the loaded districts' boundaries (`_city_centre`); the shipped
# city's centre (广州市人民政府, 越秀区府前路) only when nothing loaded says where the city is.
CITY_CENTRE = (113.2644, 23.1291)
# Seventh national census (2020), 常住人口 by district.
DISTRICT_POPULATION = {
    "440103": 1_238_338, "440104": 1_038_058, "440105": 1_819_217, "440106": 2_241_826,
    "440111": 3_743_378, "440112": 1_264_548, "440113": 2_658_331, "440114": 1_642_360,
    "440115": 846_747, "440117": 717_567, "440118": 1_466_362,
}
# Relative people and land of one community by kind. A special unit (reservoir, forest farm)
# has almost nobody living on a lot of land.
POPULATION_WEIGHT = {"社区": 3.0, "村": 1.0, "其他": 0.1}
AREA_WEIGHT = {"社区": 1.0, "村": 5.0, "其他": 12.0}
# Households per generated building: about ten buildings a grid and a grid of about 200–400
# households (the sizing above) give 15–60 in a 社区 building and 8–40 in a village one, so that the
# whole city comes to Guangzhou's ~7 million households (18.7 M people / 2.6 per household, 2020
# census) rather than three times that, which staffing (1 worker per 300 households) and the
# 15-minute circle read.
HOUSEHOLDS = {"社区": (15, 60), "村": (8, 40)}
GENERATED_COMMUNITIES = (5, 8)  # per street with no community list
MAX_SEQUENCE = 999
BATCH = 2000

# progress(step, done, total), or any object with tqdm's `total` and `update(n)`.
Progress = Callable[[str, int, int], None]


def _city_centre(city, districts) -> tuple[float, float]:
    """Where the loaded city's middle is: its own row's point; else the shipped city's centre when it
    lies in the loaded districts (Guangzhou, whose file gives no point); else the centroid of the
    districts' boundaries together (another city loaded from its outlines); else the districts'
    points; else the shipped city's centre."""
    if city is not None and city.lng is not None and city.lat is not None:
        return (city.lng, city.lat)
    shapes = [g for g in shapely.from_geojson([d.geometry for d in districts if d.geometry], on_invalid="ignore")
              if g is not None and not g.is_empty] if any(d.geometry for d in districts) else []
    if shapes:
        area = shapely.union_all(shapes)
        if area.covers(shapely.Point(CITY_CENTRE)):
            return CITY_CENTRE
        c = area.centroid
        return (float(c.x), float(c.y))
    points = [(d.lng, d.lat) for d in districts if d.lng is not None and d.lat is not None]
    if points:
        return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
    return CITY_CENTRE


# --------------------------------------------------------------------------------------------
# Pure geometry (metric coordinates, no database)


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection around (lng0, lat0): metres, good to 0.1 % over a district."""

    lng0: float
    lat0: float

    @property
    def kx(self) -> float:
        return math.radians(1) * EARTH_RADIUS * math.cos(math.radians(self.lat0))

    @property
    def ky(self) -> float:
        return math.radians(1) * EARTH_RADIUS

    def to_metric(self, geom):
        kx, ky = self.kx, self.ky
        return shapely.transform(geom, lambda c: np.column_stack(((c[:, 0] - self.lng0) * kx,
                                                                  (c[:, 1] - self.lat0) * ky)))

    def to_wgs84(self, geom):
        kx, ky = self.kx, self.ky
        return shapely.transform(geom, lambda c: np.column_stack((c[:, 0] / kx + self.lng0,
                                                                  c[:, 1] / ky + self.lat0)))

    def xy_to_wgs84(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x / self.kx + self.lng0, y / self.ky + self.lat0


def sample_points(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` uniformly random points strictly inside `poly`, as an (n, 2) array."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    fill = max(poly.area / max((maxx - minx) * (maxy - miny), 1e-12), 0.01)
    chunks, got = [], 0
    for _attempt in range(200):
        m = int((n - got) / fill * 1.3) + 16
        xs = rng.uniform(minx, maxx, m)
        ys = rng.uniform(miny, maxy, m)
        inside = shapely.contains_xy(poly, xs, ys)
        chunk = np.column_stack((xs[inside], ys[inside]))
        chunks.append(chunk)
        got += len(chunk)
        if got >= n:
            break
    pts = np.concatenate(chunks) if chunks else np.empty((0, 2))
    if len(pts) < n:  # a sliver: fall back on points on its surface
        extra = np.array([poly.representative_point().coords[0]] * (n - len(pts)))
        pts = np.concatenate([pts, extra]) if len(pts) else extra
    return pts[:n]


def _kmeanspp(samples: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    first = int(rng.integers(len(samples)))
    chosen = [first]
    d2 = ((samples - samples[first]) ** 2).sum(1)
    for _i in range(1, k):
        total = d2.sum()
        idx = int(rng.choice(len(samples), p=d2 / total)) if total > 0 else int(rng.integers(len(samples)))
        chosen.append(idx)
        d2 = np.minimum(d2, ((samples - samples[idx]) ** 2).sum(1))
    return samples[chosen].copy()


def _assign(samples: np.ndarray, sites: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Index of the site of least power distance |x - s|² - w for every sample (|x|² drops out)."""
    offset = (sites * sites).sum(1) - w
    rows = max(1, 2_000_000 // max(len(sites), 1))  # bound the samples × sites matrix to ~16 MB
    return np.concatenate([np.argmin(offset - 2.0 * (samples[i:i + rows] @ sites.T), axis=1)
                           for i in range(0, len(samples), rows)]) if len(samples) else np.empty(0, dtype=int)


def _centroids(samples, labels, sites, k):
    cnt = np.bincount(labels, minlength=k)
    sx = np.bincount(labels, weights=samples[:, 0], minlength=k)
    sy = np.bincount(labels, weights=samples[:, 1], minlength=k)
    out = sites.copy()
    ok = cnt > 0
    out[ok, 0] = sx[ok] / cnt[ok]
    out[ok, 1] = sy[ok] / cnt[ok]
    return out, cnt


def _clip_halfplane(poly: list, ax: float, ay: float, b: float) -> list:
    """Keep the part of convex polygon `poly` (vertex list) where ax·x + ay·y <= b."""
    f = [ax * x + ay * y - b for x, y in poly]
    if max(f) <= 0:
        return poly
    if min(f) >= 0:
        return []
    out = []
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        f1, f2 = f[i], f[(i + 1) % n]
        if f1 <= 0:
            out.append((x1, y1))
        if (f1 < 0 < f2) or (f2 < 0 < f1):
            x2, y2 = poly[(i + 1) % n]
            t = f1 / (f1 - f2)
            out.append((x1 + t * (x2 - x1), y1 + t * (y2 - y1)))
    return out


def _power_cells(sites: np.ndarray, w: np.ndarray, bounds: tuple) -> list:
    """Exact cells of the power diagram of `sites` with weights `w`, inside a box around `bounds`."""
    minx, miny, maxx, maxy = bounds
    pad = max(maxx - minx, maxy - miny)
    box = [(minx - pad, miny - pad), (maxx + pad, miny - pad), (maxx + pad, maxy + pad), (minx - pad, maxy + pad)]
    # power_i(x) <= power_j(x)  <=>  2 (s_j - s_i)·x <= p_j - p_i,  with p = |s|² - w
    p = (sites ** 2).sum(1) - w
    cells = []
    for i in range(len(sites)):
        a = 2 * (sites - sites[i])
        b = p - p[i]
        order = [j for j in np.argsort(((sites - sites[i]) ** 2).sum(1) - w).tolist() if j != i]
        poly = box
        # The nearest few cut most; the rest are checked at once and only the violated ones cut,
        # since cutting only shrinks the polygon and a satisfied constraint stays satisfied.
        for j in order[:8]:
            poly = _clip_halfplane(poly, a[j, 0], a[j, 1], b[j])
            if not poly:
                break
        rest = np.array(order[8:], dtype=int)
        if poly and len(rest):
            verts = np.array(poly)
            violated = rest[((verts @ a[rest].T) - b[rest]).max(0) > 0]
            for j in violated.tolist():
                poly = _clip_halfplane(poly, a[j, 0], a[j, 1], b[j])
                if not poly:
                    break
        cells.append(shapely.Polygon(poly) if len(poly) >= 3 else shapely.Polygon())
    return cells


def _polygons_of(geom) -> list:
    """The polygons in `geom`, dropping the lines and points an overlay can leave behind."""
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            out.extend([part] if not part.is_empty else [])
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(_polygons_of(part))
        # a line or point left by the overlay: dropped (get_parts of one is itself — no recursion)
    return out


def _single_pieces(pieces: list) -> list:
    """Give every stray part of a multi-part piece to the neighbour it shares most edge with."""
    pieces = [(_polygons_of(p) or [shapely.Polygon()]) for p in pieces]
    out = []
    strays = []
    for i, parts in enumerate(pieces):
        parts = sorted(parts, key=lambda g: -g.area)
        out.append(parts[0])
        strays.extend((i, part) for part in parts[1:])
    for _round in range(4):
        left = []
        for owner, part in strays:
            best, best_len = None, 0.0
            boundary = part.boundary
            for j, other in enumerate(out):
                if j == owner or other.is_empty or not other.intersects(part):
                    continue
                shared = shapely.intersection(boundary, other.boundary, grid_size=GRID_SIZE).length
                if shared > best_len:
                    best, best_len = j, shared
            if best is None:
                left.append((owner, part))
                continue
            merged = _polygons_of(shapely.union(out[best], part, grid_size=GRID_SIZE))
            merged.sort(key=lambda g: -g.area)
            out[best] = merged[0]
            left.extend((best, extra) for extra in merged[1:])
        if not left or len(left) == len(strays):
            strays = left
            break
        strays = left
    for owner, part in strays:
        # An island of a multi-part parent: nothing touches it, so its owner keeps it as is.
        out[owner] = shapely.union(out[owner], part, grid_size=GRID_SIZE)
    return out


def lattice_points(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """About `n` points of a randomly offset square lattice inside `poly`.

    Counting lattice points measures area far more evenly than uniform random samples do, so
    the fitted areas come out right; a shape too thin for the lattice gets random points.
    """
    minx, miny, maxx, maxy = poly.bounds
    step = math.sqrt(poly.area / max(n, 1))
    ox, oy = rng.uniform(0, step, 2)
    xs, ys = np.meshgrid(np.arange(minx + ox, maxx, step), np.arange(miny + oy, maxy, step))
    xs, ys = xs.ravel(), ys.ravel()
    inside = shapely.contains_xy(poly, xs, ys)
    if inside.sum() < max(n // 2, 8):
        return sample_points(poly, n, rng)
    return np.column_stack((xs[inside], ys[inside]))


def _nearest_distance(sites: np.ndarray) -> np.ndarray:
    d2 = ((sites[:, None, :] - sites[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    return np.sqrt(d2.min(1))


def _weight_step(dnn: np.ndarray, missing_area: np.ndarray, target_area: np.ndarray) -> np.ndarray:
    """How much to raise each power weight to gain `missing_area`.

    Raising w_i by Δ moves the edge towards neighbour j by Δ / (2 d_ij), so a cell of perimeter
    P gains about P·Δ / (2 d). The step is damped by half (neighbours move too) and capped so
    no edge moves more than a quarter of the site spacing, which keeps small cells from
    overshooting into nothing.
    """
    perimeter = 3.7 * np.sqrt(np.maximum(target_area, 1e-9))
    step = 0.5 * missing_area * 2 * dnn / perimeter
    limit = 0.5 * dnn ** 2
    return np.clip(step, -limit, limit)


def _rescue_empty(sites: np.ndarray, w: np.ndarray, amount: np.ndarray) -> None:
    """Give a site that lost its whole cell back the ground around itself."""
    for i in np.flatnonzero(amount <= 0):
        d2 = ((sites - sites[i]) ** 2).sum(1)
        d2[i] = np.inf
        # power_i(s_i) = -w_i must beat every power_j(s_i) = d_ij² - w_j
        need = float((w - d2).max()) + 0.25 * float(d2.min())
        w[i] = max(w[i], need)


def partition(parent, weights, rng: np.random.Generator, *, order_key: np.ndarray | None = None,
              centre: tuple[float, float] | None = None, samples_per_piece: int = 20,
              voronoi: bool = False) -> list:
    """Split polygon `parent` into one piece per weight, with areas in proportion to the weights.

    Equal weights use Lloyd-relaxed Voronoi cells; unequal ones a fitted power diagram (see the
    module docstring). When `centre` and `order_key` are given, pieces with a larger key start
    nearer the centre. Returns polygons (metric), each one connected piece, tiling `parent`.
    """
    weights = np.asarray(weights, dtype=float)
    k = len(weights)
    if k == 0:
        return []
    if k == 1:
        return [parent]
    share = weights / weights.sum()
    equal = bool(np.allclose(share, share[0])) and voronoi
    m = int(min(max(samples_per_piece * k, samples_per_piece / share.min(), 64), 20000))
    samples = lattice_points(parent, m, rng)
    sites = _kmeanspp(samples, k, rng)
    if centre is not None and order_key is not None:
        by_distance = np.argsort(((sites - np.asarray(centre)) ** 2).sum(1), kind="stable")
        by_key = np.argsort(-np.asarray(order_key, dtype=float), kind="stable")
        placed = np.empty_like(sites)
        placed[by_key] = sites[by_distance]
        sites = placed
    if equal:
        for _it in range(8):
            sites, _cnt = _centroids(samples, _assign(samples, sites, np.zeros(k)), sites, k)
        pieces = _clip_cells(_voronoi_cells(sites, parent), parent)
    else:
        pieces = _clip_cells(_fit_power(parent, samples, sites, share), parent)
    pieces = _single_pieces(pieces)
    if any(p.is_empty or p.area <= 0 for p in pieces):
        # The fit lost a cell: plain Voronoi cells of distinct points inside the parent each
        # keep at least their own site.
        picks = rng.choice(len(samples), size=k, replace=False) if len(samples) >= k else None
        sites = samples[picks] if picks is not None else sample_points(parent, k, rng)
        pieces = _single_pieces(_clip_cells(_voronoi_cells(sites, parent), parent))
    return pieces


def _clip_cells(cells: list, parent) -> list:
    return list(shapely.intersection(np.array(cells, dtype=object), parent, grid_size=GRID_SIZE))


def _fit_power(parent, samples: np.ndarray, sites: np.ndarray, share: np.ndarray) -> list:
    """Power-diagram cells whose parts inside `parent` have areas ≈ share × parent area.

    Capacity-constrained Lloyd on the lattice samples first (weights fitted to the counts,
    sites moved to their cells' centroids), then a few rounds on the exact clipped areas.
    """
    k = len(share)
    w = np.zeros(k)
    target = share * len(samples)
    sample_area = parent.area / len(samples)
    target_area = share * parent.area
    labels = None
    for outer in range(3):
        dnn = _nearest_distance(sites)
        for _inner in range(20):
            labels = _assign(samples, sites, w)
            cnt = np.bincount(labels, minlength=k)
            w += _weight_step(dnn, (target - cnt) * sample_area, target_area)
            _rescue_empty(sites, w, cnt)
        if outer < 2:
            sites, _cnt = _centroids(samples, labels, sites, k)
    for _round in range(4):
        cells = _power_cells(sites, w, parent.bounds)
        areas = shapely.area(shapely.intersection(np.array(cells, dtype=object), parent))
        if np.abs(areas / target_area - 1).max() < 0.05:
            return cells
        w += _weight_step(dnn, target_area - areas, target_area)
        _rescue_empty(sites, w, areas)
    return _power_cells(sites, w, parent.bounds)


def _voronoi_cells(sites: np.ndarray, parent) -> list:
    # Sites that coincide would share a cell; nudge them apart by a millimetre.
    sites = sites.copy()
    _u, first, counts = np.unique(sites.round(3), axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        sites += np.arange(len(sites))[:, None] * 1e-3
    diagram = shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=parent, ordered=True)
    return list(shapely.get_parts(diagram))


def reading_order(pieces: list, area: float) -> list[int]:
    """Indices of `pieces` west→east within rows, rows north→south (DB11 grid numbering)."""
    if not pieces:
        return []
    pts = shapely.point_on_surface(np.array(pieces, dtype=object))
    xs, ys = shapely.get_x(pts), shapely.get_y(pts)
    band = math.sqrt(max(area, 1.0) / len(pieces))
    rows = np.floor((ys.max() - ys) / band)
    return sorted(range(len(pieces)), key=lambda i: (rows[i], xs[i], -ys[i]))


# --------------------------------------------------------------------------------------------
# Planning: which communities exist and how many grids each gets


def _rng(seed: int, code: str, salt: int = 0) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(code), salt])


@dataclass
class CommunityPlan:
    code: str
    name: str
    short_name: str
    kind: str
    street_code: str
    generated: bool
    division: Division | None = None
    grids: int = 0


@dataclass
class StreetPlan:
    division: Division
    communities: list[CommunityPlan] = field(default_factory=list)


def _generated_communities(street: Division, seed: int) -> list[CommunityPlan]:
    low, high = GENERATED_COMMUNITIES
    n = int(_rng(seed, street.code, 1).integers(low, high + 1))
    short = street.short_name or division_short_name(street.name, Level.STREET)
    return [CommunityPlan(code=f"{street.code}{i:03d}", name=f"{street.name}第{i}社区", short_name=f"{short}第{i}社区",
                          kind="社区", street_code=street.code, generated=True) for i in range(1, n + 1)]


def plan_city(seed: int) -> dict[str, list[StreetPlan]]:
    """Every district's streets and the communities they will have (imported or generated)."""
    divisions = list(Division.objects.exclude(level=Level.CITY).order_by("code"))
    streets: dict[str, StreetPlan] = {}
    by_district: dict[str, list[StreetPlan]] = {}
    for d in divisions:
        if d.level == Level.DISTRICT:
            by_district[d.code] = []
    for d in divisions:
        if d.level == Level.STREET and d.code[:6] in by_district:
            streets[d.code] = StreetPlan(division=d)
            by_district[d.code[:6]].append(streets[d.code])
    stored_generated: dict[str, Division] = {}
    for d in divisions:
        if d.level != Level.COMMUNITY or d.code[:9] not in streets:
            continue
        if d.generated:
            stored_generated[d.code] = d
            continue
        streets[d.code[:9]].communities.append(CommunityPlan(
            code=d.code, name=d.name, short_name=d.short_name or division_short_name(d.name, Level.COMMUNITY),
            kind=d.kind if d.kind in POPULATION_WEIGHT else "社区", street_code=d.code[:9],
            generated=False, division=d))
    for plan in streets.values():
        if not plan.communities:
            plan.communities = _generated_communities(plan.division, seed)
            for c in plan.communities:
                c.division = stored_generated.get(c.code)
    return by_district


def _weight_kind(c: CommunityPlan, street: Division) -> str:
    return "其他" if street.kind == "其他" else c.kind


def community_grid_counts(by_district: dict[str, list[StreetPlan]], grids_target: int) -> None:
    """Share `grids_target` out over all communities of the city by population weight (see module doc)."""
    plans = []
    raw = []
    known_density = []
    for dcode, streets in by_district.items():
        units = sum(POPULATION_WEIGHT[_weight_kind(c, s.division)] for s in streets for c in s.communities)
        if dcode in DISTRICT_POPULATION and units:
            known_density.append(DISTRICT_POPULATION[dcode] / units)
    default_density = float(np.median(known_density)) if known_density else 1.0
    for dcode, streets in by_district.items():
        units = sum(POPULATION_WEIGHT[_weight_kind(c, s.division)] for s in streets for c in s.communities)
        density = DISTRICT_POPULATION[dcode] / units if dcode in DISTRICT_POPULATION and units else default_density
        for s in streets:
            for c in s.communities:
                plans.append(c)
                raw.append(POPULATION_WEIGHT[_weight_kind(c, s.division)] * density)
    if not plans:
        return
    quota = np.asarray(raw) / sum(raw) * max(int(grids_target), len(plans))
    counts = np.maximum(np.floor(quota).astype(int), 1)
    short = int(max(grids_target, 0) - counts.sum())
    if short > 0:
        # Largest remainder; ties broken by code so the result never depends on dict order.
        rema = quota - np.floor(quota)
        order = sorted(range(len(plans)), key=lambda i: (-rema[i], plans[i].code))
        for i in order[:short]:
            counts[i] += 1
    for c, n in zip(plans, counts, strict=True):
        c.grids = int(min(n, MAX_SEQUENCE))


# --------------------------------------------------------------------------------------------
# The service


def _load(text: str):
    return shapely.from_geojson(text)


def _rounded(geom_wgs84):
    """Coordinates to 1e-7° (1 cm): shared vertices stay shared, the text stays short."""
    return shapely.set_precision(geom_wgs84, 1e-7, mode="pointwise")


def _dump(geom_wgs84) -> str:
    return shapely.to_geojson(_rounded(geom_wgs84))


def _fixed_geometry(d: Division | None, proj: LocalProjection):
    """A boundary that came from an import (not from us), in metric coordinates, or None."""
    if d is None or not d.geometry or d.geometry_generated:
        return None
    return shapely.set_precision(proj.to_metric(_load(d.geometry)), GRID_SIZE)


def _split(parent, children: list, fixed: list, weights: list, order_key: list, rng, centre) -> list:
    """Pieces for `children`: imported ones as they are, the rest partitioned from what is left."""
    out = list(fixed)
    free = [i for i, g in enumerate(fixed) if g is None]
    if not free:
        return out
    rest = parent
    taken = [g for g in fixed if g is not None]
    if taken:
        rest = shapely.difference(parent, shapely.union_all(taken, grid_size=GRID_SIZE), grid_size=GRID_SIZE)
        if rest.is_empty or rest.area < 1.0:
            names = "、".join(children[i] for i in free)
            raise DomainError("territory.generate.no_room",
                              _("已导入的边界占满了上级区划，无法为 %(names)s 生成边界") % {"names": names})
    pieces = partition(rest, [weights[i] for i in free], rng,
                       order_key=np.array([order_key[i] for i in free]), centre=centre)
    for i, piece in zip(free, pieces, strict=True):
        out[i] = piece
    return out


@dataclass
class _DistrictResult:
    divisions: list = field(default_factory=list)       # Division rows with new geometry
    new_communities: list = field(default_factory=list)  # generated Division rows to create
    keep_generated: set = field(default_factory=set)     # codes of generated communities kept
    grids: list = field(default_factory=list)            # (Grid, [Building, ...])


def _generate_district(district: Division, streets: list[StreetPlan], *, seed: int, buildings_per_grid: int,
                       imported_grid_communities: set, city_name: str, tick: Callable[[int], None],
                       city_centre: tuple[float, float] = CITY_CENTRE) -> _DistrictResult:
    result = _DistrictResult()
    shape = _load(district.geometry)
    c = shape.centroid
    proj = LocalProjection(c.x, c.y)
    parent = shapely.set_precision(proj.to_metric(shape), GRID_SIZE)
    centre = proj.to_metric(shapely.Point(city_centre)).coords[0]

    def area_weight(s: StreetPlan, cp: CommunityPlan) -> float:
        return AREA_WEIGHT[_weight_kind(cp, s.division)]

    def urban(s: StreetPlan) -> float:
        return sum(cp.kind == "社区" for cp in s.communities) / len(s.communities) - (s.division.kind == "其他")

    street_pieces = _split(
        parent, [s.division.name for s in streets],
        [_fixed_geometry(s.division, proj) for s in streets],
        [sum(area_weight(s, cp) for cp in s.communities) for s in streets],
        [urban(s) for s in streets], _rng(seed, district.code), centre,
    )
    for s, piece in zip(streets, street_pieces, strict=True):
        if s.division.geometry_generated or not s.division.geometry:
            _set_geometry(s.division, piece, proj)
            result.divisions.append(s.division)
        community_pieces = _split(
            piece, [cp.name for cp in s.communities],
            [_fixed_geometry(cp.division, proj) for cp in s.communities],
            [area_weight(s, cp) for cp in s.communities],
            [POPULATION_WEIGHT[_weight_kind(cp, s.division)] for cp in s.communities],
            _rng(seed, s.division.code), centre,
        )
        for cp, cpiece in zip(s.communities, community_pieces, strict=True):
            if cp.division is None:
                cp.division = Division(code=cp.code, name=cp.name, short_name=cp.short_name, level=Level.COMMUNITY,
                                       kind=cp.kind, parent_id=s.division.pk, official_code=False, generated=True)
                result.new_communities.append(cp.division)
            elif cp.generated:
                result.keep_generated.add(cp.code)
            if cp.division.geometry_generated or not cp.division.geometry:
                _set_geometry(cp.division, cpiece, proj)
                if cp.division.pk:
                    result.divisions.append(cp.division)
            if cp.code not in imported_grid_communities:
                address_prefix = f"{city_name}{district.name}{s.division.name}{cp.short_name}"
                result.grids.extend(_community_grids(cp, cpiece, proj, seed=seed, buildings_per_grid=buildings_per_grid,
                                                     address_prefix=address_prefix))
            tick(1)
    return result


def _set_geometry(d: Division, piece, proj: LocalProjection) -> None:
    geom = proj.to_wgs84(piece)
    point = geom.representative_point()
    d.geometry = _dump(geom)
    d.geometry_generated = True
    d.lng, d.lat = round(point.x, 7), round(point.y, 7)


def _community_grids(cp: CommunityPlan, piece, proj: LocalProjection, *, seed: int, buildings_per_grid: int,
                     address_prefix: str) -> list:
    rng = _rng(seed, cp.code)
    n = max(1, min(cp.grids, MAX_SEQUENCE))
    cells = partition(piece, np.ones(n), rng, voronoi=True)
    order = reading_order(cells, piece.area)
    kind = cp.kind if cp.kind in HOUSEHOLDS else "社区"
    low_h, high_h = HOUSEHOLDS[kind]
    spread = max(buildings_per_grid // 2, 0)
    out = []
    number = 0
    unit = "号楼" if kind == "社区" else "号"
    for seq, i in enumerate(order, start=1):
        cell = cells[i]
        code = f"{cp.code}{seq:03d}"
        geom = _rounded(proj.to_wgs84(cell))
        rp = geom.representative_point()
        grid = Grid(code=code, name=f"{cp.short_name}第{seq}网格", layer=UNIFIED_LAYER, geometry=shapely.to_geojson(geom),
                    lng=round(rp.x, 7), lat=round(rp.y, 7), area_m2=round(cell.area, 1), generated=True)
        grid.community = cp.division
        count = int(rng.integers(buildings_per_grid - spread, buildings_per_grid + spread + 1)) if buildings_per_grid else 0
        count = min(count, MAX_SEQUENCE)
        buildings = []
        if count:
            lngs, lats = _points_in(cell, geom, count, proj, rng)
            households = rng.integers(low_h, high_h + 1, count)
            for b in range(count):
                number += 1
                buildings.append(Building(code=f"{code}{b + 1:03d}", address=f"{address_prefix}{number}{unit}",
                                          lng=float(lngs[b]), lat=float(lats[b]),
                                          households=int(households[b]), generated=True))
        out.append((grid, buildings))
    return out


def _points_in(cell, stored, count: int, proj: LocalProjection, rng) -> tuple[np.ndarray, np.ndarray]:
    """`count` points inside the grid as stored (rounded to 1e-7°), so a building never sits on its edge."""
    lngs, lats = np.empty(0), np.empty(0)
    shapely.prepare(stored)
    for _attempt in range(5):
        pts = sample_points(cell, count, rng)
        x, y = proj.xy_to_wgs84(pts[:, 0], pts[:, 1])
        x, y = x.round(7), y.round(7)
        ok = shapely.contains_xy(stored, x, y)
        lngs, lats = np.concatenate((lngs, x[ok])), np.concatenate((lats, y[ok]))
        if len(lngs) >= count:
            return lngs[:count], lats[:count]
    rp = stored.representative_point()
    pad = count - len(lngs)
    return np.concatenate((lngs, np.full(pad, rp.x))), np.concatenate((lats, np.full(pad, rp.y)))


@transaction.atomic
def grids_generate(*, districts: list[str] | None = None, grids_target: int = 20000, buildings_per_grid: int = 10,
                   seed: int = 20201, progress=None, actor=None) -> dict:
    """Draw streets', communities' and grids' areas and place buildings for `districts` (default: all).

    Re-running replaces what an earlier run generated for those districts and never touches
    imported records. `grids_target` is for the whole city; a subset of districts gets its share,
    the same grids it would get in a whole-city run. `progress` is a callable
    progress(step, done, total) or a tqdm-like bar. Returns counts and the seconds taken.
    """
    started = time.monotonic()
    if grids_target < 1 or buildings_per_grid < 0:
        raise DomainError("territory.generate.invalid", _("网格目标数须大于0，每格楼栋数不能为负"), field="grids_target")
    by_district = plan_city(seed)
    community_grid_counts(by_district, grids_target)
    district_rows = {d.code: d for d in Division.objects.filter(level=Level.DISTRICT)}
    wanted = sorted(by_district) if districts is None else [str(c).strip() for c in districts]
    for code in wanted:
        if code not in district_rows:
            raise DomainError("territory.generate.unknown_district", _("未知的区代码 %(code)s") % {"code": code},
                              field="districts")
        if not district_rows[code].geometry:
            raise DomainError("territory.generate.no_boundary",
                              _("%(name)s 没有边界，请先导入区界") % {"name": district_rows[code].name}, field="districts")
        if not by_district[code]:
            raise DomainError("territory.generate.no_streets",
                              _("%(name)s 没有街道/镇") % {"name": district_rows[code].name}, field="districts")
    city = Division.objects.filter(level=Level.CITY).order_by("code").first()
    city_name = city.name if city else ""
    city_centre = _city_centre(city, district_rows.values())
    total_communities = sum(len(s.communities) for code in wanted for s in by_district[code])
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress is None:
            return
        if callable(progress):
            progress("网格划分", done[0], total_communities)
        else:  # a tqdm-like bar
            progress.total = total_communities
            progress.update(n)

    counts = {"districts": 0, "streets": 0, "communities": 0, "generated_communities": 0, "grids": 0,
              "buildings": 0, "deleted_grids": 0, "deleted_buildings": 0}
    for code in wanted:
        district = district_rows[code]
        streets = by_district[code]
        imported_grid_communities = set(
            Grid.objects.filter(layer=UNIFIED_LAYER, generated=False, community__code__startswith=code)
            .values_list("community__code", flat=True).distinct())
        result = _generate_district(district, streets, seed=seed, buildings_per_grid=buildings_per_grid,
                                    imported_grid_communities=imported_grid_communities, city_name=city_name,
                                    tick=tick, city_centre=city_centre)
        _save_district(code, result, counts)
        counts["districts"] += 1
        counts["streets"] += len(streets)
        counts["communities"] += sum(len(s.communities) for s in streets)
    counts["seconds"] = round(time.monotonic() - started, 2)
    target = city or next(iter(district_rows.values()))
    audit_log(target, "territory.grids.generated", actor=actor,
              data={**counts, "district_codes": wanted, "grids_target": grids_target,
                    "buildings_per_grid": buildings_per_grid, "seed": seed})
    return counts


def _save_district(code: str, result: _DistrictResult, counts: dict) -> None:
    try:
        old_buildings = Building.objects.filter(generated=True, grid__community__code__startswith=code)
        counts["deleted_buildings"] += old_buildings.delete()[0]
        old_grids = Grid.objects.filter(generated=True, layer=UNIFIED_LAYER, community__code__startswith=code)
        counts["deleted_grids"] += old_grids.delete()[1].get(Grid._meta.label, 0)
        # Generated communities of streets that have since received an imported list.
        Division.objects.filter(level=Level.COMMUNITY, generated=True, code__startswith=code).exclude(
            code__in=result.keep_generated).delete()
    except (ProtectedError, RestrictedError) as exc:
        raise DomainError("territory.generate.in_use",
                          _("已生成的网格或楼栋仍被其他记录引用，无法重新生成"), status=409) from exc
    Division.objects.bulk_update(result.divisions, ["geometry", "geometry_generated", "lng", "lat"], batch_size=500)
    created = Division.objects.bulk_create(result.new_communities, batch_size=500)
    if any(d.pk is None for d in created):
        ids = dict(Division.objects.filter(code__in=[d.code for d in created]).values_list("code", "pk"))
        for d in created:
            d.pk = ids[d.code]
    counts["generated_communities"] += len(created)
    grids = []
    for grid, _buildings in result.grids:
        grid.community_id = grid.community.pk
        grids.append(grid)
    Grid.objects.bulk_create(grids, batch_size=BATCH)
    if any(g.pk is None for g in grids):
        ids = dict(Grid.objects.filter(layer=UNIFIED_LAYER, code__in=[g.code for g in grids]).values_list("code", "pk"))
        for g in grids:
            g.pk = ids[g.code]
    buildings = []
    for grid, items in result.grids:
        for b in items:
            b.grid_id = grid.pk
            buildings.append(b)
    Building.objects.bulk_create(buildings, batch_size=BATCH)
    counts["grids"] += len(grids)
    counts["buildings"] += len(buildings)
