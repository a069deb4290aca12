import pytest

from huying.core.errors import DomainError
from huying.territory import selectors
from huying.territory.models import Division, Level

from .conftest import _division


def test_totals(territory):
    assert selectors.territory_stats() == {"district": 2, "street": 3, "community": 3, "grid": 4, "building": 30}


def test_division_counts_per_level(territory):
    assert selectors.division_counts(["440104", "440103"], Level.DISTRICT) == {
        "440104": {"street": 2, "community": 3, "grid": 4, "building": 30},
        "440103": {"street": 1, "community": 0, "grid": 0, "building": 0},
    }
    assert selectors.division_counts(["440104001", "440104002", "440103001"], Level.STREET) == {
        "440104001": {"community": 2, "grid": 3, "building": 29},
        "440104002": {"community": 1, "grid": 1, "building": 1},
        "440103001": {"community": 0, "grid": 0, "building": 0},
    }
    assert selectors.division_counts(["440104001001", "440104001002"], Level.COMMUNITY) == {
        "440104001001": {"grid": 2, "building": 28},
        "440104001002": {"grid": 1, "building": 1},
    }
    assert selectors.division_counts(["440104001001001"], selectors.GRID) == {"440104001001001": {"building": 25}}
    assert selectors.division_counts(["440100"], Level.CITY)["440100"]["district"] == 2


def test_division_counts_refuses_mixed_levels(territory):
    with pytest.raises(ValueError):
        selectors.division_counts(["440104", "440104001"], Level.DISTRICT)


def test_children_queries_do_not_grow_with_children(territory, django_assert_max_num_queries):
    # Ten more streets in 越秀区: an N+1 count would need 3 more queries for each of them.
    for i in range(3, 13):
        _division(f"440104{i:03d}", f"街道{i}", Level.STREET, "街道", territory["yuexiu"], None)
    district = selectors.node_get("440104")
    with django_assert_max_num_queries(4):  # the streets, then communities, grids, buildings grouped
        streets = selectors.node_children(district)
    assert [s.code for s in streets][:2] == ["440104001", "440104002"]
    assert len(streets) == 12
    assert streets[0].counts == {"community": 2, "grid": 3, "building": 29}
    assert streets[-1].counts == {"community": 0, "grid": 0, "building": 0}


def test_roots_and_community_children(territory, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        roots = selectors.territory_roots()
    assert [(r.code, r.counts["street"]) for r in roots] == [("440103", 1), ("440104", 2)]
    grids = selectors.node_children(selectors.node_get("440104001001"))
    assert [(g.code, g.level, g.counts) for g in grids] == [
        ("440104001001001", "grid", {"building": 25}),
        ("440104001001002", "grid", {"building": 3}),
    ]
    assert selectors.node_children(grids[0]) == []


def test_node_get_marks_and_404(territory):
    node = selectors.node_get("440104002001")
    assert (node.generated, node.official_code, node.counts) == (True, False, {"grid": 1, "building": 1})
    assert selectors.node_get("440104001001002").level == "grid"
    with pytest.raises(DomainError) as exc:
        selectors.node_get("999999")
    assert exc.value.status == 404 and "999999" in exc.value.message


def test_search_by_name_and_code_with_path(territory, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        results = selectors.territory_search("流花")
    assert [(n.code, [a.code for a in path]) for n, path in results] == [
        ("440104001002", ["440100", "440104", "440104001"]),
        ("440104001002001", ["440100", "440104", "440104001", "440104001002"]),
    ]
    assert [n.code for n, _ in selectors.territory_search("440104002")] == ["440104002", "440104002001",
                                                                            "440104002001001"]
    assert selectors.territory_search("  ") == []
    assert selectors.territory_search("党建") == []  # other layers are not the territory


def test_grid_buildings_pages(territory):
    page = selectors.grid_buildings("440104001001001", page=2)
    assert page.paginator.count == 25 and len(page.object_list) == 5
    assert page.object_list[0].code == "440104001001001u0021"
    assert selectors.grid_buildings("440104001001001", page="nonsense").number == 1


def test_city_code(territory):
    assert selectors.city_code() == "440100"
    Division.objects.filter(level=Level.CITY).update(level=Level.DISTRICT)
    assert selectors.city_code() is None
