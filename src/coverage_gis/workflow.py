"""High-level operations shared by the CLI and the GUI: load inputs, audit, validate.

Each function is a declared operation with plain-Python progress reporting
(``progress(step_zh, step_en)``) so that the CLI prints steps and the GUI shows them in a
progress dialog. Nothing here imports Qt.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage_gis._paths import data_path
from coverage_gis._threads import pool as threads
from coverage_gis.access.evaluate import AccessInputs
from coverage_gis.core.catalog import Catalog
from coverage_gis.core.engine import PreparedAudit, prepare
from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Findings
from coverage_gis.core.locate import PendingLocation
from coverage_gis.core.results import AuditOptions, AuditResult
from coverage_gis.io.digest import file_sha256

__all__ = [
    "AuditInputs",
    "Progress",
    "check_errors",
    "demo_access_paths",
    "demo_boundaries_path",
    "demo_facilities_paths",
    "file_sha256",
    "load_access_inputs",
    "load_inputs",
    "load_manual_values",
    "prepare_audit",
    "run_audit",
    "with_scenario",
]

Progress = Callable[[str, str], None]
#: Most rows used to suggest a file's coordinate system (an even sample of larger files).
_SUGGEST_SAMPLE = 5_000
#: Facility rows from which point location starts while the inputs are still being read.
_LOCATE_AHEAD_ROWS = 50_000
#: From this many units the locator is built while the facility files are read.
_LOCATOR_AHEAD_UNITS = 2_000


def _silent(_zh: str, _en: str) -> None:
    return None


def demo_boundaries_path() -> Path:
    """The embedded schematic Suzhou township boundaries."""
    return data_path("boundaries", "suzhou_townships_demo.geojson")


def demo_facilities_paths() -> list[Path]:
    """The embedded demo facility list (the planner's Excel workbook)."""
    return [data_path("facilities", "suzhou_facilities_demo.xlsx")]


def demo_access_paths() -> dict[str, Path]:
    """The embedded schematic demand, water and road layers of the demo (those present):
    ``{"population": …, "water": …, "roads": …}``."""
    candidates = {
        "population": data_path("population", "suzhou_communities_demo.csv"),
        "water": data_path("water", "suzhou_water_demo.geojson"),
        "roads": data_path("roads", "suzhou_roads_demo.gpkg"),
    }
    return {k: p for k, p in candidates.items() if p.exists()}


@dataclass
class AuditInputs:
    """Units and facilities read from files, with the readers' findings."""

    units: gpd.GeoDataFrame
    facilities: pd.DataFrame
    findings: Findings
    inputs: list[dict[str, Any]] = field(default_factory=list)
    #: Point location started while the inputs were read (used by :func:`prepare_audit`
    #: when units and coordinates are still these).
    located: PendingLocation | None = field(default=None, repr=False, compare=False)
    #: Demand, water and roads for ``access`` indicators (see :func:`load_access_inputs`).
    access: AccessInputs | None = None


def load_inputs(
    boundaries: str | Path,
    facilities: Sequence[str | Path],
    *,
    boundaries_layer: str | None = None,
    boundaries_crs: str | None = None,
    boundary_mapping: Mapping[str, str] | None = None,
    facilities_crs: str | Mapping[str, str] | None = None,
    column_mapping: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None = None,
    encoding: str | None = None,
    facilities_layer: str | Mapping[str, str] | None = None,
    population: str | Path | None = None,
    water: str | Path | None = None,
    roads: str | Path | None = None,
    population_columns: Mapping[str, str] | None = None,
    population_layer: str | None = None,
    locate_ahead: bool = True,
    progress: Progress = _silent,
) -> AuditInputs:
    """Read boundary and facility files.

    ``facilities_crs`` is one system for every file or ``{file name or path: crs}``;
    ``column_mapping`` likewise is one ``{field: header}`` mapping for every file or
    ``{file name or path: {field: header}}`` (files not named use automatic recognition);
    ``facilities_layer`` is one layer name (GeoPackage, zip archive) or ``{file: layer}``.
    With ``locate_ahead`` (the default) large facility tables start being located in the
    units while the rest is read (see :func:`coverage_gis.core.locate.locate_ahead`); callers
    that will not run :func:`prepare_audit` on the result (validation, the Dask engine)
    pass False. ``population``, ``water`` and ``roads`` are the inputs of ``access``
    indicators (see :func:`load_access_inputs`).

    Raises
    ------
    InputError
        For unreadable files, missing columns or CRS (file-level problems). Row-level
        problems become error findings instead, so that every one is reported at once.
    """
    from coverage_gis.core.locate import locate_ahead as start_locating
    from coverage_gis.core.locate import locator_ahead as start_locator
    from coverage_gis.core.schema import coerce_facilities, empty_facilities
    from coverage_gis.io.boundaries import check_coverage, read_boundaries
    from coverage_gis.io.check_cache import cached_coverage_check

    # Work is overlapped on two cores. The facility files are read on a worker thread while
    # the boundaries are read here; the boundary checks (overlaps, gaps: GEOS, without the
    # GIL) run on a second worker meanwhile; once both tables are there, the point-in-polygon
    # pass starts on the engine's locating thread (used by prepare_audit) while the CRS
    # suggestions are made here. Findings keep their order (boundaries, boundary checks,
    # then each file's), and a boundary error still wins over a facility error.
    plans = [_facility_plan(p, facilities_crs, column_mapping) for p in facilities]
    pool = threads("reader")
    futures = [
        pool.submit(
            _read_facilities, p, mapping, declared, encoding, _per_file(facilities_layer, p)
        )
        for p, declared, mapping in plans
    ]
    try:
        progress("读取边界", "reading boundaries")
        units, findings = read_boundaries(
            boundaries,
            layer=boundaries_layer,
            crs=boundaries_crs,
            mapping=boundary_mapping,
            check=False,
        )
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    # the units' side of point location (validity of the outlines, their grid and blocks)
    # needs only the units: it is paid on the locating thread while the facilities are read
    locator = (
        start_locator(units)
        if locate_ahead and len(units) >= _LOCATOR_AHEAD_UNITS  # read_boundaries gives EPSG:4326
        else None
    )
    boundaries_digest = file_sha256(boundaries)  # for the inputs and the check's cache key
    checking = threads("checks").submit(
        cached_coverage_check,
        units,
        file=str(boundaries),
        options={
            "layer": boundaries_layer,
            "crs": boundaries_crs,
            "mapping": dict(boundary_mapping or {}),
        },
        compute=check_coverage,
        digest=boundaries_digest,
    )
    inputs: list[dict[str, Any]] = [
        {
            "role": "boundaries",
            "path": str(boundaries),
            "sha256": boundaries_digest,
            "rows": len(units),
        }
    ]
    frames, file_findings, digests = [], [], []
    for (p, _declared, _mapping), fut in zip(plans, futures, strict=True):
        progress(f"读取设施 {Path(p).name}", f"reading facilities {Path(p).name}")
        try:  # hashed while the reader thread works; its errors come first
            digest: str | None = file_sha256(p)
        except OSError:
            digest = None
        try:
            frame, f = fut.result()
        except BaseException:
            for later in futures:
                later.cancel()
            wait([checking])  # nothing left running behind the error (which is the one raised)
            raise
        frames.append(frame)
        file_findings.append(f)
        digests.append(digest if digest is not None else file_sha256(p))
    # one file: no concatenation (it would copy a national table once more)
    fac = coerce_facilities(
        frames[0]
        if len(frames) == 1
        else pd.concat([empty_facilities(), *frames], ignore_index=True)
    )
    located = (
        start_locating(
            units,
            fac["lon"].to_numpy(dtype=float),
            fac["lat"].to_numpy(dtype=float),
            locator=locator,
        )
        if locate_ahead and (len(fac) >= _LOCATE_AHEAD_ROWS or locator is not None) and len(units)
        else None
    )
    suggestions = [
        _suggest(units, frame, declared, str(p))
        for (p, declared, _mapping), frame in zip(plans, frames, strict=True)
    ]
    checked_at = len(findings.items)
    findings.extend(checking.result())
    checked_end = len(findings.items)
    for (p, declared, _mapping), frame, f, digest, suggestion in zip(
        plans, frames, file_findings, digests, suggestions, strict=True
    ):
        findings.extend(f)
        if suggestion is not None:
            findings.add(suggestion.finding(declared))
        inputs.append(
            {
                "role": "facilities",
                "path": str(p),
                "sha256": digest,
                "rows": len(frame),
                "crs": declared or "wgs84",
                "crs_declared": declared is not None,
                "crs_suggested": suggestion.recommended if suggestion else None,
            }
        )
    access = None
    if population is not None or water is not None or roads is not None:
        progress("读取人口、水域、道路", "reading population, water, roads")
        access, access_findings, described = load_access_inputs(
            population=population,
            water=water,
            roads=roads,
            population_columns=population_columns,
            population_layer=population_layer,
            encoding=encoding,
            units=units,
        )
        findings.extend(access_findings)
        inputs.extend(described)
        if access.water is not None:  # a gap that is a lake is expected, not a warning
            from coverage_gis.io.layers import water_gaps

            findings.items[checked_at:checked_end] = water_gaps(
                findings.items[checked_at:checked_end], access.water, access.water_names
            )
    return AuditInputs(
        units=units,
        facilities=fac,
        findings=findings,
        inputs=inputs,
        located=located,
        access=access,
    )


def with_scenario(
    inputs: AuditInputs, scenario: str | Path, *, encoding: str | None = None
) -> AuditInputs:
    """The inputs plus a scenario's planned sites (规划方案), for a "now → with this plan" audit.

    The planned sites are read like a facility file (any format; headers recognised as in
    facility files; coordinates WGS84, ``encoding`` for CSV); each counts from its planned date (``计划建成时间`` or any ``opened``
    column) like a real facility from its opening date, and its status column is ignored
    (a planned site is in service once built). ``inputs`` is not changed: the real data stay
    as they were read.
    """
    from coverage_gis.siting.scenario import read_scenario_file

    frame, found, described = read_scenario_file(scenario, encoding=encoding)
    facilities = pd.concat([inputs.facilities, frame], ignore_index=True)
    findings = Findings(list(inputs.findings.items) + list(found.items))
    return dataclasses.replace(
        inputs,
        facilities=facilities,
        findings=findings,
        inputs=[*inputs.inputs, described],
        located=None,
    )


def load_access_inputs(
    *,
    population: str | Path | None = None,
    water: str | Path | None = None,
    roads: str | Path | None = None,
    population_columns: Mapping[str, str] | None = None,
    population_layer: str | None = None,
    population_crs: str | None = None,
    water_layer: str | None = None,
    roads_layer: str | None = None,
    encoding: str | None = None,
    units: gpd.GeoDataFrame | None = None,
) -> tuple[AccessInputs, Findings, list[dict[str, Any]]]:
    """Read the demand, water and road inputs of ``access`` indicators.

    Parameters
    ----------
    population
        A community/village table (CSV, Excel, vector: points or polygons with 常住人口,
        60岁及以上人口 …) or a population raster (GeoTIFF). None: the units' own totals.
    water, roads
        Vector files of barriers (lakes, rivers) and of road lines.
    population_columns
        ``{field: header}`` for a table whose headers are not recognised.
    units
        The units, needed to sum a raster per unit.

    Returns
    -------
    access, findings, inputs
        The inputs, the readers' findings, and descriptions of the files (path, sha256,
        rows) for the audit record.
    """
    findings = Findings()
    described: list[dict[str, Any]] = []
    demand = water_geoms = road_geoms = water_names = None
    sources: dict[str, str] = {}
    if population is not None:
        p = Path(population)
        if p.suffix.lower() in (".tif", ".tiff", ".vrt", ".img"):
            from coverage_gis.access.demand import read_population_raster

            demand = read_population_raster(p, units=units)
        else:
            from coverage_gis.io.population import read_population_table

            demand = read_population_table(
                p,
                columns=population_columns,
                encoding=encoding,
                layer=population_layer,
                crs=population_crs,
            )
        findings.extend(demand.findings)
        sources["demand"] = p.name
        described.append(
            {
                "role": "population",
                "path": str(p),
                "sha256": file_sha256(p),
                "rows": len(demand.lon),
            }
        )
    for role, path, layer in (("water", water, water_layer), ("roads", roads, roads_layer)):
        if path is None:
            continue
        from coverage_gis.io.layers import read_roads, read_water

        lay = (read_water if role == "water" else read_roads)(path, layer=layer)
        findings.extend(lay.findings)
        sources[role] = Path(path).name
        described.append(
            {"role": role, "path": str(path), "sha256": file_sha256(path), "rows": lay.n_read}
        )
        if role == "water":
            water_geoms = lay.geometry
            water_names = lay.attributes.get("name")
        else:
            road_geoms = lay.geometry
    access = AccessInputs(
        demand=demand,
        water=water_geoms,
        roads=road_geoms,
        sources=sources,
        water_names=water_names,
    )
    return access, findings, described


def _facility_plan(
    path: str | Path,
    facilities_crs: str | Mapping[str, str] | None,
    column_mapping: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None,
) -> tuple[str | Path, str | None, Mapping[str, str] | None]:
    """The declared CRS and column mapping that apply to one facility file."""
    declared = (
        facilities_crs.get(Path(path).name, facilities_crs.get(str(path)))
        if isinstance(facilities_crs, Mapping)
        else facilities_crs
    )
    mapping = column_mapping
    if column_mapping and all(isinstance(v, Mapping) for v in column_mapping.values()):
        mapping = column_mapping.get(Path(path).name, column_mapping.get(str(path)))  # type: ignore[assignment]
    return path, declared, mapping  # type: ignore[return-value]


def _per_file(value: str | Mapping[str, str] | None, path: str | Path) -> str | None:
    """The value of a per-file option for ``path`` (by file name or path)."""
    if value is None or isinstance(value, str):
        return value
    return value.get(Path(path).name, value.get(str(path)))


def _read_facilities(
    path: str | Path,
    mapping: Mapping[str, str] | None,
    declared: str | None,
    encoding: str | None,
    layer: str | None = None,
) -> tuple[pd.DataFrame, Findings]:
    """Read one facility file (run on the reader thread of :func:`load_inputs`)."""
    from coverage_gis.io.facilities import read_facility_file

    return read_facility_file(
        path, mapping=mapping, crs=declared or "wgs84", encoding=encoding, layer=layer
    )


def _suggest(units: gpd.GeoDataFrame, frame: pd.DataFrame, declared: str | None, file: str) -> Any:
    """CRS suggestion for one file's rows that have coordinates and a named unit."""
    from coverage_gis.core.coordsys import from_wgs84, normalize_source_crs
    from coverage_gis.io.crs_suggest import suggest_crs

    named = frame["unit_name"].notna() & frame["lon"].notna() & frame["row_error"].isna()
    if named.sum() < 5:
        return None
    if named.sum() > _SUGGEST_SAMPLE:  # a share is judged as well on an even sample
        rows = np.flatnonzero(named.to_numpy())
        named = pd.Series(False, index=frame.index)
        named.iloc[rows[np.linspace(0, len(rows) - 1, _SUGGEST_SAMPLE).astype(np.int64)]] = True
    lon = frame.loc[named, "lon"].to_numpy(dtype=float)
    lat = frame.loc[named, "lat"].to_numpy(dtype=float)
    src = normalize_source_crs(declared) if declared else "wgs84"
    if src in ("gcj02", "bd09"):
        lon, lat = from_wgs84(lon, lat, src)  # back to the coordinates as written
    elif src not in ("wgs84", "cgcs2000"):
        return None  # projected systems are not confused with map-app coordinates
    return suggest_crs(
        units,
        lon,
        lat,
        frame.loc[named, "unit_name"].tolist(),
        county_names=frame.loc[named, "county_name"].tolist(),
        file=file,
    )


def load_manual_values(path: str | Path | None) -> dict[str, float]:
    """Read manual indicator values from TOML.

    Either ``[values]`` with ``"T2-2" = 19.5`` or one table per id with ``value = 19.5``
    (and optional ``note``/``source``).
    """
    if path is None:
        return {}
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"无法读取人工填报值文件：{exc}", f"Cannot read manual values file: {exc}", file=str(p)
        ) from exc
    raw: dict[str, Any] = dict(data.get("values", {}))
    for key, val in data.items():
        if key != "values" and isinstance(val, dict) and "value" in val:
            raw[key] = val["value"]
    out: dict[str, float] = {}
    for key, val in raw.items():
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            raise InputError(
                f"人工填报值必须是数字：{key}",
                f"Manual value must be a number: {key}",
                file=str(p),
                column=key,
                value=val,
            )
        out[str(key)] = float(val)
    return out


def check_errors(findings: Findings, allow_errors: bool) -> None:
    """Raise one bilingual :class:`InputError` naming the first error (and how many more)
    unless ``allow_errors`` or there are none."""
    if not findings.has_errors or allow_errors:
        return
    errs = [f for f in findings if f.severity == "error"]
    first = errs[0]
    more = f"（另有 {len(errs) - 1} 个错误）" if len(errs) > 1 else ""
    more_en = f" ({len(errs) - 1} more error(s))" if len(errs) > 1 else ""
    raise InputError(
        f"输入数据有 {len(errs)} 个错误，审计未运行：{first.message_zh}{more}",
        f"Input has {len(errs)} error(s); audit not run: {first.message_en}{more_en}",
        file=first.file,
        sheet=first.sheet,
        row=first.row,
        column=first.column,
        value=first.value,
        suggestion="运行 coverage-gis validate 查看全部问题，或加 --allow-errors 排除出错的行 / "
        "run `coverage-gis validate` to see them all, or pass --allow-errors to exclude those rows",
    )


def prepare_audit(
    inputs: AuditInputs,
    catalog: Catalog,
    options: AuditOptions | None = None,
    *,
    allow_errors: bool = False,
    progress: Progress = _silent,
) -> PreparedAudit:
    """Refuse inputs with errors (unless allowed), then assign facilities to units."""
    check_errors(inputs.findings, allow_errors)
    progress("匹配类型并落位", "matching types and assigning to units")
    return prepare(
        inputs.units,
        inputs.facilities,
        catalog,
        options=options,
        findings=inputs.findings,
        inputs=inputs.inputs,
        located=inputs.located,
        access=inputs.access,
        evaluate_next=True,
    )


def run_audit(
    inputs: AuditInputs,
    catalog: Catalog,
    as_of: dt.date | str,
    options: AuditOptions | None = None,
    *,
    allow_errors: bool = False,
    progress: Progress = _silent,
) -> AuditResult:
    """Audit on one date (see :func:`coverage_gis.core.engine.audit`)."""
    prepared = prepare_audit(inputs, catalog, options, allow_errors=allow_errors, progress=progress)
    progress("计算指标", "evaluating indicators")
    return prepared.evaluate(as_of)
