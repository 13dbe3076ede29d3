"""Scale benchmark: the public audit API against a plain geopandas baseline, same raw files.

For each configuration (units × facilities, planner-shaped files from make_national_data.py:
text columns under Chinese headers, non-noded 200+-vertex unit outlines) a child process runs,
on the same files:

(a) the public API end to end — ``load_inputs`` (read GeoParquet) → ``run_audit`` →
    ``AuditResult`` (``allow_errors``: the files hold bad values on purpose);
(b) a plain geopandas baseline — ``read_parquet``, ``sjoin(predicate="within")``,
    ``groupby`` count per unit and raw 类型 text, share of units with at least one facility;

and checks that both give identical per-unit counts and coverage rates per type on the rows
both count the same way (see :func:`_compare`), reporting the median wall time of 5 runs each,
the ratio audit/baseline and the peak RSS of each (measured in separate child processes, one
run each, from ``VmHWM``). Then: the same data as GeoPackage, the Dask path on 10M and 30M
facilities, interactive re-evaluation at Suzhou scale (``PreparedAudit.evaluate`` with a new
date and options) and the scaling curve.

    python benchmarks/bench_scale.py                      # everything (generates data first)
    python benchmarks/bench_scale.py --quick              # 40k × 100k and 1M, GeoPackage 1M
    python benchmarks/bench_scale.py --data /tmp/d --configs 200x5000 --gpkg 200x5000 \
        --dask-units 200 --dask-facilities 20000 --runs 1 # a small check that it all runs
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
from typing import Any, NamedTuple

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
    """(a) The public API end to end: read the files, audit, AuditResult."""
    from coverage_gis import load_catalog, load_inputs, run_audit

    catalog = load_catalog()
    inputs = load_inputs(units_path, [fac_path])
    # rows with bad values are excluded (and reported), as with --allow-errors
    return run_audit(inputs, catalog, AS_OF, allow_errors=True)


class Baseline(NamedTuple):
    """What the plain geopandas script computes, and what :func:`_compare` needs of it."""

    counts: Any  # unit code × raw type text
    share: Any  # share of units with >= 1 facility, per raw type text
    rows: Any  # facility row (0-based) of each joined pair
    codes: Any  # unit code of each joined pair
    types: Any  # raw type text of every facility row
    n_rows: int


def _read(path: Path) -> Any:
    import geopandas as gpd

    return gpd.read_parquet(path) if path.suffix == ".parquet" else gpd.read_file(path)


def run_baseline(units_path: Path, fac_path: Path) -> Baseline:
    """(b) Plain geopandas: read, sjoin within, groupby count on 类型, share with >= 1."""
    import geopandas as gpd

    units = _read(units_path)
    fac = _read(fac_path)
    joined = gpd.sjoin(fac, units[["code", "geometry"]], predicate="within", how="inner")
    counts = joined.groupby(["code", gen.TYPE_HEADER]).size().unstack(fill_value=0)
    counts = counts.reindex(units["code"], fill_value=0)
    share = (counts > 0).mean()
    return Baseline(
        counts,
        share,
        joined.index.to_numpy(),
        joined["code"].to_numpy(),
        fac[gen.TYPE_HEADER].to_numpy(),
        len(fac),
    )


def _compare(result: Any, base: Baseline) -> dict[str, Any]:
    """Per-unit counts and coverage rates per type of both, on the rows both count alike.

    The baseline counts a row under its raw 类型 text in every unit whose polygon contains
    its point, and nothing else. The audit maps types through the catalogue (aliases), gives a
    point in several units (the overlap slivers of non-noded outlines) to the smallest code,
    fixes swapped lon/lat, counts rows without a usable point by their named 所属镇(街道) and
    excludes rows with reader errors and uncatalogued types. So the rows compared are those
    whose point lies in exactly one unit (baseline), whose type text the catalogue knows and
    which the audit did not exclude for a reader error; on them the audit must have assigned
    by point to the same unit and type, giving identical unit × type counts and rates. The
    rows outside that set are counted by reason.
    """
    import numpy as np
    import pandas as pd

    from coverage_gis import load_catalog

    catalog = load_catalog()
    n = base.n_rows
    fac = result.facilities
    pos = fac["source_row"].to_numpy(dtype=np.int64) - 1

    def spread(col: str, fill: object) -> np.ndarray:  # audit column in file-row order
        out = np.full(n, fill, dtype=object)
        out[pos] = fac[col].to_numpy(dtype=object)
        return out

    a_unit, a_type = spread("unit_code", None), spread("type_code", None)
    a_method, a_reason = spread("assign_method", "none"), spread("excluded_reason", "not read")
    a_used = spread("used", False).astype(bool)
    hits = np.bincount(base.rows, minlength=n)
    single = hits[base.rows] == 1
    b_unit = np.full(n, None, dtype=object)
    b_unit[base.rows[single]] = base.codes[single]
    tcodes, tuniq = pd.factorize(pd.Series(base.types, dtype=object))
    mapped = np.array([*(catalog.match_type(v) for v in tuniq), None], dtype=object)
    b_type = mapped[tcodes]  # factorize gives -1 (the final None) for missing values
    known = pd.notna(b_type)
    compared = (hits == 1) & known & (a_reason != "reader_error")
    by_point = compared & a_used & (a_method == "point")
    agree = by_point & (a_unit == b_unit) & (a_type == b_type)

    unit_index = pd.Index(result.units["code"].to_numpy())
    type_index = pd.Index(list(catalog.type_codes))
    nu, nt = len(unit_index), len(type_index)

    def matrix(rows: np.ndarray, unit: np.ndarray, typ: np.ndarray) -> np.ndarray:
        ui = unit_index.get_indexer(unit[rows])
        ti = type_index.get_indexer(typ[rows])
        ok = (ui >= 0) & (ti >= 0)
        flat = np.bincount(ui[ok] * nt + ti[ok], minlength=nu * nt)
        return flat.reshape(nu, nt)

    mine = matrix(by_point, a_unit, a_type)
    theirs = matrix(compared, b_unit, b_type)
    rates_a, rates_b = (mine > 0).mean(axis=0), (theirs > 0).mean(axis=0)
    counted_a = a_used & pd.notna(a_unit)
    return {
        "same_counts": bool((mine == theirs).all()),
        "same_rates": bool((rates_a == rates_b).all()),
        "facilities_counted": int(compared.sum()),
        "rows": int(n),
        "disagreeing_rows": int(compared.sum() - agree.sum()),
        "baseline_uncatalogued": int(((hits > 0) & ~known).sum()),
        "baseline_double_rows": int((hits > 1).sum()),
        "baseline_reader_error_rows": int(
            ((hits == 1) & known & (a_reason == "reader_error")).sum()
        ),
        "audit_by_name": int((counted_a & (a_method != "point")).sum()),
        "audit_point_not_in_baseline": int((counted_a & (a_method == "point") & (hits == 0)).sum()),
        "rates": {c: round(float(v) * 100, 2) for c, v in zip(type_index, rates_a, strict=True)},
    }


def child_time(units_path: Path, fac_path: Path, runs: int) -> dict[str, Any]:
    """Median times of both (same process, same files) and the equality check."""
    ta, tb = [], []
    result = base = None
    for _ in range(runs):
        result = base = None  # the previous run's tables do not weigh on this one
        t0 = time.perf_counter()
        result = run_audit(units_path, fac_path)
        ta.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        base = run_baseline(units_path, fac_path)
        tb.append(time.perf_counter() - t0)
    check = _compare(result, base)
    return {"audit": ta, "baseline": tb, **check}


def child_memory(which: str, units_path: Path, fac_path: Path) -> dict[str, Any]:
    """Peak RSS of one run of one contender (fresh process)."""
    t0 = time.perf_counter()
    if which == "audit":
        run_audit(units_path, fac_path)
    else:
        run_baseline(units_path, fac_path)
    return {"seconds": time.perf_counter() - t0, "peak_rss_mb": _peak_rss_mb()}


def child_dask(units_path: Path, fac_path: Path, mode: str = "partitioned") -> dict[str, Any]:
    """One run of a 10M/30M configuration, in a fresh process (for its peak RSS).

    ``partitioned``: ``audit --engine dask`` on GeoParquet — each partition read, normalised,
    prepared and summarised on a worker of a 2-worker LocalCluster; the client holds the
    units and the summaries only. ``local``: the in-process engine on the same files
    (``load_inputs`` + ``run_audit``), every row in memory.
    """
    from coverage_gis import load_catalog
    from coverage_gis.io.boundaries import read_boundaries

    t0 = time.perf_counter()
    catalog = load_catalog()
    if mode == "partitioned":
        from coverage_gis.core.engine_dask import prepare_dask_files
        from coverage_gis.io.check_cache import cached_coverage_check

        units, findings = read_boundaries(units_path, check=False)
        options = {"layer": None, "crs": None, "mapping": {}}  # as load_inputs keys it
        findings.extend(cached_coverage_check(units, file=str(units_path), options=options))
        t1 = time.perf_counter()
        prepared = prepare_dask_files(units, [fac_path], catalog, AS_OF, findings=findings)
    else:
        from coverage_gis import load_inputs
        from coverage_gis.workflow import prepare_audit

        inputs = load_inputs(units_path, [fac_path])
        t1 = time.perf_counter()
        prepared = prepare_audit(inputs, catalog, allow_errors=True)
    t2 = time.perf_counter()
    result = prepared.evaluate(AS_OF)
    t3 = time.perf_counter()
    return {
        "mode": mode,
        "read_s": t1 - t0,
        "prepare_s": t2 - t1,
        "evaluate_s": t3 - t2,
        "total_s": t3 - t0,
        "rows": int(result.accounting["rows_read"].sum()),
        "used": int(result.accounting["rows_used"].sum()),
        "summary_rows": len(prepared.facilities),
        "counts": result.counts_all.to_numpy().tolist(),
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_interactive(runs: int) -> dict[str, Any]:
    """Re-evaluation at Suzhou scale: new date / options on one PreparedAudit."""
    import datetime as dt

    from coverage_gis import load_catalog
    from coverage_gis.core.results import AuditOptions
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
        from coverage_gis.core.findings import Findings
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


def _size(text: str) -> tuple[int, int]:
    """``40000x1000000`` → (40000, 1000000)."""
    u, _, f = text.lower().partition("x")
    return int(u), int(f)


def _generate(data: Path, units: list[int], facilities: list[int], gpkg_max: int = 0) -> None:
    """Make the files the benchmark reads (make_national_data skips existing ones)."""
    gen.main(
        [
            "--units",
            *[str(u) for u in sorted(set(units))],
            "--facilities",
            *[str(f) for f in sorted(set(facilities))],
            "--gpkg-max",
            str(gpkg_max),
            "--csv-rows",
            "0",
            "--xlsx-rows",
            "0",
            "--out",
            str(data),
        ]
    )


def _accounting(t: dict[str, Any]) -> str:
    """What the equality check compared, and why the other rows are left out."""
    bad = t["disagreeing_rows"]
    return (
        f"compared {t['facilities_counted']:,} of {t['rows']:,} rows"
        f"{f' ({bad:,} DISAGREE)' if bad else ''}; "
        f"baseline also counts {t['baseline_uncatalogued']:,} rows of uncatalogued types and "
        f"{t['baseline_double_rows']:,} rows in 2+ units (overlap slivers), and "
        f"{t['baseline_reader_error_rows']:,} rows the audit excludes for a reader error; the "
        f"audit also counts {t['audit_by_name']:,} rows by named unit (no coordinates, or a "
        f"point in a gap) and {t['audit_point_not_in_baseline']:,} point(s) the baseline finds "
        "in no unit (swapped lon/lat)"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="40k × 100k and 1M only, no Dask run")
    ap.add_argument("--runs", type=int, default=RUNS)
    ap.add_argument(
        "--configs",
        nargs="+",
        metavar="UNITSxFACILITIES",
        help="GeoParquet configurations (default 4000/40000 × 100k/1M, 40000 × 5M)",
    )
    ap.add_argument(
        "--gpkg",
        default="40000x1000000",
        metavar="UNITSxFACILITIES",
        help="the GeoPackage run ('none' to skip)",
    )
    ap.add_argument("--dask-units", type=int, default=40_000)
    ap.add_argument(
        "--dask-facilities",
        type=int,
        nargs="+",
        default=[10_000_000, 30_000_000],
        help="facility sets of the Dask runs",
    )
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument(
        "--local-max",
        type=int,
        default=10_000_000,
        help="largest facility set also audited by the in-process engine for comparison",
    )
    ap.add_argument("--data", type=Path, default=gen.DATA_DIR, help="data directory")
    args = ap.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "time":
            res = child_time(Path(rest[0]), Path(rest[1]), int(rest[2]))
        elif kind == "memory":
            res = child_memory(rest[0], Path(rest[1]), Path(rest[2]))
        elif kind == "dask":
            res = child_dask(
                Path(rest[0]), Path(rest[1]), rest[2] if len(rest) > 2 else "partitioned"
            )
        else:
            res = child_interactive(int(rest[0]))
        print(json.dumps(res))
        return

    if args.configs:
        configs = [_size(c) for c in args.configs]
    else:
        configs = [(40_000, 100_000), (40_000, 1_000_000)]
        if not args.quick:
            configs = [(4_000, 100_000), (4_000, 1_000_000), *configs, (40_000, 5_000_000)]
    gpkg = None if args.gpkg.lower() == "none" else _size(args.gpkg)
    need_dask = not (args.quick or args.no_dask)
    data = args.data
    _generate(data, [u for u, _ in configs], [f for _, f in configs])
    if gpkg:
        _generate(data, [gpkg[0]], [gpkg[1]], gpkg_max=gpkg[1])
    if need_dask:
        _generate(data, [args.dask_units], args.dask_facilities)
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
    checks = []
    for n_units, n_fac in configs:
        up, fp = (
            gen.units_path(n_units, "parquet", data),
            gen.facilities_path(n_units, n_fac, "parquet", data),
        )
        t = _child(["time", str(up), str(fp), str(args.runs)])
        ma = _child(["memory", "audit", str(up), str(fp)])
        mb = _child(["memory", "baseline", str(up), str(fp)])
        a, b = statistics.median(t["audit"]), statistics.median(t["baseline"])
        rows.append((n_units, n_fac, a, b))
        checks.append((n_units, n_fac, t))
        ok = "yes" if t["same_counts"] and t["same_rates"] and not t["disagreeing_rows"] else "NO"
        print(
            f"{n_units:>7,} {n_fac:>11,} | {a:>8.2f} {t['audit'][0]:>7.2f} {b:>10.2f} "
            f"{a / b:>6.2f} {b / a:>7.2f}x | "
            f"{ma['peak_rss_mb']:>7.0f}MB {mb['peak_rss_mb']:>7.0f}MB | {ok} "
            f"(counts {t['same_counts']}, rates {t['same_rates']}, "
            f"{t['facilities_counted']:,} compared)",
            flush=True,
        )
    print(
        "\nidentical: per-unit counts per type and coverage rates of both on the rows both "
        "count alike (point in exactly one unit, type text in the catalogue, no reader error):"
    )
    for n_units, n_fac, t in checks:
        print(f"  {n_units:>7,} × {n_fac:>11,}: {_accounting(t)}")
    curve_units = max(u for u, _ in configs)
    print(
        f"\nscaling curve, {curve_units:,} units (s/M: seconds per million facilities; marginal: "
        "extra seconds per extra million since the previous size — a straight line has a "
        f"constant marginal cost, the intercept being the fixed cost of the {curve_units:,} units):"
    )
    base = [(f, a, b) for u, f, a, b in rows if u == curve_units]
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
    if gpkg:
        up, fp = gen.units_path(gpkg[0], "gpkg", data), gen.facilities_path(*gpkg, "gpkg", data)
        t = _child(["time", str(up), str(fp), str(args.runs)])
        a, b = statistics.median(t["audit"]), statistics.median(t["baseline"])
        same = [ra for u, f, ra, _ in rows if (u, f) == gpkg]
        vs = (
            f"{a / same[0]:.2f}x the GeoParquet audit ({same[0]:.2f} s; target <= 2x)"
            if same
            else "no GeoParquet run of this size to compare with"
        )
        ok = "yes" if t["same_counts"] and t["same_rates"] and not t["disagreeing_rows"] else "NO"
        print(
            f"\nGeoPackage (units and facilities .gpkg, same data), {gpkg[0]:,} units × "
            f"{gpkg[1]:,} facilities: audit {a:.2f} s (1st run {t['audit'][0]:.2f} s) = {vs}; "
            f"baseline (read_file + sjoin) {b:.2f} s; identical {ok} ({_accounting(t)})",
            flush=True,
        )
    if need_dask:
        for n_fac in args.dask_facilities:
            up = gen.units_path(args.dask_units, "parquet", data)
            fp = gen.facilities_path(args.dask_units, n_fac, "parquet", data)
            runs = {"partitioned": _child(["dask", str(up), str(fp), "partitioned"])}
            if n_fac <= args.local_max:
                runs["local"] = _child(["dask", str(up), str(fp), "local"])
            same = (
                "identical counts: "
                + ("yes" if runs["local"]["counts"] == runs["partitioned"]["counts"] else "NO")
                if "local" in runs
                else f"in-process engine not run above {args.local_max:,} rows (--local-max)"
            )
            print(f"\n{args.dask_units:,} units × {n_fac:,} facilities ({same}):", flush=True)
            for mode, d in runs.items():
                label = (
                    "--engine dask, partitions on a 2-worker LocalCluster"
                    if mode == "partitioned"
                    else "in-process engine (every row in memory)"
                )
                print(
                    f"  {label}: total {d['total_s']:.1f} s (read {d['read_s']:.1f} s, "
                    f"prepare {d['prepare_s']:.1f} s, evaluate {d['evaluate_s']:.1f} s), "
                    f"{d['rows']:,} rows, {d['used']:,} used, {d['summary_rows']:,} rows kept "
                    f"for evaluation, peak RSS {d['peak_rss_mb'] / 1024:.2f} GB",
                    flush=True,
                )
    it = _child(["interactive", str(args.runs)])
    print(
        f"\ninteractive re-evaluation ({it['source']}: {it['units']} units, "
        f"{it['facilities']:,} facilities): new date {it['new_date_ms']:.1f} ms, "
        f"new date + options {it['new_options_ms']:.1f} ms (target <= 100 ms)"
    )


if __name__ == "__main__":
    main()
