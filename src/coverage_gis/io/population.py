"""Reading community / village population tables (社区、村人口表) into demand points.

The tables planners have: one row per 社区 or 村 with its 所属镇(街道), 常住人口, 60岁及以上
人口, 户数 and, often, 经度/纬度 — an Excel workbook with a title row and a two-row merged
header, a CSV saved by Excel on a Chinese PC (GBK), or a vector file of community points or
polygons. They go through the facility readers' core: cells from
:func:`~coverage_gis.io.facilities.tables_from_file` (encoding detection, merged header cells
filled), the header from the same block search (title rows, one to three header rows, a
units row under it), coordinates, names, blank and note rows from
:func:`~coverage_gis.io.normalise.normalise_facilities` (decimal degrees, 度分秒, swapped
pairs, GCJ-02/BD-09), vector files from :func:`~coverage_gis.io.vector.read_vector_arrow`.

Population values
-----------------
``3456``, ``"1,200"``, ``"3,456人"``, ``"1 200 户"`` and ``"1.2万"`` (× 10 000) are read; a
header ``常住人口(万人)`` scales its column by 10 000 (info finding). An approximate value —
``"约2000"``, ``"近2000"``, ``"2000余"``, ``"2000左右"`` — is read as the number with a warning
(``population_approximate``): planners write 约 when the count is an estimate, and leaving
the community out would lose more than the estimate's error. A blank cell (also ``-``, ``—``,
``/``, ``无``, ``不详``) is never a silent zero: in the main field (``population``, or the first
weight field present) it is an error and the row is excluded; in another field it is a
warning and that value is NaN. A value that is not a number, or is negative, is an error and
excludes the row. Every such finding names the file, sheet, row, column (header as shown)
and value.

Rows
----
* 合计 / 小计 / 总计 / 共计 rows (also ``全市合计``, ``XX镇小计``) are skipped and counted
  (``total_row``), as are blank rows and note rows (``注：…``).
* A row without coordinates that names its 所属镇(街道) is **kept** with NaN lon/lat (the
  integrator spreads or places it by its unit), with an info finding; a row with neither is
  excluded (``no_location``). A row whose coordinates are present but unusable (unreadable,
  outside China) is excluded (``bad_coordinate``) with the normaliser's error.
* The same community name twice in one 镇(街道) is a warning (both rows are kept).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage_gis.access.demand import (
    WEIGHT_FIELDS,
    Demand,
    accounting_frame,
    accounting_row,
    row_findings,
)
from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding, Findings
from coverage_gis.io.columns import SYNONYMS, column_letter, header_key
from coverage_gis.io.normalise import (
    RawColumns,
    cell_text,
    normalise_facilities,
    parse_number_values,
)

__all__ = [
    "POPULATION_FIELDS",
    "POPULATION_SYNONYMS",
    "parse_population_values",
    "read_population_table",
]

_VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml"}
_TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods"}

#: Field → tiers of header synonyms (compared after :func:`header_key`); when several
#: columns match a field, the column of the first tier wins (户籍人口 only without 常住人口).
POPULATION_SYNONYMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "name": (
        (
            "社区/村名称",
            "社区村名称",
            "村社区名称",
            "村(社区)",
            "村(社区)名称",
            "社区(村)",
            "社区(村)名称",
            "村(居)",
            "村居",
            "村居名称",
            "社区名称",
            "村名称",
            "村名",
            "社区名",
            "社区",
            "村",
            "村委会",
            "居委会",
            "村居委会",
            "社区居委会",
            "村(居)委会",
            "community",
            "village",
        ),
        SYNONYMS["name"],
    ),
    "unit_name": (
        (*SYNONYMS["unit_name"], "所属镇(街道)", "镇(街道)", "镇(街道)名称", "街镇名称"),
    ),
    "county_name": ((*SYNONYMS["county_name"], "区(县、市)", "所属区(县、市)", "县(市、区)"),),
    "unit_code": (
        (
            "镇街代码",
            "镇(街道)代码",
            "所属镇(街道)代码",
            "乡镇代码",
            "街道代码",
            "乡镇街道代码",
            "乡级代码",
            "乡级区划代码",
            "镇街区划代码",
            "townshipcode",
            "unitcode",
            "unit_code",
        ),
    ),
    "lon": (SYNONYMS["lon"],),
    "lat": (SYNONYMS["lat"],),
    "lonlat": (SYNONYMS["lonlat"],),
    "population": (
        (
            "常住人口",
            "常住人口数",
            "常住人口总数",
            "常住总人口",
            "年末常住人口",
            "population",
            "pop",
        ),
        ("总人口", "人口", "人口数", "人口总数", "人口合计"),
        ("户籍人口", "户籍人口数", "户籍总人口", "户籍人口总数"),
    ),
    "pop_60plus": (
        (
            "60岁及以上人口",
            "60岁以上人口",
            "60周岁及以上人口",
            "60周岁以上人口",
            "60周岁以上",
            "60岁及以上",
            "60岁以上",
            "60岁及以上老年人口",
            "60岁以上老年人口",
            "60周岁以上老年人口",
            "60岁以上老人",
            "60岁以上老人数",
            "老年人口",
            "老年人口数",
            "老年人",
            "pop_60plus",
            "pop60plus",
        ),
    ),
    "pop_65plus": (
        (
            "65岁及以上人口",
            "65岁以上人口",
            "65周岁及以上人口",
            "65周岁以上人口",
            "65周岁以上",
            "65岁及以上",
            "65岁以上",
            "pop_65plus",
            "pop65plus",
        ),
    ),
    "households": (("户数", "总户数", "常住户数", "户籍户数", "家庭户数", "households"),),
}

#: Bilingual labels of the population-table fields.
POPULATION_FIELDS: dict[str, tuple[str, str]] = {
    "name": ("社区/村名称", "community"),
    "unit_name": ("所属镇(街道)", "township"),
    "county_name": ("所属区县", "county"),
    "unit_code": ("镇(街道)代码", "township code"),
    "lon": ("经度", "longitude"),
    "lat": ("纬度", "latitude"),
    "lonlat": ("经纬度坐标", "coordinates"),
    "population": ("常住人口", "population"),
    "pop_60plus": ("60岁及以上人口", "population aged 60+"),
    "pop_65plus": ("65岁及以上人口", "population aged 65+"),
    "households": ("户数", "households"),
}

_INDEX: dict[str, tuple[str, int]] = {}
for _fld, _tiers in POPULATION_SYNONYMS.items():
    for _tier, _names in enumerate(_tiers):
        for _n in _names:
            _INDEX.setdefault(header_key(_n), (_fld, _tier))

_YEAR_PREFIX = re.compile(r"^(?:\d{4}年(?:末|底|度)?)")
_HEADER_UNIT = re.compile(r"(万人|万户|万|人|户|口)$")
#: Fields passed to the facility normaliser (text and coordinates).
_LOCATION_FIELDS = ("name", "unit_name", "county_name", "lon", "lat", "lonlat")


@dataclass(frozen=True)
class _Recognised:
    field: str
    tier: int
    scale: float  # 10 000 for a header in 万人


def _recognise_header(value: object) -> _Recognised | None:
    """The population-table field a header cell names (with its tier and unit scale)."""
    key = header_key(value)
    if not key:
        return None
    key = _YEAR_PREFIX.sub("", key) or key
    if key in _INDEX:
        return _Recognised(*_INDEX[key], 1.0)
    m = _HEADER_UNIT.search(key)
    if m:
        stem = key[: m.start()]
        scale = 10_000.0 if m.group(1).startswith("万") else 1.0
        for k in (stem, stem.removesuffix("数")):
            if k and k in _INDEX:
                return _Recognised(*_INDEX[k], scale)
    if key.endswith("数") and key[:-1] in _INDEX:
        return _Recognised(*_INDEX[key[:-1]], 1.0)
    return None


def _score(cells: Sequence[object]) -> int:
    """Distinct population-table fields a row of cells names (header search)."""
    return len({r.field for c in cells if (r := _recognise_header(c)) is not None})


def _reference(header: str, keys: list[str]) -> int | None:
    """Position of ``"#5"`` (fifth column) or ``"人口#2"`` (second column headed 人口)."""
    m = re.match(r"^(?P<header>.*?)#(?P<n>\d+)$", str(header).strip())
    if not m:
        return None
    n = int(m.group("n"))
    if not m.group("header"):
        return n - 1 if 1 <= n <= len(keys) else None
    k = header_key(m.group("header"))
    same = [i for i, key in enumerate(keys) if key == k]
    return same[n - 1] if 1 <= n <= len(same) else None


@dataclass
class _Columns:
    fields: dict[str, int]
    scale: dict[str, float] = field(default_factory=dict)
    tier: dict[str, int] = field(default_factory=dict)


def _recognise_columns(
    headers: Sequence[object],
    mapping: Mapping[str, str] | None,
    *,
    file: str,
    sheet: str | None,
    row: int | None,
) -> _Columns:
    """``{field: position}`` of a population table's header; an explicit mapping wins.

    Raises
    ------
    InputError
        For an unknown field or a missing header in the mapping, and when two columns of
        the same tier could be one field (the message names them and the fix).
    """
    keys = [header_key(h) for h in headers]
    shown = ", ".join(str(h) for h in headers if h is not None and str(h).strip())
    out = _Columns({})
    for fld, header in (mapping or {}).items():
        if fld not in POPULATION_FIELDS:
            raise InputError(
                f"列映射中的字段 {fld} 未知（可用：{', '.join(POPULATION_FIELDS)}）",
                f"Unknown field '{fld}' in column mapping (known: {', '.join(POPULATION_FIELDS)})",
                file=file,
                sheet=sheet,
                column=fld,
                value=header,
            )
        pos = _reference(header, keys)
        if pos is None:
            k = header_key(header)
            if k not in keys:
                raise InputError(
                    f"列映射指定的列“{header}”不存在；现有列：{shown}",
                    f"Mapped column '{header}' not found; columns found: {shown}",
                    file=file,
                    sheet=sheet,
                    row=row,
                    column=str(header),
                )
            pos = keys.index(k)
        out.fields[fld] = pos
        rec = _recognise_header(headers[pos])
        out.scale[fld] = rec.scale if rec is not None else 1.0
        out.tier[fld] = 0
    taken = set(out.fields.values())
    candidates: dict[str, list[tuple[int, int, float]]] = {}
    for pos, h in enumerate(headers):
        rec = _recognise_header(h)
        if rec is None or rec.field in out.fields or pos in taken:
            continue
        candidates.setdefault(rec.field, []).append((rec.tier, pos, rec.scale))
    for fld, found in candidates.items():
        best = min(t for t, _, _ in found)
        top = [(p, s) for t, p, s in found if t == best]
        if len(top) > 1:
            cols = ", ".join(f"{column_letter(p)} “{headers[p]}”" for p, _ in top)
            first = headers[top[0][0]]
            same = sum(1 for p, _ in top if header_key(headers[p]) == header_key(first))
            ref = f"{first}#2" if same > 1 else str(headers[top[1][0]])
            raise InputError(
                f"多列可能是{POPULATION_FIELDS[fld][0]}，无法确定用哪一列：{cols}",
                f"Several columns could be the {POPULATION_FIELDS[fld][1]}; "
                f"cannot tell which to use: {cols}",
                file=file,
                sheet=sheet,
                row=row,
                suggestion=f"用 --column {fld}=列名 指定，例如 --column {fld}={ref} / "
                f"choose with --column {fld}=HEADER",
            )
        out.fields[fld] = top[0][0]
        out.scale[fld] = top[0][1]
        out.tier[fld] = best
    return out


# --------------------------------------------------------------------------- values

_APPROX_PREFIX = re.compile(r"^(?:约为|大约|约|近|逾|超过|超|~|～|≈)\s*")
_APPROX_SUFFIX = re.compile(r"\s*(?:余|多|左右|以上)$")
_VALUE_UNIT = re.compile(r"\s*(?:人口|户数|人|户|口)$")
_WAN = re.compile(r"^(?P<num>.*?)\s*万$")
_MISSING_WORDS = frozenset({"-", "--", "—", "——", "–", "/", "无", "不详", "暂无", "n/a", "na"})

#: Status of a parsed population cell.
OK, BLANK, BAD, NEGATIVE, APPROXIMATE = 0, 1, 2, 3, 4


def parse_population_values(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Parse population / household cells (see the module docstring).

    Each distinct value is parsed once.

    Returns
    -------
    numbers : numpy.ndarray
        float64, NaN where blank or unreadable (negative values are returned as read).
    status : numpy.ndarray
        int8 per cell: 0 read, 1 blank (incl. ``-``/``无``/``不详``), 2 not a number,
        3 negative, 4 approximate (``约2000``: read, with a warning).
    """
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    u_num = np.full(len(uniques) + 1, np.nan)
    u_status = np.full(len(uniques) + 1, BLANK, dtype=np.int8)  # last slot: missing cells
    texts: list[Any] = []
    approx = np.zeros(len(uniques), dtype=bool)
    scale = np.ones(len(uniques))
    blank = np.zeros(len(uniques), dtype=bool)
    for i, v in enumerate(uniques):
        if isinstance(v, str):
            t = cell_text(v)
            if t is None or t.lower() in _MISSING_WORDS:
                blank[i] = True
                texts.append(None)
                continue
            t1 = _APPROX_PREFIX.sub("", t)  # 约2000
            t2 = _VALUE_UNIT.sub("", t1)  # 2000人
            t3 = _APPROX_SUFFIX.sub("", t2)  # 2000余, 2000人左右
            approx[i] = t1 != t or t3 != t2
            t3 = _VALUE_UNIT.sub("", t3)
            m = _WAN.match(t3)
            if m and m.group("num"):
                t3, scale[i] = m.group("num"), 10_000.0
            texts.append(t3)
        else:
            texts.append(v)
    num, bad = parse_number_values(texts)
    num = num * scale
    is_blank = blank | (~bad & np.isnan(num))
    st = np.where(
        is_blank,
        BLANK,
        np.where(bad, BAD, np.where(num < 0, NEGATIVE, np.where(approx, APPROXIMATE, OK))),
    ).astype(np.int8)
    u_num[:-1] = np.where(bad | is_blank, np.nan, num)
    u_status[:-1] = st
    idx = np.where(codes < 0, len(uniques), codes)
    return u_num[idx], u_status[idx]


# --------------------------------------------------------------------------- tables

_TOTAL_RE = re.compile(r"^.{0,16}?(合计|小计|总计|共计|总数)$")


@dataclass
class _Part:
    """Demand rows of one table (sheet / layer) before the parts are joined."""

    lon: np.ndarray
    lat: np.ndarray
    weights: dict[str, np.ndarray]
    name: np.ndarray | None
    unit_name: np.ndarray | None
    unit_code: np.ndarray | None
    source_row: np.ndarray
    findings: Findings
    accounting: dict[str, Any]


def _object_column(values: Any, n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = list(values)
    return out


def _texts(col: np.ndarray) -> np.ndarray:
    """:func:`cell_text` of a column of cells, each distinct value once."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [cell_text(u) for u in uniques]
    table[-1] = None
    return table[np.where(codes < 0, len(uniques), codes)]


def _total_rows(columns: list[np.ndarray], positions: Sequence[int]) -> np.ndarray:
    """Rows naming a total or subtotal (合计 …) in one of the given columns.

    Distinct text values are screened in Arrow for 计/总数; only those few are matched.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(columns[0]) if columns else 0
    mask = np.zeros(n, dtype=bool)
    for p in dict.fromkeys(positions):
        codes, uniques = pd.factorize(columns[p], use_na_sentinel=True)
        u = np.asarray(uniques, dtype=object)
        is_text = np.fromiter((type(v) is str for v in u), dtype=bool, count=len(u))
        hit = np.zeros(len(u) + 1, dtype=bool)
        text_pos = np.flatnonzero(is_text)
        if len(text_pos):
            arr = pa.array(u[text_pos].tolist(), type=pa.string())
            screened = pc.match_substring_regex(arr, "计|計|总数").to_numpy(zero_copy_only=False)
            for k in text_pos[screened]:
                hit[k] = bool(_TOTAL_RE.match(re.sub(r"\s+", "", cell_text(u[k]) or "")))
        mask |= hit[np.where(codes < 0, len(uniques), codes)]
    return mask


def _unit_code_text(col: np.ndarray) -> np.ndarray:
    """Township codes as text; a 12-digit statistical code ending in 000 gives 9 digits."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    texts = [cell_text(u) for u in uniques]
    table[:-1] = [
        t[:9] if t is not None and len(t) == 12 and t.isdigit() and t.endswith("000") else t
        for t in texts
    ]
    table[-1] = None
    return table[np.where(codes < 0, len(uniques), codes)]


def _require(
    cols: _Columns,
    headers: Sequence[object],
    file: str,
    sheet: str | None,
    row: int | None,
    vector: bool,
) -> None:
    weights = [f for f in WEIGHT_FIELDS if f in cols.fields]
    located = (
        vector
        or any(f in cols.fields for f in ("lonlat", "unit_name", "unit_code"))
        or ("lon" in cols.fields and "lat" in cols.fields)
    )
    need = []
    if not weights:
        need.append(
            "常住人口/60岁及以上人口/户数 等人口列 / a population column (常住人口, 60岁及以上人口, 户数 …)"
        )
    if not located:
        need.append("经度+纬度 或 所属镇(街道) / lon+lat or township")
    if need:
        found = ", ".join(str(h) for h in headers if h is not None and str(h).strip())
        raise InputError(
            f"人口表缺少必需的列：{'; '.join(need)}。找到的列：{found}",
            f"Population table lacks required columns: {'; '.join(need)}. Columns found: {found}",
            file=file,
            sheet=sheet,
            row=row,
            suggestion="用 --column population=列名 等指定 / map them with --column population=HEADER",
        )


def _part_from_columns(
    *,
    file: str,
    sheet: str | None,
    columns: list[np.ndarray],
    headers: list[str | None],
    cols: _Columns,
    source_row: np.ndarray,
    xy: tuple[np.ndarray, np.ndarray] | None,
    crs: str,
    findings: Findings,
) -> _Part:
    """Normalise one table's columns into demand rows, with findings and accounting."""
    n_read = len(source_row)
    fields = cols.fields

    def shown(fld: str) -> str:
        h = headers[fields[fld]]
        return str(h) if h is not None else POPULATION_FIELDS[fld][0]

    # total / subtotal rows first: they must not reach the normaliser or the sums
    text_cols = [
        p for f in ("name", "unit_name", "county_name") if (p := fields.get(f)) is not None
    ]
    total = _total_rows(columns, [0, *text_cols]) if columns else np.zeros(n_read, dtype=bool)
    for f in row_findings(
        total,
        severity="info",
        code="population_total_row",
        zh="合计/小计行，已跳过（不重复计入）",
        en="Total or subtotal row; skipped (not counted twice)",
        file=file,
        sheet=sheet,
        rows=source_row,
        column=None,
        values=None,
    ):
        findings.add(f)
    keep = np.flatnonzero(~total)
    sub_cols = [c[keep] for c in columns]
    sub_rows = source_row[keep]
    loc_fields = {f: p for f, p in fields.items() if f in _LOCATION_FIELDS}
    raw = RawColumns(
        file=file,
        sheet=sheet,
        columns=sub_cols,
        headers=list(headers),
        fields=loc_fields,
        source_row=sub_rows,
        xy=(xy[0][keep], xy[1][keep]) if xy is not None else None,
    )
    frame, f_norm = normalise_facilities(raw, crs=crs)
    n_notes = sum(1 for f in f_norm if f.code == "note_row_skipped")
    n_blank = len(keep) - len(frame) - n_notes
    findings.extend(f_norm)
    pos = np.searchsorted(sub_rows, frame["source_row"].to_numpy(dtype=np.int64))
    rows = sub_rows[pos]
    m = len(pos)

    weight_fields = [f for f in WEIGHT_FIELDS if f in fields]
    primary = weight_fields[0]
    bad_value = np.zeros(m, dtype=bool)
    weights: dict[str, np.ndarray] = {}
    if "population" in fields and cols.tier.get("population", 0) == 2:
        findings.add(
            Finding(
                "info",
                "population_registered_used",
                "未找到常住人口列，人口按户籍人口列计",
                "No resident-population (常住人口) column; the registered population (户籍人口) is used",
                file=file,
                sheet=sheet,
                column=shown("population"),
            )
        )
    for fld in weight_fields:
        col = sub_cols[fields[fld]][pos]
        num, status = parse_population_values(col)
        scale = cols.scale.get(fld, 1.0)
        if scale != 1.0:
            num = num * scale
            findings.add(
                Finding(
                    "info",
                    "population_column_scaled",
                    f"“{shown(fld)}”以万为单位，数值已乘以 10000",
                    f"'{shown(fld)}' is in units of 10,000; values multiplied by 10,000",
                    file=file,
                    sheet=sheet,
                    column=shown(fld),
                )
            )
        cells = _texts(col) if (status != OK).any() else None
        label_zh, label_en = POPULATION_FIELDS[fld]
        blank = status == BLANK
        if fld == primary:
            findings.extend(
                row_findings(
                    blank,
                    severity="error",
                    code="population_blank",
                    zh=f"{label_zh}为空（不按 0 计），该行未计入",
                    en=f"{label_en.capitalize()} is blank (not taken as zero); row not counted",
                    file=file,
                    sheet=sheet,
                    rows=rows,
                    column=shown(fld),
                    values=cells,
                )
            )
            bad_value |= blank
        else:
            findings.extend(
                row_findings(
                    blank,
                    severity="warning",
                    code="population_blank",
                    zh=f"{label_zh}为空（不按 0 计），该行此项缺失",
                    en=f"{label_en.capitalize()} is blank (not taken as zero); missing for this row",
                    file=file,
                    sheet=sheet,
                    rows=rows,
                    column=shown(fld),
                    values=cells,
                )
            )
        for code, st, zh, en in (
            (
                "population_not_number",
                BAD,
                f"{label_zh}不是数字，该行未计入",
                f"{label_en.capitalize()} is not a number; row not counted",
            ),
            (
                "population_negative",
                NEGATIVE,
                f"{label_zh}为负数，该行未计入",
                f"{label_en.capitalize()} is negative; row not counted",
            ),
        ):
            mask = status == st
            findings.extend(
                row_findings(
                    mask,
                    severity="error",
                    code=code,
                    zh=zh,
                    en=en,
                    file=file,
                    sheet=sheet,
                    rows=rows,
                    column=shown(fld),
                    values=cells,
                )
            )
            bad_value |= mask
        findings.extend(
            row_findings(
                status == APPROXIMATE,
                severity="warning",
                code="population_approximate",
                zh=f"{label_zh}为约数，按其中的数字计",
                en=f"{label_en.capitalize()} is approximate; read as the number given",
                file=file,
                sheet=sheet,
                rows=rows,
                column=shown(fld),
                values=cells,
            )
        )
        weights[fld] = np.where(status == NEGATIVE, np.nan, num)

    lon = frame["lon"].to_numpy(dtype=np.float64)
    lat = frame["lat"].to_numpy(dtype=np.float64)
    bad_coord = frame["row_error"].notna().to_numpy() & ~bad_value
    unit_name = frame["unit_name"].to_numpy(dtype=object) if "unit_name" in fields else None
    unit_code = (
        _unit_code_text(sub_cols[fields["unit_code"]][pos]) if "unit_code" in fields else None
    )
    has_unit = np.zeros(m, dtype=bool)
    if unit_name is not None:
        has_unit |= pd.notna(unit_name)
    if unit_code is not None:
        has_unit |= pd.notna(unit_code)
    no_xy = ~(np.isfinite(lon) & np.isfinite(lat))
    ok = ~bad_value & ~bad_coord
    no_location = ok & no_xy & ~has_unit
    has_coord_columns = xy is not None or any(f in fields for f in ("lon", "lat", "lonlat"))
    coord_column = next(
        (shown(f) for f in ("lonlat", "lon") if f in fields),
        "几何/geometry" if xy is not None else None,
    )
    findings.extend(
        row_findings(
            no_location,
            severity="error",
            code="population_no_location",
            zh="既无坐标也无所属镇(街道)，该行未计入",
            en="Neither coordinates nor township; row not counted",
            file=file,
            sheet=sheet,
            rows=rows,
            column=coord_column,
            values=frame["name"].to_numpy(dtype=object),
        )
    )
    placed_by_unit = ok & no_xy & has_unit
    if has_coord_columns:
        findings.extend(
            row_findings(
                placed_by_unit,
                severity="info",
                code="population_no_coordinates",
                zh="无坐标，按所属镇(街道)计入",
                en="No coordinates; counted by its township",
                file=file,
                sheet=sheet,
                rows=rows,
                column=coord_column,
                values=unit_name if unit_name is not None else unit_code,
            )
        )
    elif placed_by_unit.any():
        findings.add(
            Finding(
                "info",
                "population_no_coordinates",
                f"表中没有坐标列，{int(placed_by_unit.sum())} 行按所属镇(街道)计入",
                f"The table has no coordinate columns; {int(placed_by_unit.sum())} row(s) counted by their township",
                file=file,
                sheet=sheet,
                count=int(placed_by_unit.sum()),
            )
        )
    used = ok & ~no_location
    name = frame["name"].to_numpy(dtype=object) if "name" in fields else None
    if name is not None:
        key = pd.DataFrame(
            {
                "unit": pd.Series(
                    unit_name if unit_name is not None else np.full(m, None), dtype=object
                ).fillna(""),
                "name": pd.Series(name, dtype=object),
            }
        )[used]
        dup = key["name"].notna().to_numpy() & key.duplicated(keep=False).to_numpy()
        dup_rows = rows[used]
        findings.extend(
            row_findings(
                dup,
                severity="warning",
                code="duplicate_community",
                zh="同一镇(街道)内社区/村名称重复（两行都已计入，请核对是否重复填报）",
                en="Community name repeated within one township (both rows counted; check for double entry)",
                file=file,
                sheet=sheet,
                rows=dup_rows,
                column=shown("name"),
                values=key["name"].to_numpy(dtype=object),
            )
        )
    accounting = accounting_row(
        file,
        sheet,
        "features" if xy is not None else "rows",
        n_read,
        {
            "blank_row": n_blank,
            "note_row": n_notes,
            "total_row": int(total.sum()),
            "bad_value": int(bad_value.sum()),
            "bad_coordinate": int(bad_coord.sum()),
            "no_location": int(no_location.sum()),
        },
    )
    return _Part(
        lon=lon[used],
        lat=lat[used],
        weights={k: v[used] for k, v in weights.items()},
        name=name[used] if name is not None else None,
        unit_name=unit_name[used] if unit_name is not None else None,
        unit_code=unit_code[used] if unit_code is not None else None,
        source_row=rows[used].astype(np.int64),
        findings=findings,
        accounting=accounting,
    )


def _table_part(table: Any, mapping: Mapping[str, str] | None, crs: str) -> _Part:
    """One sheet / CSV file of cells (a :class:`~coverage_gis.io.facilities.RawTable`)."""
    from coverage_gis.io.columns import (
        MAX_HEADER_SCAN,
        blank_cell,
        drop_half_coordinates,
        find_header,
    )

    rows = table.rows
    hdr = find_header(rows, mapping.values() if mapping else (), _score)
    if hdr is None:
        preview = [str(c) for r in rows[:MAX_HEADER_SCAN] for c in r if not blank_cell(c)][:12]
        raise InputError(
            f"找不到人口表的表头行（前几行内容：{', '.join(preview) or '空'}）",
            f"No population-table header row found (first cells: {', '.join(preview) or 'empty'})",
            file=table.file,
            sheet=table.sheet,
            suggestion="表头应含 社区/村名称、所属镇(街道)、常住人口、经度、纬度 等列；也可用 --column 指定 / "
            "the header needs columns like 社区名称, 所属镇(街道), 常住人口, 经度, 纬度; or map them with --column",
        )
    header_idx, header = hdr
    header_row = table.first_row + header_idx
    cols = _recognise_columns(header, mapping, file=table.file, sheet=table.sheet, row=header_row)
    _require(cols, header, table.file, table.sheet, header_row, vector=False)
    findings = drop_half_coordinates(cols.fields, header, table.file, table.sheet)
    data = rows[header_idx + 1 :]
    width = max([len(header), *(len(r) for r in data)]) if data else len(header)
    columns = (
        [_object_column(c, len(data)) for c in zip_longest(*data, fillvalue=None)] if data else []
    )
    while len(columns) < width:
        columns.append(np.full(len(data), None, dtype=object))
    headers = [
        (None if blank_cell(header[i]) else str(header[i])) if i < len(header) else None
        for i in range(width)
    ]
    start = table.first_row + header_idx + 1
    return _part_from_columns(
        file=table.file,
        sheet=table.sheet,
        columns=columns,
        headers=headers,
        cols=cols,
        source_row=np.arange(start, start + len(data), dtype=np.int64),
        xy=None,
        crs=crs,
        findings=findings,
    )


def _vector_part(
    path: Path, layer: str | None, mapping: Mapping[str, str] | None, crs: str | None
) -> tuple[_Part, str]:
    """A vector file of community points or polygons; returns the part and the kind."""
    import pyogrio

    from coverage_gis.core.coordsys import normalize_source_crs
    from coverage_gis.io.vector import read_vector_arrow, vector_source

    source = normalize_source_crs(crs) if crs else "wgs84"
    file_crs = source if source.startswith("EPSG:") else None
    table, lon, lat, layer_read = read_vector_arrow(path, layer=layer, crs=file_crs)
    src = vector_source(path, layer)
    try:
        geometry_type = str(
            pyogrio.read_info(src.src, layer=src.layer, **src.options).get("geometry_type") or ""
        )
    except Exception:  # the file was just read; the type only chooses the kind
        geometry_type = ""
    kind = "polygons" if "polygon" in geometry_type.lower() else "points"
    headers: list[str | None] = [str(c) for c in table.column_names]
    cols = _recognise_columns(headers, mapping, file=str(path), sheet=layer_read, row=None)
    for f in ("lon", "lat", "lonlat"):  # the geometry places the feature
        cols.fields.pop(f, None)
    _require(cols, headers, str(path), layer_read, None, vector=True)
    n = table.num_rows
    columns = [
        _object_column(table.column(i).to_pandas().to_numpy(dtype=object), n)
        for i in range(table.num_columns)
    ]
    part = _part_from_columns(
        file=str(path),
        sheet=layer_read,
        columns=columns,
        headers=headers,
        cols=cols,
        source_row=np.arange(1, n + 1, dtype=np.int64),
        xy=(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)),
        crs="wgs84" if file_crs else source,
        findings=Findings(),
    )
    return part, kind


def read_population_table(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
) -> Demand:
    """Read a community / village population table into demand points.

    Parameters
    ----------
    path
        CSV (GBK or UTF-8, detected), .xlsx/.xls workbook, or a vector file (SHP, GPKG,
        GeoJSON, KML) of points or polygons (polygons give their
        ``shapely.point_on_surface`` and ``kind="polygons"``).
    columns
        Explicit ``{field: header}`` mapping (fields of :data:`POPULATION_FIELDS`), e.g.
        ``{"population": "常住人口(人)"}``; ``"人口#2"`` is the second column headed 人口,
        ``"#5"`` the fifth column. It wins over the recognised headers.
    encoding
        Force a CSV text encoding (default: detect).
    sheet
        The workbook sheet; by default every sheet with a population header is read (sheets
        without one are skipped with an info finding).
    layer
        The layer of a multi-layer vector file.
    crs
        Coordinate system of the coordinates (wgs84, cgcs2000, gcj02, bd09, EPSG:n); for a
        vector file an EPSG code declares the file's CRS, gcj02/bd09 shift its points.

    Returns
    -------
    Demand
        One point per used row; see the module docstring for what is read, what is a
        finding and what is excluded. ``accounting`` has one row per sheet or layer.

    Raises
    ------
    InputError
        When the file cannot be read, no header is found, or neither a population column
        nor a location (coordinates or 所属镇(街道)) is recognised.
    """
    from coverage_gis.io.facilities import tables_from_file

    p = Path(path)
    suffix = p.suffix.lower()
    kind = "points"
    parts: list[_Part] = []
    findings = Findings()
    if suffix in _VECTOR_SUFFIXES:
        if not p.exists():
            raise InputError("文件不存在", "File not found", file=str(p))
        part, kind = _vector_part(p, layer, columns, crs)
        parts.append(part)
    elif suffix in _TABLE_SUFFIXES:
        tables = tables_from_file(p, sheets=[sheet] if sheet else None, encoding=encoding)
        first_error: InputError | None = None
        for table in tables:
            try:
                parts.append(_table_part(table, columns, crs or "wgs84"))
            except InputError as exc:
                if len(tables) == 1 or sheet:
                    raise
                first_error = first_error or exc
                findings.add(
                    Finding(
                        "info",
                        "sheet_skipped",
                        f"工作表未识别为人口表，已跳过：{exc.message_zh}",
                        f"Sheet not recognised as a population table; skipped: {exc.message_en}",
                        file=str(p),
                        sheet=table.sheet,
                    )
                )
        if not parts:
            assert first_error is not None
            raise first_error
    else:
        raise InputError(
            f"不支持的人口文件格式：{suffix}",
            f"Unsupported population file format: {suffix}",
            file=str(p),
            suggestion="支持 .csv .xlsx .xls .geojson .gpkg .shp；人口栅格用 .tif / "
            "supported: .csv .xlsx .xls .geojson .gpkg .shp; population rasters: .tif",
        )
    for part in parts:
        findings.extend(part.findings)
    fields = [f for f in WEIGHT_FIELDS if any(f in part.weights for part in parts)]

    def joined(get: Any, dtype: Any) -> np.ndarray | None:
        arrays = [get(part) for part in parts]
        if all(a is None for a in arrays):
            return None
        return np.concatenate(
            [
                a if a is not None else np.full(len(part.lon), None, dtype=object)
                for a, part in zip(arrays, parts, strict=True)
            ]
        ).astype(dtype)

    weights = pd.DataFrame(
        {
            f: np.concatenate(
                [part.weights.get(f, np.full(len(part.lon), np.nan)) for part in parts]
            ).astype(np.float64)
            for f in fields
        }
    )
    return Demand(
        lon=np.concatenate([part.lon for part in parts]).astype(np.float64),
        lat=np.concatenate([part.lat for part in parts]).astype(np.float64),
        weights=weights,
        name=joined(lambda q: q.name, object),
        unit_code=joined(lambda q: q.unit_code, object),
        unit_name=joined(lambda q: q.unit_name, object),
        source_row=np.concatenate([part.source_row for part in parts]).astype(np.int64),
        kind=kind,  # type: ignore[arg-type]
        source=str(p),
        findings=findings,
        accounting=accounting_frame([part.accounting for part in parts]),
    )
