"""A headless install (no ``[gui]`` extra): every command but ``gui`` works without Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Python code run in a fresh interpreter where PySide6 cannot be imported (as if the
# package were installed without its `gui` extra)
NO_QT = (
    "import sys\n"
    "class _Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'PySide6' or name.startswith('PySide6.') or name == 'shiboken6':\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
    "sys.meta_path.insert(0, _Block())\n"
)


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_QT + code],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_audit_map_and_site_run_without_qt(tmp_path):
    code = (
        "from coverage_gis.cli import main\n"
        "args = ['--demo', '--as-of', '2025-12-31', '-q']\n"
        "assert main(['audit', *args, '--suggest', '--format', 'csv,xlsx', '--out', 'o']) == 0\n"
        "assert main(['map', *args, '--out', 'o/m.html']) == 0\n"
        "assert main(['site', *args, '--indicator', 'T2-5', '--out', 'o/s']) == 0\n"
        "assert not [m for m in sys.modules if m.startswith('PySide6')]\n"
        "print('ok')\n"
    )
    r = _run(code, tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().endswith("ok")
    assert (tmp_path / "o" / "coverage_report.xlsx").exists()
    assert (tmp_path / "o" / "s" / "sites_map.html").exists()


def test_the_desktop_command_says_how_to_install_qt(tmp_path):
    r = _run("from coverage_gis.cli import main\nsys.exit(main(['gui', '--demo']))\n", tmp_path)
    assert r.returncode == 3
    assert "coverage-gis[gui]" in r.stderr and "桌面程序需要 Qt" in r.stderr
