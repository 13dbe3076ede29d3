"""The audit of facility files too large for one process's memory, partition by partition.

:func:`coverage_gis.core.engine.prepare` needs every facility row at once. For national tables
of tens of millions of rows, :func:`prepare_partitioned` instead

1. splits the facility files into partitions (consecutive GeoParquet row groups of about
   :data:`ROWS_PER_PARTITION` rows; other formats are one partition per file);
2. audits each partition on its own — read through the same reader and normaliser,
   :func:`~coverage_gis.core.engine.prepare` against all units — and keeps only a **compact**
   summary of it (:func:`compact`): one row per distinct combination of what evaluation
   looks at on the evaluation dates (unit, county, type, whether the row is in service on
   each date, the fields the catalogue's conditions test) with the number of rows and the
   sums of the attributes ratio indicators add up, plus the partition's findings and row
   accounting;
3. merges the summaries (:func:`merge_pieces`) into a
   :class:`~coverage_gis.core.engine.PreparedAudit` whose rows are weighted
   (:attr:`~coverage_gis.core.engine.PreparedAudit.weight`), so
   :meth:`~coverage_gis.core.engine.PreparedAudit.evaluate` gives the same indicators, counts
   and accounting as the in-process engine on those dates (and refuses other dates).

The partitions can run one after another in this process (``client=None``: memory holds
one partition at a time) or on a Dask cluster
(:func:`coverage_gis.core.engine_dask.prepare_dask_files`): then the client never holds the
facility rows, only the summaries. What a partitioned audit cannot give is what needs
every row on the client: the facility detail sheet, the facility points of the map and
``facilities.parquet``; its result's ``facilities`` table holds the weighted summary rows
(column ``weight``). The CRS suggestion from named units is not made either (declare
``--crs``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage_gis.core.catalog import Catalog
from coverage_gis.core.engine import PreparedAudit, prepare
from coverage_gis.core.findings import Finding, Findings
from coverage_gis.core.results import AuditOptions
from coverage_gis.core.schema import empty_facilities
from coverage_gis.io.normalise import MAX_ROW_FINDINGS, SHOWN_ROW_FINDINGS

__all__ = [
    "ROWS_PER_PARTITION",
    "Partition",
    "Piece",
    "audit_partition",
    "compact",
    "merge_findings",
    "merge_pieces",
    "plan_partitions",
    "prepare_partitioned",
]

#: Rows per partition of a GeoParquet file (whole row groups are taken).
ROWS_PER_PARTITION = 1_000_000
_KEYS = ("unit_idx", "county_idx", "type_idx", "served")
#: At most this many evaluation dates per partitioned audit (bits of an int64 mask).
MAX_DATES = 62


@dataclass(frozen=True)
class Partition:
    """One unit of work: a file, or consecutive row groups of a GeoParquet file."""

    path: str
    row_groups: tuple[int, ...] | None = None
    rows: int | None = None


@dataclass
class Piece:
    """What one partition's audit keeps (see :func:`compact`)."""

    rows: pd.DataFrame
    findings: list[Finding]
    accounting: pd.DataFrame


def plan_partitions(
    paths: Sequence[str | Path], rows_per_partition: int = ROWS_PER_PARTITION
) -> list[Partition]:
    """Split facility files into partitions of whole row groups (GeoParquet) or files."""
    import pyarrow.parquet as pq

    out: list[Partition] = []
    for path in paths:
        p = Path(path)
        if p.suffix.lower() not in (".parquet", ".geoparquet"):
            out.append(Partition(str(p)))
            continue
        meta = pq.ParquetFile(p).metadata
        group: list[int] = []
        size = 0
        for i in range(meta.num_row_groups):
            group.append(i)
            size += meta.row_group(i).num_rows
            if size >= rows_per_partition:
                out.append(Partition(str(p), tuple(group), size))
                group, size = [], 0
        if group or not meta.num_row_groups:
            out.append(Partition(str(p), tuple(group) or None, size))
    return out


def _fields(catalog: Catalog) -> tuple[list[str], list[str]]:
    """Facility fields evaluation tests (conditions) and those it sums (ratio terms).

    A field can be both (a condition on beds and a sum of beds): it is then a key of the
    compact table and its sum is kept in :func:`sum_column`.
    """
    tested: list[str] = []
    summed: list[str] = []
    for ind in catalog.indicators:
        for cond in ind.conditions:
            if cond.field not in tested:
                tested.append(cond.field)
        for term in (ind.numerator, ind.denominator):
            if term is None:
                continue
            for cond in term.conditions:
                if cond.field not in tested:
                    tested.append(cond.field)
            if term.source == "facilities" and term.field not in summed:
                summed.append(term.field)
    return tested, summed


def compact(prepared: PreparedAudit, dates: Sequence[dt.date]) -> pd.DataFrame:
    """The used rows of a prepared audit, grouped on what evaluation on ``dates`` looks at.

    Columns: unit, county and type positions, ``served`` (bit *k* set: in service on
    ``dates[k]``), the fields the catalogue's conditions test, ``weight`` (rows in the
    group) and the sums of the fields ratio indicators add up (missing values count as 0,
    as in evaluation). Opening and closing dates are not kept: the rows of a unit and type
    collapse to a few groups whatever their dates.
    """
    tested, summed = _fields(prepared.catalog)
    fac = prepared.facilities
    used = np.flatnonzero(prepared.used)
    served = np.zeros(len(used), dtype=np.int64)
    for k, day in enumerate(dates):
        served |= prepared.in_service(day)[used].astype(np.int64) << np.int64(k)
    data: dict[str, Any] = {
        "unit_idx": prepared.unit_idx[used],
        "county_idx": prepared.county_idx[used],
        "type_idx": prepared.type_idx[used],
        "served": served,
    }
    for f in tested:
        data[f] = fac[f].iloc[used].reset_index(drop=True)
    frame = pd.DataFrame(data)
    frame["weight"] = (
        prepared.weight[used] if prepared.weight is not None else np.ones(len(used), np.float64)
    )
    for f in summed:
        # one row each (or, for a weighted audit, already the group's sum)
        frame[sum_column(f, tested)] = np.nan_to_num(fac[f].to_numpy(dtype=float)[used], nan=0.0)
    return _regroup(frame, tested, summed)


def sum_column(field: str, tested: Sequence[str]) -> str:
    """Column of a compact table holding the sum of ``field`` (``field__sum`` if tested)."""
    return f"{field}__sum" if field in tested else field


def _regroup(frame: pd.DataFrame, tested: list[str], summed: list[str]) -> pd.DataFrame:
    keys = [*_KEYS, *tested]
    if not len(frame):
        return frame.reset_index(drop=True)
    sums = ["weight", *(sum_column(f, tested) for f in summed)]
    out = frame.groupby(keys, dropna=False, sort=True, observed=True)[sums].sum()
    return out.reset_index()


def audit_partition(
    part: Partition,
    units: gpd.GeoDataFrame,
    catalog: Catalog,
    dates: Sequence[dt.date],
    *,
    options: AuditOptions | None = None,
    read: Callable[[Partition], tuple[pd.DataFrame, Findings]] | None = None,
) -> Piece:
    """Read, normalise and prepare one partition; keep its compact summary for ``dates``."""
    frame, findings = (read or read_partition)(part)
    prepared = prepare(units, frame, catalog, options=options, findings=findings)
    return Piece(compact(prepared, dates), list(prepared.findings.items), prepared.accounting)


def read_partition(
    part: Partition,
    *,
    mapping: dict[str, str] | None = None,
    crs: str = "wgs84",
    encoding: str | None = None,
) -> tuple[pd.DataFrame, Findings]:
    """The facility rows of one partition, through the usual readers."""
    from coverage_gis.io.facilities import read_facility_file
    from coverage_gis.io.geoparquet import read_facilities_parquet

    if part.row_groups is not None:
        return read_facilities_parquet(
            part.path, mapping=mapping, crs=crs, row_groups=part.row_groups
        )
    return read_facility_file(part.path, mapping=mapping, crs=crs, encoding=encoding)


# --------------------------------------------------------------------------- merging

_INT = re.compile(r"(?<!\d)(\d+)(?!\d)")


def _with_count(f: Finding, old: int, new: int) -> Finding:
    """``f`` with ``count`` ``new``, the number ``old`` in its messages replaced once."""

    def sub(text: str) -> str:
        return re.sub(rf"(?<!\d){old}(?!\d)", str(new), text, count=1)

    return replace(f, message_zh=sub(f.message_zh), message_en=sub(f.message_en), count=new)


def merge_findings(lists: Iterable[Sequence[Finding]]) -> list[Finding]:
    """Findings of several partitions of the same inputs as one list, capped as one.

    Per-row problems (``row`` set, ``count`` 1) are listed up to :data:`MAX_ROW_FINDINGS`
    rows in all; above that, the first :data:`SHOWN_ROW_FINDINGS` and one finding with the
    count of the rest. Summaries of several rows (an unknown type, an unknown unit name,
    blank rows) are added up, their counts in the messages too.
    """
    groups: dict[tuple[Any, ...], list[Finding]] = {}
    for findings in lists:
        for f in findings:
            groups.setdefault((f.severity, f.code, f.file, f.sheet, f.column), []).append(f)
    out: list[Finding] = []
    for items in groups.values():
        rowlevel = [f for f in items if f.row is not None and f.count == 1]
        others = [f for f in items if not (f.row is not None and f.count == 1)]
        if rowlevel:
            rest = sum(f.count for f in others)
            total = len(rowlevel) + rest
            if total <= MAX_ROW_FINDINGS:
                out.extend(rowlevel)
                continue
            out.extend(rowlevel[:SHOWN_ROW_FINDINGS])
            left = total - SHOWN_ROW_FINDINGS
            if others:
                out.append(_with_count(others[0], others[0].count, left))
            else:
                first = rowlevel[SHOWN_ROW_FINDINGS]
                out.append(
                    replace(
                        first,
                        row=None,
                        message_zh=f"{first.message_zh}（另有 {left} 行，未逐行列出）",
                        message_en=f"{first.message_en} ({left} more row(s), not listed one by one)",
                        count=left,
                    )
                )
            continue
        by_value: dict[Any, list[Finding]] = {}
        for f in others:
            by_value.setdefault(repr(f.value), []).append(f)
        for same in by_value.values():
            first = same[0]
            total = sum(f.count for f in same)
            out.append(first if len(same) == 1 else _with_count(first, first.count, total))
    return out


def merge_pieces(
    pieces: Sequence[Piece],
    base: PreparedAudit,
    dates: Sequence[dt.date],
) -> PreparedAudit:
    """One weighted :class:`PreparedAudit` from the partitions' summaries.

    ``base`` is :func:`~coverage_gis.core.engine.prepare` of the same units and catalogue with no
    facility rows (units, counties, options, the inputs' findings).
    """
    tested, summed = _fields(base.catalog)
    frames = [p.rows for p in pieces if len(p.rows)]
    rows = (
        _regroup(pd.concat(frames, ignore_index=True), tested, summed)
        if frames
        else compact(base, dates)
    )
    type_codes = np.array([*base.catalog.type_codes, None], dtype=object)
    unit_codes = np.append(base.units["code"].to_numpy().astype(object), None)
    county_codes = np.append(base.counties["county_code"].to_numpy().astype(object), None)
    unit_idx = rows["unit_idx"].to_numpy(dtype=np.int64)
    county_idx = rows["county_idx"].to_numpy(dtype=np.int64)
    type_idx = rows["type_idx"].to_numpy(dtype=np.int64)
    fac = rows.copy()
    fac["type_code"] = pd.Series(type_codes[type_idx], dtype=object)
    fac["unit_code"] = pd.Series(unit_codes[unit_idx], dtype=object)
    fac["county_code"] = pd.Series(county_codes[county_idx], dtype=object)
    fac["used"] = True
    acc = pd.concat([p.accounting for p in pieces], ignore_index=True) if pieces else None
    if acc is not None and len(acc):
        order = pd.unique(acc["source_file"])
        acc = acc.groupby("source_file", sort=False).sum(numeric_only=True)
        acc = acc.reindex(order).reset_index()
        acc = acc[list(base.accounting.columns)] if len(base.accounting.columns) else acc
    else:
        acc = base.accounting
    findings = Findings([*base.findings.items, *merge_findings(p.findings for p in pieces)])
    return replace(
        base,
        facilities=fac,
        unit_idx=unit_idx,
        county_idx=county_idx,
        type_idx=type_idx,
        used=np.ones(len(fac), dtype=bool),
        status_class=np.zeros(len(fac), dtype=np.int8),  # folded into ``served``
        findings=findings,
        accounting=acc.reset_index(drop=True),
        weight=rows["weight"].to_numpy(dtype=np.float64),
        served_dates=tuple(dates),
        served=rows["served"].to_numpy(dtype=np.int64),
    )


def evaluation_dates(dates: Sequence[dt.date | str] | dt.date | str) -> tuple[dt.date, ...]:
    """The distinct evaluation dates of a partitioned audit, in order (at most 62)."""
    from coverage_gis.core.rules import as_date

    items = [dates] if isinstance(dates, dt.date | str) else list(dates)
    out = tuple(dict.fromkeys(as_date(d) for d in items))
    if not out or len(out) > MAX_DATES:
        raise ValueError(f"a partitioned audit needs 1 to {MAX_DATES} evaluation dates")
    return out


def prepare_partitioned(
    units: gpd.GeoDataFrame,
    paths: Sequence[str | Path],
    catalog: Catalog,
    dates: Sequence[dt.date | str] | dt.date | str,
    *,
    options: AuditOptions | None = None,
    findings: Findings | None = None,
    inputs: list[dict[str, Any]] | None = None,
    rows_per_partition: int = ROWS_PER_PARTITION,
    read: Callable[[Partition], tuple[pd.DataFrame, Findings]] | None = None,
    run: Callable[[list[Partition], gpd.GeoDataFrame, tuple[dt.date, ...]], list[Piece]]
    | None = None,
) -> PreparedAudit:
    """:func:`~coverage_gis.core.engine.prepare` of facility files, one partition at a time.

    Parameters
    ----------
    units, catalog, options, findings, inputs
        As :func:`coverage_gis.core.engine.prepare` (``findings``: the boundaries' findings).
    paths
        Facility files; GeoParquet files are split into partitions of whole row groups.
    dates
        The evaluation date(s) the result will be evaluated on (it can be evaluated on
        these only: the summaries keep whether each row serves on them, not the dates).
    rows_per_partition
        About how many rows one partition holds.
    read
        Reads one partition (default :func:`read_partition`: automatic column recognition,
        WGS84).
    run
        Audits a list of partitions and returns their pieces in order (default: one after
        another here; :func:`coverage_gis.core.engine_dask.prepare_dask_files` runs them on a
        cluster).
    """
    base = prepare(
        units, empty_facilities(), catalog, options=options, findings=findings, inputs=inputs
    )
    days = evaluation_dates(dates)
    parts = plan_partitions(paths, rows_per_partition)
    if run is None:
        pieces = [
            audit_partition(p, base.units, catalog, days, options=base.options, read=read)
            for p in parts
        ]
    else:
        pieces = run(parts, base.units, days)
    return merge_pieces(pieces, base, days)
