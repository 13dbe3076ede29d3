"""Batch jobs write only inside the job file's folder unless ``--allow-outside`` is given."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coverage_gis.cli import main
from tests.conftest import make_units

FACILITIES = (
    "名称,类型,所属镇(街道),经度,纬度,状态,建成时间\n"
    "甲山骨灰堂,骨灰堂,甲山镇,120.05,31.05,运营,2019-05-01\n"
    "乙水驿站,康复驿站,乙水街道,120.15,31.02,运营,2020-01-01\n"
)


def _job(folder: Path, job_table: str, audits: str = "") -> Path:
    """A job in ``folder/jobs/`` reading small inputs next to it."""
    jobs = folder / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    make_units().to_file(jobs / "units.geojson", driver="GeoJSON")
    (jobs / "fac.csv").write_text(FACILITIES, encoding="utf-8")
    job = jobs / "job.toml"
    job.write_text(
        "[job]\n"
        + job_table
        + '\nboundaries = "units.geojson"\nfacilities = ["fac.csv"]\nyears = [2022]\n'
        + audits,
        encoding="utf-8",
    )
    return job


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("job_table", "audits", "key"),
    [
        pytest.param('out = "{abs}"', "", "out", id="absolute-out"),
        pytest.param('out = "../../escaped"', "", "out", id="climbing-out"),
        pytest.param('out = "ok"', '[[audit]]\nname = ".."\n', "audit[1].name", id="audit-name"),
        pytest.param('out = "ok"', '[[audit]]\nout = "../x"\n', "audit[1].out", id="audit-out"),
    ],
)
def test_outputs_outside_the_job_folder_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], job_table: str, audits: str, key: str
) -> None:
    outside = tmp_path / "elsewhere" / "out"
    job = _job(tmp_path, job_table.format(abs=outside.as_posix()), audits)
    before = _files(tmp_path)
    assert main(["batch", str(job), "-q"]) == 2
    err = capsys.readouterr().err
    assert "作业文件的输出位置在作业文件夹之外" in err
    assert "The job writes outside its folder" in err
    assert f"列/column: {key}" in err and "--allow-outside" in err
    assert f"文件/file: {job}" in err
    assert _files(tmp_path) == before  # nothing written anywhere, nothing read
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "escaped").exists()


def test_a_symlink_out_of_the_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _job(tmp_path, 'out = "link/batch"')
    target = tmp_path / "elsewhere"
    target.mkdir()
    (job.parent / "link").symlink_to(target, target_is_directory=True)
    assert main(["batch", str(job), "-q"]) == 2
    assert "The job writes outside its folder" in capsys.readouterr().err
    assert list(target.iterdir()) == []


def test_allow_outside_writes_where_the_job_says(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "out"
    job = _job(tmp_path, f'out = "{outside.as_posix()}"')
    assert main(["batch", str(job), "-q", "--allow-outside"]) == 0
    trend = pd.read_csv(outside / "trend.csv", encoding="utf-8-sig")
    assert "2022-12-31" in trend.columns
    assert (outside / "audit" / "2022-12-31" / "indicators.csv").exists()


def test_outputs_inside_the_job_folder_need_no_flag(tmp_path: Path) -> None:
    job = _job(tmp_path, 'out = "results/../batch"', '[[audit]]\nname = "../../x"\n')
    assert main(["batch", str(job), "-q"]) == 0
    # the name's separators become "_": the audit folder stays inside out
    assert (job.parent / "batch" / ".._.._x" / "2022-12-31" / "units.csv").exists()
