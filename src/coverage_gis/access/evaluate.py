"""Evaluate ``access`` indicators: how much of the demand lives within reach (生活圈可达性).

The engine (:meth:`coverage_gis.core.engine.PreparedAudit.evaluate`) hands each ``access``
indicator the facility rows that qualify on the evaluation date (same type, status, date
and standard rules as a presence indicator); this module turns them into

* per demand point: the nearest facility and its distance along the indicator's mode
  (straight line, straight line round water, or along roads) and whether it is within reach;
* per unit (镇/街道), per county and city-wide: demand, demand within reach, the share (or,
  for ``measure = "fca"``, the two-step floating catchment area ratio of the facilities'
  capacity per ``scale`` residents), the facility nearest to most of the unit's residents
  and the population-weighted median distance.

Distances for one (mode, reach, facility set) are computed once per :class:`AccessInputs`
and reused by every indicator and evaluation date that asks for the same thing.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from coverage_gis.core.findings import Finding, Findings

if TYPE_CHECKING:
    import geopandas as gpd
    import pyproj

    from coverage_gis.access.barriers import Barriers
    from coverage_gis.access.demand import Demand
    from coverage_gis.access.network import RoadNetwork
    from coverage_gis.access.pairs import Pairs
    from coverage_gis.core.catalog import AccessRule, Indicator

__all__ = ["UNIT_ACCESS_COLUMNS", "AccessDetail", "AccessInputs", "evaluate_access"]

#: How far beyond the reach nearest distances are still measured (barrier and network
#: modes: a limited search); farther than this a unit's distance is reported as "more than".
NEAREST_FACTOR = 3.0
#: Facility sets whose pairs are kept per mode, reach and demand (dates, scenarios).
_PAIR_SETS_KEPT = 4
#: Columns of :attr:`AccessDetail.by_unit`.
UNIT_ACCESS_COLUMNS = (
    "code",
    "name",
    "county_code",
    "county",
    "counted",
    "demand",
    "served",
    "unserved",
    "share",
    "accessibility",
    "nearest_facility",
    "median_distance_m",
)


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Run an :class:`AccessInputs` method holding the instance's cache lock."""

    @functools.wraps(method)
    def run(self: AccessInputs, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return run  # type: ignore[return-value]


@dataclass
class AccessInputs:
    """What ``access`` indicators need beyond units and facilities.

    Parameters
    ----------
    demand
        Demand points read from a community table or a population raster
        (:mod:`coverage_gis.io.population`, :func:`coverage_gis.access.demand.read_population_raster`);
        ``None``: each unit's own totals (``population``, ``pop_60plus`` …) spread evenly
        over the unit (:func:`coverage_gis.access.demand.demand_from_units`).
    water
        Barrier geometries (lakes, rivers) in WGS84, for ``mode = "barrier"``.
    roads
        Road line geometries in WGS84, for ``mode = "network"``.
    sources
        File names of the inputs, for reports (``{"demand": …, "water": …, "roads": …}``).
    water_names
        Names of the water features (parallel to ``water``), when the layer has them.
    """

    demand: Demand | None = None
    water: np.ndarray | None = None
    roads: np.ndarray | None = None
    sources: dict[str, str] = field(default_factory=dict)
    water_names: np.ndarray | None = None
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    #: Guards the caches: the desktop app evaluates a scenario on the UI thread while a
    #: worker may evaluate the same inputs for another date.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)  # a lock cannot be pickled or copied; each copy gets its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # -- demand ---------------------------------------------------------------------------
    @_locked
    def demand_for(self, units: gpd.GeoDataFrame, *, key: object | None = None) -> Demand:
        """The demand points: the given table or raster, else the units' totals.

        ``key`` is the object the cache knows this unit table by (default: the table; the
        engine passes its prepared table, of which each evaluation's ``units`` is a copy).
        """
        if self.demand is not None:
            return self.demand
        owner = units if key is None else key
        ckey = ("units_demand", id(owner))
        if ckey not in self._cache:
            from coverage_gis.access.demand import demand_from_units

            fields = [f for f in ("population", "pop_60plus", "households") if f in units]
            self._cache[ckey] = (owner, demand_from_units(units, fields))
        return self._cache[ckey][1]

    @_locked
    def demand_units(
        self, units: gpd.GeoDataFrame, demand: Demand, *, key: object | None = None
    ) -> np.ndarray:
        """Position in ``units`` of the unit of each demand point (-1: none).

        A point located inside a unit belongs to it (same rule as facilities); a point
        without coordinates belongs to the unit its code or name gives. ``key`` as for
        :meth:`demand_for`.
        """
        owner = units if key is None else key
        ckey = ("demand_units", id(owner), id(demand))
        if ckey in self._cache:
            return self._cache[ckey][2]
        from coverage_gis.core.locate import locate_facilities

        codes = pd.Index(units["code"].astype(str).to_numpy())
        given = (
            codes.get_indexer(pd.Series(demand.unit_code, dtype=object).astype(str))
            if demand.unit_code is not None
            else None
        )
        if given is not None and (given >= 0).all():
            pos = given  # every point names its unit (the units' own totals): nothing to locate
        else:
            pos, _multi = locate_facilities(units, demand.lon, demand.lat)
        if given is not None:
            pos = np.where(given >= 0, given, pos)
        elif demand.unit_name is not None:
            from coverage_gis.core.names import match_unit_names

            named, _amb = match_unit_names(
                list(demand.unit_name),
                units["name"].astype(str).tolist(),
            )
            no_xy = ~(np.isfinite(demand.lon) & np.isfinite(demand.lat))
            pos = np.where(no_xy & (named >= 0), named, pos)
        self._cache[ckey] = (owner, demand, pos)
        return pos

    # -- geometry -------------------------------------------------------------------------
    @_locked
    def metric_crs(self, demand: Demand) -> pyproj.CRS:
        """A local metric CRS for the demand's extent (cached)."""
        key = ("crs", id(demand))
        if key not in self._cache:
            from coverage_gis.access.metric import local_metric_crs

            ok = np.isfinite(demand.lon) & np.isfinite(demand.lat)
            self._cache[key] = (demand, local_metric_crs(demand.lon[ok], demand.lat[ok]))
            self._cache.setdefault("crs_first", self._cache[key][1])
        return self._cache[key][1]

    def known_metric_crs(self) -> pyproj.CRS | None:
        """The metric CRS the distances were measured in (None before any)."""
        return self._cache.get("crs_first")

    def _metric(
        self, crs: pyproj.CRS, lon: np.ndarray, lat: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        from coverage_gis.access.metric import to_metric

        return to_metric(lon, lat, crs)

    @_locked
    def water_metric(self, crs: pyproj.CRS) -> np.ndarray:
        """The water geometries in ``crs`` (cached)."""
        key = ("water", crs.to_wkt())
        if key not in self._cache:
            import shapely
            from pyproj import Transformer

            tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
            geoms = np.asarray(self.water, dtype=object)
            self._cache[key] = shapely.transform(
                geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
            )
        return self._cache[key]

    @_locked
    def barriers(self, crs: pyproj.CRS, max_m: float) -> Barriers:
        """The water as an obstacle set for paths up to ``max_m`` (cached per tolerance)."""
        from coverage_gis.access.barriers import prepare_barriers

        tol = float(np.clip(max_m / 200.0, 5.0, 50.0))
        key = ("barriers", crs.to_wkt(), tol)
        if key not in self._cache:
            self._cache[key] = prepare_barriers(self.water_metric(crs), max_m, tolerance_m=tol)
        return self._cache[key]

    @_locked
    def network(self, crs: pyproj.CRS) -> RoadNetwork:
        """The road network in ``crs`` (built once)."""
        key = ("network", crs.to_wkt())
        if key not in self._cache:
            import shapely
            from pyproj import Transformer

            from coverage_gis.access.network import RoadNetwork

            tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
            lines = shapely.transform(
                np.asarray(self.roads, dtype=object),
                lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])),
            )
            self._cache[key] = RoadNetwork.from_lines(lines)
        return self._cache[key]

    @_locked
    def pairs(
        self,
        rule: AccessRule,
        demand: Demand,
        fac_lon: np.ndarray,
        fac_lat: np.ndarray,
        limit_m: float,
        take: np.ndarray | None = None,
    ) -> Pairs:
        """Demand–facility pairs up to ``limit_m`` along ``rule.mode`` (cached).

        The last few facility sets measured for each mode, reach and demand are kept. A
        set that starts with one of them (a scenario's planned sites come after the real
        rows) measures only the facilities after that prefix and appends them.

        With ``take`` (ascending positions among the given facilities), the pairs of all
        the given facilities are measured (and cached) and those of ``take`` returned,
        numbered 0 … ``len(take) - 1``: the engine passes every facility an indicator could
        count on any date and takes those in service on the evaluation date, so another
        date measures nothing again. The straight-line nearest at any distance is found
        again among the taken ones.
        """
        if take is not None:
            every = self.pairs(rule, demand, fac_lon, fac_lat, limit_m)
            take = np.asarray(take, dtype=np.int64)
            if len(take) == len(fac_lon):
                return every
            out = every.take_facilities(take)
            if every.near_facility is not None:
                from coverage_gis.access.euclidean import euclidean_nearest

                near_f, near_m = euclidean_nearest(
                    demand.lon, demand.lat, np.asarray(fac_lon)[take], np.asarray(fac_lat)[take]
                )
                ok = np.isfinite(demand.lon) & np.isfinite(demand.lat)
                out = dataclasses.replace(
                    out,
                    near_facility=np.where(ok, near_f, -1),
                    near_m=np.where(ok, near_m, np.inf),
                )
            return out
        coords = np.ascontiguousarray(np.column_stack([fac_lon, fac_lat]), dtype=float)
        slot = ("pairs", rule.mode, float(limit_m), id(demand))
        kept: list[tuple[np.ndarray, Pairs]] = self._cache.setdefault(slot, [demand, []])[1]
        best = -1
        for i, (done, _) in enumerate(kept):
            n0 = len(done)
            longer = best < 0 or n0 > len(kept[best][0])
            if n0 <= len(coords) and longer and np.array_equal(coords[:n0], done, equal_nan=True):
                best = i
        if best >= 0 and len(kept[best][0]) == len(coords):
            pairs = kept[best][1]
        elif best >= 0:
            done, head = kept[best]
            tail = coords[len(done) :]
            pairs = head.appended(self._measure(rule, demand, tail[:, 0], tail[:, 1], limit_m))
        else:
            pairs = self._measure(rule, demand, coords[:, 0], coords[:, 1], limit_m)
        if best >= 0:
            kept.append(kept.pop(best))  # most recently used last
        if best < 0 or len(kept[-1][0]) != len(coords):
            kept.append((coords, pairs))
        del kept[: max(0, len(kept) - _PAIR_SETS_KEPT)]
        return pairs

    def _measure(
        self,
        rule: AccessRule,
        demand: Demand,
        fac_lon: np.ndarray,
        fac_lat: np.ndarray,
        limit_m: float,
    ) -> Pairs:
        """Measure demand–facility pairs up to ``limit_m`` along ``rule.mode``."""
        ok = np.isfinite(demand.lon) & np.isfinite(demand.lat)
        if rule.mode == "euclidean":
            from coverage_gis.access.euclidean import euclidean_pairs

            pairs = euclidean_pairs(demand.lon, demand.lat, fac_lon, fac_lat, limit_m)
        else:
            crs = self.metric_crs(demand)
            dx, dy = self._metric(crs, demand.lon, demand.lat)
            fx, fy = self._metric(crs, fac_lon, fac_lat)
            if rule.mode == "barrier":
                from coverage_gis.access.barriers import barrier_pairs

                pairs = barrier_pairs((dx, dy), (fx, fy), self.barriers(crs, limit_m), limit_m)
            else:
                from coverage_gis.access.network import network_pairs

                pairs = network_pairs(self.network(crs), (dx, dy), (fx, fy), limit_m)
        if not ok.all():  # demand points without coordinates reach nothing
            near_f, near_m = (None, None)
            if pairs.near_facility is not None and pairs.near_m is not None:
                near_f = np.where(ok, pairs.near_facility, -1)
                near_m = np.where(ok, pairs.near_m, np.inf)
            cut = pairs.subset(ok[pairs.demand])
            pairs = dataclasses.replace(cut, near_facility=near_f, near_m=near_m)
        return pairs


@dataclass
class AccessDetail:
    """The per-unit and per-point detail of one ``access`` indicator.

    Attributes
    ----------
    rule
        The indicator's reach rule.
    by_unit
        One row per unit, :data:`UNIT_ACCESS_COLUMNS`.
    points
        One row per demand point: ``lon``, ``lat``, ``weight``, ``unit_code``,
        ``nearest_m`` (inf beyond the measured range), ``served``.
    facilities
        One row per qualifying facility: ``row`` (position in the audit's facility table),
        ``name``, ``lon``, ``lat``, ``demand_reached``.
    demand_source
        Where the demand came from (file name, or ``units`` for the units' own totals).
    """

    rule: AccessRule
    by_unit: pd.DataFrame
    points: pd.DataFrame
    facilities: pd.DataFrame
    demand_source: str
    measured_to_m: float
    context: AccessInputs | None = field(default=None, repr=False, compare=False)

    def catchments(self) -> np.ndarray:
        """Each facility's catchment (服务范围) as a WGS84 polygon, in :attr:`facilities` order.

        Straight line: the circle of the reach. Round water: the reach measured from the
        facility to a grid of probe points (spacing 1/8 of the reach) round it, and the
        probes within reach widened by 3/4 of the spacing, so the discs merge — the water
        and the shore behind it are cut out. Along roads: the road nodes (at most 50 m
        apart) within reach, widened by 60 m: the streets' corridor one can walk to.
        """
        cached = self.__dict__.get("_catchments")
        if cached is not None:
            return cached
        import shapely

        from coverage_gis.access.metric import local_metric_crs, to_metric

        fac = self.facilities
        n = len(fac)
        if n == 0:
            return np.empty(0, dtype=object)
        lon = fac["lon"].to_numpy(dtype=float)
        lat = fac["lat"].to_numpy(dtype=float)
        known = self.context.known_metric_crs() if self.context is not None else None
        crs = known or local_metric_crs(lon, lat)  # the roads are already built in `known`
        fx, fy = to_metric(lon, lat, crs)
        r = self.rule.threshold_m
        if self.rule.mode == "euclidean" or self.context is None:
            out = np.full(n, None, dtype=object)
            ok = np.isfinite(fx) & np.isfinite(fy)
            out[ok] = shapely.buffer(shapely.points(fx[ok], fy[ok]), r, quad_segs=8)
        else:
            if self.rule.mode == "barrier":
                from coverage_gis.access.barriers import barrier_pairs

                step = r / 8.0
                k = np.arange(-8, 9) * step
                ox, oy = np.meshgrid(k, k)
                inside = ox**2 + oy**2 <= r * r
                ox, oy = ox[inside], oy[inside]
                px = (fx[:, None] + ox[None, :]).ravel()
                py = (fy[:, None] + oy[None, :]).ravel()
                owner = np.repeat(np.arange(n), len(ox))
                bar = self.context.barriers(crs, r)
                pairs = barrier_pairs((px, py), (fx, fy), bar, r, own=owner)  # probe → own
                probe, owner_of = pairs.demand, pairs.facility
                grow = step * 0.75
            else:
                from coverage_gis.access.network import network_pairs

                net = self.context.network(crs)
                px, py = net.node_x, net.node_y
                pairs = network_pairs(net, (px, py), (fx, fy), r)
                probe, owner_of = pairs.demand, pairs.facility
                grow = 60.0
            # every facility stands in its own catchment; the reached points, widened so
            # that neighbours merge, are the area (no hull: it would bridge the water)
            pts = np.column_stack([np.r_[px[probe], fx], np.r_[py[probe], fy]])
            groups = np.r_[owner_of, np.arange(n)]
            located = np.isfinite(pts).all(axis=1)  # facilities placed by name: no area
            pts, groups = pts[located], groups[located]
            if self.rule.mode == "network":  # road nodes ≤ 50 m apart: one per 40 m cell
                size = grow / 1.5
                cell = np.floor(pts / size).astype(np.int64)
                _, first = np.unique(np.column_stack([groups, cell]), axis=0, return_index=True)
                pts, groups = (cell[first] + 0.5) * size, groups[first]
            present, group = np.unique(groups, return_inverse=True)
            order = np.argsort(group, kind="stable")
            mp = shapely.multipoints(pts[order], indices=group[order])
            out = np.full(n, None, dtype=object)
            # drawn on a map: simplified by 2/3 of the widening (the probe grid's staircase
            # smoothed, a map file of ~100 KB per layer instead of MBs)
            out[present] = shapely.simplify(shapely.buffer(mp, grow, quad_segs=2), grow * 0.66)
        from pyproj import Transformer

        back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        out = shapely.transform(out, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))
        self.__dict__["_catchments"] = out
        return out


def _weighted_median(
    group: np.ndarray, value: np.ndarray, weight: np.ndarray, n: int
) -> np.ndarray:
    """Weighted median of ``value`` per group ``0..n-1`` (NaN for empty groups), vectorised."""
    out = np.full(n, np.nan)
    ok = (group >= 0) & (weight > 0)
    if not ok.any():
        return out
    g, v, w = group[ok], value[ok], weight[ok]
    order = np.lexsort((v, g))
    g, v, w = g[order], v[order], w[order]
    cum = np.cumsum(w)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    base = np.repeat(np.r_[0.0, cum[starts[1:] - 1]], np.diff(np.r_[starts, len(g)]))
    total = np.bincount(g, weights=w, minlength=n)
    within = cum - base
    half = 0.5 * total[g]
    first = within >= half - 1e-9
    # first position of each group that reaches half its weight
    idx = np.flatnonzero(first & np.r_[True, (g[1:] != g[:-1]) | ~first[:-1]])
    out[g[idx]] = v[idx]
    return out


def _main_facility(group: np.ndarray, fac: np.ndarray, weight: np.ndarray, n: int) -> np.ndarray:
    """Per group, the facility nearest to the largest share of its weight (-1: none); ties
    go to the lowest facility position."""
    out = np.full(n, -1, dtype=np.int64)
    ok = (group >= 0) & (fac >= 0) & (weight > 0)
    if not ok.any():
        return out
    g, f = group[ok].astype(np.int64), fac[ok].astype(np.int64)
    width = int(f.max()) + 1
    keys, inv = np.unique(g * width + f, return_inverse=True)
    sums = np.bincount(inv, weights=weight[ok])
    kg, kf = keys // width, keys % width
    # per group: largest sum first, then lowest facility; the first row of each group wins
    order = np.lexsort((kf, -sums, kg))
    first = np.r_[True, kg[order][1:] != kg[order][:-1]]
    out[kg[order][first]] = kf[order][first]
    return out


def evaluate_access(
    ind: Indicator,
    *,
    inputs: AccessInputs,
    units: gpd.GeoDataFrame,
    unit_county: np.ndarray,
    counties: pd.DataFrame,
    fac_rows: np.ndarray,
    fac_lon: np.ndarray,
    fac_lat: np.ndarray,
    fac_names: np.ndarray,
    fac_capacity: np.ndarray | None,
    scale: float,
    findings: Findings,
    units_key: object | None = None,
    universe: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, Any], AccessDetail | None]:
    """Evaluate one ``access`` indicator.

    Parameters
    ----------
    ind
        The indicator (``ind.access`` set).
    inputs
        Demand, water and roads (and the distance cache).
    units
        The units with ``counted``.
    unit_county
        Position of each unit's county in ``counties``.
    counties
        ``county_code``, ``county``.
    fac_rows, fac_lon, fac_lat, fac_names, fac_capacity
        The qualifying facility rows (positions in the audit's facility table), their WGS84
        coordinates, names and (``measure = "fca"``) capacity.
    scale
        Multiplier of the value (100 for a share in per cent; e.g. 1000 for beds per 1,000
        residents with ``fca``).
    findings
        Findings of this evaluation (problems with the access inputs are appended).
    units_key
        The object the caches know ``units`` by (see :meth:`AccessInputs.demand_for`).
    universe
        ``(lon, lat, take)``: every facility the indicator could count on any date and the
        positions of the qualifying ones among them (see :meth:`AccessInputs.pairs`);
        without it the pairs of the qualifying facilities are measured.

    Returns
    -------
    numbers : dict
        ``value``, ``numerator``, ``denominator``, ``status``, ``failing`` (unit codes below
        the target), ``by_county`` (county roll-up with numerator, denominator).
    detail : AccessDetail or None
        ``None`` when the indicator cannot be computed (``status`` says why).
    """
    rule = ind.access
    assert rule is not None
    n_units = len(units)
    empty = {"value": None, "numerator": None, "denominator": None, "failing": []}
    if rule.mode == "barrier" and inputs.water is None:
        findings.add(
            Finding(
                "warning",
                "access_input_missing",
                f"指标 {ind.id} 按绕开水域的直线距离计算，需要水域图层（--water）",
                f"Indicator {ind.id} measures straight lines round water and needs a water layer (--water)",
                value=ind.id,
            )
        )
        return {**empty, "status": "no_data"}, None
    if rule.mode == "network" and inputs.roads is None:
        findings.add(
            Finding(
                "warning",
                "access_input_missing",
                f"指标 {ind.id} 按道路距离计算，需要道路网络（--roads）",
                f"Indicator {ind.id} measures along roads and needs a road network (--roads)",
                value=ind.id,
            )
        )
        return {**empty, "status": "no_data"}, None
    demand = inputs.demand_for(units, key=units_key)
    if rule.population_field not in demand.weights.columns:
        findings.add(
            Finding(
                "warning",
                "indicator_field_missing",
                f"人口数据缺少字段 {rule.population_field}，指标 {ind.id} 无法计算",
                f"The population data lack the field '{rule.population_field}'; indicator {ind.id} cannot be computed",
                file=demand.source,
                column=rule.population_field,
                value=ind.id,
            )
        )
        return {**empty, "status": "no_data"}, None
    weight = demand.weights[rule.population_field].to_numpy(dtype=float)
    weight = np.where(np.isfinite(weight) & (weight > 0), weight, 0.0)
    upos = inputs.demand_units(units, demand, key=units_key)
    counted = units["counted"].to_numpy(dtype=bool)
    in_counted = (upos >= 0) & counted[np.maximum(upos, 0)]

    # straight line: the k-d tree gives the nearest at any distance, pairs to the reach;
    # round water and along roads the nearest is searched to NEAREST_FACTOR × the reach
    far = rule.measure == "fca" or rule.mode == "euclidean"
    limit = rule.threshold_m * (1.0 if far else NEAREST_FACTOR)
    if len(fac_rows):
        pairs = (
            inputs.pairs(rule, demand, universe[0], universe[1], limit, take=universe[2])
            if universe is not None
            else inputs.pairs(rule, demand, fac_lon, fac_lat, limit)
        )
        near_fac, near_m = pairs.nearest()
        reach = pairs.within(rule.threshold_m)
        served = reach.reached()
    else:
        reach = None
        near_fac = np.full(len(weight), -1, dtype=np.int64)
        near_m = np.full(len(weight), np.inf)
        served = np.zeros(len(weight), dtype=bool)

    w_counted = np.where(in_counted, weight, 0.0)
    g = np.where(upos >= 0, upos, 0)
    demand_u = np.bincount(g, weights=np.where(upos >= 0, weight, 0.0), minlength=n_units)
    served_u = np.bincount(
        g, weights=np.where((upos >= 0) & served, weight, 0.0), minlength=n_units
    )
    access_u = np.full(n_units, np.nan)
    if rule.measure == "fca":
        from coverage_gis.access.fca import two_step_fca

        supply = (
            np.where(np.isfinite(fac_capacity), fac_capacity, 0.0)
            if fac_capacity is not None
            else np.ones(len(fac_rows))
        )
        if reach is not None:
            a_i, _r_j = two_step_fca(reach, supply, weight)
        else:
            a_i = np.zeros(len(weight))
        # population-weighted mean accessibility, per `scale` residents
        num_u = np.bincount(g, weights=np.where(upos >= 0, weight * a_i, 0.0), minlength=n_units)
        with np.errstate(invalid="ignore", divide="ignore"):
            access_u = np.where(
                demand_u > 0, scale * num_u / np.where(demand_u > 0, demand_u, 1), np.nan
            )
        numerator = float(np.sum(w_counted * a_i)) * scale
    else:
        numerator = float(np.sum(w_counted[served]))
    denominator = float(w_counted.sum())

    with np.errstate(invalid="ignore", divide="ignore"):
        share_u = np.where(
            demand_u > 0, 100.0 * served_u / np.where(demand_u > 0, demand_u, 1), np.nan
        )
    median_u = _weighted_median(upos, near_m, weight, n_units)
    main_u = _main_facility(upos, near_fac, weight, n_units)
    # names as given (the engine passes Arrow text, taken from its table); the nearest
    # facility's name per unit as Python objects, None where there is none
    names = (
        fac_names
        if isinstance(fac_names, pd.api.extensions.ExtensionArray)
        else np.asarray(fac_names, dtype=object)
    )
    main_names = np.full(n_units, None, dtype=object)
    if len(names) and (main_u >= 0).any():
        has_main = main_u >= 0
        picked = np.asarray(names[main_u[has_main]], dtype=object)
        main_names[has_main] = np.where(pd.isna(picked), None, picked)
    # the units' own (typed) columns: no dtype inference per evaluation
    by_unit = pd.DataFrame(
        {
            "code": units["code"].array,
            "name": units["name"].array,
            "county_code": units["county_code"].array,
            "county": units["county"].array,
            "counted": counted,
            "demand": demand_u,
            "served": served_u,
            "unserved": demand_u - served_u,
            "share": share_u,
            "accessibility": access_u,
            "nearest_facility": main_names,
            "median_distance_m": median_u,
        },
        columns=list(UNIT_ACCESS_COLUMNS),
    )
    uc = np.where(counted, unit_county, -1)
    nc = len(counties)
    cg = np.where(uc >= 0, uc, 0)
    by = pd.DataFrame(
        {"county_code": counties["county_code"].array, "county": counties["county"].array}
    )
    if rule.measure == "fca":
        by["numerator"] = (
            np.bincount(
                cg,
                weights=np.where(uc >= 0, np.nan_to_num(access_u) * demand_u / scale, 0.0),
                minlength=nc,
            )
            * scale
        )
    else:
        by["numerator"] = np.bincount(cg, weights=np.where(uc >= 0, served_u, 0.0), minlength=nc)
    by["denominator"] = np.bincount(cg, weights=np.where(uc >= 0, demand_u, 0.0), minlength=nc)

    metric = access_u if rule.measure == "fca" else share_u
    if ind.operator == "<=":
        below = metric > ind.target + 1e-9
    elif ind.operator == "=":
        below = np.abs(metric - ind.target) > 1e-9
    else:
        below = metric < ind.target - 1e-9
    failing = units["code"].to_numpy()[counted & (demand_u > 0) & below].tolist()

    outside = (upos < 0) & (weight > 0)
    if outside.any():
        findings.add(
            Finding(
                "warning",
                "demand_outside_units",
                f"{int(outside.sum())} 个人口点不在任何镇(街道)内（{weight[outside].sum():,.0f} 人），未计入指标 {ind.id}",
                f"{int(outside.sum())} demand points lie outside every unit ({weight[outside].sum():,.0f} people) and are not counted in {ind.id}",
                file=demand.source,
                value=ind.id,
                count=int(outside.sum()),
            )
        )
    points = pd.DataFrame(
        {
            "lon": demand.lon,
            "lat": demand.lat,
            "weight": weight,
            "unit_code": units["code"].array.take(np.where(upos >= 0, upos, -1), allow_fill=True),
            "nearest_m": near_m,
            "served": served,
        }
    )
    reached_j = (
        np.bincount(reach.facility, weights=weight[reach.demand], minlength=len(fac_rows))
        if reach is not None
        else np.zeros(len(fac_rows))
    )
    facs = pd.DataFrame(
        {
            "row": fac_rows,
            "name": names,
            "lon": fac_lon,
            "lat": fac_lat,
            "demand_reached": reached_j,
        }
    )
    measured = np.inf if rule.mode == "euclidean" else limit
    detail = AccessDetail(rule, by_unit, points, facs, demand.source, measured, inputs)
    status = "computed" if denominator > 0 else "no_data"
    value = (
        (numerator / denominator * (1.0 if rule.measure == "fca" else 100.0))
        if denominator > 0
        else None
    )
    return {
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "status": status,
        "failing": failing,
        "by_county": by,
    }, detail
