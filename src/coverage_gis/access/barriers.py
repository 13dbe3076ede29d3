"""Straight-line reach round barriers: the shortest path in the plane that keeps out of water.

A facility across a lake is not "within 1 km" because the crow flies over the water; the
walker goes round it. The shortest path between two points among polygonal obstacles is a
polyline that bends only at the obstacles' convex vertices, so it is found exactly on the
*visibility graph*: nodes are the convex vertices of the water (after simplifying it by a
tolerance, default ``reach / 200`` between 5 and 50 m, which is the error bound), edges
join every two nodes that see each other (the segment does not cross water) within the
reach, and :func:`scipy.sparse.csgraph.dijkstra` with ``limit`` runs from the facilities.

Only pairs that need it pay for it: a demand–facility pair whose segment crosses no
water gets its straight-line distance; the others (near the shore, usually a few per
cent) are joined through the nodes each end sees. Rivers given as lines are barriers as
wide as ``line_width_m``. Bridges and ferries are not modelled: that is what the network
mode (:mod:`coverage_gis.access.network`) is for. Points inside water reach nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from coverage_gis.access.pairs import Pairs, pair_order

__all__ = ["Barriers", "barrier_pairs", "prepare_barriers"]

# Dense Dijkstra output (sources × nodes) and the expanded leg table are cut into chunks
# of at most this many float64 entries (~160 MB).
_CHUNK = 20_000_000


@dataclass(frozen=True)
class Barriers:
    """Water as an obstacle set, ready for visibility tests.

    Attributes
    ----------
    blocker
        The water, simplified, shrunk by 5 cm (so paths along the shore are not blocked)
        and prepared; ``None`` when there is no water.
    node_x, node_y
        The convex vertices of the simplified water: the visibility-graph nodes.
    tolerance_m
        The simplification tolerance (bound on the error of any path).
    """

    blocker: shapely.Geometry | None
    node_x: np.ndarray
    node_y: np.ndarray
    tolerance_m: float

    def blocked(self, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
        """Boolean per segment ``a``→``b``: it crosses water."""
        n = len(ax)
        if self.blocker is None or n == 0:
            return np.zeros(n, dtype=bool)
        coords = np.empty((n, 2, 2))
        coords[:, 0, 0], coords[:, 0, 1] = ax, ay
        coords[:, 1, 0], coords[:, 1, 1] = bx, by
        return shapely.intersects(self.blocker, shapely.linestrings(coords))

    def inside(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boolean per point: it lies in water."""
        if self.blocker is None or len(x) == 0:
            return np.zeros(len(x), dtype=bool)
        return shapely.intersects_xy(self.blocker, x, y)


def prepare_barriers(
    geoms: np.ndarray, max_m: float, *, tolerance_m: float | None = None, line_width_m: float = 10.0
) -> Barriers:
    """Build the obstacle set from water geometries in metric coordinates.

    Parameters
    ----------
    geoms
        Polygons and lines (rivers drawn as lines become strips ``line_width_m`` wide).
    max_m
        The reach the paths are measured to (sets the default tolerance).
    tolerance_m
        Simplification tolerance; default ``max_m / 200`` clipped to 5–50 m.
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)] if len(geoms) else geoms
    tol = (
        float(tolerance_m) if tolerance_m is not None else float(np.clip(max_m / 200.0, 5.0, 50.0))
    )
    empty = np.empty(0)
    if len(geoms) == 0:
        return Barriers(None, empty, empty.copy(), tol)
    # simplify first, then widen the lines: a strip thinner than the tolerance survives
    geoms = shapely.simplify(shapely.make_valid(geoms), tol, preserve_topology=True)
    dim = shapely.get_dimensions(geoms)
    geoms = np.where(dim == 2, geoms, shapely.buffer(geoms, line_width_m / 2.0, quad_segs=2))
    water = shapely.make_valid(shapely.union_all(geoms))
    polys = shapely.get_parts(water)
    polys = polys[shapely.get_dimensions(polys) == 2]
    if len(polys) == 0:
        return Barriers(None, empty, empty.copy(), tol)
    polys = shapely.orient_polygons(polys, exterior_cw=False)  # water on the left of every ring
    rings, _ = shapely.get_rings(polys, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    # drop each ring's closing vertex; then prev/next within the ring, vectorised
    last = np.r_[ring_of[1:] != ring_of[:-1], True]
    xy, ring_of = xy[~last], ring_of[~last]
    start = np.r_[0, np.flatnonzero(ring_of[1:] != ring_of[:-1]) + 1]
    length = np.diff(np.r_[start, len(ring_of)])
    first = np.repeat(start, length)
    size = np.repeat(length, length)
    pos = np.arange(len(ring_of)) - first
    prev = first + (pos - 1) % size
    nxt = first + (pos + 1) % size
    u = xy - xy[prev]
    v = xy[nxt] - xy
    cross = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
    convex = cross > 1e-9  # left turn with the water on the left: a corner paths bend round
    nodes = xy[convex]
    blocker = shapely.buffer(shapely.union_all(polys), -0.05, quad_segs=1)
    shapely.prepare(blocker)
    return Barriers(blocker, nodes[:, 0].copy(), nodes[:, 1].copy(), tol)


def _visible_pairs(
    a_xy: np.ndarray, b_xy: np.ndarray, max_m: float, bar: Barriers
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i in a, j in b) within ``max_m`` whose segment crosses no water."""
    if len(a_xy) == 0 or len(b_xy) == 0:
        z = np.empty(0, dtype=np.int64)
        return z, z.copy(), np.empty(0)
    found = cKDTree(a_xy).sparse_distance_matrix(cKDTree(b_xy), max_m, output_type="ndarray")
    i, j, d = found["i"].astype(np.int64), found["j"].astype(np.int64), found["v"]
    ok = ~bar.blocked(a_xy[i, 0], a_xy[i, 1], b_xy[j, 0], b_xy[j, 1])
    return i[ok], j[ok], d[ok]


def barrier_pairs(
    dem_xy: tuple[np.ndarray, np.ndarray],
    fac_xy: tuple[np.ndarray, np.ndarray],
    barriers: np.ndarray | Barriers,
    max_m: float,
    *,
    own: np.ndarray | None = None,
) -> Pairs:
    """Every demand–facility pair whose water-avoiding path is at most ``max_m`` metres.

    Parameters
    ----------
    dem_xy, fac_xy
        ``(x, y)`` metric coordinates of demand points and facilities (NaN: no pairs).
    barriers
        Water geometries in the same CRS, or a :class:`Barriers` from
        :func:`prepare_barriers`.
    max_m
        Reach in metres.
    own
        Optional facility position per demand point: only that pair is measured (probe
        points of one facility's catchment need not be paired with its neighbours).

    Returns
    -------
    Pairs
        Sorted by demand, then facility; ``dist_m`` is the path length (≥ straight line).
    """
    dx, dy = (np.asarray(a, dtype=float) for a in dem_xy)
    fx, fy = (np.asarray(a, dtype=float) for a in fac_xy)
    n_d, n_f = len(dx), len(fx)
    bar = barriers if isinstance(barriers, Barriers) else prepare_barriers(barriers, max_m)
    d_ok = np.flatnonzero(np.isfinite(dx) & np.isfinite(dy))
    f_ok = np.flatnonzero(np.isfinite(fx) & np.isfinite(fy))
    if len(d_ok) == 0 or len(f_ok) == 0:
        return Pairs.empty(n_d, n_f)
    d_ok = d_ok[~bar.inside(dx[d_ok], dy[d_ok])]
    f_ok = f_ok[~bar.inside(fx[f_ok], fy[f_ok])]
    dxy = np.column_stack([dx[d_ok], dy[d_ok]])
    fxy = np.column_stack([fx[f_ok], fy[f_ok]])
    if len(dxy) == 0 or len(fxy) == 0:
        return Pairs.empty(n_d, n_f)
    if own is None:
        found = cKDTree(dxy).sparse_distance_matrix(cKDTree(fxy), max_m, output_type="ndarray")
        di, fi = found["i"].astype(np.int64), found["j"].astype(np.int64)
        dist = found["v"].copy()
        del found
    else:
        f_pos = np.full(n_f, -1, dtype=np.int64)
        f_pos[f_ok] = np.arange(len(f_ok))
        fi = f_pos[np.asarray(own, dtype=np.int64)[d_ok]]
        di = np.flatnonzero(fi >= 0)
        fi = fi[di]
        dist = np.hypot(dxy[di, 0] - fxy[fi, 0], dxy[di, 1] - fxy[fi, 1])
        near = dist <= max_m
        di, fi, dist = di[near], fi[near], dist[near]
    blocked = bar.blocked(dxy[di, 0], dxy[di, 1], fxy[fi, 0], fxy[fi, 1])
    if blocked.any():
        dist[blocked] = _round_water(dxy, fxy, di[blocked], fi[blocked], bar, max_m)
    keep = dist <= max_m
    d_idx, f_idx, dist = d_ok[di[keep]], f_ok[fi[keep]], dist[keep]
    order = pair_order(d_idx, f_idx, n_f)
    return Pairs(d_idx[order], f_idx[order], dist[order], n_d, n_f)


def _round_water(
    dxy: np.ndarray,
    fxy: np.ndarray,
    di: np.ndarray,
    fi: np.ndarray,
    bar: Barriers,
    max_m: float,
) -> np.ndarray:
    """Path lengths through the visibility graph for the blocked pairs ``(di, fi)``."""
    n_pairs = len(di)
    out = np.full(n_pairs, np.inf)
    nv = len(bar.node_x)
    if nv == 0:
        return out
    vxy = np.column_stack([bar.node_x, bar.node_y])
    d_used, d_row = np.unique(di, return_inverse=True)
    f_used, f_col = np.unique(fi, return_inverse=True)
    # legs: demand → node and facility → node, each a visible segment within the reach
    li, lj, ld = _visible_pairs(dxy[d_used], vxy, max_m, bar)
    legs = sp.csr_matrix((ld + 1e-9, (li, lj)), shape=(len(d_used), nv))
    gi, gj, gd = _visible_pairs(fxy[f_used], vxy, max_m, bar)
    vi, vj, vd = _visible_pairs(vxy, vxy, max_m, bar)
    upper = vi < vj
    nf = len(f_used)
    # graph: nodes 0..nv-1 are water corners, nv.. the facilities
    graph = sp.csr_matrix(
        (
            np.r_[vd[upper], gd] + 1e-9,
            (np.r_[vi[upper], nv + gi], np.r_[vj[upper], gj]),
        ),
        shape=(nv + nf, nv + nf),
    )
    step = max(1, _CHUNK // (nv + nf))
    for lo in range(0, nf, step):  # chunks of sources: the dense output stays bounded
        src = np.arange(lo, min(lo + step, nf))
        to_nodes = dijkstra(graph, directed=False, indices=nv + src, limit=max_m)[:, :nv]
        sel = np.flatnonzero((f_col >= lo) & (f_col < lo + len(src)))
        _join_legs(legs, to_nodes, d_row[sel], f_col[sel] - lo, out, sel)
    return out


def _join_legs(
    legs: sp.csr_matrix,
    to_nodes: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    out: np.ndarray,
    sel: np.ndarray,
) -> None:
    """``out[sel[k]] = min_b legs[rows[k], b] + to_nodes[cols[k], b]``, in bounded chunks."""
    counts = np.diff(legs.indptr)[rows]
    has = counts > 0
    rows, cols, sel, counts = rows[has], cols[has], sel[has], counts[has]
    if len(rows) == 0:
        return
    ends = np.cumsum(counts)
    lo = 0
    while lo < len(rows):
        # the largest run of pairs whose expansion fits the chunk
        hi = int(np.searchsorted(ends, (ends[lo - 1] if lo else 0) + _CHUNK, side="right"))
        hi = max(hi, lo + 1)
        c = counts[lo:hi]
        start = legs.indptr[rows[lo:hi]]
        offset = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
        at = np.repeat(start, c) + offset
        val = legs.data[at] + to_nodes[np.repeat(cols[lo:hi], c), legs.indices[at]]
        out[sel[lo:hi]] = np.minimum.reduceat(val, np.r_[0, np.cumsum(c)[:-1]])
        lo = hi
