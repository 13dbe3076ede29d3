"""The Excel workbook: every number read back and checked against the AuditResult."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from coverage_gis import __version__
from coverage_gis.cli import main
from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.engine import audit
from coverage_gis.core.results import MANUAL_PENDING_ZH, AuditOptions, AuditResult
from coverage_gis.core.rules import EXCLUSION_REASONS
from coverage_gis.export.charts import default_chart_indicators
from coverage_gis.export.workbook import (
    BOUNDARY_NOTE,
    MET_TEXT,
    SHEET_NAMES,
    percent_format,
    write_workbook,
)
from coverage_gis.workflow import (
    demo_access_paths,
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
    run_audit,
)
from tests.conftest import fac_rows, make_units

# the 功能区 gets the smallest code of its county, so that "功能区 last" is not code order
A, B, F, C, D = "320501001", "320501002", "320501000", "320502101", "320502102"
SHA = "ab" * 32


def small_result(*, schematic: bool = True, manual: dict[str, float] | None = None) -> AuditResult:
    """Five hand-made units, facilities that exercise every outcome."""
    units = make_units()
    units["schematic"] = schematic
    units.loc[units["kind"] == "功能区", "code"] = F
    fac = fac_rows(
        {"name": "甲山骨灰堂", "type_raw": "骨灰堂", "lon": 120.05, "lat": 31.05},
        {"name": "戊港骨灰堂", "type_raw": "公益性骨灰安放设施", "unit_name": "戊港镇"},
        {"name": '=HYPERLINK("http://x")', "type_raw": "骨灰堂", "lon": 120.02, "lat": 31.12},
        {"name": "丙湖骨灰堂", "type_raw": "骨灰堂", "lon": 120.25, "lat": 31.05},  # 功能区
        {
            "name": "甲山驿站",
            "type_raw": "康复驿站",
            "lon": 120.05,
            "lat": 31.02,
            "meets_standard": True,
        },
        {
            "name": "乙水驿站",
            "type_raw": "康复驿站",
            "lon": 120.15,
            "lat": 31.02,
            "meets_standard": False,
        },
        {"name": "甲山养老", "type_raw": "综合养老服务中心", "lon": 120.06, "lat": 31.06},
        {
            "name": "乙水养老(在建)",
            "type_raw": "综合养老服务中心",
            "lon": 120.12,
            "lat": 31.02,
            "status": "在建",
        },
        {
            "name": "丁桥养老(停用)",
            "type_raw": "综合养老服务中心",
            "lon": 120.05,
            "lat": 31.15,
            "status": "停用",
            "closed": "2024-06-01",
        },
        {
            "name": "戊港养老(新)",
            "type_raw": "综合养老服务中心",
            "lon": 120.15,
            "lat": 31.15,
            "opened": "2025-06-01",
        },
        {"name": "甲区救助中心", "type_raw": "社会救助中心", "county_name": "甲区"},
        {
            "name": "养老院",
            "type_raw": "养老机构",
            "lon": 120.05,
            "lat": 31.05,
            "beds": 300,
            "nursing_beds": 200,
        },
        {
            "name": "养老院2",
            "type_raw": "养老机构",
            "lon": 120.15,
            "lat": 31.15,
            "beds": 100,
            "nursing_beds": 90,
        },
        {"name": "老年食堂", "type_raw": "老年食堂", "lon": 120.05, "lat": 31.05},
        {"name": "无处", "type_raw": "骨灰堂"},
        {"name": "湖中", "type_raw": "骨灰堂", "lon": 120.15, "lat": 31.05},  # hole of B
        {"name": "坏行", "type_raw": "骨灰堂", "row_error": "经度无法解析"},
    )
    inputs = [
        {"role": "boundaries", "path": "/data/units.geojson", "sha256": SHA, "rows": len(units)},
        {
            "role": "facilities",
            "path": "t.csv",
            "sha256": "cd" * 32,
            "rows": len(fac),
            "crs": "wgs84",
        },
    ]
    return audit(
        units,
        fac,
        load_catalog(),
        "2025-01-01",
        AuditOptions(manual_values=manual or {}),
        inputs=inputs,
    )


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return small_result(manual={"T2-11": 100.0})


@pytest.fixture(scope="module")
def book(result: AuditResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(result, tmp_path_factory.mktemp("xlsx") / "report.xlsx")


def rows_of(ws) -> list[dict[str, object]]:
    values = list(ws.iter_rows(values_only=True))
    header = values[0]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def close(a: object, b: float | None) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None or a == "—"
    return isinstance(a, (int, float)) and math.isclose(
        float(a), float(b), rel_tol=1e-9, abs_tol=1e-9
    )


def check_workbook(path: Path, result: AuditResult) -> dict[str, int]:
    """Check every sheet against the result; return the data-row count of each sheet."""
    wb = openpyxl.load_workbook(path)
    assert tuple(wb.sheetnames) == SHEET_NAMES

    # print setup, frozen header, filters on every sheet
    for ws in wb:
        ps = ws.page_setup
        assert ps.orientation == "landscape", ws.title
        assert int(ps.paperSize) == 9, ws.title  # A4
        assert int(ps.fitToWidth) == 1 and int(ps.fitToHeight) == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), ws.title
        if ws.title != "说明":
            assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
            assert all(ws.cell(1, c).value for c in range(1, ws.max_column + 1)), ws.title
    counts = {ws.title: ws.max_row - 1 for ws in wb}

    # 指标汇总: binding first, every number equal to the result
    ws = wb["指标汇总"]
    rows = rows_of(ws)
    assert len(rows) == len(result.indicators)
    ids = [row["编号 id"] for row in rows]
    binding = [r.indicator.id for r in result.indicators if r.indicator.binding]
    assert ids[: len(binding)] == binding
    assert sorted(ids) == sorted(r.indicator.id for r in result.indicators)
    for i, row in enumerate(rows, start=2):
        r = result.indicator(str(row["编号 id"]))
        ind = r.indicator
        assert row["指标名称 indicator"] == ind.name_zh
        assert row["属性 type"] == ("约束性" if ind.binding else "预期性")
        assert row["2025年目标值 target"] == ind.target
        assert close(row["2020年基准值 baseline"], ind.baseline)
        if r.status == "manual_missing":
            assert row["当前值 value"] == MANUAL_PENDING_ZH
            assert row["是否达标 met"] == MET_TEXT["manual_missing"]
        elif r.status == "no_data":  # e.g. a network access indicator with no roads given
            assert row["当前值 value"] == "无数据", ind.id
            assert row["是否达标 met"] == MET_TEXT["no_data"]
        else:
            assert close(row["当前值 value"], r.value), ind.id
            assert close(row["差距 gap"], r.gap), ind.id
            assert close(row["分子 numerator"], r.numerator), ind.id
            assert close(row["分母 denominator"], r.denominator), ind.id
            text = MET_TEXT[r.met] if r.met is not None else MET_TEXT["no_data"]
            assert row["是否达标 met"] == text, ind.id
            if r.met is not None:  # colour as well as text
                fill = ws.cell(i, 9).fill.fgColor.rgb
                assert fill.endswith("C6EFCE" if r.met else "FFC7CE"), ind.id
        if ind.kind != "manual":
            assert row["未达标单位数 failing units"] == len(r.failing)
        if ind.unit == "%":
            assert ws.cell(i, 5).number_format == percent_format(ind.operator)
            if isinstance(row["当前值 value"], float):
                assert ws.cell(i, 6).number_format == percent_format()

    # 镇街矩阵: one row per unit, counts and ✓/✗ from the result
    rows = rows_of(wb["镇街矩阵"])
    assert len(rows) == len(result.units)
    assert sorted(row["镇(街道)代码 code"] for row in rows) == sorted(result.units["code"])
    county_order = list(result.counties["county_code"])
    seen = [county_order.index(row["区县代码 county code"]) for row in rows]
    assert seen == sorted(seen)  # grouped by county, in county order
    kinds = result.units.set_index("code")["kind"]
    for county in county_order:
        fz = [
            kinds[row["镇(街道)代码 code"]] == "功能区"
            for row in rows
            if row["区县代码 county code"] == county
        ]
        assert fz == sorted(fz)  # 功能区 last
    names = {ft.code: f"{ft.name_zh}（个）" for ft in result.catalog.facility_types}
    township = [
        r
        for r in result.indicators
        if r.indicator.kind == "presence" and r.indicator.level == "township"
    ]
    for row in rows:
        code = row["镇(街道)代码 code"]
        assert row["计入分母 counted"] == (
            "是" if result.units.set_index("code").loc[code, "counted"] else "否"
        )
        for t, header in names.items():
            assert row[header] == result.counts_qualifying.loc[code, t], (code, t)
        gaps = 0
        for r in township:
            mark = row[f"{r.indicator.id} ✓/✗"]
            assert mark in ("✓", "✗")
            gaps += mark == "✗"
            if row["计入分母 counted"] == "是":
                assert (mark == "✗") == (code in r.failing), (code, r.indicator.id)
        assert row["未覆盖项数 gaps"] == gaps

    # 缺口清单: exactly the failing units/counties of every indicator
    rows = rows_of(wb["缺口清单"])
    got = sorted((str(row["代码 code"]), str(row["指标编号 id"])) for row in rows)
    want = sorted((str(c), r.indicator.id) for r in result.indicators for c in r.failing)
    assert got == want
    seen = [county_order.index(row["区县代码 county code"]) for row in rows]
    assert seen == sorted(seen)  # per county

    # 县级汇总: every county roll-up, then the 全市合计 row
    rows = rows_of(wb["县级汇总"])
    with_rollup = [r for r in result.indicators if r.by_county is not None]
    assert len(rows) == sum(len(r.by_county) + 1 for r in with_rollup)
    for row in rows:
        r = result.indicator(str(row["指标编号 id"]))
        if row["区县 county"] == "全市合计":
            assert close(row["当前值 value"], r.value)
            assert close(row["分子 numerator"], r.numerator)
            assert close(row["分母 denominator"], r.denominator)
            met = r.met
        else:
            by = r.by_county.set_index("county_code").loc[row["区县代码 county code"]]
            assert close(row["分子 numerator"], float(by["numerator"]))
            assert close(row["分母 denominator"], float(by["denominator"]))
            assert close(row["当前值 value"], float(by["value"]))
            if "count" in by:
                assert row["设施数 facilities"] == by["count"]
            met = None if pd.isna(by["met"]) else bool(by["met"])
        assert row["是否达标 met"] == (MET_TEXT[met] if met is not None else MET_TEXT["no_data"])
        assert row["目标值 target"] == r.indicator.target

    # 设施明细: every row read, accounting balances
    rows = rows_of(wb["设施明细"])
    assert len(rows) == result.rows_read == len(result.facilities)
    outcome = pd.Series([row["计入/排除 counted"] for row in rows])
    acc = result.accounting
    assert (outcome == "计入").sum() == acc["rows_used"].sum()
    assert (outcome == "排除").sum() == acc["rows_excluded"].sum()
    assert len(outcome) == (outcome == "计入").sum() + (outcome == "排除").sum()
    reasons = pd.Series([row["排除原因 reason excluded"] or "" for row in rows])
    for key, (label, _) in EXCLUSION_REASONS.items():
        assert reasons.str.startswith(label).sum() == acc[key].sum(), key
    fac = result.facilities
    for row, rec in zip(rows, fac.to_dict(orient="records"), strict=True):
        assert row["行号 row"] == rec["source_row"]
        assert row["来源文件 file"] == Path(rec["source_file"]).name
        assert row["设施名称 name"] == rec["name"]
        assert row["归属镇(街道)代码 unit code"] == rec["unit_code"]
        assert row["评估日在役 in service"] == (
            ("是" if rec["in_service"] else "否") if rec["used"] else None
        )

    # 数据问题 and 说明
    assert counts["数据问题"] == len(result.findings)
    notes = [v for row in wb["说明"].iter_rows(values_only=True) for v in row if v is not None]
    text = "\n".join(str(v) for v in notes)
    assert result.as_of.isoformat() in text or any(
        getattr(v, "date", lambda: None)() == result.as_of for v in notes
    )
    for inp in result.inputs:
        assert inp["sha256"] in notes and inp["path"] in notes
    assert result.catalog.version in notes and result.catalog.name_zh in text
    assert f"coverage-gis {__version__}" in notes
    assert (BOUNDARY_NOTE in notes) == result.schematic_boundaries
    return counts


def test_workbook_matches_the_result(book, result):
    counts = check_workbook(book, result)
    assert counts["设施明细"] == 17


def test_small_workbook_known_values(book, result):
    """Hand-checked answers, independent of the report code."""
    wb = openpyxl.load_workbook(book)
    ind = {row["编号 id"]: row for row in rows_of(wb["指标汇总"])}
    # ashes: A (point), D (by name), C (point) of 4 counted units → 75 %; F is 功能区
    assert ind["T2-19"]["当前值 value"] == pytest.approx(75.0)
    assert ind["T2-19"]["是否达标 met"] == "✗ 未达标"
    assert ind["T2-11"]["当前值 value"] == 100.0 and ind["T2-11"]["是否达标 met"] == "✓ 达标"
    assert ind["T2-2"]["当前值 value"] == "需人工填报"
    matrix = {row["镇(街道)代码 code"]: row for row in rows_of(wb["镇街矩阵"])}
    assert matrix[F]["T2-19 ✓/✗"] == "✓" and matrix[F]["计入分母 counted"] == "否"
    assert matrix[B]["T2-19 ✓/✗"] == "✗"
    assert matrix[B]["精神障碍社区康复驿站（个）"] == 1 and matrix[B]["T2-9 ✓/✗"] == "✗"  # not 达标
    assert matrix[A]["T2-4 ✓/✗"] == "✓" and matrix[C]["T2-4 ✓/✗"] == "✗"  # closed 2024
    assert matrix[D]["T2-4 ✓/✗"] == "✗"  # opens after the date
    gaps = rows_of(wb["缺口清单"])
    b_rehab = next(g for g in gaps if g["代码 code"] == B and g["指标编号 id"] == "T2-9")
    assert "达标" in b_rehab["缺项 missing"] and b_rehab["现有该类设施 in service"] == 1
    assert b_rehab["其中符合条件 qualifying"] == 0
    detail = {row["设施名称 name"]: row for row in rows_of(wb["设施明细"])}
    assert detail["老年食堂"]["排除原因 reason excluded"] == EXCLUSION_REASONS["unknown_type"][0]
    assert detail["无处"]["排除原因 reason excluded"] == EXCLUSION_REASONS["no_location"][0]
    assert detail["湖中"]["排除原因 reason excluded"].startswith(
        EXCLUSION_REASONS["outside_units"][0]
    )
    assert detail["坏行"]["排除原因 reason excluded"] == "行数据有错误：经度无法解析"
    assert detail["乙水养老(在建)"]["未在役原因 why not in service"].startswith("尚未建成")
    assert detail["丁桥养老(停用)"]["未在役原因 why not in service"] == "评估日期前已停用"
    assert detail["戊港养老(新)"]["未在役原因 why not in service"] == "建成时间晚于评估日期"
    assert detail["甲区救助中心"]["归属方式 method"] == "仅按所属区县名称"
    assert detail["戊港骨灰堂"]["归属镇(街道) unit"] == "戊港镇"


def test_text_from_the_data_is_never_a_formula(book):
    ws = openpyxl.load_workbook(book)["设施明细"]
    cells = [c for row in ws.iter_rows() for c in row if str(c.value).startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_charts_are_embedded_and_written_beside(book, result):
    ids = default_chart_indicators(result)
    assert ids and all(result.indicator(i).indicator.binding for i in ids)
    for i in ids:
        png = book.parent / "charts" / f"{i}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ws = openpyxl.load_workbook(book)["县级汇总"]
    assert len(ws._images) == len(ids)
    assert ws.print_area is not None and "$M$" in ws.print_area  # charts outside the print area


def test_no_charts_when_asked(result, tmp_path):
    p = write_workbook(result, tmp_path / "r.xlsx", chart_indicators=[])
    assert not (tmp_path / "charts").exists()
    assert len(openpyxl.load_workbook(p)["县级汇总"]._images) == 0


def test_boundary_note_only_for_schematic_boundaries(tmp_path):
    r = small_result(schematic=False)
    p = write_workbook(r, tmp_path / "r.xlsx", chart_indicators=[])
    check_workbook(p, r)


def test_demo_command_writes_workbook_summary_and_charts(tmp_path, capsys):
    out = tmp_path / "out"
    day = "2026-11-29"
    code = main(["audit", "--demo", "--as-of", day, "--format", "xlsx", "--out", str(out), "-q"])
    assert code == 0
    capsys.readouterr()
    # the demo command reads the embedded population, water and road layers too
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    result = run_audit(inputs, load_catalog(), day)
    counts = check_workbook(out / "coverage_report.xlsx", result)
    assert counts["可达性"] > 0
    assert counts["镇街矩阵"] == len(result.units) == 93
    assert counts["设施明细"] == result.rows_read
    assert (out / "summary.md").exists() and (out / "summary.html").exists()
    for i in default_chart_indicators(result):
        assert (out / "charts" / f"{i}.png").exists()
