"""Siting models and candidate sets: hand-known optima, brute force, determinism, findings."""

from __future__ import annotations

import itertools
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import OptimizeResult
from shapely.geometry import box

from coverage_gis.core.errors import InputError
from coverage_gis.siting import (
    SOLVER,
    SitingResult,
    candidates_from_points,
    demand_point_candidates,
    greedy_mclp,
    lscp,
    mclp,
    p_median,
    pairs_within,
    presence_sites,
    unit_centroid_candidates,
)
from coverage_gis.siting import models as siting_models

# --------------------------------------------------------------------------- a line
#
#   demand:      0     1     2     3     4          (x in metres, weights W_LINE)
#   candidates:   c0         c1    c2    c3         c0 = 0.5, c1 = 2.0, c2 = 3.0, c3 = 4.0
#
# Within 1 m: c0 → {0, 1}, c1 → {1, 2, 3}, c2 → {2, 3, 4}, c3 → {3, 4}.
# LSCP: demand 0 needs c0; then 2, 3, 4 need one more site, and only c2 reaches all three:
# the unique optimum is {c0, c2}. MCLP n=1 with weights 1,2,1,1,1: c1 covers 4, the others 3.

DEMAND_X = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
CAND_X = np.array([0.5, 2.0, 3.0, 4.0])
W_LINE = np.array([1.0, 2.0, 1.0, 1.0, 1.0])


def line_pairs(
    demand_x: np.ndarray = DEMAND_X, cand_x: np.ndarray = CAND_X, radius: float = 5.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return pairs_within(
        np.c_[demand_x, np.zeros(len(demand_x))], np.c_[cand_x, np.zeros(len(cand_x))], radius
    )


def test_pairs_within_gives_sorted_pairs_with_zero_distances_and_skips_nan() -> None:
    d, s, dist = pairs_within([[0, 0], [np.nan, 0], [3, 4]], [[0, 0], [3, 0]], 4.0)
    assert d.tolist() == [0, 0, 2]
    assert s.tolist() == [0, 1, 1]
    np.testing.assert_allclose(dist, [0.0, 3.0, 4.0])


def test_lscp_on_the_line_opens_c0_and_c2_ordered_by_gain() -> None:
    r = lscp(line_pairs(), np.ones(5), threshold_m=1.0, n_candidates=4)
    assert r.sites == (2, 0)  # c2 covers three points, then c0 the other two
    assert r.gain == (3.0, 2.0)
    assert r.objective == 2.0
    assert r.status == "optimal" and r.solver == SOLVER
    assert (r.covered_before, r.covered_after, r.uncoverable_weight) == (0.0, 5.0, 0.0)


def test_mclp_one_site_on_the_line_picks_c1() -> None:
    r = mclp(line_pairs(), W_LINE, 1, threshold_m=1.0, n_candidates=4)
    assert r.sites == (1,)
    assert r.objective == 4.0 and r.covered_after == 4.0 and r.total_weight == 6.0
    two = mclp(line_pairs(), W_LINE, 2, threshold_m=1.0, n_candidates=4)
    assert set(two.sites) == {0, 2} and two.objective == 6.0  # all six: c1 is then useless


def test_existing_facility_changes_the_answer_in_every_form() -> None:
    # an existing facility at x = 3 covers demand 2, 3, 4: only 0 (w 1) and 1 (w 2) remain,
    # which c0 covers together (3) and c1 only in part (2)
    ex = pairs_within(np.c_[DEMAND_X, np.zeros(5)], [[3.0, 0.0]], 5.0)
    by_pairs = mclp(line_pairs(), W_LINE, 1, threshold_m=1.0, existing=ex, n_candidates=4)
    assert by_pairs.sites == (0,)
    assert by_pairs.covered_before == 3.0 and by_pairs.covered_after == 6.0
    nearest = np.abs(DEMAND_X - 3.0)
    by_dist = mclp(line_pairs(), W_LINE, 1, threshold_m=1.0, existing=nearest, n_candidates=4)
    by_mask = mclp(line_pairs(), W_LINE, 1, threshold_m=1.0, existing=nearest <= 1.0)
    assert by_dist == replace(by_pairs, wall_time_s=by_dist.wall_time_s)
    assert by_mask.sites == (0,) and by_mask.covered_before == 3.0
    assert lscp(line_pairs(), W_LINE, threshold_m=1.0, existing=ex).sites == (0,)


def test_uncoverable_demand_is_reported_not_infeasible() -> None:
    demand_x = np.r_[DEMAND_X, 10.0]
    w = np.r_[np.ones(5), 7.0]
    r = lscp(line_pairs(demand_x), w, threshold_m=1.0, n_candidates=4)
    assert r.sites == (2, 0) and r.status == "optimal"
    assert r.uncoverable == (5,) and r.uncoverable_weight == 7.0
    assert r.covered_after == 5.0 and r.total_weight == 12.0


def test_demand_of_weight_zero_needs_no_site() -> None:
    r = lscp(line_pairs(), np.array([0.0, 0.0, 1.0, 1.0, 1.0]), threshold_m=1.0)
    assert r.sites == (2,)


def test_cost_forms_agree() -> None:
    d, s, dist = line_pairs()
    dense = np.full((5, 4), np.inf)
    dense[d, s] = dist
    mat = sp.csr_array((dist, (d, s)), shape=(5, 4))
    cover = sp.csr_array(dense <= 1.0)
    obj = SimpleNamespace(demand=d, facility=s, dist_m=dist, n_facility=4)
    results = [
        mclp(form, W_LINE, 2, threshold_m=thr, n_candidates=4)
        for form, thr in (((d, s, dist), 1.0), (mat, 1.0), (cover, None), (obj, 1.0))
    ]
    assert all(r.sites == results[0].sites and r.objective == 6.0 for r in results)


def test_explicit_zero_in_a_sparse_matrix_is_a_pair() -> None:
    mat = sp.coo_array((np.array([0.0]), (np.array([0]), np.array([1]))), shape=(2, 2))
    r = lscp(mat, np.array([1.0, 1.0]), threshold_m=0.5)
    assert r.sites == (1,) and r.uncoverable == (1,)


def test_result_frame_is_tidy() -> None:
    r = lscp(line_pairs(), np.ones(5), threshold_m=1.0)
    f = r.to_frame()
    assert f.columns.tolist() == [
        "rank",
        "candidate",
        "unit",
        "gain",
        "covered_gain",
        "cumulative_gain",
        "cumulative_covered",
        "model",
    ]
    assert f["rank"].tolist() == [1, 2] and f["candidate"].tolist() == [2, 0]
    assert f["cumulative_covered"].tolist() == [3.0, 5.0]
    assert f.attrs["status"] == "optimal" and f.attrs["n_sites"] == 2


def test_bad_inputs_raise_bilingual_errors() -> None:
    d, s, dist = line_pairs()
    with pytest.raises(InputError, match="需求权重"):
        mclp((d, s, dist), -W_LINE, 1)
    with pytest.raises(InputError, match="candidate index"):
        lscp((d, s, dist), W_LINE, n_candidates=2)
    with pytest.raises(InputError, match="negative distance"):
        lscp((d, s, -dist), W_LINE)
    with pytest.raises(InputError, match="n_new"):
        mclp((d, s, dist), W_LINE, -1)


# --------------------------------------------------------------------------- p-median


def brute_median(
    dist: np.ndarray, w: np.ndarray, existing: np.ndarray, p: int, limit: float, penalty: float
) -> tuple[float, set[tuple[int, ...]]]:
    """Least total weighted distance over all p-subsets (dense dist, inf = no pair)."""
    best, sets = np.inf, set()
    for combo in itertools.combinations(range(dist.shape[1]), p):
        d = np.minimum(existing, dist[:, list(combo)].min(axis=1, initial=np.inf))
        total = float((w * np.where(d <= limit, d, penalty)).sum())
        if total < best - 1e-9:
            best, sets = total, {combo}
        elif abs(total - best) <= 1e-9:
            sets.add(combo)
    return best, sets


@pytest.mark.parametrize("seed", range(6))
def test_p_median_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dxy = rng.uniform(0, 10, (14, 2))
    cxy = rng.uniform(0, 10, (7, 2))
    exy = rng.uniform(0, 10, (1, 2))
    w = rng.integers(1, 6, 14).astype(float)
    limit, penalty = 4.0, 9.0
    d, s, dist = pairs_within(dxy, cxy, limit)
    dense = np.full((14, 7), np.inf)
    dense[d, s] = dist
    ex_d = np.linalg.norm(dxy - exy, axis=1)
    existing = np.where(ex_d <= limit, ex_d, np.inf)
    for p in (1, 2, 3):
        r = p_median(
            (d, s, dist), w, p, limit_m=limit, penalty_m=penalty, existing=existing,
            n_candidates=7, mip_gap=0.0,
        )  # fmt: skip
        best, sets = brute_median(dense, w, existing, p, limit, penalty)
        assert r.objective == pytest.approx(best)
        assert r.penalty_m == penalty and r.threshold_m == limit
        if len(r.sites) == p:
            assert tuple(sorted(r.sites)) in sets
        # marginal gains add up to the distance saved against the existing facilities only
        before = float((w * np.where(existing <= limit, existing, penalty)).sum())
        assert sum(r.gain) == pytest.approx(before - r.objective)
        assert list(r.gain) == sorted(r.gain, reverse=True) or len(r.gain) < 2


def test_p_median_penalty_default_and_unreached_demand() -> None:
    demand_x = np.r_[DEMAND_X, 20.0]
    r = p_median(line_pairs(demand_x, radius=1.0), np.ones(6), 1, n_candidates=4)
    assert r.threshold_m == 1.0 and r.penalty_m == 2.0
    assert r.uncoverable == (5,)
    # c1 reaches 1, 2, 3 (1 + 0 + 1 = 2; 0 and 4 penalised): 2 + 3 × 2 = 8
    assert r.sites == (1,) and r.objective == 8.0


# --------------------------------------------------------------------------- presence


def test_presence_picks_best_candidate_per_gap_unit_and_reports_empty_units() -> None:
    unit = np.array([0, 0, 1, 1, 2, -1, 0])
    score = np.array([5.0, 9.0, 3.0, 3.0, 8.0, 100.0, 9.0])
    r = presence_sites(unit, [0, 1, 3, 1], score)
    assert r.sites == (1, 2)  # unit 0: 9 (index 1 before 6); unit 1: tie 3 → index 2
    assert r.site_units == (0, 1) and r.gain == (9.0, 3.0)
    assert r.units_without_candidate == (3,)
    assert (r.total_weight, r.covered_after, r.uncoverable_weight) == (3.0, 2.0, 1.0)
    assert r.to_frame()["unit"].tolist() == [0, 1]


# --------------------------------------------------------------------------- determinism


def random_instance(
    seed: int, n_d: int = 300, n_c: int = 40, integer: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    # integer grid points: many equal distances and tied solutions
    dxy = rng.integers(0, 30, (n_d, 2)).astype(float)
    cxy = rng.integers(0, 30, (n_c, 2)).astype(float)
    w = rng.integers(1, 4, n_d).astype(float) if integer else rng.uniform(1, 2, n_d)
    return pairs_within(dxy, cxy, 4.0), w


def without_time(r: SitingResult) -> SitingResult:
    return replace(r, wall_time_s=0.0)


@pytest.mark.parametrize("model", ["lscp", "mclp", "p_median"])
def test_same_input_same_result_and_demand_order_does_not_matter(model: str) -> None:
    (d, s, dist), w = random_instance(1)

    def run(pairs: Any, weights: np.ndarray) -> SitingResult:
        if model == "lscp":
            return lscp(pairs, weights, threshold_m=3.0, n_candidates=40)
        if model == "mclp":
            return mclp(pairs, weights, 5, threshold_m=3.0, n_candidates=40)
        return p_median(pairs, weights, 5, n_candidates=40)

    first = run((d, s, dist), w)
    assert without_time(run((d, s, dist), w)) == without_time(first)
    perm = np.random.default_rng(7).permutation(len(w))  # new row i is old row perm[i]
    inv = np.argsort(perm)
    shuffled = run((inv[d], s, dist), w[perm])
    assert shuffled.sites == first.sites and shuffled.gain == pytest.approx(first.gain)
    assert shuffled.uncoverable == tuple(sorted(inv[list(first.uncoverable)]))


@pytest.mark.parametrize("model", ["mclp", "p_median"])
def test_candidate_order_mapped_back_gives_the_same_sites(model: str) -> None:
    (d, s, dist), w = random_instance(2, integer=False)
    perm = np.random.default_rng(3).permutation(40)  # new candidate i is old perm[i]
    inv = np.argsort(perm)
    fn = mclp if model == "mclp" else p_median
    kw: dict[str, Any] = {"threshold_m": 3.0} if model == "mclp" else {}
    first = fn((d, s, dist), w, 4, n_candidates=40, mip_gap=0.0, **kw)
    again = fn((d, inv[s], dist), w, 4, n_candidates=40, tie_break=perm, mip_gap=0.0, **kw)
    assert tuple(perm[list(again.sites)]) == first.sites
    assert again.objective == pytest.approx(first.objective)


def test_tie_break_key_decides_between_equal_sites() -> None:
    # two candidates at the same place: the index decides, or the key when given
    pairs = line_pairs(cand_x=np.array([2.0, 2.0]))
    assert mclp(pairs, np.ones(5), 1, threshold_m=1.0).sites == (0,)
    assert mclp(pairs, np.ones(5), 1, threshold_m=1.0, tie_break=[5, 1]).sites == (1,)
    by_key = lscp(pairs, np.ones(5), threshold_m=1.0, tie_break=["b", "a"])
    assert by_key.sites == (1,) and by_key.uncoverable == (0, 4)


def test_equal_gains_are_ordered_by_tie_break() -> None:
    # within 0.6 m: c0 (0.5) → {0, 1}, c1 (1.5) → {1, 2}, c2 (3.5) → {3, 4}, c3 (2.0) → {2}
    pairs = line_pairs(cand_x=np.array([0.5, 1.5, 3.5, 2.0]))
    r = lscp(pairs, np.ones(5), threshold_m=0.6)
    assert r.sites == (0, 2, 1) and r.gain == (2.0, 2.0, 1.0)  # c1 beats c3 on index too
    flipped = lscp(pairs, np.ones(5), threshold_m=0.6, tie_break=[3, 2, 1, 0])
    assert flipped.sites == (2, 0, 3)
    assert greedy_mclp(pairs, np.ones(5), 2, threshold_m=0.6, tie_break=[3, 2, 1, 0]).sites == (
        2,
        1,
    )


# --------------------------------------------------------------------------- time limit


def fake_milp(x: np.ndarray | None, bound: float | None = None) -> Any:
    """A HiGHS answer stopped by the time limit with incumbent ``x`` and dual bound."""

    def run(c: np.ndarray, **_kw: Any) -> OptimizeResult:
        return OptimizeResult(
            status=1,
            x=x if x is None else x[: len(c)],
            mip_gap=0.9,  # ignored: the gap is recomputed for the solution returned
            mip_dual_bound=bound,
            message="Time limit reached. (HiGHS Status 13)",
        )

    return run


def test_time_limit_without_solution_falls_back_to_greedy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(siting_models, "milp", fake_milp(None))
    r = lscp(line_pairs(), np.ones(5), threshold_m=1.0)
    assert r.solver == "greedy" and r.mip_gap is None
    assert r.status == (
        "time_limit with gap unknown (no bound yet); no solution from the solver, "
        "greedy solution returned"
    )
    assert r.covered_after == 5.0  # the greedy cover still covers all
    m = mclp(line_pairs(), W_LINE, 1, threshold_m=1.0)
    assert m.solver == "greedy" and m.sites == (1,) and "greedy solution returned" in m.status
    # greedy cover takes c1 first (three points), then needs c0 and c2 or c3: 3 sites; a
    # solver bound of 1.6 (n sites score n to n + 1/2) proves 2, so the gap is (3 - 2) / 3
    monkeypatch.setattr(siting_models, "milp", fake_milp(None, 1.6))
    r = lscp(line_pairs(), np.ones(5), threshold_m=1.0)
    assert r.objective == 3.0 and r.mip_gap == pytest.approx(1 / 3)
    assert r.status.startswith("time_limit with gap 33.3 %; no solution")


def test_time_limit_keeps_the_better_of_solver_and_greedy(monkeypatch: pytest.MonkeyPatch) -> None:
    # line MCLP scaled by the largest weight (2): a bound of -2.5 means at most 5 coverable;
    # an incumbent opening only c3 (covers 2) is worse than greedy's c1 (4): greedy kept
    k = 4
    monkeypatch.setattr(siting_models, "milp", fake_milp(np.r_[np.eye(k)[3], np.zeros(10)], -2.5))
    r = mclp(line_pairs(), W_LINE, 1, threshold_m=1.0)
    assert r.sites == (1,) and r.solver == "greedy"
    assert r.status == "time_limit with gap 25 %; greedy solution kept (better than the solver's)"
    assert r.mip_gap == pytest.approx(0.25, rel=1e-3)
    # with an incumbent as good as greedy, the solver's is kept with the gap stated
    monkeypatch.setattr(siting_models, "milp", fake_milp(np.r_[np.eye(k)[1], np.zeros(10)], -2.5))
    r = mclp(line_pairs(), W_LINE, 1, threshold_m=1.0)
    assert r.sites == (1,) and r.solver == SOLVER and r.status == "time_limit with gap 25 %"


def test_proven_gap_is_stated_in_model_units() -> None:
    (d, s, dist), w = random_instance(4)
    r = mclp((d, s, dist), w, 6, threshold_m=3.0, n_candidates=40, mip_gap=0.0)
    assert r.status == "optimal" and r.mip_gap is not None and 0.0 <= r.mip_gap < 1e-4
    pm = p_median((d, s, dist), w, 3, n_candidates=40, mip_gap=0.0)
    assert pm.status == "optimal" and pm.mip_gap is not None and 0.0 <= pm.mip_gap < 1e-4


# --------------------------------------------------------------------------- properties


def brute_mclp(cover: np.ndarray, w: np.ndarray, n: int) -> float:
    best = 0.0
    for combo in itertools.combinations(range(cover.shape[1]), min(n, cover.shape[1])):
        best = max(best, float(w[cover[:, list(combo)].any(axis=1)].sum()))
    return best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(2, 12).flatmap(
        lambda n_d: st.tuples(
            st.lists(st.lists(st.booleans(), min_size=5, max_size=5), min_size=n_d, max_size=n_d),
            st.lists(st.integers(0, 9), min_size=n_d, max_size=n_d),
        )
    )
)
def test_mclp_is_optimal_monotone_and_never_below_greedy(data: tuple[Any, Any]) -> None:
    cover = np.array(data[0], dtype=bool)
    w = np.array(data[1], dtype=float)
    mat = sp.csr_array(cover)
    previous = -1.0
    for n in range(6):
        r = mclp(mat, w, n)
        g = greedy_mclp(mat, w, n)
        assert r.objective >= previous - 1e-9
        assert r.objective >= g.objective - 1e-9
        assert r.objective == pytest.approx(brute_mclp(cover, w, n))
        assert len(r.sites) <= n and r.covered_after == pytest.approx(r.objective)
        previous = r.objective
    # LSCP: the fewest sites that cover every coverable point of positive weight
    need = (w > 0) & cover.any(axis=1)
    full = lscp(mat, w)
    sizes = [
        k
        for k in range(6)
        for combo in itertools.combinations(range(5), k)
        if cover[need][:, list(combo)].any(axis=1).all()
    ]
    assert full.objective == min(sizes)
    assert full.uncoverable_weight == pytest.approx(float(w[(w > 0) & ~cover.any(axis=1)].sum()))


# --------------------------------------------------------------------------- candidates


def test_candidates_in_water_or_outside_units_are_refused_with_findings(
    units: gpd.GeoDataFrame,
) -> None:
    water = np.array([box(120.02, 31.02, 120.04, 31.04)], dtype=object)
    lon = [120.05, 120.03, 120.15, 121.0, np.nan, 120.1, 120.15]
    lat = [31.05, 31.03, 31.05, 31.0, 31.0, 31.05, 31.15]
    names = ["岸上", "湖中", "洞中", "县外", "无坐标", "共边", "戊港"]
    cs = candidates_from_points(lon, lat, names, units, water, file="c.csv", rows=range(2, 9))
    assert cs.index.tolist() == [0, 5, 6]
    # unit A (320501001) wins the shared edge with B by its smaller code
    assert cs.unit.tolist() == [0, 0, 4]
    assert cs.names.tolist() == ["岸上", "共边", "戊港"]
    got = {(f.code, f.row) for f in cs.findings}
    assert got == {
        ("candidate_in_water", 3),
        ("candidate_outside_units", 4),
        ("candidate_outside_units", 5),
        ("candidate_bad_coordinate", 6),
    }
    assert all(f.severity == "warning" and f.file == "c.csv" for f in cs.findings)
    assert all(f.message_zh and f.message_en and f.suggestion for f in cs.findings)
    with pytest.raises(ValueError, match="read-only"):
        cs.index[0] = 3


def test_many_refusals_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    from coverage_gis.access import demand  # the shared row-findings cap

    monkeypatch.setattr(demand, "MAX_ROW_FINDINGS", 3)
    monkeypatch.setattr(demand, "SHOWN_ROW_FINDINGS", 2)
    cs = candidates_from_points(np.full(5, 130.0), np.full(5, 40.0), None, [box(0, 0, 1, 1)])
    assert len(cs) == 0 and len(cs.findings) == 3
    assert cs.findings[-1].count == 3 and "3 more" in cs.findings[-1].message_en


def test_unit_centroid_candidates_move_off_water_and_report_drowned_units() -> None:
    units = gpd.GeoDataFrame(
        {"code": ["1", "2", "3"], "name": ["甲", "乙", "丙"]},
        geometry=[box(0, 0, 2, 2), box(2, 0, 4, 2), box(4, 0, 6, 2)],
        crs=4326,
    )
    water = np.array([box(-1, 0.5, 3, 1.5), box(4, 0, 6, 2)], dtype=object)
    cs = unit_centroid_candidates(units, water)
    assert cs.index.tolist() == [0, 1] and cs.unit.tolist() == [0, 1]
    pts = shapely.points(cs.lon, cs.lat)
    assert shapely.within(pts, units.geometry.to_numpy()[:2]).all()
    assert not shapely.intersects(pts[:, None], water[None, :]).any()
    assert [f.code for f in cs.findings] == ["unit_without_candidate_point"]
    assert cs.findings[0].value.startswith("丙")
    plain = unit_centroid_candidates(units)
    assert len(plain) == 3 and plain.names.tolist() == ["甲", "乙", "丙"]


def test_demand_point_candidates_thin_to_the_heaviest_point_per_cluster() -> None:
    rng = np.random.default_rng(0)
    lon = np.r_[rng.normal(120.0, 0.002, 50), rng.normal(120.5, 0.002, 50), np.nan]
    lat = np.r_[rng.normal(31.0, 0.002, 50), rng.normal(31.3, 0.002, 50), 31.0]
    w = rng.uniform(1, 2, 101)
    w[[7, 60]] = 50.0
    assert demand_point_candidates(lon, lat, 2, w).tolist() == [7, 60]
    for k in (1, 5, 30, 99):
        got = demand_point_candidates(lon, lat, k, w)
        assert 1 <= len(got) <= k and len(np.unique(got)) == len(got) and 100 not in got
    assert demand_point_candidates(lon, lat, 200).tolist() == list(range(100))
