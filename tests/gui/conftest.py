"""Fixtures for the desktop-app tests: isolated user data, recorded dialogs, windows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")

from PySide6.QtWidgets import QMessageBox

from coverage_gis.gui.i18n import set_language
from coverage_gis.gui.project import Project

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(autouse=True)
def gui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """User data dir (settings, log, autosave) isolated per test; Chinese UI."""
    home = tmp_path / "gui-home"
    monkeypatch.setenv("COVERAGE_GIS_GUI_HOME", str(home))
    set_language("zh")
    from coverage_gis.gui.reporting import setup_logging, shutdown_logging

    setup_logging()
    yield home
    shutdown_logging()
    set_language("zh")


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record message boxes instead of blocking on them."""
    seen: list[dict[str, Any]] = []

    def exec_(self: QMessageBox) -> int:
        seen.append(
            {"title": self.windowTitle(), "text": self.text(), "details": self.detailedText()}
        )
        return int(QMessageBox.StandardButton.Ok)

    def static(kind: str, answer: QMessageBox.StandardButton) -> Callable[..., Any]:
        def f(_parent: Any, title: str, text: str, *_a: Any, **_k: Any) -> Any:
            seen.append({"title": title, "text": text, "details": "", "kind": kind})
            return answer

        return f

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    monkeypatch.setattr(QMessageBox, "question", static("question", QMessageBox.StandardButton.No))
    for name in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, name, static(name, QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "about", static("about", QMessageBox.StandardButton.Ok))
    return seen


@pytest.fixture
def make_window(qtbot: Any) -> Iterator[Callable[..., Any]]:
    """Factory: a shown main window with a project loaded; closed after the test."""
    from coverage_gis.gui.mainwindow import MainWindow

    windows: list[MainWindow] = []

    def factory(
        project: Project | None = None, *, path: Path | None = None, wait_map: bool = True
    ) -> MainWindow:
        w = MainWindow()
        windows.append(w)
        w.show()
        with qtbot.waitSignal(w.sessionLoaded, timeout=60_000):
            w.load_project(project or Project(demo=True, as_of="2025-12-31"), path=path)
        if wait_map:
            qtbot.waitUntil(lambda: w.map.ready and not w.runner.busy, timeout=60_000)
        return w

    yield factory
    for w in windows:
        w.close()
        w.deleteLater()
    qtbot.wait(50)


def idle(qtbot: Any, window: Any, timeout: int = 60_000) -> None:
    """Wait until the window's workers are done and the map is drawn."""
    qtbot.waitUntil(lambda: not window.runner.busy and window.map.ready, timeout=timeout)


def js(qtbot: Any, window: Any, code: str, timeout: int = 10_000) -> Any:
    """Evaluate JavaScript in the map page and return its value."""
    box: dict[str, Any] = {}
    window.map.page.runJavaScript(code, 0, lambda v: box.setdefault("v", v))
    qtbot.waitUntil(lambda: "v" in box, timeout=timeout)
    return box["v"]
