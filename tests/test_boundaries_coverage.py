"""Tests of coverage_gis.io.boundaries.check_coverage (overlaps and gaps between units)."""

from __future__ import annotations

import itertools
import re

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from coverage_gis.core.findings import Finding
from coverage_gis.io import boundaries, check_cache
from coverage_gis.io.boundaries import (
    SLIVER_WIDTH_M,
    _equal_area_m2,
    _measure,
    _settle,
    _suspect_units,
    check_coverage,
)

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
        across = 0 if a[0] == b[0] else 1  # the coordinate that is constant along the edge
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


def geodesic_perimeter(geom: shapely.Geometry) -> float:
    """Reference perimeter: pyproj's geodesic lengths of every ring, holes' included."""
    rings = shapely.get_rings(shapely.get_parts(geom))
    return sum(GEOD.geometry_length(r) for r in rings)


def mean_width(geom: shapely.Geometry) -> float:
    """Reference mean width 2·area/perimeter from pyproj's geodesic area and perimeter."""
    perimeter = geodesic_perimeter(geom)
    return 2 * abs(GEOD.geometry_area_perimeter(geom)[0]) / perimeter if perimeter else 0.0


def brute_force(units: gpd.GeoDataFrame, min_area_m2: float = 100.0) -> dict:
    """The definition: every touching pair intersected, the holes of ``union_all``.

    A pair is reported when a piece of its intersection is at least SLIVER_WIDTH_M wide on
    average and larger than ``min_area_m2`` (with the whole intersection's area); a hole
    when its free space (less the units inside it) is that wide and the whole hole larger
    than ``min_area_m2``. The rest are slivers: ``("slivers", kind)`` holds the pieces
    over SLIVER_MIN_M2 as ``(area, width)`` arrays.
    """
    g = units.geometry.to_numpy()
    codes = units["code"].to_numpy()
    out: dict = {}
    left, right = shapely.STRtree(g).query(g, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    slivers: dict[str, list] = {"overlap": [], "gap": []}
    for i, j, inter in zip(left, right, shapely.intersection(g[left], g[right]), strict=True):
        parts = [p for p in shapely.get_parts(inter) if p.geom_type == "Polygon"]
        if not parts:
            continue
        areas = _equal_area_m2(np.array(parts, dtype=object))
        widths = [mean_width(p) for p in parts]
        if any(w >= SLIVER_WIDTH_M and a > min_area_m2 for a, w in zip(areas, widths, strict=True)):
            out[("units_overlap", f"{codes[i]}/{codes[j]}")] = areas.sum()
        else:
            slivers["overlap"] += [(a, w) for a, w in zip(areas, widths, strict=True) if a > 1.0]
    union = shapely.union_all(g)
    rings = [r for p in shapely.get_parts(union) for r in p.interiors]
    holes = np.array([shapely.Polygon(r) for r in rings], dtype=object)
    for hole, a, c in zip(holes, _equal_area_m2(holes), shapely.centroid(holes), strict=True):
        w = mean_width(hole.difference(union))
        if w >= SLIVER_WIDTH_M and a > min_area_m2:
            out[("units_gap", f"{c.x:.5f},{c.y:.5f}")] = a
        elif a > 1.0:
            slivers["gap"].append((a, w))
    for kind, pieces in slivers.items():
        out[("slivers", kind)] = np.array(pieces, dtype=float).reshape(-1, 2).T
    return out


def real_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code in ("units_overlap", "units_gap")]


def assert_same_report(units: gpd.GeoDataFrame) -> list[Finding]:
    findings = check_coverage(units)
    got = {(f.code, f.value): area_of(f) for f in real_findings(findings)}
    expected = {k: v for k, v in brute_force(units).items() if k[0] != "slivers"}
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
    assert all(f.column == "geometry" for f in findings)
    assert all(f.severity == "warning" for f in real_findings(findings))
    # the 1 cm slivers along the other edges are only summarised
    assert set(sliver_findings(findings)) <= {"units_sliver_overlap", "units_sliver_gap"}


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


# --- slivers ---------------------------------------------------------------------------

M = 1 / 111_320  # about a metre north-south, in degrees
M_EAST = M / np.cos(np.radians(31.06))  # about a metre east-west at these grids' latitude


def sliver_findings(findings: list[Finding]) -> dict[str, Finding]:
    return {f.code: f for f in findings if f.code.startswith("units_sliver_")}


def jittered_grid(n: int, metres: float, seed: int = 5) -> gpd.GeoDataFrame:
    """An n × n grid of detailed outlines jittered across their edges by up to ``metres``
    (each redrawn until valid: near a corner the jitter can fold an outline)."""
    units = grid_units(n, noded=True)
    rng = np.random.default_rng(seed)
    outlines = []
    for cell in units.geometry:
        outline = detailed_outline(*shapely.bounds(cell), rng, jitter=metres * M)
        while not outline.is_valid:
            outline = detailed_outline(*shapely.bounds(cell), rng, jitter=metres * M)
        outlines.append(outline)
    units["geometry"] = outlines
    return units


def numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def test_slivers_of_non_noded_boundaries_are_summarised_not_listed():
    # jittered by up to 3 m: slivers of overlap and gap a few metres wide along every edge
    units = jittered_grid(5, 3.0)
    expected = brute_force(units)
    findings = assert_same_report(units)
    assert real_findings(findings) == []
    slivers = sliver_findings(findings)
    assert set(slivers) == {"units_sliver_overlap", "units_sliver_gap"}
    assert slivers["units_sliver_overlap"].severity == "warning"
    assert slivers["units_sliver_gap"].severity == "info"
    for kind in ("overlap", "gap"):
        f = slivers[f"units_sliver_{kind}"]
        areas, widths = expected[("slivers", kind)]
        # fewer units than SLIVER_SAMPLE_UNITS: every one measured, nothing estimated
        assert "estimated" not in f.message_en and "估算" not in f.message_zh
        assert f.count == len(areas) > 50
        zh, en = numbers(f.message_zh), numbers(f.message_en)
        total = float(f.message_en.split(" m² in all")[0].split()[-1].replace(",", ""))
        assert total == pytest.approx(areas.sum(), rel=1e-6, abs=1)
        widest = float(f.message_en.split("the widest ")[1].split(" m")[0])
        assert widest == pytest.approx(widths.max(), abs=0.051) and widest < SLIVER_WIDTH_M
        largest = float(f.message_en.split("Largest: ")[1].split(" m²")[0].replace(",", ""))
        assert largest == pytest.approx(areas.max(), abs=0.5)
        assert f"{f.count:,}" in f.message_zh and zh and en
        assert f.suggestion and "snap" in f.suggestion


def test_slivers_estimated_from_a_sample_of_pairs(monkeypatch):
    units = jittered_grid(5, 3.0)
    exact = sliver_findings(check_coverage(units))
    monkeypatch.setattr(boundaries, "SLIVER_SAMPLE_UNITS", 8)
    sampled = sliver_findings(check_coverage(units))
    for code, f in sampled.items():
        assert (
            "(estimated from a sample of 8 of 25 units)" in f.message_en
            and "抽样估算" in f.message_zh
        )
        assert "about " in f.message_en and "the widest measured" in f.message_en
        assert f.count == pytest.approx(exact[code].count, rel=0.35)


def strip_units(shift_m: dict[str, float]) -> gpd.GeoDataFrame:
    """A noded 4 × 4 grid; a unit's east edge moved by ``shift_m`` metres (+ into its
    neighbour: an overlap strip; -: a gap strip), the neighbour left as it is."""
    units = grid_units(4, noded=True)
    for code, shift in shift_m.items():
        x0, y0, x1, y1 = shapely.bounds(units.loc[units["code"] == code, "geometry"].iloc[0])
        moved = shapely.box(x0, y0, x1 + shift * M_EAST, y1)
        units.loc[units["code"] == code, "geometry"] = moved
    return units


def test_thin_strips_are_slivers_and_wide_ones_real():
    units = strip_units({"00": 6.0, "30": 15.0, "12": -6.0, "21": -15.0})  # gaps enclosed
    findings = assert_same_report(units)
    assert [f.value for f in findings if f.code == "units_overlap"] == ["30/31"]
    (gap,) = [f for f in findings if f.code == "units_gap"]
    assert area_of(gap) == pytest.approx(15 * 2220, rel=0.02)  # 15 m × 0.02° of latitude
    slivers = sliver_findings(findings)
    for code in ("units_sliver_overlap", "units_sliver_gap"):
        f = slivers[code]
        assert f.count == 1
        assert float(f.message_en.split("the widest ")[1].split(" m")[0]) == pytest.approx(
            6.0, abs=0.1
        )
    # the check's threshold is the definition's: a strip just either side of it
    units = strip_units({"00": SLIVER_WIDTH_M + 0.3, "20": SLIVER_WIDTH_M - 0.3})
    findings = assert_same_report(units)
    assert [f.value for f in real_findings(findings)] == ["00/01"]


def test_a_gap_is_as_wide_as_its_free_space_around_an_island():
    frame = shapely.box(120.0, 31.0, 120.1, 31.1).difference(
        shapely.box(120.02, 31.02, 120.08, 31.08)
    )
    for ring_m, real in ((3.0, False), (40.0, True)):
        island = shapely.box(
            120.02 + ring_m * M_EAST,
            31.02 + ring_m * M,
            120.08 - ring_m * M_EAST,
            31.08 - ring_m * M,
        )
        units = gpd.GeoDataFrame(
            {"code": ["1", "2"], "name": ["甲", "乙"]}, geometry=[frame, island], crs=4326
        )
        findings = assert_same_report(units)
        gaps = [f for f in findings if f.code == "units_gap"]
        if real:  # reported whole, its island included
            (gap,) = gaps
            assert area_of(gap) == pytest.approx(
                geodesic_m2(shapely.box(120.02, 31.02, 120.08, 31.08)), rel=1e-4
            )
        else:
            assert gaps == [] and sliver_findings(findings)["units_sliver_gap"].count == 1


@pytest.mark.parametrize("channel_m", [0.0, 3.0])
def test_a_hole_open_to_the_outside_through_a_thin_channel_is_no_gap(channel_m):
    # 3 × 3 noded cells less the centre; the top middle cell is redrawn in detail and,
    # with a channel, its west edge moved east: the hole then opens to the outside
    units = grid_units(3, noded=True)
    units = units[units["code"] != "11"].reset_index(drop=True)
    rng = np.random.default_rng(11)
    top = (120.02 + channel_m * M_EAST, 31.04, 120.04, 31.06)
    units.loc[units["code"] == "21", "geometry"] = detailed_outline(*top, rng)
    findings = assert_same_report(units)
    gaps = [f for f in findings if f.code == "units_gap"]
    assert len(gaps) == (0 if channel_m else 1)


def test_many_real_overlaps_and_gaps_are_capped(monkeypatch):
    monkeypatch.setattr(boundaries, "MAX_ROW_FINDINGS", 5)
    monkeypatch.setattr(boundaries, "SHOWN_ROW_FINDINGS", 2)
    geoms, sizes = [], [0.003, 0.009, 0.004, 0.002, 0.008, 0.005, 0.001, 0.006]
    for k, size in enumerate(sizes):  # pairs of boxes overlapping by `size`, far apart
        x = 120.0 + 0.1 * k
        geoms += [
            shapely.box(x, 31.0, x + 0.02, 31.02),
            shapely.box(x + 0.02 - size, 31.0, x + 0.04, 31.02),
        ]
    for k, size in enumerate(sizes):  # donuts with a hole of `size`
        x = 120.0 + 0.1 * k
        geoms.append(
            shapely.box(x, 31.5, x + 0.02, 31.52).difference(
                shapely.box(x + 0.005, 31.505, x + 0.005 + size, 31.515)
            )
        )
    codes = [f"{i:02d}" for i in range(len(geoms))]
    units = gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=geoms, crs=4326)
    findings = check_coverage(units, file="u.geojson")
    over = [f for f in findings if f.code == "units_overlap"]
    assert [f.value for f in over[:2]] == ["02/03", "08/09"]  # the two largest, in order
    assert over[2].count == 6 and "6 more overlapping pairs" in over[2].message_en
    g = units.geometry.to_numpy()
    areas = _equal_area_m2(shapely.intersection(g[0:16:2], g[1:16:2]))
    rest = areas.sum() - np.sort(areas)[-2:].sum()
    assert f"({rest:,.0f} m² in all)" in over[2].message_en
    gaps = [f for f in findings if f.code == "units_gap"]
    assert [float(f.value.split(",")[0]) for f in gaps[:2]] == pytest.approx(
        [120.1095, 120.409], abs=1e-3
    )
    assert (
        gaps[2].count == 6
        and "6 more gaps" in gaps[2].message_en
        and "另有 6 处" in gaps[2].message_zh
    )
    assert all(f.file == "u.geojson" for f in findings)


@pytest.mark.parametrize(
    ("lon", "lat"), [(75.99, 39.47), (105.0, 35.0), (134.5, 48.2), (112.28, 3.97)]
)
def test_perimeters_match_geodesic_perimeters(lon, lat):
    square = shapely.box(lon, lat, lon + CELL, lat + CELL)
    donut = shapely.Point(lon, lat).buffer(0.05, quad_segs=64).difference(square)
    geoms = np.array(
        [
            square,
            donut,
            shapely.MultiPolygon([square, shapely.box(lon, lat + 1, lon + 0.001, lat + 1.001)]),
        ]
    )
    area, perimeter = _measure(geoms)
    for g, a, p in zip(geoms, area, perimeter, strict=True):
        assert p == pytest.approx(geodesic_perimeter(g), rel=1e-6)
        assert a == pytest.approx(abs(GEOD.geometry_area_perimeter(g)[0]), rel=1e-4)


def test_the_cache_key_follows_the_checks_version_and_thresholds(monkeypatch):
    # a cached entry of an older check (listing every sliver) must not be served
    key = check_cache.check_key("0" * 64, {"layer": None})
    monkeypatch.setattr(boundaries, "COVERAGE_CHECK_VERSION", "older")
    assert check_cache.check_key("0" * 64, {"layer": None}) != key
    monkeypatch.undo()
    assert check_cache.check_key("0" * 64, {"layer": None}) == key
    monkeypatch.setattr(boundaries, "SLIVER_WIDTH_M", 5.0)
    assert check_cache.check_key("0" * 64, {"layer": None}) != key
