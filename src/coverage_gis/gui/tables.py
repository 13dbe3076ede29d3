"""Table models over an :class:`~coverage_gis.core.results.AuditResult` (views stay dumb).

* :class:`IndicatorTableModel` — the indicator table in the plan's format (指标名称, 单位,
  2020 基准, 2025 目标, 当前值, 差距, 属性, 是否达标), coloured by met / not met, for the
  whole city or one county; with a scenario, a 方案 column after 当前值 shows each value
  with the plan's sites and the change ("now → with plan");
* :class:`UnitsTableModel` — one row per 镇/街道 with the chosen indicator's ✓/✗ and the
  counts of facilities in service by type;
* :class:`FindingsModel` — the data issues; :class:`FacilitiesModel` — every facility row
  read, with its assignment and why it was excluded.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from coverage_gis.core.findings import Finding
from coverage_gis.core.results import (
    MANUAL_PENDING_EN,
    MANUAL_PENDING_ZH,
    AuditResult,
    IndicatorResult,
)
from coverage_gis.core.rules import EXCLUSION_REASONS
from coverage_gis.gui.i18n import named, tr
from coverage_gis.gui.plan import fmt_change
from coverage_gis.gui.richtext import tooltip

__all__ = [
    "MET_COLORS",
    "RAW_ROLE",
    "FacilitiesModel",
    "FindingsModel",
    "HeaderedTableModel",
    "IndicatorTableModel",
    "UnitsTableModel",
    "fmt_value",
    "indicator_row",
]

#: Role holding the raw (unformatted) value of a cell, and the key of a row in column 0.
RAW_ROLE = int(Qt.ItemDataRole.UserRole) + 1
KEY_ROLE = int(Qt.ItemDataRole.UserRole)

#: Background colours: met, not met, no value.
MET_COLORS = {True: QColor("#d5efd5"), False: QColor("#f8d4d4"), None: QColor("#eeeeee")}
_SEVERITY_COLORS = {
    "error": QColor("#f8d4d4"),
    "warning": QColor("#fff1c9"),
    "info": QColor("#e3eefb"),
}
_OPS = {">=": "≥", "=": "=", "<=": "≤"}

Index = QModelIndex | QPersistentModelIndex


def fmt_value(value: float | None, unit: str) -> str:
    """Format an indicator value in its unit (``—`` when missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def indicator_row(r: IndicatorResult, county_code: str = "") -> dict[str, Any]:
    """Value, gap and met of an indicator for the city or one county."""
    ind = r.indicator
    value, gap, met, status = r.value, r.gap, r.met, r.status
    if county_code and r.by_county is not None and len(r.by_county):
        row = r.by_county.loc[r.by_county["county_code"] == county_code]
        if len(row):
            v = float(row["value"].iloc[0])
            value = v if math.isfinite(v) else None
            m = row["met"].iloc[0]
            met = None if pd.isna(m) else bool(m)
            if value is None:
                gap = None
            elif met:
                gap = 0.0
            else:
                gap = abs(ind.target - value)
            status = "computed" if value is not None else "no_data"
    return {"value": value, "gap": gap, "met": met, "status": status}


class HeaderedTableModel(QAbstractTableModel):
    """A table model whose column headers are :attr:`headers` (rows numbered from 1)."""

    headers: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.headers = []

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section] if section < len(self.headers) else None
        if role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None


class IndicatorTableModel(HeaderedTableModel):
    """The plan's indicator table, with a "with plan" column while a scenario counts.

    Columns are addressed by key (:attr:`COLUMNS`); the ``plan`` column (方案) exists only
    while :meth:`set_result` is given a scenario result, right after ``value``, so the
    other columns keep their positions when there is no scenario. :meth:`column_of` gives
    a key's position.
    """

    #: Column keys in order (``plan`` only with a scenario result).
    COLUMNS = (
        "id",
        "name",
        "unit",
        "baseline",
        "target",
        "value",
        "plan",
        "gap",
        "attribute",
        "met",
    )
    _RIGHT = frozenset({"baseline", "target", "value", "plan", "gap"})

    def __init__(self) -> None:
        super().__init__()
        self.result: AuditResult | None = None
        self.plan: AuditResult | None = None
        self.county_code = ""
        self.rows: list[tuple[IndicatorResult, dict[str, Any]]] = []
        self.plan_rows: list[dict[str, Any] | None] = []
        self.keys: list[str] = []
        self._set_columns()

    def _set_columns(self) -> None:
        names = {
            "id": tr("编号", "No."),
            "name": tr("指标名称", "Indicator"),
            "unit": tr("单位", "Unit"),
            "baseline": tr("2020 基准", "2020 baseline"),
            "target": tr("2025 目标", "2025 target"),
            "value": tr("当前值", "Current value"),
            "plan": tr("方案", "With plan"),
            "gap": tr("差距", "Gap"),
            "attribute": tr("属性", "Type"),
            "met": tr("是否达标", "Met"),
        }
        self.keys = [k for k in self.COLUMNS if k != "plan" or self.plan is not None]
        self.headers = [names[k] for k in self.keys]

    def set_result(
        self, result: AuditResult | None, county_code: str = "", plan: AuditResult | None = None
    ) -> None:
        """Show another result or county.

        Parameters
        ----------
        result
            The real audit.
        county_code
            County filter (empty: the whole city).
        plan
            The same audit with the scenario's accepted sites (adds the 方案 column);
            ``None``: no scenario.
        """
        if result is not None and result is self.result and county_code == self.county_code:
            self.set_plan(plan)
            return
        self.beginResetModel()
        self.result = result
        self.plan = plan if result is not None else None
        self.county_code = county_code
        self.rows = (
            [(r, indicator_row(r, county_code)) for r in result.indicators] if result else []
        )
        self.plan_rows = self._plan_rows(self.plan)
        self._set_columns()
        self.endResetModel()

    def set_plan(self, plan: AuditResult | None) -> None:
        """Show another scenario result beside the same real result.

        Only the 方案 column changes: it is inserted, removed or its cells updated, so the
        table keeps its rows and selection (no model reset).
        """
        if self.result is None:
            plan = None
        rows = self._plan_rows(plan)
        had, has = self.plan is not None, plan is not None
        at = self.COLUMNS.index("plan")
        if has and not had:
            self.beginInsertColumns(QModelIndex(), at, at)
            self.plan, self.plan_rows = plan, rows
            self._set_columns()
            self.endInsertColumns()
        elif had and not has:
            self.beginRemoveColumns(QModelIndex(), at, at)
            self.plan, self.plan_rows = None, rows
            self._set_columns()
            self.endRemoveColumns()
        else:
            self.plan, self.plan_rows = plan, rows
            if has and self.rows:
                self.dataChanged.emit(self.index(0, at), self.index(len(self.rows) - 1, at))

    def _plan_rows(self, plan: AuditResult | None) -> list[dict[str, Any] | None]:
        by_id = {r.indicator.id: r for r in plan.indicators} if plan is not None else {}
        return [
            indicator_row(by_id[r.indicator.id], self.county_code)
            if r.indicator.id in by_id
            else None
            for r, _ in self.rows
        ]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def row_of(self, indicator_id: str) -> int:
        """Row number of an indicator (-1 if absent)."""
        for i, (r, _) in enumerate(self.rows):
            if r.indicator.id == indicator_id:
                return i
        return -1

    def column_of(self, key: str) -> int:
        """Position of a column by its key (:attr:`COLUMNS`); -1 if not shown."""
        return self.keys.index(key) if key in self.keys else -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, vals = self.rows[index.row()]
        plan = self.plan_rows[index.row()] if self.plan is not None else None
        ind = r.indicator
        key = self.keys[index.column()]
        if role == KEY_ROLE:
            return ind.id
        if role == Qt.ItemDataRole.BackgroundRole:
            met = plan["met"] if key == "plan" and plan is not None else vals["met"]
            return QBrush(MET_COLORS[met])
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "plan" and plan is not None:
                return tooltip(self._plan_tip(vals, plan, ind.unit))
            return tooltip(
                f"{ind.name_zh}\n{ind.name_en}\n{ind.source_ref}"
                + (f"\n{ind.note}" if ind.note else "")
            )
        if role == RAW_ROLE:
            return {
                "id": ind.id,
                "name": ind.name_zh,
                "unit": ind.unit,
                "baseline": ind.baseline,
                "target": ind.target,
                "value": vals["value"],
                "plan": None if plan is None else plan["value"],
                "gap": vals["gap"],
                "attribute": ind.attribute,
                "met": vals["met"],
            }[key]
        if role == Qt.ItemDataRole.TextAlignmentRole and key in self._RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if key == "id":
            return ind.id
        if key == "name":
            return named(ind)
        if key == "unit":
            return ind.unit
        if key == "baseline":
            return fmt_value(ind.baseline, ind.unit) if ind.baseline is not None else "—"
        if key == "target":
            return f"{_OPS.get(ind.operator, ind.operator)}{fmt_value(ind.target, ind.unit)}"
        if key == "value":
            if vals["status"] == "manual_missing":
                return tr(MANUAL_PENDING_ZH, MANUAL_PENDING_EN)
            return fmt_value(vals["value"], ind.unit)
        if key == "plan":
            if plan is None:
                return "—"
            if plan["status"] == "manual_missing":
                return tr(MANUAL_PENDING_ZH, MANUAL_PENDING_EN)
            change = fmt_change(vals["value"], plan["value"], ind.unit)
            shown = fmt_value(plan["value"], ind.unit)
            return f"{shown}（{change}）" if change else shown
        if key == "gap":
            gap = vals["gap"]
            return "0" if gap == 0 else fmt_value(gap, ind.unit)
        if key == "attribute":
            return tr(ind.attribute_zh, ind.attribute)
        return _met_text(vals["met"])

    def _plan_tip(self, now: dict[str, Any], plan: dict[str, Any], unit: str) -> str:
        a, b = fmt_value(now["value"], unit), fmt_value(plan["value"], unit)
        gap = plan["gap"]
        gap_text = "—" if gap is None else ("0" if gap == 0 else fmt_value(gap, unit))
        return tr(
            f"当前 {a} → 规划后 {b}\n规划后差距 {gap_text}，{_met_text(plan['met'])}",
            f"now {a} → with plan {b}\ngap with plan {gap_text}, {_met_text(plan['met'])}",
        )


def _met_text(met: bool | None) -> str:
    return "—" if met is None else (tr("✓ 达标", "✓ met") if met else tr("✗ 未达标", "✗ not met"))


class UnitsTableModel(HeaderedTableModel):
    """One row per 镇/街道 (filtered by county)."""

    def __init__(self) -> None:
        super().__init__()
        self.frame = pd.DataFrame()
        self.type_codes: list[str] = []

    def set_result(self, result: AuditResult | None, indicator_id: str, county_code: str) -> None:
        """Rebuild from a result, for one indicator and county filter."""
        self.beginResetModel()
        if result is None:
            self.frame, self.type_codes = pd.DataFrame(), []
            self.headers = []
        else:
            t = result.units_table()
            if county_code:
                t = t.loc[t["county_code"] == county_code]
            t = t.reset_index(drop=True)
            covered: list[bool | None] = [None] * len(t)
            try:
                r = result.indicator(indicator_id)
            except KeyError:
                r = None
            if r is not None and r.indicator.kind in ("presence", "access"):
                failing = set(r.failing)
                key = "code" if r.indicator.level == "township" else "county_code"
                covered = [
                    (None if (key == "code" and not counted) else k not in failing)
                    for k, counted in zip(t[key], t["counted"], strict=True)
                ]
            t.insert(5, "covered", covered)
            self.frame = t
            self.type_codes = list(result.catalog.type_codes)
            names = {ft.code: named(ft) for ft in result.catalog.facility_types}
            self.headers = [
                tr("代码", "Code"),
                tr("名称", "Name"),
                tr("区县代码", "County code"),
                tr("区县", "County"),
                tr("类型", "Kind"),
                tr("当前指标", "Indicator"),
                tr("计入", "Counted"),
                *[names[c] for c in self.type_codes],
            ]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.frame)

    def row_of(self, code: str) -> int:
        """Row of a unit code (-1 if filtered out)."""
        if not len(self.frame):
            return -1
        hits = (self.frame["code"] == code).to_numpy().nonzero()[0]
        return int(hits[0]) if len(hits) else -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.frame.iloc[index.row()]
        col = index.column()
        value = row.iloc[col]
        if role == KEY_ROLE:
            return str(row["code"])
        if role == RAW_ROLE:
            return value
        if role == Qt.ItemDataRole.BackgroundRole and col == 5:
            return QBrush(MET_COLORS[None if value is None else bool(value)])
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if col == 5:
            return "—" if value is None else ("✓" if value else "✗")
        if col == 6:
            return tr("是", "yes") if bool(value) else tr("否（功能区）", "no (zone)")
        return str(value)


class FindingsModel(HeaderedTableModel):
    """The data issues of a result."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Finding] = []
        self.headers = [
            tr("级别", "Severity"),
            tr("问题", "Issue"),
            tr("文件", "File"),
            tr("工作表", "Sheet"),
            tr("行", "Row"),
            tr("列", "Column"),
            tr("值", "Value"),
            tr("建议", "Suggestion"),
        ]

    def set_findings(self, items: list[Finding]) -> None:
        """Show another list of findings."""
        self.beginResetModel()
        order = {"error": 0, "warning": 1, "info": 2}
        self.items = sorted(items, key=lambda f: order.get(f.severity, 3))
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        f = self.items[index.row()]
        if role == KEY_ROLE:
            return f
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(_SEVERITY_COLORS.get(f.severity, QColor("#ffffff")))
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(f"{f.message_zh}\n{f.message_en}\n({f.code})")
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        sev = {
            "error": tr("错误", "error"),
            "warning": tr("警告", "warning"),
            "info": tr("提示", "info"),
        }
        file = f.file.replace("\\", "/").rsplit("/", 1)[-1] if f.file else ""
        return [
            sev.get(f.severity, f.severity),
            tr(f.message_zh, f.message_en),
            file,
            f.sheet or "",
            "" if f.row is None else str(f.row),
            f.column or "",
            "" if f.value is None else str(f.value),
            f.suggestion or "",
        ][index.column()]


class FacilitiesModel(HeaderedTableModel):
    """Every facility row read, with its assignment."""

    COLUMNS = (
        "source_file",
        "source_row",
        "name",
        "type_raw",
        "unit_code",
        "status",
        "opened",
        "in_service",
        "excluded_reason",
    )

    def __init__(self) -> None:
        super().__init__()
        self.frame = pd.DataFrame()
        self.unit_names: dict[str, str] = {}
        self.headers = [
            tr("文件", "File"),
            tr("行", "Row"),
            tr("名称", "Name"),
            tr("类型", "Type"),
            tr("所属镇(街道)", "Township"),
            tr("状态", "Status"),
            tr("建成时间", "Opened"),
            tr("评估日在用", "In service"),
            tr("排除原因", "Excluded because"),
        ]

    def set_result(self, result: AuditResult | None) -> None:
        """Show the facility rows of a result."""
        self.beginResetModel()
        if result is None:
            self.frame = pd.DataFrame()
        else:
            self.frame = result.facilities.reset_index(drop=True)
            self.unit_names = dict(
                zip(result.units["code"], result.units["name"].astype(str), strict=True)
            )
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.frame)

    def find_row(self, file: str | None, row: int | None) -> int:
        """Row index of the facility read from ``file`` at source row ``row`` (-1 if none)."""
        if not len(self.frame) or row is None:
            return -1
        mask = self.frame["source_row"] == row
        if file:
            mask &= self.frame["source_file"].astype(str) == str(file)
        hits = mask.to_numpy().nonzero()[0]
        return int(hits[0]) if len(hits) else -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rec = self.frame.iloc[index.row()]
        col = self.COLUMNS[index.column()]
        if role == KEY_ROLE:
            code = rec["unit_code"]
            return None if code is None or pd.isna(code) else str(code)
        if role == Qt.ItemDataRole.BackgroundRole and not bool(rec["used"]):
            return QBrush(QColor("#eeeeee"))
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        value = rec[col]
        if col == "source_file":
            return str(value).replace("\\", "/").rsplit("/", 1)[-1]
        if col == "unit_code":
            return (
                ""
                if value is None or pd.isna(value)
                else self.unit_names.get(str(value), str(value))
            )
        if col == "in_service":
            return tr("是", "yes") if bool(value) else tr("否", "no")
        if col == "excluded_reason":
            if value is None or pd.isna(value):
                return ""
            zh, en = EXCLUSION_REASONS.get(str(value), (str(value), str(value)))
            return tr(zh, en)
        if col == "opened":
            return "" if pd.isna(value) else pd.Timestamp(value).date().isoformat()
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return str(value)
