"""GeoParquet in and out at national scale: facility points read in bulk, results written back.

Reading goes straight through pyarrow: only the columns that map to facility fields are read,
and point geometries are decoded from WKB in one numpy pass (21-byte little-endian points;
anything else through ``shapely.from_wkb``), so no shapely object is made per row. Columns
are recognised by their normalised names (``type_raw``, ``unit_name`` … as written by
:func:`write_facilities_parquet`) and by the usual Chinese/English headers
(:mod:`coverage_gis.io.columns`). A file without geometry may carry ``lon``/``lat`` columns.

Writing: :func:`write_results_parquet` stores the units with their per-type counts
(``units.parquet``, polygons) and the facility rows with their assignment
(``facilities.parquet``, points) as GeoParquet 1.1 with WKB geometries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage_gis.errors import InputError
from coverage_gis.findings import Findings
from coverage_gis.schema import (
    FACILITY_COLUMNS,
    TEXT_COLUMNS,
    coerce_column,
    facility_frame,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from coverage_gis.results import AuditResult

__all__ = ["read_facilities_parquet", "write_facilities_parquet", "write_results_parquet"]

_FIELDS = (
    "name",
    "type_raw",
    "address",
    "county_name",
    "unit_name",
    "status",
    "opened",
    "closed",
    "meets_standard",
    "beds",
    "nursing_beds",
    "area_m2",
    "lon",
    "lat",
)


def _point_xy(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """x, y of WKB geometries (NaN for missing); non-points use a representative point."""
    import pyarrow as pa
    import shapely

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_large_binary(arr.type):
        arr = arr.cast(pa.binary())
    n = len(arr)
    if n and arr.null_count == 0 and pa.types.is_binary(arr.type):
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
        if (np.diff(offsets) == 21).all():
            raw = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
            rec = raw.reshape(n, 21)
            kind = rec[:, 1:5].copy().view("<u4").ravel()
            if (rec[:, 0] == 1).all() and (kind == 1).all():  # little-endian 2-D points
                xy = rec[:, 5:21].copy().view("<f8").reshape(n, 2)
                return xy[:, 0].copy(), xy[:, 1].copy()
    geoms = shapely.from_wkb(arr.to_numpy(zero_copy_only=False))
    pts = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    return np.where(missing, np.nan, x), np.where(missing, np.nan, y)


def _columns(headers: list[str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Field → column name: explicit mapping, then normalised names, then synonyms."""
    from coverage_gis.io.columns import recognise_columns

    found = {f: headers[i] for f, i in recognise_columns(headers, mapping).items()}
    for fld in _FIELDS:
        if fld in headers and (mapping is None or fld not in mapping):
            found[fld] = fld
    return found


def read_facilities_parquet(
    path: str | Path, *, mapping: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, Findings]:
    """Read a (Geo)Parquet facility file into the normalised facility table.

    Parameters
    ----------
    path
        A GeoParquet file with point (or other) geometries, or a Parquet file with
        longitude/latitude columns.
    mapping
        Explicit ``{field: column}`` mapping (see :func:`coverage_gis.io.columns.recognise_columns`).

    Returns
    -------
    facilities, findings
        As :func:`coverage_gis.io.facilities.read_facility_file`: ``source_row`` numbers the
        rows from 1, coordinates are WGS84.
    """
    import pyarrow.parquet as pq

    p = Path(path)
    if not p.exists():
        raise InputError("文件不存在", "File not found", file=str(p))
    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:  # pyarrow raises several types for broken files
        raise InputError(
            f"无法读取 Parquet 文件：{exc}", f"Cannot read Parquet file: {exc}", file=str(p)
        ) from exc
    schema = pf.schema_arrow
    geo = json.loads((schema.metadata or {}).get(b"geo", b"null") or "null")
    geom_col = geo.get("primary_column") if geo else None
    headers = [c for c in schema.names if c != geom_col]
    cols = _columns(headers, mapping)
    if "type_raw" not in cols:
        raise InputError(
            f"缺少类型列；找到的列：{', '.join(headers)}",
            f"No type column; columns found: {', '.join(headers)}",
            file=str(p),
        )
    use_geometry = geom_col is not None
    if not use_geometry and not ("lon" in cols and "lat" in cols):
        raise InputError(
            "Parquet 文件既无几何列也无经纬度列",
            "The Parquet file has neither a geometry column nor longitude/latitude columns",
            file=str(p),
        )
    wanted = {f: c for f, c in cols.items() if not (use_geometry and f in ("lon", "lat"))}
    columns = sorted({*wanted.values(), *([geom_col] if use_geometry else [])})
    crs = geo["columns"].get(geom_col, {}).get("crs", "OGC:CRS84") if use_geometry else None
    n = pf.metadata.num_rows
    if n <= _BATCH_ROWS:
        table = pf.read(columns=columns)
        return _batch_frame(table, 0, str(p), wanted, geom_col, crs), Findings()
    # Large files: read and convert a batch at a time into preallocated columns, so that
    # the peak memory is the final table plus one batch (not the arrow table plus pandas).
    parts: dict[str, np.ndarray] = {}
    masks: dict[str, np.ndarray] = {}
    texts: dict[str, list[pd.Series]] = {c: [] for c in TEXT_COLUMNS}
    start = 0
    for batch in pf.iter_batches(batch_size=_BATCH_ROWS, columns=columns):
        chunk = _batch_frame(batch, start, str(p), wanted, geom_col, crs)
        stop = start + len(chunk)
        for col in FACILITY_COLUMNS:
            s = chunk[col]
            if col in texts:  # Arrow-backed: the chunks are joined without a copy
                texts[col].append(s)
                continue
            if isinstance(s.dtype, pd.BooleanDtype):
                if col not in parts:
                    parts[col], masks[col] = np.zeros(n, bool), np.ones(n, bool)
                parts[col][start:stop] = s.to_numpy(dtype=bool, na_value=False)
                masks[col][start:stop] = s.isna().to_numpy()
                continue
            if col not in parts:
                parts[col] = np.empty(n, dtype=s.dtype)
            parts[col][start:stop] = s.to_numpy()
        start = stop
    data = {
        col: (
            pd.concat(texts[col], ignore_index=True)
            if col in texts
            else pd.Series(
                pd.arrays.BooleanArray(parts[col], masks[col]) if col in masks else parts[col],
                copy=False,
                dtype=object if parts[col].dtype == object else None,
            )
        )
        for col in FACILITY_COLUMNS
    }
    return facility_frame(data, n), Findings()


_BATCH_ROWS = 1 << 20


def _batch_frame(
    table: pa.Table | pa.RecordBatch,
    start: int,
    source: str,
    wanted: dict[str, str],
    geom_col: str | None,
    crs: object,
) -> pd.DataFrame:
    """One batch of rows as a facility table (``source_row`` from ``start + 1``).

    Each column is put into its contract dtype once (:func:`~coverage_gis.schema.coerce_column`)
    and the table assembled without a second pass; the columns the reader makes itself
    (file, sheet, row, error) are built in their final form directly.
    """
    import pyarrow as pa

    n = table.num_rows
    source_file = np.empty(n, dtype=object)
    source_file[:] = source  # one shared string object
    data: dict[str, pd.Series] = {
        "source_file": pd.Series(source_file, dtype=object, copy=False),
        "source_row": pd.Series(np.arange(start + 1, start + n + 1, dtype=np.int64), copy=False),
    }
    if geom_col is not None:
        x, y = _point_xy(table.column(geom_col))
        if crs is not None and not _is_wgs84(crs):
            from pyproj import CRS, Transformer

            tr = Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
            x, y = tr.transform(x, y)
        data["lon"] = pd.Series(np.asarray(x, dtype=float), copy=False)
        data["lat"] = pd.Series(np.asarray(y, dtype=float), copy=False)
    for fld, col in wanted.items():
        values = table.column(col)
        if isinstance(values, pa.Array):
            values = pa.chunked_array([values])
        raw = _field_values(fld, values)
        raw = raw if isinstance(raw, pd.Series) else pd.Series(raw)
        data[fld] = coerce_column(fld, raw.reset_index(drop=True), n)
    return facility_frame(data, n)


def _is_wgs84(crs: object) -> bool:
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    return c.equals("EPSG:4326", ignore_axis_order=True) or c.equals("OGC:CRS84")


def _field_values(fld: str, values: pa.ChunkedArray) -> Any:
    """One column as pandas data of the right kind for :func:`coerce_facilities`."""
    import pyarrow as pa

    t = values.type
    if fld in ("opened", "closed") and not (pa.types.is_timestamp(t) or pa.types.is_date(t)):
        from coverage_gis.io.facilities import _parse_dates

        return _parse_dates(values.to_pylist())[0]
    if fld == "meets_standard":
        if pa.types.is_boolean(t):
            return values.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
        from coverage_gis.io.facilities import _parse_flags

        return _parse_flags(values.to_pylist())[0]
    return values.to_pandas()


def _wkb_points(x: np.ndarray, y: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Little-endian WKB points built in bulk (null where ``valid`` is False)."""
    import pyarrow as pa

    rec = np.empty(len(x), dtype=[("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
    rec["order"], rec["kind"], rec["x"], rec["y"] = 1, 1, x, y
    arr = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(21), len(x), [None, pa.py_buffer(rec.tobytes())]
    ).cast(pa.binary())
    return pa.compute.if_else(pa.array(valid), arr, pa.scalar(None, pa.binary()))


def _geo_metadata(geometry_types: list[str], bbox: list[float] | None) -> bytes:
    from pyproj import CRS

    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": geometry_types,
        "crs": CRS.from_epsg(4326).to_json_dict(),
    }
    if bbox is not None:
        column["bbox"] = bbox
    return json.dumps(
        {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": column}}
    ).encode()


def write_facilities_parquet(facilities: pd.DataFrame, path: str | Path) -> Path:
    """Write facility rows (any columns; ``lon``/``lat`` become point geometries) as GeoParquet."""
    import pyarrow as pa
    import pyarrow.compute
    import pyarrow.parquet as pq

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    x = facilities["lon"].to_numpy(dtype=float)
    y = facilities["lat"].to_numpy(dtype=float)
    valid = np.isfinite(x) & np.isfinite(y)
    table = pa.Table.from_pandas(facilities, preserve_index=False)
    table = table.append_column("geometry", _wkb_points(x, y, valid))
    bbox = (
        [float(x[valid].min()), float(y[valid].min()), float(x[valid].max()), float(y[valid].max())]
        if valid.any()
        else None
    )
    meta = dict(table.schema.metadata or {})
    meta[b"geo"] = _geo_metadata(["Point"], bbox)
    pq.write_table(table.replace_schema_metadata(meta), p, compression="zstd")
    return p


def write_results_parquet(result: AuditResult, out_dir: str | Path) -> list[Path]:
    """Write ``units.parquet`` (units, counts per type, polygons) and ``facilities.parquet``.

    ``units.parquet`` holds :meth:`AuditResult.units_table` (facilities in service per type)
    with the unit polygons; ``facilities.parquet`` every facility row with its assignment
    (``unit_code``, ``assign_method``, ``in_service``, ``excluded_reason`` …) as points.
    """
    import geopandas as gpd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    units = gpd.GeoDataFrame(
        result.units_table(), geometry=result.units.geometry.to_numpy(), crs=result.units.crs
    )
    p_units = out / "units.parquet"
    units.to_parquet(p_units, compression="zstd")
    fac = result.facilities
    extra = [c for c in fac.columns if c not in FACILITY_COLUMNS]
    p_fac = write_facilities_parquet(fac[[*FACILITY_COLUMNS, *extra]], out / "facilities.parquet")
    return [p_units, p_fac]
