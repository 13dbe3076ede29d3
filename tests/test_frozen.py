"""The frozen desktop build (``make dist`` → ``dist/coverage-gis/``) starts and works.

Runs only when the bundle exists: ``dist/coverage-gis/coverage-gis`` (``.exe`` on Windows)
or the executable named by ``$COVERAGE_GIS_FROZEN``; otherwise every test here is skipped
(``make test`` never builds it; only the rules of what the bundle leaves out are checked
without it). ``make test-dist`` builds the bundle and runs this file
with ``COVERAGE_GIS_FROZEN_REQUIRED=1``, which turns a missing bundle into a failure.

The bundle is started as a planner would: no Python on ``PATH``, no ``PYTHONPATH``, a GIS
program's ``PROJ_LIB``/``GDAL_DATA`` pointing elsewhere, its own user data folder.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXE_NAME = "coverage-gis.exe" if sys.platform == "win32" else "coverage-gis"
DEFAULT_EXE = ROOT / "dist" / "coverage-gis" / EXE_NAME
FROZEN_ENV = "COVERAGE_GIS_FROZEN"
REQUIRED_ENV = "COVERAGE_GIS_FROZEN_REQUIRED"

#: The main window's size (``MainWindow.resize(1400, 900)``), so the screenshot's.
WINDOW_SIZE = (1400, 900)
#: URLs an offline map may contain as text (as in tests/test_mapexport.py).
OFFLINE_URLS = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}
URL_RE = re.compile(r"https?://[^\s\"'<>()\\]+")


@pytest.fixture(scope="module")
def exe() -> Path:
    """The frozen executable, or skip (fail under ``make test-dist``) when not built."""
    path = Path(os.environ.get(FROZEN_ENV) or DEFAULT_EXE)
    if not path.is_file():
        reason = (
            f"未找到打包的桌面程序 {path}（先运行 make dist；make test-dist 会打包并运行本测试）/ "
            f"no frozen bundle at {path}: build it with `make dist` "
            f"(`make test-dist` builds it and runs these tests)"
        )
        if os.environ.get(REQUIRED_ENV) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def internal(exe: Path) -> Path:
    """The bundle's ``_internal`` folder (PyInstaller ≥ 6)."""
    return exe.parent / "_internal"


def planner_env(home: Path) -> dict[str, str]:
    """An environment without this test's Python, with another GIS program's data paths."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PROJ_LIB", "PROJ_DATA", "GDAL_DATA"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    env.update(
        QT_QPA_PLATFORM="offscreen",
        QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox --disable-gpu",
        COVERAGE_GIS_GUI_HOME=str(home),
        COVERAGE_GIS_CACHE="0",
        # a QGIS/OSGeo4W install would leave these: the bundle must ignore them
        PROJ_LIB=str(home / "no-such-proj"),
        PROJ_DATA=str(home / "no-such-proj"),
        GDAL_DATA=str(home / "no-such-gdal"),
    )
    return env


def run(exe: Path, args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        env=planner_env(cwd / "home"),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
    )


@pytest.mark.slow
def test_bundle_holds_catalogues_map_assets_and_library_data(exe: Path) -> None:
    lib = internal(exe)
    # the package's own resources and demo data, byte for byte from the repository
    for folder, dest in (("resources", "coverage_gis/resources"), ("data", "coverage_gis/data")):
        for src in sorted((ROOT / folder).rglob("*")):
            if src.is_file():
                got = lib / dest / src.relative_to(ROOT / folder)
                assert got.is_file(), got
                assert got.read_bytes() == src.read_bytes(), got
    for rel in (
        "coverage_gis/resources/catalogs/suzhou_14th_fyp.toml",
        "coverage_gis/resources/facility_types.toml",
        "coverage_gis/resources/vocabularies.toml",
        "coverage_gis/resources/audit_spec.schema.json",
        "coverage_gis/resources/map/coverage_map.js",
        "coverage_gis/resources/map/coverage_map.css",
        "coverage_gis/data/boundaries/suzhou_townships_demo.geojson",
        "coverage_gis/data/facilities/suzhou_facilities_demo.xlsx",
        # Leaflet, folium's and branca's templates, xyzservices' providers
        "js_lib_leaflet/static/js_lib_leaflet/leaflet.js",
        "js_lib_leaflet/static/js_lib_leaflet/leaflet.css",
        "js_lib_leaflet/static/js_lib_leaflet/images/layers.png",
        "folium/templates",
        "branca/templates",
        "xyzservices/data/providers.json",
        # PROJ and GDAL data, each library its own
        "pyproj/proj_dir/share/proj/proj.db",
        "pyogrio/proj_data/proj.db",
        "pyogrio/gdal_data/gdalvrt.xsd",
        "rasterio/proj_data/proj.db",
        "rasterio/gdal_data/gdalvrt.xsd",
        "matplotlib/mpl-data/matplotlibrc",
        "matplotlib/mpl-data/fonts/ttf/DejaVuSans.ttf",
    ):
        assert (lib / rel).exists(), rel
    # QtWebEngine: its process, resources and (Chinese and English) locales
    qt = lib / "PySide6"
    assert list(qt.rglob("QtWebEngineProcess*")), "QtWebEngineProcess missing"
    for name in ("qtwebengine_resources.pak", "icudtl.dat"):
        assert list(qt.rglob(name)), name
    locales = {p.stem for p in qt.rglob("qtwebengine_locales/*.pak")}
    assert {"en-US", "zh-CN"} <= locales, locales
    assert "de" not in locales  # other languages left out
    # licences beside the executable
    for rel in (
        "NOTICE.txt",
        "README.txt",
        "licenses/README.txt",
        "licenses/Qt/LGPL-3.0.txt",
        "licenses/fonts/LICENSE_DEJAVU",
        "licenses/demo-data/LICENSE.md",
    ):
        assert (exe.parent / rel).is_file(), rel
    listed = (exe.parent / "licenses" / "README.txt").read_text(encoding="utf-8")
    for dist in ("PySide6_Essentials", "folium", "django-js-lib-leaflet", "pyproj", "pyogrio"):
        assert dist.lower() in listed.lower(), dist
    # left out: test packages, tkinter, QML plugins, the test/scale extras' libraries
    for rel in ("pandas/tests", "tkinter", "PySide6/Qt/qml", "dask", "pytest", "distributed"):
        assert not (lib / rel).exists(), rel


@pytest.mark.slow
def test_frozen_app_renders_demo_screenshot(exe: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "out.png"
    proc = run(exe, ["--demo", "--screenshot", str(out)], tmp_path, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    log = (tmp_path / "home" / "coverage-gis-gui.log").read_text(encoding="utf-8")
    assert "start (demo=True" in log and "exit 0" in log, log[-3000:]
    assert " ERROR " not in log, log[-3000:]
    if sys.platform != "win32":  # the Windows build is windowed: no stdout there
        m = re.search(r"screenshot: (.+) ; launch to map: ([0-9.]+) s", proc.stdout)
        assert m, proc.stdout
        assert Path(m.group(1)) == out
        print(m.group(0))

    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out) as im:
        assert im.size == WINDOW_SIZE
        px = np.asarray(im.convert("RGB")).astype(int)
    colours = np.unique(px.reshape(-1, 3), axis=0)
    assert len(colours) > 1000, len(colours)  # text, map, tables: not a blank window
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    # the map's townships: 达标 green and 未达标 orange fills (Qt's own widgets have neither)
    green = int(((g > r + 30) & (g > b + 30)).sum())
    orange = int(((r > g + 60) & (r > b + 80)).sum())
    assert green > 5000, green
    assert orange > 500, orange


@pytest.mark.slow
def test_frozen_command_line_exports_offline_map_and_audit(exe: Path, tmp_path: Path) -> None:
    html, png = tmp_path / "map" / "gap_map.html", tmp_path / "map" / "gap_map.png"
    proc = run(
        exe, ["--cli", "map", "--demo", "--quiet", "--out", str(html), "--png", str(png)], tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = html.read_text(encoding="utf-8")
    assert set(URL_RE.findall(text)) <= OFFLINE_URLS  # Leaflet and scripts inlined, no CDN
    assert not re.search(r"<script[^>]+src=", text, re.I)
    assert "Leaflet 1.9.4" in text and "L.map(" in text and "coverageGisInit(" in text
    assert "url(images/" not in text  # Leaflet's images are data: URIs
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    out = tmp_path / "audit"
    args = ["audit", "--demo", "--as-of", "2025-12-31", "--format", "csv,json,xlsx", "-q"]
    proc = run(exe, ["--cli", *args, "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert len(data["indicators"]) == 29
    assert data["schematic_boundaries"] is True
    assert (out / "coverage_report.xlsx").stat().st_size > 10_000

    # the same numbers as the source tree's command line
    from coverage_gis.cli import main

    ref = tmp_path / "ref"
    assert main([*args, "--out", str(ref)]) == 0

    def table(folder: Path) -> list[dict[str, str]]:
        with (folder / "indicators.csv").open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))

    assert table(out) == table(ref)


def test_bundle_rules_keep_what_the_app_imports() -> None:
    """What ``packaging/bundle.py`` prunes from PyInstaller's lists (no build needed)."""
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import bundle
    finally:
        sys.path.remove(str(ROOT / "packaging"))

    def keep(name: str, path: str = "", kind: str = "DATA") -> bool:
        return bool(bundle.prune([(name, path, kind)]))

    # a module named like a test package is kept: Jinja imports jinja2.tests (folium needs it)
    assert keep("jinja2.tests", "/site/jinja2/tests.py", "PYMODULE")
    assert not keep("pandas.tests", "/site/pandas/tests/__init__.py", "PYMODULE")
    assert not keep("pandas.tests.io.test_csv", "/site/pandas/tests/io/test_csv.py", "PYMODULE")
    assert keep("numpy.testing", "/site/numpy/testing/__init__.py", "PYMODULE")
    assert not keep("numpy/_core/tests/data/umath-validation-set-README.txt")
    # Chinese and English stay; Windows paths (backslashes, no Qt/ folder) too
    assert keep("PySide6/Qt/translations/qtwebengine_locales/zh-CN.pak")
    assert keep("PySide6/Qt/translations/qtwebengine_locales/en-US.pak")
    assert not keep("PySide6\\translations\\qtwebengine_locales\\de.pak")
    assert keep("PySide6/translations/qtbase_zh_CN.qm")
    assert not keep("PySide6/Qt/translations/qtbase_fr.qm")
    # pyarrow: Flight and S3 libraries and build-time sources go, the core stays
    assert not keep("pyarrow/libarrow_flight.so.2600", kind="BINARY")
    assert not keep("pyarrow/arrow_python_flight.dll", kind="BINARY")
    assert keep("pyarrow/libarrow.so.2600", kind="BINARY")
    assert keep("pyarrow/libarrow_python.so", kind="BINARY")
    assert not keep("pyarrow/lib.pyx") and not keep("pyarrow/include/arrow/api.h")
    # the app's Qt modules are never excluded (QtWebEngine is required)
    used = {"PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineCore", "PySide6.QtWebChannel"}
    assert not used & set(bundle.EXCLUDES)
