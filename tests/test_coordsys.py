"""Tests of coverage_gis.core.coordsys (WGS84 / CGCS2000 / GCJ-02 / BD-09)."""

from __future__ import annotations

import time

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from coverage_gis.core.coordsys import (
    SOURCE_CRS_NAMES,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    normalize_source_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from coverage_gis.core.errors import InputError

GEOD = pyproj.Geod(ellps="WGS84")


def dist_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (lon1, lat1, lon2, lat2))
    )
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# Published test vectors --------------------------------------------------------------

# googollee/eviltransform python/test.py: (wgsLat, wgsLng, gcjLat, gcjLng)
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_eviltransform_vectors(wlat, wlon, glat, glon):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_eviltransform_vectors(wlat, wlon, glat, glon):
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert dist_m(lon, lat, wlon, wlat).max() < 0.01


def test_coordtransform_readme_vectors():
    # wandergis/coordtransform README, input (116.404, 39.915) near Tiananmen, Beijing.
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx((116.41024449916938, 39.91640428150164))
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx((116.41036949371029, 39.92133699351021))
    # coordtransform's inverses are single-step approximations: ours are exact, so they
    # agree only to a few centimetres (BD) or decimetres (GCJ).
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    assert dist_m(lon, lat, 116.39762729119315, 39.90865673957631) < 0.1
    lon, lat = gcj02_to_wgs84(116.404, 39.915)
    assert dist_m(lon, lat, 116.39775550083061, 39.91359571849836) < 1.0


def test_gcoord_vectors():
    # hujiulong/gcoord test/unit/crs/*.spec.ts, input (123, 45), checked to 5 decimals.
    cases = [
        (gcj02_to_wgs84, (122.99395597, 44.99804071)),
        (gcj02_to_bd09, (123.00636499, 45.00636899)),
        (bd09_to_gcj02, (122.99363304, 44.99365430)),
        (bd09_to_wgs84, (122.98762210, 44.99171540)),
    ]
    for func, expected in cases:
        lon, lat = func(123.0, 45.0)
        assert float(lon) == pytest.approx(expected[0], abs=5e-6), func.__name__
        assert float(lat) == pytest.approx(expected[1], abs=5e-6), func.__name__


def test_exact_bd_inverse_beats_closed_form():
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    blon, blat = gcj02_to_bd09(lon, lat)
    assert dist_m(blon, blat, 116.404, 39.915) < 0.001
    # The published closed-form inverse maps forward to a few centimetres off.
    blon2, blat2 = gcj02_to_bd09(116.39762729119315, 39.90865673957631)
    assert dist_m(blon2, blat2, 116.404, 39.915) > dist_m(blon, blat, 116.404, 39.915)


# Round trips -------------------------------------------------------------------------

china_lon = st.floats(73.0, 135.0)
china_lat = st.floats(18.0, 54.0)
suzhou_lon = st.floats(120.3, 121.2)
suzhou_lat = st.floats(30.8, 32.0)


def _grid(lons: list[float], lats: list[float]) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.asarray(lons), np.asarray(lats))
    return lon.ravel(), lat.ravel()


def _roundtrip_errors(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, float]:
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    w2_lon, w2_lat = bd09_to_wgs84(b_lon, b_lat)
    g2_lon, g2_lat = bd09_to_gcj02(*gcj02_to_bd09(g_lon, g_lat))
    return (
        float(dist_m(lon, lat, w_lon, w_lat).max()),
        float(dist_m(lon, lat, w2_lon, w2_lat).max()),
        float(dist_m(g_lon, g_lat, g2_lon, g2_lat).max()),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(china_lon, min_size=1, max_size=20),
    st.lists(china_lat, min_size=1, max_size=20),
)
def test_roundtrip_china_grid(lons, lats):
    gcj_err, bd_err, bd_gcj_err = _roundtrip_errors(*_grid(lons, lats))
    assert gcj_err < 0.5
    assert bd_err < 0.5
    assert bd_gcj_err < 0.01


@settings(max_examples=60, deadline=None)
@given(
    st.lists(suzhou_lon, min_size=1, max_size=20),
    st.lists(suzhou_lat, min_size=1, max_size=20),
)
def test_roundtrip_suzhou_grid(lons, lats):
    gcj_err, bd_err, bd_gcj_err = _roundtrip_errors(*_grid(lons, lats))
    assert gcj_err < 0.5
    assert bd_err < 0.5
    assert bd_gcj_err < 0.01


def test_roundtrip_dense_grids_are_centimetre_exact():
    for lon_range, lat_range in [((73, 135), (18, 54)), ((120.3, 121.2), (30.8, 32.0))]:
        lon, lat = _grid(list(np.linspace(*lon_range, 150)), list(np.linspace(*lat_range, 150)))
        gcj_err, bd_err, bd_gcj_err = _roundtrip_errors(lon, lat)
        assert gcj_err < 0.01
        assert bd_err < 0.01
        assert bd_gcj_err < 0.01


@settings(max_examples=50, deadline=None)
@given(suzhou_lon, suzhou_lat)
def test_offset_magnitudes_around_suzhou(lon, lat):
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    gcj_offset = float(dist_m(lon, lat, g_lon, g_lat))
    assert 400.0 < gcj_offset < 600.0
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    bd_offset = float(dist_m(lon, lat, b_lon, b_lat))
    assert 1000.0 < bd_offset < 1300.0
    # Around Suzhou GCJ-02 moves points east (~0.0045°) and south (~0.002°).
    assert 0.004 < g_lon - lon < 0.005
    assert -0.0026 < g_lat - lat < -0.0017


# Edge cases --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat"), [(2.35, 48.86), (-74.0, 40.7), (183.0, 45.0), (100.0, 60.0)]
)
def test_out_of_china_passthrough(lon, lat):
    assert tuple(map(float, wgs84_to_gcj02(lon, lat))) == (lon, lat)
    assert tuple(map(float, gcj02_to_wgs84(lon, lat))) == (lon, lat)


def test_nan_passthrough():
    lon = np.array([np.nan, 120.6, 120.6, np.nan])
    lat = np.array([31.3, np.nan, 31.3, np.nan])
    for func in (
        wgs84_to_gcj02,
        gcj02_to_wgs84,
        gcj02_to_bd09,
        bd09_to_gcj02,
        wgs84_to_bd09,
        bd09_to_wgs84,
    ):
        out_lon, out_lat = func(lon, lat)
        assert np.isnan(out_lon[[0, 1, 3]]).all(), func.__name__
        assert np.isnan(out_lat[[0, 1, 3]]).all(), func.__name__
        assert np.isfinite(out_lon[2]) and np.isfinite(out_lat[2]), func.__name__


def test_shapes_and_scalars():
    lon, lat = wgs84_to_gcj02(120.6, 31.3)
    assert lon.shape == () and lat.shape == ()
    lon, lat = gcj02_to_wgs84(np.full((3, 4), 120.6), 31.3)
    assert lon.shape == (3, 4) and lat.shape == (3, 4)
    lon, lat = bd09_to_wgs84([120.6, 120.7], [31.3, 31.4])
    assert lon.dtype == np.float64 and lon.shape == (2,)


def test_inputs_not_modified():
    lon = np.array([120.6, 120.7])
    lat = np.array([31.3, 31.4])
    gcj02_to_wgs84(lon, lat)
    bd09_to_wgs84(lon, lat)
    assert lon.tolist() == [120.6, 120.7]
    assert lat.tolist() == [31.3, 31.4]


def test_vectorised_100k_points_quickly():
    rng = np.random.default_rng(42)
    lon = rng.uniform(73, 135, 100_000)
    lat = rng.uniform(18, 54, 100_000)
    start = time.perf_counter()
    w_lon, w_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0
    assert dist_m(lon, lat, w_lon, w_lat).max() < 0.5


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.integers(0, 30), elements=st.floats(allow_nan=True, width=64)))
def test_arbitrary_floats_never_crash(values):
    for func in (gcj02_to_wgs84, bd09_to_wgs84, wgs84_to_bd09):
        lon, lat = func(values, values[::-1].copy())
        assert lon.shape == values.shape
        assert lat.shape == values.shape


# Names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("WGS 84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("epsg:4326", "wgs84"),
        ("4326", "wgs84"),
        ("cgcs2000", "cgcs2000"),
        ("CGCS2000", "cgcs2000"),
        ("EPSG:4490", "cgcs2000"),
        ("4490", "cgcs2000"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("高德", "gcj02"),
        ("腾讯", "gcj02"),
        ("火星", "gcj02"),
        ("火星坐标", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("百度", "bd09"),
        (" 百度 ", "bd09"),
        ("EPSG:4549", "EPSG:4549"),
        ("epsg:3857", "EPSG:3857"),
    ],
)
def test_normalize_source_crs_accepts(value, expected):
    assert normalize_source_crs(value) == expected


@pytest.mark.parametrize(
    "value", ["", "  ", "wgs85", "google", "EPSG:999999", "EPSG:abc", "xian80"]
)
def test_normalize_source_crs_rejects(value):
    with pytest.raises(InputError) as info:
        normalize_source_crs(value)
    err = info.value
    assert "gcj02" in err.message_zh and "gcj02" in err.message_en
    assert "百度" in err.message_en and "EPSG:NNNN" in err.message_zh


def test_source_crs_names():
    assert SOURCE_CRS_NAMES == ("wgs84", "cgcs2000", "gcj02", "bd09")
    for name in SOURCE_CRS_NAMES:
        assert normalize_source_crs(name) == name


# Dispatch ----------------------------------------------------------------------------


def test_to_wgs84_dispatch():
    lon, lat = np.array([120.62, 120.74]), np.array([31.31, 31.32])
    for name in ("wgs84", "cgcs2000", "EPSG:4490"):
        out = to_wgs84(lon, lat, name)
        np.testing.assert_array_equal(out[0], lon)
        np.testing.assert_array_equal(out[1], lat)
    np.testing.assert_allclose(to_wgs84(lon, lat, "高德"), gcj02_to_wgs84(lon, lat))
    np.testing.assert_allclose(to_wgs84(lon, lat, "BD-09"), bd09_to_wgs84(lon, lat))


def test_to_wgs84_projected_epsg():
    # EPSG:4549 = CGCS2000 / 3-degree Gauss-Kruger CM 120E: x = 500000 m on 120 E.
    x, y = from_wgs84(120.62, 31.31, "EPSG:4549")
    assert 500_000 < float(x) < 600_000
    lon, lat = to_wgs84(x, y, "EPSG:4549")
    assert dist_m(lon, lat, 120.62, 31.31) < 0.01


def test_from_wgs84_inverts_to_wgs84():
    lon, lat = np.array([120.62, 121.12]), np.array([31.31, 31.55])
    for target in ("gcj02", "bd09", "wgs84"):
        back = to_wgs84(*from_wgs84(lon, lat, target), target)
        assert dist_m(lon, lat, *back).max() < 0.01
    np.testing.assert_allclose(from_wgs84(lon, lat, "GCJ-02"), wgs84_to_gcj02(lon, lat))


def test_to_wgs84_rejects_unknown_name():
    with pytest.raises(InputError):
        to_wgs84(120.6, 31.3, "lambert")
