"""Static charts for reports: an indicator's value by county against its target (PNG).

Charts are drawn with matplotlib's Agg canvas on a private :class:`~matplotlib.figure.Figure`
(never ``pyplot``), so drawing works headless, from worker threads and next to a running
Qt GUI without switching the process-wide backend. Chinese text uses an installed
Chinese-capable font (:func:`coverage_gis.fonts.use_cjk_font`); when none is installed a
:class:`~coverage_gis.fonts.CJKFontWarning` is emitted once per chart and the chart is still
written (Chinese shows as boxes).

Chart files are named after the indicator id (:func:`chart_file_name`): ``T2-4.png``. The
id comes from the catalogue, so anything in it but letters, digits, ``_``, ``-`` and ``.``
becomes ``_`` and leading dots are dropped: an id such as ``../../x`` cannot place a file
outside the chart folder. Names are drawn as plain text (no mathtext: a ``$`` in a county
name neither breaks the chart nor renders as a formula).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from coverage_gis.core.results import AuditResult
from coverage_gis.text import format_value

__all__ = [
    "CHART_COLORS",
    "chart_file_name",
    "default_chart_indicators",
    "indicator_county_chart",
    "write_charts",
]

#: Bar colours: met, not met, no data; and the target line.
CHART_COLORS = {"met": "#2e7d32", "not_met": "#c62828", "none": "#9e9e9e", "target": "#1f3b73"}
_OPS = {">=": "≥", "<=": "≤", "=": "="}
_FILE_UNSAFE = re.compile(r"[^\w\-.]+")


def chart_file_name(indicator_id: str) -> str:
    """The PNG file name of an indicator's chart: ``<id>.png``, made safe as a file name.

    Parameters
    ----------
    indicator_id
        The catalogue's indicator id.

    Returns
    -------
    str
        A single path component (no separators, no leading dot), e.g. ``T2-4.png``.
    """
    stem = _FILE_UNSAFE.sub("_", str(indicator_id)).lstrip(".")
    return f"{stem or '_'}.png"


def default_chart_indicators(result: AuditResult) -> list[str]:
    """Ids of the binding (约束性) township and county presence indicators, catalogue order."""
    return [
        r.indicator.id
        for r in result.indicators
        if r.indicator.binding
        and r.indicator.kind == "presence"
        and r.indicator.level in ("township", "county")
        and r.by_county is not None
    ]


def indicator_county_chart(
    result: AuditResult, indicator_id: str, path: str | Path, *, dpi: int = 110
) -> Path:
    """Draw one indicator's value per county as bars, with the target as a line.

    Bars are green where the county meets the target, red where it does not and grey
    where it has no value; each bar is labelled with its value (and numerator/denominator
    for township presence indicators), so the chart also reads in black and white.

    Parameters
    ----------
    result
        The audit result.
    indicator_id
        Id of an indicator with a county roll-up (presence or ratio).
    path
        PNG file to write (parent folders are created).
    dpi
        Resolution.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    KeyError
        When the indicator is unknown.
    ValueError
        When the indicator has no county roll-up (manual indicators).
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from coverage_gis.fonts import use_cjk_font

    r = result.indicator(indicator_id)
    ind = r.indicator
    if r.by_county is None:
        raise ValueError(
            f"指标 {indicator_id} 没有按区县汇总的数值（人工填报指标）/ "
            f"indicator {indicator_id} has no county roll-up (manual indicator)"
        )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    by = r.by_county
    names = [str(n) for n in by["county"]]
    values = by["value"].to_numpy(dtype=float)
    met = [None if pd.isna(m) else bool(m) for m in by["met"]]
    colors = [
        CHART_COLORS["none"] if m is None else CHART_COLORS["met" if m else "not_met"] for m in met
    ]
    township = ind.kind == "presence" and ind.level == "township"

    # names from the data are text: "$…$" in a county name is not matplotlib mathtext
    with matplotlib.rc_context({"text.parse_math": False}), warnings.catch_warnings():
        font = use_cjk_font()
        if font is None:
            # already warned once (CJKFontWarning); do not repeat it for every glyph
            warnings.filterwarnings(
                "ignore", message=r"Glyph .* missing from", category=UserWarning
            )
        fig = Figure(figsize=(8.0, 4.5), dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        x = np.arange(len(names))
        heights = np.where(np.isfinite(values), values, 0.0)
        not_met = np.array([m is False for m in met])
        ax.bar(x, heights, color=colors, width=0.65, edgecolor="#333333", linewidth=0.4)
        if not_met.any():  # hatched as well as red: readable when printed in black and white
            ax.bar(
                x[not_met],
                heights[not_met],
                width=0.65,
                color="none",
                edgecolor="#ffffff",
                hatch="///",
                linewidth=0.0,
            )
        op = _OPS[ind.operator]
        ax.axhline(ind.target, color=CHART_COLORS["target"], linestyle="--", linewidth=1.4)
        top = max([ind.target, *heights.tolist()]) if len(heights) else ind.target
        ax.set_ylim(0, top * 1.3 if top > 0 else 1.0)
        handles = [
            Patch(facecolor=CHART_COLORS["met"], label="达标 met"),
            Patch(
                facecolor=CHART_COLORS["not_met"],
                hatch="///",
                edgecolor="#ffffff",
                label="未达标 not met",
            ),
            Line2D(
                [],
                [],
                color=CHART_COLORS["target"],
                linestyle="--",
                label=f"目标 target {op}{format_value(ind.target, ind.unit, grouping=False)}",
            ),
        ]
        ax.legend(handles=handles, loc="upper center", ncol=3, fontsize=8, frameon=False)
        for xi, v, rec in zip(x, values, by.to_dict(orient="records"), strict=True):
            if not np.isfinite(v):
                label = "—"
            elif township:
                label = f"{format_value(v, ind.unit, grouping=False)}\n{int(rec['numerator'])}/{int(rec['denominator'])}"
            else:
                label = format_value(v, ind.unit, grouping=False)
            ax.annotate(
                label,
                xy=(xi, v if np.isfinite(v) else 0.0),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8},
            )
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(f"{ind.unit}")
        ax.set_title(f"{ind.id} {ind.name_zh}（{ind.attribute_zh}）", fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        note = f"评估日期 {result.as_of.isoformat()} · {result.catalog.name_zh}"
        if result.schematic_boundaries:
            note += " · 示意边界，非法定界线"
        fig.text(0.01, 0.005, note, fontsize=6.5, color="#555555", ha="left", va="bottom")
        fig.savefig(out, format="png")
    return out


def write_charts(
    result: AuditResult, out_dir: str | Path, indicator_ids: Sequence[str] | None = None
) -> list[Path]:
    """Write ``<out_dir>/<id>.png`` for each indicator (default: :func:`default_chart_indicators`)."""
    ids = default_chart_indicators(result) if indicator_ids is None else list(indicator_ids)
    return [indicator_county_chart(result, i, Path(out_dir) / chart_file_name(i)) for i in ids]
