"""Opening vector files the same way for boundaries and facility lists.

:func:`vector_source` turns a path into what GDAL reads (``/vsizip/`` for zipped
shapefiles), chooses the layer (a GeoPackage with several layers needs ``layer``; the message
lists them) and the attribute encoding of a shapefile whose ``.dbf`` has no ``.cpg``.
:func:`read_vector_arrow` reads the attributes as Arrow columns and the point coordinates of
the geometries without a shapely object per feature, for facility files of a million rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coverage_gis.core.errors import InputError
from coverage_gis.io.crs_check import check_crs_plausible

__all__ = ["VectorSource", "point_xy", "read_vector_arrow", "vector_source"]


@dataclass(frozen=True)
class VectorSource:
    """What GDAL opens for one file: its source string, layer and read options."""

    path: Path
    src: str
    layer: str | None
    options: dict[str, Any]


def vector_source(path: str | Path, layer: str | None = None) -> VectorSource:
    """Resolve ``path`` (and ``layer``) into a :class:`VectorSource`.

    Raises
    ------
    InputError
        When the file does not exist, or a GeoPackage has several layers and none is chosen.
    """
    import pyogrio

    p = Path(path)
    if not p.exists():
        raise InputError("文件不存在", "File not found", file=str(p))
    suffix = p.suffix.lower()
    if suffix == ".zip":
        from coverage_gis.io.archive import check_archive

        check_archive(p)  # unsafe member names and zip bombs refused before GDAL opens it
    src = f"/vsizip/{p}" if suffix == ".zip" else str(p)
    if layer is None and suffix in (".gpkg", ".zip", ".kml"):
        try:
            layers = pyogrio.list_layers(src)
        except Exception as exc:  # GDAL raises several types for broken files
            raise InputError(
                f"无法读取矢量文件：{exc}", f"Cannot read vector file: {exc}", file=str(p)
            ) from exc
        if len(layers) > 1 and suffix in (".gpkg", ".zip"):
            names = ", ".join(str(x[0]) for x in layers)
            what = ("GeoPackage", "GeoPackage") if suffix == ".gpkg" else ("压缩包", "The archive")
            raise InputError(
                f"{what[0]} 含多个图层，请指定：{names}",
                f"{what[1]} has several layers; choose one: {names}",
                file=str(p),
                suggestion=f"边界文件用 --layer {layers[0][0]}，设施文件用 --facility-layer "
                f"{p.name}={layers[0][0]} / --layer NAME for boundaries, "
                "--facility-layer FILE=NAME for facility files",
            )
    options: dict[str, Any] = {}
    if suffix == ".shp" and not p.with_suffix(".cpg").exists():
        from coverage_gis.io.encoding import decode_dbf_hint

        hint = decode_dbf_hint(p)
        if hint:
            options["encoding"] = hint
    return VectorSource(p, src, layer, options)


def point_xy(wkb: Any) -> tuple[np.ndarray, np.ndarray]:
    """x, y of WKB geometries (NaN where missing or empty).

    Little-endian 2-D points (21 bytes each) are decoded in one numpy pass; other
    geometries through shapely, with a representative point for lines and polygons.
    """
    import pyarrow as pa
    import shapely

    arr = wkb.combine_chunks() if isinstance(wkb, pa.ChunkedArray) else wkb
    if isinstance(arr, pa.ExtensionArray):  # geoarrow.wkb (pyogrio): plain WKB underneath
        arr = arr.storage
    if isinstance(arr, pa.Array):
        if pa.types.is_large_binary(arr.type):
            arr = arr.cast(pa.binary())
        n = len(arr)
        if n and pa.types.is_binary(arr.type):
            offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
                arr.offset : arr.offset + n + 1
            ]
            lengths = np.diff(offsets)
            valid = (
                arr.is_valid().to_numpy(zero_copy_only=False)
                if arr.null_count
                else np.ones(n, dtype=bool)
            )
            # missing geometries take no bytes, so the points' records lie back to back
            if (lengths[valid] == 21).all() and (lengths[~valid] == 0).all() and valid.any():
                raw = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
                rec = raw.reshape(-1, 21)
                kind = rec[:, 1:5].copy().view("<u4").ravel()
                if (rec[:, 0] == 1).all() and (kind == 1).all():
                    xy = rec[:, 5:21].copy().view("<f8").reshape(-1, 2)
                    x = np.full(n, np.nan)
                    y = np.full(n, np.nan)
                    x[valid], y[valid] = xy[:, 0], xy[:, 1]
                    return x, y
        values = arr.to_numpy(zero_copy_only=False)
    else:
        values = np.asarray(wkb, dtype=object)
    geoms = shapely.from_wkb(values)
    pts = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    return np.where(missing, np.nan, x), np.where(missing, np.nan, y)


def to_wgs84_xy(x: np.ndarray, y: np.ndarray, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates in ``crs`` (anything pyproj reads) to WGS84 lon/lat."""
    from pyproj import CRS, Transformer

    c = CRS.from_user_input(crs)
    if c.equals("EPSG:4326", ignore_axis_order=True) or c.equals("OGC:CRS84"):
        return x, y
    tr = Transformer.from_crs(c, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def read_vector_arrow(
    path: str | Path, *, layer: str | None = None, crs: str | None = None
) -> tuple[Any, np.ndarray, np.ndarray, str | None]:
    """Read a vector file's attributes as an Arrow table and its points in WGS84.

    Returns
    -------
    table, lon, lat, layer
        Attributes (no geometry column), WGS84 coordinates of each feature's point (a
        representative point for lines and polygons; NaN without geometry), and the layer
        asked for (None when the file's only or first layer was read).

    Raises
    ------
    InputError
        When the file cannot be read, has no CRS and ``crs`` does not declare one, or its
        features fall outside China in its CRS (:func:`~coverage_gis.io.crs_check.check_crs_plausible`;
        a declared ``crs`` replaces the file's own when that one does not fit).
    """
    import pyogrio

    source = vector_source(path, layer)
    try:
        meta, table = pyogrio.read_arrow(source.src, layer=source.layer, **source.options)
    except Exception as exc:  # GDAL raises several types for broken files
        raise InputError(
            f"无法读取矢量文件：{exc}", f"Cannot read vector file: {exc}", file=str(source.path)
        ) from exc
    geom_name = meta.get("geometry_name") or "wkb_geometry"
    if geom_name in table.column_names:
        x, y = point_xy(table.column(geom_name))
        table = table.drop_columns([geom_name])
    else:
        x = y = np.full(table.num_rows, np.nan)
    file_crs = meta.get("crs") or crs
    if file_crs is None and np.isfinite(x).any():
        raise InputError(
            "文件没有坐标系定义（缺少 .prj 或 crs）",
            "The file has no coordinate reference system (no .prj / crs member)",
            file=str(source.path),
            suggestion="用 --crs EPSG:4490 等声明坐标系 / declare it, e.g. --crs EPSG:4490",
        )
    if file_crs is None:
        return table, x, y, source.layer
    lon, lat = to_wgs84_xy(x, y, file_crs)
    try:
        check_crs_plausible(x, y, lon, lat, file_crs, file=str(source.path), option=_CRS_OPTION)
    except InputError:
        # a CRS declared by the user replaces one the file gets wrong (e.g. GeoJSON in metres)
        if crs is None or crs == file_crs:
            raise
        lon, lat = to_wgs84_xy(x, y, crs)
        check_crs_plausible(x, y, lon, lat, crs, file=str(source.path), option=_CRS_OPTION)
    return table, lon, lat, source.layer


_CRS_OPTION = "--crs 文件名=EPSG:n / --crs FILE=EPSG:n"
