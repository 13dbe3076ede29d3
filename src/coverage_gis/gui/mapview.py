"""The map in the centre of the window: the offline HTML gap map in a QWebEngineView.

The page is the same map the HTML export writes (:mod:`coverage_gis.mapexport`), loaded
from a temporary file. The link is two-way through QWebChannel: the page calls
``bridge.unitClicked(code)`` when a 镇/街道 is clicked (``bridge.mapClicked(lon, lat)``
instead while placing mode is on, see :meth:`MapView.set_placing`); the window calls
``window.coverageGis.zoomTo(code)`` / ``setIndicator(id)`` / ``setPlacing(on)`` on the
page. ``qwebchannel.js`` comes from Qt's own resources and is injected before the page's
scripts run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFile, QIODevice, QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineScript
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QVBoxLayout, QWidget

from coverage_gis.core.results import AuditResult
from coverage_gis.gui.reporting import logger
from coverage_gis.text import as_lang

__all__ = ["MapBridge", "MapView", "write_map_html"]


def map_indicators(result: AuditResult, first: str | None) -> list[str] | None:
    """Indicators for the map page: every presence indicator, ``first`` first."""
    from coverage_gis.mapexport import default_indicators

    ids = default_indicators(result)
    if first in ids:
        ids.remove(first)
        ids.insert(0, first)
    return ids or None


def write_map_html(
    result: AuditResult,
    path: Path,
    *,
    indicator: str | None,
    lang: str,
    title: str | None = None,
    basemap: str = "none",
    sites: Sequence[Any] = (),
) -> Path:
    """Write the gap map for ``result`` to ``path`` (worker-safe: no Qt).

    The same page as ``coverage-gis map`` writes (:func:`coverage_gis.mapexport.export_gap_map`),
    with every presence indicator switchable and ``indicator`` shown first; ``sites``: the
    suggestions drawn as the 选址建议 layer
    (:func:`coverage_gis.siting.scenario.suggested_layer`).
    """
    from coverage_gis.mapexport import export_gap_map

    return Path(
        export_gap_map(
            result,
            path,
            indicators=map_indicators(result, indicator),
            basemap=basemap,
            title=title,
            lang=as_lang(lang),
            sites=sites,
        )
    )


def map_patch(
    result: AuditResult,
    indicators: list[str] | None,
    *,
    lang: str,
    sites: Sequence[Any] = (),
) -> dict[str, Any]:
    """The in-place update for a page drawn by :func:`write_map_html` from the same inputs
    with the same ``indicators`` order and ``sites`` (worker-safe: no Qt)."""
    from coverage_gis.mapexport import map_update

    return map_update(result, indicators, lang=as_lang(lang), sites=sites)


def _qwebchannel_js() -> str:
    f = QFile(":/qtwebchannel/qwebchannel.js")
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        logger.warning("qwebchannel.js not found in Qt resources")
        return ""
    try:
        return bytes(f.readAll().data()).decode("utf-8")
    finally:
        f.close()


class MapBridge(QObject):
    """The object the page sees as ``bridge`` through QWebChannel."""

    unitActivated = Signal(str)  # noqa: N815 - Qt naming
    indicatorActivated = Signal(str)  # noqa: N815
    pointActivated = Signal(float, float)  # noqa: N815

    @Slot(str)
    def unitClicked(self, code: str) -> None:  # noqa: N802 - JavaScript contract
        """Called by the page when a township is clicked."""
        self.unitActivated.emit(str(code))

    @Slot(str)
    def indicatorSelected(self, indicator_id: str) -> None:  # noqa: N802 - JavaScript contract
        """Called by the page when the user picks an indicator in the map's title box."""
        self.indicatorActivated.emit(str(indicator_id))

    @Slot(float, float)
    def mapClicked(self, lon: float, lat: float) -> None:  # noqa: N802 - JavaScript contract
        """Called by the page in placing mode with the clicked point (WGS84 degrees on the
        desktop's page, which has no GCJ-02 basemap)."""
        self.pointActivated.emit(float(lon), float(lat))


class _Page(QWebEnginePage):
    def javaScriptConsoleMessage(  # noqa: N802 - Qt override
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        line: int,
        source: str,
    ) -> None:
        logger.info("map js [%s:%s] %s", Path(source).name if source else "", line, message)

    def acceptNavigationRequest(  # noqa: N802 - Qt override
        self, url: QUrl | str, nav_type: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        # Offline app: the map page is a local file; never navigate away from it.
        qurl = QUrl(url) if isinstance(url, str) else url
        return qurl.scheme() in ("file", "data", "qrc", "about")


class MapView(QWidget):
    """The web map with its bridge.

    Signals
    -------
    unitClicked(str)
        A township was clicked on the map (unit code).
    indicatorPicked(str)
        The user chose an indicator in the map's own title box (indicator id).
    pointClicked(float, float)
        A point was clicked in placing mode (lon, lat; WGS84).
    mapReady(float)
        The page finished loading and ``window.coverageGis`` exists (seconds since
        :meth:`load` was called).
    """

    unitClicked = Signal(str)  # noqa: N815 - Qt naming
    indicatorPicked = Signal(str)  # noqa: N815
    pointClicked = Signal(float, float)  # noqa: N815
    mapReady = Signal(float)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QWebEngineView(self)
        self.page = _Page(self.view)
        self.view.setPage(self.page)
        self.bridge = MapBridge(self)
        self.channel = QWebChannel(self.page)
        self.channel.registerObject("bridge", self.bridge)
        self.page.setWebChannel(self.channel)
        js = _qwebchannel_js()
        if js:
            script = QWebEngineScript()
            script.setName("qwebchannel")
            script.setSourceCode(js)
            script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
            script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
            script.setRunsOnSubFrames(False)
            self.page.scripts().insert(script)
        self.bridge.unitActivated.connect(self.unitClicked)
        self.bridge.indicatorActivated.connect(self.indicatorPicked)
        self.bridge.pointActivated.connect(self.pointClicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.ready = False
        self._t0 = 0.0
        self._indicator = ""
        self._unit = ""
        self._types: list[str] | None = None
        self._boundaries = True
        self._placing = False
        self._polls = 0
        self.path: Path | None = None
        self.view.loadFinished.connect(self._on_load_finished)

    # -- loading --------------------------------------------------------------------------
    def load(self, path: Path) -> None:
        """Show the map page written at ``path``."""
        self.ready = False
        self.path = path
        self._t0 = time.perf_counter()
        self._polls = 0
        self.view.load(QUrl.fromLocalFile(str(path)))

    def _on_load_finished(self, ok: bool) -> None:
        if not ok:
            logger.warning("map page failed to load: %s", self.path)
            return
        self._poll_ready()

    def _poll_ready(self) -> None:
        self.page.runJavaScript(
            "!!(window.coverageGis && window.coverageGis.zoomTo)", 0, self._ready_answer
        )

    def _ready_answer(self, ok: Any) -> None:
        if ok:
            self.ready = True
            self._apply_state()
            self.mapReady.emit(time.perf_counter() - self._t0)
        elif self._polls < 100:
            self._polls += 1
            QTimer.singleShot(50, self._poll_ready)

    def _apply_state(self) -> None:
        if self._indicator:
            self._call("setIndicator", self._indicator)
        if self._types is not None:
            self._call("setFacilityTypes", self._types)
        if not self._boundaries:
            self._set_boundaries_js(False)
        if self._unit:
            self._call("zoomTo", self._unit)
        if self._placing:
            self._call("setPlacing", True)

    def apply_update(self, patch: dict[str, Any], on_result: Any) -> None:
        """Update the drawn page in place (``coverageGis.update``); ``on_result(bool)``.

        ``False`` means the page refused the patch (drawn from other inputs) or is not
        ready; the caller then reloads the page.
        """
        if not self.ready:
            on_result(False)
            return
        payload = json.dumps(patch, ensure_ascii=False)
        self.page.runJavaScript(
            "(function(){var g=window.coverageGis;"
            f"return !!(g && typeof g.update==='function' && g.update({payload}));}})()",
            0,
            lambda ok: on_result(bool(ok)),
        )

    # -- commands -------------------------------------------------------------------------
    def _call(self, method: str, *args: Any) -> None:
        if not self.ready:
            return
        arglist = ", ".join(json.dumps(a, ensure_ascii=False) for a in args)
        self.page.runJavaScript(
            f"(function(){{var g=window.coverageGis; if(g && typeof g.{method}==='function')"
            f"{{return g.{method}({arglist});}} return null;}})()",
            0,
        )

    def set_indicator(self, indicator_id: str) -> None:
        """Colour the townships by another indicator (its facility types are shown)."""
        self._indicator = indicator_id
        self._types = None
        self._call("setIndicator", indicator_id)

    def zoom_to(self, code: str) -> None:
        """Zoom to and highlight a township (or county, if the page supports it)."""
        self._unit = code
        if code:
            self._call("zoomTo", code)

    def set_facility_types(self, types: list[str] | None) -> None:
        """Show these facility-type layers (``None``: those of the current indicator)."""
        self._types = None if types is None else list(types)
        self._call("setFacilityTypes", "indicator" if types is None else list(types))

    def set_placing(self, on: bool) -> None:
        """Placing mode: while on, a click on the map reports its point
        (:attr:`pointClicked`) instead of selecting a township. Kept across page reloads;
        a page without ``coverageGis.setPlacing`` ignores it."""
        self._placing = bool(on)
        self._call("setPlacing", self._placing)

    @property
    def placing(self) -> bool:
        """True while placing mode is on."""
        return self._placing

    def set_boundaries_visible(self, visible: bool) -> None:
        """Show or hide the township polygons."""
        self._boundaries = visible
        self._set_boundaries_js(visible)

    def _set_boundaries_js(self, visible: bool) -> None:
        if self.ready:
            self.page.runJavaScript(
                "(function(){var g=window.coverageGis; if(!g||!g.map){return false;}"
                "var p=g.map.getPane('cg-units'); if(p){p.style.display="
                + ("''" if visible else "'none'")
                + ";} return true;})()",
                0,
            )

    def run_js(self, code: str) -> None:
        """Run JavaScript in the page (tests and debugging)."""
        self.page.runJavaScript(code, 0)

    def grab_image(self) -> QImage:
        """The map as drawn now."""
        return self.view.grab().toImage()
