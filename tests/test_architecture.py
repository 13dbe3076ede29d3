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
