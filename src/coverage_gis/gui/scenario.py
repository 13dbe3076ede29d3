"""The 规划方案 (scenario) panel: planned sites beside the real data.

:class:`ScenarioTableModel` is a Qt model over the session's
:class:`~coverage_gis.siting.scenario.Scenario` (one row per planned site; the 采纳 check box
accepts or rejects a site). :class:`ScenarioPanel` holds the table and the actions:

* 建议选址 — :func:`~coverage_gis.siting.suggest.suggest_sites` for the indicator on the
  map, on the worker; the suggestions are appended *rejected* (the planner accepts them one
  by one), and the solver's status and time are shown under the table;
* 在地图上放置 — placing mode: the next click on the map adds one accepted site of the
  indicator's first facility type (:func:`~coverage_gis.gui.plan.placed_site`) and ends
  placing mode (the map is redrawn after each change, so one click = one site; press the
  button again for the next);
* 删除 (selected rows), 导入方案文件 (a planned-sites file, read on the worker; rows left
  out are listed as data issues), 清空.

Every change goes through :meth:`AuditSession.set_scenario
<coverage_gis.gui.model.AuditSession.set_scenario>`, which re-evaluates the scenario at
once, so the indicator table's 方案 column follows in the same event-loop turn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding
from coverage_gis.gui.i18n import named, tr
from coverage_gis.gui.model import AuditSession
from coverage_gis.gui.plan import placed_site, site_type_for, site_units
from coverage_gis.gui.reporting import show_error
from coverage_gis.gui.richtext import tooltip
from coverage_gis.gui.tables import HeaderedTableModel
from coverage_gis.gui.workers import TaskRunner
from coverage_gis.siting.scenario import PlannedSite, Scenario

__all__ = ["ORIGIN_LABELS", "ScenarioPanel", "ScenarioTableModel"]

Index = QModelIndex | QPersistentModelIndex

#: How each origin of a planned site is shown (Chinese, English).
ORIGIN_LABELS = {
    "manual": ("手动放置", "placed by hand"),
    "suggested": ("选址建议", "suggested"),
    "file": ("方案文件", "from file"),
}

_FILE_FILTER = " (*.csv *.txt *.tsv *.xlsx *.xlsm *.xls *.ods *.geojson *.gpkg *.shp *.kml);;* (*)"


class ScenarioTableModel(HeaderedTableModel):
    """The planned sites of the session's scenario, one row each.

    Columns (:attr:`COLUMNS`): 采纳 (check box), 名称, 类型 (catalogue name), 镇(街道)
    (the unit the site lies in, or 不在任何镇(街道)内), 计划建成, 来源, 新增可达 (the
    residents a suggested site adds within reach).
    """

    #: Column keys in order.
    COLUMNS = ("accepted", "name", "type", "unit", "planned", "origin", "gain")

    def __init__(self, session: AuditSession) -> None:
        super().__init__()
        self.session = session
        self.sites: tuple[PlannedSite, ...] = ()
        self.units: list[str | None] = []
        self._unit_names: dict[str, str] = {}
        self._type_names: dict[str, str] = {}
        self._located: dict[tuple[float, float], str | None] = {}
        self._located_in: object = None
        self.headers = [
            tr("采纳", "Accepted"),
            tr("名称", "Name"),
            tr("类型", "Type"),
            tr("镇(街道)", "Township"),
            tr("计划建成", "Planned"),
            tr("来源", "Origin"),
            tr("新增可达", "Residents added"),
        ]
        session.scenarioChanged.connect(self.refresh)
        session.resultChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Follow the session's scenario (rows reset only when their number changed)."""
        s = self.session
        sites = s.scenario.sites
        units = s.result.units if s.result is not None else None
        if units is not self._located_in:  # other inputs: locate again
            self._located, self._located_in = {}, units
            self._unit_names = (
                {}
                if units is None
                else dict(zip(units["code"].astype(str), units["name"].astype(str), strict=True))
            )
        cat = s.catalog
        self._type_names = {ft.code: named(ft) for ft in cat.facility_types} if cat else {}
        located = site_units(s.scenario, s.scenario_result, units, self._located)
        if len(sites) != len(self.sites):
            self.beginResetModel()
            self.sites, self.units = sites, located
            self.endResetModel()
            return
        self.sites, self.units = sites, located
        if sites:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(sites) - 1, len(self.COLUMNS) - 1)
            )

    # -- Qt model -----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.sites)

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.isValid() and self.COLUMNS[index.column()] == "accepted":
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.sites):
            return None
        site = self.sites[index.row()]
        key = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.CheckStateRole and key == "accepted":
            return Qt.CheckState.Checked if site.accepted else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(self._tip(site))
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "gain":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if key == "accepted":
            return ""
        if key == "name":
            return site.name
        if key == "type":
            return self._type_names.get(site.type_code, site.type_code)
        if key == "unit":
            code = self.units[index.row()] if index.row() < len(self.units) else None
            if code is None:
                return tr("不在任何镇(街道)内", "outside every township")
            return self._unit_names.get(code, code)
        if key == "planned":
            return site.planned.isoformat() if site.planned else tr("不限", "any date")
        if key == "origin":
            zh, en = ORIGIN_LABELS.get(site.origin, (site.origin, site.origin))
            return tr(zh, en)
        if site.gain is None or not math.isfinite(site.gain):
            return ""
        return f"{site.gain:,.0f}"

    def setData(  # noqa: N802 - Qt override
        self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        """Ticking 采纳 accepts the site (the scenario is re-evaluated at once)."""
        if (
            not index.isValid()
            or role != Qt.ItemDataRole.CheckStateRole
            or self.COLUMNS[index.column()] != "accepted"
        ):
            return False
        on = _checked(value)
        row = index.row()
        if row >= len(self.session.scenario.sites):
            return False
        if self.session.scenario.sites[row].accepted != on:
            self.session.set_scenario(self.session.scenario.accepting(row, on))
        return True

    def _tip(self, site: PlannedSite) -> str:
        lines = [
            site.name,
            f"{site.type_code}  ({site.lon:.6f}, {site.lat:.6f})",
        ]
        if site.indicator:
            lines.append(tr(f"为指标 {site.indicator} 建议", f"suggested for {site.indicator}"))
        if site.meets_standard is not None:
            lines.append(
                tr("达标建设", "built to standard")
                if site.meets_standard
                else tr("不达标", "not to standard")
            )
        return "\n".join(lines)


def _checked(value: Any) -> bool:
    if isinstance(value, Qt.CheckState):
        return value == Qt.CheckState.Checked
    return int(value) == int(Qt.CheckState.Checked.value)


class ScenarioPanel(QWidget):
    """The 规划方案 dock: planned sites and the actions on them (see the module docstring).

    Parameters
    ----------
    session
        The window's session (the scenario lives there).
    runner
        The window's worker runner (suggestions and file imports run on it).
    parent
        Parent widget.

    Signals
    -------
    placingChanged(bool)
        Placing mode was turned on or off (the window forwards it to the map).
    findingsChanged
        Data issues of an import or a suggestion were added (or cleared).
    """

    placingChanged = Signal(bool)  # noqa: N815 - Qt naming
    findingsChanged = Signal()  # noqa: N815

    def __init__(
        self, session: AuditSession, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.model = ScenarioTableModel(session)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setWordWrap(False)

        self.suggest_button = QPushButton(tr("建议选址", "Suggest sites"))
        self.place_button = QPushButton(tr("在地图上放置", "Place on map"))
        self.place_button.setCheckable(True)
        self.place_button.setToolTip(
            tr(
                "按下后在地图上点击一处：加入一个当前指标所统计类型的规划点位（每次一个）",
                "Press, then click the map: adds one planned site of the type the current "
                "indicator counts (one per press)",
            )
        )
        self.remove_button = QPushButton(tr("删除", "Remove"))
        self.remove_button.setToolTip(tr("删除选中的点位", "Remove the selected sites"))
        self.import_button = QPushButton(tr("导入方案文件…", "Import plan file…"))
        self.import_button.setToolTip(
            tr(
                "读取规划点位文件（列：名称、类型、经度、纬度、计划建成时间）",
                "Read a planned-sites file (columns: name, type, lon, lat, planned date)",
            )
        )
        self.clear_button = QPushButton(tr("清空", "Clear"))
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # site and file names from data
        self.status.setWordWrap(True)

        buttons = QHBoxLayout()
        for b in (
            self.suggest_button,
            self.place_button,
            self.remove_button,
            self.import_button,
            self.clear_button,
        ):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(buttons)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.status)

        self.suggest_button.clicked.connect(lambda _c=False: self.suggest())
        self.place_button.toggled.connect(self._place_toggled)
        self.remove_button.clicked.connect(lambda _c=False: self.remove_selected())
        self.import_button.clicked.connect(lambda _c=False: self.import_file())
        self.clear_button.clicked.connect(lambda _c=False: self.clear())
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        session.resultChanged.connect(self._update_buttons)
        session.scenarioChanged.connect(self._update_buttons)
        session.indicatorChanged.connect(lambda _i: self._update_buttons())
        self._update_buttons()

    # -- state --------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        s = self.session
        ready = s.result is not None and s.prepared is not None
        ind = s.indicator_id
        self.suggest_button.setEnabled(ready and bool(ind))
        self.suggest_button.setToolTip(
            tr(
                f"为地图上的指标 {ind} 的缺口建议新点位（加入后默认不采纳）",
                f"Suggest new sites for the gaps of {ind}, the indicator on the map "
                "(added not accepted)",
            )
        )
        self.place_button.setEnabled(ready)
        self.remove_button.setEnabled(bool(self.view.selectionModel().selectedRows()))
        self.clear_button.setEnabled(bool(s.scenario.sites))

    @property
    def placing(self) -> bool:
        """True while the next map click places a site."""
        return self.place_button.isChecked()

    def set_status(self, text: str) -> None:
        """Show a line under the table (solver status, import summary)."""
        self.status.setText(text)

    # -- actions ------------------------------------------------------------------------
    def suggest(self) -> None:
        """Suggest sites for the indicator on the map (worker); append them rejected.

        The gaps are those left *with* the current plan (its result when sites are
        accepted), so a township an accepted site already closes gets no second site.
        Errors (an indicator that cannot be sited, no population data) are shown in the
        bilingual error dialog.
        """
        s = self.session
        base, inputs, catalog, prepared = s.shown_result, s.inputs, s.catalog, s.prepared
        indicator = s.indicator_id
        if base is None or inputs is None or catalog is None or not indicator:
            return
        from coverage_gis.siting.scenario import planned_sites_from_suggestion
        from coverage_gis.siting.suggest import suggest_sites

        def work(progress: Callable[[str, str], None]) -> tuple[Any, tuple[PlannedSite, ...]]:
            progress(f"为 {indicator} 建议选址", f"suggesting sites for {indicator}")
            suggestion = suggest_sites(inputs, base, indicator)
            return suggestion, planned_sites_from_suggestion(suggestion, catalog)

        def done(out: tuple[Any, tuple[PlannedSite, ...]]) -> None:
            suggestion, sites = out
            if self.session.prepared is not prepared:  # inputs reloaded meanwhile
                self.set_status(
                    tr(
                        "数据已重新读取，本次选址建议作废",
                        "The inputs were read again; these suggestions were dropped",
                    )
                )
                return
            if len(suggestion.findings):
                self.session.add_plan_findings(list(suggestion.findings))
                self.findingsChanged.emit()
            if sites:
                self.session.set_scenario(self.session.scenario.adding(*sites))
            self.set_status(_suggestion_line(suggestion, len(sites)))

        self.runner.start(work, title=tr("建议选址", "Suggesting sites"), on_done=done)

    def _place_toggled(self, on: bool) -> None:
        if on:
            try:
                self._check_placeable()
            except InputError as exc:
                self.place_button.blockSignals(True)
                self.place_button.setChecked(False)
                self.place_button.blockSignals(False)
                show_error(self.window(), exc, context=tr("放置规划点位", "Placing a site"))
                return
            self.set_status(
                tr(
                    "在地图上点击要放置规划点位的位置",
                    "Click the map where the planned site should be",
                )
            )
        self.placingChanged.emit(on)

    def _check_placeable(self) -> None:
        s = self.session
        if s.catalog is None or s.result is None:
            raise InputError("还没有审计结果", "There is no audit result yet")
        site_type_for(s.catalog, s.indicator_id)

    def set_placing(self, on: bool) -> None:
        """Turn placing mode on or off (as the button does)."""
        self.place_button.setChecked(on)

    def place_at(self, lon: float, lat: float) -> PlannedSite | None:
        """Add a site where the map was clicked (only in placing mode, which then ends).

        Returns
        -------
        PlannedSite or None
            The site added; ``None`` when placing mode was off.
        """
        if not self.placing:
            return None
        s = self.session
        self.set_placing(False)
        if s.catalog is None:
            return None
        try:
            site = placed_site(s.scenario, s.catalog, s.indicator_id, lon, lat)
        except InputError as exc:
            show_error(self.window(), exc, context=tr("放置规划点位", "Placing a site"))
            return None
        s.set_scenario(s.scenario.adding(site))
        self.set_status(
            tr(
                f"已加入 {site.name}（{lon:.5f}, {lat:.5f}）",
                f"Added {site.name} ({lon:.5f}, {lat:.5f})",
            )
        )
        return site

    def selected_rows(self) -> list[int]:
        """Rows selected in the table, in order."""
        return sorted({i.row() for i in self.view.selectionModel().selectedRows()})

    def remove_selected(self) -> None:
        """Remove the selected sites."""
        rows = self.selected_rows()
        if not rows:
            return
        sc = self.session.scenario
        for row in reversed(rows):
            sc = sc.removing(row)
        self.session.set_scenario(sc)

    def clear(self) -> None:
        """Remove every site (the scenario keeps its name) and the import findings."""
        self.session.clear_plan_findings()
        self.session.set_scenario(Scenario(self.session.scenario.name))
        self.findingsChanged.emit()
        self.set_status("")

    def import_file(self, path: str | Path | None = None) -> None:
        """Read a planned-sites file (asks for it when ``path`` is None) on the worker and
        append its sites (accepted); rows left out become data issues."""
        s = self.session
        if s.catalog is None:
            return
        if path is None:
            name, _ = QFileDialog.getOpenFileName(
                self,
                tr("导入规划方案文件", "Import a plan file"),
                "",
                tr("规划点位文件", "Planned-site files") + _FILE_FILTER,
            )
            if not name:
                return
            path = name
        file = Path(path)
        catalog, name = s.catalog, s.scenario.name

        def work(progress: Callable[[str, str], None]) -> tuple[Scenario, list[Finding]]:
            from coverage_gis.siting.scenario import read_scenario_file, scenario_from_rows

            progress(f"读取 {file.name}", f"reading {file.name}")
            rows, found, _described = read_scenario_file(file)
            plan, left_out = scenario_from_rows(rows, catalog, name, file=str(file))
            return plan, [*found, *left_out]

        def done(out: tuple[Scenario, list[Finding]]) -> None:
            plan, findings = out
            if findings:
                self.session.add_plan_findings(findings)
                self.findingsChanged.emit()
            if plan.sites:
                self.session.set_scenario(self.session.scenario.adding(*plan.sites))
            self.set_status(
                tr(
                    f"从 {file.name} 导入 {len(plan.sites)} 个点位；"
                    f"{len(findings)} 条问题见“数据问题”",
                    f"Imported {len(plan.sites)} sites from {file.name}; "
                    f"{len(findings)} issues under Data issues",
                )
            )

        self.runner.start(work, title=tr("导入规划方案文件", "Importing a plan file"), on_done=done)


def _suggestion_line(suggestion: Any, n_sites: int) -> str:
    """One line about a suggestion: sites, model, solver status and time."""
    r = suggestion.result
    seconds = float(r.wall_time_s or 0.0)
    missing = len(suggestion.gaps_without_candidate)
    extra_zh = f"；{missing} 个缺口镇(街道)内没有候选点" if missing else ""
    extra_en = f"; {missing} gap townships have no candidate" if missing else ""
    if n_sites == 0:
        return tr(
            f"{suggestion.indicator}：没有可建议的点位（{r.solver}，{r.status}）{extra_zh}",
            f"{suggestion.indicator}: no site to suggest ({r.solver}, {r.status}){extra_en}",
        )
    return tr(
        f"{suggestion.indicator}：建议 {n_sites} 个点位（未采纳）— 模型 {suggestion.model}，"
        f"求解器 {r.solver}，状态 {r.status}，用时 {seconds:.2f} 秒{extra_zh}",
        f"{suggestion.indicator}: {n_sites} sites suggested (not accepted) — model "
        f"{suggestion.model}, solver {r.solver}, status {r.status}, {seconds:.2f} s{extra_en}",
    )
