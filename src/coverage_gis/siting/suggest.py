"""Site suggestions from an audit's gaps: the models of :mod:`coverage_gis.siting.models`
applied to one indicator of an :class:`~coverage_gis.core.results.AuditResult`.

Candidates are the demand points (村/社区 of the population input) that lie on land in a
unit: a community centre is where a 站点 or 中心 usually opens. For a township presence
indicator each gap 镇(街道) gets the candidate in it that reaches most residents (aged 60+
when the population has them) within ``reach_m``; for an access indicator (share) the
maximal covering model (MCLP) picks ``n_new`` sites that add the most residents within the
indicator's own reach and distance mode, the current qualifying facilities fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Findings

if TYPE_CHECKING:
    from coverage_gis.core.results import AuditResult
    from coverage_gis.siting.models import SitingResult
    from coverage_gis.workflow import AuditInputs

__all__ = [
    "ACCESS_MODELS",
    "SITE_COLUMNS",
    "SiteSuggestion",
    "gap_indicators",
    "suggest_for_gaps",
    "suggest_sites",
]

#: Models for access-share indicators (presence indicators have ``presence``; capacity
#: indicators, ``measure = "fca"``, ``capacitated_mclp``).
ACCESS_MODELS = ("mclp", "lscp", "p_median")
#: Most candidates of the capacitated model (thinned demand points beyond that: its pairs
#: reach far — 10 km for beds — and every pair is a variable).
MAX_CAPACITY_CANDIDATES = 400

#: Columns of :attr:`SiteSuggestion.table`.
SITE_COLUMNS = (
    "rank",
    "site",
    "lon",
    "lat",
    "unit_code",
    "unit",
    "county",
    "gain",
    "gain_field",
    "closes",
    "nearest_existing_m",
)


@dataclass(frozen=True)
class SiteSuggestion:
    """Suggested sites for one indicator.

    Attributes
    ----------
    indicator
        The indicator id.
    model
        ``presence``, or for an access indicator ``mclp``, ``lscp`` or ``p_median``.
    table
        One row per site in rank order (:data:`SITE_COLUMNS`): ``gain`` is the residents
        (``gain_field``) the site adds within reach; ``closes`` the unit whose gap it
        closes (presence) or empty.
    result
        The model's :class:`~coverage_gis.siting.models.SitingResult` (objective, solver
        status, time).
    findings
        Candidates refused (in water, outside every unit, without coordinates).
    gaps_without_candidate
        Codes of gap units (presence) that no kept candidate lies in: no site is suggested
        for them, and the table says so by their absence.
    """

    indicator: str
    model: str
    table: pd.DataFrame
    result: SitingResult
    findings: Findings
    gaps_without_candidate: tuple[str, ...] = ()
    #: Capacity field and the capacity of each new site (capacitated model), else None.
    capacity: tuple[str, float] | None = None


def suggest_sites(
    inputs: AuditInputs,
    result: AuditResult,
    indicator_id: str,
    *,
    n_new: int = 10,
    reach_m: float = 1000.0,
    time_limit: float = 60.0,
    candidates: pd.DataFrame | None = None,
    candidates_file: str | None = None,
    model: str | None = None,
    capacity: float | None = None,
    candidate_source: str = "communities",
) -> SiteSuggestion:
    """Suggest sites that close the gaps of ``indicator_id`` in ``result``.

    Parameters
    ----------
    inputs
        The audit's inputs (units, population, water, roads).
    result
        The audit.
    indicator_id
        A township-level presence indicator, or an access indicator with ``measure =
        "share"``.
    n_new
        Sites to add for an access indicator (MCLP).
    reach_m
        For presence indicators: the reach that scores a candidate (straight line).
    time_limit
        Solver time limit in seconds.
    candidates
        The planner's candidate sites (vacant public buildings, community centres …) as
        read by :func:`coverage_gis.io.facilities.read_facility_file`: ``name``, ``lon``,
        ``lat`` (WGS84) and ``source_row``; default: the population's community points.
    candidates_file
        The candidates' file name, for the findings.
    model
        For an access indicator: ``mclp`` (``n_new`` sites adding the most residents
        within reach), ``lscp`` (the fewest sites that bring every coverable resident
        within reach) or ``p_median`` (``n_new`` sites with the least total distance from
        residents to their nearest facility, pairs up to the reach, a resident farther
        counting twice the reach); default ``mclp``. Today's qualifying facilities stay
        open in each. Presence indicators have one model (``presence``), capacity
        indicators (2SFCA, e.g. beds per 1,000 elderly) ``capacitated_mclp`` (see
        :mod:`coverage_gis.siting.capacity`): giving another is refused.
    capacity
        For a capacity indicator: the capacity of each new site (e.g. beds); default the
        median capacity of today's qualifying facilities.
    candidate_source
        Without ``candidates``: ``communities`` (the population's community points) or
        ``townships`` (one point surely inside each 镇(街道), off the water).
    """
    from coverage_gis.access.euclidean import euclidean_pairs
    from coverage_gis.siting.candidates import candidates_from_points
    from coverage_gis.siting.models import lscp, mclp, p_median, presence_sites

    if candidate_source not in ("communities", "townships"):
        raise InputError(
            f"未知候选点来源：{candidate_source}（可用：communities、townships）",
            f"Unknown candidate source: {candidate_source} (communities or townships)",
            column="--candidate-source",
            value=candidate_source,
        )
    known = (*ACCESS_MODELS, "capacitated_mclp")
    if model is not None and model not in known:
        raise InputError(
            f"未知选址模型：{model}（可用：{'、'.join(known)}）",
            f"Unknown siting model: {model} (choose from {', '.join(known)})",
            column="--model",
            value=model,
        )
    r = result.indicator(indicator_id)
    ind = r.indicator
    township = ind.level == "township" and ind.kind in ("presence", "access")
    fca = ind.access is not None and ind.access.measure == "fca"
    if not township or (fca and ind.access.capacity_field is None):
        raise InputError(
            f"指标 {ind.id} 不是镇(街道)层级的设施、可达比例或容量可达指标，无法给出选址建议",
            f"Indicator {ind.id} is not a township presence, access-share or capacity "
            "indicator; no sites can be suggested for it",
            column="--indicator",
            value=ind.id,
        )
    if model is not None and (model == "capacitated_mclp") != fca:
        raise InputError(
            f"模型 {model} 不适用于指标 {ind.id}"
            + ("（容量指标用 capacitated_mclp）" if fca else "（capacitated_mclp 只用于容量指标）"),
            f"Model {model} does not apply to indicator {ind.id}"
            + (
                " (capacity indicators use capacitated_mclp)"
                if fca
                else " (capacitated_mclp is for capacity indicators)"
            ),
            column="--model",
            value=model,
        )
    if inputs.access is None:
        raise InputError(
            "选址建议需要人口数据（--population）作为候选点与权重",
            "Site suggestions need population data (--population) for candidates and weights",
            column="--population",
        )
    if ind.kind == "presence" and model is not None:
        raise InputError(
            f"指标 {ind.id} 是镇(街道)设施指标，只用每个缺口镇(街道)选一处的模型（不用 {model}）",
            f"Indicator {ind.id} is a township presence indicator: one site per gap township "
            f"(model {model} applies to access indicators)",
            column="--model",
            value=model,
        )
    model = model or ("capacitated_mclp" if fca else "mclp")
    units = result.units
    demand = inputs.access.demand_for(units)
    field = ind.access.population_field if ind.access is not None else _elderly(demand)
    weight = demand.weights[field].to_numpy(dtype=float)
    weight = np.where(np.isfinite(weight) & (weight > 0), weight, 0.0)
    if candidates is None and candidate_source == "townships":
        from coverage_gis.siting.candidates import unit_centroid_candidates

        cands = unit_centroid_candidates(units, inputs.access.water)
        all_lon, all_lat = np.full(len(units), np.nan), np.full(len(units), np.nan)
        all_names = np.full(len(units), None, dtype=object)
        all_lon[cands.index], all_lat[cands.index] = cands.lon, cands.lat
        all_names[cands.index] = [f"{n}（镇街中心点）" for n in cands.names]
    elif candidates is None:
        all_lon, all_lat = demand.lon, demand.lat
        all_names = np.asarray(demand.name, dtype=object)
        cands = candidates_from_points(
            all_lon, all_lat, all_names, units, inputs.access.water, file=demand.source
        )
    else:
        all_lon = candidates["lon"].to_numpy(dtype=float)
        all_lat = candidates["lat"].to_numpy(dtype=float)
        all_names = candidates["name"].to_numpy(dtype=object)
        rows = candidates["source_row"].to_numpy() if "source_row" in candidates else None
        cands = candidates_from_points(
            all_lon,
            all_lat,
            all_names,
            units,
            inputs.access.water,
            file=candidates_file,
            rows=rows,
        )
    c_idx = np.asarray(cands.index, dtype=np.int64)
    c_unit = np.asarray(cands.unit, dtype=np.int64)
    if fca and len(c_idx) > MAX_CAPACITY_CANDIDATES:
        from coverage_gis.siting.candidates import demand_point_candidates

        keep = demand_point_candidates(all_lon[c_idx], all_lat[c_idx], MAX_CAPACITY_CANDIDATES)
        c_idx, c_unit = c_idx[keep], c_unit[keep]
    c_lon, c_lat = all_lon[c_idx], all_lat[c_idx]
    codes = units["code"].astype(str).to_numpy()
    counted = (
        units["counted"].to_numpy(dtype=bool) if "counted" in units else np.ones(len(units), bool)
    )

    if ind.kind == "presence":
        reach = euclidean_pairs(demand.lon, demand.lat, c_lon, c_lat, reach_m, nearest=False)
        score = reach.demand_reached(weight)
        pos = {c: i for i, c in enumerate(codes)}
        gap_units = np.array([pos[str(c)] for c in r.failing if str(c) in pos], dtype=np.int64)
        sr = presence_sites(c_unit, gap_units, score)
        chosen = np.asarray(sr.sites, dtype=np.int64)
        gains = score[chosen]
        closes = codes[c_unit[chosen]]
        model = "presence"
    else:
        detail = r.access
        assert detail is not None and ind.access is not None
        rule = ind.access
        upos = inputs.access.demand_units(units, demand)
        in_counted = (upos >= 0) & counted[np.maximum(upos, 0)]
        w = np.where(in_counted, weight, 0.0)
        served = detail.points["served"].to_numpy(dtype=bool)
        pairs = inputs.access.pairs(rule, demand, c_lon, c_lat, rule.threshold_m)
        within = pairs.within(rule.threshold_m)
        cost = (within.demand, within.facility, within.dist_m)
        common = {"n_candidates": len(c_idx), "time_limit": time_limit}
        if model == "capacitated_mclp":
            sr, capacity = _capacitated(result, inputs, r, demand, w, cost, n_new, capacity, common)
        elif model == "lscp":
            sr = lscp(cost, w, threshold_m=rule.threshold_m, existing=served, **common)
        elif model == "p_median":
            # today's distance to the nearest qualifying facility (inf beyond what was measured)
            near = detail.points["nearest_m"].to_numpy(dtype=float)
            sr = p_median(cost, w, n_new, limit_m=rule.threshold_m, existing=near, **common)
        else:
            sr = mclp(cost, w, n_new, threshold_m=rule.threshold_m, existing=served, **common)
        chosen = np.asarray(sr.sites, dtype=np.int64)
        # what each site adds: residents newly within the reach (the same unit in each model)
        gains = np.asarray(sr.covered_gain, dtype=float)
        closes = np.full(len(chosen), "", dtype=object)

    # distance from each site to the nearest qualifying facility today (straight line)
    fac = r.access.facilities if r.access is not None else None
    if fac is not None and len(fac):
        f_lon, f_lat = fac["lon"].to_numpy(dtype=float), fac["lat"].to_numpy(dtype=float)
    else:
        f_lon, f_lat = _qualifying_xy(result, ind.id)
    near = euclidean_pairs(c_lon[chosen], c_lat[chosen], f_lon, f_lat, 1.0).nearest()[1]
    unit_pos = c_unit[chosen]
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(chosen) + 1),
            "site": all_names[c_idx[chosen]],
            "lon": c_lon[chosen],
            "lat": c_lat[chosen],
            "unit_code": codes[unit_pos],
            "unit": units["name"].to_numpy()[unit_pos],
            "county": units["county"].to_numpy()[unit_pos],
            "gain": gains,
            "gain_field": field,
            "closes": closes,
            "nearest_existing_m": near,
        },
        columns=list(SITE_COLUMNS),
    )
    missing = tuple(codes[np.asarray(sr.units_without_candidate, dtype=np.int64)].tolist())
    cap = (
        (ind.access.capacity_field, float(capacity))
        if model == "capacitated_mclp" and ind.access is not None and ind.access.capacity_field
        else None
    )
    return SiteSuggestion(ind.id, model, table, sr, cands.findings, missing, cap)


def gap_indicators(result: AuditResult, indicators: Sequence[str] | None = None) -> list[str]:
    """The township presence indicators (of ``indicators``, default all) that have gap
    townships: those :func:`suggest_for_gaps` suggests sites for."""
    wanted = None if indicators is None else set(indicators)
    return [
        r.indicator.id
        for r in result.indicators
        if r.indicator.kind == "presence"
        and r.indicator.level == "township"
        and r.failing
        and (wanted is None or r.indicator.id in wanted)
    ]


def suggest_for_gaps(
    inputs: AuditInputs,
    result: AuditResult,
    indicators: Sequence[str] | None = None,
    *,
    reach_m: float = 1000.0,
    time_limit: float = 60.0,
) -> list[SiteSuggestion]:
    """:func:`suggest_sites` for every indicator of :func:`gap_indicators`: the best
    candidate in each gap township (what ``audit --suggest`` and ``map --suggest`` add)."""
    return [
        suggest_sites(inputs, result, i, reach_m=reach_m, time_limit=time_limit)
        for i in gap_indicators(result, indicators)
    ]


def _capacitated(
    result: AuditResult,
    inputs: AuditInputs,
    r: Any,
    demand: Any,
    w: np.ndarray,
    cost: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_new: int,
    capacity: float | None,
    common: dict[str, Any],
) -> tuple[SitingResult, float]:
    """The capacitated model (and the new sites' capacity) for a 2SFCA indicator: each resident needs the indicator's
    target per ``scale`` (e.g. 40 beds per 1,000 elderly), today's qualifying facilities
    offer their capacity within the same reach."""
    from coverage_gis.siting.capacity import capacitated_mclp

    ind = r.indicator
    rule = ind.access
    assert r.access is not None and inputs.access is not None
    fac = r.access.facilities
    rows = fac["row"].to_numpy(dtype=np.int64)
    cap_now = result.facilities[rule.capacity_field].to_numpy(dtype=float)[rows]
    if capacity is None:
        known = cap_now[np.isfinite(cap_now) & (cap_now > 0)]
        if not len(known):
            raise InputError(
                f"现有设施没有{rule.capacity_field}数据，请指定新站点容量（--capacity）",
                f"No existing facility has {rule.capacity_field}: give the new sites' "
                "capacity (--capacity)",
                column="--capacity",
            )
        capacity = float(np.median(known))
    f_lon, f_lat = fac["lon"].to_numpy(dtype=float), fac["lat"].to_numpy(dtype=float)
    ex = inputs.access.pairs(rule, demand, f_lon, f_lat, rule.threshold_m).within(rule.threshold_m)
    need = w * float(ind.target) / float(ind.scale)
    sr = capacitated_mclp(
        cost, w, need, n_new, capacity, existing=ex, existing_capacity=cap_now, **common
    )
    return sr, capacity


def _elderly(demand: object) -> str:
    cols = demand.weights.columns  # type: ignore[attr-defined]
    for f in ("pop_60plus", "pop_65plus", "population", "households"):
        if f in cols:
            return f
    return str(cols[0])


def _qualifying_xy(result: AuditResult, indicator_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of the facilities that count for a presence indicator (the engine's
    :func:`~coverage_gis.core.rules.qualification`, location aside: a counted point is a
    facility whatever unit it lies in)."""
    from coverage_gis.core.rules import qualification

    fac = result.facilities
    q = qualification(result, indicator_id)["reason"].to_numpy()
    ok = (q == "qualifies") | (q == "not_located")
    return fac["lon"].to_numpy(dtype=float)[ok], fac["lat"].to_numpy(dtype=float)[ok]
