"""Location models for new facility sites (新设施选址模型): presence, LSCP, MCLP, p-median.

Every model answers "where should the next facilities go" over a set of *candidate sites*
and a set of *demand points* (residents, elderly residents) with weights:

* :func:`presence_sites` — one site in each township that has none (布点补缺): the best
  candidate inside each gap unit by a score (e.g. elderly residents reached);
* :func:`lscp` — location set covering (最少设施全覆盖): the fewest new sites so that every
  demand point that *can* be covered is within the threshold of an open site;
* :func:`mclp` — maximal covering (最大覆盖): ``n_new`` sites covering the most new weight;
* :func:`p_median` — p-median (总距离最小): ``p`` sites with the least total weighted
  distance to the nearest open site;
* :func:`greedy_mclp` — the greedy heuristic for MCLP, the baseline the exact model is
  measured against.

Inputs are plain arrays. The *cost* (demand × candidate) is a ``scipy.sparse`` matrix whose
stored entries are the pairs (explicit zeros are distance-0 pairs; a boolean matrix is a
coverage matrix), a ``(demand_idx, candidate_idx, dist_m)`` tuple of arrays, or any object
with ``demand``, ``facility`` and ``dist_m`` arrays (and optionally ``n_facility``), such as
the demand–facility pairs of the accessibility engine. Pairs not given are out of reach.
Existing facilities are *fixed open*: pass their pairs in the same form (``existing=``), or
one distance per demand point to the nearest existing facility (``inf``: none), or a boolean
"already covered" mask. Demand already covered by existing facilities is dropped from the
covering models; demand that no candidate reaches is reported as *uncoverable* (weight and
indices), never as an infeasible model.

Every run returns a :class:`SitingResult`: the chosen candidates ordered by marginal gain
(added greedily in the chosen set's own order, so rank 1 is the single most useful site),
each site's gain, the objective, the solver's status and MIP gap, the wall time and the
covered weight before/after.

Solver choice (measured, ``benchmarks/bench_siting.py --spopt``)
-----------------------------------------------------------------
The models are built directly as sparse matrices and solved with ``scipy.optimize.milp``
(HiGHS, shipped inside scipy>=1.11, no extra dependency, no subprocess). PySAL ``spopt``
(0.7, with PuLP and HiGHS or CBC) was measured and rejected:

* ``from_cost_matrix`` takes a *dense* demand × candidate matrix and builds every
  constraint with Python loops over all (demand, candidate) cells — for the benchmark's
  20,000 × 2,000 instance that is 40 million cells (320 MB per dense float matrix) before
  the solver starts. Measured on 4,000 × 400 (1/25 of the cells; same generator, 20 sites,
  25 existing): building the PuLP model took 9.8 s and HiGHS 0.25 s, against 0.06 s for
  the whole call here, same optimum; the full 20,000 × 2,000 instance takes 5.1 s here to
  a proven optimum (greedy: 1.7 % less weight), where spopt's build alone would scale to
  minutes;
* existing facilities are "predefined" sites inside the candidate set that count towards
  ``p`` (MCLP) or the objective (LSCP) instead of being dropped demand, and uncoverable
  demand makes LSCP infeasible instead of being reported;
* its p-median has a dense assignment variable per (demand, candidate) cell.

The sparse formulations here have one variable per candidate that reaches any uncovered
demand, one coverage variable per *distinct* set of reaching candidates (demand points
reached by exactly the same candidates are merged; a set with a single candidate needs no
variable at all), and for p-median one assignment variable per (demand, candidate) pair
that improves on the existing facilities.

Limits
------
p-median has one assignment variable and one linking row per improving (demand, candidate)
pair, and its LP relaxation is hard for HiGHS: measured with the benchmark's generator,
20 sites, 1 km, 5,000 × 500 (19,000 pairs) solves to optimality in 0.7 s and 10,000 × 1,000
(74,000 pairs) in 27 s, but 20,000 × 2,000 (316,000 pairs) reaches no useful bound in
60 s; the greedy solution is then returned with the gap the solver's bound allows (stated
in the status). LSCP and MCLP at 20,000 × 2,000 solve to proven optimality in about 1 s
and 5 s.

Determinism
-----------
Identical input gives identical output: ties between equally good solutions are broken by a
tiny objective term on each candidate's tie-break rank (``tie_break``, default the candidate
index; lower is preferred): among solutions of equal weight the one with the smallest sum
of ranks wins — exactly when solved to a zero gap, within ``mip_gap`` otherwise. The term
never costs covered weight (it adds up to a thousandth of the smallest demand weight over
all sites together; for LSCP to less than half a site), and the
merged demand sets are ordered by their content, not by the input order. The marginal-gain
order breaks exact ties the same way. When the MILP stops at the time limit and its best
solution is worse than the greedy one (or it has none), the greedy solution is returned and
the status says so.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from coverage_gis.core.errors import InputError

__all__ = [
    "SOLVER",
    "SitingResult",
    "greedy_mclp",
    "lscp",
    "mclp",
    "p_median",
    "pair_arrays",
    "pairs_within",
    "presence_sites",
]

#: Name of the exact solver, as stated in every result.
SOLVER = f"HiGHS (scipy {scipy.__version__} optimize.milp)"

#: Default time limit of one MILP solve, seconds.
DEFAULT_TIME_LIMIT = 60.0
#: Default relative MIP gap at which the solver may stop and call the solution optimal.
DEFAULT_MIP_GAP = 1e-4

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

# scipy.optimize.milp status codes
_OPTIMAL, _LIMIT, _INFEASIBLE, _UNBOUNDED = 0, 1, 2, 3


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class SitingResult:
    """The outcome of one siting run (immutable; equal runs compare equal).

    Attributes
    ----------
    model
        ``"presence"``, ``"lscp"``, ``"mclp"``, ``"p_median"`` or ``"greedy_mclp"``.
    sites
        Chosen candidate indices, rank 1 first: ordered by marginal gain when added one by
        one to the existing facilities (largest first, ties by tie-break rank).
    gain
        Marginal gain of each site in that order, in objective units: newly covered weight
        (LSCP, MCLP), weighted distance saved in weight × metres (p-median), the site's
        score (presence).
    covered_gain
        Weight newly within the threshold (p-median: within ``threshold_m``, the limit) of
        each site in that order; presence: 1 per filled unit.
    objective
        LSCP: number of new sites; MCLP: newly covered weight; p-median: total weighted
        distance after, penalties included (weight × metres); presence: units filled.
    solver
        Solver that produced the sites (:data:`SOLVER`, ``"greedy"``, ``"rule"``).
    status
        ``"optimal"``, ``"time_limit with gap 1.23 %"``, … in plain words.
    mip_gap
        Relative MIP gap the solver reported (None: not a MILP, or no bound).
    wall_time_s
        Seconds for the whole call (not compared by ``==``).
    covered_before, covered_after
        Demand weight within the threshold of an open site before and after the new sites
        (presence: gap units with a facility).
    uncoverable_weight
        Weight of demand that neither an existing facility nor any candidate reaches
        (presence: gap units without a candidate).
    total_weight
        Weight of all demand points (presence: number of gap units).
    n_requested
        ``n_new`` / ``p`` asked for (None for LSCP and presence). Fewer sites are returned
        when more would add nothing.
    threshold_m
        Coverage threshold (p-median: the distance limit), None when every given pair covers.
    penalty_m
        p-median: distance counted for demand beyond the limit of every open site.
    site_units
        Presence: unit of each chosen site.
    units_without_candidate
        Presence: gap units with no candidate inside.
    uncoverable
        Demand point indices counted in ``uncoverable_weight`` (ascending).
    """

    model: str
    sites: tuple[int, ...]
    gain: tuple[float, ...]
    covered_gain: tuple[float, ...]
    objective: float
    solver: str
    status: str
    mip_gap: float | None
    wall_time_s: float = field(compare=False)
    covered_before: float
    covered_after: float
    uncoverable_weight: float
    total_weight: float
    n_requested: int | None = None
    threshold_m: float | None = None
    penalty_m: float | None = None
    site_units: tuple[int, ...] = ()
    units_without_candidate: tuple[int, ...] = ()
    uncoverable: tuple[int, ...] = ()

    @property
    def n_sites(self) -> int:
        """Number of chosen sites."""
        return len(self.sites)

    def summary(self) -> dict[str, Any]:
        """The run's scalar facts as a plain dict (JSON-friendly)."""
        d = asdict(self)
        for k in ("sites", "gain", "covered_gain", "site_units", "units_without_candidate"):
            d.pop(k)
        d["uncoverable"] = len(self.uncoverable)
        d["n_sites"] = self.n_sites
        return d

    def to_frame(self) -> pd.DataFrame:
        """One row per chosen site, rank 1 first.

        Returns
        -------
        DataFrame
            Columns ``rank``, ``candidate``, ``unit`` (presence; else -1), ``gain``,
            ``covered_gain``, ``cumulative_gain``, ``cumulative_covered`` (covered weight
            after the sites up to this rank, existing included), ``model``. The run's
            scalars are in ``frame.attrs`` (:meth:`summary`).
        """
        n = self.n_sites
        gain = np.asarray(self.gain, dtype=float)
        covered = np.asarray(self.covered_gain, dtype=float)
        frame = pd.DataFrame(
            {
                "rank": np.arange(1, n + 1, dtype=np.int64),
                "candidate": np.asarray(self.sites, dtype=np.int64),
                "unit": np.asarray(self.site_units, dtype=np.int64)
                if self.site_units
                else np.full(n, -1, dtype=np.int64),
                "gain": gain,
                "covered_gain": covered,
                "cumulative_gain": np.cumsum(gain),
                "cumulative_covered": self.covered_before + np.cumsum(covered),
                "model": pd.Series([self.model] * n, dtype=object),
            }
        )
        frame.attrs.update(self.summary())
        return frame


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Pairs:
    """Demand–site pairs, sorted by demand then site, one pair per (demand, site)."""

    demand: IntArray
    site: IntArray
    dist: FloatArray
    n_sites: int

    def take(self, keep: NDArray[np.bool_]) -> _Pairs:
        return _Pairs(self.demand[keep], self.site[keep], self.dist[keep], self.n_sites)


def _bad(zh: str, en: str, value: Any = None) -> InputError:
    return InputError(zh, en, value=value)


def _as_pairs(cost: Any, n_demand: int, n_sites: int | None, what: str) -> _Pairs:
    """Normalise a sparse matrix, a pair tuple or a pairs object to sorted unique pairs."""
    if sp.issparse(cost):
        coo = sp.coo_array(cost)
        if coo.shape[0] != n_demand:
            raise _bad(
                f"{what}矩阵的行数（{coo.shape[0]}）与需求点数（{n_demand}）不一致",
                f"the {what} matrix has {coo.shape[0]} rows but there are {n_demand} demand points",
            )
        d, s = coo.row.astype(np.int64), coo.col.astype(np.int64)
        if coo.dtype == bool:
            keep = np.asarray(coo.data, dtype=bool)
            d, s, dist = d[keep], s[keep], np.zeros(int(keep.sum()))
        else:
            dist = np.asarray(coo.data, dtype=float)
        m = int(coo.shape[1])
        if n_sites is not None and n_sites != m:
            raise _bad(
                f"{what}矩阵的列数（{m}）与候选点数（{n_sites}）不一致",
                f"the {what} matrix has {m} columns but n_candidates is {n_sites}",
            )
    else:
        if isinstance(cost, tuple):
            if len(cost) != 3:
                raise _bad(
                    f"{what}应为（需求点序号, 候选点序号, 距离米）三个数组",
                    f"{what} must be three arrays (demand_idx, candidate_idx, dist_m)",
                )
            d_raw, s_raw, dist_raw = cost
            m_attr = None
        elif hasattr(cost, "demand") and hasattr(cost, "dist_m"):
            d_raw, dist_raw = cost.demand, cost.dist_m
            s_raw = cost.facility if hasattr(cost, "facility") else cost.candidate
            m_attr = getattr(cost, "n_facility", None)
        else:
            raise _bad(
                f"无法识别的{what}输入（应为 scipy 稀疏矩阵或三个数组）",
                f"unrecognised {what} input (expected a scipy sparse matrix or three arrays)",
                type(cost).__name__,
            )
        d = np.asarray(d_raw, dtype=np.int64).ravel()
        s = np.asarray(s_raw, dtype=np.int64).ravel()
        dist = np.asarray(dist_raw, dtype=float).ravel()
        if not (len(d) == len(s) == len(dist)):
            raise _bad(
                f"{what}的三个数组长度不一致",
                f"the three {what} arrays differ in length",
                (len(d), len(s), len(dist)),
            )
        m = n_sites if n_sites is not None else m_attr
        m = int(m) if m is not None else (int(s.max()) + 1 if len(s) else 0)
    if len(d) and (d.min() < 0 or d.max() >= n_demand):
        raise _bad(
            f"{what}中的需求点序号超出范围 0…{n_demand - 1}",
            f"a demand index in {what} is outside 0…{n_demand - 1}",
        )
    if len(s) and (s.min() < 0 or s.max() >= m):
        raise _bad(
            f"{what}中的候选点序号超出范围 0…{m - 1}",
            f"a candidate index in {what} is outside 0…{m - 1}",
        )
    if len(dist) and not (np.isfinite(dist).all() and dist.min() >= 0):
        raise _bad(
            f"{what}中有缺失、无穷或负的距离",
            f"{what} holds a missing, infinite or negative distance",
        )
    # sort by (demand, site, distance) and keep the shortest of duplicate pairs
    order = np.lexsort((dist, s, d))
    d, s, dist = d[order], s[order], dist[order]
    first = np.ones(len(d), dtype=bool)
    first[1:] = (d[1:] != d[:-1]) | (s[1:] != s[:-1])
    return _Pairs(d[first], s[first], dist[first], m)


def pair_arrays(
    cost: Any, n_demand: int, n_sites: int | None, what: str
) -> tuple[IntArray, IntArray, FloatArray, int]:
    """Any accepted cost form (see the module docstring) as sorted unique
    ``(demand, site, dist, n_sites)``, indices and distances checked, the shortest of
    duplicate pairs kept — the normaliser of every model here, for models elsewhere
    (:mod:`coverage_gis.siting.capacity`)."""
    p = _as_pairs(cost, n_demand, n_sites, what)
    return p.demand, p.site, p.dist, p.n_sites


def _weights(weights: ArrayLike | None, n_demand: int | None) -> FloatArray:
    """Demand weights as floats (None: all 1), checked finite and non-negative."""
    if weights is None:
        if n_demand is None:
            raise _bad("缺少需求权重", "demand weights are missing")
        return np.ones(n_demand)
    w = np.asarray(weights, dtype=float).ravel()
    if n_demand is not None and len(w) != n_demand:
        raise _bad(
            f"需求权重有 {len(w)} 个，需求点有 {n_demand} 个",
            f"{len(w)} demand weights for {n_demand} demand points",
        )
    if len(w) and not (np.isfinite(w).all() and w.min() >= 0):
        raise _bad(
            "需求权重中有缺失、无穷或负值", "a demand weight is missing, infinite or negative"
        )
    return w


def _n_demand(cost: Any, weights: ArrayLike | None) -> int:
    if weights is not None:
        return int(np.asarray(weights).size)
    if sp.issparse(cost):
        return int(cost.shape[0])
    if hasattr(cost, "n_demand"):
        return int(cost.n_demand)
    raise _bad(
        "未给出需求权重时，需用稀疏矩阵或带 n_demand 的点对给出需求点数",
        "without weights, give the number of demand points by a sparse matrix or pairs with n_demand",
    )


def _existing_distance(existing: Any, n_demand: int) -> FloatArray:
    """Distance from each demand point to the nearest existing facility (inf: none)."""
    best = np.full(n_demand, np.inf)
    if existing is None:
        return best
    if sp.issparse(existing) or isinstance(existing, tuple) or hasattr(existing, "dist_m"):
        pairs = _as_pairs(existing, n_demand, None, "现有设施距离 / existing facilities")
        np.minimum.at(best, pairs.demand, pairs.dist)
        return best
    arr = np.asarray(existing).ravel()
    if len(arr) != n_demand:
        raise _bad(
            f"现有设施的逐点距离有 {len(arr)} 个，需求点有 {n_demand} 个",
            f"{len(arr)} existing-facility distances for {n_demand} demand points",
        )
    if arr.dtype == bool:
        return np.where(arr, 0.0, np.inf)
    arr = arr.astype(float)
    if np.isnan(arr).any() or (arr < 0).any():
        raise _bad(
            "现有设施的逐点距离中有缺失或负值（无设施请用 inf）",
            "an existing-facility distance is missing or negative (use inf for none)",
        )
    return arr


def _ranks(tie_break: ArrayLike | None, m: int) -> IntArray:
    """Dense rank 0…m-1 of each candidate for ties (lower preferred; equal keys by index)."""
    if tie_break is None:
        return np.arange(m, dtype=np.int64)
    key = np.asarray(tie_break).ravel()
    if len(key) != m:
        raise _bad(
            f"tie_break 有 {len(key)} 个值，候选点有 {m} 个",
            f"tie_break has {len(key)} values for {m} candidates",
        )
    ranks = np.empty(m, dtype=np.int64)
    ranks[np.argsort(key, kind="stable")] = np.arange(m)
    return ranks


def _check_count(n: int, name: str) -> int:
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise _bad(f"{name} 应为非负整数", f"{name} must be a non-negative integer", n)
    return int(n)


def _ranges(starts: IntArray, counts: IntArray) -> IntArray:
    """Concatenation of ``arange(s, s + c)`` for each (s, c), without a Python loop."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
    return offsets + np.arange(total, dtype=np.int64)


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class _Cover:
    """Demand that still needs cover, merged into groups reached by the same candidates.

    ``matrix`` is groups × local sites (CSC, ones); ``sites[k]`` is the candidate index of
    local site k; ``weight[g]`` is the summed weight of group g.
    """

    matrix: sp.csc_array
    sites: IntArray
    weight: FloatArray


@dataclass(frozen=True)
class _CoverProblem:
    weights: FloatArray
    n_sites: int
    ranks: IntArray
    covered_before: float
    uncoverable: IntArray
    cover: _Cover
    threshold_m: float | None


def _hash_keys(m: int) -> NDArray[np.uint64]:
    rng = np.random.default_rng(0x51713)
    return rng.integers(0, np.iinfo(np.uint64).max, size=(2, max(m, 1)), dtype=np.uint64)


def _group_rows(pairs: _Pairs) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Merge demand rows reached by exactly the same sites.

    Groups are ordered by their content (a hash of their site set), not by the input order.

    Returns
    -------
    group : ndarray
        Group of each distinct demand row of ``pairs`` (in ascending demand order).
    rows : ndarray
        The distinct demand rows.
    group_pairs : ndarray
        Positions in ``pairs`` of the pairs of each group's first row, group by group.
    group_size : ndarray
        Number of sites reaching each group.
    """
    rows, start, count = np.unique(pairs.demand, return_index=True, return_counts=True)
    if not len(rows):
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z
    keys = _hash_keys(pairs.n_sites)
    with np.errstate(over="ignore"):
        h1 = np.add.reduceat(keys[0][pairs.site], start)
        h2 = np.add.reduceat(keys[1][pairs.site], start)
    sig = np.column_stack([count.astype(np.uint64), h1, h2])
    _u, first, group = np.unique(sig, axis=0, return_index=True, return_inverse=True)
    group = group.ravel().astype(np.int64)
    # exact check of every merged row against its group's first row (a hash collision,
    # about 2**-128 per pair of rows, would merge different rows: then merge nothing)
    row_of_pair = np.repeat(np.arange(len(rows)), count)
    rep = start[first[group]][row_of_pair] + (np.arange(len(pairs.site)) - start[row_of_pair])
    if not np.array_equal(pairs.site[rep], pairs.site):
        group = np.arange(len(rows), dtype=np.int64)
        first = group
    return group, rows, _ranges(start[first], count[first]), count[first].astype(np.int64)


def _cover_problem(
    cost: Any,
    weights: ArrayLike | None,
    threshold_m: float | None,
    existing: Any,
    n_candidates: int | None,
    tie_break: ArrayLike | None,
) -> _CoverProblem:
    n_demand = _n_demand(cost, weights)
    w = _weights(weights, n_demand)
    pairs = _as_pairs(cost, n_demand, n_candidates, "候选点距离 / candidate cost")
    ex = _existing_distance(existing, n_demand)
    if threshold_m is None:
        ex_covered = np.isfinite(ex)
    else:
        threshold_m = float(threshold_m)
        if not np.isfinite(threshold_m) or threshold_m < 0:
            raise _bad("覆盖阈值应为非负有限数", "threshold_m must be finite and >= 0", threshold_m)
        ex_covered = ex <= threshold_m
        pairs = pairs.take(pairs.dist <= threshold_m)
    need = (w > 0) & ~ex_covered
    pairs = pairs.take(need[pairs.demand])
    reached = np.zeros(n_demand, dtype=bool)
    reached[pairs.demand] = True
    uncoverable = np.flatnonzero(need & ~reached)
    group, rows, gp, gsize = _group_rows(pairs)
    n_groups = len(gsize)
    gweight = np.bincount(group, weights=w[rows], minlength=n_groups)
    sites, local = np.unique(pairs.site[gp], return_inverse=True)
    gid = np.repeat(np.arange(n_groups, dtype=np.int64), gsize)
    matrix = sp.csc_array((np.ones(len(gp)), (gid, local.ravel())), shape=(n_groups, len(sites)))
    return _CoverProblem(
        weights=w,
        n_sites=pairs.n_sites,
        ranks=_ranks(tie_break, pairs.n_sites),
        covered_before=float(w[ex_covered].sum()),
        uncoverable=uncoverable,
        cover=_Cover(matrix, sites.astype(np.int64), gweight),
        threshold_m=threshold_m,
    )


# --------------------------------------------------------------------------- solver


@dataclass(frozen=True)
class _Solve:
    """What HiGHS returned: ``kind`` is ``"optimal"``, ``"time_limit"`` or ``"failed"``."""

    x: FloatArray | None
    kind: str
    message: str
    mip_gap: float | None
    bound: float | None  # dual bound on the (scaled) objective minimised

    @property
    def proven(self) -> bool:
        return self.kind == "optimal"


def solve_milp(
    c: FloatArray,
    integrality: NDArray[np.int8],
    a: sp.csr_array,
    lb: FloatArray,
    ub: FloatArray,
    *,
    time_limit: float,
    mip_gap: float,
) -> _Solve:
    """Minimise ``c @ x`` over ``lb <= a @ x <= ub``, ``0 <= x <= 1`` with HiGHS (the one
    solver call of every model, :mod:`coverage_gis.siting.capacity` included)."""
    res = milp(
        c,
        integrality=integrality,
        bounds=Bounds(np.zeros(len(c)), np.ones(len(c))),
        constraints=LinearConstraint(a, lb, ub),
        options={"disp": False, "time_limit": float(time_limit), "mip_rel_gap": float(mip_gap)},
    )

    def finite(name: str) -> float | None:
        v = getattr(res, name, None)
        return float(v) if v is not None and np.isfinite(v) else None

    x = None if res.x is None else np.asarray(res.x, dtype=float)
    kind = {_OPTIMAL: "optimal", _LIMIT: "time_limit"}.get(int(res.status), "failed")
    # infeasible/unbounded cannot happen for these models (x = 0 is feasible, x is bounded)
    return _Solve(x, kind, str(res.message), finite("mip_gap"), finite("mip_dual_bound"))


def _check_solver_options(time_limit: float, mip_gap: float) -> None:
    if not np.isfinite(time_limit) or time_limit <= 0:
        raise _bad("time_limit 应为正数（秒）", "time_limit must be a positive number of seconds")
    if not np.isfinite(mip_gap) or mip_gap < 0:
        raise _bad("mip_gap 应为非负数", "mip_gap must be >= 0", mip_gap)


def _relative_gap(value: float, bound: float | None) -> float | None:
    """``|value - bound| / |value|`` (HiGHS's convention); None without a bound."""
    if bound is None:
        return None
    diff = max(abs(value - bound), 0.0)
    if value == 0:
        return 0.0 if diff <= 1e-12 else None
    return diff / abs(value)


def _status(sol: _Solve, gap: float | None, kept: str) -> str:
    """Plain-words status; ``kept`` is ``"solver"``, ``"greedy_better"`` or ``"greedy_none"``."""
    shown = "unknown (no bound yet)" if gap is None else f"{gap * 100:.3g} %"
    if sol.kind == "optimal" and kept == "solver":
        return "optimal"
    head = f"time_limit with gap {shown}" if sol.kind == "time_limit" else (
        f"solver stopped ({sol.message}), gap {shown}"
    )  # fmt: skip
    if kept == "greedy_better":
        return f"{head}; greedy solution kept (better than the solver's)"
    if kept == "greedy_none":
        return f"{head}; no solution from the solver, greedy solution returned"
    return head


def _pick(gains: FloatArray, ranks: IntArray) -> int:
    """Position of the largest gain; near-equal gains (1e-12 relative) by lowest rank."""
    best = float(gains.max())
    ties = np.flatnonzero(gains >= best - 1e-12 * abs(best))
    return int(ties[np.argmin(ranks[ties])])


def _greedy_cover(
    cover: _Cover, ranks: IntArray, allowed: NDArray[np.bool_], k_max: int
) -> tuple[IntArray, FloatArray]:
    """Add allowed local sites one by one, each the largest new weight; stop at no gain.

    Returns the local sites in the order added and the weight each newly covers.
    """
    m = cover.matrix
    uncovered = np.ones(m.shape[0], dtype=bool)
    allowed = allowed.copy()
    local_rank = ranks[cover.sites]
    order: list[int] = []
    gains: list[float] = []
    while len(order) < k_max and allowed.any():
        g = m.T @ (cover.weight * uncovered)
        g[~allowed] = -1.0
        j = _pick(g, local_rank)
        rows = m.indices[m.indptr[j] : m.indptr[j + 1]]
        gain = float(cover.weight[rows[uncovered[rows]]].sum())
        if gain <= 0:
            break
        order.append(j)
        gains.append(gain)
        uncovered[rows] = False
        allowed[j] = False
    return np.asarray(order, dtype=np.int64), np.asarray(gains, dtype=float)


def _cover_result(
    model: str,
    prob: _CoverProblem,
    chosen_local: IntArray,
    *,
    solver: str,
    status: str,
    mip_gap: float | None,
    started: float,
    n_requested: int | None,
    objective: str,
) -> SitingResult:
    """Order the chosen sites by marginal gain and measure the cover they give."""
    allowed = np.zeros(len(prob.cover.sites), dtype=bool)
    allowed[chosen_local] = True
    order, gains = _greedy_cover(prob.cover, prob.ranks, allowed, len(chosen_local))
    sites = prob.cover.sites[order]
    added = float(gains.sum())
    value = float(len(sites)) if objective == "count" else added
    return SitingResult(
        model=model,
        sites=tuple(int(s) for s in sites),
        gain=tuple(float(g) for g in gains),
        covered_gain=tuple(float(g) for g in gains),
        objective=value,
        solver=solver,
        status=status,
        mip_gap=mip_gap,
        wall_time_s=time.perf_counter() - started,
        covered_before=prob.covered_before,
        covered_after=prob.covered_before + added,
        uncoverable_weight=float(prob.weights[prob.uncoverable].sum()),
        total_weight=float(prob.weights.sum()),
        n_requested=n_requested,
        threshold_m=prob.threshold_m,
        uncoverable=tuple(int(i) for i in prob.uncoverable),
    )


def _site_term(ranks_of_vars: IntArray, n_sites: int, scale: float) -> FloatArray:
    """Tie-break objective term: ``scale * (rank + 1) / (n_sites + 1)`` per site variable."""
    return scale * (ranks_of_vars.astype(float) + 1.0) / (n_sites + 1.0)


# --------------------------------------------------------------------------- models


def lscp(
    cost: Any,
    weights: ArrayLike | None = None,
    *,
    threshold_m: float | None = None,
    existing: Any = None,
    n_candidates: int | None = None,
    tie_break: ArrayLike | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> SitingResult:
    """Fewest new sites so that every coverable demand point is within the threshold.

    Parameters
    ----------
    cost
        Demand × candidate distances: a scipy sparse matrix (stored entries are the pairs;
        boolean: coverage), a ``(demand_idx, candidate_idx, dist_m)`` tuple, or a pairs
        object with ``demand``, ``facility``, ``dist_m``.
    weights
        Weight of each demand point (None: 1 each). Points of weight 0 need no cover.
    threshold_m
        A pair covers when its distance is at most this; None: every given pair covers.
    existing
        Existing facilities, fixed open: their pairs (same forms as ``cost``), or one
        distance per demand point to the nearest (``inf``: none), or a boolean mask of
        demand already covered. Demand they cover is dropped.
    n_candidates
        Number of candidates (needed only for a tuple whose last candidates reach nobody).
    tie_break
        Key per candidate, lower preferred among equally good solutions (default: index).
    time_limit
        Seconds for the solver (default 60).
    mip_gap
        Relative MIP gap at which the solver stops (default 1e-4).

    Returns
    -------
    SitingResult
        ``objective`` is the number of new sites; demand no candidate reaches is in
        ``uncoverable``/``uncoverable_weight`` (it does not make the model infeasible).
    """
    started = time.perf_counter()
    _check_solver_options(time_limit, mip_gap)
    prob = _cover_problem(cost, weights, threshold_m, existing, n_candidates, tie_break)
    cover = prob.cover
    k = len(cover.sites)
    if not cover.matrix.shape[0]:
        return _cover_result(
            "lscp", prob, np.zeros(0, np.int64), solver="none", status="optimal",
            mip_gap=0.0, started=started, n_requested=None, objective="count",
        )  # fmt: skip
    # each site costs 1; the tie-break terms of all sites together add less than 1/2
    c = 1.0 + _site_term(prob.ranks[cover.sites], prob.n_sites, 1.0 / (2.0 * prob.n_sites))
    a = sp.csr_array(cover.matrix)
    sol = solve_milp(
        c, np.ones(k, dtype=np.int8), a, np.ones(a.shape[0]), np.full(a.shape[0], np.inf),
        time_limit=time_limit, mip_gap=mip_gap,
    )  # fmt: skip
    kept = "solver"
    if sol.x is not None:
        chosen = np.flatnonzero(sol.x > 0.5)
    else:  # no incumbent at the time limit: greedy cover of everything coverable
        chosen, _g = _greedy_cover(cover, prob.ranks, np.ones(k, dtype=bool), k)
        kept = "greedy_none"
    res = _cover_result(
        "lscp", prob, chosen, solver=SOLVER if kept == "solver" else "greedy", status="",
        mip_gap=None, started=started, n_requested=None, objective="count",
    )  # fmt: skip
    # a solution of n sites scores between n and n + 1/2: the bound rounds up to a count
    bound = None if sol.bound is None else float(max(np.ceil(sol.bound - 0.5 - 1e-9), 0.0))
    return _finish(res, sol, bound, kept, started)


def _finish(
    res: SitingResult, sol: _Solve, bound: float | None, kept: str, started: float
) -> SitingResult:
    """Set the gap of the returned solution against the solver's bound, and the status."""
    gap = _relative_gap(res.objective, bound)
    if gap is None and sol.proven:
        gap = sol.mip_gap
    return replace(
        res,
        status=_status(sol, gap, kept),
        mip_gap=gap,
        wall_time_s=time.perf_counter() - started,
    )


def _mclp_milp(
    prob: _CoverProblem, n_new: int, time_limit: float, mip_gap: float
) -> tuple[IntArray | None, _Solve, float | None]:
    """Solve MCLP; also returns the solver's upper bound on the newly covered weight."""
    cover = prob.cover
    m = cover.matrix
    k = len(cover.sites)
    size = np.diff(sp.csr_array(m).indptr)
    scale = float(cover.weight.max())
    w = cover.weight / scale
    single = size == 1
    multi = np.flatnonzero(~single)
    # a group reached by one site only needs no variable: its weight goes to that site
    mc = sp.csr_array(m)
    single_rows = np.flatnonzero(single)
    x_gain = np.bincount(mc.indices[mc.indptr[single_rows]], weights=w[single_rows], minlength=k)
    eps = 1e-3 * float(w.min()) / (n_new + 1.0)
    c = np.concatenate(
        [-x_gain + _site_term(prob.ranks[cover.sites], prob.n_sites, eps), -w[multi]]
    )
    # y_g - sum_{j reaches g} x_j <= 0 for merged groups reached by several sites
    sub = mc[multi]
    n_y = len(multi)
    cover_rows = (
        sp.hstack([-sub, sp.eye_array(n_y, format="csr")], format="csr")
        if n_y
        else sp.csr_array((0, k))
    )
    card = sp.csr_array(np.concatenate([np.ones(k), np.zeros(n_y)])[None, :])
    a = sp.vstack([cover_rows, card], format="csr")
    lb = np.concatenate([np.full(n_y, -np.inf), [0.0]])
    ub = np.concatenate([np.zeros(n_y), [float(n_new)]])
    integrality = np.concatenate([np.ones(k, np.int8), np.zeros(n_y, np.int8)])
    sol = solve_milp(c, integrality, a, lb, ub, time_limit=time_limit, mip_gap=mip_gap)
    # minimised: -covered + tie terms (at most eps per site): covered <= eps * n_new - bound
    bound = None if sol.bound is None else (eps * n_new - sol.bound) * scale
    if sol.x is None:
        return None, sol, bound
    return np.flatnonzero(sol.x[:k] > 0.5), sol, bound


def mclp(
    cost: Any,
    weights: ArrayLike | None,
    n_new: int,
    *,
    threshold_m: float | None = None,
    existing: Any = None,
    n_candidates: int | None = None,
    tie_break: ArrayLike | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> SitingResult:
    """``n_new`` new sites covering the most weight not covered by existing facilities.

    Parameters
    ----------
    cost, weights, threshold_m, existing, n_candidates, tie_break, time_limit, mip_gap
        As in :func:`lscp`.
    n_new
        Number of new sites; fewer are returned when more would cover nothing new.

    Returns
    -------
    SitingResult
        ``objective`` is the newly covered weight. Never below :func:`greedy_mclp`: when
        the solver stops at the time limit with a worse solution, the greedy one is kept.
    """
    started = time.perf_counter()
    n_new = _check_count(n_new, "n_new")
    _check_solver_options(time_limit, mip_gap)
    prob = _cover_problem(cost, weights, threshold_m, existing, n_candidates, tie_break)
    cover = prob.cover
    k = len(cover.sites)
    if not cover.matrix.shape[0] or n_new == 0:
        return _cover_result(
            "mclp", prob, np.zeros(0, np.int64), solver="none", status="optimal",
            mip_gap=0.0, started=started, n_requested=n_new, objective="weight",
        )  # fmt: skip
    greedy, ggain = _greedy_cover(cover, prob.ranks, np.ones(k, dtype=bool), n_new)
    chosen, sol, bound = _mclp_milp(prob, n_new, time_limit, mip_gap)
    kept = "solver"
    if chosen is None:
        chosen, kept = greedy, "greedy_none"
    elif not sol.proven and _covered(cover, chosen) < float(ggain.sum()):
        chosen, kept = greedy, "greedy_better"
    res = _cover_result(
        "mclp", prob, chosen, solver=SOLVER if kept == "solver" else "greedy", status="",
        mip_gap=None, started=started, n_requested=n_new, objective="weight",
    )  # fmt: skip
    return _finish(res, sol, bound, kept, started)


def _covered(cover: _Cover, chosen_local: IntArray) -> float:
    hit = (cover.matrix[:, chosen_local].sum(axis=1) > 0) if len(chosen_local) else None
    return 0.0 if hit is None else float(cover.weight[np.asarray(hit).ravel()].sum())


def greedy_mclp(
    cost: Any,
    weights: ArrayLike | None,
    n_new: int,
    *,
    threshold_m: float | None = None,
    existing: Any = None,
    n_candidates: int | None = None,
    tie_break: ArrayLike | None = None,
) -> SitingResult:
    """Greedy MCLP: add the site covering the most new weight, ``n_new`` times.

    Parameters
    ----------
    cost, weights, n_new, threshold_m, existing, n_candidates, tie_break
        As in :func:`mclp`.

    Returns
    -------
    SitingResult
        Sites in the order added (their gains are non-increasing); status ``"heuristic"``.
    """
    started = time.perf_counter()
    n_new = _check_count(n_new, "n_new")
    prob = _cover_problem(cost, weights, threshold_m, existing, n_candidates, tie_break)
    k = len(prob.cover.sites)
    chosen, _g = _greedy_cover(prob.cover, prob.ranks, np.ones(k, dtype=bool), n_new)
    return _cover_result(
        "greedy_mclp", prob, chosen, solver="greedy", status="heuristic", mip_gap=None,
        started=started, n_requested=n_new, objective="weight",
    )  # fmt: skip


# --------------------------------------------------------------------------- p-median


@dataclass(frozen=True)
class _MedianProblem:
    weights: FloatArray
    n_sites: int
    ranks: IntArray
    base: FloatArray  # distance per demand point before new sites (penalty beyond the limit)
    reached_before: NDArray[np.bool_]
    pairs: _Pairs  # improving pairs only, by demand then site
    all_reach: _Pairs  # every candidate pair within the limit (for covered weight)
    limit_m: float
    penalty_m: float
    uncoverable: IntArray


def _median_problem(
    cost: Any,
    weights: ArrayLike | None,
    limit_m: float | None,
    penalty_m: float | None,
    existing: Any,
    n_candidates: int | None,
    tie_break: ArrayLike | None,
) -> _MedianProblem:
    n_demand = _n_demand(cost, weights)
    w = _weights(weights, n_demand)
    pairs = _as_pairs(cost, n_demand, n_candidates, "候选点距离 / candidate cost")
    ex = _existing_distance(existing, n_demand)
    if limit_m is None:
        finite_ex = ex[np.isfinite(ex)]
        limit_m = float(max(pairs.dist.max(initial=0.0), finite_ex.max(initial=0.0)))
    limit_m = float(limit_m)
    if not np.isfinite(limit_m) or limit_m < 0:
        raise _bad("距离上限应为非负有限数", "limit_m must be finite and >= 0", limit_m)
    penalty_m = 2.0 * limit_m if penalty_m is None else float(penalty_m)
    if not np.isfinite(penalty_m) or penalty_m < limit_m:
        raise _bad(
            "超限惩罚距离应为有限数且不小于距离上限",
            "penalty_m must be finite and at least limit_m",
            penalty_m,
        )
    pairs = pairs.take(pairs.dist <= limit_m)
    reached_before = ex <= limit_m
    base = np.where(reached_before, ex, penalty_m)
    reach = np.zeros(n_demand, dtype=bool)
    reach[pairs.demand] = True
    uncoverable = np.flatnonzero((w > 0) & ~reached_before & ~reach)
    useful = pairs.take((w[pairs.demand] > 0) & (pairs.dist < base[pairs.demand]))
    return _MedianProblem(
        weights=w,
        n_sites=pairs.n_sites,
        ranks=_ranks(tie_break, pairs.n_sites),
        base=base,
        reached_before=reached_before,
        pairs=useful,
        all_reach=pairs,
        limit_m=limit_m,
        penalty_m=penalty_m,
        uncoverable=uncoverable,
    )


def _greedy_median(
    prob: _MedianProblem, allowed_sites: IntArray, k_max: int
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Add allowed sites one by one, each saving the most weighted distance.

    Returns the sites in the order added, the weighted distance each saves and the weight
    each brings newly within the limit.
    """
    pairs = prob.pairs
    w = prob.weights
    keep = np.isin(pairs.site, allowed_sites)
    d, s, dist = pairs.demand[keep], pairs.site[keep], pairs.dist[keep]
    sites, local = np.unique(s, return_inverse=True)
    by_site = np.argsort(local, kind="stable")
    starts = np.searchsorted(local[by_site], np.arange(len(sites) + 1))
    reach = prob.all_reach.take(np.isin(prob.all_reach.site, sites))
    reach_by_site = np.argsort(reach.site, kind="stable")
    reach_starts = np.searchsorted(reach.site[reach_by_site], np.r_[sites, np.iinfo(np.int64).max])
    cur = prob.base.copy()
    reached = prob.reached_before.copy()
    allowed = np.ones(len(sites), dtype=bool)
    rank = prob.ranks[sites]
    order: list[int] = []
    saved: list[float] = []
    newly: list[float] = []
    while len(order) < k_max and allowed.any():
        saving = w[d] * np.maximum(cur[d] - dist, 0.0)
        g = np.bincount(local, weights=saving, minlength=len(sites))
        g[~allowed] = -1.0
        j = _pick(g, rank)
        if g[j] <= 0:
            break
        mine = by_site[starts[j] : starts[j + 1]]
        order.append(int(sites[j]))
        saved.append(float(g[j]))
        np.minimum.at(cur, d[mine], dist[mine])
        rd = reach.demand[reach_by_site[reach_starts[j] : reach_starts[j + 1]]]
        fresh = rd[~reached[rd]]
        newly.append(float(w[fresh].sum()))
        reached[fresh] = True
        allowed[j] = False
    return (
        np.asarray(order, dtype=np.int64),
        np.asarray(saved, dtype=float),
        np.asarray(newly, dtype=float),
    )


def _median_milp(
    prob: _MedianProblem, p: int, time_limit: float, mip_gap: float
) -> tuple[IntArray | None, _Solve, float | None]:
    """Solve p-median; also returns the solver's lower bound on the total distance."""
    pairs = prob.pairs
    sites, xk = np.unique(pairs.site, return_inverse=True)
    xk = xk.ravel()
    k, n_z = len(sites), len(pairs.site)
    saving = prob.weights[pairs.demand] * (prob.base[pairs.demand] - pairs.dist)
    scale = float(saving.max())
    saving = saving / scale
    eps = 1e-3 * float(saving.min()) / (p + 1.0)
    c = np.concatenate([_site_term(prob.ranks[sites], prob.n_sites, eps), -saving])
    # z_k - x_j <= 0 for every pair k of site j
    link = sp.csr_array(
        (
            np.concatenate([-np.ones(n_z), np.ones(n_z)]),
            (np.tile(np.arange(n_z), 2), np.concatenate([xk, k + np.arange(n_z)])),
        ),
        shape=(n_z, k + n_z),
    )
    # sum_k z_k <= 1 per demand point with several improving pairs
    rows, start, count = np.unique(pairs.demand, return_index=True, return_counts=True)
    several = np.flatnonzero(count > 1)
    zs = _ranges(start[several], count[several])
    assign = sp.csr_array(
        (np.ones(len(zs)), (np.repeat(np.arange(len(several)), count[several]), k + zs)),
        shape=(len(several), k + n_z),
    )
    card = sp.csr_array(np.concatenate([np.ones(k), np.zeros(n_z)])[None, :])
    a = sp.vstack([link, assign, card], format="csr")
    lb = np.full(a.shape[0], -np.inf)
    ub = np.concatenate([np.zeros(n_z), np.ones(len(several)), [float(p)]])
    integrality = np.concatenate([np.ones(k, np.int8), np.zeros(n_z, np.int8)])
    sol = solve_milp(c, integrality, a, lb, ub, time_limit=time_limit, mip_gap=mip_gap)
    del rows
    # minimised: -saving + tie terms (at most eps per site): saving <= eps * p - bound
    bound = None
    if sol.bound is not None:
        bound = float((prob.weights * prob.base).sum()) - (eps * p - sol.bound) * scale
    if sol.x is None:
        return None, sol, bound
    return sites[sol.x[:k] > 0.5], sol, bound


def p_median(
    cost: Any,
    weights: ArrayLike | None,
    p: int,
    *,
    limit_m: float | None = None,
    penalty_m: float | None = None,
    existing: Any = None,
    n_candidates: int | None = None,
    tie_break: ArrayLike | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> SitingResult:
    """``p`` new sites with the least total weighted distance, existing facilities open.

    Each demand point's distance is the shortest to any open site (existing or new) among
    the pairs within ``limit_m``; a point no open site reaches within the limit counts
    ``penalty_m``.

    Parameters
    ----------
    cost, weights, existing, n_candidates, tie_break, time_limit, mip_gap
        As in :func:`lscp` (here the pairs' distances matter, not only whether they cover).
    p
        Number of new sites; fewer are returned when more would save no distance.
    limit_m
        Pairs longer than this are ignored (default: the longest pair given).
    penalty_m
        Distance counted beyond the limit (default: twice ``limit_m``), stated in the result.

    Returns
    -------
    SitingResult
        ``objective`` is the total weighted distance after (weight × metres), ``gain`` the
        weighted distance each site saves, ``covered_*`` the weight within ``limit_m``.
    """
    started = time.perf_counter()
    p = _check_count(p, "p")
    _check_solver_options(time_limit, mip_gap)
    prob = _median_problem(cost, weights, limit_m, penalty_m, existing, n_candidates, tie_break)
    all_sites = np.unique(prob.pairs.site)
    greedy, _s, _n = _greedy_median(prob, all_sites, p)
    chosen, sol, bound, kept = greedy[:0], None, None, "solver"
    if len(all_sites) and p > 0:
        got, sol, bound = _median_milp(prob, p, time_limit, mip_gap)
        if got is None:
            chosen, kept = greedy, "greedy_none"
        elif not sol.proven and _median_total(prob, got) > _median_total(prob, greedy):
            chosen, kept = greedy, "greedy_better"
        else:
            chosen = got
    order, saved, newly = _greedy_median(prob, chosen, len(chosen))
    w = prob.weights
    before = float(w[prob.reached_before].sum())
    res = SitingResult(
        model="p_median",
        sites=tuple(int(s) for s in order),
        gain=tuple(float(g) for g in saved),
        covered_gain=tuple(float(g) for g in newly),
        objective=_median_total(prob, order),
        solver="none" if sol is None else SOLVER if kept == "solver" else "greedy",
        status="optimal",
        mip_gap=0.0,
        wall_time_s=time.perf_counter() - started,
        covered_before=before,
        covered_after=before + float(newly.sum()),
        uncoverable_weight=float(w[prob.uncoverable].sum()),
        total_weight=float(w.sum()),
        n_requested=p,
        threshold_m=prob.limit_m,
        penalty_m=prob.penalty_m,
        uncoverable=tuple(int(i) for i in prob.uncoverable),
    )
    return res if sol is None else _finish(res, sol, bound, kept, started)


def _median_total(prob: _MedianProblem, sites: IntArray) -> float:
    """Total weighted distance with ``sites`` open besides the existing facilities."""
    cur = prob.base.copy()
    keep = np.isin(prob.pairs.site, sites)
    np.minimum.at(cur, prob.pairs.demand[keep], prob.pairs.dist[keep])
    return float((prob.weights * cur).sum())


# --------------------------------------------------------------------------- presence


def presence_sites(
    unit_of_candidate: ArrayLike,
    gap_units: ArrayLike,
    score: ArrayLike | None = None,
) -> SitingResult:
    """One new site in each gap unit: its candidate with the highest score.

    Parameters
    ----------
    unit_of_candidate
        Unit position of each candidate (-1: none), e.g. :attr:`CandidateSet.unit`.
    gap_units
        Units that need a facility (duplicates ignored).
    score
        Score of each candidate, higher preferred (e.g. elderly residents it reaches);
        None: all equal. Ties go to the lowest candidate index.

    Returns
    -------
    SitingResult
        Sites ordered by score (highest first, ties by index) with ``site_units``; gap
        units without any candidate are in ``units_without_candidate`` (ascending). The
        "weights" are units: ``total_weight`` gap units, ``covered_after`` filled ones.
    """
    started = time.perf_counter()
    unit = np.asarray(unit_of_candidate, dtype=np.int64).ravel()
    gaps = np.unique(np.asarray(gap_units, dtype=np.int64).ravel())
    sc = np.zeros(len(unit)) if score is None else np.asarray(score, dtype=float).ravel()
    if len(sc) != len(unit):
        raise _bad(
            f"评分有 {len(sc)} 个，候选点有 {len(unit)} 个",
            f"{len(sc)} scores for {len(unit)} candidates",
        )
    if not np.isfinite(sc).all():
        raise _bad("候选点评分中有缺失或无穷值", "a candidate score is missing or infinite")
    idx = np.flatnonzero(np.isin(unit, gaps) & (unit >= 0))
    order = idx[np.lexsort((idx, -sc[idx], unit[idx]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = unit[order[1:]] != unit[order[:-1]]
    best = order[first]
    best = best[np.lexsort((best, -sc[best]))]
    missing = np.setdiff1d(gaps, unit[best])
    n_gap, n_fill = len(gaps), len(best)
    return SitingResult(
        model="presence",
        sites=tuple(int(i) for i in best),
        gain=tuple(float(v) for v in sc[best]),
        covered_gain=(1.0,) * n_fill,
        objective=float(n_fill),
        solver="rule",
        status="optimal",
        mip_gap=None,
        wall_time_s=time.perf_counter() - started,
        covered_before=0.0,
        covered_after=float(n_fill),
        uncoverable_weight=float(n_gap - n_fill),
        total_weight=float(n_gap),
        site_units=tuple(int(u) for u in unit[best]),
        units_without_candidate=tuple(int(u) for u in missing),
    )


# --------------------------------------------------------------------------- pairs


def pairs_within(
    demand_xy: ArrayLike, site_xy: ArrayLike, radius_m: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """Straight-line pairs up to ``radius_m`` between points in a metric CRS.

    Parameters
    ----------
    demand_xy, site_xy
        ``(n, 2)`` planar coordinates in metres (rows with NaN reach nothing).
    radius_m
        Largest distance kept (inclusive).

    Returns
    -------
    demand_idx, site_idx, dist_m : ndarray
        The pairs, sorted by demand then site — the ``cost`` form the models take.
    """
    dxy = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    sxy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    dok = np.flatnonzero(np.isfinite(dxy).all(axis=1))
    sok = np.flatnonzero(np.isfinite(sxy).all(axis=1))
    if not len(dok) or not len(sok):
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), np.zeros(0)
    found = cKDTree(dxy[dok]).sparse_distance_matrix(
        cKDTree(sxy[sok]), float(radius_m), output_type="ndarray"
    )
    d, s, dist = dok[found["i"]], sok[found["j"]], found["v"].astype(float)
    order = np.lexsort((s, d))
    return d[order], s[order], dist[order]
