"""``site`` sub-command: where the next facilities should go (选址建议).

Audits the inputs like ``audit``, then runs :func:`coverage_gis.siting.suggest.suggest_sites`
for each ``--indicator``: township presence indicators get the best community in each gap
镇(街道); access indicators get ``--new`` sites by the maximal covering model. Writes
``sites.csv``, ``sites.json``, ``sites.xlsx`` (sheets 选址建议 and 求解信息: model,
objective, solver status and time per indicator) and the map ``sites_map.html`` (the
indicators' gaps with a layer of the numbered sites and what each adds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from coverage_gis.cli import cli
from coverage_gis.cli.audit import (
    Steps,
    evaluation_options,
    input_options,
    load_from_options,
    run_local,
)

__all__ = ["site"]


@cli.command("site")
@input_options
@evaluation_options
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    required=True,
    help="指标编号（镇街设施指标或可达比例指标）/ indicator id(s)",
)
@click.option(
    "--new",
    "n_new",
    type=click.IntRange(1, 10_000),
    default=10,
    show_default=True,
    help="可达性指标新增站点数 / sites to add for an access indicator",
)
@click.option(
    "--reach",
    type=float,
    default=1000.0,
    show_default=True,
    help="设施指标候选点评分的直线可达距离（米）/ reach scoring presence candidates (m)",
)
@click.option(
    "--candidates",
    "candidates_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="候选点位文件（与设施名录同样读取）/ candidate sites, read like a facility file",
)
@click.option(
    "--model",
    type=click.Choice(["mclp", "lscp", "p_median", "capacitated_mclp"]),
    default=None,
    help="可达性指标的选址模型：mclp 新增 N 处覆盖最多人口（默认）、lscp 最少站点覆盖全部、"
    "p_median 总距离最短；容量指标（床位）用 capacitated_mclp / model for access indicators: "
    "mclp (default), lscp, p_median; capacity (beds) indicators: capacitated_mclp",
)
@click.option(
    "--capacity",
    type=click.FloatRange(min=0, min_open=True),
    help="容量指标：每个新站点的容量（如床位数；默认现有设施的中位数）/ capacity of each new "
    "site for a capacity indicator (e.g. beds; default: the median of today's)",
)
@click.option(
    "--candidate-source",
    type=click.Choice(["communities", "townships"]),
    default="communities",
    show_default=True,
    help="无候选点文件时：村/社区点或每个镇(街道)内一点 / without --candidates: community "
    "points or one point inside each township",
)
@click.option("--time-limit", type=float, default=60.0, show_default=True, help="求解限时（秒）")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="输出目录 / output folder",
)
@click.option(
    "--map/--no-map",
    "with_map",
    default=True,
    show_default=True,
    help="同时输出选址地图 sites_map.html / also write the map of the sites",
)
def site(**kw: Any) -> None:
    """选址建议：新设施放在哪里、各补上什么缺口 / Where the next facilities should go."""
    import pandas as pd

    from coverage_gis.core.catalog import load_catalog
    from coverage_gis.export.safety import safe_frame
    from coverage_gis.siting.suggest import suggest_sites

    steps = Steps(kw["quiet"])
    steps("读取指标目录", "loading catalogue")
    catalog = load_catalog(kw["catalog"])
    inputs = load_from_options(kw, steps)
    result = run_local(kw, inputs, catalog, steps)
    candidates, cand_file = None, None
    if kw["candidates_path"] is not None:
        from coverage_gis.core.errors import InputError
        from coverage_gis.io.facilities import read_facility_file

        steps("读取候选点位", "reading candidate sites")
        candidates, cand_findings = read_facility_file(kw["candidates_path"])
        cand_file = str(kw["candidates_path"])
        errors = [f for f in cand_findings if f.severity == "error"]
        if errors and not kw["allow_errors"]:
            f = errors[0]
            raise InputError(
                f.message_zh,
                f.message_en,
                file=f.file,
                sheet=f.sheet,
                row=f.row,
                column=f.column,
                value=f.value,
            )
    steps("计算选址", "suggesting sites")
    runs = [
        suggest_sites(
            inputs,
            result,
            i,
            n_new=kw["n_new"],
            reach_m=kw["reach"],
            time_limit=kw["time_limit"],
            candidates=candidates,
            candidates_file=cand_file,
            model=kw["model"],
            capacity=kw["capacity"],
            candidate_source=kw["candidate_source"],
        )
        for i in kw["indicators"]
    ]
    steps.close()
    out: Path = kw["out"]
    out.mkdir(parents=True, exist_ok=True)
    table = pd.concat(
        [s.table.assign(indicator=s.indicator, model=s.model) for s in runs], ignore_index=True
    )
    safe_frame(table).to_csv(out / "sites.csv", index=False, encoding="utf-8-sig")
    doc = {
        "as_of": result.as_of.isoformat(),
        "runs": [
            {
                "indicator": s.indicator,
                "model": s.model,
                "objective": s.result.objective,
                "solver": s.result.solver,
                "status": s.result.status,
                "mip_gap": s.result.mip_gap,
                "wall_time_s": s.result.wall_time_s,
                "sites": json.loads(s.table.to_json(orient="records", force_ascii=False)),
                "gaps_without_candidate": list(s.gaps_without_candidate),
                "findings": [f.to_dict() for f in s.findings],
            }
            for s in runs
        ],
    }
    from coverage_gis.export.sites import write_sites_workbook

    write_sites_workbook(runs, out / "sites.xlsx")
    (out / "sites.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    written = [out / "sites.csv", out / "sites.json", out / "sites.xlsx"]
    if kw["with_map"]:
        from coverage_gis.mapexport import export_gap_map

        written.append(
            export_gap_map(
                result,
                out / "sites_map.html",
                indicators=list(dict.fromkeys(kw["indicators"])),
                title="选址建议 / Suggested sites",
                sites=runs,
            )
        )
    for s in runs:
        click.echo(
            f"{s.indicator}  模型 model {s.model}  目标值 objective {s.result.objective:,.0f}  "
            f"{s.result.solver} {s.result.status}  {s.result.wall_time_s:.2f} s"
        )
        for row in s.table.itertuples():
            click.echo(
                f"  {row.rank:>3}  {row.site}  {row.county} {row.unit}  "
                f"+{row.gain:,.0f} {row.gain_field}"
                + (f"  补缺 closes {row.unit}" if row.closes else "")
            )
    if not kw["quiet"]:
        click.echo("输出 / outputs: " + ", ".join(map(str, written)), err=True)
