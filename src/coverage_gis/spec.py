"""One declared audit (审计规格): every input, option and output of a run, in one record.

An :class:`AuditSpec` is what the CLI builds from its options, what each ``[[audit]]`` of a
batch job is, and what a desktop project holds besides its view state — like the declared
parameters of a QGIS processing algorithm, the shells only fill it in. It is frozen,
serialises to TOML or JSON (paths relative to the file, so a folder of spec and data can
be moved), and has a JSON Schema (:func:`json_schema`, shipped as
``resources/audit_spec.schema.json``) for editors.

Example (``audit.toml``)::

    format = "coverage-gis-audit"
    version = 1
    boundaries = "data/townships.gpkg"
    boundaries_layer = "towns"
    as_of = "2025-12-31"
    formats = ["table", "csv", "json", "xlsx"]

    [[facilities]]
    path = "data/养老设施.xlsx"
    crs = "gcj02"
    columns = { lon = "X坐标", lat = "Y坐标" }

``coverage-gis audit --spec audit.toml`` runs it; ``--write-spec FILE`` writes the spec of
any command line. Reading a spec refuses unknown keys and wrong types with a bilingual
message naming the file and key (a typo must not silently drop an input).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage_gis.core.errors import InputError

if TYPE_CHECKING:
    from coverage_gis.core.results import AuditOptions
    from coverage_gis.workflow import AuditInputs, Progress

__all__ = [
    "FORMATS",
    "SPEC_FORMAT",
    "SPEC_VERSION",
    "AuditSpec",
    "FacilitySpec",
    "facilities_from_options",
    "json_schema",
    "load_spec",
    "spec_inputs",
    "write_spec",
]

SPEC_FORMAT = "coverage-gis-audit"
SPEC_VERSION = 1
#: Output formats of an audit.
FORMATS = ("table", "csv", "json", "xlsx", "parquet")

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FacilitySpec:
    """One facility file and how to read it.

    Attributes
    ----------
    path
        The file (absolute in memory; relative to the spec file on disk).
    crs
        Its coordinate system (wgs84, cgcs2000, gcj02, bd09, EPSG:n); ``None``: not
        declared (read as WGS84; a system is suggested from the named units).
    layer
        Layer (GeoPackage, zip archive).
    columns
        Explicit column mapping, ``(field, header)`` pairs.
    """

    path: str
    crs: str | None = None
    layer: str | None = None
    columns: Pairs = ()


@dataclass(frozen=True)
class AuditSpec:
    """Inputs, options and outputs of one audit (see the module docstring).

    Attributes
    ----------
    demo
        Use the embedded Suzhou demo (its boundaries, facilities and access layers where
        not given).
    boundaries, boundaries_layer, boundaries_crs, boundary_columns
        The township boundaries: file, layer, CRS to declare when the file has none,
        column mapping.
    facilities
        The facility files.
    catalog
        Indicator catalogue TOML (``None``: the Suzhou 14th FYP catalogue).
    population, population_layer, population_columns, water, roads
        Inputs of the access indicators.
    encoding
        CSV encoding for every CSV input (``None``: detect).
    as_of
        Evaluation date ``YYYY-MM-DD`` (``None``: the day it runs).
    values
        Manual indicator values TOML.
    include_functional_zones, allow_errors
        Count 功能区 in township denominators; exclude rows with errors and go on.
    scenario
        A file of planned sites (规划方案): also audit "with the plan".
    suggest
        Site suggestions for the township presence indicators with gaps.
    out, formats, lang
        Output folder, formats (:data:`FORMATS`), language of the terminal table.
    """

    demo: bool = False
    boundaries: str | None = None
    boundaries_layer: str | None = None
    boundaries_crs: str | None = None
    boundary_columns: Pairs = ()
    facilities: tuple[FacilitySpec, ...] = ()
    catalog: str | None = None
    population: str | None = None
    population_layer: str | None = None
    population_columns: Pairs = ()
    water: str | None = None
    roads: str | None = None
    encoding: str | None = None
    as_of: str | None = None
    values: str | None = None
    include_functional_zones: bool = False
    allow_errors: bool = False
    scenario: str | None = None
    suggest: bool = False
    out: str = "out"
    formats: tuple[str, ...] = ("table", "csv", "json")
    lang: str = "zh"

    # -- derived ------------------------------------------------------------------------
    def evaluation_date(self, today: dt.date | None = None) -> dt.date:
        """:attr:`as_of` as a date (``today`` or the current day when not set)."""
        if self.as_of is None:
            return today or dt.date.today()
        return dt.date.fromisoformat(self.as_of)

    def options(self) -> AuditOptions:
        """The :class:`~coverage_gis.core.results.AuditOptions` (manual values read)."""
        from coverage_gis.core.results import AuditOptions
        from coverage_gis.workflow import load_manual_values

        return AuditOptions(
            include_functional_zones=self.include_functional_zones,
            manual_values=load_manual_values(self.values),
        )

    # -- (de)serialisation --------------------------------------------------------------
    def to_dict(self, base_dir: str | Path | None = None) -> dict[str, Any]:
        """Plain data (``None`` and default values left out), paths relative to
        ``base_dir`` where possible."""

        def rel(p: str | None) -> str | None:
            if p is None or base_dir is None:
                return p
            try:
                return Path(os.path.relpath(Path(p).resolve(), Path(base_dir).resolve())).as_posix()
            except ValueError:  # another drive on Windows
                return str(p)

        out: dict[str, Any] = {"format": SPEC_FORMAT, "version": SPEC_VERSION}
        defaults = AuditSpec()
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v == getattr(defaults, f.name) and f.name not in ("formats",):
                continue
            if f.name in _PATHS:
                out[f.name] = rel(v)
            elif f.name == "facilities":
                out[f.name] = [
                    {
                        k: w
                        for k, w in {
                            "path": rel(s.path),
                            "crs": s.crs,
                            "layer": s.layer,
                            "columns": dict(s.columns) or None,
                        }.items()
                        if w is not None
                    }
                    for s in v
                ]
            elif f.name in _PAIRS:
                out[f.name] = dict(v)
            elif isinstance(v, tuple):
                out[f.name] = list(v)
            else:
                out[f.name] = v
        return out

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        base_dir: str | Path | None = None,
        file: str | None = None,
    ) -> AuditSpec:
        """Read :meth:`to_dict`'s form (relative paths resolved against ``base_dir``).

        Also accepted: facilities as plain path strings, and top-level ``crs``,
        ``facilities_layer`` and ``columns`` applying to every facility entry that does
        not set its own (the short forms of a batch job).

        Raises
        ------
        InputError
            Unknown keys, wrong types, an unknown format or version, a bad date.
        """
        d = dict(data)
        fmt = d.pop("format", SPEC_FORMAT)
        version = d.pop("version", SPEC_VERSION)
        if fmt != SPEC_FORMAT or version != SPEC_VERSION:
            raise _bad(file, "format", fmt if fmt != SPEC_FORMAT else version,
                       f"不是 {SPEC_FORMAT} 第 {SPEC_VERSION} 版审计规格",
                       f"not a {SPEC_FORMAT} spec of version {SPEC_VERSION}")  # fmt: skip
        shared_crs = _opt_str(d.pop("crs", None), "crs", file)
        shared_layer = _opt_str(d.pop("facilities_layer", None), "facilities_layer", file)
        shared_cols = _pairs(d.pop("columns", None), "columns", file)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise _bad(file, unknown[0], unknown[0], f"未知的键：{', '.join(unknown)}",
                       f"unknown key(s): {', '.join(unknown)}")  # fmt: skip

        def absolute(p: Any, key: str) -> str | None:
            s = _opt_str(p, key, file)
            if s is None or s == "":
                return None
            path = Path(s)
            if not path.is_absolute() and base_dir is not None:
                path = Path(base_dir) / path
            return str(path)

        kw: dict[str, Any] = {}
        for key, value in d.items():
            if key in _PATHS:
                kw[key] = absolute(value, key)
            elif key == "facilities":
                if not isinstance(value, list):
                    raise _bad(file, key, value, "应为列表", "must be a list")
                kw[key] = tuple(
                    _facility(v, i, absolute, shared_crs, shared_layer, shared_cols, file)
                    for i, v in enumerate(value)
                )
            elif key in _PAIRS:
                kw[key] = _pairs(value, key, file)
            elif key in _BOOLS:
                if not isinstance(value, bool):
                    raise _bad(file, key, value, "应为 true/false", "must be true or false")
                kw[key] = value
            elif key == "formats":
                if isinstance(value, str):
                    value = [v.strip() for v in value.split(",") if v.strip()]
                if not isinstance(value, list) or not all(v in FORMATS for v in value):
                    raise _bad(file, key, value, f"格式应取自 {', '.join(FORMATS)}",
                               f"formats must be among {', '.join(FORMATS)}")  # fmt: skip
                kw[key] = tuple(value)
            elif key == "as_of":
                if value is not None:
                    if isinstance(value, dt.date):
                        value = value.isoformat()
                    try:
                        dt.date.fromisoformat(str(value))
                    except ValueError:
                        raise _bad(file, key, value, "日期应为 YYYY-MM-DD",
                                   "date must be YYYY-MM-DD") from None  # fmt: skip
                    value = str(value)
                kw[key] = value
            elif key == "lang":
                if value not in ("zh", "en"):
                    raise _bad(file, key, value, "语言应为 zh 或 en", "lang must be zh or en")
                kw[key] = value
            else:  # plain strings
                kw[key] = _opt_str(value, key, file)
        return cls(**kw)

    def to_toml(self, base_dir: str | Path | None = None) -> str:
        """The spec as TOML text."""
        return _toml(self.to_dict(base_dir))

    def to_json(self, base_dir: str | Path | None = None) -> str:
        """The spec as JSON text."""
        return json.dumps(self.to_dict(base_dir), ensure_ascii=False, indent=2) + "\n"


_PATHS = ("boundaries", "catalog", "population", "water", "roads", "values", "scenario", "out")
_PAIRS = ("boundary_columns", "population_columns")
_BOOLS = ("demo", "include_functional_zones", "allow_errors", "suggest")


def _bad(file: str | None, key: str, value: Any, zh: str, en: str) -> InputError:
    return InputError(
        f"审计规格的 {key}：{zh}",
        f"Audit spec key '{key}': {en}",
        file=file,
        column=key,
        value=None if value is None else str(value),
    )


def _opt_str(value: Any, key: str, file: str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _bad(file, key, value, "应为文本", "must be a string")


def _pairs(value: Any, key: str, file: str | None) -> Pairs:
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()
    ):
        raise _bad(
            file, key, value, '应为 字段 = "列名" 的表', 'must be a table of field = "header"'
        )
    return tuple((str(k), str(v)) for k, v in value.items())


def _facility(
    v: Any,
    i: int,
    absolute: Any,
    crs: str | None,
    layer: str | None,
    columns: Pairs,
    file: str | None,
) -> FacilitySpec:
    key = f"facilities[{i}]"
    if isinstance(v, str):
        v = {"path": v}
    if not isinstance(v, Mapping):
        raise _bad(file, key, v, "应为路径或表", "must be a path or a table")
    extra = sorted(set(v) - {"path", "crs", "layer", "columns"})
    if extra:
        raise _bad(file, f"{key}.{extra[0]}", extra[0], "未知的键", "unknown key")
    path = absolute(v.get("path"), f"{key}.path")
    if path is None:
        raise _bad(file, f"{key}.path", None, "缺少路径", "has no path")
    return FacilitySpec(
        path=path,
        crs=_opt_str(v.get("crs", crs), f"{key}.crs", file),
        layer=_opt_str(v.get("layer", layer), f"{key}.layer", file),
        columns=_pairs(v["columns"], f"{key}.columns", file) if "columns" in v else columns,
    )


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON string escapes are TOML's
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _toml_key(k: str) -> str:
    return (
        k
        if k.replace("_", "").replace("-", "").isalnum() and k.isascii()
        else json.dumps(k, ensure_ascii=False)
    )


def _toml(d: dict[str, Any]) -> str:
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in d.items() if k != "facilities"]
    for fac in d.get("facilities", []):
        lines += ["", "[[facilities]]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in fac.items()]
    return "\n".join(lines) + "\n"


def load_spec(path: str | Path) -> AuditSpec:
    """Read a spec file (``.toml`` or ``.json``); relative paths are the file's."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"无法读取审计规格：{exc}", f"Cannot read the audit spec: {exc}", file=str(p)
        ) from exc
    if not isinstance(data, dict):
        raise InputError("审计规格应为键值表", "An audit spec must be a table", file=str(p))
    return AuditSpec.from_dict(data, base_dir=p.parent, file=str(p))


def write_spec(spec: AuditSpec, path: str | Path) -> Path:
    """Write ``spec`` as TOML (or JSON for ``.json``) with paths relative to the file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    text = spec.to_json(p.parent) if p.suffix.lower() == ".json" else spec.to_toml(p.parent)
    p.write_text(text, encoding="utf-8")
    return p


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a spec file, for editors."""
    text = {"type": ["string", "null"]}
    pairs = {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}
    described = {
        "demo": ("boolean", "使用内置苏州示意数据 / use the embedded Suzhou demo"),
        "boundaries": (text, "镇(街道)边界文件 / township boundaries file"),
        "boundaries_layer": (text, "边界图层 / boundary layer"),
        "boundaries_crs": (text, "边界无坐标系时声明 / CRS to declare for boundaries"),
        "boundary_columns": (pairs, "边界列映射 / boundary column mapping"),
        "catalog": (text, "指标目录 TOML / indicator catalogue"),
        "population": (text, "人口：村/社区表或栅格 / population table or raster"),
        "population_layer": (text, "人口图层 / population layer"),
        "population_columns": (pairs, "人口表列映射 / population column mapping"),
        "water": (text, "水域图层 / water layer"),
        "roads": (text, "道路网络 / road network"),
        "encoding": (text, "CSV 编码 / CSV encoding"),
        "as_of": ({"type": ["string", "null"], "format": "date"}, "评估日期 / evaluation date"),
        "values": (text, "人工填报指标值 / manual indicator values"),
        "include_functional_zones": ("boolean", "功能区计入分母 / count 功能区"),
        "allow_errors": ("boolean", "排除错误行后继续 / exclude rows with errors"),
        "scenario": (text, "规划方案（计划点位）/ planned sites"),
        "suggest": ("boolean", "选址建议 / site suggestions"),
        "out": ({"type": "string"}, "输出目录 / output folder"),
        "formats": (
            {"type": "array", "items": {"enum": list(FORMATS)}, "uniqueItems": True},
            "输出格式 / output formats",
        ),
        "lang": ({"enum": ["zh", "en"]}, "终端语言 / terminal language"),
        "crs": (text, "所有设施文件的坐标系 / CRS of every facility file"),
        "facilities_layer": (text, "所有设施文件的图层 / layer of every facility file"),
        "columns": (pairs, "所有设施文件的列映射 / column mapping of every facility file"),
    }
    props: dict[str, Any] = {
        "format": {"const": SPEC_FORMAT},
        "version": {"const": SPEC_VERSION},
    }
    for k, (t, desc) in described.items():
        props[k] = {**({"type": t} if isinstance(t, str) else t), "description": desc}
    props["facilities"] = {
        "description": "设施名录文件 / facility files",
        "type": "array",
        "items": {
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "required": ["path"],
                    "additionalProperties": False,
                    "properties": {
                        "path": {"type": "string"},
                        "crs": text,
                        "layer": text,
                        "columns": pairs,
                    },
                },
            ]
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://coverage-gis.invalid/audit_spec.schema.json",
        "title": "coverage-gis audit spec · 审计规格",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }


def spec_inputs(
    spec: AuditSpec, *, locate_ahead: bool = True, progress: Progress | None = None
) -> AuditInputs:
    """Read the spec's inputs (:func:`coverage_gis.workflow.load_inputs`).

    With :attr:`~AuditSpec.demo`, the demo's boundaries and facilities stand in for those
    not given, and its population, water and roads go with its own units.

    Raises
    ------
    InputError
        No boundaries or no facilities (and not the demo).
    """
    from coverage_gis.workflow import (
        demo_access_paths,
        demo_boundaries_path,
        demo_facilities_paths,
        load_inputs,
    )

    boundaries: str | Path | None = spec.boundaries
    facilities: list[str | Path] = [f.path for f in spec.facilities]
    access: dict[str, str | Path | None] = {
        "population": spec.population,
        "water": spec.water,
        "roads": spec.roads,
    }
    if spec.demo:
        own = boundaries is None and not facilities
        boundaries = boundaries or demo_boundaries_path()
        facilities = facilities or list(demo_facilities_paths())
        if own:  # the demo's own schematic layers go with the demo's units
            for k, p in demo_access_paths().items():
                access[k] = access[k] or p
    if boundaries is None or not facilities:
        raise InputError(
            "需要边界文件和至少一个设施文件（或示例数据 demo）",
            "Need boundaries and at least one facility file (or the demo)",
            column="boundaries" if boundaries is None else "facilities",
        )
    crs = {f.path: f.crs for f in spec.facilities if f.crs}
    layers = {f.path: f.layer for f in spec.facilities if f.layer}
    columns = {f.path: dict(f.columns) for f in spec.facilities if f.columns}
    extra: dict[str, Any] = {} if progress is None else {"progress": progress}
    return load_inputs(
        boundaries,
        facilities,
        boundaries_layer=spec.boundaries_layer,
        boundaries_crs=spec.boundaries_crs,
        boundary_mapping=dict(spec.boundary_columns) or None,
        facilities_crs=crs or None,
        facilities_layer=layers or None,
        column_mapping=columns or None,
        encoding=spec.encoding,
        population=access["population"],
        water=access["water"],
        roads=access["roads"],
        population_columns=dict(spec.population_columns) or None,
        population_layer=spec.population_layer,
        locate_ahead=locate_ahead,
        **extra,
    )


def facilities_from_options(
    paths: Sequence[str | Path],
    crs: str | Mapping[str, str] | None,
    layers: str | Mapping[str, str] | None,
    columns: Mapping[str, str],
) -> tuple[FacilitySpec, ...]:
    """Facility entries from the CLI's forms: one value for every file or ``{file: value}``
    (by file name or path), one column mapping for every file."""

    def pick(value: str | Mapping[str, str] | None, p: str | Path) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return value.get(Path(p).name, value.get(str(p)))

    return tuple(
        FacilitySpec(
            path=str(p),
            crs=pick(crs, p),
            layer=pick(layers, p),
            columns=tuple(columns.items()),
        )
        for p in paths
    )
