"""Boundary checks benchmark: ``check_coverage`` against the version before the rewrite.

4,000 township units of ``make_national_data.make_units`` (Voronoi cells over eastern China)
with ~400-vertex outlines, in two variants, each with the same deliberate defects (five
units grown by 50 m: overlaps with all their neighbours; three shrunk by 50 m and four
removed: gaps):

* ``not noded``: outlines densified and jittered (±3 m) cell by cell, so neighbours share
  no vertices and leave slivers of overlap and gap along every edge, as real exports do;
* ``noded``: the same cells densified with one step and snapped to 1e-7°, so neighbours
  share their vertices (a clean GIS export): only the defects' units are suspect.

``new`` is :func:`coverage_gis.io.boundaries.check_coverage`; ``old`` the one in a copy of
``boundaries.py`` from before the rewrite, made with::

    git show 752354f:src/coverage_gis/io/boundaries.py > /tmp/old_boundaries.py
    python benchmarks/bench_boundaries.py --old /tmp/old_boundaries.py

Times are medians of ``--runs`` (3); the old one runs once when its first run takes more
than 20 s. The reports are compared outside the timings: the findings' codes and values
(unit pairs, gap positions) must be the same; the old one measured areas in one UTM zone,
the new one on the ellipsoid, so areas are compared as ratios. With ``--exact`` the old
one runs once more with the new area measure and every message must be identical.
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

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_national_data as gen  # noqa: E402

from coverage_gis.findings import Finding  # noqa: E402
from coverage_gis.io.boundaries import check_coverage  # noqa: E402

SEED = 20240601
N_UNITS = 4_000
VERTICES = 400
RUNS = 3
SLOW_S = 20.0
THRESHOLD_M2 = 100.0  # check_coverage's default min_area_m2


def _noded_outlines(
    cells: np.ndarray, rng: np.random.Generator, *, min_vertices: int = VERTICES
) -> np.ndarray:
    """Densify with one step for all cells and snap to 1e-7°: neighbours share vertices."""
    step = float(np.median(shapely.length(cells))) / min_vertices
    return shapely.set_precision(shapely.segmentize(cells, step), 1e-7)


def make_units(noded: bool, *, n: int = N_UNITS, seed: int = SEED) -> gpd.GeoDataFrame:
    """The benchmark's units: ``make_units`` cells, ~400 vertices, plus the defects.

    Parameters
    ----------
    noded
        Neighbours share their vertices (else each outline is densified and jittered on
        its own, :func:`make_national_data.realistic_outlines`).
    n
        Number of units before the defects (four are removed).
    seed
        Random seed of the cells and of the choice of defects.
    """
    # ~1.15 × min_vertices vertices per outline in realistic_outlines
    vertices = int(VERTICES / 1.15)
    if noded:
        jittered, gen.realistic_outlines = gen.realistic_outlines, _noded_outlines
        try:
            units = gen.make_units(n, seed=seed, min_vertices=VERTICES)
        finally:
            gen.realistic_outlines = jittered
    else:
        units = gen.make_units(n, seed=seed, min_vertices=vertices)
    geoms = units.geometry.to_numpy().copy()
    rng = np.random.default_rng([seed, 2])
    inner = np.flatnonzero(shapely.within(shapely.buffer(geoms, 0.1), gen.EASTERN_CHINA))
    pick = rng.choice(inner, 12, replace=False)
    grow, shrink, drop = pick[:5], pick[5:8], pick[8:]
    geoms[grow] = shapely.buffer(geoms[grow], 5e-4, quad_segs=4)  # ~50 m
    geoms[shrink] = shapely.buffer(geoms[shrink], -5e-4, quad_segs=4)
    units = units.set_geometry(geoms)
    return units.drop(index=units.index[drop]).reset_index(drop=True)


def load_old(path: Path) -> ModuleType:
    """Import an old ``boundaries.py`` under another name."""
    spec = importlib.util.spec_from_file_location("old_boundaries", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fn: Callable[[], list[Finding]], runs: int, slow_s: float) -> tuple[list[float], list]:
    """Run ``fn`` up to ``runs`` times (once when the first run takes over ``slow_s``)."""
    times, result = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if times[0] > slow_s:
            break
    return times, result


def _area(f: Finding) -> float:
    text = f.message_en.split(" by ")[-1] if f.code == "units_overlap" else f.message_en
    return float(text.split(" m²")[0].split()[-1].replace(",", ""))


def compare(new: list[Finding], old: list[Finding]) -> str:
    """Same codes and values? Areas as ratios new/old."""
    a = {(f.code, f.value): _area(f) for f in new}
    b = {(f.code, f.value): _area(f) for f in old}
    both = sorted(a.keys() & b.keys())
    ratio = np.array([a[k] / b[k] for k in both]) if both else np.ones(1)
    only = [a[k] for k in a.keys() - b.keys()] + [b[k] for k in b.keys() - a.keys()]
    if not only:
        same = "same findings"
    elif max(only) < THRESHOLD_M2 * ratio.max() / ratio.min():
        same = "same findings but slivers at the 100 m² threshold"
    else:
        same = "DIFFERENT findings"
    return (
        f"{same} ({len(both):,} both, {len(a.keys() - b.keys())} only new, "
        f"{len(b.keys() - a.keys())} only old); area new/old median {np.median(ratio):.4f} "
        f"[{ratio.min():.4f}, {ratio.max():.4f}]"
    )


def messages(findings: list[Finding]) -> list[tuple[str, str, str, str | None]]:
    return sorted((f.code, f.message_zh, f.message_en, f.value) for f in findings)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, help="boundaries.py from before the rewrite")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--units", type=int, default=N_UNITS)
    parser.add_argument(
        "--exact", action="store_true", help="also compare messages with the old algorithm"
    )
    args = parser.parse_args(argv)
    old = load_old(args.old) if args.old else None
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    rows = []
    for noded in (False, True):
        label = "noded" if noded else "not noded"
        units = make_units(noded, n=args.units)
        g = units.geometry.to_numpy()
        unmatched = int((~shapely.is_empty(shapely.coverage_invalid_edges(g))).sum())
        desc = (
            f"{len(units):,} units, {shapely.get_num_coordinates(g).mean():.0f} vertices "
            f"on average, {unmatched:,} with edges not matching their neighbours'"
        )
        print(f"\n{label}: {desc}", flush=True)
        new_t, new_f = timed(lambda u=units: check_coverage(u), args.runs, np.inf)
        n_over = sum(f.code == "units_overlap" for f in new_f)
        found = f"{n_over:,} overlaps, {len(new_f) - n_over:,} gaps"
        rows.append((label, "new", new_t, found))
        print(f"  new: {statistics.median(new_t):.2f} s ({found})", flush=True)
        if old is None:
            continue
        old_t, old_f = timed(lambda u=units: old.check_coverage(u), args.runs, SLOW_S)
        rows.append((label, "old", old_t, compare(new_f, old_f)))
        print(f"  old: {statistics.median(old_t):.2f} s; {rows[-1][3]}", flush=True)
        if args.exact:
            utm, old._utm_crs = old._utm_crs, lambda _u: "+proj=cea +ellps=WGS84 +units=m"
            try:
                same = messages(old.check_coverage(units)) == messages(new_f)
            finally:
                old._utm_crs = utm
            print(f"  old with the new area measure: messages identical: {same}", flush=True)
    print(f"\ncheck_coverage, {args.units:,} units, median of {args.runs} (old: 1 if > 20 s)\n")
    print(f"{'units':<10} {'version':<8} {'median s':>9} {'runs':>5}  result")
    print("-" * 100)
    for label, version, times, result in rows:
        print(f"{label:<10} {version:<8} {statistics.median(times):9.2f} {len(times):5d}  {result}")
    base = {label: statistics.median(t) for label, v, t, _ in rows if v == "new"}
    for label, version, times, _ in rows:
        if version == "old":
            print(f"speed-up ({label}): {statistics.median(times) / base[label]:.1f}x")
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
