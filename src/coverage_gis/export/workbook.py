"""The Excel workbook planners hand round (``coverage_report.xlsx``).

Sheets, in order (:data:`SHEET_NAMES`):

``指标汇总``
    The indicator table in the plan's format (指标名称, 单位, 2020年基准值, 2025年目标值, 当前值,
    差距, 属性, 是否达标), binding (约束性) indicators first; met / not met shown by colour
    **and** by text (✓ 达标 / ✗ 未达标), manual indicators without a value as 需人工填报.
``镇街矩阵``
    One row per 镇(街道), grouped by county with 功能区 last in each county; one column per
    facility type with the number in service on the evaluation date; after the type(s) of
    each township presence indicator a ✓/✗ column.
``缺口清单``
    Per county, each unit (or county) that misses a target and what it misses.
``县级汇总``
    Each indicator rolled up per county (township and county presence indicators, ratio
    indicators), with a 全市合计 row; the charts are placed to the right of the table
    (outside the print area) and also written as ``charts/<id>.png`` beside the workbook.
``可达性``
    Per ``access`` indicator and 镇(街道): the demand (residents or elderly residents), the
    demand within reach and not, the share (or the 2SFCA capacity per 1,000 residents), the
    facility nearest to most of the unit's residents and their population-weighted median
    distance to the nearest facility. A one-line note when the catalogue has no access
    indicator.
``选址建议``, ``求解信息`` (only when site suggestions are given)
    Each suggested site (rank, site, township, county, residents added, gap closed,
    distance to the nearest existing facility) and each model run (objective, solver
    status, time); see :mod:`coverage_gis.export.sites`.
``设施明细``
    Every facility row read, with its source file/sheet/row, assigned unit and whether it is
    counted or excluded (with the reason).
``数据问题``
    The validation findings.
``说明``
    Evaluation date, catalogue, software version, input files with SHA-256, row accounting,
    and the boundary note when the boundaries are schematic.

Number formats: percent values are stored as in the result (0–100, the same numbers as
``indicators.csv``) and displayed with one decimal and a percent sign through the number
format ``0.0"%"`` — the cell value 85.2 shows as ``85.2%``. Targets carry their operator in
the format (``"≥"0.0"%"``). Every sheet has a frozen header row, a filter (except 说明), and
an A4 landscape print setup fitted to the page width with the header row repeated.

Text from the data or the catalogue (names, addresses, headers made of facility-type names)
is always stored as a string cell, never as a formula or an error value, and text starting
with ``=``, ``+``, ``-``, ``@``, tab or CR carries Excel's quote prefix
(:func:`coverage_gis.export.safety.protect_cell`). The workbook has no formulas of its own.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage_gis import __version__
from coverage_gis.core.results import MANUAL_PENDING_ZH, AuditResult, IndicatorResult
from coverage_gis.export.safety import protect_cell

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

    from coverage_gis.siting.suggest import SiteSuggestion

__all__ = [
    "BOUNDARY_NOTE",
    "GAP_HEADERS",
    "INDICATOR_HEADERS",
    "MET_TEXT",
    "ROLLUP_HEADERS",
    "SHEET_NAMES",
    "percent_format",
    "write_workbook",
]

#: Sheet names, in workbook order.
SHEET_NAMES = (
    "指标汇总",
    "镇街矩阵",
    "缺口清单",
    "县级汇总",
    "可达性",
    "设施明细",
    "数据问题",
    "说明",
)
#: Header of 可达性 (one row per access indicator and unit).
ACCESS_HEADERS = [
    "指标 indicator",
    "可达范围 reach",
    "区县代码 county code",
    "区县 county",
    "镇(街道)代码 code",
    "镇(街道) unit",
    "计入 counted",
    "人口口径 population",
    "人口 demand",
    "可达人口 within reach",
    "不可达人口 not within reach",
    "可达比例 share",
    "每千人可达容量 per 1,000 (2SFCA)",
    "多数居民最近的设施 nearest facility (most residents)",
    "到最近设施的中位距离(米) median distance (m)",
]
#: Note shown wherever the boundaries are schematic.
BOUNDARY_NOTE = "示意边界，非法定界线 / schematic boundaries, not legal boundaries"
#: Text of the 是否达标 cells (met, not met, manual value missing, no data).
MET_TEXT = {
    True: "✓ 达标",
    False: "✗ 未达标",
    "manual_missing": "— " + MANUAL_PENDING_ZH,
    "no_data": "— 无数据",
}
#: Header of 指标汇总 (the plan's columns, then the working columns).
INDICATOR_HEADERS = [
    "编号 id",
    "指标名称 indicator",
    "单位 unit",
    "{baseline_year}年基准值 baseline",
    "{target_year}年目标值 target",
    "当前值 value",
    "差距 gap",
    "属性 type",
    "是否达标 met",
    "分子 numerator",
    "分母 denominator",
    "未达标单位数 failing units",
    "出处 source",
    "口径与备注 notes",
    "Indicator (English)",
]
#: Header of 缺口清单.
GAP_HEADERS = [
    "区县代码 county code",
    "区县 county",
    "层级 level",
    "代码 code",
    "名称 name",
    "指标编号 id",
    "指标名称 indicator",
    "属性 type",
    "缺项 missing",
    "现有该类设施 in service",
    "其中符合条件 qualifying",
    "当前值 value",
    "目标值 target",
]
#: Header of 县级汇总.
ROLLUP_HEADERS = [
    "指标编号 id",
    "指标名称 indicator",
    "层级 level",
    "属性 type",
    "单位 unit",
    "区县代码 county code",
    "区县 county",
    "分子 numerator",
    "分母 denominator",
    "设施数 facilities",
    "当前值 value",
    "目标值 target",
    "是否达标 met",
]
_FACILITY_HEADERS = {
    "source_file": "来源文件 file",
    "source_sheet": "工作表 sheet",
    "source_row": "行号 row",
    "name": "设施名称 name",
    "type_raw": "类型（原文）type as read",
    "type_name": "类型（目录）type",
    "county_name": "所属区县（原文）county as read",
    "unit_name": "所属镇(街道)（原文）unit as read",
    "lon": "经度 lon",
    "lat": "纬度 lat",
    "status": "状态 status",
    "opened": "建成时间 opened",
    "closed": "停用时间 closed",
    "meets_standard": "是否达标 meets standard",
    "beds": "床位数 beds",
    "nursing_beds": "护理型床位 nursing beds",
    "area_m2": "面积(m²) area",
    "assigned_county": "归属区县 county",
    "assigned_unit_code": "归属镇(街道)代码 unit code",
    "assigned_unit": "归属镇(街道) unit",
    "assign_method": "归属方式 method",
    "conflict": "坐标与所属镇(街道)不符 conflict",
    "outcome": "计入/排除 counted",
    "excluded_reason": "排除原因 reason excluded",
    "in_service": "评估日在役 in service",
    "not_in_service_reason": "未在役原因 why not in service",
}
_SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
_OPS = {">=": "≥", "<=": "≤", "=": "="}

_FILL = {
    "header": "D9E1F2",
    "met": "C6EFCE",
    "not_met": "FFC7CE",
    "pending": "EDEDED",
    "total": "F2F2F2",
    "error": "F8CBAD",
    "warning": "FFE699",
    "info": "DDEBF7",
}
_FONT = {"met": "006100", "not_met": "9C0006", "pending": "595959"}
_COUNT_UNITS = frozenset({"户", "个", "张", "人", "家", "处"})


# -- formats ------------------------------------------------------------------------------
def percent_format(operator: str | None = None) -> str:
    """Number format of a 0–100 percent value (``0.0"%"``), optionally with an operator."""
    base = '0.0"%"'
    return f'"{_OPS[operator]}"{base}' if operator else base


def _unit_format(unit: str, operator: str | None = None) -> str:
    if unit == "%":
        return percent_format(operator)
    base = "#,##0" if unit in _COUNT_UNITS else "#,##0.00"
    return f'"{_OPS[operator]}"{base}' if operator else base


def _count_format(value: float | None) -> str:
    if value is None or not math.isfinite(value) or float(value).is_integer():
        return "#,##0"
    return "#,##0.00"


# -- cell helpers -------------------------------------------------------------------------
def _clean(value: Any) -> Any:
    """A value openpyxl can store: no NaN/NA/NaT, no numpy scalars, no illegal characters."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None) -> Cell:
    cell = ws.cell(row=row, column=col)
    v = _clean(value)
    cell.value = v
    protect_cell(cell)  # text from the data: a string cell, never a formula
    if fmt is not None:
        cell.number_format = fmt
    elif isinstance(v, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(v, dt.date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _style(cell: Cell, kind: str, *, bold: bool = False) -> None:
    from openpyxl.styles import Font, PatternFill

    if kind in _FILL:
        cell.fill = PatternFill("solid", fgColor=_FILL[kind])
    if kind in _FONT or bold:
        cell.font = Font(color=_FONT.get(kind), bold=bold)


def _met_cell(ws: Worksheet, row: int, col: int, met: bool | None, status: str) -> Cell:
    if status in ("manual_missing", "no_data"):
        cell = _put(ws, row, col, MET_TEXT[status])
        _style(cell, "pending")
    elif met is None:
        cell = _put(ws, row, col, MET_TEXT["no_data"])
        _style(cell, "pending")
    else:
        cell = _put(ws, row, col, MET_TEXT[bool(met)])
        _style(cell, "met" if met else "not_met", bold=not met)
    return cell


def _text_width(value: Any) -> int:
    text = str(value)
    return max(
        (
            sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
            for line in text.splitlines() or [""]
        ),
        default=0,
    )


def _header(ws: Worksheet, headers: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="8EA9DB")
    for col, text in enumerate(headers, start=1):
        cell = protect_cell(ws.cell(row=1, column=col, value=_clean(text)))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=_FILL["header"])
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.border = Border(bottom=thin)
    ws.row_dimensions[1].height = 30


def _fit_widths(
    ws: Worksheet, n_cols: int, *, min_width: int = 6, max_width: int = 48, sample: int = 400
) -> None:
    from openpyxl.utils import get_column_letter

    for col in range(1, n_cols + 1):
        header = str(ws.cell(row=1, column=col).value or "")
        # the header wraps on its space: the wider of its Chinese and English parts
        width = max(_text_width(part) for part in header.split(" ", 1)) if header else 0
        for row in range(2, min(ws.max_row, sample) + 1):
            value = ws.cell(row=row, column=col).value
            if value is None:
                continue
            if isinstance(value, float):
                w = len(f"{value:,.2f}") + 1
            elif isinstance(value, dt.date):
                w = 11
            else:
                w = _text_width(value)
            width = max(width, w)
        ws.column_dimensions[get_column_letter(col)].width = max(
            min_width, min(max_width, width + 2)
        )


def _hf_text(text: str) -> str:
    return text.replace("&", "&&")


def _finish(
    ws: Worksheet,
    result: AuditResult,
    n_cols: int,
    *,
    freeze: str = "A2",
    autofilter: bool = True,
    widths: bool = True,
    print_cols: int | None = None,
) -> None:
    """Frozen header, filter, widths and the A4 landscape print setup."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    last_row = max(ws.max_row, 1)
    last_col = get_column_letter(max(n_cols, 1))
    ws.freeze_panes = freeze
    if autofilter:
        ws.auto_filter.ref = f"A1:{last_col}{last_row}"
    if widths:
        _fit_widths(ws, n_cols)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.7, bottom=0.7, header=0.3, footer=0.3)
    if print_cols is not None:
        ws.print_area = f"A1:{get_column_letter(print_cols)}{last_row}"
    ws.oddHeader.center.text = _hf_text(f"{result.catalog.name_zh} — {ws.title}")
    ws.oddHeader.center.size = 11
    ws.oddFooter.left.text = _hf_text(f"评估日期 {result.as_of.isoformat()}")
    ws.oddFooter.left.size = 8
    if result.schematic_boundaries:
        ws.oddFooter.center.text = _hf_text(BOUNDARY_NOTE)
        ws.oddFooter.center.size = 8
    ws.oddFooter.right.text = "第 &P 页 / 共 &N 页"
    ws.oddFooter.right.size = 8


# -- sheets -------------------------------------------------------------------------------
def _indicator_notes(result: AuditResult, r: IndicatorResult) -> str:
    from coverage_gis.export.report_tables import requirement_text

    ind = r.indicator
    parts = []
    if r.status == "manual_missing":
        parts.append(f"{MANUAL_PENDING_ZH}（--values）")
    elif r.status == "manual":
        parts.append("人工填报值")
    elif r.status == "no_data":
        parts.append("无法计算：分母为 0 或缺少字段")
    if ind.kind == "presence":
        scope = "每个镇(街道)" if ind.level == "township" else "每个区县"
        parts.append(f"{scope}：{requirement_text(result, ind)}")
    if ind.note:
        parts.append(ind.note)
    return "；".join(parts)


def _sheet_indicators(ws: Worksheet, result: AuditResult) -> None:
    from openpyxl.styles import Alignment

    from coverage_gis.export.report_tables import ordered_indicators

    cat = result.catalog
    headers = [
        h.format(baseline_year=cat.baseline_year or 2020, target_year=cat.target_year or 2025)
        for h in INDICATOR_HEADERS
    ]
    _header(ws, headers)
    for i, r in enumerate(ordered_indicators(result), start=2):
        ind = r.indicator
        fmt = _unit_format(ind.unit)
        _put(ws, i, 1, ind.id)
        _put(ws, i, 2, ind.name_zh).alignment = Alignment(wrap_text=True)
        _put(ws, i, 3, ind.unit)
        _put(ws, i, 4, ind.baseline if ind.baseline is not None else "—", fmt)
        _put(ws, i, 5, ind.target, _unit_format(ind.unit, ind.operator))
        if r.status == "manual_missing":
            _style(_put(ws, i, 6, MANUAL_PENDING_ZH), "pending")
        elif r.value is None:
            _style(_put(ws, i, 6, "无数据"), "pending")
        else:
            cell = _put(ws, i, 6, float(r.value), fmt)
            if r.met is not None:
                _style(cell, "met" if r.met else "not_met")
        _put(ws, i, 7, float(r.gap) if r.gap is not None else "—", fmt)
        _style(_put(ws, i, 8, ind.attribute_zh), "", bold=ind.binding)
        _met_cell(ws, i, 9, r.met, r.status)
        for col, v in ((10, r.numerator), (11, r.denominator)):
            fv = None if v is None else float(v)
            _put(ws, i, col, fv, _count_format(fv))
        _put(ws, i, 12, len(r.failing) if ind.kind != "manual" else None, "0")
        _put(ws, i, 13, ind.source_ref)
        _put(ws, i, 14, _indicator_notes(result, r)).alignment = Alignment(wrap_text=True)
        _put(ws, i, 15, ind.name_en)
    _finish(ws, result, len(headers), freeze="C2")
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["N"].width = 44


def _matrix_layout(result: AuditResult) -> list[tuple[str, str]]:
    """Matrix columns as (kind, key): ("type", code) or ("check", indicator id)."""
    from coverage_gis.export.report_tables import township_presence_indicators

    level_rank = {"township": 0, "county": 1, "city": 2}
    types = sorted(result.catalog.facility_types, key=lambda t: level_rank.get(t.level, 3))
    checks = township_presence_indicators(result)
    placed: set[str] = set()
    layout: list[tuple[str, str]] = []
    order = [t.code for t in types]
    for code in order:
        layout.append(("type", code))
        for r in checks:
            ind = r.indicator
            known = [t for t in ind.facility_types if t in order]
            last = max(known, key=order.index) if known else None
            if last == code and ind.id not in placed:
                layout.append(("check", ind.id))
                placed.add(ind.id)
    layout.extend(("check", r.indicator.id) for r in checks if r.indicator.id not in placed)
    return layout


def _sheet_matrix(ws: Worksheet, result: AuditResult) -> None:
    from openpyxl.styles import Alignment, Font

    from coverage_gis.export.report_tables import unit_order, unit_presence

    units = unit_order(result)
    presence = unit_presence(result)
    layout = _matrix_layout(result)
    fixed = [
        "区县代码 county code",
        "区县 county",
        "镇(街道)代码 code",
        "镇(街道) unit",
        "类型 kind",
        "计入分母 counted",
    ]
    headers = list(fixed)
    for kind, key in layout:
        if kind == "type":
            headers.append(f"{result.catalog.facility_type(key).name_zh}（个）")
        else:
            headers.append(f"{key} ✓/✗")
    headers.append("未覆盖项数 gaps")
    _header(ws, headers)
    counts = result.counts_qualifying
    center = Alignment(horizontal="center")
    for i, u in enumerate(units.itertuples(index=False), start=2):
        for col, v in enumerate(
            [u.county_code, u.county, u.code, u.name, u.kind, "是" if u.counted else "否"], start=1
        ):
            _put(ws, i, col, v)
        if not u.counted:
            for col in (5, 6):
                ws.cell(row=i, column=col).font = Font(italic=True, color=_FONT["pending"])
        gaps = 0
        for j, (kind, key) in enumerate(layout, start=len(fixed) + 1):
            if kind == "type":
                n = int(counts.loc[u.code, key]) if u.code in counts.index else 0
                cell = _put(ws, i, j, n, "0")
                if n == 0:
                    cell.font = Font(color="A6A6A6")
            else:
                has = bool(presence[key].loc[u.code, "has"])
                cell = _put(ws, i, j, "✓" if has else "✗")
                cell.alignment = center
                if has:
                    cell.font = Font(color=_FONT["met"])
                else:
                    gaps += 1
                    _style(cell, "not_met" if u.counted else "pending", bold=u.counted)
        _put(ws, i, len(headers), gaps, "0")
    _finish(ws, result, len(headers), freeze="E2")
    for j in range(len(fixed) + 1, len(headers) + 1):
        ws.cell(row=1, column=j).alignment = Alignment(
            wrap_text=True, horizontal="center", vertical="center"
        )
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = 11
    ws.row_dimensions[1].height = 60


def _sheet_gaps(ws: Worksheet, result: AuditResult) -> None:
    from openpyxl.styles import Alignment

    from coverage_gis.export.report_tables import gap_list

    gaps = gap_list(result)
    _header(ws, GAP_HEADERS)
    for i, g in enumerate(gaps.to_dict(orient="records"), start=2):
        values = [g["county_code"], g["county"], g["level"], g["code"], g["name"]]
        for col, v in enumerate(values, start=1):
            _put(ws, i, col, v)
        _put(ws, i, 6, g["indicator_id"])
        _put(ws, i, 7, g["indicator"])
        _style(_put(ws, i, 8, g["attribute"]), "", bold=bool(g["binding"]))
        _put(ws, i, 9, g["missing"]).alignment = Alignment(wrap_text=True)
        _put(ws, i, 10, g["have_type"], "0")
        cell = _put(ws, i, 11, g["have"], "0")
        if g["have"] is not None and not pd.isna(g["have"]):
            _style(cell, "not_met")
        value = g["value"]
        _put(ws, i, 12, value, _unit_format(g["unit"]) if value is not None else None)
        if value is not None and not pd.isna(value):
            _style(ws.cell(row=i, column=12), "not_met")
        _put(ws, i, 13, g["target"], _unit_format(g["unit"], g["operator"]))
    _finish(ws, result, len(GAP_HEADERS), freeze="F2")
    ws.column_dimensions["I"].width = 46


def _sheet_rollup(ws: Worksheet, result: AuditResult) -> int:
    from openpyxl.styles import Border, Font, Side

    from coverage_gis.export.report_tables import CITY_TOTAL_ZH, county_rollup

    roll = county_rollup(result)
    _header(ws, ROLLUP_HEADERS)
    top = Border(top=Side(style="thin", color="808080"))
    for i, g in enumerate(roll.to_dict(orient="records"), start=2):
        values = [
            g["indicator_id"],
            g["indicator"],
            g["level"],
            g["attribute"],
            g["unit"],
            g["county_code"] or None,
            g["county"],
        ]
        for col, v in enumerate(values, start=1):
            _put(ws, i, col, v)
        for col, key in ((8, "numerator"), (9, "denominator"), (10, "count")):
            v = g[key]
            v = None if v is None or pd.isna(v) else float(v)
            _put(ws, i, col, v, _count_format(v))
        value = g["value"]
        value = None if value is None or pd.isna(value) else float(value)
        cell = _put(ws, i, 11, value if value is not None else "—", _unit_format(g["unit"]))
        met = g["met"]
        met = None if met is None or pd.isna(met) else bool(met)
        if met is not None:
            _style(cell, "met" if met else "not_met")
        _put(ws, i, 12, g["target"], _unit_format(g["unit"], g["operator"]))
        _met_cell(ws, i, 13, met, "computed" if value is not None else "no_data")
        if g["county"] == CITY_TOTAL_ZH:
            for col in range(1, len(ROLLUP_HEADERS) + 1):
                c = ws.cell(row=i, column=col)
                c.border = top
                if col <= 10:
                    _style(c, "total")
                c.font = Font(bold=True, color=c.font.color)
    _finish(ws, result, len(ROLLUP_HEADERS), freeze="C2", print_cols=len(ROLLUP_HEADERS))
    ws.column_dimensions["B"].width = 40
    return len(roll)


_POPULATION_LABELS = {
    "population": "常住人口",
    "pop_60plus": "60岁及以上人口",
    "pop_65plus": "65岁及以上人口",
    "households": "户数",
}


def _sheet_access(ws: Worksheet, result: AuditResult) -> None:
    from openpyxl.styles import Alignment

    _header(ws, ACCESS_HEADERS)
    row = 2
    access = [r for r in result.indicators if r.access is not None]
    if not access:
        _put(ws, 2, 1, "目录中没有可计算的可达性指标 / no access indicator was computed")
    for r in access:
        rule = r.indicator.access
        assert rule is not None
        label = f"{r.indicator.id} {r.indicator.name_zh}"
        reach = rule.reach_label[0]
        fca = rule.measure == "fca"
        by = r.access.by_unit.sort_values(["county_code", "code"], kind="stable")
        for u in by.to_dict(orient="records"):
            values = [label, reach, u["county_code"], u["county"], u["code"], u["name"]]
            for col, v in enumerate(values, start=1):
                _put(ws, row, col, v)
            _put(ws, row, 7, "是" if u["counted"] else "否")
            _put(ws, row, 8, _POPULATION_LABELS.get(rule.population_field, rule.population_field))
            for col, key in ((9, "demand"), (10, "served"), (11, "unserved")):
                _put(ws, row, col, float(u[key]), "#,##0")
            share = u["share"]
            if share is not None and np.isfinite(share):
                cell = _put(ws, row, 12, float(share), percent_format())
                if not fca and u["counted"]:
                    met = share >= r.indicator.target - 1e-9
                    _style(cell, "met" if met else "not_met")
            acc = u["accessibility"]
            if fca and acc is not None and np.isfinite(acc):
                cell = _put(ws, row, 13, float(acc), "0.00")
                if u["counted"]:
                    _style(cell, "met" if acc >= r.indicator.target - 1e-9 else "not_met")
            _put(ws, row, 14, u["nearest_facility"])
            med = u["median_distance_m"]
            if med is not None and np.isfinite(med):
                _put(ws, row, 15, float(med), "#,##0")
            elif u["demand"] > 0 and np.isfinite(r.access.measured_to_m):
                _put(ws, row, 15, f"> {r.access.measured_to_m:,.0f}")
            elif u["demand"] > 0:
                _put(ws, row, 15, "无设施 / none")
            row += 1
    _finish(ws, result, len(ACCESS_HEADERS), freeze="G2")
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["N"].width = 30
    for c in ws["A"][1:]:
        c.alignment = Alignment(wrap_text=True)


def _embed_charts(ws: Worksheet, charts: Sequence[Path], first_col: int) -> None:
    from openpyxl.drawing.image import Image
    from openpyxl.utils import get_column_letter

    col = get_column_letter(first_col)
    row = 1
    for p in charts:
        img = Image(str(p))
        scale = 640 / img.width
        img.width, img.height = 640, round(img.height * scale)
        ws.add_image(img, f"{col}{row}")
        row += math.ceil(img.height / 20) + 2


def _sheet_facilities(ws: Worksheet, result: AuditResult) -> None:
    from coverage_gis.export.report_tables import FACILITY_DETAIL_COLUMNS, facility_detail

    cols = [c for c in FACILITY_DETAIL_COLUMNS if c in _FACILITY_HEADERS]
    _header(ws, [_FACILITY_HEADERS[c] for c in cols])
    detail = facility_detail(result)
    idx = {c: j for j, c in enumerate(cols, start=1)}
    yes_no = {True: "是", False: "否"}
    for i, rec in enumerate(detail.to_dict(orient="records"), start=2):
        for c in cols:
            v = rec[c]
            fmt = None
            if c == "source_file" and v:
                v = Path(str(v)).name
            elif c in ("lon", "lat"):
                fmt = "0.000000"
            elif c in ("beds", "nursing_beds", "area_m2"):
                fmt = "#,##0"
                if v is not None and not pd.isna(v) and not float(v).is_integer():
                    fmt = "#,##0.00"
            elif c == "meets_standard":
                v = None if v is None else yes_no[bool(v)]
            elif c == "conflict":
                v = "是" if v else None
            elif c == "in_service":
                v = yes_no[bool(v)] if rec["used"] else None
            _put(ws, i, idx[c], v, fmt)
        if not rec["used"]:
            _style(ws.cell(row=i, column=idx["outcome"]), "not_met", bold=True)
            _style(ws.cell(row=i, column=idx["excluded_reason"]), "not_met")
        elif not rec["in_service"]:
            _style(ws.cell(row=i, column=idx["in_service"]), "pending")
        if rec["conflict"]:
            _style(ws.cell(row=i, column=idx["conflict"]), "warning")
    _finish(ws, result, len(cols), freeze="E2")


def _sheet_findings(ws: Worksheet, result: AuditResult) -> None:
    from coverage_gis.core.findings import FINDING_COLUMNS
    from coverage_gis.export.validation import FINDING_HEADERS_ZH

    _header(ws, [FINDING_HEADERS_ZH[c] for c in FINDING_COLUMNS])
    frame = result.findings.to_frame()
    order = {"error": 0, "warning": 1, "info": 2}
    frame = frame.assign(_o=frame["severity"].map(order)).sort_values("_o", kind="stable")
    for i, rec in enumerate(frame[FINDING_COLUMNS].to_dict(orient="records"), start=2):
        for j, c in enumerate(FINDING_COLUMNS, start=1):
            v = rec[c]
            if c == "severity":
                v = f"{_SEVERITY_ZH.get(v, v)} {v}"
            elif c == "file" and v:
                v = Path(str(v)).name
            elif c == "row" and v is not None and not pd.isna(v):
                v = int(v)
            elif c == "value" and v is not None and not isinstance(v, (str, int, float, bool)):
                v = str(v)
            _put(ws, i, j, v)
        _style(ws.cell(row=i, column=1), rec["severity"])
    _finish(ws, result, len(FINDING_COLUMNS), freeze="C2")
    ws.column_dimensions["C"].width = 48
    ws.column_dimensions["D"].width = 48


def _sheet_notes(ws: Worksheet, result: AuditResult, charts: Sequence[Path]) -> None:
    from openpyxl.styles import Alignment, Font

    cat = result.catalog
    acc = result.accounting
    read = int(acc["rows_read"].sum()) if len(acc) else 0
    used = int(acc["rows_used"].sum()) if len(acc) else 0
    counted = result.units["counted"].astype(bool)
    fz = int((~counted).sum())
    _header(ws, ["项目 item", "内容 content"])
    items: list[tuple[str, Any]] = [
        ("报告 report", f"{cat.name_zh} 设施覆盖评估 / {cat.name_en}: facility coverage audit"),
        ("评估日期 evaluation date", result.as_of),
        ("指标目录 catalogue", f"{cat.name_zh}（{cat.id}）"),
        ("目录版本 catalogue version", cat.version),
        ("软件 software", f"coverage-gis {__version__}"),
        (
            "镇(街道) units",
            f"{len(result.units)} 个，计入覆盖率分母 {int(counted.sum())} 个"
            + (f"，功能区 {fz} 个未计入" if fz else "")
            + f"；区县级板块 {len(result.counties)} 个",
        ),
        (
            "功能区计入分母 functional zones counted",
            "是 yes" if result.options.include_functional_zones else "否 no",
        ),
        (
            "设施行核对 row accounting",
            f"读取 {read} 行 = 计入 {used} 行 + 排除 {read - used} 行（见 设施明细）",
        ),
        (
            "数据问题 data issues",
            f"错误 {result.findings.count('error')}，警告 {result.findings.count('warning')}，"
            f"提示 {result.findings.count('info')}（见 数据问题）",
        ),
    ]
    if result.schematic_boundaries:
        items.append(("边界说明 boundaries", BOUNDARY_NOTE))
    if result.options.manual_values:
        given = "；".join(f"{k} = {v}" for k, v in result.options.manual_values.items())
        items.append(("人工填报值 manual values", given))
    items += [
        (
            "数值格式 number format",
            '百分比以 0–100 的数值存储，按一位小数显示（数字格式 0.0"%"，85.2 显示为 85.2%），'
            "与 indicators.csv 相同 / percent values are stored as 0–100 and shown with one decimal",
        ),
        (
            "图例 legend",
            "✓ 达标（绿色）/ ✗ 未达标（红色）/ — 需人工填报或无数据（灰色）；"
            "镇街矩阵中功能区的 ✗ 为灰色（不计入分母）",
        ),
        (
            "计入口径 counting rule",
            "设施按坐标落入的镇(街道)归属；评估日期已建成运营、未停用、满足指标条件（如达标）方计入",
        ),
    ]
    if charts:
        items.append(("图表 charts", "；".join(f"charts/{p.name}" for p in charts)))
    row = 2
    for key, value in items:
        _put(ws, row, 1, key).font = Font(bold=True)
        cell = _put(ws, row, 2, value)
        cell.alignment = Alignment(wrap_text=True, horizontal="left", vertical="top")
        row += 1
    row += 1
    input_headers = ["输入文件 input", "路径 path", "SHA-256", "行数 rows", "坐标系 CRS"]
    for j, h in enumerate(input_headers, start=1):
        _style(_put(ws, row, j, h), "header", bold=True)
    role_zh = {"boundaries": "边界 boundaries", "facilities": "设施 facilities"}
    for inp in result.inputs:
        row += 1
        _put(ws, row, 1, role_zh.get(str(inp.get("role")), inp.get("role")))
        _put(ws, row, 2, inp.get("path"))
        _put(ws, row, 3, inp.get("sha256"))
        _put(ws, row, 4, inp.get("rows"), "0")
        _put(ws, row, 5, inp.get("crs"))
    if len(acc):
        from coverage_gis.core.rules import EXCLUSION_REASONS

        row += 2
        acc_headers = [
            "行数核对 file",
            "读取 read",
            "计入 used",
            "排除 excluded",
            *(f"{EXCLUSION_REASONS[r][0]} {r}" for r in EXCLUSION_REASONS),
        ]
        for j, h in enumerate(acc_headers, start=1):
            c = _put(ws, row, j, h)
            _style(c, "header", bold=True)
            c.alignment = Alignment(wrap_text=True, vertical="top")
        for rec in acc.to_dict(orient="records"):
            row += 1
            values = [
                Path(str(rec["source_file"])).name,
                rec["rows_read"],
                rec["rows_used"],
                rec["rows_excluded"],
                *(rec[r] for r in EXCLUSION_REASONS),
            ]
            for j, v in enumerate(values, start=1):
                _put(ws, row, j, v, None if j == 1 else "0")
    _finish(ws, result, 2, autofilter=False, widths=False)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 70
    ws.column_dimensions["C"].width = 68
    for col in "DEFGH":
        ws.column_dimensions[col].width = 14


# -- public -------------------------------------------------------------------------------
def write_workbook(
    result: AuditResult,
    path: str | Path,
    *,
    chart_indicators: Sequence[str] | None = None,
    sites: Sequence[SiteSuggestion] = (),
) -> Path:
    """Write the audit workbook (see the module docstring for the sheets).

    Parameters
    ----------
    result
        The audit result.
    path
        The ``.xlsx`` file to write (parent folders are created; an existing file is
        replaced only once the new one is complete).
    chart_indicators
        Indicator ids to chart by county. ``None``: the binding township and county
        presence indicators (:func:`coverage_gis.export.charts.default_chart_indicators`); an
        empty sequence: no charts. The PNG files are written to ``charts/<id>.png`` beside
        the workbook and embedded in 县级汇总.
    sites
        Site suggestions (:func:`coverage_gis.siting.suggest.suggest_sites`): when given,
        the sheets 选址建议 and 求解信息 follow 可达性.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from openpyxl import Workbook

    from coverage_gis.export.charts import (
        chart_file_name,
        default_chart_indicators,
        indicator_county_chart,
    )

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ids = default_chart_indicators(result) if chart_indicators is None else list(chart_indicators)
    charts = [
        indicator_county_chart(result, i, out.parent / "charts" / chart_file_name(i)) for i in ids
    ]

    wb = Workbook()
    sheets = [wb.active, *(wb.create_sheet() for _ in SHEET_NAMES[1:])]
    for ws, name in zip(sheets, SHEET_NAMES, strict=True):
        ws.title = name
    _sheet_indicators(sheets[0], result)
    _sheet_matrix(sheets[1], result)
    _sheet_gaps(sheets[2], result)
    _sheet_rollup(sheets[3], result)
    if charts:
        _embed_charts(sheets[3], charts, len(ROLLUP_HEADERS) + 2)
    _sheet_access(sheets[4], result)
    _sheet_facilities(sheets[5], result)
    _sheet_findings(sheets[6], result)
    _sheet_notes(sheets[7], result, charts)
    if sites:
        from coverage_gis.export.sites import add_site_sheets

        add_site_sheets(wb, sites, index=SHEET_NAMES.index("可达性") + 1)
    wb.properties.title = f"{result.catalog.name_zh} 设施覆盖评估 {result.as_of.isoformat()}"
    wb.properties.creator = f"coverage-gis {__version__}"
    tmp = out.with_name(f".{out.stem}.tmp{os.getpid()}.xlsx")
    try:
        wb.save(tmp)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
