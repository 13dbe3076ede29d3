"""Gap maps: offline HTML (no URLs, escaping, payload), simplification, GCJ-02 shift,
static map and the ``map`` command."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from coverage_gis.cli import main
from coverage_gis.core.catalog import Catalog
from coverage_gis.core.coordsys import wgs84_to_gcj02
from coverage_gis.core.engine import audit
from coverage_gis.core.errors import InputError
from coverage_gis.core.results import AuditResult
from coverage_gis.core.schema import coerce_facilities
from coverage_gis.mapexport import (
    build_gap_map,
    default_indicators,
    export_gap_map,
    export_static_map,
    js_call,
    map_facilities,
    map_payload,
    simplify_units,
    unit_statuses,
)
from coverage_gis.workflow import demo_boundaries_path, demo_facilities_paths
from tests.conftest import fac_rows, make_units

XSS = "<img src=x onerror=alert(1)>"
XSS_UNIT = "<script>alert(2)</script>街道"
JINJA = "{{ 7*7 }}{% raw %}"
#: URLs allowed in an offline page: the SVG namespace and Leaflet's licence/attribution link
#: (text, never fetched).
OFFLINE_URLS = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}
URL_RE = re.compile(r"https?://[^\s\"'<>()\\]+")


def make_map_result(catalog: Catalog) -> AuditResult:
    """Five units (one 功能区) with hostile strings in names, addresses and file names."""
    units = make_units()
    units.loc[units["code"] == "320501002", "name"] = XSS_UNIT
    fac = coerce_facilities(
        fac_rows(
            {"name": XSS, "type_raw": "综合养老服务中心", "lon": 120.05, "lat": 31.05,
             "address": JINJA, "opened": "2020-03-01"},
            {"name": "乙水驿站", "type_raw": "康复驿站", "lon": 120.12, "lat": 31.02,
             "meets_standard": True, "source_file": "</script><b>x</b>.csv"},
            {"name": "丁桥驿站", "type_raw": "康复驿站", "lon": 120.05, "lat": 31.15,
             "meets_standard": False},
            {"name": "戊港工作站", "type_raw": "社会工作站", "lon": 120.15, "lat": 31.15,
             "status": "在建"},
            {"name": "无坐标", "type_raw": "综合养老服务中心", "unit_name": "戊港镇"},
            {"name": "湖里", "type_raw": "综合养老服务中心", "lon": 120.5, "lat": 31.5},
        )
    )  # fmt: skip
    result = audit(units, fac, catalog, "2025-01-01")
    result.inputs = [
        {"role": "boundaries", "path": "/data/units.geojson"},
        {"role": "facilities", "path": "/data/<img src=y onerror=alert(4)>.csv"},
    ]
    return result


@pytest.fixture
def result(catalog: Catalog) -> AuditResult:
    return make_map_result(catalog)


def page_data(text: str) -> dict:
    m = re.search(
        r'<script type="application/json" id="coverage-gis-data">(.*?)</script>', text, re.S
    )
    assert m, "payload element missing"
    return json.loads(m.group(1))


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    lat = np.radians((np.asarray(lat1) + np.asarray(lat2)) / 2)
    dx = (np.asarray(lon2) - np.asarray(lon1)) * 111_320 * np.cos(lat)
    dy = (np.asarray(lat2) - np.asarray(lat1)) * 110_540
    return np.hypot(dx, dy)


# -- HTML ------------------------------------------------------------------------------
def test_offline_html_has_no_urls_and_no_external_resources(result):
    text = build_gap_map(result, title="<script>alert(3)</script>")
    urls = set(URL_RE.findall(text))
    assert urls <= OFFLINE_URLS, urls - OFFLINE_URLS
    assert not re.search(r"<script[^>]+src=", text, re.I)
    assert not re.search(r"<link[^>]+href=", text, re.I)
    assert "@import" not in text
    for cdn in ("jsdelivr", "unpkg.com", "cdnjs", "bootstrapcdn", "code.jquery", "//"):
        assert f'src="{cdn}' not in text and f"//{cdn}" not in text.replace("http://www.w3", "")
    assert "url(images/" not in text  # Leaflet's control images are inlined as data: URIs
    assert "L.map(" in text and "coverageGisInit(" in text
    assert '<html lang="zh-CN">' in text


def test_every_user_string_is_escaped(result):
    text = build_gap_map(result, title="<script>alert(3)</script>")
    for raw in (XSS, XSS_UNIT, "<script>alert(3)</script>", "</script><b>x</b>"):
        assert raw not in text
    assert "<title>&lt;script&gt;alert(3)&lt;/script&gt;</title>" in text
    data = page_data(text)
    assert XSS in data["facilities"]["name"]  # JSON.parse restores it; the page shows it as text
    assert JINJA in data["facilities"]["addr"]  # never rendered by Jinja
    assert data["title"] == "<script>alert(3)</script>"
    assert any(f["properties"]["name"] == XSS_UNIT for f in data["units"]["features"])
    assert "<img src=y" not in text and "\\u003cimg src=y onerror=alert(4)\\u003e.csv" in text
    assert data["source"] == "<img src=y onerror=alert(4)>.csv；边界 units.geojson"
    # the page inserts data with textContent; innerHTML only for escaped layer labels
    js = Path(__file__).parents[1].joinpath("resources/map/coverage_map.js").read_text("utf-8")
    assert "innerHTML" not in js.split("*/", 1)[1]
    assert "esc(t.name)" in js


def test_indicators_in_one_file_and_payload(result):
    ids = default_indicators(result)
    assert ids[0] == "T2-4" and "T2-1" in ids and "T2-2" not in ids  # township ones first
    text = build_gap_map(result)
    data = page_data(text)
    assert [i["id"] for i in data["indicators"]] == ids
    for ind_id in ids:
        assert f'"id":"{ind_id}"' in text
    t24 = data["indicators"][0]
    assert t24["line"] == "50% / 目标 100%（未达标）" and t24["fraction"] == "达标单位 2 / 4"
    assert t24["tally"] == {"met": 2, "not_met": 2, "not_counted": 1, "no_data": 0}
    feats = {f["properties"]["code"]: f["properties"] for f in data["units"]["features"]}
    assert len(feats) == len(result.units) == 5
    st = unit_statuses(result, "T2-4")
    assert st["320501400"] == "not_counted" and st["320501001"] == "met"
    assert st["320502102"] == "met"  # by the row without coordinates that names 戊港镇
    assert st["320502101"] == "not_met"
    # T2-9 (康复驿站, meets standard): 乙水 has a qualifying one, 丁桥 has one not up to standard
    k = [i["id"] for i in data["indicators"]].index("T2-9")
    assert feats["320501002"]["n"][k] == [1, 1] and feats["320502101"]["n"][k] == [1, 0]
    assert unit_statuses(result, "T2-9")["320502101"] == "not_met"
    # county-level indicator: every unit takes its county's status
    assert set(unit_statuses(result, "T2-1")) == {"not_met"}
    assert data["schematic"] is None and data["asOf"] == "2025-01-01"
    # points: typed rows with coordinates, including the one outside every unit
    drawn = map_facilities(result)
    assert len(data["facilities"]["x"]) == len(drawn) == 5
    assert data["facilities"]["u"][data["facilities"]["name"].index("湖里")] == -1


def test_english_and_selected_indicators(result):
    text = build_gap_map(result, indicators=["T2-9", "T2-4"], lang="en")
    data = page_data(text)
    assert [i["id"] for i in data["indicators"]] == ["T2-9", "T2-4"]
    assert data["indicators"][1]["line"] == "50% / target 100% (not met)"
    assert data["text"]["search"] == "Find a township…" and '<html lang="en">' in text


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"indicators": ["T2-99"]}, "Unknown indicator"),
        ({"indicators": ["T2-2"]}, "manually entered"),
        ({"basemap": "google"}, "Unknown basemap"),
        ({"basemap": "tianditu"}, "COVERAGE_GIS_TIANDITU_KEY"),
        ({"basemap": "tianditu", "tianditu_key": "bad key!"}, "key looks wrong"),
    ],
)
def test_bad_options_raise_input_error(result, monkeypatch, kw, needle):
    monkeypatch.delenv("COVERAGE_GIS_TIANDITU_KEY", raising=False)
    with pytest.raises(InputError, match=needle):
        build_gap_map(result, **kw)


def test_basemap_tile_urls_only_when_chosen(result, monkeypatch):
    hosts = {
        "osm": "tile.openstreetmap.org",
        "amap": "is.autonavi.com",
        "tianditu": "tianditu.gov.cn",
    }
    monkeypatch.setenv("COVERAGE_GIS_TIANDITU_KEY", "0123456789abcdef0123456789abcdef")
    for basemap, host in hosts.items():
        text = build_gap_map(result, basemap=basemap)
        extra = set(URL_RE.findall(text)) - OFFLINE_URLS
        assert extra and all(host in u for u in extra), extra
        assert all(h not in text for b, h in hosts.items() if b != basemap)
    text = build_gap_map(result, basemap="tianditu", tianditu_key="abcdef0123456789")
    assert "tk=abcdef0123456789" in text and "0123456789abcdef0123456789abcdef" not in text


def test_js_call_encodes_arguments():
    assert js_call("zoomTo", "320501001") == (
        'window.coverageGis ? window.coverageGis.zoomTo("320501001") : null;'
    )
    assert "</script" not in js_call("search", '"); alert(1); ("</script>')
    with pytest.raises(ValueError, match="function name"):
        js_call("zoomTo(1);alert", "x")


def test_export_writes_file(result, tmp_path):
    out = export_gap_map(result, tmp_path / "sub" / "gap.html", indicators=["T2-4"])
    assert out.exists() and page_data(out.read_text("utf-8"))["indicators"][0]["id"] == "T2-4"


# -- geometry --------------------------------------------------------------------------
def wiggly_coverage(n: int = 4, cell: float = 0.05) -> gpd.GeoDataFrame:
    """An n×n coverage near Suzhou whose shared edges are wiggly (many vertices)."""
    t = np.linspace(0, 1, 400)
    lines = []
    for i in range(n + 1):
        wob = np.zeros_like(t) if i in (0, n) else 0.12 * cell * np.sin(t * 9 * np.pi + i)
        lines.append(LineString(np.column_stack([120.3 + (i * cell) + wob, 31.1 + t * n * cell])))
        lines.append(LineString(np.column_stack([120.3 + t * n * cell, 31.1 + (i * cell) + wob])))
    polys = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines))))
    return gpd.GeoDataFrame({"code": [str(i) for i in range(len(polys))]}, geometry=polys, crs=4326)


def assert_shared_edges_kept(units: gpd.GeoDataFrame, tolerance_m: float) -> None:
    simp = gpd.GeoSeries(simplify_units(units, tolerance_m), crs=4326).to_crs(4549)
    orig = units.to_crs(4549).geometry
    assert (
        shapely.get_num_coordinates(simp.values).sum()
        < shapely.get_num_coordinates(orig.values).sum()
    )
    assert shapely.is_valid(simp.values).all()
    pairs = 0
    for i, j in combinations(range(len(orig)), 2):
        shared = orig.iloc[i].intersection(orig.iloc[j])
        if shared.is_empty or shared.length < 1.0:
            continue  # not neighbours (or touching at a corner only)
        pairs += 1
        a, b = simp.iloc[i], simp.iloc[j]
        assert a.intersects(b), (units["code"].iloc[i], units["code"].iloc[j])
        assert a.intersection(b).area < 1.0  # m²: no overlap
        assert a.intersection(b).length > 0.2 * shared.length  # still one shared edge
    assert pairs > 0
    # no gaps: the union covers about the same area as the sum of the parts
    union = shapely.union_all(simp.values)
    assert abs(union.area - simp.area.sum()) < 1.0
    assert shapely.get_num_interior_rings(union) == shapely.get_num_interior_rings(
        shapely.union_all(orig.values)
    )


def test_simplification_keeps_shared_edges_on_wiggly_coverage():
    units = wiggly_coverage()
    assert shapely.coverage_is_valid(units.geometry.values)
    assert_shared_edges_kept(units, 150.0)


def test_simplification_keeps_shared_edges_on_demo_boundaries():
    path = demo_boundaries_path()
    if not path.exists():
        pytest.skip("demo boundaries not generated yet")
    assert_shared_edges_kept(gpd.read_file(path), 30.0)


def test_amap_shift_matches_converter_within_half_a_metre(result):
    plain = map_payload(result, ["T2-4"], basemap="none")
    amap = map_payload(result, ["T2-4"], basemap="amap")
    assert amap["gcj02"] and not plain["gcj02"]
    fx, fy = wgs84_to_gcj02(plain["facilities"]["x"], plain["facilities"]["y"])
    assert metres(fx, fy, amap["facilities"]["x"], amap["facilities"]["y"]).max() < 0.5
    shift = metres(plain["facilities"]["x"], plain["facilities"]["y"], fx, fy)
    assert shift.min() > 100  # GCJ-02 moves points by hundreds of metres near Suzhou
    for fp, fa in zip(plain["units"]["features"], amap["units"]["features"], strict=True):
        cp = shapely.get_coordinates(shapely.geometry.shape(fp["geometry"]))
        ca = shapely.get_coordinates(shapely.geometry.shape(fa["geometry"]))
        gx, gy = wgs84_to_gcj02(cp[:, 0], cp[:, 1])
        assert metres(gx, gy, ca[:, 0], ca[:, 1]).max() < 0.5


# -- static map ------------------------------------------------------------------------
def test_static_map_png_pdf(result, tmp_path):
    png = export_static_map(result, tmp_path / "m.png", indicator="T2-4")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = export_static_map(result, tmp_path / "m.pdf", indicator="T2-1", lang="en")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    with pytest.raises(InputError, match=r"\.png or \.pdf"):
        export_static_map(result, tmp_path / "m.svg", indicator="T2-4")


# -- CLI -------------------------------------------------------------------------------
def test_map_command(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COVERAGE_GIS_TIANDITU_KEY", raising=False)
    b = tmp_path / "units.geojson"
    make_units().to_file(b, driver="GeoJSON")
    f = tmp_path / "fac.csv"
    f.write_text(
        "名称,类型,经度,纬度,状态\n甲山中心,综合养老服务中心,120.05,31.05,运营\n", encoding="utf-8"
    )
    out, png = tmp_path / "o" / "map.html", tmp_path / "o" / "map.png"
    base = ["map", "-b", str(b), "-f", str(f), "--as-of", "2025-01-01", "-q"]
    args = [
        *base,
        "--out",
        str(out),
        "--png",
        str(png),
        "--indicator",
        "T2-4",
        "--indicator",
        "T2-19",
    ]
    assert main(args) == 0
    data = page_data(out.read_text("utf-8"))
    assert [i["id"] for i in data["indicators"]] == ["T2-4", "T2-19"]
    assert png.stat().st_size > 10_000
    assert main([*base, "--out", str(out), "--indicator", "T2-2"]) == 2
    assert main([*base, "--out", str(out), "--basemap", "tianditu"]) == 2
    assert "COVERAGE_GIS_TIANDITU_KEY" in capsys.readouterr().err


def test_demo_map_size_and_note(tmp_path):
    if not demo_boundaries_path().exists() or not demo_facilities_paths()[0].exists():
        pytest.skip("demo data not generated yet")
    out = tmp_path / "gap_map.html"
    assert main(["map", "--demo", "--as-of", "2026-11-29", "--out", str(out), "-q"]) == 0
    # 93 townships, 1,247 facilities, and 4 access layers (1,420 demand points and ~200
    # catchments each, ~250 KB a layer): a file a meeting-room laptop opens at once
    assert out.stat().st_size <= 2.5 * 1024 * 1024
    text = out.read_text("utf-8")
    assert set(URL_RE.findall(text)) <= OFFLINE_URLS
    data = page_data(text)
    assert data["schematic"] == "示意边界，非法定界线"
    assert len(data["units"]["features"]) == 93


def test_tianditu_key_from_user_config(tmp_path, monkeypatch):
    from coverage_gis.mapexport import resolve_tianditu_key

    monkeypatch.delenv("COVERAGE_GIS_TIANDITU_KEY", raising=False)
    cfg = tmp_path / "config.toml"
    monkeypatch.setenv("COVERAGE_GIS_CONFIG", str(cfg))
    with pytest.raises(InputError, match=r"config\.toml"):
        resolve_tianditu_key(None)
    cfg.write_text('[map]\ntianditu_key = "abc123def456"\n', encoding="utf-8")
    assert resolve_tianditu_key(None) == "abc123def456"
    assert resolve_tianditu_key("0123456789abcdef") == "0123456789abcdef"  # the option wins
