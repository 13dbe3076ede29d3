"""Project files: relative paths, atomic save, JSON and TOML (plain Python)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coverage_gis.errors import InputError
from coverage_gis.gui.project import FacilitySource, Project, load_project, save_project


def test_project_round_trip_with_relative_paths(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "b.geojson").write_text("{}", encoding="utf-8")
    (data / "养老.xlsx").write_bytes(b"")
    p = Project(
        boundaries=str(data / "b.geojson"),
        facilities=[FacilitySource(str(data / "养老.xlsx"), crs="gcj02", columns={"lon": "X"})],
        as_of="2023-06-30",
        indicator="T2-4",
        county="320583",
    )
    out = save_project(p, tmp_path / "proj" / "p.json")
    raw = json.loads(out.read_text(encoding="utf-8"))
    assert raw["boundaries"] == "../data/b.geojson"
    assert raw["facilities"][0]["path"] == "../data/养老.xlsx"
    assert [f.name for f in out.parent.iterdir()] == ["p.json"]  # no temp file left behind
    back = load_project(out)
    assert back == Project(
        boundaries=str((data / "b.geojson").resolve()),
        facilities=[
            FacilitySource(str((data / "养老.xlsx").resolve()), crs="gcj02", columns={"lon": "X"})
        ],
        as_of="2023-06-30",
        indicator="T2-4",
        county="320583",
    )


def test_failed_save_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "projects" / "p.json"
    save_project(Project(demo=True, as_of="2021-12-31"), target)
    before = target.read_text(encoding="utf-8")

    def boom(*_a: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("coverage_gis.gui.project.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_project(Project(demo=True, as_of="2024-12-31"), target)
    assert target.read_text(encoding="utf-8") == before
    assert [f.name for f in target.parent.iterdir()] == ["p.json"]


def test_toml_project_and_bad_file(tmp_path: Path) -> None:
    t = tmp_path / "p.toml"
    t.write_text(
        'boundaries = "b.geojson"\nas_of = "2025-12-31"\n[[facilities]]\npath = "f.csv"\ncrs = "bd09"\n',
        encoding="utf-8",
    )
    p = load_project(t)
    assert p.boundaries == str((tmp_path / "b.geojson").resolve())
    assert p.facilities[0].crs == "bd09"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="项目文件"):
        load_project(bad)
