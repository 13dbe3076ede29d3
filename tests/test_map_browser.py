"""The exported gap map rendered by a real browser engine (QtWebEngine), offline.

Every request other than file:/data:/qrc: is blocked and recorded; console errors, alerts
and dialogs are recorded. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox --disable-gpu"

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")

import shiboken6
from PySide6.QtCore import QFile, QIODevice, QObject, QUrl, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWebEngineWidgets import QWebEngineView

from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.results import AuditResult
from coverage_gis.mapexport import export_gap_map, js_call, map_facilities
from coverage_gis.workflow import (
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
    run_audit,
)
from tests.test_mapexport import XSS, XSS_UNIT, make_map_result

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LOCAL_SCHEMES = {"file", "data", "qrc", "about", "blob"}


class BlockingInterceptor(QWebEngineUrlRequestInterceptor):
    """Blocks and records every request that would leave the machine."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self.seen: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:  # noqa: N802
        url = info.requestUrl()
        self.seen.append(url.toString())
        if url.scheme() not in LOCAL_SCHEMES:
            self.blocked.append(url.toString())
            info.block(True)


class RecordingPage(QWebEnginePage):
    """Records console messages, alerts and other JavaScript dialogs."""

    def __init__(self, profile: QWebEngineProfile) -> None:
        super().__init__(profile)
        self.console: list[tuple[str, str, int]] = []
        self.dialogs: list[str] = []

    def javaScriptConsoleMessage(self, level: Any, message: str, line: int, source: str) -> None:  # noqa: N802
        self.console.append((level.name, message, line))

    def javaScriptAlert(self, origin: QUrl, message: str) -> None:  # noqa: N802
        self.dialogs.append(f"alert:{message}")

    def javaScriptConfirm(self, origin: QUrl, message: str) -> bool:  # noqa: N802
        self.dialogs.append(f"confirm:{message}")
        return False

    def javaScriptPrompt(self, origin: QUrl, message: str, default: str) -> tuple[bool, str]:  # noqa: N802
        self.dialogs.append(f"prompt:{message}")
        return False, ""

    def errors(self) -> list[tuple[str, str, int]]:
        return [c for c in self.console if c[0] == "ErrorMessageLevel"]


class Bridge(QObject):
    """Stands in for the desktop app's bridge object."""

    def __init__(self) -> None:
        super().__init__()
        self.clicked: list[str] = []
        self.points: list[tuple[float, float]] = []

    @Slot(str)
    def unitClicked(self, code: str) -> None:  # noqa: N802
        self.clicked.append(code)

    @Slot(float, float)
    def mapClicked(self, lon: float, lat: float) -> None:  # noqa: N802
        self.points.append((lon, lat))


class Browser:
    """A QWebEngineView on an off-the-record profile with networking blocked."""

    def __init__(self, qtbot: Any, *, with_channel: bool = False) -> None:
        self.qtbot = qtbot
        self.profile = QWebEngineProfile()  # off the record
        self.interceptor = BlockingInterceptor()
        self.profile.setUrlRequestInterceptor(self.interceptor)
        self.page = RecordingPage(self.profile)
        # Let file: pages reach remote URLs so that any such request reaches the interceptor
        # (Qt's default would silently drop it and the offline check would prove nothing).
        self.page.settings().setAttribute(
            QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True
        )
        self.bridge: Bridge | None = None
        if with_channel:
            # what the GUI does: inject qwebchannel.js from Qt's resources, register "bridge"
            f = QFile(":/qtwebchannel/qwebchannel.js")
            assert f.open(QIODevice.OpenModeFlag.ReadOnly)
            script = QWebEngineScript()
            script.setSourceCode(bytes(f.readAll().data()).decode("utf-8"))
            script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
            script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
            self.page.scripts().insert(script)
            self.bridge = Bridge()
            self.channel = QWebChannel(self.page)
            self.channel.registerObject("bridge", self.bridge)
            self.page.setWebChannel(self.channel)
        self.view = QWebEngineView()
        self.view.setPage(self.page)
        self.view.resize(1400, 900)
        self.view.show()

    def load(self, path: Path) -> None:
        with self.qtbot.waitSignal(self.page.loadFinished, timeout=60_000) as blocker:
            self.page.load(QUrl.fromLocalFile(str(path)))
        assert blocker.args == [True]
        self.qtbot.waitUntil(
            lambda: self.js("typeof window.coverageGis") == "object", timeout=20_000
        )

    def js(self, code: str) -> Any:
        box: list[Any] = []
        self.page.runJavaScript(code, 0, box.append)
        self.qtbot.waitUntil(lambda: bool(box), timeout=20_000)
        return box[0]

    def jsj(self, code: str) -> Any:
        """Run an expression and JSON-decode its JSON.stringify'd value."""
        return json.loads(self.js(f"JSON.stringify({code})"))

    def screenshot(self, name: str) -> Path:
        self.qtbot.wait(400)
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        assert self.view.grab().save(str(path))
        return path

    def close(self) -> None:
        """Delete view, page and profile in that order (a profile must outlive its pages)."""
        self.view.close()
        shiboken6.delete(self.view)
        shiboken6.delete(self.page)  # also deletes the channel (its child)
        shiboken6.delete(self.profile)


@pytest.fixture
def browser(qtbot):
    b = Browser(qtbot)
    yield b
    b.close()


@pytest.fixture(scope="module")
def demo_result() -> AuditResult:
    if not demo_boundaries_path().exists() or not demo_facilities_paths()[0].exists():
        pytest.skip("demo data not generated yet")
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths())
    return run_audit(inputs, load_catalog(), "2026-11-29")


def test_demo_map_offline_counts_and_search(browser, demo_result, tmp_path):
    path = export_gap_map(demo_result, tmp_path / "gap_map.html")
    browser.load(path)
    c = browser.jsj("coverageGis.counts()")
    assert c["units"] == c["unitsDrawn"] == len(demo_result.units) == 93
    expected_fac = len(map_facilities(demo_result))
    assert c["facilities"] == expected_fac
    first = browser.jsj("coverageGis.indicator()")
    assert first == "T2-4"
    shown_t24 = int((map_facilities(demo_result)["type_code"] == "elderly_care_center").sum())
    assert c["facilitiesShown"] == shown_t24
    assert browser.js("document.querySelectorAll('path.cg-fac').length") == shown_t24
    browser.screenshot("gap_map_demo.png")

    # every facility layer on: one drawn marker per located, typed facility
    browser.js("coverageGis.setFacilityTypes('all')")
    assert browser.js("document.querySelectorAll('path.cg-fac').length") == expected_fac
    assert browser.jsj("coverageGis.counts().facilitiesShown") == expected_fac

    # switch indicator from the map's own selector
    browser.js(
        "var s = document.getElementById('cg-indicator-select'); s.value = 'T2-9';"
        "s.dispatchEvent(new Event('change'));"
    )
    assert browser.jsj("coverageGis.indicator()") == "T2-9"
    value = browser.js("document.querySelector('.cg-value').textContent")
    assert "/ 目标 100%" in value

    # search box: type a name and press Enter
    target = demo_result.units.loc[demo_result.units["name"] == "木渎镇"].iloc[0]
    zoom0 = browser.js("coverageGis.map.getZoom()")
    browser.js(
        "var i = document.getElementById('cg-search-input'); i.value = '木渎';"
        "i.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));"
    )
    browser.qtbot.wait(300)
    b = browser.jsj("coverageGis.map.getBounds().toBBoxString().split(',').map(Number)")
    pt = target.geometry.representative_point()
    assert b[0] < pt.x < b[2] and b[1] < pt.y < b[3]
    assert browser.js("coverageGis.map.getZoom()") > zoom0
    assert "木渎镇" in browser.js("document.querySelector('.cg-search-msg').textContent")
    # zoomed in far enough that township names are shown
    assert not browser.js("coverageGis.map.getContainer().classList.contains('cg-labels-hidden')")
    browser.screenshot("gap_map_demo_search.png")

    assert browser.page.errors() == []
    assert browser.interceptor.blocked == []
    assert browser.page.dialogs == []
    print(
        f"\noffline render: console errors={browser.page.errors()} "
        f"blocked requests={browser.interceptor.blocked} requests seen={len(browser.interceptor.seen)} "
        f"units={c['units']} facilities={c['facilities']} (audit: {len(demo_result.units)} units, "
        f"{expected_fac} located typed facilities)"
    )


def test_xss_fixture_stays_text(browser, catalog, tmp_path):
    result = make_map_result(catalog)
    path = export_gap_map(result, tmp_path / "xss.html", title="<img src=z onerror=alert(5)>")
    browser.load(path)
    n_scripts = browser.js("document.querySelectorAll('script').length")
    browser.js("coverageGis.setFacilityTypes('all')")
    # open the hostile facility's tooltip and the hostile township's tooltip
    browser.js(
        "coverageGis.map.eachLayer(function (l) { if (l instanceof L.CircleMarker && l.getLatLng().lng === 120.05 && l.getLatLng().lat === 31.05) { l.openTooltip(); } });"
    )
    tip = browser.js(
        "Array.from(document.querySelectorAll('.leaflet-tooltip')).map(function (t) { return t.textContent; }).join('|')"
    )
    assert XSS in tip
    browser.js(
        "coverageGis.map.eachLayer(function (l) { if (l.feature && l.feature.properties.code === '320501002') { l.openTooltip(); } });"
    )
    tip = browser.js(
        "Array.from(document.querySelectorAll('.leaflet-tooltip')).map(function (t) { return t.textContent; }).join('|')"
    )
    assert XSS_UNIT in tip
    browser.js("coverageGis.zoomTo('320501002')")
    labels = browser.js(
        "Array.from(document.querySelectorAll('.cg-label')).map(function (t) { return t.textContent; }).join('|')"
    )
    assert XSS_UNIT in labels
    assert (
        browser.js("document.querySelector('.cg-title-h').textContent")
        == "<img src=z onerror=alert(5)>"
    )
    assert browser.js("document.title") == "<img src=z onerror=alert(5)>"
    assert browser.js("document.querySelectorAll('img').length") == 0
    assert browser.js("document.querySelectorAll('script').length") == n_scripts
    browser.qtbot.wait(300)
    browser.screenshot("gap_map_xss.png")
    assert browser.page.dialogs == []
    assert browser.page.errors() == []
    assert browser.interceptor.blocked == []


def test_zoom_and_clicks_through_qwebchannel(qtbot, catalog, tmp_path):
    result = make_map_result(catalog)
    path = export_gap_map(result, tmp_path / "gui.html")
    b = Browser(qtbot, with_channel=True)
    try:
        b.load(path)
        assert b.js(js_call("zoomTo", "320502102")) is True
        assert b.js(js_call("zoomTo", "nope")) is False
        assert b.js(js_call("setIndicator", "T2-19")) is True
        assert b.jsj("coverageGis.indicator()") == "T2-19"
        b.js(
            "window.__clicks = []; window.addEventListener('coveragegis:unitclick', function (e) { window.__clicks.push(e.detail.code); });"
            "coverageGis.map.eachLayer(function (l) { if (l.feature && l.feature.properties.code === '320501001') { l.fire('click'); } });"
        )
        assert b.jsj("window.__clicks") == ["320501001"]
        assert b.bridge is not None
        qtbot.waitUntil(lambda: b.bridge.clicked == ["320501001"], timeout=10_000)
        assert b.page.errors() == [] and b.interceptor.blocked == []
    finally:
        b.close()


def test_interceptor_catches_basemap_tiles(browser, catalog, tmp_path):
    """Positive control: a map with a chosen basemap does request tiles, and they are caught."""
    result = make_map_result(catalog)
    path = export_gap_map(result, tmp_path / "amap.html", basemap="amap")
    browser.load(path)
    browser.qtbot.waitUntil(lambda: bool(browser.interceptor.blocked), timeout=10_000)
    assert all("autonavi.com" in u for u in browser.interceptor.blocked)
    assert browser.page.dialogs == []


def test_access_layers_draw_demand_and_catchments(browser, tmp_path):
    from coverage_gis.workflow import demo_access_paths

    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    result = run_audit(inputs, load_catalog(), "2026-11-29")
    path = export_gap_map(result, tmp_path / "gap_map.html", indicators=["T2-4", "A-3"])
    browser.load(path)
    assert browser.jsj("coverageGis.counts().demandShown") == 0  # a presence indicator first
    browser.js(
        "var s = document.getElementById('cg-indicator-select'); s.value = 'A-3';"
        "s.dispatchEvent(new Event('change'));"
    )
    browser.qtbot.wait(300)
    assert browser.jsj("coverageGis.indicator()") == "A-3"
    c = browser.jsj("coverageGis.counts()")
    detail = result.indicator("A-3").access
    drawn = (detail.points["weight"] > 0) & detail.points["lon"].notna()
    assert c["demandShown"] == int(drawn.sum())
    catchments = detail.catchments()
    assert c["catchmentsShown"] == sum(g is not None and not g.is_empty for g in catchments)
    text = browser.js("document.querySelector('.cg-value').textContent")
    assert text.startswith(f"{result.indicator('A-3').value:.1f}%")
    browser.screenshot("gap_map_access_A-3.png")
    assert browser.page.errors() == []
    assert browser.interceptor.blocked == []


def test_suggested_and_planned_sites_and_placing_by_click(qtbot, tmp_path):
    """Suggested sites are numbered per indicator, planned sites drawn apart, and in
    placing mode a click reports its point to the host instead of selecting a township."""
    from coverage_gis.siting.scenario import PlannedSite, Scenario, evaluate_scenario
    from coverage_gis.siting.suggest import suggest_for_gaps
    from coverage_gis.workflow import demo_access_paths, prepare_audit

    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    catalog = load_catalog()
    prepared = prepare_audit(inputs, catalog, allow_errors=True)
    now = prepared.evaluate("2025-12-31")
    sites = suggest_for_gaps(inputs, now, ["T2-5", "T2-4"])
    lili = now.units.loc[now.units["code"] == "320509107", "geometry"].iloc[0]
    p = lili.representative_point()
    plan = Scenario(
        "方案", (PlannedSite("黎里规划中心", "regional_elderly_care_center", p.x, p.y),)
    )
    result = evaluate_scenario(prepared, plan, "2025-12-31")
    path = export_gap_map(result, tmp_path / "sites.html", indicators=["T2-5", "T2-4"], sites=sites)
    b = Browser(qtbot, with_channel=True)
    try:
        b.load(path)
        by = {s.indicator: s.table for s in sites}
        c = b.jsj("coverageGis.counts()")
        assert c["planned"] == 1
        assert c["sitesShown"] == len(by["T2-5"]) > 0
        assert b.jsj("coverageGis.sites()") == list(by["T2-5"]["site"])
        legend = b.js("document.querySelector('.cg-legend').textContent")
        assert "规划点位 (1)" in legend  # the planned centre is of T2-5's type
        b.screenshot("gap_map_sites_T2-5.png")
        assert b.js(js_call("setIndicator", "T2-4")) is True
        assert b.jsj("coverageGis.sites()") == list(by["T2-4"]["site"])
        legend = b.js("document.querySelector('.cg-legend').textContent")
        assert f"选址建议 ({len(by['T2-4'])})" in legend and "规划点位" not in legend
        b.screenshot("gap_map_sites.png")
        # placing: a click reports its point, not a township
        assert b.js(js_call("setPlacing", True)) is True
        # (each statement ends in a value: a Leaflet object as the result never comes back)
        b.js(
            "coverageGis.map.fire('click', {latlng: L.latLng(31.0230, 120.8672)});"
            "coverageGis.map.eachLayer(function (l) { if (l.feature && l.feature.properties.code"
            " === '320509107') { l.fire('click'); } }); true"
        )
        assert b.bridge is not None
        qtbot.waitUntil(lambda: len(b.bridge.points) == 1, timeout=10_000)
        lon, lat = b.bridge.points[0]
        assert abs(lon - 120.8672) < 1e-9 and abs(lat - 31.0230) < 1e-9
        assert b.bridge.clicked == []
        assert b.js(js_call("setPlacing", False)) is True
        b.js(
            "coverageGis.map.eachLayer(function (l) { if (l.feature && l.feature.properties.code"
            " === '320509107') { l.fire('click'); } }); true"
        )
        qtbot.waitUntil(lambda: b.bridge.clicked == ["320509107"], timeout=10_000)
        assert b.page.errors() == [] and b.interceptor.blocked == []
    finally:
        b.close()
    # a GCJ-02 page has no WGS84 point to report: placing is refused
    gcj = export_gap_map(result, tmp_path / "gcj.html", indicators=["T2-5"], basemap="amap")
    b2 = Browser(qtbot)
    try:
        b2.load(gcj)
        assert b2.js(js_call("setPlacing", True)) is False
    finally:
        b2.close()
