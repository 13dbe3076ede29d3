"""Result records of an audit (plain data; no I/O, no Qt)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage_gis.core.catalog import Catalog, Indicator
from coverage_gis.core.findings import Findings

__all__ = [
    "INDICATOR_TABLE_COLUMNS",
    "MANUAL_PENDING_ZH",
    "AuditOptions",
    "AuditResult",
    "IndicatorResult",
]

MANUAL_PENDING_ZH = "需人工填报"
MANUAL_PENDING_EN = "manual entry required"

INDICATOR_TABLE_COLUMNS = [
    "id",
    "name",
    "name_en",
    "unit",
    "baseline",
    "value",
    "target",
    "operator",
    "gap",
    "met",
    "numerator",
    "denominator",
    "binding",
    "attribute",
    "kind",
    "level",
    "status",
    "n_failing",
    "source_ref",
]


@dataclass(frozen=True)
class AuditOptions:
    """Options of an audit.

    Attributes
    ----------
    include_functional_zones
        Count 功能区 units in 镇(街道) denominators (default: drawn and reported, not counted).
    manual_values
        Values of ``manual`` indicators, by indicator id.
    """

    include_functional_zones: bool = False
    manual_values: dict[str, float] = field(default_factory=dict)


@dataclass
class IndicatorResult:
    """The evaluation of one indicator on one date.

    ``value`` is in the indicator's unit (percent values are 0–100); ``None`` when it cannot
    be computed (manual value not given, or a zero denominator). ``gap`` is how far the value
    is from the target in the direction that matters (0 when met). ``failing`` lists the codes
    of the units (township or county) that miss a per-unit target. ``by_county`` holds the
    county roll-up (numerator, denominator, value, met) for township and ratio indicators.
    For ``access`` indicators ``numerator``/``denominator`` are the demand within reach and
    the demand (e.g. residents aged 60+), and :attr:`access` holds the per-unit table.
    """

    indicator: Indicator
    value: float | None
    numerator: float | None
    denominator: float | None
    met: bool | None
    gap: float | None
    status: str
    failing: list[str] = field(default_factory=list)
    by_county: pd.DataFrame | None = None
    #: ``access`` indicators: per-unit and per-point detail (:class:`coverage_gis.access.evaluate.AccessDetail`).
    access: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of the headline numbers (no per-county table)."""
        ind = self.indicator
        return {
            "id": ind.id,
            "name": ind.name_zh,
            "name_en": ind.name_en,
            "unit": ind.unit,
            "baseline": ind.baseline,
            "value": _num(self.value),
            "target": ind.target,
            "operator": ind.operator,
            "gap": _num(self.gap),
            "met": self.met,
            "numerator": _num(self.numerator),
            "denominator": _num(self.denominator),
            "binding": ind.binding,
            "attribute": ind.attribute_zh,
            "kind": ind.kind,
            "level": ind.level or ind.per_unit_level,
            "status": self.status,
            "n_failing": len(self.failing),
            "source_ref": ind.source_ref,
        }


def _num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    return round(float(value), 6)


@dataclass
class AuditResult:
    """Everything an audit found, for one evaluation date.

    Attributes
    ----------
    as_of
        Evaluation date.
    catalog
        The catalogue the audit used.
    units
        The units (GeoDataFrame, EPSG:4326) with ``counted`` (in 镇(街道) denominators).
    counties
        County table: ``county_code``, ``county``, ``n_units``, ``n_counted``.
    facilities
        One row per facility row read, with its assignment: ``type_code``, ``unit_code``,
        ``county_code``, ``assign_method`` (point / name / county_name / none),
        ``in_service``, ``used`` and ``excluded_reason``.
    counts_all, counts_qualifying
        Unit × facility-type counts (index unit code, columns type codes): every located
        facility, and those in service on ``as_of``.
    county_counts_qualifying
        County × facility-type counts of facilities in service (includes facilities known
        only by their county name).
    indicators
        One :class:`IndicatorResult` per catalogue indicator, in catalogue order.
    findings
        Data issues from the readers and the engine.
    accounting
        Per source file: ``rows_read``, ``rows_used``, ``rows_excluded`` and one column per
        exclusion reason. ``rows_read == rows_used + rows_excluded`` always holds.
    """

    as_of: dt.date
    catalog: Catalog
    options: AuditOptions
    units: gpd.GeoDataFrame
    counties: pd.DataFrame
    facilities: pd.DataFrame
    counts_all: pd.DataFrame
    counts_qualifying: pd.DataFrame
    county_counts_qualifying: pd.DataFrame
    indicators: list[IndicatorResult]
    findings: Findings
    accounting: pd.DataFrame
    inputs: list[dict[str, Any]] = field(default_factory=list)
    schematic_boundaries: bool = False

    def indicator(self, indicator_id: str) -> IndicatorResult:
        """Return the result of one indicator (KeyError if unknown)."""
        for r in self.indicators:
            if r.indicator.id == indicator_id:
                return r
        raise KeyError(indicator_id)

    def indicator_table(self) -> pd.DataFrame:
        """One row per indicator with :data:`INDICATOR_TABLE_COLUMNS`."""
        return pd.DataFrame([r.to_dict() for r in self.indicators], columns=INDICATOR_TABLE_COLUMNS)

    def units_table(self) -> pd.DataFrame:
        """One row per unit: code, name, county_code, county, kind, counted, then one column
        per facility-type code holding the count of facilities in service on ``as_of``, then
        for each ``access`` indicator ``<id>_demand``, ``<id>_served`` and ``<id>_share``
        (and ``<id>_accessibility`` for a 2SFCA indicator)."""
        base = pd.DataFrame(
            {
                "code": self.units["code"].to_numpy(),
                "name": self.units["name"].to_numpy(),
                "county_code": self.units["county_code"].to_numpy(),
                "county": self.units["county"].to_numpy(),
                "kind": self.units["kind"].to_numpy(),
                "counted": self.units["counted"].to_numpy(),
            }
        )
        counts = self.counts_qualifying.reindex(base["code"]).fillna(0).astype("int64")
        parts = [base, counts.reset_index(drop=True)]
        for r in self.indicators:  # access indicators: demand, demand within reach, share
            if r.access is None:
                continue
            by = r.access.by_unit
            cols = {"demand": "demand", "served": "served", "share": "share"}
            if r.indicator.access is not None and r.indicator.access.measure == "fca":
                cols["accessibility"] = "accessibility"
            parts.append(
                pd.DataFrame({f"{r.indicator.id}_{k}": by[v].to_numpy() for k, v in cols.items()})
            )
        return pd.concat(parts, axis=1)

    def access_table(self) -> pd.DataFrame:
        """One row per (access indicator, unit): demand, served, unserved, share, the
        2SFCA accessibility (``fca`` indicators), the facility nearest to most of the
        unit's residents and their population-weighted median distance to the nearest one
        (blank when it is beyond the measured range: no facility within 3 × the reach)."""
        frames = []
        for r in self.indicators:
            if r.access is None:
                continue
            t = r.access.by_unit.copy()
            far = ~np.isfinite(t["median_distance_m"].to_numpy(dtype=float))
            t.loc[far, "median_distance_m"] = np.nan
            t.insert(0, "indicator", r.indicator.id)
            frames.append(t)
        if not frames:
            from coverage_gis.access.evaluate import UNIT_ACCESS_COLUMNS

            return pd.DataFrame(columns=["indicator", *UNIT_ACCESS_COLUMNS])
        return pd.concat(frames, ignore_index=True)

    @property
    def rows_read(self) -> int:
        """Total facility rows read across all files."""
        return int(self.accounting["rows_read"].sum()) if len(self.accounting) else 0
