"""Write the population-table fixtures of tests/test_access_demand.py.

Run from the repository root: ``.venv/bin/python tests/data/population/make_population_fixtures.py``.
The files are committed; this script says how they were made. The rows imitate the tables
the bureau's branches send in: a title row, text numbers ("1,200", "3,456人", "约2000"),
blanks, a negative, a 合计 row, a 注： row, GBK encoding, merged two-row headers.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

# -- GBK CSV, as Excel on a Chinese Windows PC saves it (title row, then the header) -------
CSV_ROWS = [
    "苏州市虎丘区社区（村）人口统计表（2023年末）,,,,,,,",
    "序号,社区名称,所属镇(街道),常住人口,60岁以上人口,户数,经度,纬度",
    '1,金色社区,狮山街道,"1,200",210,480,120.5701,31.3002',  # row 3: used
    "2,玉山社区,狮山街道,3456人,620人,1302户,120.5802,31.2953",  # row 4: units in cells
    "3,何山社区,狮山街道,约2000,380,800,120.5553,31.3051",  # row 5: approximate, used
    "4,白马涧社区,枫桥街道,,150,300,120.5201,31.3302",  # row 6: blank population
    "5,枫桥社区,枫桥街道,-50,10,20,120.5302,31.3201",  # row 7: negative
    "6,寒山社区,枫桥街道,待统计,90,200,120.5402,31.3101",  # row 8: not a number
    "7,马涧社区,枫桥街道,2500,,900,,",  # row 9: no coordinates (kept), blank 60+
    "8,通安村,,1800,300,600,,",  # row 10: neither coordinates nor township
    "9,金色社区,狮山街道,900,100,300,120.5711,31.3012",  # row 11: duplicate name
    ",,,,,,,",  # row 12: blank
    '合计,,,"12,306",1860,4902,,',  # row 13: total row
    "注：人口为2023年末常住人口，由各镇(街道)上报。,,,,,,,",  # row 14: note
    '10,横塘社区,横塘街道,"2,100",400,700,200.1,31.3',  # row 15: longitude impossible
]


def write_csv() -> None:
    text = "\r\n".join(CSV_ROWS) + "\r\n"
    (HERE / "communities_gbk.csv").write_bytes(text.encode("gbk"))


# -- Excel workbook: title row, two-row merged header, a 小计 row, a cover sheet -------------
def write_xlsx() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "吴中区"
    ws["A1"] = "吴中区各村（社区）人口情况表（2023年）"
    ws.merge_cells("A1:H1")
    ws["A2"] = "社区/村名称"
    ws.merge_cells("A2:A3")
    ws["B2"] = "所属镇(街道)"
    ws.merge_cells("B2:B3")
    ws["C2"] = "人口（人）"
    ws.merge_cells("C2:E2")
    ws["C3"], ws["D3"], ws["E3"] = "常住人口", "户籍人口", "60岁及以上人口"
    ws["F2"] = "户数"
    ws.merge_cells("F2:F3")
    ws["G2"] = "坐标"
    ws.merge_cells("G2:H2")
    ws["G3"], ws["H3"] = "经度", "纬度"
    data = [
        ("香溪社区", "木渎镇", 5200, 4800, 1100, 2100, 120.5050, 31.2630),  # row 4
        (
            "金山浜社区",
            "木渎镇",
            "4,300人",
            4000,
            "960",
            "1,650户",
            "120°30′54″",
            "31°15′29″",
        ),  # row 5: 度分秒
        ("木渎镇小计", None, 9500, 8800, 2060, 3750, None, None),  # row 6: subtotal
        ("东山村", "东山镇", "1.2万", 9000, "约2600", 4300, 120.4020, 31.0790),  # row 7
        ("陆巷村", "东山镇", "未统计", 1500, 500, 600, 120.3400, 31.1000),  # row 8: bad
        ("杨湾村", "东山镇", 2300, 2400, -5, 800, "120°22′30″", "31°03′36″"),  # row 9: negative 60+
        (None, None, None, None, None, None, None, None),  # row 10: blank
        ("合  计", None, 28500, 26500, 5525, 11400, None, None),  # row 11: total
    ]
    for i, row in enumerate(data, start=4):
        for j, v in enumerate(row, start=1):
            if v is not None:
                ws.cell(row=i, column=j, value=v)
    cover = wb.create_sheet("填表说明")
    cover["A1"] = "填表说明：人口为常住人口，单位：人。"
    wb.save(HERE / "communities_merged.xlsx")


# -- vector files: community polygons (GeoPackage, CGCS2000) and points (GeoJSON) -----------
def write_vectors() -> None:
    polys = gpd.GeoDataFrame(
        {
            "社区名称": ["石湖社区", "长桥社区", "越溪村"],
            "所属镇街": ["城南街道", "长桥街道", "越溪街道"],
            "常住人口": [6100, 4800, 3300],
            "老年人口": [1200, 900, 700],
        },
        geometry=[
            shapely.box(120.60, 31.25, 120.62, 31.27),
            # an L-shaped community: its centroid lies outside it
            shapely.Polygon(
                [
                    (120.63, 31.25),
                    (120.66, 31.25),
                    (120.66, 31.26),
                    (120.64, 31.26),
                    (120.64, 31.28),
                    (120.63, 31.28),
                ]
            ),
            shapely.box(120.58, 31.20, 120.60, 31.22),
        ],
        crs="EPSG:4490",
    )
    polys.to_file(HERE / "communities_polygons.gpkg", layer="社区", driver="GPKG")
    points = gpd.GeoDataFrame(
        {
            "name": ["湖东社区", "湖西社区", "合计"],
            "township": ["娄葑街道", "斜塘街道", None],
            "population": ["8,100", "6,400人", "14,500"],
            "households": [3000, 2500, 5500],
        },
        geometry=[shapely.Point(120.72, 31.31), shapely.Point(120.75, 31.30), None],
        crs="EPSG:4326",
    )
    points.to_file(HERE / "communities_points.geojson", driver="GeoJSON")


if __name__ == "__main__":
    write_csv()
    write_xlsx()
    write_vectors()
