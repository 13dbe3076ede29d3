"""Access indicators end to end on the embedded demo: CLI, tables, map payload, water gaps."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from coverage_gis.cli import main
from coverage_gis.core.catalog import load_catalog
from coverage_gis.mapexport._data import map_payload
from coverage_gis.workflow import (
    demo_access_paths,
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
    run_audit,
)

DAY = "2026-11-29"
ACCESS_IDS = ["A-1", "A-2", "A-3", "A-4"]


@pytest.fixture(scope="module")
def demo_result():
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    return run_audit(inputs, load_catalog(), DAY)


def test_access_command_writes_every_catalogue_access_indicator(tmp_path, capsys):
    out = tmp_path / "acc"
    assert main(["access", "--demo", "--as-of", DAY, "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "access.csv", encoding="utf-8-sig", dtype={"code": str})
    assert sorted(table["indicator"].unique()) == ACCESS_IDS
    assert (table.groupby("indicator").size() == 93).all()  # every township, every indicator
    share = table.loc[table["indicator"] != "A-4", "share"].dropna()
    assert ((share >= 0) & (share <= 100)).all()
    assert (table["served"] <= table["demand"] + 1e-6).all()
    assert np.allclose(table["served"] + table["unserved"], table["demand"])
    data = json.loads((out / "access.json").read_text(encoding="utf-8"))
    assert [i["id"] for i in data["indicators"]] == ACCESS_IDS
    assert "A-1" in capsys.readouterr().out


def test_roads_never_serve_more_than_the_straight_line(demo_result):
    # 15 min at 4 km/h along roads = 1,000 m; A-2: 1,000 m straight; same facilities
    along = demo_result.indicator("A-1").access.by_unit.set_index("code")
    straight = demo_result.indicator("A-2").access.by_unit.set_index("code")
    assert np.all(along["served"] <= straight.loc[along.index, "served"] + 1e-6)
    assert demo_result.indicator("A-1").value < demo_result.indicator("A-2").value
    assert np.allclose(along["demand"], straight.loc[along.index, "demand"])


def test_water_never_serves_more_than_the_straight_line(tmp_path, demo_result):
    out = tmp_path / "adhoc"
    args = ["access", "--demo", "--as-of", DAY, "--out", str(out), "-q"]
    args += ["--types", "mental_rehab_station", "--mode", "euclidean", "--threshold", "3000"]
    args += ["--population-field", "population"]
    assert main(args) == 0
    data = json.loads((out / "access.json").read_text(encoding="utf-8"))
    (adhoc,) = data["indicators"]
    barrier = demo_result.indicator("A-3")  # the same reach, round the water
    assert adhoc["denominator"] == pytest.approx(barrier.denominator)
    assert adhoc["numerator"] >= barrier.numerator
    assert adhoc["numerator"] > barrier.numerator  # the lakes cut some residents off


def test_beds_within_reach_share_out_the_beds(demo_result):
    r = demo_result.indicator("A-4")
    assert r.status == "computed" and r.value > 0
    detail = r.access
    by = detail.by_unit
    ok = by["counted"] & (by["demand"] > 0)
    # the city value is the demand-weighted mean of the townships' accessibility
    mean = float(
        np.sum(by.loc[ok, "accessibility"] * by.loc[ok, "demand"]) / by.loc[ok, "demand"].sum()
    )
    assert r.value == pytest.approx(mean, rel=1e-6)


def test_map_payload_carries_demand_points_and_catchments(demo_result):
    payload = map_payload(demo_result)
    layers = payload["access"]
    assert len(layers) == 4
    for layer in layers:
        pts = layer["points"]
        assert len(pts["x"]) == len(pts["y"]) == len(pts["b"]) > 0
        feats = layer["catchments"]["features"]
        assert feats and all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in feats)


def test_facilities_without_a_name_are_blank_on_the_map_not_nan():
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    inputs.facilities["name"] = inputs.facilities["name"].where(
        inputs.facilities.index % 2 == 0, None
    )
    result = run_audit(inputs, load_catalog(), DAY)
    names = [
        f["properties"]["name"]
        for layer in map_payload(result)["access"]
        for f in layer["catchments"]["features"]
    ]
    assert "" in names and "nan" not in names and "None" not in names
    assert any(n for n in names)  # the named half keeps its names
    named = set(inputs.facilities["name"].dropna())
    for ir in result.indicators:
        if ir.access is not None:  # a unit's nearest facility: a name from the table, or none
            assert set(ir.access.by_unit["nearest_facility"].dropna()) <= named


def test_the_lake_between_townships_is_a_note_not_a_gap_warning(demo_result):
    codes = [(f.severity, f.code) for f in demo_result.findings]
    assert ("info", "units_gap_water") in codes
    assert ("warning", "units_gap") not in codes
    note = next(f for f in demo_result.findings if f.code == "units_gap_water")
    assert "阳澄湖" in note.message_zh
