"""The coverage engine: assign facilities to units and evaluate a catalogue's indicators.

This module is the single engine behind the CLI, the GUI and every export. It imports no
Qt, no folium and no file readers: it takes the normalised tables described in
:mod:`coverage_gis.core.schema` and returns an :class:`~coverage_gis.core.results.AuditResult`.

Work is split in two so that interactive callers can re-evaluate quickly:

* :func:`prepare` does the expensive, date-independent part once — facility-type
  matching, the spatial join of facility points to unit polygons (one vectorised
  point-in-polygon pass for all points, :mod:`coverage_gis.core.point_in_polygon`; boundary
  cases decided by GEOS), name matching for rows without coordinates, conflict detection;
* :meth:`PreparedAudit.evaluate` filters by evaluation date and counts with ``bincount``.

:func:`audit` does both. Work is per distinct value (types, names, statuses) or vectorised
per row, so a national table (40,000 units, millions of rows) is audited in seconds; when a
per-row finding would be listed for more than :data:`MAX_ROW_FINDINGS` rows, the first rows
are listed and one finding with a count stands for the rest (the rows stay flagged in the
facility table: ``excluded_reason``, ``assign_method``, ``conflict``).

Assignment rules
----------------
1. A facility with coordinates belongs to the unit whose polygon *covers* its point
   (interior or boundary). A point on an edge shared by several units goes to the unit
   with the **smallest unit code** (string order) — deterministic and independent of row
   or file order. Such points are reported as ``point_on_shared_edge`` (info).
2. A point inside no unit is reported (``point_outside_units``). If the row names its
   所属镇(街道) and that name resolves, it counts by name (flagged); otherwise it is excluded.
3. A row without usable coordinates counts by its named 所属镇(街道) (``counted_by_name``,
   warning); failing that, by its named 所属区县 for county-level indicators only
   (``counted_by_county_name``); failing that, it is excluded (``no_location``).
4. When a point's unit differs from the unit the row names, the point wins and the row is
   reported as ``unit_name_conflict`` (warning).

A facility *qualifies* on the evaluation date when its type is known, it is located, its
status is not a not-yet-open status (在建, 筹建, 规划 …), it opened on or before the date
(a blank opening date counts as opened long ago) and it has not closed by then (a closed
status with no closing date counts as closed on every date, and is reported).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage_gis._memory import release_unused_memory
from coverage_gis._threads import pool as threads
from coverage_gis.core.catalog import Catalog, Condition, Indicator, RatioTerm
from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding, Findings
from coverage_gis.core.locate import PendingLocation, locate_facilities
from coverage_gis.core.names import match_unit_names, name_key
from coverage_gis.core.results import AuditOptions, AuditResult, IndicatorResult
from coverage_gis.core.rules import (
    EXCLUSION_REASONS,
    STATUS_CLOSED,
    STATUS_NOT_OPEN,
    STATUS_OPEN,
    STATUS_UNKNOWN,
    TARGET_TOLERANCE,
    as_date,
    classify_status,
    compare_target,
    condition_mask,
)
from coverage_gis.core.schema import FUNCTIONAL_ZONE_KINDS, UNIT_COLUMNS, coerce_facilities

if TYPE_CHECKING:
    from coverage_gis.access.evaluate import AccessInputs

__all__ = [
    "MAX_ROW_FINDINGS",
    "PreparedAudit",
    "audit",
    "prepare",
    "validate_units",
    "with_options",
]


_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


def _county_stem(value: object) -> str:
    key = name_key(value)
    for suffix in ("市辖区", "区", "市", "县"):
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)]
    return key


def validate_units(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The units as the engine uses them: a copy in EPSG:4326 with a fresh index and
    stripped codes.

    Raises
    ------
    InputError
        For missing columns, a missing CRS, duplicate unit codes or units without geometry.
    """
    missing = [c for c in UNIT_COLUMNS if c not in units.columns]
    if missing:
        raise InputError(
            f"边界数据缺少字段：{', '.join(missing)}（现有字段：{', '.join(map(str, units.columns))}）",
            f"Boundary data lacks columns: {', '.join(missing)} (found: {', '.join(map(str, units.columns))})",
            column=", ".join(missing),
        )
    if units.crs is None:
        raise InputError(
            "边界数据没有坐标系定义",
            "Boundary data has no CRS",
            suggestion="读取时声明坐标系 / declare the CRS when reading",
        )
    out = units.to_crs(4326) if not units.crs.equals("EPSG:4326") else units.copy()
    out = out.reset_index(drop=True)
    for col in ("code", "county_code"):
        out[col] = out[col].astype(str).str.strip()
    dup = out["code"][out["code"].duplicated(keep=False)]
    if len(dup):
        raise InputError(
            f"镇(街道)代码重复：{', '.join(sorted(set(dup)))}",
            f"Duplicate unit codes: {', '.join(sorted(set(dup)))}",
            column="code",
            value=sorted(set(dup))[0],
        )
    empty = out.geometry.isna() | out.geometry.is_empty
    if empty.any():
        bad = out.loc[empty, "code"].tolist()
        raise InputError(
            f"镇(街道)缺少几何图形：{', '.join(bad)}",
            f"Units without geometry: {', '.join(bad)}",
            column="geometry",
            value=bad[0],
        )
    return out


@dataclass
class PreparedAudit:
    """Date-independent part of an audit: assignments, ready to evaluate on any date.

    Build it with :func:`prepare`; call :meth:`evaluate` for each evaluation date.
    Evaluating again costs a few array filters and ``bincount`` calls.
    """

    catalog: Catalog
    options: AuditOptions
    units: gpd.GeoDataFrame
    counties: pd.DataFrame
    facilities: pd.DataFrame
    unit_idx: np.ndarray
    county_idx: np.ndarray
    type_idx: np.ndarray
    used: np.ndarray
    status_class: np.ndarray
    findings: Findings
    accounting: pd.DataFrame
    inputs: list[dict[str, Any]]
    schematic_boundaries: bool
    #: Rows each facility row stands for (None: one each). A partitioned audit
    #: (:func:`coverage_gis.core.engine_dask.prepare_dask_files`) keeps one row per distinct
    #: combination of what evaluation looks at, weighted, instead of every row read.
    weight: np.ndarray | None = None
    #: For a partitioned audit: the evaluation dates it was prepared for, and per row a
    #: bit mask of whether the row is in service on each of them (bit k: ``served_dates[k]``).
    served_dates: tuple[dt.date, ...] | None = None
    served: np.ndarray | None = None
    #: Demand, water and roads for ``access`` indicators (None: the units' own totals,
    #: no water, no roads).
    access: AccessInputs | None = None

    def _count(self, idx: np.ndarray, rows: np.ndarray | None, minlength: int) -> np.ndarray:
        """``bincount`` of ``idx`` (positions ``rows``, or a mask), by :attr:`weight`."""
        if self.weight is None:
            return np.bincount(idx, minlength=minlength)
        w = self.weight if rows is None else self.weight[rows]
        return np.bincount(idx, weights=w, minlength=minlength).round().astype(np.int64)

    def with_facilities(
        self,
        facilities: pd.DataFrame,
        *,
        findings: Findings | None = None,
        inputs: list[dict[str, Any]] | None = None,
    ) -> PreparedAudit:
        """This audit plus more facility rows (a scenario's planned sites).

        The new rows go through :func:`prepare` on their own (type matching, location,
        status, accounting, findings) and are appended; the rows already prepared are not
        matched or located again, so adding one planned site costs its own location plus
        a few array appends. ``self`` is not changed.

        Parameters
        ----------
        facilities
            Normalised facility rows (see :mod:`coverage_gis.core.schema`).
        findings
            The findings of the reader that produced them (appended after this audit's).
        inputs
            Descriptions of their source (appended to :attr:`inputs`).

        Raises
        ------
        ValueError
            For a partitioned audit (weighted rows): prepare it again with the rows.
        """
        if self.weight is not None or self.served is not None:
            raise ValueError("a partitioned audit cannot take more rows: prepare it again")
        extra = prepare(
            self.units, facilities, self.catalog, options=self.options, findings=findings
        )
        fac = pd.concat([self.facilities, extra.facilities], ignore_index=True)
        return replace(
            self,
            facilities=fac,
            unit_idx=np.concatenate([self.unit_idx, extra.unit_idx]),
            county_idx=np.concatenate([self.county_idx, extra.county_idx]),
            type_idx=np.concatenate([self.type_idx, extra.type_idx]),
            used=np.concatenate([self.used, extra.used]),
            status_class=np.concatenate([self.status_class, extra.status_class]),
            findings=Findings([*self.findings.items, *extra.findings.items]),
            accounting=_accounting(fac),
            inputs=[*self.inputs, *(inputs or [])],
        )

    # -- evaluation ---------------------------------------------------------------------
    def in_service(self, as_of: dt.date) -> np.ndarray:
        """Boolean mask of facility rows that qualify as in service on ``as_of``."""
        if self.served_dates is not None and self.served is not None:
            day_ = as_date(as_of)
            if day_ not in self.served_dates:
                raise ValueError(
                    f"this partitioned audit was prepared for {', '.join(map(str, self.served_dates))}, "
                    f"not {day_}: prepare it again with that date"
                )
            bit = np.int64(1) << np.int64(self.served_dates.index(day_))
            return self.used & ((self.served & bit) != 0)
        day = np.datetime64(pd.Timestamp(as_of).normalize().to_datetime64(), "ns")
        opened = self.facilities["opened"].to_numpy(dtype="datetime64[ns]")
        closed = self.facilities["closed"].to_numpy(dtype="datetime64[ns]")
        opened_ok = np.isnat(opened) | (opened <= day)
        not_closed = np.isnat(closed) | (closed > day)
        closed_status_no_date = (self.status_class == STATUS_CLOSED) & np.isnat(closed)
        return (
            self.used
            & (self.status_class != STATUS_NOT_OPEN)
            & opened_ok
            & not_closed
            & ~closed_status_no_date
        )

    def evaluate(self, as_of: dt.date | str, options: AuditOptions | None = None) -> AuditResult:
        """Evaluate every indicator of the catalogue on ``as_of``.

        Parameters
        ----------
        as_of
            Evaluation date (``datetime.date`` or ISO string).
        options
            Overrides the options given to :func:`prepare` (manual values may change
            between evaluations; ``include_functional_zones`` too).
        """
        as_of = as_date(as_of)
        opts = options or self.options
        units = self.units.copy()
        units["counted"] = _counted_mask(units, opts.include_functional_zones)
        fac = self.facilities
        n_units, n_types, n_counties = (
            len(units),
            len(self.catalog.facility_types),
            len(self.counties),
        )
        serving = self.in_service(as_of)
        located = self.used & (self.unit_idx >= 0)
        codes = units["code"].to_numpy()
        type_codes = list(self.catalog.type_codes)

        def unit_type_counts(mask: np.ndarray) -> np.ndarray:
            flat = self.unit_idx[mask] * n_types + self.type_idx[mask]
            return self._count(flat, mask, n_units * n_types).reshape(n_units, n_types)

        counts_all = pd.DataFrame(
            unit_type_counts(located), index=pd.Index(codes, name="code"), columns=type_codes
        )
        counts_q = pd.DataFrame(
            unit_type_counts(located & serving),
            index=pd.Index(codes, name="code"),
            columns=type_codes,
        )
        cmask = serving & (self.county_idx >= 0)
        cflat = self.county_idx[cmask] * n_types + self.type_idx[cmask]
        county_q = pd.DataFrame(
            self._count(cflat, cmask, n_counties * n_types).reshape(n_counties, n_types),
            index=pd.Index(self.counties["county_code"].to_numpy(), name="county_code"),
            columns=type_codes,
        )
        fac_out = fac.copy(deep=not _COPY_ON_WRITE)  # CoW: a shallow copy is a safe copy
        fac_out["in_service"] = serving
        if self.weight is not None:
            fac_out["weight"] = self.weight
        type_index = {c: i for i, c in enumerate(type_codes)}
        findings = Findings(list(self.findings.items))
        results = [
            self._evaluate_indicator(ind, serving, units, type_index, opts, findings)
            for ind in self.catalog.indicators
        ]
        for ind in self.catalog.indicators:
            for term in (ind.numerator, ind.denominator):
                if term is not None and term.source == "units" and term.field not in units.columns:
                    findings.add(
                        Finding(
                            "warning",
                            "indicator_field_missing",
                            f"边界数据缺少字段 {term.field}，指标 {ind.id} 无法计算",
                            f"Boundary data lacks the field '{term.field}'; indicator {ind.id} cannot be computed",
                            column=term.field,
                            value=ind.id,
                        )
                    )
        return AuditResult(
            as_of=as_of,
            catalog=self.catalog,
            options=opts,
            units=units,
            counties=self._county_table(units),
            facilities=fac_out,
            counts_all=counts_all,
            counts_qualifying=counts_q,
            county_counts_qualifying=county_q,
            indicators=results,
            findings=findings,
            accounting=self.accounting.copy(),
            inputs=list(self.inputs),
            schematic_boundaries=self.schematic_boundaries,
        )

    # -- helpers ------------------------------------------------------------------------
    def _unit_county(self, units: gpd.GeoDataFrame) -> np.ndarray:
        """Position of each unit's county in :attr:`counties` (every unit has one)."""
        cached = self.__dict__.get("_unit_county_cache")
        if cached is not None and cached[0] is units:
            return cached[1]
        pos = pd.Index(self.counties["county_code"]).get_indexer(units["county_code"])
        self.__dict__["_unit_county_cache"] = (units, pos)
        return pos

    def _county_table(self, units: gpd.GeoDataFrame) -> pd.DataFrame:
        grp = units.groupby("county_code", sort=False)
        t = self.counties.copy()
        t["n_units"] = t["county_code"].map(grp.size()).fillna(0).astype("int64")
        t["n_counted"] = t["county_code"].map(grp["counted"].sum()).fillna(0).astype("int64")
        return t

    def _rows_by_type(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the used rows grouped by type, and where each type's group starts.

        Computed once per prepared audit: every indicator then touches only the rows of
        its own types (a few per cent of a national table) instead of filtering them all.
        """
        cached = self.__dict__.get("_rows_by_type_cache")
        if cached is not None and cached[0] is self.type_idx:
            return cached[1], cached[2]
        used = np.flatnonzero(self.used)
        # stable sort of small integers: numpy uses a radix sort for 16-bit keys
        order = used[np.argsort(self.type_idx[used].astype(np.int16), kind="stable")]
        bounds = np.searchsorted(
            self.type_idx[order], np.arange(len(self.catalog.facility_types) + 1)
        )
        self.__dict__["_rows_by_type_cache"] = (self.type_idx, order, bounds)
        return order, bounds

    def _access_universe(self, ind: Indicator, type_index: dict[str, int]) -> np.ndarray:
        """Rows an access indicator could count on any date: used, of its types, meeting
        its conditions, located in a unit (date-independent; cached per indicator)."""
        cache = self.__dict__.setdefault("_access_universe_cache", {})
        if ind.id not in cache:
            rows = self._facility_rows(self.used, type_index, ind.facility_types, ind.conditions)
            # in row order: a scenario's planned rows, appended last, extend the set at its
            # end, so their pairs are the only ones measured (AccessInputs.pairs)
            cache[ind.id] = np.sort(rows[self.unit_idx[rows] >= 0])
        return cache[ind.id]

    def _facility_rows(
        self,
        serving: np.ndarray,
        type_index: dict[str, int],
        types: tuple[str, ...],
        conditions: tuple[Condition, ...],
    ) -> np.ndarray:
        """Positions of the rows of ``types`` that serve on the date and meet ``conditions``."""
        order, bounds = self._rows_by_type()
        wanted = sorted({type_index[t] for t in types})
        rows = (
            np.concatenate([order[bounds[t] : bounds[t + 1]] for t in wanted])
            if wanted
            else np.zeros(0, dtype=np.int64)
        )
        rows = rows[serving[rows]]
        if conditions and len(rows):
            rows = rows[condition_mask(self.facilities, conditions, rows)]
        return rows

    def _evaluate_indicator(
        self,
        ind: Indicator,
        serving: np.ndarray,
        units: gpd.GeoDataFrame,
        type_index: dict[str, int],
        opts: AuditOptions,
        findings: Findings,
    ) -> IndicatorResult:
        if ind.kind == "manual":
            value = opts.manual_values.get(ind.id)
            if value is None:
                return IndicatorResult(ind, None, None, None, None, None, "manual_missing")
            met, gap = compare_target(float(value), ind.operator, ind.target)
            return IndicatorResult(ind, float(value), None, None, met, gap, "manual")
        if ind.kind == "presence":
            return self._presence(ind, serving, units, type_index)
        if ind.kind == "access":
            return self._access(ind, serving, units, type_index, findings)
        return self._ratio(ind, serving, units, type_index)

    def _access(
        self,
        ind: Indicator,
        serving: np.ndarray,
        units: gpd.GeoDataFrame,
        type_index: dict[str, int],
        findings: Findings,
    ) -> IndicatorResult:
        """An ``access`` indicator: demand within reach of the qualifying facilities.

        Facilities count as for a presence indicator (type, in service on the date,
        conditions) and must be located inside a unit (a point outside every unit is
        reported and not trusted as a place).
        """
        from coverage_gis.access.evaluate import AccessInputs, evaluate_access

        if self.access is None:  # the units' own totals; holds the distance cache
            self.access = AccessInputs()
        rule = ind.access
        assert rule is not None
        rows = self._facility_rows(serving, type_index, ind.facility_types, ind.conditions)
        rows = rows[self.unit_idx[rows] >= 0]
        if self.weight is not None:  # a partitioned audit keeps no facility points
            findings.add(
                Finding(
                    "warning",
                    "access_needs_rows",
                    f"分区审计不保留设施点位，可达性指标 {ind.id} 未计算（请用本机引擎）",
                    f"A partitioned audit keeps no facility points; access indicator {ind.id} "
                    "was not computed (use the local engine)",
                    value=ind.id,
                )
            )
            return IndicatorResult(ind, None, None, None, None, None, "no_data")
        fac = self.facilities
        cap = None
        if rule.capacity_field is not None:
            cap = fac[rule.capacity_field].to_numpy(dtype=float)[rows]
        # rows first, and no conversion: the names stay Arrow text (a million names
        # turned into Python objects and back cost ~0.1 s per evaluation)
        names = fac["name"].array.take(rows)
        # every row the indicator could count on some date (same types, conditions and
        # location, whatever the date): their pairs are measured once and the rows in
        # service taken, so another date or a scenario measures no pair again
        every = self._access_universe(ind, type_index)
        pos = np.full(len(fac), -1, dtype=np.int64)
        pos[every] = np.arange(len(every))
        lon_all = fac["lon"].to_numpy(dtype=float)
        lat_all = fac["lat"].to_numpy(dtype=float)
        scale = ind.scale if rule.measure == "fca" else 100.0
        nums, detail = evaluate_access(
            ind,
            inputs=self.access,
            units=units,
            unit_county=self._unit_county(units),
            counties=self.counties,
            fac_rows=rows,
            fac_lon=lon_all[rows],
            fac_lat=lat_all[rows],
            universe=(lon_all[every], lat_all[every], pos[rows]),
            fac_names=names,
            fac_capacity=cap,
            scale=scale,
            findings=findings,
            units_key=self.units,
        )
        by = nums.get("by_county")
        if by is not None:
            _finish_by_county(by, ind, scale=1.0 if rule.measure == "fca" else 100.0)
        value = nums["value"]
        if value is None:
            return IndicatorResult(
                ind,
                None,
                nums["numerator"],
                nums["denominator"],
                None,
                None,
                nums["status"],
                nums["failing"],
                by,
                detail,
            )
        met, gap = compare_target(value, ind.operator, ind.target)
        return IndicatorResult(
            ind,
            value,
            nums["numerator"],
            nums["denominator"],
            met,
            gap,
            "computed",
            nums["failing"],
            by,
            detail,
        )

    def _presence(
        self,
        ind: Indicator,
        serving: np.ndarray,
        units: gpd.GeoDataFrame,
        type_index: dict[str, int],
    ) -> IndicatorResult:
        rows = self._facility_rows(serving, type_index, ind.facility_types, ind.conditions)
        county_codes = self.counties["county_code"].to_numpy()
        if ind.level == "township":
            unit_of = self.unit_idx[rows]
            cnt = self._count(unit_of[unit_of >= 0], rows[unit_of >= 0], len(units))
            has = cnt >= ind.min_count
            counted = units["counted"].to_numpy(dtype=bool)
            num, den = int((has & counted).sum()), int(counted.sum())
            failing = units["code"].to_numpy()[counted & ~has].tolist()
            ucounty = self._unit_county(units)
            nc = len(county_codes)
            c_num = np.bincount(ucounty, weights=has & counted, minlength=nc).astype("int64")
            c_den = np.bincount(ucounty, weights=counted, minlength=nc).astype("int64")
            # township indicators: facilities in counted units only, like the numerator
            c_count = np.bincount(ucounty, weights=np.where(counted, cnt, 0), minlength=nc).astype(
                "int64"
            )
        else:
            county_of = self.county_idx[rows]
            cnt = self._count(county_of[county_of >= 0], rows[county_of >= 0], len(county_codes))
            has = cnt >= ind.min_count
            num, den = int(has.sum()), len(county_codes)
            failing = county_codes[~has].tolist()
            c_num = has.astype("int64")
            c_den = np.ones(len(county_codes), dtype="int64")
            c_count = np.asarray(cnt, dtype="int64")
        by = self._county_frame(ind, c_num, c_den, scale=100.0, count=c_count)
        if den == 0:
            return IndicatorResult(ind, None, num, den, None, None, "no_data", failing, by)
        value = 100.0 * num / den
        met, gap = compare_target(value, ind.operator, ind.target)
        return IndicatorResult(ind, value, num, den, met, gap, "computed", failing, by)

    def _term(
        self,
        term: RatioTerm,
        serving: np.ndarray,
        units: gpd.GeoDataFrame,
        type_index: dict[str, int],
    ) -> tuple[float, pd.Series]:
        """Total of a ratio term and its per-county sums (index county_code)."""
        if term.source == "units":
            if term.field not in units.columns:
                # Reported by evaluate() as a finding; the indicator has no data.
                return float("nan"), pd.Series(dtype=float)
            vals = (
                pd.to_numeric(units[term.field], errors="coerce").fillna(0.0).to_numpy(dtype=float)
            )
            return float(vals.sum()), self._per_county(self._unit_county(units), vals)
        types = term.facility_types or tuple(type_index)
        rows = self._facility_rows(serving, type_index, types, term.conditions)
        rows = rows[self.county_idx[rows] >= 0]
        # a partitioned audit keeps the sum of a field its conditions also test apart
        field = f"{term.field}__sum" if f"{term.field}__sum" in self.facilities else term.field
        vals = self.facilities[field].to_numpy(dtype=float)[rows]
        vals = np.where(np.isfinite(vals), vals, 0.0)
        return float(vals.sum()), self._per_county(self.county_idx[rows], vals)

    def _county_frame(
        self,
        ind: Indicator,
        numerator: np.ndarray,
        denominator: np.ndarray,
        *,
        scale: float,
        count: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """The county roll-up of an indicator, built in one go (the county columns are the
        prepared table's own, not re-inferred per indicator)."""
        cols: dict[str, Any] = {
            "county_code": self.counties["county_code"],
            "county": self.counties["county"],
            "numerator": numerator,
            "denominator": denominator,
        }
        if count is not None:
            cols["count"] = count
        value, met = _county_values(numerator, denominator, ind, scale=scale)
        cols["value"] = value
        cols["met"] = met
        return pd.DataFrame(cols, copy=False)

    def _per_county(self, county_pos: np.ndarray, vals: np.ndarray) -> pd.Series:
        """Sums of ``vals`` per county position, as a Series indexed by county code."""
        sums = np.bincount(county_pos, weights=vals, minlength=len(self.counties))
        return pd.Series(sums, index=self.counties["county_code"].to_numpy())

    def _ratio(
        self,
        ind: Indicator,
        serving: np.ndarray,
        units: gpd.GeoDataFrame,
        type_index: dict[str, int],
    ) -> IndicatorResult:
        assert ind.numerator is not None and ind.denominator is not None
        num, num_c = self._term(ind.numerator, serving, units, type_index)
        den, den_c = self._term(ind.denominator, serving, units, type_index)
        codes = self.counties["county_code"]
        by = self._county_frame(
            ind,
            codes.map(num_c).fillna(0.0).to_numpy(dtype=float),
            codes.map(den_c).fillna(0.0).to_numpy(dtype=float),
            scale=ind.scale,
        )
        failing = by.loc[by["met"] == False, "county_code"].tolist()  # noqa: E712
        if not np.isfinite(den) or den <= 0:
            return IndicatorResult(
                ind,
                None,
                num,
                den if np.isfinite(den) else None,
                None,
                None,
                "no_data",
                failing,
                by,
            )
        value = ind.scale * num / den
        met, gap = compare_target(value, ind.operator, ind.target)
        return IndicatorResult(ind, value, num, den, met, gap, "computed", failing, by)


def _county_values(
    numerator: np.ndarray, denominator: np.ndarray, ind: Indicator, *, scale: float
) -> tuple[np.ndarray, pd.arrays.BooleanArray]:
    """Per county: value (NaN without a denominator) and met (NA there), by the same rule
    as :func:`compare_target`."""
    den = np.asarray(denominator, dtype=float)
    num = np.asarray(numerator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(den > 0, scale * num / np.where(den > 0, den, 1.0), np.nan)
    finite = np.isfinite(value)
    v = np.where(finite, value, 0.0)
    if ind.operator == ">=":
        met = v >= ind.target - TARGET_TOLERANCE
    elif ind.operator == "<=":
        met = v <= ind.target + TARGET_TOLERANCE
    else:
        met = np.abs(v - ind.target) <= TARGET_TOLERANCE
    return value, pd.arrays.BooleanArray(met, ~finite)


def _finish_by_county(by: pd.DataFrame, ind: Indicator, *, scale: float) -> None:
    """Add ``value`` and ``met`` to a county roll-up that has numerator and denominator."""
    value, met = _county_values(
        by["numerator"].to_numpy(dtype=float),
        by["denominator"].to_numpy(dtype=float),
        ind,
        scale=scale,
    )
    by["value"] = value
    by["met"] = met


def _counted_mask(units: pd.DataFrame, include_functional_zones: bool) -> np.ndarray:
    if include_functional_zones:
        return np.ones(len(units), dtype=bool)
    return ~units["kind"].astype(str).str.strip().isin(FUNCTIONAL_ZONE_KINDS).to_numpy()


#: Above this many rows, a per-row finding is listed for the first rows only and the rest
#: are summarised in one finding with a count (the rows stay flagged in the facility table).
MAX_ROW_FINDINGS = 1000
_SHOWN_ROW_FINDINGS = 100


def _row_finding(fac: pd.DataFrame, rows: np.ndarray, **kw: Any) -> list[Finding]:
    shown = rows if len(rows) <= MAX_ROW_FINDINGS else rows[:_SHOWN_ROW_FINDINGS]
    files = fac["source_file"].to_numpy()[shown]
    sheets = fac["source_sheet"].to_numpy()[shown]
    src_rows = fac["source_row"].to_numpy()[shown]
    out = [
        Finding(file=f, sheet=s, row=int(r), **kw)
        for f, s, r in zip(files, sheets, src_rows, strict=True)
    ]
    if len(rows) > len(shown):
        rest = len(rows) - len(shown)
        out.append(
            replace(
                Finding(file=fac["source_file"].iat[int(rows[len(shown)])], **kw),
                message_zh=f"{kw['message_zh']}（另有 {rest} 行，未逐行列出）",
                message_en=f"{kw['message_en']} ({rest} more row(s), not listed one by one)",
                count=rest,
            )
        )
    return out


def prepare(
    units: gpd.GeoDataFrame,
    facilities: pd.DataFrame,
    catalog: Catalog,
    *,
    options: AuditOptions | None = None,
    findings: Findings | None = None,
    inputs: list[dict[str, Any]] | None = None,
    located: tuple[np.ndarray, np.ndarray] | PendingLocation | None = None,
    access: AccessInputs | None = None,
    evaluate_next: bool = False,
) -> PreparedAudit:
    """Match types, assign every facility row to a unit, and account for every row.

    Parameters
    ----------
    units
        Township-level units (see :mod:`coverage_gis.core.schema`); any CRS with a definition.
    facilities
        Normalised facility rows (see :mod:`coverage_gis.core.schema`).
    catalog
        Facility types and indicators.
    options
        Audit options.
    findings
        Findings already produced by the readers; the engine's are appended to a copy.
    inputs
        Descriptions of the input files (path, sha256 …), carried into the result.
    located
        The result of :func:`locate_facilities` for these rows when it was computed
        elsewhere (e.g. partition by partition on a Dask cluster), or a
        :class:`PendingLocation` started by :func:`locate_ahead` (used if it was started
        on these very units and coordinates); computed here otherwise.
    access
        Demand (community table, population raster), water and roads for ``access``
        indicators; without it they use the units' own population fields, and those that
        need water or roads report that they cannot be computed.
    evaluate_next
        The caller evaluates the result next (an audit, not a partition or a check): the
        units' demand points for the ``access`` indicators are then made on a worker
        while the rows are matched and located here.
    """
    if isinstance(located, PendingLocation):
        located = located if located.matches(units, facilities) else None
    opts = options or AuditOptions()
    units = validate_units(units)
    if evaluate_next and any(ind.kind == "access" for ind in catalog.indicators):
        from coverage_gis.access.evaluate import AccessInputs

        if access is None:  # the units' own totals; it holds the distance cache
            access = AccessInputs()
        if access.demand is None:
            # the units' demand points (GEOS, without the GIL; the geometries are only
            # read) are made on a worker while the rows are matched and located here;
            # evaluate finds them in the cache, or waits on its lock until they are there
            threads("demand").submit(access.demand_for, units, key=units)
    schematic = bool(
        "schematic" in units.columns and units["schematic"].fillna(False).astype(bool).any()
    )
    fac = coerce_facilities(facilities)
    out = Findings(list(findings.items) if findings else [])
    n = len(fac)

    counties = (
        units[["county_code", "county"]].drop_duplicates("county_code").reset_index(drop=True)
    )
    counties["county"] = counties["county"].astype(str)
    unit_county_idx = pd.Index(counties["county_code"]).get_indexer(units["county_code"])

    # 1. facility types (work per distinct value)
    type_codes = list(catalog.type_codes)
    tcodes, tuniq = pd.factorize(fac["type_raw"].to_numpy(), use_na_sentinel=True)
    tmap = np.array(
        [type_codes.index(c) if (c := catalog.match_type(v)) else -1 for v in [*tuniq, ""]],
        dtype=np.int64,
    )
    type_idx = tmap[tcodes] if n else np.zeros(0, dtype=np.int64)
    row_ok = fac["row_error"].isna().to_numpy()
    lon = fac["lon"].to_numpy(dtype=float)
    lat = fac["lat"].to_numpy(dtype=float)
    has_xy = np.isfinite(lon) & np.isfinite(lat) & row_ok
    # the point-in-polygon pass (numpy and GEOS, mostly without the GIL) runs on a worker
    # thread while the type and name matching below (Python objects) runs here
    locating = (
        threads("locate").submit(
            locate_facilities,
            units,
            np.where(has_xy, lon, np.nan),
            np.where(has_xy, lat, np.nan),
        )
        if located is None
        else None
    )
    unknown = (type_idx < 0) & row_ok
    if unknown.any():
        vc = fac.loc[unknown].groupby(["source_file", "type_raw"], dropna=False, sort=False).size()
        for (file, value), count in vc.items():
            out.add(
                Finding(
                    "warning",
                    "unknown_facility_type",
                    f"设施类型“{value}”不在目录中，{count} 行未计入",
                    f"Facility type '{value}' is not in the catalogue; {count} row(s) not counted",
                    file=file,
                    column="type",
                    value=value,
                    count=int(count),
                    suggestion="在目录的 aliases 中加入该名称，或修正数据 / add it to a type's aliases or fix the data",
                )
            )

    # 3. named units and counties
    # names are matched once per distinct (unit name, county name) pair, on integer codes
    ncodes, nuniq = pd.factorize(fac["unit_name"].to_numpy(), use_na_sentinel=True)
    ccodes, cuniq = pd.factorize(fac["county_name"].to_numpy(), use_na_sentinel=True)
    width = len(cuniq) + 1
    pcodes, upair = pd.factorize((ncodes.astype(np.int64) + 1) * width + ccodes + 1)
    upair = np.asarray(upair, dtype=np.int64)
    named_u, ambiguous_u = match_unit_names(
        np.append(np.asarray(nuniq, dtype=object), None)[upair // width - 1],
        units["name"].astype(str).tolist(),
        counties=np.append(np.asarray(cuniq, dtype=object), None)[upair % width - 1],
        unit_counties=units["county"].astype(str).tolist(),
    )
    named = named_u[pcodes] if n else np.zeros(0, dtype=np.int64)
    ambiguous = ambiguous_u[pcodes] if n else np.zeros(0, dtype=bool)
    county_keys = {_county_stem(c): i for i, c in enumerate(counties["county"])}
    county_keys.update({name_key(c): i for i, c in enumerate(counties["county"])})
    cmap = np.array(
        [
            county_keys.get(name_key(v), county_keys.get(_county_stem(v), -1)) if v else -1
            for v in [*cuniq, ""]
        ],
        dtype=np.int64,
    )
    county_by_name = cmap[ccodes] if n else np.zeros(0, dtype=np.int64)

    nonblank = np.array([str(v).strip() != "" for v in nuniq] + [False], dtype=bool)
    has_name = nonblank[ncodes] if n else np.zeros(0, dtype=bool)

    # 2. spatial assignment: one vectorised point-in-polygon pass for all points
    built_locator = locating is not None or isinstance(located, PendingLocation)
    if locating is not None:
        located = locating.result()
    elif isinstance(located, PendingLocation):
        located = located.result()
    assert located is not None
    if built_locator:  # its prepared blocks were freed on the locating threads' heaps
        release_unused_memory()
    spatial = np.where(has_xy, located[0], -1)
    multi = located[1] & has_xy & (spatial >= 0)
    if multi.any():
        out.extend(
            _row_finding(
                fac,
                np.flatnonzero(multi),
                severity="info",
                code="point_on_shared_edge",
                message_zh="坐标位于相邻镇(街道)的共同边界上，按代码最小者归属",
                message_en="Point lies on a boundary shared by several units; assigned to the smallest unit code",
                column="lon/lat",
            )
        )
    unresolved = has_name & (named < 0) & row_ok
    if unresolved.any():
        vc = fac.loc[unresolved].groupby(["source_file", "unit_name"], sort=False).size()
        # "fits several units" when any unresolved row with that name (in any file) does:
        # one bincount over the name codes, looked up per group (not a pass per name)
        amb_by_name = np.bincount(ncodes[unresolved & ambiguous], minlength=len(nuniq)) > 0
        name_pos = pd.Index(nuniq).get_indexer(vc.index.get_level_values("unit_name"))
        for ((file, value), count), amb in zip(
            vc.items(), amb_by_name[name_pos].tolist(), strict=True
        ):
            out.add(
                Finding(
                    "warning",
                    "ambiguous_unit_name" if amb else "unknown_unit_name",
                    f"所属镇(街道)“{value}”{'对应多个镇(街道)' if amb else '在边界数据中找不到'}（{count} 行）",
                    f"Unit name '{value}' {'fits several units' if amb else 'is not in the boundary data'} ({count} row(s))",
                    file=file,
                    column="unit_name",
                    value=value,
                    count=int(count),
                    suggestion="写全称或补充所属区县 / write the full name or add the county",
                )
            )

    conflict = (spatial >= 0) & (named >= 0) & (spatial != named)
    if conflict.any():
        unames = units["name"].to_numpy()
        conflict_rows = np.flatnonzero(conflict)
        summary: Finding | None = None
        if len(conflict_rows) > MAX_ROW_FINDINGS:
            rest = len(conflict_rows) - _SHOWN_ROW_FINDINGS
            summary = Finding(
                "warning",
                "unit_name_conflict",
                f"另有 {rest} 行的坐标与所属镇(街道)不一致（未逐行列出，见设施表 conflict 列）；按坐标计入",
                f"{rest} more row(s) whose point and named unit disagree (not listed one by one; see the conflict column); counted by the point",
                file=fac.at[int(conflict_rows[_SHOWN_ROW_FINDINGS]), "source_file"],
                column="unit_name",
                count=rest,
                suggestion="核对坐标或所属镇(街道) / check the coordinates or the unit name",
            )
            conflict_rows = conflict_rows[:_SHOWN_ROW_FINDINGS]
        for r in conflict_rows:
            out.add(
                Finding(
                    "warning",
                    "unit_name_conflict",
                    f"坐标落在“{unames[spatial[r]]}”，但所属镇(街道)填写为“{fac.at[r, 'unit_name']}”；按坐标计入",
                    f"Point falls in '{unames[spatial[r]]}' but the row names '{fac.at[r, 'unit_name']}'; counted by the point",
                    file=fac.at[r, "source_file"],
                    sheet=fac.at[r, "source_sheet"],
                    row=int(fac.at[r, "source_row"]),
                    column="unit_name",
                    value=fac.at[r, "unit_name"],
                    suggestion="核对坐标或所属镇(街道) / check the coordinates or the unit name",
                )
            )
        if summary is not None:
            out.add(summary)

    outside = has_xy & (spatial < 0)
    unit_idx = np.where(spatial >= 0, spatial, np.where(row_ok, named, -1))
    # assignment method as a small code first; one object array is made from it at the end
    method_code = np.zeros(n, dtype=np.int8)  # none
    method_code[spatial >= 0] = 1  # point
    by_name = (spatial < 0) & (named >= 0) & row_ok
    method_code[by_name] = 2  # name
    county_idx = np.where(
        unit_idx >= 0,
        unit_county_idx[np.maximum(unit_idx, 0)],
        np.where(row_ok, county_by_name, -1),
    )
    by_county = (unit_idx < 0) & (county_idx >= 0)
    method_code[by_county] = 3  # county_name

    if outside.any():
        rows = np.flatnonzero(outside)
        out.extend(
            _row_finding(
                fac,
                rows,
                severity="warning",
                code="point_outside_units",
                message_zh="坐标不在任何镇(街道)边界内",
                message_en="Point lies outside every unit",
                column="lon/lat",
                suggestion="核对坐标与坐标系(WGS84/GCJ-02/BD-09) / check coordinates and their CRS",
            )
        )
    named_only = by_name & ~outside & (type_idx >= 0)
    if named_only.any():
        out.extend(
            _row_finding(
                fac,
                np.flatnonzero(named_only),
                severity="warning",
                code="counted_by_name",
                message_zh="无坐标，按所属镇(街道)名称计入",
                message_en="No coordinates; counted by its named unit",
                column="lon/lat",
                suggestion="补充坐标 / add coordinates",
            )
        )
    county_only = by_county & (type_idx >= 0)
    if county_only.any():
        out.extend(
            _row_finding(
                fac,
                np.flatnonzero(county_only),
                severity="warning",
                code="counted_by_county_name",
                message_zh="无坐标和可识别的镇(街道)，仅计入所属区县（县级指标）",
                message_en="No coordinates or recognisable unit; counted for its county only (county-level indicators)",
                column="lon/lat",
            )
        )

    # 4. status and dates
    status_class = classify_status(fac["status"])
    unk_status = (status_class == STATUS_UNKNOWN) & row_ok
    if unk_status.any():
        vc = fac.loc[unk_status].groupby(["source_file", "status"], sort=False).size()
        for (file, value), count in vc.items():
            out.add(
                Finding(
                    "warning",
                    "unknown_status",
                    f"状态“{value}”无法识别，按运营中处理（{count} 行）",
                    f"Status '{value}' not recognised; treated as in service ({count} row(s))",
                    file=file,
                    column="status",
                    value=value,
                    count=int(count),
                )
            )
        status_class = np.where(unk_status, STATUS_OPEN, status_class).astype(np.int8)
    closed_no_date = (status_class == STATUS_CLOSED) & fac["closed"].isna().to_numpy() & row_ok
    if closed_no_date.any():
        out.extend(
            _row_finding(
                fac,
                np.flatnonzero(closed_no_date),
                severity="warning",
                code="closed_without_date",
                message_zh="状态为停用但无停用时间，任何评估日期均不计入",
                message_en="Closed status without a closing date; not counted on any evaluation date",
                column="closed",
            )
        )

    # 5. row accounting
    used = row_ok & (type_idx >= 0) & (county_idx >= 0)
    reason_code = _reason_codes(row_ok, type_idx, county_idx, outside)
    reason = np.array([*EXCLUSION_REASONS, None], dtype=object)[reason_code]
    method = np.array(["none", "point", "name", "county_name"], dtype=object)[method_code]
    type_arr = np.array([*type_codes, None], dtype=object)
    unit_codes = np.append(units["code"].to_numpy().astype(object), None)
    ccodes_arr = np.append(counties["county_code"].to_numpy().astype(object), None)
    # ``fac`` is coerce_facilities' fresh frame: add the assignment columns in place.
    # explicit object dtype: pandas 3 would otherwise turn None into NaN in string columns
    fac["type_code"] = pd.Series(type_arr[type_idx], dtype=object)
    fac["unit_code"] = pd.Series(unit_codes[unit_idx], dtype=object)
    fac["county_code"] = pd.Series(ccodes_arr[county_idx], dtype=object)
    fac["assign_method"] = pd.Series(method, dtype=object)
    fac["conflict"] = conflict
    fac["used"] = used
    fac["excluded_reason"] = pd.Series(reason, dtype=object)
    no_loc_rows = np.flatnonzero(row_ok & (type_idx >= 0) & (county_idx < 0) & ~outside)
    if len(no_loc_rows):
        out.extend(
            _row_finding(
                fac,
                no_loc_rows,
                severity="warning",
                code="no_location",
                message_zh=EXCLUSION_REASONS["no_location"][0] + "，未计入",
                message_en=EXCLUSION_REASONS["no_location"][1] + "; not counted",
                column="lon/lat",
            )
        )
    accounting = _accounting(fac, reason_code=reason_code)
    return PreparedAudit(
        catalog=catalog,
        options=opts,
        units=units,
        counties=counties,
        facilities=fac,
        unit_idx=unit_idx,
        county_idx=county_idx,
        type_idx=np.where(type_idx >= 0, type_idx, 0),
        used=used,
        status_class=status_class,
        findings=out,
        accounting=accounting,
        inputs=list(inputs or []),
        schematic_boundaries=schematic,
        access=access,
    )


def _reason_codes(
    row_ok: np.ndarray, type_idx: np.ndarray, county_idx: np.ndarray, outside: np.ndarray
) -> np.ndarray:
    """Exclusion reason per row as an integer (index in :data:`EXCLUSION_REASONS`, -1 used)."""
    code = np.full(len(row_ok), -1, dtype=np.int8)
    not_loc = row_ok & (type_idx >= 0) & (county_idx < 0)
    code[not_loc & ~outside] = 2  # no_location
    code[not_loc & outside] = 3  # outside_units
    code[row_ok & (type_idx < 0)] = 1  # unknown_type
    code[~row_ok] = 0  # reader_error
    return code


def _file_codes(files: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Factorise the file column by its runs (each file's rows are consecutive in practice).

    Comparing neighbours is cheap (the rows of one file share one string object); only
    the run values are hashed. Missing file names are grouped under ``""``.
    """
    if not len(files):
        return np.zeros(0, dtype=np.int64), []
    starts = np.r_[0, np.flatnonzero(files[1:] != files[:-1]) + 1]
    values = files[starts]
    missing = pd.isna(values)
    if missing.any():
        values = np.where(missing, "", values).astype(object)
    rcodes, uniq = pd.factorize(values)
    return np.repeat(rcodes, np.diff(np.r_[starts, len(files)])), list(uniq)


def _accounting(fac: pd.DataFrame, *, reason_code: np.ndarray | None = None) -> pd.DataFrame:
    """Per-file row accounting: read = used + excluded, excluded split by reason."""
    cols = ["source_file", "rows_read", "rows_used", "rows_excluded", *EXCLUSION_REASONS]
    if not len(fac):
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c == "source_file" else "int64") for c in cols}
        )
    if reason_code is None:
        names = list(EXCLUSION_REASONS)
        reason = fac["excluded_reason"].to_numpy(dtype=object)
        reason_code = np.full(len(fac), -1, dtype=np.int8)
        for i, r in enumerate(names):
            reason_code[reason == r] = i
    fcodes, funiq = _file_codes(fac["source_file"].to_numpy(dtype=object))
    nf = len(funiq)
    used = fac["used"].to_numpy(dtype=bool)
    out: dict[str, Any] = {
        "source_file": pd.Series(list(funiq)),  # inferred dtype, as groupby gave
        "rows_read": np.bincount(fcodes, minlength=nf).astype("int64"),
        "rows_used": np.bincount(fcodes[used], minlength=nf).astype("int64"),
    }
    per = {
        r: np.bincount(fcodes[reason_code == i], minlength=nf).astype("int64")
        for i, r in enumerate(EXCLUSION_REASONS)
    }
    out["rows_excluded"] = np.sum(list(per.values()), axis=0).astype("int64")
    out.update(per)
    return pd.DataFrame(out)[cols]


def audit(
    units: gpd.GeoDataFrame,
    facilities: pd.DataFrame,
    catalog: Catalog,
    as_of: dt.date | str,
    options: AuditOptions | None = None,
    *,
    findings: Findings | None = None,
    inputs: list[dict[str, Any]] | None = None,
) -> AuditResult:
    """Audit facility coverage against a catalogue's indicators on one date.

    Parameters
    ----------
    units
        Township-level units (GeoDataFrame; see :mod:`coverage_gis.core.schema`).
    facilities
        Normalised facility rows (see :mod:`coverage_gis.core.schema`).
    catalog
        The indicator catalogue (:func:`coverage_gis.core.catalog.load_catalog`).
    as_of
        Evaluation date.
    options
        :class:`~coverage_gis.core.results.AuditOptions`.
    findings
        Reader findings to carry into the result.
    inputs
        Input file descriptions to carry into the result.

    Returns
    -------
    AuditResult
    """
    return prepare(
        units,
        facilities,
        catalog,
        options=options,
        findings=findings,
        inputs=inputs,
        evaluate_next=True,
    ).evaluate(as_of)


def with_options(prepared: PreparedAudit, **changes: Any) -> PreparedAudit:
    """Return ``prepared`` with changed :class:`AuditOptions` (no re-assignment)."""
    return replace(prepared, options=replace(prepared.options, **changes))
