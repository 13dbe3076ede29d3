"""The desktop app's project file: save, save as, autosave, the last session, recent files.

A controller outside the main window. The project itself is a plain
:class:`~coverage_gis.gui.project.Project` (the declared audit plus view state), written by
:func:`~coverage_gis.gui.project.save_project`; the window supplies it as it is now
(``current``) and opens the files picked from the recent-projects menu (``open_file``).
After each save :attr:`ProjectFiles.saved` is emitted with the path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from coverage_gis.gui import paths
from coverage_gis.gui.exports import ask_save_path
from coverage_gis.gui.i18n import tr
from coverage_gis.gui.project import Project, save_project
from coverage_gis.gui.reporting import logger, show_error

__all__ = ["AUTOSAVE_DELAY_MS", "ProjectFiles"]

#: Changes are autosaved this long after the last one (a burst of edits writes once).
AUTOSAVE_DELAY_MS = 1500


class ProjectFiles(QObject):
    """Where the window's project is saved, and the saving itself.

    Parameters
    ----------
    parent
        The window: parent of the dialogs.
    current
        The project as it would be saved now (inputs, date, indicator, scenario …).
    has_result
        Whether there is an audit to save (autosave and the last session skip otherwise).
    open_file
        Opens a project file (the recent-projects menu).
    status
        Shows a message in the window's status bar for some milliseconds.
    """

    #: Emitted with the path after each save.
    saved = Signal(object)

    def __init__(
        self,
        parent: QWidget,
        *,
        current: Callable[[], Project],
        has_result: Callable[[], bool],
        open_file: Callable[[Path], None],
        status: Callable[[str, int], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._current = current
        self._has_result = has_result
        self._open_file = open_file
        self._status = status
        #: The project file of the session (None until saved or opened).
        self.path: Path | None = None
        self.recent_menu = QMenu(tr("最近的项目", "Recent projects"), parent)
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_DELAY_MS)
        self._autosave.timeout.connect(self.write_autosave)
        self.fill_recent_menu()

    # ------------------------------------------------------------------ saving
    def save(self) -> Path | None:
        """Save to the current project file (asks for a name the first time)."""
        if self.path is None:
            return self.save_as()
        return self._save_to(self.path)

    def save_as(self, path: Path | None = None) -> Path | None:
        """Save the project under a new name (asked for unless given); None if cancelled."""
        path = path or ask_save_path(
            self._parent,
            tr("保存项目", "Save project"),
            "project.json",
            tr("项目 (*.json)", "Project (*.json)"),
        )
        if path is None:
            return None
        return self._save_to(path)

    def _save_to(self, path: Path) -> Path | None:
        try:
            save_project(self._current(), path)
        except Exception as exc:
            show_error(self._parent, exc, context=tr("保存项目", "Saving the project"))
            return None
        self.opened(path)
        self._status(tr(f"项目已保存：{path}", f"Project saved: {path}"), 8000)
        self.saved.emit(path)
        return path

    def opened(self, path: Path) -> None:
        """``path`` is now the session's project file (saved or opened): remember it."""
        self.path = path
        paths.add_recent_project(path)
        self.fill_recent_menu()

    # ------------------------------------------------------------------ recent projects
    def fill_recent_menu(self) -> None:
        """Rebuild File › Recent projects from the settings."""
        self.recent_menu.clear()
        items = paths.recent_projects()
        for p in items:
            act = QAction(str(p), self.recent_menu)
            act.triggered.connect(lambda _checked=False, p=p: self._open_file(Path(p)))
            self.recent_menu.addAction(act)
        self.recent_menu.setEnabled(bool(items))

    # ------------------------------------------------------------------ autosave
    def schedule_autosave(self) -> None:
        """Autosave soon (after :data:`AUTOSAVE_DELAY_MS` without further changes)."""
        self._autosave.start()

    def write_autosave(self) -> None:
        """Write the autosave file (offered back after a crash)."""
        self._write(paths.autosave_path(), "autosave")

    def save_last_session(self) -> None:
        """Write the session reopened at the next start (on closing the window)."""
        self._autosave.stop()
        self._write(paths.last_session_path(), "last session")

    def _write(self, path: Path, what: str) -> None:
        if not self._has_result():
            return
        try:
            save_project(self._current(), path)
        except OSError as exc:
            logger.warning("%s not saved: %s", what, exc)
