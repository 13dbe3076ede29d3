"""Accessibility benchmarks (issue 13): demo end to end, national straight line, city roads.

Run: ``.venv/bin/python benchmarks/bench_access.py [--repeat 3] [--skip-national]``

1. The Suzhou demo, every access indicator of the catalogue (read + evaluate), target ≤ 2 s.
2. 2,000,000 demand points × 1,000,000 facilities, straight line within 1 km (clustered in
   2,000 towns over China, as people and facilities are), target ≤ 20 s; baseline: plain
   geopandas ``sjoin_nearest(max_distance=1000)`` in a metric CRS, in the same run.
3. A city street network of ~188,000 streets (376,000 segments; a jittered grid with
   missing blocks and bent streets of 3 vertices), 20,000 demand points × 2,000 facilities, 15 minutes
   on foot (1,000 m), target ≤ 10 s; baseline: geopandas buffer(1,000 m) + ``sjoin`` of the
   demand (straight-line catchments, which is what a plain script does without a router).

Medians of ``--repeat`` runs; the ratio is baseline / ours.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np


def _median(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bench_demo(repeat: int) -> None:
    from coverage_gis.core.catalog import load_catalog
    from coverage_gis.workflow import (
        demo_access_paths,
        demo_boundaries_path,
        demo_facilities_paths,
        load_inputs,
        run_audit,
    )

    catalog = load_catalog()

    def run() -> object:
        inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
        return run_audit(inputs, catalog, "2026-11-29")

    import dataclasses

    plain = dataclasses.replace(
        catalog, indicators=tuple(i for i in catalog.indicators if i.kind != "access")
    )

    def presence_only() -> object:
        inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths())
        return run_audit(inputs, plain, "2026-11-29")

    t_all, result = _median(run, repeat)
    t_base, _ = _median(presence_only, repeat)
    ids = [r.indicator.id for r in result.indicators if r.indicator.kind == "access"]  # type: ignore[attr-defined]
    print(f"demo audit with access ({', '.join(ids)}): {t_all:.2f} s median")
    print(f"demo audit without access indicators or layers: {t_base:.2f} s median")
    print(f"  access indicators add {t_all - t_base:.2f} s (target: all access ≤ 2 s)")


def _clustered(rng: np.random.Generator, n: int, centres: np.ndarray, spread: float):
    c = centres[rng.integers(0, len(centres), n)]
    return c[:, 0] + rng.normal(0, spread, n), c[:, 1] + rng.normal(0, spread, n)


def bench_national(repeat: int) -> None:
    import geopandas as gpd

    from coverage_gis.access.euclidean import euclidean_pairs

    rng = np.random.default_rng(11)
    towns = np.column_stack([rng.uniform(100, 122, 2000), rng.uniform(22, 42, 2000)])
    dlon, dlat = _clustered(rng, 2_000_000, towns, 0.04)
    flon, flat = _clustered(rng, 1_000_000, towns, 0.04)
    t_ours, pairs = _median(lambda: euclidean_pairs(dlon, dlat, flon, flat, 1000.0), repeat)
    served = int(pairs.reached().sum())  # type: ignore[attr-defined]
    print(f"straight line 2,000,000 × 1,000,000 within 1 km: {t_ours:.2f} s median")
    print(f"  {len(pairs):,} pairs, {served:,} demand points served")  # type: ignore[arg-type]

    def baseline() -> int:
        d = gpd.GeoDataFrame(geometry=gpd.points_from_xy(dlon, dlat), crs=4326).to_crs(3857)
        f = gpd.GeoDataFrame(geometry=gpd.points_from_xy(flon, flat), crs=4326).to_crs(3857)
        # web Mercator metres are 1/cos(lat) too long: scale the reach the way a script would
        j = gpd.sjoin_nearest(d, f, max_distance=1000.0 / np.cos(np.radians(32)))
        return int(j.index.nunique())

    t_base, base_served = _median(baseline, 1)
    print(f"  baseline geopandas sjoin_nearest (1 run): {t_base:.2f} s, {base_served:,} served")
    print(f"  ratio baseline / ours: {t_base / t_ours:.2f}×  (target ≤ 20 s)")


def _city_streets(rng: np.random.Generator, n_side: int, step: float):
    import shapely

    # a jittered grid: every block edge a street of 3 vertices, 8 % of edges missing
    xs = np.arange(n_side) * step
    gx, gy = np.meshgrid(xs, xs)
    jitter = rng.normal(0, step * 0.08, (2, n_side, n_side))
    px, py = gx + jitter[0], gy + jitter[1]
    i, j = np.nonzero(np.ones((n_side, n_side - 1), dtype=bool))
    horiz = (i * n_side + j, i * n_side + j + 1)
    i, j = np.nonzero(np.ones((n_side - 1, n_side), dtype=bool))
    vert = (i * n_side + j, (i + 1) * n_side + j)
    u = np.r_[horiz[0], vert[0]]
    v = np.r_[horiz[1], vert[1]]
    keep = rng.random(len(u)) > 0.08
    u, v = u[keep], v[keep]
    x, y = px.ravel(), py.ravel()
    mx = (x[u] + x[v]) / 2 + rng.normal(0, step * 0.05, len(u))
    my = (y[u] + y[v]) / 2 + rng.normal(0, step * 0.05, len(u))
    coords = np.stack(
        [np.column_stack([x[u], y[u]]), np.column_stack([mx, my]), np.column_stack([x[v], y[v]])],
        axis=1,
    )
    return shapely.linestrings(coords), (x.min(), x.max())


def bench_network(repeat: int) -> None:
    import geopandas as gpd

    from coverage_gis.access.network import RoadNetwork, network_pairs

    rng = np.random.default_rng(5)
    lines, (lo, hi) = _city_streets(rng, 320, 90.0)  # ~188,000 streets, 29 km square
    t_build, net = _median(lambda: RoadNetwork.from_lines(lines), 1)
    dx, dy = rng.uniform(lo, hi, 20_000), rng.uniform(lo, hi, 20_000)
    fx, fy = rng.uniform(lo, hi, 2_000), rng.uniform(lo, hi, 2_000)
    t_ours, pairs = _median(lambda: network_pairs(net, (dx, dy), (fx, fy), 1000.0), repeat)  # type: ignore[arg-type]
    print(
        f"road network: {len(lines):,} streets, {net.n_nodes:,} nodes, {net.n_edges:,} edges "  # type: ignore[attr-defined]
        f"(built in {t_build:.2f} s)"
    )
    served = int(pairs.reached().sum())  # type: ignore[attr-defined]
    print(f"  20,000 × 2,000 within a 15-min walk: {t_ours:.2f} s median, {served:,} served")
    print(f"  build + search: {t_build + t_ours:.2f} s (target ≤ 10 s)")

    def baseline() -> int:
        f = gpd.GeoDataFrame(geometry=gpd.points_from_xy(fx, fy), crs=32651)
        d = gpd.GeoDataFrame(geometry=gpd.points_from_xy(dx, dy), crs=32651)
        catch = f.assign(geometry=f.buffer(1000.0))
        j = gpd.sjoin(d, catch, predicate="within")
        return int(j.index.nunique())

    t_base, base_served = _median(baseline, repeat)
    print(
        f"  baseline geopandas buffer + sjoin (straight line, no roads): {t_base:.2f} s, "
        f"{base_served:,} served; ratio {t_base / t_ours:.2f}×"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-national", action="store_true")
    args = ap.parse_args()
    bench_demo(args.repeat)
    bench_network(args.repeat)
    if not args.skip_national:
        bench_national(args.repeat)


if __name__ == "__main__":
    main()
