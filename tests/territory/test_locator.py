"""The locator: exact point index, point and address location, and the cache (territory.locator)."""

import json

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box, mapping

from huying.core.errors import DomainError
from huying.territory import coords, locator
from huying.territory.locator import GridIndex, brute_force_lookup
from huying.territory.models import UNIFIED_LAYER, Building, Division, Grid, Level

# --------------------------------------------------------------------------------------------
# The point index against brute force, no database


def synthetic_layer():
    """Squares sharing edges, a gap, a grid with a hole and an island in it, a sliver, a triangle
    and two overlapping grids (which a clean layer never has, but the answer must still be exact)."""
    parts = []
    for i in range(6):
        for j in range(4):
            if (i, j) in ((2, 1), (3, 2)):
                continue  # gaps
            parts.append(box(i * 0.01, j * 0.01, (i + 1) * 0.01, (j + 1) * 0.01))
    parts.append(box(0.06, 0.0, 0.08, 0.04).difference(box(0.065, 0.01, 0.075, 0.03)))  # with a hole
    parts.append(box(0.067, 0.012, 0.073, 0.028))  # island in the hole
    parts.append(box(0.08, 0.0, 0.0801, 0.04))  # sliver
    parts.append(shapely.Polygon([(0.0801, 0.0), (0.1, 0.0), (0.0801, 0.04)]))  # triangle
    parts.append(box(0.02, 0.04, 0.05, 0.05))
    parts.append(box(0.045, 0.04, 0.07, 0.05))  # overlaps the previous one
    return np.array(parts, dtype=object)


LAYER = synthetic_layer()
INDEX = GridIndex(LAYER, refine=8)
VERTICES = shapely.get_coordinates(LAYER)


def test_random_points_equal_brute_force():
    rng = np.random.default_rng(11)
    x = rng.uniform(-0.01, 0.11, 200_000)
    y = rng.uniform(-0.01, 0.06, 200_000)
    got = INDEX.lookup(x, y)
    assert (got == brute_force_lookup(LAYER, x, y)).all()
    # The sample does exercise every kind of answer.
    assert (got == -1).any() and len(set(got.tolist())) == len(LAYER) + 1


def test_points_on_edges_and_vertices_take_the_smallest_grid():
    x, y = VERTICES[:, 0], VERTICES[:, 1]
    mid_x = (VERTICES[:-1, 0] + VERTICES[1:, 0]) / 2
    mid_y = (VERTICES[:-1, 1] + VERTICES[1:, 1]) / 2
    px, py = np.concatenate([x, mid_x]), np.concatenate([y, mid_y])
    got = INDEX.lookup(px, py)
    assert (got == brute_force_lookup(LAYER, px, py)).all()
    # The corner shared by four squares belongs to the first of them.
    assert INDEX.lookup([0.01], [0.01])[0] == 0


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_any_point_equals_brute_force(data):
    kind = data.draw(st.sampled_from(["free", "vertex", "lattice"]))
    if kind == "free":
        x = data.draw(st.floats(-0.02, 0.12, allow_nan=False))
        y = data.draw(st.floats(-0.02, 0.07, allow_nan=False))
    elif kind == "vertex":
        vx, vy = VERTICES[data.draw(st.integers(0, len(VERTICES) - 1))]
        d = data.draw(st.sampled_from([0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-7]))
        x, y = vx + d, vy + data.draw(st.sampled_from([0.0, d, -d]))
    else:  # exactly on the index's own cell lines, where rounding could pick the wrong cell
        x = INDEX.x0 + data.draw(st.integers(0, 4000)) * INDEX.fine
        y = INDEX.y0 + data.draw(st.integers(0, 4000)) * INDEX.fine
    assert INDEX.lookup([x], [y])[0] == brute_force_lookup(LAYER, [x], [y])[0]


def test_voronoi_layer_equals_brute_force():
    rng = np.random.default_rng(3)
    sites = shapely.multipoints(rng.uniform(0, 1, (1500, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(sites, extend_to=box(0, 0, 1, 1)))
    cells = shapely.intersection(cells, shapely.Point(0.5, 0.5).buffer(0.5))
    cells = cells[~shapely.is_empty(cells)]
    index = GridIndex(cells)
    x, y = rng.uniform(-0.05, 1.05, 100_000), rng.uniform(-0.05, 1.05, 100_000)
    assert (index.lookup(x, y) == brute_force_lookup(cells, x, y)).all()
    # Most points are answered from the lattice without an exact test.
    assert index.stats["boundary_leaves"] < len(index.val) / 2


def test_empty_layer_and_round_trip_through_arrays():
    assert (GridIndex(np.array([], dtype=object)).lookup([0.0, 1.0], [0.0, 1.0]) == -1).all()
    copy = GridIndex(LAYER, arrays=INDEX.arrays())
    x = np.linspace(-0.01, 0.11, 3001)
    y = np.linspace(0.055, -0.005, 3001)
    assert (copy.lookup(x, y) == INDEX.lookup(x, y)).all()


# --------------------------------------------------------------------------------------------
# A small synthetic city in the database

YUEXIU = box(113.20, 23.10, 113.30, 23.20)
TIANHE = box(113.30, 23.10, 113.40, 23.20)


def _geo(geom) -> str:
    return json.dumps(mapping(geom))


def _div(code, name, level, parent, geom=None, short=""):
    kind = {"city": "市", "district": "区", "street": "街道", "community": "社区"}[level]
    c = geom.centroid if geom is not None else None
    return Division.objects.create(code=code, name=name, short_name=short, level=level, kind=kind, parent=parent,
                                   geometry=_geo(geom) if geom is not None else "",
                                   lng=c.x if c else None, lat=c.y if c else None)


def _grid(code, name, community, geom):
    c = geom.centroid
    return Grid.objects.create(code=code, name=name, layer=UNIFIED_LAYER, community=community, geometry=_geo(geom),
                               lng=c.x, lat=c.y)


def make_city() -> dict:
    """Two districts; 越秀 has 北京街道 (gridded) and 光塔街道 (half gridded, half gap); both districts have a
    street called 同名街道 and a community called 幸福社区."""
    t = {}
    t["city"] = _div("440100", "广州市", Level.CITY, None, short="广州")
    t["yuexiu"] = _div("440104", "越秀区", Level.DISTRICT, t["city"], YUEXIU, short="越秀")
    t["tianhe"] = _div("440106", "天河区", Level.DISTRICT, t["city"], TIANHE, short="天河")
    t["beijing"] = _div("440104001", "北京街道", Level.STREET, t["yuexiu"], box(113.20, 23.10, 113.25, 23.20), "北京街")
    t["guangta"] = _div("440104002", "光塔街道", Level.STREET, t["yuexiu"], box(113.25, 23.10, 113.30, 23.20), "光塔街")
    t["same_y"] = _div("440104003", "同名街道", Level.STREET, t["yuexiu"], short="同名街")
    t["shipai"] = _div("440106001", "石牌街道", Level.STREET, t["tianhe"], TIANHE, "石牌街")
    t["same_t"] = _div("440106002", "同名街道", Level.STREET, t["tianhe"], short="同名街")
    t["liushuijing"] = _div("440104001001", "流水井社区居民委员会", Level.COMMUNITY, t["beijing"],
                            box(113.20, 23.10, 113.25, 23.15), "流水井社区")
    t["xingfu_y"] = _div("440104001002", "幸福社区居民委员会", Level.COMMUNITY, t["beijing"],
                         box(113.20, 23.15, 113.25, 23.20), "幸福社区")
    t["guangta_c"] = _div("440104002001", "光塔社区居委会", Level.COMMUNITY, t["guangta"],
                          box(113.25, 23.10, 113.30, 23.15), "光塔社区")
    t["xingfu_t"] = _div("440106001001", "幸福社区居民委员会", Level.COMMUNITY, t["shipai"], TIANHE, "幸福社区")
    t["g1"] = _grid("440104001001001", "流水井第1网格", t["liushuijing"], box(113.20, 23.10, 113.225, 23.15))
    t["g2"] = _grid("440104001001002", "流水井第2网格", t["liushuijing"], box(113.225, 23.10, 113.25, 23.15))
    t["g3"] = _grid("440104001002001", "幸福第1网格", t["xingfu_y"], box(113.20, 23.15, 113.25, 23.20))
    t["g4"] = _grid("440104002001001", "光塔第1网格", t["guangta_c"], box(113.25, 23.10, 113.30, 23.15))
    t["g5"] = _grid("440106001001001", "石牌第1网格", t["xingfu_t"], TIANHE)
    t["building"] = Building.objects.create(code="440104001001001001", grid=t["g2"], lng=113.23, lat=23.12,
                                            address="广州市越秀区北京街道流水井社区示例路1号")
    locator.invalidate()
    return t


@pytest.fixture
def city(db):
    t = make_city()
    yield t
    locator.invalidate()


def names(loc):
    return {k: (v["name"] if v else None) for k, v in loc.as_dict().items()}


def test_locate_point_in_a_grid(city):
    loc = locator.locate_point(113.21, 23.12)
    assert loc.grid_id == city["g1"].id and loc.community_id == city["liushuijing"].id
    assert loc.as_dict() == {
        "district": {"code": "440104", "name": "越秀区"},
        "street": {"code": "440104001", "name": "北京街道"},
        "community": {"code": "440104001001", "name": "流水井社区居民委员会"},
        "grid": {"code": "440104001001001", "name": "流水井第1网格"},
    }
    assert locator.locate_point(113.35, 23.15).grid_id == city["g5"].id


def test_locate_point_in_a_gap_answers_from_division_polygons(city):
    loc = locator.locate_point(113.27, 23.18)  # 光塔街道's northern half has no community and no grid
    assert names(loc) == {"district": "越秀区", "street": "光塔街道", "community": None, "grid": None}
    assert loc.grid_id is None and loc.community_id is None


def test_locate_point_outside_is_none(city):
    assert locator.locate_point(114.0579, 22.5431) is None
    assert locator.locate_point(113.45, 23.15) is None


def test_locate_point_other_crs_lands_in_the_same_grid(city):
    lng, lat = 113.2123, 23.1234
    assert locator.locate_point(*coords.wgs84_to_gcj02(lng, lat), crs="gcj02").grid_id == city["g1"].id
    assert locator.locate_point(*coords.wgs84_to_bd09(lng, lat), crs="bd09").grid_id == city["g1"].id
    # Read as WGS-84, the GCJ-02 numbers are ~500 m east: a different grid.
    assert locator.locate_point(*coords.wgs84_to_gcj02(113.2245, lat)).grid_id == city["g2"].id


def test_locate_point_refuses_bad_input(city):
    with pytest.raises(DomainError) as exc:
        locator.locate_point(113.2, 23.1, crs="mercator")
    assert exc.value.code == "territory.bad_crs"
    with pytest.raises(DomainError) as exc:
        locator.locate_point(float("nan"), 23.1)
    assert exc.value.code == "territory.bad_coordinate"


def test_locate_points_bulk(city):
    ids = locator.locate_points([113.21, 113.24, 113.27, 113.27, 113.35, 120.0], [23.12, 23.12, 23.12, 23.18, 23.15, 30.0])
    assert ids.tolist() == [city["g1"].id, city["g2"].id, city["g4"].id, -1, city["g5"].id, -1]
    x, y = coords.wgs84_to_gcj02(np.array([113.21, 113.35]), np.array([23.12, 23.15]))
    assert locator.locate_points(x, y, crs="gcj02").tolist() == [city["g1"].id, city["g5"].id]


def test_cache_is_rebuilt_when_the_territory_changes(city, monkeypatch, django_assert_num_queries):
    assert locator.locate_point(113.27, 23.18).grid is None
    # Within the check interval nothing is asked of the database …
    with django_assert_num_queries(0):
        locator.locate_point(113.21, 23.12)
    new = _grid("440104002001002", "光塔第2网格", city["guangta_c"], box(113.25, 23.15, 113.30, 23.20))
    assert locator.locate_point(113.27, 23.18).grid is None
    # … and once it has passed, the changed signature (another process's write) triggers a rebuild.
    monkeypatch.setattr(locator, "CHECK_SECONDS", 0.0)
    assert locator.locate_point(113.27, 23.18).grid_id == new.id
    Division.objects.filter(pk=city["beijing"].pk).update(name="北京路街道")
    assert names(locator.locate_point(113.21, 23.12))["street"] == "北京路街道"


def test_index_is_shared_through_the_disk_cache(city, monkeypatch, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(locator, "DISK_CACHE_SECONDS", -1.0)
    first = locator.locate_point(113.24, 23.12)
    assert len(list((tmp_path / "cache" / "locator").glob("*.npz"))) == 1
    locator.invalidate()

    def no_build(*args, **kwargs):
        raise AssertionError("the index should have been loaded, not built")

    monkeypatch.setattr(GridIndex, "_build", no_build)
    assert locator.locate_point(113.24, 23.12) == first


# --------------------------------------------------------------------------------------------
# Addresses


@pytest.mark.parametrize(("text", "expected"), [
    ("广州市越秀区北京街道流水井社区示例路2号", ("越秀区", "北京街道", "流水井社区居民委员会")),
    ("广东省广州市越秀区北京街道", ("越秀区", "北京街道", None)),
    ("北京街", ("越秀区", "北京街道", None)),
    ("越秀北京街", ("越秀区", "北京街道", None)),
    ("流水井社区", ("越秀区", "北京街道", "流水井社区居民委员会")),
    ("流水井居委会门口", ("越秀区", "北京街道", "流水井社区居民委员会")),
    ("光塔社区居民委员会", ("越秀区", "光塔街道", "光塔社区居委会")),
    ("天河区同名街", ("天河区", "同名街道", None)),
    ("越秀区幸福社区", ("越秀区", "北京街道", "幸福社区居民委员会")),
    ("幸福社区", None),  # in two districts and nothing to tell them apart
    ("同名街道", None),
    ("天河区北京街", ("天河区", None, None)),  # 北京街 is not in 天河区: keep what is consistent
    ("越秀区北京街道光塔街道", ("越秀区", None, None)),
    ("中山五路一号", None),
    ("越秀", ("越秀区", None, None)),
    ("天河北京街", ("天河区", None, None)),
    ("越秀公园", None),  # a bare short district name inside a place name is not an address
])
def test_locate_address(city, text, expected):
    match = locator.locate_address(text)
    assert not match.outside
    if expected is None:
        assert not match.found and match.location is None
    else:
        assert match.found
        got = names(match.location)
        assert (got["district"], got["street"], got["community"]) == expected and got["grid"] is None


@pytest.mark.parametrize("text", [
    "北京市东城区景山前街4号", "深圳市南山区科技园", "湖南省长沙市岳麓区", "长沙市岳麓区麓山路", "香港中环",
    "广东省深圳市福田区",
])
def test_locate_address_outside(city, text):
    match = locator.locate_address(text)
    assert match.outside and not match.found


def test_address_names_a_market_not_a_city(city):
    assert locator.locate_address("越秀区北京市场").location.district.name == "越秀区"


def test_building_address_places_the_grid(city):
    match = locator.locate_address("广州市越秀区北京街道流水井社区示例路1号")
    assert match.found and match.location.grid_id == city["g2"].id
    assert match.location.community_id == city["liushuijing"].id


# --------------------------------------------------------------------------------------------
# The shipped Guangzhou data (越秀区 generated)


@pytest.mark.django_db
def test_real_yuexiu():
    from huying.territory.testing import load_territory

    load_territory()
    locator.invalidate()
    try:
        loc = locator.locate_point(113.2644, 23.1291)  # 广州市人民政府
        assert loc.district.name == "越秀区" and loc.street and loc.community and loc.grid
        grid = Grid.objects.get(pk=loc.grid_id)
        assert shapely.contains_xy(shapely.from_geojson(grid.geometry), 113.2644, 23.1291)
        assert grid.community_id == loc.community_id and grid.community.code.startswith(loc.street.code)
        assert locator.locate_point(*coords.wgs84_to_gcj02(113.2644, 23.1291), crs="gcj02").grid_id == loc.grid_id
        assert locator.locate_point(114.0579, 22.5431) is None  # 深圳
        # Every grid's own representative point is located in that grid.
        grids = list(Grid.objects.filter(layer=UNIFIED_LAYER).values_list("id", "geometry"))
        pts = shapely.point_on_surface(shapely.from_geojson([g for _, g in grids]))
        got = locator.locate_points(shapely.get_x(pts), shapely.get_y(pts))
        assert got.tolist() == [i for i, _ in grids]
        match = locator.locate_address("广州市越秀区北京街道流水井社区")
        assert match.location.community.name.startswith("流水井社区")
    finally:
        locator.invalidate()
