"""Batch audits from a JOB.toml: many dates, catalogues or input sets; one trend table.

Format (paths are relative to the job file)::

    [job]
    out = "out/batch"                 # output folder
    demo = true                       # or: boundaries = "…", facilities = ["…", …]
    catalog = "my_catalog.toml"       # optional (default: Suzhou 14th FYP)
    values = "manual_values.toml"     # optional manual indicator values
    dates = ["2020-12-31", "2023-12-31", "today"]   # or: years = [2020, 2021, …] (year ends)
    formats = ["csv", "json"]         # per-audit outputs (csv, json, xlsx)

    [[audit]]                         # optional: several input sets / catalogues;
    name = "gcj02-list"               # each inherits [job] and may override any key
    facilities = ["lists/amap.xlsx"]
    crs = "gcj02"

Besides ``name``, ``dates``/``years``, ``out`` and ``formats``, every key is a key of an audit
spec (:mod:`coverage_gis.spec`: boundaries with their layer, CRS and column mapping,
facility files as paths or tables with ``crs``/``layer``/``columns``, ``encoding``,
population, water, roads, values, …); unknown keys are refused.

Each audit × date writes ``OUT/<name>/<date>/`` with the usual outputs; ``OUT/trend.csv``
holds one row per (audit, indicator) and one column per date, and ``OUT/trend_long.csv``
the same in long form. The facility assignment is computed once per input set and reused
for every date.

Where a job may write: ``out`` must be a relative path that stays inside the job file's
folder, and each audit's folder (``OUT/<name>``) must stay inside ``OUT``. A job whose
``out`` is absolute or climbs out (``../../x``, or a symlink pointing elsewhere), or an
audit named ``..``, is refused before anything is read or written, unless the caller
passes ``allow_outside=True`` (``coverage-gis batch --allow-outside``): a job file may come
from someone else and should not be able to overwrite files elsewhere. The trend tables are
CSV with risky text cells prefixed by ``'`` (:mod:`coverage_gis.export.safety`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.errors import InputError
from coverage_gis.export.safety import safe_frame
from coverage_gis.export.tables import write_outputs
from coverage_gis.spec import AuditSpec, spec_inputs
from coverage_gis.workflow import Progress, prepare_audit

__all__ = ["audit_specs", "check_outputs", "run_batch"]

_NAME_RE = re.compile(r"[^\w\-.]+", re.UNICODE)
#: Keys of a job that are the batch's, not the audit spec's.
_JOB_KEYS = ("name", "dates", "years", "out", "formats")


def _silent(_zh: str, _en: str) -> None:
    return None


def _dates(spec: dict[str, Any], job: Path) -> list[dt.date]:
    if "dates" in spec:
        out = []
        for d in spec["dates"]:
            if isinstance(d, dt.date):
                out.append(d)
            elif str(d).strip().lower() == "today":
                out.append(dt.date.today())
            else:
                try:
                    out.append(dt.date.fromisoformat(str(d)))
                except ValueError as exc:
                    raise InputError(
                        f"作业文件日期无效：{d}",
                        f"Bad date in job file: {d}",
                        file=str(job),
                        column="dates",
                        value=d,
                    ) from exc
        return out
    if "years" in spec:
        return [dt.date(int(y), 12, 31) for y in spec["years"]]
    raise InputError(
        "作业文件需要 dates 或 years", "Job file needs 'dates' or 'years'", file=str(job)
    )


def _inside(path: Path, root: Path) -> bool:
    """True when ``path`` (symlinks resolved) is ``root`` or below it."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _outside_error(job: Path, key: str, value: object, target: Path, root: Path) -> InputError:
    return InputError(
        f"作业文件的输出位置在作业文件夹之外：{key} = {value!r} → {target}（允许的范围：{root}）",
        f"The job writes outside its folder: {key} = {value!r} → {target} (allowed: {root})",
        file=str(job),
        column=key,
        value=value,
        suggestion="改用作业文件夹内的相对路径，或确认无误后加 --allow-outside / use a relative "
        "path inside the job's folder, or pass --allow-outside if this is intended",
    )


def check_outputs(
    job: Path, base: dict[str, Any], audits: list[dict[str, Any]], *, allow_outside: bool = False
) -> Path:
    """Check where a job writes and return its output folder (see the module docstring).

    Parameters
    ----------
    job
        The job file.
    base, audits
        Its ``[job]`` table and ``[[audit]]`` entries.
    allow_outside
        Accept outputs outside the job's folder.

    Raises
    ------
    InputError
        When ``out`` (of the job or of an audit) is absolute or leaves the job's folder, or
        an audit's folder leaves ``out``, and ``allow_outside`` is false.
    """
    root = job.parent
    raw_out = base.get("out", "out/batch")
    out_root = root / str(raw_out)
    checks: list[tuple[str, object, Path, Path]] = [("out", raw_out, out_root, root)]
    for i, override in enumerate(audits, start=1):
        if "out" in override:
            checks.append((f"audit[{i}].out", override["out"], root / str(override["out"]), root))
        name = _audit_name(override, i, len(audits), base)
        checks.append((f"audit[{i}].name", name, out_root / name, out_root))
    if not allow_outside:
        for key, value, target, inside in checks:
            absolute = key.endswith("out") and Path(str(value)).is_absolute()
            if absolute or not _inside(target, inside):
                raise _outside_error(job, key, value, target, inside)
    return out_root


def _audit_name(override: dict[str, Any], i: int, n: int, base: dict[str, Any]) -> str:
    default = f"audit{i}" if n > 1 else "audit"
    return _NAME_RE.sub("_", str({**base, **override}.get("name", default)))


def _read_job(job: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        data = tomllib.loads(job.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"无法读取作业文件：{exc}", f"Cannot read job file: {exc}", file=str(job)
        ) from exc
    return dict(data.get("job", {})), list(data.get("audit") or [{}])


def audit_specs(job_path: str | Path) -> list[tuple[str, AuditSpec, dict[str, Any]]]:
    """Each audit of a job file: its name, its :class:`~coverage_gis.spec.AuditSpec`
    (``[job]`` with the audit's overrides, paths relative to the job file) and the batch's
    own keys (dates, years, out, formats).

    Raises
    ------
    InputError
        A bad job file, a key no spec has, an audit without boundaries or facilities.
    """
    job = Path(job_path)
    base, audits = _read_job(job)
    out = []
    for i, override in enumerate(audits, start=1):
        merged = {**base, **override}
        name = _audit_name(override, i, len(audits), base)
        job_keys = {k: merged.pop(k) for k in _JOB_KEYS if k in merged}
        spec = AuditSpec.from_dict(merged, base_dir=job.parent, file=str(job))
        if not spec.demo and (spec.boundaries is None or not spec.facilities):
            raise InputError(
                f"作业 {name} 缺少 boundaries/facilities（或 demo = true）",
                f"Audit {name} lacks boundaries/facilities (or demo = true)",
                file=str(job),
            )
        out.append((name, spec, job_keys))
    return out


def run_batch(
    job_path: str | Path, *, progress: Progress = _silent, allow_outside: bool = False
) -> str:
    """Run every audit of a job file; return a short text summary.

    Parameters
    ----------
    job_path
        The JOB.toml (format in the module docstring).
    progress
        Callback for progress messages (Chinese, English).
    allow_outside
        Let the job write outside its own folder (absolute ``out`` or one that climbs out).

    Raises
    ------
    InputError
        Bad job file, bad inputs, or outputs outside the job's folder without
        ``allow_outside`` (checked before anything is read or written).
    """
    job = Path(job_path)
    base, audits = _read_job(job)
    out_root = check_outputs(job, base, audits, allow_outside=allow_outside)
    specs = audit_specs(job)  # every audit checked before anything is read or written
    out_root.mkdir(parents=True, exist_ok=True)
    trend_rows: list[dict[str, Any]] = []
    for name, spec, job_keys in specs:
        catalog = load_catalog(spec.catalog)
        progress(f"作业 {name}：读取输入", f"audit {name}: reading inputs")
        inputs = spec_inputs(spec)
        prepared = prepare_audit(inputs, catalog, spec.options(), allow_errors=spec.allow_errors)
        formats = set(job_keys.get("formats", ["csv", "json"]))
        for day in _dates(job_keys, job):
            progress(f"作业 {name}：评估 {day}", f"audit {name}: evaluating {day}")
            result = prepared.evaluate(day)
            folder = out_root / name / day.isoformat()
            write_outputs(result, folder, formats & {"csv", "json", "parquet"})
            if "xlsx" in formats:
                from coverage_gis.export.workbook import write_workbook

                write_workbook(result, folder / "coverage_report.xlsx")
            for r in result.indicators:
                trend_rows.append(
                    {
                        "audit": name,
                        "id": r.indicator.id,
                        "name": r.indicator.name_zh,
                        "unit": r.indicator.unit,
                        "target": r.indicator.target,
                        "as_of": day.isoformat(),
                        "value": r.value,
                        "met": r.met,
                    }
                )
    long = pd.DataFrame(trend_rows)
    safe_frame(long).to_csv(out_root / "trend_long.csv", index=False, encoding="utf-8-sig")
    keys = ["audit", "id", "name", "unit", "target"]
    wide = long.pivot(index=keys, columns="as_of", values="value")
    order = pd.MultiIndex.from_frame(long[keys].drop_duplicates())
    wide = wide.reindex(order)[list(dict.fromkeys(long["as_of"]))].reset_index()
    wide.columns.name = None
    safe_frame(wide).to_csv(out_root / "trend.csv", index=False, encoding="utf-8-sig")
    n_dates = long["as_of"].nunique()
    return (
        f"完成 {len(audits)} 组输入 × {n_dates} 个评估日期；趋势表：{out_root / 'trend.csv'}\n"
        f"done: {len(audits)} input set(s) × {n_dates} date(s); trend table: {out_root / 'trend.csv'}"
    )
