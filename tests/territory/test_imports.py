"""Grid-layer and building imports (services.imports) and the `huying import` command."""

import copy
import json
import math

import pytest
from django.core.management import call_command
from shapely.geometry import Point, shape

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.territory.models import UNIFIED_LAYER, Building, Division, Grid
from huying.territory.services.imports import MAX_PROBLEMS, buildings_import, grids_import

from .fixtures.synthetic import (
    BOXES,
    STREET,
    A,
    B,
    collection,
    grid_feature,
    load,
    make_territory,
    path,
    shapes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def territory():
    return make_territory()


def expected_area_m2(bounds) -> float:
    """Independent check of the documented approximation for an axis-aligned lng/lat box."""
    x0, y0, x1, y1 = bounds
    lat = math.radians((y0 + y1) / 2)
    return (x1 - x0) * math.cos(lat) * 111_320 * (y1 - y0) * 111_320


# --- grids ----------------------------------------------------------------------------------------


def test_grids_import_stores_the_layer(territory):
    party = load("grids_party.geojson")
    report = grids_import(party, layer="party", source="test")

    assert report | {"warnings": []} == {
        "layer": "party", "source": "test", "features": 3, "created": 3, "updated": 0, "unchanged": 0,
        "kept": 0, "warnings": [], "warnings_total": 0}
    stored = {g.code: g for g in Grid.objects.filter(layer="party")}
    assert set(stored) == set(shapes(party))
    for feature in party["features"]:
        props, grid = feature["properties"], stored[feature["properties"]["code"]]
        geom = shape(feature["geometry"])
        assert grid.name == props["name"] and grid.community.code == props["community"]
        assert not grid.generated
        assert shape(json.loads(grid.geometry)).equals(geom)
        assert geom.contains(Point(grid.lng, grid.lat))
        assert grid.area_m2 == pytest.approx(expected_area_m2(geom.bounds), rel=1e-4)
    entry = AuditEntry.objects.get(action="territory.grids.imported")
    # Both communities lie in one street: the audit row sits on it.
    assert entry.target_id == str(territory[STREET].pk)
    assert entry.data["created"] == 3 and entry.data["layer"] == "party"


def test_grids_reimport_is_idempotent_and_updates_by_code(territory):
    party = load("grids_party.geojson")
    grids_import(party, layer="party")
    ids = dict(Grid.objects.values_list("code", "pk"))

    again = grids_import(party, layer="party")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)

    changed = copy.deepcopy(party)
    changed["features"][1]["properties"]["name"] = "改名后的网格"
    del changed["features"][2]
    report = grids_import(changed, layer="party")
    assert (report["created"], report["updated"], report["unchanged"], report["kept"]) == (0, 1, 1, 1)
    assert dict(Grid.objects.values_list("code", "pk")) == ids
    assert Grid.objects.get(pk=ids[A + "002"]).name == "改名后的网格"
    assert AuditEntry.objects.filter(action="territory.grids.imported").count() == 3


def test_same_codes_in_two_layers_are_separate_grids(territory):
    grids_import(load("grids_party.geojson"), layer="party")
    grids_import(load("grids_party.geojson"), layer="chengguan")
    assert Grid.objects.filter(code=A + "001").count() == 2


def _bowtie(x0, y0):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + 0.002, y0 + 0.002], [x0 + 0.002, y0],
                                                [x0, y0 + 0.002], [x0, y0]]]}


def _set(path_, value):
    def mutate(feature):
        target = feature
        for key in path_[:-1]:
            target = target[key]
        target[path_[-1]] = value
    return mutate


def _drop(key):
    def mutate(feature):
        del feature["properties"][key]
    return mutate


BAD_GRID_FEATURES = {
    "point geometry": (_set(("geometry",), {"type": "Point", "coordinates": [113.262, 23.122]}),
                       A + "002", "几何类型应为 Polygon 或 MultiPolygon"),
    "self-intersection": (_set(("geometry",), _bowtie(113.265, 23.12)), A + "002", "Self-intersection"),
    "latitude out of range": (_set(("geometry", "coordinates", 0, 1), [113.27, 123.12]), A + "002", "超出经纬度范围"),
    "coordinate not a number": (_set(("geometry", "coordinates", 0, 1), ["113.27", 23.12]), A + "002", "数字"),
    "ring too short": (_set(("geometry", "coordinates"), [[[113.265, 23.12], [113.27, 23.12], [113.265, 23.12]]]),
                       A + "002", "几何无效：Too few points"),
    "ring of two points": (_set(("geometry", "coordinates"), [[[113.265, 23.12], [113.27, 23.12]]]),
                           A + "002", "无法读取几何"),
    "missing geometry": (_set(("geometry",), None), A + "002", "缺少几何"),
    "unknown community": (_set(("properties", "community"), "440104001009"), A + "002", "440104001009 不存在"),
    "community is a street": (_set(("properties", "community"), STREET), A + "002", "应为社区/村"),
    "missing community": (_drop("community"), A + "002", "缺少所属社区代码"),
    "missing name": (_set(("properties", "name"), "  "), A + "002", "缺少网格名称"),
    "duplicate code": (_set(("properties", "code"), A + "001"), A + "001", "与 features[0] 重复"),
    "code outside its community": (_set(("properties", "code"), B + "005"), B + "005",
                                   "应以所属社区代码 440104001001 开头"),
    "not a feature": (_set(("type",), "Geometry"), "", "应为 GeoJSON Feature"),
}


@pytest.mark.parametrize("case", list(BAD_GRID_FEATURES))
def test_grids_import_refuses_a_bad_feature_and_loads_nothing(territory, case):
    mutate, code, words = BAD_GRID_FEATURES[case]
    party = load("grids_party.geojson")
    mutate(party["features"][1])
    with pytest.raises(DomainError) as err:
        grids_import(party, layer="party")
    label = f"features[1] (编码 {code})" if code else "features[1]"
    line = next(line for line in err.value.message.splitlines() if line.startswith(label))
    assert words in line
    assert err.value.code == "territory.grids.invalid"
    assert Grid.objects.count() == 0
    assert not AuditEntry.objects.exists()


def test_missing_code_names_the_feature_by_position(territory):
    party = load("grids_party.geojson")
    del party["features"][2]["properties"]["code"]
    with pytest.raises(DomainError) as err:
        grids_import(party, layer="party")
    assert "features[2]: 缺少网格编码" in err.value.message


def test_a_bad_reimport_leaves_the_stored_layer_untouched(territory):
    party = load("grids_party.geojson")
    grids_import(party, layer="party")
    before = list(Grid.objects.values_list("code", "name", "geometry"))
    changed = copy.deepcopy(party)
    changed["features"][0]["properties"]["name"] = "新名字"
    changed["features"].append(grid_feature(A + "003", "新网格", A, (113.26, 23.12, 113.261, 23.121)))
    changed["features"][1]["geometry"] = _bowtie(113.265, 23.12)
    with pytest.raises(DomainError):
        grids_import(changed, layer="party")
    assert list(Grid.objects.values_list("code", "name", "geometry")) == before


def test_many_problems_are_reported_together_up_to_the_cap(territory):
    features = [grid_feature(f"{A}{n:03d}", f"网格{n}", "440104001099", (113.26, 23.12, 113.261, 23.121))
                for n in range(1, MAX_PROBLEMS + 6)]
    with pytest.raises(DomainError) as err:
        grids_import(collection(features), layer="party")
    lines = err.value.message.splitlines()
    assert f"有 {MAX_PROBLEMS + 5} 处问题" in lines[0]
    assert sum(1 for line in lines if "440104001099 不存在" in line) == MAX_PROBLEMS
    assert "另有 5 处问题" in lines[-1]
    assert err.value.details["total"] == MAX_PROBLEMS + 5


@pytest.mark.parametrize("geojson, words", [
    ([], "GeoJSON 对象"),
    ({"type": "Feature", "features": []}, "应为 FeatureCollection"),
    ({"type": "FeatureCollection"}, "缺少 features"),
    ({"type": "FeatureCollection", "features": []}, "没有要素"),
])
def test_grids_import_refuses_a_file_of_the_wrong_shape(territory, geojson, words):
    with pytest.raises(DomainError) as err:
        grids_import(geojson, layer="party")
    assert words in err.value.message


@pytest.mark.parametrize("layer", ["Party", "1party", "party layer", "", "x" * 33, None])
def test_layer_names_are_slugs(territory, layer):
    with pytest.raises(DomainError) as err:
        grids_import(load("grids_party.geojson"), layer=layer)
    assert err.value.code == "territory.layer.invalid"


def test_unified_layer_only_when_explicitly_allowed(territory):
    with pytest.raises(DomainError) as err:
        grids_import(load("grids_party.geojson"), layer=UNIFIED_LAYER)
    assert err.value.code == "territory.layer.unified"
    assert grids_import(load("grids_party.geojson"), layer=UNIFIED_LAYER, allow_unified=True)["created"] == 3
    assert Grid.objects.filter(layer=UNIFIED_LAYER).count() == 3


def test_grid_outside_its_community_boundary_is_a_warning(territory):
    features = [grid_feature(A + "001", "越界网格", A, (113.275, 23.12, 113.276, 23.121))]
    report = grids_import(collection(features), layer="party")
    assert report["created"] == 1
    assert report["warnings_total"] == 1 and f"features[0] (编码 {A}001)" in report["warnings"][0]


# --- buildings ------------------------------------------------------------------------------------

B_NORTH = (113.27, 23.126, 113.28, 23.13)


@pytest.fixture
def unified(territory):
    """A unified layer: the party grids plus one grid on the north of community B."""
    layer = load("grids_party.geojson")
    layer["features"].append(grid_feature(B + "601", "二社区北片", B, B_NORTH))
    grids_import(layer, layer=UNIFIED_LAYER, allow_unified=True)
    return shapes(layer)


def _containing(grid_shapes: dict, lng: float, lat: float) -> str:
    codes = sorted(code for code, geom in grid_shapes.items() if geom.covers(Point(lng, lat)))
    assert codes, (lng, lat)
    return codes[0]


def test_buildings_are_placed_on_the_grid_containing_them(unified):
    data = load("buildings.geojson")
    report = buildings_import(data)
    assert (report["features"], report["created"], report["updated"], report["unchanged"]) == (5, 5, 0, 0)
    assert report["households"] == sum(f["properties"]["households"] for f in data["features"])
    per_grid: dict[str, int] = {}
    for feature in data["features"]:
        lng, lat = feature["geometry"]["coordinates"]
        building = Building.objects.get(address=feature["properties"]["address"])
        grid_code = _containing(unified, lng, lat)
        assert building.grid.code == grid_code and building.grid.layer == UNIFIED_LAYER
        assert building.households == feature["properties"]["households"]
        if "code" in feature["properties"]:
            assert building.code == feature["properties"]["code"]
        else:
            per_grid[grid_code] = per_grid.get(grid_code, 0) + 1
            assert building.code == f"{grid_code}{per_grid[grid_code]:03d}"
    entry = AuditEntry.objects.get(action="territory.buildings.imported")
    assert entry.data["created"] == 5


def test_building_codes_continue_the_grids_existing_sequence(unified):
    grid = Grid.objects.get(layer=UNIFIED_LAYER, code=A + "001")
    Building.objects.create(code=grid.code + "007", grid=grid, address="已有楼栋", lng=113.261, lat=23.121)
    point = {"type": "Feature", "properties": {"address": "新楼栋", "households": 3},
             "geometry": {"type": "Point", "coordinates": [113.262, 23.125]}}
    buildings_import(collection([point]))
    assert Building.objects.get(address="新楼栋").code == grid.code + "008"


def test_buildings_reimport_is_idempotent(unified):
    data = load("buildings.geojson")
    buildings_import(data)
    codes = sorted(Building.objects.values_list("code", flat=True))
    again = buildings_import(data)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert sorted(Building.objects.values_list("code", flat=True)) == codes
    data["features"][0]["properties"]["households"] = 99
    assert buildings_import(data)["updated"] == 1
    assert Building.objects.get(address=data["features"][0]["properties"]["address"]).households == 99


def test_point_on_a_shared_edge_goes_to_the_lower_code(unified):
    point = {"type": "Feature", "properties": {"address": "边界上", "households": 1},
             "geometry": {"type": "Point", "coordinates": [113.265, 23.125]}}
    buildings_import(collection([point]))
    assert Building.objects.get().grid.code == A + "001"


def test_a_building_outside_every_grid_is_refused_and_nothing_loads(territory):
    grids_import(load("grids_party.geojson"), layer=UNIFIED_LAYER, allow_unified=True)
    with pytest.raises(DomainError) as err:
        buildings_import(load("buildings.geojson"))
    assert "features[3] (地址 二社区北街1号): 不在任何统一网格内" in err.value.message
    assert Building.objects.count() == 0


@pytest.mark.parametrize("props, words", [
    ({"address": "x", "households": -1}, "非负整数"),
    ({"address": "x", "households": "很多"}, "非负整数"),
    ({"address": "x", "households": True}, "非负整数"),
    ({"address": "x"}, "非负整数"),
    ({"households": 3}, "缺少地址"),
    ({"address": "x", "households": 3, "code": "B-SOUTH-0001"}, "与 features[4] 重复"),
])
def test_buildings_import_refuses_bad_properties(unified, props, words):
    data = load("buildings.geojson")
    data["features"].append({"type": "Feature", "properties": props,
                             "geometry": {"type": "Point", "coordinates": [113.262, 23.123]}})
    with pytest.raises(DomainError) as err:
        buildings_import(data)
    assert any(line.startswith("features[5]") and words in line for line in err.value.message.splitlines())
    assert Building.objects.count() == 0


def test_buildings_need_point_geometry(unified):
    data = load("buildings.geojson")
    data["features"][2]["geometry"] = {"type": "Polygon", "coordinates": [[[113.26, 23.12], [113.261, 23.12],
                                                                           [113.261, 23.121], [113.26, 23.12]]]}
    with pytest.raises(DomainError) as err:
        buildings_import(data)
    assert "features[2] (地址 一社区东街1号): 几何类型应为 Point" in err.value.message


def test_same_address_twice_in_one_grid_without_codes_is_ambiguous(unified):
    data = load("buildings.geojson")
    data["features"][1]["properties"]["address"] = data["features"][0]["properties"]["address"]
    with pytest.raises(DomainError) as err:
        buildings_import(data)
    assert "features[1]" in err.value.message and "与 features[0] 重复" in err.value.message


def test_buildings_need_a_unified_layer(territory):
    with pytest.raises(DomainError) as err:
        buildings_import(load("buildings.geojson"))
    assert err.value.code == "territory.buildings.no_grids"


# --- the command ----------------------------------------------------------------------------------


def run(*args):
    """call_command, returning (exit status, stdout, stderr)."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_data", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def test_command_imports_grids_and_buildings(territory):
    status, out, _ = run("grids", path("grids_party.geojson"), "--layer", "party")
    assert status == 0 and "新增 3" in out
    assert Grid.objects.filter(layer="party").count() == 3

    status, out, _ = run("grids", path("grids_party.geojson"), "--layer", "party", "--json")
    assert status == 0 and json.loads(out)["unchanged"] == 3

    layer = load("grids_party.geojson")
    layer["features"].append(grid_feature(B + "601", "二社区北片", B, B_NORTH))
    grids_import(layer, layer=UNIFIED_LAYER, allow_unified=True)
    status, out, _ = run("buildings", path("buildings.geojson"))
    assert status == 0 and "新增 5" in out
    assert Building.objects.count() == 5


def test_command_refuses_a_file_that_is_not_json(territory):
    status, out, err = run("grids", path("not_json.geojson"), "--layer", "party")
    assert status == 2 and "不是有效的 JSON" in err and "第 2 行" in err
    assert Grid.objects.count() == 0


def test_command_refuses_a_missing_file(territory, tmp_path):
    status, _, err = run("grids", str(tmp_path / "nothing.geojson"), "--layer", "party")
    assert status == 2 and "无法读取文件" in err


def test_command_names_the_bad_feature(territory, tmp_path):
    party = load("grids_party.geojson")
    party["features"][2]["geometry"] = _bowtie(113.27, 23.12)
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(party), encoding="utf-8")
    status, _, err = run("grids", str(bad), "--layer", "party")
    assert status == 2 and f"features[2] (编码 {B}001): 几何无效" in err
    assert Grid.objects.count() == 0


def test_command_refuses_a_wrong_shape(territory, tmp_path):
    bad = tmp_path / "list.geojson"
    bad.write_text("[1, 2]", encoding="utf-8")
    status, _, err = run("buildings", str(bad))
    assert status == 2 and "FeatureCollection" in err


def test_command_imports_divisions_with_boundaries():
    status, out, err = run("divisions", path("divisions.json"), "--boundaries", path("boundaries.geojson"))
    assert status == 0, err
    community = Division.objects.get(code=A)
    assert shape(json.loads(community.geometry)).equals(shape(load("boundaries.geojson")["features"][0]["geometry"]))
    assert set(Division.objects.values_list("code", flat=True)) >= {"440100", "440104", STREET, A, B}
    assert BOXES[B] == shape(json.loads(Division.objects.get(code=B).geometry)).bounds


def test_command_loads_no_divisions_when_the_boundaries_fail(tmp_path):
    boundaries = load("boundaries.geojson")
    boundaries["features"][1]["properties"]["code"] = "440104001077"
    bad = tmp_path / "boundaries.geojson"
    bad.write_text(json.dumps(boundaries), encoding="utf-8")
    status, _, err = run("divisions", path("divisions.json"), "--boundaries", str(bad))
    assert status == 2 and "440104001077" in err
    assert not Division.objects.exists()

    status, _, err = run("divisions", path("divisions.json"), "--boundaries", path("not_json.geojson"))
    assert status == 2 and "不是有效的 JSON" in err
    assert not Division.objects.exists()
