"""Errors become readable dialogs and log entries; the app stays up.

:func:`show_error` is the one place that turns an exception into a dialog: an
:class:`~coverage_gis.core.errors.InputError` shows its bilingual ``describe()`` text, anything
else a short "internal error" text; the traceback goes to the dialog's details and to the
log file (:func:`coverage_gis.gui.paths.log_path`). :func:`install_excepthook` routes
exceptions raised in Qt slots to the same dialog.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from coverage_gis.core.errors import InputError
from coverage_gis.gui.i18n import tr
from coverage_gis.gui.paths import log_path

__all__ = ["format_exception", "install_excepthook", "logger", "setup_logging", "show_error"]

logger = logging.getLogger("coverage_gis.gui")
_handler: logging.Handler | None = None


def setup_logging() -> None:
    """Log to the file in the user data directory (replaces a previous handler)."""
    global _handler
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler.close()
    _handler = logging.FileHandler(log_path(), encoding="utf-8", delay=True)
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(_handler)
    logger.setLevel(logging.INFO)


def shutdown_logging() -> None:
    """Close the log file handler."""
    global _handler
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler.close()
        _handler = None


def format_exception(exc: BaseException) -> str:
    """Traceback text of an exception."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def show_error(
    parent: QWidget | None, exc: BaseException, details: str | None = None, *, context: str = ""
) -> None:
    """Log an exception and show it in a dialog with the traceback as details.

    Parameters
    ----------
    parent
        Parent widget of the dialog.
    exc
        The exception.
    details
        Traceback text (default: formatted from ``exc``).
    context
        What was being done (already translated), shown above the message.
    """
    details = details or format_exception(exc)
    if isinstance(exc, InputError):
        text = exc.describe()
        title = tr("输入数据有问题", "Problem with the input")
        logger.warning("%s: %s", context or "input error", exc.describe())
    else:
        text = tr(
            f"内部错误：{type(exc).__name__}: {exc}\n程序仍在运行；详情已记录到 {log_path()}",
            f"Internal error: {type(exc).__name__}: {exc}\n"
            f"The app is still running; details were logged to {log_path()}",
        )
        title = tr("出错了", "Error")
        logger.error("%s\n%s", context or "error", details)
    if context:
        text = f"{context}\n\n{text}"
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # file names and values from the data
    box.setDetailedText(details)
    box.exec()


def _hook(
    etype: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:  # pragma: no cover - exercised through Qt slots
    details = "".join(traceback.format_exception(etype, value, tb))
    if QApplication.instance() is None or isinstance(value, KeyboardInterrupt):
        sys.__excepthook__(etype, value, tb)
        return
    try:
        show_error(QApplication.activeWindow(), value, details)
    except Exception:
        sys.__excepthook__(etype, value, tb)


def install_excepthook() -> None:
    """Show exceptions raised in Qt slots in a dialog instead of only printing them."""
    sys.excepthook = _hook
