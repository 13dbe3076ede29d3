"""Which unit polygon covers each point: prepared GEOS geometry for millions of points.

:func:`locate_points` gives the same answer as ``STRtree.query(points, predicate="intersects")``
(GEOS "covers": interior or boundary) without building a shapely Point per row, and with
a cost per point that grows with the logarithm of a polygon's vertex count, not linearly:

1. candidate polygons come from a uniform grid over the polygons' bounding boxes (numpy),
   then an exact bounding-box test — the same candidates as the STRtree's envelope test.
   Points are taken in grid-cell order, so that consecutive queries hit the same few
   polygons (their GEOS indexes stay in the CPU cache);
2. each candidate pair is decided by GEOS on a *prepared* polygon
   (``shapely.intersects_xy``): an interval index over the polygon's edges, so boundary
   points follow exactly the GEOS rules and a point costs O(log vertices);
3. invalid or non-polygonal geometries (where a prepared polygon's even-odd count could
   disagree with the plain GEOS answer) are decided exactly as the STRtree query decides
   them: a prepared Point against the geometry, for their candidate pairs only.

The polygons are copied before they are prepared, so the caller's geometry objects are
never modified (other threads may be using them), and the copies' lazy GEOS indexes are
built before any query runs: GEOS builds them on first use without a lock. The copies are
made a block of neighbouring polygons at a time (:data:`_BLOCK`) and dropped once that
block's candidate pairs are decided: a prepared copy with its edge index takes ~2x the
memory of the outline (at 40,000 detailed township outlines all of them at once were
~580 MB, a block is ~60 MB). The queries of a block run on a thread pool in chunks
(numpy and GEOS release the GIL), so both cores are used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

import numpy as np
import shapely

from coverage_gis._threads import pool as threads

__all__ = ["BoxGrid", "PointLocator", "locate_points"]

#: Points per chunk (points are in grid-cell order): large enough that the per-call overhead
#: of numpy and shapely is small, small enough that the candidate arrays stay a few MB and
#: that the chunks share out evenly between threads (8k-128k measured alike).
_CHUNK = 32_768
_POLYGONAL = (3, 6)  # shapely.GeometryType.POLYGON, MULTIPOLYGON
#: Up to this many points are located by one STRtree query instead (no prepared copies).
_FEW_POINTS = 64
#: Polygons copied and prepared at a time (neighbours: the blocks follow the grid).
_BLOCK = 4_096
#: A polygon is prepared (its GEOS edge index built) when at least this many candidate
#: points test it; with fewer, scanning its edges per point is cheaper than the index.
_PREPARE_MIN_PAIRS = 8
_P = TypeVar("_P")
_R = TypeVar("_R")


@dataclass(frozen=True)
class BoxGrid:
    """A uniform grid over bounding boxes: which boxes contain a point.

    Each box is listed in every cell it overlaps; a point is tested against the boxes of
    its cell only. Boxes and points are put in cells by the same floating-point formula,
    so a point on a box's edge always lands in a cell that lists the box.
    """

    bounds: np.ndarray  # (n, 4): xmin, ymin, xmax, ymax; NaN rows (empty geometry) unlisted
    origin: tuple[float, float]
    cell: float
    shape: tuple[int, int]  # (ny, nx)
    cell_start: np.ndarray  # (ny * nx + 1,): the boxes of cell c are cell_box[start[c]:start[c+1]]
    cell_box: np.ndarray

    @classmethod
    def build(cls, bounds: np.ndarray) -> BoxGrid:
        """Index boxes (rows of ``shapely.bounds``); rows with NaN are left out.

        The cell side is half the median box size, enlarged (doubled) while boxes would be
        listed more than ``16 n + 1,000,000`` times in all, and never so small that the grid
        has more than about ``4 n + 65,536`` cells.
        """
        n = len(bounds)
        listed = np.flatnonzero(np.isfinite(bounds).all(axis=1))
        if not len(listed):
            return cls(
                bounds, (0.0, 0.0), 1.0, (1, 1), np.zeros(2, np.int64), np.zeros(0, np.int64)
            )
        b = bounds[listed]
        x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
        w, h = float(b[:, 2].max()) - x0, float(b[:, 3].max()) - y0
        size = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        cell = max(
            float(np.median(size)) / 2.0,
            float(np.sqrt(w * h / (4 * n + 65_536))),
            max(w, h) / 4096,
            1e-9,
        )
        while True:
            nx = int(np.floor(w / cell)) + 1
            ny = int(np.floor(h / cell)) + 1
            ix0 = np.floor((b[:, 0] - x0) / cell).astype(np.int64)
            ix1 = np.floor((b[:, 2] - x0) / cell).astype(np.int64)
            iy0 = np.floor((b[:, 1] - y0) / cell).astype(np.int64)
            iy1 = np.floor((b[:, 3] - y0) / cell).astype(np.int64)
            wx = ix1 - ix0 + 1
            k = wx * (iy1 - iy0 + 1)
            if k.sum() <= 16 * n + 1_000_000 or cell > max(w, h):
                break
            cell *= 2.0
        rep = np.repeat(np.arange(len(listed)), k)
        off = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
        cid = (iy0[rep] + off // wx[rep]) * nx + ix0[rep] + off % wx[rep]
        order = np.argsort(cid, kind="stable")  # stable: boxes in index order within a cell
        cell_start = np.searchsorted(cid[order], np.arange(nx * ny + 1))
        return cls(bounds, (x0, y0), cell, (ny, nx), cell_start, listed[rep[order]])

    def cells(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Grid cell of each point (row-major), -1 outside the grid or for NaN."""
        ny, nx = self.shape
        cx = np.floor((x - self.origin[0]) / self.cell)
        cy = np.floor((y - self.origin[1]) / self.cell)
        ok = (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < ny)  # False for NaN
        return np.where(ok, cy * nx + cx, -1).astype(np.int64)

    def candidates(
        self, x: np.ndarray, y: np.ndarray, cells: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pairs (point index, box index) where the closed box contains the point.

        Parameters
        ----------
        x, y
            Point coordinates.
        cells
            The points' :meth:`cells`, if already known.

        Returns
        -------
        point, box : ndarray of int64
            The pairs, grouped by point, boxes in index order within a point.
        px, py : ndarray of float
            The pairs' point coordinates.
        """
        cid = self.cells(x, y) if cells is None else cells
        inside = cid >= 0
        cid = np.maximum(cid, 0)
        start = self.cell_start.take(cid)
        cnt = np.where(inside, self.cell_start.take(cid + 1) - start, 0)
        ends = np.cumsum(cnt)
        p = np.repeat(np.arange(len(x)), cnt)
        g = self.cell_box.take(
            np.repeat(start - (ends - cnt), cnt) + np.arange(int(ends[-1]) if len(ends) else 0)
        )
        b = self.bounds.take(g, axis=0)
        px, py = x.take(p), y.take(p)
        keep = np.flatnonzero((px >= b[:, 0]) & (px <= b[:, 2]) & (py >= b[:, 1]) & (py <= b[:, 3]))
        return p.take(keep), g.take(keep), px.take(keep), py.take(keep)


def _exact_mask(geoms: np.ndarray) -> np.ndarray:
    """Valid Polygon / MultiPolygon: decided by a prepared copy (the rest as the STRtree)."""
    return np.isin(shapely.get_type_id(geoms), _POLYGONAL) & shapely.is_valid(geoms)


def _prepared_copies(geoms: np.ndarray) -> np.ndarray:
    """Prepared copies of valid (multi)polygons, ready for concurrent queries."""
    # new GEOS geometries with the same x/y, bit for bit (GEOS predicates ignore z);
    # ~9x faster than a WKB round trip and without its buffers
    copies = shapely.force_2d(geoms)
    shapely.prepare(copies)
    # GEOS answers a prepared polygon's first point query without an index and builds the
    # index (lazily, unlocked) on the second: make both queries here, in one thread, with
    # a point inside the envelope so that the envelope test does not end them
    b = shapely.bounds(copies)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    shapely.intersects_xy(np.r_[copies, copies], np.r_[cx, cx], np.r_[cy, cy])
    return copies


def _point_intersects(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The STRtree query's own test: a prepared Point intersects the (unprepared) geometry."""
    pts = shapely.points(x, y)
    shapely.prepare(pts)
    return shapely.intersects(pts, geoms)


def _run(workers: int, fn: Callable[[_P], _R], parts: Sequence[_P]) -> list[_R]:
    """``[fn(part) for part in parts]``, on the ``pip`` pool when ``workers > 1``."""
    if workers > 1 and len(parts) > 1:
        return list(threads("pip", min(4, os.cpu_count() or 1)).map(fn, parts))
    return [fn(part) for part in parts]


@dataclass(frozen=True)
class PointLocator:
    """Polygons made ready for :meth:`locate`: validity, bounding boxes, grid, blocks.

    Building needs only the polygons (the audit builds it while the facility file is
    still being read, see :func:`coverage_gis.core.locate.locator_ahead`); the prepared
    copies are made by :meth:`locate`, a block at a time. A locator can be used from
    several threads at once; it never modifies the caller's geometries.
    """

    geoms: np.ndarray
    rank: np.ndarray
    workers: int
    grid: BoxGrid | None  # None without polygons
    exact: np.ndarray  # decided by a prepared copy (valid Polygon / MultiPolygon)
    block: np.ndarray  # block of each polygon: neighbours in grid order, _BLOCK at a time
    slot: np.ndarray  # position of each polygon in its block
    order: np.ndarray  # the polygons by block, then slot: block k is order[start[k]:start[k+1]]
    start: np.ndarray

    @classmethod
    def build(
        cls, geoms: np.ndarray, rank: np.ndarray, *, workers: int | None = None
    ) -> PointLocator:
        """Index ``geoms`` (see :func:`locate_points` for the arguments)."""
        geoms = np.asarray(geoms, dtype=object)
        workers = max(1, workers or min(4, os.cpu_count() or 1))
        none = np.zeros(0, dtype=np.int64)
        if not len(geoms):
            return cls(
                geoms, np.asarray(rank), workers, None, np.zeros(0, bool), none, none, none, none
            )
        shares = np.array_split(geoms, min(workers, len(geoms)))
        exact = np.concatenate(_run(workers, _exact_mask, shares))
        grid = BoxGrid.build(shapely.bounds(geoms))
        # blocks of neighbours: polygons in the grid order of their box centres
        b = grid.bounds
        centre = grid.cells((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
        order = np.argsort(centre, kind="stable")
        block = np.empty(len(geoms), dtype=np.int64)
        slot = np.empty(len(geoms), dtype=np.int64)
        block[order] = np.arange(len(geoms)) // _BLOCK
        slot[order] = np.arange(len(geoms)) % _BLOCK
        start = np.r_[np.arange(0, len(geoms), _BLOCK), len(geoms)]
        return cls(geoms, np.asarray(rank), workers, grid, exact, block, slot, order, start)

    def locate(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The covering polygon of lowest rank per point and the "several cover it" mask
        (see :func:`locate_points`)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n = len(x)
        grid = self.grid
        if not n or grid is None:
            return np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=bool)
        # points in grid-cell order: the pairs of a block then come polygon region by
        # region, whose GEOS indexes stay in cache (2-3x faster than rows in input order);
        # points outside the grid (cell -1, sorted first) are covered by nothing
        cells = grid.cells(x, y)
        rows = np.argsort(cells)
        cells = cells.take(rows)
        first = int(np.searchsorted(cells, 0))
        rows, cells = rows[first:], cells[first:]
        xs, ys = x.take(rows), y.take(rows)
        spans = list(pairwise([*range(0, len(rows), _CHUNK), len(rows)]))
        if not spans:
            return np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=bool)
        found = _run(
            self.workers,
            lambda s: grid.candidates(xs[s[0] : s[1]], ys[s[0] : s[1]], cells[s[0] : s[1]]),
            spans,
        )
        p = np.concatenate([f[0] + a for f, (a, _b) in zip(found, spans, strict=True)])
        g, px, py = (np.concatenate([f[k] for f in found]) for k in (1, 2, 3))
        del found
        # the candidate pairs of one block together, in point order within it
        blk = self.block.take(g).astype(np.int32)
        by_block = np.argsort(blk, kind="stable")
        starts = np.r_[0, np.cumsum(np.bincount(blk, minlength=self.n_blocks))]
        del blk
        hit = np.zeros(len(p), dtype=bool)
        for k in range(self.n_blocks):  # ~10 blocks at 40,000 units
            sel = by_block[starts[k] : starts[k + 1]]
            if len(sel):
                hit[sel] = self._decide_block(k, g.take(sel), px.take(sel), py.take(sel))
        keep = np.flatnonzero(hit)
        return _resolve(rows.take(p.take(keep)), g.take(keep), self.rank, n)

    @property
    def n_blocks(self) -> int:
        """Number of polygon blocks."""
        return max(len(self.start) - 1, 0)

    def _decide_block(self, k: int, g: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Whether polygon ``g`` covers point ``(px, py)``, for pairs whose polygons are all
        in block ``k``: the block's prepared copies exist only during this call."""
        members = self.order[self.start[k] : self.start[k + 1]]  # position = slot
        ex = self.exact.take(g)
        hit = np.empty(len(g), dtype=bool)
        if (~ex).any():
            s = np.flatnonzero(~ex)
            hit[s] = _point_intersects(self.geoms.take(g.take(s)), px.take(s), py.take(s))
        e = np.flatnonzero(ex)
        if not len(e):
            return hit
        # a polygon with many points here is worth its edge index (~8-17 us to build at
        # ~230 vertices, then ~0.15 us a point); one with a few is scanned (~1.25 us a point)
        es = self.slot.take(g.take(e))
        count = np.bincount(es, minlength=len(members))
        exact = self.exact.take(members)
        hot = exact & (count >= _PREPARE_MIN_PAIRS)
        cold = exact & (count > 0) & ~hot
        work = np.empty(len(members), dtype=object)
        wanted = members[hot]
        if len(wanted):
            shares = np.array_split(wanted, min(self.workers, len(wanted)))
            copies = _run(
                self.workers, lambda share: _prepared_copies(self.geoms.take(share)), shares
            )
            for share, c in zip(shares, copies, strict=True):
                work[self.slot.take(share)] = c
            del copies
        if cold.any():  # plain copies, not prepared (the caller's may be, by the caller)
            work[cold] = shapely.force_2d(self.geoms.take(members[cold]))
        ge, xe, ye = work.take(es), px.take(e), py.take(e)
        is_hot = hot.take(es)
        # prepared copies (their indexes built above) serve both threads; each plain copy is
        # queried by one thread only (by its slot's parity): no unprepared GEOS geometry is
        # read by two threads at once
        h, c = np.flatnonzero(is_hot), np.flatnonzero(~is_hot)
        jobs = [h[a:b] for a, b in pairwise([*range(0, len(h), _CHUNK), len(h)])]
        jobs += [c[es.take(c) % 2 == parity] for parity in (0, 1)]
        jobs = [j for j in jobs if len(j)]
        parts = _run(
            self.workers, lambda j: shapely.intersects_xy(ge.take(j), xe.take(j), ye.take(j)), jobs
        )
        out = np.empty(len(e), dtype=bool)
        for j, part in zip(jobs, parts, strict=True):
            out[j] = part
        hit[e] = out
        return hit


def locate_points(
    geoms: np.ndarray,
    rank: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the polygon covering each point, and whether several polygons cover it.

    Parameters
    ----------
    geoms
        Unit polygons (object array of shapely geometries; None and empty ones cover
        nothing). They are not modified.
    rank
        Tie-break order of the polygons (lower wins on shared edges), e.g. code rank;
        equal ranks fall back to the position in ``geoms``.
    x, y
        Point coordinates (points with NaN are covered by nothing).
    workers
        Threads (default: the CPU count, at most 4). The polygons are copied and prepared
        in ``workers`` shares, and the points located chunk by chunk on the pool (chunks are
        handed out one at a time, so a core slowed by other work takes fewer); GEOS and
        the large numpy operations release the GIL.

    Returns
    -------
    unit : ndarray of int64
        Position in ``geoms`` of the covering polygon with the lowest ``rank``; -1 if none.
    multi : ndarray of bool
        True where more than one polygon covers the point.

    See Also
    --------
    PointLocator : the same in two steps, to build the polygons' side ahead of time.
    """
    geoms = np.asarray(geoms, dtype=object)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if not n or not len(geoms):
        return np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=bool)
    if n <= _FEW_POINTS:
        # a handful of points (a scenario's planned sites): preparing copies of every
        # polygon would cost more than testing the few candidates the tree gives
        pts = shapely.points(x, y)
        pidx, uidx = shapely.STRtree(geoms).query(pts, predicate="intersects")
        return _resolve(pidx, uidx, rank, n)
    return PointLocator.build(geoms, rank, workers=workers).locate(x, y)


def _resolve(
    pidx: np.ndarray, uidx: np.ndarray, rank: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Covering pairs (point, polygon) → each point's polygon of lowest rank, and whether
    several cover it."""
    unit = np.full(n, -1, dtype=np.int64)
    multi = np.zeros(n, dtype=bool)
    pidx = np.asarray(pidx, dtype=np.int64)
    uidx = np.asarray(uidx, dtype=np.int64)
    if not len(pidx):
        return unit, multi
    count = np.bincount(pidx, minlength=n)
    multi = count > 1
    single = ~multi[pidx]
    unit[pidx[single]] = uidx[single]
    if multi.any():
        mp, mu = pidx[~single], uidx[~single]
        order = np.lexsort((mu, np.asarray(rank)[mu], mp))
        mp, mu = mp[order], mu[order]
        first = np.flatnonzero(np.r_[True, mp[1:] != mp[:-1]])
        unit[mp[first]] = mu[first]
    return unit, multi
