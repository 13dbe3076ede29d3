"""Reading facility lists: Excel workbooks, CSV files and vector files.

The reader finds the header row (title rows above it, merged header cells over two rows),
recognises columns by their Chinese or English names (:mod:`coverage_gis.io.columns`),
skips blank rows and trailing notes (注：…), parses coordinates (decimal, 度分秒, text),
fixes swapped longitude/latitude with a warning, converts GCJ-02/BD-09 to WGS84, parses
dates, flags and numbers, and returns the normalised facility table of
:mod:`coverage_gis.schema` plus the findings. A row with an error keeps its place with
``row_error`` set, so it is accounted for as excluded.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage_gis.coordsys import normalize_source_crs, to_wgs84
from coverage_gis.errors import InputError
from coverage_gis.findings import Finding, Findings
from coverage_gis.io.columns import FIELD_LABELS, header_key, recognise_columns, score_header
from coverage_gis.io.coords import detect_swapped, in_china, parse_coordinate_values
from coverage_gis.io.encoding import read_text
from coverage_gis.schema import FACILITY_COLUMNS, coerce_facilities, empty_facilities

__all__ = ["RawTable", "read_facilities", "read_facility_file", "tables_from_file"]

_NOTE_RE = re.compile(
    r"^\s*(注|备注|说明|附注|数据来源|资料来源|填表|制表|审核|note)\s*[:：0-9一二三、.]", re.I
)
_TRUE = {
    "是",
    "达标",
    "已达标",
    "符合",
    "标准化",
    "y",
    "yes",
    "true",
    "1",
    "✓",
    "√",
    "省级标准",
    "是(省级标准)",
}
_FALSE = {"否", "不达标", "未达标", "不符合", "n", "no", "false", "0", "✗", "×", "x"}
_NUM_JUNK = re.compile(r"[,，\s张个床㎡]|平方米|m2|m²", re.I)
_MAX_HEADER_SCAN = 20
_VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".parquet", ".geoparquet"}


@dataclass
class RawTable:
    """Cells of one sheet (or CSV file) as read, before header detection.

    ``rows`` are lists of cell values; ``first_row`` is the 1-based row number of
    ``rows[0]`` in the source (so messages can name the row the user sees).
    """

    file: str
    sheet: str | None
    rows: list[list[Any]]
    first_row: int = 1


def _excel_tables(path: Path, sheets: Sequence[str] | None) -> list[RawTable]:
    import openpyxl  # lazy: only Excel inputs need it

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise InputError(
            f"无法打开 Excel 文件：{exc}", f"Cannot open Excel file: {exc}", file=str(path)
        ) from exc
    names = list(sheets) if sheets else wb.sheetnames
    out = []
    for name in names:
        if name not in wb.sheetnames:
            raise InputError(
                f"工作表“{name}”不存在；现有：{', '.join(wb.sheetnames)}",
                f"Sheet '{name}' not found; sheets: {', '.join(wb.sheetnames)}",
                file=str(path),
                sheet=name,
            )
        ws = wb[name]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        # Fill merged ranges so a merged header cell names every column it spans.
        for rng in ws.merged_cells.ranges:
            value = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, min(rng.max_row, _MAX_HEADER_SCAN) + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if r - 1 < len(rows) and c - 1 < len(rows[r - 1]):
                        rows[r - 1][c - 1] = value
        out.append(RawTable(str(path), name, rows))
    return out


def _calamine_tables(path: Path, sheets: Sequence[str] | None) -> list[RawTable]:
    """Legacy .xls (and .ods) through python-calamine (merged cells are not filled)."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise InputError(
            f"无法打开表格文件：{exc}", f"Cannot open spreadsheet: {exc}", file=str(path)
        ) from exc
    names = list(sheets) if sheets else list(wb.sheet_names)
    out = []
    for name in names:
        if name not in wb.sheet_names:
            raise InputError(
                f"工作表“{name}”不存在；现有：{', '.join(wb.sheet_names)}",
                f"Sheet '{name}' not found; sheets: {', '.join(wb.sheet_names)}",
                file=str(path),
                sheet=name,
            )
        rows = [
            [None if v == "" else v for v in r]
            for r in wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        ]
        out.append(RawTable(str(path), name, rows))
    return out


def _csv_table(path: Path, encoding: str | None) -> RawTable:
    text, _enc = read_text(path, encoding)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [list(r) for r in csv.reader(io.StringIO(text), dialect)]
    return RawTable(str(path), None, rows)


def tables_from_file(
    path: str | Path, *, sheets: Sequence[str] | None = None, encoding: str | None = None
) -> list[RawTable]:
    """Read the raw cells of a CSV/TXT file or of each (chosen) sheet of an .xlsx file."""
    p = Path(path)
    if not p.exists():
        raise InputError("文件不存在", "File not found", file=str(p))
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _excel_tables(p, sheets)
    if suffix in (".xls", ".ods"):
        return _calamine_tables(p, sheets)
    if suffix in (".csv", ".txt", ".tsv"):
        return [_csv_table(p, encoding)]
    raise InputError(
        f"不支持的设施文件格式：{suffix}",
        f"Unsupported facility file format: {suffix}",
        file=str(p),
        suggestion="支持 .xlsx .csv .geojson .gpkg .shp .kml / supported: .xlsx .csv .geojson .gpkg .shp .kml",
    )


def _blank(v: Any) -> bool:
    return (
        v is None
        or (isinstance(v, float) and np.isnan(v))
        or (isinstance(v, str) and not v.strip())
    )


def _find_header(rows: list[list[Any]], mapped: Iterable[str] = ()) -> tuple[int, list[Any]] | None:
    """Return (index of the last header row, merged header cells) or None.

    The header is the row (within the first rows) naming the most known fields; when the
    next row names more fields together with it (a two-row header under merged cells),
    both rows are combined column by column.
    """
    mapped_keys = {header_key(h) for h in mapped}

    def score(row: list[Any]) -> int:
        return score_header(row) + sum(1 for c in row if header_key(c) in mapped_keys)

    best, best_i = 0, -1
    for i, row in enumerate(rows[:_MAX_HEADER_SCAN]):
        s = score(row)
        if s > best:
            best, best_i = s, i
    if best < 2:
        return None
    header = list(rows[best_i])
    last = best_i
    # A second header row (under merged cells) must itself name at least two fields,
    # so that a data row with an "x" or "y" in it is never taken for a header.
    if best_i + 1 < len(rows) and score(rows[best_i + 1]) >= 2:
        nxt = rows[best_i + 1]
        width = max(len(header), len(nxt))
        combined = [
            (nxt[c] if c < len(nxt) and not _blank(nxt[c]) and score_header([nxt[c]]) else None)
            or (header[c] if c < len(header) else None)
            for c in range(width)
        ]
        if score(combined) > best:
            header, last = combined, best_i + 1
    return last, header


def _is_note(row: list[Any]) -> bool:
    filled = [v for v in row if not _blank(v)]
    if not filled:
        return False
    return len(filled) <= 2 and isinstance(filled[0], str) and bool(_NOTE_RE.match(filled[0]))


def _text(v: Any) -> str | None:
    if _blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return unicodedata.normalize("NFKC", str(v)).strip()


def _parse_dates(values: list[Any]) -> tuple[pd.Series, np.ndarray]:
    """Parse date cells (datetime, YYYY-MM-DD, YYYY/M/D, YYYY年M月D日, YYYY.M, YYYY).

    Returns the dates and a mask of non-blank cells that could not be parsed.
    """
    s = pd.Series(values, dtype=object)
    blank = s.map(_blank).to_numpy(dtype=bool)
    txt = s.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else _text(v) or "")
    norm = (
        txt.str.replace(r"[年月./]", "-", regex=True)
        .str.replace("日", "", regex=False)
        .str.strip("-")
        .str.replace(r"T00:00:00$", "", regex=True)
    )
    norm = norm.where(~norm.str.fullmatch(r"\d{4}"), norm + "-01-01")
    norm = norm.where(~norm.str.fullmatch(r"\d{4}-\d{1,2}"), norm + "-01")
    parsed = pd.to_datetime(norm, errors="coerce", format="mixed")
    bad = (~blank) & parsed.isna().to_numpy()
    return parsed.astype("datetime64[ns]"), bad


def _parse_flags(values: list[Any]) -> tuple[pd.Series, np.ndarray]:
    keys = [(_text(v) or "").lower() for v in values]
    out = pd.array(
        [True if k in _TRUE else False if k in _FALSE else None for k in keys], dtype="boolean"
    )
    bad = np.array([bool(k) and k not in _TRUE and k not in _FALSE for k in keys], dtype=bool)
    return pd.Series(out), bad


def _parse_numbers(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    s = pd.Series(values, dtype=object)
    blank = s.map(_blank).to_numpy(dtype=bool)
    txt = s.map(
        lambda v: (
            _NUM_JUNK.sub("", unicodedata.normalize("NFKC", str(v))) if not _blank(v) else None
        )
    )
    num = pd.to_numeric(txt, errors="coerce").to_numpy(dtype=float)
    bad = ~blank & ~np.isfinite(num)
    return num, bad


def table_to_facilities(
    table: RawTable,
    *,
    mapping: Mapping[str, str] | None = None,
    crs: str = "wgs84",
) -> tuple[pd.DataFrame, Findings]:
    """Turn one raw table into normalised facility rows and findings.

    Raises
    ------
    InputError
        When no header row can be found, or when the columns needed to place a facility
        (a type — or a sheet named after one — and coordinates or a unit/county name) are
        missing. The message lists the columns that were found.
    """
    findings = Findings()
    rows = table.rows
    hdr = _find_header(rows, mapping.values() if mapping else ())
    if hdr is None:
        # No row names two known fields: take the first non-blank row as the header so that
        # the error below can list the columns that were found.
        first = next(
            (i for i, r in enumerate(rows[:_MAX_HEADER_SCAN]) if not all(_blank(v) for v in r)),
            None,
        )
        hdr = (first, list(rows[first])) if first is not None else None
    if hdr is None:
        preview = [str(c) for r in rows[:3] for c in r if not _blank(c)][:12]
        raise InputError(
            f"找不到表头行（前几行内容：{', '.join(preview) or '空'}）",
            f"No header row found (first cells: {', '.join(preview) or 'empty'})",
            file=table.file,
            sheet=table.sheet,
            suggestion="表头应含 名称、类型、经度、纬度 或 所属镇(街道) 等列；也可用 --column 指定 / "
            "the header needs columns like 名称, 类型, 经度, 纬度 or 所属镇(街道); or map them with --column",
        )
    header_idx, header = hdr
    cols = recognise_columns(header, mapping)
    found_headers = [str(h) for h in header if not _blank(h)]
    sheet_type = table.sheet if "type_raw" not in cols else None
    has_location = ("lon" in cols and "lat" in cols) or "unit_name" in cols or "county_name" in cols
    if ("type_raw" not in cols and not sheet_type) or not has_location:
        need = []
        if "type_raw" not in cols and not sheet_type:
            need.append("类型/type")
        if not has_location:
            need.append("经度+纬度 或 所属镇(街道)/所属区县 / lon+lat or township/county")
        raise InputError(
            f"缺少必需的列：{'; '.join(need)}。找到的列：{', '.join(found_headers)}",
            f"Required columns missing: {'; '.join(need)}. Columns found: {', '.join(found_headers)}",
            file=table.file,
            sheet=table.sheet,
            row=table.first_row + header_idx,
            suggestion="用 --column 字段=列名 或 --columns 映射文件 指定 / map them with --column field=header or --columns FILE",
        )
    if ("lon" in cols) != ("lat" in cols):
        findings.add(
            Finding(
                "warning",
                "half_coordinates",
                "只找到经度或纬度之一，坐标未使用",
                "Only one of longitude/latitude found; coordinates not used",
                file=table.file,
                sheet=table.sheet,
                column=found_headers[0] if found_headers else None,
            )
        )
        cols.pop("lon", None)
        cols.pop("lat", None)

    # data rows: skip blanks and notes, keep the source row number
    data: list[list[Any]] = []
    row_numbers: list[int] = []
    n_blank = n_note = 0
    for i in range(header_idx + 1, len(rows)):
        row = rows[i]
        if all(_blank(v) for v in row):
            n_blank += 1
            continue
        if _is_note(row):
            n_note += 1
            findings.add(
                Finding(
                    "info",
                    "note_row_skipped",
                    "说明/注释行，非数据，已跳过",
                    "Note row, not data; skipped",
                    file=table.file,
                    sheet=table.sheet,
                    row=table.first_row + i,
                    value=_text(next(v for v in row if not _blank(v))),
                )
            )
            continue
        data.append(row)
        row_numbers.append(table.first_row + i)
    if n_blank:
        findings.add(
            Finding(
                "info",
                "blank_rows_skipped",
                f"跳过 {n_blank} 个空行",
                f"Skipped {n_blank} blank row(s)",
                file=table.file,
                sheet=table.sheet,
                count=n_blank,
            )
        )

    def column(field: str) -> list[Any]:
        pos = cols[field]
        return [r[pos] if pos < len(r) else None for r in data]

    n = len(data)
    out: dict[str, Any] = {
        "source_file": [table.file] * n,
        "source_sheet": [table.sheet] * n,
        "source_row": row_numbers,
    }
    errors: list[list[str]] = [[] for _ in range(n)]

    def err(
        rows_mask: np.ndarray, field: str, code: str, zh: str, en: str, values: list[Any]
    ) -> None:
        header_text = str(header[cols[field]]) if field in cols else FIELD_LABELS[field][0]
        for r in np.flatnonzero(rows_mask):
            errors[r].append(en)
            findings.add(
                Finding(
                    "error",
                    code,
                    zh,
                    en,
                    file=table.file,
                    sheet=table.sheet,
                    row=row_numbers[r],
                    column=header_text,
                    value=None if values[r] is None else str(values[r]),
                )
            )

    for fld in ("name", "type_raw", "address", "county_name", "unit_name", "status"):
        out[fld] = [_text(v) for v in column(fld)] if fld in cols else [None] * n
    if sheet_type:
        out["type_raw"] = [sheet_type] * n
    # coordinates
    if "lon" in cols:
        lon_raw, lat_raw = column("lon"), column("lat")
        lon, bad_lon = parse_coordinate_values(lon_raw)
        lat, bad_lat = parse_coordinate_values(lat_raw)
        err(bad_lon, "lon", "bad_coordinate", "经度无法解析", "Longitude cannot be parsed", lon_raw)
        err(
            bad_lat & ~bad_lon,
            "lat",
            "bad_coordinate",
            "纬度无法解析",
            "Latitude cannot be parsed",
            lat_raw,
        )
        half = np.isfinite(lon) ^ np.isfinite(lat)
        err(
            half & ~bad_lon & ~bad_lat,
            "lon",
            "half_coordinate",
            "只有经度或纬度之一",
            "Only one of longitude/latitude given",
            lon_raw,
        )
        swapped = detect_swapped(lon, lat)
        for r in np.flatnonzero(swapped):
            findings.add(
                Finding(
                    "warning",
                    "swapped_coordinates",
                    "经纬度填反，已自动交换",
                    "Longitude and latitude were swapped; fixed",
                    file=table.file,
                    sheet=table.sheet,
                    row=row_numbers[r],
                    column=str(header[cols["lon"]]),
                    value=f"{lon_raw[r]}, {lat_raw[r]}",
                )
            )
        lon, lat = np.where(swapped, lat, lon), np.where(swapped, lon, lat)
        both = np.isfinite(lon) & np.isfinite(lat)
        impossible = both & ~in_china(lon, lat)
        err(
            impossible,
            "lon",
            "coordinate_out_of_range",
            "坐标不在中国范围内（经度73–135，纬度18–54）",
            "Coordinates outside China (lon 73–135, lat 18–54)",
            [f"{a}, {b}" for a, b in zip(lon_raw, lat_raw, strict=True)],
        )
        lon = np.where(impossible | half, np.nan, lon)
        lat = np.where(impossible | half, np.nan, lat)
        src = normalize_source_crs(crs)
        if src not in ("wgs84", "cgcs2000"):
            lon, lat = to_wgs84(lon, lat, src)
        out["lon"], out["lat"] = lon, lat
    else:
        out["lon"] = out["lat"] = np.full(n, np.nan)
    for fld in ("opened", "closed"):
        if fld in cols:
            vals = column(fld)
            dates, bad = _parse_dates(vals)
            err(
                bad,
                fld,
                "bad_date",
                f"{FIELD_LABELS[fld][0]}无法解析为日期",
                f"{FIELD_LABELS[fld][1]} date cannot be parsed",
                vals,
            )
            out[fld] = dates
        else:
            out[fld] = pd.Series([pd.NaT] * n, dtype="datetime64[ns]")
    if "meets_standard" in cols:
        vals = column("meets_standard")
        flags, bad = _parse_flags(vals)
        err(
            bad,
            "meets_standard",
            "bad_flag",
            "是否达标应为 是/否",
            "Meets-standard must be 是/否 (yes/no)",
            vals,
        )
        out["meets_standard"] = flags
    else:
        out["meets_standard"] = pd.Series(pd.array([None] * n, dtype="boolean"))
    for fld in ("beds", "nursing_beds", "area_m2"):
        if fld in cols:
            vals = column(fld)
            num, bad = _parse_numbers(vals)
            err(
                bad,
                fld,
                "bad_number",
                f"{FIELD_LABELS[fld][0]}不是数字",
                f"{FIELD_LABELS[fld][1]} is not a number",
                vals,
            )
            out[fld] = num
        else:
            out[fld] = np.full(n, np.nan)
    out["row_error"] = ["; ".join(e) if e else None for e in errors]
    frame = pd.DataFrame({c: out[c] for c in FACILITY_COLUMNS if c in out})
    return coerce_facilities(frame), findings


def _vector_facilities(
    path: Path, *, layer: str | None, mapping: Mapping[str, str] | None
) -> tuple[pd.DataFrame, Findings]:
    from coverage_gis.io.boundaries import read_vector  # shares CRS handling

    gdf = read_vector(path, layer=layer)
    gdf = gdf.to_crs(4326)
    geom = gdf.geometry
    pts = geom.where(geom.geom_type == "Point", geom.representative_point())
    attrs = gdf.drop(columns=gdf.geometry.name)
    headers = list(attrs.columns)
    cols = recognise_columns(headers, mapping)
    n = len(gdf)
    data: dict[str, Any] = {
        "source_file": [str(path)] * n,
        "source_sheet": [layer] * n,
        "source_row": np.arange(1, n + 1),
    }
    for fld in (
        "name",
        "type_raw",
        "address",
        "county_name",
        "unit_name",
        "status",
        "beds",
        "nursing_beds",
        "area_m2",
    ):
        if fld in cols:
            data[fld] = attrs.iloc[:, cols[fld]].to_numpy()
    for fld in ("opened", "closed"):
        if fld in cols:
            data[fld] = _parse_dates(list(attrs.iloc[:, cols[fld]]))[0]
    if "meets_standard" in cols:
        data["meets_standard"] = _parse_flags(list(attrs.iloc[:, cols["meets_standard"]]))[0]
    data["lon"] = pts.x.to_numpy()
    data["lat"] = pts.y.to_numpy()
    if "type_raw" not in cols:
        raise InputError(
            f"缺少类型列；找到的列：{', '.join(map(str, headers))}",
            f"No type column; columns found: {', '.join(map(str, headers))}",
            file=str(path),
        )
    return coerce_facilities(pd.DataFrame(data)), Findings()


def read_facility_file(
    path: str | Path,
    *,
    sheets: Sequence[str] | None = None,
    layer: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs: str = "wgs84",
    encoding: str | None = None,
) -> tuple[pd.DataFrame, Findings]:
    """Read one facility file (every sheet of a workbook unless ``sheets`` is given).

    Sheets without a recognisable header (cover pages, pivot tables) are skipped with an
    info finding, unless no sheet has one, which is an error.
    """
    p = Path(path)
    if p.suffix.lower() in (".parquet", ".geoparquet"):  # bulk reader, no shapely per row
        from coverage_gis.io.geoparquet import read_facilities_parquet

        return read_facilities_parquet(p, mapping=mapping)
    if p.suffix.lower() in _VECTOR_SUFFIXES:
        return _vector_facilities(p, layer=layer, mapping=mapping)
    frames: list[pd.DataFrame] = []
    findings = Findings()
    tables = tables_from_file(p, sheets=sheets, encoding=encoding)
    first_error: InputError | None = None
    for table in tables:
        try:
            frame, f = table_to_facilities(table, mapping=mapping, crs=crs)
        except InputError as exc:
            if len(tables) == 1 or sheets:
                raise
            first_error = first_error or exc
            findings.add(
                Finding(
                    "info",
                    "sheet_skipped",
                    f"工作表未识别为设施名录，已跳过：{exc.message_zh}",
                    f"Sheet not recognised as a facility list; skipped: {exc.message_en}",
                    file=str(p),
                    sheet=table.sheet,
                )
            )
            continue
        frames.append(frame)
        findings.extend(f)
    if not frames:
        assert first_error is not None
        raise first_error
    return coerce_facilities(pd.concat(frames, ignore_index=True)), findings


def read_facilities(
    paths: Sequence[str | Path],
    *,
    mapping: Mapping[str, str] | None = None,
    crs: str | Mapping[str, str] = "wgs84",
    encoding: str | None = None,
) -> tuple[pd.DataFrame, Findings]:
    """Read several facility files into one normalised table.

    Parameters
    ----------
    paths
        Facility files (.xlsx, .csv, or vector files).
    mapping
        Explicit ``{field: header}`` column mapping applied to every file.
    crs
        Source coordinate system of the files (wgs84, cgcs2000, gcj02, bd09, EPSG:n), or a
        mapping ``{file name: crs}`` for per-file systems (unlisted files are wgs84).
    encoding
        Force a text encoding for CSV files (default: detect).
    """
    frames = [empty_facilities()]
    findings = Findings()
    for p in paths:
        file_crs = (
            crs.get(Path(p).name, crs.get(str(p), "wgs84")) if isinstance(crs, Mapping) else crs
        )
        frame, f = read_facility_file(p, mapping=mapping, crs=file_crs, encoding=encoding)
        frames.append(frame)
        findings.extend(f)
    return coerce_facilities(pd.concat(frames, ignore_index=True)), findings
