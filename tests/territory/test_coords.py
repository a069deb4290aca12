"""WGS-84 ⇄ GCJ-02 ⇄ BD-09 conversions (territory.coords)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huying.core.errors import DomainError
from huying.territory import coords

# Well inside the China box, so a point and its offset image are on the same side of the box edge.
china_lng = st.floats(min_value=73.0, max_value=134.0, allow_nan=False)
china_lat = st.floats(min_value=4.0, max_value=53.0, allow_nan=False)


def close(a, b, tol):
    return abs(a[0] - b[0]) < tol and abs(a[1] - b[1]) < tol


def test_reference_pairs_from_published_implementations():
    # coordTransform (wandergis) and gcoord (hujiulong) give these for Beijing's Tiananmen and (123, 45).
    assert close(coords.wgs84_to_gcj02(116.404, 39.915), (116.41024449916938, 39.91640428150164), 1e-12)
    assert close(coords.gcj02_to_bd09(116.404, 39.915), (116.41036949371029, 39.92133699351021), 1e-12)
    assert close(coords.gcj02_to_bd09(123, 45), (123.00636499, 45.00636899), 1e-8)
    # Their inverses are one-step approximations, good to a few 1e-6°; ours are exact.
    assert close(coords.bd09_to_gcj02(116.404, 39.915), (116.39762729119315, 39.90865673957631), 2e-6)
    assert close(coords.gcj02_to_wgs84(123, 45), (122.99395597, 44.99804071), 5e-6)


def test_offset_is_hundreds_of_metres_in_guangzhou_and_none_abroad():
    lng, lat = coords.wgs84_to_gcj02(113.2644, 23.1291)
    assert 0.004 < lng - 113.2644 < 0.007 and -0.004 < lat - 23.1291 < 0
    assert coords.wgs84_to_gcj02(-122.4, 37.8) == (-122.4, 37.8)
    assert coords.gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


@settings(max_examples=300, deadline=None)
@given(china_lng, china_lat)
def test_gcj02_round_trip(lng, lat):
    g = coords.wgs84_to_gcj02(lng, lat)
    assert close(coords.gcj02_to_wgs84(*g), (lng, lat), 1e-9)
    w = coords.gcj02_to_wgs84(lng, lat)
    assert close(coords.wgs84_to_gcj02(*w), (lng, lat), 1e-9)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-179.0, max_value=179.0), st.floats(min_value=-89.0, max_value=89.0))
def test_bd09_round_trip_anywhere(lng, lat):
    b = coords.gcj02_to_bd09(lng, lat)
    assert close(coords.bd09_to_gcj02(*b), (lng, lat), 1e-9)
    # Within the offset's reach (< 0.01°) of the China box edge, GCJ-02 is not one-to-one.
    edge = (72.004, 137.8347, 0.8293, 55.8271)
    if min(abs(lng - edge[0]), abs(lng - edge[1]), abs(lat - edge[2]), abs(lat - edge[3])) > 0.05:
        assert close(coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lng, lat)), (lng, lat), 1e-9)


@pytest.mark.parametrize(("lng", "lat"), [(73.0, 0.8293), (72.004, 30.0), (137.8347, 40.0), (100.0, 55.8271)])
def test_inverse_converges_on_the_china_box_edge(lng, lat):
    # On the west and south edges the preimage lies just outside the box, where nothing is offset,
    # so there is no exact inverse; the iteration must still settle on w + offset(w) = g.
    w = coords.gcj02_to_wgs84(lng, lat)
    dlng, dlat = coords._offsets(np.array(w[0]), np.array(w[1]), in_china=np.array(True))
    assert close((w[0] + dlng, w[1] + dlat), (lng, lat), 1e-9)


def test_vectorised_equals_scalar():
    rng = np.random.default_rng(7)
    lng = rng.uniform(70, 140, 500)
    lat = rng.uniform(0, 56, 500)
    for fn in (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84, coords.gcj02_to_bd09, coords.bd09_to_gcj02):
        vx, vy = fn(lng, lat)
        assert vx.shape == (500,)
        for i in range(0, 500, 37):
            sx, sy = fn(float(lng[i]), float(lat[i]))
            assert isinstance(sx, float)
            # Iterated inverses stop on the batch's slowest point, so they may differ by < tolerance.
            assert abs(vx[i] - sx) < 1e-11 and abs(vy[i] - sy) < 1e-11


def test_to_wgs84_by_crs():
    w = (113.2644, 23.1291)
    assert coords.to_wgs84(*w, "wgs84") == w
    assert close(coords.to_wgs84(*coords.wgs84_to_gcj02(*w), "gcj02"), w, 1e-9)
    assert close(coords.to_wgs84(*coords.wgs84_to_bd09(*w), "BD-09"), w, 1e-9)
    xs, ys = coords.to_wgs84(np.array([113.2, 113.3]), np.array([23.1, 23.2]), "gcj02")
    assert xs.shape == (2,) and abs(xs[0] - 113.2) > 1e-3


@pytest.mark.parametrize(("lng", "lat", "code"), [
    (math.nan, 23.0, "territory.bad_coordinate"),
    (113.0, math.inf, "territory.bad_coordinate"),
    (181.0, 23.0, "territory.bad_coordinate"),
    (113.0, -90.5, "territory.bad_coordinate"),
    (np.array([113.0, np.nan]), np.array([23.0, 23.0]), "territory.bad_coordinate"),
])
def test_bad_coordinates_are_refused(lng, lat, code):
    with pytest.raises(DomainError) as exc:
        coords.to_wgs84(lng, lat, "wgs84")
    assert exc.value.code == code


def test_unknown_crs_is_refused():
    with pytest.raises(DomainError) as exc:
        coords.to_wgs84(113.0, 23.0, "epsg3857")
    assert exc.value.code == "territory.bad_crs" and exc.value.field == "crs"
