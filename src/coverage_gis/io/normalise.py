"""One column-wise normaliser for facility tables from every format.

Every facility reader — CSV (pyarrow, or the csv module for odd files), Excel (calamine),
vector files (pyogrio's Arrow interface) and GeoParquet (pyarrow) — hands the cells it read
to :func:`normalise_facilities` as :class:`RawColumns`: one raw column per source column
(an Arrow array, or a sequence of Python cell values), the recognised fields, the row
numbers the user sees and, for vector files, the point coordinates of the geometry. So the
same raw value is parsed the same way, and gives the same finding, whatever file it came in.

How a column is normalised
--------------------------
Each distinct value is parsed once: a column is factorised (Arrow ``dictionary_encode`` or
:func:`pandas.factorize`), its distinct values are parsed, and the results are taken back
to the rows. Free text with nearly every value distinct (names, addresses) is normalised
in Arrow compute (NFKC, trimmed) without a Python object per row.

* **Text** (NFKC, trimmed; blank → missing; an integral number such as ``12.0`` → ``"12"``).
* **Blank and note rows** of tables are skipped: a row whose every cell is blank, and a row
  of at most two filled cells whose first one starts like ``注：`` / ``备注`` / ``数据来源``.
* **Dates**: date cells; ``YYYY-MM-DD``, ``YYYY/M/D``, ``YYYY年M月D日``, ``YYYY.M(.D)``,
  ``YYYY年M月``, ``YYYY`` (optionally followed by a time); ``YYYYMMDD`` and ``YYYYMM``;
  Excel serial day numbers (``44197`` = 2021-01-01, as a number or as text, 10000–99999).
  Anything else is a ``bad_date`` error.
* **Flags** (是否达标): 是/否, 达标/未达标, 标准化, 省级标准, yes/no, 1/0, ✓/✗ … else ``bad_flag``.
* **Numbers**: ``30张``, ``1,200``, ``45 ㎡`` are read; anything else is ``bad_number``.
* **Coordinates**: decimal degrees (a decimal comma too: ``120,62``), 度分秒 text, or one
  ``经度,纬度`` cell under a 坐标 header; a swapped pair (lat, lon) is fixed with a
  warning; a pair outside China's box is an error; GCJ-02/BD-09 are converted to WGS84.
  The checks apply to coordinates from a geometry column too.

A row with an error keeps its place with ``row_error`` set, so it is accounted for as
excluded. Row-level findings are built only for the rows that fail; above
:data:`MAX_ROW_FINDINGS` rows of one problem, the first :data:`SHOWN_ROW_FINDINGS` are
listed one by one and one more finding gives the count of the rest.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import threading
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coverage_gis._memory import release_unused_memory
from coverage_gis._threads import pool as threads
from coverage_gis.core.coordsys import normalize_source_crs, to_wgs84
from coverage_gis.core.findings import Finding, Findings
from coverage_gis.core.schema import TEXT_DTYPE, coerce_column, facility_frame
from coverage_gis.core.vocabularies import vocabulary
from coverage_gis.io.columns import FIELD_LABELS
from coverage_gis.io.coords import (
    OUT_OF_CHINA_EN,
    OUT_OF_CHINA_ZH,
    detect_swapped,
    in_china,
    parse_coordinate_values,
)

__all__ = [
    "MAX_ROW_FINDINGS",
    "SHOWN_ROW_FINDINGS",
    "RawColumns",
    "cell_text",
    "cell_texts",
    "normalise_facilities",
    "parse_coordinates",
    "parse_date_values",
    "parse_flag_values",
    "parse_number_values",
]

#: Above this many rows with the same problem, only the first rows are listed one by one.
MAX_ROW_FINDINGS = 1000
#: Rows listed one by one when a problem affects more than :data:`MAX_ROW_FINDINGS` rows.
SHOWN_ROW_FINDINGS = 100

NOTE_RE = re.compile(
    r"^\s*(注|备注|说明|附注|数据来源|资料来源|填表|制表|审核|note)\s*[:：0-9一二三、.]", re.I
)
#: Flag words read as yes / no (``resources/vocabularies.toml``, normalised lower case).
TRUE_WORDS = vocabulary("flag", "true")
FALSE_WORDS = vocabulary("flag", "false")
_NUM_JUNK = re.compile(r"[,，\s张个床㎡]|平方米|m2|m²", re.I)
_DATE_RE = re.compile(
    r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_RANGE = (10_000, 100_000)  # 1927-05-18 .. 2173-10-14
_YEAR_RANGE = (1900, 2100)
_BLANK_CHARS = " \t\r\n\u3000\xa0"
#: Characters that are blank after NFKC (which maps U+2000–U+200A, U+202F, U+205F to a space).
_TRIM_CHARS = _BLANK_CHARS + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f"

_TEXT_FIELDS = ("name", "type_raw", "address", "county_name", "unit_name", "status")
_FREE_TEXT = ("name", "address")
_NUMBER_FIELDS = ("beds", "nursing_beds", "area_m2")


@dataclass
class RawColumns:
    """The cells of one facility table as read, before normalisation.

    Parameters
    ----------
    file, sheet
        Where the table came from (``sheet`` is the sheet or layer name, or None).
    columns
        Every column of the table in source order: an Arrow array / chunked array, a numpy
        object array, or a list of cell values (str, numbers, dates, None …), all of the
        same length.
    headers
        The header text of each column (as shown in messages).
    fields
        ``{field: column position}`` of the recognised facility fields.
    source_row
        The row number the user sees for each row (Excel row, CSV record, feature number).
    xy
        ``(lon, lat)`` of each row's point geometry in WGS84 (NaN where missing), for vector
        files; None when coordinates come from columns.
    sheet_type
        The facility type named by the sheet, used when there is no type column.
    """

    file: str
    sheet: str | None
    columns: list[Any]
    headers: list[str | None]
    fields: dict[str, int]
    source_row: np.ndarray
    xy: tuple[np.ndarray, np.ndarray] | None = None
    sheet_type: str | None = None

    @property
    def n_rows(self) -> int:
        """Number of rows (before blank and note rows are skipped)."""
        return len(self.source_row)


@dataclass
class _Problem:
    """Rows that share one problem, before findings are built (see :func:`_build_findings`)."""

    severity: str
    code: str
    zh: str
    en: str
    column: str | None
    rows: np.ndarray  # positions in the output table
    values: list[str | None]  # the cell text shown, for a prefix of the rows (the shown ones)
    row_error: bool  # whether the rows are excluded with this message


@dataclass
class _Normalised:
    frame: pd.DataFrame
    findings: Findings = field(default_factory=Findings)  # table-level (blank rows, notes)
    problems: list[_Problem] = field(default_factory=list)


# --------------------------------------------------------------------------- cell values


def _is_blank_value(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip(_BLANK_CHARS)


def cell_text(v: Any) -> str | None:
    """The text of one cell: NFKC, trimmed, ``None`` when blank; ``12.0`` → ``"12"``."""
    if _is_blank_value(v):
        return None
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if (isinstance(v, float | np.floating) and float(v).is_integer()) or isinstance(v, np.integer):
        v = int(v)
    elif isinstance(v, dt.datetime | pd.Timestamp):
        v = v.isoformat(sep=" ") if (v.hour or v.minute or v.second) else v.date().isoformat()
    text = unicodedata.normalize("NFKC", str(v)).strip(_BLANK_CHARS)
    return text or None


#: Text made only of printable ASCII and CJK unified ideographs is its own NFKC form.
_NFKC_STABLE = r"^[\x{20}-\x{7e}\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}]*$"


def nfkc(arr: Any) -> Any:
    """NFKC of an Arrow string array, computed only for the values that can change.

    Names and addresses are mostly ASCII and CJK ideographs, which NFKC leaves as they
    are; only values with other characters (full-width ``（）``, ``Ａ``, U+3000 …) pay.
    """
    import pyarrow.compute as pc

    stable = pc.match_substring_regex(arr, _NFKC_STABLE).fill_null(True)
    changing = pc.invert(stable)
    if not pc.any(changing).as_py():
        return arr
    return pc.replace_with_mask(arr, changing, pc.utf8_normalize(arr.filter(changing), form="NFKC"))


def cell_texts(values: Sequence[Any]) -> list[str | None]:
    """:func:`cell_text` of many values; text is normalised in Arrow compute, in bulk."""
    vals = list(values)
    if len(vals) < 64 or not all(type(v) is str for v in vals):
        return [cell_text(v) for v in vals]
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.utf8_trim(nfkc(pa.array(vals, type=pa.string())), characters=_BLANK_CHARS)
    return [t or None for t in arr.to_pylist()]


def _factorize(col: Any) -> tuple[np.ndarray, list[Any]]:
    """``(codes, uniques)`` of a raw column: -1 marks a missing cell; uniques as Python values."""
    codes, uniques, _dictionary = _factorize_keeping_dictionary(col)
    return codes, uniques


def _factorize_keeping_dictionary(col: Any) -> tuple[np.ndarray, list[Any], Any]:
    """:func:`_factorize` and, for an Arrow column, the Arrow array of the uniques."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray | pa.Array):
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        if not pa.types.is_dictionary(arr.type):
            if pa.types.is_null(arr.type):
                return np.full(len(arr), -1, dtype=np.int64), [], None
            arr = pc.dictionary_encode(arr)
        codes = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, arr.dictionary.to_pylist(), arr.dictionary
    values = col if isinstance(col, np.ndarray) and col.dtype == object else None
    if values is None:
        values = np.empty(len(col), dtype=object)
        values[:] = list(col)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64), list(uniques), None


def _take(table: np.ndarray, codes: np.ndarray, missing: Any) -> np.ndarray:
    """``table[codes]`` with ``missing`` where the code is -1."""
    out = np.empty(len(table) + 1, dtype=table.dtype)
    out[:-1] = table
    out[-1] = missing
    return out[codes]


class _Column:
    """One raw column with its distinct values, parsed lazily and once."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._fact: tuple[np.ndarray, list[Any]] | None = None
        self._dictionary: Any = None
        self._texts: list[str | None] | None = None
        self._arrow_text: Any = False  # not computed yet

    @property
    def is_arrow(self) -> bool:
        import pyarrow as pa

        return isinstance(self.raw, pa.ChunkedArray | pa.Array)

    def factorized(self) -> tuple[np.ndarray, list[Any]]:
        if self._fact is None:
            codes, uniques, self._dictionary = _factorize_keeping_dictionary(self.raw)
            self._fact = (codes, uniques)
        return self._fact

    def arrow_uniques(self) -> Any:
        """The distinct values as an Arrow string array, in the order of
        ``factorized()[1]``, or None when the column is not Arrow text."""
        import pyarrow as pa

        self.factorized()
        d = self._dictionary
        if d is None or not (pa.types.is_string(d.type) or pa.types.is_large_string(d.type)):
            return None
        return d

    def unique_texts(self) -> list[str | None]:
        if self._texts is None:
            self._texts = cell_texts(self.factorized()[1])
        return self._texts

    def cells(self, codes: np.ndarray) -> list[str | None]:
        """Cell text for the given codes (-1: blank), converting only those values."""
        if self._texts is not None:
            return [self._texts[c] if c >= 0 else None for c in codes]
        uniques = self.factorized()[1]
        return [cell_text(uniques[c]) if c >= 0 else None for c in codes]

    def text_at(self, rows: np.ndarray) -> list[str | None]:
        """Cell text of the given rows."""
        if self.is_arrow and self._fact is None:
            import pyarrow as pa

            taken = self.raw.take(pa.array(rows, type=pa.int64()))
            return [cell_text(v) for v in taken.to_pylist()]
        codes, _ = self.factorized()
        texts = self.unique_texts()
        return [texts[c] if c >= 0 else None for c in codes[rows]]

    def arrow_text(self) -> Any:
        """Arrow string array of the normalised text (nulls for blanks), built in C."""
        if self._arrow_text is False:
            self._arrow_text = self._make_arrow_text()
        return self._arrow_text

    def _make_arrow_text(self) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = self.raw.combine_chunks() if isinstance(self.raw, pa.ChunkedArray) else self.raw
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return None
        arr = pc.utf8_trim(nfkc(arr), characters=_BLANK_CHARS)
        return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)

    def mostly_distinct(self) -> bool:
        """True for an Arrow column whose values are mostly distinct (names, addresses)."""
        if not self.is_arrow or self._fact is not None:
            return False
        import pyarrow.compute as pc

        head = self.raw.slice(0, 10_000)
        return len(head) > 0 and pc.count_distinct(head).as_py() > 0.5 * len(head)

    def nonblank(self) -> np.ndarray:
        """True for the rows whose cell is not blank."""
        if self.mostly_distinct():
            import pyarrow as pa
            import pyarrow.compute as pc

            arr = self.raw.combine_chunks() if isinstance(self.raw, pa.ChunkedArray) else self.raw
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                # blank after NFKC and trimming = blank after trimming what NFKC makes a space
                trimmed = pc.utf8_trim(arr, characters=_TRIM_CHARS)
                filled = pc.and_kleene(pc.is_valid(trimmed), pc.not_equal(trimmed, ""))
                return filled.fill_null(False).to_numpy(zero_copy_only=False)
        codes, _ = self.factorized()
        filled = np.array([t is not None for t in self.unique_texts()] + [False], dtype=bool)
        return filled[codes]


# --------------------------------------------------------------------------- value parsers


def _serial_or_compact_date(number: float) -> dt.date | None:
    """A whole-number cell read as a date: a year, an Excel serial day, YYYYMM or YYYYMMDD."""
    if not math.isfinite(number):
        return None
    if number.is_integer():
        k = int(number)
        if _YEAR_RANGE[0] <= k <= _YEAR_RANGE[1]:
            return dt.date(k, 1, 1)
        if _SERIAL_RANGE[0] <= k < _SERIAL_RANGE[1]:
            return _EXCEL_EPOCH + dt.timedelta(days=k)
        text = str(k)
        try:
            if len(text) == 8:
                d = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            elif len(text) == 6:
                d = dt.date(int(text[:4]), int(text[4:]), 1)
            else:
                return None
        except ValueError:
            return None
        return d if _YEAR_RANGE[0] <= d.year <= _YEAR_RANGE[1] else None
    if _SERIAL_RANGE[0] <= number < _SERIAL_RANGE[1]:  # a date-time serial
        return _EXCEL_EPOCH + dt.timedelta(days=math.floor(number))
    return None


def _parse_date(value: Any) -> dt.datetime | bool | None:
    """One date cell: a datetime, ``None`` when blank, ``False`` when it cannot be read."""
    if _is_blank_value(value):
        return None
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, numbers.Real):
        d = _serial_or_compact_date(float(value))
        return dt.datetime(d.year, d.month, d.day) if d else False
    text = cell_text(value)
    if text is None:
        return None
    if text.isdigit():
        d = _serial_or_compact_date(float(text))
        return dt.datetime(d.year, d.month, d.day) if d else False
    norm = re.sub(r"[年月./]", "-", text).replace("日", "").replace("号", "").strip("-").strip()
    norm = re.sub(r"\s*-\s*", "-", norm)
    m = _DATE_RE.match(norm)
    if not m:
        return False
    year, month, day = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        d = dt.date(year, month, day)
    except ValueError:
        return False
    if not (_YEAR_RANGE[0] <= year <= _YEAR_RANGE[1]):
        return False
    return dt.datetime(d.year, d.month, d.day)


def parse_date_values(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Parse date cells (see the module docstring): text in bulk, other cells one by one.

    Returns
    -------
    dates : numpy.ndarray
        ``datetime64[ns]`` (NaT where blank or unreadable).
    bad : numpy.ndarray
        True for non-blank cells that are not a date.
    """
    vals = list(values)
    n = len(vals)
    dates = np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    bad = np.zeros(n, dtype=bool)
    is_text = np.array([type(v) is str for v in vals], dtype=bool)
    # text: normalised, matched and built as arrays (the rules of _parse_date)
    text_pos = np.flatnonzero(is_text)
    if len(text_pos) >= 64:
        texts = pd.Series(cell_texts([vals[i] for i in text_pos]), dtype="string[pyarrow]")
        blank = texts.isna().to_numpy()
        digits = texts.str.isdigit().fillna(False).to_numpy(dtype=bool)
        norm = (
            texts.str.replace(r"[年月./]", "-", regex=True)
            .str.replace("日", "", regex=False)
            .str.replace("号", "", regex=False)
            .str.strip("-")
            .str.strip()
            .str.replace(r"\s*-\s*", "-", regex=True)
        )
        parts = norm.str.extract(_DATE_RE.pattern)

        def number(k: int, default: float) -> np.ndarray:
            col = pd.to_numeric(parts[k], errors="coerce")
            return (
                col.to_numpy(dtype=float, na_value=np.nan)
                if k == 0
                else np.nan_to_num(col.to_numpy(dtype=float, na_value=np.nan), nan=default)
            )

        year, month, day = number(0, np.nan), number(1, 1.0), number(2, 1.0)
        in_range = (year >= _YEAR_RANGE[0]) & (year <= _YEAR_RANGE[1]) & ~digits & ~blank
        built = np.full(len(texts), np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
        if in_range.any():
            built[in_range] = pd.to_datetime(
                pd.DataFrame(
                    {
                        "year": year[in_range].astype(np.int64),
                        "month": month[in_range].astype(np.int64),
                        "day": day[in_range].astype(np.int64),
                    }
                ),
                errors="coerce",
            ).to_numpy(dtype="datetime64[ns]")
        ok = in_range & ~np.isnat(built)
        dates[text_pos[ok]] = built[ok]
        bad[text_pos[~ok & ~blank & ~digits]] = True
        rest = np.concatenate([np.flatnonzero(~is_text), text_pos[digits]])
    else:
        rest = np.arange(n)
    for i in rest:
        p = _parse_date(vals[i])
        if p is False:
            bad[i] = True
        elif p is not None:
            dates[i] = np.datetime64(p, "ns")
    return dates, bad


def _parse_flag(value: Any) -> bool | str | None:
    if _is_blank_value(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    key = (cell_text(value) or "").lower()
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    return "bad"


def parse_flag_values(values: Sequence[Any]) -> tuple[pd.Series, np.ndarray]:
    """Parse 是/否 cells: nullable booleans and a mask of unreadable non-blank cells."""
    parsed = [_parse_flag(v) for v in values]
    data = np.array([p is True for p in parsed], dtype=bool)
    mask = np.array([p is None or p == "bad" for p in parsed], dtype=bool)
    bad = np.array([p == "bad" for p in parsed], dtype=bool)
    return pd.Series(pd.arrays.BooleanArray(data, mask)), bad


def _parse_number(value: Any) -> float | bool | None:
    if _is_blank_value(value):
        return None
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Real):
        x = float(value)
        return x if math.isfinite(x) else False
    text = _NUM_JUNK.sub("", unicodedata.normalize("NFKC", str(value)))
    if not text or "_" in text:
        return False
    try:
        x = float(text)
    except ValueError:
        return False
    return x if math.isfinite(x) else False


def parse_number_values(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Parse number cells (``30张``, ``1,200``): floats and a mask of unreadable cells."""
    parsed = [_parse_number(v) for v in values]
    bad = np.array([p is False for p in parsed], dtype=bool)
    num = np.array([p if isinstance(p, float) else np.nan for p in parsed], dtype=np.float64)
    return num, bad


_DECIMAL_COMMA = re.compile(r"^\s*([+-]?\d{1,3}),(\d+)\s*$")
_PAIR_SEPARATORS = re.compile(r"\s*[,，;；/|]\s*")


def parse_coordinates(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate cells (see :func:`coverage_gis.io.coords.parse_coordinate_values`).

    A decimal comma is read too (``"120,62"`` in a ;-separated list = 120.62): in a cell
    that holds one coordinate a comma cannot be a thousands separator.
    """
    fixed = [
        _DECIMAL_COMMA.sub(r"\1.\2", v) if isinstance(v, str) and "," in v else v for v in values
    ]
    return parse_coordinate_values(fixed)


def _split_pair(value: Any) -> tuple[float, float] | bool | None:
    """One ``"lon,lat"`` cell: the pair, None when blank, False when it cannot be split."""
    text = cell_text(value)
    if text is None:
        return None
    parts = _PAIR_SEPARATORS.split(text.strip("()（）[]【】 "))
    if len(parts) != 2:
        parts = text.split()
    if len(parts) != 2:
        return False  # e.g. "120,62,31,30": decimal commas and a comma separator
    nums, bad = parse_coordinate_values(parts)
    if bad.any() or not np.isfinite(nums).all():
        return False
    return float(nums[0]), float(nums[1])


def _split_pairs(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 2)`` lon/lat of combined cells and a mask of cells that cannot be split."""
    out = np.full((len(values), 2), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        p = _split_pair(v)
        if p is False:
            bad[i] = True
        elif p is not None:
            out[i] = p
    return out, bad


# --------------------------------------------------------------------------- the normaliser


def _keep_rows(
    raw: RawColumns, cols: list[_Column]
) -> tuple[np.ndarray, int, list[tuple[int, str]]]:
    """Rows that are data (not blank, not a note): positions, blank count, note rows."""
    n = raw.n_rows
    filled = np.zeros(n, dtype=np.int64)
    nonblank = []
    for c in cols:
        nb = c.nonblank()
        nonblank.append(nb)
        filled += nb
    has_geom = np.zeros(n, dtype=bool)
    if raw.xy is not None:
        has_geom = np.isfinite(raw.xy[0]) & np.isfinite(raw.xy[1])
    blank = (filled == 0) & ~has_geom
    notes: list[tuple[int, str]] = []
    candidates = np.flatnonzero((filled > 0) & (filled <= 2) & ~has_geom)
    is_note = np.zeros(n, dtype=bool)
    if len(candidates):
        first_col = np.full(len(candidates), -1, dtype=np.int64)
        for j, nb in enumerate(nonblank):
            take = (first_col < 0) & nb[candidates]
            first_col[take] = j
        for j in np.unique(first_col):
            rows = candidates[first_col == j]
            col = cols[int(j)]
            texts = _raw_strings_at(col, rows)
            for r, t in zip(rows, texts, strict=True):
                if t is not None and NOTE_RE.match(t):
                    is_note[r] = True
                    notes.append((int(r), cell_text(t) or t))
    keep = np.flatnonzero(~blank & ~is_note)
    notes.sort()
    return keep, int(blank.sum()), notes


def _raw_strings_at(col: _Column, rows: np.ndarray) -> list[str | None]:
    """The raw cells at ``rows`` when they are text (a number is never a note)."""
    import pyarrow as pa

    if col.is_arrow:
        arr = col.raw.take(pa.array(rows, type=pa.int64()))
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return [None] * len(rows)
        return arr.to_pylist()
    codes, uniques = col.factorized()
    return [uniques[c] if c >= 0 and isinstance(uniques[c], str) else None for c in codes[rows]]


def _cell_text_table(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cell_texts` as a parser for :class:`_ParseMemo` (text is never bad)."""
    table = np.empty(len(values), dtype=object)
    table[:] = cell_texts(values)
    return table, np.zeros(len(values), dtype=bool)


def _text_column(
    col: _Column | None, keep: np.ndarray, free: bool, memo: _ParseMemo | None = None
) -> pd.Series:
    """One text field per kept row. With ``memo`` (a table read in batches) every batch
    shares the text objects of the first that had the value, as one read does: later
    steps that hash and compare the column (types, unit names) find them identical."""
    n = len(keep)
    if col is None:
        return coerce_column("name" if free else "status", None, n)
    if free and col.mostly_distinct():
        import pyarrow as pa

        arr = col.arrow_text()
        if arr is not None:
            if len(keep) != len(arr):
                arr = arr.take(pa.array(keep, type=pa.int64()))
            return arr.to_pandas(types_mapper={arr.type: TEXT_DTYPE}.get).reset_index(drop=True)
    codes, uniques = col.factorized()
    if memo is not None:
        table, _ = memo.parse(uniques, _cell_text_table, col.arrow_uniques())
    else:
        table = np.empty(len(col.unique_texts()), dtype=object)
        table[:] = col.unique_texts()
    values = _take(table, codes[keep], None)
    s = pd.Series(values, dtype=object, copy=False)
    return s.astype(TEXT_DTYPE) if free else s


class _ParseMemo:
    """The parsed distinct values of one field, kept across the batches of one table: a
    value seen in an earlier batch is not parsed again (dates repeat in every batch)."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}  # value -> position (values as Python objects)
        self.known: Any = None  # or: the values seen as one Arrow string array
        self.parsed: list[Any] = []  # chunks of parser output, in index order
        self.bad: list[np.ndarray] = []
        self._lock = threading.Lock()  # batches are normalised on two threads

    def parse(self, uniques: list[Any], parser: Any, arrow: Any = None) -> tuple[Any, np.ndarray]:
        """``parser(uniques)``, computed only for the values not seen before.

        ``arrow``: the same uniques as an Arrow string array (a GeoParquet column), looked
        up in C instead of one dictionary lookup per value.
        """
        with self._lock:
            pos = self._positions(uniques, arrow)
            new = np.flatnonzero(pos < 0)
            if len(new):
                parsed, bad = parser([uniques[i] for i in new])
                pos[new] = self._add(uniques, arrow, new)
                self.parsed.append(parsed)
                self.bad.append(np.asarray(bad, dtype=bool))
            return self._take(pos, parser)

    @staticmethod
    def _key(v: Any) -> Any:
        # the type is part of the key where it matters: 1, 1.0 and True are equal in Python
        return v if type(v) is str else (type(v).__name__, v)

    def _size(self) -> int:
        return len(self.known) if self.known is not None else len(self.index)

    def _positions(self, uniques: list[Any], arrow: Any) -> np.ndarray:
        import pyarrow.compute as pc

        if self.known is not None and arrow is None:  # Python values after Arrow ones
            self.index = {v: i for i, v in enumerate(self.known.to_pylist())}
            self.known = None
        if arrow is not None and not self.index:
            if self.known is None:
                return np.full(len(uniques), -1, dtype=np.int64)
            known = self.known if self.known.type == arrow.type else self.known.cast(arrow.type)
            found = pc.index_in(arrow, value_set=known)
            return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        get = self.index.get
        return np.fromiter(
            (get(self._key(v), -1) for v in uniques), dtype=np.int64, count=len(uniques)
        )

    def _add(self, uniques: list[Any], arrow: Any, new: np.ndarray) -> np.ndarray:
        """Remember ``uniques[new]``; their positions."""
        import pyarrow as pa

        base = self._size()
        if arrow is not None and not self.index:
            taken = arrow.take(pa.array(new, type=pa.int64()))
            self.known = (
                taken
                if self.known is None
                else pa.concat_arrays([self.known, taken.cast(self.known.type)])
            )
        else:
            for j, i in enumerate(new.tolist()):
                self.index[self._key(uniques[i])] = base + j
        return base + np.arange(len(new))

    def _take(self, pos: np.ndarray, parser: Any) -> tuple[Any, np.ndarray]:
        if len(self.parsed) > 1:  # one chunk from here on
            first = self.parsed[0]
            self.parsed = [
                pd.concat(self.parsed, ignore_index=True)
                if isinstance(first, pd.Series)
                else np.concatenate(self.parsed)
            ]
            self.bad = [np.concatenate(self.bad)]
        if not self.parsed:
            return parser([])
        table, bad_all = self.parsed[0], self.bad[0]
        if isinstance(table, pd.Series):
            return table.take(pos).reset_index(drop=True), bad_all[pos]
        return table[pos], bad_all[pos]


def _parsed_column(
    col: _Column, keep: np.ndarray, parser: Any, memo: _ParseMemo | None = None
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Parse the distinct values of a column once: (values per kept row, bad mask, codes)."""
    codes, uniques = col.factorized()
    parsed, bad_u = (
        parser(uniques) if memo is None else memo.parse(uniques, parser, col.arrow_uniques())
    )
    kc = codes[keep]
    bad = np.append(bad_u, False)[kc]
    return parsed, bad, kc


def _normalise(
    raw: RawColumns,
    crs: str,
    row_offset: int = 0,
    memo: dict[str, _ParseMemo] | None = None,
) -> _Normalised:
    """Normalise one :class:`RawColumns` (row positions in problems start at ``row_offset``).

    ``memo`` (one per table read in batches, shared by the threads that normalise them)
    keeps the parsed dates, flags, numbers and text values of earlier batches.
    """

    def memo_of(fld: str) -> _ParseMemo | None:
        return None if memo is None else memo.setdefault(fld, _ParseMemo())

    cols = [_Column(c) for c in raw.columns]
    keep, n_blank, notes = _keep_rows(raw, cols)
    n = len(keep)
    rows_shown = raw.source_row[keep]
    result_findings = Findings()
    for r, text in notes:
        result_findings.add(
            Finding(
                "info",
                "note_row_skipped",
                "说明/注释行，非数据，已跳过",
                "Note row, not data; skipped",
                file=raw.file,
                sheet=raw.sheet,
                row=int(raw.source_row[r]),
                value=text,
            )
        )
    if n_blank:
        result_findings.add(
            Finding(
                "info",
                "blank_rows_skipped",
                f"跳过 {n_blank} 个空行",
                f"Skipped {n_blank} blank row(s)",
                file=raw.file,
                sheet=raw.sheet,
                count=n_blank,
            )
        )
    problems: list[_Problem] = []

    def header(fld: str) -> str:
        pos = raw.fields.get(fld)
        h = raw.headers[pos] if pos is not None else None
        return str(h) if h is not None else FIELD_LABELS[fld][0]

    def problem(
        mask: np.ndarray,
        fld: str,
        code: str,
        zh: str,
        en: str,
        values: Any,
        *,
        severity: str = "error",
    ) -> None:
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        head = rows[: MAX_ROW_FINDINGS + 1]  # only these can be shown (_build_findings)
        shown = values(head) if callable(values) else [values[r] for r in head]
        problems.append(
            _Problem(
                severity, code, zh, en, header(fld), rows + row_offset, shown, severity == "error"
            )
        )

    def col(fld: str) -> _Column | None:
        pos = raw.fields.get(fld)
        return cols[pos] if pos is not None else None

    out: dict[str, pd.Series] = {}
    source_file = np.empty(n, dtype=object)
    source_file[:] = raw.file
    out["source_file"] = pd.Series(source_file, dtype=object, copy=False)
    sheet = np.empty(n, dtype=object)
    sheet[:] = raw.sheet
    out["source_sheet"] = pd.Series(sheet, dtype=object, copy=False)
    out["source_row"] = pd.Series(np.asarray(rows_shown, dtype=np.int64), copy=False)

    for fld in _TEXT_FIELDS:
        out[fld] = _text_column(col(fld), keep, fld in _FREE_TEXT, memo_of(fld))
    if raw.sheet_type is not None and "type_raw" not in raw.fields:
        types = np.empty(n, dtype=object)
        types[:] = cell_text(raw.sheet_type)
        out["type_raw"] = pd.Series(types, dtype=object, copy=False)

    # coordinates
    lon = lat = np.full(n, np.nan)
    if raw.xy is not None:
        lon = np.asarray(raw.xy[0], dtype=np.float64)[keep]
        lat = np.asarray(raw.xy[1], dtype=np.float64)[keep]
        coord_field = "lon"

        def pair_text(rows: np.ndarray) -> list[str]:
            return [f"{cell_text(float(lon[r]))}, {cell_text(float(lat[r]))}" for r in rows]

        half = np.zeros(n, dtype=bool)
    elif "lonlat" in raw.fields:
        coord_field = "lonlat"
        pair_col = col("lonlat")
        assert pair_col is not None
        codes = pair_col.factorized()[0][keep]
        pairs, bad_pair = _split_pairs(pair_col.factorized()[1])
        lon = _take(pairs[:, 0].copy(), codes, np.nan)
        lat = _take(pairs[:, 1].copy(), codes, np.nan)
        bad = np.append(bad_pair, False)[codes]

        def pair_text(rows: np.ndarray) -> list[str | None]:
            return pair_col.cells(codes[rows])

        problem(
            bad,
            "lonlat",
            "bad_coordinate",
            "坐标无法拆分为经度和纬度（应为“经度,纬度”）",
            "Coordinates cannot be split into longitude and latitude (expected 'lon,lat')",
            pair_text,
        )
        half = np.zeros(n, dtype=bool)
    elif "lon" in raw.fields and "lat" in raw.fields:
        coord_field = "lon"
        lon_col, lat_col = col("lon"), col("lat")
        assert lon_col is not None and lat_col is not None
        lon_u, bad_lon, lon_codes = _parsed_column(lon_col, keep, parse_coordinates)
        lat_u, bad_lat, lat_codes = _parsed_column(lat_col, keep, parse_coordinates)
        lon = _take(np.asarray(lon_u, dtype=np.float64), lon_codes, np.nan)
        lat = _take(np.asarray(lat_u, dtype=np.float64), lat_codes, np.nan)

        def lon_cells(rows: np.ndarray) -> list[str | None]:
            return lon_col.cells(lon_codes[rows])

        def lat_cells(rows: np.ndarray) -> list[str | None]:
            return lat_col.cells(lat_codes[rows])

        def pair_text(rows: np.ndarray) -> list[str]:
            return [f"{a}, {b}" for a, b in zip(lon_cells(rows), lat_cells(rows), strict=True)]

        problem(
            bad_lon,
            "lon",
            "bad_coordinate",
            "经度无法解析",
            "Longitude cannot be parsed",
            lon_cells,
        )
        problem(
            bad_lat & ~bad_lon,
            "lat",
            "bad_coordinate",
            "纬度无法解析",
            "Latitude cannot be parsed",
            lat_cells,
        )
        half = np.isfinite(lon) ^ np.isfinite(lat)
        problem(
            half & ~bad_lon & ~bad_lat,
            "lon",
            "half_coordinate",
            "只有经度或纬度之一",
            "Only one of longitude/latitude given",
            lon_cells,
        )
    else:
        coord_field = None
        half = np.zeros(n, dtype=bool)
    if coord_field is not None:
        swapped = detect_swapped(lon, lat)
        problem(
            swapped,
            coord_field,
            "swapped_coordinates",
            "经纬度填反，已自动交换",
            "Longitude and latitude were swapped; fixed",
            pair_text,
            severity="warning",
        )
        lon, lat = np.where(swapped, lat, lon), np.where(swapped, lon, lat)
        both = np.isfinite(lon) & np.isfinite(lat)
        impossible = both & ~in_china(lon, lat)
        problem(
            impossible,
            coord_field,
            "coordinate_out_of_range",
            OUT_OF_CHINA_ZH,
            OUT_OF_CHINA_EN,
            pair_text,
        )
        lon = np.where(impossible | half, np.nan, lon)
        lat = np.where(impossible | half, np.nan, lat)
        src = normalize_source_crs(crs)
        if src not in ("wgs84", "cgcs2000"):
            lon, lat = to_wgs84(lon, lat, src)
    out["lon"] = pd.Series(np.asarray(lon, dtype=np.float64), copy=False)
    out["lat"] = pd.Series(np.asarray(lat, dtype=np.float64), copy=False)

    def cells_of(c: _Column, codes: np.ndarray) -> Any:
        return lambda rows: c.cells(codes[rows])

    for fld in ("opened", "closed"):
        c = col(fld)
        if c is None:
            out[fld] = coerce_column(fld, None, n)
            continue
        dates, bad, codes = _parsed_column(c, keep, parse_date_values, memo_of(fld))
        problem(
            bad,
            fld,
            "bad_date",
            f"{FIELD_LABELS[fld][0]}无法解析为日期",
            f"{FIELD_LABELS[fld][1]} date cannot be parsed",
            cells_of(c, codes),
        )
        out[fld] = pd.Series(
            _take(dates, codes, np.datetime64("NaT", "ns")).astype("datetime64[ns]"), copy=False
        )
    c = col("meets_standard")
    if c is None:
        out["meets_standard"] = coerce_column("meets_standard", None, n)
    else:
        flags, bad, codes = _parsed_column(c, keep, parse_flag_values, memo_of("meets_standard"))
        problem(
            bad,
            "meets_standard",
            "bad_flag",
            "是否达标应为 是/否",
            "Meets-standard must be 是/否 (yes/no)",
            cells_of(c, codes),
        )
        data = _take(flags.to_numpy(dtype=bool, na_value=False), codes, False)
        mask = _take(flags.isna().to_numpy(), codes, True)
        out["meets_standard"] = pd.Series(pd.arrays.BooleanArray(data, mask))
    for fld in _NUMBER_FIELDS:
        c = col(fld)
        if c is None:
            out[fld] = coerce_column(fld, None, n)
            continue
        num, bad, codes = _parsed_column(c, keep, parse_number_values, memo_of(fld))
        problem(
            bad,
            fld,
            "bad_number",
            f"{FIELD_LABELS[fld][0]}不是数字",
            f"{FIELD_LABELS[fld][1]} is not a number",
            cells_of(c, codes),
        )
        out[fld] = pd.Series(_take(num, codes, np.nan), copy=False)
    out["row_error"] = pd.Series(_row_errors(problems, n, row_offset), dtype=object, copy=False)
    return _Normalised(facility_frame(out, n), result_findings, problems)


def _row_errors(problems: list[_Problem], n: int, row_offset: int) -> np.ndarray:
    """``row_error`` text per row: the English messages of its errors, joined by ``; ``."""
    out = np.full(n, None, dtype=object)
    for p in problems:
        if not p.row_error:
            continue
        rows = p.rows - row_offset
        current = out[rows]
        first = np.equal(current, None)
        joined = np.empty(len(rows), dtype=object)
        joined[first] = p.en
        if not first.all():
            joined[~first] = current[~first] + ("; " + p.en)
        out[rows] = joined
    return out


def _build_findings(
    raw_file: str, raw_sheet: str | None, source_row: np.ndarray, problems: list[_Problem]
) -> Findings:
    """Row-level findings from problems, capped per problem (see :data:`MAX_ROW_FINDINGS`)."""
    out = Findings()
    for p in problems:
        rows, values = p.rows, p.values
        listed = len(rows) if len(rows) <= MAX_ROW_FINDINGS else SHOWN_ROW_FINDINGS
        for r, v in zip(rows[:listed], values[:listed], strict=True):
            out.add(
                Finding(
                    p.severity,  # type: ignore[arg-type]
                    p.code,
                    p.zh,
                    p.en,
                    file=raw_file,
                    sheet=raw_sheet,
                    row=int(source_row[r]),
                    column=p.column,
                    value=v,
                )
            )
        rest = len(rows) - listed
        if rest:
            out.add(
                Finding(
                    p.severity,  # type: ignore[arg-type]
                    p.code,
                    f"{p.zh}：另有 {rest} 行（未逐行列出，见设施表 row_error 列）",
                    f"{p.en}: {rest} more row(s) (not listed one by one; see the row_error column)",
                    file=raw_file,
                    sheet=raw_sheet,
                    row=int(source_row[rows[listed]]),
                    column=p.column,
                    value=values[listed],
                    count=rest,
                )
            )
    return out


def normalise_facilities(
    raw: RawColumns | Iterable[RawColumns], *, crs: str = "wgs84"
) -> tuple[pd.DataFrame, Findings]:
    """Normalise raw facility columns into the facility table of :mod:`coverage_gis.core.schema`.

    Parameters
    ----------
    raw
        One table, or consecutive batches of one table (as a large GeoParquet file is read):
        the findings of all batches are capped together. Batches are taken one at a time
        and not kept: a generator that reads each batch when asked holds only one batch of
        raw cells at a time, beside the normalised columns.
    crs
        Source coordinate system of the coordinates (wgs84, cgcs2000, gcj02, bd09, EPSG:n).

    Returns
    -------
    facilities, findings
        The facility table (one row per data row; blank and note rows skipped) and the
        findings: table-level ones first, then the row problems in field order.
    """
    frames: list[pd.DataFrame] = []
    table_findings = Findings()
    merged: dict[tuple[str, str, str | None], _Problem] = {}
    offset = 0
    where: tuple[str, str | None] = ("", None)  # the first batch's file and sheet
    memo: dict[str, _ParseMemo] | None = None if isinstance(raw, RawColumns) else {}

    def collect(norm: _Normalised) -> None:
        nonlocal offset
        frames.append(norm.frame)
        table_findings.extend(norm.findings)
        for p in norm.problems:
            p.rows = p.rows + offset  # positions in the whole table
            key = (p.code, p.en, p.column)
            if key in merged:
                q = merged[key]
                q.rows = np.concatenate([q.rows, p.rows])
                q.values = [*q.values, *p.values]
            else:
                merged[key] = p
        offset += len(norm.frame)

    if isinstance(raw, RawColumns):  # one table
        where = (raw.file, raw.sheet)
        collect(_normalise(raw, crs, 0))
    else:
        # batches: read here, one at a time, and normalised on a pool of two threads (the
        # Arrow and pandas kernels release the GIL, so the second core shares the work),
        # at most two in flight; results are taken in batch order
        pool = threads("normalise", 2)
        pending: deque[Future[_Normalised]] = deque()
        try:
            batches: Iterator[RawColumns] = iter(raw)
            while (b := next(batches, None)) is not None:
                if not frames and not pending:
                    where = (b.file, b.sheet)
                pending.append(pool.submit(_normalise, b, crs, 0, memo))
                del b  # only the worker holds the raw cells now
                if len(pending) >= 2:
                    collect(pending.popleft().result())
                    release_unused_memory()  # that batch's raw cells and scratch
            while pending:
                collect(pending.popleft().result())
        finally:
            for fut in pending:
                fut.cancel()
            wait(list(pending))
        release_unused_memory()
    frame = _concat_frames(frames, offset)
    source_row = frame["source_row"].to_numpy()
    findings = Findings()
    findings.extend(table_findings)
    findings.extend(_build_findings(*where, source_row, list(merged.values())))
    return frame, findings


def _concat_frames(frames: list[pd.DataFrame], n: int) -> pd.DataFrame:
    """One facility table from batch tables (emptied as it goes: one column at a time is
    held twice, not the whole table)."""
    if len(frames) == 1:
        return frames.pop()
    if not frames:
        return facility_frame({}, 0)
    columns: dict[str, pd.Series] = {}
    for c in list(frames[0].columns):
        s = pd.concat([f.pop(c) for f in frames], ignore_index=True)
        if s.dtype == TEXT_DTYPE:  # Arrow text: one chunk as a one-batch read gives, not one
            # per batch (later steps take, compare and convert it faster)
            chunked = s.array.__arrow_array__()
            if getattr(chunked, "num_chunks", 1) > 1:
                arr = chunked.combine_chunks()
                del s, chunked
                s = arr.to_pandas(types_mapper={arr.type: TEXT_DTYPE}.get)
        columns[c] = s
    frames.clear()
    return facility_frame(columns, n)
