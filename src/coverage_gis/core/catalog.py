"""Facility-type and indicator catalogues, loaded from TOML into frozen records.

A catalogue is data, not code: every condition is a declarative ``{field, op, value}``
triple, evaluated by :func:`coverage_gis.core.engine` with vectorised comparisons. Nothing in a
catalogue is ever passed to ``eval``.

The embedded default is the Suzhou 14th Five-Year Plan
(``resources/catalogs/suzhou_14th_fyp.toml``). ``load_catalog(path)`` reads another city's.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from coverage_gis._paths import resource_path
from coverage_gis.core.errors import CatalogError

__all__ = [
    "ATTRIBUTE_LABELS",
    "CONDITION_OPS",
    "FACILITY_FIELDS",
    "OPERATORS",
    "AccessRule",
    "Catalog",
    "Condition",
    "FacilityType",
    "Indicator",
    "RatioTerm",
    "default_catalog_path",
    "load_catalog",
    "normalize_type_value",
]

Level = Literal["township", "county", "city"]
Kind = Literal["presence", "ratio", "manual", "access"]
AccessMode = Literal["euclidean", "barrier", "network"]

#: Target operators accepted in a catalogue, mapped to their canonical form.
OPERATORS: dict[str, str] = {">=": ">=", "≥": ">=", "=": "=", "==": "=", "<=": "<=", "≤": "<="}
#: Condition operators (declarative; evaluated with vectorised pandas comparisons).
CONDITION_OPS = ("eq", "ne", "in", "not_in", "ge", "gt", "le", "lt", "notnull")
#: Facility fields a condition or ratio term may refer to (the normalised facility schema).
FACILITY_FIELDS = (
    "meets_standard",
    "beds",
    "nursing_beds",
    "area_m2",
    "status",
    "type_raw",
    "name",
)
#: 约束性 / 预期性 labels for ``attribute``.
ATTRIBUTE_LABELS: dict[str, tuple[str, str]] = {
    "binding": ("约束性", "binding"),
    "expected": ("预期性", "expected"),
}
_LEVELS = ("township", "county", "city")
_KINDS = ("presence", "ratio", "manual", "access")
_ACCESS_MODES = ("euclidean", "barrier", "network")
_ACCESS_MEASURES = ("share", "fca")
#: Walking speed for life-circle minutes (GB 50180-2018: 15 min ≈ 800–1000 m on foot).
WALK_KMH = 4.0
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_STRIP_RE = re.compile(r"[\s\"'“”‘’()（）\[\]【】《》「」<>·、,，;；:：/\\-]")


def normalize_type_value(value: str) -> str:
    """Normalise a facility-type value for alias matching.

    NFKC (full-width → half-width), lower case, and removal of whitespace, quotes,
    brackets and punctuation: ``"镇（街道）综合养老服务中心 "`` → ``"镇街道综合养老服务中心"``.
    """
    text = unicodedata.normalize("NFKC", str(value)).lower()
    return _STRIP_RE.sub("", text)


@dataclass(frozen=True, slots=True)
class FacilityType:
    """A facility type: stable code, names, aliases, audit level and colour."""

    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    level: Level
    color: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Condition:
    """A declarative test on one facility field: ``field op value``."""

    field: str
    op: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class RatioTerm:
    """Numerator or denominator of a ratio indicator: a sum of one field."""

    source: Literal["facilities", "units"]
    field: str
    facility_types: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessRule:
    """How an ``access`` indicator measures reach (生活圈可达性).

    Attributes
    ----------
    population_field
        Demand weight: ``population`` (常住人口), ``pop_60plus`` (60 岁及以上) …
    mode
        ``euclidean`` (straight line), ``barrier`` (straight line round water) or
        ``network`` (along roads).
    threshold_m
        Reach in metres (for ``threshold_min``: minutes × ``speed_kmh``).
    threshold_min, speed_kmh
        The reach as the catalogue states it in minutes, and the travel speed.
    measure
        ``share``: percentage of the demand within reach; ``fca``: two-step floating
        catchment area ratio of ``capacity_field`` per ``scale`` demand (e.g. beds per
        1,000 elderly residents within reach).
    capacity_field
        Facility field that is the supply for ``fca`` (e.g. ``beds``).
    """

    population_field: str
    mode: AccessMode
    threshold_m: float
    threshold_min: float | None = None
    speed_kmh: float | None = None
    measure: Literal["share", "fca"] = "share"
    capacity_field: str | None = None

    @property
    def reach_label(self) -> tuple[str, str]:
        """The reach in words, Chinese and English (e.g. 步行15分钟(1000米))."""
        mode_zh = {"euclidean": "直线", "barrier": "直线(绕开水域)", "network": "沿道路"}[self.mode]
        mode_en = {
            "euclidean": "straight line",
            "barrier": "straight line round water",
            "network": "along roads",
        }[self.mode]
        metres = f"{self.threshold_m:,.0f}"
        if self.threshold_min is not None:
            return (
                f"{self.threshold_min:g} 分钟（{mode_zh} {metres} 米）",
                f"{self.threshold_min:g} min ({mode_en}, {metres} m)",
            )
        return f"{mode_zh} {metres} 米", f"{metres} m {mode_en}"


@dataclass(frozen=True, slots=True)
class Indicator:
    """One plan indicator with its target and how to compute it."""

    id: str
    name_zh: str
    name_en: str
    unit: str
    target: float
    operator: str
    attribute: Literal["binding", "expected"]
    source_ref: str
    kind: Kind
    baseline: float | None = None
    level: Level | None = None
    facility_types: tuple[str, ...] = ()
    min_count: int = 1
    conditions: tuple[Condition, ...] = ()
    numerator: RatioTerm | None = None
    denominator: RatioTerm | None = None
    scale: float = 100.0
    per_unit_level: Level | None = None
    note: str | None = None
    access: AccessRule | None = None

    @property
    def binding(self) -> bool:
        """True for 约束性 (binding) indicators."""
        return self.attribute == "binding"

    @property
    def attribute_zh(self) -> str:
        """约束性 or 预期性."""
        return ATTRIBUTE_LABELS[self.attribute][0]


@dataclass(frozen=True)
class Catalog:
    """A set of facility types and indicators (one city's plan)."""

    id: str
    name_zh: str
    name_en: str
    version: str
    facility_types: tuple[FacilityType, ...]
    indicators: tuple[Indicator, ...]
    source_files: tuple[str, ...] = ()
    city_zh: str = ""
    baseline_year: int | None = None
    target_year: int | None = None
    _alias_index: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def facility_type(self, code: str) -> FacilityType:
        """Return the facility type with this code (KeyError if unknown)."""
        for ft in self.facility_types:
            if ft.code == code:
                return ft
        raise KeyError(code)

    def indicator(self, indicator_id: str) -> Indicator:
        """Return the indicator with this id (KeyError if unknown)."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    @property
    def type_codes(self) -> tuple[str, ...]:
        """Facility-type codes in catalogue order."""
        return tuple(ft.code for ft in self.facility_types)

    def alias_index(self) -> dict[str, str]:
        """Map normalised names, aliases and codes to facility-type codes."""
        return dict(self._alias_index)

    def match_type(self, value: object) -> str | None:
        """Return the facility-type code matching a raw type value, or ``None``."""
        if value is None:
            return None
        return self._alias_index.get(normalize_type_value(str(value)))


def default_catalog_path() -> Path:
    """Path of the embedded Suzhou 14th-plan catalogue."""
    return resource_path("catalogs", "suzhou_14th_fyp.toml")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise CatalogError("找不到目录文件", "Catalogue file not found", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(
            f"目录文件不是有效的 TOML：{exc}",
            f"Catalogue file is not valid TOML: {exc}",
            file=str(path),
        ) from exc


class _Ctx:
    """Error helper that names the file and entry."""

    def __init__(self, path: Path, entry: str) -> None:
        self.path = path
        self.entry = entry

    def fail(
        self, zh: str, en: str, *, column: str | None = None, value: Any = None
    ) -> CatalogError:
        return CatalogError(
            f"目录条目 {self.entry}：{zh}",
            f"Catalogue entry {self.entry}: {en}",
            file=str(self.path),
            column=column,
            value=value,
        )

    def require(self, data: Mapping[str, Any], key: str, typ: type | tuple[type, ...]) -> Any:
        if key not in data:
            raise self.fail(f"缺少字段 {key}", f"missing field '{key}'", column=key)
        val = data[key]
        if isinstance(val, bool) and typ in (int, float, (int, float)):
            raise self.fail(
                f"字段 {key} 类型错误", f"field '{key}' has the wrong type", column=key, value=val
            )
        if not isinstance(val, typ):
            raise self.fail(
                f"字段 {key} 类型错误", f"field '{key}' has the wrong type", column=key, value=val
            )
        return val


def _parse_facility_types(path: Path, data: Mapping[str, Any]) -> list[FacilityType]:
    entries = data.get("facility_type", [])
    if not isinstance(entries, list):
        raise CatalogError(
            "facility_type 必须是表数组 [[facility_type]]",
            "facility_type must be an array of tables [[facility_type]]",
            file=str(path),
        )
    out: list[FacilityType] = []
    for i, raw in enumerate(entries, start=1):
        ctx = _Ctx(path, f"[[facility_type]] #{i} ({raw.get('code', '?')})")
        code = ctx.require(raw, "code", str)
        if not _CODE_RE.match(code):
            raise ctx.fail(
                "代码只能含小写字母、数字和下划线",
                "code must be lower_snake_case",
                column="code",
                value=code,
            )
        level = ctx.require(raw, "level", str)
        if level not in _LEVELS:
            raise ctx.fail(
                f"未知层级 {level}",
                f"unknown level '{level}' (expected {', '.join(_LEVELS)})",
                column="level",
                value=level,
            )
        color = raw.get("color", "#555555")
        if not isinstance(color, str) or not _COLOR_RE.match(color):
            raise ctx.fail(
                "颜色必须是 #rrggbb", "color must be #rrggbb", column="color", value=color
            )
        aliases = raw.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ctx.fail(
                "aliases 必须是字符串列表",
                "aliases must be a list of strings",
                column="aliases",
                value=aliases,
            )
        out.append(
            FacilityType(
                code=code,
                name_zh=ctx.require(raw, "name_zh", str),
                name_en=ctx.require(raw, "name_en", str),
                aliases=tuple(aliases),
                level=level,  # type: ignore[arg-type]
                color=color,
                fields=tuple(raw.get("fields", [])),
            )
        )
    return out


def _parse_conditions(ctx: _Ctx, raw: Any) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ctx.fail(
            "conditions 必须是列表", "conditions must be a list", column="conditions", value=raw
        )
    out = []
    for cond in raw:
        if not isinstance(cond, dict):
            raise ctx.fail(
                "条件必须是 {field, op, value}",
                "a condition must be {field, op, value}",
                column="conditions",
                value=cond,
            )
        fld = ctx.require(cond, "field", str)
        op = ctx.require(cond, "op", str)
        if fld not in FACILITY_FIELDS:
            raise ctx.fail(
                f"条件字段 {fld} 未知（可用：{', '.join(FACILITY_FIELDS)}）",
                f"unknown condition field '{fld}' (known: {', '.join(FACILITY_FIELDS)})",
                column="conditions.field",
                value=fld,
            )
        if op not in CONDITION_OPS:
            raise ctx.fail(
                f"条件运算符 {op} 未知（可用：{', '.join(CONDITION_OPS)}）",
                f"unknown condition operator '{op}' (known: {', '.join(CONDITION_OPS)})",
                column="conditions.op",
                value=op,
            )
        if op != "notnull" and "value" not in cond:
            raise ctx.fail(
                "条件缺少 value", "condition is missing 'value'", column="conditions.value"
            )
        if op in ("in", "not_in") and not isinstance(cond.get("value"), list):
            raise ctx.fail(
                "in/not_in 的 value 必须是列表",
                "value of in/not_in must be a list",
                column="conditions.value",
                value=cond.get("value"),
            )
        val = cond.get("value")
        out.append(Condition(field=fld, op=op, value=tuple(val) if isinstance(val, list) else val))
    return tuple(out)


def _parse_types(ctx: _Ctx, raw: Mapping[str, Any], type_codes: set[str]) -> tuple[str, ...]:
    """The ``facility_types`` list of an indicator: not empty, every code known."""
    fts = tuple(ctx.require(raw, "facility_types", list))
    if not fts:
        raise ctx.fail(
            "facility_types 不能为空",
            "facility_types must not be empty",
            column="facility_types",
        )
    for code in fts:
        if code not in type_codes:
            raise ctx.fail(
                f"未知设施类型 {code}",
                f"unknown facility type '{code}'",
                column="facility_types",
                value=code,
            )
    return fts


def _positive(ctx: _Ctx, raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ctx.fail(
            f"{key} 必须是正数", f"{key} must be a positive number", column=key, value=value
        )
    return float(value)


def _parse_access(ctx: _Ctx, raw: Mapping[str, Any]) -> AccessRule:
    """The reach rule of an ``access`` indicator (see :class:`AccessRule`)."""
    mode = raw.get("mode", "euclidean")
    if mode not in _ACCESS_MODES:
        raise ctx.fail(
            f"未知距离方式 {mode}（可用 {'、'.join(_ACCESS_MODES)}）",
            f"unknown distance mode '{mode}' (expected {', '.join(_ACCESS_MODES)})",
            column="mode",
            value=mode,
        )
    measure = raw.get("measure", "share")
    if measure not in _ACCESS_MEASURES:
        raise ctx.fail(
            f"未知可达性度量 {measure}（可用 share、fca）",
            f"unknown access measure '{measure}' (expected share, fca)",
            column="measure",
            value=measure,
        )
    metres = _positive(ctx, raw, "threshold_m")
    minutes = _positive(ctx, raw, "threshold_min")
    speed = _positive(ctx, raw, "speed_kmh")
    if (metres is None) == (minutes is None):
        raise ctx.fail(
            "access 指标须给出 threshold_m 或 threshold_min（二选一）",
            "an access indicator needs exactly one of threshold_m and threshold_min",
            column="threshold_m",
        )
    if minutes is not None:
        speed = speed or WALK_KMH
        metres = minutes * speed * 1000.0 / 60.0
    assert metres is not None
    population = raw.get("population_field", "population")
    if not isinstance(population, str) or not population:
        raise ctx.fail(
            "population_field 必须是字段名",
            "population_field must be a field name",
            column="population_field",
            value=population,
        )
    capacity = raw.get("capacity_field")
    if measure == "fca" and capacity not in FACILITY_FIELDS[1:4]:
        raise ctx.fail(
            f"fca 度量需要 capacity_field（{'、'.join(FACILITY_FIELDS[1:4])}）",
            f"the fca measure needs capacity_field ({', '.join(FACILITY_FIELDS[1:4])})",
            column="capacity_field",
            value=capacity,
        )
    return AccessRule(
        population_field=population,
        mode=mode,
        threshold_m=float(metres),
        threshold_min=minutes,
        speed_kmh=speed,
        measure=measure,
        capacity_field=capacity if measure == "fca" else None,
    )


def _parse_ratio_term(ctx: _Ctx, raw: Any, key: str, type_codes: set[str]) -> RatioTerm:
    if not isinstance(raw, dict):
        raise ctx.fail(f"{key} 必须是表", f"{key} must be a table", column=key, value=raw)
    source = ctx.require(raw, "source", str)
    if source not in ("facilities", "units"):
        raise ctx.fail(
            f"{key}.source 只能是 facilities 或 units",
            f"{key}.source must be 'facilities' or 'units'",
            column=f"{key}.source",
            value=source,
        )
    fld = ctx.require(raw, "field", str)
    if source == "facilities" and fld not in FACILITY_FIELDS:
        raise ctx.fail(
            f"{key}.field {fld} 未知",
            f"unknown {key}.field '{fld}'",
            column=f"{key}.field",
            value=fld,
        )
    fts = tuple(raw.get("facility_types", []))
    for code in fts:
        if code not in type_codes:
            raise ctx.fail(
                f"未知设施类型 {code}",
                f"unknown facility type '{code}'",
                column=f"{key}.facility_types",
                value=code,
            )
    return RatioTerm(
        source=source,  # type: ignore[arg-type]
        field=fld,
        facility_types=fts,
        conditions=_parse_conditions(ctx, raw.get("conditions")),
    )


def _parse_indicators(path: Path, data: Mapping[str, Any], type_codes: set[str]) -> list[Indicator]:
    entries = data.get("indicator", [])
    if not isinstance(entries, list) or not entries:
        raise CatalogError(
            "目录中没有指标 [[indicator]]", "Catalogue has no [[indicator]] entries", file=str(path)
        )
    out: list[Indicator] = []
    seen: set[str] = set()
    for i, raw in enumerate(entries, start=1):
        ctx = _Ctx(path, f"[[indicator]] #{i} ({raw.get('id', '?')})")
        ind_id = ctx.require(raw, "id", str)
        if ind_id in seen:
            raise ctx.fail(
                f"指标编号重复：{ind_id}",
                f"duplicate indicator id '{ind_id}'",
                column="id",
                value=ind_id,
            )
        seen.add(ind_id)
        kind = ctx.require(raw, "kind", str)
        if kind not in _KINDS:
            raise ctx.fail(
                f"未知指标类型 {kind}",
                f"unknown kind '{kind}' (expected {', '.join(_KINDS)})",
                column="kind",
                value=kind,
            )
        op_raw = ctx.require(raw, "operator", str)
        if op_raw not in OPERATORS:
            raise ctx.fail(
                f"目标运算符 {op_raw} 无效（可用 >=、=、<=）",
                f"bad target operator '{op_raw}' (expected >=, =, <=)",
                column="operator",
                value=op_raw,
            )
        attribute = ctx.require(raw, "attribute", str)
        if attribute not in ATTRIBUTE_LABELS:
            raise ctx.fail(
                "attribute 只能是 binding 或 expected",
                "attribute must be 'binding' or 'expected'",
                column="attribute",
                value=attribute,
            )
        target = float(ctx.require(raw, "target", (int, float)))
        baseline_raw = raw.get("baseline")
        if baseline_raw is not None and (
            isinstance(baseline_raw, bool) or not isinstance(baseline_raw, (int, float))
        ):
            raise ctx.fail(
                "baseline 必须是数字",
                "baseline must be a number",
                column="baseline",
                value=baseline_raw,
            )
        level = raw.get("level")
        fts: tuple[str, ...] = ()
        min_count = 1
        conditions: tuple[Condition, ...] = ()
        numerator = denominator = None
        if kind == "presence":
            level = ctx.require(raw, "level", str)
            if level not in ("township", "county"):
                raise ctx.fail(
                    "presence 指标的 level 只能是 township 或 county",
                    "presence level must be 'township' or 'county'",
                    column="level",
                    value=level,
                )
            fts = _parse_types(ctx, raw, type_codes)
            min_count = raw.get("min_count", 1)
            if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
                raise ctx.fail(
                    "min_count 必须是正整数",
                    "min_count must be a positive integer",
                    column="min_count",
                    value=min_count,
                )
            conditions = _parse_conditions(ctx, raw.get("conditions"))
        access = None
        if kind == "access":
            fts = _parse_types(ctx, raw, type_codes)
            conditions = _parse_conditions(ctx, raw.get("conditions"))
            access = _parse_access(ctx, raw)
            level = raw.get("level", "township")
            if level not in ("township", "county"):
                raise ctx.fail(
                    "access 指标的 level 只能是 township 或 county",
                    "access level must be 'township' or 'county'",
                    column="level",
                    value=level,
                )
        elif kind == "ratio":
            numerator = _parse_ratio_term(ctx, raw.get("numerator"), "numerator", type_codes)
            denominator = _parse_ratio_term(ctx, raw.get("denominator"), "denominator", type_codes)
            if level is not None and level not in _LEVELS:
                raise ctx.fail(
                    f"未知层级 {level}", f"unknown level '{level}'", column="level", value=level
                )
        per_unit_level = raw.get("per_unit_level")
        if per_unit_level is not None and per_unit_level not in ("township", "county"):
            raise ctx.fail(
                "per_unit_level 只能是 township 或 county",
                "per_unit_level must be township or county",
                column="per_unit_level",
                value=per_unit_level,
            )
        scale = raw.get("scale", 100)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
            raise ctx.fail(
                "scale 必须是正数", "scale must be a positive number", column="scale", value=scale
            )
        out.append(
            Indicator(
                id=ind_id,
                name_zh=ctx.require(raw, "name_zh", str),
                name_en=ctx.require(raw, "name_en", str),
                unit=ctx.require(raw, "unit", str),
                target=target,
                operator=OPERATORS[op_raw],
                attribute=attribute,  # type: ignore[arg-type]
                source_ref=str(raw.get("source_ref", "")),
                kind=kind,  # type: ignore[arg-type]
                baseline=None if baseline_raw is None else float(baseline_raw),
                level=level,
                facility_types=fts,
                min_count=min_count,
                conditions=conditions,
                numerator=numerator,
                denominator=denominator,
                scale=float(scale),
                per_unit_level=per_unit_level,
                note=raw.get("note"),
                access=access,
            )
        )
    return out


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load an indicator catalogue (and the facility types it references).

    Parameters
    ----------
    path
        A catalogue TOML file. ``None`` loads the embedded Suzhou 14th-plan catalogue.
        The file's ``[catalog] facility_types`` names a facility-type TOML relative to it;
        ``[[facility_type]]`` entries in the catalogue file itself are added to those.

    Raises
    ------
    CatalogError
        Naming the file, the entry and the problem (unknown facility type, bad operator,
        duplicate id, missing field, alias claimed by two types …).
    """
    cat_path = Path(path) if path is not None else default_catalog_path()
    data = _read_toml(cat_path)
    meta = data.get("catalog", {})
    if not isinstance(meta, dict):
        raise CatalogError("[catalog] 必须是表", "[catalog] must be a table", file=str(cat_path))
    ctx = _Ctx(cat_path, "[catalog]")
    sources = [str(cat_path)]
    types: list[FacilityType] = []
    ft_ref = meta.get("facility_types")
    if ft_ref is not None:
        if not isinstance(ft_ref, str):
            raise ctx.fail(
                "facility_types 必须是文件路径",
                "facility_types must be a file path",
                column="facility_types",
                value=ft_ref,
            )
        ft_path = (cat_path.parent / ft_ref).resolve()
        types.extend(_parse_facility_types(ft_path, _read_toml(ft_path)))
        sources.append(str(ft_path))
    types.extend(_parse_facility_types(cat_path, data))
    if not types:
        raise ctx.fail("没有设施类型", "no facility types defined", column="facility_types")
    alias_index: dict[str, str] = {}
    codes: set[str] = set()
    for ft in types:
        if ft.code in codes:
            raise CatalogError(
                f"设施类型代码重复：{ft.code}",
                f"duplicate facility type code '{ft.code}'",
                file=sources[-1] if len(sources) > 1 else str(cat_path),
                column="code",
                value=ft.code,
            )
        codes.add(ft.code)
        for label in (ft.code, ft.name_zh, ft.name_en, *ft.aliases):
            key = normalize_type_value(label)
            owner = alias_index.get(key)
            if owner is not None and owner != ft.code:
                raise CatalogError(
                    f"别名 {label} 同时属于 {owner} 和 {ft.code}",
                    f"alias '{label}' is claimed by both '{owner}' and '{ft.code}'",
                    file=str(cat_path),
                    column="aliases",
                    value=label,
                )
            alias_index[key] = ft.code
    indicators = _parse_indicators(cat_path, data, codes)
    return Catalog(
        id=str(meta.get("id", cat_path.stem)),
        name_zh=str(meta.get("name_zh", cat_path.stem)),
        name_en=str(meta.get("name_en", cat_path.stem)),
        version=str(meta.get("version", "")),
        facility_types=tuple(types),
        indicators=tuple(indicators),
        source_files=tuple(sources),
        city_zh=str(meta.get("city_zh", "")),
        baseline_year=meta.get("baseline_year"),
        target_year=meta.get("target_year"),
        _alias_index=alias_index,
    )
