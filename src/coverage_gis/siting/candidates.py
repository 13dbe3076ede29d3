"""Candidate sites for the location models (候选点): given points, unit interiors, demand points.

* :func:`candidates_from_points` — sites a planner lists (vacant plots, community centres):
  a candidate in water, outside every unit or without usable coordinates is refused with a
  :class:`~coverage_gis.core.findings.Finding`; the kept ones get the unit that covers them, by
  the same rule as facilities (prepared polygons, ``shapely.intersects_xy``; on a shared
  edge the unit with the smallest code);
* :func:`unit_centroid_candidates` — one site per unit at a point surely inside it
  (``representative_point``), moved off water when the water layer is given;
* :func:`demand_point_candidates` — thin the demand points to about ``k`` candidates: the
  heaviest point of each cell of the coarsest grid that still has ``k`` occupied cells.

Everything is vectorised (numpy, shapely 2); coordinates are WGS84 longitude/latitude.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding
from coverage_gis.core.point_in_polygon import locate_points

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "CandidateSet",
    "candidates_from_points",
    "demand_point_candidates",
    "unit_centroid_candidates",
]

#: Why a candidate was refused: code → (Chinese, English, suggestion).
REFUSAL_REASONS: dict[str, tuple[str, str, str]] = {
    "candidate_bad_coordinate": (
        "候选点坐标缺失或无法使用，已排除",
        "candidate site has no usable coordinates; left out",
        "补全经纬度 / fill in longitude and latitude",
    ),
    "candidate_in_water": (
        "候选点位于水域内，已排除",
        "candidate site lies in water; left out",
        "核对坐标与坐标系，或将点移到岸上 / check the coordinates and their CRS, or move the site ashore",
    ),
    "candidate_outside_units": (
        "候选点不在任何镇(街道)范围内，已排除",
        "candidate site lies outside every township; left out",
        "核对坐标与坐标系 / check the coordinates and their CRS",
    ),
    "unit_without_candidate_point": (
        "该镇(街道)除水域外没有可用的候选点位置",
        "the township has no room for a candidate site outside water",
        "在该镇(街道)内另给候选点 / list candidate sites inside it",
    ),
}


@dataclass(frozen=True, eq=False)
class CandidateSet:
    """The candidates kept, in input order, and why the others were refused.

    Attributes
    ----------
    index
        Position of each kept candidate in the input (for units: the unit position).
    unit
        Unit position of each kept candidate (``units`` row order).
    lon, lat
        WGS84 coordinates of the kept candidates.
    names
        Names of the kept candidates.
    findings
        One finding per refused candidate (capped like the readers' row findings).
    """

    index: NDArray[np.int64]
    unit: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    names: NDArray[np.object_]
    findings: tuple[Finding, ...]

    def __len__(self) -> int:
        return len(self.index)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _geoms(units: Any) -> np.ndarray:
    """Unit polygons as an object array (GeoDataFrame, GeoSeries or geometries)."""
    if hasattr(units, "geometry"):
        return np.asarray(units.geometry.to_numpy(), dtype=object)
    return np.asarray(units, dtype=object).ravel()


def _unit_rank(units: Any) -> np.ndarray:
    """Tie-break order on shared edges: the unit code's rank (as the engine), else position."""
    n = len(_geoms(units))
    if hasattr(units, "columns") and "code" in units.columns:
        codes = units["code"].to_numpy().astype(str)
        return np.argsort(np.argsort(codes, kind="stable"), kind="stable")
    return np.arange(n)


def _unit_names(units: Any) -> np.ndarray:
    n = len(_geoms(units))
    if hasattr(units, "columns") and "name" in units.columns:
        return units["name"].astype(str).to_numpy(dtype=object)
    return np.array([str(i + 1) for i in range(n)], dtype=object)


def _in_any(geoms: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True where the point intersects any of ``geoms`` (STRtree, vectorised)."""
    hit = np.zeros(len(x), dtype=bool)
    g = _geoms(geoms)
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if not len(g) or not len(ok):
        return hit
    found = shapely.STRtree(g).query(shapely.points(x[ok], y[ok]), predicate="intersects")
    hit[ok[np.unique(found[0])]] = True
    return hit


def _refusals(
    mask: np.ndarray,
    code: str,
    *,
    names: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    rows: np.ndarray | None,
    file: str | None,
) -> list[Finding]:
    """One warning per refused candidate, capped as row findings are."""
    from coverage_gis.access import demand

    zh, en, suggestion = REFUSAL_REASONS[code]
    where = np.flatnonzero(mask)
    values = np.full(len(mask), None, dtype=object)
    shown = where[: demand.MAX_ROW_FINDINGS + 1]  # the only values a finding can show
    values[shown] = [f"{names[i]} ({lon[i]:.6f}, {lat[i]:.6f})" for i in shown.tolist()]
    return demand.row_findings(
        mask,
        severity="warning",
        code=code,
        zh=zh,
        en=en,
        file=file,
        sheet=None,
        rows=rows,
        column="lon/lat",
        values=values,
        suggestion=suggestion,
    )


def candidates_from_points(
    lon: ArrayLike,
    lat: ArrayLike,
    names: Sequence[Any] | ArrayLike | None,
    units: gpd.GeoDataFrame | Any,
    water: Any = None,
    *,
    file: str | None = None,
    rows: ArrayLike | None = None,
) -> CandidateSet:
    """Keep the candidate sites that lie on land inside a unit.

    Parameters
    ----------
    lon, lat
        WGS84 coordinates of the candidates.
    names
        Their names (None: ``1``, ``2``, … by position).
    units
        Unit polygons: a GeoDataFrame (its ``code`` decides shared edges, as for
        facilities), a GeoSeries or an array of shapely geometries, in WGS84.
    water
        Water polygons (lakes, rivers) in WGS84; a candidate touching one is refused.
    file
        Source file name for the findings.
    rows
        Row number of each candidate as the user sees it in ``file``, for the findings.

    Returns
    -------
    CandidateSet
        Kept candidates with their unit positions; one finding per refused candidate:
        ``candidate_bad_coordinate``, ``candidate_in_water`` or ``candidate_outside_units``
        (each candidate gets the first that applies).
    """
    x = np.asarray(lon, dtype=float).ravel()
    y = np.asarray(lat, dtype=float).ravel()
    n = len(x)
    if len(y) != n:
        raise InputError("经度与纬度个数不一致", "longitude and latitude differ in length")
    nm = (
        np.array([str(i + 1) for i in range(n)], dtype=object)
        if names is None
        else np.asarray(names, dtype=object).ravel()
    )
    if len(nm) != n:
        raise InputError("名称个数与候选点个数不一致", "names and candidates differ in number")
    rw = None if rows is None else np.asarray(rows).ravel()
    bad = ~(np.isfinite(x) & np.isfinite(y))
    wet = _in_any(water, x, y) & ~bad if water is not None else np.zeros(n, dtype=bool)
    unit = np.full(n, -1, dtype=np.int64)
    ok = np.flatnonzero(~bad & ~wet)
    geoms = _geoms(units)
    if len(ok) and len(geoms):
        unit[ok], _multi = locate_points(geoms, _unit_rank(units), x[ok], y[ok])
    outside = ~bad & ~wet & (unit < 0)
    kw: dict[str, Any] = {"names": nm, "lon": x, "lat": y, "rows": rw, "file": file}
    findings = [
        *_refusals(bad, "candidate_bad_coordinate", **kw),
        *_refusals(wet, "candidate_in_water", **kw),
        *_refusals(outside, "candidate_outside_units", **kw),
    ]
    keep = np.flatnonzero(unit >= 0)
    return CandidateSet(
        index=_frozen(keep.astype(np.int64)),
        unit=_frozen(unit[keep]),
        lon=_frozen(x[keep]),
        lat=_frozen(y[keep]),
        names=_frozen(nm[keep]),
        findings=tuple(findings),
    )


def unit_centroid_candidates(units: gpd.GeoDataFrame | Any, water: Any = None) -> CandidateSet:
    """One candidate per unit: a point surely inside it (``representative_point``).

    Parameters
    ----------
    units
        Unit polygons (GeoDataFrame, GeoSeries or geometries) in WGS84; a GeoDataFrame's
        ``name`` column names the candidates.
    water
        Water polygons in WGS84: a unit whose point falls in water gets the representative
        point of its part outside the water instead.

    Returns
    -------
    CandidateSet
        ``index`` and ``unit`` are both the unit position; units with no land left (or no
        geometry) get no candidate and a finding ``unit_without_candidate_point``.
    """
    geoms = _geoms(units)
    n = len(geoms)
    names = _unit_names(units)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = np.full(n, None, dtype=object)
    pts[usable] = shapely.point_on_surface(geoms[usable])
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    x[usable], y[usable] = shapely.get_x(pts[usable]), shapely.get_y(pts[usable])
    if water is not None:
        wet = np.flatnonzero(_in_any(water, x, y))
        if len(wet):
            wg = _geoms(water)
            touching = shapely.STRtree(wg).query(geoms[wet], predicate="intersects")[1]
            dry = shapely.difference(geoms[wet], shapely.union_all(wg[np.unique(touching)]))
            empty = shapely.is_empty(dry)
            moved = shapely.point_on_surface(dry[~empty])
            x[wet[~empty]], y[wet[~empty]] = shapely.get_x(moved), shapely.get_y(moved)
            x[wet[empty]], y[wet[empty]] = np.nan, np.nan
    lost = ~np.isfinite(x)
    findings = _refusals(
        lost, "unit_without_candidate_point", names=names, lon=x, lat=y, rows=None, file=None
    )
    keep = np.flatnonzero(~lost)
    return CandidateSet(
        index=_frozen(keep.astype(np.int64)),
        unit=_frozen(keep.astype(np.int64)),
        lon=_frozen(x[keep]),
        lat=_frozen(y[keep]),
        names=_frozen(names[keep]),
        findings=tuple(findings),
    )


def demand_point_candidates(
    lon: ArrayLike, lat: ArrayLike, k: int, weights: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Thin demand points to at most ``k`` candidate sites spread over the area.

    The points are binned on a square grid (equirectangular metres around their mean
    latitude); the cell size is the smallest (by bisection) that leaves at most ``k``
    occupied cells, and each cell keeps its heaviest point (ties: the lowest index).

    Parameters
    ----------
    lon, lat
        WGS84 coordinates of the demand points (rows with NaN are never chosen).
    k
        Most candidates wanted.
    weights
        Demand weights (None: all 1), to keep the most populous point of a cell.

    Returns
    -------
    ndarray of int64
        Positions of the chosen demand points, ascending; all usable points when there
        are at most ``k``.
    """
    x = np.asarray(lon, dtype=float).ravel()
    y = np.asarray(lat, dtype=float).ravel()
    if isinstance(k, bool) or int(k) != k or k < 0:
        raise InputError("k 应为非负整数", "k must be a non-negative integer", value=k)
    k = int(k)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float).ravel()
    if len(w) != len(x) or len(y) != len(x):
        raise InputError(
            "经度、纬度与权重个数不一致", "longitude, latitude and weights differ in length"
        )
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(ok) <= k:
        return ok.astype(np.int64)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    lat0 = float(np.radians(y[ok].mean()))
    mx = (x[ok] - x[ok].min()) * 111_320.0 * np.cos(lat0)
    my = (y[ok] - y[ok].min()) * 110_540.0
    span = float(max(mx.max(), my.max(), 1.0))

    def cells(size: float) -> np.ndarray:
        cx = np.floor(mx / size).astype(np.int64)
        cy = np.floor(my / size).astype(np.int64)
        return cy * (int(span // size) + 2) + cx

    lo, hi = span / (4.0 * np.sqrt(len(ok)) + 4.0) / 1e3, 2.0 * span  # hi: one cell
    for _ in range(40):  # bisection on a log scale: the occupied-cell count falls with size
        mid = float(np.sqrt(lo * hi))
        if len(np.unique(cells(mid))) <= k:
            hi = mid
        else:
            lo = mid
    cell = cells(hi)
    order = np.lexsort((ok, -w[ok], cell))
    first = np.ones(len(order), dtype=bool)
    first[1:] = cell[order[1:]] != cell[order[:-1]]
    return np.sort(ok[order[first]]).astype(np.int64)
