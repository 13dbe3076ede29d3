"""Map layers of ``access`` indicators: demand points by distance band, facility catchments.

Nothing here imports folium; the HTML page (``resources/map/coverage_map.js``) and the
desktop map draw what :func:`access_layer` returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from coverage_gis.core.results import IndicatorResult
from coverage_gis.text import Lang, pick

__all__ = ["ACCESS_BANDS", "MAX_MAP_POINTS", "access_layer", "distance_bands"]

#: Demand points drawn at most (the heaviest ones; the page says how many are left out).
MAX_MAP_POINTS = 20_000
#: Distance bands of the demand points: within reach, up to twice the reach, farther.
ACCESS_BANDS: tuple[tuple[str, str, str], ...] = (
    ("#1a9850", "可达范围内", "within reach"),
    ("#fdae61", "超出，2 倍范围内", "beyond, within twice the reach"),
    ("#d73027", "超出 2 倍范围", "beyond twice the reach"),
)


def distance_bands(nearest_m: np.ndarray, threshold_m: float) -> np.ndarray:
    """Band (0, 1, 2 of :data:`ACCESS_BANDS`) of each demand point's nearest distance."""
    d = np.asarray(nearest_m, dtype=float)
    return np.where(d <= threshold_m, 0, np.where(d <= 2 * threshold_m, 1, 2)).astype(np.int8)


def access_layer(
    ir: IndicatorResult, lang: Lang = "zh", *, gcj02: bool = False, max_points: int = MAX_MAP_POINTS
) -> dict[str, Any] | None:
    """The page data of one access indicator (``None`` when it was not computed).

    Returns
    -------
    dict
        ``reach`` (text), ``threshold`` (m), ``bands`` (colour, label), ``points``
        (column-wise ``x``, ``y``, ``w`` weight, ``d`` nearest distance in m or -1 beyond
        the measured range, ``b`` band), ``omitted`` (points not drawn), ``catchments``
        (GeoJSON FeatureCollection, one polygon per facility with ``name`` and ``reached``).
    """
    detail = ir.access
    rule = ir.indicator.access
    if detail is None or rule is None:
        return None
    pts = detail.points
    ok = np.isfinite(pts["lon"].to_numpy(dtype=float)) & (pts["weight"].to_numpy() > 0)
    idx = np.flatnonzero(ok)
    omitted = 0
    if len(idx) > max_points:  # keep the heaviest points: they carry most of the demand
        w = pts["weight"].to_numpy(dtype=float)[idx]
        keep = np.sort(np.argsort(-w, kind="stable")[:max_points])
        omitted = len(idx) - max_points
        idx = idx[keep]
    lon = pts["lon"].to_numpy(dtype=float)[idx]
    lat = pts["lat"].to_numpy(dtype=float)[idx]
    if gcj02:
        from coverage_gis.core.coordsys import wgs84_to_gcj02

        lon, lat = wgs84_to_gcj02(lon, lat)
    near = pts["nearest_m"].to_numpy(dtype=float)[idx]
    bands = distance_bands(near, rule.threshold_m)

    feats = []
    geoms = detail.catchments()
    fac = detail.facilities
    if len(geoms):
        if gcj02:
            from coverage_gis.mapexport._data import shift_to_gcj02

            geoms = shift_to_gcj02(geoms)
        geoms = shapely.set_precision(geoms, 1e-5)  # ~1 m
        names = fac["name"].to_numpy(dtype=object)
        reached = fac["demand_reached"].to_numpy(dtype=float)
        for i in np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms))):
            feats.append(
                {
                    "type": "Feature",
                    "properties": {
                        "name": "" if pd.isna(names[i]) else str(names[i]),
                        "reached": round(float(reached[i])),
                    },
                    "geometry": mapping(geoms[i]),
                }
            )
    return {
        "reach": pick(rule.reach_label, lang),
        "threshold": rule.threshold_m,
        "field": rule.population_field,
        "bands": [{"color": c, "label": pick((z, e), lang)} for c, z, e in ACCESS_BANDS],
        "points": {
            "x": np.round(lon, 6).tolist(),
            "y": np.round(lat, 6).tolist(),
            "w": np.round(pts["weight"].to_numpy(dtype=float)[idx], 1).tolist(),
            "d": [round(float(v)) if np.isfinite(v) else -1 for v in near],
            "b": bands.tolist(),
        },
        "omitted": int(omitted),
        "catchments": {"type": "FeatureCollection", "features": feats},
    }
