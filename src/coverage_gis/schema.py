"""The normalised tables that readers produce and the engine consumes.

Readers turn whatever a planner has (Excel, CSV, GeoJSON …) into two tables:

**Units** (a GeoDataFrame in EPSG:4326), one row per township-level unit:
``code`` (str), ``name``, ``county``, ``county_code`` (str), ``kind`` (镇 / 街道 / 功能区 / 乡 …),
optional ``population``, ``pop_60plus``, ``households``, and ``geometry`` (Polygon/MultiPolygon).

**Facilities** (a DataFrame), one row per data row read, with :data:`FACILITY_COLUMNS`.
``lon``/``lat`` are WGS84 degrees after any GCJ-02/BD-09 conversion (NaN when missing).
``source_row`` is the row number the user sees in the source (Excel row, CSV line).
``row_error`` is set (and the row excluded) when the reader found an error in the row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "FACILITY_COLUMNS",
    "FUNCTIONAL_ZONE_KINDS",
    "UNIT_COLUMNS",
    "UNIT_OPTIONAL_COLUMNS",
    "coerce_facilities",
    "empty_facilities",
]

UNIT_COLUMNS = ("code", "name", "county", "county_code", "kind")
UNIT_OPTIONAL_COLUMNS = ("population", "pop_60plus", "households")
#: Unit kinds that are functional zones (kept out of 镇(街道) denominators by default).
FUNCTIONAL_ZONE_KINDS = frozenset({"功能区", "开发区", "管委会", "园区", "functional_zone"})

_STR = (
    "source_file",
    "source_sheet",
    "name",
    "type_raw",
    "address",
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


def coerce_facilities(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with every facility column present and typed.

    Missing columns are added empty. Strings become pandas ``object`` columns holding
    ``str`` or ``None``; numbers ``float64``; dates ``datetime64[ns]``; ``meets_standard``
    the nullable ``boolean`` dtype; ``source_row`` ``int64``.
    """
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    src = df.reset_index(drop=True)
    for col in FACILITY_COLUMNS:
        s = src[col] if col in src.columns else pd.Series([None] * len(src), dtype=object)
        if col in _STR:
            vals = s.astype(object).to_numpy()
            mask = pd.isna(vals)
            arr = np.where(mask, None, vals).astype(object)
            out[col] = pd.Series([None if v is None else str(v) for v in arr], dtype=object)
        elif col in _FLOAT:
            out[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif col in _DATE:
            out[col] = pd.to_datetime(s, errors="coerce").astype("datetime64[ns]")
        elif col == "meets_standard":
            out[col] = s.astype("boolean") if len(s) else pd.Series([], dtype="boolean")
        elif col == "source_row":
            out[col] = pd.to_numeric(s, errors="coerce").fillna(0).astype("int64")
    return out
