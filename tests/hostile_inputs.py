"""Hostile inputs, generated at test time: township, county, facility and catalogue strings
that try spreadsheet-formula injection (OWASP CSV injection) and HTML/JavaScript injection.

Every script payload sets ``window.__pwned``; a test that finds it defined has seen a script
run. :func:`write_hostile_inputs` writes boundaries, a facility list and a custom catalogue
(``-c``) into a folder; the strings are module constants so that tests can look for them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import make_units

# -- spreadsheet formulas -------------------------------------------------------------------
HYPERLINK = '=HYPERLINK("http://x","click")'
CMD = "=cmd|' /C calc'!A0"
PLUS = "+1+1"
AT = "@SUM(A1)"
MINUS = "-2+3"
UNKNOWN_TYPE = "=1+1"
#: Strings that must never be a formula in any workbook and are prefixed with ' in any CSV.
FORMULAS = (HYPERLINK, CMD, PLUS, AT, MINUS, UNKNOWN_TYPE)

# -- HTML / JavaScript ----------------------------------------------------------------------
SCRIPT = "<script>window.__pwned=1</script>"
IMG = "<img src=x onerror=window.__pwned=2>"
CLOSE = "</script><script>window.__pwned=3</script><!--"
JS_URL = "javascript:window.__pwned=4"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
LINE_SEP = "\u2028\u2029"  # JavaScript line terminators, legal in JSON

# townships and counties (codes of tests.conftest.make_units)
UNIT_NAMES = {
    "320501001": HYPERLINK,
    "320501002": IMG + "街道",
    "320501400": RLO + "区发开湖丙",  # the 功能区; reads 丙湖开发区 reversed
    "320502101": CLOSE + "镇",
    "320502102": AT + LINE_SEP + "镇",
}
COUNTY_NAMES = {"甲区": "+1+1区" + SCRIPT, "乙市": JS_URL + RLO + "市乙"}

# facilities (name, type as written, address, lon, lat)
FACILITIES = [
    (CMD, "骨灰堂", JS_URL, 120.05, 31.05),
    (SCRIPT + "驿站", "康复驿站", IMG, 120.05, 31.02),
    (IMG, "康复驿站", CLOSE, 120.15, 31.02),
    (CLOSE, "骨灰堂", SCRIPT, 120.15, 31.15),
    (RLO + "站驿", "康复驿站", LINE_SEP, 120.05, 31.15),
    ("-3.5", "骨灰堂", "-3.5", 120.12, 31.12),  # a plain number as a name stays as written
    (MINUS, UNKNOWN_TYPE, AT, 120.06, 31.06),  # unknown type: excluded, reported with its value
]

# catalogue (custom -c TOML)
CATALOG_NAME = "<script>window.__pwned=5</script>" + HYPERLINK
TYPE_HALL = HYPERLINK + "骨灰堂"
TYPE_HALL_EN = AT
TYPE_STATION = IMG + "驿站"
TYPE_STATION_EN = CLOSE
IND_HALL = CMD
IND_HALL_EN = PLUS
IND_STATION_ID = "../../A-2<img src=x onerror=window.__pwned=6>"
IND_STATION = SCRIPT + "覆盖率"
IND_STATION_EN = CLOSE
IND_MANUAL_ID = "@M-1"
IND_MANUAL = MINUS
IND_NOTE = IMG + "注"
IND_SOURCE = JS_URL

#: Every HTML/JS payload, for "shown as text" checks.
HTML_PAYLOADS = (SCRIPT, IMG, CLOSE)


def _toml(s: str) -> str:
    """A TOML basic string."""
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\u202e", "\\u202E")
    return f'"{out}"'


def catalog_text() -> tuple[str, str]:
    """(catalogue TOML, facility-types TOML) with hostile names, ids, notes and sources."""
    types = f"""schema_version = 1

[[facility_type]]
code = "hall"
name_zh = {_toml(TYPE_HALL)}
name_en = {_toml(TYPE_HALL_EN)}
aliases = ["骨灰堂"]
level = "township"
color = "#123456"

[[facility_type]]
code = "station"
name_zh = {_toml(TYPE_STATION)}
name_en = {_toml(TYPE_STATION_EN)}
aliases = ["康复驿站"]
level = "township"
color = "#654321"
"""
    cat = f"""[catalog]
id = "hostile"
name_zh = {_toml(CATALOG_NAME)}
name_en = {_toml(CLOSE)}
version = {_toml(MINUS)}
facility_types = "types.toml"

[[indicator]]
id = "A-1"
name_zh = {_toml(IND_HALL)}
name_en = {_toml(IND_HALL_EN)}
unit = "%"
target = 100
operator = ">="
attribute = "binding"
source_ref = {_toml(IND_SOURCE)}
note = {_toml(IND_NOTE)}
kind = "presence"
level = "township"
facility_types = ["hall"]

[[indicator]]
id = {_toml(IND_STATION_ID)}
name_zh = {_toml(IND_STATION)}
name_en = {_toml(IND_STATION_EN)}
unit = "%"
target = 100
operator = ">="
attribute = "binding"
source_ref = {_toml(IMG)}
kind = "presence"
level = "township"
facility_types = ["station"]

[[indicator]]
id = {_toml(IND_MANUAL_ID)}
name_zh = {_toml(IND_MANUAL)}
name_en = {_toml(SCRIPT)}
unit = "%"
target = 50
operator = ">="
attribute = "binding"
source_ref = {_toml(AT)}
kind = "manual"
"""
    return cat, types


@dataclass(frozen=True)
class HostileInputs:
    """Paths of the generated hostile inputs."""

    boundaries: Path
    facilities: Path
    catalog: Path


def write_hostile_inputs(folder: Path) -> HostileInputs:
    """Write ``units.geojson``, ``=1+1.csv`` (the facility list) and ``catalog.toml``."""
    folder.mkdir(parents=True, exist_ok=True)
    units = make_units()
    units["name"] = units["code"].map(UNIT_NAMES)
    units["county"] = units["county"].map(COUNTY_NAMES)
    boundaries = folder / "units.geojson"
    units.to_file(boundaries, driver="GeoJSON")
    facilities = folder / "=1+1.csv"  # a file name that is itself a formula
    with facilities.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL)
        w.writerow(["名称", "类型", "地址", "经度", "纬度", "状态", "建成时间"])
        for name, kind, addr, lon, lat in FACILITIES:
            w.writerow([name, kind, addr, lon, lat, "运营", "2020-01-01"])
    cat, types = catalog_text()
    (folder / "types.toml").write_text(types, encoding="utf-8")
    catalog = folder / "catalog.toml"
    catalog.write_text(cat, encoding="utf-8")
    return HostileInputs(boundaries, facilities, catalog)
