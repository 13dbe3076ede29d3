"""Write the odd and hostile input files of issue 12 (``python tests/data/make_hostile.py``).

Each function writes one small file (or archive) into a folder and returns its path; the
tests call them into a temporary folder, and running this module writes them all into
``tests/data/hostile/`` for a person to try with the CLI or the desktop app. Units and
facilities lie on the five hand-made units of ``tests/conftest.py`` (near Suzhou).
"""

from __future__ import annotations

import sys
import warnings
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.conftest import make_units  # noqa: E402

HEADER = ["名称", "类型", "所属镇(街道)", "经度", "纬度", "状态", "建成时间"]
ROWS = [
    ["甲山骨灰堂", "骨灰堂", "甲山镇", "120.05", "31.05", "运营", "2019-05-01"],
    ["乙水驿站", "康复驿站", "乙水街道", "120.12", "31.02", "运营", "2020-01-01"],
    ["丁桥骨灰堂", "骨灰堂", "丁桥镇", "120.05", "31.15", "运营", "2021-03-01"],
]


def boundary_points(folder: Path) -> Path:
    """A 'boundary' GeoJSON holding the units' centres as points."""
    u = make_units()
    p = folder / "boundary_points.geojson"
    u.set_geometry(u.geometry.representative_point()).to_file(p, driver="GeoJSON")
    return p


def boundary_lines(folder: Path) -> Path:
    """A 'boundary' GeoJSON holding the units' outlines as lines (not polygons)."""
    u = make_units()
    p = folder / "boundary_lines.geojson"
    u.set_geometry(u.geometry.boundary).to_file(p, driver="GeoJSON")
    return p


def cr_only_csv(folder: Path) -> Path:
    """CSV (Macintosh): CR-only line ends, GBK."""
    p = folder / "cr_only.csv"
    text = "\r".join(",".join(r) for r in [HEADER, *ROWS]) + "\r"
    p.write_bytes(text.encode("gbk"))
    return p


def bom_then_gbk_csv(folder: Path) -> Path:
    """A UTF-8 byte-order mark in front of GBK bytes."""
    p = folder / "bom_gbk.csv"
    text = "\r\n".join(",".join(r) for r in [HEADER, *ROWS]) + "\r\n"
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("gbk"))
    return p


def serial_dates_xlsx(folder: Path, n: int = 30) -> Path:
    """Excel dates stored as serial numbers in General-format cells (44197 = 2021-01-01)."""
    p = folder / "serial_dates.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "类型", "所属镇(街道)", "经度", "纬度", "建成时间"])
    for i in range(n):
        ws.append([f"驿站{i}", "康复驿站", "甲山镇", 120.05, 31.05, 44197 + i])
    wb.save(p)
    return p


def two_type_columns_xlsx(folder: Path) -> Path:
    """Two columns headed 类型 (the first holds 公办/民办, the second the facility type)."""
    p = folder / "two_type_columns.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "类型", "所属镇(街道)", "经度", "纬度", "类型"])
    for r in ROWS:
        ws.append([r[0], "公办", r[2], float(r[3]), float(r[4]), r[1]])
    wb.save(p)
    return p


def three_row_header_xlsx(folder: Path) -> Path:
    """A three-row header, not merged: group titles, field names, units."""
    p = folder / "three_row_header.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["苏州市康复驿站名录"])
    ws.append(["基本信息", None, None, "位置", None, "运营"])
    ws.append(["名称", "类型", "所属镇(街道)", "坐标", None, "建成时间"])
    ws.append([None, None, None, "经度", "纬度", None])
    ws.append([None, None, None, "(度)", "(度)", "(年月)"])
    for r in ROWS:
        ws.append([r[0], r[1], r[2], float(r[3]), float(r[4]), r[6]])
    wb.save(p)
    return p


def two_shapefiles_zip(folder: Path) -> Path:
    """A zipped archive holding two shapefiles (units and an old copy)."""
    work = folder / "_two_shp"
    work.mkdir(exist_ok=True)
    u = make_units()[["code", "name", "county", "kind", "geometry"]]  # short .dbf field names
    u.to_file(work / "townships.shp", encoding="utf-8")
    u.iloc[:2].to_file(work / "old_copy.shp", encoding="utf-8")
    p = folder / "two_shapefiles.zip"
    with zipfile.ZipFile(p, "w") as z:
        for f in sorted(work.iterdir()):
            z.write(f, f.name)
            f.unlink()
    work.rmdir()
    return p


def metres_without_crs_geojson(folder: Path) -> Path:
    """Units in CGCS2000 / GK CM 120E metres (x ≈ 500 000) with no crs member."""
    u = make_units().to_crs(4549)
    p = folder / "metres_no_crs.geojson"
    with warnings.catch_warnings():  # "'crs' was not provided": that is the point
        warnings.simplefilter("ignore", UserWarning)
        u.set_crs(None, allow_override=True).to_file(p, driver="GeoJSON")
    return p


def degrees_declared_4549_gpkg(folder: Path) -> Path:
    """Units in degrees in a GeoPackage that declares EPSG:4549."""
    u = make_units().set_crs(4549, allow_override=True)
    p = folder / "degrees_as_4549.gpkg"
    u.to_file(p, layer="units")
    return p


def decimal_comma_csv(folder: Path) -> Path:
    """A ;-separated list with decimal commas ("120,05")."""
    p = folder / "decimal_comma.csv"
    lines = [";".join(HEADER)] + [
        ";".join([*r[:3], r[3].replace(".", ","), r[4].replace(".", ","), *r[5:]]) for r in ROWS
    ]
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return p


def combined_coordinate_csv(folder: Path) -> Path:
    """One 坐标 column "120.05,31.05"; the last row is ambiguous ("120,05,31,05")."""
    p = folder / "combined_coordinate.csv"
    lines = ["名称,类型,所属镇(街道),坐标,建成时间"]
    for r in ROWS:
        lines.append(f'{r[0]},{r[1]},{r[2]},"{r[3]},{r[4]}",{r[6]}')
    lines.append('含糊驿站,康复驿站,甲山镇,"120,05,31,05",2020-01-01')
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return p


def units_geojson(folder: Path) -> Path:
    """The hand-made units themselves (WGS84), to audit the lists above against."""
    p = folder / "units.geojson"
    make_units().to_file(p, driver="GeoJSON")
    return p


WRITERS = (
    units_geojson,
    boundary_points,
    boundary_lines,
    cr_only_csv,
    bom_then_gbk_csv,
    serial_dates_xlsx,
    two_type_columns_xlsx,
    three_row_header_xlsx,
    two_shapefiles_zip,
    metres_without_crs_geojson,
    degrees_declared_4549_gpkg,
    decimal_comma_csv,
    combined_coordinate_csv,
)


def write_all(folder: Path) -> list[Path]:
    """Write every file into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [w(folder) for w in WRITERS]


if __name__ == "__main__":
    for path in write_all(HERE / "hostile"):
        print(path.relative_to(HERE))


# --------------------------------------------------------------------------- bounded work
# Larger files, written at test time only (not into tests/data/hostile).


def far_cell_xlsx(folder: Path) -> Path:
    """A normal list with one stray value in XFD1048576 (the last cell of a sheet)."""
    p = folder / "far_cell.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in ROWS:
        ws.append(r)
    ws["XFD1048576"] = "x"
    wb.save(p)
    return p


def million_empty_rows_xlsx(folder: Path, n: int = 1_000_000) -> Path:
    """A list followed by ``n`` formatted but empty rows (sheet XML written directly)."""
    p = folder / "empty_rows.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in ROWS:
        ws.append(r)
    ws["A5"].font = openpyxl.styles.Font(bold=True)  # a style s="1" for the empty cells
    wb.save(p)
    with zipfile.ZipFile(p) as z:
        parts = {n_: z.read(n_) for n_ in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    cut = sheet.index("</sheetData>")
    empty = "".join(f'<row r="{i}"><c r="A{i}" s="1"/></row>' for i in range(6, n + 6))
    sheet = sheet[:cut].replace('<row r="5"', '<row r="5"') + empty + sheet[cut:]
    sheet = sheet.replace('<dimension ref="A1:G5"/>', f'<dimension ref="A1:G{n + 5}"/>')
    parts["xl/worksheets/sheet1.xml"] = sheet.encode("utf-8")
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return p


def huge_cell_csv(folder: Path, size: int = 10 * 1024 * 1024) -> Path:
    """A list whose address cell holds 10 MB of text."""
    p = folder / "huge_cell.csv"
    lines = [",".join([*HEADER, "地址"])] + [",".join([*r, "某路1号"]) for r in ROWS]
    address = "苏州市吴中区木渎镇金山路88号"
    lines[1] = lines[1][: -len("某路1号")] + address * (size // len(address.encode()))
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return p


def ten_thousand_columns_csv(folder: Path, n_cols: int = 10_000) -> Path:
    """The list with 10,000 extra (blank-headed) columns of numbers."""
    p = folder / "wide.csv"
    extra = ["备注"] + [""] * (n_cols - len(HEADER) - 1)
    lines = [",".join([*HEADER, *extra])]
    filler = ",".join(str(i % 10) for i in range(n_cols - len(HEADER)))
    lines += [",".join(r) + "," + filler for r in ROWS]
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return p


def million_vertex_units(folder: Path, n_vertices: int = 1_000_000) -> Path:
    """The hand-made units with 甲山镇 drawn with a million vertices."""
    import numpy as np
    import shapely

    u = make_units()
    t = np.linspace(0, 1, n_vertices // 4, endpoint=False)
    x0, y0, x1, y1 = 120.0, 31.0, 120.1, 31.1
    ring = np.concatenate(
        [
            np.c_[x0 + (x1 - x0) * t, np.full_like(t, y0)],
            np.c_[np.full_like(t, x1), y0 + (y1 - y0) * t],
            np.c_[x1 - (x1 - x0) * t, np.full_like(t, y1)],
            np.c_[np.full_like(t, x0), y1 - (y1 - y0) * t],
        ]
    )
    geoms = u.geometry.to_numpy().copy()
    geoms[0] = shapely.Polygon(ring)
    u = u.set_geometry(geoms)
    p = folder / "million_vertex_units.gpkg"
    u.to_file(p, layer="units")
    return p
