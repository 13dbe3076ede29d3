"""The desktop app's scenario (规划方案) state, without Qt.

The session keeps one :class:`~coverage_gis.siting.scenario.Scenario` beside the real
audit and, when the scenario has accepted sites, its evaluation for the same date, inputs
and options (:class:`ScenarioOutcome`). Everything here is plain Python so the workers, the
session and the tests share it:

* :func:`evaluate_plan` — the scenario evaluated (timed) or nothing to evaluate;
* :func:`placed_site` — the site a click on the map adds (the shown indicator's first
  facility type, built to what the indicator counts);
* :func:`site_units` — the 镇/街道 each planned site lies in;
* :func:`scenario_findings` — the data issues that are about the scenario's own rows;
* :func:`fmt_change` — "+1.1%" for the indicator table's with-plan column.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage_gis.core.errors import InputError
from coverage_gis.siting.scenario import PlannedSite, Scenario, evaluate_scenario, site_fields

if TYPE_CHECKING:
    from coverage_gis.core.catalog import Catalog
    from coverage_gis.core.engine import PreparedAudit
    from coverage_gis.core.findings import Finding
    from coverage_gis.core.results import AuditOptions, AuditResult

__all__ = [
    "PLACED_NAME",
    "ScenarioOutcome",
    "evaluate_plan",
    "fmt_change",
    "next_site_name",
    "placed_site",
    "plan_rows_key",
    "scenario_findings",
    "site_type_for",
    "site_units",
]

#: Name of a site placed by hand: ``规划点位 N``.
PLACED_NAME = "规划点位 {n}"


@dataclass(frozen=True)
class ScenarioOutcome:
    """A scenario evaluated for one date.

    Attributes
    ----------
    scenario
        The scenario that was evaluated.
    as_of
        The evaluation date.
    result
        The audit with the scenario's accepted sites added; ``None`` when there is nothing
        to evaluate (no accepted site, or no prepared audit).
    ms
        Wall time of the evaluation in milliseconds (0 when nothing was evaluated).
    """

    scenario: Scenario
    as_of: dt.date
    result: AuditResult | None
    ms: float = 0.0

    def fits(self, scenario: Scenario, as_of: dt.date) -> bool:
        """True when this outcome is also the evaluation of ``scenario`` on ``as_of``: the
        same date and the same rows (:func:`plan_rows_key`) — a scenario that only gained
        or lost rejected sites after its accepted ones evaluates the same."""
        return self.as_of == as_of and (
            self.scenario is scenario or plan_rows_key(self.scenario) == plan_rows_key(scenario)
        )


def plan_rows_key(scenario: Scenario) -> tuple[Any, ...]:
    """What the evaluation of ``scenario`` depends on: its source name and each accepted
    site with its position (the position is the row number its findings name)."""
    return (
        scenario.source,
        tuple((i, s) for i, s in enumerate(scenario.sites) if s.accepted),
    )


def evaluate_plan(
    prepared: PreparedAudit | None,
    scenario: Scenario,
    as_of: dt.date,
    options: AuditOptions | None = None,
) -> ScenarioOutcome:
    """Evaluate ``scenario`` on ``prepared`` (see
    :func:`~coverage_gis.siting.scenario.evaluate_scenario`), timed with
    :func:`time.perf_counter`.

    Parameters
    ----------
    prepared
        The real audit (not changed); ``None`` before anything was loaded.
    scenario
        The planned sites; only the accepted ones count.
    as_of
        Evaluation date.
    options
        Audit options (those of the real result, so both answer the same question).

    Returns
    -------
    ScenarioOutcome
        With ``result=None`` when the scenario has no accepted site or there is no
        prepared audit.
    """
    if prepared is None or not scenario.accepted:
        return ScenarioOutcome(scenario, as_of, None, 0.0)
    t0 = time.perf_counter()
    result = evaluate_scenario(prepared, scenario, as_of, options)
    return ScenarioOutcome(scenario, as_of, result, (time.perf_counter() - t0) * 1000.0)


def next_site_name(scenario: Scenario) -> str:
    """``规划点位 N`` with the smallest N above the sites already so named."""
    names = {s.name for s in scenario.sites}
    n = len(scenario.sites) + 1
    while PLACED_NAME.format(n=n) in names:
        n += 1
    return PLACED_NAME.format(n=n)


def site_type_for(catalog: Catalog, indicator_id: str) -> str:
    """The facility type a site placed for ``indicator_id`` gets: its first one.

    Raises
    ------
    InputError
        When the indicator counts no facility type (manual and ratio indicators) or is
        not in the catalogue.
    """
    try:
        ind = catalog.indicator(indicator_id)
    except KeyError:
        ind = None
    if ind is None or not ind.facility_types:
        raise InputError(
            f"指标 {indicator_id} 不统计设施，无法在地图上放置规划点位；请先选择一个设施覆盖指标",
            f"Indicator {indicator_id} counts no facilities, so no planned site can be placed "
            "for it; choose a facility coverage indicator first",
            column="indicator",
            value=indicator_id,
        )
    return ind.facility_types[0]


def placed_site(
    scenario: Scenario, catalog: Catalog, indicator_id: str, lon: float, lat: float
) -> PlannedSite:
    """The site a click on the map at (``lon``, ``lat``, WGS84) adds to ``scenario``.

    It is of the indicator's first facility type (:func:`site_type_for`), built to what
    the indicator counts (:func:`site_fields`), named ``规划点位 N``, has no planned date
    (it counts on any date) and is accepted.

    Raises
    ------
    InputError
        When the indicator counts no facility type, or the point is not a finite WGS84
        coordinate.
    """
    type_code = site_type_for(catalog, indicator_id)
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(
            "地图点击的坐标无效",
            "The clicked point is not a valid coordinate",
            value=f"{lon}, {lat}",
        )
    return PlannedSite(
        name=next_site_name(scenario),
        type_code=type_code,
        lon=float(lon),
        lat=float(lat),
        origin="manual",
        **site_fields(catalog, indicator_id),
    )


def site_units(
    scenario: Scenario,
    plan_result: AuditResult | None,
    units: pd.DataFrame | None,
    cache: dict[tuple[float, float], str | None] | None = None,
) -> list[str | None]:
    """The code of the 镇/街道 each site of ``scenario`` lies in (``None``: outside all).

    Sites evaluated in ``plan_result`` (the accepted ones) take the unit the engine
    assigned to their row (``source_file`` is :attr:`Scenario.source`, ``source_row`` the
    site's position plus one); the others (rejected sites, or no evaluation) are located
    in ``units`` the same way (GEOS covers, lowest code wins on shared edges). ``cache``
    (points already located in the same ``units``) is used and filled for those.
    """
    out: list[str | None] = [None] * len(scenario.sites)
    todo = list(range(len(scenario.sites)))
    if plan_result is not None:
        fac = plan_result.facilities
        mine = fac.loc[(fac["source_file"].astype(str) == scenario.source).to_numpy()]
        assigned = {
            int(row): (None if code is None or pd.isna(code) else str(code))
            for row, code in zip(mine["source_row"], mine["unit_code"], strict=True)
        }
        rest = []
        for i in todo:
            if scenario.sites[i].accepted and (i + 1) in assigned:
                out[i] = assigned[i + 1]
            else:
                rest.append(i)
        todo = rest
    if cache is not None:
        for i in todo:
            key = (scenario.sites[i].lon, scenario.sites[i].lat)
            if key in cache:
                out[i] = cache[key]
        todo = [i for i in todo if (scenario.sites[i].lon, scenario.sites[i].lat) not in cache]
    if todo and units is not None and len(units):
        from coverage_gis.core.point_in_polygon import locate_points

        codes = units["code"].astype(str).to_numpy()
        rank = np.argsort(np.argsort(codes, kind="stable"), kind="stable")
        x = np.array([scenario.sites[i].lon for i in todo], dtype=float)
        y = np.array([scenario.sites[i].lat for i in todo], dtype=float)
        hit, _multi = locate_points(np.asarray(units.geometry, dtype=object), rank, x, y, workers=1)
        for i, h in zip(todo, hit, strict=True):
            out[i] = str(codes[h]) if h >= 0 else None
            if cache is not None:
                cache[(scenario.sites[i].lon, scenario.sites[i].lat)] = out[i]
    return out


def scenario_findings(scenario: Scenario, plan_result: AuditResult | None) -> list[Finding]:
    """The findings of ``plan_result`` about the scenario's own rows (a site outside every
    township, a type the catalogue does not know …)."""
    if plan_result is None:
        return []
    return [f for f in plan_result.findings if f.file == scenario.source]


def fmt_change(now: float | None, plan: float | None, unit: str) -> str:
    """The change from ``now`` to ``plan`` in the indicator's unit: ``+1.1%``, ``−2``,
    ``±0``; empty when either value is missing."""
    if now is None or plan is None or not (math.isfinite(now) and math.isfinite(plan)):
        return ""
    delta = plan - now
    if abs(delta) < 1e-9:
        return "±0"
    size = abs(delta)
    text = (
        f"{size:.1f}%"
        if unit == "%"
        else (f"{size:,.0f}" if float(size).is_integer() else f"{size:,.2f}")
    )
    return ("+" if delta > 0 else "−") + text
