"""``site`` sub-command: where the next facilities should go (选址建议).

Audits the inputs like ``audit``, then runs :func:`coverage_gis.siting.suggest.suggest_sites`
for each ``--indicator``: township presence indicators get the best community in each gap
镇(街道); access indicators get ``--new`` sites by the maximal covering model. Writes
``sites.csv`` and ``sites.json`` (model, objective, solver status and time per indicator).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from coverage_gis.cli import cli
from coverage_gis.cli.audit import _load, _Steps, evaluation_options, input_options

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
@click.option("--time-limit", type=float, default=60.0, show_default=True, help="求解限时（秒）")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="输出目录 / output folder",
)
def site(**kw: Any) -> None:
    """选址建议：新设施放在哪里、各补上什么缺口 / Where the next facilities should go."""
    import pandas as pd

    from coverage_gis.catalog import load_catalog
    from coverage_gis.export_safety import safe_frame
    from coverage_gis.results import AuditOptions
    from coverage_gis.siting.suggest import suggest_sites
    from coverage_gis.workflow import load_manual_values, run_audit

    steps = _Steps(kw["quiet"])
    steps("读取指标目录", "loading catalogue")
    catalog = load_catalog(kw["catalog"])
    inputs = _load(kw, steps)
    options = AuditOptions(
        include_functional_zones=kw["include_functional_zones"],
        manual_values=load_manual_values(kw["values_file"]),
    )
    result = run_audit(
        inputs,
        catalog,
        kw["as_of"] or dt.date.today(),
        options,
        allow_errors=kw["allow_errors"],
        progress=steps,
    )
    steps("计算选址", "suggesting sites")
    runs = [
        suggest_sites(
            inputs, result, i, n_new=kw["n_new"], reach_m=kw["reach"], time_limit=kw["time_limit"]
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
                "findings": [f.to_dict() for f in s.findings],
            }
            for s in runs
        ],
    }
    (out / "sites.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
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
        click.echo(f"输出 / outputs: {out / 'sites.csv'}, {out / 'sites.json'}", err=True)
