"""Map data: unit statuses, simplified and shifted geometries, and the page's JSON payload.

Nothing here imports folium or matplotlib; both the HTML and the static map use it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from coverage_gis._paths import data_path
from coverage_gis.core.errors import InputError
from coverage_gis.core.results import AuditResult, IndicatorResult
from coverage_gis.export.safety import bidi_isolate
from coverage_gis.mapexport._access import access_layer
from coverage_gis.mapexport._style import (
    OSM_ATTRIBUTION,
    SCHEMATIC_NOTE,
    STATUS_STYLE,
    STATUSES,
    Lang,
    status_label,
    text,
)
from coverage_gis.text import check_lang, named, pick

if TYPE_CHECKING:
    from coverage_gis.siting.scenario import SuggestedSites
    from coverage_gis.siting.suggest import SiteSuggestion

__all__ = [
    "BASEMAPS",
    "METRIC_CRS",
    "TIANDITU_KEY_ENV",
    "default_indicators",
    "format_indicator_line",
    "map_facilities",
    "map_payload",
    "map_update",
    "planned_rows",
    "resolve_tianditu_key",
    "shift_to_gcj02",
    "simplify_units",
    "unit_statuses",
]

#: Basemaps a map can be drawn on (``none`` works offline).
BASEMAPS: tuple[str, ...] = ("none", "osm", "tianditu", "amap")
#: Metric CRS in which boundaries are simplified (CGCS2000 / 3-degree GK CM 120E).
METRIC_CRS = "EPSG:4549"
#: Environment variable holding the 天地图 key.
TIANDITU_KEY_ENV = "COVERAGE_GIS_TIANDITU_KEY"
#: Default simplification tolerance in metres.
DEFAULT_TOLERANCE_M = 30.0

_TK_RE = re.compile(r"^[A-Za-z0-9]{8,64}$")


# -- indicators and statuses -----------------------------------------------------------
def default_indicators(result: AuditResult) -> list[str]:
    """Ids of the catalogue's presence indicators: township-level ones first, then
    county-level ones, each in catalogue order; then the access indicators computed."""
    pres = [r.indicator for r in result.indicators if r.indicator.kind == "presence"]
    access = [r.indicator.id for r in result.indicators if r.access is not None]
    return (
        [i.id for i in pres if i.level == "township"]
        + [i.id for i in pres if i.level != "township"]
        + access
    )


def _indicator_results(
    result: AuditResult, indicators: Sequence[str] | None
) -> list[IndicatorResult]:
    ids = list(indicators) if indicators else default_indicators(result)
    if not ids:
        raise InputError(
            "没有可以上图的指标", "No indicator to map (the catalogue has no presence indicator)"
        )
    out: list[IndicatorResult] = []
    known = [r.indicator.id for r in result.indicators]
    for ind_id in dict.fromkeys(ids):
        if ind_id not in known:
            raise InputError(
                f"未知指标：{ind_id}（可用：{', '.join(known)}）",
                f"Unknown indicator: {ind_id} (known: {', '.join(known)})",
                value=ind_id,
            )
        ir = result.indicator(ind_id)
        if ir.indicator.kind == "manual":
            raise InputError(
                f"指标 {ind_id} 为人工填报值，没有空间分布，不能上图",
                f"Indicator {ind_id} is a manually entered value with no spatial breakdown; it cannot be mapped",
                value=ind_id,
            )
        out.append(ir)
    return out


def unit_statuses(result: AuditResult, indicator_id: str) -> pd.Series:
    """Status class of every unit for one indicator.

    Parameters
    ----------
    result
        An audit result.
    indicator_id
        A presence or ratio indicator.

    Returns
    -------
    pandas.Series
        Indexed by unit code, values in :data:`~coverage_gis.mapexport.STATUSES`:
        ``met``, ``not_met``, ``not_counted`` (功能区 kept out of the denominator of a
        township indicator) or ``no_data``. County-level and ratio indicators colour each
        unit by its county's result (``no_data`` when the county's value cannot be computed).
    """
    ir = _indicator_results(result, [indicator_id])[0]
    ind = ir.indicator
    units = result.units
    codes = units["code"].astype(str).to_numpy()
    status = np.full(len(codes), "no_data", dtype=object)
    if ind.kind in ("presence", "access") and ind.level == "township":
        counted = units["counted"].to_numpy(dtype=bool)
        failing = np.isin(codes, np.asarray(ir.failing, dtype=object))
        if ir.status != "no_data":
            status[counted & failing] = "not_met"
            status[counted & ~failing] = "met"
        status[~counted] = "not_counted"
    else:
        by = ir.by_county
        if by is not None and len(by):
            met = by.set_index("county_code")["met"]
            per_unit = units["county_code"].astype(str).map(met)
            vals = per_unit.to_numpy(dtype=object)
            for i, v in enumerate(vals):
                if v is True or v is np.True_:
                    status[i] = "met"
                elif v is False or v is np.False_:
                    status[i] = "not_met"
    return pd.Series(status, index=pd.Index(codes, name="code"), name=ind.id)


def _fmt_num(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _with_unit(text_value: str, unit: str) -> str:
    return f"{text_value}%" if unit == "%" else f"{text_value} {unit}"


def format_indicator_line(ir: IndicatorResult, lang: Lang = "zh") -> str:
    """The headline "current value / target" text, e.g. ``81.8% / 目标 100%``."""
    ind = ir.indicator
    value = "—" if ir.value is None else _with_unit(_fmt_num(round(ir.value, 1)), ind.unit)
    op = {">=": "≥", "<=": "≤", "=": ""}[ind.operator]
    if ind.unit == "%" and ind.operator == ">=" and ind.target >= 100:
        op = ""
    target = _with_unit(f"{op}{_fmt_num(ind.target)}", ind.unit)
    line = f"{value} / {text('target', lang)} {target}"
    if ir.met is not None:
        word = text("met_word" if ir.met else "not_met_word", lang)
        line += pick((f"（{word}）", f" ({word})"), lang)
    return line


def _source_line(result: AuditResult, lang: Lang) -> str:
    """The data-source line: file names joined, each isolated for bidi when it needs it."""
    names = [(i.get("role"), bidi_isolate(Path(i["path"]).name)) for i in result.inputs]
    fac = [name for role, name in names if role == "facilities"]
    bnd = [name for role, name in names if role == "boundaries"]
    parts = []
    if fac:
        parts.append(pick(("、", ", "), lang).join(fac))
    if bnd:
        parts.append(f"{text('boundaries', lang)} {', '.join(bnd)}")
    demo = data_path("boundaries", "suzhou_townships_demo.geojson").resolve()
    if any(
        i.get("role") == "boundaries" and Path(i["path"]).resolve() == demo for i in result.inputs
    ):
        parts.append(OSM_ATTRIBUTION)  # the demo townships are derived from OSM outlines
    if not parts:
        parts.append("—")
    sep = pick(("；", "; "), lang)
    return sep.join(parts)


# -- geometry --------------------------------------------------------------------------
def simplify_units(units: gpd.GeoDataFrame, tolerance_m: float = DEFAULT_TOLERANCE_M) -> np.ndarray:
    """Simplify unit polygons so that neighbours keep one shared edge.

    The polygons are projected to :data:`METRIC_CRS`, simplified together with
    :func:`shapely.coverage_simplify` (a coverage-aware method: each shared edge is simplified
    once, so no slivers or gaps appear between neighbours) and projected back to EPSG:4326.
    When the input is not a valid coverage (overlapping polygons), each polygon is
    simplified on its own with ``preserve_topology=True`` and a quarter of the tolerance,
    which keeps the inevitable differences below a few metres.

    Parameters
    ----------
    units
        Unit polygons (any CRS; a GeoDataFrame or GeoSeries).
    tolerance_m
        Simplification tolerance in metres; ``0`` returns the input geometries.

    Returns
    -------
    numpy.ndarray
        Shapely geometries in EPSG:4326, in the order of ``units``.
    """
    geo = units.geometry if isinstance(units, gpd.GeoDataFrame) else units
    if geo.crs is None:
        geo = geo.set_crs(4326)
    if tolerance_m <= 0:
        return np.asarray(geo.to_crs(4326).values, dtype=object)
    metric = geo.to_crs(METRIC_CRS)
    arr = np.asarray(metric.values, dtype=object)
    arr = shapely.make_valid(arr)
    if len(arr) and bool(shapely.coverage_is_valid(arr)):
        simp = shapely.coverage_simplify(arr, tolerance_m, simplify_boundary=True)
    else:
        simp = shapely.simplify(arr, tolerance_m / 4.0, preserve_topology=True)
    back = gpd.GeoSeries(simp, crs=METRIC_CRS).to_crs(4326)
    return np.asarray(back.values, dtype=object)


def shift_to_gcj02(geoms: Any) -> Any:
    """Shift WGS84 geometries to GCJ-02 (for 高德 tiles), vertex by vertex.

    Applies :func:`coverage_gis.core.coordsys.wgs84_to_gcj02` to every coordinate with
    :func:`shapely.transform` (one vectorised call for all geometries).
    """
    from coverage_gis.core.coordsys import wgs84_to_gcj02

    def _fn(coords: np.ndarray) -> np.ndarray:
        x, y = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _fn)


def _round(geoms: Any, decimals: int) -> Any:
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def _label_point(geom: Any) -> Any:
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    return geom.point_on_surface()


# -- facilities ------------------------------------------------------------------------
def map_facilities(result: AuditResult) -> pd.DataFrame:
    """The facility rows drawn as points: a known type, usable coordinates, no row error.

    Points outside every unit are drawn too (their tooltip says so); rows located only by
    their named unit have no point and are not drawn.
    """
    fac = result.facilities
    ok = (
        fac["type_code"].notna()
        & np.isfinite(fac["lon"].to_numpy(dtype=float))
        & np.isfinite(fac["lat"].to_numpy(dtype=float))
        & fac["row_error"].isna()
    )
    return fac.loc[ok]


def _str_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    s = str(value).strip()
    return s or None


# -- tianditu key ----------------------------------------------------------------------
def resolve_tianditu_key(key: str | None) -> str:
    """The 天地图 key: the argument, else ``$COVERAGE_GIS_TIANDITU_KEY``, else the user
    configuration's ``[map] tianditu_key`` (see :mod:`coverage_gis.settings`).

    Raises
    ------
    InputError
        When no key is set, or the key has characters a 天地图 key never has.
    """
    from coverage_gis.settings import config_path, get_setting

    key = key or os.environ.get(TIANDITU_KEY_ENV) or get_setting("map.tianditu_key") or None
    if not key:
        raise InputError(
            f"天地图底图需要密钥（tk）：请用 --tianditu-key 指定，或设置环境变量 {TIANDITU_KEY_ENV}，"
            f"或在配置文件 {config_path()} 的 [map] 中写 tianditu_key；"
            "申请地址 console.tianditu.gov.cn。也可用 --basemap none 离线出图",
            f"The tianditu basemap needs a key (tk): pass --tianditu-key, set {TIANDITU_KEY_ENV} "
            f"or tianditu_key under [map] in {config_path()} "
            "(get one at console.tianditu.gov.cn), or use --basemap none for an offline map",
            column="tianditu_key",
        )
    key = key.strip()
    if not _TK_RE.match(key):
        raise InputError(
            "天地图密钥格式不对（应为字母和数字）",
            "The tianditu key looks wrong (letters and digits expected)",
            column="tianditu_key",
            value=key,
        )
    return key


# -- payload ---------------------------------------------------------------------------
def _qualifying_by_unit(result: AuditResult, ir: IndicatorResult) -> pd.Series:
    """Facilities counting for a township indicator (the engine's
    :func:`~coverage_gis.core.rules.qualification`), per unit."""
    from coverage_gis.core.rules import qualification

    fac = result.facilities
    ok = qualification(result, ir.indicator.id)["qualifies"].to_numpy()
    return fac.loc[ok].groupby("unit_code").size()


def planned_rows(result: AuditResult, facilities: pd.DataFrame | None = None) -> np.ndarray:
    """Boolean per row of ``facilities`` (default: the result's): a scenario's planned
    site (its source is an input with role ``scenario``: a planned-sites file or a
    desktop scenario)."""
    fac = result.facilities if facilities is None else facilities
    sources = {str(i.get("path")) for i in result.inputs if i.get("role") == "scenario"}
    if not sources:
        return np.zeros(len(fac), dtype=bool)
    return fac["source_file"].astype(str).isin(sources).to_numpy()


def _site_payload(
    sites: Sequence[SiteSuggestion | SuggestedSites], indicator_ids: Sequence[str], gcj02: bool
) -> list[dict[str, Any]]:
    """The suggested sites of the mapped indicators, one record each (rank order)."""
    out: list[dict[str, Any]] = []
    for s in sites:
        if s.indicator not in indicator_ids or not len(s.table):
            continue
        t = s.table
        lon, lat = t["lon"].to_numpy(dtype=float), t["lat"].to_numpy(dtype=float)
        if gcj02:
            from coverage_gis.core.coordsys import wgs84_to_gcj02

            lon, lat = wgs84_to_gcj02(lon, lat)
        for k, row in enumerate(t.itertuples()):
            near = float(row.nearest_existing_m)
            out.append(
                {
                    "ind": s.indicator,
                    "rank": int(row.rank),
                    "name": str(row.site),
                    "x": round(float(lon[k]), 6),
                    "y": round(float(lat[k]), 6),
                    "unit": str(row.unit),
                    "county": str(row.county),
                    "gain": round(float(row.gain)),
                    "field": str(row.gain_field),
                    "closes": str(row.unit) if row.closes else None,
                    "near": round(near) if np.isfinite(near) else None,
                }
            )
    return out


def map_payload(
    result: AuditResult,
    indicators: Sequence[str] | None = None,
    *,
    basemap: str = "none",
    title: str | None = None,
    lang: Lang = "zh",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    sites: Sequence[SiteSuggestion | SuggestedSites] = (),
) -> dict[str, Any]:
    """Everything the page draws, as JSON-ready data (user strings unescaped; the page
    inserts them as text).

    Coordinates are WGS84, or GCJ-02 when ``basemap == "amap"``; polygon vertices are
    rounded to 6 decimals (0.1 m). ``sites`` (suggestions of
    :func:`coverage_gis.siting.suggest.suggest_sites`) are drawn for the indicators mapped;
    the facility rows of a scenario are flagged as planned.
    """
    if basemap not in BASEMAPS:
        raise InputError(
            f"未知底图：{basemap}（可用：{', '.join(BASEMAPS)}）",
            f"Unknown basemap: {basemap} (choose from {', '.join(BASEMAPS)})",
            value=basemap,
        )
    check_lang(lang)
    irs = _indicator_results(result, indicators)
    catalog = result.catalog
    units = result.units.reset_index(drop=True)
    codes = units["code"].astype(str).tolist()
    geoms = simplify_units(units, tolerance_m)
    if basemap == "amap":
        geoms = shift_to_gcj02(geoms)
    geoms = _round(geoms, 6)
    counties_geo = []
    county_codes = units["county_code"].astype(str).to_numpy()
    for cc in dict.fromkeys(county_codes):
        parts = geoms[county_codes == cc]
        union = shapely.coverage_union_all(parts) if len(parts) > 1 else parts[0]
        if not union.is_valid:
            union = shapely.union_all(parts)
        name = str(units.loc[county_codes == cc, "county"].iloc[0])
        counties_geo.append(
            {
                "type": "Feature",
                "properties": {"code": cc, "name": name},
                "geometry": mapping(_round(union, 6)),
            }
        )

    # facility types shown: the types of the chosen indicators first, then the others in use
    fac = map_facilities(result)
    ind_types = [t for ir in irs for t in ir.indicator.facility_types]
    present = set(fac["type_code"].astype(str))
    type_order = list(dict.fromkeys([*ind_types, *(t for t in catalog.type_codes if t in present)]))
    type_index = {t: i for i, t in enumerate(type_order)}
    types = []
    for t in type_order:
        ft = catalog.facility_type(t)
        types.append(
            {
                "code": t,
                "name": named(ft, lang),
                "color": ft.color,
                "n": int((fac["type_code"] == t).sum()),
            }
        )

    # per indicator: summary, statuses, counts of its facility types
    county_counts = result.county_counts_qualifying
    ind_payload = []
    access_layers: list[dict[str, Any]] = []
    status_cols = []
    count_cols: list[list[list[int | None]]] = []
    for ir in irs:
        ind = ir.indicator
        st = unit_statuses(result, ind.id).reindex(codes).fillna("no_data")
        status_cols.append([STATUSES.index(s) for s in st])
        tally = {s: int((st == s).sum()) for s in STATUSES}
        township = ind.kind in ("presence", "access") and ind.level == "township"
        per_type: list[list[int | None]] = []
        if township:
            q = _qualifying_by_unit(result, ir).reindex(codes).fillna(0).astype(int)
            for i, code in enumerate(codes):
                row: list[int | None] = [
                    int(result.counts_qualifying.at[code, t])
                    if code in result.counts_qualifying.index
                    else 0
                    for t in ind.facility_types
                ]
                row.append(int(q.iloc[i]) if (ind.conditions or ind.min_count > 1) else None)
                per_type.append(row)
        else:
            by = ir.by_county.set_index("county_code") if ir.by_county is not None else None
            for cc in county_codes:
                row = [
                    int(county_counts.at[cc, t]) if cc in county_counts.index else 0
                    for t in ind.facility_types
                ]
                qv = None
                if ind.kind == "presence" and ind.conditions and by is not None and cc in by.index:
                    qv = int(by.at[cc, "count"])
                row.append(qv)
                per_type.append(row)
        count_cols.append(per_type)
        layer = access_layer(ir, lang, gcj02=basemap == "amap") if ind.kind == "access" else None
        if layer is not None:
            access_layers.append(layer)
        ind_payload.append(
            {
                "id": ind.id,
                "name": named(ind, lang),
                "line": format_indicator_line(ir, lang),
                "met": ir.met,
                "fraction": (
                    f"{text('units_met', lang)} {int(ir.numerator)} / {int(ir.denominator)}"
                    if ind.kind == "presence" and ir.numerator is not None and ir.denominator
                    else f"{text('within_reach', lang)} {ir.numerator:,.0f} / {ir.denominator:,.0f}"
                    if layer is not None
                    and ind.access.measure == "share"
                    and ir.numerator is not None
                    and ir.denominator
                    else None
                ),
                "access": len(access_layers) - 1 if layer is not None else None,
                "level": "township" if township else "county",
                "types": list(ind.facility_types),
                "minCount": ind.min_count,
                "tally": tally,
                "source": ind.source_ref,
            }
        )

    features = []
    for i, code in enumerate(codes):
        geom = geoms[i]
        if geom is None or geom.is_empty:
            continue
        lp = _label_point(geom)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "i": i,
                    "code": code,
                    "name": str(units.at[i, "name"]),
                    "county": str(units.at[i, "county"]),
                    "kind": _str_or_none(units.at[i, "kind"]) or "",
                    "st": [col[i] for col in status_cols],
                    "n": [col[i] for col in count_cols],
                    "lp": [round(lp.x, 6), round(lp.y, 6)],
                },
                "geometry": mapping(geom),
            }
        )

    # facility points, column-wise
    lon = fac["lon"].to_numpy(dtype=float)
    lat = fac["lat"].to_numpy(dtype=float)
    if basemap == "amap":
        from coverage_gis.core.coordsys import wgs84_to_gcj02

        lon, lat = wgs84_to_gcj02(lon, lat)
    unit_pos = {c: i for i, c in enumerate(codes)}
    opened = fac["opened"]
    meets = fac["meets_standard"]
    facilities = {
        "x": [round(float(v), 6) for v in lon],
        "y": [round(float(v), 6) for v in lat],
        "t": [type_index[str(t)] for t in fac["type_code"]],
        "name": [_str_or_none(v) or "" for v in fac["name"]],
        "addr": [_str_or_none(v) for v in fac["address"]],
        "status": [_str_or_none(v) for v in fac["status"]],
        "opened": [None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d") for v in opened],
        "meets": [None if pd.isna(v) else bool(v) for v in meets],
        "serv": [bool(v) for v in fac["in_service"]],
        "u": [unit_pos.get(str(v), -1) if _str_or_none(v) else -1 for v in fac["unit_code"]],
        "plan": planned_rows(result, fac).astype(int).tolist(),
    }

    bounds = shapely.total_bounds(geoms)
    as_of = result.as_of.isoformat()
    site_list = _site_payload(sites, [ir.indicator.id for ir in irs], basemap == "amap")
    key = _page_key(
        codes, fac, [ir.indicator.id for ir in irs], type_order, lang, basemap, site_list
    )
    return {
        "version": 1,
        "key": key,
        "lang": lang,
        "title": title or text("default_title", lang),
        "catalog": named(catalog, lang),
        "asOf": as_of,
        "source": _source_line(result, lang),
        "schematic": pick(SCHEMATIC_NOTE, lang) if result.schematic_boundaries else None,
        "gcj02": basemap == "amap",
        "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
        "statuses": [
            {
                "id": s,
                "label": status_label(s, lang),
                "fill": STATUS_STYLE[s]["fill"],
                "stroke": STATUS_STYLE[s]["stroke"],
                "opacity": STATUS_STYLE[s]["opacity"],
            }
            for s in STATUSES
        ],
        "indicators": ind_payload,
        "types": types,
        "units": {"type": "FeatureCollection", "features": features},
        "counties": {"type": "FeatureCollection", "features": counties_geo},
        "facilities": facilities,
        "sites": site_list,
        "access": access_layers,
        "text": {
            k: text(k, lang)
            for k in (
                "as_of",
                "source",
                "indicator",
                "status",
                "county",
                "kind",
                "type",
                "address",
                "opened",
                "meets_standard",
                "in_service",
                "counted_in",
                "not_located",
                "yes",
                "no",
                "unknown",
                "qualifying",
                "county_level",
                "search",
                "search_button",
                "not_found",
                "matches",
                "fullscreen",
                "counties",
                "labels",
                "legend",
                "facilities",
                "note_gcj",
                "within_reach",
                "demand_points",
                "catchments",
                "nearest",
                "residents",
                "omitted_points",
                "beyond_measured",
                "suggested_sites",
                "planned_sites",
                "planned_site",
                "adds",
                "closes_gap",
                "nearest_existing",
            )
        },
    }


def _page_key(
    codes: list[str],
    fac: pd.DataFrame,
    indicator_ids: list[str],
    type_order: list[str],
    lang: str,
    basemap: str,
    sites: list[dict[str, Any]] | None = None,
) -> str:
    """What a drawn page is made of (units, facility rows, indicator and type order,
    language, basemap, suggested sites): a date-only update may be applied only to a page
    with the same key."""
    h = hashlib.sha1(usedforsecurity=False)
    for part in (codes, indicator_ids, type_order, [lang, basemap], sites or []):
        h.update(json.dumps(part, ensure_ascii=False).encode("utf-8"))
    h.update(np.ascontiguousarray(fac["source_row"].to_numpy(dtype=np.int64)).tobytes())
    h.update(
        json.dumps(fac["source_file"].astype(str).unique().tolist(), ensure_ascii=False).encode(
            "utf-8"
        )
    )
    h.update(json.dumps(fac["type_code"].astype(str).tolist()).encode("utf-8"))
    return h.hexdigest()


def map_update(
    result: AuditResult,
    indicators: Sequence[str] | None = None,
    *,
    basemap: str = "none",
    title: str | None = None,
    lang: Lang = "zh",
    sites: Sequence[SiteSuggestion | SuggestedSites] = (),
) -> dict[str, Any]:
    """The date-dependent part of :func:`map_payload`, for ``coverageGis.update(patch)``.

    When only the evaluation date or the audit options change, a page already drawn for the
    same inputs can be updated in place (statuses, counts, title, legend, facility
    in-service flags, access layers) instead of being reloaded. ``patch["key"]`` must equal the page's.
    """
    full = map_payload(result, indicators, basemap=basemap, title=title, lang=lang, sites=sites)
    return {
        "key": full["key"],
        "asOf": full["asOf"],
        "source": full["source"],
        "indicators": full["indicators"],
        "units": {
            f["properties"]["code"]: {"st": f["properties"]["st"], "n": f["properties"]["n"]}
            for f in full["units"]["features"]
        },
        "serv": full["facilities"]["serv"],
        "access": full["access"],
    }


def json_for_script(data: Any) -> str:
    """JSON text that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c`` etc., so no user string can close the
    element or open a comment; ``JSON.parse`` restores them.
    """
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        raw.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
