"""Readers on the messy fixtures in tests/data (see tests/data/make_fixtures.py)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.engine import audit
from coverage_gis.core.errors import InputError
from coverage_gis.io.boundaries import read_boundaries
from coverage_gis.io.facilities import read_facility_file
from coverage_gis.workflow import load_inputs
from tests.conftest import make_units

DATA = Path(__file__).parent / "data"


@pytest.fixture
def units_file(tmp_path: Path) -> Path:
    p = tmp_path / "units.geojson"
    make_units().to_file(p, driver="GeoJSON")
    return p


def test_gbk_csv_with_title_row_and_rare_characters():
    df, findings = read_facility_file(DATA / "gbk_list.csv")
    assert df["name"].tolist() == ["甪直镇康复驿站", "浒墅关镇康复驿站", "璜泾镇康复驿站"]
    assert df["unit_name"].tolist() == ["甪直镇", "浒墅关", "璜泾镇"]
    assert df["source_row"].tolist() == [3, 4, 5]  # title on line 1, header on line 2
    assert df["lon"].iloc[0] == pytest.approx(120.8721)
    assert not findings.has_errors


def test_messy_workbook_three_sheets_merged_header_notes_dms_swapped(units_file):
    truth = json.loads((DATA / "messy_truth.json").read_text(encoding="utf-8"))
    df, findings = read_facility_file(DATA / "messy.xlsx")
    assert sorted(df["source_sheet"].unique()) == ["康复驿站", "骨灰堂"]  # 说明 skipped
    assert any(f.code == "sheet_skipped" and f.sheet == "说明" for f in findings)
    for sheet in ("康复驿站", "骨灰堂"):
        part = df[df["source_sheet"] == sheet]
        assert part["source_row"].tolist() == truth[sheet]["rows"]
        assert part["unit_name"].tolist() == truth[sheet]["units"]
        assert (part["type_raw"] == sheet).all()  # the sheet name is the type
        note = truth["note_rows"][sheet]
        assert any(
            f.code == "note_row_skipped" and f.sheet == sheet and f.row == note for f in findings
        )
    first = df.iloc[0]
    assert (first.lon, first.lat) == (pytest.approx(120.05), pytest.approx(31.05))  # DMS
    swapped = [f for f in findings if f.code == "swapped_coordinates"]
    assert [(f.sheet, f.row) for f in swapped] == [("康复驿站", truth["康复驿站"]["swapped_row"])]
    assert df.loc[df["name"] == "戊港康复驿站", ["lon", "lat"]].to_numpy().tolist() == [
        [120.15, 31.15]
    ]
    assert df["opened"].iloc[0].isoformat().startswith("2019-05-01")
    assert df["meets_standard"].iloc[:2].tolist() == [True, False]
    assert not findings.has_errors
    # end to end: every data row is accounted for and located where the truth says
    inputs = load_inputs(units_file, [DATA / "messy.xlsx"])
    result = audit(
        inputs.units, inputs.facilities, load_catalog(), "2023-12-31", findings=inputs.findings
    )
    assert result.rows_read == 5 and int(result.accounting["rows_used"].sum()) == 5
    assert result.facilities["unit_code"].tolist() == [
        "320501001",
        "320501002",
        "320502102",
        "320501001",
        "320502101",
    ]


@pytest.mark.parametrize(
    ("fixture", "expected"), [("gcj02_list.csv", "gcj02"), ("bd09_list.xlsx", "bd09")]
)
def test_crs_suggestion_finds_the_map_app(fixture, expected):
    truth = json.loads((DATA / "crs_truth.json").read_text(encoding="utf-8"))[fixture]
    inputs = load_inputs(DATA / "grid_units.geojson", [DATA / fixture])
    sug = [f for f in inputs.findings if f.code == "crs_suggestion"]
    assert len(sug) == 1 and sug[0].value == expected and sug[0].severity == "warning"
    assert f"--crs {expected}" in sug[0].suggestion
    assert inputs.inputs[1]["crs_suggested"] == expected
    # read with the suggested system, every point lands in the unit the row names
    fixed = load_inputs(DATA / "grid_units.geojson", [DATA / fixture], facilities_crs=expected)
    r = audit(fixed.units, fixed.facilities, load_catalog(), "2025-01-01")
    names = dict(zip(fixed.units["code"], fixed.units["name"], strict=True))
    assert [names[c] for c in r.facilities["unit_code"]] == truth
    assert [f.severity for f in fixed.findings if f.code == "crs_suggestion"] == ["info"]
    # read as WGS84 (the mistake), many land in the wrong unit
    wrong = audit(inputs.units, inputs.facilities, load_catalog(), "2025-01-01")
    assert sum(f.code == "unit_name_conflict" for f in wrong.findings) > len(truth) // 3


def test_gbk_shapefile_without_cpg():
    units, _ = read_boundaries(DATA / "gbk_shapefile" / "units.shp")
    assert units["name"].tolist() == ["甪直镇", "浒墅关镇", "璜泾镇"]
    assert units["county"].tolist() == ["吴中区", "虎丘区", "太仓市"]
    assert units["county_code"].tolist() == ["320506", "320505", "320585"]  # from 9-digit codes
    assert units.crs.to_epsg() == 4326


def test_zipped_shapefile(tmp_path):
    z = tmp_path / "units.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in (DATA / "gbk_shapefile").iterdir():
            zf.write(p, p.name)
    units, _ = read_boundaries(z)
    assert len(units) == 3


def test_boundary_without_crs_is_an_error_unless_declared():
    with pytest.raises(InputError, match="no coordinate reference system") as info:
        read_boundaries(DATA / "no_crs" / "units.shp")
    assert "--boundaries-crs" in info.value.suggestion
    units, _ = read_boundaries(DATA / "no_crs" / "units.shp", crs="EPSG:4326")
    assert units["kind"].tolist() == ["镇"]


def test_bowtie_repaired_and_reported():
    units, findings = read_boundaries(DATA / "bowtie.geojson")
    assert units.geometry.is_valid.all()
    rep = [f for f in findings if f.code == "invalid_polygon_repaired"]
    assert (
        len(rep) == 1 and rep[0].value == "320501001" and "Self-intersection" in rep[0].message_en
    )


def test_overlaps_and_gaps_reported_in_square_metres():
    _, findings = read_boundaries(DATA / "overlap.geojson")
    over = [f for f in findings if f.code == "units_overlap"]
    gaps = [f for f in findings if f.code == "units_gap"]
    assert len(over) == 1 and over[0].value == "1/2"
    area = float(over[0].message_en.split("by ")[1].split(" m²")[0].replace(",", ""))
    assert 9.0e6 < area < 1.1e7  # 0.01° × 0.1° at 31°N ≈ 10.5 km²
    assert len(gaps) == 1
    gap = float(gaps[0].message_en.split("Gap of ")[1].split(" m²")[0].replace(",", ""))
    assert 4.0e6 < gap < 4.6e6  # 0.02° × 0.02°


def test_duplicate_codes_are_errors(tmp_path):
    u = make_units()
    u.loc[1, "code"] = u.loc[0, "code"]
    p = tmp_path / "dup.geojson"
    u.to_file(p, driver="GeoJSON")
    with pytest.raises(InputError, match="Duplicate unit codes: 320501001"):
        read_boundaries(p)


def test_column_mapping_and_unmatched_types(tmp_path, units_file):
    f = tmp_path / "odd.csv"
    f.write_text(
        "机构,种类,东经度数,北纬度数,镇\nA,骨灰堂,120.05,31.05,甲山镇\nB,老年食堂,120.05,31.05,甲山镇\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="Columns found: 机构, 种类, 东经度数, 北纬度数, 镇"):
        read_facility_file(f)
    mapping = {"name": "机构", "type_raw": "种类", "lon": "东经度数", "lat": "北纬度数"}
    df, _ = read_facility_file(f, mapping=mapping)
    assert df["lon"].tolist() == [120.05, 120.05] and df["unit_name"].tolist() == [
        "甲山镇",
        "甲山镇",
    ]
    r = audit(make_units(), df, load_catalog(), "2025-01-01")
    unk = [x for x in r.findings if x.code == "unknown_facility_type"]
    assert len(unk) == 1 and unk[0].value == "老年食堂" and unk[0].count == 1


def test_row_errors_name_row_column_and_value(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(
        "名称,类型,经度,纬度,床位数,是否达标\nA,养老院,200,31,一百,也许\n", encoding="utf-8"
    )
    df, findings = read_facility_file(f)
    errs = {(x.code, x.row, x.column, x.value) for x in findings if x.severity == "error"}
    assert ("coordinate_out_of_range", 2, "经度", "200, 31") in errs
    assert ("bad_number", 2, "床位数", "一百") in errs
    assert ("bad_flag", 2, "是否达标", "也许") in errs
    assert df["row_error"].notna().all()


_cell = st.one_of(
    st.text(alphabet=st.characters(codec="gb18030", exclude_categories=("Cs",)), max_size=8),
    st.sampled_from(["120.5", "31.2", "骨灰堂", "甪直镇", "", "注：", "120°37′", "nan", ",", '"']),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(
        st.sampled_from(["名称", "类型", "经度", "纬度", "所属镇(街道)", "备注", "x", "垃圾"]),
        min_size=0,
        max_size=6,
    ),
    rows=st.lists(st.lists(_cell, max_size=7), max_size=6),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_random_csvs_parse_or_fail_clearly(tmp_path, header, rows, encoding):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    p = tmp_path / "fuzz.csv"
    p.write_bytes(buf.getvalue().encode(encoding, errors="replace"))
    try:
        df, _ = read_facility_file(p)
    except InputError as exc:
        assert exc.file and str(exc)  # noqa: PT017 - a clear, located message
        return
    assert len(df) <= len(rows)
    assert np.all(np.isnan(df["lon"]) | ((df["lon"] >= 73) & (df["lon"] <= 135)))


def test_unreadable_excel_is_an_input_error(tmp_path):
    p = tmp_path / "broken.xlsx"
    p.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="Cannot open Excel file"):
        read_facility_file(p)
    shutil.copy(DATA / "gcj02_list.csv", tmp_path / "list.xls")
    with pytest.raises(InputError, match="Cannot open spreadsheet"):
        read_facility_file(tmp_path / "list.xls")


def test_legacy_xls_with_title_row():
    df, findings = read_facility_file(DATA / "legacy.xls")
    assert df["name"].tolist() == ["甪直镇骨灰堂", "璜泾镇骨灰堂"]
    assert df["source_row"].tolist() == [3, 4]
    assert df["lon"].tolist() == [120.87, 121.06]
    assert df["opened"].dt.year.tolist() == [2019, 2021]
    assert not findings.has_errors


def test_geopackage_layers_and_kml(tmp_path):
    units = make_units()
    gpkg = tmp_path / "b.gpkg"
    units.to_file(gpkg, layer="镇街", driver="GPKG")
    units.iloc[:2].to_file(gpkg, layer="其他", driver="GPKG")
    with pytest.raises(InputError, match="several layers; choose one: 镇街, 其他"):
        read_boundaries(gpkg)
    got, _ = read_boundaries(gpkg, layer="镇街")
    assert got["code"].tolist() == units["code"].tolist()
    kml = tmp_path / "b.kml"
    units[["name", "geometry"]].to_file(kml, driver="KML")
    got, findings = read_boundaries(kml)
    assert got["name"].tolist() == units["name"].tolist()
    assert any(f.code == "no_county" for f in findings)
    assert got["kind"].tolist() == ["镇", "街道", "功能区", "镇", "镇"]  # inferred from names
    got, _ = read_boundaries(gpkg, layer="镇街", mapping={"county": "kind"})
    assert got["county"].tolist() == units["kind"].tolist()
    with pytest.raises(InputError, match="Unknown field 'bogus'"):
        read_boundaries(gpkg, layer="镇街", mapping={"bogus": "name"})


@pytest.mark.parametrize("crs", [4326, 4490, None])
def test_geoparquet_read_in_batches_equals_geopandas(tmp_path, monkeypatch, crs):
    """Boundaries in GeoParquet, decoded a batch at a time: the frame geopandas reads
    (columns in file order, the geometry column in the middle, CRS, an empty geometry)."""
    import geopandas as gpd
    from shapely.geometry import Polygon

    from coverage_gis.io import geoparquet

    units = make_units()
    units = units[["code", "name", "geometry", "county", "population"]]
    units.loc[2, "geometry"] = Polygon()  # an empty outline survives the round trip
    if crs is None:
        units = units.set_crs(None, allow_override=True)
    elif crs != 4326:
        units = units.to_crs(crs)
    units = units.set_index(pd.Index([10, 20, 30, 40, 50], name="k"))  # stored as a column
    p = tmp_path / "units.parquet"
    units.to_parquet(p)
    monkeypatch.setattr(geoparquet, "_POLYGON_BATCH", 2)  # five rows: three batches
    got = geoparquet.read_geoparquet(p)
    want = gpd.read_parquet(p)
    assert list(got.columns) == list(want.columns) == list(units.columns)
    assert got.geometry.name == "geometry"
    assert got.index.equals(want.index) and got.index.name == "k"
    assert got.crs == want.crs
    assert got.drop(columns="geometry").equals(want.drop(columns="geometry"))
    assert got.geometry.to_wkb().tolist() == want.geometry.to_wkb().tolist()
    empty = tmp_path / "empty.parquet"
    units.iloc[:0].to_parquet(empty)
    got = geoparquet.read_geoparquet(empty)
    assert len(got) == 0 and list(got.columns) == list(units.columns)
    assert got.crs == gpd.read_parquet(empty).crs


def test_boundaries_from_geoparquet_equal_geojson(tmp_path, units_file):
    """read_boundaries gives the same units from GeoParquet as from GeoJSON."""
    p = tmp_path / "units.parquet"
    make_units().to_parquet(p)
    a, fa = read_boundaries(units_file)
    b, fb = read_boundaries(p)
    # GeoJSON gives int32 populations, Parquet int64: values compared, not widths
    pd.testing.assert_frame_equal(
        a.drop(columns="geometry"), b.drop(columns="geometry"), check_dtype=False
    )
    assert a.geometry.to_wkb().tolist() == b.geometry.to_wkb().tolist()
    assert [f.code for f in fa] == [f.code for f in fb]
