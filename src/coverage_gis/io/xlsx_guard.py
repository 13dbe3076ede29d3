"""Refuse workbooks whose used range would not fit in memory, before a reader opens them.

python-calamine (like every reader that builds a dense grid) allocates rows × columns of
the used range: one stray value in XFD1048576 makes that 17 billion cells, and the process
aborts. :func:`check_xlsx_extent` looks at the sheets' XML first:

* a cheap scan (one regular-expression search in C per megabyte) for any cell beyond
  column AZ or row 99 999; without one the grid is at most 52 × 99 999 cells;
* only when there is one, an exact scan of the cells that hold a value (self-closing
  ``<c …/>`` elements are formatted but empty and do not count).

A sheet whose used range exceeds :data:`MAX_CELLS` is refused with its size and the
farthest cell, so the user can delete it. Zip bombs are refused first
(:func:`coverage_gis.io.archive.check_archive`).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from coverage_gis.core.errors import InputError

__all__ = ["MAX_CELLS", "check_xlsx_extent"]

#: Largest used range (rows × columns) of one sheet that is read.
MAX_CELLS = 10_000_000

_FAR_CELL = re.compile(rb'<c r="(?:[A-Z]{3}|[B-Z][A-Z])[0-9]|<c r="[A-Z]{1,2}[0-9]{6}')
_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(/?)>')
_CHUNK = 1 << 20
_OVERLAP = 64  # longer than any cell reference the patterns look at


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _col_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _chunks(z: zipfile.ZipFile, name: str) -> list[bytes] | None:
    """The sheet's XML in consecutive chunks, or None when no cell lies far out."""
    chunks: list[bytes] = []
    far = False
    tail = b""
    with z.open(name) as fh:
        while chunk := fh.read(_CHUNK):
            far = far or _FAR_CELL.search(tail + chunk) is not None
            chunks.append(chunk)
            tail = chunk[-_OVERLAP:]
    return chunks if far else None


def _used_range(chunks: list[bytes]) -> tuple[int, int]:
    """Largest row and column of the cells that hold a value."""
    max_row = max_col = 0
    carry = b""
    for i, chunk in enumerate(chunks):
        data = carry + chunk
        cut = data.rfind(b"<c ") if i < len(chunks) - 1 else len(data)
        body, carry = (data[:cut], data[cut:]) if cut > 0 else (b"", data)
        for col, row, empty in _CELL.findall(body):
            if not empty:
                max_row = max(max_row, int(row))
                max_col = max(max_col, _col_number(col))
    return max_row, max_col


def _sheet_names(z: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet XML part → the sheet's name as Excel shows it (best effort)."""
    import html

    try:
        book = z.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}

    def attr(tag: str, key: str) -> str:
        m = re.search(rf'\s{key}="([^"]*)"', tag)
        return m.group(1) if m else ""

    targets = {attr(t, "Id"): attr(t, "Target") for t in re.findall(r"<Relationship\b[^>]*>", rels)}
    out = {}
    for tag in re.findall(r"<sheet\b[^>]*>", book):
        target = targets.get(attr(tag, "r:id"), "").lstrip("/")
        part = target if target.startswith("xl/") else f"xl/{target}"
        out[part] = html.unescape(attr(tag, "name"))
    return out


def check_xlsx_extent(path: str | Path) -> None:
    """Raise :class:`InputError` for a workbook a reader could not hold in memory.

    Raises
    ------
    InputError
        For a zip bomb or unsafe archive, and for a sheet whose used range holds more
        than :data:`MAX_CELLS` cells (the message gives the range and the farthest cell).
    """
    from coverage_gis.io.archive import check_archive

    p = Path(path)
    if not zipfile.is_zipfile(p):
        return  # not a workbook at all: the reader says so in its own words
    check_archive(p)
    try:
        z = zipfile.ZipFile(p)
    except zipfile.BadZipFile:
        return
    with z:
        sheets = [n for n in z.namelist() if re.match(r"xl/worksheets/[^/]+\.xml$", n)]
        names = _sheet_names(z)
        for name in sheets:
            chunks = _chunks(z, name)
            if chunks is None:
                continue
            rows, cols = _used_range(chunks)
            if rows * cols > MAX_CELLS:
                sheet = names.get(name, Path(name).stem)
                far = f"{_col_letters(cols)}{rows}"
                raise InputError(
                    f"工作表 {sheet} 的已用区域过大（{rows} 行 × {cols} 列，最远到 {far}），"
                    f"超过 {MAX_CELLS:,} 个单元格，无法读取",
                    f"Sheet {sheet} has a used range too large to read ({rows} rows × {cols} "
                    f"columns, up to {far}; more than {MAX_CELLS:,} cells)",
                    file=str(p),
                    sheet=sheet,
                    value=far,
                    suggestion=f"在 Excel 中删除 {far} 等远处单元格的内容后另存 / delete far-away "
                    f"cells such as {far} in Excel and save again",
                )
