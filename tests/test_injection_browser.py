"""HTML/JavaScript injection: hostile names stay inert text in the gap map and summary.html.

Township, county, facility, address, facility-type and indicator names (the last two from a
custom ``-c`` catalogue) carry ``<script>``, ``<img onerror>``, ``</script><script>…<!--``
inside the JSON payload, ``javascript:`` URLs, U+2028/U+2029 and U+202E RIGHT-TO-LEFT
OVERRIDE. Every script payload sets ``window.__pwned``. Each page is loaded in a real
browser engine (QtWebEngine, offline, as in ``tests/test_map_browser.py``) and driven:
tooltips of every township and facility, the indicator selector, layers control, legend
and search box.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.results import AuditResult
from coverage_gis.export.summary import write_summary
from coverage_gis.mapexport import export_gap_map, js_call
from coverage_gis.mapexport._data import json_for_script
from coverage_gis.workflow import load_inputs, run_audit
from tests import hostile_inputs as hi


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    h = hi.write_hostile_inputs(tmp_path_factory.mktemp("hostile"))
    return run_audit(
        load_inputs(h.boundaries, [h.facilities]), load_catalog(h.catalog), "2025-12-31"
    )


def test_json_payload_cannot_close_its_script_element() -> None:
    payload = {"names": [hi.CLOSE, hi.SCRIPT, hi.IMG, hi.LINE_SEP, "a&b", "<!--x-->"]}
    text = json_for_script(payload)
    for raw in ("</", "<!--", "<script", "-->", "\u2028", "\u2029", "&"):
        assert raw not in text
    assert json.loads(text) == payload  # JSON.parse gives the strings back unchanged


def test_map_html_holds_no_payload_as_markup(result: AuditResult, tmp_path: Path) -> None:
    text = export_gap_map(result, tmp_path / "gap.html").read_text(encoding="utf-8")
    for raw in (*hi.HTML_PAYLOADS, "\u2028", "\u2029"):
        assert raw not in text, raw
    assert text.count("<script") == 5  # Leaflet, the page's script, the data, folium, init


def _chars_left_to_right(browser: Any, selector: str) -> bool:
    """True when the characters of the first text node under ``selector`` are laid out in
    logical order, left to right (i.e. no bidi override from a neighbour reversed them)."""
    xs = browser.jsj(
        "(function () { var n = document.querySelector(" + json.dumps(selector) + ");"
        " var w = document.createTreeWalker(n, NodeFilter.SHOW_TEXT); var t = w.nextNode();"
        " var out = []; for (var i = 0; i < t.length; i++) { if (!t.data[i].trim()) continue;"
        " var r = document.createRange(); r.setStart(t, i); r.setEnd(t, i + 1);"
        " out.push(r.getBoundingClientRect().left); } return out; })()"
    )
    return len(xs) >= 2 and xs == sorted(xs)


def _open_tooltips(browser: Any, which: str) -> list[str]:
    """Open the tooltip of every unit (``feature``) or facility marker; return their texts."""
    test = "l.feature" if which == "units" else "l instanceof L.CircleMarker"
    return browser.jsj(
        "(function () { var out = []; coverageGis.map.eachLayer(function (l) {"
        f" if ({test} && l.getTooltip()) {{ l.openTooltip(); var t = l.getTooltip().getElement();"
        " out.push(t ? t.textContent : ''); l.closeTooltip(); } });"
        " return out; })()"
    )


def _pwned(browser: Any) -> str:
    return browser.js("typeof window.__pwned")


@pytest.mark.slow
def test_gap_map_in_a_browser_runs_no_payload_and_shows_it_as_text(
    browser: Any, result: AuditResult, tmp_path: Path
) -> None:
    path = export_gap_map(result, tmp_path / "gap.html", title=hi.IMG)
    n_tags = path.read_text(encoding="utf-8").count("<script")
    browser.load(path)
    assert _pwned(browser) == "undefined"
    assert browser.js("document.scripts.length") == n_tags

    browser.js("coverageGis.setFacilityTypes('all')")
    units = " | ".join(_open_tooltips(browser, "units"))
    for name in hi.UNIT_NAMES.values():
        assert name in units, name
    for county in hi.COUNTY_NAMES.values():
        assert county in units, county
    assert hi.TYPE_HALL in units  # counts by type, named from the catalogue
    facilities = " | ".join(_open_tooltips(browser, "facilities"))
    for name, _kind, address, _x, _y in hi.FACILITIES[:-1]:  # the last one has no known type
        assert name in facilities and address in facilities, name
    assert hi.TYPE_STATION in facilities

    # indicator selector (catalogue names), switched from the page and through js_call
    options = browser.jsj(
        "Array.from(document.querySelectorAll('#cg-indicator-select option'))"
        ".map(function (o) { return [o.value, o.textContent]; })"
    )
    assert options == [["A-1", hi.IND_HALL], [hi.IND_STATION_ID, hi.IND_STATION]]
    browser.js(
        "var s = document.getElementById('cg-indicator-select'); s.value = "
        + json.dumps(hi.IND_STATION_ID)
        + "; s.dispatchEvent(new Event('change'));"
    )
    assert browser.jsj("coverageGis.indicator()") == hi.IND_STATION_ID
    assert browser.js(js_call("setIndicator", "A-1")) is True
    assert browser.js(js_call("setIndicator", hi.IND_STATION_ID)) is True
    browser.js("coverageGis.setFacilityTypes('all')")
    legend = browser.js("document.querySelector('.cg-legend').textContent")
    assert hi.TYPE_HALL + " (3)" in legend and hi.TYPE_STATION + " (3)" in legend
    layers = browser.js("document.querySelector('.leaflet-control-layers-overlays').textContent")
    assert hi.TYPE_HALL in layers and hi.TYPE_STATION in layers
    title = browser.js("document.querySelector('.cg-title').textContent")
    assert hi.IMG in title and "=1+1.csv" in title

    # search box: a hostile name typed in, found, and echoed as text
    names = browser.jsj(
        "Array.from(document.querySelectorAll('#cg-search-list option'))"
        ".map(function (o) { return o.value; })"
    )
    assert sorted(names) == sorted(hi.UNIT_NAMES.values())  # U+2028/2029 survive JSON
    target = hi.UNIT_NAMES["320502101"]
    browser.js(
        "var i = document.getElementById('cg-search-input'); i.value = "
        + json.dumps(target)
        + "; i.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));"
    )
    msg = browser.js("document.querySelector('.cg-search-msg').textContent")
    assert msg == hi.COUNTY_NAMES["乙市"] + " " + target

    # U+202E in a name reorders nothing outside it: the 功能区 tooltip's kind reads 功能区
    browser.js(
        "coverageGis.map.eachLayer(function (l) { if (l.feature &&"
        " l.feature.properties.code === '320501400') { l.openTooltip(); } });"
    )
    assert browser.js("document.querySelector('.leaflet-tooltip .cg-tt-h span').textContent") == (
        " 功能区"
    )
    assert _chars_left_to_right(browser, ".leaflet-tooltip .cg-tt-h span")
    browser.screenshot("gap_map_hostile.png")

    # nothing from the payloads was created or run
    assert _pwned(browser) == "undefined"
    assert browser.js("document.scripts.length") == n_tags
    assert browser.js("document.querySelectorAll('img, [onerror], iframe, object').length") == 0
    assert browser.js("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    assert browser.page.dialogs == []
    assert browser.page.errors() == []
    assert browser.interceptor.blocked == []


@pytest.mark.slow
def test_summary_html_in_a_browser_runs_no_payload_and_shows_it_as_text(
    browser: Any, result: AuditResult, tmp_path: Path
) -> None:
    _md, page = write_summary(result, tmp_path)
    text = page.read_text(encoding="utf-8")
    for raw in (*hi.HTML_PAYLOADS, "<img"):
        assert raw not in text, raw
    with browser.qtbot.waitSignal(browser.page.loadFinished, timeout=60_000):
        browser.page.load(page.as_uri())
    assert _pwned(browser) == "undefined"
    assert browser.js("document.scripts.length") == 0
    assert browser.js("document.querySelectorAll('img, [onerror], a, iframe').length") == 0
    body = browser.js("document.body.textContent")
    assert hi.CATALOG_NAME in browser.js("document.querySelector('h1').textContent")
    for shown in (
        hi.IND_HALL,
        hi.IND_STATION,
        hi.IND_MANUAL_ID,
        hi.IND_MANUAL,
        hi.UNIT_NAMES["320501002"],  # failing units of A-1 …
        hi.UNIT_NAMES["320502101"],
        hi.UNIT_NAMES["320502102"],  # … and of A-2
        hi.COUNTY_NAMES["甲区"],
        hi.COUNTY_NAMES["乙市"],
    ):
        assert shown in body, shown
    # the county holding U+202E is a <bdi>: the sentence after it reads left to right
    county = json.dumps(hi.COUNTY_NAMES["乙市"])
    li = browser.js(
        "(function () { var b = Array.from(document.querySelectorAll('ol > li > strong > bdi'))"
        f".filter(function (e) {{ return e.textContent.indexOf({county}) >= 0; }})[0];"
        " var n = b.parentNode.nextSibling; var s = document.createElement('span');"
        " s.id = 'after'; n.parentNode.insertBefore(s, n); s.appendChild(n); return !!b; })()"
    )
    assert li is True
    assert _chars_left_to_right(browser, "#after")
    browser.screenshot("summary_hostile.png")
    assert _pwned(browser) == "undefined"
    assert browser.page.dialogs == [] and browser.interceptor.blocked == []


@pytest.fixture
def browser(qtbot: Any) -> Any:
    pytest.importorskip("PySide6.QtWebEngineWidgets")
    from tests.test_map_browser import Browser

    b = Browser(qtbot)
    yield b
    b.close()
