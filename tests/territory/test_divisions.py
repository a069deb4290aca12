"""Loading divisions and boundaries: validation, code rules, idempotency, all-or-nothing."""

import copy
import json

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.territory.models import Division, Level
from huying.territory.services import (
    boundaries_import,
    division_short_name,
    divisions_import,
    divisions_validate,
)
from huying.territory.testing import shipped_data

GUANGZHOU = shipped_data("divisions.json")
BOUNDARIES = shipped_data("districts.geojson")


def small_city() -> dict:
    return {
        "city": {"code": "440100", "name": "广州市"},
        "districts": [
            {"code": "440104", "name": "越秀区", "streets": [
                {"code": "440104010", "name": "北京街道", "kind": "街道", "communities": [
                    {"name": "流水井社区居民委员会", "kind": "社区"},
                    {"name": "盐运西社区居委会", "kind": "社区"},
                    {"name": "东湖村民委员会", "kind": "村"},
                    {"name": "西坑村委会", "kind": "村"},
                ]},
                {"code": "440104011", "name": "六榕街道", "kind": "街道", "communities": []},
            ]},
            {"code": "440117", "name": "从化区", "streets": [
                {"code": "440117404", "name": "黄龙带水库", "kind": "其他"},
                {"code": "440117101", "name": "温泉镇", "kind": "镇", "communities": [
                    {"name": "石海村委会", "kind": "村"},
                ]},
            ]},
        ],
    }


def snapshot() -> list[tuple]:
    return list(Division.objects.order_by("code").values_list(
        "code", "name", "short_name", "level", "kind", "parent__code", "official_code", "generated"))


# ------------------------------------------------------------------ short names


@pytest.mark.parametrize(("name", "level", "short"), [
    ("北京街道", Level.STREET, "北京街"),
    ("人和镇", Level.STREET, "人和镇"),
    ("黄龙带水库", Level.STREET, "黄龙带水库"),
    ("越秀区", Level.DISTRICT, "越秀"),
    ("广州市", Level.CITY, "广州"),
    ("流水井社区居民委员会", Level.COMMUNITY, "流水井社区"),
    ("流水井社区居委会", Level.COMMUNITY, "流水井社区"),
    ("南漖社区居委会会", Level.COMMUNITY, "南漖社区"),
    ("云山居委会", Level.COMMUNITY, "云山社区"),
    ("东郊村民委员会", Level.COMMUNITY, "东郊村"),
    ("东华村委会", Level.COMMUNITY, "东华村"),
    ("龙穴社区", Level.COMMUNITY, "龙穴社区"),
])
def test_short_names(name, level, short):
    assert division_short_name(name, level) == short


@given(stem=st.text(alphabet="东南西北中新旧上下沙石龙凤花园岗", min_size=1, max_size=6),
       suffix=st.sampled_from([("社区居民委员会", "社区"), ("社区居委会", "社区"), ("居委会", "社区"),
                               ("村民委员会", "村"), ("村委会", "村")]))
def test_community_short_name_keeps_the_stem(stem, suffix):
    assert division_short_name(stem + suffix[0], Level.COMMUNITY) == stem + suffix[1]


# ------------------------------------------------------------------ validation (pure)

BAD_CASES = [
    # (mutation, expected field path, words the message must contain)
    (lambda d: d["districts"][0]["streets"][1].update(code="440105011"),
     "districts[0].streets[1]", ["440105011", "440104"]),
    (lambda d: d["districts"][1].update(code="44011"), "districts[1]", ["44011", "6"]),
    (lambda d: d["districts"][1].update(code="450117"), "districts[1]", ["450117", "4401"]),
    (lambda d: d["districts"][0]["streets"][0].update(code="44010401"), "districts[0].streets[0]", ["9"]),
    (lambda d: d["districts"][0]["streets"][0].update(name="  "), "districts[0].streets[0]", []),
    (lambda d: d["districts"][1].update(name=""), "districts[1]", []),
    (lambda d: d["districts"][0]["streets"][0]["communities"][2].update(name=""),
     "districts[0].streets[0].communities[2]", []),
    (lambda d: d["districts"][0]["streets"][1].update(code="440104010"),
     "districts[0].streets[1]", ["440104010", "districts[0].streets[0]"]),
    (lambda d: d["districts"].append(copy.deepcopy(d["districts"][0])), "districts[2]", ["440104"]),
    (lambda d: d["districts"][0]["streets"][0].update(kind="乡镇"), "districts[0].streets[0]", ["乡镇"]),
    (lambda d: d["districts"][0]["streets"][0]["communities"][0].update(kind="居委"),
     "districts[0].streets[0].communities[0]", ["居委"]),
    (lambda d: d["districts"][0]["streets"][0]["communities"][1].update(name="流水井社区居民委员会"),
     "districts[0].streets[0].communities[1]", ["流水井社区居民委员会"]),
    (lambda d: d["districts"][0]["streets"][0]["communities"][0].update(code="440104011001"),
     "districts[0].streets[0].communities[0]", ["440104011001", "440104010"]),
    (lambda d: d["districts"][0]["streets"][1].update(
        communities=[{"name": f"第{i}社区居委会", "kind": "社区"} for i in range(200)]),
     "districts[0].streets[1].communities[199]", ["001", "199"]),
    (lambda d: d["city"].update(code="4401"), "city", ["4401"]),
]


@pytest.mark.parametrize(("mutate", "path", "words"), BAD_CASES)
def test_validation_names_the_bad_row(mutate, path, words):
    data = small_city()
    mutate(data)
    with pytest.raises(DomainError) as err:
        divisions_validate(data)
    assert err.value.code == "territory.divisions.invalid"
    assert err.value.field == path
    assert err.value.message.startswith(f"{path}: ")
    for word in words:
        assert word in err.value.message


@pytest.mark.django_db
@pytest.mark.parametrize(("mutate", "path", "words"), BAD_CASES[:3] + BAD_CASES[-3:])
def test_a_bad_file_loads_nothing(mutate, path, words):
    data = small_city()
    mutate(data)
    with pytest.raises(DomainError):
        divisions_import(data)
    assert Division.objects.count() == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_an_error_in_the_last_row_of_guangzhou_loads_nothing():
    data = copy.deepcopy(GUANGZHOU)
    last = data["districts"][-1]["streets"][-1]
    last["code"] = "440103999"
    with pytest.raises(DomainError) as err:
        divisions_import(data)
    assert err.value.field == f"districts[10].streets[{len(data['districts'][-1]['streets']) - 1}]"
    assert Division.objects.count() == 0


@given(kinds=st.lists(st.sampled_from(["社区", "村"]), min_size=1, max_size=60))
@settings(max_examples=40)
def test_local_codes_follow_the_statistical_ranges(kinds):
    data = small_city()
    data["districts"][0]["streets"][0]["communities"] = [
        {"name": f"{i}号{kind}委员会", "kind": kind} for i, kind in enumerate(kinds)]
    rows = [r for r in divisions_validate(data) if r["level"] == Level.COMMUNITY and r["parent"] == "440104010"]
    codes = [r["code"] for r in rows]
    assert len(set(codes)) == len(codes) == len(kinds)
    for row in rows:
        assert row["code"].startswith("440104010") and len(row["code"]) == 12
        seq = int(row["code"][-3:])
        assert (1 <= seq <= 199) if row["kind"] == "社区" else (201 <= seq <= 399)
        assert row["official_code"] is False
    # numbered in file order within each kind, from the bottom of the range
    for kind, low in (("社区", 1), ("村", 201)):
        seqs = [int(r["code"][-3:]) for r in rows if r["kind"] == kind]
        assert seqs == list(range(low, low + len(seqs)))


# ------------------------------------------------------------------ import


@pytest.mark.django_db
def test_guangzhou_imports_with_official_and_local_codes():
    counts = divisions_import(GUANGZHOU)
    assert (counts["district"], counts["street"], counts["community"]) == (11, 178, 2587)
    assert counts["created"] == 1 + 11 + 178 + 2587
    assert Division.objects.filter(level=Level.CITY).get().code == "440100"
    kinds = dict(Division.objects.filter(level=Level.STREET).values_list("name", "kind"))
    assert kinds["北京街道"] == "街道" and kinds["人和镇"] == "镇" and kinds["大岭山林场"] == "其他"
    beijing = Division.objects.get(name="北京街道")
    assert beijing.code == "440104003" and beijing.short_name == "北京街" and beijing.official_code
    assert beijing.parent.code == "440104" and beijing.parent.short_name == "越秀"
    lsj = Division.objects.get(name="流水井社区居委会", parent=beijing)
    assert lsj.short_name == "流水井社区" and not lsj.official_code and not lsj.generated
    assert lsj.code.startswith("440104003") and 1 <= int(lsj.code[-3:]) <= 199
    for code, kind in Division.objects.filter(level=Level.COMMUNITY).values_list("code", "kind"):
        seq = int(code[-3:])
        assert (1 <= seq <= 199) if kind == "社区" else (201 <= seq <= 399), (code, kind)
    assert not Division.objects.filter(level=Level.COMMUNITY, official_code=True).exists()


@pytest.mark.django_db
def test_importing_twice_changes_nothing_and_audits_each_import_once():
    first = divisions_import(GUANGZHOU, actor="loader")
    before = snapshot()
    second = divisions_import(GUANGZHOU)
    assert first["created"] == 2777
    assert (second["created"], second["updated"], second["deleted"]) == (0, 0, 0)
    assert second["unchanged"] == 2777
    assert snapshot() == before
    city = Division.objects.get(code="440100")
    rows = list(audit_trail(city).filter(action="territory.divisions.imported"))
    assert len(rows) == 2 and AuditEntry.objects.count() == 2
    assert rows[0].actor_label == "loader" and rows[0].data["created"] == 2777


@pytest.mark.django_db
def test_a_changed_row_is_refused_unless_replace():
    divisions_import(small_city())
    before = snapshot()
    data = small_city()
    data["districts"][0]["streets"][0]["name"] = "北京路街道"
    with pytest.raises(DomainError) as err:
        divisions_import(data)
    assert err.value.code == "territory.divisions.conflict" and err.value.status == 409
    assert err.value.field == "districts[0].streets[0]" and "440104010" in err.value.message
    assert snapshot() == before
    counts = divisions_import(data, replace=True)
    assert counts["updated"] == 1
    street = Division.objects.get(code="440104010")
    assert (street.name, street.short_name) == ("北京路街道", "北京路街")


@pytest.mark.django_db
def test_replace_deletes_missing_rows_and_local_codes_stay_put():
    divisions_import(small_city())
    codes = dict(Division.objects.filter(level=Level.COMMUNITY).values_list("name", "code"))
    data = small_city()
    communities = data["districts"][0]["streets"][0]["communities"]
    del communities[0]  # 流水井 leaves
    communities.insert(0, {"name": "新社区居委会", "kind": "社区"})  # a newcomer arrives first
    counts = divisions_import(data, replace=True)
    assert counts["deleted"] == 1 and counts["created"] == 1
    after = dict(Division.objects.filter(level=Level.COMMUNITY).values_list("name", "code"))
    assert "流水井社区居民委员会" not in after
    for name in ("盐运西社区居委会", "东湖村民委员会", "西坑村委会", "石海村委会"):
        assert after[name] == codes[name]
    assert after["新社区居委会"] not in codes.values()
    assert after["新社区居委会"].startswith("440104010")


@pytest.mark.django_db
def test_without_replace_new_rows_are_added_and_nothing_is_deleted():
    divisions_import(small_city())
    data = small_city()
    data["districts"][0]["streets"][0]["communities"].append({"name": "新河浦社区居委会", "kind": "社区"})
    del data["districts"][1]
    counts = divisions_import(data)
    assert counts["created"] == 1 and counts["deleted"] == 0
    assert Division.objects.filter(code="440117").exists()
    assert Division.objects.get(name="新河浦社区居委会").code == "440104010003"


@pytest.mark.django_db
def test_official_community_codes_are_kept():
    data = small_city()
    data["districts"][0]["streets"][0]["communities"][0]["code"] = "440104010001"
    data["districts"][0]["streets"][0]["communities"][1]["code"] = "440104010002"
    divisions_import(data)
    official = Division.objects.get(code="440104010001")
    assert official.official_code and official.name == "流水井社区居民委员会"
    # the local ones avoid the official codes
    assert not Division.objects.get(name="东湖村民委员会").official_code
    assert Division.objects.get(name="东湖村民委员会").code == "440104010201"


# ------------------------------------------------------------------ boundaries


@pytest.mark.django_db
def test_boundaries_set_geometry_and_a_centre_inside():
    divisions_import(GUANGZHOU)
    counts = boundaries_import(BOUNDARIES, actor="gis")
    assert counts["boundaries"] == 11 and counts["district"] == 11
    for d in Division.objects.filter(level=Level.DISTRICT):
        geom = shapely.from_geojson(d.geometry)
        assert geom.is_valid and geom.area > 0 and not d.geometry_generated
        assert geom.contains(shapely.Point(d.lng, d.lat))
        assert 112.9 < d.lng < 114.1 and 22.5 < d.lat < 23.95
    yuexiu = shapely.from_geojson(Division.objects.get(code="440104").geometry)
    assert yuexiu.contains(shapely.Point(113.2644, 23.1291))  # 广州市人民政府 is in 越秀区
    assert AuditEntry.objects.filter(action="territory.boundaries.imported").count() == 1


def _square(lng, lat, size=0.01):
    return {"type": "Polygon", "coordinates": [[[lng, lat], [lng + size, lat], [lng + size, lat + size],
                                                [lng, lat + size], [lng, lat]]]}


@pytest.mark.django_db
@pytest.mark.parametrize(("feature", "code"), [
    ({"type": "Feature", "properties": {"code": "440199"}, "geometry": _square(113.3, 23.1)},
     "territory.boundaries.unknown_code"),
    ({"type": "Feature", "properties": {"code": "440104010"},
      "geometry": {"type": "Polygon", "coordinates": [[[113.2, 23.1], [113.3, 23.2], [113.3, 23.1],
                                                       [113.2, 23.2], [113.2, 23.1]]]}},
     "territory.boundaries.invalid_geometry"),  # a bow-tie
    ({"type": "Feature", "properties": {"code": "440104010"},
      "geometry": {"type": "Point", "coordinates": [113.2, 23.1]}}, "territory.boundaries.invalid_geometry"),
    ({"type": "Feature", "properties": {"code": "440104010"}, "geometry": _square(12_000_000, 2_600_000)},
     "territory.boundaries.invalid_geometry"),  # projected metres, not degrees
])
def test_bad_features_are_refused_by_index_and_nothing_is_set(feature, code):
    divisions_import(small_city())
    good = {"type": "Feature", "properties": {"code": "440104"}, "geometry": _square(113.26, 23.12)}
    with pytest.raises(DomainError) as err:
        boundaries_import({"type": "FeatureCollection", "features": [good, feature]})
    assert err.value.code == code
    assert err.value.field == "features[1]" and err.value.message.startswith("features[1]: ")
    assert not Division.objects.exclude(geometry="").exists()


@pytest.mark.django_db
def test_boundaries_of_streets_are_official_too():
    divisions_import(small_city())
    geojson = json.loads(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "440104010"}, "geometry": _square(113.26, 23.12, 0.005)}]}))
    assert boundaries_import(geojson) == {"boundaries": 1, "street": 1}
    street = Division.objects.get(code="440104010")
    assert not street.geometry_generated
    assert shapely.from_geojson(street.geometry).contains(shapely.Point(street.lng, street.lat))
