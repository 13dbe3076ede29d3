"""``audit``, ``validate``, ``batch`` and ``catalog`` sub-commands."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from coverage_gis.cli import cli
from coverage_gis.core.errors import InputError
from coverage_gis.spec import FORMATS


class Steps:
    """Console progress: one line per step on stderr, with the time of the slow ones."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.t0 = time.perf_counter()
        self.last: tuple[str, float] | None = None

    def __call__(self, zh: str, en: str) -> None:
        self.close()
        self.last = (f"{zh} / {en}", time.perf_counter())
        if not self.quiet:
            click.echo(f"… {zh} / {en}", err=True)

    def close(self) -> None:
        if self.last and not self.quiet:
            took = time.perf_counter() - self.last[1]
            if took > 0.5:
                click.echo(f"  ({took:.1f} s)", err=True)
        self.last = None


def input_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that reads inputs."""
    opts = [
        click.option(
            "--boundaries",
            "-b",
            type=click.Path(dir_okay=False, path_type=Path),
            help="镇(街道)边界文件 / township boundaries (GeoJSON, GPKG, SHP, zip, KML, Parquet)",
        ),
        click.option(
            "--facilities",
            "-f",
            type=click.Path(dir_okay=False, path_type=Path),
            multiple=True,
            help="设施名录（可多个）/ facility list(s): xlsx, csv, vector",
        ),
        click.option(
            "--demo", is_flag=True, help="使用内置苏州示意数据 / use the embedded Suzhou demo data"
        ),
        click.option(
            "--catalog",
            "-c",
            type=click.Path(dir_okay=False, path_type=Path),
            help="指标目录 TOML / indicator catalogue (default: Suzhou 14th FYP)",
        ),
        click.option("--layer", help="边界图层名 / boundary layer (GeoPackage, zip)"),
        click.option(
            "--facility-layer",
            "facility_layers",
            multiple=True,
            help="设施文件的图层 图层名 或 文件名=图层名 / layer of a facility file (GPKG, zip): LAYER or FILE=LAYER",
        ),
        click.option(
            "--boundaries-crs",
            help="边界文件无坐标系时声明 / CRS to declare for a boundary file without one",
        ),
        click.option(
            "--crs",
            "crs",
            multiple=True,
            help="设施坐标系 wgs84|cgcs2000|gcj02|bd09|EPSG:n，或 文件名=坐标系 / facility CRS, or FILE=CRS",
        ),
        click.option(
            "--column",
            "columns",
            multiple=True,
            help="列映射 字段=列名 / column mapping field=header (repeatable)",
        ),
        click.option(
            "--columns",
            "columns_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="列映射 TOML（[columns] 表）/ column-mapping TOML",
        ),
        click.option(
            "--boundary-column",
            "boundary_columns",
            multiple=True,
            help="边界列映射 字段=列名 (code, name, county, county_code, kind, population, pop_60plus, households)",
        ),
        click.option(
            "--population",
            type=click.Path(dir_okay=False, path_type=Path),
            help="人口：村/社区表（CSV、Excel、矢量）或人口栅格 GeoTIFF / population: community table or raster (access indicators)",
        ),
        click.option(
            "--population-column",
            "population_columns",
            multiple=True,
            help="人口表列映射 字段=列名 (name, unit_name, lon, lat, population, pop_60plus, households)",
        ),
        click.option("--population-layer", help="人口文件图层 / layer of the population file"),
        click.option(
            "--water",
            type=click.Path(dir_okay=False, path_type=Path),
            help="水域图层（湖泊、河流，作障碍）/ water layer: lakes and rivers as barriers",
        ),
        click.option(
            "--roads",
            type=click.Path(dir_okay=False, path_type=Path),
            help="道路网络（线）/ road network lines (network distances)",
        ),
        click.option("--encoding", help="强制 CSV 编码 / force CSV encoding (default: detect)"),
        click.option("--quiet", "-q", is_flag=True, help="不显示进度 / no progress lines"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def evaluation_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that evaluates: date, manual values, 功能区, errors."""
    opts = [
        click.option(
            "--as-of", help="评估日期 YYYY-MM-DD（默认今天）/ evaluation date (default today)"
        ),
        click.option(
            "--values",
            "values_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="人工填报指标值 TOML / manual indicator values",
        ),
        click.option(
            "--include-functional-zones",
            is_flag=True,
            help="功能区计入镇(街道)分母 / count 功能区 in township denominators",
        ),
        click.option(
            "--allow-errors",
            is_flag=True,
            help="排除有错误的行后继续 / exclude rows with errors and go on",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _per_file_option(values: tuple[str, ...], option: str = "--crs") -> str | dict[str, str] | None:
    """``VALUE`` for every file, or ``FILE=VALUE`` pairs (several values need the pairs)."""
    if not values:
        return None  # undeclared: read as WGS84 and suggest a system from the named units
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    out: dict[str, str] = {}
    for v in values:
        name, sep, value = v.rpartition("=")
        if not sep:
            raise InputError(
                f"{option} 多个值时应为 文件名=值：{v}",
                f"With several {option} values use FILE=VALUE: {v}",
                value=v,
            )
        out[name] = value
    return out


#: Command options that are inputs of the spec (not allowed next to --spec).
_INPUT_KEYS = (
    "boundaries", "facilities", "demo", "layer", "facility_layers", "boundaries_crs", "crs",
    "columns", "columns_file", "boundary_columns", "population", "population_columns",
    "population_layer", "water", "roads", "encoding",
)  # fmt: skip
#: Command option → spec field, for the scalar options a command line may override.
_SCALAR_KEYS = {
    "catalog": "catalog",
    "as_of": "as_of",
    "values_file": "values",
    "include_functional_zones": "include_functional_zones",
    "allow_errors": "allow_errors",
    "scenario": "scenario",
    "suggest": "suggest",
    "out": "out",
    "lang": "lang",
}


def spec_from_options(kw: dict[str, Any]) -> Any:
    """The :class:`~coverage_gis.spec.AuditSpec` of a command's options (``--spec``'s,
    with the command line's overrides, when one was given)."""
    from coverage_gis.io.columns import load_column_mapping, parse_column_options
    from coverage_gis.spec import AuditSpec, facilities_from_options

    if kw.get("_spec") is not None:
        return kw["_spec"]
    mapping: dict[str, str] = {}
    if kw.get("columns_file"):
        mapping.update(load_column_mapping(kw["columns_file"]))
    mapping.update(parse_column_options(kw.get("columns") or ()))
    fields: dict[str, Any] = {
        "demo": bool(kw.get("demo")),
        "boundaries": None if kw.get("boundaries") is None else str(kw["boundaries"]),
        "boundaries_layer": kw.get("layer"),
        "boundaries_crs": kw.get("boundaries_crs"),
        "boundary_columns": tuple(parse_column_options(kw.get("boundary_columns") or ()).items()),
        "facilities": facilities_from_options(
            list(kw.get("facilities") or ()),
            _per_file_option(tuple(kw.get("crs") or ())),
            _per_file_option(tuple(kw.get("facility_layers") or ()), "--facility-layer"),
            mapping,
        ),
        "population_columns": tuple(
            parse_column_options(kw.get("population_columns") or ()).items()
        ),
        "population_layer": kw.get("population_layer"),
        "encoding": kw.get("encoding"),
    }
    for key in ("population", "water", "roads"):
        fields[key] = None if kw.get(key) is None else str(kw[key])
    for opt, name in _SCALAR_KEYS.items():
        if opt in kw and kw[opt] is not None:
            fields[name] = str(kw[opt]) if isinstance(kw[opt], Path) else kw[opt]
    if "formats" in kw and kw["formats"] is not None:
        fields["formats"] = tuple(sorted(_parse_formats(kw["formats"]), key=FORMATS.index))
    return AuditSpec(**fields)


def apply_spec_file(ctx: click.Context, kw: dict[str, Any]) -> None:
    """``--spec FILE``: the spec's inputs and options, the command line's evaluation and
    output options over them; ``--write-spec FILE`` writes the effective spec."""
    import dataclasses

    from coverage_gis.spec import load_spec, write_spec

    if kw.get("spec") is not None:
        given = [
            k
            for k in _INPUT_KEYS
            if ctx.get_parameter_source(k) == click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            names = ", ".join("--" + k.replace("_", "-") for k in given)
            raise click.UsageError(
                f"--spec 已声明输入，不能再给 {names} / --spec declares the inputs: drop {names}"
            )
        if kw.get("engine", "local") != "local":
            raise click.UsageError(
                "--spec 目前只用于本机引擎 / --spec runs on the local engine (not yet --engine dask)"
            )
        spec = load_spec(kw["spec"])
        changes: dict[str, Any] = {}
        for opt, name in _SCALAR_KEYS.items():
            if (
                opt in kw
                and ctx.get_parameter_source(opt) == click.core.ParameterSource.COMMANDLINE
            ):
                v = kw[opt]
                changes[name] = str(v) if isinstance(v, Path) else v
        if (
            "formats" in kw
            and ctx.get_parameter_source("formats") == click.core.ParameterSource.COMMANDLINE
        ):
            changes["formats"] = tuple(sorted(_parse_formats(kw["formats"]), key=FORMATS.index))
        spec = dataclasses.replace(spec, **changes)
        kw["_spec"] = spec
        # the commands read these from kw
        for opt, name in _SCALAR_KEYS.items():
            if opt in kw:
                v = getattr(spec, name)
                kw[opt] = (
                    Path(v) if opt in ("catalog", "values_file", "scenario", "out") and v else v
                )
        if "formats" in kw:
            kw["formats"] = ",".join(spec.formats)
        kw["demo"] = spec.demo
        kw["encoding"] = spec.encoding
    if kw.get("write_spec") is not None:
        written = write_spec(spec_from_options(kw), kw["write_spec"])
        if not kw.get("quiet"):
            click.echo(f"审计规格 / audit spec: {written}", err=True)


def load_from_options(kw: dict[str, Any], steps: Steps, *, locate_ahead: bool = True) -> Any:
    """The inputs a command's options (or its ``--spec``) declare, read by
    :func:`coverage_gis.spec.spec_inputs`."""
    from coverage_gis.spec import spec_inputs

    spec = spec_from_options(kw)
    if not spec.demo and (spec.boundaries is None or not spec.facilities):
        raise click.UsageError(
            "需要 --boundaries 和 --facilities，或 --demo / need --boundaries and --facilities, or --demo"
        )
    return spec_inputs(spec, locate_ahead=locate_ahead, progress=steps)


def _parse_formats(value: str) -> set[str]:
    fmts = {v.strip() for v in value.split(",") if v.strip()}
    bad = fmts - set(FORMATS)
    if bad:
        raise click.BadParameter(
            f"未知格式 / unknown format: {', '.join(sorted(bad))} (choose from {', '.join(FORMATS)})"
        )
    return fmts


def _write_formats(
    result: Any, out: Path, fmts: set[str], lang: str, sites: Sequence[Any] = ()
) -> list[Path]:
    from coverage_gis.export.tables import write_outputs

    written = write_outputs(result, out, fmts & {"csv", "json", "parquet"})
    if "xlsx" in fmts:
        from coverage_gis.export.summary import write_summary
        from coverage_gis.export.workbook import write_workbook

        # the workbook also writes its charts to out/charts/<id>.png
        written.append(write_workbook(result, out / "coverage_report.xlsx", sites=sites))
        written.extend(write_summary(result, out))
    return written


def _run_dask(inputs: Any, catalog: Any, kw: dict[str, Any], options: Any, steps: Steps) -> Any:
    """``audit --engine dask``: the spatial assignment partitioned on a Dask cluster."""
    from coverage_gis.core.engine_dask import prepare_dask
    from coverage_gis.workflow import check_errors

    check_errors(inputs.findings, kw["allow_errors"])
    where = kw["scheduler"] or "LocalCluster"
    steps(f"在 Dask（{where}）上落位", f"assigning to units on Dask ({where})")
    prepared = prepare_dask(
        inputs.units,
        inputs.facilities,
        catalog,
        options=options,
        findings=inputs.findings,
        inputs=inputs.inputs,
        scheduler=kw["scheduler"],
    )
    steps("计算指标", "evaluating indicators")
    return prepared.evaluate(kw["as_of"] or dt.date.today())


_ROW_FREE_FORMATS = frozenset({"table", "csv", "json"})


def _partitioned(kw: dict[str, Any], formats: set[str] | None) -> bool:
    """Whether ``--engine dask`` can keep the facility rows on the workers."""
    if kw.get("engine") != "dask" or formats is None or not formats <= _ROW_FREE_FORMATS:
        return False
    files = list(kw["facilities"])
    if not files or kw["demo"] or len(kw["crs"]) > 1 or any("=" in c for c in kw["crs"]):
        return False
    if kw.get("facility_layers"):
        return False
    return all(Path(f).suffix.lower() in (".parquet", ".geoparquet") for f in files)


def _run_dask_partitioned(kw: dict[str, Any], catalog: Any, steps: Steps) -> Any:
    """``audit --engine dask`` on GeoParquet: every partition read and prepared on a worker."""
    import pyarrow.parquet as pq

    from coverage_gis.core.engine_dask import prepare_dask_files
    from coverage_gis.io.boundaries import read_boundaries
    from coverage_gis.io.check_cache import cached_coverage_check
    from coverage_gis.io.columns import load_column_mapping, parse_column_options
    from coverage_gis.workflow import check_errors, file_sha256

    if kw["boundaries"] is None:
        raise click.UsageError("需要 --boundaries / need --boundaries")
    as_of = kw["as_of"] or dt.date.today().isoformat()
    steps("读取边界", "reading boundaries")
    boundary_mapping = parse_column_options(kw["boundary_columns"]) or None
    units, findings = read_boundaries(
        kw["boundaries"],
        layer=kw["layer"],
        crs=kw["boundaries_crs"],
        mapping=boundary_mapping,
        check=False,
    )
    boundaries_digest = file_sha256(kw["boundaries"])
    findings.extend(
        cached_coverage_check(
            units,
            file=str(kw["boundaries"]),
            options={
                "layer": kw["layer"],
                "crs": kw["boundaries_crs"],
                "mapping": dict(boundary_mapping or {}),
            },
            digest=boundaries_digest,
        )
    )
    mapping: dict[str, str] = {}
    if kw["columns_file"]:
        mapping.update(load_column_mapping(kw["columns_file"]))
    mapping.update(parse_column_options(kw["columns"]))
    files = [Path(f) for f in kw["facilities"]]
    inputs: list[dict[str, Any]] = [
        {
            "role": "boundaries",
            "path": str(kw["boundaries"]),
            "sha256": boundaries_digest,
            "rows": len(units),
        }
    ]
    for f in files:
        inputs.append(
            {
                "role": "facilities",
                "path": str(f),
                "sha256": file_sha256(f),
                "rows": pq.ParquetFile(f).metadata.num_rows,
                "crs": kw["crs"][0] if kw["crs"] else "wgs84",
                "crs_declared": bool(kw["crs"]),
                "crs_suggested": None,
            }
        )
    where = kw["scheduler"] or "LocalCluster"
    steps(
        f"在 Dask（{where}）上分区读取、落位、汇总",
        f"reading, assigning and summarising partitions on Dask ({where})",
    )
    options = audit_options(kw)
    prepared = prepare_dask_files(
        units,
        files,
        catalog,
        as_of,
        options=options,
        findings=findings,
        inputs=inputs,
        scheduler=kw["scheduler"],
        mapping=mapping or None,
        crs=kw["crs"][0] if kw["crs"] else "wgs84",
    )
    check_errors(prepared.findings, kw["allow_errors"])
    steps("计算指标", "evaluating indicators")
    return prepared.evaluate(as_of)


def audit_options(kw: dict[str, Any]) -> Any:
    """The :class:`~coverage_gis.core.results.AuditOptions` of a command's evaluation options."""
    from coverage_gis.core.results import AuditOptions
    from coverage_gis.workflow import load_manual_values

    return AuditOptions(
        include_functional_zones=kw["include_functional_zones"],
        manual_values=load_manual_values(kw["values_file"]),
    )


def run_local(kw: dict[str, Any], inputs: Any, catalog: Any, steps: Steps | None) -> Any:
    """The in-process audit of ``inputs`` on ``--as-of`` (default today) with the options."""
    from coverage_gis.workflow import run_audit

    progress = {} if steps is None else {"progress": steps}
    return run_audit(
        inputs,
        catalog,
        kw["as_of"] or dt.date.today(),
        audit_options(kw),
        allow_errors=kw["allow_errors"],
        **progress,
    )


def evaluate_from_options(
    kw: dict[str, Any], steps: Steps, *, formats: set[str] | None = None
) -> Any:
    """Catalogue, inputs and evaluation options → :class:`AuditResult` (``audit`` and ``map``).

    Uses the Dask engine when the command has ``--engine dask``: partitioned on the workers
    (the rows never reach this process) when every facility file is GeoParquet and the
    outputs (``formats``) need no facility rows; otherwise the rows are read here and only
    the point assignment runs on the cluster.
    """
    from coverage_gis.core.catalog import load_catalog

    steps("读取指标目录", "loading catalogue")
    catalog = load_catalog(kw["catalog"])
    if _partitioned(kw, formats):
        return _run_dask_partitioned(kw, catalog, steps)
    # the Dask engine locates on the cluster: nothing to start locally
    inputs = load_from_options(kw, steps, locate_ahead=kw.get("engine") != "dask")
    if kw.get("engine") == "dask":
        return _run_dask(inputs, catalog, kw, audit_options(kw), steps)
    return run_local(kw, inputs, catalog, steps)


def audit_with_plan(
    kw: dict[str, Any], steps: Steps, *, baseline: bool = True
) -> tuple[Any, Any, Any]:
    """The inputs, the audit of the real inputs (``None`` without ``baseline``) and the
    audit of the inputs plus ``--scenario`` (same options): the real rows are prepared once
    and the planned rows appended (:func:`coverage_gis.siting.scenario.evaluate_scenario`)."""
    from coverage_gis.core.catalog import load_catalog
    from coverage_gis.siting.scenario import evaluate_scenario, read_scenario_file
    from coverage_gis.workflow import check_errors, prepare_audit

    catalog = load_catalog(kw["catalog"])
    inputs = load_from_options(kw, steps)
    steps("读取规划方案", "reading the scenario")
    rows, found, described = read_scenario_file(kw["scenario"], encoding=kw["encoding"])
    check_errors(found, kw["allow_errors"])
    steps("匹配类型并落位", "matching types and assigning to units")
    prepared = prepare_audit(inputs, catalog, audit_options(kw), allow_errors=kw["allow_errors"])
    as_of = kw["as_of"] or dt.date.today()
    steps("计算指标", "evaluating indicators")
    now = prepared.evaluate(as_of) if baseline else None
    plan = evaluate_scenario(prepared, rows, as_of, findings=found, described=[described])
    return inputs, now, plan


def suggest_option(fn: Any) -> Any:
    """``--suggest``: site suggestions for the township presence indicators with gaps."""
    return click.option(
        "--suggest",
        is_flag=True,
        help="为有缺口的镇街设施指标给出选址建议（需人口数据）/ suggest sites for the township "
        "presence indicators with gaps (needs population data)",
    )(fn)


def run_suggestions(
    kw: dict[str, Any],
    inputs: Any,
    result: Any,
    steps: Steps,
    indicators: Sequence[str] | None = None,
) -> list[Any]:
    """The suggestions of ``--suggest`` (none without it) for ``result``'s gaps."""
    if not kw.get("suggest"):
        return []
    from coverage_gis.siting.suggest import suggest_for_gaps

    steps("计算选址建议", "suggesting sites")
    return suggest_for_gaps(inputs, result, indicators)


def audit_with_inputs(kw: dict[str, Any], steps: Steps) -> tuple[Any, Any]:
    """The inputs and their in-process audit (what ``--suggest`` needs besides the result)."""
    from coverage_gis.core.catalog import load_catalog

    steps("读取指标目录", "loading catalogue")
    catalog = load_catalog(kw["catalog"])
    inputs = load_from_options(kw, steps)
    return inputs, run_local(kw, inputs, catalog, steps)


@cli.command()
@input_options
@evaluation_options
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="输出目录 / output folder",
)
@click.option(
    "--format",
    "formats",
    default="table,csv,json",
    show_default=True,
    help="table,json,csv,xlsx,parquet (GeoParquet: units.parquet, facilities.parquet)",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="把 audit.json 内容打印到标准输出 / print the JSON result to stdout",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="dask：在 Dask 集群上分区落位（需 scale 扩展）/ dask: partitioned assignment on a Dask cluster (needs the scale extra)",
)
@click.option(
    "--scheduler",
    help="Dask 调度器地址（默认启动本地集群）/ Dask scheduler address (default: a LocalCluster)",
)
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="规划方案：计划新建点位文件（含计划建成时间），输出“现状 → 方案”对照 scenario.csv / "
    "planned sites (with planned dates): writes the now → with-plan comparison scenario.csv",
)
@suggest_option
@click.option(
    "--spec",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="审计规格文件（TOML/JSON：输入、选项、输出）/ audit spec file: inputs, options, outputs",
)
@click.option(
    "--write-spec",
    type=click.Path(dir_okay=False, path_type=Path),
    help="写出本次审计的规格文件（.toml 或 .json）/ write this audit's spec (.toml or .json)",
)
def audit(**kw: Any) -> None:
    """审计覆盖率并输出指标表 / Audit coverage and write the indicator table."""
    from coverage_gis.export.tables import audit_json, format_indicator_table

    apply_spec_file(click.get_current_context(), kw)
    fmts = _parse_formats(kw["formats"])
    steps = Steps(kw["quiet"] or kw["as_json"])
    plan = None
    sites: list[Any] = []
    for flag in ("scenario", "suggest"):
        if kw[flag] and kw["engine"] != "local":
            raise click.UsageError(f"--{flag} 只用于本机引擎 / --{flag} needs --engine local")
    if kw["scenario"] is not None:
        inputs, result, plan = audit_with_plan(kw, steps)
        sites = run_suggestions(kw, inputs, result, steps)
    elif kw["suggest"]:
        inputs, result = audit_with_inputs(kw, steps)
        sites = run_suggestions(kw, inputs, result, steps)
    else:
        result = evaluate_from_options(kw, steps, formats=fmts)
    steps("写出结果", "writing outputs")
    written = _write_formats(result, kw["out"], fmts, kw["lang"], sites)
    if plan is not None:
        from coverage_gis.export.tables import scenario_table

        table = scenario_table(result, plan)
        Path(kw["out"]).mkdir(parents=True, exist_ok=True)
        path = Path(kw["out"]) / "scenario.csv"
        from coverage_gis.export.safety import safe_frame

        safe_frame(table).to_csv(path, index=False, encoding="utf-8-sig")
        written = [*written, path]
    steps.close()
    if kw["as_json"]:
        click.echo(audit_json(result))
        return
    if "table" in fmts:
        click.echo(format_indicator_table(result, lang=kw["lang"]))
    if plan is not None:
        click.echo("\n规划方案对照 / now → with the plan:")
        for row in scenario_table(result, plan).itertuples():
            if row.change == row.change and row.change not in (None, 0):  # changed, not NaN
                closed = f"  补缺 closes {row.closed}" if row.closed else ""
                click.echo(f"  {row.id}  {row.name}  {row.now:g} → {row.with_plan:g}{closed}")
    if sites:
        n = sum(len(x.table) for x in sites)
        where = "coverage_report.xlsx 选址建议" if "xlsx" in fmts else "--format xlsx"
        click.echo(
            f"\n选址建议 / suggested sites: {n}（{len(sites)} 项指标 indicators；见 see {where}）"
        )
        for x in sites:
            units = [str(u) for u in x.table["unit"]]
            more = f" …（另 {len(units) - 8} 处 / {len(units) - 8} more）" if len(units) > 8 else ""
            click.echo(f"  {x.indicator}  {len(units)} 处 sites: {'、'.join(units[:8])}{more}")
    if written and not kw["quiet"]:
        click.echo("输出 / outputs: " + ", ".join(str(p) for p in written), err=True)


@cli.command()
@input_options
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
)
@click.option(
    "--catalog-check/--no-catalog-check",
    default=True,
    help="同时检查类型匹配与落位 / also run type matching and assignment checks",
)
def validate(**kw: Any) -> None:
    """只检查数据，输出问题清单 / Check the inputs only and write the findings list.

    Exit code 2 when any error-level finding is present.
    """
    from coverage_gis.core.catalog import load_catalog
    from coverage_gis.core.engine import prepare
    from coverage_gis.export.validation import format_findings, write_findings

    steps = Steps(kw["quiet"])
    catalog = load_catalog(kw["catalog"])
    inputs = load_from_options(kw, steps, locate_ahead=bool(kw["catalog_check"]))
    findings = inputs.findings
    accounting = None
    if kw["catalog_check"]:
        steps("检查类型与落位", "checking types and locations")
        prepared = prepare(
            inputs.units,
            inputs.facilities,
            catalog,
            findings=inputs.findings,
            inputs=inputs.inputs,
            located=inputs.located,
        )
        findings, accounting = prepared.findings, prepared.accounting
    steps.close()
    click.echo(format_findings(findings, accounting))
    paths = write_findings(findings, kw["out"], accounting=accounting)
    if not kw["quiet"]:
        click.echo("输出 / outputs: " + ", ".join(str(p) for p in paths), err=True)
    if findings.has_errors:
        raise click.exceptions.Exit(2)


@cli.command()
@click.argument("job", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--quiet", "-q", is_flag=True)
@click.option(
    "--allow-outside",
    is_flag=True,
    help="允许作业在其文件夹之外写输出（绝对路径或 ../）/ let the job write outside its folder "
    "(absolute out or one that climbs out with ../)",
)
def batch(job: Path, quiet: bool, allow_outside: bool) -> None:
    """按作业文件批量审计并输出趋势表 / Run many audits from a JOB.toml and write a trend table.

    See README for the JOB.toml format. Outputs must stay inside the job file's folder
    unless --allow-outside is given.
    """
    from coverage_gis.batch import run_batch

    steps = Steps(quiet)
    summary = run_batch(job, progress=steps, allow_outside=allow_outside)
    steps.close()
    click.echo(summary)


@cli.command("catalog")
@click.option(
    "--catalog",
    "-c",
    type=click.Path(dir_okay=False, path_type=Path),
    help="指标目录 TOML / catalogue file",
)
@click.option("--json", "as_json", is_flag=True)
def catalog_cmd(catalog: Path | None, as_json: bool) -> None:
    """列出指标和设施类型 / List the catalogue's indicators and facility types."""
    from coverage_gis.core.catalog import load_catalog

    cat = load_catalog(catalog)
    if as_json:
        data = {
            "id": cat.id,
            "name": cat.name_zh,
            "version": cat.version,
            "facility_types": [
                {
                    "code": t.code,
                    "name": t.name_zh,
                    "name_en": t.name_en,
                    "level": t.level,
                    "aliases": list(t.aliases),
                }
                for t in cat.facility_types
            ],
            "indicators": [
                {
                    "id": i.id,
                    "name": i.name_zh,
                    "kind": i.kind,
                    "level": i.level,
                    "target": i.target,
                    "operator": i.operator,
                    "attribute": i.attribute,
                }
                for i in cat.indicators
            ],
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    click.echo(f"{cat.name_zh} ({cat.id} {cat.version})")
    click.echo("设施类型 / facility types:")
    for t in cat.facility_types:
        click.echo(f"  {t.code:30s} {t.name_zh}  [{t.level}]")
    click.echo("指标 / indicators:")
    for i in cat.indicators:
        click.echo(f"  {i.id:20s} {i.kind:9s} {i.name_zh}")
