"""The headless CLI: outputs, machine-readable JSON, exit codes, batch runs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from coverage_gis.cli import main
from tests.conftest import make_units

HEADER = "名称,类型,所属镇(街道),经度,纬度,状态,建成时间,是否达标\n"
ROWS = [
    "甲山骨灰堂,骨灰堂,甲山镇,120.05,31.05,运营,2019-05-01,是\n",
    "戊港骨灰堂,公益性骨灰安放设施,戊港,,,运营,2022-01-01,\n",
    "乙水驿站,康复驿站,乙水街道,120.15,31.02,运营,2020-01-01,是\n",
    "老年食堂,老年食堂,乙水街道,120.15,31.02,运营,,\n",
]


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    b = tmp_path / "units.geojson"
    make_units().to_file(b, driver="GeoJSON")
    f = tmp_path / "fac.csv"
    f.write_text(HEADER + "".join(ROWS), encoding="gb18030")  # as saved by Excel on Chinese Windows
    return b, f


def test_audit_writes_stable_outputs(inputs, tmp_path, capsys):
    b, f = inputs
    out = tmp_path / "out"
    code = main(
        ["audit", "-b", str(b), "-f", str(f), "--as-of", "2023-12-31", "--out", str(out), "-q"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "镇(街道)公益性骨灰安放设施覆盖率" in printed and "需人工填报" in printed
    ind = pd.read_csv(out / "indicators.csv", encoding="utf-8-sig")
    assert list(ind.columns[:11]) == [
        "id",
        "name",
        "unit",
        "value",
        "target",
        "operator",
        "gap",
        "met",
        "numerator",
        "denominator",
        "binding",
    ]
    t219 = ind.set_index("id").loc["T2-19"]
    assert (t219.value, t219.numerator, t219.denominator, t219.gap) == (50.0, 2, 4, 50.0)
    units = pd.read_csv(
        out / "units.csv", encoding="utf-8-sig", dtype={"code": str, "county_code": str}
    )
    assert list(units.columns[:5]) == ["code", "name", "county_code", "county", "kind"]
    assert units.set_index("code").loc["320502102", "ashes_repository"] == 1
    data = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert data["as_of"] == "2023-12-31"
    acc = data["accounting"][0]
    assert (acc["rows_read"], acc["rows_used"], acc["rows_excluded"], acc["unknown_type"]) == (
        4,
        3,
        1,
        1,
    )
    assert {f["code"] for f in data["findings"]} >= {"unknown_facility_type", "counted_by_name"}


def test_json_to_stdout_is_machine_readable(inputs, tmp_path, capsys):
    b, f = inputs
    code = main(
        [
            "audit",
            "-b",
            str(b),
            "-f",
            str(f),
            "--as-of",
            "2021-12-31",
            "--json",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    t219 = next(i for i in data["indicators"] if i["id"] == "T2-19")
    assert t219["numerator"] == 1  # 戊港 opened 2022
    assert t219["failing_units"] == ["320501002", "320502101", "320502102"]


def test_bad_input_exits_2_with_bilingual_location(inputs, tmp_path, capsys):
    b, _f = inputs
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "坏坐标,骨灰堂,甲山镇,abc,31.05,运营,,\n", encoding="utf-8")
    code = main(["audit", "-b", str(b), "-f", str(bad), "--out", str(tmp_path / "o"), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert "经度无法解析" in err and "Longitude cannot be parsed" in err
    assert "bad.csv" in err and "行/row: 2" in err and "经度" in err and "'abc'" in err
    code = main(
        [
            "audit",
            "-b",
            str(b),
            "-f",
            str(bad),
            "--out",
            str(tmp_path / "o"),
            "-q",
            "--allow-errors",
        ]
    )
    assert code == 0
    acc = pd.read_csv(tmp_path / "o" / "indicators.csv")
    assert len(acc) == 29


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-f", "nope.csv"], "File not found"),
        (["--catalog", "nope.toml"], "Catalogue file not found"),
        (["--as-of", "2023-02-30"], "Bad evaluation date"),
        (["--column", "lon=东经"], "Mapped column '东经' not found"),
    ],
)
def test_more_bad_inputs_exit_2(inputs, tmp_path, capsys, args, needle):
    b, f = inputs
    base = ["audit", "-b", str(b), "-f", str(f), "--out", str(tmp_path / "o"), "-q"]
    if args[0] == "-f":
        base = ["audit", "-b", str(b), "--out", str(tmp_path / "o"), "-q"]
    assert main(base + args) == 2
    assert needle in capsys.readouterr().err


def test_missing_columns_message_lists_found_columns(inputs, tmp_path, capsys):
    b, _ = inputs
    f = tmp_path / "cols.csv"
    f.write_text("名称,类型,备注\n甲,骨灰堂,x\n", encoding="utf-8")
    assert main(["audit", "-b", str(b), "-f", str(f), "-q"]) == 2
    err = capsys.readouterr().err
    assert "Columns found: 名称, 类型, 备注" in err


def test_validate_writes_report_and_exit_code(inputs, tmp_path, capsys):
    b, f = inputs
    out = tmp_path / "v"
    assert main(["validate", "-b", str(b), "-f", str(f), "--out", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "unknown_facility_type" in text and "读取 read 4 = 计入 used 3 + 排除 excluded 1" in text
    assert (out / "validation.csv").exists() and (out / "validation.xlsx").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "x,骨灰堂,甲山镇,120.05,31.05,运营,去年,\n", encoding="utf-8")
    assert main(["validate", "-b", str(b), "-f", str(bad), "--out", str(out), "-q"]) == 2


def test_batch_writes_one_folder_per_date_and_a_trend(inputs, tmp_path):
    b, f = inputs
    job = tmp_path / "job.toml"
    job.write_text(
        f'[job]\nout = "batch"\nboundaries = "{b.name}"\nfacilities = ["{f.name}"]\nyears = [2020, 2021, 2022]\n',
        encoding="utf-8",
    )
    assert main(["batch", str(job), "-q"]) == 0
    for y in (2020, 2021, 2022):
        assert (tmp_path / "batch" / "audit" / f"{y}-12-31" / "indicators.csv").exists()
    trend = pd.read_csv(tmp_path / "batch" / "trend.csv", encoding="utf-8-sig").set_index("id")
    assert trend.loc["T2-19", ["2020-12-31", "2021-12-31", "2022-12-31"]].tolist() == [
        25.0,
        25.0,
        50.0,
    ]


def test_catalog_command_lists_indicators(capsys):
    assert main(["catalog", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["indicators"]) == 29 and data["facility_types"][0]["code"]


def test_audit_json_is_compact_only_for_national_results(monkeypatch, catalog):
    import coverage_gis.export.tables as et
    from coverage_gis.core.engine import audit
    from tests.conftest import fac_rows, make_units

    fac = fac_rows({"name": "a", "type_raw": "骨灰堂", "lon": 120.05, "lat": 31.05})
    result = audit(make_units(), fac, catalog, "2025-01-01")
    pretty = et.audit_json(result)
    monkeypatch.setattr(et, "JSON_INDENT_MAX_UNITS", 3)  # 5 units: "national"
    compact = et.audit_json(result)
    assert "\n" in pretty and "\n" not in compact
    assert (
        json.loads(pretty)
        == json.loads(compact)
        == json.loads(json.dumps(et.audit_to_dict(result)))
    )
