"""Two-step floating catchment area (2SFCA): capacity-aware accessibility.

As PySAL ``access`` defines it (``Access.fca_ratio`` / ``two_stage_fca`` without distance
decay; Luo & Wang 2003): each facility's supply is shared among the demand within its
reach, ``R_j = S_j / Σ_{i: d_ij ≤ d0} D_i``; each demand point's accessibility is the sum
of the ratios of the facilities it reaches, ``A_i = Σ_{j: d_ij ≤ d0} R_j``. A facility
with no demand within reach has ``R_j = 0`` (its supply serves no one counted). The
population-weighted mean of ``A_i`` equals total reachable supply over total demand, so
beds per 1,000 elderly residents reads the way the plan states its targets.
"""

from __future__ import annotations

import numpy as np

from coverage_gis.access.pairs import Pairs

__all__ = ["two_step_fca"]


def two_step_fca(
    pairs: Pairs, supply: np.ndarray, demand: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """2SFCA over the pairs within reach.

    Parameters
    ----------
    pairs
        Demand–facility pairs within the catchment (already cut at the threshold).
    supply
        Capacity per facility (e.g. beds), ``pairs.n_facility`` long; NaN counts as 0.
    demand
        Weight per demand point (e.g. residents aged 60+), ``pairs.n_demand`` long.

    Returns
    -------
    (A_i, R_j)
        Accessibility per demand point and supply-to-demand ratio per facility.
    """
    supply = np.nan_to_num(np.asarray(supply, dtype=float), nan=0.0)
    demand = np.nan_to_num(np.asarray(demand, dtype=float), nan=0.0)
    reached = np.bincount(pairs.facility, weights=demand[pairs.demand], minlength=pairs.n_facility)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reached > 0, supply / np.where(reached > 0, reached, 1.0), 0.0)
    access = np.bincount(pairs.demand, weights=ratio[pairs.facility], minlength=pairs.n_demand)
    return access, ratio
