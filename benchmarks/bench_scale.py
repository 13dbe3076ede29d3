"""Scale benchmark: the public audit API against a plain geopandas baseline, same files.

For each configuration (units × facilities, GeoParquet files from make_national_data.py) a
child process runs, on the same files:

(a) the public API end to end — ``load_inputs`` (read GeoParquet) → ``run_audit`` →
    ``AuditResult``;
(b) a plain geopandas baseline — ``read_parquet``, ``sjoin(predicate="within")``,
    ``groupby`` count per unit and type, share of units with at least one facility;

checks that both give identical per-unit counts (``counts_all``: every located facility) and
identical coverage rates per type, and reports the median wall time of 5 runs each, the ratio
audit/baseline and the peak RSS of each (measured in separate child processes, one run each,
from ``VmHWM``). Then: the Dask path on the largest set, interactive re-evaluation at Suzhou
scale (``PreparedAudit.evaluate`` with a new date and options) and the scaling curve.

    python benchmarks/bench_scale.py                      # everything (generates data first)
    python benchmarks/bench_scale.py --quick              # 40k × 100k and 1M only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_national_data as gen  # noqa: E402

AS_OF = "2024-06-30"
RUNS = 5


def _peak_rss_mb() -> float:
    """Peak resident set size of this process (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the two contenders ----------------------------------------------------------------------
def run_audit(units_path: Path, fac_path: Path) -> Any:
    """(a) The public API end to end: read GeoParquet, audit, AuditResult."""
    from coverage_gis import load_catalog, load_inputs, run_audit

    catalog = load_catalog()
    inputs = load_inputs(units_path, [fac_path])
    return run_audit(inputs, catalog, AS_OF)


def run_baseline(units_path: Path, fac_path: Path) -> tuple[Any, Any]:
    """(b) Plain geopandas: read_parquet, sjoin within, groupby count, share with >= 1."""
    import geopandas as gpd

    units = gpd.read_parquet(units_path)
    fac = gpd.read_parquet(fac_path)
    joined = gpd.sjoin(fac, units[["code", "geometry"]], predicate="within", how="inner")
    counts = joined.groupby(["code", "type_raw"]).size().unstack(fill_value=0)
    counts = counts.reindex(units["code"], fill_value=0)
    share = (counts > 0).mean()
    return counts, share


def _compare(result: Any, counts: Any, share: Any) -> dict[str, Any]:
    """Per-unit counts and coverage rates per type of both, after mapping raw types."""
    from coverage_gis import load_catalog

    catalog = load_catalog()
    by_type = counts.T.groupby([catalog.match_type(v) for v in counts.columns]).sum().T
    mine = result.counts_all[by_type.columns].loc[by_type.index]
    same_counts = bool((mine.to_numpy() == by_type.to_numpy()).all())
    rates_a = (mine > 0).mean()
    rates_b = (by_type > 0).mean()
    same_rates = bool((rates_a - rates_b).abs().max() == 0)
    return {
        "same_counts": same_counts,
        "same_rates": same_rates,
        "facilities_counted": int(mine.to_numpy().sum()),
        "rates": {k: round(float(v) * 100, 2) for k, v in rates_a.items()},
    }


def child_time(units_path: Path, fac_path: Path, runs: int) -> dict[str, Any]:
    """Median times of both (same process, same files) and the equality check."""
    ta, tb = [], []
    result = counts = share = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = run_audit(units_path, fac_path)
        ta.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        counts, share = run_baseline(units_path, fac_path)
        tb.append(time.perf_counter() - t0)
    check = _compare(result, counts, share)
    return {"audit": ta, "baseline": tb, **check}


def child_memory(which: str, units_path: Path, fac_path: Path) -> dict[str, Any]:
    """Peak RSS of one run of one contender (fresh process)."""
    t0 = time.perf_counter()
    if which == "audit":
        run_audit(units_path, fac_path)
    else:
        run_baseline(units_path, fac_path)
    return {"seconds": time.perf_counter() - t0, "peak_rss_mb": _peak_rss_mb()}


def child_dask(units_path: Path, fac_path: Path) -> dict[str, Any]:
    """The ``--engine dask`` path (LocalCluster, 2 workers) end to end, one run."""
    from coverage_gis import load_catalog, load_inputs
    from coverage_gis.engine_dask import prepare_dask

    t0 = time.perf_counter()
    catalog = load_catalog()
    inputs = load_inputs(units_path, [fac_path], locate_ahead=False)  # located on the cluster
    t1 = time.perf_counter()
    prepared = prepare_dask(
        inputs.units, inputs.facilities, catalog, findings=inputs.findings, inputs=inputs.inputs
    )
    t2 = time.perf_counter()
    result = prepared.evaluate(AS_OF)
    t3 = time.perf_counter()
    return {
        "read_s": t1 - t0,
        "prepare_dask_s": t2 - t1,
        "evaluate_s": t3 - t2,
        "total_s": t3 - t0,
        "rows": int(result.accounting["rows_read"].sum()),
        "used": int(result.accounting["rows_used"].sum()),
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_interactive(runs: int) -> dict[str, Any]:
    """Re-evaluation at Suzhou scale: new date / options on one PreparedAudit."""
    import datetime as dt

    from coverage_gis import load_catalog
    from coverage_gis.results import AuditOptions
    from coverage_gis.workflow import (
        demo_boundaries_path,
        demo_facilities_paths,
        load_inputs,
        prepare_audit,
    )

    catalog = load_catalog()
    try:
        b, fs = demo_boundaries_path(), demo_facilities_paths()
        if not b.exists() or not all(p.exists() for p in fs):
            raise FileNotFoundError(b)
        inputs = load_inputs(b, fs)
        source = "demo data (data/boundaries, data/facilities)"
    except (FileNotFoundError, OSError):
        from coverage_gis.findings import Findings
        from coverage_gis.workflow import AuditInputs

        units = gen.make_units(93, region=gen.SUZHOU_BBOX, units_per_county=9.0)
        fac = gen.make_facilities(units, 1500, catalog=catalog).drop(["geometry"]).to_pandas()
        inputs = AuditInputs(units=units, facilities=fac, findings=Findings())
        source = "synthetic Suzhou-sized set"
    prepared = prepare_audit(inputs, catalog, allow_errors=True)
    dates = [dt.date(2019, 1, 1) + dt.timedelta(days=97 * i) for i in range(runs * 2 + 1)]
    prepared.evaluate(dates[0])  # warm-up
    t_date, t_opt = [], []
    for i in range(runs):
        t0 = time.perf_counter()
        prepared.evaluate(dates[i + 1])
        t_date.append(time.perf_counter() - t0)
        opts = AuditOptions(include_functional_zones=bool(i % 2), manual_values={"T2-2": 19.0 + i})
        t0 = time.perf_counter()
        prepared.evaluate(dates[runs + i + 1], opts)
        t_opt.append(time.perf_counter() - t0)
    return {
        "source": source,
        "units": len(prepared.units),
        "facilities": len(prepared.facilities),
        "new_date_ms": statistics.median(t_date) * 1000,
        "new_options_ms": statistics.median(t_opt) * 1000,
    }


# -- driver ----------------------------------------------------------------------------------
def _child(args: list[str], timeout: float = 3600) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _paths(n_units: int, n_fac: int) -> tuple[Path, Path]:
    return gen.units_path(n_units), gen.facilities_path(n_units, n_fac)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="40k × 100k and 1M only, no Dask run")
    ap.add_argument("--runs", type=int, default=RUNS)
    ap.add_argument(
        "--dask-facilities", type=int, default=10_000_000, help="facilities for the Dask run"
    )
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "time":
            res = child_time(Path(rest[0]), Path(rest[1]), int(rest[2]))
        elif kind == "memory":
            res = child_memory(rest[0], Path(rest[1]), Path(rest[2]))
        elif kind == "dask":
            res = child_dask(Path(rest[0]), Path(rest[1]))
        else:
            res = child_interactive(int(rest[0]))
        print(json.dumps(res))
        return

    configs = [(40_000, 100_000), (40_000, 1_000_000)]
    if not args.quick:
        configs = [(4_000, 100_000), (4_000, 1_000_000), *configs, (40_000, 5_000_000)]
    need_dask = not (args.quick or args.no_dask)
    gen.main(
        [
            "--units",
            *sorted({str(u) for u, _ in configs}),
            "--facilities",
            *sorted({str(f) for _, f in configs}),
        ]
    )
    if need_dask:
        gen.main(
            [
                "--units",
                "40000",
                "--facilities",
                str(args.dask_facilities),
                "--gpkg-max",
                "0",
            ]
        )
    load = os.getloadavg()[0]
    print(
        f"\ncoverage-gis scale benchmark — {os.cpu_count()} cores, load average {load:.2f}, "
        f"median of {args.runs} runs, as of {AS_OF}\n"
    )
    head = (
        f"{'units':>7} {'facilities':>11} | {'audit s':>8} {'1st run':>7} {'baseline s':>10} "
        f"{'ratio':>6} {'speed-up':>8} | {'audit RSS':>9} {'base RSS':>9} | identical"
    )
    print(head)
    print("-" * len(head))
    # "1st run": the first audit in a fresh process (cold caches: file pages are warm from
    # the data generator, but name normalisation and unit tables are built from scratch);
    # the median covers 5 runs in that process, as for the baseline.
    rows = []
    for n_units, n_fac in configs:
        up, fp = _paths(n_units, n_fac)
        t = _child(["time", str(up), str(fp), str(args.runs)])
        ma = _child(["memory", "audit", str(up), str(fp)])
        mb = _child(["memory", "baseline", str(up), str(fp)])
        a, b = statistics.median(t["audit"]), statistics.median(t["baseline"])
        rows.append((n_units, n_fac, a, b))
        ok = "yes" if t["same_counts"] and t["same_rates"] else "NO"
        print(
            f"{n_units:>7,} {n_fac:>11,} | {a:>8.2f} {t['audit'][0]:>7.2f} {b:>10.2f} "
            f"{a / b:>6.2f} {b / a:>7.2f}x | "
            f"{ma['peak_rss_mb']:>7.0f}MB {mb['peak_rss_mb']:>7.0f}MB | {ok} "
            f"(counts {t['same_counts']}, rates {t['same_rates']}, "
            f"{t['facilities_counted']:,} counted)",
            flush=True,
        )
    print(
        "\nscaling curve, 40,000 units (s/M: seconds per million facilities; marginal: "
        "extra seconds per extra million since the previous size — a straight line has a "
        "constant marginal cost, the intercept being the fixed cost of the 40,000 units):"
    )
    base = [(f, a, b) for u, f, a, b in rows if u == 40_000]
    prev: tuple[int, float, float] | None = None
    for f, a, b in base:
        marginal = (
            f"   marginal audit {(a - prev[1]) / (f - prev[0]) * 1e6:5.2f} s/M, "
            f"baseline {(b - prev[2]) / (f - prev[0]) * 1e6:5.2f} s/M"
            if prev
            else ""
        )
        print(
            f"  {f:>11,}  audit {a:7.2f} s ({a / f * 1e6:6.2f} s/M)   "
            f"baseline {b:7.2f} s ({b / f * 1e6:6.2f} s/M){marginal}"
        )
        prev = (f, a, b)
    if need_dask:
        up, fp = _paths(40_000, args.dask_facilities)
        d = _child(["dask", str(up), str(fp)])
        print(
            f"\nDask path (--engine dask, LocalCluster 2 workers), 40,000 units × "
            f"{args.dask_facilities:,} facilities: total {d['total_s']:.1f} s "
            f"(read {d['read_s']:.1f} s, partitioned assignment + rules {d['prepare_dask_s']:.1f} s, "
            f"evaluate {d['evaluate_s']:.1f} s), {d['rows']:,} rows, {d['used']:,} used, "
            f"peak RSS {d['peak_rss_mb'] / 1024:.2f} GB (limit 8 GB)"
        )
    it = _child(["interactive", str(args.runs)])
    print(
        f"\ninteractive re-evaluation ({it['source']}: {it['units']} units, "
        f"{it['facilities']:,} facilities): new date {it['new_date_ms']:.1f} ms, "
        f"new date + options {it['new_options_ms']:.1f} ms (target <= 100 ms)"
    )


if __name__ == "__main__":
    main()
