"""Population inputs of accessibility: community tables, rasters, township totals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage_gis.access import demand as demand_mod
from coverage_gis.access.demand import (
    Demand,
    demand_from_units,
    read_population_raster,
    zonal_sums,
)
from coverage_gis.core.errors import InputError
from coverage_gis.io.normalise import MAX_ROW_FINDINGS, SHOWN_ROW_FINDINGS
from coverage_gis.io.population import parse_population_values, read_population_table

DATA = Path(__file__).parent / "data" / "population"
ROOT = Path(__file__).resolve().parents[1]
DEMO_UNITS = ROOT / "data" / "boundaries" / "suzhou_townships_demo.geojson"


def _findings(d: Demand, code: str) -> pd.DataFrame:
    f = d.findings.to_frame()
    return f[f["code"] == code]


def _accounting_consistent(d: Demand) -> None:
    acc = d.accounting
    assert (acc["rows_read"] == acc["rows_used"] + acc["rows_excluded"]).all()
    by_reason = acc.filter(like="excluded_").sum(axis=1)
    assert (by_reason == acc["rows_excluded"]).all()
    if d.kind != "units":  # units are counted as units, not as their points
        assert int(acc["rows_used"].sum()) == len(d)


# --------------------------------------------------------------------------- values


def test_population_values_units_approximate_blank_negative():
    values = ["3,456人", "约2000", "", None, "-50", "待统计", 1200.0, "1.2万", "2000余人"]
    values += ["1 302 户", "—", "不详", float("nan"), True, -3.0]
    num, status = parse_population_values(values)
    assert num[0] == 3456 and status[0] == 0
    assert num[1] == 2000 and status[1] == 4  # approximate: read, flagged
    assert list(status[2:4]) == [1, 1] and np.isnan(num[2:4]).all()  # blank, never 0
    assert num[4] == -50 and status[4] == 3
    assert status[5] == 2 and np.isnan(num[5])
    assert num[6] == 1200 and num[7] == 12000 and (num[8], status[8]) == (2000, 4)
    assert num[9] == 1302 and status[9] == 0
    assert list(status[10:13]) == [1, 1, 1]
    assert status[13] == 2  # a boolean cell is not a count
    assert status[14] == 3


# --------------------------------------------------------------------------- GBK CSV


def test_gbk_csv_rows_used_weights_and_accounting():
    d = read_population_table(DATA / "communities_gbk.csv")
    assert d.kind == "points"
    assert list(d.source_row) == [3, 4, 5, 9, 11]
    assert list(d.name) == ["金色社区", "玉山社区", "何山社区", "马涧社区", "金色社区"]
    assert list(d.weights.columns) == ["population", "pop_60plus", "households"]
    assert d.total("population") == 1200 + 3456 + 2000 + 2500 + 900
    assert d.total("households") == 480 + 1302 + 800 + 900 + 300
    # the blank 60+ cell of 马涧社区 stays NaN (a warning), not a zero
    assert np.isnan(d.weights["pop_60plus"].iloc[3])
    assert d.total("pop_60plus") == 210 + 620 + 380 + 100
    acc = d.accounting.iloc[0]
    assert (acc["rows_read"], acc["rows_used"], acc["rows_excluded"]) == (13, 5, 8)
    assert acc["excluded_blank_row"] == 1 and acc["excluded_note_row"] == 1
    assert acc["excluded_total_row"] == 1 and acc["excluded_bad_value"] == 3
    assert acc["excluded_bad_coordinate"] == 1 and acc["excluded_no_location"] == 1
    assert "合计/小计行 1" in acc["reasons_zh"] and "total or subtotal row 1" in acc["reasons_en"]
    _accounting_consistent(d)
    with pytest.raises(KeyError):
        d.total("pop_65plus")


def test_gbk_csv_row_without_coordinates_is_kept_by_its_township():
    d = read_population_table(DATA / "communities_gbk.csv")
    i = list(d.source_row).index(9)
    assert np.isnan(d.lon[i]) and np.isnan(d.lat[i])
    assert d.unit_name[i] == "枫桥街道"
    assert np.isfinite(d.lon[np.arange(len(d)) != i]).all()
    info = _findings(d, "population_no_coordinates")
    assert list(info["row"]) == [9] and set(info["severity"]) == {"info"}
    gone = _findings(d, "population_no_location")  # 通安村: neither, excluded
    assert list(gone["row"]) == [10] and gone["value"].iloc[0] == "通安村"
    assert gone["severity"].iloc[0] == "error"


def test_gbk_csv_findings_name_row_column_and_value():
    d = read_population_table(DATA / "communities_gbk.csv")
    f = d.findings.to_frame()
    assert (f["file"].dropna() == str(DATA / "communities_gbk.csv")).all()

    def one(code: str, severity: str) -> pd.Series:
        rows = f[(f["code"] == code) & (f["severity"] == severity)]
        assert len(rows) == 1, (code, rows)
        return rows.iloc[0]

    blank = one("population_blank", "error")
    assert (blank["row"], blank["column"]) == (6, "常住人口")
    assert "不按 0 计" in blank["message_zh"] and "not taken as zero" in blank["message_en"]
    neg = one("population_negative", "error")
    assert (neg["row"], neg["column"], neg["value"]) == (7, "常住人口", "-50")
    bad = one("population_not_number", "error")
    assert (bad["row"], bad["value"]) == (8, "待统计")
    approx = one("population_approximate", "warning")
    assert (approx["row"], approx["value"]) == (5, "约2000")
    blank60 = one("population_blank", "warning")
    assert (blank60["row"], blank60["column"]) == (9, "60岁以上人口")
    coord = one("coordinate_out_of_range", "error")
    assert coord["row"] == 15
    assert list(_findings(d, "population_total_row")["row"]) == [13]
    assert list(_findings(d, "note_row_skipped")["row"]) == [14]
    dup = _findings(d, "duplicate_community")
    assert list(dup["row"]) == [3, 11] and set(dup["severity"]) == {"warning"}


def test_gbk_csv_forced_wrong_encoding_does_not_read_silently(tmp_path):
    # the same bytes read as UTF-8 must not give the same columns
    with pytest.raises((InputError, UnicodeDecodeError)):
        read_population_table(DATA / "communities_gbk.csv", encoding="utf-8")


# --------------------------------------------------------------------------- Excel


def test_xlsx_two_row_merged_header_subtotal_and_cover_sheet():
    d = read_population_table(DATA / "communities_merged.xlsx")
    assert list(d.source_row) == [4, 5, 7]
    # 常住人口 wins over 户籍人口 under the merged 人口（人）; 户数 is merged over two rows
    assert list(d.weights["population"]) == [5200, 4300, 12000]
    assert list(d.weights["pop_60plus"]) == [1100, 960, 2600]
    assert list(d.weights["households"]) == [2100, 1650, 4300]
    assert d.lon[1] == pytest.approx(120 + 30 / 60 + 54 / 3600)  # 度分秒 text
    assert list(d.unit_name) == ["木渎镇", "木渎镇", "东山镇"]
    acc = d.accounting.iloc[0]
    assert acc["sheet"] == "吴中区"
    assert (acc["rows_read"], acc["excluded_total_row"], acc["excluded_bad_value"]) == (8, 2, 2)
    assert acc["excluded_blank_row"] == 1
    _accounting_consistent(d)
    assert sorted(_findings(d, "population_total_row")["row"]) == [6, 11]
    skipped = _findings(d, "sheet_skipped")
    assert list(skipped["sheet"]) == ["填表说明"]
    neg = _findings(d, "population_negative")
    assert (neg["row"].iloc[0], neg["column"].iloc[0]) == (9, "60岁及以上人口")
    same = read_population_table(DATA / "communities_merged.xlsx", sheet="吴中区")
    assert list(same.weights["population"]) == [5200, 4300, 12000]
    with pytest.raises(InputError):
        read_population_table(DATA / "communities_merged.xlsx", sheet="填表说明")


# --------------------------------------------------------------------------- columns


def _csv(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_column_mapping_overrides_recognised_header(tmp_path):
    p = _csv(
        tmp_path,
        "社区名称,所属镇(街道),人口(人),常住人口(人)\n甲社区,狮山街道,100,120\n乙社区,狮山街道,200,260\n",
    )
    auto = read_population_table(p)
    assert list(auto.weights["population"]) == [120, 260]  # 常住人口 before 人口
    mapped = read_population_table(p, columns={"population": "人口(人)"})
    assert list(mapped.weights["population"]) == [100, 200]
    with pytest.raises(InputError, match="pop_90plus"):
        read_population_table(p, columns={"pop_90plus": "人口(人)"})
    with pytest.raises(InputError, match="不存在"):
        read_population_table(p, columns={"population": "总人口"})


def test_two_columns_of_one_field_refuse_until_mapped(tmp_path):
    p = _csv(tmp_path, "社区名称,所属镇(街道),常住人口,常住人口\n甲社区,狮山街道,100,120\n")
    with pytest.raises(InputError) as exc:
        read_population_table(p)
    assert "常住人口#2" in (exc.value.suggestion or "")
    d = read_population_table(p, columns={"population": "常住人口#2"})
    assert list(d.weights["population"]) == [120]


def test_registered_population_only_without_resident_and_wan_header(tmp_path):
    p = _csv(tmp_path, "村名称,镇街,户籍人口,60周岁以上\n甲村,东山镇,1500,300\n")
    d = read_population_table(p)
    assert list(d.weights["population"]) == [1500]
    assert list(d.weights["pop_60plus"]) == [300]
    assert len(_findings(d, "population_registered_used")) == 1
    q = _csv(tmp_path, "社区名称,所属镇(街道),常住人口(万人)\n甲社区,狮山街道,1.25\n", "wan.csv")
    e = read_population_table(q)
    assert list(e.weights["population"]) == [12500]
    assert len(_findings(e, "population_column_scaled")) == 1


def test_missing_population_or_location_column_is_an_input_error(tmp_path):
    p = _csv(tmp_path, "社区名称,所属镇(街道),备注\n甲社区,狮山街道,无\n")
    with pytest.raises(InputError, match="人口"):
        read_population_table(p)
    q = _csv(tmp_path, "社区名称,常住人口,户数\n甲社区,100,30\n", "noloc.csv")
    with pytest.raises(InputError, match="所属镇"):
        read_population_table(q)


def test_gcj02_coordinates_are_converted(tmp_path):
    from coverage_gis.core.coordsys import gcj02_to_wgs84

    p = _csv(
        tmp_path, "社区名称,所属镇(街道),常住人口,经度,纬度\n甲社区,狮山街道,100,120.58,31.30\n"
    )
    wgs = read_population_table(p)
    gcj = read_population_table(p, crs="gcj02")
    lon, lat = gcj02_to_wgs84(np.array([120.58]), np.array([31.30]))
    assert gcj.lon[0] == pytest.approx(lon[0], abs=1e-9)
    assert gcj.lat[0] == pytest.approx(lat[0], abs=1e-9)
    assert abs(gcj.lon[0] - wgs.lon[0]) > 1e-3  # ~0.5 km around Suzhou


def test_many_bad_rows_are_counted_and_findings_capped(tmp_path):
    n = MAX_ROW_FINDINGS + 200
    lines = ["社区名称,所属镇(街道),常住人口"] + [f"社区{i},狮山街道,未知{i}" for i in range(n)]
    lines.append("好社区,狮山街道,100")
    d = read_population_table(_csv(tmp_path, "\n".join(lines) + "\n"))
    bad = _findings(d, "population_not_number")
    assert len(bad) == SHOWN_ROW_FINDINGS + 1
    assert bad["count"].iloc[-1] == n - SHOWN_ROW_FINDINGS
    assert d.accounting["excluded_bad_value"].iloc[0] == n
    assert list(d.weights["population"]) == [100]
    _accounting_consistent(d)


# --------------------------------------------------------------------------- vector files


def test_polygon_communities_give_points_on_their_surface():
    d = read_population_table(DATA / "communities_polygons.gpkg")
    assert d.kind == "polygons"
    polys = gpd.read_file(DATA / "communities_polygons.gpkg").to_crs(4326)
    inside = shapely.contains_xy(polys.geometry.to_numpy(), d.lon, d.lat)
    assert inside.all()  # also for the L-shaped 长桥社区, whose centroid lies outside
    assert not polys.geometry.iloc[1].contains(polys.geometry.iloc[1].centroid)
    assert list(d.unit_name) == ["城南街道", "长桥街道", "越溪街道"]
    assert list(d.weights["pop_60plus"]) == [1200, 900, 700]
    assert d.total("population") == 6100 + 4800 + 3300
    assert list(d.source_row) == [1, 2, 3]


def test_geojson_points_text_numbers_and_total_feature():
    d = read_population_table(DATA / "communities_points.geojson")
    assert d.kind == "points"
    assert list(d.weights["population"]) == [8100, 6400]
    assert list(d.lon) == [120.72, 120.75]
    acc = d.accounting.iloc[0]
    assert (acc["counted_as"], acc["rows_read"], acc["excluded_total_row"]) == ("features", 3, 1)
    _accounting_consistent(d)


# --------------------------------------------------------------------------- rasters


def _origin(x0: float, y0: float, dx: float, dy: float) -> Any:
    """North-up transform (rasterio's from_origin warns on affine's ``*``)."""
    from affine import Affine

    return Affine(dx, 0.0, x0, 0.0, -dy, y0)


def _write_raster(path: Path, data: np.ndarray, crs: str, transform, nodata=None) -> Path:
    import rasterio

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[0],
        width=data.shape[1],
        count=1,
        dtype=data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    return path


def test_raster_4326_cells_nodata_negative_and_centres(tmp_path):
    data = np.array(
        [
            [10, 0, -9999, 5],
            [np.nan, 20, -3, 0],
            [1.5, 0, 30, -9999],
        ],
        dtype=np.float32,
    )
    p = _write_raster(
        tmp_path / "pop.tif", data, "EPSG:4326", _origin(120.5, 31.4, 0.01, 0.01), -9999
    )
    d = read_population_raster(p)
    assert d.kind == "raster" and len(d) == 5
    assert d.total("population") == pytest.approx(10 + 5 + 20 + 1.5 + 30)
    rows, cols = np.divmod(d.source_row, 4)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [
        (0, 0),
        (0, 3),
        (1, 1),
        (2, 0),
        (2, 2),
    ]
    np.testing.assert_allclose(d.lon, 120.5 + 0.01 * (cols + 0.5))
    np.testing.assert_allclose(d.lat, 31.4 - 0.01 * (rows + 0.5))
    acc = d.accounting.iloc[0]
    assert (acc["counted_as"], acc["rows_read"], acc["rows_used"]) == ("cells", 12, 5)
    assert (acc["excluded_nodata"], acc["excluded_zero"], acc["excluded_negative"]) == (3, 3, 1)
    neg = _findings(d, "raster_negative_cells").iloc[0]
    assert neg["count"] == 1 and "row 1, 列/col 2" in neg["value"]
    assert _findings(d, "raster_nodata_cells")["count"].iloc[0] == 3
    assert d.unit_code is None


def test_raster_projected_with_units_zonal_sums_and_outside(tmp_path, monkeypatch):
    from pyproj import Transformer

    rng = np.random.default_rng(5)
    data = rng.integers(0, 50, size=(12, 16)).astype(np.float64)
    data[3, 4] = -1.0
    x0, y0 = 320_000.0, 3_470_000.0  # UTM 51N, near Suzhou
    p = _write_raster(tmp_path / "utm.tif", data, "EPSG:32651", _origin(x0, y0, 100, 100), None)
    to_wgs = Transformer.from_crs(32651, 4326, always_xy=True)
    # two units splitting the grid at x0 + 800 m; the last two rows lie outside both
    corners = [(x0, y0 - 1000), (x0 + 800, y0 - 1000), (x0 + 800, y0), (x0, y0)]
    right = [(x0 + 800, y0 - 1000), (x0 + 1600, y0 - 1000), (x0 + 1600, y0), (x0 + 800, y0)]
    units = gpd.GeoDataFrame(
        {"code": ["A", "B"]},
        geometry=[shapely.Polygon(corners), shapely.Polygon(right)],
        crs="EPSG:32651",
    ).to_crs(4326)
    d = read_population_raster(p, units=units)
    positive = np.where(data > 0, data, 0)
    expected_a = positive[:10, :8].sum()
    expected_b = positive[:10, 8:].sum()
    outside = positive[10:, :].sum()
    got = d.weights["population"].groupby(pd.Series(d.unit_code, dtype=object)).sum()
    assert got["A"] == pytest.approx(expected_a) and got["B"] == pytest.approx(expected_b)
    assert pd.isna(d.unit_code[d.source_row >= 10 * 16]).all()
    sums = zonal_sums(p, units)
    assert list(sums.index) == ["A", "B"]
    assert sums["A"] == pytest.approx(expected_a) and sums["B"] == pytest.approx(expected_b)
    assert sums.attrs["outside_total"] == pytest.approx(outside)
    out = _findings(d, "raster_outside_units").iloc[0]
    assert out["value"] == pytest.approx(outside) and out["count"] == int((positive[10:] > 0).sum())
    # cell centres in WGS84
    r, c = np.divmod(d.source_row, 16)
    lon, lat = to_wgs.transform(x0 + 100 * (c + 0.5), y0 - 100 * (r + 0.5))
    np.testing.assert_allclose(d.lon, lon, atol=1e-9)
    np.testing.assert_allclose(d.lat, lat, atol=1e-9)
    # reading in strips of a few rows gives the same points
    monkeypatch.setattr(demand_mod, "STRIP_CELLS", 3 * 16)
    strips = read_population_raster(p, units=units)
    np.testing.assert_array_equal(strips.source_row, d.source_row)
    np.testing.assert_array_equal(strips.weights["population"], d.weights["population"])
    assert list(strips.unit_code) == list(d.unit_code)
    assert strips.accounting.equals(d.accounting)


def test_raster_without_crs_or_band_is_an_input_error(tmp_path):
    import rasterio

    p = tmp_path / "nocrs.tif"
    with rasterio.open(
        p,
        "w",
        driver="GTiff",
        height=2,
        width=2,
        count=1,
        dtype="float32",
        transform=_origin(120.5, 31.4, 0.01, 0.01),
    ) as dst:
        dst.write(np.ones((2, 2), dtype=np.float32), 1)
    with pytest.raises(InputError, match="坐标系"):
        read_population_raster(p)
    q = _write_raster(
        tmp_path / "ok.tif",
        np.ones((2, 2), np.float32),
        "EPSG:4326",
        _origin(120.5, 31.4, 0.01, 0.01),
    )
    with pytest.raises(InputError, match="波段"):
        read_population_raster(q, band=2)


# --------------------------------------------------------------------------- units fallback


def test_demo_units_spread_exactly_per_unit_and_city_total():
    from coverage_gis.io.boundaries import read_boundaries

    units, _ = read_boundaries(DEMO_UNITS, check=False)
    d = demand_from_units(units, ("population", "pop_60plus", "households"))
    assert d.kind == "units" and d.source == "units"
    assert d.total("population") == 12_730_000
    sums = d.weights.groupby(pd.Series(d.unit_code, dtype=object)).sum()
    codes = units["code"].astype(str)
    for f in ("population", "pop_60plus", "households"):
        assert (sums[f].reindex(codes).to_numpy() == units[f].to_numpy(dtype=float)).all(), f
        assert d.total(f) == float(units[f].sum())
    counts = pd.Series(d.unit_code).value_counts()
    assert counts.reindex(codes).min() >= 1 and counts.max() <= 2000
    # every point inside its own unit
    pos = pd.Index(codes).get_indexer(d.unit_code)
    assert shapely.contains_xy(units.geometry.to_numpy()[pos], d.lon, d.lat).all()
    # equal shares: within a unit the weights differ by at most one person
    spread = d.weights["population"].groupby(pd.Series(d.unit_code)).agg(["min", "max"])
    assert ((spread["max"] - spread["min"]) <= 1).all()
    _accounting_consistent(d)


def test_units_small_unit_fractional_values_and_bad_fields():
    big = shapely.box(120.50, 31.20, 120.55, 31.25)  # ~ 4.8 x 5.6 km
    tiny = shapely.box(120.60, 31.20, 120.6005, 31.2005)  # ~ 50 m, smaller than the grid
    units = gpd.GeoDataFrame(
        {
            "code": ["320506001", "320506002", "320506003"],
            "name": ["大镇", "小镇", "缺镇"],
            "population": [10_000.5, 77.0, np.nan],
            "pop_60plus": [1234.0, -5.0, 10.0],
        },
        geometry=[big, tiny, shapely.box(120.7, 31.2, 120.72, 31.22)],
        crs="EPSG:4326",
    )
    d = demand_from_units(
        units, ("population", "pop_60plus", "households"), max_points_per_unit=150
    )
    per = pd.Series(d.unit_code).value_counts()
    assert per["320506002"] == 1 and 1 < per["320506001"] <= 150
    i = np.flatnonzero(d.unit_code == "320506002")[0]
    rp = tiny.point_on_surface()
    assert (d.lon[i], d.lat[i]) == pytest.approx((rp.x, rp.y))
    assert d.weights["population"].iloc[i] == 77.0
    big_w = d.weights["population"][d.unit_code == "320506001"].to_numpy()
    assert np.bincount(np.zeros(len(big_w), dtype=np.int64), weights=big_w)[0] == 10_000.5
    assert big_w.sum() == pytest.approx(10_000.5, abs=1e-9)
    invalid = _findings(d, "units_value_invalid")
    assert set(
        zip(invalid["column"], invalid["message_en"].str.split(" ").str[1], strict=True)
    ) == {
        ("population", "320506003"),
        ("pop_60plus", "320506002"),
    }
    assert np.isnan(d.weights["population"][d.unit_code == "320506003"]).all()
    missing = _findings(d, "units_field_missing")
    assert list(missing["column"]) == ["households"]
    assert list(d.weights.columns) == ["population", "pop_60plus"]


def test_total_detection_spares_communities_and_reads_unit_codes(tmp_path):
    p = _csv(
        tmp_path,
        "村名称,镇(街道)代码,常住人口\n"
        "计家村,320506104000,800\n"  # a village whose name holds 计 is not a total
        "合计村,320506104,700\n"
        "东山镇小计,,1500\n"
        "总  计,,1500\n",
    )
    d = read_population_table(p)
    assert list(d.name) == ["计家村", "合计村"]
    assert list(d.unit_code) == ["320506104", "320506104"]  # 12-digit statistical form → 9
    assert d.accounting["excluded_total_row"].iloc[0] == 2
    assert np.isnan(d.lon).all()  # placed by the unit code


def test_spread_over_many_units_stays_within_the_total_point_budget():
    """A national boundary table: every unit keeps at least one point and its exact total,
    and all points together stay within ``max_points``."""
    cells = [shapely.box(100 + 0.05 * (i % 40), 30 + 0.05 * (i // 40), 100.05 + 0.05 * (i % 40),
                         30.05 + 0.05 * (i // 40)) for i in range(800)]  # fmt: skip
    units = gpd.GeoDataFrame(
        {"code": [f"u{i:04d}" for i in range(800)], "population": np.arange(800) * 10.0 + 7},
        geometry=cells,
        crs="EPSG:4326",
    )
    d = demand_from_units(units, ("population",), max_points=2_000)
    per = pd.Series(d.unit_code).value_counts()
    assert len(d.lon) <= 2_000 and per.min() >= 1 and per.max() <= 2
    sums = pd.Series(d.weights["population"].to_numpy()).groupby(d.unit_code).sum()
    np.testing.assert_allclose(sums.reindex(units["code"]).to_numpy(), units["population"])
    # a city's few units keep the fine grid (the budget does not bind)
    few = demand_from_units(units.iloc[:3], ("population",))
    assert pd.Series(few.unit_code).value_counts().min() > 2


def test_one_point_per_unit_is_inside_its_unit_even_when_the_box_centre_is_not():
    """Over the budget each unit keeps one point: inside the unit (a C-shaped unit's box
    centre is outside it), carrying the unit's whole total."""
    c_shape = shapely.Polygon(
        [(120, 31), (120.1, 31), (120.1, 31.02), (120.02, 31.02), (120.02, 31.08),
         (120.1, 31.08), (120.1, 31.1), (120, 31.1)]
    )  # fmt: skip
    square = shapely.box(120.2, 31, 120.3, 31.1)
    units = gpd.GeoDataFrame(
        {"code": ["c", "s"], "population": [1234.0, 50.0]},
        geometry=[c_shape, square],
        crs="EPSG:4326",
    )
    d = demand_from_units(units, ("population",), max_points=2)
    assert list(d.unit_code) == ["c", "s"]
    assert shapely.contains_xy(units.geometry.to_numpy(), d.lon, d.lat).all()
    assert not shapely.contains_xy(c_shape, 120.05, 31.05)  # the box centre
    np.testing.assert_allclose(d.weights["population"].to_numpy(), [1234.0, 50.0])
