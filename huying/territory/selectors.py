"""Shared reads of the territory.

Counting what lies below a node uses the code-prefix hierarchy (see `territory.models`): every
street code starts with its district code, every community code with its street code, every grid
code with its community code. So the counts for all children of a node are one grouped query per
kind below them (`GROUP BY substr(code, 1, len(child code))`), however many children there are.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from huying.core.errors import DomainError

from .models import UNIFIED_LAYER, Building, Division, Grid, Level

GRID = "grid"
COUNT_KINDS = ("street", "community", "grid", "building")
# What is counted below a node of each level, deepest-first order kept for display.
KINDS_BELOW = {
    Level.CITY: ("district", "street", "community", "grid", "building"),
    Level.DISTRICT: ("street", "community", "grid", "building"),
    Level.STREET: ("community", "grid", "building"),
    Level.COMMUNITY: ("grid", "building"),
    GRID: ("building",),
}
CHILD_LEVEL = {Level.CITY: Level.DISTRICT, Level.DISTRICT: Level.STREET, Level.STREET: Level.COMMUNITY,
               Level.COMMUNITY: GRID}
BUILDINGS_PER_PAGE = 20


def territory_stats() -> dict[str, int]:
    """Number of units at each level: districts, streets/towns, communities/villages, unified grids, buildings."""
    counts = dict.fromkeys((Level.DISTRICT, Level.STREET, Level.COMMUNITY), 0)
    for row in Division.objects.exclude(level=Level.CITY).values("level").annotate(n=Count("id")).order_by():
        counts[row["level"]] = row["n"]
    return {
        "district": counts[Level.DISTRICT],
        "street": counts[Level.STREET],
        "community": counts[Level.COMMUNITY],
        "grid": Grid.objects.filter(layer=UNIFIED_LAYER).count(),
        "building": Building.objects.count(),
    }


@dataclass
class TerritoryNode:
    """A division or a unified grid as pages and the API show it: identity, marks and counts below."""

    code: str
    name: str
    level: str  # a Level value, or "grid"
    kind: str  # 区 / 街道 / 镇 / 社区 / 村 / 网格 …
    generated: bool = False
    official_code: bool = True
    lng: float | None = None
    lat: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    # Set by pages that show the tree opened along a path; None means "load on demand".
    expanded_children: list["TerritoryNode"] | None = None

    @property
    def child_level(self) -> str | None:
        return CHILD_LEVEL.get(self.level)

    @property
    def is_leaf(self) -> bool:
        return self.level == GRID

    def as_dict(self) -> dict:
        return {
            "code": self.code, "name": self.name, "level": self.level, "kind": self.kind,
            "generated": self.generated, "official_code": self.official_code,
            "lng": self.lng, "lat": self.lat, "counts": self.counts,
        }


def _division_node(d: Division) -> TerritoryNode:
    return TerritoryNode(code=d.code, name=d.name, level=d.level, kind=d.kind, generated=d.generated,
                         official_code=d.official_code, lng=d.lng, lat=d.lat)


def _grid_node(g: Grid) -> TerritoryNode:
    # Grid codes are local by nature (no national list exists), so only "generated" is marked.
    return TerritoryNode(code=g.code, name=g.name, level=GRID, kind="网格", generated=g.generated,
                         official_code=True, lng=g.lng, lat=g.lat)


def _common_prefix(codes: list[str]) -> str:
    lo, hi = min(codes), max(codes)
    n = 0
    while n < len(lo) and lo[n] == hi[n]:
        n += 1
    return lo[:n]


def _grouped(qs, code_field: str, length: int, prefix: str, wanted: set[str]) -> dict[str, int]:
    """{code prefix: count} for rows of `qs` whose `code_field` starts with one of `wanted` (all `length` long)."""
    if prefix:
        qs = qs.filter(**{f"{code_field}__startswith": prefix})
    rows = (qs.annotate(_p=Substr(code_field, 1, length)).values("_p").annotate(n=Count("pk"))
            .order_by())
    return {r["_p"]: r["n"] for r in rows if r["_p"] in wanted}


def _count_querysets():
    return {
        "district": (Division.objects.filter(level=Level.DISTRICT), "code"),
        "street": (Division.objects.filter(level=Level.STREET), "code"),
        "community": (Division.objects.filter(level=Level.COMMUNITY), "code"),
        "grid": (Grid.objects.filter(layer=UNIFIED_LAYER), "code"),
        "building": (Building.objects.filter(grid__layer=UNIFIED_LAYER), "grid__code"),
    }


def division_counts(codes: Iterable[str], level: str) -> dict[str, dict[str, int]]:
    """Counts below each node of one `level` (a Level or "grid"), keyed by code:
    {"440104001": {"community": 12, "grid": 40, "building": 800}, …}.

    One grouped query per kind counted, whatever the number of codes. The city counts everything.
    """
    codes = list(dict.fromkeys(codes))
    kinds = KINDS_BELOW[level]
    out = {c: dict.fromkeys(kinds, 0) for c in codes}
    if not codes:
        return out
    if level == Level.CITY:
        totals = territory_stats()
        for c in codes:
            out[c] = {k: totals[k] for k in kinds}
        return out
    lengths = {len(c) for c in codes}
    if len(lengths) != 1:
        raise ValueError("division_counts takes codes of one level (one code length)")
    length = lengths.pop()
    prefix, wanted = _common_prefix(codes), set(codes)
    querysets = _count_querysets()
    for kind in kinds:
        qs, code_field = querysets[kind]
        for code, n in _grouped(qs, code_field, length, prefix, wanted).items():
            out[code][kind] = n
    return out


def division_get(code: str) -> Division:
    """The division with this code, or DomainError 404."""
    try:
        return Division.objects.get(code=code)
    except Division.DoesNotExist:
        raise DomainError("territory.division.not_found", _("没有代码为 %(code)s 的行政区划") % {"code": code},
                          field="code", status=404) from None


def grid_get(code: str) -> Grid:
    """The unified grid with this code, or DomainError 404."""
    try:
        return Grid.objects.get(layer=UNIFIED_LAYER, code=code)
    except Grid.DoesNotExist:
        raise DomainError("territory.grid.not_found", _("没有编码为 %(code)s 的网格") % {"code": code},
                          field="code", status=404) from None


def node_get(code: str, *, divisions_only: bool = False) -> TerritoryNode:
    """A division or unified grid by code, with its counts; DomainError 404 if neither exists
    (with `divisions_only`, if no division has this code)."""
    division = Division.objects.filter(code=code).defer("geometry").first()
    if division is not None:
        node = _division_node(division)
    elif divisions_only:
        raise DomainError("territory.division.not_found", _("没有代码为 %(code)s 的行政区划") % {"code": code},
                          field="code", status=404)
    else:
        grid = Grid.objects.filter(layer=UNIFIED_LAYER, code=code).first()
        if grid is None:
            raise DomainError("territory.node.not_found", _("没有代码为 %(code)s 的区划或网格") % {"code": code},
                              field="code", status=404)
        node = _grid_node(grid)
    node.counts = division_counts([node.code], node.level)[node.code]
    return node


def _ancestor_codes(code: str) -> list[str]:
    # City 4401 00, district 6, street 9, community 12, grid 15+: the prefixes name every ancestor.
    out = [code[:4] + "00"] if len(code) >= 6 else []
    out += [code[:n] for n in (6, 9, 12) if len(code) > n]
    return [c for c in dict.fromkeys(out) if c != code]


def node_ancestors(codes: Iterable[str]) -> dict[str, list[TerritoryNode]]:
    """For each code, its ancestors from the city down (without counts), in one query for all codes."""
    codes = list(codes)
    wanted = {a for c in codes for a in _ancestor_codes(c)}
    found = {d.code: _division_node(d) for d in Division.objects.filter(code__in=wanted)}
    return {c: [found[a] for a in _ancestor_codes(c) if a in found] for c in codes}


def node_children(node: TerritoryNode | Division) -> list[TerritoryNode]:
    """The children of a division with their counts: districts of the city, streets of a district,
    communities of a street, unified grids of a community. A grid has none (its buildings are paged)."""
    level = node.level
    if level == GRID:
        return []
    if level == Level.COMMUNITY:
        children = [_grid_node(g) for g in Grid.objects.filter(layer=UNIFIED_LAYER, code__startswith=node.code)
                    .only("code", "name", "generated", "lng", "lat").order_by("code")]
    else:
        qs = Division.objects.filter(level=CHILD_LEVEL[level]).defer("geometry").order_by("code")
        qs = qs.filter(code__startswith=node.code[:4]) if level == Level.CITY else qs.filter(code__startswith=node.code)
        children = [_division_node(d) for d in qs]
    if children:
        counts = division_counts([c.code for c in children], children[0].level)
        for c in children:
            c.counts = counts[c.code]
    return children


def territory_roots() -> list[TerritoryNode]:
    """The districts with their counts: the top of the territory tree."""
    nodes = [_division_node(d) for d in Division.objects.filter(level=Level.DISTRICT).defer("geometry").order_by("code")]
    counts = division_counts([n.code for n in nodes], Level.DISTRICT)
    for n in nodes:
        n.counts = counts[n.code]
    return nodes


def grid_buildings(grid_code: str, *, page: int | str = 1, per_page: int = BUILDINGS_PER_PAGE) -> Page:
    """One page of a unified grid's buildings, ordered by code."""
    qs = Building.objects.filter(grid__layer=UNIFIED_LAYER, grid__code=grid_code).order_by("code")
    return Paginator(qs, per_page).get_page(page)


def territory_search(query: str, *, limit: int = 20) -> list[tuple[TerritoryNode, list[TerritoryNode]]]:
    """Divisions and unified grids whose name contains `query` or whose code starts with it,
    each with its ancestor path; shallow levels first."""
    query = (query or "").strip()
    if not query:
        return []
    if query.isdigit():
        dq, gq = Q(code__startswith=query), Q(code__startswith=query)
    else:
        dq = Q(name__icontains=query) | Q(short_name__icontains=query)
        gq = Q(name__icontains=query)
    divisions = list(Division.objects.filter(dq).exclude(level=Level.CITY).defer("geometry")
                     .order_by("code")[:limit])
    # Shorter codes are shallower levels, which a searcher most likely means.
    nodes = sorted((_division_node(d) for d in divisions), key=lambda n: (len(n.code), n.code))
    if len(nodes) < limit:
        grids = Grid.objects.filter(gq, layer=UNIFIED_LAYER).only("code", "name", "generated", "lng", "lat")
        nodes += [_grid_node(g) for g in grids.order_by("code")[: limit - len(nodes)]]
    paths = node_ancestors(n.code for n in nodes)
    return [(n, paths[n.code]) for n in nodes]


def city_code() -> str | None:
    """The code of the city at the top of the territory, if it is loaded."""
    return Division.objects.filter(level=Level.CITY).order_by("code").values_list("code", flat=True).first()


def city_name() -> str | None:
    """The name of the city at the top of the territory (深圳市), if it is loaded."""
    return Division.objects.filter(level=Level.CITY).order_by("code").values_list("name", flat=True).first()
