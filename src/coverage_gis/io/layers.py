"""Read the context layers of accessibility audits: water (barriers) and roads.

Both are ordinary vector files a planner has (Shapefile, zipped Shapefile, GeoPackage,
GeoJSON, GeoParquet), in any CRS that the file declares (or ``crs=`` declares for it).
Geometries come back in WGS84 as shapely arrays. Every feature is accounted for: a feature
of the wrong kind (a point in a road file), with no geometry or an invalid one that cannot
be repaired is excluded with a finding that names the file, the feature number and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding, Findings

__all__ = ["ContextLayer", "read_roads", "read_water", "water_gaps"]

_POLYGONAL = ("Polygon", "MultiPolygon")
_LINEAR = ("LineString", "MultiLineString", "LinearRing")


@dataclass(frozen=True)
class ContextLayer:
    """A water or road layer read from a file.

    Attributes
    ----------
    geometry
        Shapely geometries in WGS84 (lon/lat), one per kept feature.
    feature
        The feature number (1-based, as GIS software shows it) of each kept geometry.
    attributes
        Per kept feature: ``name`` when the file has a name column.
    source
        The file path.
    findings
        Problems met (excluded features).
    n_read
        Features read (kept + excluded).
    """

    geometry: np.ndarray
    feature: np.ndarray
    attributes: dict[str, np.ndarray]
    source: str
    findings: Findings
    n_read: int

    @property
    def n_kept(self) -> int:
        """Features kept."""
        return len(self.geometry)


def _read(path: str | Path, layer: str | None, crs: str | None, what: tuple[str, str]):
    from coverage_gis.io.boundaries import read_vector

    gdf = read_vector(path, layer=layer, crs=crs)
    if gdf.crs is None:
        raise InputError(
            f"{what[0]}文件没有坐标系，请用 --{what[1]}-crs 指定",
            f"The {what[1]} file has no CRS; declare it with --{what[1]}-crs",
            file=str(path),
        )
    return gdf.to_crs(4326)


def _exclude(
    findings: Findings,
    mask: np.ndarray,
    feature: np.ndarray,
    code: str,
    zh: str,
    en: str,
    file: str,
    types: np.ndarray,
) -> None:
    if not mask.any():
        return
    first = int(feature[np.flatnonzero(mask)[0]])
    findings.add(
        Finding(
            "warning",
            code,
            f"{int(mask.sum())} 个要素{zh}，已排除（首个为第 {first} 个要素）",
            f"{int(mask.sum())} features {en} and were excluded (first: feature {first})",
            file=file,
            row=first,
            column="geometry",
            value=str(types[np.flatnonzero(mask)[0]]),
            count=int(mask.sum()),
        )
    )


def _context_layer(
    path: str | Path,
    *,
    layer: str | None,
    crs: str | None,
    allowed: tuple[str, ...],
    what: tuple[str, str],
    kind_zh: str,
) -> ContextLayer:
    gdf = _read(path, layer, crs, what)
    file = str(path)
    geoms = gdf.geometry.to_numpy()
    n = len(geoms)
    feature = np.arange(1, n + 1, dtype=np.int64)
    findings = Findings()
    names = np.array(
        [str(t) if t is not None else "" for t in gdf.geometry.geom_type.to_numpy()], dtype=object
    )
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    _exclude(
        findings,
        missing,
        feature,
        f"{what[1]}_no_geometry",
        "没有几何",
        "have no geometry",
        file,
        names,
    )
    wrong = ~missing & ~np.isin(names, allowed)
    _exclude(
        findings,
        wrong,
        feature,
        f"{what[1]}_wrong_geometry",
        f"不是{kind_zh}",
        f"are not {'/'.join(allowed)}",
        file,
        names,
    )
    keep = ~missing & ~wrong
    geoms = geoms[keep]
    if len(geoms) and set(_POLYGONAL) <= set(allowed):
        bad = np.isin(names[keep], _POLYGONAL) & ~shapely.is_valid(geoms)
        if bad.any():  # repaired, reported: water polygons from drawing tools often self-touch
            geoms = geoms.copy()
            geoms[bad] = shapely.make_valid(geoms[bad])
            findings.add(
                Finding(
                    "info",
                    "water_repaired",
                    f"{int(bad.sum())} 个水域多边形无效，已自动修复",
                    f"{int(bad.sum())} water polygons were invalid and have been repaired",
                    file=file,
                    count=int(bad.sum()),
                )
            )
    attrs: dict[str, np.ndarray] = {}
    cols = {str(c).lower(): c for c in gdf.columns if c != gdf.geometry.name}
    for key in ("name", "名称"):
        if key in cols:
            attrs["name"] = gdf[cols[key]].to_numpy(dtype=object)[keep]
            break
    return ContextLayer(geoms, feature[keep], attrs, file, findings, n)


def read_water(
    path: str | Path, *, layer: str | None = None, crs: str | None = None
) -> ContextLayer:
    """Read a water layer (lakes, rivers: polygons; rivers drawn as lines are kept too).

    Parameters
    ----------
    path
        Vector file.
    layer
        Layer of a GeoPackage or archive with several.
    crs
        The CRS when the file declares none.
    """
    return _context_layer(
        path,
        layer=layer,
        crs=crs,
        allowed=_POLYGONAL + _LINEAR,
        what=("水域", "water"),
        kind_zh="面或线",
    )


def read_roads(
    path: str | Path, *, layer: str | None = None, crs: str | None = None
) -> ContextLayer:
    """Read a road layer (lines). Points or polygons are excluded with a finding.

    One-way restrictions are not read: reach is measured on foot, where they do not apply.
    """
    return _context_layer(
        path, layer=layer, crs=crs, allowed=_LINEAR, what=("道路", "roads"), kind_zh="线"
    )


def water_gaps(
    findings: list[Finding], water: np.ndarray, names: np.ndarray | None = None
) -> list[Finding]:
    """Boundary-check gaps that are lakes: ``units_gap`` warnings whose centre lies in water
    become ``units_gap_water`` notes naming the water body.

    Township layers often leave a lake out (阳澄湖 between its townships); the gap is then
    expected, and facilities cannot stand in it. The check runs without the water layer, so
    the gap is re-read once the water is known. Other findings pass through unchanged.

    Parameters
    ----------
    findings
        The boundary check's findings.
    water
        Water geometries (WGS84), e.g. :attr:`ContextLayer.geometry`.
    names
        The water bodies' names, parallel to ``water`` (optional).
    """
    gaps = [
        k
        for k, f in enumerate(findings)
        if f.code == "units_gap" and isinstance(f.value, str) and "," in f.value
    ]
    if not gaps or water is None or len(water) == 0:
        return findings
    xy = np.array([[float(v) for v in findings[k].value.split(",")[:2]] for k in gaps])
    tree = shapely.STRtree(np.asarray(water, dtype=object))
    pt, wi = tree.query(shapely.points(xy), predicate="intersects")
    if not len(pt):
        return findings
    first = np.unique(pt, return_index=True)[1]
    out = list(findings)
    for p, w in zip(pt[first].tolist(), wi[first].tolist(), strict=True):
        f = findings[gaps[p]]
        name = str(names[w]) if names is not None and names[w] not in (None, "") else ""
        label_zh = f"水域「{name}」" if name else "水域"
        label_en = f"water ({name})" if name else "water"
        area = f.message_zh.split("有 ", 1)[-1].split(" m²", 1)[0]
        out[gaps[p]] = Finding(
            "info",
            "units_gap_water",
            f"镇(街道)之间 {area} m² 的空隙位于{label_zh}中（约 {f.value}），属未划入镇(街道)的水面",
            f"The {area} m² gap between units (near {f.value}) lies in {label_en}: open water "
            "not assigned to any unit",
            file=f.file,
            column=f.column,
            value=f.value,
        )
    return out
