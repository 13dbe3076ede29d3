"""Reach along a road network: bounded Dijkstra over an undirected graph of the road lines.

Why scipy's :func:`~scipy.sparse.csgraph.dijkstra` and not pandana or igraph: the reach is
short (a 15-minute walk is 1 km) and the facilities few (hundreds to thousands), so each
search touches a few thousand nodes of the city graph; scipy runs it in C with ``limit``,
needs no extra wheel (pandana has none for every platform we ship to) and no build step
(a contraction hierarchy costs seconds to build and pays only for long or many-to-many
queries). The cost that remains is scipy's dense output (sources × nodes), so the sources
go in spatially compact chunks and each chunk searches only the sub-graph within the
reach of its facilities (network distance is never shorter than the straight line, so no
path leaves that disc).

The graph: the lines' vertices closer than ``snap_m`` (0.5 m) are one node, so lines join
where they share a vertex; each segment is cut into pieces of at most ``segment_m`` (50 m)
whose inner nodes belong to that segment alone (so the snap error of a point is at most
25 m along the road), and each piece is an edge as long as it is. Lines that cross without
a shared vertex (bridges over roads) do not connect. One-way
streets are ignored (walking). Demand points and facilities join the graph at their
nearest node, and the straight leg to it counts in the distance, so a network distance is
never shorter than the straight line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from coverage_gis.access.pairs import Pairs, pair_order

__all__ = ["RoadNetwork", "network_pairs"]

_SOURCES_PER_CHUNK = 64


@dataclass(frozen=True)
class RoadNetwork:
    """An undirected road graph in metric coordinates.

    Attributes
    ----------
    node_x, node_y
        Node coordinates (metres).
    graph
        Symmetric CSR matrix of edge lengths (metres).
    """

    node_x: np.ndarray
    node_y: np.ndarray
    graph: sp.csr_matrix
    _tree: cKDTree = field(repr=False, compare=False)

    @classmethod
    def from_lines(
        cls, lines: np.ndarray, *, segment_m: float = 50.0, snap_m: float = 0.5
    ) -> RoadNetwork:
        """Build the graph from road lines (metric CRS); non-lines and empties are skipped."""
        lines = np.asarray(lines, dtype=object)
        if len(lines):
            ok = ~shapely.is_missing(lines) & ~shapely.is_empty(lines)
            lines = lines[ok]
            lines = lines[shapely.get_dimensions(lines) == 1]
        if len(lines) == 0:
            z = np.empty(0)
            return cls(z, z.copy(), sp.csr_matrix((0, 0)), cKDTree(np.empty((0, 2))))
        lines = shapely.get_parts(lines)  # MultiLineStrings into their lines
        lines = lines[shapely.length(lines) > 0]  # degenerate lines join nothing
        xy, line_of = shapely.get_coordinates(lines, return_index=True)
        key = np.round(xy / snap_m).astype(np.int64)
        _, first, node = np.unique(
            key[:, 0] * (1 << 31) + key[:, 1], return_index=True, return_inverse=True
        )
        node = node.ravel()
        same = line_of[1:] == line_of[:-1]
        u, v = node[:-1][same], node[1:][same]
        pu, pv = xy[:-1][same], xy[1:][same]
        keep = u != v
        u, v, pu, pv = u[keep], v[keep], pu[keep], pv[keep]
        # pieces of at most segment_m: new nodes inside each long segment, never merged
        # with other lines' (only the lines' own vertices join lines)
        length = np.hypot(*(pv - pu).T)
        k = np.maximum(1, np.ceil(length / segment_m).astype(np.int64))
        n0 = len(first)
        seg = np.repeat(np.arange(len(u)), k)
        step = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)  # 0..k-1 per segment
        inner = step > 0
        new_id = n0 + np.cumsum(inner) - 1  # id of the point at the start of each piece
        start = np.where(inner, new_id, u[seg])
        end = np.r_[start[1:], 0]
        last = step == k[seg] - 1
        end[last] = v[seg[last]]
        t = step[inner] / k[seg[inner]]
        extra = pu[seg[inner]] + (pv[seg[inner]] - pu[seg[inner]]) * t[:, None]
        piece = (length / k)[seg]
        a, b = np.minimum(start, end), np.maximum(start, end)
        order = np.lexsort((piece, b, a))  # parallel edges: keep the shortest
        a, b, piece = a[order], b[order], piece[order]
        uniq = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
        a, b, piece = a[uniq], b[uniq], piece[uniq]
        nodes = np.r_[xy[first], extra]
        n = len(nodes)
        graph = sp.csr_matrix(
            (np.r_[piece, piece] + 1e-9, (np.r_[a, b], np.r_[b, a])), shape=(n, n)
        )
        nx, ny = nodes[:, 0].copy(), nodes[:, 1].copy()
        return cls(nx, ny, graph, cKDTree(np.column_stack([nx, ny])))

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_x)

    @property
    def n_edges(self) -> int:
        """Number of (undirected) edges."""
        return self.graph.nnz // 2

    def snap(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point and the straight leg to it (``-1``/``inf`` for NaN)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        node = np.full(len(x), -1, dtype=np.int64)
        leg = np.full(len(x), np.inf)
        ok = np.isfinite(x) & np.isfinite(y)
        if self.n_nodes and ok.any():
            d, j = self._tree.query(np.column_stack([x[ok], y[ok]]), k=1, workers=-1)
            node[ok], leg[ok] = j, d
        return node, leg


def _z_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Morton key of points quantised to 16 bits per axis (spatially compact ordering)."""

    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64) & np.uint64(0xFFFF)
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    def scale(v: np.ndarray) -> np.ndarray:
        lo, hi = float(v.min()), float(v.max())
        return np.zeros(len(v)) if hi <= lo else (v - lo) / (hi - lo) * 65535.0

    return spread(scale(x)) | (spread(scale(y)) << np.uint64(1))


def _expand(
    ptr: np.ndarray, members: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each entry k of ``groups``, every member of that group: (k repeated, member)."""
    counts = ptr[groups + 1] - ptr[groups]
    k = np.repeat(np.arange(len(groups)), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return k, members[np.repeat(ptr[groups], counts) + offset]


def _grouped(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR-style grouping of positions by ``keys`` in ``0..n-1``: (ptr, members)."""
    order = np.argsort(keys, kind="stable")
    ptr = np.r_[0, np.cumsum(np.bincount(keys, minlength=n))]
    return ptr, order


def network_pairs(
    net: RoadNetwork,
    dem_xy: tuple[np.ndarray, np.ndarray],
    fac_xy: tuple[np.ndarray, np.ndarray],
    max_m: float,
) -> Pairs:
    """Every demand–facility pair at most ``max_m`` metres apart along the roads.

    Parameters
    ----------
    net
        The road graph.
    dem_xy, fac_xy
        ``(x, y)`` metric coordinates (same CRS as the graph; NaN: no pairs).
    max_m
        Reach in metres, legs to the nearest node included.

    Returns
    -------
    Pairs
        Sorted by demand, then facility; ``dist_m`` = leg + road distance + leg.
    """
    dx, dy = (np.asarray(a, dtype=float) for a in dem_xy)
    fx, fy = (np.asarray(a, dtype=float) for a in fac_xy)
    n_d, n_f = len(dx), len(fx)
    if net.n_nodes == 0 or n_d == 0 or n_f == 0:
        return Pairs.empty(n_d, n_f)
    node_d, leg_d = net.snap(dx, dy)
    node_f, leg_f = net.snap(fx, fy)
    d_ok = np.flatnonzero(leg_d <= max_m)
    f_ok = np.flatnonzero(leg_f <= max_m)
    if len(d_ok) == 0 or len(f_ok) == 0:
        return Pairs.empty(n_d, n_f)
    d_ptr, d_members = _grouped(node_d[d_ok], net.n_nodes)
    has_demand = np.diff(d_ptr) > 0
    f_ok = f_ok[np.argsort(_z_order(fx[f_ok], fy[f_ok]), kind="stable")]
    nodes_xy = np.column_stack([net.node_x, net.node_y])
    out_d: list[np.ndarray] = []
    out_f: list[np.ndarray] = []
    out_m: list[np.ndarray] = []
    src_all = np.unique(node_f[f_ok])
    # chunks of source nodes in Morton order, each searched on the sub-graph near it
    src_all = src_all[np.argsort(_z_order(net.node_x[src_all], net.node_y[src_all]), kind="stable")]
    f_ptr, f_members = _grouped(node_f[f_ok], net.n_nodes)
    for lo in range(0, len(src_all), _SOURCES_PER_CHUNK):
        src = src_all[lo : lo + _SOURCES_PER_CHUNK]
        near = net._tree.query_ball_point(nodes_xy[src], r=float(max_m), workers=-1)
        sub = np.unique(np.concatenate([np.asarray(x, dtype=np.int64) for x in near]))
        local = np.searchsorted(sub, src)
        sub_graph = net.graph[sub][:, sub]
        dist = dijkstra(sub_graph, directed=True, indices=local, limit=max_m)
        s, u = np.nonzero(np.isfinite(dist) & has_demand[sub][None, :])
        if len(s) == 0:
            continue
        node_m = dist[s, u]
        # node pair → each facility at the source node → each demand point at the target
        k, fac = _expand(f_ptr, f_members, src[s])
        fac = f_ok[fac]
        k2, dem = _expand(d_ptr, d_members, sub[u[k]])
        dem = d_ok[dem]
        fac = fac[k2]
        total = node_m[k[k2]] + leg_f[fac] + leg_d[dem]
        keep = total <= max_m
        out_d.append(dem[keep])
        out_f.append(fac[keep])
        out_m.append(total[keep])
    if not out_d:
        return Pairs.empty(n_d, n_f)
    d_idx, f_idx, dist_m = np.concatenate(out_d), np.concatenate(out_f), np.concatenate(out_m)
    order = pair_order(d_idx, f_idx, n_f)
    return Pairs(d_idx[order], f_idx[order], dist_m[order], n_d, n_f)
