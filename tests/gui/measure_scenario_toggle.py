"""How long accepting one planned site takes until the indicator table shows it.

Not a test (no timing is asserted anywhere: shared machines are noisy). Run::

    QT_QPA_PLATFORM=offscreen QTWEBENGINE_CHROMIUM_FLAGS=--no-sandbox \\
        .venv/bin/python -m tests.gui.measure_scenario_toggle [N]

It opens the demo, suggests sites for T2-5 (all rejected), then N times (default 25)
ticks 采纳 of one suggestion through the panel's model — the same ``setData`` a click on
the check box makes — and times, with :func:`time.perf_counter`:

* ``sync``: from ``setData`` until it returns; the session has re-evaluated the scenario
  and the indicator table's 方案 column holds the new value (the table is updated in the
  same event-loop turn);
* ``painted``: ``sync`` plus the events that follow (repaint of the table);
* ``engine``: :attr:`AuditSession.scenario_ms`, the evaluation alone.

Between toggles the site is rejected again and the map redraw (worker) is waited for, so
each toggle starts from an idle window.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
os.environ.setdefault("COVERAGE_GIS_GUI_HOME", tempfile.mkdtemp(prefix="cg-measure-"))


def _wait(app: Any, cond: Callable[[], bool], timeout: float = 60.0) -> None:
    t0 = time.perf_counter()
    while not cond():
        app.processEvents()
        time.sleep(0.005)
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("window did not become idle")


def main(argv: list[str]) -> int:
    """Measure and print the medians (ms)."""
    n = int(argv[0]) if argv else 25
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from coverage_gis.gui.mainwindow import MainWindow
    from coverage_gis.gui.project import Project

    w = MainWindow()
    w.show()
    w.load_project(Project(demo=True, as_of="2025-12-31"))
    _wait(app, lambda: w.session.result is not None and w.map.ready and not w.runner.busy)
    w.session.select_indicator("T2-5")
    w.scenario_panel.suggest()
    _wait(app, lambda: w.scenario_panel.model.rowCount() > 0 and not w.runner.busy)
    model, table = w.scenario_panel.model, w.indicator_model
    rows = model.rowCount()
    sync: list[float] = []
    painted: list[float] = []
    engine: list[float] = []
    for i in range(n):
        index = model.index(i % rows, 0)
        t0 = time.perf_counter()
        model.setData(index, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
        t1 = time.perf_counter()
        assert table.column_of("plan") >= 0  # the table already shows the plan
        app.processEvents()
        t2 = time.perf_counter()
        sync.append((t1 - t0) * 1000)
        painted.append((t2 - t0) * 1000)
        engine.append(w.session.scenario_ms)
        _wait(app, lambda: not w.runner.busy and w.map.ready)
        model.setData(index, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
        _wait(app, lambda: not w.runner.busy and w.map.ready)

    def line(name: str, xs: list[float]) -> str:
        q = statistics.quantiles(xs, n=10)
        return (
            f"{name:8s} median {statistics.median(xs):6.1f} ms   p90 {q[-1]:6.1f} ms   "
            f"min {min(xs):6.1f}   max {max(xs):6.1f}"
        )

    print(f"accept one site → indicator table updated ({n} toggles, {rows} sites listed)")
    print(line("sync", sync))
    print(line("painted", painted))
    print(line("engine", engine))
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
