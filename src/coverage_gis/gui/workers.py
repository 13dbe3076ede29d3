"""Long work off the UI thread: tasks on a thread pool with progress and cancel.

A task is a plain function ``fn(progress)`` where ``progress(step_zh, step_en)`` is the
same callback the workflow operations take (:data:`coverage_gis.workflow.Progress`). The
worker turns each call into a Qt signal and raises :class:`Cancelled` inside the function
once the user has pressed Cancel, so cancellation happens at the next step boundary.
Results and errors come back to the UI thread through queued signals (QGIS runs
algorithms the same way: prepare on the main thread, run in a worker, finish on the main
thread).

All tasks run on **one long-lived Python worker thread**, one after the other. pyproj keeps
a PROJ context per thread and destroys it with the thread state; Qt's pooled threads drop
their Python thread state after each task, which left CRS objects pointing at freed
contexts (a segfault in ``proj_create``). A single persistent thread also keeps the
readers, the engine and the map export from ever running concurrently on shared frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from coverage_gis.gui.i18n import tr
from coverage_gis.gui.reporting import format_exception, logger, show_error

__all__ = ["Cancelled", "Task", "TaskRunner"]

TaskFn = Callable[[Callable[[str, str], None]], Any]


class Cancelled(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside a task's function when the user cancelled it."""


class _Signals(QObject):
    progress = Signal(str, str)
    finished = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()


class Task:
    """One unit of work for the worker thread.

    Parameters
    ----------
    fn
        ``fn(progress) -> result``; runs in a worker thread and must not touch widgets.
    """

    def __init__(self, fn: TaskFn) -> None:
        self.fn = fn
        self.signals = _Signals()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the task to stop at its next progress step."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def progress(self, zh: str, en: str) -> None:
        """Progress callback handed to ``fn``; raises :class:`Cancelled` after a cancel."""
        if self._cancel.is_set():
            raise Cancelled
        self.signals.progress.emit(zh, en)

    def run(self) -> None:
        """Run ``fn`` and report its result, error or cancellation."""
        try:
            result = self.fn(self.progress)
            if self._cancel.is_set():
                raise Cancelled
        except Cancelled:
            self.signals.cancelled.emit()
        except BaseException as exc:  # every error must reach the UI thread
            self.signals.failed.emit(exc, format_exception(exc))
        else:
            self.signals.finished.emit(result)


class TaskRunner(QObject):
    """Runs tasks on its worker thread; shows a progress dialog for the slow ones.

    Parameters
    ----------
    parent
        The window that owns the runner (parent of progress and error dialogs).
    """

    busyChanged = Signal(bool)  # noqa: N815 - Qt naming

    #: Milliseconds before a progress dialog appears (quick tasks show none).
    DIALOG_DELAY_MS = 400

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._window = parent
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coverage-gis-worker")
        self._active: dict[Task, QProgressDialog | None] = {}

    @property
    def busy(self) -> bool:
        """True while a task is running."""
        return bool(self._active)

    def start(
        self,
        fn: TaskFn,
        *,
        title: str,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        dialog: bool = True,
    ) -> Task:
        """Start ``fn`` in a worker.

        Parameters
        ----------
        fn
            ``fn(progress) -> result``.
        title
            What the task does (translated), for the progress dialog and error messages.
        on_done
            Called on the UI thread with the result.
        on_error
            Called on the UI thread after the error dialog was shown.
        dialog
            Show a progress dialog with a Cancel button if the task takes a while.
        """
        task = Task(fn)
        progress: QProgressDialog | None = None
        if dialog:
            progress = QProgressDialog(title, tr("取消", "Cancel"), 0, 0, self._window)
            progress.setWindowTitle(title)
            progress.setWindowModality(Qt.WindowModality.WindowModal)
            progress.setAutoClose(False)
            progress.setAutoReset(False)
            progress.setMinimumDuration(0)
            progress.hide()
            progress.canceled.connect(task.cancel)
            QTimer.singleShot(self.DIALOG_DELAY_MS, lambda: self._show_dialog(task))
        self._active[task] = progress
        t0 = time.perf_counter()

        def on_progress(zh: str, en: str) -> None:
            if progress is not None:
                progress.setLabelText(f"{title}\n{tr(zh, en)}…")

        def finish() -> None:
            dlg = self._active.pop(task, None)
            if dlg is not None:
                dlg.hide()
                dlg.deleteLater()
            logger.info("%s: %.2f s", title, time.perf_counter() - t0)
            if not self._active:
                self.busyChanged.emit(False)

        def done(result: Any) -> None:
            finish()
            if on_done is not None:
                try:
                    on_done(result)
                except Exception as exc:
                    show_error(self._window, exc, context=title)

        def failed(exc: BaseException, details: str) -> None:
            finish()
            show_error(self._window, exc, details, context=title)
            if on_error is not None:
                on_error(exc)

        def cancelled() -> None:
            finish()
            logger.info("%s: cancelled", title)
            status = getattr(self._window, "statusBar", None)
            if callable(status):
                status().showMessage(tr(f"已取消：{title}", f"Cancelled: {title}"), 5000)

        task.signals.progress.connect(on_progress)
        task.signals.finished.connect(done)
        task.signals.failed.connect(failed)
        task.signals.cancelled.connect(cancelled)
        if len(self._active) == 1:
            self.busyChanged.emit(True)
        self.pool.submit(task.run)
        return task

    def _show_dialog(self, task: Task) -> None:
        dlg = self._active.get(task)
        if dlg is not None:
            dlg.show()

    def cancel_all(self) -> None:
        """Cancel every running task."""
        for task in list(self._active):
            task.cancel()

    def shutdown(self) -> None:
        """Cancel running tasks and wait for the worker thread to finish."""
        self.cancel_all()
        self.pool.shutdown(wait=True, cancel_futures=True)
