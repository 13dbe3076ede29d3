"""Reading township-level boundaries (GeoJSON, GeoPackage, Shapefile/zip, KML, GeoParquet).

Boundaries are reprojected to EPSG:4326 on read. A file without a CRS is an error that
says how to declare one (``crs=``). Columns are recognised by Chinese or English names;
county codes are derived from 9/12-digit unit codes when absent, and the unit kind from the
name (…镇, …街道, …乡; 开发区/园区/管委会 → 功能区) when absent. Invalid polygons are
repaired with ``shapely.make_valid`` and reported; duplicate codes are errors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from concurrent.futures import wait
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage_gis._memory import release_unused_memory
from coverage_gis._threads import pool as threads
from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding, Findings
from coverage_gis.io.columns import header_key
from coverage_gis.io.normalise import MAX_ROW_FINDINGS, SHOWN_ROW_FINDINGS

__all__ = [
    "COVERAGE_CHECK_VERSION",
    "SLIVER_WIDTH_M",
    "UNIT_SYNONYMS",
    "check_coverage",
    "coverage_parameters",
    "read_boundaries",
    "read_vector",
]

UNIT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "code": (
        "code",
        "代码",
        "区划代码",
        "行政区划代码",
        "统计用区划代码",
        "镇街代码",
        "乡镇代码",
        "xzqdm",
        "adcode",
        "unitcode",
    ),
    "name": (
        "name",
        "名称",
        "镇街名称",
        "乡镇名称",
        "镇街道名称",
        "镇街道",
        "乡镇街道",
        "xzqmc",
        "unitname",
    ),
    "county": (
        "county",
        "区县",
        "所属区县",
        "qx",
        "qxmc",
        "县区",
        "区县名",
        "区县名称",
        "县级名称",
        "所属县市区",
        "countyname",
    ),
    "county_code": ("countycode", "county_code", "区县代码", "县级代码", "所属区县代码"),
    "kind": ("kind", "类型", "类别", "单位类型", "级别"),
    "population": ("population", "人口", "常住人口", "户籍人口", "总人口", "pop"),
    "pop_60plus": (
        "pop60plus",
        "pop_60plus",
        "60岁以上人口",
        "60周岁以上人口",
        "老年人口",
        "老年人口数",
    ),
    "households": ("households", "户数", "总户数", "住户数"),
    "schematic": ("schematic",),
}
_FZ_RE = re.compile(r"(开发区|园区|管委会|科技城|开发分区|度假区|新城|高新区)$")


def read_vector(
    path: str | Path, *, layer: str | None = None, crs: str | None = None
) -> gpd.GeoDataFrame:
    """Read a vector file with pyogrio; declare ``crs`` when the file has none.

    The file is opened as :func:`coverage_gis.io.vector.vector_source` says: zipped
    shapefiles through GDAL's ``/vsizip/`` (nothing is extracted), after
    :func:`coverage_gis.io.archive.check_archive` has accepted the archive (no unsafe member
    names, no zip bomb); a GeoPackage or zip archive with several layers needs ``layer``
    (the message lists them).
    """
    import pyogrio

    from coverage_gis.io.vector import vector_source

    p = Path(path)
    if not p.exists():
        raise InputError("文件不存在", "File not found", file=str(p))
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            from coverage_gis.io.geoparquet import read_geoparquet

            gdf = read_geoparquet(p)
        else:
            source = vector_source(p, layer)  # archive check, layer choice, .dbf encoding
            gdf = pyogrio.read_dataframe(source.src, layer=source.layer, **source.options)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"无法读取矢量文件：{exc}", f"Cannot read vector file: {exc}", file=str(p)
        ) from exc
    if gdf.crs is None:
        if crs is None:
            raise InputError(
                "文件没有坐标系定义（缺少 .prj 或 crs）",
                "The file has no coordinate reference system (no .prj / crs member)",
                file=str(p),
                suggestion="用 --boundaries-crs EPSG:4490 等声明坐标系 / declare it, e.g. --boundaries-crs EPSG:4490",
            )
        gdf = gdf.set_crs(crs)
    return gdf


def _recognise(headers: list[str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    keys = {header_key(h): h for h in headers}
    out: dict[str, str] = {}
    for fld, header in (mapping or {}).items():
        if fld not in UNIT_SYNONYMS:
            raise InputError(
                f"边界列映射中的字段 {fld} 未知（可用：{', '.join(UNIT_SYNONYMS)}）",
                f"Unknown field '{fld}' in boundary column mapping (known: {', '.join(UNIT_SYNONYMS)})",
                column=fld,
                value=header,
            )
        if header_key(header) not in keys:
            raise InputError(
                f"映射的列“{header}”不存在；现有列：{', '.join(headers)}",
                f"Mapped column '{header}' not found; columns: {', '.join(headers)}",
                column=header,
            )
        out[fld] = keys[header_key(header)]
    for fld, names in UNIT_SYNONYMS.items():
        if fld in out:
            continue
        for n in names:
            if header_key(n) in keys and keys[header_key(n)] not in out.values():
                out[fld] = keys[header_key(n)]
                break
    return out


def _infer_kind(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).strip()
    if text.endswith("街道") or text.endswith("街道办事处"):
        return "街道"
    if text.endswith("镇"):
        return "镇"
    if text.endswith("乡"):
        return "乡"
    if _FZ_RE.search(text):
        return "功能区"
    return "镇"


def read_boundaries(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    mapping: Mapping[str, str] | None = None,
    check: bool = True,
) -> tuple[gpd.GeoDataFrame, Findings]:
    """Read township-level unit boundaries into the normalised unit table.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile (or .zip), KML or GeoParquet.
    layer
        Layer name for multi-layer sources.
    crs
        CRS to declare when the file has none (e.g. ``"EPSG:4490"``).
    mapping
        Explicit ``{field: column}`` for code, name, county, county_code, kind,
        population, pop_60plus, households.
    check
        Report overlaps and gaps (:func:`check_coverage`). A caller that runs the check
        itself (e.g. on another thread, as :func:`coverage_gis.workflow.load_inputs` does)
        passes False.

    Returns
    -------
    units, findings
    """
    p = Path(path)
    findings = Findings()
    raw = read_vector(p, layer=layer, crs=crs)
    _require_polygons(raw.geometry.to_numpy(), str(p))
    raw = _plausible_crs(raw, crs, str(p), findings)
    headers = [c for c in raw.columns if c != raw.geometry.name]
    cols = _recognise(headers, mapping)
    if "name" not in cols:
        raise InputError(
            f"边界文件缺少名称列；现有列：{', '.join(headers)}",
            f"Boundary file has no name column; columns: {', '.join(headers)}",
            file=str(p),
            suggestion="--boundary-column name=列名",
        )
    out = gpd.GeoDataFrame(
        {"name": raw[cols["name"]].astype(str).str.strip().to_numpy()},
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
    )
    if "code" in cols:
        out["code"] = (
            raw[cols["code"]]
            .map(
                lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()
            )
            .to_numpy()
        )
    else:
        out["code"] = [f"U{i + 1:05d}" for i in range(len(raw))]
        findings.add(
            Finding(
                "warning",
                "no_unit_code",
                "边界文件没有区划代码列，已按顺序编号",
                "No unit code column; units numbered in file order",
                file=str(p),
            )
        )
    if "county_code" in cols:
        out["county_code"] = raw[cols["county_code"]].astype(str).str.strip().to_numpy()
    else:
        digits = out["code"].str.fullmatch(r"\d{9}|\d{12}")
        out["county_code"] = np.where(digits, out["code"].str[:6], None)
    if "county" in cols:
        out["county"] = raw[cols["county"]].astype(str).str.strip().to_numpy()
    else:
        out["county"] = out["county_code"]
    if out["county_code"].isna().any():
        out["county_code"] = out["county_code"].fillna(out["county"])
    no_county = out["county"].isna() | out["county"].isin(["None", "nan", ""])
    if no_county.any():
        out.loc[no_county, "county"] = "未知区县"
        out.loc[no_county, "county_code"] = out.loc[no_county, "county_code"].where(
            out.loc[no_county, "county_code"].notna()
            & ~out.loc[no_county, "county_code"].isin(["None", "nan", ""]),
            "000000",
        )
        findings.add(
            Finding(
                "warning",
                "no_county",
                f"{int(no_county.sum())} 个镇(街道)没有所属区县（边界文件无区县列，代码也推不出），归入“未知区县”；县级指标不可信",
                f"{int(no_county.sum())} unit(s) have no county (no county column, none derivable from codes); grouped as 未知区县 — county indicators are unreliable",
                file=str(p),
                suggestion="--boundary-column county=列名 / map the county column",
            )
        )
    out["kind"] = (
        raw[cols["kind"]].astype(str).str.strip().to_numpy()
        if "kind" in cols
        else [_infer_kind(n) for n in out["name"]]
    )
    for fld in ("population", "pop_60plus", "households"):
        if fld in cols:
            out[fld] = pd.to_numeric(raw[cols[fld]], errors="coerce").to_numpy()
    if "schematic" in cols:
        out["schematic"] = raw[cols["schematic"]].fillna(False).astype(bool).to_numpy()
    dup = out["code"][out["code"].duplicated(keep=False)]
    if len(dup):
        raise InputError(
            f"区划代码重复：{', '.join(sorted(set(dup)))}",
            f"Duplicate unit codes: {', '.join(sorted(set(dup)))}",
            file=str(p),
            column=cols.get("code", "code"),
            value=sorted(set(dup))[0],
        )
    dupn = out.loc[out[["county", "name"]].duplicated(keep=False), "name"]
    if len(dupn):
        raise InputError(
            f"同一区县内镇(街道)名称重复：{', '.join(sorted(set(dupn)))}",
            f"Duplicate unit names within a county: {', '.join(sorted(set(dupn)))}",
            file=str(p),
            column=cols["name"],
            value=sorted(set(dupn))[0],
        )
    geoms = out.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        repaired = shapely.make_valid(geoms[invalid])
        repaired = np.array([_polygonal(g) for g in repaired], dtype=object)
        geoms = geoms.copy()
        geoms[invalid] = repaired
        for (code, name), why in zip(
            out.loc[invalid, ["code", "name"]].itertuples(index=False), reasons, strict=True
        ):
            findings.add(
                Finding(
                    "warning",
                    "invalid_polygon_repaired",
                    f"{name} 的多边形无效（{why}），已修复",
                    f"Polygon of {name} was invalid ({why}); repaired",
                    file=str(p),
                    column="geometry",
                    value=code,
                )
            )
        out = out.set_geometry(geoms, crs=out.crs)
    out = out.to_crs(4326)
    release_unused_memory()  # the decoded file's pages (Arrow's pool, WKB buffers)
    if check:
        findings.extend(check_coverage(out, file=str(p)))
    ordered = ["code", "name", "county", "county_code", "kind"] + [
        c for c in ("population", "pop_60plus", "households", "schematic") if c in out.columns
    ]
    return gpd.GeoDataFrame(out[ordered], geometry=out.geometry, crs=4326), findings


def _require_polygons(geoms: np.ndarray, file: str) -> None:
    """Refuse boundary files whose features are not polygons (points, lines, collections)."""
    present = ~shapely.is_missing(geoms)
    types = shapely.get_type_id(geoms)
    wrong = present & ~np.isin(types, (3, 6))  # Polygon, MultiPolygon
    if not wrong.any() and present.any():
        return
    found = (
        pd.Series(shapely.get_type_id(geoms[wrong]))
        .map(dict(enumerate(_GEOMETRY_NAMES)))
        .value_counts()
    )
    listed = ", ".join(f"{k} {v}" for k, v in found.items()) or "无几何 / no geometry"
    rows = ", ".join(str(i + 1) for i in np.flatnonzero(wrong)[:10])
    raise InputError(
        f"边界文件应为面（多边形），但有 {int(wrong.sum())} 个要素不是面：{listed}（第 {rows} 个要素）",
        f"A boundary file must hold polygons, but {int(wrong.sum())} feature(s) are not: {listed} "
        f"(feature {rows})",
        file=file,
        column="geometry",
        suggestion="镇(街道)边界线请先在 GIS 中用“线转面/Polygonize”生成面；点文件应作为设施名录读入 / "
        "turn boundary lines into polygons first (Polygonize); a point file is a facility list",
    )


_GEOMETRY_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def _plausible_crs(
    raw: gpd.GeoDataFrame, declared: str | None, file: str, findings: Findings
) -> gpd.GeoDataFrame:
    """Check that the units fall in China in their CRS; a declared CRS replaces a wrong one."""
    from coverage_gis.io.crs_check import check_crs_plausible
    from coverage_gis.io.vector import to_wgs84_xy

    def check(frame: gpd.GeoDataFrame) -> None:
        b = shapely.bounds(frame.geometry.to_numpy())
        x, y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        if frame.crs is None:
            return
        lon, lat = to_wgs84_xy(x, y, frame.crs)
        check_crs_plausible(x, y, lon, lat, frame.crs, file=file)

    try:
        check(raw)
        return raw
    except InputError:
        if declared is None or raw.crs is None or raw.crs.equals(declared):
            raise
    fixed = raw.set_crs(declared, allow_override=True)
    check(fixed)
    findings.add(
        Finding(
            "warning",
            "crs_overridden",
            f"文件声明的坐标系“{raw.crs.name}”与坐标不符，按 --boundaries-crs {declared} 读取",
            f"The file's CRS '{raw.crs.name}' does not fit its coordinates; read as "
            f"--boundaries-crs {declared}",
            file=file,
            value=declared,
        )
    )
    return fixed


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygonal parts of a make_valid result (drop stray lines/points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else geom


# ---------------------------------------------------------------------------------------
# Overlaps and gaps between units (check_coverage)

#: Overlaps and gaps whose mean width (2 · area / perimeter, in metres) is below this are
#: slivers: what two outlines of one boundary digitised separately leave between them (a
#: few metres for 1:10,000 data, whose points are placed to ±5 m). They are summarised, not
#: listed; wider ones are real overlaps and gaps. 10 m is twice the positional error of
#: such data, and below the accuracy of most facility coordinates (geocoded addresses,
#: GCJ-02 conversions: tens of metres): where a facility falls in a sliver, its own
#: position decides more than the boundary does.
SLIVER_WIDTH_M = 10.0
#: Sliver pieces of this area (m²) or less are not counted: rounding noise of vertices
#: that are equal to within floating-point precision.
SLIVER_MIN_M2 = 1.0
#: Units whose slivers are measured exactly for the summary; with more units than this an
#: even sample of them is measured and the totals are estimated.
SLIVER_SAMPLE_UNITS = 400
#: Screening radius, as a fraction of ``SLIVER_WIDTH_M / 2`` (see :func:`check_coverage`).
_SCREEN_FRACTION = 0.9
#: Version of the findings of :func:`check_coverage`, part of the cache key
#: (:mod:`coverage_gis.io.check_cache`): change it with the algorithm or the messages.
COVERAGE_CHECK_VERSION = "3"


def coverage_parameters(min_area_m2: float = 100.0) -> dict[str, object]:
    """Everything besides the units that :func:`check_coverage`'s findings depend on."""
    return {
        "check": "coverage",
        "version": COVERAGE_CHECK_VERSION,
        "min_area_m2": float(min_area_m2),
        "sliver_width_m": SLIVER_WIDTH_M,
        "sliver_min_m2": SLIVER_MIN_M2,
        "sample_units": SLIVER_SAMPLE_UNITS,
        "screen_fraction": _SCREEN_FRACTION,
        "listed": [MAX_ROW_FINDINGS, SHOWN_ROW_FINDINGS],
        "geos": shapely.geos_version_string,
    }


@dataclass
class _Pieces:
    """Overlap or gap pieces measured exactly: areas (m²), mean widths (m), polygons."""

    area: np.ndarray
    width: np.ndarray
    geoms: np.ndarray

    @classmethod
    def empty(cls) -> _Pieces:
        return cls(np.zeros(0), np.zeros(0), np.zeros(0, dtype=object))

    @classmethod
    def join(cls, *pieces: _Pieces) -> _Pieces:
        return cls(
            np.concatenate([p.area for p in pieces]),
            np.concatenate([p.width for p in pieces]),
            np.concatenate([p.geoms for p in pieces]),
        )

    def __len__(self) -> int:
        return len(self.area)

    def subset(self, keep: np.ndarray) -> _Pieces:
        return _Pieces(self.area[keep], self.width[keep], self.geoms[keep])


def check_coverage(
    units: gpd.GeoDataFrame,
    *,
    min_area_m2: float = 100.0,
    file: str | None = None,
) -> list[Finding]:
    """Report overlaps between units and gaps enclosed by them, with areas in m².

    An overlap is the intersection of two units; a gap is a hole of the union of all units
    (an area enclosed by units but belonging to none), measured as its whole interior ring
    (islands in it included). Areas are measured on the WGS84 ellipsoid
    (:func:`_equal_area_m2`), right for a national dataset.

    **Slivers.** Each overlap piece and gap is classified by its mean width
    ``2 · area / perimeter`` (metres; a gap's free space, islands excluded). A pair of
    units is reported (``units_overlap``, warning) when a piece of their intersection is
    at least :data:`SLIVER_WIDTH_M` wide and larger than ``min_area_m2``; its area is then
    the whole intersection's. A gap is reported (``units_gap``, warning) when it is that
    wide and its area exceeds ``min_area_m2``. More than
    :data:`~coverage_gis.io.normalise.MAX_ROW_FINDINGS` of either kind: the
    :data:`~coverage_gis.io.normalise.SHOWN_ROW_FINDINGS` largest are listed and one
    finding with a count stands for the rest. Everything narrower is what outlines that do
    not share their vertices (are not noded) leave along every shared edge, and is
    summarised in one finding per kind with the number, total area, widest mean width and
    the largest pieces:

    * ``units_sliver_overlap`` (warning): a facility in a sliver overlap lies in two units
      and goes, silently, to the smaller code; the fix is one for the whole layer
      (snapping), so one warning says so;
    * ``units_sliver_gap`` (info): a facility in a sliver gap lies in no unit, and the
      engine reports every such row (``point_outside_units``) anyway.

    **Method.** Exact overlays of every sliver cost ~10 µs per piece in GEOS (a million
    pieces for 40,000 detailed non-noded units), so only what can be wide is computed
    exactly. A piece of mean width ``w`` holds a disc of radius ``w / 2`` (its area is at
    most its perimeter times its inradius), so with
    ``r = _SCREEN_FRACTION · SLIVER_WIDTH_M / 2`` (4.5 m), in a conformal (Mercator)
    projection where buffers are round in metres:

    * only pairs whose units eroded by ``r`` still intersect are intersected exactly;
    * the units dilated by ``r`` are merged (:func:`_union_holes`); a wide gap leaves a hole
      of that union, and from each such hole the exact gap is taken from the original units
      near it (:func:`_free_component`).

    Units whose edges all match their neighbours' (``coverage_invalid_edges``,
    :func:`_suspect_units`) leave no slivers: pairs of them are skipped, and a coverage
    made only of them is dissolved exactly (``coverage_union_all``). The sliver summary
    comes from the slivers computed exactly on the way plus those of an even sample of
    :data:`SLIVER_SAMPLE_UNITS` units (:func:`_sample_slivers`), scaled to all units when
    there are more (the message then says it is an estimate).

    Parameters
    ----------
    units
        Units with ``code``, ``name`` and polygon geometries (EPSG:4326 after
        :func:`read_boundaries`; another CRS is converted to it first).
    min_area_m2
        Overlaps and gaps must be larger than this to be reported one by one.
    file
        Source file named in the findings.

    Returns
    -------
    list of Finding
        ``units_overlap`` per overlapping pair (in the units' order), ``units_gap`` per gap
        (west to east), then ``units_sliver_overlap`` and ``units_sliver_gap``.
    """
    if len(units) < 2:
        return []
    geoms = units.geometry.to_numpy()
    polygonal = np.flatnonzero(np.isin(shapely.get_type_id(geoms), (3, 6)))
    polygonal = polygonal[~shapely.is_empty(geoms[polygonal])]
    if not len(polygonal):
        return []
    polys = geoms[polygonal]
    if units.crs is not None and not units.crs.is_geographic:
        polys = gpd.GeoSeries(polys, crs=units.crs).to_crs(4326).to_numpy()
    names = units["name"].to_numpy()[polygonal].tolist()
    codes = units["code"].to_numpy()[polygonal].tolist()

    tree = shapely.STRtree(polys)
    suspect = _suspect_units(polys)
    q, t = tree.query(polys)  # bounding boxes that meet
    pair = (q < t) & (suspect[q] | suspect[t])
    order = np.lexsort((t[pair], q[pair]))
    left, right = q[pair][order], t[pair][order]
    merc = _to_mercator(polys) if suspect.any() else None

    # Overlaps on a worker while the gaps are found here (GEOS releases the GIL).
    overlapping = threads("coverage").submit(_overlaps, polys, merc, left, right, min_area_m2)
    try:
        gaps, gap_area, g_slivers = _gaps(polys, merc, suspect, tree, min_area_m2)
    except BaseException:
        wait([overlapping])  # nothing left running behind the error
        raise
    o_left, o_right, o_area, o_slivers, intersected = overlapping.result()
    known = np.concatenate([gaps, g_slivers.geoms])
    s_over, s_gap, sampled = _sample_slivers(polys, tree, left, intersected, right, known)

    over = [
        Finding(
            "warning",
            "units_overlap",
            f"{names[i]} 与 {names[j]} 重叠 {a:,.0f} m²；重叠处的设施按代码较小者归属",
            f"{names[i]} and {names[j]} overlap by {a:,.0f} m²; facilities there go to the smaller code",
            file=file,
            column="geometry",
            value=f"{codes[i]}/{codes[j]}",
        )
        for i, j, a in zip(o_left.tolist(), o_right.tolist(), o_area.tolist(), strict=True)
    ]
    out = _capped(over, o_area, "overlap", file)
    centroids = shapely.centroid(gaps)
    cx, cy = shapely.get_x(centroids), shapely.get_y(centroids)
    west_east = np.lexsort((cy, cx))
    cx, cy, gap_area = cx[west_east], cy[west_east], gap_area[west_east]
    holes = [
        Finding(
            "warning",
            "units_gap",
            f"镇(街道)之间有 {a:,.0f} m² 的空隙（约 {x:.4f}, {y:.4f}），其中的设施不属于任何镇(街道)",
            f"Gap of {a:,.0f} m² between units (near {x:.4f}, {y:.4f}); facilities there belong to no unit",
            file=file,
            column="geometry",
            value=f"{x:.5f},{y:.5f}",
        )
        for a, x, y in zip(gap_area.tolist(), cx.tolist(), cy.tolist(), strict=True)
    ]
    out += _capped(holes, gap_area, "gap", file)
    for kind, exact, sample in (("overlap", o_slivers, s_over), ("gap", g_slivers, s_gap)):
        summary = _sliver_summary(kind, exact, sample, sampled, len(polys), file)
        if summary is not None:
            out.append(summary)
    return out


def _capped(
    findings: list[Finding], areas: np.ndarray, kind: str, file: str | None
) -> list[Finding]:
    """All findings up to MAX_ROW_FINDINGS; else the SHOWN_ROW_FINDINGS largest, in order,
    and one finding with the number and total area of the rest."""
    if len(findings) <= MAX_ROW_FINDINGS:
        return findings
    largest = np.sort(np.argsort(-areas, kind="stable")[:SHOWN_ROW_FINDINGS])
    rest = np.ones(len(findings), dtype=bool)
    rest[largest] = False
    n, total = int(rest.sum()), float(areas[rest].sum())
    shown = len(largest)
    if kind == "overlap":
        zh = f"另有 {n:,} 对镇(街道)重叠（合计 {total:,.0f} m²），未逐条列出；以上为面积最大的 {shown} 对"
        en = (
            f"{n:,} more overlapping pairs of units ({total:,.0f} m² in all), not listed one "
            f"by one; the {shown} largest are listed"
        )
        code = "units_overlap"
    else:
        zh = f"另有 {n:,} 处镇(街道)之间的空隙（合计 {total:,.0f} m²），未逐条列出；以上为面积最大的 {shown} 处"
        en = (
            f"{n:,} more gaps between units ({total:,.0f} m² in all), not listed one by one; "
            f"the {shown} largest are listed"
        )
        code = "units_gap"
    summary = Finding("warning", code, zh, en, file=file, column="geometry", count=n)
    return [findings[k] for k in largest.tolist()] + [summary]


def _sliver_summary(
    kind: str,
    exact: _Pieces,
    sample: _Pieces,
    sampled: int,
    n_units: int,
    file: str | None,
) -> Finding | None:
    """One finding for the sliver overlaps or gaps: number, total area, widest, largest."""
    scale = n_units / sampled if sampled else 1.0
    estimated = sampled < n_units and len(sample) > 0
    count = round(len(exact) + len(sample) * scale)
    if count == 0:
        return None
    total = float(exact.area.sum() + sample.area.sum() * scale)
    pool = _Pieces.join(exact, sample)
    widest = float(pool.width.max())
    top = np.argsort(-pool.area, kind="stable")[:5]
    where = shapely.centroid(pool.geoms[top])
    listed = list(
        zip(
            pool.area[top].tolist(),
            pool.width[top].tolist(),
            shapely.get_x(where).tolist(),
            shapely.get_y(where).tolist(),
            strict=True,
        )
    )
    top_zh = "；".join(f"{x:.4f}, {y:.4f} 处 {a:,.0f} m²（宽 {w:.1f} m）" for a, w, x, y in listed)
    top_en = "; ".join(
        f"{a:,.0f} m² near {x:.4f}, {y:.4f} ({w:.1f} m wide)" for a, w, x, y in listed
    )
    about_zh, about_en = ("约", "about ") if estimated else ("", "")
    basis_zh = f"（由 {sampled:,} / {n_units:,} 个镇(街道)抽样估算）" if estimated else ""
    basis_en = (
        f" (estimated from a sample of {sampled:,} of {n_units:,} units)" if estimated else ""
    )
    widest_zh, widest_en = (
        ("已量测的最宽", "the widest measured") if estimated else ("最宽", "the widest")
    )
    largest_zh = "已量测的最大几处" if estimated else "最大的几处"
    largest_en = "largest measured" if estimated else "largest"
    head_zh = (
        f"镇(街道)边界未严格接边：相邻镇(街道)之间{about_zh}有 {count:,} 处"
        f"{'细长重叠' if kind == 'overlap' else '细长空隙'}（平均宽度不足 {SLIVER_WIDTH_M:g} m），"
        f"合计{about_zh} {total:,.0f} m²，{widest_zh} {widest:.1f} m{basis_zh}；属相邻边界分别数字化的正常误差，不逐处列出"
    )
    head_en = (
        f"Unit boundaries are not noded: {about_en}{count:,} sliver "
        f"{'overlaps' if kind == 'overlap' else 'gaps'} between neighbouring units (mean "
        f"width under {SLIVER_WIDTH_M:g} m), {about_en}{total:,.0f} m² in all, {widest_en} "
        f"{widest:.1f} m{basis_en}; the normal result of neighbours digitised separately, "
        f"not listed one by one"
    )
    if kind == "overlap":
        zh = f"{head_zh}，其中的设施按代码较小者归属。{largest_zh}：{top_zh}"
        en = f"{head_en}; facilities in them go to the smaller code. {largest_en.capitalize()}: {top_en}"
        severity, code = "warning", "units_sliver_overlap"
    else:
        zh = (
            f"{head_zh}，落在其中的设施不属于任何镇(街道)，已逐条报告（point_outside_units）。"
            f"{largest_zh}：{top_zh}"
        )
        en = (
            f"{head_en}; facilities in them belong to no unit and are reported row by row "
            f"(point_outside_units). {largest_en.capitalize()}: {top_en}"
        )
        severity, code = "info", "units_sliver_gap"
    return Finding(
        severity,  # type: ignore[arg-type]
        code,
        zh,
        en,
        file=file,
        column="geometry",
        value=f"{listed[0][2]:.5f},{listed[0][3]:.5f}",
        suggestion="在 GIS 中对边界图层做拓扑检查与捕捉（如 QGIS“捕捉几何图形到图层”、ArcGIS Integrate），"
        "使相邻镇(街道)共用边界顶点 / snap the layer so that neighbouring units share their "
        "boundary vertices (QGIS Snap geometries to layer, ArcGIS Integrate)",
        count=count,
    )


def _overlaps(
    polys: np.ndarray,
    merc: np.ndarray | None,
    left: np.ndarray,
    right: np.ndarray,
    min_area_m2: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, _Pieces, np.ndarray]:
    """Real overlaps among the pairs ``(left, right)``, and the slivers computed on the way.

    Only the pairs whose units, eroded by the screening radius, still intersect are
    intersected (a piece as wide as :data:`SLIVER_WIDTH_M` keeps its centre in both).

    Returns
    -------
    left, right, area
        The pairs with a real overlap piece, and their whole intersection's area (m²).
    slivers
        The sliver pieces of the other intersected pairs.
    intersected
        Which of the given pairs were intersected.
    """
    intersected = np.zeros(len(left), dtype=bool)
    none = np.zeros(0, dtype=np.int64)
    if not len(left) or merc is None:
        return none, none, np.zeros(0), _Pieces.empty(), intersected
    needed = np.unique(np.r_[left, right])
    eroded = np.full(len(polys), None, dtype=object)
    eroded[needed] = _screen_buffer(merc[needed], polys[needed], -1.0)
    el, er = eroded[left], eroded[right]
    bl, br = shapely.bounds(el), shapely.bounds(er)  # NaN for eroded away
    near = np.flatnonzero(
        (bl[:, 0] <= br[:, 2])
        & (br[:, 0] <= bl[:, 2])
        & (bl[:, 1] <= br[:, 3])
        & (br[:, 1] <= bl[:, 3])
    )
    near = near[shapely.intersects(el[near], er[near])]
    intersected[near] = True
    li, ri = left[near], right[near]
    parts, part_of = shapely.get_parts(
        shapely.intersection(polys[li], polys[ri]), return_index=True
    )
    polygon = shapely.get_type_id(parts) == 3
    parts, part_of = parts[polygon], part_of[polygon]
    area, perimeter = _measure(parts)
    width = _mean_width(area, perimeter)
    wide = (width >= SLIVER_WIDTH_M) & (area > min_area_m2)
    real = np.bincount(part_of[wide], minlength=len(near)) > 0
    total = np.bincount(part_of, area, minlength=len(near))
    sliver = ~real[part_of] & (area > SLIVER_MIN_M2)
    slivers = _Pieces(area[sliver], width[sliver], parts[sliver])
    return li[real], ri[real], total[real], slivers, intersected


def _gaps(
    polys: np.ndarray,
    merc: np.ndarray | None,
    suspect: np.ndarray,
    tree: shapely.STRtree,
    min_area_m2: float,
) -> tuple[np.ndarray, np.ndarray, _Pieces]:
    """Real gaps (interior rings as polygons, and their areas) and the slivers found.

    A coverage whose units all match their neighbours is dissolved exactly. Otherwise the
    units are dilated by the screening radius and merged: slivers close, and each hole of
    the dilated union is resolved into the exact gap around it by
    :func:`_free_component`.
    """
    if merc is None:  # a valid coverage: its holes exactly
        holes, _ = _interior_polygons(np.array([shapely.coverage_union_all(polys)]))
        return _classify_gaps(holes, _free_space(holes, polys, tree), min_area_m2)
    dilated = []
    clean = np.flatnonzero(~suspect)
    if len(clean):
        parts = shapely.get_parts(shapely.coverage_union_all(polys[clean]))
        parts = parts[shapely.get_type_id(parts) == 3]
        dilated.append(_screen_buffer(_to_mercator(parts), parts, 1.0))
    dirty = np.flatnonzero(suspect)
    dilated.append(_screen_buffer(merc[dirty], polys[dirty], 1.0))
    closed = np.concatenate(dilated)
    closed = closed[~shapely.is_empty(closed)]
    closed_tree = shapely.STRtree(closed)
    rings, filled = _union_holes(closed, np.ones(len(closed), dtype=bool), closed_tree)
    # the holes' parts outside the dilated units (a hole is a whole ring, islands in it)
    candidates = shapely.get_parts(_free_space(rings, closed, closed_tree))
    candidates = candidates[shapely.get_type_id(candidates) == 3]
    if not len(candidates):
        return np.zeros(0, dtype=object), np.zeros(0), _Pieces.empty()
    # A real gap keeps, around its centre, a disc of (1 - _SCREEN_FRACTION) · width / 2
    # outside the dilated units: holes too thin for one are slivers.
    b = shapely.bounds(candidates)
    lat0, lat1 = _merc_lat(b[:, 1]), _merc_lat(b[:, 3])
    spare = 0.8 * (1.0 - _SCREEN_FRACTION) * SLIVER_WIDTH_M / 2.0
    thick = ~shapely.is_empty(
        shapely.buffer(candidates, -_merc_radius(lat0, lat1, spare), quad_segs=1)
    )
    candidates, b, lat0, lat1 = candidates[thick], b[thick], lat0[thick], lat1[thick]
    inside = shapely.point_on_surface(candidates)
    px, py = shapely.get_x(inside), _merc_lat(shapely.get_y(inside))
    shapely.prepare(filled)
    extent = shapely.total_bounds(polys)
    found: list[shapely.Geometry] = []  # components resolved (gaps or open to the outside)
    gaps: list[shapely.Geometry] = []
    for k in np.argsort(-shapely.area(candidates), kind="stable").tolist():
        if found and shapely.contains_xy(np.array(found, dtype=object), px[k], py[k]).any():
            continue
        box = (b[k, 0], lat0[k], b[k, 2], lat1[k])
        component, enclosed = _free_component(px[k], py[k], box, polys, tree, filled, extent)
        if component is None:
            continue
        found.append(component)
        if enclosed:
            gaps.append(component)
    free = np.array(gaps, dtype=object)
    holes = shapely.polygons(shapely.get_exterior_ring(free))
    return _classify_gaps(holes, free, min_area_m2)


def _free_component(
    px: float,
    py: float,
    box: tuple[float, float, float, float],
    polys: np.ndarray,
    tree: shapely.STRtree,
    filled: shapely.Geometry,
    extent: np.ndarray,
) -> tuple[shapely.Geometry | None, bool]:
    """The area around ``(px, py)`` that no unit covers, and whether units enclose it.

    The units meeting a window are merged and the window minus them is split into its
    connected parts; the part holding the point is exact inside the window. When it does
    not reach the window's edge it is a whole hole of the union of all units (a gap). When
    it reaches the window's edge and also leaves ``filled`` (the dilated units' union with
    its holes filled, in Mercator coordinates), it is open to the outside (not a gap).
    Otherwise the window grows.
    """
    x0, y0, x1, y1 = box
    grow = 0.25 * max(x1 - x0, y1 - y0) + 1e-4
    x0, y0, x1, y1 = x0 - grow, y0 - grow, x1 + grow, y1 + grow
    component = None
    for _ in range(24):
        window = shapely.box(x0, y0, x1, y1)
        near = tree.query(window)
        free = shapely.get_parts(shapely.difference(window, shapely.union_all(polys[near])))
        hit = free[shapely.contains_xy(free, px, py)]
        if not len(hit):
            return component, False
        component = hit[0]
        if not shapely.intersects(component, shapely.boundary(window)):
            return component, True
        everything = x0 <= extent[0] and y0 <= extent[1] and x1 >= extent[2] and y1 >= extent[3]
        if everything or not shapely.covered_by(_to_mercator(np.array([component]))[0], filled):
            return component, False
        half_w, half_h = x1 - x0, y1 - y0  # double the window around its centre
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        x0, x1, y0, y1 = cx - half_w, cx + half_w, cy - half_h, cy + half_h
    return component, False


def _classify_gaps(
    holes: np.ndarray, free: np.ndarray, min_area_m2: float
) -> tuple[np.ndarray, np.ndarray, _Pieces]:
    """Split gaps into real ones (with their areas) and slivers.

    ``holes`` are whole interior rings as polygons (their area is reported); ``free`` the
    same less the units inside them, whose mean width decides.
    """
    area = _equal_area_m2(holes)
    free_area, free_perimeter = _measure(free)
    width = _mean_width(free_area, free_perimeter)
    real = (width >= SLIVER_WIDTH_M) & (area > min_area_m2)
    sliver = ~real & (area > SLIVER_MIN_M2)
    return holes[real], area[real], _Pieces(area[sliver], width[sliver], holes[sliver])


def _free_space(holes: np.ndarray, polys: np.ndarray, tree: shapely.STRtree) -> np.ndarray:
    """Each hole less the units inside it (islands)."""
    free = holes.copy()
    h, p = tree.query(holes, predicate="intersects")
    inner = ~shapely.touches(holes[h], polys[p])
    h, p = h[inner], p[inner]
    for k in np.unique(h).tolist():
        free[k] = shapely.difference(holes[k], shapely.union_all(polys[p[h == k]]))
    return free


def _sample_slivers(
    polys: np.ndarray,
    tree: shapely.STRtree,
    left: np.ndarray,
    intersected: np.ndarray,
    right: np.ndarray,
    known: np.ndarray,
) -> tuple[_Pieces, _Pieces, int]:
    """Slivers of an even sample of the units, measured exactly.

    Each sliver is counted from one unit: an overlap piece from the pair's first unit, a
    gap from the first unit that touches it and whose window (below) holds it. For each of at most
    :data:`SLIVER_SAMPLE_UNITS` units (every k-th in the units' order):

    * the pieces of its intersections with the later units it meets (unless
      :func:`_overlaps` intersected the pair already);
    * the holes, touching it, of the union of the units near it, clipped to its bounding
      box widened by :data:`SLIVER_WIDTH_M` · 4 (slivers along its edges lie within it;
      a hole reaching the clipping box's edge is not one), that are not inside a gap
      measured already (``known``).

    Returns
    -------
    overlaps, gaps, sampled
        The sliver pieces, and how many units were sampled.
    """
    polys = _thin_dense(polys, polys)  # a summary: 0.1 m off a million vertices is exact enough
    n_units = len(polys)
    n = min(SLIVER_SAMPLE_UNITS, n_units)
    pick = (np.arange(n) * n_units) // n
    sampled = np.zeros(n_units, dtype=bool)
    sampled[pick] = True
    chosen = sampled[left] & ~intersected
    parts = shapely.get_parts(shapely.intersection(polys[left[chosen]], polys[right[chosen]]))
    parts = parts[shapely.get_type_id(parts) == 3]
    area, perimeter = _measure(parts)
    keep = area > SLIVER_MIN_M2
    overlaps = _Pieces(area[keep], _mean_width(area, perimeter)[keep], parts[keep])

    b = shapely.bounds(polys)
    # degrees of longitude per metre: at least as many as of latitude
    margin = _merc_radius(b[:, 1], b[:, 3], 4 * SLIVER_WIDTH_M)
    windows = b + np.column_stack([-margin, -margin, margin, margin])
    found = []
    for c, (x0, y0, x1, y1) in zip(pick.tolist(), windows[pick].tolist(), strict=True):
        near = tree.query(shapely.box(x0, y0, x1, y1))
        if len(near) < 2:
            continue
        clipped = shapely.clip_by_rect(polys[near], x0, y0, x1, y1)
        holes, _ = _interior_polygons(np.array([shapely.union_all(clipped)]))
        if len(holes):
            found.append((c, holes))
    if not found:
        return overlaps, _Pieces.empty(), n
    owner = np.concatenate([np.full(len(h), c) for c, h in found])
    holes = np.concatenate([h for _, h in found])
    # counted from the first unit touching it whose window holds it whole
    h, u = tree.query(holes, predicate="intersects")
    hb, wu = shapely.bounds(holes)[h], windows[u]
    whole = (hb[:, 0] > wu[:, 0]) & (hb[:, 1] > wu[:, 1]) & (hb[:, 2] < wu[:, 2])
    whole &= hb[:, 3] < wu[:, 3]
    first = np.full(len(holes), n_units)
    np.minimum.at(first, h[whole], u[whole])
    keep = first == owner
    if len(known) and keep.any():
        inside, _ = shapely.STRtree(known).query(shapely.point_on_surface(holes), "within")
        keep[inside] = False
    holes = holes[keep]
    area, perimeter = _measure(holes)
    width = _mean_width(area, perimeter)
    keep = (area > SLIVER_MIN_M2) & (width < SLIVER_WIDTH_M)
    return overlaps, _Pieces(area[keep], width[keep], holes[keep]), n


def _interior_polygons(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The interior rings of ``geoms`` as polygons, and the index of the geometry of each."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    polygon = shapely.get_type_id(parts) == 3
    parts, part_of = parts[polygon], part_of[polygon]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    if not len(rings):
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
    shell = np.r_[True, ring_part[1:] != ring_part[:-1]]
    return shapely.polygons(rings[~shell]), part_of[ring_part[~shell]]


def _mean_width(area: np.ndarray, perimeter: np.ndarray) -> np.ndarray:
    """Mean width ``2 · area / perimeter`` (0 where the perimeter is 0)."""
    return np.divide(2.0 * area, perimeter, out=np.zeros_like(area), where=perimeter > 0)


#: Units validated first, as a compact sample, in :func:`_suspect_units`.
_SUSPECT_SAMPLE = 256


def _suspect_units(polys: np.ndarray) -> np.ndarray:
    """Mark the polygons that may overlap a neighbour or leave a sliver next to one.

    A polygon is suspect when it is invalid or when ``shapely.coverage_invalid_edges``
    finds edges of it that do not match the adjacent polygons' exactly (or lie inside one).
    The rest form a valid coverage: no two of them overlap, and ``coverage_union_all``
    dissolves them exactly.

    Validation costs about as much as what it saves when most units are suspect (outlines
    digitised or simplified separately, which share no vertices): a compact sample is
    validated first and, when most of it is suspect, every unit is taken as suspect.
    """
    invalid = ~shapely.is_valid(polys)
    valid = np.flatnonzero(~invalid)
    if len(valid) > 4 * _SUSPECT_SAMPLE:
        along = valid[np.argsort(_hilbert(polys[valid]), kind="stable")]
        start = (len(along) - _SUSPECT_SAMPLE) // 2
        sample = polys[along[start : start + _SUSPECT_SAMPLE]]
        if (~shapely.is_empty(shapely.coverage_invalid_edges(sample))).mean() > 0.5:
            return np.ones(len(polys), dtype=bool)
    suspect = invalid.copy()
    suspect[valid] = ~shapely.is_empty(shapely.coverage_invalid_edges(polys[valid]))
    return suspect


def _union_holes(
    polys: np.ndarray, suspect: np.ndarray, tree: shapely.STRtree
) -> tuple[np.ndarray, shapely.Geometry | None]:
    """The holes of ``shapely.union_all(polys)``, each interior ring as a polygon.

    The clean polygons are dissolved with ``coverage_union_all`` (one node of the merge);
    the suspect ones are the leaves of a binary merge in Hilbert-curve order (neighbours in
    the curve are neighbours on the map), one vectorised ``shapely.union`` per level. After
    each level :func:`_settle` takes the holes no polygon outside their node touches: those
    are holes of the whole union, and filling them keeps the merged outlines small.

    Returns
    -------
    holes, filled
        The holes, and the union with every hole filled (None without polygons).
    """
    found: list[np.ndarray] = []
    clean = np.flatnonzero(~suspect)
    dirty = np.flatnonzero(suspect)
    node = np.where(suspect, -2, -1)  # -1: the clean polygons' node; the suspect ones' below
    merged = None
    if len(clean):
        dissolved = np.array([shapely.coverage_union_all(polys[clean])], dtype=object)
        merged = _settle(dissolved, np.array([-1]), node, tree, found)
    if len(dirty):
        leaves = dirty[np.argsort(_hilbert(polys[dirty]), kind="stable")]
        position = np.empty(len(polys), dtype=np.int64)
        position[leaves] = np.arange(len(leaves))
        level = 0
        cur = polys[leaves]
        while True:
            node[dirty] = position[dirty] >> level  # the node of level `level` holding each
            cur = _settle(cur, np.arange(len(cur)), node, tree, found)
            if len(cur) == 1:
                break
            pairs = len(cur) // 2
            joined = shapely.union(cur[0 : 2 * pairs : 2], cur[1 : 2 * pairs : 2])
            cur = np.concatenate([joined, cur[2 * pairs :]])
            level += 1
        if merged is not None:
            node[:] = 0
            cur = _settle(shapely.union(cur, merged), np.array([0]), node, tree, found)
        merged = cur
    holes = np.concatenate(found) if found else np.zeros(0, dtype=object)
    return holes, (merged[0] if merged is not None else None)


def _settle(
    cur: np.ndarray,
    ids: np.ndarray,
    node: np.ndarray,
    tree: shapely.STRtree,
    found: list[np.ndarray],
) -> np.ndarray:
    """Take the holes of the merged geometries ``cur`` that are holes of the whole union.

    ``cur[k]`` is the union of the polygons ``p`` with ``node[p] == ids[k]``. A hole of it
    that no other polygon intersects is a hole of the union of all polygons: nothing else
    covers any of it and its boundary is covered. Those holes are appended to ``found`` and
    filled in the returned geometries, which also drop the parts lying inside a filled hole
    (islands in a gap are covered by the filled hole; they were reported with it).
    """
    parts, part_of = shapely.get_parts(cur, return_index=True)
    with_holes = np.flatnonzero(shapely.get_num_interior_rings(parts) > 0)
    if not len(with_holes):
        return cur
    rings, ring_part = shapely.get_rings(parts[with_holes], return_index=True)
    shell = np.r_[True, ring_part[1:] != ring_part[:-1]]
    holes = shapely.polygons(rings[~shell])
    hole_part = with_holes[ring_part[~shell]]
    hole_node = ids[part_of[hole_part]]
    h, p = tree.query(holes)
    foreign = node[p] != hole_node[h]
    h, p = h[foreign], p[foreign]
    final = np.ones(len(holes), dtype=bool)
    final[h[shapely.intersects(holes[h], tree.geometries[p])]] = False
    if not final.any():
        return cur
    filled, filled_part = holes[final], hole_part[final]
    found.append(filled)
    keep_ring = shell.copy()
    keep_ring[~shell] = ~final
    parts = parts.copy()
    parts[with_holes] = shapely.polygons(rings[keep_ring], indices=ring_part[keep_ring])
    # Islands: parts of the same merged geometry inside one of its filled holes.
    a, f = shapely.STRtree(filled).query(parts)
    same = (part_of[a] == part_of[filled_part[f]]) & (a != filled_part[f])
    a, f = a[same], f[same]
    keep = np.ones(len(parts), dtype=bool)
    keep[a[shapely.within(shapely.point_on_surface(parts[a]), filled[f])]] = False
    changed = np.isin(part_of, part_of[filled_part])
    return shapely.multipolygons(
        parts[changed & keep], indices=part_of[changed & keep], out=np.array(cur, copy=True)
    )


def _hilbert(polys: np.ndarray) -> np.ndarray:
    """Hilbert-curve distance of each polygon's bounding-box centre (within their bounds)."""
    b = shapely.bounds(polys)
    total = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    return gpd.GeoSeries(polys).hilbert_distance(total_bounds=total).to_numpy()


# WGS84 ellipsoid: semi-major axis (m), first eccentricity squared.
_WGS84_A = 6378137.0
_WGS84_E2 = 0.0066943799901413165


def _merc_y(lat: np.ndarray) -> np.ndarray:
    """Mercator ordinate, in degrees, of latitudes (clipped to ±85°)."""
    return np.degrees(np.arctanh(np.sin(np.radians(np.clip(lat, -85.0, 85.0)))))


def _merc_lat(y: np.ndarray) -> np.ndarray:
    """Latitude of Mercator ordinates (degrees), the inverse of :func:`_merc_y`."""
    return np.degrees(np.arcsin(np.tanh(np.radians(y))))


def _to_mercator(geoms: np.ndarray) -> np.ndarray:
    """Lon/lat (multi)polygons with y replaced by the Mercator ordinate :func:`_merc_y`.

    Mercator is conformal: a buffer in these coordinates is round in metres, its radius
    scaled by :func:`_merc_radius`. All vertices in one numpy pass (ragged arrays).
    """
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    if not coords.flags.writeable:
        coords = coords.copy()
    coords[:, 1] = _merc_y(coords[:, 1])
    return shapely.from_ragged_array(kind, coords, offsets)


def _merc_radius(lat0: np.ndarray, lat1: np.ndarray, metres: float) -> np.ndarray:
    """A distance in Mercator degrees that is at most ``metres`` between ``lat0`` and ``lat1``.

    A Mercator degree spans ``N(φ) · cos φ · π / 180`` metres (N: the prime vertical
    radius; north-south a fraction of a percent less), largest at the latitude nearest the
    equator, which is the one used.
    """
    lat0, lat1 = np.asarray(lat0, dtype=float), np.asarray(lat1, dtype=float)
    low = np.where((lat0 <= 0) & (lat1 >= 0), 0.0, np.minimum(np.abs(lat0), np.abs(lat1)))
    phi = np.radians(low)
    n = _WGS84_A / np.sqrt(1.0 - _WGS84_E2 * np.sin(phi) ** 2)
    return metres / (n * np.cos(phi) * np.pi / 180.0)


#: Outlines with more vertices than this are simplified by :data:`_DENSE_TOLERANCE_M` for
#: the screening buffers and the sliver sample: GEOS's negative buffer of a million
#: collinear vertices can take minutes (the hostile test's million-vertex township), of the
#: 5 vertices left none; the exact overlaps and gaps are computed on the outlines as read.
_DENSE_VERTICES = 20_000
_DENSE_TOLERANCE_M = 0.1


def _thin_dense(geoms: np.ndarray, lonlat: np.ndarray) -> np.ndarray:
    """``geoms`` (lon/lat or Mercator: x is longitude in both) with the outlines of over
    :data:`_DENSE_VERTICES` vertices simplified by about :data:`_DENSE_TOLERANCE_M`
    (``lonlat``: the same outlines in lon/lat, for their latitudes)."""
    dense = np.flatnonzero(shapely.get_num_coordinates(geoms) > _DENSE_VERTICES)
    if not len(dense):
        return geoms
    geoms = geoms.copy()
    b = shapely.bounds(lonlat[dense])
    tolerance = _merc_radius(b[:, 1], b[:, 3], _DENSE_TOLERANCE_M)
    simple = shapely.simplify(geoms[dense], tolerance, preserve_topology=False)
    broken = ~shapely.is_valid(simple)
    simple[broken] = shapely.simplify(geoms[dense[broken]], tolerance[broken])
    geoms[dense] = simple
    return geoms


def _screen_buffer(merc: np.ndarray, geoms: np.ndarray, sign: float) -> np.ndarray:
    """Mercator polygons ``merc`` (of lon/lat ``geoms``) eroded (``sign`` -1) or dilated
    (+1) by the screening radius, with ``quad_segs=1`` (round joins as chords: an erosion a
    little larger than the exact one, a dilation a little smaller, both on the safe side).

    Dense outlines are simplified first (:func:`_thin_dense`), which moves them by about
    0.1 m: the screening radius (4.5 m) stays below half the sliver width (5 m) by more.
    """
    merc = _thin_dense(merc, geoms)
    return shapely.buffer(merc, sign * _screen_radius(geoms), quad_segs=1)


def _screen_radius(geoms: np.ndarray) -> np.ndarray:
    """The screening radius of :func:`check_coverage` in Mercator degrees, per geometry."""
    b = shapely.bounds(geoms)
    return _merc_radius(b[:, 1], b[:, 3], _SCREEN_FRACTION * SLIVER_WIDTH_M / 2.0)


def _equal_area_m2(geoms: np.ndarray) -> np.ndarray:
    """Area in m² on the WGS84 ellipsoid of each (multi)polygon given in lon/lat degrees.

    Coordinates go to Lambert's cylindrical equal-area projection of the ellipsoid
    (``+proj=cea +ellps=WGS84``, x = a·λ, y = a·q(φ)/2 with q the authalic function), where
    plane area is ellipsoidal area everywhere, and the rings' shoelace areas are summed
    (shells minus holes) — all in numpy over every vertex at once. Meridians and parallels
    stay straight lines, so outlines drawn along them are measured as drawn. The results
    agree with ``pyproj.Geod`` geodesic areas to ~1e-11 for detailed township outlines,
    anywhere in China; the UTM zone of a national dataset's centre (zone 48), used before,
    overstated them by 7 % in Harbin and 16 % in Kashgar. Non-polygonal parts count zero.
    """
    return _measure(geoms, perimeter=False)[0]


def _measure(geoms: np.ndarray, *, perimeter: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Area (m², :func:`_equal_area_m2`) and perimeter (m) of lon/lat (multi)polygons.

    The perimeter sums each edge's length in the local metric at its middle latitude
    (``hypot(Δλ · N cos φ, Δφ · M)``, N and M the ellipsoid's radii of curvature),
    holes' rings included; exact to ~1e-7 for edges of up to a few kilometres.
    """
    area, length = np.zeros(len(geoms)), np.zeros(len(geoms))
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    polygon = shapely.get_type_id(parts) == 3
    parts, part_of = parts[polygon], part_of[polygon]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    if not len(xy):
        return area, length
    lam, phi = np.radians(xy[:, 0]), np.radians(xy[:, 1])
    e = np.sqrt(_WGS84_E2)
    s = np.sin(phi)
    q = (1.0 - _WGS84_E2) * (s / (1.0 - _WGS84_E2 * s * s) + np.arctanh(e * s) / e)
    x, y = _WGS84_A * lam, _WGS84_A * q / 2.0
    first = np.r_[0, np.flatnonzero(np.diff(vertex_ring)) + 1]
    counts = np.diff(np.r_[first, len(xy)])
    x -= np.repeat(x[first], counts)  # relative to each ring's first vertex: no cancellation
    y -= np.repeat(y[first], counts)
    same = vertex_ring[1:] == vertex_ring[:-1]
    ends = vertex_ring[1:][same]
    cross = (x[:-1] * y[1:] - x[1:] * y[:-1])[same]
    ring_area = np.abs(np.bincount(ends, cross, minlength=len(rings))) / 2.0
    shell = np.r_[True, ring_part[1:] != ring_part[:-1]]
    part_area = np.bincount(ring_part, np.where(shell, ring_area, -ring_area), len(parts))
    area += np.bincount(part_of, part_area, minlength=len(geoms))
    if perimeter:
        mid = (phi[1:] + phi[:-1]) / 2.0
        w = np.sqrt(1.0 - _WGS84_E2 * np.sin(mid) ** 2)
        east = np.diff(lam) * _WGS84_A / w * np.cos(mid)
        north = np.diff(phi) * _WGS84_A * (1.0 - _WGS84_E2) / w**3
        edge = np.hypot(east, north)[same]
        ring_length = np.bincount(ends, edge, minlength=len(rings))
        part_length = np.bincount(ring_part, ring_length, minlength=len(parts))
        length += np.bincount(part_of, part_length, minlength=len(geoms))
    return area, length
