"""Status classes, colours and the bilingual texts shared by the HTML and the static map."""

from __future__ import annotations

from coverage_gis.text import Lang, pick

#: Status classes of a 镇(街道) for one indicator, in legend order.
STATUSES: tuple[str, ...] = ("met", "not_met", "not_counted", "no_data")

#: Fill colour, outline colour and fill opacity of each status.
STATUS_STYLE: dict[str, dict[str, str | float]] = {
    "met": {"fill": "#7fc97f", "stroke": "#3d7a3d", "opacity": 0.65},
    "not_met": {"fill": "#f46d43", "stroke": "#a63a1c", "opacity": 0.70},
    "not_counted": {"fill": "#c7c7c7", "stroke": "#7a7a7a", "opacity": 0.55},
    "no_data": {"fill": "#ffffff", "stroke": "#9e9e9e", "opacity": 0.30},
}

STATUS_LABEL: dict[str, tuple[str, str]] = {
    "met": ("已覆盖/达标", "met"),
    "not_met": ("未覆盖/未达标", "not met"),
    "not_counted": ("不计入（功能区）", "not counted (functional zone)"),
    "no_data": ("无数据", "no data"),
}

SCHEMATIC_NOTE: tuple[str, str] = (
    "示意边界，非法定界线",
    "Schematic boundaries, not legal boundaries",
)
#: Credit line of the demo boundaries (cut inside OpenStreetMap county outlines, ODbL 1.0).
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"

#: Interface texts (zh, en) used by the page and the static map.
TEXTS: dict[str, tuple[str, str]] = {
    "default_title": (
        "镇(街道)民政设施覆盖缺口图",
        "Civil-affairs facility coverage gaps by township",
    ),
    "target": ("目标", "target"),
    "as_of": ("评估日期", "Evaluation date"),
    "source": ("数据来源", "Data source"),
    "boundaries": ("边界", "boundaries"),
    "indicator": ("指标", "Indicator"),
    "status": ("状态", "Status"),
    "county": ("区县", "County"),
    "kind": ("类型", "Kind"),
    "type": ("类型", "Type"),
    "address": ("地址", "Address"),
    "opened": ("建成时间", "Opened"),
    "meets_standard": ("是否达标", "Meets standard"),
    "in_service": ("评估日在用", "In service on the date"),
    "counted_in": ("所属镇(街道)", "Assigned township"),
    "not_located": ("未落入任何镇(街道)", "not in any township"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "unknown": ("未填", "not given"),
    "qualifying": ("符合指标条件", "qualifying for the indicator"),
    "county_level": (
        "（区县级指标，按所在区县着色）",
        "(county-level indicator: coloured by county)",
    ),
    "units_met": ("达标单位", "units meeting it"),
    "search": ("搜索镇(街道)…", "Find a township…"),
    "search_button": ("定位", "Go"),
    "not_found": ("未找到", "not found"),
    "matches": ("个匹配", "matches"),
    "fullscreen": ("全屏", "Full screen"),
    "counties": ("区县界线", "County outlines"),
    "labels": ("镇(街道)名称", "Township names"),
    "legend": ("图例", "Legend"),
    "facilities": ("设施", "Facilities"),
    "no_value": ("无法计算", "not computable"),
    "met_word": ("已达标", "met"),
    "not_met_word": ("未达标", "not met"),
    "note_points": ("点位为设施坐标（WGS84）", "Points are facility coordinates (WGS84)"),
    "within_reach": ("可达人口", "within reach"),
    "demand_points": (
        "居民点（按到最近设施的距离）",
        "Residents (by distance to the nearest facility)",
    ),
    "catchments": ("设施服务范围", "Facility catchments"),
    "nearest": ("到最近设施", "to the nearest facility"),
    "residents": ("人数", "residents"),
    "omitted_points": ("个较小的居民点未画出", "smaller demand points not drawn"),
    "beyond_measured": ("超出计算范围", "beyond the measured range"),
    "suggested_sites": ("选址建议", "Suggested sites"),
    "planned_sites": ("规划点位", "Planned sites"),
    "planned_site": ("规划点位（方案，尚未建成）", "Planned site (scenario, not built)"),
    "adds": ("新增可达", "Adds within reach"),
    "closes_gap": ("补上缺口", "Closes the gap of"),
    "nearest_existing": ("距现有设施", "To the nearest existing"),
    "note_gcj": (
        "叠加图层已转换为 GCJ-02 以配合高德底图",
        "Overlays shifted to GCJ-02 to match the AMap basemap",
    ),
}


def text(key: str, lang: Lang) -> str:
    """Interface text in one language."""
    return pick(TEXTS[key], lang)


def status_label(status: str, lang: Lang) -> str:
    """Label of a status class in one language."""
    return pick(STATUS_LABEL[status], lang)
