"""Siting benchmark: MCLP with 2,000 candidates × 20,000 demand points, 20 sites, 1 km.

The demand is shaped like a county's elderly population, not spread uniformly: 60 towns of
Zipf-like sizes (the largest ~40 times the smallest) hold 90 % of the demand points, each
town a Gaussian blob whose spread grows with its size (300 m – 1.5 km), the other 10 % are
scattered villages; weights (residents aged 60+) are lognormal, smaller outside towns.
Candidates are 75 % plots inside towns (demand locations jittered by 100 m) and 25 %
anywhere; 25 existing facilities sit near the largest towns' centres and stay open. All in a
local metric CRS over 60 × 60 km.

Timed in the same process (median of ``--runs``, run round-robin), pair building excluded
(reported once): :func:`coverage_gis.siting.mclp` (exact, HiGHS through scipy) and
:func:`coverage_gis.siting.greedy_mclp`, with the solver's status and gap, the newly covered
weight of each and the gap of greedy against the proven bound.

``--spopt`` adds PySAL ``spopt`` (``MCLP.from_cost_matrix`` with existing facilities as
predefined sites, PuLP + HiGHS) on a smaller instance (``--spopt-demand`` × ``--spopt-candidates``,
same generator) next to ``mclp`` on the same instance: model build and solve timed apart.
That measurement is why the models use scipy's HiGHS directly (see the models' docstring).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from coverage_gis.siting import SitingResult, greedy_mclp, mclp, pairs_within
from coverage_gis.siting import models as siting_models

SEED = 20240614
N_DEMAND = 20_000
N_CANDIDATES = 2_000
N_EXISTING = 25
N_TOWNS = 60
N_NEW = 20
THRESHOLD_M = 1_000.0
SIDE_M = 60_000.0
RUNS = 3
TARGET_S = 15.0


def make_instance(
    n_demand: int = N_DEMAND, n_candidates: int = N_CANDIDATES, *, seed: int = SEED
) -> dict[str, np.ndarray]:
    """Clustered demand, candidates and existing facilities (metres), reproducible by seed.

    Parameters
    ----------
    n_demand, n_candidates
        Numbers of demand points and candidate sites.
    seed
        Random seed: the same seed gives the same instance, bit for bit.

    Returns
    -------
    dict
        ``demand_xy`` (n, 2), ``weight`` (n,), ``candidate_xy`` (m, 2), ``existing_xy``.
    """
    rng = np.random.default_rng(seed)
    centre = rng.uniform(0.1 * SIDE_M, 0.9 * SIDE_M, (N_TOWNS, 2))
    size = 1.0 / np.arange(1, N_TOWNS + 1) ** 0.9  # Zipf-like, largest town first
    share = size / size.sum()
    spread = 300.0 + 1_200.0 * np.sqrt(size / size[0])
    n_town = int(0.9 * n_demand)
    town = rng.choice(N_TOWNS, n_town, p=share)
    town_xy = centre[town] + rng.normal(0.0, 1.0, (n_town, 2)) * spread[town, None]
    rural_xy = rng.uniform(0.0, SIDE_M, (n_demand - n_town, 2))
    demand_xy = np.clip(np.vstack([town_xy, rural_xy]), 0.0, SIDE_M)
    weight = np.r_[
        rng.lognormal(np.log(60.0), 0.6, n_town),
        rng.lognormal(np.log(15.0), 0.6, n_demand - n_town),
    ].round()
    n_plots = int(0.75 * n_candidates)
    plots = demand_xy[rng.choice(n_town, n_plots)] + rng.normal(0.0, 100.0, (n_plots, 2))
    anywhere = rng.uniform(0.0, SIDE_M, (n_candidates - n_plots, 2))
    candidate_xy = np.vstack([plots, anywhere])[rng.permutation(n_candidates)]
    existing_xy = centre[:N_EXISTING] + rng.normal(0.0, 400.0, (N_EXISTING, 2))
    return {
        "demand_xy": demand_xy,
        "weight": np.maximum(weight, 1.0),
        "candidate_xy": candidate_xy,
        "existing_xy": existing_xy,
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run_spopt(inst: dict[str, np.ndarray], n_new: int, time_limit: float) -> dict[str, Any]:
    """spopt MCLP from a dense cost matrix, existing facilities as predefined sites."""
    import pulp
    from spopt.locate import MCLP

    sites = np.vstack([inst["candidate_xy"], inst["existing_xy"]])
    dense = np.linalg.norm(inst["demand_xy"][:, None, :] - sites[None, :, :], axis=2)
    predefined = np.r_[np.zeros(len(inst["candidate_xy"])), np.ones(len(inst["existing_xy"]))]
    t_build, model = timed(
        lambda: MCLP.from_cost_matrix(
            dense,
            inst["weight"],
            service_radius=THRESHOLD_M,
            p_facilities=n_new + len(inst["existing_xy"]),
            predefined_facilities_arr=predefined.astype(int),
        )
    )
    solver = pulp.HiGHS(msg=False, timeLimit=time_limit)
    t_solve, model = timed(lambda: model.solve(solver))
    covered = float(inst["weight"][np.asarray(model.aij @ np.array(
        [v.value() or 0 for v in model.fac_vars]) > 0.5)].sum())  # fmt: skip
    return {
        "build_s": t_build,
        "solve_s": t_solve,
        "covered": covered,
        "status": model.problem.status,
    }


def main(argv: list[str] | None = None) -> None:
    """Build the instance, time the contenders, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--mip-gap", type=float, default=siting_models.DEFAULT_MIP_GAP)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--spopt", action="store_true", help="also measure PySAL spopt")
    parser.add_argument("--spopt-demand", type=int, default=4_000)
    parser.add_argument("--spopt-candidates", type=int, default=400)
    args = parser.parse_args(argv)

    print(
        f"MCLP: {N_DEMAND:,} demand points (clustered in {N_TOWNS} towns) × {N_CANDIDATES:,} "
        f"candidates, {N_EXISTING} existing fixed, {N_NEW} new sites, {THRESHOLD_M:.0f} m; "
        f"median of {args.runs}; mip_gap {args.mip_gap:g}"
    )
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    inst = make_instance()
    t_pairs, cost = timed(
        lambda: pairs_within(inst["demand_xy"], inst["candidate_xy"], THRESHOLD_M)
    )
    existing = pairs_within(inst["demand_xy"], inst["existing_xy"], THRESHOLD_M)
    w = inst["weight"]
    prob = siting_models._cover_problem(cost, w, THRESHOLD_M, existing, N_CANDIDATES, None)
    size = np.diff(prob.cover.matrix.tocsr().indptr)
    print(
        f"pairs (cKDTree): {len(cost[0]):,} in {t_pairs:.2f} s; uncovered demand merged into "
        f"{prob.cover.matrix.shape[0]:,} groups ({int((size > 1).sum()):,} need a variable), "
        f"{len(prob.cover.sites):,} candidates reach one"
    )
    total = float(w.sum())
    contenders: dict[str, Callable[[], SitingResult]] = {
        "mclp (HiGHS)": lambda: mclp(
            cost,
            w,
            N_NEW,
            threshold_m=THRESHOLD_M,
            existing=existing,
            n_candidates=N_CANDIDATES,
            time_limit=args.time_limit,
            mip_gap=args.mip_gap,
        ),
        "greedy": lambda: greedy_mclp(
            cost, w, N_NEW, threshold_m=THRESHOLD_M, existing=existing, n_candidates=N_CANDIDATES
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in contenders}
    results: dict[str, SitingResult] = {}
    for _ in range(args.runs):
        for name, fn in contenders.items():
            t, results[name] = timed(fn)
            times[name].append(t)
    exact = results["mclp (HiGHS)"]
    bound = exact.objective * (1.0 + (exact.mip_gap or 0.0))
    head = f"{'contender':<14}{'median s':>10}{'new covered':>14}{'covered after':>15}{'vs bound':>10}  status"
    print()
    print(head)
    print("-" * (len(head) + 24))
    for name, r in results.items():
        print(
            f"{name:<14}{statistics.median(times[name]):>10.2f}{r.objective:>14,.0f}"
            f"{r.covered_after / total:>14.1%} {r.objective / bound - 1.0:>+9.2%}  "
            f"{r.status} (gap {'n/a' if r.mip_gap is None else f'{r.mip_gap:.2%}'})"
        )
    print(
        f"\ncovered before: {exact.covered_before / total:.1%}, uncoverable: "
        f"{exact.uncoverable_weight / total:.1%} of {total:,.0f}; exact sites (rank order): "
        f"{list(exact.sites)}"
    )
    verdict = "met" if statistics.median(times["mclp (HiGHS)"]) <= TARGET_S else "MISSED"
    print(f"target ≤ {TARGET_S:.0f} s to proven optimum or stated gap: {verdict}")

    if args.spopt:
        small = make_instance(args.spopt_demand, args.spopt_candidates, seed=SEED + 1)
        sc = pairs_within(small["demand_xy"], small["candidate_xy"], THRESHOLD_M)
        se = pairs_within(small["demand_xy"], small["existing_xy"], THRESHOLD_M)
        t_ours, ours = timed(
            lambda: mclp(
                sc,
                small["weight"],
                N_NEW,
                threshold_m=THRESHOLD_M,
                existing=se,
                n_candidates=args.spopt_candidates,
                time_limit=args.time_limit,
            )
        )
        sp_out = run_spopt(small, N_NEW, args.time_limit)
        print(
            f"\nspopt comparison on {args.spopt_demand:,} × {args.spopt_candidates:,}:\n"
            f"  coverage_gis mclp: {t_ours:.2f} s in all, covered after {ours.covered_after:,.0f}"
            f" ({ours.status})\n"
            f"  spopt MCLP.from_cost_matrix + PuLP/HiGHS: build {sp_out['build_s']:.2f} s, "
            f"solve {sp_out['solve_s']:.2f} s, covered after {sp_out['covered']:,.0f} "
            f"(pulp status {sp_out['status']})"
        )
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
