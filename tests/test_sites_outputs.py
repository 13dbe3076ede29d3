"""Site suggestions in the audit workbook, the gap map and the ``site`` map."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from coverage_gis.cli import main
from coverage_gis.core.catalog import load_catalog
from coverage_gis.export.sites import SITE_HEADERS, SOLVER_HEADERS, add_site_sheets
from coverage_gis.export.workbook import SHEET_NAMES, write_workbook
from coverage_gis.siting.models import SitingResult
from coverage_gis.siting.suggest import (
    SITE_COLUMNS,
    SiteSuggestion,
    gap_indicators,
    suggest_for_gaps,
)
from coverage_gis.workflow import (
    demo_access_paths,
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
    run_audit,
)
from tests.test_mapexport import page_data

DAY = "2025-12-31"


@pytest.fixture(scope="module")
def demo():
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    return inputs, run_audit(inputs, load_catalog(), DAY, allow_errors=True)


def test_gap_indicators_are_the_township_presence_ones_with_gaps(demo):
    _, result = demo
    ids = gap_indicators(result)
    assert ids and "T2-5" in ids
    for r in result.indicators:
        township_presence = r.indicator.kind == "presence" and r.indicator.level == "township"
        assert (r.indicator.id in ids) == (township_presence and bool(r.failing))
    county = next(r.indicator.id for r in result.indicators if r.indicator.level == "county")
    assert gap_indicators(result, ["T2-5", county, "A-1"]) == ["T2-5"]


def test_audit_workbook_gets_the_site_sheets_after_access(demo, tmp_path):
    inputs, result = demo
    runs = suggest_for_gaps(inputs, result, ["T2-5", "T2-4"])
    path = write_workbook(result, tmp_path / "r.xlsx", chart_indicators=[], sites=runs)
    wb = load_workbook(path)
    at = SHEET_NAMES.index("可达性") + 1
    assert wb.sheetnames == [*SHEET_NAMES[:at], "选址建议", "求解信息", *SHEET_NAMES[at:]]
    ws = wb["选址建议"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == SITE_HEADERS
    want = pd.concat([r.table.assign(id=r.indicator) for r in runs], ignore_index=True)
    assert len(rows) - 1 == len(want)
    names = dict(zip(result.units["code"], result.units["name"], strict=True))
    for got, w in zip(rows[1:], want.itertuples(), strict=True):
        assert got[:5] == (w.id, w.rank, w.site, w.unit, w.county)
        assert got[5] == pytest.approx(w.gain)
        assert got[7] == names[w.closes]  # presence: each site closes the gap it lies in
    failing = {r.indicator.id: set(map(str, r.failing)) for r in result.indicators}
    assert all(set(r.table["closes"]) <= failing[r.indicator] for r in runs)
    info = list(wb["求解信息"].iter_rows(values_only=True))
    assert info[0] == SOLVER_HEADERS
    assert [(i[0], i[1], i[4]) for i in info[1:]] == [
        (r.indicator, "presence", "optimal") for r in runs
    ]
    # without suggestions the workbook is as before
    plain = load_workbook(write_workbook(result, tmp_path / "p.xlsx", chart_indicators=[]))
    assert tuple(plain.sheetnames) == SHEET_NAMES


def test_site_names_from_the_data_are_text_never_formulas(tmp_path):
    from openpyxl import Workbook

    table = pd.DataFrame(
        [
            [
                1,
                '=HYPERLINK("http://x","y")',
                120.5,
                31.2,
                "u1",
                "+甲镇",
                "@县",
                10.0,
                "pop_60plus",
                "u1",
                float("inf"),
            ]
        ],
        columns=list(SITE_COLUMNS),
    )
    sr = SitingResult(
        model="presence",
        sites=(0,),
        gain=(10.0,),
        covered_gain=(10.0,),
        objective=1.0,
        solver="HiGHS",
        status="optimal",
        mip_gap=0.0,
        wall_time_s=0.01,
        covered_before=0.0,
        covered_after=10.0,
        uncoverable_weight=0.0,
        total_weight=10.0,
    )
    wb = Workbook()
    add_site_sheets(wb, [SiteSuggestion("T2-5", "presence", table, sr, None)])  # type: ignore[arg-type]
    wb.save(tmp_path / "x.xlsx")
    ws = load_workbook(tmp_path / "x.xlsx")["选址建议"]
    cells = {c.value: c for c in ws[2]}
    for text in ('=HYPERLINK("http://x","y")', "+甲镇", "@县"):
        assert cells[text].data_type == "s" and cells[text].quotePrefix
    assert ws.cell(2, 9).value is None  # no existing facility: no distance, not "inf"


def test_audit_suggest_and_map_suggest_from_the_cli(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["audit", "--demo", "--as-of", DAY, "--suggest", "--format", "table,xlsx"]
    assert main([*args, "--out", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "选址建议 / suggested sites" in text and "T2-5" in text
    assert "选址建议" in load_workbook(out / "coverage_report.xlsx").sheetnames
    m = tmp_path / "m.html"
    args = ["map", "--demo", "--as-of", DAY, "--suggest", "--indicator", "T2-5"]
    assert main([*args, "--indicator", "A-1", "--out", str(m), "-q"]) == 0
    data = page_data(m.read_text("utf-8"))
    assert {s["ind"] for s in data["sites"]} == {"T2-5"}  # access indicators: `site --new`
    assert [s["rank"] for s in data["sites"]] == list(range(1, len(data["sites"]) + 1))
    assert set(data["facilities"]["plan"]) == {0}


def test_site_command_writes_its_map(tmp_path):
    out = tmp_path / "s"
    assert (
        main(["site", "--demo", "--as-of", DAY, "--indicator", "T2-5", "--out", str(out), "-q"])
        == 0
    )
    data = page_data((out / "sites_map.html").read_text("utf-8"))
    table = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert [s["name"] for s in data["sites"]] == list(table["site"])
    assert [i["id"] for i in data["indicators"]] == ["T2-5"]
    assert not (tmp_path / "n" / "sites_map.html").exists()
    assert (
        main(
            [
                "site",
                "--demo",
                "--indicator",
                "T2-5",
                "--no-map",
                "--out",
                str(tmp_path / "n"),
                "-q",
            ]
        )
        == 0
    )
    assert not (tmp_path / "n" / "sites_map.html").exists()


def test_suggest_needs_the_local_engine():
    assert main(["audit", "--demo", "--suggest", "--engine", "dask", "-q"]) == 2
