"""The main window: map in the centre, tables and panels in docks, work in workers."""

from __future__ import annotations

import copy
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSlider,
    QSplitter,
    QTableView,
    QToolBar,
    QWidget,
)

from coverage_gis.core.results import AuditOptions, AuditResult
from coverage_gis.gui import paths
from coverage_gis.gui.dialogs import MappingDialog, confirm_outside_inputs
from coverage_gis.gui.exports import ExportController
from coverage_gis.gui.i18n import language, set_language, tr
from coverage_gis.gui.mapview import MapView, map_indicators, map_patch, write_map_html
from coverage_gis.gui.model import (
    PLAN_YEARS,
    AuditSession,
    Loaded,
    evaluate,
    load_session,
    plan_years,
)
from coverage_gis.gui.panels import CatalogPanel, LayersPanel, UnitDetailPanel
from coverage_gis.gui.plan import ScenarioOutcome, evaluate_plan, scenario_findings
from coverage_gis.gui.preview import FilePreview, preview_facility_file
from coverage_gis.gui.project import (
    FacilitySource,
    Project,
    load_project,
    outside_paths,
)
from coverage_gis.gui.projects import ProjectFiles
from coverage_gis.gui.reporting import logger, show_error
from coverage_gis.gui.richtext import tooltip
from coverage_gis.gui.scenario import ScenarioPanel
from coverage_gis.gui.tables import (
    KEY_ROLE,
    FacilitiesModel,
    FindingsModel,
    IndicatorTableModel,
    UnitsTableModel,
)
from coverage_gis.gui.workers import TaskRunner
from coverage_gis.siting.scenario import suggested_layer
from coverage_gis.workflow import demo_access_paths, demo_boundaries_path, demo_facilities_paths

__all__ = ["MainWindow"]

_FACILITY_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt", ".tsv"}
_BOUNDARY_SUFFIXES = {".geojson", ".gpkg", ".shp", ".zip", ".kml", ".parquet", ".geoparquet"}
_PROJECT_SUFFIXES = {".cgproj", ".toml"}


def _view(model: Any) -> QTableView:
    v = QTableView()
    v.setModel(model)
    v.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    v.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    v.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    v.setAlternatingRowColors(False)
    v.verticalHeader().setVisible(False)
    v.horizontalHeader().setStretchLastSection(True)
    v.setWordWrap(False)
    return v


class MainWindow(QMainWindow):
    """The planner's workbench.

    Parameters
    ----------
    t_launch
        ``time.perf_counter()`` at program start, to measure launch-to-map time.
    """

    #: Emitted once, when the first map is drawn (seconds since launch).
    firstMapReady = Signal(float)  # noqa: N815 - Qt naming
    #: Emitted after each successful load (inputs read and audited).
    sessionLoaded = Signal()  # noqa: N815
    #: Emitted when a load failed.
    loadFailed = Signal()  # noqa: N815
    #: Asks the application to rebuild the window in another language.
    languageChangeRequested = Signal(str)  # noqa: N815

    def __init__(self, *, t_launch: float | None = None) -> None:
        super().__init__()
        self.t_launch = t_launch if t_launch is not None else time.perf_counter()
        self.launch_to_map: float | None = None
        self.session = AuditSession(self)
        self.runner = TaskRunner(self)
        self._tmp = tempfile.TemporaryDirectory(prefix="coverage-gis-map-")
        self._map_serial = 0
        self._render_running = False
        self._render_pending = False
        # indicator order and language of the page on screen (for in-place updates)
        self._page_indicators: list[str] | None = None
        self._page_lang = ""
        self._eval_running = False
        self._eval_pending = False
        self._previews: dict[str, list[FilePreview]] = {}
        self.setWindowTitle(
            tr("镇(街道)民政设施覆盖审计", "Township civil-affairs facility coverage")
        )
        self.resize(1400, 900)
        self.setAcceptDrops(True)

        self.map = MapView(self)
        self.setCentralWidget(self.map)
        self.exports = ExportController(
            self, self.session, self.runner, self.map, self.statusBar().showMessage
        )
        self.projects = ProjectFiles(
            self,
            current=self.current_project,
            has_result=lambda: self.session.result is not None,
            open_file=self.open_project_file,
            status=self.statusBar().showMessage,
        )
        self.projects.saved.connect(self._on_saved)
        self._build_toolbar()
        self._build_docks()
        self._build_status()
        self._build_menus()
        self._connect()

        self._eval_timer = QTimer(self)
        self._eval_timer.setSingleShot(True)
        self._eval_timer.setInterval(150)
        self._eval_timer.timeout.connect(self._evaluate_now)
        self._restore_window_state()

    # ------------------------------------------------------------------ construction
    def _build_toolbar(self) -> None:
        tb = QToolBar(tr("评估", "Evaluation"), self)
        tb.setObjectName("evaluation_toolbar")
        self.addToolBar(tb)
        tb.addWidget(QLabel(tr(" 评估年份 ", " Year ")))
        self.year_slider = QSlider(Qt.Orientation.Horizontal)
        self.year_slider.setRange(*PLAN_YEARS)
        self.year_slider.setPageStep(1)
        self.year_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.year_slider.setTickInterval(1)
        self.year_slider.setFixedWidth(160)
        self.year_slider.setToolTip(
            tr("拖动选择评估年份（年末）", "Drag to choose the evaluation year (year end)")
        )
        tb.addWidget(self.year_slider)
        self.year_label = QLabel()
        self.year_label.setMinimumWidth(40)
        tb.addWidget(self.year_label)
        tb.addWidget(QLabel(tr(" 评估日期 ", " Date ")))
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setDateRange(QDate(1990, 1, 1), QDate(2100, 12, 31))
        tb.addWidget(self.date_edit)
        tb.addSeparator()
        tb.addWidget(QLabel(tr(" 区县 ", " County ")))
        self.county_combo = QComboBox()
        self.county_combo.setMinimumWidth(140)
        tb.addWidget(self.county_combo)
        self._set_date_controls(self.session.as_of)

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        d = QDockWidget(title, self)
        d.setObjectName(name)
        d.setWidget(widget)
        self.addDockWidget(area, d)
        return d

    def _build_docks(self) -> None:
        s = self.session
        self.layers = LayersPanel(s)
        self.catalog_panel = CatalogPanel(s)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.layers)
        left.addWidget(self.catalog_panel)
        left.setSizes([500, 200])
        self.layers_dock = self._dock(
            "layers",
            tr("图层与指标目录", "Layers and catalogue"),
            left,
            Qt.DockWidgetArea.LeftDockWidgetArea,
        )
        self.detail = UnitDetailPanel(s)
        self.detail_dock = self._dock(
            "detail",
            tr("镇(街道)详情", "Township detail"),
            self.detail,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        # below the detail, so the indicator table (bottom) stays in view while sites
        # are accepted
        self.scenario_panel = ScenarioPanel(s, self.runner)
        self.scenario_dock = self._dock(
            "scenario",
            tr("规划方案", "Scenario"),
            self.scenario_panel,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )

        self.indicator_model = IndicatorTableModel()
        self.indicator_view = _view(self.indicator_model)
        self.indicator_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.units_model = UnitsTableModel()
        self.units_view = _view(self.units_model)
        self.findings_model = FindingsModel()
        self.findings_view = _view(self.findings_model)
        self.facilities_model = FacilitiesModel()
        self.facilities_view = _view(self.facilities_model)
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.indicator_dock = self._dock(
            "indicators", tr("指标表", "Indicators"), self.indicator_view, bottom
        )
        self.units_dock = self._dock(
            "units", tr("镇(街道)表", "Townships"), self.units_view, bottom
        )
        self.findings_dock = self._dock(
            "issues", tr("数据问题", "Data issues"), self.findings_view, bottom
        )
        self.facilities_dock = self._dock(
            "facilities", tr("设施行", "Facility rows"), self.facilities_view, bottom
        )
        self.tabifyDockWidget(self.indicator_dock, self.units_dock)
        self.tabifyDockWidget(self.units_dock, self.findings_dock)
        self.tabifyDockWidget(self.findings_dock, self.facilities_dock)
        self.indicator_dock.raise_()
        self.resizeDocks([self.indicator_dock], [300], Qt.Orientation.Vertical)
        self.resizeDocks(
            [self.layers_dock, self.detail_dock], [260, 330], Qt.Orientation.Horizontal
        )

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.files_label = QLabel()
        self.rows_label = QLabel()
        self.issues_label = QLabel()
        self.timing_label = QLabel()
        for w in (self.files_label, self.rows_label, self.issues_label, self.timing_label):
            w.setTextFormat(Qt.TextFormat.PlainText)  # file names from the user
            sb.addPermanentWidget(w)

    def _action(
        self, text: str, slot: Callable[[], Any], shortcut: QKeySequence | str | None = None
    ) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(shortcut)
        a.triggered.connect(lambda _checked=False: slot())
        return a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu(tr("文件(&F)", "&File"))
        self.act_open_boundaries = self._action(
            tr("打开边界…", "Open boundaries…"), self.open_boundaries
        )
        self.act_open_facilities = self._action(
            tr("打开设施名录…（可多选）", "Open facilities… (several)"), self.open_facilities
        )
        self.act_open_population = self._action(
            tr("打开人口数据（村/社区表或栅格）…", "Open population (communities or raster)…"),
            lambda: self.open_access_input("population"),
        )
        self.act_open_water = self._action(
            tr("打开水域图层…", "Open water layer…"), lambda: self.open_access_input("water")
        )
        self.act_open_roads = self._action(
            tr("打开道路网络…", "Open road network…"), lambda: self.open_access_input("roads")
        )
        self.act_demo = self._action(tr("打开内置苏州示例", "Open the Suzhou demo"), self.open_demo)
        self.act_open_project = self._action(
            tr("打开项目…", "Open project…"),
            self.open_project_dialog,
            QKeySequence.StandardKey.Open,
        )
        self.act_save = self._action(
            tr("保存项目", "Save project"), self.projects.save, QKeySequence.StandardKey.Save
        )
        self.act_save_as = self._action(
            tr("项目另存为…", "Save project as…"),
            self.projects.save_as,
            QKeySequence.StandardKey.SaveAs,
        )
        self.act_export_html = self._action(
            tr("导出 HTML 地图…", "Export HTML map…"), self.exports.html
        )
        self.act_export_xlsx = self._action(
            tr("导出 Excel 报告…", "Export Excel report…"), self.exports.xlsx
        )
        self.act_export_png = self._action(
            tr("导出 PNG 地图…", "Export PNG map…"), self.exports.png
        )
        self.act_quit = self._action(tr("退出", "Quit"), self.close, QKeySequence.StandardKey.Quit)
        f.clear()
        f.addActions([self.act_open_boundaries, self.act_open_facilities])
        f.addActions([self.act_open_population, self.act_open_water, self.act_open_roads])
        f.addAction(self.act_demo)
        f.addSeparator()
        f.addAction(self.act_open_project)
        f.addMenu(self.projects.recent_menu)
        f.addActions([self.act_save, self.act_save_as])
        f.addSeparator()
        exp = f.addMenu(tr("导出", "Export"))
        exp.addActions([self.act_export_html, self.act_export_xlsx, self.act_export_png])
        f.addSeparator()
        f.addAction(self.act_quit)

        v = mb.addMenu(tr("视图(&V)", "&View"))
        for d in (
            self.layers_dock,
            self.detail_dock,
            self.scenario_dock,
            self.indicator_dock,
            self.units_dock,
            self.findings_dock,
            self.facilities_dock,
        ):
            v.addAction(d.toggleViewAction())

        s = mb.addMenu(tr("设置(&S)", "&Settings"))
        self.act_zones = QAction(
            tr("功能区计入镇(街道)分母", "Count functional zones in township denominators"), self
        )
        self.act_zones.setCheckable(True)
        self.act_zones.toggled.connect(self._zones_toggled)
        s.addAction(self.act_zones)
        lang_menu = s.addMenu(tr("界面语言 / Language", "Language / 界面语言"))
        group = QActionGroup(self)
        for code, label in (("zh", "中文"), ("en", "English")):
            a = QAction(label, self)
            a.setCheckable(True)
            a.setChecked(language() == code)
            a.triggered.connect(lambda _c=False, c=code: self.change_language(c))
            group.addAction(a)
            lang_menu.addAction(a)

        h = mb.addMenu(tr("帮助(&H)", "&Help"))
        h.addAction(self._action(tr("关于", "About"), self._about))
        h.addAction(self._action(tr("日志文件位置", "Log file location"), self._show_log_location))

    def _connect(self) -> None:
        s = self.session
        s.resultChanged.connect(self._on_result)
        s.loaded.connect(self._on_loaded)
        s.indicatorChanged.connect(self._on_indicator)
        s.unitSelected.connect(self._on_unit)
        s.countyChanged.connect(self._on_county)
        s.scenarioChanged.connect(self._on_scenario)
        self.map.unitClicked.connect(s.select_unit)
        self.map.indicatorPicked.connect(s.select_indicator)
        self.map.pointClicked.connect(self.scenario_panel.place_at)
        self.scenario_panel.placingChanged.connect(self.map.set_placing)
        self.scenario_panel.findingsChanged.connect(self._show_findings)
        self.map.mapReady.connect(self._on_map_ready)
        self.layers.typesChanged.connect(self.map.set_facility_types)
        self.layers.boundariesToggled.connect(self.map.set_boundaries_visible)
        self.year_slider.valueChanged.connect(self._year_changed)
        self.date_edit.dateChanged.connect(self._date_changed)
        self.county_combo.currentIndexChanged.connect(self._county_picked)
        self.indicator_view.selectionModel().currentRowChanged.connect(self._indicator_row)
        self.units_view.selectionModel().currentRowChanged.connect(self._unit_row)
        self.findings_view.doubleClicked.connect(self._finding_activated)
        self.facilities_view.doubleClicked.connect(self._facility_activated)

    # ------------------------------------------------------------------ loading
    def open_demo(self) -> None:
        """Load the embedded Suzhou demo."""
        self.load_project(Project(demo=True, as_of=self.session.as_of.isoformat()))

    def load_project(
        self,
        project: Project,
        *,
        path: Path | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Read and audit a project's inputs in a worker; adopt them when done.

        The current state stays on screen until the new inputs are read; if reading
        fails the error is shown and nothing changes.
        """
        as_of = dt.date.fromisoformat(project.as_of) if project.as_of else self.session.as_of

        def done(loaded: Loaded) -> None:
            if path is not None:
                self.projects.opened(path)
            self.session.set_loaded(loaded)
            self.sessionLoaded.emit()
            self.projects.schedule_autosave()
            if then is not None:
                then()

        self.runner.start(
            lambda progress: load_session(project, as_of, progress),
            title=tr("读取并审计", "Reading and auditing"),
            on_done=done,
            on_error=lambda _exc: self.loadFailed.emit(),
        )

    def open_project_file(self, path: str | Path) -> None:
        """Open a saved project file.

        When the project names input files outside its own folder the user is shown the
        list and asked first; on No nothing is read and the current state stays.
        """
        p = Path(path)
        try:
            project = load_project(p)
        except Exception as exc:
            show_error(self, exc, context=tr("打开项目", "Opening a project"))
            return
        outside = outside_paths(project, p)
        if not confirm_outside_inputs(self, p, outside):
            logger.warning("project %s: not opened, inputs outside its folder: %s", p, outside)
            self.statusBar().showMessage(
                tr(f"未打开项目 {p.name}", f"Project {p.name} not opened"), 10000
            )
            return
        self.load_project(project, path=p)

    def open_project_dialog(self) -> None:
        """File › Open project."""
        name, _ = QFileDialog.getOpenFileName(
            self,
            tr("打开项目", "Open project"),
            str(paths.last_dir()),
            tr(
                "coverage-gis 项目 (*.json *.toml *.cgproj)",
                "coverage-gis project (*.json *.toml *.cgproj)",
            ),
        )
        if name:
            paths.remember_dir(name)
            self.open_project_file(name)

    def _editable_project(self) -> Project:
        """A copy of the current project with the demo replaced by its real paths."""
        p = copy.deepcopy(self.session.project)
        p.as_of = self.selected_date().isoformat()
        if self.session.result is None:
            return p
        p.indicator = self.session.indicator_id or None
        p.county = self.session.county_code or None
        if p.demo:
            p.demo = False
            p.boundaries = str(demo_boundaries_path())
            p.facilities = [FacilitySource(str(x)) for x in demo_facilities_paths()]
            for key, path in demo_access_paths().items():
                setattr(p, key, str(path))
        return p

    _ACCESS_FILTERS: ClassVar[dict[str, tuple[str, str, str]]] = {
        "population": (
            "打开人口数据",
            "Open population data",
            " (*.csv *.txt *.xlsx *.xls *.geojson *.gpkg *.shp *.zip *.tif *.tiff);;* (*)",
        ),
        "water": (
            "打开水域图层",
            "Open water layer",
            " (*.geojson *.json *.gpkg *.shp *.zip *.parquet);;* (*)",
        ),
        "roads": (
            "打开道路网络",
            "Open road network",
            " (*.geojson *.json *.gpkg *.shp *.zip *.parquet);;* (*)",
        ),
    }

    def open_access_input(self, key: str) -> None:
        """File › Open population / water / roads (inputs of the access indicators)."""
        zh, en, pattern = self._ACCESS_FILTERS[key]
        name, _ = QFileDialog.getOpenFileName(
            self, tr(zh, en), str(paths.last_dir()), tr("文件", "Files") + pattern
        )
        if name:
            paths.remember_dir(name)
            self.set_access_input(key, name)

    def set_access_input(self, key: str, path: str | Path) -> None:
        """Use another population, water or road file and audit again."""
        if key not in self._ACCESS_FILTERS:
            raise ValueError(key)
        p = self._editable_project()
        setattr(p, key, str(Path(path).resolve()))
        if p.has_inputs:
            self.load_project(p)
        else:
            self.session.project = p

    def open_boundaries(self) -> None:
        """File › Open boundaries."""
        name, _ = QFileDialog.getOpenFileName(
            self,
            tr("打开镇(街道)边界", "Open township boundaries"),
            str(paths.last_dir()),
            tr("边界文件", "Boundary files")
            + " (*.geojson *.json *.gpkg *.shp *.zip *.kml *.parquet);;* (*)",
        )
        if name:
            paths.remember_dir(name)
            self.set_boundaries(name)

    def set_boundaries(self, path: str | Path) -> None:
        """Use another boundary file.

        Leaving the demo drops the demo facility list (it belongs to the demo boundaries);
        the audit runs as soon as there is at least one facility file.
        """
        was_demo = self.session.project.demo
        p = self._editable_project()
        p.boundaries = str(Path(path).resolve())
        if was_demo:
            p.facilities = []
        if p.facilities:
            self.load_project(p)
            return
        self.session.project = p
        self.files_label.setText(tr(f"边界：{Path(path).name}", f"Boundaries: {Path(path).name}"))
        self.statusBar().showMessage(
            tr("已选择边界文件；请打开设施名录", "Boundaries chosen; now open the facility lists"),
            15000,
        )

    def open_facilities(self) -> None:
        """File › Open facilities (several files)."""
        names, _ = QFileDialog.getOpenFileNames(
            self,
            tr("打开设施名录", "Open facility lists"),
            str(paths.last_dir()),
            tr("设施名录", "Facility lists")
            + " (*.xlsx *.xls *.csv *.txt *.geojson *.gpkg *.shp *.kml);;* (*)",
        )
        if names:
            paths.remember_dir(names[0])
            self.add_facility_files(names)

    def add_facility_files(
        self, files: list[str] | list[Path], *, replace_demo: bool = True
    ) -> None:
        """Preview new facility files (worker), ask about uncertain columns, then reload."""
        files = [str(Path(f).resolve()) for f in files]

        def work(progress: Callable[[str, str], None]) -> dict[str, list[FilePreview]]:
            out = {}
            for f in files:
                progress(f"预览 {Path(f).name}", f"previewing {Path(f).name}")
                out[f] = preview_facility_file(f)
            return out

        self.runner.start(
            work,
            title=tr("预览设施文件", "Previewing facility files"),
            on_done=lambda pv: self._after_preview(pv, replace_demo),
        )

    def _after_preview(self, previews: dict[str, list[FilePreview]], replace_demo: bool) -> None:
        self._previews.update(previews)
        was_demo = self.session.project.demo
        project = self._editable_project()
        if was_demo and replace_demo:
            project.facilities = []
        if project.boundaries is None:
            project.boundaries = str(demo_boundaries_path())
        new: list[str] = []
        for path, tables in previews.items():
            src = FacilitySource(path)
            if tables and all(t.uncertain for t in tables):
                dlg = MappingDialog(tables[0], parent=self)
                if dlg.exec() != QDialog.DialogCode.Accepted:
                    continue
                src.columns = dlg.mapping()
                src.crs = dlg.crs_value()
            project.facilities = [f for f in project.facilities if f.path != path] + [src]
            new.append(path)
        if not new:
            return
        self.load_project(project, then=lambda: self._check_crs(new))

    def _check_crs(self, files: list[str]) -> None:
        """Offer the mapping dialog when a file's CRS looks like another system."""
        inputs = self.session.inputs
        if inputs is None:
            return
        by_path = {
            str(Path(i["path"]).resolve()): i
            for i in inputs.inputs
            if i.get("role") == "facilities"
        }
        project = self._editable_project()
        changed = False
        for f in files:
            info = by_path.get(f)
            src = next((s for s in project.facilities if s.path == f), None)
            if info is None or src is None or info.get("crs_declared"):
                continue
            rec = info.get("crs_suggested")
            if not rec or rec in ("wgs84", "cgcs2000"):
                continue
            tables = self._previews.get(f) or []
            if not tables:
                continue
            dlg = MappingDialog(
                tables[0],
                suggested_crs=rec,
                current_crs=src.crs,
                mapping=src.columns,
                reasons=[
                    (
                        f"坐标看起来是 {rec}（与所属镇(街道)更一致），当前按 WGS84 读取",
                        f"The coordinates look like {rec} (they agree better with the named townships); read as WGS84 now",
                    )
                ],
                parent=self,
            )
            if dlg.exec() == QDialog.DialogCode.Accepted:
                src.crs = dlg.crs_value()
                mapping = dlg.mapping()
                if any(t.uncertain for t in tables):
                    src.columns = mapping
                changed = True
        if changed:
            self.load_project(project)

    # ------------------------------------------------------------------ evaluation
    def _set_date_controls(self, date: dt.date) -> None:
        for w in (self.year_slider, self.date_edit):
            w.blockSignals(True)
        lo, hi = self.year_slider.minimum(), self.year_slider.maximum()
        self.year_slider.setValue(min(max(date.year, lo), hi))
        self.year_label.setText(str(date.year))
        self.date_edit.setDate(QDate(date.year, date.month, date.day))
        for w in (self.year_slider, self.date_edit):
            w.blockSignals(False)

    def _year_changed(self, year: int) -> None:
        self.year_label.setText(str(year))
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(year, 12, 31))
        self.date_edit.blockSignals(False)
        self._eval_timer.start()

    def _date_changed(self, date: QDate) -> None:
        self.year_slider.blockSignals(True)
        lo, hi = self.year_slider.minimum(), self.year_slider.maximum()
        self.year_slider.setValue(min(max(date.year(), lo), hi))
        self.year_slider.blockSignals(False)
        self.year_label.setText(str(date.year()))
        self._eval_timer.start()

    def selected_date(self) -> dt.date:
        """The evaluation date shown in the date control."""
        d = self.date_edit.date()
        return dt.date(d.year(), d.month(), d.day())

    def _options(self) -> AuditOptions:
        base = self.session.prepared.options if self.session.prepared else AuditOptions()
        return AuditOptions(
            include_functional_zones=self.act_zones.isChecked(),
            manual_values=dict(base.manual_values),
        )

    def _zones_toggled(self, on: bool) -> None:
        self.session.project.include_functional_zones = on
        self._eval_timer.start()

    def _evaluate_now(self) -> None:
        prepared = self.session.prepared
        if prepared is None:
            return
        if self._eval_running:
            self._eval_pending = True
            return
        self._eval_running = True
        as_of, options = self.selected_date(), self._options()
        scenario = self.session.scenario

        def work(progress: Callable[[str, str], None]) -> tuple[AuditResult, ScenarioOutcome]:
            result = evaluate(prepared, as_of, progress, options)
            if scenario.accepted:
                progress("计算规划方案", "evaluating the scenario")
            return result, evaluate_plan(prepared, scenario, result.as_of, result.options)

        def done(out: tuple[AuditResult, ScenarioOutcome]) -> None:
            self._eval_running = False
            if self.session.prepared is not prepared:  # inputs were reloaded meanwhile
                if self.session.as_of != self.selected_date():
                    self._eval_timer.start()
                return
            # a scenario edited meanwhile is evaluated again by the session
            self.session.set_result(*out)
            self.projects.schedule_autosave()
            if self._eval_pending:
                self._eval_pending = False
                self._evaluate_now()

        def failed(_exc: BaseException) -> None:
            self._eval_running = False
            self._eval_pending = False

        self.runner.start(
            work,
            title=tr("重新计算指标", "Re-evaluating indicators"),
            on_done=done,
            on_error=failed,
            dialog=False,
        )

    # ------------------------------------------------------------------ session → views
    def _on_loaded(self) -> None:
        s = self.session
        assert s.result is not None
        self.act_zones.blockSignals(True)
        self.act_zones.setChecked(s.project.include_functional_zones)
        self.act_zones.blockSignals(False)
        self.year_slider.blockSignals(True)
        self.year_slider.setRange(*plan_years(s.catalog))  # the catalogue's plan period
        self.year_slider.blockSignals(False)
        self._set_date_controls(s.as_of)
        self.county_combo.blockSignals(True)
        self.county_combo.clear()
        self.county_combo.addItem(tr("全市", "Whole city"), "")
        for code, name in zip(
            s.result.counties["county_code"], s.result.counties["county"], strict=True
        ):
            self.county_combo.addItem(f"{name}", str(code))
        self.county_combo.setCurrentIndex(max(self.county_combo.findData(s.county_code), 0))
        self.county_combo.blockSignals(False)
        self._show_findings()
        self._update_title()

    def _update_title(self) -> None:
        """The project file's name (and whether it is the demo) in the window title."""
        path = self.projects.path
        name = path.name if path else tr("未保存的项目", "unsaved project")
        demo = tr("（示例数据）", " (demo data)") if self.session.project.demo else ""
        self.setWindowTitle(
            f"{name}{demo} — "
            + tr("镇(街道)民政设施覆盖审计", "Township civil-affairs facility coverage")
        )

    def _on_saved(self, _path: Path) -> None:
        self._update_title()

    def _show_findings(self) -> None:
        """The data issues: the audit's, then those of scenario imports and suggestions,
        then those about the scenario's own rows (a site outside every township …)."""
        s = self.session
        self.findings_model.set_findings(
            [
                *(s.prepared.findings if s.prepared else []),
                *s.plan_findings,
                *scenario_findings(s.scenario, s.scenario_result),
            ]
        )

    def _on_scenario(self) -> None:
        """The scenario changed: the indicator table's 方案 column now, the map after."""
        s = self.session
        if s.result is None:
            return
        # same real result: only the 方案 column changes (no reset)
        self.indicator_model.set_result(s.result, s.county_code, s.scenario_result)
        self._select_indicator_row(s.indicator_id)
        self._show_findings()
        # other facility rows: the page cannot be patched in place, write it again
        self.render_map(full=True)
        self.projects.schedule_autosave()

    def _on_result(self) -> None:
        s = self.session
        result = s.result
        if result is None:
            return
        self.indicator_model.set_result(result, s.county_code, s.scenario_result)
        self.units_model.set_result(result, s.indicator_id, s.county_code)
        self.facilities_model.set_result(result)
        self.indicator_view.resizeColumnsToContents()
        self._select_indicator_row(s.indicator_id)
        self._select_unit_row(s.unit_code)
        self._update_status()
        self.render_map()

    def _update_status(self) -> None:
        result = self.session.result
        if result is None:
            return
        files = [Path(i["path"]).name for i in result.inputs]
        self.files_label.setText(tr("文件：", "Files: ") + tr("，", ", ").join(files))
        self.files_label.setToolTip(tooltip("\n".join(str(i["path"]) for i in result.inputs)))
        acc = result.accounting
        read = int(acc["rows_read"].sum()) if len(acc) else 0
        used = int(acc["rows_used"].sum()) if len(acc) else 0
        self.rows_label.setText(
            tr(
                f"设施行：读取 {read}，计入 {used}，排除 {read - used}",
                f"Rows: read {read}, used {used}, excluded {read - used}",
            )
        )
        f = result.findings
        self.issues_label.setText(
            tr(
                f"数据问题 {len(f)} 条（错误 {f.count('error')}，警告 {f.count('warning')}）",
                f"{len(f)} data issues ({f.count('error')} errors, {f.count('warning')} warnings)",
            )
        )

    def _on_indicator(self, indicator_id: str) -> None:
        self.map.set_indicator(indicator_id)
        self._select_indicator_row(indicator_id)
        self.units_model.set_result(self.session.result, indicator_id, self.session.county_code)
        self._select_unit_row(self.session.unit_code)
        self.projects.schedule_autosave()

    def _on_unit(self, code: str) -> None:
        self.map.zoom_to(code)
        self._select_unit_row(code)

    def _on_county(self, county_code: str) -> None:
        s = self.session
        self.indicator_model.set_result(s.result, county_code, s.scenario_result)
        self.units_model.set_result(s.result, s.indicator_id, county_code)
        self._select_indicator_row(s.indicator_id)
        self._select_unit_row(s.unit_code)
        if county_code:
            self.map.zoom_to(county_code)
        self.projects.schedule_autosave()

    def _select_indicator_row(self, indicator_id: str) -> None:
        row = self.indicator_model.row_of(indicator_id)
        sm = self.indicator_view.selectionModel()
        if row >= 0 and not sm.isRowSelected(row, QModelIndex()):
            sm.blockSignals(True)
            self.indicator_view.selectRow(row)
            sm.blockSignals(False)

    def _select_unit_row(self, code: str) -> None:
        row = self.units_model.row_of(code) if code else -1
        sm = self.units_view.selectionModel()
        sm.blockSignals(True)
        if row >= 0:
            self.units_view.selectRow(row)
            self.units_view.scrollTo(self.units_model.index(row, 0))
        else:
            self.units_view.clearSelection()
        sm.blockSignals(False)

    def _indicator_row(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if current.isValid():
            self.session.select_indicator(str(self.indicator_model.data(current, KEY_ROLE)))

    def _unit_row(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if current.isValid():
            self.session.select_unit(str(self.units_model.data(current, KEY_ROLE)))

    def _county_picked(self, _index: int) -> None:
        self.session.set_county(str(self.county_combo.currentData() or ""))

    def _finding_activated(self, index: QModelIndex) -> None:
        finding = self.findings_model.data(index, KEY_ROLE)
        if finding is None:
            return
        row = self.facilities_model.find_row(finding.file, finding.row)
        if row >= 0:
            self.facilities_dock.raise_()
            self.facilities_view.selectRow(row)
            self.facilities_view.scrollTo(self.facilities_model.index(row, 0))
            code = self.facilities_model.data(self.facilities_model.index(row, 0), KEY_ROLE)
            if code:
                self.session.select_unit(code)
            return
        result = self.session.result
        if result is not None and finding.value is not None:
            units = result.units
            hit = units.loc[
                (units["name"] == str(finding.value)) | (units["code"] == str(finding.value))
            ]
            if len(hit):
                self.session.select_unit(str(hit["code"].iloc[0]))
                self.units_dock.raise_()

    def _facility_activated(self, index: QModelIndex) -> None:
        code = self.facilities_model.data(index, KEY_ROLE)
        if code:
            self.session.select_unit(code)

    # ------------------------------------------------------------------ map
    def render_map(self, *, full: bool = False) -> None:
        """Show the current result on the map.

        When the page on screen was drawn from the same inputs (only the date or options
        changed), it is updated in place through ``coverageGis.update`` — a reload of the
        page would block the UI thread for 100–200 ms. Otherwise (or when the page refuses
        the update) the page is written by a worker and loaded.

        With accepted planned sites the map shows the scenario's result (the planned sites
        drawn as such); a change of the scenario changes the facility rows, so the page is
        written again.
        """
        result = self.session.shown_result
        if result is None:
            return
        if self._render_running:
            self._render_pending = True
            return
        # the suggestions not accepted yet: the 选址建议 layer (part of the page's key, so a
        # new suggestion redraws the page rather than patching it)
        sites = suggested_layer(self.session.scenario, result)
        self._render_running = True
        lang = language()

        def failed(_exc: BaseException) -> None:  # the runner has shown the error
            self._render_running = False

        in_place = (
            not full
            and self.map.ready
            and self._page_indicators is not None
            and self._page_lang == lang
        )
        if in_place:
            indicators = self._page_indicators

            def patch_work(progress: Callable[[str, str], None]) -> dict[str, Any]:
                progress("更新地图", "updating the map")
                return map_patch(result, indicators, lang=lang, sites=sites)

            def patched(patch: dict[str, Any]) -> None:
                def answered(ok: bool) -> None:
                    self._render_running = False
                    if not ok:
                        self.render_map(full=True)
                    elif self._render_pending:
                        self._render_pending = False
                        self.render_map()

                self.map.apply_update(patch, answered)

            self.runner.start(
                patch_work,
                title=tr("更新地图", "Updating the map"),
                on_done=patched,
                on_error=failed,
                dialog=False,
            )
            return
        self._map_serial += 1
        path = Path(self._tmp.name) / f"map_{self._map_serial}.html"
        indicator = self.session.indicator_id
        indicators = map_indicators(result, indicator)

        def work(progress: Callable[[str, str], None]) -> Path:
            progress("绘制地图", "drawing the map")
            return write_map_html(result, path, indicator=indicator, lang=lang, sites=sites)

        def done(written: Path) -> None:
            self._render_running = False
            self._page_indicators, self._page_lang = indicators, lang
            old = self.map.path
            self.map.load(written)
            if old is not None and old != written:
                old.unlink(missing_ok=True)
            if self._render_pending:
                self._render_pending = False
                self.render_map()

        self.runner.start(
            work,
            title=tr("绘制地图", "Drawing the map"),
            on_done=done,
            on_error=failed,
            dialog=False,
        )

    def _on_map_ready(self, seconds: float) -> None:
        if self.launch_to_map is None:
            self.launch_to_map = time.perf_counter() - self.t_launch
            logger.info(
                "launch to map: %.2f s (load %.2f s, page %.2f s)",
                self.launch_to_map,
                self.session.load_seconds,
                seconds,
            )
            self.timing_label.setText(
                tr(
                    f"启动到地图 {self.launch_to_map:.1f} 秒",
                    f"launch to map {self.launch_to_map:.1f} s",
                )
            )
            self.firstMapReady.emit(self.launch_to_map)

    # ------------------------------------------------------------------ export
    # ------------------------------------------------------------------ project files
    def current_project(self) -> Project:
        """The project as it would be saved now."""
        p = copy.deepcopy(self.session.project)
        p.as_of = self.selected_date().isoformat()
        p.indicator = self.session.indicator_id or None
        p.county = self.session.county_code or None
        p.include_functional_zones = self.act_zones.isChecked()
        p.scenario = self.session.scenario if self.session.scenario.sites else None
        return p

    # ------------------------------------------------------------------ misc
    def change_language(self, lang: str) -> None:
        """Switch the UI language (the window is rebuilt by the application)."""
        if lang == language():
            return
        paths.settings().setValue("ui/lang", lang)
        set_language(lang)
        self.languageChangeRequested.emit(lang)

    def _about(self) -> None:
        from coverage_gis import __version__

        QMessageBox.about(
            self,
            tr("关于", "About"),
            tr(
                f"coverage-gis {__version__}\n镇(街道)民政设施覆盖审计（苏州“十四五”民政规划）",
                f"coverage-gis {__version__}\nTownship civil-affairs facility coverage audits (Suzhou 14th FYP)",
            ),
        )

    def _show_log_location(self) -> None:
        QMessageBox.information(self, tr("日志文件", "Log file"), str(paths.log_path()))

    def _restore_window_state(self) -> None:
        st = paths.settings()
        geom = st.value("window/geometry")
        state = st.value("window/state")
        if geom is not None:
            self.restoreGeometry(geom)
        if state is not None:
            self.restoreState(state)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        """Accept dropped local files."""
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        """Dropped spreadsheets are facility lists, vector files boundaries, JSON projects."""
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.open_files(files)

    def open_files(self, files: list[Path]) -> None:
        """Open dropped or command-line files by their kind."""
        facilities = [f for f in files if f.suffix.lower() in _FACILITY_SUFFIXES]
        boundaries = [f for f in files if f.suffix.lower() in _BOUNDARY_SUFFIXES]
        projects = [
            f for f in files if f.suffix.lower() in _PROJECT_SUFFIXES or f.suffix.lower() == ".json"
        ]
        if projects and not facilities and not boundaries:
            self.open_project_file(projects[0])
            return
        if boundaries:
            p = self._editable_project()
            p.boundaries = str(boundaries[0].resolve())
            if facilities:
                self.session.project = p
            else:
                self.load_project(p)
        if facilities:
            self.add_facility_files([str(f) for f in facilities])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Save window state and the session; stop workers; clean up."""
        st = paths.settings()
        st.setValue("window/geometry", self.saveGeometry())
        st.setValue("window/state", self.saveState())
        self._eval_timer.stop()
        self.projects.save_last_session()
        self.runner.shutdown()
        self.exports.close_notice()
        self.map.view.setPage(None)
        self.map.page.deleteLater()
        self._tmp.cleanup()
        super().closeEvent(event)
