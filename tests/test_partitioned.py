"""A partitioned audit (row groups one at a time, or on Dask workers) equals the in-process one.

The facility file is planner-shaped GeoParquet written by the benchmark's own generator
(text dates in several spellings, statuses, 是/否, numbers with units, rows without a
point, an uncatalogued type, township spelling variants), in row groups of 1,000 rows, so
that partitions split it and row findings of several partitions must be capped as one.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.engine import prepare
from coverage_gis.core.engine_partitioned import (
    merge_findings,
    plan_partitions,
    prepare_partitioned,
)
from coverage_gis.core.findings import Finding
from coverage_gis.io.facilities import read_facility_file
from coverage_gis.io.normalise import MAX_ROW_FINDINGS, SHOWN_ROW_FINDINGS

_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "make_national_data.py"
N_ROWS = 6_500


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("make_national_data", _BENCH)
    gen = importlib.util.module_from_spec(spec)
    sys.modules["make_national_data"] = gen
    spec.loader.exec_module(gen)
    tmp = tmp_path_factory.mktemp("partitioned")
    units = gen.make_units(30)
    fac = tmp / "facilities.parquet"
    gen.write_facilities(units, N_ROWS, [fac])
    import pyarrow.parquet as pq

    table = pq.read_table(fac)
    pq.write_table(table.replace_schema_metadata(table.schema.metadata), fac, row_group_size=1000)
    return units, fac


def _same(got, want):
    pd.testing.assert_frame_equal(got.counts_all, want.counts_all)
    pd.testing.assert_frame_equal(got.counts_qualifying, want.counts_qualifying)
    pd.testing.assert_frame_equal(got.county_counts_qualifying, want.county_counts_qualifying)
    pd.testing.assert_frame_equal(got.accounting, want.accounting)
    assert [r.to_dict() for r in got.indicators] == [r.to_dict() for r in want.indicators]


def _without_access(catalog):
    """The catalogue without its access indicators, which need every row's coordinates."""
    import dataclasses

    kept = tuple(i for i in catalog.indicators if i.kind != "access")
    return dataclasses.replace(catalog, indicators=kept)


def test_partitioned_audit_equals_the_in_process_one(files):
    units, fac_path = files
    catalog = _without_access(load_catalog())
    assert len(plan_partitions([fac_path], 2000)) == 4  # 7 row groups of 1,000 → 2+2+2+1
    frame, findings = read_facility_file(fac_path)
    want_p = prepare(units, frame, catalog, findings=findings)
    days = ("2016-12-31", "2020-06-30", "2025-12-31")
    got_p = prepare_partitioned(units, [fac_path], catalog, days, rows_per_partition=2000)
    # a summary: at most units × types × served-on-which-dates × 是否达标, whatever the rows
    assert len(got_p.facilities) < len(frame) / 2
    for day in days:
        _same(got_p.evaluate(day), want_p.evaluate(day))
    with pytest.raises(ValueError, match="prepared for 2016-12-31"):
        got_p.evaluate("2019-01-01")
    # the findings: the same problems, the same rows listed, the same counts
    key = lambda f: (f.severity, f.code, f.file, f.column, f.row, f.value, f.count)  # noqa: E731
    assert sorted(map(key, got_p.findings)) == sorted(map(key, want_p.findings))


def test_partitioned_audit_on_dask_workers(files):
    pytest.importorskip("dask_geopandas")
    from coverage_gis.core.engine_dask import dask_client, prepare_dask_files

    units, fac_path = files
    catalog = load_catalog()
    want = prepare_partitioned(units, [fac_path], catalog, "2024-06-30", rows_per_partition=2000)
    with dask_client(n_workers=2) as client:
        got = prepare_dask_files(
            units, [fac_path], catalog, "2024-06-30", client=client, rows_per_partition=2000
        )
    _same(got.evaluate("2024-06-30"), want.evaluate("2024-06-30"))


def test_merged_findings_are_capped_as_one_list():
    def rows(code, n, start):
        return [
            Finding(
                "error",
                code,
                "床位数不是数字",
                "beds is not a number",
                file="f",
                row=r,
                column="床位数",
            )
            for r in range(start, start + n)
        ]

    a = rows("bad_number", 600, 2)
    b = rows("bad_number", 600, 1000)
    merged = merge_findings([a, b])
    assert len(merged) == SHOWN_ROW_FINDINGS + 1
    assert merged[-1].count == 1200 - SHOWN_ROW_FINDINGS and merged[-1].row is None
    assert [f.row for f in merged[:3]] == [2, 3, 4]
    small = merge_findings([rows("bad_number", 10, 2), rows("bad_number", 10, 100)])
    assert len(small) == 20 <= MAX_ROW_FINDINGS
    unknown = [
        Finding(
            "warning",
            "unknown_facility_type",
            f"设施类型“食堂”不在目录中，{n} 行未计入",
            f"Facility type '食堂' is not in the catalogue; {n} row(s) not counted",
            file="f",
            column="type",
            value="食堂",
            count=n,
        )
        for n in (3, 4)
    ]
    (one,) = merge_findings([unknown[:1], unknown[1:]])
    assert one.count == 7 and "7 行未计入" in one.message_zh and "7 row(s)" in one.message_en


def test_partitioned_audit_says_access_indicators_need_the_rows(files):
    units, fac_path = files
    got = prepare_partitioned(units, [fac_path], load_catalog(), "2024-06-30").evaluate(
        "2024-06-30"
    )
    access = [r for r in got.indicators if r.indicator.kind == "access"]
    assert access and all(r.status == "no_data" and r.value is None for r in access)
    assert any(f.code == "access_needs_rows" for f in got.findings)


def test_weights_change_nothing_when_every_row_weighs_one(files):
    units, fac_path = files
    catalog = _without_access(load_catalog())
    frame, findings = read_facility_file(fac_path)
    plain = prepare(units, frame, catalog, findings=findings)
    weighted = prepare(units, frame, catalog, findings=findings)
    weighted.weight = np.ones(len(frame))
    _same(weighted.evaluate("2024-06-30"), plain.evaluate("2024-06-30"))


def test_cli_dask_engine_on_geoparquet_keeps_the_rows_on_the_workers(files, tmp_path, monkeypatch):
    pytest.importorskip("dask_geopandas")
    from coverage_gis.cli import main

    units, fac_path = files
    b = tmp_path / "units.parquet"
    units.to_parquet(b)
    args = ["audit", "-b", str(b), "-f", str(fac_path), "--as-of", "2024-06-30", "-q"]
    args += ["--allow-errors", "--format", "csv,json"]
    import threading

    from coverage_gis.io import geoparquet

    threads: list[str] = []
    real = geoparquet.read_facilities_parquet

    def spy(*a, **k):
        threads.append(threading.current_thread().name)
        return real(*a, **k)

    monkeypatch.setattr(geoparquet, "read_facilities_parquet", spy)
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    assert len(threads) == 1  # the local engine reads the whole file once
    threads.clear()
    assert main([*args, "--engine", "dask", "--out", str(tmp_path / "dask")]) == 0
    # the partitioned path reads each partition on a worker, never on the client's thread
    assert len(threads) == 1 and threading.main_thread().name not in threads
    access = {i.id for i in load_catalog().indicators if i.kind == "access"}
    for name in ("indicators.csv", "units.csv"):
        local = pd.read_csv(tmp_path / "local" / name, encoding="utf-8-sig")
        dask = pd.read_csv(tmp_path / "dask" / name, encoding="utf-8-sig")
        if name == "indicators.csv":  # access needs the rows' coordinates: no data on dask
            assert dask.loc[dask["id"].isin(access), "value"].isna().all()
            local, dask = local[~local["id"].isin(access)], dask[~dask["id"].isin(access)]
        else:
            cols = [c for c in local.columns if c.split("_")[0] not in access]
            local, dask = local[cols], dask[[c for c in cols if c in dask.columns]]
        pd.testing.assert_frame_equal(dask, local)
    import json

    local = json.loads((tmp_path / "local" / "audit.json").read_text(encoding="utf-8"))
    dask = json.loads((tmp_path / "dask" / "audit.json").read_text(encoding="utf-8"))
    assert dask["accounting"] == local["accounting"]
    plain = lambda doc: [i for i in doc["indicators"] if i["id"] not in access]  # noqa: E731
    assert plain(dask) == plain(local)
