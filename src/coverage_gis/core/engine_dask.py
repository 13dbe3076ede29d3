"""The coverage engine partitioned over a Dask cluster (``coverage-gis audit --engine dask``).

The spatial assignment — the only part whose cost grows with points × polygons — runs on a
dask.distributed cluster; everything else is the in-process engine, so results are identical
to :func:`coverage_gis.core.engine.audit`:

1. the facility points are **spatially partitioned** on the Hilbert curve, so each partition
   covers a compact area: by default sorted on the client and scattered to the workers in
   contiguous runs (memory-light), or with ``partitioning="dask-geopandas"`` as a
   dask-geopandas GeoDataFrame shuffled on the cluster (``spatial_shuffle``);
2. the unit polygons are **broadcast** once (one graph key every partition depends on); each
   partition picks the units whose bounding box meets the partition's and runs the engine's
   point assignment on them (:func:`coverage_gis.core.point_in_polygon.locate_points`, rule 1 of the
   engine: covering polygon, smallest unit code on shared edges);
3. the per-row assignments come back to the client and :func:`coverage_gis.core.engine.prepare`
   applies the remaining rules (named-unit and county fallbacks, statuses, accounting) to them.

Without a scheduler address a LocalCluster is started (threads, so the cluster shares the
client's memory; shapely and numpy release the GIL) and closed afterwards.

Requires the ``scale`` extra: ``pip install coverage-gis[scale]``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage_gis.core.catalog import Catalog
from coverage_gis.core.engine import PreparedAudit, prepare, validate_units
from coverage_gis.core.findings import Findings
from coverage_gis.core.results import AuditOptions, AuditResult

__all__ = [
    "audit_dask",
    "dask_client",
    "hilbert_key",
    "locate_dask",
    "prepare_dask",
    "prepare_dask_files",
]

_ROWS_PER_PARTITION = 500_000


def _require() -> None:
    try:
        import dask_geopandas  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "--engine dask 需要 dask[distributed] 和 dask-geopandas：pip install 'coverage-gis[scale]' / "
            "the Dask engine needs dask[distributed] and dask-geopandas: pip install 'coverage-gis[scale]'"
        ) from exc


@contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` on ``scheduler``, or on a temporary LocalCluster.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``); ``None`` starts a LocalCluster
        of ``n_workers`` single-threaded workers in this process.
    n_workers
        Workers of the LocalCluster (default: the CPU count).
    """
    _require()
    import logging
    import os

    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=n_workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=":0",  # any free port: never collides with another cluster
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _locate_partition(part: pd.DataFrame, payload: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    """Assign one partition's points (columns ``row``, ``x``, ``y``) to the broadcast units."""
    import shapely

    from coverage_gis.core.point_in_polygon import locate_points

    geoms, rank = payload
    out = pd.DataFrame(
        {
            "row": part["row"].to_numpy(dtype=np.int64),
            "unit": np.full(len(part), -1, dtype=np.int64),
            "multi": np.zeros(len(part), dtype=bool),
        }
    )
    if not len(part):
        return out
    x = part["x"].to_numpy(dtype=float)
    y = part["y"].to_numpy(dtype=float)
    box = shapely.box(x.min(), y.min(), x.max(), y.max())
    near = np.sort(shapely.STRtree(geoms).query(box))
    if len(near):
        unit, multi = locate_points(geoms[near], rank[near], x, y)
        out["unit"] = np.where(unit >= 0, near[np.maximum(unit, 0)], -1)
        out["multi"] = multi
    return out


def hilbert_key(x: np.ndarray, y: np.ndarray, *, level: int = 16) -> np.ndarray:
    """Position of each point on a Hilbert curve over the points' extent (vectorised).

    Points close on the curve are close in space, so contiguous runs of points sorted by
    this key make spatially compact partitions.
    """
    side = (1 << level) - 1
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    xi = np.floor((x - x0) / max(x1 - x0, 1e-12) * side).astype(np.int64)
    yi = np.floor((y - y0) / max(y1 - y0, 1e-12) * side).astype(np.int64)
    key = np.zeros(len(x), dtype=np.int64)
    s = 1 << (level - 1)
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        key += s * s * ((3 * rx) ^ ry)
        flip = ~ry
        swap_x = np.where(flip & rx, s - 1 - xi, xi)
        swap_y = np.where(flip & rx, s - 1 - yi, yi)
        xi, yi = np.where(flip, swap_y, xi), np.where(flip, swap_x, yi)
        s >>= 1
    return key


def locate_dask(
    units: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    client: Any,
    *,
    npartitions: int | None = None,
    partitioning: str = "hilbert",
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`coverage_gis.core.locate.locate_facilities` computed partition by partition on Dask.

    Parameters
    ----------
    units
        Validated units (EPSG:4326).
    lon, lat
        WGS84 coordinates (NaN: no location).
    client
        A ``distributed.Client`` (see :func:`dask_client`).
    npartitions
        Spatial partitions (default: one per 500,000 points, at least the worker count).
    partitioning
        ``"hilbert"`` (default): points are sorted on the Hilbert curve here and contiguous
        runs are scattered to the workers as partitions — light on memory (10M points within
        8 GB on one machine). ``"dask-geopandas"``: a dask-geopandas GeoDataFrame of the
        points is spatially shuffled (``spatial_shuffle(by="hilbert")``) on the cluster —
        the data never needs to fit on the client, but the shuffle holds several copies.
    """
    _require()
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    n = len(lon)
    unit = np.full(n, -1, dtype=np.int64)
    multi = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if not len(rows) or not len(units):
        return unit, multi
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    nparts = npartitions or max(workers, -(-len(rows) // _ROWS_PER_PARTITION))
    rank = np.argsort(
        np.argsort(units["code"].to_numpy().astype(str), kind="stable"), kind="stable"
    )
    payload = (units.geometry.to_numpy(), rank)
    if partitioning == "dask-geopandas":
        result = _located_by_shuffle(client, rows, lon, lat, payload, nparts)
    elif partitioning == "hilbert":
        result = _located_by_scatter(client, rows, lon, lat, payload, nparts)
    else:
        raise ValueError(f"unknown partitioning: {partitioning}")
    r = result["row"].to_numpy(dtype=np.int64)
    unit[r] = result["unit"].to_numpy(dtype=np.int64)
    multi[r] = result["multi"].to_numpy(dtype=bool)
    return unit, multi


def _located_by_scatter(
    client: Any,
    rows: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    payload: tuple[np.ndarray, np.ndarray],
    nparts: int,
) -> pd.DataFrame:
    """Hilbert-sorted runs of points scattered as partitions; units broadcast once."""
    order = rows[np.argsort(hilbert_key(lon[rows], lat[rows]), kind="stable")]
    units_future = client.scatter(payload, broadcast=True)
    bounds = np.linspace(0, len(order), nparts + 1).astype(np.int64)
    futures = []
    for a, b in pairwise(bounds.tolist()):
        part = pd.DataFrame({"row": order[a:b], "x": lon[order[a:b]], "y": lat[order[a:b]]})
        futures.append(client.submit(_locate_partition, client.scatter(part), units_future))
    return pd.concat(client.gather(futures), ignore_index=True)


def _located_by_shuffle(
    client: Any,
    rows: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    payload: tuple[np.ndarray, np.ndarray],
    nparts: int,
) -> pd.DataFrame:
    """dask-geopandas: points spatially shuffled on the cluster; units broadcast once."""
    import dask
    import dask.dataframe as dd
    import dask_geopandas

    points = pd.DataFrame({"row": rows, "x": lon[rows], "y": lat[rows]})
    ddf = dd.from_pandas(points, npartitions=nparts, sort=False)
    gddf = dask_geopandas.from_dask_dataframe(
        ddf, geometry=dask_geopandas.points_from_xy(ddf, "x", "y", crs="EPSG:4326")
    )
    gddf = gddf.spatial_shuffle(by="hilbert", npartitions=nparts)
    units_payload = dask.delayed(payload, pure=True)  # one key every partition depends on
    meta = pd.DataFrame(
        {"row": np.zeros(0, np.int64), "unit": np.zeros(0, np.int64), "multi": np.zeros(0, bool)}
    )
    located = gddf[["row", "x", "y"]].map_partitions(
        lambda part, up: _locate_partition(pd.DataFrame(part), up),
        units_payload,
        meta=meta,
        align_dataframes=False,
    )
    return client.compute(located, sync=True)


def prepare_dask(
    units: gpd.GeoDataFrame,
    facilities: pd.DataFrame,
    catalog: Catalog,
    *,
    options: AuditOptions | None = None,
    findings: Findings | None = None,
    inputs: list[dict[str, Any]] | None = None,
    scheduler: str | None = None,
    client: Any = None,
    npartitions: int | None = None,
    partitioning: str = "hilbert",
) -> PreparedAudit:
    """:func:`coverage_gis.core.engine.prepare` with the spatial assignment on a Dask cluster.

    Parameters
    ----------
    units, facilities, catalog, options, findings, inputs
        As :func:`coverage_gis.core.engine.prepare`.
    scheduler
        Scheduler address; ``None`` uses ``client`` or a temporary LocalCluster.
    client
        An existing ``distributed.Client`` (wins over ``scheduler``).
    npartitions
        Number of spatial partitions of the facilities.
    partitioning
        How the facilities are spatially partitioned (see :func:`locate_dask`).
    """
    valid_units = validate_units(units)
    row_ok = facilities["row_error"].isna().to_numpy() if "row_error" in facilities else None
    lon = pd.to_numeric(facilities["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(facilities["lat"], errors="coerce").to_numpy(dtype=float)
    if row_ok is not None:
        lon = np.where(row_ok, lon, np.nan)
    if client is not None:
        located = locate_dask(
            valid_units, lon, lat, client, npartitions=npartitions, partitioning=partitioning
        )
    else:
        with dask_client(scheduler) as c:
            located = locate_dask(
                valid_units, lon, lat, c, npartitions=npartitions, partitioning=partitioning
            )
    return prepare(
        valid_units,
        facilities,
        catalog,
        options=options,
        findings=findings,
        inputs=inputs,
        located=located,
    )


def audit_dask(
    units: gpd.GeoDataFrame,
    facilities: pd.DataFrame,
    catalog: Catalog,
    as_of: dt.date | str,
    options: AuditOptions | None = None,
    *,
    findings: Findings | None = None,
    inputs: list[dict[str, Any]] | None = None,
    scheduler: str | None = None,
    client: Any = None,
    npartitions: int | None = None,
    partitioning: str = "hilbert",
) -> AuditResult:
    """:func:`coverage_gis.core.engine.audit` with the spatial assignment on a Dask cluster."""
    return prepare_dask(
        units,
        facilities,
        catalog,
        options=options,
        findings=findings,
        inputs=inputs,
        scheduler=scheduler,
        client=client,
        npartitions=npartitions,
        partitioning=partitioning,
    ).evaluate(as_of)


def prepare_dask_files(
    units: gpd.GeoDataFrame,
    paths: list[Any],
    catalog: Catalog,
    dates: Any,
    *,
    options: AuditOptions | None = None,
    findings: Findings | None = None,
    inputs: list[dict[str, Any]] | None = None,
    scheduler: str | None = None,
    client: Any = None,
    rows_per_partition: int | None = None,
    mapping: dict[str, str] | None = None,
    crs: str = "wgs84",
) -> PreparedAudit:
    """A partitioned audit of facility files on a Dask cluster: the rows stay on the workers.

    Each worker reads its partitions (consecutive GeoParquet row groups, or whole files),
    normalises and prepares them against the broadcast units and returns a compact
    summary; the client merges the summaries (see :mod:`coverage_gis.core.engine_partitioned`).
    The client's memory holds the units and the summaries, never the facility rows, so the
    rows need not fit on one machine; the workers need one partition at a time each.

    Parameters
    ----------
    units, catalog, options, findings, inputs
        As :func:`coverage_gis.core.engine.prepare`.
    paths
        Facility files (paths the workers can read).
    dates
        The evaluation date(s) (see
        :func:`coverage_gis.core.engine_partitioned.prepare_partitioned`).
    scheduler, client
        As :func:`prepare_dask`.
    rows_per_partition
        About how many rows a partition holds (default
        :data:`coverage_gis.core.engine_partitioned.ROWS_PER_PARTITION`).
    mapping, crs
        Column mapping and source coordinate system of the facility files.
    """
    from functools import partial

    from coverage_gis.core.engine_partitioned import (
        ROWS_PER_PARTITION,
        Partition,
        Piece,
        audit_partition,
        prepare_partitioned,
        read_partition,
    )

    _require()
    read = partial(read_partition, mapping=mapping, crs=crs)

    def run(
        parts: list[Partition], valid_units: gpd.GeoDataFrame, days: Any, c: Any
    ) -> list[Piece]:
        units_future = c.scatter(valid_units, broadcast=True)
        futures = [
            c.submit(
                audit_partition,
                p,
                units_future,
                catalog,
                days,
                options=options,
                read=read,
                pure=False,
                key=f"audit-partition-{i}-{Path(p.path).name}",
            )
            for i, p in enumerate(parts)
        ]
        return c.gather(futures)

    def go(c: Any) -> PreparedAudit:
        return prepare_partitioned(
            units,
            paths,
            catalog,
            dates,
            options=options,
            findings=findings,
            inputs=inputs,
            rows_per_partition=rows_per_partition or ROWS_PER_PARTITION,
            run=lambda parts, valid, days: run(parts, valid, days, c),
        )

    if client is not None:
        return go(client)
    with dask_client(scheduler) as c:
        return go(c)
