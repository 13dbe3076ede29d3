"""Which unit each facility point belongs to (rule 1 of :mod:`coverage_gis.core.engine`).

:func:`locate_facilities` gives every point the unit whose polygon covers it, the smallest
unit code on a shared edge, through :mod:`coverage_gis.core.point_in_polygon`. The work can
start before :func:`~coverage_gis.core.engine.prepare` needs it: :func:`locator_ahead` builds
the units' side (validity, boxes, grid and blocks) as soon as the boundaries are read,
:func:`locate_ahead` locates the points while the rest is read and matched.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage_gis._threads import pool as threads
from coverage_gis.core.point_in_polygon import PointLocator, locate_points

__all__ = [
    "PendingLocation",
    "locate_ahead",
    "locate_facilities",
    "locator_ahead",
    "unit_locator",
]


def unit_locator(units: gpd.GeoDataFrame) -> PointLocator:
    """The units' polygons ready for :func:`locate_facilities` (``locator=``): validity,
    boxes and grid (the prepared copies are made while locating, a block at a time), ties
    broken by the smallest unit code. ``units`` as there."""
    return PointLocator.build(units.geometry.to_numpy(), _code_rank(units))


def _code_rank(units: gpd.GeoDataFrame) -> np.ndarray:
    """Each unit's rank by code (the tie-break on shared edges: the smallest code wins)."""
    codes = units["code"].to_numpy().astype(str)
    return np.argsort(np.argsort(codes, kind="stable"), kind="stable")


def locate_facilities(
    units: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    locator: PointLocator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Assign points to units by rule 1 of :mod:`coverage_gis.core.engine`.

    Parameters
    ----------
    units
        Validated units (EPSG:4326), as in
        :attr:`~coverage_gis.core.engine.PreparedAudit.units`.
    lon, lat
        WGS84 coordinates (rows with NaN get -1).
    locator
        :func:`unit_locator` of these very units, if already built (e.g. by
        :func:`locator_ahead` while the facilities were read).

    Returns
    -------
    unit : ndarray of int64
        Position of the unit whose polygon covers the point — the smallest unit code when
        several do — or -1.
    on_shared_edge : ndarray of bool
        True where several units cover the point.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    unit = np.full(len(lon), -1, dtype=np.int64)
    multi = np.zeros(len(lon), dtype=bool)
    ok = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if len(ok) and len(units):
        if locator is not None:
            u, m = locator.locate(lon[ok], lat[ok])
        else:
            u, m = locate_points(units.geometry.to_numpy(), _code_rank(units), lon[ok], lat[ok])
        unit[ok], multi[ok] = u, m
    return unit, multi


def locator_ahead(units: gpd.GeoDataFrame) -> Future[PointLocator]:
    """Start :func:`unit_locator` on the engine's locating thread and return at once.

    Readers call it as soon as the boundaries are read, so that the units' side of point
    location (validity of the outlines, their grid) overlaps the reading of the facility
    file; pass the future to :func:`locate_ahead`. ``units`` must be in EPSG:4326
    and not change afterwards.
    """
    if units.crs is None or not units.crs.equals("EPSG:4326"):
        raise ValueError("locator_ahead needs units in EPSG:4326")
    return threads("locate").submit(unit_locator, units)


@dataclass(frozen=True)
class PendingLocation:
    """Point location started ahead of :func:`~coverage_gis.core.engine.prepare` by
    :func:`locate_ahead`.

    It remembers what it locates (the units object and copies of the coordinates), so that
    ``prepare`` uses the answer only for exactly those inputs (:meth:`matches`).
    """

    units: gpd.GeoDataFrame
    lon: np.ndarray
    lat: np.ndarray
    future: Future[tuple[np.ndarray, np.ndarray]]

    def matches(self, units: gpd.GeoDataFrame, facilities: pd.DataFrame) -> bool:
        """Whether ``units`` and the facilities' coordinates are those it was started with
        (only then is its answer used; otherwise it is left to finish unused)."""
        if units is not self.units or len(facilities) != len(self.lon):
            return False
        lon = facilities["lon"].to_numpy(dtype=float)
        lat = facilities["lat"].to_numpy(dtype=float)
        return bool(
            np.array_equal(lon, self.lon, equal_nan=True)
            and np.array_equal(lat, self.lat, equal_nan=True)
        )

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Wait for the answer of :func:`locate_facilities`."""
        return self.future.result()


def locate_ahead(
    units: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    locator: Future[PointLocator] | None = None,
) -> PendingLocation:
    """Start :func:`locate_facilities` on the engine's locating thread and return at once.

    Readers use it to overlap the point-in-polygon pass with their remaining work (checks
    of the boundaries, CRS suggestions) and with the type and name matching of
    :func:`~coverage_gis.core.engine.prepare`: pass it to ``prepare`` as ``located``, which
    waits for it only when it needs the answer. ``units`` must be in EPSG:4326; ``locator`` is
    :func:`locator_ahead` of the same units, when it was started.
    """
    if units.crs is None or not units.crs.equals("EPSG:4326"):
        raise ValueError("locate_ahead needs units in EPSG:4326")
    lon = np.array(lon, dtype=float)  # copies: the facility table may change afterwards
    lat = np.array(lat, dtype=float)

    def run() -> tuple[np.ndarray, np.ndarray]:
        return locate_facilities(
            units, lon, lat, locator=locator.result() if locator is not None else None
        )

    return PendingLocation(units, lon, lat, threads("locate").submit(run))
