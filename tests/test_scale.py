"""National-scale paths: the synthetic generator, GeoParquet in/out, the point locator and Dask.

No timings here (see benchmarks/bench_scale.py); these tests check that the fast paths give
the same answers as the plain ones.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage_gis.cli import main
from coverage_gis.core.engine import audit
from coverage_gis.core.point_in_polygon import PointLocator, locate_points
from coverage_gis.core.schema import TEXT_DTYPE
from coverage_gis.io.facilities import _vector_facilities, read_facility_file
from coverage_gis.io.geoparquet import write_facilities_parquet
from tests.conftest import fac_rows, make_units

_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "make_national_data.py"


@pytest.fixture(scope="module")
def gen():
    """The benchmark's data generator, imported from its file."""
    spec = importlib.util.spec_from_file_location("make_national_data", _BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_national_data"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def national(gen, catalog):
    """300 synthetic units and 6,000 facilities (as a normalised table and as arrow)."""
    units = gen.make_units(300, seed=11)
    table = gen.make_facilities(units, 6000, seed=12, catalog=catalog)
    return units, table


def test_generator_is_deterministic(gen, catalog, national):
    units, table = national
    again = gen.make_units(300, seed=11)
    assert units.drop(columns="geometry").equals(again.drop(columns="geometry"))
    assert shapely.equals_exact(units.geometry.to_numpy(), again.geometry.to_numpy(), 0).all()
    assert table.equals(gen.make_facilities(again, 6000, seed=12, catalog=catalog))
    assert units["code"].is_unique and units["name"].is_unique
    assert shapely.is_valid(units.geometry.to_numpy()).all()
    # every facility lies strictly inside the unit it names
    fac = table.drop(["geometry"]).to_pandas()
    named = units.set_index("name").loc[fac["unit_name"]]
    assert shapely.contains_xy(named.geometry.to_numpy(), fac["lon"], fac["lat"]).all()
    assert (
        not gen.make_units(300, seed=12)
        .drop(columns="geometry")
        .equals(units.drop(columns="geometry"))
    )


def _reference(geoms, rank, x, y):
    """The GEOS STRtree answer (rule 1: covers; smallest rank on shared edges)."""
    unit = np.full(len(x), -1)
    p, u = shapely.STRtree(geoms).query(shapely.points(x, y), predicate="intersects")
    multi = np.bincount(p, minlength=len(x)) > 1
    order = np.lexsort((rank[u], p))
    p, u = p[order], u[order]
    first = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    unit[p[first]] = u[first]
    return unit, multi


@pytest.mark.parametrize("rounding", [None, 2, 1])
def test_locator_matches_geos_on_edges_vertices_and_holes(rounding):
    units = make_units()  # holes, a multipolygon island, shared edges and corners
    geoms = units.geometry.to_numpy()
    rank = np.argsort(np.argsort(units["code"].to_numpy()))
    rng = np.random.default_rng(5)
    x, y = rng.uniform(119.95, 120.4, 5000), rng.uniform(30.95, 31.4, 5000)
    if rounding is not None:  # many points exactly on edges and corners
        x, y = np.round(x, rounding), np.round(y, rounding)
    corners = shapely.get_coordinates(geoms)
    x, y = np.r_[x, corners[:, 0]], np.r_[y, corners[:, 1]]
    got = locate_points(geoms, rank, x, y)
    want = _reference(geoms, rank, x, y)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    # an invalid polygon set takes the GEOS path and still gives the same answer
    bow = np.array([shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), *geoms], dtype=object)
    got = locate_points(bow, np.r_[0, rank + 1], x, y)
    want = _reference(bow, np.r_[0, rank + 1], x, y)
    np.testing.assert_array_equal(got[0], want[0])


def test_geoparquet_round_trip(tmp_path, national, monkeypatch):
    import pyarrow.parquet as pq

    from coverage_gis.io import geoparquet

    _units, table = national
    path = tmp_path / "fac.parquet"
    meta = dict(table.schema.metadata or {})
    pq.write_table(table, path)  # no geo metadata: lon/lat columns are used
    by_xy, _ = read_facility_file(path)
    written = write_facilities_parquet(by_xy, tmp_path / "again.parquet")
    back, _ = read_facility_file(written)  # GeoParquet: WKB points decoded in bulk
    cols = [c for c in by_xy.columns if c != "source_file"]
    pd.testing.assert_frame_equal(by_xy[cols], back[cols])
    # the same rows as a GeoPackage through the generic vector path: the same table
    gpkg = tmp_path / "again.gpkg"
    fields = [c for c in back.columns if c not in ("source_file", "source_sheet", "source_row")]
    gpd.GeoDataFrame(
        back[fields], geometry=gpd.points_from_xy(back["lon"], back["lat"]), crs=4326
    ).to_file(gpkg, layer="facilities")
    slow, _ = _vector_facilities(gpkg, layer=None, mapping=None)
    same = [c for c in back.columns if c not in ("source_file", "source_sheet")]
    pd.testing.assert_frame_equal(back[same], slow[same])
    monkeypatch.setattr(geoparquet, "_BATCH_ROWS", 1000)  # batch by batch, same table
    pd.testing.assert_frame_equal(read_facility_file(written)[0], back)
    assert not meta or b"geo" not in meta
    assert back["meets_standard"].dtype == "boolean"
    # free text stays Arrow-backed (no Python object per name); matched columns are objects
    assert back["name"].dtype == TEXT_DTYPE and back["address"].dtype == TEXT_DTYPE
    assert back["type_raw"].dtype == object and back["unit_name"].dtype == object


def test_audit_writes_geoparquet_results(tmp_path, national):
    units, table = national
    b, f, out = tmp_path / "units.parquet", tmp_path / "fac.parquet", tmp_path / "out"
    units.to_parquet(b)
    write_facilities_parquet(table.drop(["geometry"]).to_pandas(), f)
    code = main(
        [
            *("audit", "-b", str(b), "-f", str(f), "--as-of", "2024-01-01", "--out", str(out)),
            *("--format", "csv,parquet", "-q"),
        ]
    )
    assert code == 0
    res = gpd.read_parquet(out / "units.parquet")
    csv = pd.read_csv(out / "units.csv", encoding="utf-8-sig", dtype={"code": str})
    assert res.crs.equals("EPSG:4326") and len(res) == len(units)
    assert (res["code"].to_numpy() == csv["code"].to_numpy()).all()
    assert (res["elderly_care_center"].to_numpy() == csv["elderly_care_center"].to_numpy()).all()
    fac = gpd.read_parquet(out / "facilities.parquet")
    assert len(fac) == table.num_rows and fac["unit_code"].notna().all()
    assert (fac.geometry.x.to_numpy() == fac["lon"].to_numpy()).all()


def test_dask_engine_equals_in_process(national, catalog):
    pytest.importorskip("dask_geopandas")
    from coverage_gis.core.engine_dask import audit_dask, dask_client

    units, table = national
    fac = table.drop(["geometry"]).to_pandas()
    fac.loc[::97, ["lon", "lat"]] = np.nan  # counted by name instead
    fac.loc[5, ["lon", "lat"]] = [130.0, 45.0]  # outside every unit
    geoms = units.geometry.to_numpy()
    near = shapely.STRtree(geoms).query(geoms[0], predicate="touches")
    shared = {tuple(c) for c in shapely.get_coordinates(geoms[near])}
    edge = next(c for c in shapely.get_coordinates(geoms[0]) if tuple(c) in shared)
    extra = fac_rows({"type_raw": "社会工作站", "lon": edge[0], "lat": edge[1]})
    fac = pd.concat([fac, extra], ignore_index=True)
    want = audit(units, fac, catalog, "2024-01-01")
    with dask_client(n_workers=2) as client:
        got = audit_dask(units, fac, catalog, "2024-01-01", client=client, npartitions=3)
        shuffled = audit_dask(
            units, fac, catalog, "2024-01-01", client=client, partitioning="dask-geopandas"
        )
    pd.testing.assert_frame_equal(shuffled.facilities, want.facilities)
    pd.testing.assert_frame_equal(got.facilities, want.facilities)
    pd.testing.assert_frame_equal(got.counts_all, want.counts_all)
    pd.testing.assert_frame_equal(got.counts_qualifying, want.counts_qualifying)
    pd.testing.assert_frame_equal(got.findings.to_frame(), want.findings.to_frame())
    pd.testing.assert_frame_equal(got.accounting, want.accounting)
    assert [r.to_dict() for r in got.indicators] == [r.to_dict() for r in want.indicators]
    assert any(f.code == "point_on_shared_edge" for f in got.findings)


def test_location_started_ahead_is_used_only_for_the_same_inputs(catalog):
    from coverage_gis.core.engine import prepare
    from coverage_gis.core.locate import locate_ahead

    units = make_units()
    fac = fac_rows(
        {"name": "a", "type_raw": "骨灰堂", "lon": 120.05, "lat": 31.05},
        {"name": "d", "type_raw": "骨灰堂", "lon": 120.15, "lat": 31.15},
        {"name": "x", "type_raw": "骨灰堂"},  # no coordinates
    )
    lon, lat = fac["lon"].to_numpy(), fac["lat"].to_numpy()
    pending = locate_ahead(units, lon, lat)
    assert pending.matches(units, fac)
    same = prepare(units, fac, catalog, located=pending)
    np.testing.assert_array_equal(same.unit_idx, prepare(units, fac, catalog).unit_idx)
    # coordinates changed after the location was started: it is not used
    moved = fac.copy()
    moved.loc[0, "lon"] = 120.12  # into 乙水街道
    assert not pending.matches(units, moved)
    got = prepare(units, moved, catalog, located=pending).facilities["unit_code"].tolist()
    assert got[:2] == ["320501002", "320502102"]
    # other units (even equal ones): not used either
    assert not pending.matches(make_units(), fac)


def test_load_inputs_locates_ahead_and_prepare_follows_later_edits(monkeypatch, catalog):
    from coverage_gis import workflow

    data = Path(__file__).parent / "data"
    monkeypatch.setattr(workflow, "_LOCATE_AHEAD_ROWS", 1)
    inputs = workflow.load_inputs(data / "grid_units.geojson", [data / "gcj02_list.csv"])
    assert inputs.located is not None and inputs.located.matches(inputs.units, inputs.facilities)
    off = workflow.load_inputs(
        data / "grid_units.geojson", [data / "gcj02_list.csv"], locate_ahead=False
    )
    assert off.located is None  # validation and the Dask engine do not locate locally
    first = workflow.prepare_audit(inputs, catalog, allow_errors=True)
    monkeypatch.setattr(workflow, "_LOCATE_AHEAD_ROWS", 10**9)
    plain = workflow.load_inputs(data / "grid_units.geojson", [data / "gcj02_list.csv"])
    assert plain.located is None
    pd.testing.assert_frame_equal(
        first.facilities, workflow.prepare_audit(plain, catalog, allow_errors=True).facilities
    )
    # a row moved after reading is assigned where it now lies
    row = int(np.flatnonzero(first.unit_idx >= 0)[0])
    target = inputs.units.geometry.iloc[(first.unit_idx[row] + 1) % len(inputs.units)]
    inputs.facilities.loc[row, ["lon", "lat"]] = [target.centroid.x, target.centroid.y]
    again = workflow.prepare_audit(inputs, catalog, allow_errors=True)
    assert again.unit_idx[row] == (first.unit_idx[row] + 1) % len(inputs.units)


def test_locator_built_ahead_gives_the_same_assignment(monkeypatch, catalog):
    """The units' locator is built while the facility files are read (from
    ``_LOCATOR_AHEAD_UNITS`` units) and the facilities located with it: the same units,
    shared-edge flags and accounting as locating from scratch."""
    from coverage_gis import workflow
    from coverage_gis.core import locate

    data = Path(__file__).parent / "data"
    built: list[int] = []
    real = locate.unit_locator

    def counting(units):
        built.append(len(units))
        return real(units)

    monkeypatch.setattr(locate, "unit_locator", counting)
    monkeypatch.setattr(workflow, "_LOCATOR_AHEAD_UNITS", 1)
    ahead = workflow.load_inputs(data / "grid_units.geojson", [data / "gcj02_list.csv"])
    assert built == [len(ahead.units)]  # built once, ahead of the (small) facility table
    assert ahead.located is not None and ahead.located.matches(ahead.units, ahead.facilities)
    monkeypatch.setattr(workflow, "_LOCATOR_AHEAD_UNITS", 10**9)
    plain = workflow.load_inputs(
        data / "grid_units.geojson", [data / "gcj02_list.csv"], locate_ahead=False
    )
    assert len(built) == 1 and plain.located is None
    got = workflow.prepare_audit(ahead, catalog, allow_errors=True)
    want = workflow.prepare_audit(plain, catalog, allow_errors=True)
    np.testing.assert_array_equal(got.unit_idx, want.unit_idx)
    pd.testing.assert_frame_equal(got.facilities, want.facilities)
    pd.testing.assert_frame_equal(got.accounting, want.accounting)


def test_point_locator_equals_locate_points_on_edges_and_holes():
    """``PointLocator.build(...).locate`` is ``locate_points`` in two steps; one locator
    answers several point sets, and from two threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    ring = shapely.Polygon(
        [(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (3, 1), (3, 3), (1, 3)]]
    )
    geoms = np.array([ring, shapely.box(4, 0, 8, 4), shapely.box(1, 1, 3, 3)], dtype=object)
    rank = np.array([2, 0, 1])
    rng = np.random.default_rng(5)
    xs = [np.r_[rng.uniform(-1, 9, 3000), 4.0, 2.0, 1.0], rng.uniform(-1, 9, 500)]
    ys = [np.r_[rng.uniform(-1, 5, 3000), 2.0, 2.0, 1.0], rng.uniform(-1, 5, 500)]
    loc = PointLocator.build(geoms, rank)
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(loc.locate, xs, ys))
    for (u, m), x, y in zip(got, xs, ys, strict=True):
        wu, wm = locate_points(geoms, rank, x, y, workers=1)
        np.testing.assert_array_equal(u, wu)
        np.testing.assert_array_equal(m, wm)
    u, m = got[0]
    assert u[3000] == 1 and m[3000]  # x = 4 is on the shared edge: rank 0 wins
    assert u[3001] == 2 and not m[3001]  # the hole's centre: only the inner box
    assert u[3002] == 2 and m[3002]  # the hole's corner: on the ring and the inner box
