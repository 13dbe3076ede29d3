"""The validation report: findings printed for a terminal and written as CSV and XLSX.

Text from the data (file names, values, messages) never becomes a spreadsheet formula: the
CSV prefixes risky text cells with ``'`` and the workbook stores every text as a string cell
(the rule is in :mod:`coverage_gis.export.safety`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coverage_gis.core.findings import FINDING_COLUMNS, Findings
from coverage_gis.export.safety import protect_cell, safe_frame, terminal_safe

__all__ = ["FINDING_HEADERS_ZH", "format_findings", "write_findings"]

#: Chinese column headers of the report, in :data:`FINDING_COLUMNS` order.
FINDING_HEADERS_ZH = {
    "severity": "级别 severity",
    "code": "代码 code",
    "message_zh": "说明",
    "message_en": "message",
    "file": "文件 file",
    "sheet": "工作表 sheet",
    "row": "行 row",
    "column": "列 column",
    "value": "值 value",
    "suggestion": "建议 suggestion",
    "count": "行数 count",
}
_SEV_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


def format_findings(
    findings: Findings, accounting: pd.DataFrame | None = None, *, limit: int = 60
) -> str:
    """Human-readable report: counts by severity, then one line per finding.

    Control characters from the data are shown as escapes (:func:`terminal_safe`).
    """
    lines = [
        f"数据检查 / validation: 错误 errors {findings.count('error')}, "
        f"警告 warnings {findings.count('warning')}, 提示 info {findings.count('info')}"
    ]
    order = {"error": 0, "warning": 1, "info": 2}
    items = sorted(findings, key=lambda f: order[f.severity])
    for f in items[:limit]:
        where = Path(f.file).name if f.file else ""
        if f.sheet:
            where += f"[{f.sheet}]"
        if f.row is not None:
            where += f" 行/row {f.row}"
        if f.column:
            where += f" 列/col {f.column}"
        val = f" 值/value={f.value!r}" if f.value is not None else ""
        lines.append(
            f"  {_SEV_ZH[f.severity]}/{f.severity:7s} {f.code}: {f.message_zh} / {f.message_en} — {where}{val}"
        )
    if len(items) > limit:
        lines.append(
            f"  … 另有 {len(items) - limit} 条 / {len(items) - limit} more (see findings.csv)"
        )
    if accounting is not None and len(accounting):
        lines.append("行数核对 / row accounting:")
        for row in accounting.itertuples(index=False):
            lines.append(
                f"  {Path(str(row.source_file)).name}: 读取 read {row.rows_read} = 计入 used {row.rows_used}"
                f" + 排除 excluded {row.rows_excluded}"
            )
    return terminal_safe("\n".join(lines))


def write_findings(
    findings: Findings, out_dir: str | Path, *, accounting: pd.DataFrame | None = None
) -> list[Path]:
    """Write ``validation.csv`` (UTF-8 with BOM) and ``validation.xlsx`` into ``out_dir``."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font, PatternFill

    def cell_value(v: object) -> object:
        """A value openpyxl can store (control characters in text are dropped)."""
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return ""
        return ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = findings.to_frame()
    csv_path = out / "validation.csv"
    safe_frame(frame).to_csv(csv_path, index=False, encoding="utf-8-sig")
    wb = Workbook()
    ws = wb.active
    ws.title = "数据问题"
    ws.append([FINDING_HEADERS_ZH[c] for c in FINDING_COLUMNS])
    fills = {"error": "F8CBAD", "warning": "FFE699", "info": "DDEBF7"}
    for rec in frame.itertuples(index=False):
        ws.append([cell_value(v) for v in rec])
        for cell in ws[ws.max_row]:
            protect_cell(cell)
        ws.cell(ws.max_row, 1).fill = PatternFill(
            "solid", fgColor=fills.get(rec.severity, "FFFFFF")
        )
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for col, width in zip("ABCDEFGHIJK", (10, 24, 40, 48, 30, 12, 8, 14, 18, 36, 8), strict=True):
        ws.column_dimensions[col].width = width
    if accounting is not None:
        ws2 = wb.create_sheet("行数核对")
        ws2.append(list(accounting.columns))
        for rec in accounting.itertuples(index=False):
            ws2.append([cell_value(v) for v in rec])
        for row in ws2.iter_rows():
            for cell in row:
                protect_cell(cell)
    xlsx_path = out / "validation.xlsx"
    wb.save(xlsx_path)
    return [csv_path, xlsx_path]
