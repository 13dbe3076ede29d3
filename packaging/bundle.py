"""What goes into the frozen desktop build, for ``packaging/coverage-gis.spec``.

The spec stays a thin list of PyInstaller steps; the choices live here, where they can be
read, linted and imported by the tests:

- :func:`datas` — the package's ``resources/`` and ``data/`` at the paths ``_paths.py``
  looks up in an installed wheel (``coverage_gis/resources``, ``coverage_gis/data``), Leaflet
  from ``django-js-lib-leaflet``, GDAL's and PROJ's data for pyogrio and rasterio (pyproj's
  ``proj.db``, folium's and branca's templates, xyzservices' providers and matplotlib's data
  come with PyInstaller's hooks);
- :data:`EXCLUDES` and :func:`prune` — what is left out (tests, tkinter, the test and scale
  extras' libraries, Qt translations and Chromium locales other than Chinese and English);
- :func:`write_notices` — ``NOTICE.txt``, ``README.txt`` and ``licenses/`` beside the
  executable: the licence files of every distribution in the bundle, Python's, the fonts'.

Everything is sorted and written without dates, so the same environment gives the same
bundle.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

__all__ = [
    "APP_NAME",
    "CHROMIUM_LOCALES",
    "EXCLUDES",
    "QT_TRANSLATION_LANGS",
    "datas",
    "hiddenimports",
    "prune",
    "write_notices",
]

#: Name of the executable and of the output folder ``dist/coverage-gis/``.
APP_NAME = "coverage-gis"

#: Modules never bundled: GUI toolkits we do not use, test tools, and the libraries of the
#: ``test`` and ``scale`` extras the build environment may hold (the app runs without them:
#: ``--engine dask`` then says how to install them).
EXCLUDES: tuple[str, ...] = (
    "tkinter",
    "_tkinter",
    "turtle",
    "turtledemo",
    "idlelib",
    "lib2to3",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "IPython",
    "ipykernel",
    "jupyter_client",
    "notebook",
    "pytest",
    "_pytest",
    "pytestqt",
    "pluggy",
    "iniconfig",
    "hypothesis",
    "build",
    "pyproject_hooks",
    "xlwt",
    "jsonschema",
    "jsonschema_specifications",
    "referencing",
    "rpds",
    "dask",
    "distributed",
    "dask_geopandas",
    "tornado",
    "zict",
    "msgpack",
    "cloudpickle",
    "partd",
    "locket",
    "toolz",
    "tblib",
    "sortedcontainers",
    "psutil",
    "yaml",
    "fsspec",
    "access",
    "libpysal",
    "esda",
    "spopt",
    "spaghetti",
    "pointpats",
    "mapclassify",
    "sklearn",
    "joblib",
    "threadpoolctl",
    "pulp",
    "highspy",
    "networkx",
    "numba",
    "rtree",
    "bs4",
    "soupsieve",
    "pygments",
    "tqdm",
    "lazy_importer",
    "sphinx",
    "docutils",
    "boto3",
    "botocore",
    "sqlalchemy",
    "psycopg",
    "psycopg2",
    "geoalchemy2",
    "fiona",
    "xarray",
    "matplotlib.tests",
    "matplotlib.testing",
    # Qt bindings the app never imports. QtWebEngine links Qt's Qml/Quick *libraries* (they
    # are still collected as its dependencies), but importing their Python modules would make
    # PyInstaller's hooks copy every QML plugin (Quick3D, Multimedia, …: ~600 MB).
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuick3D",
    "PySide6.QtQuickControls2",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtPositioning",
    "PySide6.QtDBus",
    "PySide6.QtMultimedia",
    "PySide6.QtPdf",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtSvg",
    "PySide6.QtNetworkAuth",
    "PySide6.scripts",
    # pyarrow parts the GeoParquet readers and writers do not use (Flight RPC, cloud file
    # systems, Substrait plans, ORC, CUDA, Gandiva)
    "pyarrow.flight",
    "pyarrow._flight",
    "pyarrow._s3fs",
    "pyarrow._gcsfs",
    "pyarrow._azurefs",
    "pyarrow._hdfs",
    "pyarrow.substrait",
    "pyarrow._substrait",
    "pyarrow.orc",
    "pyarrow._orc",
    "pyarrow._dataset_orc",
    "pyarrow.cuda",
    "pyarrow._cuda",
    "pyarrow.gandiva",
    "pyarrow.benchmark",
    "pyarrow._pyarrow_cpp_tests",
)

#: Shared libraries only the excluded pyarrow modules load (``lib`` prefix on Linux/macOS).
_UNUSED_LIBS = re.compile(r"(^|/)(lib)?arrow(_python)?_(flight|s3)[.-]")

#: Build-time files: Cython sources and C headers need no place in an app.
_SOURCE_SUFFIXES = (".pyx", ".pxd", ".pxi", ".h", ".hpp", ".c", ".cc", ".cpp")

#: Chromium locale packs kept (``qtwebengine_locales/*.pak``); ``en-US`` is the fallback.
CHROMIUM_LOCALES = frozenset({"en-US", "zh-CN", "zh-TW"})

#: Qt translation catalogues kept (``translations/*_<lang>.qm``).
QT_TRANSLATION_LANGS = frozenset({"zh_CN", "zh_TW", "en"})

#: Names of test *packages* (``pandas.tests``, ``numpy/_core/tests/``): left out. A module of
#: that name is kept (``jinja2.tests`` holds Jinja's template tests and is imported).
_TEST_DIRS = frozenset({"tests", "test"})


def _in_test_package(parts: Sequence[str]) -> bool:
    return any(p in _TEST_DIRS for p in parts)


def _tree(src: Path, dest: str) -> list[tuple[str, str]]:
    """``(file, folder in the bundle)`` for every file under ``src`` (sorted, no caches)."""
    out = []
    for path in sorted(src.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            rel = path.parent.relative_to(src).as_posix()
            out.append((str(path), dest if rel == "." else f"{dest}/{rel}"))
    return out


def datas(root: Path) -> list[tuple[str, str]]:
    """Data files ``(source, folder in the bundle)`` beyond what PyInstaller's hooks add.

    Parameters
    ----------
    root
        The repository (``resources/`` and ``data/`` are taken from it, so the same files
        ship whether the package was installed editable or from a wheel).
    """
    from PyInstaller.utils.hooks import collect_data_files

    out = _tree(root / "resources", "coverage_gis/resources")
    out += _tree(root / "data", "coverage_gis/data")
    # Leaflet 1.9.4, inlined into every map: the minified script, its CSS and images only.
    out += collect_data_files(
        "js_lib_leaflet",
        includes=[
            "static/js_lib_leaflet/leaflet.js",
            "static/js_lib_leaflet/leaflet.css",
            "static/js_lib_leaflet/images/*.png",
        ],
    )
    # GDAL's data and PROJ's database, each library its own (their versions differ).
    for pkg in ("pyogrio", "rasterio"):
        out += collect_data_files(pkg, includes=["gdal_data/**/*", "proj_data/**/*"])
    return sorted(set(out))


def hiddenimports() -> list[str]:
    """Modules imported by name at run time (the package's lazy exports, GDAL bindings)."""
    from PyInstaller.utils.hooks import collect_submodules

    def no_tests(name: str) -> bool:  # a module named tests may be a package: leave out
        return not _in_test_package(name.split("."))

    names = collect_submodules("coverage_gis", filter=no_tests)
    names += collect_submodules("pyogrio", filter=no_tests)
    names += collect_submodules(
        "rasterio", filter=lambda n: no_tests(n) and not n.startswith("rasterio.rio")
    )
    names += ["python_calamine", "js_lib_leaflet"]
    return sorted(set(names))


def _keep(name: str, path: str, typecode: str) -> bool:
    """Whether a TOC entry (name in the bundle, source path, kind) is kept."""
    if typecode.startswith("PYMODULE"):
        parts = name.split(".")
        package = Path(path).name.startswith("__init__.")
        return not _in_test_package(parts if package else parts[:-1]) and parts[-1] != "conftest"
    posix = name.replace("\\", "/")
    folders = posix.split("/")[:-1]
    if _in_test_package(folders):
        return False
    if _UNUSED_LIBS.search(posix) or posix.endswith(_SOURCE_SUFFIXES):
        return False
    if posix.startswith(("pyarrow/include/", "pyarrow/src/")):
        return False
    if "/qtwebengine_locales/" in posix and posix.endswith(".pak"):
        return posix.rsplit("/", 1)[1][: -len(".pak")] in CHROMIUM_LOCALES
    if posix.startswith("PySide6/") and "/translations/" in posix and posix.endswith(".qm"):
        stem = posix.rsplit("/", 1)[1][: -len(".qm")]
        return any(stem.endswith(f"_{lang}") for lang in QT_TRANSLATION_LANGS)
    return True


def prune(toc: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """A PyInstaller TOC without test packages, build-time sources, unused pyarrow libraries,
    and Qt catalogues and Chromium locales other than Chinese and English."""
    return [entry for entry in toc if _keep(entry[0], entry[1] or "", entry[2])]


def _top_level(names: Iterable[str]) -> set[str]:
    tops = set()
    for name in names:
        first = re.split(r"[./\\]", name, maxsplit=1)[0]
        tops.add(first)
    return tops


def _licence_files(dist: metadata.Distribution) -> list[tuple[Path, str]]:
    """``(file, path inside the licence folder)`` of a distribution's licence files."""
    files = {}
    for f in dist.files or []:
        parts = f.parts
        info = next((i for i, p in enumerate(parts[:-1]) if p.endswith(".dist-info")), None)
        if info is None or not re.search(
            r"licen[cs]e|copying|notice|authors", "/".join(parts[info + 1 :]), re.I
        ):
            continue
        rel = parts[info + 1 :]
        if rel[0] == "licenses" and len(rel) > 1:
            rel = rel[1:]
        src = Path(str(dist.locate_file(f)))
        if src.is_file():
            files["/".join(rel)] = src
    return [(files[k], k) for k in sorted(files)]


def _licence_text(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expr = meta.get("License-Expression") or ""
    lic = (meta.get("License") or "").strip()
    if len(lic) > 120 or "\n" in lic:  # the whole licence text: the files say it
        lic = ""
    classifiers = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License ::")
    ]
    return expr or lic or "; ".join(classifiers) or "see the files / 见许可文件"


def _python_licence() -> Path | None:
    ver = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for cand in (
        Path(sys.base_prefix) / "LICENSE.txt",
        Path(sys.base_prefix) / "lib" / ver / "LICENSE.txt",
        Path("/usr/lib") / ver / "LICENSE.txt",
    ):
        if cand.is_file():
            return cand
    return None


def write_notices(out_dir: Path, packaging_dir: Path, names: Sequence[str]) -> list[str]:
    """Write ``NOTICE.txt``, ``README.txt`` and ``licenses/`` into the bundle folder.

    Parameters
    ----------
    out_dir
        ``dist/coverage-gis``.
    packaging_dir
        ``packaging/`` (holds the ``NOTICE.txt`` and ``README.txt`` written by hand).
    names
        Every module and file name in the bundle (the TOCs' first fields): the
        distributions whose top-level names appear get their licence files copied.

    Returns
    -------
    The distributions listed, as ``name version licence`` lines.
    """
    lic_dir = out_dir / "licenses"
    shutil.rmtree(lic_dir, ignore_errors=True)
    lic_dir.mkdir(parents=True)
    shutil.copyfile(packaging_dir / "NOTICE.txt", out_dir / "NOTICE.txt")
    shutil.copyfile(packaging_dir / "README.txt", out_dir / "README.txt")

    tops = _top_level(names)
    owners = metadata.packages_distributions()
    wanted: dict[str, metadata.Distribution] = {}
    for top in sorted(tops):
        for dist_name in owners.get(top, []):
            if dist_name.lower().replace("_", "-") in {"pyinstaller", "coverage-gis"}:
                continue
            try:
                wanted.setdefault(dist_name.lower(), metadata.distribution(dist_name))
            except metadata.PackageNotFoundError:  # pragma: no cover - broken metadata
                continue
    lines = []
    for key in sorted(wanted):
        dist = wanted[key]
        name, version = dist.metadata["Name"], dist.version
        target = lic_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        files = _licence_files(dist)
        for src, rel in files:
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        if files:
            note = ""
        elif key.startswith(("pyside6", "shiboken6")):  # Qt's wheels carry no licence file
            note = " (licenses/Qt/)"
        else:
            note = " (no licence file shipped; see its project page)"
        lines.append(f"{name} {version}: {_licence_text(dist)}{note}")

    qt = lic_dir / "Qt"  # Qt/PySide6 wheels ship no licence file: the texts are in packaging/
    qt.mkdir(exist_ok=True)
    for f in sorted((packaging_dir / "licenses").glob("*.txt")):
        shutil.copyfile(f, qt / f.name)

    py = _python_licence()
    if py is not None:
        (lic_dir / "Python").mkdir(exist_ok=True)
        shutil.copyfile(py, lic_dir / "Python" / "LICENSE.txt")
    lines.append(f"Python {sys.version.split()[0]}: PSF-2.0")

    fonts = lic_dir / "fonts"
    fonts.mkdir()
    import matplotlib

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for f in sorted(ttf.glob("LICENSE_*")):
        shutil.copyfile(f, fonts / f.name)

    root = packaging_dir.parent
    for rel in ("data/boundaries/LICENSE.md",):
        src = root / rel
        if src.is_file():
            (lic_dir / "demo-data").mkdir(exist_ok=True)
            shutil.copyfile(src, lic_dir / "demo-data" / src.name)

    (lic_dir / "README.txt").write_text(
        "本程序包含的第三方软件及其许可 / Third-party software in this bundle and its licences\n"
        "（每个子文件夹是一个软件包的许可文件 / each folder holds one package's licence files）\n\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    return lines
