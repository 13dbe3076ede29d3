"""Layering rules: one engine, thin shells (only gui/ imports Qt, only mapexport/ folium)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "coverage_gis"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_gui_imports_qt_and_only_mapexport_imports_folium():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        mods = _imports(path)
        if mods & {"PySide6", "PyQt5", "PyQt6", "shiboken6"} and not rel.startswith("gui/"):
            offenders.append(f"{rel} imports Qt")
        if "folium" in mods and not rel.startswith("mapexport/"):
            offenders.append(f"{rel} imports folium")
        if rel in ("engine.py", "catalog.py", "results.py", "schema.py") and mods & {
            "coverage_gis"
        }:
            shells = {"cli", "gui", "mapexport", "export_xlsx", "export_tables", "workflow"}
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.module
                    and node.module.split(".")[1:2]
                    and node.module.split(".")[1] in shells
                ):
                    offenders.append(f"{rel} imports the shell {node.module}")
    assert offenders == []


def test_engine_cli_and_exports_run_without_loading_qt_or_folium():
    code = (
        "import sys\n"
        "from coverage_gis.cli import main\n"
        "import tempfile\n"
        "d = tempfile.mkdtemp()\n"
        "rc = main(['audit', '--demo', '--out', d, '--format', 'csv,json,xlsx', '-q'])\n"
        "assert rc == 0, rc\n"
        "bad = [m for m in ('PySide6', 'folium') if m in sys.modules]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_new_private_names_imported_across_modules():
    src = Path(__file__).resolve().parents[1] / "src"
    found = set()
    for path in (src / "coverage_gis").rglob("*.py"):
        mod = ".".join(path.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if not node.module.startswith("coverage_gis") or node.module == mod:
                    continue
                target = node.module.rsplit(".", 1)[-1]
                for alias in node.names:
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                    # a package's own private modules (mapexport._data …) are its business
                    inside = target.startswith("_") and mod.startswith(
                        node.module.rsplit(".", 1)[0] + "."
                    )
                    if private and not inside:
                        found.add((mod, node.module, alias.name))
    assert found == set(), "private names imported across modules: make them public or move them"


def _language_tests(tree: ast.AST) -> list[int]:
    """Lines comparing something with the literal ``"zh"`` or ``"en"`` (``lang == "zh"``,
    ``tr("zh", "en") == "zh"``), or choosing ``[0 if …]`` of a pair."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        ):
            sides = [node.left, *node.comparators]
            if any(isinstance(c, ast.Constant) and c.value in ("zh", "en") for c in sides):
                lines.append(node.lineno)
    return lines


def test_one_bilingual_mechanism():
    """Languages are chosen only in :mod:`coverage_gis.text` (``pick``, ``named``,
    ``as_lang``; ``gui.i18n.tr`` and ``Finding.message`` call it): no module tests the
    language itself."""
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if rel == "text.py":
            continue
        for line in _language_tests(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{rel}:{line}")
    assert offenders == []
    # the rule finds what it forbids
    assert _language_tests(ast.parse('x = a if lang == "zh" else b')) == [1]
    assert _language_tests(ast.parse('y = lang != "en"')) == [1]
    assert _language_tests(ast.parse("z = pick(pair, lang)")) == []


def test_text_picks_and_formats():
    from coverage_gis.findings import Finding
    from coverage_gis.text import Text, as_lang, display_width, format_value, pad, pick

    assert pick(("中", "en"), "en") == "en" and pick(("中", "en"), "zh") == "中"
    assert as_lang("en") == "en" and as_lang("fr") == "zh"
    assert Text("目标", "target").both() == "目标 / target"
    f = Finding("info", "c", "中文", "English")
    assert f.message("zh") == "中文" and f.message("en") == "English"
    assert format_value(None, "%") == "—" and format_value(float("nan"), "个") == "—"
    assert format_value(81.818, "%") == "81.8%"
    assert (
        format_value(1200, "张") == "1,200" and format_value(1200, "张", grouping=False) == "1200"
    )
    assert format_value(3.14159, "张/千人") == "3.14"
    assert display_width("苏州ab") == 6 and pad("苏州", 6) == "苏州  "
