"""Tests of coverage_gis.io.boundaries.check_coverage (overlaps and gaps between units)."""

from __future__ import annotations

import itertools
import re

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from coverage_gis.findings import Finding
from coverage_gis.io.boundaries import _equal_area_m2, check_coverage

GEOD = pyproj.Geod(ellps="WGS84")
CELL = 0.02  # degrees


def geodesic_m2(geom: shapely.Geometry) -> float:
    """Reference area: pyproj's geodesic area of the outline densified to ~50 m steps."""
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 0.0005))[0])


def detailed_outline(
    x0: float, y0: float, x1: float, y1: float, rng: np.random.Generator, jitter: float = 1e-7
) -> shapely.Polygon:
    """A rectangle outline with 300–500 vertices at random places along its edges.

    Each unit gets its own vertices, so neighbours share their edges' lines but not their
    vertices (not noded); the inserted vertices move across the edge by up to ``jitter``
    degrees (1e-7° ≈ 1 cm), leaving slivers of a few m² as real exports do.
    """
    corners = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
    pieces = []
    for a, b in itertools.pairwise(corners):
        t = np.sort(rng.uniform(0, 1, int(rng.integers(75, 125))))
        pts = a + t[:, None] * (b - a)
        across = 1 if a[0] == b[0] else 0  # the coordinate that is constant along the edge
        pts[:, across] += rng.uniform(-jitter, jitter, len(t))
        pieces += [a[None, :], pts]
    return shapely.Polygon(np.concatenate(pieces))


def grid_units(
    n: int = 6, *, x0: float = 120.0, y0: float = 31.0, noded: bool = False, seed: int = 1
) -> gpd.GeoDataFrame:
    """An n × n grid of CELL-sized units; detailed and not noded unless ``noded``."""
    rng = np.random.default_rng(seed)
    geoms, codes = [], []
    for i in range(n):
        for j in range(n):
            box = (x0 + j * CELL, y0 + i * CELL, x0 + (j + 1) * CELL, y0 + (i + 1) * CELL)
            geoms.append(shapely.box(*box) if noded else detailed_outline(*box, rng))
            codes.append(f"{i}{j}")
    return gpd.GeoDataFrame(
        {"code": codes, "name": [f"{c}镇" for c in codes]}, geometry=geoms, crs=4326
    )


def area_of(f: Finding) -> float:
    number = re.search(r"(?:by|Gap of) ([\d,]+) m²", f.message_en)
    assert number is not None
    return float(number.group(1).replace(",", ""))


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (75.99, 39.47),  # Kashgar, Xinjiang (far west)
        (87.62, 43.83),  # Ürümqi
        (105.0, 35.0),  # the centre
        (126.63, 45.75),  # Harbin (far east)
        (134.5, 48.2),  # Fuyuan, the easternmost county
        (112.34, 16.83),  # Sansha
        (112.28, 3.97),  # Zengmu Ansha
    ],
)
def test_areas_match_geodesic_areas_across_china(lon, lat):
    square = shapely.box(lon, lat, lon + CELL, lat + CELL)
    circle = shapely.Point(lon, lat).buffer(0.05, quad_segs=64)
    for geom in (square, circle, shapely.MultiPolygon([square, circle.difference(square)])):
        assert _equal_area_m2(np.array([geom]))[0] == pytest.approx(geodesic_m2(geom), rel=1e-4)
    # an overlap far from any one UTM zone's meridian is measured right as well
    a = shapely.box(lon, lat, lon + CELL, lat + CELL)
    b = shapely.box(lon + CELL / 2, lat, lon + CELL * 1.5, lat + CELL)
    units = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["甲", "乙"]}, geometry=[a, b], crs=4326)
    (over,) = check_coverage(units)
    assert area_of(over) == pytest.approx(geodesic_m2(a.intersection(b)), rel=1e-4)


def test_areas_in_a_projected_crs_are_converted():
    units = grid_units(3, noded=True)
    units = units[units["code"] != "11"]
    (gap,) = check_coverage(units.to_crs("EPSG:4549"))
    assert area_of(gap) == pytest.approx(
        geodesic_m2(shapely.box(120.02, 31.02, 120.04, 31.04)), rel=1e-3
    )
