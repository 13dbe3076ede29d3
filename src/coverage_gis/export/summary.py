"""A one-page summary of an audit for e-mail: ``summary.md`` and ``summary.html``.

Both files say the same thing: the headline numbers, the binding (约束性) indicators not
yet met (with the units that miss them), the binding indicators still waiting for a manual
value, and the counties furthest behind. The HTML page is self-contained (inline CSS, no
scripts, images, fonts or links to other files) and every string that comes from the data
or the catalogue is escaped with :func:`html.escape`; in the Markdown the characters that
Markdown would interpret are backslash-escaped. Names that could reorder the text around
them on screen (U+202E RIGHT-TO-LEFT OVERRIDE, right-to-left letters) are isolated
(:func:`coverage_gis.export.safety.bidi_isolate`), and in the HTML every name that sits
inside a sentence is also a ``<bdi>`` element.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from coverage_gis import __version__
from coverage_gis._paths import data_path
from coverage_gis.core.results import MANUAL_PENDING_ZH, AuditResult, IndicatorResult
from coverage_gis.export.safety import bidi_isolate
from coverage_gis.text import format_value

__all__ = [
    "MAX_UNITS_LISTED",
    "TOP_COUNTIES",
    "SummaryData",
    "render_html",
    "render_markdown",
    "summary_data",
    "write_summary",
]

#: Units named per unmet indicator before "等 N 个".
MAX_UNITS_LISTED = 8
#: Counties listed under "差距最大的区县".
TOP_COUNTIES = 3
_OPS = {">=": "≥", "<=": "≤", "=": "="}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


@dataclass
class _Unmet:
    id: str
    name: str
    value: str
    target: str
    gap: str
    n_failing: int
    level: str
    failing_names: list[str] = field(default_factory=list)


@dataclass
class SummaryData:
    """The content of the summary (plain strings; escaped only when rendered)."""

    title: str
    as_of: str
    headline: list[str]
    binding_unmet: list[_Unmet]
    binding_pending: list[tuple[str, str]]
    counties: list[tuple[str, int, int, list[str]]]
    notes: list[str]


def _failing_names(result: AuditResult, r: IndicatorResult) -> tuple[str, list[str]]:
    if r.indicator.kind == "presence" and r.indicator.level == "township":
        names = dict(
            zip(result.units["code"].astype(str), result.units["name"].astype(str), strict=True)
        )
        level = "镇(街道)"
    else:
        names = dict(
            zip(
                result.counties["county_code"].astype(str),
                result.counties["county"].astype(str),
                strict=True,
            )
        )
        level = "区县"
    return level, [bidi_isolate(names.get(str(c), str(c))) for c in r.failing]


def summary_data(result: AuditResult) -> SummaryData:
    """Collect the summary's content from an audit result."""
    from coverage_gis.export.report_tables import county_ranking

    cat = result.catalog
    acc = result.accounting
    read = int(acc["rows_read"].sum()) if len(acc) else 0
    used = int(acc["rows_used"].sum()) if len(acc) else 0
    serving = int(result.facilities["in_service"].sum()) if len(result.facilities) else 0
    counted = result.units["counted"].astype(bool)
    computed = [r for r in result.indicators if r.met is not None]
    binding = [r for r in result.indicators if r.indicator.binding]
    pending = [r for r in result.indicators if r.status == "manual_missing"]
    unmet = [r for r in binding if r.met is False]
    fz = int((~counted).sum())
    headline = [
        f"镇(街道) {len(result.units)} 个（计入覆盖率分母 {int(counted.sum())} 个"
        + (f"，功能区 {fz} 个不计入" if fz else "")
        + f"），区县级板块 {len(result.counties)} 个",
        f"设施记录：读取 {read} 行，计入 {used} 行，排除 {read - used} 行；评估日在役 {serving} 个",
        f"指标 {len(result.indicators)} 项：已评估 {len(computed)} 项，"
        f"达标 {sum(1 for r in computed if r.met)} 项，"
        f"未达标 {sum(1 for r in computed if not r.met)} 项；{MANUAL_PENDING_ZH} {len(pending)} 项",
        f"约束性指标 {len(binding)} 项：达标 {sum(1 for r in binding if r.met is True)} 项，"
        f"未达标 {len(unmet)} 项，{MANUAL_PENDING_ZH} "
        f"{sum(1 for r in binding if r.status == 'manual_missing')} 项",
        f"数据问题：错误 {result.findings.count('error')}，警告 {result.findings.count('warning')}，"
        f"提示 {result.findings.count('info')}",
    ]
    binding_unmet = []
    for r in unmet:
        ind = r.indicator
        level, names = _failing_names(result, r)
        binding_unmet.append(
            _Unmet(
                id=ind.id,
                name=ind.name_zh,
                value=format_value(r.value, ind.unit),
                target=f"{_OPS[ind.operator]}{format_value(ind.target, ind.unit)}",
                gap=format_value(r.gap, ind.unit),
                n_failing=len(r.failing),
                level=level,
                failing_names=names,
            )
        )
    ranking = county_ranking(result)
    behind = ranking[(ranking["unit_gaps"] > 0) | (ranking["unmet"] > 0)].head(TOP_COUNTIES)
    counties = [
        (bidi_isolate(str(row.county)), int(row.unit_gaps), int(row.unmet), list(row.detail))
        for row in behind.itertuples(index=False)
    ]
    notes = []
    if result.schematic_boundaries:
        notes.append("示意边界，非法定界线 / schematic boundaries, not legal boundaries")
    demo = data_path("boundaries", "suzhou_townships_demo.geojson").resolve()
    if any(
        i.get("role") == "boundaries" and Path(i["path"]).resolve() == demo for i in result.inputs
    ):
        notes.append("© OpenStreetMap contributors (ODbL)")  # demo townships: OSM-derived
    notes.append(
        f"详见 coverage_report.xlsx（指标汇总、镇街矩阵、缺口清单、县级汇总）· "
        f"{bidi_isolate(cat.name_zh)}（{bidi_isolate(cat.version)}）· coverage-gis {__version__}"
    )
    return SummaryData(
        title=f"{bidi_isolate(cat.name_zh)} 设施覆盖评估摘要",
        as_of=result.as_of.isoformat(),
        headline=headline,
        binding_unmet=binding_unmet,
        binding_pending=[
            (bidi_isolate(r.indicator.id), bidi_isolate(r.indicator.name_zh))
            for r in binding
            if r.status == "manual_missing"
        ],
        counties=counties,
        notes=notes,
    )


def _names(u: _Unmet) -> str:
    shown = u.failing_names[:MAX_UNITS_LISTED]
    more = len(u.failing_names) - len(shown)
    return "、".join(shown) + (f" 等 {len(u.failing_names)} 个" if more > 0 else "")


# -- Markdown -----------------------------------------------------------------------------
def _md(text: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def render_markdown(data: SummaryData) -> str:
    """The summary as Markdown."""
    lines = [
        f"# {_md(data.title)}",
        "",
        f"评估日期 / evaluation date: **{data.as_of}**",
        "",
        "## 总体情况 / headline",
        "",
        *(f"- {_md(h)}" for h in data.headline),
        "",
        "## 未达标的约束性指标 / binding indicators not yet met",
        "",
    ]
    if data.binding_unmet:
        lines += [
            "| 编号 | 指标 | 当前值 | 目标 | 差距 | 未达标单位 |",
            "|---|---|---:|---:|---:|---|",
        ]
        for u in data.binding_unmet:
            where = f"{u.n_failing} 个{u.level}" + (f"：{_names(u)}" if u.failing_names else "")
            lines.append(
                f"| {_md(u.id)} | {_md(u.name)} | {_md(u.value)} | {_md(u.target)} | "
                f"{_md(u.gap)} | {_md(where)} |"
            )
    else:
        lines.append("无 / none")
    if data.binding_pending:
        lines += [
            "",
            f"{MANUAL_PENDING_ZH}的约束性指标 / binding indicators awaiting a manual value:",
        ]
        lines += [f"- {_md(i)} {_md(n)}" for i, n in data.binding_pending]
    lines += ["", "## 差距最大的区县 / counties furthest behind", ""]
    if data.counties:
        for i, (county, gaps, unmet, detail) in enumerate(data.counties, start=1):
            lines.append(
                f"{i}. **{_md(county)}**：约束性指标缺口 {gaps} 处（镇(街道)×指标），未达标约束性指标 {unmet} 项"
            )
            lines += [f"   - {_md(d)}" for d in detail]
    else:
        lines.append("无 / none")
    lines += ["", "---", "", *(f"{_md(n)}  " for n in data.notes), ""]
    return "\n".join(lines)


# -- HTML ---------------------------------------------------------------------------------
_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;
max-width:60em;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.4em;margin-bottom:.2em}h2{font-size:1.1em;border-bottom:1px solid #ccc;
margin-top:1.4em}table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#d9e1f2}td.num{text-align:right;white-space:nowrap}
.bad{color:#9c0006;font-weight:bold}.note{color:#555;font-size:.85em}
"""


def render_html(data: SummaryData) -> str:
    """The summary as a self-contained HTML page (every data string escaped)."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(data.title)} {e(data.as_of)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(data.title)}</h1>",
        f"<p>评估日期 / evaluation date: <strong>{e(data.as_of)}</strong></p>",
        "<h2>总体情况 / headline</h2>",
        "<ul>",
        *(f"<li>{e(h)}</li>" for h in data.headline),
        "</ul>",
        "<h2>未达标的约束性指标 / binding indicators not yet met</h2>",
    ]
    if data.binding_unmet:
        parts.append(
            "<table><thead><tr><th>编号</th><th>指标</th><th>当前值</th><th>目标</th>"
            "<th>差距</th><th>未达标单位</th></tr></thead><tbody>"
        )
        for u in data.binding_unmet:
            where = f"{u.n_failing} 个{u.level}" + (f"：{_names(u)}" if u.failing_names else "")
            parts.append(
                f"<tr><td>{e(u.id)}</td><td>{e(u.name)}</td>"
                f'<td class="num bad">✗ {e(u.value)}</td><td class="num">{e(u.target)}</td>'
                f'<td class="num">{e(u.gap)}</td><td>{e(where)}</td></tr>'
            )
        parts.append("</tbody></table>")
    else:
        parts.append("<p>无 / none</p>")
    if data.binding_pending:
        parts.append(
            f"<p>{e(MANUAL_PENDING_ZH)}的约束性指标 / binding indicators awaiting a manual value:</p><ul>"
        )
        parts += [f"<li><bdi>{e(i)}</bdi> <bdi>{e(n)}</bdi></li>" for i, n in data.binding_pending]
        parts.append("</ul>")
    parts.append("<h2>差距最大的区县 / counties furthest behind</h2>")
    if data.counties:
        parts.append("<ol>")
        for county, gaps, unmet, detail in data.counties:
            parts.append(
                f"<li><strong><bdi>{e(county)}</bdi></strong>：约束性指标缺口 {gaps} 处（镇(街道)×指标），"
                f"未达标约束性指标 {unmet} 项<ul>"
                + "".join(f"<li>{e(d)}</li>" for d in detail)
                + "</ul></li>"
            )
        parts.append("</ol>")
    else:
        parts.append("<p>无 / none</p>")
    parts += ["<hr>", *(f'<p class="note">{e(n)}</p>' for n in data.notes), "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def write_summary(result: AuditResult, out_dir: str | Path) -> list[Path]:
    """Write ``summary.md`` and ``summary.html`` (UTF-8) into ``out_dir``.

    Parameters
    ----------
    result
        The audit result.
    out_dir
        Output folder (created when missing).

    Returns
    -------
    list of pathlib.Path
        The Markdown and HTML files.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = summary_data(result)
    md = out / "summary.md"
    md.write_text(render_markdown(data), encoding="utf-8")
    page = out / "summary.html"
    page.write_text(render_html(data), encoding="utf-8")
    return [md, page]
