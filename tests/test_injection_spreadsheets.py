"""Spreadsheet formula injection (OWASP CSV injection): hostile names in every CSV and XLSX.

Township, county, facility, facility-type and indicator names (from the data and from a
custom ``-c`` catalogue) that start with ``=``, ``+``, ``-``, ``@`` are run through the
real commands (``audit``, ``validate``, ``batch``); every workbook is read back with
openpyxl (formulas, not cached values) and every CSV with the csv module.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from coverage_gis.cli import main
from coverage_gis.export.safety import (
    FORMULA_PREFIXES,
    protect_cell,
    safe_frame,
    spreadsheet_safe,
)
from tests import hostile_inputs as hi

#: Formulas the workbooks of coverage-gis write themselves: none.
OWN_FORMULAS: set[tuple[str, str, str]] = set()


@pytest.mark.parametrize(
    "text",
    [hi.HYPERLINK, hi.CMD, hi.PLUS, hi.AT, hi.MINUS, "\t=1+1", "\r=1+1", "-x", "+", "@"],
)
def test_text_starting_a_formula_gets_a_quote(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["-3.5", "+86", "-1e3", ".5", "甲山镇", "a=b", " =1", "", None, -3.5, 7, True]
)
def test_numbers_and_plain_text_are_left_alone(value: object) -> None:
    assert spreadsheet_safe(value) is value


def test_safe_frame_prefixes_text_cells_and_headers_only() -> None:
    frame = pd.DataFrame(
        {
            "name": [hi.CMD, "-3.5", None, 2.5, "乙水街道"],
            "gap": [-3.5, -0.25, 0.0, 1.0, float("nan")],
            "count": [-1, 2, 3, 4, 5],
            "text": pd.array([hi.AT, "x", None, "-2", hi.PLUS], dtype="string"),
            "kind": pd.Categorical([hi.MINUS, "镇", "镇", hi.MINUS, "街道"]),
            hi.HYPERLINK: [1, 2, 3, 4, 5],
        }
    )
    before = frame.copy()
    out = safe_frame(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified
    assert list(out.columns) == ["name", "gap", "count", "text", "kind", "'" + hi.HYPERLINK]
    assert out["name"].tolist()[:2] == ["'" + hi.CMD, "-3.5"] and out["name"][3] == 2.5
    assert out["gap"].dtype == "float64" and out["gap"].tolist()[:2] == [-3.5, -0.25]
    assert out["count"].dtype == "int64" and out["count"][0] == -1
    assert out["text"].tolist() == ["'" + hi.AT, "x", pd.NA, "-2", "'" + hi.PLUS]
    assert out["kind"].tolist() == ["'" + hi.MINUS, "镇", "镇", "'" + hi.MINUS, "街道"]
    text = out.to_csv(index=False)
    assert ",-3.5," in text and "-0.25" in text  # negative numbers written as numbers


def test_protect_cell_keeps_text_as_a_string_cell() -> None:
    ws = openpyxl.Workbook().active
    for row, value in enumerate([hi.HYPERLINK, "#N/A", hi.PLUS, "text", -3.5], start=1):
        protect_cell(ws.cell(row=row, column=1, value=value))
    cells = [ws.cell(row=r, column=1) for r in range(1, 6)]
    assert [c.data_type for c in cells] == ["s", "s", "s", "s", "n"]
    assert [bool(c.quotePrefix) for c in cells] == [True, False, True, False, False]
    assert cells[0].value == hi.HYPERLINK  # the text itself is unchanged


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every spreadsheet the CLI writes, from hostile inputs and a hostile catalogue."""
    root = tmp_path_factory.mktemp("hostile")
    h = hi.write_hostile_inputs(root)
    common = ["-b", str(h.boundaries), "-f", str(h.facilities), "-c", str(h.catalog)]
    fmt = ["--format", "csv,json,xlsx", "--as-of", "2025-12-31", "--quiet"]
    assert main(["audit", *common, "--out", str(root / "audit"), *fmt]) == 0
    assert main(["validate", *common, "--catalog-check", "--out", str(root / "validate")]) == 0
    job = root / "job.toml"
    job.write_text(
        '[job]\nout = "batch"\nboundaries = "units.geojson"\nfacilities = ["=1+1.csv"]\n'
        'catalog = "catalog.toml"\nyears = [2024, 2025]\nformats = ["csv", "xlsx"]\n',
        encoding="utf-8",
    )
    assert main(["batch", str(job), "-q"]) == 0
    return root


def _workbooks(root: Path) -> list[Path]:
    books = sorted(root.rglob("*.xlsx"))
    names = {p.name for p in books}
    assert names == {"coverage_report.xlsx", "validation.xlsx"}
    assert len(books) == 4  # audit, validate, batch × 2 dates
    return books


def _csvs(root: Path) -> list[Path]:
    files = sorted(p for p in root.rglob("*.csv") if p.name != "=1+1.csv")  # not the input
    names = {p.name for p in files}
    assert names == {
        "indicators.csv",
        "units.csv",
        "findings.csv",
        "validation.csv",
        "trend.csv",
        "trend_long.csv",
    }
    return files


def test_no_workbook_cell_is_a_formula(outputs: Path) -> None:
    seen: set[str] = set()
    formulas: set[tuple[str, str, str]] = set()
    not_text: list[tuple[str, str, str, object]] = []
    for book in _workbooks(outputs):
        wb = openpyxl.load_workbook(book)  # formulas as written, not cached values
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    where = (book.name, ws.title, c.coordinate)
                    if c.data_type == "f":
                        formulas.add(where)
                    elif isinstance(c.value, str):
                        seen.add(c.value)
                        risky = c.value.startswith(FORMULA_PREFIXES)
                        if c.data_type != "s" or (risky and not c.quotePrefix):
                            not_text.append((*where, c.value))
        wb.close()
    assert formulas == OWN_FORMULAS
    assert not_text == []
    # the hostile text is kept, as text: names, the header made of a type name, the file name
    for text in (
        hi.HYPERLINK,  # township
        hi.CMD,  # facility and indicator name
        hi.IND_HALL_EN,  # +1+1, indicator (English)
        hi.MINUS,  # manual indicator's name
        hi.UNKNOWN_TYPE,  # the type as read, and the finding's value
        "=1+1.csv",  # source file
        hi.TYPE_HALL + "（个）",  # 镇街矩阵 header
        hi.AT + hi.LINE_SEP + "镇",  # township
    ):
        assert text in seen, text


def test_no_csv_cell_would_be_evaluated(outputs: Path) -> None:
    cells: dict[str, set[str]] = {}
    for path in _csvs(outputs):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert spreadsheet_safe(cell) is cell, (path.name, cell)  # nothing risky left
                    cells.setdefault(path.name, set()).add(cell)
    assert "'" + hi.HYPERLINK in cells["units.csv"]
    assert "'" + hi.AT + hi.LINE_SEP + "镇" in cells["units.csv"]
    assert "'" + hi.COUNTY_NAMES["甲区"] in cells["units.csv"]
    assert {"'" + hi.CMD, "'" + hi.PLUS, "'" + hi.IND_MANUAL_ID, "'" + hi.MINUS} <= cells[
        "indicators.csv"
    ]
    assert "'" + hi.UNKNOWN_TYPE in cells["findings.csv"]
    assert "'" + hi.UNKNOWN_TYPE in cells["validation.csv"]
    assert "'" + hi.CMD in cells["trend.csv"] and "'" + hi.CMD in cells["trend_long.csv"]
    # numeric columns stay numbers
    ind = pd.read_csv(outputs / "audit" / "indicators.csv", encoding="utf-8-sig")
    for col in ("value", "target", "gap", "numerator", "denominator"):
        assert pd.api.types.is_float_dtype(ind[col]), col
    assert ind.loc[ind["id"] == "A-1", "value"].item() == 50.0


def test_chart_files_stay_in_the_chart_folder(outputs: Path) -> None:
    """An indicator id such as ``../../A-2…`` names its chart inside ``charts/``."""
    charts = sorted(p.name for p in (outputs / "audit" / "charts").iterdir())
    assert charts == ["A-1.png", "_.._A-2_img_src_x_onerror_window.__pwned_6_.png"]
    assert not list(outputs.parent.glob("A-2*")) and not list(outputs.glob("A-2*"))
