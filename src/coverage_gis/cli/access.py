"""``access`` sub-command: who lives within reach of a facility type (生活圈可达性).

Runs the catalogue's ``access`` indicators (or one defined on the command line with
``--types``/``--threshold``/``--minutes``) through the same engine as ``audit`` and writes
the per-township table (``access.csv``, ``access.json``) and a summary to the terminal.
"""

from __future__ import annotations

import dataclasses
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
from coverage_gis.core.errors import InputError

__all__ = ["access"]


def _adhoc_indicator(kw: dict[str, Any], catalog: Any) -> Any:
    """An access indicator built from ``--types``, ``--mode``, ``--threshold`` …"""
    from coverage_gis.core.catalog import WALK_KMH, AccessRule, Indicator

    codes = tuple(c.strip() for c in kw["types"].split(",") if c.strip())
    unknown = [c for c in codes if c not in catalog.type_codes]
    if unknown or not codes:
        raise InputError(
            f"未知设施类型：{', '.join(unknown) or '（空）'}（可用：{', '.join(catalog.type_codes)}）",
            f"Unknown facility types: {', '.join(unknown) or '(none)'} (known: {', '.join(catalog.type_codes)})",
            column="--types",
            value=kw["types"],
        )
    if (kw["threshold"] is None) == (kw["minutes"] is None):
        raise click.UsageError(
            "需要 --threshold（米）或 --minutes（分钟）之一 / give one of --threshold (m) or --minutes"
        )
    speed = kw["speed"] or WALK_KMH
    metres = kw["threshold"] if kw["threshold"] is not None else kw["minutes"] * speed * 1000 / 60
    if not metres > 0:
        raise click.BadParameter("距离必须为正 / the reach must be positive")
    rule = AccessRule(
        population_field=kw["population_field"],
        mode=kw["mode"],
        threshold_m=float(metres),
        threshold_min=kw["minutes"],
        speed_kmh=speed if kw["minutes"] is not None else None,
    )
    names = "、".join(catalog.facility_type(c).name_zh for c in codes)
    label_zh, label_en = rule.reach_label
    return Indicator(
        id="ACCESS",
        name_zh=f"{label_zh}内可达{names}的{kw['population_field']}比例",
        name_en=f"Share of {kw['population_field']} within {label_en} of {', '.join(codes)}",
        unit="%",
        target=float(kw["target"]),
        operator=">=",
        attribute="expected",
        source_ref="命令行 / command line",
        kind="access",
        level="township",
        facility_types=codes,
        access=rule,
    )


def _summary(result: Any, lang: str) -> str:
    from coverage_gis.text import display_width, format_value, named, pad, pick

    head = pick(
        (
            ["编号", "指标", "可达范围", "人口来源", "覆盖人口", "总人口", "当前值", "目标"],
            ["id", "indicator", "reach", "demand", "within reach", "total", "value", "target"],
        ),
        lang,
    )
    rows = [head]
    for r in result.indicators:
        rule = r.indicator.access
        if rule is None:
            continue
        fca = rule.measure == "fca"
        rows.append(
            [
                r.indicator.id,
                named(r.indicator, lang),
                pick(rule.reach_label, lang),
                Path(r.access.demand_source).name if r.access is not None else "—",
                "—" if r.numerator is None or fca else f"{r.numerator:,.0f}",
                "—" if r.denominator is None else f"{r.denominator:,.0f}",
                format_value(r.value, r.indicator.unit),
                format_value(r.indicator.target, r.indicator.unit),
            ]
        )
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)) for row in rows)


@cli.command("access")
@input_options
@evaluation_options
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    help="可达性指标编号（默认目录中全部 access 指标）/ access indicator id(s) (default: all)",
)
@click.option("--types", help="临时指标：设施类型代码，逗号分隔 / ad-hoc indicator: type codes")
@click.option(
    "--mode",
    type=click.Choice(["euclidean", "barrier", "network"]),
    default="euclidean",
    show_default=True,
    help="临时指标的距离方式 / ad-hoc indicator: distance mode",
)
@click.option("--threshold", type=float, help="临时指标：可达距离（米）/ reach in metres")
@click.option("--minutes", type=float, help="临时指标：可达时间（分钟）/ reach in minutes")
@click.option("--speed", type=float, help="km/h（默认步行 4 km/h）/ travel speed (default 4 km/h)")
@click.option(
    "--population-field",
    default="population",
    show_default=True,
    help="人口字段 population | pop_60plus | households",
)
@click.option("--target", type=float, default=100.0, show_default=True, help="临时指标目标 %")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="输出目录 / output folder",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def access(**kw: Any) -> None:
    """人口可达性：多少居民（老人）在设施可达范围内 / Residents within reach of facilities."""
    from coverage_gis.core.catalog import load_catalog
    from coverage_gis.export.safety import safe_frame
    from coverage_gis.export.tables import audit_to_dict

    steps = Steps(kw["quiet"])
    steps("读取指标目录", "loading catalogue")
    catalog = load_catalog(kw["catalog"])
    chosen = [i for i in catalog.indicators if i.kind == "access"]
    if kw["indicators"]:
        known = {i.id: i for i in chosen}
        missing = [i for i in kw["indicators"] if i not in known]
        if missing:
            raise InputError(
                f"目录中没有这些可达性指标：{', '.join(missing)}（有：{', '.join(known) or '无'}）",
                f"No such access indicators in the catalogue: {', '.join(missing)} (there are: {', '.join(known) or 'none'})",
                value=", ".join(missing),
            )
        chosen = [known[i] for i in kw["indicators"]]
    if kw["types"]:
        chosen = [*([] if not kw["indicators"] else chosen), _adhoc_indicator(kw, catalog)]
    if not chosen:
        raise click.UsageError(
            "目录中没有 access 指标，请用 --types 与 --threshold/--minutes 定义一个 / "
            "the catalogue has no access indicators: define one with --types and --threshold/--minutes"
        )
    catalog = dataclasses.replace(catalog, indicators=tuple(chosen))
    inputs = load_from_options(kw, steps)
    result = run_local(kw, inputs, catalog, steps)
    steps("写出结果", "writing outputs")
    out: Path = kw["out"]
    out.mkdir(parents=True, exist_ok=True)
    table = result.access_table()
    csv_path = out / "access.csv"
    safe_frame(table).to_csv(csv_path, index=False, encoding="utf-8-sig")
    full = audit_to_dict(result)
    doc = {
        "as_of": full["as_of"],
        "inputs": full["inputs"],
        "indicators": full["indicators"],
        "units": json.loads(table.to_json(orient="records", force_ascii=False)),
        "findings": full["findings"],
    }
    json_path = out / "access.json"
    json_path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    steps.close()
    click.echo(_summary(result, kw["lang"]))
    if not kw["quiet"]:
        click.echo(f"输出 / outputs: {csv_path}, {json_path}", err=True)
