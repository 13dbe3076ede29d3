"""Generate the small reader fixtures committed under tests/data/ (deterministic).

Run: ``python tests/data/make_fixtures.py``. The files are committed so that tests do not
depend on this script; it documents how they were made and what their true answers are.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
from openpyxl.styles import Alignment
from shapely.geometry import Polygon, box

from coverage_gis.core.coordsys import wgs84_to_bd09, wgs84_to_gcj02

HERE = Path(__file__).resolve().parent

# A 6 × 6 grid of 0.01° (~1 km) cells near Suzhou: small enough that a 0.5–1 km GCJ/BD
# offset moves most points into another cell.
X0, Y0, STEP, N = 120.60, 31.28, 0.01, 6


def grid_units() -> gpd.GeoDataFrame:
    """36 cells named 网格01街道 … 网格36街道 in two counties."""
    rows = []
    for j in range(N):
        for i in range(N):
            k = j * N + i + 1
            rows.append(
                {
                    "code": f"320508{k:03d}",
                    "name": f"网格{k:02d}街道",
                    "county": "甲区" if i < N // 2 else "乙区",
                    "county_code": "320508" if i < N // 2 else "320509",
                    "kind": "街道",
                    "geometry": box(
                        X0 + i * STEP, Y0 + j * STEP, X0 + (i + 1) * STEP, Y0 + (j + 1) * STEP
                    ),
                }
            )
    return gpd.GeoDataFrame(rows, crs=4326)


def true_points(seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Points inside random inner cells (not on the grid's outer ring), with their cell names."""
    rng = np.random.default_rng(seed)
    i = rng.integers(1, N - 1, n)
    j = rng.integers(1, N - 1, n)
    lon = X0 + (i + rng.uniform(0.15, 0.85, n)) * STEP
    lat = Y0 + (j + rng.uniform(0.15, 0.85, n)) * STEP
    names = [f"网格{jj * N + ii + 1:02d}街道" for ii, jj in zip(i, j, strict=True)]
    return lon, lat, names


def write_crs_lists() -> dict[str, list[str]]:
    grid_units().to_file(HERE / "grid_units.geojson", driver="GeoJSON")
    truth: dict[str, list[str]] = {}
    lon, lat, names = true_points(1)
    glon, glat = wgs84_to_gcj02(lon, lat)
    lines = ["名称,类型,所属镇(街道),经度,纬度"] + [
        f"驿站{k},康复驿站,{nm},{x:.6f},{y:.6f}"
        for k, (nm, x, y) in enumerate(zip(names, glon, glat, strict=True))
    ]
    (HERE / "gcj02_list.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    truth["gcj02_list.csv"] = names
    lon, lat, names = true_points(2)
    blon, blat = wgs84_to_bd09(lon, lat)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名录"
    ws.append(["名称", "类型", "所属镇(街道)", "经度", "纬度"])
    for k, (nm, x, y) in enumerate(zip(names, blon, blat, strict=True)):
        ws.append([f"骨灰堂{k}", "骨灰堂", nm, round(float(x), 6), round(float(y), 6)])
    wb.save(HERE / "bd09_list.xlsx")
    truth["bd09_list.xlsx"] = names
    return truth


def write_gbk_csv() -> None:
    """A list as saved by Excel on Chinese Windows: GBK, a title row, rare place names."""
    text = (
        "苏州市社区康复驿站名录（2023年）,,,,,\n"
        "设施名称,设施类型,所属区县,所属镇(街道),经度,纬度\n"
        "甪直镇康复驿站,康复驿站,吴中区,甪直镇,120.8721,31.2605\n"
        "浒墅关镇康复驿站,精神障碍社区康复驿站,虎丘区,浒墅关,120.4812,31.3921\n"
        "璜泾镇康复驿站,康复驿站,太仓市,璜泾镇,121.0652,31.6391\n"
    )
    (HERE / "gbk_list.csv").write_bytes(text.encode("gbk"))


def write_messy_workbook() -> None:
    """Three sheets: 康复驿站 and 骨灰堂 (type = sheet name), and a cover sheet 说明.

    Both data sheets have a merged title row, a two-row header with 坐标 merged over
    经度/纬度, numbers stored as text, DMS coordinates, a blank row, a swapped row and a
    trailing 注 row. True answers are in messy_truth.json.
    """
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "说明"
    cover["A1"] = "本工作簿由各区民政局填报，汇总于 2023 年 12 月。"
    cover["A3"] = "联系人：张三"
    for sheet, rows in {
        "康复驿站": [
            ["甲山康复驿站", "甲山镇", "120°03′00″E", "31°03′00″N", "是", "2019年5月"],
            ["乙水康复驿站", "乙水街道", "120.15", "31.02", "否", "2021/3/1"],
            None,
            ["戊港康复驿站", "戊港镇", "31.15", "120.15", "是", "2020-07-01"],  # swapped
        ],
        "骨灰堂": [
            ["甲山骨灰堂", "甲山镇", "120度3分0秒", "31度3分0秒", "", "2018"],
            ["丁桥骨灰堂", "丁桥镇", " 120.05 ", "31.15", "", "2022-01-01"],
        ],
    }.items():
        ws = wb.create_sheet(sheet)
        ws.append([f"{sheet}名录（2023年）"])
        ws.merge_cells("A1:F1")
        ws["A1"].alignment = Alignment(horizontal="center")
        ws.append(["设施名称", "所属镇(街道)", "坐标", None, "是否达标", "建成时间"])
        ws.merge_cells("C2:D2")
        ws.append([None, None, "经度", "纬度", None, None])
        ws.merge_cells("A2:A3")
        ws.merge_cells("B2:B3")
        ws.merge_cells("E2:E3")
        ws.merge_cells("F2:F3")
        for r in rows:
            ws.append(r if r else [None] * 6)
        ws.append([None] * 6)
        ws.append(["注：坐标来自现场核查，WGS84。"])
    wb.save(HERE / "messy.xlsx")
    truth = {
        "康复驿站": {
            "rows": [4, 5, 7],
            "swapped_row": 7,
            "units": ["甲山镇", "乙水街道", "戊港镇"],
        },
        "骨灰堂": {"rows": [4, 5], "units": ["甲山镇", "丁桥镇"]},
        "note_rows": {"康复驿站": 9, "骨灰堂": 7},
    }
    (HERE / "messy_truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def write_gbk_shapefile() -> None:
    """Boundaries as a Shapefile whose .dbf is GBK and has no .cpg."""
    folder = HERE / "gbk_shapefile"
    folder.mkdir(exist_ok=True)
    gdf = gpd.GeoDataFrame(
        {
            "XZQDM": ["320506101", "320505102", "320585102"],
            "XZQMC": ["甪直镇", "浒墅关镇", "璜泾镇"],
            "QX": ["吴中区", "虎丘区", "太仓市"],
        },
        geometry=[
            box(120.85, 31.24, 120.90, 31.28),
            box(120.46, 31.37, 120.50, 31.41),
            box(121.04, 31.62, 121.09, 31.66),
        ],
        crs=4490,
    )
    gdf.to_file(folder / "units.shp", encoding="gbk")
    cpg = folder / "units.cpg"
    if cpg.exists():
        cpg.unlink()


def write_bad_polygons() -> None:
    """A bow-tie (self-intersecting) unit, and two overlapping units with a gap between."""
    bowtie = Polygon([(120.0, 31.0), (120.1, 31.1), (120.1, 31.0), (120.0, 31.1), (120.0, 31.0)])
    gpd.GeoDataFrame(
        {
            "code": ["320501001", "320501002"],
            "name": ["蝴蝶镇", "正常镇"],
            "county": ["甲区", "甲区"],
            "kind": ["镇", "镇"],
        },
        geometry=[bowtie, box(120.1, 31.0, 120.2, 31.1)],
        crs=4326,
    ).to_file(HERE / "bowtie.geojson", driver="GeoJSON")
    ring = [
        box(120.0, 31.0, 120.11, 31.1),  # overlaps the second by 0.01° × 0.1°
        box(120.1, 31.0, 120.2, 31.1),
        box(120.0, 31.1, 120.2, 31.2).difference(box(120.09, 31.12, 120.11, 31.14)),  # hole
        box(120.0, 30.9, 120.2, 31.0),
    ]
    gpd.GeoDataFrame(
        {
            "code": ["1", "2", "3", "4"],
            "name": ["东镇", "西镇", "北镇", "南镇"],
            "county": ["甲区"] * 4,
            "kind": ["镇"] * 4,
        },
        geometry=ring,
        crs=4326,
    ).to_file(HERE / "overlap.geojson", driver="GeoJSON")


def write_legacy_xls() -> None:
    """A legacy .xls (BIFF8) list with a title row; needs the dev-only package xlwt."""
    import datetime as dt

    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("骨灰堂")
    ws.write_merge(0, 0, 0, 4, "苏州市公益性骨灰安放设施名录")
    for c, h in enumerate(["名称", "所属镇(街道)", "经度", "纬度", "建成时间"]):
        ws.write(1, c, h)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, (name, town, x, y, d) in enumerate(
        [
            ("甪直镇骨灰堂", "甪直镇", 120.87, 31.26, dt.date(2019, 4, 1)),
            ("璜泾镇骨灰堂", "璜泾镇", "121.06", 31.64, dt.date(2021, 9, 1)),
        ],
        start=2,
    ):
        for c, v in enumerate([name, town, x, y]):
            ws.write(r, c, v)
        ws.write(r, 4, d, date_style)
    wb.save(str(HERE / "legacy.xls"))


def write_no_crs() -> None:
    """A shapefile without .prj (no CRS), in degrees near Suzhou."""
    folder = HERE / "no_crs"
    folder.mkdir(exist_ok=True)
    gpd.GeoDataFrame(
        {"name": ["甲镇"], "county": ["甲区"]}, geometry=[box(120.5, 31.2, 120.6, 31.3)]
    ).to_file(folder / "units.shp")


if __name__ == "__main__":
    truth = write_crs_lists()
    (HERE / "crs_truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    write_gbk_csv()
    write_messy_workbook()
    write_gbk_shapefile()
    write_bad_polygons()
    write_no_crs()
    write_legacy_xls()
    print("fixtures written to", HERE)
