"""Where the desktop app keeps its own files: settings, log, autosave, last session.

Everything lives in one user data directory: ``QStandardPaths.AppDataLocation`` (on
Windows ``%APPDATA%/coverage-gis/coverage-gis``), or the directory named by the
``COVERAGE_GIS_GUI_HOME`` environment variable (used by the tests to isolate each run).
Settings are an INI file in that directory, so one override isolates everything.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

__all__ = [
    "HOME_ENV",
    "MAX_RECENT",
    "add_recent_project",
    "autosave_path",
    "data_dir",
    "last_dir",
    "last_session_path",
    "log_path",
    "recent_projects",
    "remember_dir",
    "session_lock_path",
    "settings",
]

#: Environment variable overriding the user data directory.
HOME_ENV = "COVERAGE_GIS_GUI_HOME"


def data_dir() -> Path:
    """The user data directory (created if missing)."""
    override = os.environ.get(HOME_ENV)
    if override:
        path = Path(override)
    else:
        if not QCoreApplication.organizationName():
            QCoreApplication.setOrganizationName("coverage-gis")
            QCoreApplication.setApplicationName("coverage-gis")
        loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        path = Path(loc) if loc else Path.home() / ".coverage-gis"
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings() -> QSettings:
    """The app's settings (INI file in :func:`data_dir`)."""
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def log_path() -> Path:
    """The log file of the desktop app."""
    return data_dir() / "coverage-gis-gui.log"


def autosave_path() -> Path:
    """The autosaved project (written while the app runs, removed on a clean exit)."""
    return data_dir() / "autosave.json"


def session_lock_path() -> Path:
    """Marker file present while the app runs; left behind by a crash."""
    return data_dir() / "session.lock"


def last_session_path() -> Path:
    """The project state written on a clean exit and reopened at the next start."""
    return data_dir() / "last_session.json"


def last_dir() -> Path:
    """The folder of the last file opened or saved (the home folder at first)."""
    value = settings().value("last_dir", "")
    return Path(str(value)) if value else Path.home()


def remember_dir(path: str | Path) -> None:
    """Remember the folder of ``path`` for the next file dialog."""
    settings().setValue("last_dir", str(Path(path).parent))


#: Project files kept in the "recent projects" menu.
MAX_RECENT = 8


def recent_projects() -> list[str]:
    """The project files opened or saved lately, most recent first."""
    value = settings().value("recent_projects", [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or [])]


def add_recent_project(path: str | Path) -> list[str]:
    """Put ``path`` first in :func:`recent_projects` (at most :data:`MAX_RECENT`) and remember
    it as the last project; returns the new list."""
    items = [str(path)] + [p for p in recent_projects() if p != str(path)]
    st = settings()
    st.setValue("recent_projects", items[:MAX_RECENT])
    st.setValue("last_project", str(path))
    return items[:MAX_RECENT]
