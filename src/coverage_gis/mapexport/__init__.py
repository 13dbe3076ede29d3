"""Gap maps: the offline interactive HTML map and the static PNG/PDF map.

镇(街道)覆盖缺口地图：离线交互式 HTML 地图与静态 PNG/PDF 图。

This package is the only place besides ``gui/`` that imports folium, and it does so lazily
inside :func:`build_gap_map`; matplotlib is imported inside :func:`export_static_map`.

Public API
----------
export_gap_map, build_gap_map
    Write / return the self-contained HTML page (``window.coverageGis`` JavaScript API,
    QWebChannel click bridge; see ``resources/map/coverage_map.js``).
js_call
    A safe ``runJavaScript`` statement calling that API (``js_call("zoomTo", code)``).
export_static_map
    The same map for reports, as PNG or PDF.
unit_statuses, default_indicators, simplify_units, shift_to_gcj02, map_facilities,
planned_rows
    The data behind both maps.
"""

from __future__ import annotations

from coverage_gis.mapexport._data import (
    BASEMAPS,
    TIANDITU_KEY_ENV,
    default_indicators,
    format_indicator_line,
    map_facilities,
    map_payload,
    map_update,
    planned_rows,
    resolve_tianditu_key,
    shift_to_gcj02,
    simplify_units,
    unit_statuses,
)
from coverage_gis.mapexport._style import STATUS_LABEL, STATUS_STYLE, STATUSES
from coverage_gis.mapexport.html import build_gap_map, export_gap_map, js_call
from coverage_gis.mapexport.static import export_static_map

__all__ = [
    "BASEMAPS",
    "STATUSES",
    "STATUS_LABEL",
    "STATUS_STYLE",
    "TIANDITU_KEY_ENV",
    "build_gap_map",
    "default_indicators",
    "export_gap_map",
    "export_static_map",
    "format_indicator_line",
    "js_call",
    "map_facilities",
    "map_payload",
    "map_update",
    "planned_rows",
    "resolve_tianditu_key",
    "shift_to_gcj02",
    "simplify_units",
    "unit_statuses",
]
