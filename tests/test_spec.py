"""One declared audit: the same spec from the CLI, a batch job, a spec file and a desktop
project gives one result."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from coverage_gis._paths import resource_path
from coverage_gis.batch import audit_specs, run_batch
from coverage_gis.cli import main
from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.errors import InputError
from coverage_gis.spec import (
    AuditSpec,
    FacilitySpec,
    json_schema,
    load_spec,
    spec_inputs,
    write_spec,
)
from coverage_gis.workflow import demo_boundaries_path, demo_facilities_paths, run_audit

DAY = "2025-12-31"
DATA = Path(__file__).parent / "data"


@pytest.fixture
def folder(tmp_path):
    """A planner's folder: boundaries, a GCJ-02 list with odd headers, a column mapping."""
    shutil.copy(demo_boundaries_path(), tmp_path / "towns.geojson")
    shutil.copy(DATA / "gcj02_list.csv", tmp_path / "gcj.csv")
    shutil.copy(demo_facilities_paths()[0], tmp_path / "list.xlsx")
    return tmp_path


def _cli_spec(folder: Path, out: Path) -> AuditSpec:
    args = [
        "audit", "-b", str(folder / "towns.geojson"), "-f", str(folder / "gcj.csv"),
        "-f", str(folder / "list.xlsx"), "--crs", "gcj.csv=gcj02", "--crs", "list.xlsx=wgs84",
        "--as-of", DAY, "--allow-errors", "--format", "csv,json", "--out", str(out),
        "--write-spec", str(folder / "cli_spec.toml"), "-q",
    ]  # fmt: skip
    assert main(args) == 0
    return load_spec(folder / "cli_spec.toml")


def test_the_same_spec_four_ways_gives_identical_results(folder):
    out = folder / "cli_out"
    from_cli = _cli_spec(folder, out)
    # 2. a batch job with the same inputs (short forms: paths, per-file tables)
    job = folder / "job.toml"
    job.write_text(
        "[job]\n"
        'out = "batch"\n'
        'boundaries = "towns.geojson"\n'
        'facilities = [{ path = "gcj.csv", crs = "gcj02" }, { path = "list.xlsx", crs = "wgs84" }]\n'
        f'dates = ["{DAY}"]\n'
        "allow_errors = true\n",
        encoding="utf-8",
    )
    ((name, from_batch, keys),) = audit_specs(job)
    # 3. written by hand, as JSON, in another folder
    hand = folder / "specs" / "hand.json"
    hand.parent.mkdir()
    hand.write_text(
        json.dumps(
            {
                "format": "coverage-gis-audit",
                "version": 1,
                "boundaries": "../towns.geojson",
                "facilities": [
                    {"path": "../gcj.csv", "crs": "gcj02"},
                    {"path": "../list.xlsx", "crs": "wgs84"},
                ],
                "as_of": DAY,
                "allow_errors": True,
            }
        ),
        encoding="utf-8",
    )
    from_file = load_spec(hand)
    # 4. a desktop project file (the project declares the same audit, plus its view)
    from coverage_gis.gui.project import load_project

    proj = folder / "p.coverage-gis.json"
    proj.write_text(
        json.dumps(
            {
                "format": "coverage-gis-project",
                "version": 1,
                "boundaries": "towns.geojson",
                "facilities": [
                    {"path": "gcj.csv", "crs": "gcj02"},
                    {"path": "list.xlsx", "crs": "wgs84"},
                ],
                "as_of": DAY,
                "indicator": "T2-9",
            }
        ),
        encoding="utf-8",
    )
    from_project = load_project(proj).to_spec()

    def inputs_of(s: AuditSpec) -> tuple:
        return (
            Path(s.boundaries).resolve(),
            tuple((Path(f.path).resolve(), f.crs, f.layer, f.columns) for f in s.facilities),
            s.allow_errors,
            s.demo,
        )

    assert inputs_of(from_cli) == inputs_of(from_batch) == inputs_of(from_file)
    # the desktop always excludes rows with errors (as --allow-errors)
    assert inputs_of(from_project)[:2] == inputs_of(from_file)[:2]
    assert from_cli.as_of == from_file.as_of == DAY and keys["dates"] == [DAY]
    # identical audits
    catalog = load_catalog()
    tables = []
    for s in (from_cli, from_batch, from_file, from_project):
        r = run_audit(spec_inputs(s), catalog, DAY, s.options(), allow_errors=True)
        tables.append(r.indicator_table()[["id", "value", "numerator", "denominator", "met"]])
    for t in tables[1:]:
        pd.testing.assert_frame_equal(tables[0], t)
    # and the CLI's own outputs and the batch's agree with them
    cli_csv = pd.read_csv(out / "indicators.csv", encoding="utf-8-sig").set_index("id")
    run_batch(job)
    batch_csv = pd.read_csv(
        folder / "batch" / name / DAY / "indicators.csv", encoding="utf-8-sig"
    ).set_index("id")
    pd.testing.assert_series_equal(cli_csv["value"], batch_csv["value"])
    assert list(cli_csv.index) == list(tables[0]["id"])


def test_write_spec_then_spec_round_trips_and_overrides(folder, tmp_path):
    out = folder / "a"
    spec = _cli_spec(folder, out)
    assert spec.facilities[0].crs == "gcj02" and spec.formats == ("csv", "json")
    text = (folder / "cli_spec.toml").read_text("utf-8")
    assert str(folder) not in text  # paths relative to the spec file
    b = folder / "b"
    assert main(["audit", "--spec", str(folder / "cli_spec.toml"), "--out", str(b), "-q"]) == 0
    assert (out / "indicators.csv").read_bytes() == (b / "indicators.csv").read_bytes()
    # a command-line evaluation option overrides the spec's
    c = folder / "c"
    args = ["audit", "--spec", str(folder / "cli_spec.toml"), "--as-of", "2021-12-31"]
    assert main([*args, "--out", str(c), "-q"]) == 0
    assert json.loads((c / "audit.json").read_text("utf-8"))["as_of"] == "2021-12-31"
    # input options next to --spec are refused
    assert main(["audit", "--spec", str(folder / "cli_spec.toml"), "--demo", "-q"]) == 2


def test_toml_and_json_forms_read_back_equal(tmp_path):
    spec = AuditSpec(
        boundaries=str(tmp_path / "b" / "镇街.gpkg"),
        boundaries_layer="towns",
        boundary_columns=(("code", "乡镇代码"), ("name", '名称 "全称"')),
        facilities=(
            FacilitySpec(str(tmp_path / "l.xlsx"), crs="bd09", columns=(("lon", "X"),)),
            FacilitySpec(str(tmp_path / "g.gpkg"), layer="pts"),
        ),
        population=str(tmp_path / "pop.csv"),
        encoding="gbk",
        as_of=DAY,
        include_functional_zones=True,
        suggest=True,
        out=str(tmp_path / "out"),
        formats=("table", "xlsx"),
        lang="en",
    )
    for name in ("s.toml", "s.json"):
        path = write_spec(spec, tmp_path / name)
        back = load_spec(path)
        assert back == spec, name
        data = (
            tomllib.loads(path.read_text("utf-8"))
            if name.endswith(".toml")
            else json.loads(path.read_text("utf-8"))
        )
        jsonschema.validate(data, json_schema())


def test_the_shipped_schema_is_the_code_s_and_rejects_typos():
    shipped = json.loads(resource_path("audit_spec.schema.json").read_text("utf-8"))
    assert shipped == json_schema()
    jsonschema.Draft202012Validator.check_schema(shipped)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"boundary": "x.gpkg"}, shipped)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"boundary": "x.gpkg"}, "boundary"),
        ({"demo": "yes"}, "demo"),
        ({"as_of": "2025/12/31"}, "as_of"),
        ({"formats": ["csv", "docx"]}, "formats"),
        ({"facilities": [{"path": "a.xlsx", "crss": "gcj02"}]}, "facilities[0].crss"),
        ({"facilities": [{"crs": "gcj02"}]}, "facilities[0].path"),
        ({"boundary_columns": {"code": 3}}, "boundary_columns"),
        ({"format": "something-else"}, "format"),
    ],
)
def test_bad_specs_are_refused_naming_file_and_key(tmp_path, data, key):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_spec(p)
    assert e.value.column == key and e.value.file == str(p)
    assert main(["audit", "--spec", str(p), "-q"]) != 0


def test_a_batch_job_now_takes_columns_layers_and_encoding(folder):
    job = folder / "job.toml"
    job.write_text(
        "[job]\n"
        'boundaries = "towns.geojson"\n'
        'facilities = ["gcj.csv"]\n'
        'crs = "gcj02"\n'
        'encoding = "gbk"\n'
        'columns = { name = "机构名称" }\n'
        "[[audit]]\n"
        'name = "shared"\n'
        "[[audit]]\n"
        'name = "own"\n'
        'facilities = [{ path = "list.xlsx", columns = { type = "类型" } }]\n',
        encoding="utf-8",
    )
    (_, sa, _), (b, sb, _) = audit_specs(job)
    assert sa.encoding == "gbk" and sa.facilities[0].crs == "gcj02"
    assert sa.facilities[0].columns == (("name", "机构名称"),)
    assert b == "own" and sb.facilities[0].columns == (("type", "类型"),)
    assert sb.facilities[0].crs == "gcj02"  # the job's shared crs still applies
    job.write_text("[job]\ndemo = true\ntypo_key = 1\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        audit_specs(job)
    assert e.value.column == "typo_key"


def test_a_project_round_trips_through_its_spec(tmp_path):
    from coverage_gis.gui.project import FacilitySource, Project, load_project, save_project

    p = Project(
        boundaries=str(tmp_path / "t.gpkg"),
        boundaries_layer="towns",
        boundary_columns={"code": "乡镇代码"},
        facilities=[
            FacilitySource(
                str(tmp_path / "a.gpkg"),
                crs="gcj02",
                layer="pts",
                columns={"lon": "X"},
                encoding="gbk",
            )
        ],
        values=str(tmp_path / "v.toml"),
        as_of=DAY,
        indicator="T2-5",
    )
    back = load_project(save_project(p, tmp_path / "p.json"))
    assert back.to_spec() == p.to_spec()
    assert back.boundaries_layer == "towns" and back.facilities[0].layer == "pts"
    again = Project.from_spec(p.to_spec(), indicator="T2-5")
    assert again.to_spec() == p.to_spec() and again.indicator == "T2-5"


def test_spec_with_the_dask_engine_is_refused_plainly(folder):
    spec = folder / "s.toml"
    write_spec(AuditSpec(demo=True), spec)
    assert main(["audit", "--spec", str(spec), "--engine", "dask", "-q"]) == 2
