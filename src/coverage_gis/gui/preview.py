"""Look at a facility file before reading it: raw first rows and recognised columns.

Used to decide whether the column/CRS mapping dialog is needed, and to fill its preview.
Runs in a worker; no Qt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coverage_gis.io.columns import header_key, recognise_columns, score_header
from coverage_gis.io.facilities import tables_from_file

__all__ = ["PREVIEW_ROWS", "VECTOR_SUFFIXES", "FilePreview", "preview_facility_file"]

#: Number of raw rows kept for the preview.
PREVIEW_ROWS = 30
#: Facility files read as vector layers (columns come from attributes, no preview).
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".parquet", ".geoparquet"}
_SCAN = 20


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v != v:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    return str(v).strip()


@dataclass
class FilePreview:
    """First rows of one facility table and what the reader would recognise.

    Attributes
    ----------
    path, sheet
        Source file and sheet (``None`` for CSV).
    rows
        The first rows, as text.
    first_row
        Row number (1-based, as in Excel) of ``rows[0]``.
    header_index
        Index in ``rows`` of the detected header row (``None`` if no row looks like one).
    recognised
        ``{field: column position}`` recognised in the header row.
    reasons
        Why the columns are uncertain, as ``(zh, en)`` pairs (empty when they are fine).
    """

    path: str
    sheet: str | None
    rows: list[list[str]]
    first_row: int = 1
    header_index: int | None = None
    recognised: dict[str, int] = field(default_factory=dict)
    reasons: list[tuple[str, str]] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        """Texts of the header row (empty when no header row was found)."""
        return [] if self.header_index is None else self.rows[self.header_index]

    @property
    def uncertain(self) -> bool:
        """True when the user should confirm the columns."""
        return bool(self.reasons)

    def set_header_index(self, index: int) -> None:
        """Use another row as the header and recognise its columns again."""
        self.header_index = index
        headers = self.rows[index]
        self.recognised = recognise_columns(headers) if any(headers) else {}
        self.reasons = _reasons(self.recognised)

    def header_keys(self) -> list[str]:
        """Normalised header keys (to check a mapping against)."""
        return [header_key(h) for h in self.headers]


def _reasons(recognised: dict[str, int]) -> list[tuple[str, str]]:
    out = []
    if "type_raw" not in recognised:
        out.append(("未识别出“类型”列", "no 'type' column recognised"))
    has_xy = "lon" in recognised and "lat" in recognised
    if not has_xy and "unit_name" not in recognised:
        out.append(
            (
                "未识别出经纬度列，也没有“所属镇(街道)”列",
                "no longitude/latitude columns and no township column recognised",
            )
        )
    return out


def preview_facility_file(path: str | Path, *, encoding: str | None = None) -> list[FilePreview]:
    """Raw first rows of each table of a facility file (empty list for vector files)."""
    p = Path(path)
    if p.suffix.lower() in VECTOR_SUFFIXES:
        return []
    out = []
    for table in tables_from_file(p, encoding=encoding, max_rows=PREVIEW_ROWS):
        rows = [[_cell(c) for c in r] for r in table.rows[:PREVIEW_ROWS]]
        width = max((len(r) for r in rows), default=0)
        rows = [r + [""] * (width - len(r)) for r in rows]
        best, best_i = 0, None
        for i, r in enumerate(rows[:_SCAN]):
            s = score_header(r)
            if s > best:
                best, best_i = s, i
        prev = FilePreview(str(p), table.sheet, rows, table.first_row)
        if best_i is not None and best >= 2:
            prev.set_header_index(best_i)
        else:
            prev.reasons = [("找不到表头行", "no header row found")]
            first = next((i for i, r in enumerate(rows) if any(r)), None)
            if first is not None:
                prev.header_index = first
                prev.recognised = recognise_columns(rows[first])
        out.append(prev)
    return out
