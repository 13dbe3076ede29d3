"""Project files: relative paths, atomic save, JSON and TOML (plain Python)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coverage_gis.core.errors import InputError
from coverage_gis.gui.project import (
    FacilitySource,
    Project,
    load_project,
    outside_paths,
    save_project,
)


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


def test_outside_paths_lists_inputs_outside_the_project_folder(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "data").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (proj / "link").symlink_to(elsewhere, target_is_directory=True)
    path = proj / "p.json"
    path.write_text(
        json.dumps(
            {
                "boundaries": "data/b.geojson",  # inside
                "facilities": [
                    {"path": "../elsewhere/a.xlsx"},  # climbs out
                    {"path": str(elsewhere / "b.csv")},  # absolute, outside
                    {"path": "link/c.csv"},  # a symlink inside pointing outside
                    {"path": "data/sub/../d.csv"},  # inside after all
                ],
                "catalog": "/etc/coverage/catalog.toml",
            }
        ),
        encoding="utf-8",
    )
    project = load_project(path)
    assert outside_paths(project, path) == [
        str((elsewhere / "a.xlsx").resolve()),
        str(elsewhere / "b.csv"),
        str((proj / "link" / "c.csv").resolve()),
        str(Path("/etc/coverage/catalog.toml").resolve()),
    ]


def test_no_outside_paths_for_inputs_beside_the_project_or_the_demo(tmp_path: Path) -> None:
    from coverage_gis.workflow import demo_boundaries_path, demo_facilities_paths

    path = tmp_path / "p.json"
    inside = Project(
        boundaries=str(tmp_path / "b.geojson"),
        facilities=[FacilitySource(str(tmp_path / "sub" / "f.csv"))],
    )
    assert outside_paths(inside, path) == []
    assert outside_paths(Project(demo=True), path) == []
    shipped = Project(
        boundaries=str(demo_boundaries_path()),
        facilities=[FacilitySource(str(p)) for p in demo_facilities_paths()],
    )
    assert outside_paths(shipped, path) == []  # the demo data shipped with the program
