"""``map`` sub-command: the offline interactive gap map (and optionally the static map)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from coverage_gis.cli import cli
from coverage_gis.cli.audit import (
    Steps,
    audit_with_inputs,
    audit_with_plan,
    evaluate_from_options,
    evaluation_options,
    input_options,
    run_suggestions,
    suggest_option,
)


@cli.command("map")
@input_options
@evaluation_options
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    metavar="ID",
    help="上图指标（可多次；默认全部设施覆盖类指标）/ indicator to map (repeatable; default: all presence indicators)",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("out/gap_map.html"),
    show_default=True,
    help="输出 HTML 文件 / output HTML file",
)
@click.option(
    "--basemap",
    type=click.Choice(["none", "osm", "tianditu", "amap"]),
    default="none",
    show_default=True,
    help="底图（none 可离线）/ basemap (none works offline; amap shifts overlays to GCJ-02)",
)
@click.option("--title", help="地图标题 / map title")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--tianditu-key",
    help="天地图密钥（或环境变量 COVERAGE_GIS_TIANDITU_KEY）/ tianditu key (or $COVERAGE_GIS_TIANDITU_KEY)",
)
@click.option(
    "--png",
    "static_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="同时输出静态地图（.png 或 .pdf，第一个指标）/ also write the static map of the first indicator",
)
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="按规划方案（计划新建点位）绘图 / map the audit with a scenario's planned sites",
)
@suggest_option
def map_cmd(**kw: Any) -> None:
    """输出离线交互式缺口地图 / Write the offline interactive gap map (one HTML file)."""
    from coverage_gis.mapexport import default_indicators, export_gap_map, export_static_map

    steps = Steps(kw["quiet"])
    for flag in ("scenario", "suggest"):
        if kw[flag] and kw.get("engine", "local") != "local":
            raise click.UsageError(f"--{flag} 只用于本机引擎 / --{flag} needs --engine local")
    sites: list[Any] = []
    if kw["scenario"] is not None:
        # the plan's map; suggestions, if asked for, close the gaps the plan leaves
        inputs, _, result = audit_with_plan(kw, steps, baseline=False)
        if not kw["title"]:
            name = Path(kw["scenario"]).name
            kw["title"] = f"规划方案 {name}：设施覆盖缺口图 / with the plan {name}"
    elif kw["suggest"]:
        inputs, result = audit_with_inputs(kw, steps)
    else:
        result = evaluate_from_options(kw, steps)
    indicators = list(kw["indicators"]) or default_indicators(result)
    if kw["suggest"]:
        sites = run_suggestions(kw, inputs, result, steps, indicators)
    steps("绘制交互地图", "drawing the interactive map")
    written = [
        export_gap_map(
            result,
            kw["out"],
            indicators=indicators,
            basemap=kw["basemap"],
            title=kw["title"],
            lang=kw["lang"],
            tianditu_key=kw["tianditu_key"],
            sites=sites,
        )
    ]
    if kw["static_path"]:
        steps("绘制静态地图", "drawing the static map")
        written.append(
            export_static_map(
                result,
                kw["static_path"],
                indicator=indicators[0],
                lang=kw["lang"],
                title=kw["title"],
            )
        )
    steps.close()
    if not kw["quiet"]:
        for p in written:
            click.echo(f"输出 / output: {p} ({p.stat().st_size / 1024:.0f} KB)", err=True)
