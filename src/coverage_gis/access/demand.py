"""Demand points for accessibility: where residents live, with their weights (需求点).

Three sources give the same :class:`Demand`:

* a community / village table (社区、村人口表: CSV, Excel or a vector file) —
  :func:`coverage_gis.io.population.read_population_table`;
* a population raster (WorldPop, GHS-POP, a bureau's 100 m grid) —
  :func:`read_population_raster`: every cell holding people is one point at the cell
  centre, weighted by its value; with units, :func:`zonal_sums` gives each unit's total;
* the township totals themselves when nothing finer is available — :func:`demand_from_units`:
  each unit's ``population``/``pop_60plus``/… spread evenly over a regular grid inside it.

Every input row (or raster cell, or unit) is either used or excluded with a reason; the
:attr:`Demand.accounting` table says how many of each, per input file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding, Findings, Severity
from coverage_gis.io.normalise import MAX_ROW_FINDINGS, SHOWN_ROW_FINDINGS

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "ACCOUNTING_COLUMNS",
    "EXCLUSION_REASONS",
    "WEIGHT_FIELDS",
    "Demand",
    "accounting_row",
    "demand_from_units",
    "read_population_raster",
    "row_findings",
    "zonal_sums",
]

DemandKind = Literal["points", "polygons", "raster", "units"]

#: Weight fields a demand source may carry, in this order.
WEIGHT_FIELDS: tuple[str, ...] = ("population", "pop_60plus", "pop_65plus", "households")

#: Why an input row (cell, unit) was not used: code → (Chinese, English).
EXCLUSION_REASONS: dict[str, tuple[str, str]] = {
    "blank_row": ("空行", "blank row"),
    "note_row": ("说明/注释行", "note row"),
    "total_row": ("合计/小计行", "total or subtotal row"),
    "bad_value": ("人口数值缺失、无法解析或为负", "population value blank, unreadable or negative"),
    "bad_coordinate": ("坐标无法使用", "coordinates unusable"),
    "no_location": ("既无坐标也无所属镇(街道)", "neither coordinates nor township"),
    "no_geometry": ("无几何图形", "no geometry"),
    "nodata": ("无数据像元（nodata/NaN）", "nodata or NaN cell"),
    "zero": ("人口为 0（或不大于下限）的像元", "cell with no population (≤ minimum)"),
    "negative": ("负值像元", "negative cell"),
}

#: Columns of :attr:`Demand.accounting` (plus one ``excluded_<reason>`` column per reason met).
ACCOUNTING_COLUMNS: tuple[str, ...] = (
    "file",
    "sheet",
    "counted_as",
    "rows_read",
    "rows_used",
    "rows_excluded",
    "reasons",
    "reasons_zh",
    "reasons_en",
)


@dataclass(frozen=True)
class Demand:
    """Demand points: where residents live, with weights.

    Attributes
    ----------
    lon, lat
        WGS84 degrees (float64). NaN for a community row that names its 镇(街道) but has
        no coordinates: the integrator places it by its unit.
    weights
        float64 columns among :data:`WEIGHT_FIELDS` (only those present in the source).
        NaN where a secondary field was blank (with a finding).
    name
        Community / village label (object) or None.
    unit_code
        Township code when known (raster zonal assignment, unit fallback, a code column),
        else None (``None`` entries for points outside every unit).
    unit_name
        所属镇(街道) as written in the table, for name matching by the integrator, else None.
    source_row
        The row number the user sees: Excel row, CSV line, feature number, unit number, or
        for a raster the flat cell index ``row * width + col``.
    kind
        ``points``, ``polygons`` (representative points of community polygons), ``raster``
        or ``units``.
    source
        File name (or ``"units"`` for the fallback).
    findings
        What was noticed while reading.
    accounting
        One row per input file (sheet): rows read, used, excluded, by reason (see
        :data:`ACCOUNTING_COLUMNS`, :data:`EXCLUSION_REASONS`); rows_read = rows_used +
        rows_excluded always holds.
    """

    lon: np.ndarray
    lat: np.ndarray
    weights: pd.DataFrame
    name: np.ndarray | None
    unit_code: np.ndarray | None
    unit_name: np.ndarray | None
    source_row: np.ndarray
    kind: DemandKind
    source: str
    findings: Findings
    accounting: pd.DataFrame

    def __len__(self) -> int:
        return len(self.lon)

    def total(self, field: str) -> float:
        """Sum of one weight field over the points (NaN entries skipped).

        Raises
        ------
        KeyError
            When the field is not among :attr:`weights` (the message lists those present).
        """
        if field not in self.weights.columns:
            raise KeyError(
                f"人口数据没有字段 {field}（现有：{', '.join(self.weights.columns) or '无'}） / "
                f"no weight field '{field}' (present: {', '.join(self.weights.columns) or 'none'})"
            )
        return float(np.nansum(self.weights[field].to_numpy(dtype=np.float64)))


# --------------------------------------------------------------------------- shared helpers


def accounting_row(
    file: str,
    sheet: str | None,
    counted_as: str,
    rows_read: int,
    excluded: Mapping[str, int],
) -> dict[str, Any]:
    """One row of :attr:`Demand.accounting` (reasons with a zero count are left out)."""
    excluded = {k: int(v) for k, v in excluded.items() if v}
    n_excluded = sum(excluded.values())
    row: dict[str, Any] = {
        "file": file,
        "sheet": sheet,
        "counted_as": counted_as,
        "rows_read": int(rows_read),
        "rows_used": int(rows_read) - n_excluded,
        "rows_excluded": n_excluded,
        "reasons": "; ".join(f"{k}={v}" for k, v in excluded.items()),
        "reasons_zh": "；".join(f"{EXCLUSION_REASONS[k][0]} {v}" for k, v in excluded.items()),
        "reasons_en": "; ".join(f"{EXCLUSION_REASONS[k][1]} {v}" for k, v in excluded.items()),
    }
    for k, v in excluded.items():
        row[f"excluded_{k}"] = v
    return row


def accounting_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The accounting table of several rows (missing ``excluded_*`` counts are 0)."""
    frame = pd.DataFrame(list(rows))
    for c in ACCOUNTING_COLUMNS:
        if c not in frame.columns:
            frame[c] = pd.Series(dtype=object)
    extra = sorted(c for c in frame.columns if c.startswith("excluded_"))
    for c in extra:
        frame[c] = frame[c].fillna(0).astype(np.int64)
    return frame[[*ACCOUNTING_COLUMNS, *extra]]


def row_findings(
    mask: np.ndarray,
    *,
    severity: Severity,
    code: str,
    zh: str,
    en: str,
    file: str | None,
    sheet: str | None,
    rows: np.ndarray | None,
    column: str | None,
    values: Sequence[Any] | np.ndarray | None = None,
    suggestion: str | None = None,
) -> list[Finding]:
    """Findings for the rows where ``mask`` is true, capped like the facility normaliser.

    Up to :data:`~coverage_gis.io.normalise.MAX_ROW_FINDINGS` rows are listed one by one;
    above that the first :data:`~coverage_gis.io.normalise.SHOWN_ROW_FINDINGS` are, and one
    more finding gives the count of the rest. ``rows`` None: positions with no row number
    (generated points).
    """
    where = np.flatnonzero(mask)
    if not len(where):
        return []
    listed = len(where) if len(where) <= MAX_ROW_FINDINGS else SHOWN_ROW_FINDINGS

    def value(i: int) -> Any:
        if values is None:
            return None
        v = values[i]
        return v.item() if isinstance(v, np.generic) else v

    out = [
        Finding(
            severity,
            code,
            zh,
            en,
            file=file,
            sheet=sheet,
            row=None if rows is None else int(rows[i]),
            column=column,
            value=value(int(i)),
            suggestion=suggestion,
        )
        for i in where[:listed]
    ]
    rest = len(where) - listed
    if rest:
        i = int(where[listed])
        out.append(
            Finding(
                severity,
                code,
                f"{zh}：另有 {rest} 行（未逐行列出）",
                f"{en}: {rest} more row(s) (not listed one by one)",
                file=file,
                sheet=sheet,
                row=None if rows is None else int(rows[i]),
                column=column,
                value=value(i),
                suggestion=suggestion,
                count=rest,
            )
        )
    return out


def _unit_codes(units: gpd.GeoDataFrame) -> np.ndarray:
    """Unit codes as text (the ``code`` column; the 1-based unit number without one)."""
    if "code" in units.columns:
        return units["code"].astype(str).to_numpy(dtype=object)
    return np.array([str(i + 1) for i in range(len(units))], dtype=object)


# --------------------------------------------------------------------------- raster

#: Cells read at once from a raster (a strip of whole rows): bounds the memory of a scan.
STRIP_CELLS = 4_000_000


@dataclass
class _RasterScan:
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    zone: np.ndarray | None  # unit position + 1 per point (0: outside every unit)
    sums: np.ndarray | None  # per unit position
    outside_cells: int
    outside_total: float
    counts: dict[str, int]
    negative_examples: list[tuple[int, int, float]]
    n_cells: int
    width: int
    crs: Any
    transform: Any


def _scan_raster(
    path: Path, units: gpd.GeoDataFrame | None, band: int, min_value: float, keep_points: bool
) -> _RasterScan:
    """Read a raster band strip by strip: positive cells, counts by reason, zonal sums."""
    import rasterio
    from affine import Affine
    from rasterio.features import rasterize
    from rasterio.windows import Window

    if not path.exists():
        raise InputError("文件不存在", "File not found", file=str(path))
    try:
        src = rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError and GDAL errors
        raise InputError(
            f"无法读取人口栅格：{exc}", f"Cannot read population raster: {exc}", file=str(path)
        ) from exc
    with src:
        if not 1 <= band <= src.count:
            raise InputError(
                f"栅格只有 {src.count} 个波段，没有第 {band} 波段",
                f"The raster has {src.count} band(s); band {band} does not exist",
                file=str(path),
                value=band,
            )
        if src.crs is None:
            raise InputError(
                "人口栅格没有坐标系定义",
                "The population raster has no coordinate reference system",
                file=str(path),
                suggestion="用 gdal_edit.py -a_srs EPSG:4326 等为栅格声明坐标系 / "
                "assign one, e.g. gdal_edit.py -a_srs EPSG:4326",
            )
        height, width = src.height, src.width
        nodata = src.nodatavals[band - 1]
        shapes: list[tuple[Any, int]] = []
        n_units = 0
        if units is not None:
            n_units = len(units)
            geoms = units.geometry
            if units.crs is not None:
                geoms = geoms.to_crs(src.crs)
            elif not src.crs.is_geographic:
                geoms = geoms.set_crs("EPSG:4326").to_crs(src.crs)
            shapes = [
                (g, i + 1)
                for i, g in enumerate(geoms.to_numpy())
                if g is not None and not g.is_empty
            ]
        strip = max(1, STRIP_CELLS // max(width, 1))
        rows_out: list[np.ndarray] = []
        cols_out: list[np.ndarray] = []
        vals_out: list[np.ndarray] = []
        zone_out: list[np.ndarray] = []
        sums = np.zeros(n_units + 1, dtype=np.float64)
        counts = {"nodata": 0, "zero": 0, "negative": 0}
        negative_examples: list[tuple[int, int, float]] = []
        outside_cells = 0
        for r0 in range(0, height, strip):
            h = min(strip, height - r0)
            window = Window(0, r0, width, h)
            data = src.read(band, window=window).astype(np.float64, copy=False)
            valid = src.read_masks(band, window=window) > 0
            valid &= np.isfinite(data)
            if nodata is not None and np.isfinite(nodata):
                valid &= data != nodata
            counts["nodata"] += int((~valid).sum())
            negative = valid & (data < 0)
            counts["negative"] += int(negative.sum())
            if negative.any() and len(negative_examples) < 5:
                nr, nc = np.nonzero(negative)
                for a, b in zip(nr[:5], nc[:5], strict=True):
                    if len(negative_examples) < 5:
                        negative_examples.append((int(a + r0), int(b), float(data[a, b])))
            used = valid & (data > max(min_value, 0.0))
            counts["zero"] += int((valid & ~negative & ~used).sum())
            rr, cc = np.nonzero(used)
            vv = data[rr, cc]
            if shapes:
                zones = rasterize(
                    shapes,
                    out_shape=(h, width),
                    transform=src.transform @ Affine.translation(0, r0),  # the strip's
                    fill=0,
                    all_touched=False,
                    dtype="int32",
                )
                zz = zones[rr, cc].astype(np.int64)
                sums += np.bincount(zz, weights=vv, minlength=n_units + 1)
                outside_cells += int((zz == 0).sum())
                if keep_points:
                    zone_out.append(zz)
            if keep_points:
                rows_out.append(rr.astype(np.int64) + r0)
                cols_out.append(cc.astype(np.int64))
                vals_out.append(vv)
        crs, transform = src.crs, src.transform

    def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    return _RasterScan(
        rows=cat(rows_out, np.int64),
        cols=cat(cols_out, np.int64),
        values=cat(vals_out, np.float64),
        zone=cat(zone_out, np.int64) if units is not None and keep_points else None,
        sums=sums[1:] if units is not None else None,
        outside_cells=outside_cells,
        outside_total=float(sums[0]) if units is not None else 0.0,
        counts=counts,
        negative_examples=negative_examples,
        n_cells=height * width,
        width=width,
        crs=crs,
        transform=transform,
    )


def _raster_findings(scan: _RasterScan, file: str, field: str, band: int) -> Findings:
    findings = Findings()
    if scan.counts["negative"]:
        examples = "; ".join(f"行/row {r}, 列/col {c}: {v:g}" for r, c, v in scan.negative_examples)
        findings.add(
            Finding(
                "warning",
                "raster_negative_cells",
                f"人口栅格第 {band} 波段有 {scan.counts['negative']} 个负值像元，未计入",
                f"Band {band} of the population raster has {scan.counts['negative']} "
                "negative cell(s); not counted",
                file=file,
                column=field,
                value=examples,
                count=scan.counts["negative"],
            )
        )
    if scan.counts["nodata"]:
        findings.add(
            Finding(
                "info",
                "raster_nodata_cells",
                f"跳过 {scan.counts['nodata']} 个无数据像元（nodata/NaN），不按 0 计",
                f"Skipped {scan.counts['nodata']} nodata/NaN cell(s) (not taken as zero)",
                file=file,
                column=field,
                count=scan.counts["nodata"],
            )
        )
    if scan.sums is not None and scan.outside_cells:
        findings.add(
            Finding(
                "warning",
                "raster_outside_units",
                f"{scan.outside_cells} 个有人口的像元不在任何镇(街道)内，"
                f"合计 {scan.outside_total:,.0f} 人未归入任何单元",
                f"{scan.outside_cells} populated cell(s) lie outside every unit; "
                f"{scan.outside_total:,.0f} people belong to no unit",
                file=file,
                column=field,
                value=round(scan.outside_total, 3),
                count=scan.outside_cells,
            )
        )
    return findings


def read_population_raster(
    path: str | Path,
    *,
    units: gpd.GeoDataFrame | None = None,
    band: int = 1,
    field: str = "population",
    min_value: float = 0.0,
) -> Demand:
    """Read a population raster (GeoTIFF in any CRS) into weighted demand points.

    Every cell with a value above ``min_value`` (and above 0) becomes one point at the
    cell centre, transformed to WGS84, weighted by the value. Nodata and NaN cells are
    skipped and counted (never read as zero); negative cells are a warning finding (count
    and examples with row/col cell indices) and are not counted. The band is read in strips
    of whole rows (:data:`STRIP_CELLS` cells), so memory is bounded by the strip and the
    populated cells, whatever the raster size.

    Parameters
    ----------
    path
        The raster file (GeoTIFF, or anything GDAL reads with a CRS).
    units
        Township units (with a ``code`` column): each cell gets the code of the unit its
        centre falls in (unit ids rasterised in the raster's CRS, ``all_touched=False``);
        cells outside every unit keep ``None`` and are reported with their total.
    band
        1-based band number.
    field
        The weight field the values are (``population``, ``pop_60plus`` …).
    min_value
        Cells at or below this value are not demand points (counted as ``zero``).

    Returns
    -------
    Demand
        ``kind="raster"``; ``source_row`` is the flat cell index ``row * width + col``.

    Raises
    ------
    InputError
        When the file cannot be read, has no CRS or no such band.
    """
    from pyproj import CRS, Transformer
    from rasterio.transform import xy

    p = Path(path)
    scan = _scan_raster(p, units, band, min_value, keep_points=True)
    if len(scan.rows):
        xs, ys = xy(scan.transform, scan.rows, scan.cols, offset="center")
        x = np.asarray(xs, dtype=np.float64).ravel()
        y = np.asarray(ys, dtype=np.float64).ravel()
        crs = CRS.from_user_input(scan.crs.to_wkt())
        if crs.equals("EPSG:4326", ignore_axis_order=True):
            lon, lat = x, y
        else:
            tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
            lon, lat = (np.asarray(a, dtype=np.float64) for a in tr.transform(x, y))
    else:
        lon = lat = np.zeros(0, dtype=np.float64)
    unit_code = None
    if units is not None and scan.zone is not None:
        table = np.empty(len(units) + 1, dtype=object)
        table[0] = None
        table[1:] = _unit_codes(units)
        unit_code = table[scan.zone]
    findings = _raster_findings(scan, str(p), field, band)
    accounting = accounting_frame(
        [
            accounting_row(
                str(p),
                None,
                "cells",
                scan.n_cells,
                {k: scan.counts[k] for k in ("nodata", "zero", "negative")},
            )
        ]
    )
    return Demand(
        lon=lon,
        lat=lat,
        weights=pd.DataFrame({field: scan.values}),
        name=None,
        unit_code=unit_code,
        unit_name=None,
        source_row=scan.rows * scan.width + scan.cols,
        kind="raster",
        source=str(p),
        findings=findings,
        accounting=accounting,
    )


def zonal_sums(
    path: str | Path, units: gpd.GeoDataFrame, band: int = 1, *, min_value: float = 0.0
) -> pd.Series:
    """Sum of a population raster's cells per unit (by cell centre, ``all_touched=False``).

    Returns
    -------
    pandas.Series
        float64 indexed by unit code, one entry per unit (0 for units without populated
        cells). ``attrs`` hold ``outside_cells`` and ``outside_total`` (populated cells, and
        their sum, outside every unit) and ``findings``.
    """
    p = Path(path)
    scan = _scan_raster(p, units, band, min_value, keep_points=False)
    assert scan.sums is not None
    out = pd.Series(scan.sums, index=pd.Index(_unit_codes(units), name="code"), name="population")
    out.attrs["outside_cells"] = scan.outside_cells
    out.attrs["outside_total"] = scan.outside_total
    out.attrs["findings"] = _raster_findings(scan, str(p), "population", band)
    return out


# --------------------------------------------------------------------------- units fallback


def _split_evenly(values: np.ndarray, counts: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Each unit's value over its points so that the per-unit sums are exact.

    A whole number is split into whole persons (the first ``value mod n`` points carry one
    more), so any summation order gives the total back exactly; another value is split
    equally, the last point taking what rounding left.
    """
    n = np.maximum(counts, 1)
    point = np.arange(len(owner)) - np.concatenate([[0], np.cumsum(counts)[:-1]])[owner]
    v = values[owner]
    whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**52)
    base = np.floor(values / n)
    extra = values - base * n
    w_whole = base[owner] + (point < extra[owner])
    share = values / n
    w_frac = share[owner]
    last = point == counts[owner] - 1
    if (~whole).any():
        csum = np.bincount(owner, weights=np.where(last, 0.0, w_frac), minlength=len(values))
        w_frac = np.where(last, (values - csum)[owner], w_frac)
    out = np.where(whole[owner], w_whole, w_frac)
    return np.where(np.isfinite(v), out, np.nan)


def _grid_points(
    geoms: np.ndarray, sx: np.ndarray, sy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regular grid points (steps ``sx`` × ``sy``) inside each geometry: (owner, x, y),
    centred on its box. The geometries are not prepared (they may be shared)."""
    import shapely

    bounds = shapely.bounds(geoms)
    w = bounds[:, 2] - bounds[:, 0]
    h = bounds[:, 3] - bounds[:, 1]
    nx = np.floor(w / sx).astype(np.int64) + 1
    ny = np.floor(h / sy).astype(np.int64) + 1
    x0 = bounds[:, 0] + (w - (nx - 1) * sx) / 2
    y0 = bounds[:, 1] + (h - (ny - 1) * sy) / 2
    per = nx * ny
    owner = np.repeat(np.arange(len(geoms)), per)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(per) - per, per)
    x = x0[owner] + (k % nx[owner]) * sx[owner]
    y = y0[owner] + (k // nx[owner]) * sy[owner]
    inside = shapely.contains_xy(geoms[owner], x, y)
    return owner[inside], x[inside], y[inside]


#: Metres per degree of latitude (and of longitude at the equator), for the grid.
_M_PER_DEG_LAT = 111_320.0


def demand_from_units(
    units: gpd.GeoDataFrame,
    fields: Sequence[str] = ("population", "pop_60plus"),
    *,
    spacing_m: float = 250.0,
    max_points_per_unit: int = 2000,
    max_points: int = 50_000,
) -> Demand:
    """Spread each unit's totals evenly over the unit: the fallback without finer data.

    Each unit gets a regular grid of points ``spacing_m`` apart (laid in degrees scaled to
    metres at the unit's latitude), kept where inside the unit (``shapely.contains_xy``); a unit
    that would get more than ``max_points_per_unit`` points gets a coarser grid, one that
    gets none (smaller than the grid) gets its representative point. Each unit's value is
    split over its points so that the per-unit sums are exact (whole numbers into whole
    persons).

    Parameters
    ----------
    units
        Township units with a ``code`` column and the fields (any CRS; WGS84 assumed
        without one).
    fields
        Weight fields to spread. A field missing from ``units`` is a warning finding and
        left out of the weights; a NaN or negative value is a warning finding naming the
        unit code and field, and the unit's points carry NaN for that field.
    spacing_m
        Grid spacing in metres.
    max_points_per_unit
        Upper bound of the points of one unit.
    max_points
        Upper bound of all points together: with many units each gets at most
        ``max_points // len(units)`` (at least one; with one, each unit's representative
        point, ``shapely.point_on_surface``). A national table of 40,000 units would
        otherwise spread tens of millions of points, and every access indicator's pairs
        with them (measured: out of memory at 40,000 units × 1,000,000 facilities).

    Returns
    -------
    Demand
        ``kind="units"``, ``source="units"``, ``unit_code`` and ``name`` (the unit's name)
        set; ``source_row`` is the 1-based unit number.
    """
    import geopandas as gpd
    import shapely
    from pyproj import CRS

    if spacing_m <= 0 or max_points_per_unit < 1 or max_points < 1:
        raise InputError(
            "网格间距须为正数，每单元与总点数上限至少为 1",
            "The grid spacing must be positive and the point limits at least 1",
            value=(spacing_m, max_points_per_unit, max_points),
        )
    max_points_per_unit = max(1, min(max_points_per_unit, max_points // max(len(units), 1)))
    findings = Findings()
    codes = _unit_codes(units)
    names = units["name"].astype(str).to_numpy(dtype=object) if "name" in units.columns else codes
    present = [f for f in fields if f in units.columns]
    for f in fields:
        if f not in units.columns:
            findings.add(
                Finding(
                    "warning",
                    "units_field_missing",
                    f"镇(街道)边界没有字段 {f}，无法按单元分布该人口",
                    f"The units have no field '{f}'; it cannot be spread over the units",
                    file="units",
                    column=f,
                    value=f,
                )
            )
    geoms = units.geometry.to_numpy()
    crs = units.crs if units.crs is not None else CRS.from_epsg(4326)
    wgs = gpd.GeoSeries(geoms, crs=crs).to_crs(4326).to_numpy()
    has_geom = ~(shapely.is_missing(wgs) | shapely.is_empty(wgs))
    rep = shapely.point_on_surface(np.where(has_geom, wgs, shapely.Point(0, 0)))

    n = len(units)
    # the grid is laid in degrees, scaled per unit to metres at its own latitude
    # (equirectangular; within a township the scale varies by far less than the grid):
    # no reprojection of detailed outlines, which at 40,000 units cost seconds
    idx = np.flatnonzero(has_geom)
    lat0 = np.radians(shapely.get_y(rep[idx]))
    kx = _M_PER_DEG_LAT * np.maximum(np.cos(lat0), 1e-6)  # metres per degree of longitude
    ky = np.full(len(idx), _M_PER_DEG_LAT)
    area = shapely.area(wgs[idx]) * kx * ky
    spacing = np.maximum(spacing_m, np.sqrt(area / max_points_per_unit))
    # one point per unit (a national table over the point budget): the representative
    # point, without laying grids over detailed outlines only to keep one point of each
    todo = np.arange(len(idx)) if max_points_per_unit > 1 else np.zeros(0, dtype=np.int64)
    got: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while len(todo):
        o, x, y = _grid_points(wgs[idx[todo]], spacing[todo] / kx[todo], spacing[todo] / ky[todo])
        count = np.bincount(o, minlength=len(todo))
        over = count > max_points_per_unit
        ok = ~over[o]
        got.append((todo[o[ok]], x[ok], y[ok]))
        spacing[todo[over]] *= np.sqrt(count[over] / max_points_per_unit) * 1.02
        todo = todo[over]
    o = np.concatenate([g[0] for g in got]) if got else np.zeros(0, dtype=np.int64)
    x = np.concatenate([g[1] for g in got]) if got else np.zeros(0)
    y = np.concatenate([g[2] for g in got]) if got else np.zeros(0)
    empty = np.setdiff1d(np.arange(len(idx)), o)
    if len(empty):  # smaller than the grid: one representative point
        o = np.concatenate([o, empty])
        x = np.concatenate([x, shapely.get_x(rep[idx[empty]])])
        y = np.concatenate([y, shapely.get_y(rep[idx[empty]])])
    owners = [idx[o]]
    lons = [x]
    lats = [y]
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    order = np.argsort(owner, kind="stable")
    owner = owner[order]
    lon = (np.concatenate(lons) if lons else np.zeros(0))[order]
    lat = (np.concatenate(lats) if lats else np.zeros(0))[order]
    counts = np.bincount(owner, minlength=n)

    weights: dict[str, np.ndarray] = {}
    for f in present:
        values = pd.to_numeric(units[f], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values) | (values < 0)
        for i in np.flatnonzero(bad & has_geom):
            raw = units[f].iloc[i]
            findings.add(
                Finding(
                    "warning",
                    "units_value_invalid",
                    f"镇(街道) {codes[i]} {names[i]} 的 {f} 缺失、不是数字或为负，该单元不计此人口",
                    f"Unit {codes[i]} {names[i]}: {f} is blank, not a number or negative; "
                    "the unit carries none of it",
                    file="units",
                    row=int(i + 1),
                    column=f,
                    value=None if pd.isna(raw) else str(raw),
                )
            )
        weights[f] = _split_evenly(np.where(bad, np.nan, values), counts, owner)
    if (~has_geom).any():
        for i in np.flatnonzero(~has_geom):
            findings.add(
                Finding(
                    "warning",
                    "units_no_geometry",
                    f"镇(街道) {codes[i]} {names[i]} 没有边界图形，其人口无法分布",
                    f"Unit {codes[i]} {names[i]} has no geometry; its population cannot be spread",
                    file="units",
                    row=int(i + 1),
                    value=str(codes[i]),
                )
            )
    accounting = accounting_frame(
        [accounting_row("units", None, "units", n, {"no_geometry": int((~has_geom).sum())})]
    )
    return Demand(
        lon=np.asarray(lon, dtype=np.float64),
        lat=np.asarray(lat, dtype=np.float64),
        weights=pd.DataFrame(weights, index=pd.RangeIndex(len(owner)), dtype=np.float64),
        name=np.asarray(names, dtype=object)[owner],
        unit_code=np.asarray(codes, dtype=object)[owner],
        unit_name=np.asarray(names, dtype=object)[owner],
        source_row=owner.astype(np.int64) + 1,
        kind="units",
        source="units",
        findings=findings,
        accounting=accounting,
    )
