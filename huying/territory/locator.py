"""The locator (定位): a point or an address → grid → community → street → district.

Points are located against the unified grid layer through `GridIndex`, an exact raster index
kept in memory; addresses through a name index over the divisions. Both are built lazily from the
database and rebuilt when the territory changes, also when another process changed it: a cheap
signature of the tables is compared at most every `CHECK_SECONDS`.

Rules the answers keep:
- `None` / `outside=True` means outside the jurisdiction. The locator never guesses: a point in a
  gap between grids is answered from the division polygons as deep as they reach, an ambiguous
  address is answered with what its candidates have in common, or not at all.
- A point on an edge shared by several grids belongs to the one with the smallest id, so every
  point has exactly one answer and the fast path equals the brute-force one.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.db.models import Count, Max, Sum
from django.db.models.functions import Length

from .coords import to_wgs84
from .models import UNIFIED_LAYER, Building, Division, Grid, Level
from .provinces import PROVINCES, province_short_name

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0
# Index files are written only when building took longer than this, so other processes (gunicorn
# workers) load the index in milliseconds instead of rebuilding it.
DISK_CACHE_SECONDS = 1.0
INDEX_VERSION = 1
# Cells are refined to about 1/REFINE of the grids they touch. Measured on the generated city
# (20,000 grids): 8 builds in 3.5 s CPU and locates ~5 M points/s; 16 doubles the build for +40 %.
REFINE = 8
CACHE_FILES_KEPT = 4

_LEVEL_DEPTH = {Level.CITY: 0, Level.DISTRICT: 1, Level.STREET: 2, Level.COMMUNITY: 3}


# --------------------------------------------------------------------------------------------
# Answers


@dataclass(frozen=True)
class Place:
    code: str
    name: str

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True)
class Location:
    district: Place | None = None
    street: Place | None = None
    community: Place | None = None
    grid: Place | None = None
    grid_id: int | None = None
    community_id: int | None = None

    def as_dict(self) -> dict:
        return {k: (p.as_dict() if p else None)
                for k, p in (("district", self.district), ("street", self.street),
                             ("community", self.community), ("grid", self.grid))}


@dataclass(frozen=True)
class AddressMatch:
    found: bool
    outside: bool = False
    location: Location | None = None


# --------------------------------------------------------------------------------------------
# The point index (pure: shapely geometries in, positions out; no database)

_EMPTY, _MIXED, _INTERNAL = -1, -2, -3
# Cells are tested slightly enlarged, so a point that floating-point rounding puts in a
# neighbouring cell is still inside the box that cell was classified with.
_EPS = 1e-9


class GridIndex:
    """Exact point-in-grid lookup: an adaptive quadtree over the layer's bounding box.

    Each leaf cell holds a grid position when one grid covers the whole (enlarged) cell and no
    other grid touches it, -1 when no grid touches it, or a short list of candidate grids when it
    is crossed by a boundary; only points in those boundary cells are tested exactly with GEOS.
    Cells are refined until they are about 1/`refine` of the smallest grid they touch, so small
    urban grids get a fine lattice and large rural ones a coarse one.

    `lookup` answers the position (in `geoms`) of the covering grid with the smallest position, -1
    when none: put geometries in id order and that is the smallest id.
    """

    def __init__(self, geoms, *, refine: int = REFINE, max_depth: int = 12, arrays: dict | None = None):
        self.geoms = np.asarray(geoms, dtype=object)
        shapely.prepare(self.geoms)
        if arrays is not None:
            self._load(arrays)
            return
        n = len(self.geoms)
        if n == 0:
            self.x0 = self.y0 = 0.0
            self.nx = self.ny = 1
            self.depth, self.fine = 0, 1.0
            self.val = np.array([_EMPTY], np.int32)
            self.aux = np.zeros(1, np.int32)
            self.cand_ptr = np.zeros(1, np.int64)
            self.cand = np.zeros(0, np.int32)
            return
        gsize = np.sqrt(np.maximum(shapely.area(self.geoms), 1e-18))
        minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
        root = float(np.median(gsize))
        smallest = max(float(gsize.min()) / refine, root / 2**max_depth)
        depth = max(0, int(np.ceil(np.log2(root / smallest))))
        self.depth = depth
        self.fine = root / 2**depth
        self.x0, self.y0 = minx - root / 4, miny - root / 4
        self.nx = int(np.ceil((maxx - self.x0) / root)) + 1
        self.ny = int(np.ceil((maxy - self.y0) / root)) + 1
        self._build(gsize, root, refine)

    # The arrays that make the index; geometries are kept by the caller.
    _FIELDS = ("x0", "y0", "nx", "ny", "depth", "fine")

    def arrays(self) -> dict:
        out = {"val": self.val, "aux": self.aux, "cand_ptr": self.cand_ptr, "cand": self.cand}
        out["params"] = np.array([getattr(self, f) for f in self._FIELDS], dtype=float)
        return out

    def _load(self, arrays: dict) -> None:
        p = arrays["params"]
        self.x0, self.y0 = float(p[0]), float(p[1])
        self.nx, self.ny, self.depth = int(p[2]), int(p[3]), int(p[4])
        self.fine = float(p[5])
        self.val, self.aux = arrays["val"], arrays["aux"]
        self.cand_ptr, self.cand = arrays["cand_ptr"], arrays["cand"]

    def _boxes(self, ix, iy, size):
        return shapely.box(self.x0 + ix * size - _EPS, self.y0 + iy * size - _EPS,
                           self.x0 + (ix + 1) * size + _EPS, self.y0 + (iy + 1) * size + _EPS)

    def _build(self, gsize, root: float, refine: int) -> None:
        geoms = self.geoms
        bounds = shapely.bounds(geoms)
        tree = shapely.STRtree(geoms)
        iy, ix = np.divmod(np.arange(self.nx * self.ny, dtype=np.int64), self.nx)
        size = root
        boxes = self._boxes(ix, iy, size)
        pc, pg = tree.query(boxes, predicate="intersects")
        vals, auxs = [], []
        cand_ptr, cand = [np.zeros(1, np.int64)], []
        n_before = 0  # nodes in earlier levels
        n_leaves = n_cand = 0
        for level in range(self.depth + 1):
            n = len(ix)
            order = np.lexsort((pg, pc))
            pc, pg = pc[order], pg[order]
            cnt = np.bincount(pc, minlength=n)
            start = np.concatenate(([0], np.cumsum(cnt)[:-1]))
            val = np.full(n, _EMPTY, np.int32)
            aux = np.zeros(n, np.int32)
            single = np.flatnonzero(cnt == 1)
            sg = pg[start[single]]
            covered = shapely.covers(geoms[sg], boxes[single])
            val[single[covered]] = sg[covered]
            mixed = cnt >= 2
            mixed[single[~covered]] = True
            # Refine while the cell is large against the largest grid it touches: a sliver beside
            # large grids covers little ground and is not worth a deep tree.
            has = cnt > 0
            largest = np.zeros(n)
            if has.any():
                largest[has] = np.maximum.reduceat(gsize[pg], start[has])
            split = mixed & (size * refine > largest) & (level < self.depth)
            leaf = mixed & ~split
            leaf_idx = np.flatnonzero(leaf)
            val[leaf_idx] = _MIXED
            aux[leaf_idx] = n_leaves + np.arange(len(leaf_idx))
            n_leaves += len(leaf_idx)
            in_leaf = leaf[pc]
            cand.append(pg[in_leaf].astype(np.int32))
            cand_ptr.append(n_cand + np.cumsum(cnt[leaf_idx]))
            n_cand += int(cnt[leaf_idx].sum())
            split_idx = np.flatnonzero(split)
            val[split_idx] = _INTERNAL
            aux[split_idx] = n_before + n + 4 * np.arange(len(split_idx))
            vals.append(val)
            auxs.append(aux)
            n_before += n
            if not len(split_idx):
                break
            # Children inherit their parent's candidates and keep those that still touch them.
            rank = np.full(n, -1, np.int64)
            rank[split_idx] = np.arange(len(split_idx))
            in_split = split[pc]
            ppc, ppg = rank[pc[in_split]], pg[in_split]
            ix = (ix[split_idx][:, None] * 2 + np.array([0, 1, 0, 1])).ravel()
            iy = (iy[split_idx][:, None] * 2 + np.array([0, 0, 1, 1])).ravel()
            cpc = (ppc[:, None] * 4 + np.arange(4)).ravel()
            cpg = np.repeat(ppg, 4)
            size /= 2
            bx0 = self.x0 + ix[cpc] * size - _EPS
            by0 = self.y0 + iy[cpc] * size - _EPS
            gb = bounds[cpg]
            near = ((gb[:, 0] <= bx0 + size + 2 * _EPS) & (gb[:, 2] >= bx0)
                    & (gb[:, 1] <= by0 + size + 2 * _EPS) & (gb[:, 3] >= by0))
            cpc, cpg = cpc[near], cpg[near]
            boxes = self._boxes(ix, iy, size)
            hit = shapely.intersects(geoms[cpg], boxes[cpc])
            pc, pg = cpc[hit], cpg[hit]
        self.val = np.concatenate(vals)
        self.aux = np.concatenate(auxs)
        self.cand_ptr = np.concatenate(cand_ptr)
        self.cand = np.concatenate(cand) if cand else np.zeros(0, np.int32)

    @property
    def stats(self) -> dict:
        return {"nodes": int(len(self.val)), "boundary_leaves": int(len(self.cand_ptr) - 1),
                "candidates": int(len(self.cand)), "depth": self.depth, "fine_deg": self.fine,
                "bytes": int(self.val.nbytes + self.aux.nbytes + self.cand_ptr.nbytes + self.cand.nbytes)}

    def lookup(self, x, y) -> np.ndarray:
        """Positions of the grids covering the points (x, y in WGS-84 degrees), -1 where none."""
        x = np.asarray(x, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
        fx = np.floor((x - self.x0) / self.fine)
        fy = np.floor((y - self.y0) / self.fine)
        nfx, nfy = self.nx << self.depth, self.ny << self.depth
        inside = (fx >= 0) & (fy >= 0) & (fx < nfx) & (fy < nfy)
        fx = np.where(inside, fx, 0).astype(np.int64)
        fy = np.where(inside, fy, 0).astype(np.int64)
        node = (fy >> self.depth) * self.nx + (fx >> self.depth)
        v = self.val[node]
        for level in range(1, self.depth + 1):
            internal = v == _INTERNAL
            if not internal.any():
                break
            shift = self.depth - level
            quadrant = ((fx >> shift) & 1) | (((fy >> shift) & 1) << 1)
            node = np.where(internal, self.aux[node] + quadrant, node)
            v = self.val[node]
        out = np.where(inside, v, _EMPTY).astype(np.int64)
        todo = np.flatnonzero(out == _MIXED)
        if len(todo):
            leaf = self.aux[node[todo]]
            first, last = self.cand_ptr[leaf], self.cand_ptr[leaf + 1]
            k = last - first
            point = np.repeat(np.arange(len(todo)), k)
            offset = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
            gi = self.cand[np.repeat(first, k) + offset]
            hit = shapely.intersects_xy(self.geoms[gi], x[todo][point], y[todo][point])
            best = np.full(len(todo), np.iinfo(np.int64).max)
            # Candidates are sorted by position, so the first hit would do; minimum.at says it plainly.
            np.minimum.at(best, point[hit], gi[hit].astype(np.int64))
            best[best == np.iinfo(np.int64).max] = _EMPTY
            out[todo] = best
        return out


def brute_force_lookup(geoms, x, y) -> np.ndarray:
    """The reference answer `GridIndex.lookup` must equal: smallest position whose geometry covers the point."""
    tree = shapely.STRtree(geoms)
    pts = shapely.points(np.asarray(x, float).ravel(), np.asarray(y, float).ravel())
    pi, gi = tree.query(pts, predicate="intersects")
    best = np.full(len(pts), np.iinfo(np.int64).max)
    np.minimum.at(best, pi, gi.astype(np.int64))
    best[best == np.iinfo(np.int64).max] = -1
    return best


# --------------------------------------------------------------------------------------------
# The name index (pure: division rows in, matches out)

_COMMUNITY_SUFFIXES = (
    ("社区居民委员会", "社区"), ("社区居委会会", "社区"), ("社区居居委会", "社区"), ("社区居委会", "社区"),
    ("居民委员会", "社区"), ("居委会", "社区"), ("村民委员会", "村"), ("村委会", "村"),
)
_COMMITTEE = {"社区": ("社区居民委员会", "社区居委会", "居民委员会", "居委会"), "村": ("村民委员会", "村委会")}

# An address opening with "<name>市" (after an optional prefix of our own province) names a city;
# when that city is not the one loaded, the address is outside. These common words end in 市 but
# name no city (超市 a supermarket, 本市 "this city" …); 市场 is a market. 城市, 都市 and 门市 end
# two-character city names too (盐城市, 成都市, 江门市), so they are words only after a longer name.
_CITY_AT_START = re.compile(r"^([\u4e00-\u9fff]{2,4}?)市(?![场村街路桥镇墟口])")
_NOT_CITY_WORDS = ("超市", "夜市", "集市", "菜市", "街市", "花市", "早市", "墟市", "闹市", "股市",
                   "本市", "我市", "全市", "该市", "上市")
_NOT_CITY_AFTER_LONG_NAME = ("城市", "都市", "门市")
_NOT_IN_CITY_NAME = set("区县省市路街镇村道")
# Short forms of the province level that addresses write on their own (香港中环); the others' short
# forms (北京, 湖南) are also parts of road names (北京路, 湖南路) and count only in full.
_BARE_PROVINCE_SHORT = ("香港", "澳门", "台湾")
_SPACES = re.compile(r"[\s\u3000,，、;；:：]+")


def _aliases(name: str, short_name: str, level: str) -> set[str]:
    """The ways an address writes a division: its name, short name and committee-suffix variants."""
    out = {name.strip(), (short_name or "").strip()}
    if level == Level.COMMUNITY:
        for suffix, kind in _COMMUNITY_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                base = name[: -len(suffix)]
                out.add(base + kind)
                out.update(base + s for s in _COMMITTEE[kind])
                break
    elif level == Level.STREET:
        if name.endswith("街道") and len(name) > 3:
            out.add(name[:-1])
    elif level == Level.DISTRICT:
        if name.endswith("区") and len(name) > 2:
            out.add(name[:-1])
            # 增城 and 从化 were county-level cities until 2014; old addresses still say so.
            out.add(name[:-1] + "市")
    elif level == Level.CITY:
        if name.endswith("市") and len(name) > 2:
            out.add(name[:-1])
    return {a for a in out if len(a) >= 2}


@dataclass(frozen=True)
class _Div:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None

    @property
    def depth(self) -> int:
        return _LEVEL_DEPTH[self.level]


def _home_provinces(divisions) -> set[str]:
    """The 2-digit province codes of the loaded city (of every division when no city is loaded)."""
    divisions = list(divisions)
    cities = [d for d in divisions if d.level == Level.CITY] or divisions
    return {d.code[:2] for d in cities if d.code[:2] in PROVINCES}


def _is_ancestor_or_self(a: _Div, d: _Div) -> bool:
    return a.level == Level.CITY or d.code.startswith(a.code)


class NameIndex:
    """Longest-match scan of address text over every alias of every division (no SQL per character)."""

    def __init__(self, divisions: dict[int, _Div], aliases: dict[str, set[int]]):
        self.divisions = divisions
        self.aliases = aliases
        # What is outside comes from what is loaded: the province-level names other than the
        # loaded city's own (its code's first two digits), and any "<X>市" that is not ours.
        home = _home_provinces(divisions.values())
        self.outside = {name for code, name in PROVINCES.items() if code not in home}
        self.outside.update(s for s in _BARE_PROVINCE_SHORT
                            if not any(province_short_name(PROVINCES[c]) == s for c in home))
        own = sorted({n for c in home for n in (PROVINCES[c], province_short_name(PROVINCES[c]))},
                     key=len, reverse=True)
        self.own_prefix = re.compile("^(?:" + "|".join(map(re.escape, own)) + ")") if own else None
        # A district's bare short name (越秀, 黄埔) is also part of road and place names (黄埔大道 is
        # in 天河区), so it counts only when the text is just that name or a division follows it.
        self.weak = {a for a, ids in aliases.items()
                     if not a.endswith(("区", "市")) and all(divisions[i].level == Level.DISTRICT for i in ids)}
        self.max_len = max([len(a) for a in aliases] + [len(a) for a in self.outside] + [1])

    @staticmethod
    def normalize(text: str) -> str:
        # Full-width forms (ＡＢ１２) to ASCII, then drop spaces and separators.
        text = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in text or "")
        return _SPACES.sub("", text)

    def scan(self, text: str) -> tuple[list[tuple[int, set[int]]], int | None]:
        """Mentions of divisions in reading order, and the position of the first place outside the city."""
        mentions: list[tuple[int, set[int]]] = []
        outside_at = None
        i = 0
        while i < len(text):
            for length in range(min(self.max_len, len(text) - i), 1, -1):
                word = text[i:i + length]
                if word in self.outside and not text.startswith("场", i + length):
                    if outside_at is None:
                        outside_at = i
                    i += length
                    break
                ids = self.aliases.get(word)
                if ids:
                    mentions.append((i, i + length, word in self.weak, ids))
                    i += length
                    break
            else:
                i += 1
        city_at = self._other_city_at(text, mentions)
        if city_at is not None:
            outside_at = city_at if outside_at is None else min(outside_at, city_at)
        mentions = [(start, ids) for k, (start, end, weak, ids) in enumerate(mentions)
                    if not weak or (start == 0 and end == len(text))
                    or (k + 1 < len(mentions) and mentions[k + 1][0] == end)]
        return mentions, outside_at

    def _other_city_at(self, text: str, mentions) -> int | None:
        """Where the text opens (after our own province, if written) with a city that is not ours."""
        prefix = self.own_prefix.match(text) if self.own_prefix else None
        start = prefix.end() if prefix else 0
        # The slice keeps ^ anchored at `start`.
        m = _CITY_AT_START.match(text[start:])
        if m is None:
            return None
        name = m.group(1)
        word = name[-1] + "市"
        if (_NOT_IN_CITY_NAME & set(name) or word in _NOT_CITY_WORDS
                or (word in _NOT_CITY_AFTER_LONG_NAME and len(name) > 2)):
            return None
        if f"{name}市" in self.aliases or name in self.aliases:
            return None
        # A division of ours whose name runs through this 市 (a 某市社区) is no city.
        if any(s == start and e > start + len(name) for s, e, _weak, _ids in mentions):
            return None
        return start

    def resolve(self, mentions: list[tuple[int, set[int]]]) -> _Div | None:
        """The deepest named division consistent with every shallower division the text names.

        A mention conflicts with a candidate when none of its divisions is an ancestor of the
        candidate or below it, and it is not deeper than the candidate. Several consistent
        candidates at the deepest level are answered by what they share, never by picking one.
        """
        sets = [[self.divisions[i] for i in ids] for _pos, ids in mentions]
        sets = [s for s in sets if any(d.level != Level.CITY for d in s)]
        candidates = {d.id: d for s in sets for d in s if d.level != Level.CITY}
        consistent = []
        for d in candidates.values():
            ok = True
            for s in sets:
                related = any(_is_ancestor_or_self(m, d) or m.code.startswith(d.code) for m in s)
                if not related and min(m.depth for m in s) <= d.depth:
                    ok = False
                    break
            if ok:
                consistent.append(d)
        if not consistent:
            return None
        deepest = max(d.depth for d in consistent)
        best = sorted((d for d in consistent if d.depth == deepest), key=lambda d: d.code)
        if len(best) == 1:
            return best[0]
        return self.common_ancestor(best)

    def common_ancestor(self, divs: list[_Div]) -> _Div | None:
        """The deepest division above all of `divs`, or None when only the city is."""
        chains = []
        for d in divs:
            chain = []
            while d is not None:
                chain.append(d.id)
                d = self.divisions.get(d.parent_id) if d.parent_id else None
            chains.append(chain[::-1])
        shared = None
        for ids in zip(*chains, strict=False):
            if len(set(ids)) != 1:
                break
            shared = ids[0]
        if shared is None or self.divisions[shared].level == Level.CITY:
            return None
        return self.divisions[shared]


# --------------------------------------------------------------------------------------------
# The cached state, built from the database


class _State:
    def __init__(self):
        self.lock = threading.RLock()
        self.checked_at = -1e18
        self.grid_sig = None
        self.div_sig = None
        self.index: GridIndex | None = None
        self.grid_ids = np.zeros(0, np.int64)
        self.grid_rows: dict[int, tuple[str, str, int]] = {}
        self.divisions: dict[int, _Div] = {}
        self.names: NameIndex | None = None
        self.div_geoms = np.zeros(0, dtype=object)
        self.div_geom_ids = np.zeros(0, np.int64)
        self.div_tree = None
        self.build_seconds = 0.0


_state = _State()


def invalidate() -> None:
    """Forget the cached indexes; the next call rebuilds them (tests call this after changing the territory)."""
    global _state
    _state = _State()


def _grid_signature():
    return tuple(Grid.objects.filter(layer=UNIFIED_LAYER).aggregate(
        n=Count("id"), top=Max("id"), size=Sum(Length("geometry")), cs=Sum("community_id")).values())


def _division_signature():
    return tuple(Division.objects.aggregate(
        n=Count("id"), top=Max("id"), size=Sum(Length("geometry")), names=Sum(Length("name")),
        shorts=Sum(Length("short_name")), parents=Sum("parent_id")).values())


def _parse(texts) -> np.ndarray:
    geoms = shapely.from_geojson(list(texts), on_invalid="ignore") if len(texts) else np.zeros(0, dtype=object)
    return np.asarray(geoms, dtype=object)


def _cache_dir() -> Path:
    return Path(settings.VAR_DIR) / "cache" / "locator"


def _build_grid_index(state: _State) -> None:
    rows = list(Grid.objects.filter(layer=UNIFIED_LAYER).order_by("id")
                .values_list("id", "code", "name", "community_id", "geometry"))
    geoms = _parse([r[4] for r in rows])
    keep = np.array([g is not None and not shapely.is_empty(g) for g in geoms], dtype=bool)
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    geoms = geoms[keep] if len(geoms) else geoms
    digest = hashlib.blake2b(f"v{INDEX_VERSION}r{REFINE}".encode(), digest_size=16)
    for r in rows:
        digest.update(f"{r[0]}\x00{r[4]}\x01".encode())
    path = _cache_dir() / f"{digest.hexdigest()}.npz"
    started = time.perf_counter()
    index = None
    if path.exists():
        try:
            with np.load(path) as data:
                index = GridIndex(geoms, arrays={k: data[k] for k in data.files})
        except (OSError, ValueError, KeyError):
            index = None
    if index is None:
        index = GridIndex(geoms)
        seconds = time.perf_counter() - started
        if seconds > DISK_CACHE_SECONDS:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{threading.get_ident()}.tmp.npz")
                np.savez(tmp, **index.arrays())
                tmp.replace(path)
                # Older layers' files are of no further use; keep a few for processes still on them.
                old = sorted(path.parent.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
                for stale in old[CACHE_FILES_KEPT:]:
                    stale.unlink(missing_ok=True)
            except OSError:
                log.warning("could not write the locator index cache %s", path, exc_info=True)
    state.build_seconds = time.perf_counter() - started
    state.index = index
    state.grid_ids = np.array([r[0] for r in rows], dtype=np.int64)
    state.grid_rows = {r[0]: (r[1], r[2], r[3]) for r in rows}


def _build_division_index(state: _State) -> None:
    rows = list(Division.objects.order_by("id").values_list("id", "code", "name", "short_name", "level",
                                                           "parent_id", "geometry"))
    state.divisions = {r[0]: _Div(r[0], r[1], r[2], r[4], r[5]) for r in rows}
    aliases: dict[str, set[int]] = {}
    for r in rows:
        for a in _aliases(r[2], r[3], r[4]):
            aliases.setdefault(a, set()).add(r[0])
    state.names = NameIndex(state.divisions, aliases)
    with_geom = [r for r in rows if r[6] and r[4] != Level.CITY]
    geoms = _parse([r[6] for r in with_geom])
    ok = np.array([g is not None for g in geoms], dtype=bool)
    state.div_geoms = geoms[ok] if len(geoms) else geoms
    state.div_geom_ids = np.array([r[0] for r, k in zip(with_geom, ok, strict=True) if k], dtype=np.int64)
    state.div_tree = shapely.STRtree(state.div_geoms) if len(state.div_geoms) else None


def _current(*, need_grids: bool = True) -> _State:
    """The indexes, rebuilt if the territory changed since they were built (checked every few seconds)."""
    state = _state
    with state.lock:
        now = time.monotonic()
        if now - state.checked_at >= CHECK_SECONDS or state.names is None or (need_grids and state.index is None):
            div_sig = _division_signature()
            if div_sig != state.div_sig or state.names is None:
                _build_division_index(state)
                state.div_sig = div_sig
                state.grid_sig = None  # grid answers name divisions; keep both views in step
            if need_grids:
                grid_sig = _grid_signature()
                if grid_sig != state.grid_sig or state.index is None:
                    _build_grid_index(state)
                    state.grid_sig = grid_sig
            state.checked_at = now
        return state


def index_info() -> dict:
    """Size and build time of the point index (for the bench and the admin)."""
    state = _current()
    return {"grids": int(len(state.grid_ids)), "build_seconds": round(state.build_seconds, 3), **state.index.stats}


# --------------------------------------------------------------------------------------------
# Public API


def locate_points(lngs, lats, *, crs: str = "wgs84") -> np.ndarray:
    """Ids of the unified grids the points fall in, -1 outside every grid: the vectorised path for bulk use."""
    x, y = to_wgs84(np.asarray(lngs, dtype=float), np.asarray(lats, dtype=float), crs)
    state = _current()
    pos = state.index.lookup(x, y)
    ids = np.full(pos.shape, -1, dtype=np.int64)
    hit = pos >= 0
    ids[hit] = state.grid_ids[pos[hit]]
    return ids


def _location_of_division(state: _State, div: _Div, grid: Place | None = None, grid_id: int | None = None) -> Location:
    parts: dict[str, Place] = {}
    d = div
    while d is not None:
        if d.level != Level.CITY:
            parts[d.level] = Place(d.code, d.name)
        d = state.divisions.get(d.parent_id) if d.parent_id else None
    return Location(district=parts.get(Level.DISTRICT), street=parts.get(Level.STREET),
                    community=parts.get(Level.COMMUNITY), grid=grid, grid_id=grid_id,
                    community_id=div.id if div.level == Level.COMMUNITY else None)


def _location_of_grid(state: _State, grid_id: int) -> Location:
    code, name, community_id = state.grid_rows[grid_id]
    community = state.divisions.get(community_id)
    if community is None:  # the divisions changed under us; the next check rebuilds both
        return Location(grid=Place(code, name), grid_id=grid_id)
    return _location_of_division(state, community, Place(code, name), grid_id)


def location_of_grid(grid_id: int) -> Location | None:
    """The Location of a unified grid by id (None if it is not one)."""
    state = _current()
    return _location_of_grid(state, grid_id) if grid_id in state.grid_rows else None


def locate_point(lng: float, lat: float, *, crs: str = "wgs84") -> Location | None:
    """Where a point lies: grid, community, street, district; None outside the jurisdiction."""
    x, y = to_wgs84(float(lng), float(lat), crs)
    state = _current()
    pos = int(state.index.lookup([x], [y])[0])
    if pos >= 0:
        return _location_of_grid(state, int(state.grid_ids[pos]))
    # A gap between grids: answer from the division polygons, as deep as they reach.
    if state.div_tree is None:
        return None
    hits = state.div_tree.query(shapely.Point(x, y), predicate="intersects")
    if not len(hits):
        return None
    divs = [state.divisions[int(state.div_geom_ids[h])] for h in hits]
    deepest = max(d.depth for d in divs)
    div = min((d for d in divs if d.depth == deepest), key=lambda d: d.id)
    return _location_of_division(state, div)


def locate_address(text: str) -> AddressMatch:
    """The deepest division an address names, consistent with the divisions above it it also names."""
    state = _current(need_grids=False)
    text = NameIndex.normalize(text)
    if not text:
        return AddressMatch(found=False)
    mentions, outside_at = state.names.scan(text)
    first_inside = mentions[0][0] if mentions else None
    if outside_at is not None and (first_inside is None or outside_at <= first_inside):
        return AddressMatch(found=False, outside=True)
    # A full building address is one indexed query; it places the text in its grid.
    grid_ids = list(Building.objects.filter(address=text, grid__layer=UNIFIED_LAYER)
                    .values_list("grid_id", flat=True).distinct()[:2])
    if len(grid_ids) == 1:
        loc = location_of_grid(grid_ids[0])
        if loc is not None:
            return AddressMatch(found=True, location=loc)
    div = state.names.resolve(mentions)
    if div is None:
        return AddressMatch(found=False)
    return AddressMatch(found=True, location=_location_of_division(state, div))
