"""The territory generator: tiling, contiguity, codes, determinism, density, re-runs, commands."""

import io
import json
import re
import time
from collections import defaultdict

import numpy as np
import pytest
import shapely
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.territory.models import UNIFIED_LAYER, Building, Division, Grid, Level
from huying.territory.services import boundaries_import, divisions_import, grids_generate
from huying.territory.services.generate import (
    LocalProjection,
    partition,
    reading_order,
)
from huying.territory.testing import load_territory

# ------------------------------------------------------------------ a small made-up city

LNG, LAT = 113.40, 23.30
KM = 1 / 102.3  # degrees of longitude per km at 23.3°N (near enough for building the shapes)


def _ring(points):
    pts = [(LNG + x * KM, LAT + y / 111.2) for x, y in points]
    return [[*map(list, pts), list(pts[0])]]


DISTRICT_A = _ring([(0, 0), (6, 0), (6, 3), (3, 3), (3, 6), (0, 6)])  # an L: concave on purpose
DISTRICT_B = _ring([(6, 0), (9, 0), (9, 3), (6, 3)])
STREET_A1 = _ring([(0, 3), (3, 3), (3, 6), (0, 6)])  # the top of the L, for the official-boundary test


def city_data() -> dict:
    return {
        "city": {"code": "449900", "name": "样例市"},
        "districts": [
            {"code": "449901", "name": "甲区", "streets": [
                {"code": "449901001", "name": "东风街道", "kind": "街道", "communities": [
                    {"name": f"东风{i}社区居委会", "kind": "社区"} for i in range(1, 5)]},
                {"code": "449901101", "name": "南岗镇", "kind": "镇", "communities": [
                    {"name": "南岗社区居委会", "kind": "社区"},
                    *({"name": f"南岗{i}村委会", "kind": "村"} for i in range(1, 4))]},
                {"code": "449901002", "name": "新城街道", "kind": "街道"},  # no list: generated
            ]},
            {"code": "449902", "name": "乙区", "streets": [
                {"code": "449902001", "name": "河滨街道", "kind": "街道", "communities": [
                    {"name": f"河滨{i}社区居委会", "kind": "社区"} for i in range(1, 4)]},
            ]},
        ],
    }


def boundaries(*features) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code}, "geometry": {"type": "Polygon", "coordinates": ring}}
        for code, ring in features]}


@pytest.fixture
def city(db):
    divisions_import(city_data())
    boundaries_import(boundaries(("449901", DISTRICT_A), ("449902", DISTRICT_B)))


def geom(text):
    return shapely.from_geojson(text)


def grid_snapshot(prefix=""):
    return list(Grid.objects.filter(code__startswith=prefix).order_by("code").values_list(
        "code", "name", "community__code", "geometry", "lng", "lat", "area_m2"))


def building_snapshot(prefix=""):
    return list(Building.objects.filter(code__startswith=prefix).order_by("code").values_list(
        "code", "grid__code", "address", "lng", "lat", "households"))


def division_snapshot():
    return list(Division.objects.order_by("code").values_list("code", "name", "geometry", "lng", "lat", "generated"))


def assert_tiles(parent, pieces, edge=2e-7):
    """`pieces` are valid single Polygons that cover `parent` without gaps or overlaps.

    Stored coordinates are rounded to 1e-7° (about 1 cm), so a shared boundary may wander by
    that much: areas may differ by up to the perimeter × `edge` (in the shapes' own units).
    """
    for piece in pieces:
        assert piece.geom_type == "Polygon" and piece.is_valid and piece.area > 0
    tolerance = parent.length * edge
    total = sum(p.area for p in pieces)
    union = shapely.union_all(pieces)
    assert total == pytest.approx(union.area, abs=parent.area * 1e-9)  # no overlap
    assert shapely.difference(parent, union).area <= tolerance          # no gap
    assert shapely.difference(union, parent).area <= tolerance          # nothing outside
    assert total == pytest.approx(parent.area, abs=tolerance)


# ------------------------------------------------------------------ pure geometry


@given(
    weights=st.lists(st.sampled_from([1.0, 1.0, 2.0, 5.0]), min_size=2, max_size=14),
    notch=st.floats(0.0, 0.8),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_partition_gives_connected_pieces_that_tile_the_parent(weights, notch, seed):
    # a 4 km square with a notch cut out of one side: convex or not
    square = shapely.box(0, 0, 4000, 4000)
    parent = shapely.set_precision(shapely.difference(square, shapely.box(1500, 4000 - 3500 * notch, 2500, 4000)), 0.01)
    pieces = partition(parent, weights, np.random.default_rng(seed))
    assert len(pieces) == len(weights)
    assert_tiles(parent, pieces, edge=0.02)  # metres here
    shares = np.array([p.area for p in pieces]) / parent.area
    target = np.array(weights) / sum(weights)
    assert np.median(shares / target) == pytest.approx(1, abs=0.25)


def test_partition_areas_follow_the_weights():
    parent = shapely.box(0, 0, 5000, 3000)
    weights = [1, 1, 1, 5, 5, 5, 5, 2]
    pieces = partition(parent, weights, np.random.default_rng(7))
    ratio = np.array([p.area for p in pieces]) / (np.array(weights) / sum(weights) * parent.area)
    assert ratio.min() > 0.75 and ratio.max() < 1.3, ratio


def test_reading_order_runs_west_to_east_then_north_to_south():
    cells = [shapely.box(x * 100, y * 100, x * 100 + 100, y * 100 + 100) for y in range(3) for x in range(3)]
    shuffled = [cells[i] for i in (4, 8, 0, 3, 7, 1, 6, 2, 5)]
    ordered = [shuffled[i] for i in reading_order(shuffled, 90000)]
    corners = [(int(c.bounds[0]), int(c.bounds[1])) for c in ordered]
    assert corners == [(0, 200), (100, 200), (200, 200), (0, 100), (100, 100), (200, 100),
                       (0, 0), (100, 0), (200, 0)]


def test_local_projection_round_trips():
    proj = LocalProjection(113.3, 23.1)
    shape = shapely.Polygon([(113.2, 23.0), (113.4, 23.0), (113.4, 23.2)])
    back = proj.to_wgs84(proj.to_metric(shape))
    assert shapely.equals_exact(back, shape, tolerance=1e-9)
    # 0.2° × 0.2° at 23°N is about 20.5 km × 22.2 km; the triangle is half of that
    assert proj.to_metric(shape).area / 1e6 == pytest.approx(20.47 * 22.24 / 2, rel=0.01)


# ------------------------------------------------------------------ the made-up city


def test_generated_territory_tiles_every_level(city):
    result = grids_generate(grids_target=120, seed=1)
    assert result["districts"] == 2 and result["streets"] == 4
    assert 5 <= result["generated_communities"] <= 8
    assert result["grids"] == Grid.objects.count() >= 120
    for district in Division.objects.filter(level=Level.DISTRICT):
        streets = district.children.all()
        assert_tiles(geom(district.geometry), [geom(s.geometry) for s in streets])
        for street in streets:
            assert street.geometry_generated and geom(street.geometry).contains(shapely.Point(street.lng, street.lat))
            communities = list(street.children.all())
            assert_tiles(geom(street.geometry), [geom(c.geometry) for c in communities])
            for community in communities:
                grids = list(community.grids.all())
                assert grids, community
                assert_tiles(geom(community.geometry), [geom(g.geometry) for g in grids])


def test_codes_names_and_buildings(city):
    grids_generate(grids_target=120, seed=1, buildings_per_grid=6)
    by_community = defaultdict(list)
    for grid in Grid.objects.select_related("community"):
        by_community[grid.community.code].append(grid)
        assert grid.generated and grid.layer == UNIFIED_LAYER
        assert re.fullmatch(r"\d{15}", grid.code) and grid.code.startswith(grid.community.code)
        assert grid.name == f"{grid.community.short_name}第{int(grid.code[-3:])}网格"
        assert grid.area_m2 == pytest.approx(geom(grid.geometry).area * 102_300 * 111_200, rel=0.02)
    for grids in by_community.values():
        assert sorted(int(g.code[-3:]) for g in grids) == list(range(1, len(grids) + 1))
    addresses = set()
    shapes = {g.pk: geom(g.geometry) for g in Grid.objects.all()}
    per_grid = defaultdict(int)
    households = defaultdict(int)
    for b in Building.objects.select_related("grid__community__parent__parent"):
        households[b.grid_id] += b.households
        assert b.generated and re.fullmatch(r"\d{18}", b.code) and b.code.startswith(b.grid.code)
        assert shapes[b.grid_id].contains(shapely.Point(b.lng, b.lat)), b
        assert 8 <= b.households <= 60
        community = b.grid.community
        prefix = f"样例市{community.parent.parent.name}{community.parent.name}{community.short_name}"
        assert re.fullmatch(re.escape(prefix) + r"\d+号(楼)?", b.address), b.address
        addresses.add(b.address)
        per_grid[b.grid_id] += 1
    assert len(addresses) == Building.objects.count()
    assert set(per_grid) == set(shapes) and 3 <= min(per_grid.values()) and max(per_grid.values()) <= 9
    assert sum(per_grid.values()) / len(per_grid) == pytest.approx(6, abs=1)
    # a grid serves a few hundred households at most, as the grid sizing intends (was up to ~1,800)
    assert max(households.values()) <= 9 * 60 and sum(households.values()) / len(households) < 300


def test_streets_without_a_list_get_generated_communities(city):
    grids_generate(grids_target=120, seed=1)
    made = list(Division.objects.filter(parent__code="449901002").order_by("code"))
    assert 5 <= len(made) <= 8
    for i, community in enumerate(made, start=1):
        assert community.name == f"新城街道第{i}社区" and community.kind == "社区"
        assert community.code == f"449901002{i:03d}"
        assert community.generated and not community.official_code and community.geometry_generated
    # streets that have a list get none
    assert not Division.objects.filter(generated=True).exclude(parent__code="449901002").exists()


def test_a_real_list_arriving_later_replaces_the_generated_communities(city):
    grids_generate(grids_target=120, seed=1)
    made = set(Division.objects.filter(parent__code="449901002").values_list("code", flat=True))
    data = city_data()
    data["districts"][0]["streets"][2]["communities"] = [{"name": "新城东社区居委会", "kind": "社区"}]
    divisions_import(data)
    real = Division.objects.get(name="新城东社区居委会")
    assert real.code not in made and real.code.startswith("449901002")
    grids_generate(grids_target=120, seed=1)
    assert list(Division.objects.filter(parent__code="449901002")) == [real]
    real.refresh_from_db()
    assert real.grids.exists() and real.geometry_generated
    assert_tiles(geom(Division.objects.get(code="449901002").geometry), [geom(real.geometry)])


def test_denser_communities_get_more_and_smaller_grids(city):
    grids_generate(grids_target=200, seed=1)
    stats = defaultdict(list)
    for community in Division.objects.filter(level=Level.COMMUNITY, code__startswith="449901101"):
        grids = list(community.grids.all())
        stats[community.kind].append((len(grids), sum(g.area_m2 for g in grids) / len(grids)))
    urban_count, urban_size = stats["社区"][0]
    for village_count, village_size in stats["村"]:
        assert village_count * 2 <= urban_count <= village_count * 4  # 3 : 1 by weight, rounded
        assert village_size > 5 * urban_size


def test_same_seed_same_territory_and_a_rerun_replaces(city):
    first = grids_generate(grids_target=120, seed=5)
    grids, buildings, divisions = grid_snapshot(), building_snapshot(), division_snapshot()
    second = grids_generate(grids_target=120, seed=5)
    assert (second["grids"], second["buildings"]) == (first["grids"], first["buildings"])
    assert (second["deleted_grids"], second["deleted_buildings"]) == (first["grids"], first["buildings"])
    assert grid_snapshot() == grids and building_snapshot() == buildings and division_snapshot() == divisions
    grids_generate(grids_target=120, seed=6)
    assert [g[3] for g in grid_snapshot()] != [g[3] for g in grids]
    assert Grid.objects.count() == first["grids"]  # replaced, not added
    assert AuditEntry.objects.filter(action="territory.grids.generated").count() == 3


def test_one_district_alone_comes_out_as_in_a_whole_city_run(city):
    grids_generate(districts=["449901"], grids_target=120, seed=3)
    assert not Grid.objects.filter(code__startswith="449902").exists()
    alone = grid_snapshot("449901"), building_snapshot("449901")
    grids_generate(grids_target=120, seed=3)
    assert (grid_snapshot("449901"), building_snapshot("449901")) == alone
    assert Grid.objects.filter(code__startswith="449902").exists()


def test_imported_boundaries_and_grids_are_kept(city):
    boundaries_import(boundaries(("449901001", STREET_A1)))
    kept_street = Division.objects.get(code="449901001").geometry
    community = Division.objects.get(name="南岗社区居委会")
    imported = Grid.objects.create(code=f"{community.code}001", name="南岗社区第1网格（普查）", community=community,
                                   geometry=json.dumps({"type": "Polygon", "coordinates": DISTRICT_B}),
                                   lng=LNG, lat=LAT, area_m2=1.0)
    for _run in range(2):
        grids_generate(grids_target=120, seed=1)
        street = Division.objects.get(code="449901001")
        assert street.geometry == kept_street and not street.geometry_generated
        others = [geom(s.geometry) for s in Division.objects.filter(parent__code="449901").exclude(pk=street.pk)]
        assert_tiles(geom(Division.objects.get(code="449901").geometry), [geom(kept_street), *others])
        assert list(community.grids.all()) == [imported]
        imported.refresh_from_db()
        assert not imported.generated and imported.name == "南岗社区第1网格（普查）"


def test_a_referenced_generated_grid_blocks_a_rerun(city):
    grids_generate(districts=["449902"], grids_target=60, seed=1)
    grid = Grid.objects.filter(code__startswith="449902").first()
    Building.objects.create(code="449902001001999001", grid=grid, address="样例市乙区河滨街道普查楼",
                            lng=grid.lng, lat=grid.lat, households=30)
    before = grid_snapshot()
    with pytest.raises(DomainError) as err:
        grids_generate(districts=["449902"], grids_target=60, seed=2)
    assert err.value.code == "territory.generate.in_use" and err.value.status == 409
    assert grid_snapshot() == before


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"districts": ["449903"]}, "territory.generate.unknown_district"),
    ({"grids_target": 0}, "territory.generate.invalid"),
])
def test_refusals(city, kwargs, code):
    with pytest.raises(DomainError) as err:
        grids_generate(**kwargs)
    assert err.value.code == code
    assert not Grid.objects.exists()


def test_a_district_without_a_boundary_is_refused(db):
    divisions_import(city_data())
    with pytest.raises(DomainError) as err:
        grids_generate(districts=["449902"])
    assert err.value.code == "territory.generate.no_boundary" and "乙区" in err.value.message


def test_progress_reaches_the_total(city):
    calls = []
    grids_generate(grids_target=60, seed=1, progress=lambda step, done, total: calls.append((step, done, total)))
    assert calls and calls[-1][1] == calls[-1][2] == Division.objects.filter(level=Level.COMMUNITY).count()
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)


def test_a_tqdm_like_bar_is_driven_too(city):
    class Bar:
        total, n = None, 0

        def update(self, k):
            self.n += k

    bar = Bar()
    grids_generate(grids_target=60, seed=1, progress=bar)
    assert bar.n == bar.total == Division.objects.filter(level=Level.COMMUNITY).count()


def test_commands(city):
    out = io.StringIO()
    call_command("generate", "grids", "--district", "449902", "--target", "60", "--seed", "4", "--no-progress",
                 stdout=out)
    assert "网格" in out.getvalue() and str(Grid.objects.count()) in out.getvalue()
    out = io.StringIO()
    call_command("territory", "stats", stdout=out)
    stats = json.loads(out.getvalue())
    assert stats == {"district": 2, "street": 4, "community": Division.objects.filter(level=Level.COMMUNITY).count(),
                     "grid": Grid.objects.count(), "building": Building.objects.count()}
    assert stats["building"] > 0


# ------------------------------------------------------------------ real data: 越秀区


@pytest.fixture(scope="class")
def yuexiu(django_db_setup, django_db_blocker):
    """越秀区 loaded once for the class, rolled back afterwards."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            started = time.monotonic()
            load_territory()
            yield time.monotonic() - started
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.django_db
@pytest.mark.usefixtures("yuexiu")
class TestYuexiu:
    def test_counts_are_in_the_expected_range(self):
        # 越秀 holds 5.6 % of Guangzhou's people (2020 census), so ≈ 1,110 of 20,000 grids
        grids = Grid.objects.filter(code__startswith="440104").count()
        assert 1000 <= grids <= 1250
        assert not Grid.objects.exclude(code__startswith="440104").exists()
        buildings = Building.objects.count()
        assert 8 * grids <= buildings <= 12 * grids
        communities = Division.objects.filter(level=Level.COMMUNITY, code__startswith="440104")
        assert communities.count() == 222
        assert not communities.filter(grids=None).exists()

    def test_every_community_is_tiled_by_its_grids(self):
        shapes = defaultdict(list)
        for community_id, text in Grid.objects.values_list("community_id", "geometry"):
            shapes[community_id].append(geom(text))
        for community in Division.objects.filter(level=Level.COMMUNITY, code__startswith="440104"):
            assert_tiles(geom(community.geometry), shapes[community.pk])
        district = geom(Division.objects.get(code="440104").geometry)
        streets = [geom(s) for s in Division.objects.filter(level=Level.STREET, code__startswith="440104")
                   .values_list("geometry", flat=True)]
        assert_tiles(district, streets)

    def test_central_grids_are_small(self):
        areas = list(Grid.objects.values_list("area_m2", flat=True))
        assert 15_000 < np.mean(areas) < 60_000  # 越秀: 33.5 km² over ≈ 1,110 grids

    def test_buildings_sit_in_their_grids(self):
        by_grid = defaultdict(list)
        for grid_id, lng, lat in Building.objects.values_list("grid_id", "lng", "lat"):
            by_grid[grid_id].append((lng, lat))
        for grid_id, text in Grid.objects.values_list("id", "geometry"):
            pts = np.array(by_grid[grid_id])
            assert shapely.contains_xy(geom(text), pts[:, 0], pts[:, 1]).all()

    def test_addresses_are_real_looking_and_unique(self):
        addresses = list(Building.objects.values_list("address", flat=True))
        assert len(set(addresses)) == len(addresses)
        beijing = [a for a in addresses if a.startswith("广州市越秀区北京街道流水井社区")]
        assert beijing and all(re.fullmatch(r"广州市越秀区北京街道流水井社区\d+号楼", a) for a in beijing)
