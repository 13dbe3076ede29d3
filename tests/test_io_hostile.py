"""Odd and hostile input files (issue 12): read right, or refused clearly with exit code 2.

The files are written by ``tests/data/make_hostile.py`` into a temporary folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from coverage_gis.cli import main
from coverage_gis.core.errors import InputError
from coverage_gis.io.boundaries import read_boundaries
from coverage_gis.io.facilities import read_facility_file

sys.path.insert(0, str(Path(__file__).parent / "data"))
import make_hostile as mk


@pytest.fixture
def units(tmp_path: Path) -> Path:
    return mk.units_geojson(tmp_path)


def _audit(tmp_path: Path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "out"
    code = main(
        ["audit", *args, "--as-of", "2023-12-31", "--out", str(out), "-q", "--format", "json"]
    )
    data = json.loads((out / "audit.json").read_text(encoding="utf-8")) if code == 0 else {}
    return code, data


def _rows(data: dict) -> tuple[int, int, int]:
    acc = data["accounting"]
    return (
        sum(a["rows_read"] for a in acc),
        sum(a["rows_used"] for a in acc),
        sum(a["rows_excluded"] for a in acc),
    )


@pytest.mark.parametrize("writer", [mk.boundary_points, mk.boundary_lines])
def test_boundary_files_that_are_not_polygons_are_refused(tmp_path, writer, capsys):
    path = writer(tmp_path)
    with pytest.raises(InputError, match="must hold polygons") as info:
        read_boundaries(path)
    assert "Polygonize" in info.value.suggestion
    facilities = mk.cr_only_csv(tmp_path)
    code, _ = _audit(tmp_path, "-b", str(path), "-f", str(facilities))
    err = capsys.readouterr().err
    assert code == 2 and "边界文件应为面" in err and "Traceback" not in err


def test_cr_only_line_ends_are_read(tmp_path, units):
    df, findings = read_facility_file(mk.cr_only_csv(tmp_path))
    assert df["name"].tolist() == [r[0] for r in mk.ROWS]
    assert df["source_row"].tolist() == [2, 3, 4] and not findings.has_errors
    code, data = _audit(tmp_path, "-b", str(units), "-f", str(tmp_path / "cr_only.csv"))
    assert code == 0 and _rows(data) == (3, 3, 0)


def test_a_bom_in_front_of_gbk_is_read(tmp_path):
    df, findings = read_facility_file(mk.bom_then_gbk_csv(tmp_path))
    assert df["name"].tolist() == [r[0] for r in mk.ROWS] and not findings.has_errors


def test_excel_serial_dates_in_general_cells(tmp_path, units):
    path = mk.serial_dates_xlsx(tmp_path)
    df, findings = read_facility_file(path)
    assert not findings.has_errors
    assert str(df["opened"].iloc[0].date()) == "2021-01-01"
    assert str(df["opened"].iloc[29].date()) == "2021-01-30"
    code, data = _audit(tmp_path, "-b", str(units), "-f", str(path))
    assert code == 0 and _rows(data) == (30, 30, 0)


def test_duplicated_type_columns_are_an_error_naming_both(tmp_path, units, capsys):
    path = mk.two_type_columns_xlsx(tmp_path)
    with pytest.raises(InputError, match="Several columns could be the same field") as info:
        read_facility_file(path)
    assert "B “类型”" in info.value.message_en and "F “类型”" in info.value.message_en
    assert "--column type_raw=类型#2" in info.value.suggestion
    code, _ = _audit(tmp_path, "-b", str(units), "-f", str(path))
    assert code == 2 and "多列可能是同一字段" in capsys.readouterr().err
    code, data = _audit(tmp_path, "-b", str(units), "-f", str(path), "--column", "type_raw=类型#2")
    assert code == 0 and _rows(data) == (3, 3, 0)


def test_three_row_unmerged_header(tmp_path, units):
    path = mk.three_row_header_xlsx(tmp_path)
    df, findings = read_facility_file(path)
    assert df["name"].tolist() == [r[0] for r in mk.ROWS]
    assert df["source_row"].tolist() == [6, 7, 8]  # title, three header rows, a units row
    assert df["lon"].tolist() == [120.05, 120.12, 120.05] and not findings.has_errors
    code, data = _audit(tmp_path, "-b", str(units), "-f", str(path))
    assert code == 0 and _rows(data) == (3, 3, 0)


def test_an_archive_of_two_shapefiles_needs_a_layer(tmp_path, capsys):
    path = mk.two_shapefiles_zip(tmp_path)
    with pytest.raises(InputError, match="several layers; choose one: ") as info:
        read_boundaries(path)
    assert "old_copy" in info.value.message_en and "townships" in info.value.message_en
    facilities = mk.cr_only_csv(tmp_path)
    code, _ = _audit(tmp_path, "-b", str(path), "-f", str(facilities))
    assert code == 2 and "--layer" in capsys.readouterr().err
    code, data = _audit(tmp_path, "-b", str(path), "--layer", "townships", "-f", str(facilities))
    assert code == 0 and _rows(data) == (3, 3, 0)


def test_metres_without_a_crs_are_refused_with_the_likely_crs(tmp_path, capsys):
    path = mk.metres_without_crs_geojson(tmp_path)
    with pytest.raises(InputError, match="fall outside China") as info:
        read_boundaries(path)
    assert "EPSG:4549" in info.value.message_en
    facilities = mk.cr_only_csv(tmp_path)
    code, _ = _audit(tmp_path, "-b", str(path), "-f", str(facilities))
    assert code == 2
    # declared by the user, the file is read, with a warning that says so
    units, findings = read_boundaries(path, crs="EPSG:4549")
    assert any(f.code == "crs_overridden" for f in findings)
    assert units.total_bounds[0] == pytest.approx(120.0, abs=1e-6)


def test_degrees_declared_as_gauss_kruger_are_refused(tmp_path):
    path = mk.degrees_declared_4549_gpkg(tmp_path)
    with pytest.raises(InputError, match="fall outside China") as info:
        read_boundaries(path)
    assert "EPSG:4490" in info.value.message_en


def test_decimal_commas_in_a_semicolon_list(tmp_path, units):
    df, findings = read_facility_file(mk.decimal_comma_csv(tmp_path))
    assert df["lon"].tolist() == [120.05, 120.12, 120.05]
    assert df["lat"].tolist() == [31.05, 31.02, 31.15] and not findings.has_errors


def test_one_coordinate_cell_is_split_and_an_ambiguous_one_is_refused(tmp_path):
    df, findings = read_facility_file(mk.combined_coordinate_csv(tmp_path))
    assert df["lon"].tolist()[:3] == [120.05, 120.12, 120.05]
    assert df["lat"].tolist()[:3] == [31.05, 31.02, 31.15]
    (bad,) = [f for f in findings if f.severity == "error"]
    assert (bad.code, bad.row, bad.column, bad.value) == (
        "bad_coordinate",
        5,
        "坐标",
        "120,05,31,05",
    )
    assert df["row_error"].notna().tolist() == [False, False, False, True]


def test_the_fixture_script_writes_every_file(tmp_path):
    written = mk.write_all(tmp_path / "hostile")
    assert len(written) == len(mk.WRITERS) and all(p.exists() for p in written)


# ----------------------------------------------------------------------------- bounded work


def test_a_far_away_cell_is_refused_before_it_is_read(tmp_path, units, capsys):
    path = mk.far_cell_xlsx(tmp_path)
    with pytest.raises(InputError, match="used range too large") as info:
        read_facility_file(path)
    assert info.value.value == "XFD1048576" and info.value.sheet == "Sheet"
    code, _ = _audit(tmp_path, "-b", str(units), "-f", str(path))
    assert code == 2 and "XFD1048576" in capsys.readouterr().err


def test_a_million_empty_formatted_rows(tmp_path, units):
    path = mk.million_empty_rows_xlsx(tmp_path)
    df, findings = read_facility_file(path)
    assert df["name"].tolist() == [r[0] for r in mk.ROWS] and not findings.has_errors


def test_a_ten_megabyte_cell_and_ten_thousand_columns(tmp_path, units):
    df, _ = read_facility_file(mk.huge_cell_csv(tmp_path))
    assert len(df) == 3 and len(df["address"].iloc[0]) > 3_000_000
    df, _ = read_facility_file(mk.ten_thousand_columns_csv(tmp_path))
    assert df["name"].tolist() == [r[0] for r in mk.ROWS]
    code, data = _audit(tmp_path, "-b", str(units), "-f", str(tmp_path / "wide.csv"))
    assert code == 0 and _rows(data) == (3, 3, 0)


def test_a_million_vertex_township(tmp_path):
    path = mk.million_vertex_units(tmp_path)
    facilities = mk.cr_only_csv(tmp_path)
    code, data = _audit(tmp_path, "-b", str(path), "-f", str(facilities))
    assert code == 0 and _rows(data) == (3, 3, 0)
    jiashan = next(u for u in data["units"] if u["name"] == "甲山镇")
    assert jiashan["ashes_repository"] == 1  # the 骨灰堂 at 120.05, 31.05 lies inside it


@pytest.mark.parametrize(
    ("writer", "expected"),
    [
        (mk.cr_only_csv, (3, 3, 0)),
        (mk.bom_then_gbk_csv, (3, 3, 0)),
        (mk.serial_dates_xlsx, (30, 30, 0)),
        (mk.three_row_header_xlsx, (3, 3, 0)),
        (mk.decimal_comma_csv, (3, 3, 0)),
        (mk.combined_coordinate_csv, (4, 3, 1)),  # the ambiguous cell: excluded, with reason
    ],
)
def test_odd_files_read_right_end_to_end(tmp_path, units, writer, expected):
    path = writer(tmp_path)
    args = ["-b", str(units), "-f", str(path)]
    if expected[2]:
        code, _ = _audit(tmp_path, *args)
        assert code == 2  # an error finding stops the audit unless errors are allowed
        args.append("--allow-errors")
    code, data = _audit(tmp_path, *args)
    assert code == 0 and _rows(data) == expected
    if expected[2]:
        acc = data["accounting"][0]
        assert acc["reader_error"] == expected[2]
        assert any(f["code"] == "bad_coordinate" and f["row"] == 5 for f in data["findings"])
