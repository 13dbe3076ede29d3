"""Dock panels: township detail, layers, catalogue in use."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListWidget,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from coverage_gis.core.results import AuditResult
from coverage_gis.core.rules import (
    EXCLUSION_REASONS,
    QUALIFICATION_REASONS,
    qualification,
    service_reasons,
)
from coverage_gis.gui.i18n import named, pick, tr
from coverage_gis.gui.model import AuditSession
from coverage_gis.gui.richtext import esc

__all__ = ["CatalogPanel", "LayersPanel", "UnitDetailPanel"]


def _swatch(color: str) -> QIcon:
    pm = QPixmap(14, 14)
    pm.fill(QColor(color))
    return QIcon(pm)


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class UnitDetailPanel(QWidget):
    """Counts by type, missed targets and facilities of the selected township."""

    def __init__(self, session: AuditSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.counts = _table(
            [tr("设施类型", "Facility type"), tr("评估日在用", "In service"), tr("全部", "All")]
        )
        self.missing = QListWidget()
        self.facilities = _table(
            [
                tr("名称", "Name"),
                tr("类型", "Type"),
                tr("状态", "Status"),
                tr("在用", "In service"),
                tr("未计入原因", "Why not counted"),
            ]
        )
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(QLabel(tr("按类型计数", "Counts by type")))
        lay.addWidget(self.counts, 3)
        lay.addWidget(QLabel(tr("未达到的目标", "Targets missed")))
        lay.addWidget(self.missing, 2)
        lay.addWidget(QLabel(tr("设施", "Facilities")))
        lay.addWidget(self.facilities, 3)
        session.unitSelected.connect(self.refresh)
        session.resultChanged.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args: object) -> None:
        """Redraw for the session's selected township."""
        result, code = self.session.result, self.session.unit_code
        self.counts.setRowCount(0)
        self.missing.clear()
        self.facilities.setRowCount(0)
        if result is None or not code:
            self.title.setText(
                tr(
                    "在地图或镇(街道)表中选择一个镇(街道)",
                    "Select a township on the map or in the table",
                )
            )
            return
        units = result.units
        hit = units.loc[units["code"] == code]
        if not len(hit):
            self.title.setText(tr(f"未知代码 {esc(code)}", f"Unknown code {esc(code)}"))
            return
        u = hit.iloc[0]
        counted = bool(u["counted"])
        self.title.setText(
            f"<b style='font-size:15px'>{esc(u['name'])}</b> &nbsp; {esc(u['county'])} · "
            f"{esc(u['kind'])} · {esc(code)}"
            + (
                ""
                if counted
                else tr(
                    "<br><i>功能区，不计入覆盖率分母</i>",
                    "<br><i>functional zone, not in coverage denominators</i>",
                )
            )
            + f"<br>{tr('评估日期', 'As of')} {result.as_of.isoformat()}"
        )
        cat = result.catalog
        q = result.counts_qualifying.loc[code] if code in result.counts_qualifying.index else None
        a = result.counts_all.loc[code] if code in result.counts_all.index else None
        for ft in cat.facility_types:
            row = self.counts.rowCount()
            self.counts.insertRow(row)
            item = QTableWidgetItem(_swatch(ft.color), named(ft))
            item.setData(Qt.ItemDataRole.UserRole, ft.code)
            self.counts.setItem(row, 0, item)
            nq = int(q[ft.code]) if q is not None else 0
            na = int(a[ft.code]) if a is not None else 0
            self.counts.setItem(row, 1, QTableWidgetItem(str(nq)))
            self.counts.setItem(row, 2, QTableWidgetItem(str(na)))
        fac = result.facilities
        in_unit = (fac["unit_code"] == code).to_numpy(dtype=bool)
        positions = np.flatnonzero(in_unit)
        for r in result.indicators:
            ind = r.indicator
            if ind.kind not in ("presence", "access"):
                continue
            key = code if ind.level == "township" else str(u["county_code"])
            if ind.level == "township" and not counted:
                continue
            if key in r.failing:
                scope = "" if ind.level == "township" else tr("（区县级）", " (county level)")
                if r.access is not None:  # how far this unit's residents are from the target
                    by = r.access.by_unit.set_index("code")
                    if code in by.index:
                        fca = ind.access is not None and ind.access.measure == "fca"
                        v = by.at[code, "accessibility" if fca else "share"]
                        shown = f"{v:.1f}{'' if fca else '%'}"
                        scope += tr(f"：{shown}", f": {shown}")
                self.missing.addItem(f"✗ {ind.id} {named(ind)}{scope}")
                why = _not_counted(result, ind.id, positions)
                if why:
                    self.missing.addItem(why)
        if self.missing.count() == 0:
            self.missing.addItem(tr("✓ 没有未达到的目标", "✓ no target missed"))
        mine = fac.iloc[positions]
        names = {ft.code: named(ft) for ft in cat.facility_types}
        down = service_reasons(result)[positions]
        for (_, f), reason in zip(mine.iterrows(), down, strict=True):
            row = self.facilities.rowCount()
            self.facilities.insertRow(row)
            self.facilities.setItem(
                row, 0, QTableWidgetItem(str(f["name"] if pd.notna(f["name"]) else ""))
            )
            self.facilities.setItem(
                row, 1, QTableWidgetItem(names.get(str(f["type_code"]), str(f["type_raw"])))
            )
            self.facilities.setItem(
                row, 2, QTableWidgetItem("" if pd.isna(f["status"]) else str(f["status"]))
            )
            self.facilities.setItem(
                row,
                3,
                QTableWidgetItem(tr("是", "yes") if bool(f["in_service"]) else tr("否", "no")),
            )
            if not bool(f["used"]):
                why = pick(EXCLUSION_REASONS.get(str(f["excluded_reason"]), ("已排除", "excluded")))
            elif reason is not None:
                why = pick(QUALIFICATION_REASONS[reason])
            else:
                why = ""
            self.facilities.setItem(row, 4, QTableWidgetItem(why))

    def count_for(self, type_code: str) -> tuple[int, int]:
        """(in service, all) shown for a facility type (tests)."""
        for row in range(self.counts.rowCount()):
            item = self.counts.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == type_code:
                return int(self.counts.item(row, 1).text()), int(self.counts.item(row, 2).text())
        raise KeyError(type_code)


def _not_counted(result: AuditResult, indicator_id: str, positions: np.ndarray) -> str:
    """The township's facilities of an indicator's types that it does not count, by the
    engine's reason (:func:`coverage_gis.core.rules.qualification`), or "" when there are none."""
    if not len(positions):
        return ""
    q = qualification(result, indicator_id, positions)
    reasons = q["reason"][(q["reason"] != "other_type") & ~q["qualifies"]]
    if not len(reasons):
        return ""
    counts = reasons.value_counts(sort=True)
    parts = [f"{pick(QUALIFICATION_REASONS[str(k)])} {int(v)}" for k, v in counts.items()]
    n = len(reasons)
    return tr(
        f"    本镇(街道)该类设施 {n} 处未计入：{'，'.join(parts)}",
        f"    {n} facility(ies) of its types here not counted: {', '.join(parts)}",
    )


class LayersPanel(QTreeWidget):
    """Boundaries and facility types with count, colour and visibility.

    Like the map page, choosing an indicator shows the facility types it counts; the
    check boxes change that afterwards.
    """

    typesChanged = Signal(list)  # noqa: N815 - Qt naming
    boundariesToggled = Signal(bool)  # noqa: N815

    def __init__(self, session: AuditSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setHeaderLabels([tr("图层", "Layer"), tr("在用 / 全部", "In service / all")])
        self.setRootIsDecorated(True)
        self.boundaries_visible = True
        self.visible_types: set[str] = set()
        self._filling = False
        self.itemChanged.connect(self._changed)
        session.resultChanged.connect(self.refresh)
        session.indicatorChanged.connect(self._indicator_changed)

    def _indicator_changed(self, indicator_id: str) -> None:
        cat = self.session.catalog
        self.visible_types = set()
        if cat is not None:
            try:
                ind = cat.indicator(indicator_id)
            except KeyError:
                ind = None
            if ind is not None and ind.kind in ("presence", "access"):
                self.visible_types = set(ind.facility_types)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the layer list from the session's result."""
        result = self.session.result
        self._filling = True
        self.clear()
        if result is not None:
            b = QTreeWidgetItem([tr("镇(街道)边界", "Township boundaries"), str(len(result.units))])
            b.setData(0, Qt.ItemDataRole.UserRole, "boundaries")
            b.setCheckState(
                0, Qt.CheckState.Checked if self.boundaries_visible else Qt.CheckState.Unchecked
            )
            self.addTopLevelItem(b)
            parent = QTreeWidgetItem([tr("设施", "Facilities"), ""])
            self.addTopLevelItem(parent)
            fac = result.facilities
            located = fac["used"].to_numpy(dtype=bool)
            serving = located & fac["in_service"].to_numpy(dtype=bool)
            tcodes = fac["type_code"].to_numpy(dtype=object)
            for ft in result.catalog.facility_types:
                is_t = tcodes == ft.code
                n_q, n_all = int(np.sum(serving & is_t)), int(np.sum(located & is_t))
                it = QTreeWidgetItem([named(ft), f"{n_q} / {n_all}"])
                it.setIcon(0, _swatch(ft.color))
                it.setData(0, Qt.ItemDataRole.UserRole, ft.code)
                on = ft.code in self.visible_types
                it.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                parent.addChild(it)
            parent.setExpanded(True)
            self.resizeColumnToContents(0)
        self._filling = False

    def _changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling or column != 0:
            return
        layer = item.data(0, Qt.ItemDataRole.UserRole)
        if not layer:
            return
        visible = item.checkState(0) == Qt.CheckState.Checked
        if layer == "boundaries":
            self.boundaries_visible = visible
            self.boundariesToggled.emit(visible)
            return
        if visible:
            self.visible_types.add(str(layer))
        else:
            self.visible_types.discard(str(layer))
        order = list(self.session.catalog.type_codes) if self.session.catalog else []
        self.typesChanged.emit([c for c in order if c in self.visible_types])


class CatalogPanel(QLabel):
    """The catalogue in use."""

    def __init__(self, session: AuditSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)  # built below with every piece escaped
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        session.loaded.connect(self.refresh)

    def refresh(self) -> None:
        """Describe the session's catalogue."""
        cat = self.session.catalog
        if cat is None:
            self.setText("")
            return
        kinds: dict[str, int] = {}
        for ind in cat.indicators:
            kinds[ind.kind] = kinds.get(ind.kind, 0) + 1
        source = esc(", ".join(p.replace("\\", "/").rsplit("/", 1)[-1] for p in cat.source_files))
        ident, version = esc(cat.id), esc(cat.version)
        self.setText(
            f"<b>{esc(named(cat))}</b><br>"
            + tr(
                f"编号 {ident}，版本 {version}<br>指标 {len(cat.indicators)} 项"
                f"（设施覆盖 {kinds.get('presence', 0)}，比例 {kinds.get('ratio', 0)}，"
                f"人工填报 {kinds.get('manual', 0)}）<br>设施类型 {len(cat.facility_types)} 种<br>文件：{source}",
                f"id {ident}, version {version}<br>{len(cat.indicators)} indicators "
                f"({kinds.get('presence', 0)} presence, {kinds.get('ratio', 0)} ratio, "
                f"{kinds.get('manual', 0)} manual)<br>{len(cat.facility_types)} facility types<br>file: {source}",
            )
        )
