"""Machine-readable audit outputs: indicators.csv, units.csv, audit.json, and the text table.

File names and columns are stable so that scripts can rely on them:

``indicators.csv``
    id, name, unit, value, target, operator, gap, met, numerator, denominator, binding
    (then baseline, attribute, kind, level, status, n_failing, name_en, source_ref).
``units.csv``
    code, name, county_code, county, kind, counted, then one column per facility-type
    code holding the count of facilities in service on the evaluation date.
``access.csv`` (when the catalogue has ``access`` indicators)
    indicator, code, name, county_code, county, counted, demand, served, unserved, share,
    accessibility, nearest_facility, median_distance_m; units.csv also gains
    ``<id>_demand``, ``<id>_served``, ``<id>_share`` per access indicator.
``audit.json``
    The same, plus the county roll-ups, failing units, data issues and row accounting
    (indented for reading; written compact above :data:`JSON_INDENT_MAX_UNITS` units, where
    the file runs to tens of megabytes and indentation would triple the time to write it).
``units.parquet``, ``facilities.parquet`` (format ``parquet``)
    GeoParquet: the units table with polygons; every facility row with its assignment.

Percent values are 0–100. CSV files are UTF-8 with BOM so that Excel on Chinese Windows
opens them correctly. A text cell that Excel would run as a formula (it starts with ``=``,
``+``, ``-``, ``@``, tab or CR) is written with a leading ``'``; numeric columns are never
changed (:mod:`coverage_gis.export.safety`). ``audit.json`` holds the values unchanged.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage_gis import __version__
from coverage_gis.core.results import MANUAL_PENDING_EN, MANUAL_PENDING_ZH, AuditResult
from coverage_gis.export.safety import safe_frame, terminal_safe
from coverage_gis.text import display_width, format_value, named, pad, pick

__all__ = [
    "INDICATOR_CSV_COLUMNS",
    "audit_json",
    "audit_to_dict",
    "format_indicator_table",
    "scenario_table",
    "write_outputs",
]

INDICATOR_CSV_COLUMNS = [
    "id",
    "name",
    "unit",
    "value",
    "target",
    "operator",
    "gap",
    "met",
    "numerator",
    "denominator",
    "binding",
    "baseline",
    "attribute",
    "kind",
    "level",
    "status",
    "n_failing",
    "name_en",
    "source_ref",
]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def _column_values(s: pd.Series) -> list[Any]:
    """A column as JSON-ready Python values (None for missing), converted column-wise."""
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iub":
        return s.tolist()  # Python ints/bools already
    if isinstance(s.dtype, np.dtype) and s.dtype.kind == "f":
        v = s.to_numpy()
        return np.where(np.isfinite(v), v, None).tolist()
    return [_clean(v) for v in s.tolist()]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    keys = [str(k) for k in frame.columns]
    columns = [_column_values(frame.iloc[:, j]) for j in range(frame.shape[1])]
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


#: Above this many units ``audit.json`` is written without indentation (see the module doc).
JSON_INDENT_MAX_UNITS = 5_000


def audit_json(result: AuditResult) -> str:
    """``audit.json`` as text (:func:`audit_to_dict`, indented unless the result is national-size)."""
    indent = 1 if len(result.units) <= JSON_INDENT_MAX_UNITS else None
    return json.dumps(audit_to_dict(result), ensure_ascii=False, indent=indent)


def audit_to_dict(result: AuditResult) -> dict[str, Any]:
    """The whole result as JSON-ready data."""
    indicators = []
    for r in result.indicators:
        d = r.to_dict()
        d["failing_units"] = list(r.failing)
        d["by_county"] = _records(r.by_county) if r.by_county is not None else []
        rule = r.indicator.access
        if rule is not None:
            d["access"] = {
                "mode": rule.mode,
                "threshold_m": rule.threshold_m,
                "threshold_min": rule.threshold_min,
                "speed_kmh": rule.speed_kmh,
                "population_field": rule.population_field,
                "measure": rule.measure,
                "capacity_field": rule.capacity_field,
                "reach": rule.reach_label[0],
                "demand_source": r.access.demand_source if r.access is not None else None,
                "unserved": _clean(r.denominator - r.numerator)
                if r.numerator is not None and r.denominator is not None and rule.measure == "share"
                else None,
            }
        indicators.append(d)
    return {
        "software": {"name": "coverage-gis", "version": __version__},
        "as_of": result.as_of.isoformat(),
        "catalog": {
            "id": result.catalog.id,
            "name": result.catalog.name_zh,
            "version": result.catalog.version,
        },
        "options": {"include_functional_zones": result.options.include_functional_zones},
        "schematic_boundaries": result.schematic_boundaries,
        "boundary_note": "示意边界，非法定界线 / schematic boundaries, not legal boundaries"
        if result.schematic_boundaries
        else None,
        "inputs": result.inputs,
        "indicators": indicators,
        "units": _records(result.units_table()),
        "accounting": _records(result.accounting),
        "findings": _records(result.findings.to_frame()),
    }


def write_outputs(result: AuditResult, out_dir: str | Path, formats: set[str]) -> list[Path]:
    """Write the chosen formats (csv, json, parquet) into ``out_dir``; return the written paths.

    ``parquet`` writes GeoParquet: ``units.parquet`` (units with counts per type and their
    polygons) and ``facilities.parquet`` (facility rows with their assignment, as points).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "csv" in formats:
        table = result.indicator_table()[INDICATOR_CSV_COLUMNS]
        p = out / "indicators.csv"
        safe_frame(table).to_csv(p, index=False, encoding="utf-8-sig")
        written.append(p)
        p = out / "units.csv"
        safe_frame(result.units_table()).to_csv(p, index=False, encoding="utf-8-sig")
        written.append(p)
        p = out / "findings.csv"
        safe_frame(result.findings.to_frame()).to_csv(p, index=False, encoding="utf-8-sig")
        written.append(p)
        access = result.access_table()
        if len(access):
            p = out / "access.csv"
            safe_frame(access).to_csv(p, index=False, encoding="utf-8-sig")
            written.append(p)
    if "json" in formats:
        p = out / "audit.json"
        p.write_text(audit_json(result), encoding="utf-8")
        written.append(p)
    if "parquet" in formats:
        from coverage_gis.io.geoparquet import write_results_parquet

        written.extend(write_results_parquet(result, out))
    return written


def format_indicator_table(result: AuditResult, *, lang: str = "zh") -> str:
    """The indicator table in the plan's format, aligned for a terminal (CJK-aware).

    Control characters in names are shown as escapes (:func:`terminal_safe`).
    """
    head = pick(
        (
            [
                "编号",
                "指标名称",
                "单位",
                "2020基准",
                "2025目标",
                "当前值",
                "差距",
                "属性",
                "是否达标",
            ],
            ["id", "indicator", "unit", "2020", "target", "value", "gap", "type", "met"],
        ),
        lang,
    )
    rows = [head]
    for r in result.indicators:
        ind = r.indicator
        op = {">=": "≥", "=": "=", "<=": "≤"}[ind.operator]
        if r.status == "manual_missing":
            value, met = pick((MANUAL_PENDING_ZH, MANUAL_PENDING_EN), lang), "—"
        else:
            value = format_value(r.value, ind.unit)
            met = (
                "—"
                if r.met is None
                else pick(("✓ 达标", "✓ met") if r.met else ("✗ 未达标", "✗ not met"), lang)
            )
        rows.append(
            [
                ind.id,
                named(ind, lang),
                ind.unit,
                format_value(ind.baseline, ind.unit),
                f"{op}{format_value(ind.target, ind.unit)}",
                value,
                format_value(r.gap, ind.unit) if r.gap else ("0" if r.gap == 0 else "—"),
                pick((ind.attribute_zh, ind.attribute), lang),
                met,
            ]
        )
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    title = pick(
        (
            f"{result.catalog.name_zh} — 评估日期 {result.as_of.isoformat()}",
            f"{result.catalog.name_en} — as of {result.as_of.isoformat()}",
        ),
        lang,
    )
    acc = result.accounting
    used, read = int(acc["rows_used"].sum()), int(acc["rows_read"].sum())
    errors, warnings = result.findings.count("error"), result.findings.count("warning")
    foot = pick(
        (
            f"设施行：读取 {read}，计入 {used}，排除 {read - used}；数据问题 {len(result.findings)} 条"
            f"（错误 {errors}，警告 {warnings}）",
            f"facility rows: read {read}, used {used}, excluded {read - used}; "
            f"{len(result.findings)} data issues ({errors} errors, {warnings} warnings)",
        ),
        lang,
    )
    note = (
        ["示意边界，非法定界线 / schematic boundaries, not legal boundaries"]
        if result.schematic_boundaries
        else []
    )
    return terminal_safe("\n".join([title, *lines, foot, *note]))


def scenario_table(now: AuditResult, plan: AuditResult) -> pd.DataFrame:
    """Each indicator now and with a scenario's planned sites, side by side.

    Columns: ``id``, ``name``, ``unit``, ``target``, ``now``, ``with_plan``, ``change``,
    ``met_now``, ``met_with_plan``, ``failing_now``, ``failing_with_plan``, and
    ``closed`` (units or counties whose gap the plan closes, ``;``-separated).
    """
    rows = []
    for r in now.indicators:
        p = plan.indicator(r.indicator.id)
        a = None if r.value is None else round(float(r.value), 6)
        b = None if p.value is None else round(float(p.value), 6)
        closed = sorted(set(map(str, r.failing)) - set(map(str, p.failing)))
        rows.append(
            {
                "id": r.indicator.id,
                "name": r.indicator.name_zh,
                "unit": r.indicator.unit,
                "target": r.indicator.target,
                "now": a,
                "with_plan": b,
                "change": None if a is None or b is None else round(b - a, 6),
                "met_now": r.met,
                "met_with_plan": p.met,
                "failing_now": len(r.failing),
                "failing_with_plan": len(p.failing),
                "closed": ";".join(closed),
            }
        )
    return pd.DataFrame(rows)
