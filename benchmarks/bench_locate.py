"""Point location benchmark: ``locate_points`` against a plain GEOS STRtree query.

4,000 township units × 1,000,000 random points, in two variants:

* ``detailed``: Voronoi cells densified to ~235 vertices and jittered vertex by vertex,
  each cell on its own — neighbours do not share vertices, there are slivers and gaps
  (like real township outlines, which are not exactly noded);
* ``voronoi``: the raw Voronoi cells (~7 vertices, exactly shared edges).

Contenders, timed in the same process (median of ``--runs``, run round-robin so that load
from other processes falls on all of them alike; every polygon unprepared before each run):

* ``new``: :func:`coverage_gis.core.point_in_polygon.locate_points` (unit per point and "multi" mask),
  with its default threads and with ``workers=1`` (``new 1thr``: does the pool pay?);
* ``STRtree``: ``shapely.STRtree(polys).query(shapely.points(x, y), predicate="intersects")``
  — building the tree and the points included, the (point, unit) pairs as the result;
* ``old`` (optional): an older ``_locate.py`` given with ``--old``, e.g. the numpy
  ray-casting version::

      git show b40875a~1:src/coverage_gis/core/point_in_polygon.py > /tmp/old_locate.py
      python benchmarks/bench_locate.py --old /tmp/old_locate.py

The answers of ``new`` (and ``old``) are checked against the STRtree pairs (smallest rank
per point, "multi" where several units cover it) outside the timings.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import shapely

from coverage_gis.core.point_in_polygon import locate_points

SEED = 20240601
N_UNITS = 4_000
N_POINTS = 1_000_000
RUNS = 5


def make_units(n: int, vertices: int | None, *, seed: int = SEED) -> np.ndarray:
    """``n`` Voronoi cells over a square, densified and jittered to ~``vertices`` each.

    Parameters
    ----------
    n
        Number of units.
    vertices
        Target vertices per unit; None keeps the raw cells (exactly shared edges).
    seed
        Random seed: the same seed gives the same polygons, bit for bit.

    Returns
    -------
    ndarray of shapely.Polygon
        Valid polygons. A cell whose jittered outline is invalid (a few in a thousand)
        keeps its densified, unjittered outline.
    """
    rng = np.random.default_rng(seed)
    side = float(np.sqrt(n)) * 0.05  # ~0.05° cells, about the size of a township
    region = shapely.box(110.0, 25.0, 110.0 + side, 25.0 + side)
    seeds = rng.uniform((110.0, 25.0), (110.0 + side, 25.0 + side), (n, 2))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    )
    cells = shapely.intersection(cells, region)
    if vertices is None:
        return cells
    # ceil(edge / step) pieces per edge: ~perimeter / step + edges / 2 segments in all
    step = shapely.length(cells) / (vertices - 4)
    dense = shapely.segmentize(cells, step)
    kind, coords, (ring_off, geom_off) = shapely.to_ragged_array(dense)
    per_vertex = np.repeat(np.arange(len(cells)), np.diff(ring_off[geom_off]))
    xy = coords + rng.normal(0.0, 0.15, coords.shape) * step[per_vertex, None]
    xy[ring_off[1:] - 1] = xy[ring_off[:-1]]  # rings stay closed
    jittered = shapely.from_ragged_array(kind, xy, (ring_off, geom_off))
    return np.where(shapely.is_valid(jittered), jittered, dense)


def make_points(polys: np.ndarray, n: int, *, seed: int = SEED + 1) -> tuple[np.ndarray, ...]:
    """``n`` uniform points over the units' extent plus a 2 % margin (some are outside)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    mx, my = 0.02 * (x1 - x0), 0.02 * (y1 - y0)
    return rng.uniform(x0 - mx, x1 + mx, n), rng.uniform(y0 - my, y1 + my, n)


def load_old(path: Path) -> ModuleType:
    """Import an older ``_locate.py`` from a file (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("old_locate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_locate"] = module
    spec.loader.exec_module(module)
    return module


def strtree_query(polys: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The plain baseline: (point, unit) pairs from a GEOS STRtree query."""
    return shapely.STRtree(polys).query(shapely.points(x, y), predicate="intersects")


def reduce_pairs(pairs: np.ndarray, rank: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The STRtree pairs as ``locate_points`` answers: lowest rank per point, "multi"."""
    p, u = pairs
    unit = np.full(n, -1, dtype=np.int64)
    order = np.lexsort((u, rank[u], p))
    p, u = p[order], u[order]
    first = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    unit[p[first]] = u[first]
    return unit, np.bincount(p, minlength=n) > 1


def bench(
    contenders: dict[str, Callable[[], Any]], polys: np.ndarray, runs: int
) -> tuple[dict[str, float], dict[str, Any]]:
    """Median wall time of each contender (round-robin runs) and its last answer."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    answers: dict[str, Any] = {}
    for _ in range(runs):
        for name, fn in contenders.items():
            shapely.destroy_prepared(polys)  # nobody profits from an earlier run's indexes
            t = time.perf_counter()
            answers[name] = fn()
            times[name].append(time.perf_counter() - t)
    shapely.destroy_prepared(polys)
    return {name: statistics.median(ts) for name, ts in times.items()}, answers


def main(argv: list[str] | None = None) -> None:
    """Build both variants, time the contenders, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, help="an older _locate.py to time as well")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--units", type=int, default=N_UNITS)
    parser.add_argument("--points", type=int, default=N_POINTS)
    parser.add_argument("--vertices", type=int, default=235)
    args = parser.parse_args(argv)
    old = load_old(args.old) if args.old else None

    print(
        f"point location — {args.units:,} units × {args.points:,} points, median of "
        f"{args.runs} (round-robin), {os.cpu_count()} cores, shapely {shapely.__version__}, "
        f"GEOS {shapely.geos_version_string}"
    )
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    rows = []
    for variant, vertices in (("detailed", args.vertices), ("voronoi", None)):
        polys = make_units(args.units, vertices)
        rank = np.random.default_rng(SEED + 2).permutation(len(polys))  # not the row order
        x, y = make_points(polys, args.points)
        contenders: dict[str, Callable[[], Any]] = {
            "new": lambda p=polys, r=rank, x=x, y=y: locate_points(p, r, x, y),
            "new 1thr": lambda p=polys, r=rank, x=x, y=y: locate_points(p, r, x, y, workers=1),
            "STRtree": lambda p=polys, x=x, y=y: strtree_query(p, x, y),
        }
        if old is not None:
            contenders["old"] = lambda p=polys, r=rank, x=x, y=y: old.locate_points(p, r, x, y)
        med, answers = bench(contenders, polys, args.runs)
        want = reduce_pairs(answers["STRtree"], rank, len(x))
        same = {
            name: bool(
                np.array_equal(answers[name][0], want[0])
                and np.array_equal(answers[name][1], want[1])
            )
            for name in contenders
            if name != "STRtree"
        }
        rows.append((variant, float(shapely.get_num_coordinates(polys).mean()), med, same, want))

    cols = ["new", "new 1thr", "STRtree", *(["old"] if old is not None else [])]
    head = f"{'variant':>9} {'vertices':>8} | " + " ".join(f"{c + ' s':>10}" for c in cols)
    head += " | new/STRtree" + ("  new/old" if old is not None else "") + " | identical"
    print()
    print(head)
    print("-" * len(head))
    for variant, nv, med, same, want in rows:
        line = f"{variant:>9} {nv:>8.1f} | " + " ".join(f"{med[c]:>10.3f}" for c in cols)
        line += f" | {med['new'] / med['STRtree']:>11.2f}"
        if old is not None:
            line += f"  {med['new'] / med['old']:>7.2f}"
        line += " | " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in same.items())
        line += f" ({int((want[0] >= 0).sum()):,} located, {int(want[1].sum()):,} multi)"
        print(line)
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
