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
from coverage_gis.io.boundaries import _equal_area_m2, _settle, _suspect_units, check_coverage

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


def brute_force(units: gpd.GeoDataFrame, min_area_m2: float = 100.0) -> dict:
    """The definition: every touching pair intersected, the holes of ``union_all``."""
    g = units.geometry.to_numpy()
    codes = units["code"].to_numpy()
    out = {}
    left, right = shapely.STRtree(g).query(g, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    for i, j, a in zip(
        left, right, _equal_area_m2(shapely.intersection(g[left], g[right])), strict=True
    ):
        if a > min_area_m2:
            out[("units_overlap", f"{codes[i]}/{codes[j]}")] = a
    union = shapely.union_all(g)
    rings = [r for p in shapely.get_parts(union) for r in p.interiors]
    holes = np.array([shapely.Polygon(r) for r in rings], dtype=object)
    for a, c in zip(_equal_area_m2(holes), shapely.centroid(holes), strict=True):
        if a > min_area_m2:
            out[("units_gap", f"{c.x:.5f},{c.y:.5f}")] = a
    return out


def assert_same_report(units: gpd.GeoDataFrame) -> list[Finding]:
    findings = check_coverage(units)
    got = {(f.code, f.value): area_of(f) for f in findings}
    expected = brute_force(units)
    assert got.keys() == expected.keys()
    for key, a in expected.items():
        assert got[key] == pytest.approx(a, abs=1.0), key
    return findings


def test_detailed_non_noded_units_overlap_and_gap_found():
    units = grid_units()
    g = units.geometry.to_numpy()
    assert shapely.get_num_coordinates(g).min() >= 300
    assert not shapely.coverage_is_valid(g)
    assert _suspect_units(g).all()  # no unit's edges match its neighbours'
    rng = np.random.default_rng(7)
    # 23 reaches 0.004° into 24; 31's west edge moves 0.003° east, leaving a strip
    grow = (120.06, 31.04, 120.08 + 0.004, 31.06)
    units.loc[units["code"] == "23", "geometry"] = detailed_outline(*grow, rng)
    shrink = (120.02 + 0.003, 31.06, 120.04, 31.08)
    units.loc[units["code"] == "31", "geometry"] = detailed_outline(*shrink, rng)

    findings = assert_same_report(units)

    over = [f for f in findings if f.code == "units_overlap"]
    gaps = [f for f in findings if f.code == "units_gap"]
    assert [f.value for f in over] == ["23/24"]
    assert "23镇 and 24镇 overlap by" in over[0].message_en
    expected = geodesic_m2(shapely.box(120.08, 31.04, 120.084, 31.06))  # ≈ 845,000 m²
    assert area_of(over[0]) == pytest.approx(expected, rel=1e-3)
    assert len(gaps) == 1
    expected = geodesic_m2(shapely.box(120.02, 31.06, 120.023, 31.08))  # ≈ 634,000 m²
    assert area_of(gaps[0]) == pytest.approx(expected, rel=1e-3)
    x, y = map(float, gaps[0].value.split(","))
    assert (x, y) == pytest.approx((120.0215, 31.07), abs=1e-4)
    assert all(f.column == "geometry" and f.severity == "warning" for f in findings)


def test_noded_coverage_and_mixed_coverage():
    units = grid_units(8, noded=True)
    assert shapely.coverage_is_valid(units.geometry.to_numpy())
    assert check_coverage(units) == []
    # 22 is missing; 23, redrawn in detail (not noded), reaches 0.005° into 22's place and
    # 44 into 45. The clean units around them enclose the suspect ones: the holes of their
    # dissolved union are settled only once the suspect units are merged in.
    units = units[units["code"] != "22"].reset_index(drop=True)
    rng = np.random.default_rng(3)
    redrawn = {"23": (120.055, 31.04, 120.08, 31.06), "44": (120.08, 31.08, 120.101, 31.1)}
    for code, box in redrawn.items():
        units.loc[units["code"] == code, "geometry"] = detailed_outline(*box, rng)
    suspect = _suspect_units(units.geometry.to_numpy())
    assert 2 <= suspect.sum() < 12  # the redrawn units and their neighbours
    findings = assert_same_report(units)
    assert [f.value for f in findings if f.code == "units_overlap"] == ["44/45"]
    gaps = [f for f in findings if f.code == "units_gap"]
    assert len(gaps) == 1  # 22's place less the part 23 covers
    assert area_of(gaps[0]) == pytest.approx(
        geodesic_m2(shapely.box(120.04, 31.04, 120.055, 31.06)), rel=1e-4
    )


def test_islands_donuts_duplicates_and_nesting():
    donut = shapely.box(120.0, 31.0, 120.1, 31.1).difference(
        shapely.box(120.02, 31.02, 120.08, 31.08)
    )
    geoms = [
        donut,
        shapely.box(120.04, 31.04, 120.06, 31.06),  # an island in the donut's hole
        shapely.box(120.1, 31.0, 120.2, 31.1).difference(shapely.box(120.13, 31.03, 120.14, 31.04)),
        shapely.box(120.15, 31.05, 120.16, 31.06),  # inside the unit above
        shapely.box(120.1, 31.1, 120.2, 31.2),
        shapely.box(120.1, 31.1, 120.2, 31.2),  # a duplicate
        shapely.box(120.3, 31.0, 120.4, 31.1),  # far away, alone
        shapely.box(120.3, 31.2, 120.4, 31.3).difference(shapely.box(120.32, 31.22, 120.38, 31.28)),
        shapely.box(120.34, 31.19, 120.36, 31.31),  # across that donut: its hole is split
    ]
    units = gpd.GeoDataFrame(
        {"code": [str(i) for i in range(len(geoms))], "name": list("甲乙丙丁戊己庚辛壬")},
        geometry=geoms,
        crs=4326,
    )
    findings = assert_same_report(units)
    assert [f.value for f in findings if f.code == "units_overlap"] == ["2/3", "4/5", "7/8"]
    gaps = {f.value: area_of(f) for f in findings if f.code == "units_gap"}
    # the donut's hole is reported whole (its island included), as union_all's ring is
    assert gaps["120.05000,31.05000"] == pytest.approx(
        geodesic_m2(shapely.box(120.02, 31.02, 120.08, 31.08)), rel=1e-4
    )
    for x in (120.33, 120.37):  # the two halves of the split hole
        assert gaps[f"{x:.5f},31.25000"] == pytest.approx(
            geodesic_m2(shapely.box(x - 0.01, 31.22, x + 0.01, 31.28)), rel=1e-4
        )
    assert len(gaps) == 4


def test_fewer_than_two_units_or_no_polygons():
    units = grid_units(1, noded=True)
    assert check_coverage(units) == []
    units = grid_units(2, noded=True)
    units["geometry"] = [None, shapely.Point(120, 31), shapely.LineString([(1, 1), (2, 2)]), None]
    assert check_coverage(units) == []


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


def test_settle_takes_holes_no_other_node_reaches():
    donut = shapely.box(0, 0, 10, 10).difference(shapely.box(2, 2, 8, 8))
    island, other = shapely.box(4, 4, 5, 5), shapely.box(20, 0, 30, 10)
    polys = np.array([donut, island, other])
    tree = shapely.STRtree(polys)
    cur = np.array([shapely.union(donut, island), other])
    found: list[np.ndarray] = []
    out = _settle(cur, np.array([0, 1]), np.array([0, 0, 1]), tree, found)
    assert len(found) == 1 and found[0][0].normalize() == shapely.box(2, 2, 8, 8).normalize()
    # filled, and the island (inside the filled hole) dropped: a valid single polygon
    assert shapely.get_num_geometries(out[0]) == 1 and out[1] is other
    assert shapely.equals(out[0], shapely.box(0, 0, 10, 10))
    # when the island belongs to another node, the hole is left for a later merge
    found = []
    cur = np.array([donut, shapely.union(island, other)])
    out = _settle(cur, np.array([0, 1]), np.array([0, 1, 1]), tree, found)
    assert found == [] and out is cur
