"""One normaliser for every format: the same raw values give the same table and findings.

The same planner-style rows (everything text: dates in several spellings, 是/否, numbers
with units, statuses, a swapped and an impossible coordinate pair, rows without a point,
an uncatalogued type, spelling variants of township names) are written as a GBK CSV with a
title row, an .xlsx workbook, GeoJSON, GeoPackage and GeoParquet, read back through
:func:`read_facility_file`, and compared: facility table, findings and row accounting.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.engine import audit
from coverage_gis.io.facilities import read_facility_file
from coverage_gis.io.normalise import (
    MAX_ROW_FINDINGS,
    SHOWN_ROW_FINDINGS,
    RawColumns,
    normalise_facilities,
    parse_date_values,
)
from tests.conftest import make_units

HEADER = ["名称", "类型", "所属区县", "所属镇(街道)", "状态", "建成时间", "是否达标", "床位数"]
# name, type, county, unit, status, opened, meets, beds, lon, lat (None = no point)
ROWS: list[tuple[str | None, ...]] = [
    (
        "甲山康复驿站",
        "精神障碍社区康复驿站",
        "甲区",
        "甲山镇",
        "运营",
        "2015-01-01",
        "是",
        "30张",
        "120.05",
        "31.05",
    ),
    (
        "乙水康复驿站",
        "康复驿站",
        "甲区",
        "乙水街道办事处",
        "已建成",
        "2015/1/1",
        "否",
        "1,200",
        "120.12",
        "31.02",
    ),
    (
        "丁桥骨灰堂",
        "骨灰堂",
        "乙市",
        "丁桥",
        "运营",
        "2015年1月1日",
        "达标",
        "45",
        "120.05",
        "31.15",
    ),
    (
        "戊港骨灰堂",
        "公益性骨灰安放设施",
        "乙市",
        "戊港镇",
        "在建",
        "2015.01",
        "",
        "",
        "31.15",
        "120.15",
    ),
    ("甲山食堂", "社区食堂", "甲区", "甲山镇", "运营", "2015", "maybe", "若干", "120.06", "31.06"),
    ("乙水驿站二", "康复驿站", "甲区", "乙水街道", "运营", "44197", "是", "12", None, None),
    ("远方驿站", "康复驿站", "甲区", "甲山镇", "运营", "去年", "是", "", "200", "31"),
    ("戊港驿站", "康复驿站", "乙市", "戊港镇", "停业", "2019年5月", "否", "8", "120.16", "31.16"),
]


def _frame() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=[*HEADER, "经度", "纬度"])
    return df


def _write_all(tmp_path: Path) -> dict[str, Path]:
    df = _frame()
    out: dict[str, Path] = {}
    # GBK CSV as Excel on a Chinese PC writes it, with a title row above the header
    csv_path = tmp_path / "list.csv"
    buf = io.StringIO()
    writer = csv.writer(buf)  # Excel's dialect: "1,200" quoted, CRLF line ends
    writer.writerow(["苏州市设施名录（2023年）"] + [""] * (len(df.columns) - 1))
    writer.writerow(df.columns)
    writer.writerows([["" if pd.isna(v) else v for v in row] for row in df.itertuples(False)])
    csv_path.write_bytes(buf.getvalue().encode("gbk"))
    out["csv"] = csv_path
    # xlsx: every cell text, as a typed-in list
    xlsx = tmp_path / "list.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名录"
    ws.append(list(df.columns))
    for row in df.itertuples(False):
        ws.append([None if pd.isna(v) or v == "" else str(v) for v in row])
    wb.save(xlsx)
    out["xlsx"] = xlsx
    # vector files: the same attributes, the coordinates as point geometries
    lon = pd.to_numeric(df["经度"]).to_numpy()
    lat = pd.to_numeric(df["纬度"]).to_numpy()
    geom = [
        None if np.isnan(x) else gpd.points_from_xy([x], [y])[0]
        for x, y in zip(lon, lat, strict=True)
    ]
    attrs = df[HEADER].replace("", None)
    gdf = gpd.GeoDataFrame(attrs, geometry=geom, crs=4326)
    for kind, name in (("geojson", "list.geojson"), ("gpkg", "list.gpkg")):
        gdf.to_file(tmp_path / name, layer="facilities" if kind == "gpkg" else None)
        out[kind] = tmp_path / name
    gdf.to_parquet(tmp_path / "list.parquet")
    out["parquet"] = tmp_path / "list.parquet"
    return out


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    out = df.drop(columns=["source_file", "source_sheet"]).copy()
    out["source_row"] = out["source_row"] - out["source_row"].min()
    return out


def _finding_keys(findings, first_row: int) -> list[tuple]:
    return [
        (f.severity, f.code, f.message_en, f.column, f.value, f.count, (f.row or 0) - first_row)
        for f in findings
        if f.code not in ("crs_suggestion",)
    ]


def test_every_format_gives_the_same_table_findings_and_accounting(tmp_path):
    paths = _write_all(tmp_path)
    units = make_units()
    catalog = load_catalog()
    got = {}
    for kind, p in paths.items():
        df, findings = read_facility_file(p)
        first = int(df["source_row"].min())
        result = audit(units, df, catalog, "2023-12-31", findings=findings)
        acc = result.accounting[["rows_read", "rows_used", "rows_excluded"]].sum().to_dict()
        got[kind] = (
            _comparable(df),
            _finding_keys(findings, first),
            acc,
            result.counts_all.to_dict(),
        )
    base_df, base_findings, base_acc, base_counts = got["csv"]
    assert len(base_df) == len(ROWS)
    for kind, (df, findings, acc, counts) in got.items():
        pd.testing.assert_frame_equal(df, base_df, obj=kind)
        assert findings == base_findings, kind
        assert acc == base_acc, kind
        assert counts == base_counts, kind
    # and what the values were read as
    opened = base_df["opened"].dt.date.tolist()
    assert opened[:6] == [dt.date(2015, 1, 1)] * 5 + [dt.date(2021, 1, 1)]
    assert pd.isna(opened[6])
    assert base_df["meets_standard"].tolist()[:4] == [True, False, True, pd.NA]
    assert base_df["beds"].tolist()[:3] == [30.0, 1200.0, 45.0]
    codes = {(c, v) for _s, c, _m, _col, v, _n, _r in base_findings}
    assert ("bad_flag", "maybe") in codes
    assert ("bad_number", "若干") in codes
    assert ("bad_date", "去年") in codes
    assert ("swapped_coordinates", "31.15, 120.15") in codes
    assert ("coordinate_out_of_range", "200, 31") in codes
    assert base_acc["rows_read"] == len(ROWS)


def test_geoparquet_in_batches_equals_one_batch_and_parses_each_value_once(tmp_path, monkeypatch):
    from coverage_gis.io import geoparquet, normalise

    # 1,100 copies of the rows: bad values in every batch (more than the findings cap),
    # and a date spelling first seen in each copy, so later batches meet new values too
    one = gpd.read_parquet(_write_all(tmp_path)["parquet"])
    copies = pd.concat([one] * 1100, ignore_index=True)
    first_rows = np.arange(0, len(copies), len(one))
    days = pd.Timestamp("2000-01-01") + pd.to_timedelta(np.arange(len(first_rows)), unit="D")
    copies.loc[first_rows, "建成时间"] = days.strftime("%Y年%m月%d日")
    path = tmp_path / "many.parquet"
    copies.to_parquet(path)
    whole, whole_findings = read_facility_file(path)
    parsed: list[int] = []
    dates = normalise.parse_date_values

    def counting(values):
        parsed.append(len(values))
        return dates(values)

    monkeypatch.setattr(normalise, "parse_date_values", counting)
    monkeypatch.setattr(geoparquet, "_BATCH_ROWS", 1000)
    batched, batched_findings = read_facility_file(path)
    pd.testing.assert_frame_equal(batched, whole)
    assert list(batched_findings) == list(whole_findings)
    capped = [f for f in whole_findings if f.code == "bad_number" and (f.count or 0) > 1]
    assert capped and capped[0].count == 1100 - SHOWN_ROW_FINDINGS
    # each distinct date text parsed once over all batches, not once per batch
    assert len(parsed) == -(-len(copies) // 1000)  # one call per batch
    assert sum(parsed) == copies["建成时间"].dropna().nunique()
    assert whole["opened"].iloc[first_rows[-1]] == days[-1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(["2015-01-01", "2015年1月", "44197", "x", "", "2019"])),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_parse_memo_equals_parsing_each_batch_arrow_or_python(batches):
    """Batches looked up through Arrow or as Python values, in any mix: the memo gives what
    parsing each batch's distinct values gives."""
    import pyarrow as pa

    from coverage_gis.io.normalise import _ParseMemo

    memo = _ParseMemo()
    for values, as_arrow in batches:
        uniques = list(dict.fromkeys(values))
        arrow = pa.array(uniques, type=pa.string()) if as_arrow else None
        got, got_bad = memo.parse(uniques, parse_date_values, arrow)
        want, want_bad = parse_date_values(uniques)
        assert np.array_equal(got, want, equal_nan=True)
        assert np.array_equal(got_bad, want_bad)
    seen = {v for values, _ in batches for v in values}
    assert memo._size() == len(seen)  # each distinct value parsed and kept once


def test_excel_serial_number_dates_and_text_dates_parse_alike(tmp_path):
    p = tmp_path / "serial.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "类型", "所属镇(街道)", "建成时间"])
    ws.append(["A", "骨灰堂", "甲山镇", 44197])  # General-format serial number
    ws.append(["B", "骨灰堂", "甲山镇", "44197"])  # the same typed as text
    ws.append(["C", "骨灰堂", "甲山镇", dt.datetime(2021, 1, 1)])  # a date cell
    ws.append(["D", "骨灰堂", "甲山镇", "2021-01-01"])
    ws.append(["E", "骨灰堂", "甲山镇", 2021])  # a year typed as a number
    ws.append(["F", "骨灰堂", "甲山镇", "20210101"])
    wb.save(p)
    df, findings = read_facility_file(p)
    assert not findings.has_errors
    dates = df["opened"].dt.date.tolist()
    assert dates == [dt.date(2021, 1, 1)] * 6


def test_row_findings_are_capped_with_a_count():
    n = MAX_ROW_FINDINGS + 50
    raw = RawColumns(
        file="big.csv",
        sheet=None,
        columns=[
            np.array(["骨灰堂"] * n, dtype=object),
            np.array(["甲山镇"] * n, dtype=object),
            np.array(["不详"] * n, dtype=object),
        ],
        headers=["类型", "所属镇(街道)", "床位数"],
        fields={"type_raw": 0, "unit_name": 1, "beds": 2},
        source_row=np.arange(2, n + 2),
    )
    df, findings = normalise_facilities(raw)
    bad = [f for f in findings if f.code == "bad_number"]
    assert len(bad) == SHOWN_ROW_FINDINGS + 1
    assert bad[-1].count == n - SHOWN_ROW_FINDINGS
    assert df["row_error"].notna().all()  # every row still excluded with its reason


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["2015-01-01", "2015/1/1", "2015年1月", "44197", "x", "", None, 2019, 44197.0]
        ),
        max_size=30,
    )
)
def test_parsing_distinct_values_once_equals_parsing_each(values):
    from coverage_gis.io.normalise import _Column, _take

    col = _Column(np.array(values, dtype=object))
    codes, uniques = col.factorized()
    per_unique, bad_u = parse_date_values(uniques)
    dates = _take(per_unique, codes, np.datetime64("NaT", "ns"))
    each, bad_each = parse_date_values(values)
    assert np.array_equal(dates, each, equal_nan=True)
    assert np.array_equal(np.append(bad_u, False)[codes], bad_each)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-05-01", dt.date(2019, 5, 1)),
        ("2019/5/1", dt.date(2019, 5, 1)),
        ("2019年5月1日", dt.date(2019, 5, 1)),
        ("2019年5月", dt.date(2019, 5, 1)),
        ("2019.05", dt.date(2019, 5, 1)),
        ("2019", dt.date(2019, 1, 1)),
        ("201905", dt.date(2019, 5, 1)),
        ("2019-05-01 08:30:00", dt.date(2019, 5, 1)),
        ("２０１９－０５－０１", dt.date(2019, 5, 1)),
        ("43586", dt.date(2019, 5, 1)),
        ("2019-02-30", None),
        ("01/02/2019", None),
        ("去年", None),
    ],
)
def test_date_spellings(text, expected):
    dates, bad = parse_date_values([text])
    if expected is None:
        assert bad[0] and np.isnat(dates[0])
    else:
        assert not bad[0] and pd.Timestamp(dates[0]).date() == expected


def test_preview_reads_only_the_first_rows(tmp_path):
    from coverage_gis.io import facilities

    p = tmp_path / "big.csv"
    body = "".join(f"设施{i},骨灰堂,甲山镇,120.05,31.05\r\n" for i in range(60_000))
    p.write_bytes(("名称,类型,所属镇(街道),经度,纬度\r\n" + body).encode("gbk"))
    assert p.stat().st_size > 2 * facilities._PREVIEW_BYTES
    (table,) = facilities.tables_from_file(p, max_rows=30)
    assert len(table.rows) == 30 and table.rows[1][0] == "设施0"
    # the cut falls inside the file, at a line end: the preview's text still decodes as GBK
    (whole,) = facilities.tables_from_file(p)
    assert len(whole.rows) == 60_001


_date_text = st.one_of(
    st.sampled_from(
        [
            "2015-01-01",
            "2015/1/1",
            "2015年1月1日",
            "2015.01",
            "2015",
            "2015年",
            "2019-02-30",
            "2019-05-01 08:30",
            "2019 - 05 - 01",
            "-2019-05-",
            "２０１９年５月",
            "1899-01-01",
            "44197",
            "201905",
            "20190501",
            "x",
            "",
            " ",
            "去年",
            "2019/13/01",
            "2019-5-1号",
        ]
    ),
    st.text(alphabet=st.sampled_from(list("0123456789-/.年月日号 T:　")), max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_date_text, min_size=64, max_size=120))
def test_bulk_date_parsing_equals_the_one_by_one_rule(values):
    from coverage_gis.io.normalise import _parse_date

    dates, bad = parse_date_values(values)
    for v, d, b in zip(values, dates, bad, strict=True):
        p = _parse_date(v)
        assert b == (p is False), v
        assert (np.isnat(d) and not isinstance(p, dt.datetime)) or (
            isinstance(p, dt.datetime) and pd.Timestamp(d) == pd.Timestamp(p)
        ), v


def test_a_point_in_sansha_is_in_china_and_the_message_quotes_the_box():
    raw = RawColumns(
        file="s.csv",
        sheet=None,
        columns=[
            np.array(["骨灰堂", "骨灰堂"], dtype=object),
            np.array(["112.34", "140"], dtype=object),
            np.array(["16.83", "16.83"], dtype=object),
        ],
        headers=["类型", "经度", "纬度"],
        fields={"type_raw": 0, "lon": 1, "lat": 2},
        source_row=np.array([2, 3]),
    )
    df, findings = normalise_facilities(raw)
    assert df["lon"].iloc[0] == pytest.approx(112.34) and np.isnan(df["lon"].iloc[1])
    (out,) = [f for f in findings if f.code == "coordinate_out_of_range"]
    assert out.row == 3 and "lat 3.8–54" in out.message_en


def test_workbook_rows_keep_their_numbers_when_the_table_starts_below_a1(tmp_path):
    from coverage_gis.io import facilities

    p = tmp_path / "offset.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"], ws["D3"], ws["E3"] = "名称", "类型", "所属镇(街道)"
    ws["C4"], ws["D4"], ws["E4"] = "甲", "骨灰堂", "甲山镇"
    wb.save(p)
    df, _ = read_facility_file(p)
    assert df["source_row"].tolist() == [4]
    (preview,) = facilities.tables_from_file(p, max_rows=30)
    assert preview.rows[2][2:5] == ["名称", "类型", "所属镇(街道)"]  # row 3 is index 2
