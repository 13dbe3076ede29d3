"""Distance modules: straight line on the ellipsoid, paths round water, roads, 2SFCA."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import LineString, Polygon, box

from coverage_gis.access.barriers import barrier_pairs, prepare_barriers
from coverage_gis.access.euclidean import euclidean_pairs
from coverage_gis.access.fca import two_step_fca
from coverage_gis.access.metric import local_metric_crs, metres_for_minutes, to_metric
from coverage_gis.access.network import RoadNetwork, network_pairs
from coverage_gis.access.pairs import Pairs, pair_order

GEOD = Geod(ellps="WGS84")


# -- straight line ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lon", "lat"),
    [(120.62, 31.30), (112.34, 16.83), (122.53, 52.97)],  # Suzhou, Sansha, Mohe
    ids=["suzhou", "sansha", "mohe"],
)
def test_straight_line_matches_the_geodesic_everywhere_in_china(lon: float, lat: float) -> None:
    rng = np.random.default_rng(1)
    az = rng.uniform(0, 360, 200)
    dist = rng.uniform(10, 2900, 200)
    flon, flat, _ = GEOD.fwd(np.full(200, lon), np.full(200, lat), az, dist)
    pairs = euclidean_pairs(np.array([lon]), np.array([lat]), flon, flat, 3000.0)
    assert len(pairs) == 200  # every one is within 3 km
    assert np.allclose(pairs.dist_m, dist[pairs.facility], rtol=2e-3, atol=0.5)
    near_f, near_m = pairs.nearest()
    assert near_f[0] == int(np.argmin(dist))
    assert near_m[0] == pytest.approx(dist.min(), rel=2e-3)


def test_straight_line_pairs_equal_brute_force() -> None:
    rng = np.random.default_rng(7)
    dlon, dlat = 120.6 + rng.normal(0, 0.05, 400), 31.3 + rng.normal(0, 0.05, 400)
    flon, flat = 120.6 + rng.normal(0, 0.05, 60), 31.3 + rng.normal(0, 0.05, 60)
    dlon[5] = np.nan  # no coordinates: reaches nothing
    flat[3] = np.nan
    pairs = euclidean_pairs(dlon, dlat, flon, flat, 1500.0)
    _, _, d = GEOD.inv(
        np.repeat(dlon, 60), np.repeat(dlat, 60), np.tile(flon, 400), np.tile(flat, 400)
    )
    d = np.asarray(d).reshape(400, 60)
    d[~np.isfinite(d)] = np.inf
    want = set(zip(*np.nonzero(d <= 1500.0), strict=True))
    got = set(zip(pairs.demand.tolist(), pairs.facility.tolist(), strict=True))
    edge = {(i, j) for i, j in want ^ got if abs(d[i, j] - 1500.0) < 5}  # sphere vs ellipsoid
    assert want ^ got == edge
    near_f, near_m = pairs.nearest()
    ok = np.isfinite(d).any(axis=1)
    assert (near_f[ok] == np.argmin(d[ok], axis=1)).all()
    assert near_f[5] == -1 and np.isinf(near_m[5])
    assert not (pairs.facility == 3).any()


@pytest.mark.parametrize("split", [1, 7, 397])
def test_pairs_searched_in_two_halves_equal_one_search(monkeypatch, split) -> None:
    """From ``_SPLIT_DEMAND`` demand points the search runs in two halves on two threads:
    the same pairs, in the same order (by demand, then facility), with the same distances."""
    from coverage_gis.access import euclidean

    rng = np.random.default_rng(11)
    dlon, dlat = 120.6 + rng.normal(0, 0.05, 400), 31.3 + rng.normal(0, 0.05, 400)
    flon, flat = 120.6 + rng.normal(0, 0.05, 60), 31.3 + rng.normal(0, 0.05, 60)
    dlon[[0, 5, 399]] = np.nan  # gaps in the demand, at both ends too
    one = euclidean_pairs(dlon, dlat, flon, flat, 1500.0)
    monkeypatch.setattr(euclidean, "_SPLIT_DEMAND", split)
    two = euclidean_pairs(dlon, dlat, flon, flat, 1500.0)
    assert len(one) > 100
    for a, b in [(one.demand, two.demand), (one.facility, two.facility), (one.dist_m, two.dist_m)]:
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one.nearest()[0], two.nearest()[0])
    assert (np.diff(two.demand) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 9)), max_size=60),
    st.sampled_from([10, 2**40, 2**62]),
)
def test_pair_order_sorts_like_lexsort_also_with_repeated_pairs(pairs, n_facility) -> None:
    # the huge sizes make the combined key overflow int64: the lexsort fallback
    d = np.array([a for a, _ in pairs], dtype=np.int64) * (1 if n_facility == 10 else 2**30)
    f = np.array([b for _, b in pairs], dtype=np.int64)
    order = pair_order(d, f, n_facility)
    assert np.array_equal(order, np.lexsort((f, d)))


def test_a_facility_on_the_demand_point_is_at_zero_metres() -> None:
    pairs = euclidean_pairs(
        np.array([120.6]), np.array([31.3]), np.array([120.6]), np.array([31.3]), 10.0
    )
    assert len(pairs) == 1 and pairs.dist_m[0] == pytest.approx(0.0, abs=1e-6)
    assert pairs.reached().tolist() == [True]


# -- round water ---------------------------------------------------------------------------
LAKE = box(-500.0, -2000.0, 500.0, 2000.0)  # 1 km wide, 4 km long, x from -500 to 500


def test_a_lake_blocks_the_crow_flight_but_not_the_straight_line_mode() -> None:
    crs = local_metric_crs(np.array([120.6]), np.array([31.3]))
    from pyproj import Transformer

    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    dlon, dlat = back.transform([-800.0], [0.0])
    flon, flat = back.transform([800.0], [0.0])
    # straight line: 1.6 km, within 2 km
    straight = euclidean_pairs(
        np.array(dlon), np.array(dlat), np.array(flon), np.array(flat), 2000.0
    )
    assert len(straight) == 1 and straight.dist_m[0] == pytest.approx(1600.0, rel=2e-3)
    # round the lake: to a corner, along the 1 km shore, down: 2 × hypot(300, 2000) + 1000
    dx, dy = to_metric(np.array(dlon), np.array(dlat), crs)
    fx, fy = to_metric(np.array(flon), np.array(flat), crs)
    lake = np.array([LAKE])
    assert len(barrier_pairs((dx, dy), (fx, fy), lake, 2000.0)) == 0
    assert len(barrier_pairs((dx, dy), (fx, fy), lake, 5000.0)) == 0
    long_way = barrier_pairs((dx, dy), (fx, fy), lake, 6000.0)
    assert long_way.dist_m[0] == pytest.approx(2 * math.hypot(300.0, 2000.0) + 1000, abs=1.0)


def test_paths_round_water_go_corner_to_corner() -> None:
    # an L-shaped lake: the path bends at two corners, 3 segments known by hand
    lake = Polygon([(0, 0), (1000, 0), (1000, 100), (100, 100), (100, 1000), (0, 1000)])
    d = (np.array([50.0]), np.array([1100.0]))  # above the vertical arm
    f = (np.array([1100.0]), np.array([50.0]))  # right of the horizontal arm
    pairs = barrier_pairs(d, f, np.array([lake]), 5000.0)
    # visible straight line? from (50,1100) to (1100,50) passes (575,575): outside the L
    assert pairs.dist_m[0] == pytest.approx(math.hypot(1050, 1050), abs=0.5)
    d = (np.array([50.0]), np.array([1100.0]))
    f = (np.array([50.0]), np.array([-100.0]))  # below the L: round the right end or left
    pairs = barrier_pairs(d, f, np.array([lake]), 5000.0)
    left = math.hypot(50, 100) + 1000 + math.hypot(50, 100)  # via (0,1000) and (0,0)
    assert pairs.dist_m[0] == pytest.approx(left, abs=0.5)


def test_rivers_given_as_lines_are_barriers_and_points_in_water_reach_nothing() -> None:
    river = LineString([(0, -3000), (0, 3000)])
    d = (np.array([-100.0, 10_000.0]), np.array([0.0, 0.0]))
    f = (np.array([100.0]), np.array([0.0]))
    pairs = barrier_pairs(d, f, np.array([river]), 7000.0)
    assert pairs.demand.tolist() == [0]
    # round the 10 m strip's end cap (drawn with 45° corners)
    assert 2 * math.hypot(100, 3000) < pairs.dist_m[0] < 2 * math.hypot(100, 3005) + 10
    inside = barrier_pairs(
        (np.array([0.0]), np.array([0.0])),
        (np.array([200.0]), np.array([0.0])),
        np.array([LAKE]),
        5000.0,
    )
    assert len(inside) == 0  # a point in the lake (a data error) reaches nothing


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_paths_round_water_are_never_shorter_than_the_straight_line(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lakes = shapely.buffer(shapely.points(rng.uniform(0, 5000, (4, 2))), rng.uniform(100, 600, 4))
    dx, dy = rng.uniform(0, 5000, 60), rng.uniform(0, 5000, 60)
    fx, fy = rng.uniform(0, 5000, 8), rng.uniform(0, 5000, 8)
    bar = prepare_barriers(lakes, 3000.0, tolerance_m=1.0)
    pairs = barrier_pairs((dx, dy), (fx, fy), bar, 3000.0)
    straight = np.hypot(
        dx[pairs.demand] - fx[pairs.facility], dy[pairs.demand] - fy[pairs.facility]
    )
    assert (pairs.dist_m >= straight - 1e-6).all()
    # every pair whose segment crosses no water keeps its straight-line length
    free = ~bar.blocked(dx[pairs.demand], dy[pairs.demand], fx[pairs.facility], fy[pairs.facility])
    assert np.allclose(pairs.dist_m[free], straight[free])
    # no pair starts or ends in water
    assert not bar.inside(dx[pairs.demand], dy[pairs.demand]).any()


# -- roads -----------------------------------------------------------------------------------
def _grid(n: int, step: float) -> np.ndarray:
    """An n × n street grid, each street one line (nodes shared at crossings via vertices)."""
    xs = np.arange(n) * step
    rows = [LineString([(0, y), *((x, y) for x in xs[1:-1]), (xs[-1], y)]) for y in xs]
    cols = [LineString([(x, 0), *((x, y) for y in xs[1:-1]), (x, xs[-1])]) for x in xs]
    return np.array(rows + cols, dtype=object)


def test_network_distance_on_a_street_grid_is_the_manhattan_distance() -> None:
    net = RoadNetwork.from_lines(_grid(6, 200.0))
    d = (np.array([0.0, 1000.0]), np.array([0.0, 1000.0]))
    f = (np.array([600.0]), np.array([400.0]))
    pairs = network_pairs(net, d, f, 5000.0)
    assert pairs.dist_m.tolist() == pytest.approx([1000.0, 1000.0], abs=1e-3)
    assert len(network_pairs(net, d, f, 999.0)) == 0
    # a point off the street walks to the nearest node first (nodes every 50 m: (0, 50))
    off = network_pairs(net, (np.array([30.0]), np.array([40.0])), f, 5000.0)
    assert off.dist_m[0] == pytest.approx(math.hypot(30, 10) + 950.0, abs=1e-3)


def test_crossing_lines_without_a_shared_vertex_do_not_connect() -> None:
    road = LineString([(0, 0), (1000, 0)])
    bridge = LineString([(500, -500), (500, 500)])  # passes over the road
    net = RoadNetwork.from_lines(np.array([road, bridge]))
    pairs = network_pairs(
        net, (np.array([0.0]), np.array([0.0])), (np.array([500.0]), np.array([500.0])), 3000.0
    )
    assert len(pairs) == 0  # the two lines are separate components


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_network_distance_is_never_shorter_than_the_straight_line(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 3000, (40, 2))
    # random streets between nearby random points, plus a ring so most of it connects
    a, b = rng.integers(0, 40, 120), rng.integers(0, 40, 120)
    lines = shapely.linestrings(np.stack([pts[a], pts[b]], axis=1))
    lines = np.r_[lines, shapely.linestrings(pts[np.r_[np.arange(40), 0]])]
    net = RoadNetwork.from_lines(lines)
    dx, dy = rng.uniform(0, 3000, 80), rng.uniform(0, 3000, 80)
    fx, fy = rng.uniform(0, 3000, 10), rng.uniform(0, 3000, 10)
    pairs = network_pairs(net, (dx, dy), (fx, fy), 4000.0)
    assert len(pairs) > 0
    straight = np.hypot(
        dx[pairs.demand] - fx[pairs.facility], dy[pairs.demand] - fy[pairs.facility]
    )
    assert (pairs.dist_m >= straight - 1e-6).all()
    # the chunked sub-graph search equals one full-graph Dijkstra
    from scipy.sparse.csgraph import dijkstra

    nd, ld = net.snap(dx, dy)
    nf, lf = net.snap(fx, fy)
    full = dijkstra(net.graph, indices=nf) + lf[:, None]
    want = full[:, nd].T + ld[:, None]
    i, j = np.nonzero(want <= 4000.0)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == set(
        zip(pairs.demand.tolist(), pairs.facility.tolist(), strict=True)
    )
    assert np.allclose(pairs.dist_m, want[pairs.demand, pairs.facility])


def test_minutes_at_walking_speed() -> None:
    assert metres_for_minutes(15, 4.0) == pytest.approx(1000.0)
    assert metres_for_minutes(10, 60.0) == pytest.approx(10_000.0)


# -- 2SFCA -----------------------------------------------------------------------------------
def test_two_step_fca_matches_pysal_access() -> None:
    access = pytest.importorskip("access")
    rng = np.random.default_rng(3)
    n_d, n_f = 30, 6
    cost = rng.uniform(0, 3000, (n_d, n_f))
    demand = rng.integers(50, 900, n_d).astype(float)
    supply = rng.integers(10, 200, n_f).astype(float)
    i, j = np.nonzero(cost <= 1500)
    pairs = Pairs(i, j, cost[i, j], n_d, n_f)
    a_i, r_j = two_step_fca(pairs, supply, demand)

    dem = pd.DataFrame({"id": np.arange(n_d), "pop": demand}).set_index("id")
    sup = pd.DataFrame({"id": np.arange(n_f), "beds": supply}).set_index("id")
    ci, cj = np.meshgrid(np.arange(n_d), np.arange(n_f), indexing="ij")
    costs = pd.DataFrame({"o": ci.ravel(), "d": cj.ravel(), "m": cost.ravel()})
    acc = access.Access(
        demand_df=dem,
        demand_value="pop",
        supply_df=sup,
        supply_value="beds",
        cost_df=costs,
        cost_origin="o",
        cost_dest="d",
        cost_name="m",
    )
    got = acc.two_stage_fca(max_cost=1500)["2sfca_beds"].reindex(np.arange(n_d)).fillna(0.0)
    assert np.allclose(a_i, got.to_numpy())
    # total supply reached = Σ_i D_i A_i (each facility's beds, shared out exactly)
    served = np.bincount(j, minlength=n_f) > 0
    assert float(np.sum(demand * a_i)) == pytest.approx(float(supply[served].sum()))
    assert (r_j[~served] == 0).all()
