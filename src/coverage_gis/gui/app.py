"""Start the desktop app: ``coverage-gis-gui`` and ``coverage-gis gui``.

On the first start the embedded Suzhou demo opens; afterwards the last session is
reopened. After a crash the autosaved project is offered back. ``--screenshot PNG``
renders the main window once the map is drawn, saves it and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "preload", "run"]


def preload() -> None:
    """Import the readers and the map exporter before the window exists.

    The worker thread would otherwise import them on first use; importing a C extension
    holds the GIL for tens of milliseconds at a time and would stall the UI thread.
    """
    import openpyxl
    import pyogrio
    import pyproj

    import coverage_gis.io.boundaries
    import coverage_gis.io.crs_suggest
    import coverage_gis.io.facilities
    import coverage_gis.mapexport.html  # noqa: F401

    # The first transformation opens PROJ's database, another long GIL-holding call.
    pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(120.6, 31.3)
    del openpyxl, pyogrio


def _prepare_environment() -> None:
    # QtWebEngine needs these before the QApplication exists.
    if sys.platform.startswith("linux") and os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")


#: Exit code of the desktop app when Qt is not installed.
NO_QT_EXIT = 3


def qt_missing() -> str | None:
    """``None`` when the desktop stack (PySide6 with QtWebEngine) can be imported, else a
    bilingual message saying how to install it (``coverage-gis[gui]``): a headless batch
    server or a Dask worker installs the package without it."""
    try:
        import PySide6.QtWebEngineWidgets
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        return (
            f"桌面程序需要 Qt（PySide6）：pip install 'coverage-gis[gui]'（{exc}）\n"
            f"The desktop app needs Qt (PySide6): pip install 'coverage-gis[gui]' ({exc})"
        )
    return None


def run(
    *,
    demo: bool = False,
    project: str | Path | None = None,
    screenshot: str | Path | None = None,
    lang: str | None = None,
    files: Sequence[str | Path] = (),
) -> int:
    """Run the desktop app; return the exit code.

    Parameters
    ----------
    demo
        Open the embedded Suzhou demo (default on the first start).
    project
        Open this project file (asking first when it reads files outside its folder; with
        ``screenshot`` that is only logged, since nobody is there to answer).
    screenshot
        Save a PNG of the main window once the map is drawn, then exit.
    lang
        UI language ``zh`` or ``en`` (default: the saved setting, else ``zh``).
    files
        Data files to open (as if dropped on the window).
    """
    t_launch = time.perf_counter()
    missing = qt_missing()
    if missing is not None:
        print(missing, file=sys.stderr)
        return NO_QT_EXIT
    _prepare_environment()
    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    QCoreApplication.setOrganizationName("coverage-gis")
    QCoreApplication.setApplicationName("coverage-gis")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    preload()

    from coverage_gis.gui import paths
    from coverage_gis.gui.dialogs import confirm_outside_inputs
    from coverage_gis.gui.i18n import set_language, tr
    from coverage_gis.gui.mainwindow import MainWindow
    from coverage_gis.gui.project import Project, load_project, outside_paths
    from coverage_gis.gui.reporting import (
        install_excepthook,
        logger,
        setup_logging,
        shutdown_logging,
    )

    setup_logging()
    install_excepthook()
    st = paths.settings()
    if lang:
        st.setValue("ui/lang", lang)
    set_language(str(st.value("ui/lang", "zh")))
    logger.info("start (demo=%s project=%s screenshot=%s)", demo, project, screenshot)

    lock = paths.session_lock_path()
    crashed = lock.exists() and screenshot is None
    lock.write_text(str(os.getpid()), encoding="utf-8")

    state: dict[str, object] = {"code": 0}
    windows: list[MainWindow] = []

    def make_window(initial: Project | None, project_path: Path | None) -> MainWindow:
        w = MainWindow(t_launch=t_launch)
        w.languageChangeRequested.connect(lambda _l, w=w: relaunch(w))
        windows.append(w)
        w.show()
        if initial is not None:
            w.load_project(initial, path=project_path)
        return w

    def relaunch(old: MainWindow) -> None:
        proj, path = old.current_project(), old.projects.path
        old.close()
        old.deleteLater()
        windows.remove(old)
        make_window(proj, path)

    initial: Project | None = None
    initial_path: Path | None = None
    try:
        if project is not None:
            initial_path = Path(project)
            initial = load_project(initial_path)
            outside = outside_paths(initial, initial_path)
            if screenshot is not None and outside:  # non-interactive: said in the log only
                logger.warning("project %s reads files outside its folder: %s", project, outside)
            elif not confirm_outside_inputs(None, initial_path, outside):
                logger.warning("project %s: not opened, inputs outside its folder", project)
                initial, initial_path = Project(demo=True), None
        elif demo or (screenshot is not None and not files):
            initial = Project(demo=True)
        elif crashed and paths.autosave_path().exists():
            answer = QMessageBox.question(
                None,
                tr("恢复", "Restore"),
                tr(
                    "上次程序没有正常退出。要恢复自动保存的项目吗？",
                    "The app did not exit normally last time. Restore the autosaved project?",
                ),
            )
            if answer == QMessageBox.StandardButton.Yes:
                initial = load_project(paths.autosave_path())
        if initial is None and not files:
            last = paths.last_session_path()
            initial = load_project(last) if last.exists() else Project(demo=True)
    except Exception as exc:
        from coverage_gis.gui.reporting import show_error

        show_error(None, exc, context=tr("打开项目", "Opening a project"))
        initial = Project(demo=True)

    window = make_window(initial, initial_path)
    if files:
        window.open_files([Path(f) for f in files])

    if screenshot is not None:
        out = Path(screenshot)

        def shoot(_seconds: float) -> None:
            def save() -> None:
                w = windows[-1]
                out.parent.mkdir(parents=True, exist_ok=True)
                ok = w.grab().save(str(out), "PNG")
                print(
                    f"screenshot: {out} ; launch to map: {w.launch_to_map:.2f} s",
                    flush=True,
                )
                state["code"] = 0 if ok else 1
                w.close()
                app.quit()

            QTimer.singleShot(800, save)  # let the tiles/vectors paint

        def give_up() -> None:
            print("screenshot: timed out waiting for the map", file=sys.stderr)
            state["code"] = 1
            app.quit()

        def failed() -> None:
            state["code"] = 1
            app.quit()

        window.firstMapReady.connect(shoot)
        window.loadFailed.connect(failed)
        QTimer.singleShot(120_000, give_up)

    app.exec()
    for w in list(windows):
        w.close()
    paths.autosave_path().unlink(missing_ok=True)
    lock.unlink(missing_ok=True)
    logger.info("exit %s", state["code"])
    shutdown_logging()
    return int(state["code"])  # type: ignore[call-overload]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``coverage-gis-gui``."""
    parser = argparse.ArgumentParser(
        prog="coverage-gis-gui",
        description="镇(街道)民政设施覆盖审计桌面程序 / coverage audit desktop app",
    )
    parser.add_argument("--demo", action="store_true", help="打开内置苏州示例 / open the demo")
    parser.add_argument("--project", metavar="FILE", help="打开项目文件 / open a project")
    parser.add_argument(
        "--screenshot", metavar="PNG", help="地图绘出后截图并退出 / save a screenshot and exit"
    )
    parser.add_argument("--lang", choices=["zh", "en"], help="界面语言 / UI language")
    parser.add_argument("files", nargs="*", help="要打开的数据文件 / data files to open")
    args = parser.parse_args(list(argv) if argv is not None else None)
    code = run(
        demo=args.demo,
        project=args.project,
        screenshot=args.screenshot,
        lang=args.lang,
        files=args.files,
    )
    if argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":  # pragma: no cover
    main()
