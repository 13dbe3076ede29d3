"""Reader benchmark: ``read_facility_file`` on a planner's GBK CSV and .xlsx against pandas.

The files come from make_national_data.py (generated once into ``benchmarks/.data/``): a
200,000-row CSV in GBK as Excel on Chinese Windows saves it, and a 50,000-row .xlsx with a
title row and 坐标 merged over 经度/纬度; every value is text as planners write it (dates in
several spellings, 是否达标 variants, beds with units, a few bad values). In one process, for
each file, ``coverage_gis.io.facilities.read_facility_file`` (header detection, column
recognition, parsing of every field, findings) and the pandas baseline on the same file
(``pandas.read_csv(encoding="gb18030")``; ``pandas.read_excel(engine="calamine",
header=None)``: cells only, no header detection or parsing) run alternately; the table gives
the median of 5 runs each, the first run of ``read_facility_file`` (cold imports), the ratio
and the target beside (CSV <= 1.5 s, xlsx <= 2 s), with the load average before and after.
Exit status 1 when a reader fails, not when a target is missed (the machine is shared).

    python benchmarks/bench_readers.py
    python benchmarks/bench_readers.py --csv-rows 20000 --xlsx-rows 5000 --runs 1 --data /tmp/d
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_national_data as gen  # noqa: E402

RUNS = 5
#: Median seconds of ``read_facility_file`` to aim for, per format.
TARGETS = {"csv": 1.5, "xlsx": 2.0}


def _read_ours(path: Path) -> tuple[int, collections.Counter[str]]:
    """Rows read and findings by code of ``read_facility_file``."""
    from coverage_gis.io.facilities import read_facility_file

    frame, findings = read_facility_file(path)
    return len(frame), collections.Counter(f.code for f in findings)


def _read_pandas(path: Path) -> int:
    """Rows read by the plain pandas call on the same file."""
    import pandas as pd

    if path.suffix == ".csv":
        return len(pd.read_csv(path, encoding="gb18030"))
    return len(pd.read_excel(path, engine="calamine", header=None))


def _timed(fn: Callable[[Path], Any], path: Path) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(path)
    return time.perf_counter() - t0, out


def bench(path: Path, runs: int) -> dict[str, Any]:
    """Times of both readers on one file (alternating, same process) and what ours found."""
    ours: list[float] = []
    theirs: list[float] = []
    rows = 0
    codes: collections.Counter[str] = collections.Counter()
    for _ in range(runs):
        t, (rows, codes) = _timed(_read_ours, path)
        ours.append(t)
        t, _ = _timed(_read_pandas, path)
        theirs.append(t)
    return {"ours": ours, "pandas": theirs, "rows": rows, "findings": codes}


def main(argv: list[str] | None = None) -> int:
    """Generate the files if needed, run the benchmark and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=RUNS)
    ap.add_argument("--csv-rows", type=int, default=200_000)
    ap.add_argument("--xlsx-rows", type=int, default=50_000)
    ap.add_argument("--units", type=int, default=4000, help="unit set the rows are placed in")
    ap.add_argument("--data", type=Path, default=gen.DATA_DIR, help="data directory")
    args = ap.parse_args(argv)
    gen.main(
        [
            "--units",
            "--facilities",
            "--reader-units",
            str(args.units),
            "--csv-rows",
            str(args.csv_rows),
            "--xlsx-rows",
            str(args.xlsx_rows),
            "--out",
            str(args.data),
        ]
    )
    files = [
        ("csv", "GBK CSV", gen.facilities_path(args.units, args.csv_rows, "csv", args.data)),
        ("xlsx", ".xlsx", gen.facilities_path(args.units, args.xlsx_rows, "xlsx", args.data)),
    ]
    load_before = os.getloadavg()
    print(
        f"\ncoverage-gis reader benchmark — {os.cpu_count()} cores, load average "
        f"{load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f} (1/5/15 min), "
        f"median of {args.runs} runs, same process\n"
    )
    head = (
        f"{'file':<8} {'rows':>8} | {'ours s':>7} {'1st run':>7} {'pandas s':>8} {'ratio':>6} | "
        f"{'target':>8} {'met':>3} | findings of read_facility_file"
    )
    print(head)
    print("-" * len(head))
    failed = False
    for fmt, label, path in files:
        try:
            r = bench(path, args.runs)
        except Exception as exc:  # the reader under test may fail; report and go on
            failed = True
            print(f"{label:<8} {'':>8} | read failed: {type(exc).__name__}: {exc}", flush=True)
            continue
        a, b = statistics.median(r["ours"]), statistics.median(r["pandas"])
        target = TARGETS[fmt]
        found = ", ".join(f"{c} {k:,}" for c, k in r["findings"].most_common())
        print(
            f"{label:<8} {r['rows']:>8,} | {a:>7.2f} {r['ours'][0]:>7.2f} {b:>8.2f} {a / b:>6.2f} | "
            f"{f'<= {target:.1f} s':>8} {'yes' if a <= target else 'no':>3} | {found or 'none'}",
            flush=True,
        )
    load_after = os.getloadavg()
    print(
        f"\nours: coverage_gis.io.facilities.read_facility_file; pandas: read_csv(encoding="
        f"'gb18030') / read_excel(engine='calamine', header=None). Load average after "
        f"{load_after[0]:.2f}; other processes on the same cores inflate every number."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
