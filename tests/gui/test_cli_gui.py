"""``coverage-gis gui --screenshot``: renders the demo, saves a PNG and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gui.conftest import ARTIFACTS


@pytest.mark.slow
def test_gui_screenshot_command(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "gui_screenshot_cli.png"
    out.unlink(missing_ok=True)
    env = dict(os.environ, COVERAGE_GIS_GUI_HOME=str(tmp_path / "home"))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from coverage_gis.cli import main; main()",
            "gui",
            "--demo",
            "--screenshot",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    took = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "launch to map" in proc.stdout
    print(proc.stdout.strip(), f"(process {took:.1f} s)")
    # lock and autosave are gone after a clean exit
    assert not (tmp_path / "home" / "session.lock").exists()


def test_audit_command_does_not_load_qt() -> None:
    code = (
        "import sys; from coverage_gis.cli import cli; "
        "assert 'gui' in cli.commands; "
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
