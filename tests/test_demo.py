"""The embedded Suzhou demo: calibrated to the plan's 2020 baselines, with gaps still open."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coverage_gis.cli import main
from coverage_gis.core.catalog import load_catalog
from coverage_gis.workflow import (
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
    prepare_audit,
)


@pytest.fixture(scope="module")
def prepared():
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths())
    return prepare_audit(inputs, load_catalog())


def test_demo_boundaries_are_the_93_units_and_schematic(prepared):
    units = prepared.units
    spec = pd.read_csv(demo_boundaries_path().parent / "suzhou_units.csv", dtype=str)
    assert len(units) == 93 == len(spec)
    assert sorted(units["code"]) == sorted(spec["code"])
    assert units["county_code"].nunique() == 10
    assert (units["kind"] == "功能区").sum() == 5
    assert prepared.schematic_boundaries
    assert units.geometry.is_valid.all()


def test_2020_reproduces_the_plan_baselines(prepared):
    r = prepared.evaluate("2020-12-31")
    value = {x.indicator.id: x.value for x in r.indicators}
    assert value["T2-1"] == pytest.approx(50.0)  # plan: 50%
    assert abs(value["T2-5"] - 35) <= 100 / 88  # plan: 35%, within one unit of 88
    assert abs(value["T2-14"] - 76) <= 100 / 88  # plan: 76%
    assert abs(value["T2-6"] - 75) <= 0.5  # plan: 75% nursing-bed share
    assert r.indicator("T2-5").denominator == 88  # 93 units minus 5 功能区


def test_today_shows_progress_with_gaps_still_open(prepared):
    then, now = prepared.evaluate("2020-12-31"), prepared.evaluate("2026-11-29")
    presence = [x for x in now.indicators if x.indicator.kind == "presence"]
    for x in presence:
        assert x.value >= then.indicator(x.indicator.id).value, x.indicator.id
    not_met = [x.indicator.id for x in presence if x.met is False]
    assert len(not_met) >= len(presence) // 2
    assert now.indicator("T2-9").value == pytest.approx(100 * 72 / 88)  # 81.8% / 目标 100%
    assert now.indicator("T2-6").met is False


def test_accounting_balances_and_quirks_are_reported(prepared):
    r = prepared.evaluate("2026-11-29")
    acc = r.accounting
    assert (acc["rows_read"] == acc["rows_used"] + acc["rows_excluded"]).all()
    assert r.rows_read == len(r.facilities) > 1000
    codes = {f.code for f in r.findings}
    assert {"unknown_facility_type", "counted_by_name", "unit_name_conflict"} <= codes
    assert not r.findings.has_errors


def test_csv_and_xlsx_demo_lists_agree():
    csv_path = demo_facilities_paths()[0].with_suffix(".csv")
    a = load_inputs(demo_boundaries_path(), demo_facilities_paths())
    b = load_inputs(demo_boundaries_path(), [csv_path])
    ra = prepare_audit(a, load_catalog()).evaluate("2025-12-31")
    rb = prepare_audit(b, load_catalog()).evaluate("2025-12-31")
    assert [x.value for x in ra.indicators] == [x.value for x in rb.indicators]
    pd.testing.assert_frame_equal(ra.units_table(), rb.units_table())


def test_demo_cli_json(tmp_path, capsys):
    assert main(["audit", "--demo", "--as-of", "2020-12-31", "--json", "--out", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    t21 = next(i for i in data["indicators"] if i["id"] == "T2-1")
    assert (t21["value"], t21["numerator"], t21["denominator"]) == (50.0, 5, 10)
    assert data["boundary_note"].startswith("示意边界")
