"""Reading facility lists: Excel workbooks, CSV files, vector files and GeoParquet.

Each reader gets the cells of a table as fast as its format allows — CSV through pyarrow
after encoding detection (the csv module for odd files), Excel through python-calamine
(merged header cells filled), vector files through pyogrio's Arrow interface, GeoParquet
through pyarrow — finds the header row (title rows above it, merged header cells over two
rows), recognises columns by their Chinese or English names (:mod:`coverage_gis.io.columns`)
and hands the raw columns to the one normaliser, :mod:`coverage_gis.io.normalise`, which
skips blank and note rows, parses coordinates, dates, flags and numbers and reports every
value it cannot read, identically for every format. A row with an error keeps its place
with ``row_error`` set, so it is accounted for as excluded.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage_gis._memory import release_unused_memory
from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding, Findings
from coverage_gis.core.schema import coerce_facilities, empty_facilities
from coverage_gis.io.columns import (
    MAX_HEADER_SCAN,
    ambiguity_error,
    ambiguous_columns,
    blank_cell,
    drop_half_coordinates,
    find_header,
    named_fields,
    recognise_columns,
)
from coverage_gis.io.encoding import read_text
from coverage_gis.io.normalise import RawColumns, normalise_facilities

__all__ = [
    "RawTable",
    "raw_columns_from_table",
    "read_facilities",
    "read_facility_file",
    "table_to_facilities",
    "tables_from_file",
]

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


def _open_calamine(path: Path, what: tuple[str, str]) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise InputError(f"{what[0]}：{exc}", f"{what[1]}: {exc}", file=str(path)) from exc


def _spreadsheet_tables(
    path: Path, sheets: Sequence[str] | None, max_rows: int | None = None
) -> list[RawTable]:
    """Every (chosen) sheet of an .xlsx/.xlsm/.xls/.ods workbook through python-calamine.

    Merged ranges in the first rows are filled, so that a merged header cell names every
    column it spans.
    """
    xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    if xlsx:
        from coverage_gis.io.xlsx_guard import check_xlsx_extent

        check_xlsx_extent(path)  # a stray far-away cell would make calamine abort the process
    what = (
        ("无法打开 Excel 文件", "Cannot open Excel file")
        if xlsx
        else ("无法打开表格文件", "Cannot open spreadsheet")
    )
    wb = _open_calamine(path, what)
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
        try:
            sheet = wb.get_sheet_by_name(name)
            # rows from A1 (skip_empty_area=False), so indices are the rows the user sees
            if max_rows is None:
                rows = sheet.to_python(skip_empty_area=False)
            else:
                rows = sheet.to_python(skip_empty_area=False, nrows=max_rows)
            merged = getattr(sheet, "merged_cell_ranges", None) or []
        except Exception as exc:  # calamine raises its own error types
            raise InputError(
                f"{what[0]}：{exc}", f"{what[1]}: {exc}", file=str(path), sheet=name
            ) from exc
        rows = [list(r) for r in rows]
        for (r0, c0), (r1, c1) in merged:
            if r0 >= MAX_HEADER_SCAN or r0 >= len(rows):
                continue
            value = rows[r0][c0] if c0 < len(rows[r0]) else None
            for r in range(r0, min(r1, MAX_HEADER_SCAN - 1, len(rows) - 1) + 1):
                for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                    rows[r][c] = value
        out.append(RawTable(str(path), name, rows))
    return out


def _sniff(sample: str) -> Any:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


#: Longest CSV cell read (the csv module's default of 128 KiB refuses long text cells).
_MAX_CSV_FIELD = 1 << 28


def _records(text: str, dialect: Any, file: str = "") -> Iterator[tuple[list[str], int]]:
    """CSV records with the character offset just after each (any line ending)."""
    f = io.StringIO(text, newline="")

    def lines() -> Iterator[str]:
        while line := f.readline():
            yield line

    if csv.field_size_limit() < _MAX_CSV_FIELD:
        csv.field_size_limit(_MAX_CSV_FIELD)
    reader = csv.reader(lines(), dialect)
    try:
        for row in reader:
            yield row, f.tell()
    except csv.Error as exc:
        raise InputError(
            f"CSV 文件格式错误：{exc}",
            f"Malformed CSV file: {exc}",
            file=file or None,
            row=reader.line_num,
        ) from exc


#: Bytes read for a preview of the first rows of a CSV file.
_PREVIEW_BYTES = 1 << 20


def _csv_table(path: Path, encoding: str | None, max_rows: int | None = None) -> RawTable:
    text, _enc = read_text(path, encoding, max_bytes=_PREVIEW_BYTES if max_rows else None)
    dialect = _sniff(text[:4096])
    rows = []
    for row, _end in _records(text, dialect, str(path)):
        rows.append(row)
        if max_rows is not None and len(rows) >= max_rows:
            break
    return RawTable(str(path), None, rows)


def tables_from_file(
    path: str | Path,
    *,
    sheets: Sequence[str] | None = None,
    encoding: str | None = None,
    max_rows: int | None = None,
) -> list[RawTable]:
    """Read the raw cells of a CSV/TXT file or of each (chosen) sheet of a workbook.

    ``max_rows`` reads only the first rows of each table (for previews).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("文件不存在", "File not found", file=str(p))
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return _spreadsheet_tables(p, sheets, max_rows)
    if suffix in (".csv", ".txt", ".tsv"):
        return [_csv_table(p, encoding, max_rows)]
    raise InputError(
        f"不支持的设施文件格式：{suffix}",
        f"Unsupported facility file format: {suffix}",
        file=str(p),
        suggestion="支持 .xlsx .csv .geojson .gpkg .shp .kml / supported: .xlsx .csv .geojson .gpkg .shp .kml",
    )


def _header_fields(
    rows: list[list[Any]],
    *,
    file: str,
    sheet: str | None,
    first_row: int,
    mapping: Mapping[str, str] | None,
) -> tuple[int, list[Any], dict[str, int]]:
    """Find the header among the first rows and recognise its columns.

    Raises
    ------
    InputError
        When no header row can be found, or when the columns needed to place a facility
        (a type — or a sheet named after one — and coordinates or a unit/county name) are
        missing. The message lists the columns that were found.
    """
    hdr = find_header(rows, mapping.values() if mapping else ())
    if hdr is None:
        # No row names two known fields: take the first non-blank row as the header so that
        # the error below can list the columns that were found.
        first = next(
            (i for i, r in enumerate(rows[:MAX_HEADER_SCAN]) if not all(blank_cell(v) for v in r)),
            None,
        )
        hdr = (first, list(rows[first])) if first is not None else None
    if hdr is None:
        preview = [str(c) for r in rows[:3] for c in r if not blank_cell(c)][:12]
        raise InputError(
            f"找不到表头行（前几行内容：{', '.join(preview) or '空'}）",
            f"No header row found (first cells: {', '.join(preview) or 'empty'})",
            file=file,
            sheet=sheet,
            suggestion="表头应含 名称、类型、经度、纬度 或 所属镇(街道) 等列；也可用 --column 指定 / "
            "the header needs columns like 名称, 类型, 经度, 纬度 or 所属镇(街道); or map them with --column",
        )
    header_idx, header = hdr
    ambiguous = ambiguous_columns(header, mapping)
    if ambiguous:
        raise ambiguity_error(ambiguous, header, file=file, sheet=sheet, row=first_row + header_idx)
    cols = recognise_columns(header, mapping)
    found_headers = [str(h) for h in header if not blank_cell(h)]
    sheet_type = sheet if "type_raw" not in cols else None
    has_location = (
        ("lon" in cols and "lat" in cols)
        or "lonlat" in cols
        or "unit_name" in cols
        or "county_name" in cols
    )
    if ("type_raw" not in cols and not sheet_type) or not has_location:
        need = []
        if "type_raw" not in cols and not sheet_type:
            need.append("类型/type")
        if not has_location:
            need.append("经度+纬度 或 所属镇(街道)/所属区县 / lon+lat or township/county")
        raise InputError(
            f"缺少必需的列：{'; '.join(need)}。找到的列：{', '.join(found_headers)}",
            f"Required columns missing: {'; '.join(need)}. Columns found: {', '.join(found_headers)}",
            file=file,
            sheet=sheet,
            row=first_row + header_idx,
            suggestion="用 --column 字段=列名 或 --columns 映射文件 指定 / map them with --column field=header or --columns FILE",
        )
    return header_idx, header, cols


def raw_columns_from_table(
    table: RawTable, *, mapping: Mapping[str, str] | None = None
) -> tuple[RawColumns, Findings]:
    """The raw columns under the header of a table of cells (see :class:`RawColumns`)."""
    rows = table.rows
    header_idx, header, cols = _header_fields(
        rows, file=table.file, sheet=table.sheet, first_row=table.first_row, mapping=mapping
    )
    findings = drop_half_coordinates(cols, header, table.file, table.sheet)
    data = rows[header_idx + 1 :]
    width = max([len(header), *(len(r) for r in data)]) if data else len(header)
    columns: list[Any] = []
    for c in zip_longest(*data, fillvalue=None) if data else []:
        arr = np.empty(len(data), dtype=object)
        arr[:] = c
        columns.append(arr)
    while len(columns) < width:
        columns.append(np.full(len(data), None, dtype=object))
    headers = [
        (None if blank_cell(header[i]) else str(header[i])) if i < len(header) else None
        for i in range(width)
    ]
    start = table.first_row + header_idx + 1
    raw = RawColumns(
        file=table.file,
        sheet=table.sheet,
        columns=columns,
        headers=headers,
        fields=cols,
        source_row=np.arange(start, start + len(data), dtype=np.int64),
        sheet_type=table.sheet if "type_raw" not in cols else None,
    )
    return raw, findings


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
        As :func:`raw_columns_from_table` (no header, required columns missing).
    """
    raw, findings = raw_columns_from_table(table, mapping=mapping)
    frame, f = normalise_facilities(raw, crs=crs)
    findings.extend(f)
    return frame, findings


_EMPTY_LINE = re.compile(r"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def _csv_raw_columns(
    path: Path, encoding: str | None, mapping: Mapping[str, str] | None
) -> tuple[RawColumns, Findings]:
    """A CSV file's raw columns: header found with the csv module, the body read by pyarrow.

    Files that pyarrow would read differently from the csv module — empty lines in the
    body, rows of another width than the first ones — are read wholly with the csv module,
    so that every row keeps the number the user sees.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text, _enc = read_text(path, encoding)
    dialect = _sniff(text[:4096])
    head: list[list[str]] = []
    ends: list[int] = []
    for row, end in _records(text, dialect, str(path)):
        head.append(row)
        ends.append(end)
        if len(head) >= MAX_HEADER_SCAN + 2:
            break
    table = RawTable(str(path), None, head)
    header_idx, header, cols = _header_fields(
        head, file=table.file, sheet=None, first_row=1, mapping=mapping
    )
    body = text[ends[header_idx] :]
    width = max(len(r) for r in head)
    invalid: list[Any] = []
    fallback = bool(_EMPTY_LINE.search(body.rstrip("\r\n"))) or body[:1] in ("\r", "\n")
    fallback = fallback or dialect.escapechar is not None or not body.strip()
    arrow_table = None
    if not fallback:

        def on_invalid(row: Any) -> str:
            invalid.append(row)
            return "skip"

        names = [f"c{i}" for i in range(width)]
        try:
            arrow_table = pacsv.read_csv(
                io.BytesIO(body.encode("utf-8")),
                read_options=pacsv.ReadOptions(column_names=names),
                parse_options=pacsv.ParseOptions(
                    delimiter=dialect.delimiter,
                    quote_char=dialect.quotechar or False,
                    double_quote=bool(dialect.doublequote),
                    newlines_in_values=(dialect.quotechar or '"') in body,
                    ignore_empty_lines=True,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError):
            arrow_table = None
    if arrow_table is None or invalid:
        rows = [row for row, _end in _records(text, dialect, str(path))]
        return raw_columns_from_table(RawTable(str(path), None, rows), mapping=mapping)
    findings = drop_half_coordinates(cols, header, table.file, None)
    headers = [
        (None if blank_cell(header[i]) else str(header[i])) if i < len(header) else None
        for i in range(width)
    ]
    start = header_idx + 2
    raw = RawColumns(
        file=str(path),
        sheet=None,
        columns=[arrow_table.column(i) for i in range(width)],
        headers=headers,
        fields=cols,
        source_row=np.arange(start, start + arrow_table.num_rows, dtype=np.int64),
    )
    return raw, findings


def vector_raw_columns(
    file: str,
    sheet: str | None,
    table: Any,
    lon: np.ndarray,
    lat: np.ndarray,
    mapping: Mapping[str, str] | None,
    *,
    start: int = 1,
) -> RawColumns:
    """Raw columns of an attribute table (Arrow) whose rows are features with points.

    Raises
    ------
    InputError
        When no column names the facility type (the message lists the columns found).
    """
    headers = [str(c) for c in table.column_names]
    cols = named_fields(headers, mapping, file)
    cols.pop("lon", None)  # the geometry places the feature
    cols.pop("lat", None)
    if "type_raw" not in cols:
        raise InputError(
            f"缺少类型列；找到的列：{', '.join(headers)}",
            f"No type column; columns found: {', '.join(headers)}",
            file=file,
            sheet=sheet,
            suggestion="用 --column type_raw=列名 指定 / map it with --column type_raw=HEADER",
        )
    return RawColumns(
        file=file,
        sheet=sheet,
        columns=[table.column(i) for i in range(table.num_columns)],
        headers=list(headers),
        fields=cols,
        source_row=np.arange(start, start + table.num_rows, dtype=np.int64),
        xy=(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)),
    )


def _vector_facilities(
    path: Path, *, layer: str | None, mapping: Mapping[str, str] | None, crs: str = "wgs84"
) -> tuple[pd.DataFrame, Findings]:
    from coverage_gis.core.coordsys import normalize_source_crs
    from coverage_gis.io.vector import read_vector_arrow

    # A projected EPSG code declares the file's CRS; gcj02/bd09 shift its coordinates.
    source = normalize_source_crs(crs)
    file_crs = source if source.startswith("EPSG:") else None
    table, lon, lat, layer_read = read_vector_arrow(path, layer=layer, crs=file_crs)
    raw = vector_raw_columns(str(path), layer_read, table, lon, lat, mapping)
    return normalise_facilities(raw, crs="wgs84" if file_crs else crs)


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
    try:
        return _read_facility_file(
            Path(path), sheets=sheets, layer=layer, mapping=mapping, crs=crs, encoding=encoding
        )
    finally:  # the decoded file's pages (Arrow's pool, the reader thread's heap)
        release_unused_memory()


def _read_facility_file(
    p: Path,
    *,
    sheets: Sequence[str] | None,
    layer: str | None,
    mapping: Mapping[str, str] | None,
    crs: str,
    encoding: str | None,
) -> tuple[pd.DataFrame, Findings]:
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        from coverage_gis.io.geoparquet import read_facilities_parquet

        return read_facilities_parquet(p, mapping=mapping, crs=crs)
    if suffix in _VECTOR_SUFFIXES:
        return _vector_facilities(p, layer=layer, mapping=mapping, crs=crs)
    if suffix in (".csv", ".txt", ".tsv"):
        if not p.exists():
            raise InputError("文件不存在", "File not found", file=str(p))
        raw, findings = _csv_raw_columns(p, encoding, mapping)
        frame, f = normalise_facilities(raw, crs=crs)
        findings.extend(f)
        return frame, findings
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
    if len(frames) == 1:
        return frames[0], findings
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
