"""Capacitated maximal covering (容量约束的最大覆盖): new sites where beds are short.

For facility types with a capacity (养老机构 beds), reach alone is not enough: a home of
100 beds within 10 km of 10,000 elderly residents does not serve them all. The question
becomes "``n_new`` new institutions of ``capacity`` beds each: where do they serve the most
elderly residents whose bed need within reach is otherwise unmet?"

The model (an LP with binary sites, solved by HiGHS through ``scipy.optimize.milp`` like the
other models):

* each demand point ``i`` has a weight ``w_i`` (elderly residents) and a need ``b_i``
  (beds: ``w_i`` × the target per 1,000, e.g. 40 beds per 1,000 elderly);
* ``y_ij`` (0..1) is the share of ``i``'s need served by facility ``j`` within reach, for
  existing facilities (capacity fixed, always open) and candidates (capacity ``capacity``
  when chosen, ``x_j`` = 1); a demand point's shares add up to at most 1;
* each facility serves at most its capacity: ``Σ_i b_i y_ij ≤ cap_j`` (× ``x_j`` for a
  candidate), and a candidate serves no one unless chosen (``y_ij ≤ x_j``);
* at most ``n_new`` candidates are chosen; the objective is the weight served,
  ``Σ w_i y_ij``, with the same tiny tie-break term on the sites as the other models.

"Served before" is the same LP with the existing facilities alone; the objective reported
is the weight served after minus before (what the new sites add, existing homes'
residents re-assigned where that helps). Each site's ``gain`` is the weight it serves in
the solution; the sites are ranked by it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from coverage_gis.core.errors import InputError
from coverage_gis.siting.models import (
    DEFAULT_MIP_GAP,
    DEFAULT_TIME_LIMIT,
    SOLVER,
    SitingResult,
    pair_arrays,
    solve_milp,
)

__all__ = ["capacitated_mclp"]


def _with_dist(p: Any) -> Any:
    """A ``(demand, facility)`` pair tuple with zero distances (reach alone matters here)."""
    if isinstance(p, tuple) and len(p) == 2:
        return (p[0], p[1], np.zeros(len(np.asarray(p[0]))))
    return p


def capacitated_mclp(
    pairs: Any,
    weights: ArrayLike,
    need: ArrayLike,
    n_new: int,
    capacity: float | ArrayLike,
    *,
    existing: Any = None,
    existing_capacity: ArrayLike | None = None,
    n_candidates: int | None = None,
    tie_break: ArrayLike | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> SitingResult:
    """``n_new`` new sites of ``capacity`` serving the most weight whose need is unmet.

    Parameters
    ----------
    pairs
        Demand–candidate pairs within reach: ``(demand_idx, candidate_idx[, dist])`` or an
        object with ``demand`` and ``facility`` arrays.
    weights
        Weight per demand point (elderly residents).
    need
        Capacity each demand point needs (beds), same length; 0 needs nothing.
    n_new
        Most new sites.
    capacity
        Capacity of a new site (one number, or one per candidate).
    existing, existing_capacity
        Demand–facility pairs of the existing facilities within reach and their
        capacities (always open).
    n_candidates
        Number of candidates (default: the largest index in ``pairs`` plus one).
    tie_break
        Key per candidate, lower preferred among equally good solutions (default: index).
    time_limit, mip_gap
        Solver limits.

    Returns
    -------
    SitingResult
        ``model`` ``"capacitated_mclp"``; ``objective`` the weight served after minus
        before; ``gain`` (= ``covered_gain``) the weight each site serves; ``covered_*`` the
        weight served by all facilities before and after.
    """
    started = time.perf_counter()
    w = np.asarray(weights, dtype=float)
    b = np.asarray(need, dtype=float)
    if len(b) != len(w) or not np.isfinite(w).all() or not np.isfinite(b).all():
        raise InputError(
            "权重与需求应为等长的有限数", "weights and need must be finite, equal length"
        )
    if (w < 0).any() or (b < 0).any():
        raise InputError("权重与需求不能为负", "weights and need must not be negative")
    if isinstance(n_new, bool) or int(n_new) != n_new or n_new < 0:
        raise InputError("n_new 应为非负整数", "n_new must be a non-negative integer", value=n_new)
    n_new = int(n_new)
    cd, cf, _, k = pair_arrays(
        _with_dist(pairs), len(w), n_candidates, "候选点对 / candidate pairs"
    )
    cap = np.broadcast_to(np.asarray(capacity, dtype=float), (k,)).astype(float)
    if (cap < 0).any() or not np.isfinite(cap).all():
        raise InputError("新站点容量应为非负有限数", "new sites' capacity must be finite and >= 0")
    if existing is not None:
        ecap = np.asarray(existing_capacity, dtype=float)
        ed, ef, _, _ = pair_arrays(
            _with_dist(existing), len(w), len(ecap), "现有设施对 / existing pairs"
        )
        ecap = np.where(np.isfinite(ecap) & (ecap > 0), ecap, 0.0)
    else:
        ed, ef, ecap = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    rank = np.arange(k) if tie_break is None else np.argsort(np.argsort(tie_break, kind="stable"))
    useful = (w[cd] > 0) & (b[cd] > 0) & (cap[cf] > 0)
    cd, cf = cd[useful], cf[useful]
    ekeep = (w[ed] > 0) & (b[ed] > 0) & (ecap[ef] > 0)
    ed, ef = ed[ekeep], ef[ekeep]

    before_val, _ = _serve(w, b, (ed, ef, ecap), None, 0, rank, time_limit, mip_gap)
    if n_new == 0 or not len(cd):
        sites = np.zeros(0, np.int64)
        served_new = np.zeros(0)
        after_val, sol_kind, gap = before_val, "optimal", 0.0
    else:
        after_val, res = _serve(
            w, b, (ed, ef, ecap), (cd, cf, cap), n_new, rank, time_limit, mip_gap
        )
        sites, served_new, sol_kind, gap = res
    order = np.lexsort((rank[sites], -served_new)) if len(sites) else np.zeros(0, np.int64)
    sites, served_new = sites[order], served_new[order]
    status = "optimal" if sol_kind == "optimal" else (
        f"time_limit with gap {gap * 100:.3g} %" if gap is not None else "time_limit"
    )  # fmt: skip
    return SitingResult(
        model="capacitated_mclp",
        sites=tuple(int(s) for s in sites),
        gain=tuple(float(g) for g in served_new),
        covered_gain=tuple(float(g) for g in served_new),
        objective=float(after_val - before_val),
        solver=SOLVER,
        status=status,
        mip_gap=gap,
        wall_time_s=time.perf_counter() - started,
        covered_before=float(before_val),
        covered_after=float(after_val),
        uncoverable_weight=float(w[b <= 0].sum()),
        total_weight=float(w.sum()),
        n_requested=n_new,
    )


def _serve(
    w: np.ndarray,
    b: np.ndarray,
    ex: tuple[np.ndarray, np.ndarray, np.ndarray],
    cand: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    n_new: int,
    rank: np.ndarray,
    time_limit: float,
    mip_gap: float,
) -> tuple[float, Any]:
    """Solve the serving LP/MILP; returns the weight served and, with candidates,
    ``(sites, weight served by each, solver kind, gap)``."""
    ed, ef, ecap = ex
    n_e = len(ed)
    if cand is None:
        cd = cf = np.zeros(0, np.int64)
        ccap = np.zeros(0)
        k_used = np.zeros(0, np.int64)
    else:
        cd, cf, ccap = cand
        k_used = np.unique(cf)
    n_c, n_x = len(cd), len(k_used)
    if n_e + n_c == 0:
        return 0.0, (np.zeros(0, np.int64), np.zeros(0), "optimal", 0.0)
    xpos = np.searchsorted(k_used, cf)  # candidate → its x variable
    # variables: [z (existing pairs), y (candidate pairs), x (candidates)]
    nv = n_e + n_c + n_x
    demand = np.r_[ed, cd]
    rows, cols, vals, lb, ub = [], [], [], [], []
    r0 = 0
    # 1. each demand point: shares add up to at most 1 (only points with pairs)
    used_d, drow = np.unique(demand, return_inverse=True)
    rows.append(drow + r0)
    cols.append(np.arange(n_e + n_c))
    vals.append(np.ones(n_e + n_c))
    lb.append(np.full(len(used_d), -np.inf))
    ub.append(np.ones(len(used_d)))
    r0 += len(used_d)
    # 2. existing capacity
    if n_e:
        used_e, erow = np.unique(ef, return_inverse=True)
        rows.append(erow + r0)
        cols.append(np.arange(n_e))
        vals.append(b[ed])
        lb.append(np.full(len(used_e), -np.inf))
        ub.append(ecap[used_e])
        r0 += len(used_e)
    if n_c:
        # 3. candidate capacity: Σ b_i y_ij − cap_j x_j ≤ 0
        rows += [xpos + r0, np.arange(n_x) + r0]
        cols += [n_e + np.arange(n_c), n_e + n_c + np.arange(n_x)]
        vals += [b[cd], -ccap[k_used]]
        lb.append(np.full(n_x, -np.inf))
        ub.append(np.zeros(n_x))
        r0 += n_x
        # 4. linking: y_ij − x_j ≤ 0
        rows += [np.arange(n_c) + r0, np.arange(n_c) + r0]
        cols += [n_e + np.arange(n_c), n_e + n_c + xpos]
        vals += [np.ones(n_c), -np.ones(n_c)]
        lb.append(np.full(n_c, -np.inf))
        ub.append(np.zeros(n_c))
        r0 += n_c
        # 5. at most n_new sites
        rows.append(np.full(n_x, r0))
        cols.append(n_e + n_c + np.arange(n_x))
        vals.append(np.ones(n_x))
        lb.append(np.array([-np.inf]))
        ub.append(np.array([float(n_new)]))
        r0 += 1
    a = sp.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, nv)
    )
    c = np.zeros(nv)
    c[: n_e + n_c] = -w[demand]
    if n_x:
        # tie-break: all sites together cost less than a thousandth of the smallest weight
        wmin = float(w[w > 0].min()) if (w > 0).any() else 1.0
        c[n_e + n_c :] = (rank[k_used] + 1) * (1e-3 * wmin / (len(rank) + 1) ** 2)
    integrality = np.r_[np.zeros(n_e + n_c, np.int8), np.ones(n_x, np.int8)]
    sol = solve_milp(c, integrality, a, np.concatenate(lb), np.concatenate(ub),
                     time_limit=time_limit, mip_gap=mip_gap)  # fmt: skip
    if sol.x is None:
        raise InputError(
            f"容量选址模型未求得解：{sol.message}",
            f"The capacitated siting model found no solution: {sol.message}",
        )
    x = sol.x
    served = float(w[demand] @ x[: n_e + n_c])
    if cand is None:
        return served, None
    chosen = np.flatnonzero(x[n_e + n_c :] > 0.5)
    by_x = np.bincount(xpos, weights=w[cd] * x[n_e : n_e + n_c], minlength=n_x)
    return served, (k_used[chosen], by_x[chosen], sol.kind, sol.mip_gap)
