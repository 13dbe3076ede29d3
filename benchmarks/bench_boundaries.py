"""Boundary checks benchmark: ``check_coverage`` on the national benchmark units, cold and cached.

The units are ``benchmarks/.data/units_{4000,40000}.parquet`` (written by
``make_national_data.py``, made here when missing): Voronoi cells over eastern China with
~234-vertex outlines densified and jittered (±3 m) cell by cell, so that neighbours share
no vertices and leave slivers of overlap and gap along every shared edge, as real exports
of boundaries digitised separately do. Each size runs in two variants:

* ``as read``: the file as it is (read with ``read_boundaries(path, check=False)``);
* ``defects``: the same with deliberate defects, five units grown by 50 m (overlaps with
  all their neighbours), three shrunk by 50 m and four removed (gaps). Every real overlap
  must involve a grown unit and every real gap lie where a unit was shrunk or removed.

``cold`` is :func:`coverage_gis.io.boundaries.check_coverage` (median of ``--runs``);
``cached`` is :func:`coverage_gis.io.check_cache.cached_coverage_check` on the file, as an
audit calls it, once to fill a temporary cache folder and then ``--runs`` times from it
(hashing the file included). Findings are counted per code; the sliver summaries' counts
are their ``count`` (estimated from a sample of units above ``SLIVER_SAMPLE_UNITS``).

``--exact`` also computes the slivers exactly for the smallest size (every touching pair
intersected, the holes of the union by the pairwise merge) and prints how far the
summaries' estimates are; ``--old FILE`` times a copy of the check from before the sliver
summary once per size, e.g.::

    git show 9d2ac0f:src/coverage_gis/io/boundaries.py > /tmp/old_boundaries.py
    python benchmarks/bench_boundaries.py --old /tmp/old_boundaries.py
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_national_data as gen  # noqa: E402

from coverage_gis.core.findings import Finding  # noqa: E402
from coverage_gis.io import boundaries  # noqa: E402
from coverage_gis.io.boundaries import check_coverage, read_boundaries  # noqa: E402

SEED = 20240601
SIZES = (4_000, 40_000)
RUNS = 3
REAL = ("units_overlap", "units_gap")
SLIVERS = ("units_sliver_overlap", "units_sliver_gap")


def units_file(n: int) -> Path:
    """The benchmark units of size ``n`` (written by make_national_data's generator)."""
    path = gen.units_path(n)
    if not path.exists():
        print(f"writing {path} ...", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        gen.write_units(gen.make_units(n, seed=SEED), path)
    return path


def with_defects(units: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, set[str], shapely.Geometry]:
    """The units with five grown by 50 m, three shrunk by 50 m and four removed.

    Returns
    -------
    units, grown, holes
        The changed units, the codes of the grown ones, and where gaps may be (the
        shrunk and removed units' original outlines).
    """
    geoms = units.geometry.to_numpy().copy()
    rng = np.random.default_rng([SEED, 2])
    inner = np.flatnonzero(shapely.within(shapely.buffer(geoms, 0.1), gen.EASTERN_CHINA))
    pick = rng.choice(inner, 12, replace=False)
    grow, shrink, drop = pick[:5], pick[5:8], pick[8:]
    holes = shapely.union_all(geoms[np.r_[shrink, drop]])
    geoms[grow] = shapely.buffer(geoms[grow], 5e-4, quad_segs=4)  # ~50 m
    geoms[shrink] = shapely.buffer(geoms[shrink], -5e-4, quad_segs=4)
    changed = units.set_geometry(geoms, crs=units.crs)
    changed = changed.drop(index=changed.index[drop]).reset_index(drop=True)
    return changed, set(units["code"].to_numpy()[grow].tolist()), holes


def timed(fn: Callable[[], list[Finding]], runs: int) -> tuple[float, list[Finding]]:
    """Median seconds of ``runs`` calls of ``fn``, and its last result."""
    times, result = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def counts(findings: list[Finding]) -> str:
    """Findings per code; the sliver summaries by the slivers they stand for."""
    by_code = collections.Counter(f.code for f in findings)
    rest = sum(f.count for f in findings if f.code in REAL and f.count > 1) or 0
    parts = [f"{by_code[c]:,} {c}" for c in REAL]
    if rest:
        parts.append(f"(+{rest:,} in their summaries)")
    for f in findings:
        if f.code in SLIVERS:
            parts.append(f"{f.code} ({f.count:,} slivers)")
    return ", ".join(parts)


def check_defects(findings: list[Finding], grown: set[str], holes: shapely.Geometry) -> str:
    """Whether the real findings are the deliberate defects."""
    overlaps = [f.value.split("/") for f in findings if f.code == "units_overlap"]
    gaps = [tuple(map(float, f.value.split(","))) for f in findings if f.code == "units_gap"]
    stray = [p for p in overlaps if not set(p) & grown]
    outside = [g for g in gaps if not shapely.dwithin(shapely.Point(g), holes, 1e-3)]
    found = {c for p in overlaps for c in p} & grown
    ok = not stray and not outside and found == grown and gaps
    return (
        f"{'OK' if ok else 'WRONG'}: {len(found)}/{len(grown)} grown units overlap, "
        f"{len(stray)} other overlaps, {len(gaps)} gaps of which {len(outside)} elsewhere"
    )


def exact_slivers(units: gpd.GeoDataFrame) -> dict[str, tuple[int, float]]:
    """Every sliver computed exactly: number and total area per kind (pieces over 1 m²)."""
    polys = units.geometry.to_numpy()
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    keep = left < right
    parts = shapely.get_parts(shapely.intersection(polys[left[keep]], polys[right[keep]]))
    parts = parts[shapely.get_type_id(parts) == 3]
    area, perimeter = boundaries._measure(parts)
    width = boundaries._mean_width(area, perimeter)
    thin = (area > boundaries.SLIVER_MIN_M2) & (width < boundaries.SLIVER_WIDTH_M)
    holes, _ = boundaries._union_holes(polys, np.ones(len(polys), dtype=bool), tree)
    hole_area, hole_perimeter = boundaries._measure(holes)
    hole_width = boundaries._mean_width(hole_area, hole_perimeter)
    hole_thin = (hole_area > boundaries.SLIVER_MIN_M2) & (hole_width < boundaries.SLIVER_WIDTH_M)
    return {
        "units_sliver_overlap": (int(thin.sum()), float(area[thin].sum())),
        "units_sliver_gap": (int(hole_thin.sum()), float(hole_area[hole_thin].sum())),
    }


def summary_area(f: Finding) -> float:
    return float(f.message_en.split(" m² in all")[0].split()[-1].replace(",", ""))


def load_old(path: Path) -> ModuleType:
    """Import an old ``boundaries.py`` under another name."""
    spec = importlib.util.spec_from_file_location("old_boundaries", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="e.g. 4000,40000")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--exact", action="store_true", help="check the sliver estimates")
    parser.add_argument("--old", type=Path, help="boundaries.py from before the summary")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    old = load_old(args.old) if args.old else None
    from coverage_gis.io import check_cache

    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    rows = []
    for n in sizes:
        path = units_file(n)
        units, _ = read_boundaries(path, check=False)
        g = units.geometry.to_numpy()
        print(
            f"\n{n:,} units ({path.name}): {shapely.get_num_coordinates(g).mean():.0f} "
            "vertices on average",
            flush=True,
        )
        seconds, found = timed(lambda u=units: check_coverage(u), args.runs)
        rows.append((n, "as read", "cold", seconds, counts(found)))
        print(f"  as read, cold:   {seconds:6.2f} s  {rows[-1][4]}", flush=True)
        for f in found:
            if f.code in SLIVERS:
                print(f"    {f.severity}: {f.message_en[:230]}…")
        with tempfile.TemporaryDirectory() as folder:
            saved = {k: os.environ.get(k) for k in ("COVERAGE_GIS_CACHE", "COVERAGE_GIS_CACHE_DIR")}
            os.environ.update(COVERAGE_GIS_CACHE="1", COVERAGE_GIS_CACHE_DIR=folder)
            try:
                cached = functools.partial(
                    check_cache.cached_coverage_check,
                    units,
                    file=str(path),
                    options={"layer": None, "crs": None, "mapping": {}},
                )
                first, _ = timed(cached, 1)
                seconds, again = timed(cached, args.runs)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        same = [replace(x, file=None) for x in again] == found  # cached ones name the file
        rows.append((n, "as read", "cached", seconds, f"same findings: {same}"))
        print(f"  as read, filling the cache: {first:6.2f} s", flush=True)
        print(f"  as read, cached: {seconds:6.2f} s  same findings: {same}", flush=True)
        if old is not None:
            seconds, before = timed(lambda u=units: old.check_coverage(u), 1)
            rows.append((n, "as read", "old", seconds, f"{len(before):,} findings"))
            print(f"  as read, old check: {seconds:6.2f} s  {len(before):,} findings", flush=True)
        if args.exact and n == min(sizes):
            exact = exact_slivers(units)
            for f in found:
                if f.code in exact:
                    count, area = exact[f.code]
                    print(
                        f"    {f.code}: {f.count:,} slivers, {summary_area(f):,.0f} m² vs "
                        f"exactly {count:,}, {area:,.0f} m² ({f.count / count - 1:+.1%}, "
                        f"{summary_area(f) / area - 1:+.1%})",
                        flush=True,
                    )
        changed, grown, holes = with_defects(units)
        seconds, found = timed(lambda u=changed: check_coverage(u), args.runs)
        verdict = check_defects(found, grown, holes)
        rows.append((n, "defects", "cold", seconds, f"{counts(found)}; {verdict}"))
        print(f"  defects, cold:   {seconds:6.2f} s  {rows[-1][4]}", flush=True)

    print(f"\ncheck_coverage, median of {args.runs} (cache fill: 1 run)\n")
    print(f"{'units':>7} {'variant':<8} {'run':<7} {'median s':>9}  findings")
    print("-" * 110)
    for n, variant, run, seconds, what in rows:
        print(f"{n:7,} {variant:<8} {run:<7} {seconds:9.2f}  {what}")
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
