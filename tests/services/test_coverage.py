"""The 15-minute circle on fixtures whose answers are computed by hand.

Walking minutes = straight metres × 1.3 ÷ 75 m/min, so 15 minutes reach 865.4 m in a straight line:
a building 800 m away is 13.87 minutes away (covered), one 900 m away is 15.6 minutes (not).
"""

import numpy as np
import pytest

from huying.services import coverage as cov

from .conftest import LAT0, at, east

BASE = 113.27


def test_walk_model_constants():
    walk = cov.StraightLineWalk()
    assert walk.detour == 1.3 and walk.speed_kmh == 4.5
    assert walk.max_straight_m(15) == pytest.approx(15 * 75 / 1.3)
    assert float(walk.minutes(BASE, LAT0, east(BASE, 800), LAT0)) == pytest.approx(800 * 1.3 / 75, rel=1e-6)


def test_three_buildings_one_position():
    b_lng = [BASE, east(BASE, 800), east(BASE, 900)]
    c = cov.building_coverage(b_lng, [LAT0] * 3, [BASE], [LAT0])
    assert c.covered.tolist() == [True, True, False]
    assert c.nearest_minutes[1] == pytest.approx(13.8667, abs=1e-3)
    shares = cov.shares_by_group([0, 0, 0], c.covered, [10, 20, 30])
    assert shares.buildings.tolist() == [3] and shares.buildings_covered.tolist() == [2]
    assert shares.households.tolist() == [60] and shares.households_covered.tolist() == [30]


def test_second_position_covers_the_far_building_and_groups_split():
    b_lng = [BASE, east(BASE, 800), east(BASE, 900), east(BASE, 5000)]
    # a second position 1,700 m east: 800 m from B2 (covered), 900 m from B1 (already covered), 3,300 m from B3
    p_lng = [BASE, east(BASE, 1700)]
    c = cov.building_coverage(b_lng, [LAT0] * 4, p_lng, [LAT0] * 2)
    assert c.covered.tolist() == [True, True, True, False]
    shares = cov.shares_by_group([0, 0, 1, 1], c.covered, [10, 20, 30, 40])
    assert shares.households_covered.tolist() == [30, 30]
    assert shares.households.tolist() == [30, 70]


def test_replaceable_walk_model():
    class Slow:  # half the speed, no detour: 15 minutes reach 562.5 m
        def minutes(self, lng1, lat1, lng2, lat2):
            return cov.haversine_m(lng1, lat1, lng2, lat2) / 37.5

        def max_straight_m(self, minutes):
            return minutes * 37.5

    b_lng = [BASE, east(BASE, 500), east(BASE, 600)]
    c = cov.building_coverage(b_lng, [LAT0] * 3, [BASE], [LAT0], model=Slow())
    assert c.covered.tolist() == [True, True, False]


def test_greedy_prefers_households_over_buildings():
    # three small buildings (10 households each) at 0 m; one tower of 100 households at 5 km
    b_lng = [BASE, BASE, BASE, east(BASE, 5000)]
    w = [10, 10, 10, 100]
    c_lng = [BASE, east(BASE, 2500), east(BASE, 5000)]
    picks = cov.greedy_sites(c_lng, [LAT0] * 3, b_lng, [LAT0] * 4, w, k=3)
    assert [(p.candidate, p.households, p.buildings) for p in picks] == [(2, 100, 1), (0, 30, 3)]


def test_greedy_counts_only_uncovered_and_stops_when_nothing_left():
    b_lng = [BASE, east(BASE, 800), east(BASE, 900)]
    covered = np.array([True, True, False])
    # candidate 0 at 0 m would add nothing new; candidate 1 at 1,000 m reaches B1 and B2 but only B2 is new
    picks = cov.greedy_sites([BASE, east(BASE, 1000)], [LAT0] * 2, b_lng, [LAT0] * 3, [10, 20, 30],
                             covered=covered, k=5)
    assert [(p.candidate, p.households) for p in picks] == [(1, 30)]


def test_community_coverage_follows_opening_hours(positions, town):
    from huying.services.selectors import community_coverage

    community = town.div["440104003001"]
    # Tuesday 19:30 Beijing: the centre's evening (错时) hours → B0 and B1 covered (30 of 60 households)
    evening = community_coverage(community, at=at(2026, 3, 10, 19, 30))
    assert (evening.buildings, evening.buildings_covered) == (3, 2)
    assert (evening.households, evening.households_covered) == (60, 30)
    assert evening.household_share == pytest.approx(0.5)
    assert [b.code for b, _m in evening.uncovered] == ["B2"]
    # the best new site covers B2 (30 households)
    assert evening.candidates[0].households == 30
    # Wednesday 19:30: closed, nothing covered; the best site covers all three from between them
    late = community_coverage(community, at=at(2026, 3, 11, 19, 30))
    assert late.households_covered == 0 and late.household_share == 0
    assert late.candidates[0].households == 60
    # every active position, whatever the hour
    assert community_coverage(community, at=None).households_covered == 30
