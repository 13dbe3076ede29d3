"""Terminal output: control characters from the data (ESC sequences, bidi overrides) are
printed as visible escapes, never sent to the terminal as they are."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from coverage_gis.cli import main
from coverage_gis.export.safety import terminal_safe
from tests import hostile_inputs as hi

TITLE = "\x1b]0;pwned\x07"  # sets the terminal window's title
CLEAR = "\x1b[2J"  # clears the screen


def test_terminal_safe_escapes_controls_only() -> None:
    assert (
        terminal_safe(f"甲{TITLE}乙\u202e丙\n丁\t戊\r")
        == "甲\\x1b]0;pwned\\x07乙\\u202e丙\n丁\t戊\\r"
    )
    assert terminal_safe("苏州市 T2-4 ≥100.0%") == "苏州市 T2-4 ≥100.0%"


@pytest.fixture
def inputs(tmp_path: Path) -> hi.HostileInputs:
    h = hi.write_hostile_inputs(tmp_path / "in")
    cat = h.catalog.read_text(encoding="utf-8")
    h.catalog.write_text(cat.replace('id = "A-1"', 'id = "A-1\\u001b]0;pwned\\u0007"'), "utf-8")
    with h.facilities.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL).writerow(
            ["x", CLEAR + "类型", "", 120.05, 31.05, "运营", "2020-01-01"]
        )
    return h


def test_audit_table_and_validation_report_escape_controls(
    inputs: hi.HostileInputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["-b", str(inputs.boundaries), "-f", str(inputs.facilities), "-c", str(inputs.catalog)]
    out = ["--out", str(tmp_path / "out")]
    assert main(["audit", *args, *out, "--format", "table", "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "A-1\\x1b]0;pwned\\x07" in table and "\x1b" not in table and "\x07" not in table
    assert "\u202e" not in table
    assert main(["validate", *args, *out]) == 0  # was exit 1: ESC is illegal in a workbook
    assert (tmp_path / "out" / "validation.xlsx").exists()
    report = capsys.readouterr().out
    assert "\\x1b[2J类型" in report and "\x1b" not in report


def test_error_messages_escape_controls(
    inputs: hi.HostileInputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / f"{CLEAR}townships.geojson"
    assert main(["audit", "-b", str(missing), "-f", str(inputs.facilities), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "\\x1b[2Jtownships.geojson" in err and "\x1b" not in err
