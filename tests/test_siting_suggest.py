"""Suggested sites on the demo close the gaps they claim (re-audit with them added)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import shapely

from coverage_gis.cli import main
from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.errors import InputError
from coverage_gis.siting.suggest import suggest_sites
from coverage_gis.workflow import (
    demo_access_paths,
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
    run_audit,
)

DAY = "2026-11-29"


@pytest.fixture(scope="module")
def demo():
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    return inputs, run_audit(inputs, load_catalog(), DAY)


def _with_sites(inputs, result, table: pd.DataFrame, type_code: str):
    """The inputs plus one in-service facility of ``type_code`` at each suggested site."""
    fac = inputs.facilities
    template = fac[(result.facilities["type_code"] == type_code).to_numpy()].iloc[[0]]
    new = pd.concat([template] * len(table), ignore_index=True)
    new["name"] = [f"规划{s}站" for s in table["site"]]
    new["lon"], new["lat"] = table["lon"].to_numpy(), table["lat"].to_numpy()
    new["unit_name"] = table["unit"].to_numpy()
    new["source_file"] = "planned.csv"
    new["source_row"] = range(2, len(table) + 2)
    both = pd.concat([fac, new], ignore_index=True)
    return dataclasses.replace(inputs, facilities=both, located=None)


def test_presence_sites_close_every_gap_they_claim(demo):
    inputs, result = demo
    before = set(map(str, result.indicator("T2-5").failing))
    s = suggest_sites(inputs, result, "T2-5")
    assert set(s.table["closes"]) <= before and len(s.table) == len(set(s.table["closes"]))
    # each site lies in the township it closes, and reaches its stated residents
    assert (s.table["closes"] == s.table["unit_code"]).all()
    again = run_audit(
        _with_sites(inputs, result, s.table, "regional_elderly_care_center"), load_catalog(), DAY
    )
    after = set(map(str, again.indicator("T2-5").failing))
    assert after == before - set(s.table["closes"])
    assert again.indicator("T2-5").value > result.indicator("T2-5").value
    # the real data are untouched
    assert len(inputs.facilities) == result.rows_read


def test_covering_sites_add_exactly_the_residents_they_claim(demo):
    inputs, result = demo
    s = suggest_sites(inputs, result, "A-2", n_new=4)
    assert s.model == "mclp" and "optimal" in s.result.status
    assert list(s.table["rank"]) == [1, 2, 3, 4]
    assert s.table["gain"].is_monotonic_decreasing
    types = result.indicator("A-2").indicator.facility_types
    again = run_audit(_with_sites(inputs, result, s.table, types[0]), load_catalog(), DAY)
    added = again.indicator("A-2").numerator - result.indicator("A-2").numerator
    assert added == pytest.approx(s.table["gain"].sum())
    assert added == pytest.approx(s.result.objective)


def test_more_sites_never_cover_fewer(demo):
    inputs, result = demo
    gains = [suggest_sites(inputs, result, "A-2", n_new=n).result.objective for n in (1, 3, 6)]
    assert gains == sorted(gains) and gains[0] > 0


def test_indicators_without_a_site_model_are_refused(demo):
    inputs, result = demo
    with pytest.raises(InputError, match="T2-1"):
        suggest_sites(inputs, result, "T2-1")  # county level
    with pytest.raises(InputError, match="T2-1"):
        suggest_sites(inputs, result, "T2-1", model="capacitated_mclp")


def test_site_command_writes_tables_with_solver_details(tmp_path):
    out = tmp_path / "s"
    args = ["site", "--demo", "--as-of", DAY, "--indicator", "T2-5", "--indicator", "A-2"]
    assert main([*args, "--new", "3", "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert set(table["indicator"]) == {"T2-5", "A-2"}
    doc = json.loads((out / "sites.json").read_text(encoding="utf-8"))
    for run in doc["runs"]:
        assert run["status"] and run["objective"] > 0 and run["wall_time_s"] >= 0
    assert main([*args[:4], "--indicator", "T2-1", "--out", str(out), "-q"]) == 2


def test_a_planners_candidate_file_is_read_and_bad_sites_refused(tmp_path, demo):
    _inputs, result = demo
    cands = tmp_path / "候选点位.csv"
    cands.write_text(
        "名称,类型,经度,纬度\n"
        "东桥村活动中心,综合养老服务中心,120.8672,31.0230\n"  # in 黎里镇, a T2-5 gap
        "湖心点,综合养老服务中心,120.25,31.20\n"  # in 太湖
        "省外点,综合养老服务中心,118.0,30.0\n"  # outside every unit
        "塘桥镇社区中心,综合养老服务中心,120.6916,31.7950\n",  # in 塘桥镇, a gap
        encoding="gbk",
    )
    out = tmp_path / "s"
    args = ["site", "--demo", "--as-of", DAY, "--indicator", "T2-5", "--candidates", str(cands)]
    assert main([*args, "--out", str(out), "-q"]) == 0
    (run,) = json.loads((out / "sites.json").read_text(encoding="utf-8"))["runs"]
    assert [s["site"] for s in run["sites"]] == ["东桥村活动中心", "塘桥镇社区中心"]
    refused = {(f["code"], f["row"]) for f in run["findings"]}
    assert refused == {("candidate_in_water", 3), ("candidate_outside_units", 4)}
    gaps = set(map(str, result.indicator("T2-5").failing))
    closed = {s["closes"] for s in run["sites"]}
    assert set(run["gaps_without_candidate"]) == gaps - closed


def test_site_workbook_reads_back_with_every_site_and_run(tmp_path, demo):
    import openpyxl

    out = tmp_path / "s"
    args = ["site", "--demo", "--as-of", DAY, "--indicator", "T2-5", "--indicator", "A-2"]
    assert main([*args, "--new", "3", "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    wb = openpyxl.load_workbook(out / "sites.xlsx")
    assert wb.sheetnames == ["选址建议", "求解信息"]
    rows = list(wb["选址建议"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(table)
    assert [r[2] for r in rows] == table["site"].tolist()
    assert [r[5] for r in rows] == pytest.approx(table["gain"].tolist())
    # presence rows name the gap they close; covering rows do not
    closes = {r[0]: bool(r[7]) for r in rows}
    assert closes == {"T2-5": True, "A-2": False}
    runs = list(wb["求解信息"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in runs] == ["T2-5", "A-2"] and all(r[4] for r in runs)


def test_lscp_brings_every_coverable_resident_within_reach(demo):
    inputs, result = demo
    s = suggest_sites(inputs, result, "A-2", model="lscp")
    assert s.model == "lscp" and "optimal" in s.result.status
    assert s.result.objective == len(s.table) > 0
    ind = result.indicator("A-2")
    types = ind.indicator.facility_types
    again = run_audit(_with_sites(inputs, result, s.table, types[0]), load_catalog(), DAY)
    got = again.indicator("A-2")
    # everything a candidate can reach is now reached: only the uncoverable stay out
    assert got.numerator == pytest.approx(got.denominator - s.result.uncoverable_weight)
    assert got.numerator - ind.numerator == pytest.approx(s.table["gain"].sum())
    # one site fewer would leave someone coverable out: MCLP with n-1 sites covers less
    fewer = suggest_sites(inputs, result, "A-2", n_new=len(s.table) - 1)
    assert fewer.result.objective < s.table["gain"].sum() - 1e-6


def test_p_median_sites_shorten_the_distance_and_are_deterministic(demo):
    inputs, result = demo
    a = suggest_sites(inputs, result, "A-2", model="p_median", n_new=3)
    b = suggest_sites(inputs, result, "A-2", model="p_median", n_new=3)
    assert a.model == "p_median" and len(a.table) == 3
    pd.testing.assert_frame_equal(a.table, b.table)
    assert all(g > 0 for g in a.result.gain)  # each site saves distance
    types = result.indicator("A-2").indicator.facility_types
    again = run_audit(_with_sites(inputs, result, a.table, types[0]), load_catalog(), DAY)
    added = again.indicator("A-2").numerator - result.indicator("A-2").numerator
    assert added == pytest.approx(a.table["gain"].sum())
    # the objective is the re-audit's total distance: within the reach as measured,
    # beyond it the stated penalty, over the residents the indicator counts
    pts = again.indicator("A-2").access.points
    units = again.units.set_index("code")
    counted = pts["unit_code"].map(units["counted"]).fillna(False).to_numpy(dtype=bool)
    d = pts["nearest_m"].to_numpy(dtype=float)
    limit = result.indicator("A-2").indicator.access.threshold_m
    dist = np.where(d <= limit, d, a.result.penalty_m)
    w = np.where(counted, pts["weight"].to_numpy(dtype=float), 0.0)
    assert float((w * dist).sum()) == pytest.approx(a.result.objective, rel=1e-9)


def test_a_model_for_a_presence_indicator_or_an_unknown_model_is_refused(demo):
    inputs, result = demo
    with pytest.raises(InputError) as e:
        suggest_sites(inputs, result, "T2-5", model="lscp")
    assert e.value.column == "--model"
    with pytest.raises(InputError) as e:
        suggest_sites(inputs, result, "A-2", model="pmedian")
    assert e.value.value == "pmedian"


def test_site_command_takes_the_model(tmp_path):
    import json

    out = tmp_path / "o"
    args = ["site", "--demo", "--as-of", DAY, "--indicator", "A-2", "--model", "lscp"]
    assert main([*args, "--no-map", "--out", str(out), "-q"]) == 0
    run = json.loads((out / "sites.json").read_text("utf-8"))["runs"][0]
    assert run["model"] == "lscp" and run["objective"] == len(run["sites"])
    assert main(["site", "--demo", "--indicator", "T2-5", "--model", "lscp", "-q"]) != 0


def test_capacity_sites_for_beds_serve_at_most_their_beds(demo):
    inputs, result = demo
    s = suggest_sites(inputs, result, "A-4", n_new=3, capacity=200.0)
    assert s.model == "capacitated_mclp" and s.result.status == "optimal"
    ind = result.indicator("A-4").indicator
    per_site = 200.0 / (ind.target / ind.scale)  # elderly whose bed need 200 beds meet
    assert len(s.table) == 3
    assert (s.table["gain"] <= per_site + 1e-6).all() and (s.table["gain"] > 0).all()
    assert s.result.objective == pytest.approx(s.result.covered_after - s.result.covered_before)
    assert s.result.objective <= s.table["gain"].sum() + 1e-6
    again = suggest_sites(inputs, result, "A-4", n_new=3, capacity=200.0)
    pd.testing.assert_frame_equal(s.table, again.table)
    # the sites, built with their beds, raise the indicator (beds per 1,000 elderly)
    with_beds = _with_sites(inputs, result, s.table, ind.facility_types[0])
    n = len(s.table)
    with_beds.facilities.loc[with_beds.facilities.index[-n:], "beds"] = 200.0
    after = run_audit(with_beds, load_catalog(), DAY).indicator("A-4")
    assert after.value > result.indicator("A-4").value
    # a model the indicator does not take is refused
    with pytest.raises(InputError):
        suggest_sites(inputs, result, "A-4", model="mclp")
    with pytest.raises(InputError):
        suggest_sites(inputs, result, "A-2", model="capacitated_mclp")


def test_township_points_as_candidates(demo):
    """Without a planner's file and instead of the communities: one point surely inside
    each 镇(街道), off the water; a presence gap gets its own township's point."""
    inputs, result = demo
    s = suggest_sites(inputs, result, "T2-5", candidate_source="townships")
    failing = set(map(str, result.indicator("T2-5").failing))
    assert set(s.table["closes"]) == failing - set(s.gaps_without_candidate)
    assert (s.table["unit_code"] == s.table["closes"]).all()
    assert s.table["site"].str.endswith("（镇街中心点）").all()
    units = result.units.set_index("code")
    for row in s.table.itertuples():
        assert units.loc[row.unit_code, "geometry"].covers(shapely.Point(row.lon, row.lat))
    a2 = suggest_sites(inputs, result, "A-2", n_new=3, candidate_source="townships")
    assert len(a2.table) == 3 and a2.result.objective > 0
    with pytest.raises(InputError):
        suggest_sites(inputs, result, "T2-5", candidate_source="roads")
