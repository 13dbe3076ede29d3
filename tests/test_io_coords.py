"""Tests of coverage_gis.io.coords (coordinate cells as planners type them)."""

from __future__ import annotations

import decimal
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gis.io.coords import (
    CHINA_BOUNDS,
    CHINA_LAT_RANGE,
    CHINA_LON_RANGE,
    OUT_OF_CHINA_EN,
    OUT_OF_CHINA_ZH,
    detect_swapped,
    in_china,
    parse_coordinate_value,
    parse_coordinate_values,
)

DMS_120 = 120 + 37 / 60 + 12.5 / 3600


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (120.62, 120.62),
        (120, 120.0),
        (np.float32(31.5), 31.5),
        (np.int64(121), 121.0),
        (decimal.Decimal("120.62"), 120.62),
        ("120.62", 120.62),
        (" 120.62 ", 120.62),
        ("\u3000120.62\t", 120.62),
        ("１２０．６２", 120.62),
        ("-31.5", -31.5),
        ("120°37′12.5″", DMS_120),
        ("120°37'12.5\"", DMS_120),
        ("120°37'12.5''", DMS_120),
        ("120°37’12.5”", DMS_120),
        ("120度37分12.5秒", DMS_120),
        ("E120°37′12.5″", DMS_120),
        ("120°37′12.5″E", DMS_120),
        ("120°37′12.5″ E", DMS_120),
        ("e120°37′12.5″", DMS_120),
        ("东经120°37′12.5″", DMS_120),
        ("１２０°３７′１２．５″", DMS_120),
        ("120º37′12.5″", DMS_120),
        ("120 37 12.5", DMS_120),
        ("N31°18′", 31.3),
        ("31°18′N", 31.3),
        ("北纬31度18分", 31.3),
        ("31°18.5′", 31 + 18.5 / 60),
        ("120.62°", 120.62),
        ("120.62°E", 120.62),
        ("W120°30′", -120.5),
        ("120°30′W", -120.5),
        ("S31°30'", -31.5),
        ("-120°30′", -120.5),
        ("N 31° 18′ 30″", 31 + 18 / 60 + 30 / 3600),
    ],
)
def test_parses_planner_spellings(cell, expected):
    values, bad = parse_coordinate_values([cell])
    assert not bad[0]
    assert values[0] == pytest.approx(expected, abs=1e-9)
    assert parse_coordinate_value(cell) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("cell", [None, math.nan, np.nan, pd.NA, "", "   ", "\u3000", float("nan")])
def test_blank_cells_are_nan_not_unparsable(cell):
    values, bad = parse_coordinate_values([cell])
    assert np.isnan(values[0])
    assert not bad[0]


@pytest.mark.parametrize(
    "cell",
    [
        "abc",
        "nan",
        "inf",
        "-inf",
        float("inf"),
        True,
        False,
        "120°70′",  # minutes >= 60
        "120°30′75″",  # seconds >= 60
        "120.5°37′",  # fractional degrees with minutes
        "120°30.5′12″",  # fractional minutes with seconds
        "E120°W",
        "E120°30′N",
        "-W120°",
        "200°30′",  # beyond 180 degrees
        "1_000",
        "-",
        "°",
        "E",
        "120,62",
        "120.62.1",
        "见附件",
        object(),
        [120.6],
    ],
)
def test_junk_is_unparsable(cell):
    values, bad = parse_coordinate_values([cell])
    assert np.isnan(values[0])
    assert bad[0]
    assert parse_coordinate_value(cell) is None


def test_mixed_column():
    cells = [120.62, "120.62", None, "abc", "120°37′12.5″", "", "N31°18′", True]
    values, bad = parse_coordinate_values(cells)
    assert values.dtype == np.float64 and bad.dtype == np.bool_
    np.testing.assert_allclose(
        values, [120.62, 120.62, np.nan, np.nan, DMS_120, np.nan, 31.3, np.nan]
    )
    assert bad.tolist() == [False, False, False, True, False, False, False, True]


def test_accepts_series_arrays_and_empty():
    values, bad = parse_coordinate_values(pd.Series(["120.6", None, "x"], dtype="string"))
    assert values[0] == 120.6 and np.isnan(values[1]) and bad.tolist() == [False, False, True]
    values, bad = parse_coordinate_values(np.array([1.5, np.nan]))
    assert values[0] == 1.5 and not bad.any()
    values, bad = parse_coordinate_values([])
    assert values.shape == (0,) and bad.shape == (0,)


def test_large_plain_column_is_fast():
    cells = [f"{120 + i * 1e-5:.5f}" for i in range(200_000)]
    values, bad = parse_coordinate_values(cells)
    assert not bad.any()
    assert values[-1] == pytest.approx(120 + 199_999e-5)


# Property: DMS formatting round-trips ---------------------------------------------------

STYLES = [
    lambda d, m, s, h: f"{d}°{m}′{s}″",
    lambda d, m, s, h: f"{d}°{m}'{s}\"",
    lambda d, m, s, h: f"{d}度{m}分{s}秒",
    lambda d, m, s, h: f"{h}{d}°{m}′{s}″",
    lambda d, m, s, h: f"{d}°{m}′{s}″{h}",
    lambda d, m, s, h: f"{d} {m} {s}",
    lambda d, m, s, h: f"{d}°{m}'{s}''",
]


@settings(max_examples=300, deadline=None)
@given(
    value=st.floats(0.0, 179.999999, allow_nan=False),
    style=st.sampled_from(range(len(STYLES))),
    hemi=st.sampled_from(["E", "N", "W", "S"]),
)
def test_dms_roundtrip(value, style, hemi):
    total_seconds = round(value * 3600, 6)
    d, rest = divmod(total_seconds, 3600)
    m, s = divmod(rest, 60)
    text = STYLES[style](int(d), int(m), f"{s:.6f}", hemi)
    expected = d + m / 60 + s / 3600
    if style in (3, 4) and hemi in ("W", "S"):
        expected = -expected
    values, bad = parse_coordinate_values([text])
    assert not bad[0], text
    assert values[0] == pytest.approx(expected, abs=1e-6), text
    assert abs(abs(values[0]) - value) < 1e-6


@settings(max_examples=200, deadline=None)
@given(value=st.floats(18.0, 54.0), minutes_only=st.booleans())
def test_decimal_minutes_roundtrip(value, minutes_only):
    total_minutes = round(value * 60, 8)
    d, m = divmod(total_minutes, 60)
    d = int(d)
    text = f"N{d}°{m:.8f}′" if minutes_only else f"{d}度{m:.8f}分"
    values, bad = parse_coordinate_values([text])
    assert not bad[0]
    assert values[0] == pytest.approx(value, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), st.none(), st.floats(), st.integers())))
def test_junk_never_raises(cells):
    values, bad = parse_coordinate_values(cells)
    assert values.shape == (len(cells),) and bad.shape == (len(cells),)
    # Unparsable cells are NaN; everything that is not NaN is finite.
    assert np.isnan(values[bad]).all()
    assert np.isfinite(values[~np.isnan(values)]).all()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789.°′″'\"度分秒ENWS东北西南 -+:", max_size=16))
def test_dms_like_junk_never_raises(text):
    values, bad = parse_coordinate_values([text])
    assert bad[0] or np.isnan(values[0]) or math.isfinite(values[0])


# Boxes -----------------------------------------------------------------------------------


def test_in_china():
    lon = np.array([120.6, 73.0, 135.0, 72.9, 120.6, np.nan, 2.35])
    lat = np.array([31.3, 18.0, 54.0, 31.0, 54.1, 31.3, 48.86])
    assert in_china(lon, lat).tolist() == [True, True, True, False, False, False, False]


def test_detect_swapped():
    lon = np.array([31.3, 120.6, np.nan, 200.0, 2.35, 40.0])
    lat = np.array([120.6, 31.3, 31.3, 31.0, 48.86, 40.0])
    # 40, 40 is outside China either way; NaN is never flagged.
    assert detect_swapped(lon, lat).tolist() == [True, False, False, False, False, False]


def test_china_box_includes_the_south_china_sea_islands():
    # Sansha (Yongxing island), Zengmu Ansha (southernmost), Mohe, the Pamirs, Heixiazi island
    lon = np.array([112.34, 112.28, 122.35, 73.5, 135.08])
    lat = np.array([16.83, 3.97, 53.48, 39.0, 48.35])
    assert in_china(lon, lat).all()
    # Japan (140 E), south of Zengmu Ansha, north of Mohe, west of the Pamirs
    lon = np.array([140.0, 112.3, 122.3, 72.5, 135.2])
    lat = np.array([35.7, 3.5, 54.2, 39.0, 48.0])
    assert not in_china(lon, lat).any()
    assert (CHINA_LON_RANGE, CHINA_LAT_RANGE) == ((73.0, 135.1), (3.8, 54.0))
    assert CHINA_BOUNDS == (73.0, 3.8, 135.1, 54.0)


def test_swaps_stay_unambiguous_with_the_larger_box():
    # Every latitude of the box is below every longitude: no pair is inside both ways round.
    assert CHINA_LAT_RANGE[1] < CHINA_LON_RANGE[0]
    # Suzhou and Sansha entered as (lat, lon) are swaps; Sansha as entered is not.
    lon = np.array([31.3, 16.83, 112.34, 40.0, 10.0])
    lat = np.array([120.6, 112.34, 16.83, 40.0, 60.0])
    assert detect_swapped(lon, lat).tolist() == [True, True, False, False, False]


@given(
    st.floats(-180, 180, allow_nan=False),
    st.floats(-90, 180, allow_nan=False),
)
def test_a_pair_is_in_china_in_at_most_one_order(a, b):
    assert not (in_china(a, b) and in_china(b, a))
    assert not (detect_swapped(a, b) and in_china(a, b))


def test_out_of_china_message_quotes_the_box():
    assert OUT_OF_CHINA_ZH == "坐标不在中国范围内（经度73–135.1，纬度3.8–54）"
    assert OUT_OF_CHINA_EN == "Coordinates outside China (lon 73–135.1, lat 3.8–54)"
