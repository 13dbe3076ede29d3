"""The normalised tables that readers produce and the engine consumes.

Readers turn whatever a planner has (Excel, CSV, GeoJSON …) into two tables:

**Units** (a GeoDataFrame in EPSG:4326), one row per township-level unit:
``code`` (str), ``name``, ``county``, ``county_code`` (str), ``kind`` (镇 / 街道 / 功能区 / 乡 …),
optional ``population``, ``pop_60plus``, ``households``, and ``geometry`` (Polygon/MultiPolygon).

**Facilities** (a DataFrame), one row per data row read, with :data:`FACILITY_COLUMNS`.
``lon``/``lat`` are WGS84 degrees after any GCJ-02/BD-09 conversion (NaN when missing).
``source_row`` is the row number the user sees in the source (Excel row, CSV line).
``row_error`` is set (and the row excluded) when the reader found an error in the row.

Text columns come in two kinds. The free text that is only carried through to reports and
maps (:data:`TEXT_COLUMNS`: ``name``, ``address``, nearly every value distinct) uses pandas'
Arrow-backed string dtype (:data:`TEXT_DTYPE`, missing = NaN), so a national table of
millions of rows never makes a Python object per name. The columns the engine matches on
(type, unit and county names, status …) are ``object`` columns of ``str`` or ``None``: they
hold few distinct values, shared as one object each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "FACILITY_COLUMNS",
    "FUNCTIONAL_ZONE_KINDS",
    "TEXT_COLUMNS",
    "TEXT_DTYPE",
    "UNIT_COLUMNS",
    "UNIT_OPTIONAL_COLUMNS",
    "coerce_column",
    "coerce_facilities",
    "empty_facilities",
    "facility_frame",
]

UNIT_COLUMNS = ("code", "name", "county", "county_code", "kind")
UNIT_OPTIONAL_COLUMNS = ("population", "pop_60plus", "households")
#: Unit kinds that are functional zones (kept out of 镇(街道) denominators by default).
FUNCTIONAL_ZONE_KINDS = frozenset({"功能区", "开发区", "管委会", "园区", "functional_zone"})

#: Free-text columns stored as Arrow-backed strings (see the module docstring).
TEXT_COLUMNS = ("name", "address")
#: pandas' Arrow-backed string dtype with NaN for missing values (the pandas 3 default ``str``).
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)

_STR = (
    "source_file",
    "source_sheet",
    "type_raw",
    "county_name",
    "unit_name",
    "status",
    "row_error",
)
_FLOAT = ("lon", "lat", "beds", "nursing_beds", "area_m2")
_DATE = ("opened", "closed")

FACILITY_COLUMNS: tuple[str, ...] = (
    "source_file",
    "source_sheet",
    "source_row",
    "name",
    "type_raw",
    "address",
    "county_name",
    "unit_name",
    "lon",
    "lat",
    "status",
    "opened",
    "closed",
    "meets_standard",
    "beds",
    "nursing_beds",
    "area_m2",
    "row_error",
)


def empty_facilities() -> pd.DataFrame:
    """Return an empty facility table with the right columns and dtypes."""
    return coerce_facilities(pd.DataFrame({c: [] for c in FACILITY_COLUMNS}))


def _object_strings(s: pd.Series) -> np.ndarray:
    """``s`` as an object array of ``str`` (``None`` where missing), converted in bulk.

    Columns that already hold ``str``/missing values are copied as they are; other
    columns are factorised first so that ``str()`` runs once per distinct value (and equal
    values share one string object, which keeps repetitive columns small).
    """
    if s.dtype == object:
        vals = s.to_numpy()
        mask = pd.isna(vals)
        kind = pd.api.types.infer_dtype(vals, skipna=True)
        if kind in ("string", "empty") and all(type(v) is str for v in vals[~mask][:1]):
            if not mask.any():
                # read-only views (copy-on-write pandas) can be shared; others are copied
                return vals if not vals.flags.writeable else vals.copy()
            out = vals.copy()
            out[mask] = None
            return out
        arr = np.where(mask, None, vals).astype(object)
        return np.array([None if v is None else str(v) for v in arr], dtype=object)
    if getattr(s.dtype, "storage", None) == "pyarrow" or isinstance(s.dtype, pd.ArrowDtype):
        converted = _arrow_strings(s)
        if converted is not None:
            return converted
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [str(v) for v in np.asarray(uniques, dtype=object)]
    table[-1] = None
    return table[codes]


def _arrow_strings(s: pd.Series) -> np.ndarray | None:
    """Object array of a pyarrow-backed string column, converted in C.

    Repetitive columns (type, status, unit names) are dictionary-encoded first, so that one
    Python string is made per distinct value and shared; mostly distinct columns (names,
    addresses) are converted directly.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = s.array.__arrow_array__()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None  # not text (numbers, dates …): converted value by value
    head = arr.slice(0, 100_000)
    if len(head) and pc.count_distinct(head).as_py() > 0.8 * len(head):
        return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)
    enc = pc.dictionary_encode(arr)
    table = np.empty(len(enc.dictionary) + 1, dtype=object)
    table[:-1] = enc.dictionary.to_numpy(zero_copy_only=False)
    table[-1] = None
    return table[enc.indices.fill_null(len(enc.dictionary)).to_numpy()]


def _text_series(s: pd.Series | None, n: int) -> pd.Series:
    """A free-text column as :data:`TEXT_DTYPE`, without a Python object per value.

    Arrow-backed strings are re-typed in C; other columns become ``str``/missing first
    (:func:`_object_strings`) and are then handed to Arrow in one call.
    """
    if s is None:
        return pd.Series(np.full(n, np.nan, dtype=object), dtype=TEXT_DTYPE)
    if s.dtype == TEXT_DTYPE:
        return s.reset_index(drop=True)
    if getattr(s.dtype, "storage", None) == "pyarrow" or isinstance(s.dtype, pd.ArrowDtype):
        import pyarrow as pa

        arrow_type = getattr(s.dtype, "pyarrow_dtype", pa.string())
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            return s.astype(TEXT_DTYPE).reset_index(drop=True)
    return pd.Series(_object_strings(s), dtype=object, copy=False).astype(TEXT_DTYPE)


def coerce_facilities(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with every facility column present and typed.

    Missing columns are added empty. :data:`TEXT_COLUMNS` become :data:`TEXT_DTYPE` (NaN
    when missing); other strings become pandas ``object`` columns holding ``str`` or
    ``None``; numbers ``float64``; dates ``datetime64[ns]``; ``meets_standard``
    the nullable ``boolean`` dtype; ``source_row`` ``int64``.

    Every conversion is vectorised (no Python loop over rows), so a million rows take a
    fraction of a second. The result is marked in ``attrs``: a marked frame that still has
    exactly these columns and dtypes is returned as a (copy-on-write) copy without being
    converted again, which is what readers, :func:`~coverage_gis.workflow.load_inputs` and
    the engine do in turn.
    """
    n = len(df)
    if _is_coerced(df):
        out = df.copy(deep=int(pd.__version__.split(".")[0]) < 3)
        out.attrs[_MARK] = True
        return out
    src = df.reset_index(drop=True)
    return facility_frame(
        {
            col: coerce_column(col, src[col] if col in src.columns else None, n)
            for col in FACILITY_COLUMNS
        },
        n,
    )


def coerce_column(col: str, s: pd.Series | None, n: int) -> pd.Series:
    """One facility column in its contract dtype (see :func:`coerce_facilities`).

    ``s`` (with a 0..n-1 index) or None for a missing column of ``n`` rows.
    """
    if col in TEXT_COLUMNS:
        return _text_series(s, n)
    if col in _STR:
        return (
            pd.Series(_object_strings(s), dtype=object, copy=False)
            if s is not None
            else pd.Series(np.full(n, None, dtype=object), dtype=object)
        )
    if col in _FLOAT:
        return (
            pd.to_numeric(s, errors="coerce").astype("float64").reset_index(drop=True)
            if s is not None
            else pd.Series(np.full(n, np.nan))
        )
    if col in _DATE:
        if s is None or (s.dtype == object and s.isna().all()):
            return pd.Series(np.full(n, np.datetime64("NaT", "ns")))
        return pd.to_datetime(s, errors="coerce").astype("datetime64[ns]").reset_index(drop=True)
    if col == "meets_standard":
        if s is None:
            return pd.Series(pd.arrays.BooleanArray(np.zeros(n, bool), np.ones(n, bool)))
        return s.astype("boolean").reset_index(drop=True) if n else pd.Series([], dtype="boolean")
    if col == "source_row":
        return (
            pd.to_numeric(s, errors="coerce").fillna(0).astype("int64").reset_index(drop=True)
            if s is not None
            else pd.Series(np.zeros(n, dtype="int64"))
        )
    raise KeyError(col)


def facility_frame(columns: dict[str, pd.Series], n: int) -> pd.DataFrame:
    """Assemble columns that are already in contract form into the facility table.

    For readers that build each column in its contract dtype (e.g. straight from Arrow,
    through :func:`coerce_column`): no second conversion pass. Missing columns are added
    empty; a column of the wrong dtype is a programming error (``TypeError``).
    """
    cols: dict[str, pd.Series] = {}
    for col in FACILITY_COLUMNS:
        s = columns.get(col)
        if s is None:
            s = coerce_column(col, None, n)
        elif s.dtype != _expected_dtype(col) or len(s) != n:
            raise TypeError(
                f"facility column {col}: {s.dtype} x {len(s)}, not {_expected_dtype(col)} x {n}"
            )
        elif not (isinstance(s.index, pd.RangeIndex) and s.index.start == 0 and s.index.step == 1):
            s = s.reset_index(drop=True)  # positions, never alignment on a stray index
        cols[col] = s
    out = pd.DataFrame(cols, index=pd.RangeIndex(n), copy=False)
    out.attrs[_MARK] = True
    return out


_MARK = "coverage_gis.coerced"


def _expected_dtype(col: str) -> object:
    if col in TEXT_COLUMNS:
        return TEXT_DTYPE
    if col in _STR:
        return np.dtype(object)
    if col in _FLOAT:
        return np.dtype("float64")
    if col in _DATE:
        return np.dtype("datetime64[ns]")
    if col == "meets_standard":
        return pd.BooleanDtype()
    return np.dtype("int64")


def _is_coerced(df: pd.DataFrame) -> bool:
    """True for an unchanged-shape frame produced by :func:`coerce_facilities`."""
    if not df.attrs.get(_MARK) or tuple(df.columns) != FACILITY_COLUMNS:
        return False
    if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        return False
    return all(df[c].dtype == _expected_dtype(c) for c in FACILITY_COLUMNS)
