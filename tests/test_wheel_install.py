"""The built wheel carries resources/ and data/ and runs the demo audit from a fresh venv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_assets_and_runs_demo_from_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next(dist.glob("coverage_gis-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "coverage_gis/resources/facility_types.toml",
        "coverage_gis/resources/catalogs/suzhou_14th_fyp.toml",
        "coverage_gis/resources/vocabularies.toml",
        "coverage_gis/resources/audit_spec.schema.json",
        "coverage_gis/data/boundaries/suzhou_townships_demo.geojson",
        "coverage_gis/data/facilities/suzhou_facilities_demo.xlsx",
    ):
        assert required in names, required

    env_dir = tmp_path / "venv"
    # Reuse the already installed dependencies (no network needed): the fresh venv sees
    # the test environment's site-packages, but coverage_gis itself only from the wheel.
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    py = env_dir / "bin" / "python"
    site = next(
        p for p in map(Path, sys.path) if p.name == "site-packages" and (p / "geopandas").exists()
    )
    pth = next((env_dir / "lib").glob("python3*/site-packages"))
    (pth / "_deps.pth").write_text(str(site) + "\n", encoding="utf-8")
    subprocess.run(
        [str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [
            str(env_dir / "bin" / "coverage-gis"),
            "audit",
            "--demo",
            "--json",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert len(data["indicators"]) == 29
    assert data["schematic_boundaries"] is True
    where = subprocess.run(
        [str(py), "-c", "import coverage_gis, sys; print(coverage_gis.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    ).stdout
    assert str(env_dir) in where  # imported from the wheel, not the source tree
