"""Names, addresses and codes read from import files are cleaned like residents' text: NUL, lone
surrogates and over-long values are problems naming the feature; invisible characters are dropped."""

import pytest

from huying.core.errors import DomainError
from huying.territory.models import UNIFIED_LAYER, Building, Grid
from huying.territory.services.imports import buildings_import, check_layer, grids_import

from .fixtures.synthetic import B, grid_feature, load, make_territory
from .test_imports import B_NORTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def territory():
    return make_territory()


@pytest.fixture
def unified(territory):
    layer = load("grids_party.geojson")
    layer["features"].append(grid_feature(B + "601", "二社区北片", B, B_NORTH))
    grids_import(layer, layer=UNIFIED_LAYER, allow_unified=True)


def _problem_lines(exc) -> list[str]:
    return exc.value.message.splitlines()[1:]


@pytest.mark.parametrize(("props", "words"), [
    ({"name": "一\x00片"}, "无法保存的字符"),
    ({"name": "片\ud800"}, "无法保存的字符"),
    ({"name": "片" * 101}, "100"),
    ({"code": "44\x00"}, "无法保存的字符"),
    ({"community": "\x00"}, "无法保存的字符"),
])
def test_grid_file_text_that_cannot_be_stored_names_the_feature(territory, props, words):
    layer = load("grids_party.geojson")
    layer["features"][1]["properties"].update(props)
    with pytest.raises(DomainError) as exc:
        grids_import(layer, layer="party")
    lines = _problem_lines(exc)
    assert all(line.startswith("features[1]") for line in lines) and words in lines[0], lines
    assert Grid.objects.filter(layer="party").count() == 0


def test_grid_names_are_cleaned(territory):
    layer = load("grids_party.geojson")
    code = layer["features"][0]["properties"]["code"]
    layer["features"][0]["properties"]["name"] = "\u202e一社区\u200b南片\x07 "
    grids_import(layer, layer="party")
    assert Grid.objects.get(layer="party", code=code).name == "一社区南片"


@pytest.mark.parametrize(("props", "words"), [
    ({"address": "路\x00", "households": 3}, "无法保存的字符"),
    ({"address": "路" * 256, "households": 3}, "255"),
    ({"address": "路", "households": 3, "code": "B\ud800"}, "无法保存的字符"),
])
def test_building_file_text_that_cannot_be_stored_names_the_feature(unified, props, words):
    data = load("buildings.geojson")
    data["features"].append({"type": "Feature", "properties": props,
                             "geometry": {"type": "Point", "coordinates": [113.262, 23.123]}})
    with pytest.raises(DomainError) as exc:
        buildings_import(data)
    lines = _problem_lines(exc)
    assert any(line.startswith("features[5]") and words in line for line in lines), lines
    assert Building.objects.count() == 0


def test_building_addresses_are_cleaned(unified):
    data = load("buildings.geojson")
    data["features"][0]["properties"]["address"] = "仓边路\u200d１２号\x1b"
    buildings_import(data)
    assert Building.objects.filter(address="仓边路12号").exists()


def test_a_layer_name_with_a_trailing_newline_is_refused():
    with pytest.raises(DomainError):
        check_layer("party\n")
