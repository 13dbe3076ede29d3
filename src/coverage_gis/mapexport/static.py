"""The static gap map (PNG or PDF) for reports, drawn with matplotlib.

Chinese text needs a CJK font: :func:`coverage_gis.fonts.use_cjk_font` picks an installed
one and warns (``CJKFontWarning``) when there is none.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from coverage_gis.core.errors import InputError
from coverage_gis.core.results import AuditResult
from coverage_gis.mapexport._data import (
    _indicator_results,
    _label_point,
    _source_line,
    format_indicator_line,
    map_facilities,
    simplify_units,
    unit_statuses,
)
from coverage_gis.mapexport._style import (
    SCHEMATIC_NOTE,
    STATUS_STYLE,
    STATUSES,
    Lang,
    status_label,
    text,
)
from coverage_gis.text import named, pick

__all__ = ["export_static_map"]

_FORMATS = {".png": "png", ".pdf": "pdf"}


def _path_of(geom: Any) -> Any:
    """A matplotlib Path for a (multi)polygon, holes included."""
    from matplotlib.path import Path as MplPath

    parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    paths = []
    for poly in parts:
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            codes[0] = MplPath.MOVETO
            codes[-1] = MplPath.CLOSEPOLY
            paths.append(MplPath(xy, codes))
    return MplPath.make_compound_path(*paths)


def export_static_map(
    result: AuditResult,
    path: str | Path,
    *,
    indicator: str,
    lang: Lang = "zh",
    title: str | None = None,
    dpi: int = 200,
) -> Path:
    """Draw the gap map of one indicator to a PNG or PDF file.

    Townships are coloured by status (met / not met / not counted / no data), county
    outlines drawn heavier, the indicator's facility types drawn as points; the figure has a
    legend, a title with the value against the target, a scale bar and a note with the
    evaluation date, the data source and, for the demo boundaries, 示意边界，非法定界线.

    Parameters
    ----------
    result
        An audit result.
    path
        Output file; the suffix (``.png`` or ``.pdf``) picks the format.
    indicator
        A presence or ratio indicator id.
    lang
        ``zh`` (default) or ``en``.
    title
        Map title (default: 镇(街道)民政设施覆盖缺口图).
    dpi
        Resolution of a PNG.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    out = Path(path)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InputError(
            f"静态地图只支持 .png 或 .pdf：{out.name}",
            f"The static map must be .png or .pdf: {out.name}",
            file=str(out),
        )
    ir = _indicator_results(result, [indicator])[0]
    ind = ir.indicator

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, PathPatch

    from coverage_gis.fonts import use_cjk_font

    use_cjk_font()
    units = result.units.reset_index(drop=True)
    geoms = simplify_units(units, 10.0)
    status = unit_statuses(result, ind.id).reindex(units["code"].astype(str)).fillna("no_data")

    fig = Figure(figsize=(10, 11), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for geom, st in zip(geoms, status.to_numpy(), strict=True):
        if geom is None or geom.is_empty:
            continue
        style = STATUS_STYLE[str(st)]
        ax.add_patch(
            PathPatch(
                _path_of(geom),
                facecolor=style["fill"],
                alpha=None,
                edgecolor="#6f6f6f",
                linewidth=0.4,
                linestyle="--" if st == "no_data" else "-",
            )
        )
    county_codes = units["county_code"].astype(str).to_numpy()
    for cc in dict.fromkeys(county_codes):
        union = shapely.union_all(geoms[county_codes == cc])
        for line in getattr(union.boundary, "geoms", [union.boundary]):
            xy = np.asarray(line.coords)
            ax.plot(xy[:, 0], xy[:, 1], color="#262626", linewidth=1.3, zorder=3)

    if len(units) <= 250:
        fs = 6 if len(units) > 40 else 8
        min_w = 0.035 * (shapely.total_bounds(geoms)[2] - shapely.total_bounds(geoms)[0])
        for geom, name in zip(geoms, units["name"].astype(str), strict=True):
            if geom is None or geom.is_empty:
                continue
            b = geom.bounds
            if len(units) > 40 and (b[2] - b[0]) < min_w:
                continue  # too small to label legibly at report scale
            p = _label_point(geom)
            ax.text(
                p.x, p.y, name, fontsize=fs, ha="center", va="center", color="#1a1a1a", zorder=3.5
            )

    fac = map_facilities(result)
    handles: list[Any] = []
    for code in ind.facility_types:
        ft = result.catalog.facility_type(code)
        sub = fac.loc[fac["type_code"] == code]
        if len(sub):
            ax.scatter(
                sub["lon"],
                sub["lat"],
                s=14,
                c=ft.color,
                edgecolors="#1f1f1f",
                linewidths=0.5,
                zorder=4,
            )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor=ft.color,
                markeredgecolor="#1f1f1f",
                label=f"{named(ft, lang)} ({len(sub)})",
            )
        )

    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    padx, pady = (maxx - minx) * 0.03 or 0.01, (maxy - miny) * 0.03 or 0.01
    ax.set_xlim(minx - padx, maxx + padx)
    ax.set_ylim(miny - pady, maxy + pady)
    mid_lat = (miny + maxy) / 2
    ax.set_aspect(1.0 / math.cos(math.radians(mid_lat)))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_color("#999999")

    # scale bar (a round number of km, about a fifth of the width)
    km_per_deg = 111.32 * math.cos(math.radians(mid_lat))
    width_km = (maxx - minx) * km_per_deg
    nice = [1, 2, 5, 10, 20, 50, 100, 200]
    bar_km = max([k for k in nice if k <= width_km / 4] or [nice[0]])
    x0, y0 = minx, miny - pady * 0.4
    ax.plot([x0, x0 + bar_km / km_per_deg], [y0, y0], color="#222", linewidth=3, zorder=6)
    ax.text(x0, y0 + pady * 0.35, f"{bar_km} km", fontsize=8, zorder=6)
    ax.annotate(
        "N",
        xy=(0.97, 0.97),
        xytext=(0.97, 0.90),
        xycoords="axes fraction",
        ha="center",
        fontsize=11,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "#222"},
    )

    tally = status.value_counts()
    status_handles = [
        Patch(
            facecolor=STATUS_STYLE[s]["fill"],
            edgecolor="#6f6f6f",
            linestyle="--" if s == "no_data" else "-",
            label=f"{status_label(s, lang)} ({int(tally.get(s, 0))})",
        )
        for s in STATUSES
    ]
    status_handles.append(
        Line2D([], [], color="#262626", linewidth=1.5, label=text("counties", lang))
    )
    ax.legend(
        handles=status_handles + handles,
        loc="lower right",
        fontsize=8,
        framealpha=0.92,
        title=text("legend", lang),
        title_fontsize=9,
    )

    name = named(ind, lang)
    fig.suptitle(title or text("default_title", lang), fontsize=15, fontweight="bold")
    ax.set_title(f"{name}\n{format_indicator_line(ir, lang)}", fontsize=11)
    sep = pick(("：", ": "), lang)
    notes = [
        f"{text('as_of', lang)}{sep}{result.as_of.isoformat()}",
        f"{text('source', lang)}{sep}{_source_line(result, lang)}",
    ]
    if ind.level != "township" or ind.kind != "presence":
        notes.append(text("county_level", lang).strip("（）()"))
    if result.schematic_boundaries:
        notes.append(pick(SCHEMATIC_NOTE, lang))
    fig.text(0.01, 0.005, "    ".join(notes), fontsize=8, color="#333333", ha="left", va="bottom")

    from matplotlib.text import Text

    for label in fig.findobj(Text):  # names from the data: "$…$" is not mathtext
        label.set_parse_math(False)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format=fmt, dpi=dpi)
    return out
