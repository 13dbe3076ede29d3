"""Generate the embedded Suzhou demo data (schematic boundaries and a facility list).

示意数据生成脚本：在 OpenStreetMap 县级轮廓内生成苏州市 93 个镇(街道)级单元的示意边界（切出太湖、
阳澄湖与长江水域），一份虚构的民政服务设施名录（按《苏州市“十四五”民政事业发展规划》的 2020 基准值
与“今天”（2026-11-29）的进度校准），以及示意水域、路网和村(社区)人口图层（见 ``demo_layers.py``）。

Outputs (relative to the repository root)::

    data/boundaries/suzhou_townships_demo.geojson   (from data/boundaries/osm_suzhou_counties.geojson,
                                                     © OpenStreetMap contributors, ODbL 1.0)
    data/facilities/suzhou_facilities_demo.xlsx
    data/facilities/suzhou_facilities_demo.csv
    data/water/suzhou_water_demo.geojson
    data/roads/suzhou_roads_demo.gpkg
    data/population/suzhou_communities_demo.csv

The script is deterministic (seeded ``numpy`` RNG, fixed file timestamps), needs no network
and nothing outside the repository, and verifies the calibration (and the layers' sums and
placements) at the end with its own simple counting; it exits with status 1 when a number is off.

Run::

    .venv/bin/python scripts/make_demo_data.py
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
import tomllib
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_layers import (
    ATTRIBUTION,
    COMMUNITIES_OUT,
    ROADS_OUT,
    WATER_OUT,
    Metric,
    build_communities,
    build_rivers,
    build_roads,
    verify_layers,
    write_communities,
    write_roads,
    write_water,
)

ROOT = Path(__file__).resolve().parent.parent
BOUNDARIES_OUT = ROOT / "data" / "boundaries" / "suzhou_townships_demo.geojson"
XLSX_OUT = ROOT / "data" / "facilities" / "suzhou_facilities_demo.xlsx"
CSV_OUT = ROOT / "data" / "facilities" / "suzhou_facilities_demo.csv"
FACILITY_TYPES = ROOT / "resources" / "facility_types.toml"

SEED = 20261129
D0 = dt.date(2020, 12, 31)  # 2020 baseline
D1 = dt.date(2026, 11, 29)  # "today"
METRIC_CRS = "EPSG:4549"
INSET_M = 300.0

DESCRIPTION = (
    "示意边界，非法定界线；县级轮廓来自 OpenStreetMap / Schematic boundaries, not legal "
    "boundaries; county outlines from OpenStreetMap (© OpenStreetMap contributors (ODbL))"
)
SHEET_NAME = "设施名录"
TITLE = "苏州市民政服务设施名录（2026年）"
NOTE = "注：坐标为WGS84经纬度；本名录为演示数据，设施名称与位置均为虚构。"
COLUMNS = [
    "序号",
    "设施名称",
    "设施类型",
    "所属区县",
    "所属镇(街道)",
    "地址",
    "经度",
    "纬度",
    "状态",
    "建成时间",
    "停用时间",
    "是否达标",
    "床位数",
    "护理型床位数",
]

# ---------------------------------------------------------------------------------------------
# Administrative units (same content as /work/shared/spec/suzhou_units.csv) with approximate
# positions (lon, lat) used to lay out the schematic cells, and population weights.
# ---------------------------------------------------------------------------------------------

UNITS_CSV = """county,county_code,name,code,kind,lon,lat,weight
虎丘区,320505,狮山街道,320505002,街道,120.570,31.300,1.8
虎丘区,320505,横塘街道,320505003,街道,120.555,31.265,1.1
虎丘区,320505,枫桥街道,320505004,街道,120.540,31.325,1.3
虎丘区,320505,东渚街道,320505005,街道,120.420,31.345,0.9
虎丘区,320505,浒墅关镇,320505102,镇,120.500,31.395,1.4
虎丘区,320505,通安镇,320505105,镇,120.440,31.390,0.9
虎丘区,320505,高新区浒墅关开发分区,320505400,功能区,120.535,31.410,0.5
吴中区,320506,长桥街道,320506003,街道,120.610,31.262,1.3
吴中区,320506,郭巷街道,320506004,街道,120.690,31.240,1.1
吴中区,320506,横泾街道,320506005,街道,120.570,31.120,0.8
吴中区,320506,越溪街道,320506006,街道,120.575,31.205,1.0
吴中区,320506,城南街道,320506007,街道,120.640,31.220,1.2
吴中区,320506,香山街道,320506008,街道,120.450,31.245,0.8
吴中区,320506,甪直镇,320506101,镇,120.800,31.230,1.1
吴中区,320506,木渎镇,320506108,镇,120.510,31.275,2.2
吴中区,320506,胥口镇,320506109,镇,120.480,31.200,0.9
吴中区,320506,临湖镇,320506111,镇,120.505,31.110,0.6
吴中区,320506,东山镇,320506113,镇,120.400,31.070,0.5
吴中区,320506,金庭镇,320506114,镇,120.280,31.130,0.35
相城区,320507,元和街道,320507001,街道,120.640,31.380,1.5
相城区,320507,黄桥街道,320507002,街道,120.580,31.385,0.9
相城区,320507,北桥街道,320507004,街道,120.620,31.505,0.7
相城区,320507,北河泾街道,320507005,街道,120.685,31.400,0.9
相城区,320507,漕湖街道,320507006,街道,120.520,31.470,0.8
相城区,320507,太平街道,320507007,街道,120.720,31.465,0.7
相城区,320507,望亭镇,320507100,镇,120.450,31.450,0.8
相城区,320507,黄埭镇,320507103,镇,120.560,31.440,1.2
相城区,320507,渭塘镇,320507107,镇,120.640,31.450,0.9
相城区,320507,阳澄湖镇,320507111,镇,120.770,31.420,0.8
姑苏区,320508,沧浪街道,320508002,街道,120.612,31.292,1.0
姑苏区,320508,吴门桥街道,320508003,街道,120.618,31.276,1.0
姑苏区,320508,双塔街道,320508005,街道,120.640,31.298,1.0
姑苏区,320508,平江街道,320508008,街道,120.635,31.322,1.0
姑苏区,320508,苏锦街道,320508009,街道,120.620,31.342,1.0
姑苏区,320508,金阊街道,320508015,街道,120.598,31.312,1.0
姑苏区,320508,白洋湾街道,320508016,街道,120.585,31.330,1.0
姑苏区,320508,虎丘街道,320508017,街道,120.600,31.345,1.0
吴江区,320509,滨湖街道,320509001,街道,120.630,31.120,1.2
吴江区,320509,松陵街道,320509002,街道,120.650,31.165,1.8
吴江区,320509,横扇街道,320509004,街道,120.560,31.050,0.8
吴江区,320509,同里镇,320509101,镇,120.730,31.150,0.9
吴江区,320509,平望镇,320509102,镇,120.640,30.975,1.0
吴江区,320509,盛泽镇,320509103,镇,120.650,30.905,3.0
吴江区,320509,七都镇,320509104,镇,120.420,30.960,0.6
吴江区,320509,桃源镇,320509106,镇,120.530,30.830,0.8
吴江区,320509,黎里镇,320509107,镇,120.770,30.930,1.4
吴江区,320509,震泽镇,320509108,镇,120.500,30.920,0.9
吴江区,320509,吴江经济技术开发区,320509400,功能区,120.700,31.095,0.8
苏州工业园区,320571,娄葑街道,320571050,街道,120.680,31.290,1.6
苏州工业园区,320571,斜塘街道,320571051,街道,120.735,31.275,1.6
苏州工业园区,320571,唯亭街道,320571052,街道,120.800,31.365,1.3
苏州工业园区,320571,胜浦街道,320571053,街道,120.825,31.300,0.9
苏州工业园区,320571,金鸡湖街道,320571054,街道,120.715,31.320,1.4
常熟市,320581,碧溪街道,320581001,街道,120.880,31.735,1.0
常熟市,320581,东南街道,320581003,街道,120.810,31.620,1.2
常熟市,320581,虞山街道,320581004,街道,120.740,31.665,2.0
常熟市,320581,常福街道,320581007,街道,120.725,31.625,1.2
常熟市,320581,梅李镇,320581101,镇,120.870,31.670,1.0
常熟市,320581,海虞镇,320581102,镇,120.780,31.765,1.0
常熟市,320581,古里镇,320581107,镇,120.885,31.625,1.0
常熟市,320581,沙家浜镇,320581108,镇,120.800,31.555,0.6
常熟市,320581,支塘镇,320581109,镇,120.960,31.585,0.9
常熟市,320581,董浜镇,320581111,镇,120.940,31.680,0.8
常熟市,320581,尚湖镇,320581117,镇,120.650,31.625,0.8
常熟市,320581,辛庄镇,320581120,镇,120.660,31.560,0.9
常熟市,320581,常熟昆承湖管理委员会,320581406,功能区,120.770,31.605,0.4
张家港市,320582,塘桥镇,320582100,镇,120.640,31.800,1.2
张家港市,320582,凤凰镇,320582103,镇,120.660,31.700,0.9
张家港市,320582,乐余镇,320582105,镇,120.740,31.910,0.9
张家港市,320582,锦丰镇,320582107,镇,120.630,31.925,1.0
张家港市,320582,南丰镇,320582108,镇,120.800,31.870,0.8
张家港市,320582,杨舍镇,320582110,镇,120.550,31.860,3.0
张家港市,320582,大新镇,320582116,镇,120.510,31.960,0.7
张家港市,320582,金港镇,320582118,镇,120.420,31.920,1.2
张家港市,320582,张家港经济技术开发区,320582401,功能区,120.560,31.910,0.6
昆山市,320583,玉山镇,320583100,镇,120.950,31.390,6.0
昆山市,320583,巴城镇,320583102,镇,120.880,31.445,1.0
昆山市,320583,周市镇,320583105,镇,121.000,31.450,1.3
昆山市,320583,陆家镇,320583107,镇,121.050,31.320,1.0
昆山市,320583,花桥镇,320583108,镇,121.110,31.300,1.3
昆山市,320583,淀山湖镇,320583110,镇,120.985,31.155,0.6
昆山市,320583,张浦镇,320583111,镇,120.930,31.275,1.3
昆山市,320583,周庄镇,320583112,镇,120.850,31.120,0.45
昆山市,320583,千灯镇,320583113,镇,121.000,31.245,1.0
昆山市,320583,锦溪镇,320583114,镇,120.900,31.175,0.55
昆山市,320583,昆山开发区,320583400,功能区,121.010,31.360,0.6
太仓市,320585,娄东街道,320585001,街道,121.100,31.440,1.6
太仓市,320585,城厢镇,320585100,镇,121.140,31.475,1.3
太仓市,320585,浮桥镇,320585103,镇,121.200,31.600,1.0
太仓市,320585,璜泾镇,320585105,镇,121.100,31.650,0.8
太仓市,320585,双凤镇,320585109,镇,121.030,31.525,0.7
太仓市,320585,沙溪镇,320585110,镇,121.060,31.590,0.9
太仓市,320585,浏河镇,320585111,镇,121.270,31.500,1.0
"""

# Approximate county-level resident population (2020 census order of magnitude, millions).
COUNTY_POP_M = {
    "姑苏区": 0.92,
    "虎丘区": 0.83,
    "吴中区": 1.39,
    "相城区": 0.89,
    "吴江区": 1.54,
    "苏州工业园区": 1.13,
    "常熟市": 1.68,
    "张家港市": 1.43,
    "昆山市": 2.09,
    "太仓市": 0.83,
}
# Share of residents aged 60+ (range per county; lake towns are older).
COUNTY_OLD_SHARE = {
    "姑苏区": (0.21, 0.24),
    "虎丘区": (0.17, 0.18),
    "吴中区": (0.17, 0.19),
    "相城区": (0.17, 0.19),
    "吴江区": (0.18, 0.20),
    "苏州工业园区": (0.17, 0.172),
    "常熟市": (0.19, 0.21),
    "张家港市": (0.18, 0.20),
    "昆山市": (0.17, 0.175),
    "太仓市": (0.19, 0.21),
}
LAKE_TOWNS = {"东山镇", "金庭镇", "临湖镇", "七都镇", "周庄镇", "锦溪镇", "淀山湖镇", "沙家浜镇"}

# ---------------------------------------------------------------------------------------------
# Geography (lon, lat): real county outlines (OpenStreetMap) and schematic water
# ---------------------------------------------------------------------------------------------

#: County-level outlines from OpenStreetMap (© OpenStreetMap contributors, ODbL 1.0).
COUNTIES_IN = ROOT / "data" / "boundaries" / "osm_suzhou_counties.geojson"
#: 苏州工业园区 is the hole the nine outlines leave between 姑苏区, 相城区 and 昆山市.
SIP = "苏州工业园区"
#: Coverage simplification of the OSM county edges (degrees; ≈ 25 m).
COUNTY_SIMPLIFY = 0.00025
#: Interior township edges: vertex spacing and smooth displacement amplitude (degrees).
CELL_STEP = 0.004
CELL_WARP = 0.0022

# 太湖: the lake's east shore inside the city (north → south, round 东山 into 东太湖 and back
# along 吴江's shore), closed far to the west; only its part inside the outlines is used.
LAKE_TAI = [
    (120.20, 31.62),
    (120.36, 31.50),
    (120.405, 31.455),
    (120.395, 31.425),
    (120.375, 31.400),
    (120.362, 31.370),
    (120.350, 31.340),
    (120.335, 31.310),
    (120.332, 31.285),
    (120.345, 31.265),
    (120.375, 31.255),
    (120.395, 31.240),
    (120.405, 31.215),
    (120.425, 31.195),
    (120.440, 31.170),
    (120.445, 31.145),
    (120.452, 31.126),  # 东山 neck, west side
    (120.420, 31.117),
    (120.390, 31.110),
    (120.365, 31.098),
    (120.348, 31.075),
    (120.352, 31.047),
    (120.370, 31.027),
    (120.400, 31.016),
    (120.430, 31.018),
    (120.460, 31.030),
    (120.485, 31.050),
    (120.500, 31.075),
    (120.515, 31.095),  # 东山 neck, east side: 东太湖 begins
    (120.540, 31.110),
    (120.570, 31.118),
    (120.595, 31.112),
    (120.605, 31.095),
    (120.595, 31.070),
    (120.570, 31.050),
    (120.545, 31.030),
    (120.510, 31.005),
    (120.470, 30.985),
    (120.430, 30.970),
    (120.390, 30.958),
    (120.350, 30.945),
    (120.300, 30.925),
    (120.100, 30.850),
    (119.750, 30.950),
    (119.750, 31.550),
]
#: 金庭镇 (西山岛), an island in the lake.
JINTING_ISLAND = [
    (120.225, 31.105),
    (120.255, 31.075),
    (120.300, 31.080),
    (120.322, 31.110),
    (120.313, 31.160),
    (120.270, 31.180),
    (120.230, 31.150),
]
#: 东山镇: the mainland south-west of this line across the peninsula's neck.
DONGSHAN_PENINSULA = [
    (120.452, 31.128),
    (120.300, 31.140),
    (120.300, 30.990),
    (120.560, 30.990),
    (120.517, 31.094),
    (120.484, 31.112),
]
#: 阳澄湖 between 相城区, 苏州工业园区 and 昆山市: the narrow 西湖 and 中湖/东湖 as one lobe.
YANGCHENG_LAKE = [
    (120.740, 31.470),
    (120.725, 31.455),
    (120.728, 31.430),
    (120.738, 31.405),
    (120.748, 31.395),
    (120.756, 31.412),
    (120.754, 31.437),
    (120.763, 31.450),  # 西湖 | 中湖/东湖
    (120.772, 31.432),
    (120.778, 31.405),
    (120.790, 31.385),
    (120.812, 31.365),
    (120.828, 31.362),
    (120.842, 31.382),
    (120.848, 31.415),
    (120.840, 31.445),
    (120.822, 31.468),
    (120.795, 31.478),
    (120.765, 31.476),
]
#: 长江 south shore (west → east, 张家港 → 常熟 → 太仓); the outlines reach mid-river, so the
#: strip between this line and the outlines' northern edge is cut out as river.
YANGTZE_SHORE = [
    (120.330, 31.940),
    (120.375, 31.952),
    (120.410, 31.972),
    (120.450, 31.985),
    (120.500, 31.990),
    (120.550, 31.985),
    (120.600, 31.972),
    (120.650, 31.958),
    (120.700, 31.940),
    (120.750, 31.915),
    (120.790, 31.890),
    (120.830, 31.860),
    (120.860, 31.830),
    (120.890, 31.805),
    (120.930, 31.785),
    (120.980, 31.765),
    (121.030, 31.740),
    (121.070, 31.715),
    (121.110, 31.685),
    (121.160, 31.645),
    (121.210, 31.605),
    (121.250, 31.570),
    (121.275, 31.540),
    (121.295, 31.515),
    (121.310, 31.500),
    (121.340, 31.470),
]
YANGTZE_FAR = [(121.70, 31.40), (121.70, 32.40), (120.30, 32.40)]

# ---------------------------------------------------------------------------------------------
# Facility calibration targets: (type code, date) -> covered units / counties
# ---------------------------------------------------------------------------------------------

# Township-level types: number of counted units (of 88) covered at D1 and, optionally, D0.
TOWNSHIP_TARGETS: dict[str, tuple[int, int | None]] = {
    "elderly_care_center": (84, 58),
    "regional_elderly_care_center": (75, 31),
    "mental_rehab_station": (72, None),
    "social_org_incubator": (82, 67),
    "social_work_station": (70, None),
    "ashes_repository": (80, 70),
    "rehab_aid_rental": (60, 22),
    "child_care_home": (65, None),
}
CONDITIONED = {
    "mental_rehab_station",
    "social_work_station",
    "child_care_home",
    "minor_protection_center",
}
# County-level types: counties covered at D0 / D1 (qualifying, incl. 达标 where required).
COUNTY_SETS: dict[str, tuple[set[str], set[str]]] = {
    "social_assistance_center": (
        {"姑苏区", "常熟市", "张家港市", "昆山市", "太仓市"},
        {
            "姑苏区",
            "常熟市",
            "张家港市",
            "昆山市",
            "太仓市",
            "吴中区",
            "相城区",
            "吴江区",
            "苏州工业园区",
        },
    ),
    "minor_protection_center": (
        {"姑苏区", "昆山市"},
        {"姑苏区", "吴中区", "相城区", "吴江区", "常熟市", "张家港市", "昆山市", "太仓市"},
    ),
    "dementia_care": (
        {"姑苏区", "苏州工业园区"},
        {"姑苏区", "苏州工业园区", "吴中区", "常熟市", "张家港市", "昆山市", "吴江区"},
    ),
    "aging_showroom": (set(), set(COUNTY_POP_M)),
}
# Required numbers checked at the end: (indicator, date, expected numerator, denominator).
EXPECTED_COUNTS: list[tuple[str, str, dt.date, int, int]] = [
    ("T2-1", "social_assistance_center", D0, 5, 10),
    ("T2-5", "regional_elderly_care_center", D0, 31, 88),
    ("T2-14", "social_org_incubator", D0, 67, 88),
    ("T2-1", "social_assistance_center", D1, 9, 10),
    ("T2-4", "elderly_care_center", D1, 84, 88),
    ("T2-5", "regional_elderly_care_center", D1, 75, 88),
    ("T2-8", "minor_protection_center", D1, 8, 10),
    ("T2-9", "mental_rehab_station", D1, 72, 88),
    ("T2-14", "social_org_incubator", D1, 82, 88),
    ("T2-17", "social_work_station", D1, 70, 88),
    ("T2-19", "ashes_repository", D1, 80, 88),
    ("B2-dementia-care", "dementia_care", D1, 7, 10),
    ("B2-rehab-aid", "rehab_aid_rental", D1, 60, 88),
    ("B2-aging-showroom", "aging_showroom", D1, 10, 10),
    ("B3-child-care-home", "child_care_home", D1, 65, 88),
]
#: Neighbour pairs of the former schematic cells; the quirk builder's random stream advances
#: as if it shuffled that many, so the facility list does not depend on the geometry.
LEGACY_PAIRS = 121
NURSING_SHARE_D0 = 0.750
NURSING_SHARE_D1 = 0.770
BEDS_PER_1000_TARGET = 36.0

ROADS = [
    "人民", "长江", "东环", "富民", "新华", "兴业", "振兴", "建设", "文昌", "迎春", "学士", "金山",
    "滨河", "和平", "友谊", "幸福", "光明", "胜利", "团结", "青年", "园林", "香樟", "银杏", "荷花",
    "玉兰", "桂花", "同心", "太湖", "运河", "锦绣", "秀水", "南环", "北环", "西园", "东湖", "春申",
]  # fmt: skip
COMMUNITY_WORDS = [
    "新苑", "金桥", "枫华", "丽景", "阳光", "康乐", "和谐", "翠园", "锦华", "春晖", "嘉和", "安居",
    "怡景", "泰和", "明珠", "东港", "西塘", "南湖", "北园", "彩虹", "晨曦", "美丽", "长青", "馨苑",
    "湖滨", "新港", "桃园", "兴隆", "永安", "清风", "绿洲", "福星", "祥和", "瑞景", "兰亭", "合丰",
]  # fmt: skip
AUSPICIOUS = [
    "福寿",
    "康乐",
    "颐和",
    "松鹤",
    "夕阳红",
    "安康",
    "长乐",
    "福星",
    "怡养",
    "仁爱",
    "乐龄",
    "悦年",
]
INSTITUTION_SUFFIX = ["养老院", "颐养院", "护理院", "敬老院", "老年公寓", "社会福利院", "养老中心"]
VILLAGE_WORDS = [
    "永丰",
    "石桥",
    "沈巷",
    "陆港",
    "龙潭",
    "金星",
    "新民",
    "长浜",
    "蒋巷",
    "红星",
    "三友",
    "东林",
]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

_NORM_RE = re.compile(r"[\s\u3000()\[\]{}【】〔〕<>《》\"'“”‘’「」]+")
_SUFFIXES = ("街道办事处", "人民政府", "办事处", "街道", "镇", "乡")


def norm_type(value: str) -> str:
    """Normalise a facility-type value: NFKC, drop whitespace, brackets and quotes."""
    return _NORM_RE.sub("", unicodedata.normalize("NFKC", value))


def name_stem(value: str) -> str:
    """Unit name without its administrative suffix (浒墅关镇 → 浒墅关, 狮山街道办事处 → 狮山)."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
    changed = True
    while changed and key:
        changed = False
        for suffix in _SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix) + 1:
                key = key[: -len(suffix)]
                changed = True
                break
    return key


def rand_date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    """Uniform random date in ``[start, end]``."""
    return dt.date.fromordinal(int(rng.integers(start.toordinal(), end.toordinal() + 1)))


def smooth_noise(
    n: int, rng: np.random.Generator, sigma: float, width: int, closed: bool
) -> np.ndarray:
    """``n``×2 smooth random offsets (Gaussian-filtered white noise, std ≈ ``sigma``)."""
    k = np.exp(-0.5 * (np.arange(-2 * width, 2 * width + 1) / width) ** 2)
    k /= k.sum()
    noise = rng.normal(0.0, 1.0, size=(n, 2))
    out = np.empty_like(noise)
    pad = len(k) // 2
    for axis in range(2):
        col = noise[:, axis]
        if closed:
            padded = np.concatenate([col[-pad:], col, col[:pad]])
        else:
            padded = np.concatenate([col[:pad][::-1], col, col[-pad:][::-1]])
        out[:, axis] = np.convolve(padded, k, mode="valid")[:n]
    scale = out.std() or 1.0
    return out * (sigma / scale)


def ring(
    coords: Sequence[tuple[float, float]],
    rng: np.random.Generator,
    wiggle: float,
    step: float = 0.015,
    width: int = 1,
) -> Polygon:
    """Polygon from hand-drawn vertices, densified to ``step`` and given a smooth irregular edge."""
    poly = Polygon(coords)
    dense = np.asarray(shapely.segmentize(poly, step).exterior.coords)[:-1]
    if wiggle > 0:
        dense = dense + smooth_noise(len(dense), rng, wiggle, width, closed=True)
    out = shapely.make_valid(Polygon(dense))
    return largest_part(out)


def wiggle_line(
    coords: Sequence[tuple[float, float]], rng: np.random.Generator, wiggle: float, step: float
) -> np.ndarray:
    """A hand-drawn open line, densified to ``step``, with smooth offsets (end points kept)."""
    dense = np.asarray(shapely.segmentize(shapely.LineString(coords), step).coords)
    noise = smooth_noise(len(dense), rng, wiggle, 3, closed=False)
    noise[[0, -1]] = 0.0
    return dense + noise


class Warp:
    """A smooth displacement field (sum of sinusoids) applied to interior township edges.

    The same position always moves the same way, so edges shared by two cells stay shared;
    the field's gradient stays well below 1, so the warped cells still tile the plane.
    """

    def __init__(self, rng: np.random.Generator, amplitude: float) -> None:
        n = 4
        self.k = rng.normal(0.0, 1.0, size=(2, n, 2))
        self.k /= np.linalg.norm(self.k, axis=2, keepdims=True)
        self.k *= (2 * np.pi / rng.uniform(0.03, 0.09, size=(2, n)))[..., None]
        self.phase = rng.uniform(0, 2 * np.pi, size=(2, n))
        self.amp = amplitude / np.sqrt(n / 2)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        """Displaced copy of an ``m``×2 coordinate array."""
        out = xy.copy()
        for axis in range(2):
            arg = xy @ self.k[axis].T + self.phase[axis]
            out[:, axis] += self.amp * np.sin(arg).sum(axis=1)
        return out


def largest_part(geom: BaseGeometry) -> Polygon:
    """The largest polygon of a (multi)polygonal geometry."""
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon)]
    return max(parts, key=lambda g: g.area)


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal parts of a geometry (drops slivers of lines/points)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    return shapely.union_all(parts) if parts else Polygon()


def voronoi_cells(
    points: Sequence[Point], region: BaseGeometry, warp: Warp | None = None
) -> list[BaseGeometry]:
    """Voronoi cells of ``points`` (in input order) clipped to ``region``.

    With ``warp`` the cells' edges are densified to ``CELL_STEP`` and displaced by the
    field before clipping, so interior edges are smooth curves rather than straight lines.
    """
    if len(points) == 1:
        return [region]
    env = region.envelope.buffer(0.2)
    vor = shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=env, ordered=True)
    cells = list(vor.geoms)
    if warp is not None:
        cells = [
            shapely.make_valid(shapely.transform(shapely.segmentize(c, CELL_STEP), warp))
            for c in cells
        ]
    return [polygonal(cell.intersection(region)) for cell in cells]


def one_piece(cells: list[BaseGeometry], seeds: Sequence[Point]) -> list[BaseGeometry]:
    """Give detached bits of a cell to the neighbouring cell with the longest shared edge."""
    cells = list(cells)
    for _ in range(5):
        moved = False
        for i, g in enumerate(cells):
            parts = list(getattr(g, "geoms", [g]))
            if len(parts) <= 1:
                continue
            keep = max(parts, key=lambda p, s=seeds[i]: (p.contains(s), p.area))
            cells[i] = keep
            for part in parts:
                if part is keep:
                    continue
                best = max(
                    (j for j in range(len(cells)) if j != i),
                    key=lambda j, p=part: p.boundary.intersection(cells[j].buffer(1e-7)).length,
                )
                cells[best] = shapely.union_all([cells[best], part])
                moved = True
        if not moved:
            break
    return cells


# ---------------------------------------------------------------------------------------------
# Boundaries
# ---------------------------------------------------------------------------------------------


def load_units() -> pd.DataFrame:
    """The 93 township-level units with layout positions and population weights."""
    df = pd.read_csv(
        io.StringIO(UNITS_CSV), dtype={"county_code": str, "code": str, "kind": str}
    ).astype({"name": str, "county": str})
    spec = Path("/work/shared/spec/suzhou_units.csv")
    if spec.exists():  # cross-check against the project spec when it is available
        ref = pd.read_csv(spec, dtype=str)
        mine = df[["county", "county_code", "name", "code", "kind"]].astype(str)
        theirs = ref[["county", "county_code", "name", "code", "kind"]].astype(str)
        if not mine.reset_index(drop=True).equals(theirs.reset_index(drop=True)):
            raise SystemExit("embedded unit list differs from /work/shared/spec/suzhou_units.csv")
    assert len(df) == 93
    stems = [name_stem(n) for n in df["name"]]
    assert len(set(stems)) == len(stems), "unit name stems must be unique"
    return df


@dataclass
class Geography:
    """The township cells (in unit order), the county land regions and the water cut out."""

    cells: list[BaseGeometry]
    land: dict[str, BaseGeometry]
    water: dict[str, BaseGeometry]  # 太湖, 阳澄湖, 长江 (the parts inside the outlines)
    counties: dict[str, BaseGeometry]  # simplified outlines incl. 苏州工业园区


def county_regions() -> dict[str, BaseGeometry]:
    """The nine OSM outlines (coverage-simplified) plus 苏州工业园区 (the hole they leave)."""
    doc = json.loads(COUNTIES_IN.read_text(encoding="utf-8"))
    names = [f["properties"]["name"] for f in doc["features"]]
    # 昆山市 carries a tiny nested shell: union the parts of each outline.
    geoms = [
        shapely.union_all(shapely.get_parts(shapely.from_geojson(json.dumps(f["geometry"]))))
        for f in doc["features"]
    ]
    geoms = [largest_part(g) for g in geoms]
    simple = shapely.coverage_simplify(np.array(geoms, dtype=object), COUNTY_SIMPLIFY)
    simple = [shapely.set_precision(g, 1e-6) for g in simple]
    union = shapely.union_all(simple)
    holes = [Polygon(h) for h in largest_part(union).interiors]
    sip = max(holes, key=lambda h: h.area)
    out = dict(zip(names, simple, strict=True))
    out[SIP] = sip
    return out


def build_geography(units: pd.DataFrame, rng: np.random.Generator) -> Geography:
    """Township cells inside the real county outlines, with 太湖, 阳澄湖 and 长江 cut out."""
    counties = county_regions()
    island = ring(JINTING_ISLAND, rng, 0.0015, step=0.003, width=3)
    lake = ring(LAKE_TAI, rng, 0.0012, step=0.003, width=3).difference(island.buffer(0.003))
    yangcheng = ring(YANGCHENG_LAKE, rng, 0.0008, step=0.002, width=3)
    shore = wiggle_line(YANGTZE_SHORE, rng, 0.0012, 0.003)
    river = shapely.make_valid(Polygon([*map(tuple, shore), *YANGTZE_FAR]))
    cut = {"太湖": lake, "阳澄湖": yangcheng, "长江": river}
    water_cut = shapely.union_all(list(cut.values()))

    land: dict[str, BaseGeometry] = {}
    for c, reg in counties.items():
        parts = [p for p in shapely.get_parts(polygonal(reg.difference(water_cut)))]
        keep = [max(parts, key=lambda p: p.area)]
        if c == "吴中区":
            keep += [p for p in parts if p is not keep[0] and p.intersects(island)]
        land[c] = shapely.union_all(keep)
    pos = [Point(x, y) for x, y in zip(units["lon"], units["lat"], strict=True)]
    warp = Warp(rng, CELL_WARP)
    out: list[BaseGeometry] = [Polygon()] * len(units)
    for c in dict.fromkeys(units["county"]):
        idx = [i for i in range(len(units)) if units["county"].iloc[i] == c]
        reg = land[c]
        if c == "吴中区":  # 金庭镇 is the island, 东山镇 the peninsula
            parts = list(shapely.get_parts(reg))
            main = max(parts, key=lambda p: p.area)
            isl = shapely.union_all([p for p in parts if p is not main])
            dong = ring(DONGSHAN_PENINSULA, rng, 0.0006, step=0.002, width=3)
            dongshan = largest_part(main.intersection(dong))
            reg = largest_part(main.difference(dongshan))
            special = {"金庭镇": isl, "东山镇": dongshan}
            for i in idx:
                if units["name"].iloc[i] in special:
                    out[i] = special[units["name"].iloc[i]]
            idx = [i for i in idx if units["name"].iloc[i] not in special]
        inner = reg.buffer(-0.004)
        inner = largest_part(inner) if not inner.is_empty else reg
        seeds = [
            pos[i] if inner.contains(pos[i]) else nearest_points(inner, pos[i])[0] for i in idx
        ]
        for _ in range(3):
            cl = voronoi_cells(seeds, reg)
            seeds = [
                Point(0.5 * s.x + 0.5 * g.centroid.x, 0.5 * s.y + 0.5 * g.centroid.y)
                if not g.is_empty and reg.contains(g.centroid)
                else s
                for s, g in zip(seeds, cl, strict=True)
            ]
        cells = one_piece(voronoi_cells(seeds, reg, warp), seeds)
        for i, g in zip(idx, cells, strict=True):
            out[i] = g
    # Snap to a 1e-6 degree grid and rebuild as an exact coverage.
    cells = make_coverage(out)
    # Water: what the outlines hold beyond the final cells, named by the cut it came from.
    city = shapely.union_all(list(counties.values()), grid_size=1e-6)
    water_all = polygonal(shapely.difference(city, shapely.union_all(cells), grid_size=1e-6))
    water: dict[str, list[BaseGeometry]] = {k: [] for k in cut}
    for part in shapely.get_parts(water_all):
        if part.area < 1e-9:
            continue
        name = max(cut, key=lambda k, p=part: p.intersection(cut[k]).area)
        water[name].append(part)
    water_g = {k: shapely.union_all(v, grid_size=1e-6) for k, v in water.items()}
    return Geography(cells, land, water_g, counties)


def make_coverage(cells: list[BaseGeometry], grid: float = 1e-6) -> list[BaseGeometry]:
    """Rebuild nearly-matching cells as an exact polygonal coverage on a coordinate grid.

    All cell boundaries are noded together on the grid and polygonised; every face goes to
    the cell that contains it, tiny gap faces to the neighbour with the longest shared edge,
    and the faces of each cell are merged with a coverage union (shared vertices stay
    identical, so neighbours match exactly).
    """
    snapped = [shapely.set_precision(g, grid) for g in cells]
    lines = shapely.union_all([g.boundary for g in snapped], grid_size=grid)
    faces = list(shapely.polygonize(shapely.get_parts(lines)).geoms)
    tree = shapely.STRtree(snapped)
    owner: list[int] = []
    for face in faces:
        rp = face.point_on_surface()
        hits = [int(h) for h in tree.query(rp, predicate="within")]
        if hits:
            owner.append(min(hits))
            continue
        if face.area < 1e-7:  # a sliver gap between two cells
            near = [int(h) for h in tree.query(face, predicate="intersects")]
            if near:
                owner.append(max(near, key=lambda h: face.boundary.intersection(snapped[h]).length))
                continue
        owner.append(-1)  # water or outside the city
    result: list[BaseGeometry] = []
    for i in range(len(cells)):
        mine = [f for f, o in zip(faces, owner, strict=True) if o == i]
        result.append(shapely.coverage_union_all(mine))
    return result


def unit_populations(units: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Population, 60+ population and households per unit."""
    pop = np.zeros(len(units), dtype=np.int64)
    for c, total in COUNTY_POP_M.items():
        m = (units["county"] == c).to_numpy()
        w = units.loc[m, "weight"].to_numpy() * rng.uniform(0.92, 1.08, m.sum())
        pop[m] = np.round(total * 1e6 * w / w.sum(), -1).astype(np.int64)
    share = np.array(
        [
            rng.uniform(*COUNTY_OLD_SHARE[c]) + (0.025 if n in LAKE_TOWNS else 0.0)
            for c, n in zip(units["county"], units["name"], strict=True)
        ]
    )
    share = np.clip(share, 0.17, 0.25)
    old = np.round(pop * share).astype(np.int64)
    households = np.round(pop / rng.uniform(2.45, 2.75, len(units))).astype(np.int64)
    return units.assign(population=pop, pop_60plus=old, households=households)


def write_geojson(units: pd.DataFrame, geoms: list[BaseGeometry], path: Path) -> None:
    """Write the schematic boundaries as compact GeoJSON with 6-decimal coordinates."""

    def rnd(obj: object) -> object:
        if isinstance(obj, float):
            return round(obj, 6)
        if isinstance(obj, list | tuple):
            return [rnd(o) for o in obj]
        return obj

    feats = []
    for row, g in zip(units.itertuples(index=False), geoms, strict=True):
        gj = json.loads(shapely.to_geojson(g))
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "code": row.code,
                    "name": row.name,
                    "county": row.county,
                    "county_code": row.county_code,
                    "kind": row.kind,
                    "population": int(row.population),
                    "pop_60plus": int(row.pop_60plus),
                    "households": int(row.households),
                    "schematic": True,
                },
                "geometry": {"type": gj["type"], "coordinates": rnd(gj["coordinates"])},
            }
        )
    doc = {
        "type": "FeatureCollection",
        "name": "suzhou_townships_demo",
        "description": DESCRIPTION,
        "attribution": ATTRIBUTION,
        "license": "ODbL-1.0",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": feats,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    text = text.replace('{"type":"Feature"', '\n{"type":"Feature"')
    path.write_text(text + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Facilities
# ---------------------------------------------------------------------------------------------


@dataclass
class Facility:
    """One row of the demo facility list (plus internal bookkeeping)."""

    type_code: str
    unit: int  # index of the unit the point lies in (or the named unit when no point)
    named_unit: int
    name: str = ""
    type_value: str = ""
    status: str = "运营"
    opened: dt.date | None = None
    closed: dt.date | None = None
    meets: str = ""
    beds: int | None = None
    nursing: int | None = None
    lon: float | None = None
    lat: float | None = None
    unit_written: str = ""
    address: str = ""
    quirks: list[str] = field(default_factory=list)

    def qualifies(self, day: dt.date) -> bool:
        """In service on ``day`` (status, opening and closing dates)."""
        if self.status == "在建":
            return False
        if self.opened is not None and self.opened > day:
            return False
        return self.closed is None or self.closed > day


class Sampler:
    """Random points at least ``INSET_M`` inside each unit polygon."""

    def __init__(self, geoms: list[BaseGeometry], rng: np.random.Generator) -> None:
        self.rng = rng
        gs = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(METRIC_CRS)
        self.inner = [g.buffer(-INSET_M) for g in gs]
        self.to_wgs = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
        self.wgs = geoms

    def point(self, unit: int) -> tuple[float, float]:
        """A random WGS84 point (rounded to 6 decimals) well inside ``unit``."""
        inner = self.inner[unit]
        if inner.is_empty:
            raise SystemExit(f"unit {unit} is too small for a {INSET_M} m inset")
        x0, y0, x1, y1 = inner.bounds
        for _ in range(10_000):
            x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
            if shapely.contains_xy(inner, x, y):
                lon, lat = self.to_wgs.transform(x, y)
                lon, lat = round(float(lon), 6), round(float(lat), 6)
                if self.wgs[unit].contains(Point(lon, lat)):
                    return lon, lat
        raise SystemExit(f"could not sample a point in unit {unit}")


def pick_sets(
    score: np.ndarray, counted: np.ndarray, n1: int, n0: int | None, rng: np.random.Generator
) -> tuple[set[int], set[int]]:
    """Covered units at D1 (top ``n1`` by noisy score) and at D0 (subset, top ``n0``)."""
    idx = np.flatnonzero(counted)
    s = score[idx] + rng.normal(0.0, 0.22, len(idx))
    order = idx[np.argsort(-s, kind="stable")]
    s1 = set(order[:n1].tolist())
    s0: set[int] = set()
    if n0 is not None:
        s0_score = score[order[:n1]] + rng.normal(0.0, 0.3, n1)
        s0 = set(order[:n1][np.argsort(-s0_score, kind="stable")][:n0].tolist())
    return s1, s0


class Builder:
    """Generates the facility rows so that the calibration targets hold."""

    def __init__(
        self, units: pd.DataFrame, types: list[dict], sampler: Sampler, rng: np.random.Generator
    ) -> None:
        self.units = units
        self.types = {t["code"]: t for t in types}
        self.type_order = [t["code"] for t in types]
        self.sampler = sampler
        self.rng = rng
        self.rows: list[Facility] = []
        self.used_names: set[str] = set()
        self.counted = (units["kind"] != "功能区").to_numpy()
        kind = units["kind"].to_numpy()
        county = units["county"].to_numpy()
        name = units["name"].to_numpy()
        urb = np.where(kind == "街道", 0.72, 0.45)
        urb = np.where(county == "姑苏区", 1.1, urb)
        urb = np.where(county == "苏州工业园区", 0.85, urb)
        urb = urb + 0.15 * (units["weight"].to_numpy() > 1.25)
        urb = np.where(np.isin(name, list(LAKE_TOWNS)), 0.1, urb)
        self.urbanity = urb

    # -- small generators ------------------------------------------------------------------
    def _choice(self, seq: Sequence[str]) -> str:
        return seq[int(self.rng.integers(len(seq)))]

    def unique_name(self, make: Iterable[str]) -> str:
        """First candidate name not used yet."""
        for cand in make:
            if cand not in self.used_names:
                self.used_names.add(cand)
                return cand
        raise RuntimeError("ran out of names")

    def community(self) -> str:
        """A fictional community name."""
        return self._choice(COMMUNITY_WORDS) + "社区"

    def seat_unit(self, county: str) -> int:
        """The first ordinary (non-功能区) unit of a county with the largest weight."""
        m = (self.units["county"] == county) & (self.units["kind"] != "功能区")
        return int(self.units.loc[m, "weight"].idxmax())

    def ordinary_date(self, before: bool) -> dt.date:
        """Opening date: 2008–2020 when ``before`` else 2021-01-01 … 2026-11-28."""
        if before:
            return rand_date(self.rng, dt.date(2008, 1, 1), dt.date(2020, 12, 20))
        return rand_date(self.rng, dt.date(2021, 1, 5), dt.date(2026, 11, 20))

    def add(self, fac: Facility) -> Facility:
        """Append a row (point sampled later)."""
        self.rows.append(fac)
        return fac

    def facility_name(self, code: str, unit: int) -> str:
        """A fictional but realistic facility name."""
        u = self.units.iloc[unit]
        stem = name_stem(u["name"])
        county = u["county"]

        def cands() -> Iterable[str]:
            for k in range(200):
                comm = self.community()
                vill = self._choice(VILLAGE_WORDS)
                alt = "" if k == 0 else comm.removesuffix("社区")
                match code:
                    case "social_assistance_center":
                        yield (
                            f"{county}社会救助服务中心" if k == 0 else f"{county}{alt}救助服务中心"
                        )
                    case "elderly_care_center":
                        yield f"{u['name']}{alt}综合养老服务中心"
                    case "regional_elderly_care_center":
                        yield f"{u['name']}{alt}区域性养老服务中心"
                    case "elderly_institution":
                        yield f"{stem}{self._choice(AUSPICIOUS)}{self._choice(INSTITUTION_SUFFIX)}"
                    case "minor_protection_center":
                        yield (
                            f"{county}未成年人救助保护中心"
                            if k == 0
                            else f"{county}{alt}未成年人保护站"
                        )
                    case "mental_rehab_station":
                        yield f"{stem}{comm}康复驿站"
                    case "social_org_incubator":
                        yield f"{u['name']}{alt}社会组织孵化培育基地"
                    case "social_work_station":
                        yield f"{u['name']}{alt}社会工作站"
                    case "ashes_repository":
                        yield (
                            f"{stem}{vill}村公益性骨灰堂" if k else f"{u['name']}公益性骨灰安放中心"
                        )
                    case "rehab_aid_rental":
                        yield f"{stem}{comm}康复辅具租赁点"
                    case "aging_showroom":
                        yield (
                            f"{county}适老化改造产品展示中心"
                            if k == 0
                            else f"{county}{alt}适老化产品展示点"
                        )
                    case "dementia_care":
                        yield f"{stem}{self._choice(AUSPICIOUS)}护理院认知症照护专区"
                    case "child_care_home":
                        yield f"{stem}{comm}儿童关爱之家"
                    case "_canteen":
                        yield f"{stem}{comm}老年食堂"
                    case "_daycare":
                        yield f"{stem}{comm}日间照料中心"
                    case _:
                        raise ValueError(code)

        return self.unique_name(cands())

    def new(self, code: str, unit: int, *, qualifying_d0: bool, **kw: object) -> Facility:
        """A qualifying facility (opened before 2021 when ``qualifying_d0``)."""
        status = "已建成" if self.rng.random() < 0.15 else "运营"
        opened: dt.date | None = self.ordinary_date(qualifying_d0)
        if qualifying_d0 and self.rng.random() < 0.04:
            opened = None  # blank 建成时间: "opened long ago"
        fac = Facility(code, unit, unit, status=status, opened=opened)
        if code in CONDITIONED:
            fac.meets = "是"
        for k, v in kw.items():
            setattr(fac, k, v)
        return self.add(fac)

    def non_qualifying(self, code: str, unit: int) -> Facility:
        """A facility that qualifies on neither date (在建, 不达标 or closed before 2021)."""
        r = self.rng.random()
        if code in CONDITIONED and r < 0.6:
            fac = Facility(code, unit, unit, status="运营", opened=self.ordinary_date(r < 0.3))
            fac.meets = "否"
        elif r < 0.85:
            fac = Facility(code, unit, unit, status="在建")
            if self.rng.random() < 0.3:
                fac.opened = rand_date(self.rng, dt.date(2027, 3, 1), dt.date(2027, 12, 31))
            if code in CONDITIONED:
                fac.meets = "否"
        else:
            opened = rand_date(self.rng, dt.date(2006, 1, 1), dt.date(2012, 12, 31))
            closed = rand_date(self.rng, dt.date(2016, 1, 1), dt.date(2020, 11, 30))
            fac = Facility(code, unit, unit, status="停用", opened=opened, closed=closed)
            if code in CONDITIONED:
                fac.meets = "否"
        return self.add(fac)

    # -- types --------------------------------------------------------------------------------
    def township_types(self) -> dict[str, tuple[set[int], set[int]]]:
        """Generate township-level facilities; returns the covered sets per type."""
        sets: dict[str, tuple[set[int], set[int]]] = {}
        n_units = len(self.units)
        for code, (n1, n0) in TOWNSHIP_TARGETS.items():
            score = self.urbanity.copy()
            if code == "ashes_repository":  # repositories are rural; dense 街道 miss them
                score = 1.2 - 0.8 * score
            s1, s0 = pick_sets(score, self.counted, n1, n0, self.rng)
            closed_since: set[int] = set()
            if code == "social_org_incubator":
                # One unit had a venue in 2020 that closed since and was not replaced.
                cand = sorted(set(np.flatnonzero(self.counted).tolist()) - s1)
                lost = cand[int(self.rng.integers(len(cand)))]
                s0 = set(sorted(s0)[1:]) | {lost}
                closed_since = {lost}
            sets[code] = (s1, s0)
            for u in range(n_units):
                if not self.counted[u]:
                    continue
                if u in s1:
                    d0 = (n0 is None and self.rng.random() < 0.55) or u in s0
                    self.new(code, u, qualifying_d0=d0)
                    extra = int(self.rng.poisson(1.2 if code == "mental_rehab_station" else 0.3))
                    if code == "child_care_home":
                        extra = int(self.rng.poisson(0.8))
                    for _ in range(extra):
                        if code in CONDITIONED and self.rng.random() < 0.3:
                            self.non_qualifying(code, u)
                        else:
                            later = n0 is not None and u not in s0
                            self.new(code, u, qualifying_d0=not later and self.rng.random() < 0.5)
                    if n0 is not None and u not in s0 and self.rng.random() < 0.15:
                        self.non_qualifying(code, u)
                elif u in closed_since:
                    fac = self.new(code, u, qualifying_d0=True)
                    fac.status = "停用"
                    fac.opened = fac.opened or dt.date(2012, 5, 1)
                    fac.closed = rand_date(self.rng, dt.date(2022, 3, 1), dt.date(2024, 6, 30))
                elif self.rng.random() < 0.55:
                    self.non_qualifying(code, u)
        return sets

    def county_types(self) -> None:
        """Generate county-level facilities following ``COUNTY_SETS``."""
        for code, (c0, c1) in COUNTY_SETS.items():
            for c in COUNTY_POP_M:
                seat = self.seat_unit(c)
                if c in c1:
                    self.new(code, seat, qualifying_d0=c in c0)
                    if code in {"dementia_care", "aging_showroom"} and self.rng.random() < 0.5:
                        others = self.units.index[
                            (self.units["county"] == c) & (self.units["kind"] != "功能区")
                        ].to_list()
                        self.new(
                            code, others[int(self.rng.integers(len(others)))], qualifying_d0=False
                        )
                elif c in c0:
                    raise AssertionError("county sets must be nested")
                elif code == "minor_protection_center" and c == "苏州工业园区":
                    fac = self.new(code, seat, qualifying_d0=False)
                    fac.meets = "否"  # built, but not to the standard
                elif code == "social_assistance_center":
                    self.add(Facility(code, seat, seat, status="在建"))

    def institutions(self, pop60_total: int) -> None:
        """Elderly-care institutions with beds; calibrates bed totals and nursing shares."""
        code = "elderly_institution"
        target_beds = round(BEDS_PER_1000_TARGET * pop60_total / 1000)
        w = self.units["pop_60plus"].to_numpy().astype(float) * self.counted
        w = w / w.sum()
        beds_d1 = 0
        while beds_d1 < target_beds:
            u = int(self.rng.choice(len(w), p=w))
            beds = int(np.clip(self.rng.triangular(80, 550, 600), 50, 600) // 10 * 10)
            r = self.rng.random()
            fac = self.new(code, u, qualifying_d0=r < 0.72, beds=beds)
            if r > 0.95:  # closed since 2020
                fac.opened = fac.opened or dt.date(2005, 6, 1)
                if fac.opened > D0:
                    fac.opened = self.ordinary_date(True)
                fac.status = "停用"
                fac.closed = rand_date(self.rng, dt.date(2021, 3, 1), dt.date(2025, 12, 31))
            if fac.qualifies(D1):
                beds_d1 += beds
        # a few under construction (never counted)
        for u in self.rng.choice(np.flatnonzero(self.counted), 4, replace=False):
            beds = int(self.rng.integers(20, 50)) * 10
            self.add(Facility(code, int(u), int(u), status="在建", beds=beds, nursing=0))
        self.calibrate_nursing()

    def calibrate_nursing(self) -> None:
        """Set 护理型床位数 so the nursing share is 75.0% at D0 and 77.0% at D1."""
        inst = [f for f in self.rows if f.type_code == "elderly_institution" and f.status != "在建"]
        groups: dict[str, list[Facility]] = {"both": [], "d0": [], "d1": [], "none": []}
        for f in inst:
            a, b = f.qualifies(D0), f.qualifies(D1)
            groups["both" if a and b else "d0" if a else "d1" if b else "none"].append(f)
        beds = {k: sum(f.beds or 0 for f in v) for k, v in groups.items()}

        def spread(rows: list[Facility], share: float) -> None:
            target = share * sum(f.beds or 0 for f in rows)
            raw = np.clip(self.rng.normal(share, 0.08, len(rows)), 0.3, 1.0)
            for _ in range(20):
                raw = np.clip(
                    raw * target / max(1.0, float((raw * [f.beds for f in rows]).sum())), 0, 1
                )
            for f, s in zip(rows, raw, strict=True):
                f.nursing = round((f.beds or 0) * s)

        spread(groups["both"], NURSING_SHARE_D0)
        spread(groups["d0"], NURSING_SHARE_D0)
        s_new = NURSING_SHARE_D1 + (NURSING_SHARE_D1 - NURSING_SHARE_D0) * beds["both"] / beds["d1"]
        spread(groups["d1"], min(s_new, 0.98))
        spread(groups["none"], 0.7)

    def quirks(self, sets: dict[str, tuple[set[int], set[int]]]) -> None:
        """Deliberate data issues that do not change the calibrated counts."""
        units = self.units
        # (a) blank coordinates, counted by name, in units already covered for the type.
        for code, n in (
            ("mental_rehab_station", 2),
            ("child_care_home", 2),
            ("elderly_care_center", 1),
        ):
            s1, s0 = sets[code]
            pool = sorted(s1 & s0) if s0 else sorted(s1)
            for u in self.rng.choice(pool, n, replace=False):
                fac = self.new(code, int(u), qualifying_d0=True)
                fac.quirks.append("blank_coords")
        inst = self.new(
            "elderly_institution", self.seat_unit("常熟市"), qualifying_d0=True, beds=200
        )
        inst.nursing = 150
        inst.quirks.append("blank_coords")
        # (b) point in a neighbouring unit of the same county (named unit ≠ point's unit).
        geoms = self.sampler.wgs
        pairs: list[tuple[int, int]] = []
        for u in np.flatnonzero(self.counted):
            for v in np.flatnonzero(self.counted):
                same_county = units["county"].iloc[u] == units["county"].iloc[v]
                if u < v and same_county and geoms[u].intersection(geoms[v]).length > 0.02:
                    pairs.append((int(u), int(v)))
        # The pairs depend on the geometry; shuffle them with their own generator and keep
        # the main stream where it was when the cells were schematic (a shuffle of 121
        # pairs), so the facility rows drawn after this (beds …) stay the same.
        np.random.default_rng(SEED + 4).shuffle(pairs)
        self.rng.shuffle(list(range(LEGACY_PAIRS)))
        plan = ["elderly_institution", "elderly_institution", "elderly_institution"]
        plan += ["mental_rehab_station", "social_work_station"]
        used: set[int] = set()
        for code in plan:
            for named, at in pairs:
                if named in used or at in used:
                    continue
                if code != "elderly_institution":
                    s1, _ = sets[code]
                    if named not in s1 or at not in s1:
                        continue
                used |= {named, at}
                if code == "elderly_institution":
                    fac = self.new(
                        code, at, qualifying_d0=True, beds=int(self.rng.integers(8, 30)) * 10
                    )
                    fac.nursing = round(fac.beds * 0.75)
                else:
                    fac = self.new(code, at, qualifying_d0=False)
                fac.named_unit = named
                fac.quirks.append("point_in_neighbour")
                break
        # (c) type values not in the catalogue.
        for code, n in (("_canteen", 2), ("_daycare", 2)):
            for u in self.rng.choice(np.flatnonzero(self.counted), n, replace=False):
                fac = self.add(Facility(code, int(u), int(u), opened=self.ordinary_date(False)))
                fac.type_value = "老年食堂" if code == "_canteen" else "日间照料中心"
                fac.quirks.append("unmatched_type")
        # (d) facilities in 功能区 units (township types only; zones are not counted).
        zones = np.flatnonzero(~self.counted)
        for z, code in zip(
            list(zones) + list(zones[:1]),
            ["elderly_care_center", "social_org_incubator", "elderly_care_center",
             "social_org_incubator", "elderly_care_center", "rehab_aid_rental"],
            strict=True,
        ):  # fmt: skip
            fac = self.new(code, int(z), qualifying_d0=self.rng.random() < 0.5)
            fac.quirks.append("functional_zone")

    def finish(self) -> None:
        """Names, type values, written unit names, addresses, points, beds blanks."""
        units = self.units
        aliases_used = 0
        for f in self.rows:
            if f.type_code.startswith("_"):
                f.name = self.facility_name(f.type_code, f.named_unit)
                continue
            t = self.types[f.type_code]
            f.name = self.facility_name(f.type_code, f.named_unit)
            if self.rng.random() < 0.15 and t.get("aliases"):
                f.type_value = self._choice(t["aliases"])
                aliases_used += 1
            else:
                f.type_value = t["name_zh"]
        for f in self.rows:
            u = units.iloc[f.named_unit]
            written = u["name"]
            r = self.rng.random()
            if u["kind"] != "功能区" and "blank_coords" not in f.quirks and r < 0.10:
                written = name_stem(u["name"])
                f.quirks.append("short_unit_name")
            f.unit_written = written
            road = self._choice(ROADS) + self._choice(["路", "街", "大道", "路", "路"])
            f.address = f"{u['county']}{u['name']}{road}{int(self.rng.integers(1, 399))}号"
            if "blank_coords" not in f.quirks:
                f.lon, f.lat = self.sampler.point(f.unit)
        # A few rows write 狮山街道办事处.
        shishan = int(units.index[units["name"] == "狮山街道"][0])
        cand = [f for f in self.rows if f.named_unit == shishan and not f.quirks]
        for f in cand[:3]:
            f.unit_written = "狮山街道办事处"
            f.quirks.append("office_suffix")


# ---------------------------------------------------------------------------------------------
# Writing the list
# ---------------------------------------------------------------------------------------------


def sort_rows(
    rows: list[Facility], units: pd.DataFrame, type_order: list[str], rng: np.random.Generator
) -> list[Facility]:
    """Order like a planner's list: by county, named unit, type; random within."""
    county_rank = {c: i for i, c in enumerate(dict.fromkeys(units["county"]))}
    trank = {c: i for i, c in enumerate(type_order)}
    keys = rng.random(len(rows))
    order = sorted(
        range(len(rows)),
        key=lambda i: (
            county_rank[units["county"].iloc[rows[i].named_unit]],
            rows[i].named_unit,
            trank.get(rows[i].type_code, len(trank)),
            keys[i],
        ),
    )
    return [rows[i] for i in order]


def record(i: int, f: Facility, units: pd.DataFrame) -> list[object]:
    """One output row (Python values; dates as ``datetime.date``)."""
    return [
        i + 1,
        f.name,
        f.type_value,
        units["county"].iloc[f.named_unit],
        f.unit_written,
        f.address,
        f.lon,
        f.lat,
        f.status,
        f.opened,
        f.closed,
        f.meets,
        f.beds,
        f.nursing,
    ]


def write_csv(rows: list[Facility], units: pd.DataFrame, path: Path) -> None:
    """UTF-8 (with BOM) CSV, header on line 1, dates as YYYY-MM-DD text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for i, f in enumerate(rows):
        rec = record(i, f, units)
        out = []
        for v in rec:
            if v is None:
                out.append("")
            elif isinstance(v, dt.date):
                out.append(v.isoformat())
            elif isinstance(v, float):
                out.append(f"{v:.6f}")
            else:
                out.append(str(v))
        w.writerow(out)
    path.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))


def write_xlsx(rows: list[Facility], units: pd.DataFrame, path: Path) -> None:
    """XLSX with a merged title row, header on row 2, data from row 3 and a trailing note."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ncol = len(COLUMNS)
    ws.cell(1, 1, TITLE).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    for j, h in enumerate(COLUMNS, start=1):
        ws.cell(2, j, h).font = Font(bold=True)
    for i, f in enumerate(rows):
        for j, v in enumerate(record(i, f, units), start=1):
            if v is None or v == "":
                continue
            c = ws.cell(i + 3, j, v)
            if isinstance(v, dt.date):
                c.number_format = "yyyy-mm-dd"
            elif isinstance(v, float):
                c.number_format = "0.000000"
    note_row = len(rows) + 4
    ws.cell(note_row, 1, NOTE)
    ws.merge_cells(start_row=note_row, start_column=1, end_row=note_row, end_column=ncol)
    widths = [6, 34, 24, 12, 16, 36, 12, 11, 8, 12, 12, 9, 8, 12]
    for j, wdt in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(2, j).column_letter].width = wdt
    ws.freeze_panes = "A3"
    fixed = dt.datetime(2026, 11, 29, 0, 0, 0)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "coverage-gis scripts/make_demo_data.py"
    wb.properties.lastModifiedBy = "coverage-gis"
    raw = io.BytesIO()
    wb.save(raw)
    # Rewrite the zip with fixed member timestamps so the file is byte-for-byte reproducible.
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 29, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2026-11-29T00:00:00Z\g<2>",
                    data,
                )
            zout.writestr(zi, data)
    path.write_bytes(out.getvalue())


# ---------------------------------------------------------------------------------------------
# Verification (independent of the generator's bookkeeping: reads the written files back)
# ---------------------------------------------------------------------------------------------


def verify(units_path: Path, csv_path: Path, xlsx_path: Path, types: list[dict]) -> bool:
    """Recount the calibrated indicators from the written files; print a table."""
    ok = True
    bnd = gpd.read_file(units_path)
    bnd = bnd.astype({"code": str, "name": str, "county": str, "kind": str})
    fac = pd.read_csv(csv_path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    xl = pd.read_excel(xlsx_path, sheet_name=SHEET_NAME, header=1, dtype=object, engine="openpyxl")
    xl = xl[xl["序号"].notna() & ~xl["序号"].astype(str).str.startswith("注")]
    if len(xl) != len(fac) or list(xl.columns) != COLUMNS or list(fac.columns) != COLUMNS:
        print("XLSX and CSV disagree in shape or columns")
        ok = False

    # geometry checks
    geoms = bnd.geometry.to_numpy()
    if not all(shapely.is_valid(geoms)):
        print("invalid polygons")
        ok = False
    if not shapely.coverage_is_valid(geoms):
        print("boundaries are not a valid coverage (overlaps or mismatched edges)")
        ok = False
    # Holes in the union must be water (阳澄湖 in the mainland); none may be a gap.
    water = gpd.read_file(WATER_OUT)
    lakes = water.loc[water["kind"] == "lake", "geometry"].to_numpy()
    union = shapely.union_all([*geoms, *lakes])
    holes = sum(len(p.interiors) for p in getattr(union, "geoms", [union]))
    parts = len(getattr(union, "geoms", [union]))
    if holes or parts != 1:  # land and lakes form one piece (金庭 island sits in 太湖)
        print(f"union of units: {parts} parts, {holes} holes")
        ok = False
    if holes:
        print(f"gaps between units: {holes} holes in the union")
        ok = False

    lookup: dict[str, str] = {}
    for t in types:
        for v in [t["name_zh"], *t.get("aliases", [])]:
            key = norm_type(v)
            if lookup.get(key, t["code"]) != t["code"]:
                raise SystemExit(f"alias collision: {v}")
            lookup[key] = t["code"]
    fac["type_code"] = fac["设施类型"].map(lambda v: lookup.get(norm_type(v), ""))
    unmatched = int((fac["type_code"] == "").sum())

    by_name: dict[str, int] = {}
    for i, n in enumerate(bnd["name"]):
        by_name[n] = i
        by_name.setdefault(name_stem(n), i)
    has_xy = (fac["经度"] != "") & (fac["纬度"] != "")
    pts = gpd.GeoDataFrame(
        fac[has_xy],
        geometry=gpd.points_from_xy(
            fac.loc[has_xy, "经度"].astype(float), fac.loc[has_xy, "纬度"].astype(float)
        ),
        crs="EPSG:4326",
    )
    joined = gpd.sjoin(pts, bnd[["geometry"]], how="left", predicate="within")
    fac["unit"] = -1
    fac.loc[joined.index, "unit"] = joined["index_right"].fillna(-1).astype(int)
    named = fac["所属镇(街道)"].map(lambda n: by_name.get(n, by_name.get(name_stem(n), -1)))
    fac.loc[~has_xy, "unit"] = named[~has_xy]
    if (fac["unit"] < 0).any():
        print("rows not assigned to any unit:", fac.index[fac["unit"] < 0].tolist())
        ok = False
    conflicts = int(((fac["unit"] != named) & has_xy).sum())

    def qualifies(day: dt.date) -> pd.Series:
        day_s = day.isoformat()
        return (
            (fac["状态"] != "在建")
            & ((fac["建成时间"] == "") | (fac["建成时间"] <= day_s))
            & ((fac["停用时间"] == "") | (fac["停用时间"] > day_s))
        )

    counted = (bnd["kind"] != "功能区").to_numpy()
    county_of = bnd["county"].to_numpy()
    print(f"{'indicator':<20}{'type':<30}{'date':<12}{'value':>10}{'expected':>10}  ok")
    for ind, code, day, n_exp, den in EXPECTED_COUNTS:
        m = qualifies(day) & (fac["type_code"] == code)
        if code in CONDITIONED:
            m &= fac["是否达标"] == "是"
        us = fac.loc[m, "unit"].to_numpy()
        value = len({county_of[u] for u in us}) if den == 10 else len({u for u in us if counted[u]})
        good = value == n_exp
        ok &= good
        print(
            f"{ind:<20}{code:<30}{day.isoformat():<12}{value:>6}/{den:<3}{n_exp:>7}/{den:<3} {'✓' if good else '✗'}"
        )

    inst = fac["type_code"] == "elderly_institution"
    beds = pd.to_numeric(fac["床位数"], errors="coerce").fillna(0)
    nurse = pd.to_numeric(fac["护理型床位数"], errors="coerce").fillna(0)
    pop60 = int(bnd["pop_60plus"].sum())
    pop60_counted = int(bnd.loc[counted, "pop_60plus"].sum())
    for day, lo, hi in ((D0, 74.5, 75.5), (D1, 76.5, 77.5)):
        m = inst & qualifies(day)
        share = 100 * nurse[m].sum() / beds[m].sum()
        good = lo <= share <= hi
        ok &= good
        print(
            f"{'T2-6':<20}{'nursing share %':<30}{day.isoformat():<12}{share:>10.2f}{f'{lo}–{hi}':>10}  {'✓' if good else '✗'}"
        )
    m = inst & qualifies(D1)
    total_beds = int(beds[m].sum())
    per1000 = 1000 * total_beds / pop60
    per1000_c = 1000 * total_beds / pop60_counted
    good = 75_000 <= total_beds <= 90_000 and 35 <= per1000 <= 40 and 35 <= per1000_c <= 40
    ok &= good
    print(
        f"{'T1-beds-per-1000':<20}{'beds / 1000 aged 60+':<30}{D1.isoformat():<12}{per1000:>10.2f}{'35–40':>10}  {'✓' if good else '✗'}"
    )
    print(
        f"    beds in service {total_beds:,}; aged 60+ {pop60:,} (counted units {pop60_counted:,}: {per1000_c:.2f})"
    )
    print(f"    population {int(bnd['population'].sum()):,}; units {len(bnd)}; facilities {len(fac)}; "
          f"elderly institutions {int(inst.sum())}; unmatched types {unmatched}; point/name conflicts {conflicts}")  # fmt: skip
    return ok


def write_layers(units: pd.DataFrame, geo: Geography) -> dict[str, object]:
    """Write the schematic water, road and community layers derived from the cells."""
    m = Metric()
    land = shapely.union_all(geo.cells)
    rivers = build_rivers(land, np.random.default_rng(SEED + 11), m)
    write_water(geo.water, rivers, WATER_OUT)
    roads, stats = build_roads(
        units, geo.cells, geo.water, rivers, np.random.default_rng(SEED + 12), m
    )
    write_roads(roads, ROADS_OUT)
    com = build_communities(units, geo.cells, rivers, np.random.default_rng(SEED + 13), m)
    quirks = write_communities(com, np.random.default_rng(SEED + 14), COMMUNITIES_OUT)
    return {**stats, "communities": len(com), **quirks}


def main() -> int:
    """Generate, write and verify the demo data."""
    rng = np.random.default_rng(SEED)
    types = tomllib.loads(FACILITY_TYPES.read_text(encoding="utf-8"))["facility_type"]
    units = load_units()
    geo = build_geography(units, np.random.default_rng(SEED + 1))
    geoms = geo.cells
    units = unit_populations(units, np.random.default_rng(SEED + 2))
    write_geojson(units, geoms, BOUNDARIES_OUT)
    layer_stats = write_layers(units, geo)

    sampler = Sampler(geoms, np.random.default_rng(SEED + 3))
    b = Builder(units, types, sampler, rng)
    sets = b.township_types()
    b.county_types()
    b.institutions(int(units["pop_60plus"].sum()))
    b.quirks(sets)
    b.finish()
    rows = sort_rows(b.rows, units, b.type_order, np.random.default_rng(SEED + 5))
    write_csv(rows, units, CSV_OUT)
    write_xlsx(rows, units, XLSX_OUT)

    print("Deliberate quirks (xlsx row / csv line):")
    for q in ("blank_coords", "point_in_neighbour", "unmatched_type", "functional_zone", "office_suffix", "short_unit_name"):  # fmt: skip
        hits = [(i + 3, i + 2) for i, f in enumerate(rows) if q in f.quirks]
        shown = ", ".join(f"{x}/{c}" for x, c in hits) if len(hits) <= 12 else f"{len(hits)} rows"
        print(f"  {q:<20} {len(hits):>4}: {shown}")
    n_alias = sum(
        1
        for f in rows
        if not f.type_code.startswith("_") and f.type_value != b.types[f.type_code]["name_zh"]
    )
    print(f"  {'type_alias':<20} {n_alias:>4} rows ({100 * n_alias / len(rows):.1f}%)")
    print("Schematic layers:", ", ".join(f"{k} {v}" for k, v in layer_stats.items()))
    for p in (BOUNDARIES_OUT, XLSX_OUT, CSV_OUT, WATER_OUT, ROADS_OUT, COMMUNITIES_OUT):
        print(f"wrote {p.relative_to(ROOT)} ({p.stat().st_size / 1024:.0f} KB)")
    ok = verify(BOUNDARIES_OUT, CSV_OUT, XLSX_OUT, types)
    ok &= verify_layers(BOUNDARIES_OUT, WATER_OUT, ROADS_OUT, COMMUNITIES_OUT)
    print("calibration OK" if ok else "CALIBRATION FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
