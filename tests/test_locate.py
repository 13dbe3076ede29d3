"""The point locator on detailed township outlines, against the plain GEOS STRtree answer.

The townships are a 5 × 5 grid whose outlines have 200–1000 vertices: every side is a noisy
polyline, and a side is either exactly straight (points can lie exactly on it), shared
exactly by both neighbours (same vertices, reversed) or drawn separately by each neighbour
(different vertices: slivers where they overlap, gaps where they part). Some have holes;
one hole is filled exactly by an enclave, another holds the island of a MultiPolygon.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gis.core import point_in_polygon as _locate
from coverage_gis.core.point_in_polygon import BoxGrid, locate_points

N = 5  # townships per side
X0, Y0 = 120.0, 30.0  # south-west corner; cells of one degree
AMP = 0.01  # noise of the noisy sides (a sliver between independent sides is up to 0.02 wide)
HOLE, ENCLAVE_HOST, ISLAND_HOST = (1, 1), (3, 2), (1, 3)  # (column, row) of special cells


def _side(p0: np.ndarray, p1: np.ndarray, m: int, rng: np.random.Generator, amp: float):
    """``m`` segments from ``p0`` to ``p1`` (both included), noise across, none at the ends."""
    t = np.linspace(0.0, 1.0, m + 1)
    t[1:-1] += rng.uniform(-0.3, 0.3, m - 1) / m  # uneven spacing, still increasing
    d = p1 - p0
    normal = np.array([-d[1], d[0]]) / np.hypot(*d)
    off = amp * np.sin(np.pi * t) * rng.uniform(-1.0, 1.0, m + 1)
    pts = p0 + t[:, None] * d + off[:, None] * normal
    pts[0], pts[-1] = p0, p1
    return pts


def _edge(a: tuple[int, int], b: tuple[int, int], owner: int, seed: int) -> np.ndarray:
    """The polyline of the grid edge from node ``a`` to node ``b`` as township ``owner``
    draws it: straight, shared noisy (same for both sides) or noisy of its own."""
    lo, hi = min(a, b), max(a, b)
    key = (lo[0] * 31 + lo[1]) * 7 + (hi[0] * 31 + hi[1])
    kind = key % 3
    rng = np.random.default_rng([seed, key, owner + 1 if kind == 2 else 0])
    p0 = np.array([X0 + lo[0], Y0 + lo[1]], dtype=float)
    p1 = np.array([X0 + hi[0], Y0 + hi[1]], dtype=float)
    m = int(rng.integers(50, 250))
    pts = _side(p0, p1, m, rng, 0.0 if kind == 0 else AMP)
    if kind == 0:  # exactly on the grid line: one coordinate is the line's
        axis = 0 if lo[0] == hi[0] else 1
        pts[:, axis] = p0[axis]
    return pts if a == lo else pts[::-1]


def _ring(cx: float, cy: float, r: float, m: int, rng: np.random.Generator) -> np.ndarray:
    a = np.sort(rng.uniform(0, 2 * np.pi, m))
    rr = r * (1 + 0.1 * rng.uniform(-1, 1, m))
    pts = np.column_stack([cx + rr * np.cos(a), cy + rr * np.sin(a)])
    return np.vstack([pts, pts[:1]])


def make_townships(seed: int = 3) -> tuple[np.ndarray, dict[str, int], dict[str, np.ndarray]]:
    """The townships, the positions of the special ones and their special rings."""
    rng = np.random.default_rng([seed, 999])
    geoms, rings = [], {}
    special: dict[str, int] = {}
    for j in range(N):
        for i in range(N):
            owner = j * N + i
            corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1), (i, j)]
            shell = np.vstack(
                [_edge(a, b, owner, seed)[:-1] for a, b in pairwise(corners)] + [[[X0 + i, Y0 + j]]]
            )
            holes = []
            if (i, j) in (HOLE, ENCLAVE_HOST):
                name = "hole" if (i, j) == HOLE else "enclave"
                rings[name] = _ring(X0 + i + 0.5, Y0 + j + 0.5, 0.2, 300, rng)
                holes.append(rings[name])
            geoms.append(shapely.Polygon(shell, holes))
    special["hole_host"] = HOLE[1] * N + HOLE[0]
    special["enclave_host"] = ENCLAVE_HOST[1] * N + ENCLAVE_HOST[0]
    special["enclave"] = len(geoms)
    geoms.append(shapely.Polygon(rings["enclave"][::-1]))  # fills the hole, same vertices
    # a MultiPolygon: a township with an island in the hole of another, and one offshore
    host = ISLAND_HOST[1] * N + ISLAND_HOST[0]
    rings["island"] = _ring(X0 + HOLE[0] + 0.5, Y0 + HOLE[1] + 0.5, 0.08, 200, rng)
    rings["offshore"] = _ring(X0 + N + 0.6, Y0 + 0.5, 0.3, 400, rng)
    geoms[host] = shapely.MultiPolygon(
        [geoms[host], shapely.Polygon(rings["island"]), shapely.Polygon(rings["offshore"])]
    )
    special["multi"] = host
    return np.array(geoms, dtype=object), special, rings


@pytest.fixture(scope="module")
def towns() -> tuple[np.ndarray, np.ndarray, dict[str, int], dict[str, np.ndarray]]:
    geoms, special, rings = make_townships()
    rank = np.random.default_rng(8).permutation(len(geoms))  # not the geometry order
    return geoms, rank, special, rings


def reference(geoms, rank, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Brute force with GEOS: every polygon that intersects the point, the lowest rank."""
    unit = np.full(len(x), -1, dtype=np.int64)
    p, u = shapely.STRtree(geoms).query(shapely.points(x, y), predicate="intersects")
    multi = np.bincount(p, minlength=len(x)) > 1
    if not len(p):
        return unit, multi
    order = np.lexsort((u, rank[u], p))
    p, u = p[order], u[order]
    first = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    unit[p[first]] = u[first]
    return unit, multi


def assert_matches(geoms, rank, x, y, **kw) -> tuple[np.ndarray, np.ndarray]:
    got = locate_points(geoms, rank, x, y, **kw)
    want = reference(geoms, rank, x, y)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    return got


def test_townships_are_detailed_valid_and_not_exactly_noded(towns):
    geoms, _rank, special, _rings = towns
    assert shapely.is_valid(geoms).all()
    outline = shapely.get_exterior_ring(shapely.get_geometry(geoms[: N * N], 0))
    n_vertices = shapely.get_num_coordinates(outline)
    assert n_vertices.min() >= 200
    assert n_vertices.max() <= 1000
    grid = shapely.union_all(geoms[: N * N])
    assert shapely.get_num_interior_rings(shapely.get_parts(grid)).sum() > 10  # gaps (+ 2 holes)
    tree = shapely.STRtree(geoms)
    assert tree.query(geoms, predicate="overlaps").shape[1] > 10  # slivers
    assert shapely.get_type_id(geoms[special["multi"]]) == 6


def test_random_points(towns):
    geoms, rank, _special, _rings = towns
    rng = np.random.default_rng(1)
    x = rng.uniform(X0 - 0.3, X0 + N + 1.2, 40_000)
    y = rng.uniform(Y0 - 0.3, Y0 + N + 0.3, 40_000)
    unit, multi = assert_matches(geoms, rank, x, y)
    assert (unit == -1).any()
    assert multi.any()  # slivers


def test_vertices_and_points_on_edges(towns):
    geoms, rank, _special, _rings = towns
    xy = shapely.get_coordinates(geoms)  # every vertex: shared corners, exact shared sides
    seg_mid = (xy[1:] + xy[:-1]) / 2  # on or within rounding of an edge
    rng = np.random.default_rng(2)
    k = 5000
    lines = rng.integers(0, N + 1, k).astype(float)
    along = rng.uniform(0, N, k)
    on_lines = np.r_[  # exactly on the grid lines (some sides are exactly straight there)
        np.column_stack([X0 + lines, Y0 + along]), np.column_stack([X0 + along, Y0 + lines])
    ]
    x = np.r_[xy[:, 0], seg_mid[:, 0], on_lines[:, 0]]
    y = np.r_[xy[:, 1], seg_mid[:, 1], on_lines[:, 1]]
    unit, multi = assert_matches(geoms, rank, x, y)
    assert (unit[: len(xy)] >= 0).all()  # a vertex is covered by its own polygon
    assert multi[: len(xy)].mean() > 0.2  # shared corners and sides
    # the lowest rank wins on shared sides
    both = np.flatnonzero(multi)
    p, u = shapely.STRtree(geoms).query(shapely.points(x[both], y[both]), predicate="intersects")
    best = np.full(len(both), len(geoms))
    np.minimum.at(best, p, rank[u])
    np.testing.assert_array_equal(rank[unit[both]], best)


def test_holes_enclave_island_and_outside(towns):
    geoms, rank, special, rings = towns
    rng = np.random.default_rng(4)
    a = rng.uniform(0, 2 * np.pi, 3000)
    cx, cy = X0 + HOLE[0] + 0.5, Y0 + HOLE[1] + 0.5
    r_annulus = rng.uniform(0.1, 0.17, 3000)  # between the island and the hole's edge
    r_island = rng.uniform(0, 0.07, 3000)
    ex, ey = X0 + ENCLAVE_HOST[0] + 0.5, Y0 + ENCLAVE_HOST[1] + 0.5
    r_enclave = rng.uniform(0, 0.17, 3000)
    x = np.r_[
        cx + r_annulus * np.cos(a),
        cx + r_island * np.cos(a),
        ex + r_enclave * np.cos(a),
        rings["enclave"][:, 0],
        rings["hole"][:, 0],
        rings["island"][:, 0],
        X0 + N + 0.6 + 0.2 * np.cos(a),
        rng.uniform(X0 - 50, X0 - 1, 1000),
    ]
    y = np.r_[
        cy + r_annulus * np.sin(a),
        cy + r_island * np.sin(a),
        ey + r_enclave * np.sin(a),
        rings["enclave"][:, 1],
        rings["hole"][:, 1],
        rings["island"][:, 1],
        Y0 + 0.5 + 0.2 * np.sin(a),
        rng.uniform(Y0 - 50, Y0 + 50, 1000),
    ]
    unit, multi = assert_matches(geoms, rank, x, y)
    parts = np.cumsum([0, 3000, 3000, 3000, len(rings["enclave"]), len(rings["hole"])])
    assert (unit[: parts[1]] == -1).all()  # in the hole, off the island
    assert (unit[parts[1] : parts[2]] == special["multi"]).all()  # on the island
    assert (unit[parts[2] : parts[3]] == special["enclave"]).all()
    assert multi[parts[3] : parts[4]].all()  # the enclave's ring is its host's hole ring
    assert (unit[parts[4] : parts[5]] == special["hole_host"]).all()  # edge of an empty hole
    assert not multi[parts[4] : parts[5]].any()
    assert (unit[-4000:-1000] == special["multi"]).all()  # offshore part of the MultiPolygon
    assert (unit[-1000:] == -1).all()


def test_invalid_and_other_geometries_follow_geos(towns):
    geoms, _rank, _special, rings = towns
    odd = np.array(
        [
            shapely.Polygon([(X0, Y0), (X0 + 2, Y0 + 2), (X0 + 2, Y0), (X0, Y0 + 2)]),  # bow tie
            shapely.MultiPolygon(  # overlapping parts
                [
                    shapely.box(X0 + 1, Y0 + 1, X0 + 3, Y0 + 3),
                    shapely.box(X0 + 2, Y0 + 2, X0 + 4, Y0 + 4),
                ]
            ),
            shapely.Polygon(  # hole outside its shell
                shapely.box(X0, Y0 + 3, X0 + 1, Y0 + 4).exterior.coords,
                [shapely.box(X0 + 1.5, Y0 + 3, X0 + 2, Y0 + 4).exterior.coords],
            ),
            shapely.LineString([(X0, Y0 + 0.5), (X0 + N, Y0 + 0.5)]),
            shapely.Point(X0 + 2.5, Y0 + 2.5),
            shapely.GeometryCollection([shapely.Polygon(rings["hole"])]),
            None,
            shapely.Polygon(),
        ],
        dtype=object,
    )
    mixed = np.r_[geoms[: N * N], odd]
    rank = np.random.default_rng(5).permutation(len(mixed))
    rng = np.random.default_rng(6)
    x = np.r_[rng.uniform(X0 - 0.2, X0 + N, 20_000), np.round(rng.uniform(X0, X0 + 4, 5000), 1)]
    y = np.r_[rng.uniform(Y0 - 0.2, Y0 + N, 20_000), np.round(rng.uniform(Y0, Y0 + 4, 5000), 1)]
    corners = shapely.get_coordinates(odd)
    x, y = np.r_[x, corners[:, 0], X0 + 2.5, X0 + 1.75], np.r_[y, corners[:, 1], Y0 + 2.5, Y0 + 3.5]
    assert_matches(mixed, rank, x, y)


def test_threads_chunks_and_inputs_are_left_alone(towns, monkeypatch):
    geoms, rank, _special, _rings = towns
    rng = np.random.default_rng(7)
    x = rng.uniform(X0, X0 + N, 30_000)
    y = rng.uniform(Y0, Y0 + N, 30_000)
    x[::97], y[::97] = np.nan, np.nan  # covered by nothing
    one = locate_points(geoms, rank, x, y, workers=1)
    monkeypatch.setattr(_locate, "_CHUNK", 1_000)  # many chunks, out of order on the pool
    many = assert_matches(geoms, rank, x, y, workers=4)
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1], many[1])
    assert (many[0][::97] == -1).all()
    assert not shapely.is_prepared(geoms).any()  # the caller's geometries are not touched
    shapely.prepare(geoms[:3])  # ... and those the caller prepared stay prepared
    assert_matches(geoms, rank, x, y)
    assert shapely.is_prepared(geoms[:3]).all()
    assert not shapely.is_prepared(geoms[3:]).any()
    shapely.destroy_prepared(geoms)


def test_polygons_prepared_a_block_at_a_time_give_the_same_answer(towns, monkeypatch):
    """With blocks of three polygons the copies are made block by block (never more than
    a block's at once) and points on shared edges and corners still go to the lowest rank."""
    geoms, rank, _special, _rings = towns
    rng = np.random.default_rng(11)
    corners = shapely.get_coordinates(geoms)[::7]
    x = np.r_[rng.uniform(X0 - 0.3, X0 + N + 0.3, 20_000), corners[:, 0]]
    y = np.r_[rng.uniform(Y0 - 0.3, Y0 + N + 0.3, 20_000), corners[:, 1]]
    whole = locate_points(geoms, rank, x, y)
    sizes: list[int] = []
    real = _locate._prepared_copies
    monkeypatch.setattr(_locate, "_prepared_copies", lambda g: sizes.append(len(g)) or real(g))
    monkeypatch.setattr(_locate, "_BLOCK", 3)
    blocks = assert_matches(geoms, rank, x, y, workers=2)
    for a, b in zip(whole, blocks, strict=True):
        np.testing.assert_array_equal(a, b)
    assert blocks[1].any()  # shared edges and corners were among the points
    assert max(sizes) <= 3 and sum(sizes) == len(geoms)  # each polygon copied once
    locator = _locate.PointLocator.build(geoms, rank)
    assert locator.n_blocks == -(-len(geoms) // 3)
    assert not shapely.is_prepared(geoms).any()


@pytest.mark.parametrize("threshold", [1, 400, 10**9])
def test_polygons_with_few_points_are_scanned_not_prepared(towns, monkeypatch, threshold):
    """Polygons with fewer candidate points than ``_PREPARE_MIN_PAIRS`` are decided on plain
    copies (no edge index): the same answer, shared edges and holes included, whether all,
    some or none of the polygons are prepared."""
    geoms, rank, _special, _rings = towns
    rng = np.random.default_rng(12)
    corners = shapely.get_coordinates(geoms)[::5]
    x = np.r_[rng.uniform(X0 - 0.3, X0 + N + 0.3, 12_000), corners[:, 0]]
    y = np.r_[rng.uniform(Y0 - 0.3, Y0 + N + 0.3, 12_000), corners[:, 1]]
    sizes: list[int] = []
    real = _locate._prepared_copies
    monkeypatch.setattr(_locate, "_prepared_copies", lambda g: sizes.append(len(g)) or real(g))
    monkeypatch.setattr(_locate, "_PREPARE_MIN_PAIRS", threshold)
    got = assert_matches(geoms, rank, x, y, workers=2)
    assert got[1].any()  # points on shared edges among them
    prepared = sum(sizes)
    if threshold == 1:
        assert prepared == len(geoms)
    elif threshold == 10**9:
        assert prepared == 0
    else:
        assert 0 < prepared < len(geoms)
    assert not shapely.is_prepared(geoms).any()


def test_empty_inputs():
    box = np.array([shapely.box(0, 0, 1, 1)], dtype=object)
    unit, multi = locate_points(box, np.zeros(1), np.zeros(0), np.zeros(0))
    assert unit.shape == multi.shape == (0,)
    unit, multi = locate_points(np.array([], dtype=object), np.zeros(0), np.ones(2), np.ones(2))
    assert (unit == -1).all()
    assert not multi.any()
    nothing = np.array([None, shapely.Polygon()], dtype=object)
    unit, _multi = locate_points(nothing, np.arange(2), np.r_[0.0, 1.0], np.r_[0.0, 1.0])
    assert (unit == -1).all()


def test_box_grid_puts_points_on_box_edges_in_the_boxes_cell():
    # (1.0 - 0.0) // 0.1 == 9.0 but floor(1.0 / 0.1) == 10.0: both must use the same formula
    xmin = np.arange(5) * 0.2
    bounds = np.column_stack([xmin, np.zeros(5), xmin + 0.2, np.full(5, 0.2)])
    grid = BoxGrid.build(bounds)
    p, g, _px, _py = grid.candidates(np.array([1.0, 0.0, 0.5]), np.array([0.1, 0.2, 0.0]))
    assert sorted(zip(p.tolist(), g.tolist(), strict=True)) == [(0, 4), (1, 0), (2, 2)]
    boxes = shapely.box(*bounds.T)
    assert locate_points(boxes, np.arange(5), np.r_[1.0], np.r_[0.1])[0].tolist() == [4]


def _points() -> st.SearchStrategy[list[tuple[float, float]]]:
    geoms, _special, _rings = make_townships()
    vertices = [tuple(v) for v in shapely.get_coordinates(geoms)[::7].tolist()]
    free = st.tuples(
        st.floats(X0 - 0.5, X0 + N + 1, allow_nan=False),
        st.floats(Y0 - 0.5, Y0 + N + 0.5, allow_nan=False),
    )
    on_line = st.tuples(st.booleans(), st.integers(0, N), st.floats(0, N)).map(
        lambda t: (X0 + t[1], Y0 + t[2]) if t[0] else (X0 + t[2], Y0 + t[1])
    )
    return st.lists(st.one_of(st.sampled_from(vertices), free, on_line), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(points=_points(), seed=st.integers(0, 2**32 - 1))
def test_answer_is_independent_of_point_and_polygon_order(towns, points, seed):
    geoms, rank, _special, _rings = towns
    x, y = np.array(points, dtype=float).T
    unit, multi = assert_matches(geoms, rank, x, y)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))  # the rows in another order
    u2, m2 = locate_points(geoms, rank, x[order], y[order])
    np.testing.assert_array_equal(u2, unit[order])
    np.testing.assert_array_equal(m2, multi[order])
    perm = rng.permutation(len(geoms))  # the polygons in another order, same ranks
    u3, m3 = locate_points(geoms[perm], rank[perm], x, y)
    np.testing.assert_array_equal(np.where(u3 >= 0, perm[np.maximum(u3, 0)], -1), unit)
    np.testing.assert_array_equal(m3, multi)


def test_a_few_points_skip_the_prepared_copies_and_agree(towns, monkeypatch):
    """Up to ``_FEW_POINTS`` points (a scenario's planned sites) go through one STRtree
    query; the prepared-grid path gives the same answer for them."""
    geoms, rank, _special, _rings = towns
    xy = shapely.get_coordinates(geoms)[::997][: _locate._FEW_POINTS]
    x, y = xy[:, 0], xy[:, 1]  # vertices: shared corners and sides among them
    calls: list[int] = []
    real = _locate._prepared_copies
    monkeypatch.setattr(_locate, "_prepared_copies", lambda g: calls.append(1) or real(g))
    few = assert_matches(geoms, rank, x, y)
    assert calls == [] and few[1].any()
    monkeypatch.setattr(_locate, "_FEW_POINTS", 0)
    grid = assert_matches(geoms, rank, x, y)
    assert calls
    for a, b in zip(few, grid, strict=True):
        np.testing.assert_array_equal(a, b)
