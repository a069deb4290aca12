"""Any city: load Shenzhen instead of Guangzhou and the locator, rollups and Open311 follow what is loaded."""

import json
from datetime import UTC, datetime

import pytest
from shapely.geometry import box, mapping

from huying.dispatch.open311 import selectors as open311_selectors
from huying.insight import rollups
from huying.territory import locator
from huying.territory.provinces import PROVINCES, province_of, province_short_name
from huying.territory.services import boundaries_import, divisions_import

# Real names; the street codes follow the 统计用区划代码 pattern and are illustrative.
SHENZHEN = {
    "city": {"code": "440300", "name": "深圳市"},
    "districts": [
        {"code": "440303", "name": "罗湖区", "streets": [
            {"code": "440303001", "name": "桂园街道"}, {"code": "440303003", "name": "东门街道"}]},
        {"code": "440304", "name": "福田区", "streets": [
            {"code": "440304006", "name": "华富街道"}, {"code": "440304008", "name": "莲花街道"}]},
        {"code": "440305", "name": "南山区", "streets": [
            {"code": "440305003", "name": "粤海街道"}, {"code": "440305005", "name": "蛇口街道"}]},
    ],
}
# Approximate boxes around each district's real extent (WGS-84 lng/lat), for the test only.
SHENZHEN_BOXES = {
    "440303": box(114.10, 22.53, 114.22, 22.62),  # 罗湖区
    "440304": box(113.99, 22.50, 114.10, 22.59),  # 福田区
    "440305": box(113.85, 22.45, 113.99, 22.62),  # 南山区
}
GUANGZHOU = {
    "city": {"code": "440100", "name": "广州市"},
    "districts": [{"code": "440104", "name": "越秀区", "streets": [
        {"code": "440104001", "name": "洪桥街道"}, {"code": "440104003", "name": "北京街道"}]}],
}
GUANGZHOU_BOXES = {"440104": box(113.23, 23.10, 113.31, 23.15)}  # 越秀区, approximate
CIVIC_CENTRE = (114.0579, 22.5431)  # 深圳市民中心, in 福田区


def _load(divisions: dict, boxes: dict) -> None:
    divisions_import(divisions)
    boundaries_import({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code}, "geometry": json.loads(json.dumps(mapping(geom)))}
        for code, geom in boxes.items()]})
    locator.invalidate()


@pytest.fixture
def fresh():
    locator.invalidate()
    rollups.reset_caches()
    yield
    locator.invalidate()
    rollups.reset_caches()


@pytest.fixture
def shenzhen(db, fresh):
    _load(SHENZHEN, SHENZHEN_BOXES)


@pytest.fixture
def guangzhou(db, fresh):
    _load(GUANGZHOU, GUANGZHOU_BOXES)


def _district(text: str) -> str | None:
    match = locator.locate_address(text)
    return match.location.district.name if match.found and match.location.district else None


def test_province_table():
    assert len(PROVINCES) == 34
    assert province_of("440304") == "广东省" and province_of("110101") == "北京市" and province_of("990000") is None
    assert [province_short_name(n) for n in ("广东省", "广西壮族自治区", "新疆维吾尔自治区", "香港特别行政区", "北京市")] \
        == ["广东", "广西", "新疆", "香港", "北京"]


@pytest.mark.parametrize(("text", "district"), [
    ("深圳市福田区福华路1号", "福田区"),
    ("广东省深圳市福田区福华路1号", "福田区"),  # our own province and city are a prefix, not a place outside
    ("广东深圳南山区粤海街道", "南山区"),
    ("罗湖区东门街道", "罗湖区"),
    ("蛇口街道", "南山区"),
])
def test_shenzhen_addresses_inside(shenzhen, text, district):
    match = locator.locate_address(text)
    assert not match.outside and match.found and match.location.district.name == district


def test_shenzhen_street_is_located(shenzhen):
    loc = locator.locate_address("深圳市福田区华富街道").location
    assert (loc.district.code, loc.street.code, loc.street.name) == ("440304", "440304006", "华富街道")


@pytest.mark.parametrize("text", [
    "广州市越秀区北京路1号", "广东省广州市越秀区北京街道", "北京市东城区景山前街4号", "湖南省长沙市岳麓区",
    "长沙市岳麓区麓山路", "东莞市南城街道", "香港中环",
])
def test_outside_shenzhen(shenzhen, text):
    match = locator.locate_address(text)
    assert match.outside and not match.found


def test_point_in_futian(shenzhen):
    loc = locator.locate_point(*CIVIC_CENTRE)
    assert loc.district.code == "440304" and loc.district.name == "福田区" and loc.grid is None
    assert locator.locate_point(113.90, 22.53).district.name == "南山区"
    assert locator.locate_point(113.2644, 23.1291) is None  # 广州市人民政府


@pytest.mark.parametrize("text", [
    "深圳市福田区福华路1号", "广东省深圳市福田区", "佛山市禅城区", "江门市蓬江区", "盐城市亭湖区", "成都市武侯区",
    "上海市黄浦区", "湖南省长沙市",
])
def test_outside_guangzhou(guangzhou, text):
    match = locator.locate_address(text)
    assert match.outside and not match.found


@pytest.mark.parametrize(("text", "district"), [
    ("广州市越秀区北京路1号", "越秀区"),
    ("广东省广州市越秀区洪桥街道", "越秀区"),
    ("越秀区北京市场", "越秀区"),  # 市场 is a market, not 北京市
])
def test_guangzhou_addresses_inside(guangzhou, text, district):
    assert _district(text) == district


@pytest.mark.parametrize("text", ["万家超市门口", "在本市越秀路", "东山门市部"])
def test_words_ending_in_shi_are_no_city(guangzhou, text):
    assert not locator.locate_address(text).outside


def test_two_cities_loaded_are_both_ours(db, fresh):
    _load(GUANGZHOU, GUANGZHOU_BOXES)
    _load(SHENZHEN, SHENZHEN_BOXES)
    assert _district("深圳市福田区福华路1号") == "福田区"
    assert _district("广州市越秀区北京路1号") == "越秀区"
    assert locator.locate_address("佛山市禅城区").outside


def test_no_city_loaded(db, fresh, settings):
    """Nothing loaded: every province and every city is elsewhere; rollups and Open311 name no city."""
    assert locator.locate_address("广东省深圳市福田区").outside
    assert locator.locate_address("深圳市福田区福华路1号").outside
    assert rollups.city_code() == ""
    settings.HUYING_OPEN311_CONTACT = None  # the app's default: the loaded city's hotline
    assert open311_selectors._hotline_contact() == "12345 政务服务便民热线"
    # Loading a city later is picked up: "no city" was not remembered.
    _load(SHENZHEN, SHENZHEN_BOXES)
    assert rollups.city_code() == "440300"


def test_rollups_and_open311_follow_the_loaded_city(shenzhen, settings):
    assert rollups.city_code() == "440300"
    assert [(c, p) for c, _level, p in rollups.ancestors("440304006")] == [
        ("440300", ""), ("440304", "440300"), ("440304006", "440304")]
    settings.HUYING_OPEN311_CONTACT = None  # the app's default: the loaded city's hotline
    doc = open311_selectors.discovery("http://testserver/open311/v2/", changeset=datetime(2026, 1, 1, tzinfo=UTC))
    assert doc["contact"] == "深圳市 12345 政务服务便民热线"


def test_generated_grids_in_shenzhen_are_located(shenzhen):
    from huying.territory.models import UNIFIED_LAYER, Building, Grid
    from huying.territory.services import grids_generate

    grids_generate(districts=["440304"], grids_target=40)
    locator.invalidate()
    assert Grid.objects.filter(layer=UNIFIED_LAYER, code__startswith="440304").exists()
    loc = locator.locate_point(*CIVIC_CENTRE)
    assert loc.district.name == "福田区" and loc.grid is not None and loc.grid.code.startswith("440304")
    building = Building.objects.filter(grid__code__startswith="440304").order_by("code").first()
    assert building.address.startswith("深圳市福田区")
    match = locator.locate_address(building.address)
    assert match.found and not match.outside and match.location.grid_id == building.grid_id


def test_a_city_loaded_without_its_point_is_centred_on_its_districts(shenzhen):
    from huying.territory.models import Division, Level
    from huying.territory.services.generate import CITY_CENTRE, _city_centre

    city = Division.objects.get(level=Level.CITY)
    assert city.lng is None  # SHENZHEN above gives the city no point
    lng, lat = _city_centre(city, Division.objects.filter(level=Level.DISTRICT))
    assert 113.85 < lng < 114.22 and 22.45 < lat < 22.62  # inside the three districts' extent
    assert (lng, lat) != CITY_CENTRE
    city.lng, city.lat = 114.0579, 22.5431
    assert _city_centre(city, []) == (114.0579, 22.5431)  # the city's own point first


def test_guangzhou_loaded_without_its_point_keeps_the_shipped_centre(guangzhou):
    from huying.territory.models import Division, Level
    from huying.territory.services.generate import CITY_CENTRE, _city_centre

    city = Division.objects.get(level=Level.CITY)
    assert city.lng is None
    assert _city_centre(city, Division.objects.filter(level=Level.DISTRICT)) == CITY_CENTRE  # inside 越秀


def test_an_overlay_left_with_lines_and_points_gives_its_polygons_only():
    import shapely

    from huying.territory.services.generate import _polygons_of

    square = shapely.box(0, 0, 1, 1)
    mixed = shapely.GeometryCollection([square, shapely.LineString([(2, 2), (3, 3)]), shapely.Point(5, 5),
                                        shapely.MultiPolygon([shapely.box(4, 4, 5, 5)])])
    assert [p.bounds for p in _polygons_of(mixed)] == [square.bounds, (4.0, 4.0, 5.0, 5.0)]
    assert _polygons_of(shapely.LineString([(0, 0), (1, 1)])) == []
