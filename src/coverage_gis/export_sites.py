"""The site suggestions as an Excel workbook: sheet 选址建议 and the solver record 求解信息."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coverage_gis.export_safety import protect_cell

if TYPE_CHECKING:
    from coverage_gis.siting.suggest import SiteSuggestion

__all__ = ["SITE_HEADERS", "SOLVER_HEADERS", "write_sites_workbook"]

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


def write_sites_workbook(runs: Sequence[SiteSuggestion], path: str | Path) -> Path:
    """Write one row per suggested site (rank order, per indicator) and one per run.

    Text from the data (site and unit names) is written as text cells, never formulas.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "选址建议"
    ws.append(list(SITE_HEADERS))
    for s in runs:
        for row in s.table.itertuples():
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
                    round(float(row.nearest_existing_m)) if row.nearest_existing_m < 1e12 else None,
                    float(row.lon),
                    float(row.lat),
                ]
            )
    info = wb.create_sheet("求解信息")
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
    out = Path(path)
    wb.save(out)
    return out
