"""The desktop app's exports: the HTML gap map, the Excel report and the PNG map.

A controller outside the main window: each export asks for a file name (unless given one),
runs the same exporter as the CLI on a worker (:class:`~coverage_gis.gui.workers.TaskRunner`)
and, when the file is written, shows where it is (:class:`~coverage_gis.gui.dialogs.
ExportNotice`) and emits :attr:`ExportController.exported`. The planned sites not yet
accepted are drawn on the HTML map as in the window.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from coverage_gis.core.results import AuditResult
from coverage_gis.gui import paths
from coverage_gis.gui.dialogs import ExportNotice
from coverage_gis.gui.i18n import language, tr
from coverage_gis.gui.mapview import write_map_html
from coverage_gis.siting.scenario import suggested_layer
from coverage_gis.text import as_lang

if TYPE_CHECKING:
    from coverage_gis.gui.mapview import MapView
    from coverage_gis.gui.model import AuditSession
    from coverage_gis.gui.workers import TaskRunner

__all__ = ["ExportController", "ask_save_path", "write_report"]


def ask_save_path(parent: QWidget, title: str, name: str, pattern: str) -> Path | None:
    """Ask where to save ``name`` (in the last folder used); None when cancelled."""
    fname, _ = QFileDialog.getSaveFileName(parent, title, str(paths.last_dir() / name), pattern)
    if not fname:
        return None
    paths.remember_dir(fname)
    return Path(fname)


def write_report(result: AuditResult, path: Path) -> Path:
    """Write the Excel report (worker-safe): the same workbook as ``audit --format xlsx``."""
    from coverage_gis.export.workbook import write_workbook

    return Path(write_workbook(result, path))


class ExportController(QObject):
    """Exports of the session's current result, for the window's menu and toolbar.

    Parameters
    ----------
    parent
        The window: parent of the dialogs.
    session, runner, map_view
        The window's session (result, indicator, scenario), task runner and map (a manual
        indicator's PNG is the map as drawn on screen).
    status
        Shows a message in the window's status bar for some milliseconds.
    """

    #: Emitted with the written path after each export.
    exported = Signal(object)

    def __init__(
        self,
        parent: QWidget,
        session: AuditSession,
        runner: TaskRunner,
        map_view: MapView,
        status: Callable[[str, int], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self.session = session
        self.runner = runner
        self.map = map_view
        self._status = status
        self.notice: ExportNotice | None = None

    def _result(self) -> AuditResult | None:
        if self.session.result is None:
            QMessageBox.information(
                self._parent,
                tr("导出", "Export"),
                tr("还没有审计结果", "There is no audit result yet"),
            )
        return self.session.result

    def _done(self, path: Path) -> None:
        self._status(tr(f"已导出 {path}", f"Exported {path}"), 10000)
        self.close_notice()
        self.notice = ExportNotice(path, self._parent)
        self.notice.show()
        self.exported.emit(path)

    def _target(
        self, path: Path | None, title: str, stem: str, pattern: str
    ) -> tuple[AuditResult, Path] | None:
        """The result to export and where to (``path``, or asked as ``stem_<date><ext>``);
        None when there is no result or the dialog was cancelled."""
        result = self._result()
        if result is None:
            return None
        ext = pattern[pattern.index("*") + 1 : pattern.index(")")]
        path = path or ask_save_path(
            self._parent, title, f"{stem}_{result.as_of.isoformat()}{ext}", pattern
        )
        return None if path is None else (result, path)

    def close_notice(self) -> None:
        """Close the last export's notice, if it is open."""
        if self.notice is not None:
            self.notice.close()

    def html(self, path: Path | None = None) -> None:
        """Export the interactive HTML gap map."""
        target = self._target(
            path, tr("导出 HTML 地图", "Export HTML map"), "gap_map", "HTML (*.html)"
        )
        if target is None:
            return
        result, path = target
        indicator, lang = self.session.indicator_id, language()
        sites = suggested_layer(self.session.scenario, result)

        def work(progress: Callable[[str, str], None]) -> Path:
            progress("写出 HTML 地图", "writing the HTML map")
            return write_map_html(result, path, indicator=indicator, lang=lang, sites=sites)

        self.runner.start(
            work, title=tr("导出 HTML 地图", "Exporting the HTML map"), on_done=self._done
        )

    def xlsx(self, path: Path | None = None) -> None:
        """Export the Excel report."""
        target = self._target(
            path, tr("导出 Excel 报告", "Export Excel report"), "coverage_report", "Excel (*.xlsx)"
        )
        if target is None:
            return
        result, path = target

        def work(progress: Callable[[str, str], None]) -> Path:
            progress("写出 Excel 报告", "writing the Excel report")
            return write_report(result, path)

        self.runner.start(
            work, title=tr("导出 Excel 报告", "Exporting the Excel report"), on_done=self._done
        )

    def png(self, path: Path | None = None) -> None:
        """Export the map of the current indicator as a PNG image (the report map).

        Presence and ratio indicators are drawn by
        :func:`coverage_gis.mapexport.export_static_map`; for a manual indicator the map
        as drawn on screen is saved.
        """
        target = self._target(path, tr("导出 PNG 地图", "Export PNG map"), "gap_map", "PNG (*.png)")
        if target is None:
            return
        result, path = target
        indicator, lang = self.session.indicator_id, language()
        try:
            kind = result.indicator(indicator).indicator.kind
        except KeyError:
            kind = "manual"
        image = self.map.grab_image() if kind == "manual" else None  # grab on the UI thread

        def work(progress: Callable[[str, str], None]) -> Path:
            progress("绘制 PNG 地图", "drawing the PNG map")
            if image is not None:
                if not image.save(str(path), "PNG"):
                    raise OSError(f"cannot write {path}")
                return path
            from coverage_gis.mapexport import export_static_map

            return Path(export_static_map(result, path, indicator=indicator, lang=as_lang(lang)))

        self.runner.start(
            work, title=tr("导出 PNG 地图", "Exporting the PNG map"), on_done=self._done
        )
