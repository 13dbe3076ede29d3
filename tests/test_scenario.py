"""Scenarios: planned sites count from their planned date; the real data never change."""

from __future__ import annotations

import json

import pandas as pd

from coverage_gis.cli import main
from coverage_gis.core.catalog import load_catalog
from coverage_gis.workflow import (
    demo_access_paths,
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
    run_audit,
    with_scenario,
)

PLAN = (
    "名称,类型,经度,纬度,计划建成时间,状态\n"
    "黎里镇区域性养老服务中心(规划),区域性养老服务中心,120.8672,31.0230,2025-06-30,规划\n"
    "塘桥镇区域性养老服务中心(规划),区域性养老服务中心,120.6916,31.7950,2027年3月,拟建\n"
)
LILI, TANGQIAO = "320509107", "320582100"


def test_planned_sites_count_from_their_planned_date(tmp_path):
    plan = tmp_path / "规划方案.csv"
    plan.write_text(PLAN, encoding="gbk")
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    before = inputs.facilities.copy()
    planned = with_scenario(inputs, plan)
    catalog = load_catalog()
    for day, closed in (
        ("2025-01-01", set()),
        ("2025-12-31", {LILI}),
        ("2027-12-31", {LILI, TANGQIAO}),
    ):
        now = run_audit(inputs, catalog, day).indicator("T2-5")
        with_plan = run_audit(planned, catalog, day).indicator("T2-5")
        assert {LILI, TANGQIAO} <= set(map(str, now.failing))
        assert set(map(str, now.failing)) - set(map(str, with_plan.failing)) == closed, day
    # the real inputs are untouched; the scenario is listed among the inputs
    pd.testing.assert_frame_equal(inputs.facilities, before)
    assert [i["role"] for i in planned.inputs][-1] == "scenario"
    assert len(planned.facilities) == len(inputs.facilities) + 2


def test_audit_scenario_writes_the_side_by_side_table(tmp_path, capsys):
    plan = tmp_path / "plan.csv"
    plan.write_text(PLAN, encoding="utf-8")
    out = tmp_path / "out"
    args = ["audit", "--demo", "--as-of", "2025-12-31", "--scenario", str(plan), "--out", str(out)]
    assert main([*args, "-q"]) == 0
    table = pd.read_csv(out / "scenario.csv", encoding="utf-8-sig", dtype={"closed": str})
    t25 = table.set_index("id").loc["T2-5"]
    assert t25["with_plan"] > t25["now"] and t25["closed"] == LILI
    assert t25["failing_with_plan"] == t25["failing_now"] - 1
    # indicators the plan does not touch are unchanged
    untouched = table[table["id"].isin(["T2-19", "A-3"])]
    assert (untouched["change"].fillna(0) == 0).all()
    assert "T2-5" in capsys.readouterr().out
    # the main outputs are the real audit's
    real = pd.read_csv(out / "indicators.csv", encoding="utf-8-sig").set_index("id")
    assert real.loc["T2-5", "value"] == t25["now"]


def test_map_with_a_scenario_shows_the_planned_sites(tmp_path):
    from tests.test_mapexport import page_data

    plan = tmp_path / "plan.csv"
    plan.write_text(PLAN, encoding="utf-8")
    out = tmp_path / "m.html"
    args = ["map", "--demo", "--as-of", "2025-12-31", "--scenario", str(plan), "--out", str(out)]
    assert main([*args, "-q", "--indicator", "T2-5"]) == 0
    data = page_data(out.read_text("utf-8"))
    assert "plan.csv" in data["title"]
    assert "黎里镇区域性养老服务中心(规划)" in json.dumps(data["facilities"], ensure_ascii=False)
    catalog = load_catalog()
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    want = run_audit(with_scenario(inputs, plan), catalog, "2025-12-31").indicator("T2-5")
    (ind,) = data["indicators"]
    # the page shows the with-plan count: one gap township more covered than today
    assert ind["fraction"].endswith(f"{want.numerator:.0f} / {want.denominator:.0f}")
    today = run_audit(inputs, catalog, "2025-12-31").indicator("T2-5")
    assert want.numerator == today.numerator + 1
