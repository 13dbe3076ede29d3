"""Recognising facility-list columns by their Chinese and English names.

Planners name the same column many ways (经度 / 东经 / lng / lon / x). :data:`SYNONYMS` maps
each normalised field of :mod:`coverage_gis.core.schema` to the header texts that mean it;
:func:`recognise_columns` picks one source column per field. An explicit mapping (CLI
``--column field=header`` or a TOML file with a ``[columns]`` table) always wins.
:func:`find_header` finds the header row of a table under its title rows (merged header
cells over two rows, a row of units under it); the facility and population readers share it.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding, Findings

__all__ = [
    "FIELD_LABELS",
    "MAX_HEADER_SCAN",
    "SYNONYMS",
    "blank_cell",
    "drop_half_coordinates",
    "find_header",
    "header_key",
    "load_column_mapping",
    "named_fields",
    "parse_column_options",
    "recognise_columns",
]

#: Field → header synonyms (compared after :func:`header_key`).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "名称",
        "设施名称",
        "机构名称",
        "站点名称",
        "单位名称",
        "项目名称",
        "name",
        "facilityname",
        "设施名",
    ),
    "type_raw": (
        "类型",
        "设施类型",
        "机构类型",
        "类别",
        "设施类别",
        "type",
        "facilitytype",
        "category",
    ),
    "lon": ("经度", "东经", "lng", "lon", "long", "longitude", "x", "x坐标", "经度e", "坐标x"),
    "lat": ("纬度", "北纬", "lat", "latitude", "y", "y坐标", "纬度n", "坐标y"),
    # one cell holding both, e.g. "120.62,31.30" (used only without 经度/纬度 columns)
    "lonlat": (
        "坐标",
        "经纬度",
        "经纬度坐标",
        "坐标经度,纬度",
        "坐标经度，纬度",
        "经度,纬度",
        "经度，纬度",
        "位置坐标",
        "gps坐标",
        "lnglat",
        "lonlat",
        "coordinates",
        "coordinate",
    ),
    "county_name": (
        "所属区县",
        "区县",
        "所属区",
        "县市区",
        "所在区县",
        "县级市区",
        "区市",
        "所属板块",
        "板块",
        "county",
        "district",
    ),
    "unit_name": (
        "所属镇街道",
        "镇",
        "街镇",
        "所属镇",
        "所属镇街",
        "镇街道",
        "镇街",
        "乡镇",
        "街道",
        "所在镇街道",
        "乡镇街道",
        "所属乡镇",
        "所属街道",
        "镇街名称",
        "township",
        "town",
        "subdistrict",
    ),
    "address": ("地址", "详细地址", "设施地址", "所在地址", "地点", "address"),
    "status": ("状态", "运营状态", "建设状态", "使用状态", "status"),
    "opened": (
        "建成时间",
        "开业时间",
        "投用时间",
        "启用时间",
        "建成日期",
        "开业日期",
        "成立时间",
        "投入使用时间",
        "计划建成时间",
        "计划投用时间",
        "计划建成日期",
        "opened",
        "opendate",
        "opened_date",
    ),
    "closed": (
        "停用时间",
        "停用日期",
        "关闭时间",
        "撤销时间",
        "closed",
        "closedate",
        "closed_date",
    ),
    "meets_standard": (
        "是否达标",
        "达标",
        "达标情况",
        "是否达到标准",
        "标准化",
        "是否标准化",
        "是否省级标准",
        "省级标准",
        "meetsstandard",
        "meets_standard",
        "standard",
    ),
    "beds": ("床位数", "床位", "总床位数", "核定床位数", "beds"),
    "nursing_beds": ("护理型床位数", "护理型床位", "护理床位数", "nursingbeds", "nursing_beds"),
    "area_m2": (
        "面积",
        "建筑面积",
        "面积m2",
        "面积㎡",
        "面积平方米",
        "用房面积",
        "area",
        "aream2",
        "area_m2",
    ),
}

#: Bilingual labels of the fields, for messages and the GUI mapping dialog.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "name": ("名称", "name"),
    "type_raw": ("类型", "type"),
    "lon": ("经度", "longitude"),
    "lat": ("纬度", "latitude"),
    "lonlat": ("经纬度坐标", "coordinates"),
    "county_name": ("所属区县", "county"),
    "unit_name": ("所属镇(街道)", "township"),
    "address": ("地址", "address"),
    "status": ("状态", "status"),
    "opened": ("建成时间", "opened"),
    "closed": ("停用时间", "closed"),
    "meets_standard": ("是否达标", "meets standard"),
    "beds": ("床位数", "beds"),
    "nursing_beds": ("护理型床位数", "nursing beds"),
    "area_m2": ("面积", "floor area"),
}

_STRIP = re.compile(r"[\s\u3000()（）\[\]【】:：*＊_\-./、]")
_UNIT_SUFFIX = re.compile(r"(度|°|wgs84|gcj02|bd09|个|张|平方米|m2|㎡)$")


def header_key(value: object) -> str:
    """Normalise a header cell: NFKC, lower case, no spaces/brackets/punctuation."""
    if value is None:
        return ""
    return _STRIP.sub("", unicodedata.normalize("NFKC", str(value)).lower())


_INDEX: dict[str, str] = {}
for _field, _names in SYNONYMS.items():
    for _n in _names:
        _INDEX.setdefault(header_key(_n), _field)


def _field_for(header: object) -> str | None:
    key = header_key(header)
    if not key:
        return None
    if key in _INDEX:
        return _INDEX[key]
    stripped = _UNIT_SUFFIX.sub("", key)
    return _INDEX.get(stripped)


def recognise_columns(
    headers: Sequence[object], mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Return ``{field: column position}`` for the headers that are recognised.

    Parameters
    ----------
    headers
        Header texts in column order.
    mapping
        Explicit ``{field: header text}``; a header named here must exist.

    Raises
    ------
    InputError
        When an explicitly mapped header is not among ``headers`` (the message lists the
        headers found).
    """
    found: dict[str, int] = {}
    keys = [header_key(h) for h in headers]
    for fld, header in (mapping or {}).items():
        pos = _column_reference(header, keys)
        if pos is not None and fld in SYNONYMS:
            found[fld] = pos
            continue
        if fld not in SYNONYMS:
            raise InputError(
                f"列映射中的字段 {fld} 未知（可用：{', '.join(SYNONYMS)}）",
                f"Unknown field '{fld}' in column mapping (known: {', '.join(SYNONYMS)})",
                column=fld,
                value=header,
            )
        k = header_key(header)
        if k not in keys:
            raise InputError(
                f"列映射指定的列“{header}”不存在；现有列：{', '.join(str(h) for h in headers if h)}",
                f"Mapped column '{header}' not found; columns found: {', '.join(str(h) for h in headers if h)}",
                column=str(header),
            )
        found[fld] = keys.index(k)
    taken = set(found.values())
    for pos, header in enumerate(headers):
        fld = _field_for(header)
        if fld and fld not in found and pos not in taken:
            found[fld] = pos
            taken.add(pos)
    return found


_REF = re.compile(r"^(?P<header>.*?)#(?P<n>\d+)$")


def _column_reference(header: str, keys: list[str]) -> int | None:
    """Position of ``"#5"`` (fifth column) or ``"类型#2"`` (second column headed 类型)."""
    m = _REF.match(str(header).strip())
    if not m:
        return None
    n = int(m.group("n"))
    if not m.group("header"):
        return n - 1 if 1 <= n <= len(keys) else None
    k = header_key(m.group("header"))
    same = [i for i, key in enumerate(keys) if key == k]
    return same[n - 1] if 1 <= n <= len(same) else None


def column_letter(pos: int) -> str:
    """Excel column letter of a 0-based position (0 → A, 27 → AB)."""
    out = ""
    pos += 1
    while pos:
        pos, r = divmod(pos - 1, 26)
        out = chr(65 + r) + out
    return out


def ambiguous_columns(
    headers: Sequence[object], mapping: Mapping[str, str] | None = None
) -> dict[str, list[int]]:
    """Fields that several columns could be (two 类型 columns, or 类型 and 设施类型).

    Fields mapped explicitly are never ambiguous. Returns ``{field: [positions]}``.
    """
    mapped = set(mapping or ())
    seen: dict[str, list[int]] = {}
    for pos, header in enumerate(headers):
        fld = _field_for(header)
        if fld and fld not in mapped:
            seen.setdefault(fld, []).append(pos)
    return {f: p for f, p in seen.items() if len(p) > 1}


def ambiguity_error(
    ambiguous: dict[str, list[int]], headers: Sequence[object], **where: object
) -> InputError:
    """The bilingual refusal for :func:`ambiguous_columns`, naming the columns and the fix."""
    parts_zh, parts_en, hints = [], [], []
    for fld, positions in ambiguous.items():
        cols = ", ".join(f"{column_letter(p)} “{headers[p]}”" for p in positions)
        parts_zh.append(f"{FIELD_LABELS[fld][0]}：{cols}")
        parts_en.append(f"{FIELD_LABELS[fld][1]}: {cols}")
        same = [p for p in positions if header_key(headers[p]) == header_key(headers[positions[0]])]
        ref = f"{headers[positions[0]]}#2" if len(same) > 1 else str(headers[positions[1]])
        hints.append(f"--column {fld}={ref}")
    return InputError(
        f"多列可能是同一字段，无法确定用哪一列：{'；'.join(parts_zh)}",
        f"Several columns could be the same field; cannot tell which to use: {'; '.join(parts_en)}",
        suggestion="用 --column 字段=列名 指定（同名列写 列名#2 表示第二个，#5 表示第 5 列），例如 "
        + " ".join(hints)
        + " / choose with --column field=header (header#2 is the second column of that name, "
        "#5 the fifth column)",
        **where,  # type: ignore[arg-type]
    )


def score_header(cells: Sequence[object]) -> int:
    """Number of distinct fields a row of cells names (used to find the header row)."""
    return len({f for c in cells if (f := _field_for(c))})


def parse_column_options(options: Sequence[str]) -> dict[str, str]:
    """Parse CLI ``field=header`` options into a mapping."""
    out: dict[str, str] = {}
    for opt in options:
        fld, sep, header = opt.partition("=")
        if not sep or not fld.strip() or not header.strip():
            raise InputError(
                f"列映射格式应为 字段=列名：{opt}",
                f"Column mapping must be field=header: {opt}",
                value=opt,
            )
        out[fld.strip()] = header.strip()
    return out


def load_column_mapping(path: str | Path) -> dict[str, str]:
    """Read a mapping TOML file with a ``[columns]`` table (``field = "header"``)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"无法读取列映射文件：{exc}", f"Cannot read column mapping file: {exc}", file=str(p)
        ) from exc
    cols = data.get("columns", {})
    if not isinstance(cols, dict) or not all(isinstance(v, str) for v in cols.values()):
        raise InputError(
            "列映射文件需要 [columns] 表，值为列名字符串",
            'Mapping file needs a [columns] table of field = "header"',
            file=str(p),
        )
    return dict(cols)


# --------------------------------------------------------------- header rows of tables

#: Rows looked at for the header of a table (title rows, multi-row headers).
MAX_HEADER_SCAN = 20


def blank_cell(v: Any) -> bool:
    """Whether a cell as read is empty: None, NaN or only whitespace."""
    return (
        v is None
        or (isinstance(v, float) and np.isnan(v))
        or (isinstance(v, str) and not v.strip())
    )


_UNIT_ROW = re.compile(
    r"^[（(\[【]?\s*(度|°|米|m|张|个|床|人|户|平方米|㎡|m2|年|年月|年月日|是/否|yyyy-mm-dd|"
    r"单位[:：]?.*|wgs84|gcj02|bd09|cgcs2000)\s*[)）\]】]?$",
    re.I,
)
_MAX_HEADER_ROWS = 3


def _header_like(row: list[Any]) -> bool:
    """A row that can be part of a header: no numbers, dates or numeric text in it."""
    for v in row:
        if blank_cell(v):
            continue
        if not isinstance(v, str):
            return False
        try:
            float(v.replace(",", ""))
        except ValueError:
            continue
        return False
    return True


def _is_unit_row(row: list[Any]) -> bool:
    """A row under the header that only gives units, e.g. ``(度) (度) (张)``."""
    filled = [v for v in row if not blank_cell(v)]
    return bool(filled) and all(isinstance(v, str) and _UNIT_ROW.match(v.strip()) for v in filled)


def _combine(
    upper: list[Any], lower: list[Any], score: Callable[[Sequence[Any]], int] = score_header
) -> list[Any]:
    """Header cells of two rows: a recognised lower cell names its column, else the upper."""
    width = max(len(upper), len(lower))
    return [
        (lower[c] if c < len(lower) and not blank_cell(lower[c]) and score([lower[c]]) else None)
        or (upper[c] if c < len(upper) else None)
        for c in range(width)
    ]


def find_header(
    rows: list[list[Any]],
    mapped: Iterable[str] = (),
    score_cells: Callable[[Sequence[Any]], int] = score_header,
) -> tuple[int, list[Any]] | None:
    """Return (index of the last header row, merged header cells) or None.

    Only the first :data:`MAX_HEADER_SCAN` rows are looked at.

    The header is the block of one to three rows (within the first rows) naming the most
    known fields once combined column by column (multi-row headers, merged or not); ties go
    to fewer rows, then to the earlier block. Every row of a block after its first must
    itself name at least two fields and hold no numbers, so that a data row with an "x" or
    "y" in it is never taken for a header. A row of units right under the header
    (``(度)``, ``（张）``) belongs to it. ``score_cells`` counts the known fields a row of
    cells names (default: the facility fields of :func:`~coverage_gis.io.columns.score_header`;
    the population reader passes its own).
    """
    mapped_keys = {header_key(h) for h in mapped}

    def score(row: list[Any]) -> int:
        return score_cells(row) + sum(1 for c in row if header_key(c) in mapped_keys)

    scan = rows[:MAX_HEADER_SCAN]
    scores = [score(r) for r in scan]
    best: tuple[int, int, int] | None = None  # (score, -rows, -start)
    best_block: tuple[int, list[Any]] | None = None
    for i, s0 in enumerate(scores):
        if s0 < 1:
            continue
        combined = list(scan[i])
        for k in range(1, _MAX_HEADER_ROWS + 1):
            j = i + k - 1
            if k > 1:
                if j >= len(scan) or scores[j] < 2 or not _header_like(scan[j]):
                    break
                if not _header_like(scan[i]):
                    break
                combined = _combine(combined, scan[j], score_cells)
            key = (score(combined), -k, -i)
            if best is None or key > best:
                best, best_block = key, (j, combined)
    if best is None or best[0] < 2 or best_block is None:
        return None
    last, header = best_block
    while last + 1 < len(rows) and last + 1 < MAX_HEADER_SCAN and _is_unit_row(rows[last + 1]):
        last += 1
    return last, header


def drop_half_coordinates(
    cols: dict[str, int], header: list[Any], file: str, sheet: str | None
) -> Findings:
    """Drop a lone longitude or latitude column (with a warning)."""
    findings = Findings()
    if "lon" in cols and "lat" in cols:
        cols.pop("lonlat", None)  # separate columns win over a combined one
    elif "lonlat" in cols:
        cols.pop("lon", None)  # a combined 坐标 column gives both
        cols.pop("lat", None)
    if ("lon" in cols) != ("lat" in cols):
        found_headers = [str(h) for h in header if not blank_cell(h)]
        findings.add(
            Finding(
                "warning",
                "half_coordinates",
                "只找到经度或纬度之一，坐标未使用",
                "Only one of longitude/latitude found; coordinates not used",
                file=file,
                sheet=sheet,
                column=found_headers[0] if found_headers else None,
            )
        )
        cols.pop("lon", None)
        cols.pop("lat", None)
    return findings


def named_fields(
    headers: list[str], mapping: Mapping[str, str] | None, file: str | None = None
) -> dict[str, int]:
    """Field → position: explicit mapping, normalised field names, then synonyms."""
    ambiguous = ambiguous_columns(headers, mapping)
    if ambiguous:
        raise ambiguity_error(ambiguous, headers, file=file)
    found = recognise_columns(headers, mapping)
    for fld in SYNONYMS:  # the normalised names, as this tool writes them
        if fld in headers and (mapping is None or fld not in mapping):
            found[fld] = headers.index(fld)
    return found
