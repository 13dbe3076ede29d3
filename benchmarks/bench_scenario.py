"""Scenario benchmark: re-evaluating the audit after one added planned site, at city scale.

What the desktop app does when a planner accepts a suggestion or clicks a site onto the
map: :func:`coverage_gis.siting.scenario.evaluate_scenario` appends the planned rows to the
prepared audit (only they are matched and located; the access pairs are measured only for
the new site) and evaluates every indicator of the catalogue, access indicators included.

Timed against the path without the incremental engine: the same inputs with the planned
row appended before preparing (as ``workflow.with_scenario`` + ``run_audit``: every row
matched and located again) and the access pairs measured again for every facility (the
access cache keeps the demand, water barriers and road graph, as it does across dates,
but no pairs).

City scale: the demo city (93 townships of the real Suzhou county outlines, 1,247 facility
rows read from the raw-text xlsx, 1,420 communities with elderly counts from the GBK
census CSV, water, 20,948 road edges) as read by the real readers; ``--copies k`` adds k-1 jittered copies of every
facility row (same names, types, statuses and dates as read, points moved ≤ 300 m) for a
city with more facilities. Each run adds a different site (a new planned centre in a
different township), round-robin between the two paths, median of ``--runs``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np
import pandas as pd

from coverage_gis.core.catalog import load_catalog
from coverage_gis.siting.scenario import PlannedSite, Scenario, evaluate_scenario
from coverage_gis.workflow import (
    demo_access_paths,
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
    prepare_audit,
    run_audit,
)

TARGET_MS = 100.0
DAY = "2025-12-31"


def city(copies: int):
    """The demo inputs with ``copies`` × the facility rows (jittered copies)."""
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    if copies <= 1:
        return inputs
    rng = np.random.default_rng(7)
    base = inputs.facilities
    parts = [base]
    for k in range(1, copies):
        c = base.copy()
        c["lon"] = c["lon"] + rng.uniform(-0.003, 0.003, len(c))
        c["lat"] = c["lat"] + rng.uniform(-0.003, 0.003, len(c))
        c["source_row"] = c["source_row"] + k * 100_000
        parts.append(c)
    return dataclasses.replace(inputs, facilities=pd.concat(parts, ignore_index=True), located=None)


def _is_pairs(key: object) -> bool:
    return isinstance(key, tuple) and bool(key) and key[0] == "pairs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--copies", type=int, nargs="+", default=[1, 4])
    args = ap.parse_args()
    catalog = load_catalog()
    for copies in args.copies:
        inputs = city(copies)
        prepared = prepare_audit(inputs, catalog, allow_errors=True)
        now = prepared.evaluate(DAY)
        gaps = [str(c) for c in now.indicator("T2-5").failing]
        units = now.units.set_index("code")
        points = [units.loc[c, "geometry"].representative_point() for c in gaps]
        inc, full = [], []
        for i in range(args.runs):
            p = points[i % len(points)]
            site = PlannedSite(f"规划中心 {i}", "regional_elderly_care_center", p.x, p.y)
            plan = Scenario(f"b{i}", (site,))
            t = time.perf_counter()
            res = evaluate_scenario(prepared, plan, DAY)
            inc.append(time.perf_counter() - t)
            rows = plan.to_facilities()
            access = inputs.access
            kept = {k: v for k, v in access._cache.items() if not _is_pairs(k)}
            t = time.perf_counter()
            ref = run_audit(
                dataclasses.replace(
                    inputs,
                    facilities=pd.concat([inputs.facilities, rows], ignore_index=True),
                    located=None,
                    access=dataclasses.replace(access, _cache=kept),
                ),
                catalog,
                DAY,
                allow_errors=True,
            )
            full.append(time.perf_counter() - t)
            a = res.indicator("T2-5")
            b = ref.indicator("T2-5")
            assert (a.numerator, a.denominator) == (b.numerator, b.denominator)
            assert a.numerator == now.indicator("T2-5").numerator + 1
        mi, mf = statistics.median(inc) * 1000, statistics.median(full) * 1000
        print(
            f"facilities {len(inputs.facilities):>6,}  units {len(now.units)}  "
            f"demand {len(prepared.access.demand.lon):,}:  "
            f"one added site {mi:6.1f} ms (target ≤ {TARGET_MS:.0f})  "
            f"re-prepare {mf:7.1f} ms  ratio {mf / mi:4.1f}×  (median of {args.runs})"
        )


if __name__ == "__main__":
    main()
