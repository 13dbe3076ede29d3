"""The site suggestions as an Excel workbook: sheet 选址建议 and the solver record 求解信息."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coverage_gis.export.safety import protect_cell

if TYPE_CHECKING:
    from openpyxl import Workbook

    from coverage_gis.siting.suggest import SiteSuggestion

__all__ = ["SITE_HEADERS", "SOLVER_HEADERS", "add_site_sheets", "write_sites_workbook"]

#: Header row of the 选址建议 sheet.
SITE_HEADERS = (
    "指标编号 id",
    "排名 rank",
    "建议点位 site",
    "镇(街道) township",
    "区县 county",
    "新增可达人口 residents added",
    "人口字段 field",
    "补上缺口 gap closed",
    "距现有设施(米) to nearest existing (m)",
    "经度 lon",
    "纬度 lat",
)
#: Header row of the 求解信息 sheet.
SOLVER_HEADERS = (
    "指标编号 id",
    "模型 model",
    "目标值 objective",
    "求解器 solver",
    "状态 status",
    "MIP gap",
    "用时(秒) time (s)",
    "无候选点的缺口 gaps without a candidate",
)


def add_site_sheets(wb: Workbook, runs: Sequence[SiteSuggestion], index: int | None = None) -> None:
    """Add the sheets 选址建议 (one row per suggested site, rank order, per indicator) and
    求解信息 (one row per run: model, objective, solver, status, gap, time) to ``wb``, at
    ``index`` (default: at the end).

    Text from the data (site and unit names) is written as text cells, never formulas.
    """
    from openpyxl.styles import Font

    at = len(wb.sheetnames) if index is None else index
    ws = wb.create_sheet("选址建议", at)
    ws.append(list(SITE_HEADERS))
    for s in runs:
        for row in s.table.itertuples():
            near = float(row.nearest_existing_m)
            ws.append(
                [
                    s.indicator,
                    int(row.rank),
                    str(row.site),
                    str(row.unit),
                    str(row.county),
                    float(row.gain),
                    str(row.gain_field),
                    str(row.unit) if row.closes else "",
                    round(near) if math.isfinite(near) else None,
                    float(row.lon),
                    float(row.lat),
                ]
            )
    info = wb.create_sheet("求解信息", at + 1)
    info.append(list(SOLVER_HEADERS))
    for s in runs:
        r = s.result
        info.append(
            [
                s.indicator,
                s.model,
                float(r.objective),
                str(r.solver),
                str(r.status),
                None if r.mip_gap is None else float(r.mip_gap),
                round(float(r.wall_time_s), 3),
                "、".join(s.gaps_without_candidate),
            ]
        )
    for sheet in (ws, info):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for line in sheet.iter_rows(min_row=2):
            for cell in line:
                protect_cell(cell)
        sheet.freeze_panes = "A2"
        for col, width in zip(
            "ABCDEFGHIJK", (10, 6, 30, 16, 12, 14, 12, 16, 14, 11, 11), strict=False
        ):
            sheet.column_dimensions[col].width = width


def write_sites_workbook(runs: Sequence[SiteSuggestion], path: str | Path) -> Path:
    """Write a workbook of the sheets of :func:`add_site_sheets` alone."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    add_site_sheets(wb, runs)
    out = Path(path)
    wb.save(out)
    return out
