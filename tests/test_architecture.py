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
    assert offenders == []


#: Packages (first part under coverage_gis) each layer must not import, even lazily:
#: the engine and readers know no output or shell; exports know no map, CLI or GUI;
#: nothing but the CLI's ``gui`` command reaches the desktop app.
_SHELLS = {"cli", "gui", "mapexport", "export", "batch", "spec", "workflow"}
_FORBIDDEN = {
    "core": _SHELLS,
    "io": _SHELLS,
    "access": _SHELLS,
    "siting": _SHELLS - {"workflow"},  # the suggestions re-run an audit on its inputs
    "text": _SHELLS | {"io", "access", "siting"},
    "export": {"cli", "gui", "mapexport", "batch"},
    "mapexport": {"cli", "gui", "batch"},
    "workflow": {"cli", "gui", "mapexport", "export", "batch"},
    "spec": {"cli", "gui", "mapexport", "export", "batch"},
}


def _coverage_imports(path: Path, *, module_level: bool) -> list[tuple[int, str]]:
    """(line, module) of the coverage_gis imports of a file, without ``TYPE_CHECKING``
    blocks; with ``module_level``, only those run when the module is imported."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
        if module_level and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skip.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "coverage_gis":
                out += [(node.lineno, f"coverage_gis.{a.name}") for a in node.names]
            elif node.module.startswith("coverage_gis."):
                out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("coverage_gis.")]
    return out


def test_layers_import_only_downwards():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        layer = rel.parts[0].removesuffix(".py")
        for line, mod in _coverage_imports(path, module_level=False):
            target = mod.split(".")[1]
            if target in _FORBIDDEN.get(layer, set()):
                offenders.append(f"{rel.as_posix()}:{line} ({layer}) imports {mod}")
            if target == "gui" and layer not in ("gui", "cli"):
                offenders.append(f"{rel.as_posix()}:{line} imports the desktop app")
    assert offenders == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles a depth-first walk of ``graph`` meets (each as a path back to its start)."""
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[node] = 2

    for mod in sorted(graph):
        if mod not in state:
            visit(mod, [mod])
    return cycles


def test_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_circular_imports_at_module_level():
    """The modules' import-time dependencies form no cycle (lazy imports inside functions
    are how a lower layer may call a higher one's helper, and are not followed)."""
    src = PKG.parent
    graph: dict[str, set[str]] = {}
    modules = {}
    for path in PKG.rglob("*.py"):
        mod = ".".join(path.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        modules[mod] = path
    for mod, path in modules.items():
        deps = set()
        for _line, target in _coverage_imports(path, module_level=True):
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]  # a name imported from a package
            if target in modules and target != mod:
                deps.add(target)
        graph[mod] = deps
    cycles = _cycles(graph)
    # a package's __init__ importing its own submodules is not a cycle of layers
    cycles = [c for c in cycles if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert cycles == []


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
    from coverage_gis.core.findings import Finding
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
