"""Report tables derived from an :class:`~coverage_gis.core.results.AuditResult` (no I/O).

The workbook (:mod:`coverage_gis.export.workbook`), the charts and the e-mail summary
(:mod:`coverage_gis.export.summary`) all present the same few tables. They are built here,
as plain :class:`pandas.DataFrame` objects, only from what the engine put in the result, so
that every exporter shows exactly the engine's numbers:

* :func:`ordered_indicators` — indicators with the binding (约束性) ones first;
* :func:`unit_order` — units grouped by county, 功能区 last within each county;
* :func:`unit_presence` — per unit, the qualifying count and ✓/✗ of each township presence
  indicator (the same rule as the engine, applied to every unit including 功能区);
* :func:`gap_list` — per county, the units (and counties) that miss each target;
* :func:`county_rollup` — each indicator's per-county roll-up with a 全市 row;
* :func:`facility_detail` — one row per facility row read, with its assignment and why it
  is excluded or not in service;
* :func:`county_ranking` — counties ordered by how far they are behind on binding targets.

Percent values stay 0–100 as in the result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coverage_gis.core.catalog import Condition, Indicator
from coverage_gis.core.results import AuditResult, IndicatorResult
from coverage_gis.core.rules import (
    EXCLUSION_REASONS,
    QUALIFICATION_REASONS,
    qualification,
    service_reasons,
)
from coverage_gis.core.schema import FUNCTIONAL_ZONE_KINDS
from coverage_gis.export.safety import bidi_isolate

__all__ = [
    "ASSIGN_METHOD_LABELS",
    "CITY_TOTAL_ZH",
    "FACILITY_DETAIL_COLUMNS",
    "GAP_COLUMNS",
    "LEVEL_LABELS",
    "ROLLUP_COLUMNS",
    "county_ranking",
    "county_rollup",
    "facility_detail",
    "gap_list",
    "is_functional_zone",
    "ordered_indicators",
    "requirement_text",
    "township_presence_indicators",
    "unit_order",
    "unit_presence",
]

#: How a facility row was placed in a unit (``assign_method`` in the result).
ASSIGN_METHOD_LABELS: dict[str, str] = {
    "point": "按坐标",
    "name": "按所属镇(街道)名称",
    "county_name": "仅按所属区县名称",
    "none": "未归属",
}
#: Level labels of indicators and gap rows.
LEVEL_LABELS: dict[str, str] = {"township": "镇(街道)", "county": "区县", "city": "全市"}
#: Label of the city-wide row of the county roll-up.
CITY_TOTAL_ZH = "全市合计"


def ordered_indicators(result: AuditResult) -> list[IndicatorResult]:
    """Indicator results with binding (约束性) indicators first, catalogue order within."""
    return sorted(result.indicators, key=lambda r: not r.indicator.binding)


def township_presence_indicators(result: AuditResult) -> list[IndicatorResult]:
    """Township-level presence indicators, in catalogue order."""
    return [
        r
        for r in result.indicators
        if r.indicator.kind == "presence" and r.indicator.level == "township"
    ]


def is_functional_zone(kind: object) -> bool:
    """True for a unit kind that is a functional zone (开发区, 管委会 …)."""
    return str(kind).strip() in FUNCTIONAL_ZONE_KINDS


def unit_order(result: AuditResult) -> pd.DataFrame:
    """Units grouped by county (county order of the result), 功能区 last in each county.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``county_code``, ``county``, ``kind``, ``counted``,
        ``functional_zone``, sorted for display (fresh index).
    """
    u = result.units
    frame = pd.DataFrame(
        {
            "code": u["code"].astype(str).to_numpy(),
            "name": u["name"].astype(str).to_numpy(),
            "county_code": u["county_code"].astype(str).to_numpy(),
            "county": u["county"].astype(str).to_numpy(),
            "kind": u["kind"].astype(str).to_numpy(),
            "counted": u["counted"].to_numpy(dtype=bool),
        }
    )
    frame["functional_zone"] = frame["kind"].map(is_functional_zone)
    county_rank = {c: i for i, c in enumerate(result.counties["county_code"].astype(str))}
    frame["_county_rank"] = frame["county_code"].map(county_rank).fillna(len(county_rank))
    frame = frame.sort_values(["_county_rank", "functional_zone", "code"], kind="stable").drop(
        columns="_county_rank"
    )
    return frame.reset_index(drop=True)


def unit_presence(result: AuditResult) -> dict[str, pd.DataFrame]:
    """Per township presence indicator: the qualifying count and whether each unit has it.

    The rule is the engine's (type, in service on the date, the indicator's conditions,
    ``min_count``), applied to every unit including the 功能区 that the engine keeps out of
    the denominator. For counted units ``has`` is exactly "not in ``failing``".

    Returns
    -------
    dict of str to pandas.DataFrame
        Indicator id → frame indexed by unit code with ``count`` (int) and ``has`` (bool).
    """
    codes = pd.Index(result.units["code"].astype(str), name="code")
    fac = result.facilities
    out: dict[str, pd.DataFrame] = {}
    for r in township_presence_indicators(result):
        ind = r.indicator
        mask = qualification(result, ind.id)["qualifies"].to_numpy()
        if "weight" in fac.columns:  # a partitioned audit: one row per group of rows
            cnt = (
                fac.loc[mask]
                .groupby(fac.loc[mask, "unit_code"].astype(str))["weight"]
                .sum()
                .reindex(codes, fill_value=0)
                .round()
            ).astype("int64")
        else:
            cnt = (
                fac.loc[mask, "unit_code"].astype(str).value_counts().reindex(codes, fill_value=0)
            ).astype("int64")
        out[ind.id] = pd.DataFrame({"count": cnt, "has": cnt >= ind.min_count}, index=codes)
    return out


def _condition_text(conditions: tuple[Condition, ...]) -> str:
    parts = []
    for c in conditions:
        if c.field == "meets_standard" and c.op == "eq" and c.value is True:
            parts.append("达标")
        else:
            ops = {"eq": "=", "ne": "≠", "ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
            val = "、".join(map(str, c.value)) if isinstance(c.value, tuple) else c.value
            if c.op == "notnull":
                parts.append(f"{c.field} 有值")
            elif c.op in ("in", "not_in"):
                parts.append(f"{c.field} {'属于' if c.op == 'in' else '不属于'} {val}")
            else:
                parts.append(f"{c.field} {ops[c.op]} {val}")
    return "，".join(parts)


def requirement_text(result: AuditResult, ind: Indicator) -> str:
    """What a unit needs for a presence indicator, e.g. ``精神障碍社区康复驿站（达标）≥1 个``."""
    names = []
    for code in ind.facility_types:
        try:
            names.append(result.catalog.facility_type(code).name_zh)
        except KeyError:
            names.append(code)
    text = "或".join(names)
    cond = _condition_text(ind.conditions)
    if cond:
        text += f"（{cond}）"
    return f"{text} ≥{ind.min_count} 个"


def _fmt_number(value: float | None, unit: str) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:,.2f}" if not float(value).is_integer() else f"{value:,.0f}"


GAP_COLUMNS = [
    "county_code",
    "county",
    "level",
    "code",
    "name",
    "indicator_id",
    "indicator",
    "attribute",
    "binding",
    "missing",
    "have_type",
    "have",
    "value",
    "target",
    "operator",
    "unit",
]


def gap_list(result: AuditResult) -> pd.DataFrame:
    """Every unit or county that misses a per-unit target, and what it misses.

    One row per (failing unit or county, indicator), from each indicator's ``failing``
    list: township presence indicators give 镇(街道) rows; county presence and ratio
    indicators give 区县 rows. Sorted by county (result order), county rows first, then
    units in :func:`unit_order`, binding indicators first.

    Returns
    -------
    pandas.DataFrame
        :data:`GAP_COLUMNS`. For presence rows ``have_type`` is the number of facilities of
        the type in service (regardless of conditions such as 达标), ``have`` the number that
        qualify and ``value`` is empty; for ratio rows ``value`` is the county's value.
    """
    units = unit_order(result)
    unit_rank = {c: i for i, c in enumerate(units["code"])}
    unit_info = units.set_index("code")
    counties = result.counties.assign(county_code=result.counties["county_code"].astype(str))
    county_rank = {c: i for i, c in enumerate(counties["county_code"])}
    county_name = dict(zip(counties["county_code"], counties["county"].astype(str), strict=True))
    presence = unit_presence(result)
    ind_rank = {r.indicator.id: i for i, r in enumerate(ordered_indicators(result))}
    rows: list[dict[str, Any]] = []
    for r in result.indicators:
        ind = r.indicator
        if not r.failing:
            continue
        base = {
            "indicator_id": ind.id,
            "indicator": ind.name_zh,
            "attribute": ind.attribute_zh,
            "binding": ind.binding,
            "target": ind.target,
            "operator": ind.operator,
            "unit": ind.unit,
        }
        if ind.kind == "presence" and ind.level == "township":
            need = requirement_text(result, ind)
            types = [t for t in ind.facility_types if t in result.counts_qualifying.columns]
            for code in r.failing:
                code = str(code)
                info = unit_info.loc[code]
                have_type = int(result.counts_qualifying.loc[code, types].sum()) if types else 0
                have = int(presence[ind.id].loc[code, "count"])
                rows.append(
                    {
                        **base,
                        "county_code": info["county_code"],
                        "county": info["county"],
                        "level": LEVEL_LABELS["township"],
                        "code": code,
                        "name": info["name"],
                        "missing": f"缺{need}"
                        + (f"（现有 {have_type} 个不符合条件）" if have_type > have else ""),
                        "have_type": have_type,
                        "have": have,
                        "value": None,
                        "_rank": (
                            county_rank.get(info["county_code"], 1 << 30),
                            1,
                            unit_rank[code],
                        ),
                    }
                )
            continue
        if ind.kind == "access" and r.access is not None:
            per_unit = r.access.by_unit.set_index(r.access.by_unit["code"].astype(str))
            op = {">=": "≥", "<=": "≤", "=": "="}[ind.operator]
            fca = ind.access is not None and ind.access.measure == "fca"
            for code in r.failing:
                code = str(code)
                if code not in per_unit.index:
                    continue
                u = per_unit.loc[code]
                value = float(u["accessibility"] if fca else u["share"])
                value_or_none = value if np.isfinite(value) else None
                rows.append(
                    {
                        **base,
                        "county_code": u["county_code"],
                        "county": u["county"],
                        "level": LEVEL_LABELS["township"],
                        "code": code,
                        "name": u["name"],
                        "missing": f"{ind.name_zh} {_fmt_number(value_or_none, ind.unit)}，"
                        f"目标 {op}{_fmt_number(ind.target, ind.unit)}",
                        "have_type": None,
                        "have": None,
                        "value": value_or_none,
                        "_rank": (
                            county_rank.get(u["county_code"], 1 << 30),
                            1,
                            unit_rank.get(code, 1 << 30),
                        ),
                    }
                )
            continue
        by = (
            r.by_county.set_index(r.by_county["county_code"].astype(str))
            if r.by_county is not None
            else None
        )
        for code in r.failing:
            code = str(code)
            row = {
                **base,
                "county_code": code,
                "county": county_name.get(code, code),
                "level": LEVEL_LABELS["county"],
                "code": code,
                "name": county_name.get(code, code),
                "have_type": None,
                "have": None,
                "value": None,
                "_rank": (county_rank.get(code, 1 << 30), 0, -1),
            }
            if ind.kind == "presence":
                need = requirement_text(result, ind)
                cnt = int(by.loc[code, "count"]) if by is not None and "count" in by else 0
                row["missing"] = f"缺{need}"
                row["have"] = cnt
                types = list(ind.facility_types)
                cq = result.county_counts_qualifying
                row["have_type"] = (
                    int(cq.loc[code, [t for t in types if t in cq.columns]].sum())
                    if code in cq.index
                    else 0
                )
                if row["have_type"] > cnt:
                    row["missing"] += f"（现有 {row['have_type']} 个不符合条件）"
            else:
                value = float(by.loc[code, "value"]) if by is not None else float("nan")
                row["value"] = value if np.isfinite(value) else None
                op = {">=": "≥", "<=": "≤", "=": "="}[ind.operator]
                row["missing"] = (
                    f"{ind.name_zh} {_fmt_number(row['value'], ind.unit)}，"
                    f"目标 {op}{_fmt_number(ind.target, ind.unit)}"
                )
            rows.append(row)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GAP_COLUMNS})
    frame = pd.DataFrame(rows)
    frame["_ind"] = frame["indicator_id"].map(ind_rank)
    frame = frame.sort_values(["_rank", "_ind"], kind="stable")
    return frame[GAP_COLUMNS].reset_index(drop=True)


ROLLUP_COLUMNS = [
    "indicator_id",
    "indicator",
    "level",
    "attribute",
    "binding",
    "unit",
    "county_code",
    "county",
    "numerator",
    "denominator",
    "count",
    "value",
    "target",
    "operator",
    "met",
]


def county_rollup(result: AuditResult) -> pd.DataFrame:
    """Each indicator with a county roll-up: one row per county, then a 全市合计 row.

    Township presence indicators are rolled up from their units (numerator: units covered,
    denominator: units counted); county presence indicators give 1/1 or 0/1 per county;
    ratio indicators give the county's sums. Manual indicators have no roll-up.

    Returns
    -------
    pandas.DataFrame
        :data:`ROLLUP_COLUMNS`; ``met`` is True/False/None; ``count`` is the number of
        qualifying facilities (presence indicators only).
    """
    rows: list[dict[str, Any]] = []
    for r in ordered_indicators(result):
        ind = r.indicator
        if r.by_county is None:
            continue
        level = ind.level or ind.per_unit_level or "city"
        base = {
            "indicator_id": ind.id,
            "indicator": ind.name_zh,
            "level": LEVEL_LABELS.get(level, level) if ind.kind == "presence" else "比例",
            "attribute": ind.attribute_zh,
            "binding": ind.binding,
            "unit": ind.unit,
            "target": ind.target,
            "operator": ind.operator,
        }
        has_count = "count" in r.by_county.columns
        for rec in r.by_county.to_dict(orient="records"):
            value = float(rec["value"])
            met = rec["met"]
            rows.append(
                {
                    **base,
                    "county_code": str(rec["county_code"]),
                    "county": str(rec["county"]),
                    "numerator": float(rec["numerator"]),
                    "denominator": float(rec["denominator"]),
                    "count": int(rec["count"]) if has_count else None,
                    "value": value if np.isfinite(value) else None,
                    "met": None if met is pd.NA or met is None else bool(met),
                }
            )
        rows.append(
            {
                **base,
                "county_code": "",
                "county": CITY_TOTAL_ZH,
                "numerator": None if r.numerator is None else float(r.numerator),
                "denominator": None if r.denominator is None else float(r.denominator),
                "count": int(r.by_county["count"].sum()) if has_count else None,
                "value": r.value,
                "met": r.met,
            }
        )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROLLUP_COLUMNS})
    return pd.DataFrame(rows, columns=ROLLUP_COLUMNS)


def _not_in_service_text(reason: str, status: object) -> str:
    """The 设施明细 wording of the engine's reason
    (:func:`coverage_gis.core.rules.qualification`)."""
    if reason == "not_open":
        return f"尚未建成（状态：{status}）"
    if reason == "closed_no_date":
        return f"状态为{status}且无停用时间"
    if reason in ("opens_later", "closed"):
        return QUALIFICATION_REASONS[reason][0]
    return "评估日期未在役"


FACILITY_DETAIL_COLUMNS = [
    "source_file",
    "source_sheet",
    "source_row",
    "name",
    "type_raw",
    "type_name",
    "county_name",
    "unit_name",
    "lon",
    "lat",
    "status",
    "opened",
    "closed",
    "meets_standard",
    "beds",
    "nursing_beds",
    "area_m2",
    "assigned_county",
    "assigned_unit_code",
    "assigned_unit",
    "assign_method",
    "conflict",
    "used",
    "outcome",
    "excluded_reason",
    "in_service",
    "not_in_service_reason",
]


def facility_detail(result: AuditResult) -> pd.DataFrame:
    """One row per facility row read, in reading order, with assignment and outcome.

    ``outcome`` is 计入 (used: typed and located) or 排除; ``excluded_reason`` the Chinese
    label of :data:`coverage_gis.core.rules.EXCLUSION_REASONS` (with the reader's message for
    rows with an input error); ``not_in_service_reason`` says why a used row does not
    count on the evaluation date (not yet built, opened later, closed).
    """
    fac = result.facilities
    type_names = {ft.code: ft.name_zh for ft in result.catalog.facility_types}
    unit_names = dict(
        zip(result.units["code"].astype(str), result.units["name"].astype(str), strict=True)
    )
    county_names = dict(
        zip(
            result.counties["county_code"].astype(str),
            result.counties["county"].astype(str),
            strict=True,
        )
    )
    why = service_reasons(result)
    rows: list[dict[str, Any]] = []
    for rec, down in zip(fac.to_dict(orient="records"), why, strict=True):
        used = bool(rec["used"])
        in_service = bool(rec["in_service"])
        reason = rec["excluded_reason"]
        reason_text = None
        if not used and reason is not None:
            reason_text = EXCLUSION_REASONS.get(reason, (str(reason), ""))[0]
            if reason == "reader_error" and rec.get("row_error"):
                reason_text += f"：{rec['row_error']}"
        unit_code = rec["unit_code"]
        county_code = rec["county_code"]
        ms = rec["meets_standard"]
        rows.append(
            {
                "source_file": rec["source_file"],
                "source_sheet": rec["source_sheet"],
                "source_row": int(rec["source_row"]),
                "name": rec["name"],
                "type_raw": rec["type_raw"],
                "type_name": type_names.get(rec["type_code"]) if rec["type_code"] else None,
                "county_name": rec["county_name"],
                "unit_name": rec["unit_name"],
                "lon": rec["lon"],
                "lat": rec["lat"],
                "status": rec["status"],
                "opened": rec["opened"],
                "closed": rec["closed"],
                "meets_standard": None if ms is pd.NA or ms is None else bool(ms),
                "beds": rec["beds"],
                "nursing_beds": rec["nursing_beds"],
                "area_m2": rec["area_m2"],
                "assigned_county": county_names.get(str(county_code)) if county_code else None,
                "assigned_unit_code": unit_code,
                "assigned_unit": unit_names.get(str(unit_code)) if unit_code else None,
                "assign_method": ASSIGN_METHOD_LABELS.get(
                    str(rec["assign_method"]), str(rec["assign_method"])
                ),
                "conflict": bool(rec.get("conflict", False)),
                "used": used,
                "outcome": "计入" if used else "排除",
                "excluded_reason": reason_text,
                "in_service": in_service,
                "not_in_service_reason": (
                    _not_in_service_text(down, rec["status"]) if down is not None else None
                ),
            }
        )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FACILITY_DETAIL_COLUMNS})
    return pd.DataFrame(rows, columns=FACILITY_DETAIL_COLUMNS)


def county_ranking(result: AuditResult) -> pd.DataFrame:
    """Counties ordered by how far they are behind on binding (约束性) indicators.

    For each county: ``unit_gaps`` is the number of (镇(街道), binding township presence
    indicator) pairs still missing; ``unmet`` the number of binding indicators the county
    misses in its roll-up; ``detail`` lists them with their shortfall. Sorted by
    ``unit_gaps`` then ``unmet`` (descending), then county order.

    Returns
    -------
    pandas.DataFrame
        ``county_code``, ``county``, ``unit_gaps``, ``unmet``, ``detail`` (list of str).
    """
    counties = result.counties
    codes = counties["county_code"].astype(str).tolist()
    stats: dict[str, dict[str, Any]] = {
        c: {"county_code": c, "county": str(n), "unit_gaps": 0, "unmet": 0, "detail": []}
        for c, n in zip(codes, counties["county"], strict=True)
    }
    for r in result.indicators:
        ind = r.indicator
        if not ind.binding or r.by_county is None:
            continue
        for rec in r.by_county.to_dict(orient="records"):
            code = str(rec["county_code"])
            if code not in stats or rec["met"] is pd.NA or rec["met"] is None or bool(rec["met"]):
                continue
            s = stats[code]
            s["unmet"] += 1
            label = f"{bidi_isolate(ind.id)} {bidi_isolate(ind.name_zh)}"  # catalogue text
            if ind.kind == "presence" and ind.level == "township":
                missing = int(rec["denominator"] - rec["numerator"])
                s["unit_gaps"] += missing
                s["detail"].append(f"{label}：缺 {missing} 个镇(街道)")
            else:
                s["detail"].append(f"{label}：{_fmt_number(float(rec['value']), ind.unit)}")
    frame = pd.DataFrame(
        list(stats.values()), columns=["county_code", "county", "unit_gaps", "unmet", "detail"]
    )
    frame["_order"] = range(len(frame))
    frame = frame.sort_values(
        ["unit_gaps", "unmet", "_order"], ascending=[False, False, True], kind="stable"
    )
    return frame.drop(columns="_order").reset_index(drop=True)
