"""The interactive gap map: one self-contained, offline HTML file (folium + inlined Leaflet).

The page needs no network: Leaflet 1.9.4 (from the ``django-js-lib-leaflet`` package) and
the page's own script and styles (``resources/map/``) are inlined; folium's CDN defaults
are removed. Only tile URLs of a basemap the user chose may appear. The page's JavaScript
API (``window.coverageGis``) and the QWebChannel click bridge are documented in
``resources/map/coverage_map.js``; :func:`js_call` builds safe calls for
``QWebEnginePage.runJavaScript``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage_gis._paths import resource_path
from coverage_gis.core.errors import InputError
from coverage_gis.core.results import AuditResult
from coverage_gis.mapexport._data import (
    BASEMAPS,
    DEFAULT_TOLERANCE_M,
    json_for_script,
    map_payload,
    resolve_tianditu_key,
)
from coverage_gis.text import Lang, pick

if TYPE_CHECKING:
    from coverage_gis.siting.scenario import SuggestedSites
    from coverage_gis.siting.suggest import SiteSuggestion

__all__ = ["build_gap_map", "export_gap_map", "js_call", "leaflet_assets"]

_IMG_RE = re.compile(r"url\((['\"]?)images/([A-Za-z0-9_.-]+\.png)\1\)")
_CSS_COMMENT_RE = re.compile(r"/\*.*?\*/", re.S)
_SOURCEMAP_RE = re.compile(r"^\s*//# sourceMappingURL=.*$", re.M)


@lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS text, ready to inline.

    Images referenced by the CSS become ``data:`` URIs; CSS comments and the source-map
    comment are dropped (they only hold links). The library's licence header is kept.

    Raises
    ------
    ImportError
        When ``django-js-lib-leaflet`` is not installed.
    """
    try:
        import js_lib_leaflet
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "离线地图需要 django-js-lib-leaflet（pip install django-js-lib-leaflet）/ the offline "
            "map needs the package django-js-lib-leaflet"
        ) from exc
    root = Path(js_lib_leaflet.__file__).resolve().parent / "static" / "js_lib_leaflet"
    js = _SOURCEMAP_RE.sub("", (root / "leaflet.js").read_text(encoding="utf-8"))
    css = _CSS_COMMENT_RE.sub("", (root / "leaflet.css").read_text(encoding="utf-8"))

    def _inline(m: re.Match[str]) -> str:
        data = base64.b64encode((root / "images" / m.group(2)).read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    return js, _IMG_RE.sub(_inline, css)


def _own_assets() -> tuple[str, str]:
    js = resource_path("map", "coverage_map.js").read_text(encoding="utf-8")
    css = resource_path("map", "coverage_map.css").read_text(encoding="utf-8")
    return js, css


def _script_text(text: str) -> str:
    """Guard inlined library text against closing its ``<script>``/``<style>`` element."""
    return re.sub(r"</(script|style)", r"<\\/\1", text, flags=re.I)


def _tile_layers(basemap: str, lang: Lang, tianditu_key: str | None) -> list[dict[str, Any]]:
    if basemap == "osm":
        return [
            {
                "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attr": "&copy; OpenStreetMap contributors",
                "name": "OpenStreetMap",
                "max_zoom": 19,
            }
        ]
    if basemap == "amap":
        return [
            {
                "tiles": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                "attr": "&copy; 高德地图 AutoNavi (GCJ-02)",
                "name": "高德 AMap",
                "subdomains": "1234",
                "max_zoom": 18,
            }
        ]
    if basemap == "tianditu":
        key = resolve_tianditu_key(tianditu_key)
        wmts = (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
        )
        note = pick(("cva", "eva"), lang)  # the labels layer in the page's language
        return [
            {
                "tiles": wmts.format(s="{s}", layer="vec", key=key),
                "attr": "&copy; 天地图 Tianditu",
                "name": "天地图 Tianditu",
                "subdomains": "01234567",
                "max_zoom": 18,
            },
            {
                "tiles": wmts.format(s="{s}", layer=note, key=key),
                "attr": "&copy; 天地图 Tianditu",
                "name": "天地图注记",
                "subdomains": "01234567",
                "max_zoom": 18,
                "overlay": True,
            },
        ]
    return []


def build_gap_map(
    result: AuditResult,
    *,
    indicators: Sequence[str] | None = None,
    basemap: str = "none",
    title: str | None = None,
    lang: Lang = "zh",
    tianditu_key: str | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    label_zoom: int | None = None,
    sites: Sequence[SiteSuggestion | SuggestedSites] = (),
) -> str:
    """Build the gap map page and return its HTML text.

    The desktop app loads the same text into a ``QWebEngineView`` (``setHtml`` with a
    ``file:`` base URL, or from a temporary file when the page exceeds Qt's 2 MB data-URL
    limit).

    Parameters
    ----------
    result
        An audit result.
    indicators
        Indicator ids to include (switchable on the page); the first is shown first.
        ``None``: every presence indicator of the catalogue. Manual indicators are refused.
    basemap
        ``none`` (default, offline), ``osm``, ``tianditu`` or ``amap``. With ``amap``
        every overlay is shifted from WGS84 to GCJ-02.
    title
        Title of the map (default: 镇(街道)民政设施覆盖缺口图).
    lang
        ``zh`` (default) or ``en``.
    tianditu_key
        天地图 key (else ``$COVERAGE_GIS_TIANDITU_KEY``); required for ``tianditu``.
    tolerance_m
        Boundary simplification tolerance in metres (coverage-preserving).
    label_zoom
        Zoom from which township names are shown (default: one level closer than the
        initial view).
    sites
        Site suggestions (:func:`coverage_gis.siting.suggest.suggest_sites`): a layer 选址建议
        of numbered sites for each mapped indicator that has them, with what each adds.

    Raises
    ------
    InputError
        Unknown or manual indicator, unknown basemap, missing 天地图 key.
    """
    try:
        import folium
        from branca.element import Element
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("交互地图需要 folium / the interactive map needs folium") from exc

    if basemap not in BASEMAPS:
        raise InputError(
            f"未知底图：{basemap}（可用：{', '.join(BASEMAPS)}）",
            f"Unknown basemap: {basemap} (choose from {', '.join(BASEMAPS)})",
            value=basemap,
        )
    tiles = _tile_layers(basemap, lang, tianditu_key)  # checks the key before any work
    payload = map_payload(
        result,
        indicators,
        basemap=basemap,
        title=title,
        lang=lang,
        tolerance_m=tolerance_m,
        sites=sites,
    )

    class _Raw(Element):  # type: ignore[misc]
        """Text inserted verbatim: never passed through a Jinja template."""

        def __init__(self, raw: str) -> None:
            super().__init__()
            self._raw = raw

        def render(self, **kwargs: Any) -> str:
            return self._raw

    (s, w), (n, e) = payload["bounds"]
    m = folium.Map(
        location=[(s + n) / 2, (w + e) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=False,  # the page adds a metric-only scale bar
        zoom_control=False,
        prefer_canvas=False,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    # folium's defaults load Leaflet, jQuery, Bootstrap … from CDNs: replace them all.
    m.default_js = []
    m.default_css = []
    for t in tiles:
        folium.TileLayer(
            tiles=t["tiles"],
            attr=t["attr"],
            name=t["name"],
            subdomains=t.get("subdomains", "abc"),
            max_zoom=t["max_zoom"],
            overlay=t.get("overlay", False),
            control=False,
        ).add_to(m)

    leaflet_js, leaflet_css = leaflet_assets()
    own_js, own_css = _own_assets()
    root = m.get_root()
    page_title = html.escape(payload["title"], quote=True)
    root.header.add_child(_Raw(f"<title>{page_title}</title>"), name="cg_title")
    root.header.add_child(
        _Raw(f"<style>{_script_text(leaflet_css)}</style>\n<style>{_script_text(own_css)}</style>"),
        name="cg_css",
    )
    root.header.add_child(
        _Raw(
            f"<script>{_script_text(leaflet_js)}</script>\n<script>{_script_text(own_js)}</script>"
        ),
        name="cg_js",
    )
    root.html.add_child(
        _Raw(
            '<script type="application/json" id="coverage-gis-data">'
            + json_for_script(payload)
            + "</script>"
        ),
        name="cg_data",
    )
    opts = {"labelZoom": label_zoom} if label_zoom else {}
    root.script.add_child(
        _Raw(
            # runs after folium's own script has created the map variable
            "document.addEventListener('DOMContentLoaded', function () { "
            f"coverageGisInit({m.get_name()}, "
            "JSON.parse(document.getElementById('coverage-gis-data').textContent), "
            f"{json.dumps(opts)}); }});"
        ),
        name="cg_init",
    )
    text = root.render()
    return text.replace("<html>", f'<html lang="{pick(("zh-CN", "en"), lang)}">', 1)


def export_gap_map(
    result: AuditResult,
    path: str | Path,
    *,
    indicators: Sequence[str] | None = None,
    basemap: str = "none",
    title: str | None = None,
    lang: Lang = "zh",
    tianditu_key: str | None = None,
    sites: Sequence[SiteSuggestion | SuggestedSites] = (),
) -> Path:
    """Write the interactive gap map as one self-contained HTML file.

    Parameters are those of :func:`build_gap_map`. The parent folder is created.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    text = build_gap_map(
        result,
        indicators=indicators,
        basemap=basemap,
        title=title,
        lang=lang,
        tianditu_key=tianditu_key,
        sites=sites,
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def js_call(function: str, *args: Any) -> str:
    """A JavaScript statement calling ``window.coverageGis.<function>(args…)``.

    Arguments are JSON-encoded, so codes and names cannot break out of the call. For
    ``QWebEnginePage.runJavaScript``: ``page.runJavaScript(js_call("zoomTo", code))``.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", function):
        raise ValueError(f"not a function name: {function!r}")
    encoded = ", ".join(json_for_script(a) for a in args)
    return f"window.coverageGis ? window.coverageGis.{function}({encoded}) : null;"
