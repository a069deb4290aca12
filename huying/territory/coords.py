"""Coordinate systems used by Chinese map services, converted to WGS-84 (what the territory is stored in).

- WGS-84: GPS, and the territory's own geometry.
- GCJ-02 ("Mars coordinates", 国测局坐标): the legally required offset used by AMap/Gaode, Tencent and
  Apple maps in China. The forward transform is the widely published algorithm; points outside the
  rough China box are not offset, as every implementation does.
- BD-09: Baidu's further obfuscation of GCJ-02.

Every function takes scalars or numpy arrays (broadcast together) and returns the same shape; the
inverses are solved by fixed-point iteration so a round trip is exact to well below 1e-7°.
"""

from __future__ import annotations

import numpy as np
from django.utils.translation import gettext as _

from huying.core.errors import DomainError

CRS_CHOICES = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, which the GCJ-02 algorithm is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
# Inverse iterations stop below this change (degrees); the offset's Jacobian is close to the
# identity, so each step gains ~4 digits and 3–4 steps suffice.
_TOL = 1e-12
_MAX_ITER = 30


def _out_of_china(lng, lat):
    return (lng < 72.004) | (lng > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offsets(lng, lat, *, in_china=None):
    x = lng - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlng += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlng += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _out_of_china(lng, lat) if in_china is None else ~in_china
    return np.where(outside, 0.0, dlng), np.where(outside, 0.0, dlat)


def _out(lng, lat, scalar: bool):
    if scalar:
        return float(lng), float(lat)
    return lng, lat


def _prepare(lng, lat):
    scalar = np.ndim(lng) == 0 and np.ndim(lat) == 0
    lng, lat = np.broadcast_arrays(np.asarray(lng, dtype=float), np.asarray(lat, dtype=float))
    return lng, lat, scalar


def wgs84_to_gcj02(lng, lat):
    lng, lat, scalar = _prepare(lng, lat)
    dlng, dlat = _offsets(lng, lat)
    return _out(lng + dlng, lat + dlat, scalar)


def gcj02_to_wgs84(lng, lat):
    """Inverse of wgs84_to_gcj02: solve w + offset(w) = g by fixed-point iteration from w = g.

    Whether to offset is decided once, by the given point: deciding it per iterate would make the
    map jump at the China box edge and the iteration oscillate there."""
    lng, lat, scalar = _prepare(lng, lat)
    in_china = ~_out_of_china(lng, lat)
    wlng, wlat = lng.copy(), lat.copy()
    for _i in range(_MAX_ITER):
        dlng, dlat = _offsets(wlng, wlat, in_china=in_china)
        nlng, nlat = lng - dlng, lat - dlat
        step = max(float(np.max(np.abs(nlng - wlng), initial=0.0)), float(np.max(np.abs(nlat - wlat), initial=0.0)))
        wlng, wlat = nlng, nlat
        if step < _TOL:
            break
    return _out(wlng, wlat, scalar)


def gcj02_to_bd09(lng, lat):
    lng, lat, scalar = _prepare(lng, lat)
    z = np.sqrt(lng * lng + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def bd09_to_gcj02(lng, lat):
    """Inverse of gcj02_to_bd09: the usual closed-form approximation, then refined by iteration,
    because the approximation alone is only good to ~1e-6°."""
    lng, lat, scalar = _prepare(lng, lat)
    x = lng - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glng, glat = z * np.cos(theta), z * np.sin(theta)
    for _i in range(_MAX_ITER):
        blng, blat = gcj02_to_bd09(glng, glat)
        elng, elat = blng - lng, blat - lat
        glng, glat = glng - elng, glat - elat
        if max(float(np.max(np.abs(elng), initial=0.0)), float(np.max(np.abs(elat), initial=0.0))) < _TOL:
            break
    return _out(glng, glat, scalar)


def wgs84_to_bd09(lng, lat):
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def bd09_to_wgs84(lng, lat):
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


def check_coordinates(lng, lat) -> None:
    """Refuse NaN, infinities and longitudes/latitudes outside the globe."""
    lng = np.asarray(lng, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if not (np.all(np.isfinite(lng)) and np.all(np.isfinite(lat))):
        raise DomainError("territory.bad_coordinate", _("坐标必须是有限的数值。"), field="lng")
    if np.any(np.abs(lng) > 180.0):
        raise DomainError("territory.bad_coordinate", _("经度必须在 -180 到 180 之间。"), field="lng")
    if np.any(np.abs(lat) > 90.0):
        raise DomainError("territory.bad_coordinate", _("纬度必须在 -90 到 90 之间。"), field="lat")


def check_crs(crs: str) -> str:
    name = (crs or "").strip().lower().replace("-", "").replace("_", "")
    if name not in CRS_CHOICES:
        raise DomainError("territory.bad_crs", _("不支持的坐标系：%(crs)s（可用：wgs84、gcj02、bd09）") % {"crs": crs},
                          field="crs")
    return name


def to_wgs84(lng, lat, crs: str = "wgs84"):
    """Convert (lng, lat) given in `crs` ("wgs84", "gcj02" or "bd09") to WGS-84, after validating both."""
    name = check_crs(crs)
    check_coordinates(lng, lat)
    if name == "gcj02":
        return gcj02_to_wgs84(lng, lat)
    if name == "bd09":
        return bd09_to_wgs84(lng, lat)
    lng, lat, scalar = _prepare(lng, lat)
    return _out(lng, lat, scalar)
