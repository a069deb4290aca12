"""多网合一 (services.merge.grids_merge) and `huying grids merge`.

Expected geometry, crosswalk shares, gaps and overlaps are computed here from the fixture shapes
with plain shapely (areas in square degrees; within a 0.01° square the cos(lat) weighting of the
service's metric areas changes a share by less than 1e-4).
"""

import io
import json

import pytest
from django.core.management import call_command
from shapely.geometry import box, shape

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.people.models import Unit, UnitKind
from huying.territory.models import UNIFIED_LAYER, Building, Grid, GridCrosswalk
from huying.territory.services.imports import buildings_import, grids_import
from huying.territory.services.merge import grids_merge

from .fixtures.synthetic import (
    BOXES,
    STREET,
    A,
    B,
    collection,
    grid_feature,
    load,
    make_territory,
    polygon,
    shapes,
)

pytestmark = pytest.mark.django_db
SHARE_TOL = 1e-4


@pytest.fixture
def territory():
    return make_territory()


@pytest.fixture
def layers(territory):
    party, zongzhi = load("grids_party.geojson"), load("grids_zongzhi.geojson")
    grids_import(party, layer="party")
    grids_import(zongzhi, layer="zongzhi")
    return {"party": shapes(party), "zongzhi": shapes(zongzhi)}


def stored_unified() -> dict:
    return {g.code: shape(json.loads(g.geometry)) for g in Grid.objects.filter(layer=UNIFIED_LAYER)}


def assert_same_shape(got, want):
    assert got.symmetric_difference(want).area <= 1e-6 * want.area, (got.wkt, want.wkt)


def expected_crosswalk(sources: dict, unified: dict) -> dict:
    out = {}
    for layer, grids in sources.items():
        for code, geom in grids.items():
            for target, ugeom in unified.items():
                share = geom.intersection(ugeom).area / geom.area
                if share > 1e-9:
                    out[(layer, code, target)] = share
    return out


def stored_crosswalk() -> dict:
    return {(c.source.layer, c.source.code, c.target.code): c.share
            for c in GridCrosswalk.objects.select_related("source", "target")}


def assert_crosswalk(want: dict):
    got = stored_crosswalk()
    assert set(got) == set(want)
    for key, share in want.items():
        assert got[key] == pytest.approx(share, abs=SHARE_TOL), key


def test_merge_of_two_layers(territory, layers):
    party, zongzhi = layers["party"], layers["zongzhi"]
    report = grids_merge(["party", "zongzhi"])

    # Base grids stay as they are; the north of B, which only 综治 covers, becomes grid 601.
    want = {**party, B + "601": zongzhi[B + "011"].difference(party[B + "001"])}
    got = stored_unified()
    assert set(got) == set(want)
    for code, geom in want.items():
        assert_same_shape(got[code], geom)
    new = Grid.objects.get(layer=UNIFIED_LAYER, code=B + "601")
    assert new.community.code == B and not new.generated
    assert want[B + "601"].contains(shape({"type": "Point", "coordinates": [new.lng, new.lat]}))

    want_cw = expected_crosswalk(layers, want)
    assert_crosswalk(want_cw)
    # A source grid fully covered by the unified layer spreads exactly all of its area.
    for layer, grids in layers.items():
        for code in grids:
            total = sum(s for (lyr, src, _), s in stored_crosswalk().items() if (lyr, src) == (layer, code))
            assert total == pytest.approx(1.0, abs=SHARE_TOL)
    assert report["crosswalk"] == len(want_cw)

    u = report["unified"]
    assert (u["from_base"], u["added"], u["absorbed"], u["dropped"], u["total"]) == (3, 1, 0, 0, 4)
    assert (u["created"], u["updated"], u["deleted"]) == (4, 0, 0)
    b_gap = box(*BOXES[B]).difference(party[B + "001"]).area / box(*BOXES[B]).area
    [gap] = report["layers"]["party"]["gaps"]
    assert (gap["community"], gap["reference"]) == (B, "boundary")
    assert gap["share"] == pytest.approx(b_gap, abs=SHARE_TOL)
    assert report["layers"]["zongzhi"]["gaps"] == []
    assert report["layers"]["party"]["overlaps"] == report["layers"]["zongzhi"]["overlaps"] == []
    entry = AuditEntry.objects.get(action="territory.grids.merged")
    assert entry.target_id == str(territory[STREET].pk)
    assert entry.data["layers"] == ["party", "zongzhi"] and entry.data["created"] == 4


def test_merge_order_decides_the_base(layers):
    grids_merge(["zongzhi", "party"])
    # 综治 covers everything, so 党建 adds nothing and the unified layer is 综治's.
    got = stored_unified()
    assert set(got) == set(layers["zongzhi"])
    assert_crosswalk(expected_crosswalk(layers, layers["zongzhi"]))


def test_remerge_changes_nothing_and_needs_no_replace(layers):
    first = grids_merge(["party", "zongzhi"])
    ids = dict(Grid.objects.filter(layer=UNIFIED_LAYER).values_list("code", "pk"))
    rows = stored_crosswalk()
    second = grids_merge(["party", "zongzhi"])
    assert (second["unified"]["created"], second["unified"]["updated"], second["unified"]["unchanged"]) == (0, 0, 4)
    assert dict(Grid.objects.filter(layer=UNIFIED_LAYER).values_list("code", "pk")) == ids
    assert stored_crosswalk() == rows
    assert second["layers"] == first["layers"]


def test_overlaps_and_gaps_are_reported(territory):
    low, high = (113.26, 23.12, 113.266, 23.13), (113.264, 23.12, 113.27, 23.126)
    grids_import(collection([grid_feature(A + "001", "甲", A, low), grid_feature(A + "002", "乙", A, high)]),
                 layer="ov")
    report = grids_merge(["ov"])
    info = report["layers"]["ov"]
    overlap = box(*low).intersection(box(*high)).area / min(box(*low).area, box(*high).area)
    [o] = info["overlaps"]
    assert o["codes"] == [A + "001", A + "002"] and o["share"] == pytest.approx(overlap, abs=SHARE_TOL)
    a_gap = box(*BOXES[A]).difference(box(*low).union(box(*high))).area / box(*BOXES[A]).area
    assert [(g["community"], g["share"]) for g in info["gaps"]] == [(A, pytest.approx(a_gap, abs=SHARE_TOL))]
    # In the unified layer the lower code keeps the overlap.
    got = stored_unified()
    assert_same_shape(got[A + "001"], box(*low))
    assert_same_shape(got[A + "002"], box(*high).difference(box(*low)))

    quiet = grids_merge(["ov"], tolerance=overlap + 0.01)
    assert quiet["layers"]["ov"]["overlaps"] == []
    assert quiet["layers"]["ov"]["gaps"] == ([] if a_gap <= overlap + 0.01 else quiet["layers"]["ov"]["gaps"])


def test_a_layer_missing_a_whole_community_has_a_full_gap(territory):
    grids_import(collection([grid_feature(A + "001", "甲", A, BOXES[A])]), layer="base")
    grids_import(collection([grid_feature(B + "001", "乙", B, BOXES[B])]), layer="other")
    report = grids_merge(["base", "other"])
    assert [(g["community"], g["share"]) for g in report["layers"]["base"]["gaps"]] == [(B, 1.0)]
    assert [(g["community"], g["share"]) for g in report["layers"]["other"]["gaps"]] == [(A, 1.0)]
    assert set(stored_unified()) == {A + "001", B + "601"}


def test_without_boundaries_the_gap_reference_is_the_union_of_layers():
    make_territory(boundaries=False)
    party, zongzhi = load("grids_party.geojson"), load("grids_zongzhi.geojson")
    grids_import(party, layer="party")
    grids_import(zongzhi, layer="zongzhi")
    report = grids_merge(["party", "zongzhi"])
    reference = shapes(zongzhi)[B + "011"].union(shapes(party)[B + "001"])
    [gap] = report["layers"]["party"]["gaps"]
    assert gap["reference"] == "layers"
    assert gap["share"] == pytest.approx(reference.difference(shapes(party)[B + "001"]).area / reference.area,
                                         abs=SHARE_TOL)


def test_a_sliver_is_absorbed_by_the_neighbour_with_the_longest_edge(layers):
    thin = (113.26, 23.11998, 113.268, 23.125)
    grids_import(collection([grid_feature(A + "021", "薄片", A, thin)]), layer="thin")
    report = grids_merge(["party", "thin"])
    sliver = box(*thin).difference(box(*BOXES[A]))
    assert sliver.area / box(*thin).area < 0.01
    assert (report["unified"]["absorbed"], report["unified"]["added"]) == (1, 0)
    want = {**layers["party"], A + "001": layers["party"][A + "001"].union(sliver)}
    got = stored_unified()
    assert set(got) == set(want)
    for code, geom in want.items():
        assert_same_shape(got[code], geom)
    assert_crosswalk(expected_crosswalk({"party": layers["party"], "thin": shapes(
        collection([grid_feature(A + "021", "薄片", A, thin)]))}, want))

    # With no tolerance the same sliver is a grid of its own.
    report = grids_merge(["party", "thin"], tolerance=0)
    assert (report["unified"]["absorbed"], report["unified"]["added"]) == (0, 1)
    assert_same_shape(stored_unified()[A + "601"], sliver)


def test_a_sliver_with_no_neighbour_in_its_community_is_dropped(territory):
    wide = (113.26, 23.12, 113.27995, 23.13)
    grids_import(collection([grid_feature(A + "001", "宽", A, wide)]), layer="base")
    grids_import(collection([grid_feature(B + "001", "乙", B, BOXES[B])]), layer="other")
    report = grids_merge(["base", "other"])
    dropped = box(*BOXES[B]).difference(box(*wide))
    assert report["unified"]["dropped"] == 1
    assert report["unified"]["dropped_m2"] > 0
    assert set(stored_unified()) == {A + "001"}
    [(key, share)] = [(k, s) for k, s in stored_crosswalk().items() if k[0] == "other"]
    assert key == ("other", B + "001", A + "001")
    assert share == pytest.approx(1 - dropped.area / box(*BOXES[B]).area, abs=SHARE_TOL)


def test_an_imported_unified_layer_is_replaced_only_when_asked(layers):
    grids_import(load("grids_party.geojson"), layer=UNIFIED_LAYER, allow_unified=True)
    with pytest.raises(DomainError) as err:
        grids_merge(["zongzhi"])
    assert err.value.code == "territory.merge.unified_exists" and A + "001" in err.value.message
    assert set(stored_unified()) == set(layers["party"])
    assert not GridCrosswalk.objects.exists()

    buildings = load("buildings.geojson")
    buildings["features"] = [f for f in buildings["features"] if f["properties"]["address"] != "二社区北街1号"]
    buildings_import(buildings)
    codes = set(Building.objects.values_list("code", flat=True))
    report = grids_merge(["zongzhi"], replace=True)
    assert set(stored_unified()) == set(layers["zongzhi"])
    assert report["unified"]["deleted"] == 3 and report["unified"]["buildings_moved"] == 4
    for building in Building.objects.select_related("grid"):
        assert layers["zongzhi"][building.grid.code].covers(shape({"type": "Point",
                                                                    "coordinates": [building.lng, building.lat]}))
    assert set(Building.objects.values_list("code", flat=True)) == codes


def test_a_generated_unified_layer_is_replaced_freely(territory, layers):
    Grid.objects.create(layer=UNIFIED_LAYER, code=A + "901", name="生成", community=territory[A],
                        geometry=json.dumps(polygon(BOXES[A])), lng=113.265, lat=23.125, generated=True)
    report = grids_merge(["party", "zongzhi"])
    assert report["unified"]["deleted"] == 1
    assert A + "901" not in stored_unified()


def test_a_grid_still_used_by_a_unit_blocks_the_merge(layers):
    grids_merge(["party", "zongzhi"])
    station = Grid.objects.get(layer=UNIFIED_LAYER, code=B + "601")
    Unit.objects.create(code="GS-1", name="网格工作站", kind=UnitKind.TERRITORIAL, grid=station)
    with pytest.raises(DomainError) as err:
        grids_merge(["zongzhi", "party"])
    assert err.value.code == "territory.merge.grid_in_use" and B + "601" in err.value.message
    assert Grid.objects.filter(pk=station.pk).exists()
    assert set(stored_unified()) == {*layers["party"], B + "601"}


@pytest.mark.parametrize("args, kwargs, code", [
    ([], {}, "territory.merge.layers"),
    (["party", "party"], {}, "territory.merge.layers"),
    ([UNIFIED_LAYER], {}, "territory.layer.unified"),
    (["party", "nosuch"], {}, "territory.merge.unknown_layer"),
    (["party"], {"tolerance": 1.5}, "territory.merge.tolerance"),
    (["party"], {"tolerance": "abc"}, "territory.merge.tolerance"),
])
def test_merge_refuses_bad_arguments(layers, args, kwargs, code):
    with pytest.raises(DomainError) as err:
        grids_merge(args, **kwargs)
    assert err.value.code == code
    assert not Grid.objects.filter(layer=UNIFIED_LAYER).exists()


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("grids", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def test_command_prints_the_report(layers):
    status, out, err = run("merge", "party", "zongzhi")
    assert status == 0, err
    assert "统一网格 4 个" in out and f"缺口 {B}" in out and "图层 zongzhi：网格 3 个，缺口 0 处，重叠 0 对" in out
    status, out, _ = run("merge", "party", "zongzhi", "--json", "--tolerance", "0.5")
    report = json.loads(out)
    assert status == 0 and report["tolerance"] == 0.5 and report["layers"]["party"]["gaps"] == []
    # 0.5 also makes the 40 % north of B a sliver, absorbed into B's base grid.
    u = report["unified"]
    assert (u["absorbed"], u["total"], u["deleted"], u["updated"]) == (1, 3, 1, 1)


def test_command_exit_status_on_refusal(layers):
    status, out, err = run("merge", "party", "nosuch")
    assert status == 2 and "nosuch" in err and out == ""
    grids_import(load("grids_party.geojson"), layer=UNIFIED_LAYER, allow_unified=True)
    status, _, err = run("merge", "zongzhi")
    assert status == 2 and "replace" in err
    assert run("merge", "zongzhi", "--replace")[0] == 0
    assert set(stored_unified()) == set(layers["zongzhi"])


def test_a_merge_within_one_community_is_audited_on_it(territory, layers):
    grids_import(collection([grid_feature(A + "001", "甲", A, BOXES[A])]), layer="solo")
    grids_merge(["solo"])
    assert AuditEntry.objects.get(action="territory.grids.merged").target_id == str(territory[A].pk)
