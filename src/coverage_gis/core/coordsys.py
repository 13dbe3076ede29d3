"""Chinese map coordinate systems: WGS84, CGCS2000, GCJ-02 (高德/腾讯) and BD-09 (百度).

pyproj does not know GCJ-02 and BD-09: they are obfuscated variants of WGS84 defined by
published closed-form formulas (the "forward" direction, WGS84 → GCJ-02 → BD-09). This module
implements those formulas vectorised over numpy arrays, and their inverses by iterating on
the forward functions until every point is converged (GCJ-02 → WGS84 to ``tol_m``, default
1 cm; BD-09 → GCJ-02 to under 1 cm), so that a round trip is exact for practical purposes.

Conventions
-----------
* Every function takes ``lon, lat`` (in that order, degrees) as scalars, sequences or numpy
  arrays that broadcast together, and returns a pair of float64 numpy arrays of the
  broadcast shape (0-d arrays for scalar input).
* NaN in, NaN out: where either coordinate of a point is NaN, both results are NaN.
* The GCJ-02 offset is only applied inside the rough China bounding box used by the widely
  used open-source converters (lon 72.004–137.8347, lat 0.8293–55.8271); outside it the
  coordinates pass through unchanged. The BD-09 step (GCJ-02 ↔ BD-09) is a pure formula and
  is applied everywhere, as in those converters.
* CGCS2000 (EPSG:4490) is treated as equal to WGS84 (EPSG:4326): for this work the two agree
  to within about a metre.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from coverage_gis.core.errors import InputError

__all__ = [
    "SOURCE_CRS_NAMES",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalize_source_crs",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = NDArray[np.float64]

#: Canonical names accepted by :func:`to_wgs84` besides ``"EPSG:NNNN"``.
SOURCE_CRS_NAMES: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# Metres per degree of latitude (mean), used only for convergence tests.
_M_PER_DEG = 111_320.0

# Rough China box of the published converters (eviltransform, gcoord, coordtransform).
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return ``lon`` and ``lat`` as broadcast float64 arrays (fresh copies)."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_b, lat_b = np.broadcast_arrays(lon_a, lat_a)
    return np.array(lon_b, dtype=np.float64), np.array(lat_b, dtype=np.float64)


def _flat(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray, tuple[int, ...]]:
    """Return broadcast 1-d float64 copies of ``lon`` and ``lat`` and their common shape."""
    lon_a, lat_a = _as_arrays(lon, lat)
    return lon_a.reshape(-1), lat_a.reshape(-1), lon_a.shape


def _nan_pairs(lon: FloatArray, lat: FloatArray) -> None:
    """Set both coordinates to NaN (in place) where either is NaN."""
    bad = np.isnan(lon) | np.isnan(lat)
    lon[bad] = np.nan
    lat[bad] = np.nan


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where the GCJ-02 offset does not apply (outside the rough China box).

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray
        Boolean mask; NaN coordinates count as outside (they pass through unchanged).
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    inside = (
        (lon_a >= _CHINA_LON_MIN)
        & (lon_a <= _CHINA_LON_MAX)
        & (lat_a >= _CHINA_LAT_MIN)
        & (lat_a <= _CHINA_LAT_MAX)
    )
    return ~inside


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the published GCJ-02 offset ``(dlon, dlat)`` in degrees at WGS84 points."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0

    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0

    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 to GCJ-02 (高德/腾讯 "火星坐标") with the published formula.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees (scalars or array-likes that broadcast).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``. Points outside China and NaN points are returned unchanged.
    """
    lon_a, lat_a, shape = _flat(lon, lat)
    inside = ~out_of_china(lon_a, lat_a)
    if inside.any():
        dlon, dlat = _gcj_delta(lon_a[inside], lat_a[inside])
        lon_a[inside] += dlon
        lat_a[inside] += dlat
    _nan_pairs(lon_a, lat_a)
    return lon_a.reshape(shape), lat_a.reshape(shape)


def _residual_m(
    lon: FloatArray, lat: FloatArray, target_lon: FloatArray, target_lat: FloatArray
) -> FloatArray:
    """Approximate distance in metres between two sets of nearby points (NaN → 0)."""
    with np.errstate(invalid="ignore", over="ignore"):
        dy = (lat - target_lat) * _M_PER_DEG
        dx = (lon - target_lon) * _M_PER_DEG * np.cos(np.deg2rad(target_lat))
        return np.nan_to_num(np.hypot(dx, dy), nan=0.0, posinf=0.0)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol_m: float = 0.01, max_iter: int = 30
) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 to WGS84 by inverting :func:`wgs84_to_gcj02` iteratively.

    Fixed-point iteration ``w ← w − (gcj(w) − g)`` starting from ``w = g``, run on all
    points at once and stopped when every point maps forward to within ``tol_m`` of its
    input (the offset varies slowly, so this converges in a handful of iterations).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees.
    tol_m
        Convergence tolerance in metres on the forward residual.
    max_iter
        Maximum number of iterations.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lon, lat)``. Points outside China and NaN points are returned unchanged.
    """
    g_lon, g_lat, shape = _flat(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    idx = np.flatnonzero(~out_of_china(g_lon, g_lat))
    for _ in range(max_iter):
        if idx.size == 0:
            break
        f_lon, f_lat = wgs84_to_gcj02(w_lon[idx], w_lat[idx])
        done = _residual_m(f_lon, f_lat, g_lon[idx], g_lat[idx]) < tol_m
        w_lon[idx] -= f_lon - g_lon[idx]
        w_lat[idx] -= f_lat - g_lat[idx]
        idx = idx[~done]
    _nan_pairs(w_lon, w_lat)
    return w_lon.reshape(shape), w_lat.reshape(shape)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 to BD-09 (百度) with the published formula.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``; NaN stays NaN.
    """
    x, y, shape = _flat(lon, lat)
    with np.errstate(invalid="ignore", over="ignore"):  # inf/huge input: NaN/inf out
        z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
        theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return (z * np.cos(theta) + 0.0065).reshape(shape), (z * np.sin(theta) + 0.006).reshape(shape)


def _bd09_to_gcj02_closed_form(x_bd: FloatArray, y_bd: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Published approximate inverse of :func:`gcj02_to_bd09` (error up to a few cm)."""
    x = x_bd - 0.0065
    y = y_bd - 0.006
    with np.errstate(invalid="ignore", over="ignore"):
        z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
        theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
        return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike, *, tol_m: float = 0.001, max_iter: int = 30
) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to GCJ-02, an exact inverse of :func:`gcj02_to_bd09`.

    Starts from the published closed-form inverse and refines it by fixed-point iteration on
    :func:`gcj02_to_bd09` until every point maps forward to within ``tol_m`` metres.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees.
    tol_m
        Convergence tolerance in metres on the forward residual.
    max_iter
        Maximum number of refinement iterations.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``; NaN stays NaN.
    """
    b_lon, b_lat, shape = _flat(lon, lat)
    g_lon, g_lat = _bd09_to_gcj02_closed_form(b_lon, b_lat)
    idx = np.flatnonzero(np.isfinite(b_lon) & np.isfinite(b_lat))
    for _ in range(max_iter):
        if idx.size == 0:
            break
        f_lon, f_lat = gcj02_to_bd09(g_lon[idx], g_lat[idx])
        done = _residual_m(f_lon, f_lat, b_lon[idx], b_lat[idx]) < tol_m
        with np.errstate(invalid="ignore", over="ignore"):
            g_lon[idx] -= f_lon - b_lon[idx]
            g_lat[idx] -= f_lat - b_lat[idx]
        idx = idx[~done]
    return g_lon.reshape(shape), g_lat.reshape(shape)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 to BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to WGS84 (via GCJ-02, both steps iterated to exact inverses).

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lon, lat)``.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


# --------------------------------------------------------------------------- names

_ALIASES: dict[str, str] = {
    # WGS84
    "wgs84": "wgs84",
    "wgs": "wgs84",
    "epsg4326": "wgs84",
    "4326": "wgs84",
    "gps": "wgs84",
    # CGCS2000
    "cgcs2000": "cgcs2000",
    "cgcs": "cgcs2000",
    "epsg4490": "cgcs2000",
    "4490": "cgcs2000",
    "国家2000": "cgcs2000",
    "2000国家大地坐标系": "cgcs2000",
    "天地图": "cgcs2000",
    # GCJ-02
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "高德": "gcj02",
    "高德地图": "gcj02",
    "腾讯": "gcj02",
    "腾讯地图": "gcj02",
    "火星": "gcj02",
    "火星坐标": "gcj02",
    "火星坐标系": "gcj02",
    "国测局": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    # BD-09
    "bd09": "bd09",
    "bd09ll": "bd09",
    "百度": "bd09",
    "百度地图": "bd09",
    "百度坐标": "bd09",
    "baidu": "bd09",
}

_EPSG_RE = re.compile(r"^(?:epsg)?(\d{4,6})$")
_ACCEPTED_TEXT = (
    "wgs84 / WGS-84 / EPSG:4326, cgcs2000 / EPSG:4490, gcj02 / GCJ-02 / 高德 / 腾讯 / 火星, "
    "bd09 / BD-09 / 百度, EPSG:NNNN"
)


def _squash(value: str) -> str:
    """Lower-case and drop spaces, dashes, underscores, colons and dots."""
    return re.sub(r"[\s\-_:.：]", "", value.strip().lower())


def normalize_source_crs(value: str) -> str:
    """Return the canonical name of a coordinate system as a user may write it.

    Parameters
    ----------
    value
        E.g. ``"WGS-84"``, ``"EPSG:4326"``, ``"4490"``, ``"高德"``, ``"火星坐标"``,
        ``"BD-09"``, ``"百度"``, ``"EPSG:4549"``. Case, spaces, dashes and underscores are
        ignored.

    Returns
    -------
    str
        One of :data:`SOURCE_CRS_NAMES` or ``"EPSG:NNNN"`` for another EPSG code known to
        pyproj.

    Raises
    ------
    InputError
        When the value names none of them (the message lists the accepted names).
    """
    if not isinstance(value, str) or not value.strip():
        raise _crs_error(value)
    key = _squash(value)
    if key in _ALIASES:
        return _ALIASES[key]
    match = _EPSG_RE.match(key)
    if match is None:
        raise _crs_error(value)
    code = int(match.group(1))
    try:
        crs = pyproj.CRS.from_epsg(code)
    except pyproj.exceptions.CRSError as exc:
        raise _crs_error(value) from exc
    if not (crs.is_geographic or crs.is_projected):
        raise _crs_error(value)
    return f"EPSG:{code}"


def _crs_error(value: Any) -> InputError:
    return InputError(
        f"无法识别的坐标系：{value!r}。可用：{_ACCEPTED_TEXT}",
        f"Unknown coordinate system {value!r}. Accepted: {_ACCEPTED_TEXT}",
        value=value,
        suggestion="高德/腾讯坐标选 gcj02，百度坐标选 bd09，GPS/天地图选 wgs84 或 cgcs2000 / "
        "pick gcj02 for Amap/Tencent, bd09 for Baidu, wgs84 or cgcs2000 for GPS/Tianditu",
    )


@lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def _pyproj_transform(
    lon: ArrayLike, lat: ArrayLike, source: str, target: str
) -> tuple[FloatArray, FloatArray]:
    """Transform with pyproj (x/y order), keeping the broadcast shape."""
    x, y, shape = _flat(lon, lat)
    out_x, out_y = _transformer(source, target).transform(x, y)
    return (
        np.asarray(out_x, dtype=np.float64).reshape(shape),
        np.asarray(out_y, dtype=np.float64).reshape(shape),
    )


def to_wgs84(lon: ArrayLike, lat: ArrayLike, source: str) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates from ``source`` to WGS84 longitude/latitude.

    Parameters
    ----------
    lon, lat
        Coordinates in ``source`` (for projected EPSG codes: easting, northing).
    source
        Anything :func:`normalize_source_crs` accepts. CGCS2000 is returned unchanged
        (equal to WGS84 within about a metre); other EPSG codes go through pyproj.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lon, lat)``.
    """
    name = normalize_source_crs(source)
    if name in ("wgs84", "cgcs2000"):
        return _as_arrays(lon, lat)
    if name == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if name == "bd09":
        return bd09_to_wgs84(lon, lat)
    return _pyproj_transform(lon, lat, name, "EPSG:4326")


def from_wgs84(lon: ArrayLike, lat: ArrayLike, target: str) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to ``target`` (e.g. GCJ-02 for 高德 tiles).

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees.
    target
        Anything :func:`normalize_source_crs` accepts: ``"gcj02"``, ``"bd09"``,
        ``"wgs84"``, ``"cgcs2000"`` (unchanged) or ``"EPSG:NNNN"`` (via pyproj).

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` (or ``(x, y)`` for a projected EPSG target).
    """
    name = normalize_source_crs(target)
    if name in ("wgs84", "cgcs2000"):
        return _as_arrays(lon, lat)
    if name == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if name == "bd09":
        return wgs84_to_bd09(lon, lat)
    return _pyproj_transform(lon, lat, "EPSG:4326", name)
