"""Demand–facility pairs within a distance: the one currency of the distance modules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Pairs", "pair_order"]


def pair_order(demand: np.ndarray, facility: np.ndarray, n_facility: int) -> np.ndarray:
    """The order that sorts pairs by demand point, then facility (stable for equal pairs).

    The same order as ``np.lexsort((facility, demand))``, from one stable sort of the key
    ``demand * n_facility + facility`` (int64; positions are below ``n_facility``): about
    3x faster at a million pairs.
    """
    d = np.asarray(demand, dtype=np.int64)
    f = np.asarray(facility, dtype=np.int64)
    if len(d) and int(d.max()) >= (np.iinfo(np.int64).max - int(f.max())) // max(n_facility, 1):
        return np.lexsort((f, d))  # the key would overflow
    return np.argsort(d * max(n_facility, 1) + f, kind="stable")


@dataclass(frozen=True)
class Pairs:
    """Sparse demand–facility distances (every pair not listed is farther than measured).

    Attributes
    ----------
    demand, facility
        Positions (int64) of each pair's demand point and facility.
    dist_m
        The pair's distance in metres along the mode that measured it.
    n_demand, n_facility
        Sizes of the demand and facility sets.
    near_facility, near_m
        Optional: each demand point's nearest facility and distance measured without the
        pairs' limit (the straight-line mode gets them from one k-d tree query); when
        absent, :meth:`nearest` derives them from the pairs.
    """

    demand: np.ndarray
    facility: np.ndarray
    dist_m: np.ndarray
    n_demand: int
    n_facility: int
    near_facility: np.ndarray | None = None
    near_m: np.ndarray | None = None

    @classmethod
    def empty(cls, n_demand: int, n_facility: int) -> Pairs:
        """No pair within reach."""
        z = np.empty(0, dtype=np.int64)
        return cls(z, z.copy(), np.empty(0, dtype=float), int(n_demand), int(n_facility))

    def __len__(self) -> int:
        return len(self.dist_m)

    def nearest(self) -> tuple[np.ndarray, np.ndarray]:
        """Each demand point's nearest facility and distance (``-1``/``inf`` if none).

        Ties go to the facility listed first (lowest position), so results do not depend
        on the order in which pairs were found.
        """
        if self.near_facility is not None and self.near_m is not None:
            return self.near_facility, self.near_m
        cached = self.__dict__.get("_nearest")  # pairs are immutable: derived once
        if cached is not None:
            return cached
        fac = np.full(self.n_demand, -1, dtype=np.int64)
        dist = np.full(self.n_demand, np.inf)
        if len(self):
            order = np.lexsort((self.facility, self.dist_m, self.demand))
            d = self.demand[order]
            first = np.r_[True, d[1:] != d[:-1]]
            fac[d[first]] = self.facility[order][first]
            dist[d[first]] = self.dist_m[order][first]
        fac.flags.writeable = False
        dist.flags.writeable = False
        self.__dict__["_nearest"] = (fac, dist)
        return fac, dist

    def appended(self, other: Pairs) -> Pairs:
        """These pairs and ``other``'s for more facilities (same demand points), the
        others numbered after these: ``other``'s facility ``j`` becomes ``n_facility + j``.

        The unlimited nearest facility is kept when both have one (ties to these).
        """
        if other.n_demand != self.n_demand:
            raise ValueError("pairs of different demand sets cannot be appended")
        near_f = near_m = None
        if self.near_facility is not None and other.near_facility is not None:
            assert self.near_m is not None and other.near_m is not None
            take = other.near_m < self.near_m
            near_f = np.where(take, other.near_facility + self.n_facility, self.near_facility)
            near_f = np.where(np.isfinite(np.minimum(self.near_m, other.near_m)), near_f, -1)
            near_m = np.minimum(self.near_m, other.near_m)
        return Pairs(
            np.concatenate([self.demand, other.demand]),
            np.concatenate([self.facility, other.facility + self.n_facility]),
            np.concatenate([self.dist_m, other.dist_m]),
            self.n_demand,
            self.n_facility + other.n_facility,
            near_f,
            near_m,
        )

    def take_facilities(self, keep: np.ndarray) -> Pairs:
        """The pairs of the facilities at positions ``keep`` (ascending), renumbered
        0 … ``len(keep) - 1`` in that order. The unlimited nearest is dropped (it may be a
        facility left out): :meth:`nearest` then derives it from the pairs."""
        keep = np.asarray(keep, dtype=np.int64)
        new = np.full(self.n_facility, -1, dtype=np.int64)
        new[keep] = np.arange(len(keep))
        f = new[self.facility]
        m = f >= 0
        return Pairs(self.demand[m], f[m], self.dist_m[m], self.n_demand, len(keep))

    def within(self, metres: float) -> Pairs:
        """The pairs at most ``metres`` apart."""
        return self.subset(self.dist_m <= metres)

    def subset(self, keep: np.ndarray) -> Pairs:
        """The pairs selected by the boolean mask ``keep`` (without the unlimited nearest)."""
        return Pairs(
            self.demand[keep],
            self.facility[keep],
            self.dist_m[keep],
            self.n_demand,
            self.n_facility,
        )

    def reached(self) -> np.ndarray:
        """Boolean per demand point: at least one facility in a pair."""
        out = np.zeros(self.n_demand, dtype=bool)
        out[self.demand] = True
        return out

    def demand_reached(self, weight: np.ndarray) -> np.ndarray:
        """Per facility, the sum of ``weight`` over the demand points it pairs with."""
        return np.bincount(
            self.facility,
            weights=np.asarray(weight, dtype=float)[self.demand],
            minlength=self.n_facility,
        )

    def to_sparse(self) -> sp.csr_matrix:
        """A ``n_demand × n_facility`` CSR matrix of distances (0 m pairs stored as 1e-9)."""
        return sp.csr_matrix(
            (np.maximum(self.dist_m, 1e-9), (self.demand, self.facility)),
            shape=(self.n_demand, self.n_facility),
        )
