"""Deterministic synthetic national data for the scale benchmark.

Township-level units are Voronoi cells of random seeds over a rough outline of eastern China,
grouped into counties by a coarse grid and into provinces by latitude band; codes follow the
民政 pattern (6-digit county code + 3-digit township number). Facilities are drawn inside
their unit (so their 所属镇(街道) and 所属区县 agree with their point), over every catalogue
facility type, with statuses, dates, standard flags and bed numbers, in the normalised facility
columns of :mod:`coverage_gis.schema` plus a WKB point geometry.

Everything is vectorised (numpy, shapely and pyarrow compute); the same seed always gives
the same bytes of data. Files go to ``benchmarks/.data/`` (git-ignored) as GeoParquet and
GeoPackage::

    python benchmarks/make_national_data.py                  # the benchmark's sizes
    python benchmarks/make_national_data.py --units 4000 --facilities 100000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from coverage_gis.catalog import Catalog, load_catalog

__all__ = [
    "DATA_DIR",
    "EASTERN_CHINA",
    "SUZHOU_BBOX",
    "facilities_path",
    "make_facilities",
    "make_units",
    "realistic_outlines",
    "units_path",
    "write_facilities",
    "write_units",
]

DATA_DIR = Path(__file__).resolve().parent / ".data"

#: A rough outline of eastern China (lon, lat), from Hainan strait to Hebei.
EASTERN_CHINA = shapely.Polygon(
    [
        (109.5, 21.5),
        (111.0, 21.4),
        (113.5, 22.2),
        (116.5, 22.9),
        (119.5, 25.2),
        (121.0, 27.5),
        (122.0, 29.9),
        (121.9, 31.7),
        (120.9, 32.7),
        (119.4, 34.6),
        (120.5, 36.1),
        (122.5, 37.4),
        (121.5, 37.8),
        (119.0, 37.3),
        (118.2, 38.5),
        (117.8, 39.3),
        (119.3, 40.0),
        (118.5, 41.0),
        (115.5, 41.5),
        (113.5, 40.8),
        (112.5, 36.0),
        (111.0, 32.0),
        (110.0, 28.0),
        (109.0, 24.5),
        (109.5, 21.5),
    ]
)
#: The Suzhou area, for a city-sized set (about 93 units).
SUZHOU_BBOX = shapely.box(120.2, 30.8, 121.1, 31.9)

# Provinces by latitude band (upper bound, west code, east code) and their cut longitude.
_PROVINCES = (
    (23.5, 45, 44),
    (26.5, 43, 35),
    (29.5, 36, 33),
    (32.0, 42, 31),
    (34.5, 34, 32),
    (37.0, 41, 37),
    (99.0, 13, 12),
)
_SYLLABLES = np.array(
    list(
        "安平和兴宁新丰东西南北江河湖山桥塘泉阳城庄村港浦溪林桂华盛长永昌泰福寿德清仁义"
        "龙凤金玉石湾洲岗坪岭峰田沙洋湘黄白青红"
    )
)
_KINDS = np.array(["镇", "街道", "乡", "功能区"])
_KIND_SUFFIX = np.array(["镇", "街道", "乡", "开发区"])
_KIND_P = np.array([0.62, 0.30, 0.03, 0.05])
_STATUS = np.array(["运营", "在建", "停用"])
_STATUS_P = np.array([0.90, 0.05, 0.05])


def units_path(n_units: int, suffix: str = "parquet", root: Path = DATA_DIR) -> Path:
    """Where the units of a given size are written."""
    return root / f"units_{n_units}.{suffix}"


def facilities_path(
    n_units: int, n_facilities: int, suffix: str = "parquet", root: Path = DATA_DIR
) -> Path:
    """Where the facilities of a given size are written."""
    return root / f"facilities_u{n_units}_f{n_facilities}.{suffix}"


def _width(n: int) -> int:
    """Fewest syllables giving ``n`` distinct combinations."""
    width = 1
    while len(_SYLLABLES) ** width < n:
        width += 1
    return width


def _names(index: np.ndarray, width: int) -> np.ndarray:
    """Distinct syllable combinations for distinct ``index`` values (< len(pool) ** width).

    The index is scrambled by a prime multiplier (coprime with the pool size) so that
    neighbours get unrelated names.
    """
    n_pool = len(_SYLLABLES)
    combo = (index.astype(np.int64) * 104_729) % (n_pool**width)
    out = _SYLLABLES[combo % n_pool]
    for _ in range(width - 1):
        combo //= n_pool
        out = np.char.add(out, _SYLLABLES[combo % n_pool])
    return out


def _sample_in(region: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniformly inside ``region`` (rejection sampling, vectorised)."""
    x0, y0, x1, y1 = region.bounds
    shapely.prepare(region)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        m = int((n - have) * 1.6) + 16
        xy = np.column_stack([rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)])
        xy = xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]
        out.append(xy)
        have += len(xy)
    return np.concatenate(out)[:n]


#: Half-width of the jitter of inserted outline vertices, in metres.
JITTER_M = 3.0
_M_PER_DEG = 111_320.0


def realistic_outlines(
    cells: np.ndarray,
    rng: np.random.Generator,
    *,
    min_vertices: int = 200,
    jitter_m: float = JITTER_M,
) -> np.ndarray:
    """Densify polygons to at least ``min_vertices`` vertices and jitter the inserted ones.

    Each polygon's edges are split into pieces of at most 1/(1.15 × ``min_vertices``) of its
    perimeter (so neighbours get different inserted vertices), and every inserted vertex is
    moved by up to ``jitter_m`` metres in x and y, independently per polygon. The original
    vertices (cell corners, shared exactly by neighbours) stay where they are. A polygon the
    jitter would make invalid (near a very sharp corner) keeps its densified, unjittered
    outline. Vectorised: ``shapely.segmentize`` and one numpy pass over all coordinates.
    """
    step = shapely.length(cells) / (min_vertices * 1.15)
    dense = shapely.segmentize(cells, step)
    orig = shapely.get_coordinates(cells)
    coords = shapely.get_coordinates(dense)
    inserted = ~np.isin(coords[:, 0] + 1j * coords[:, 1], orig[:, 0] + 1j * orig[:, 1])
    lat = coords[inserted, 1]
    d_lat = rng.uniform(-jitter_m, jitter_m, len(lat)) / _M_PER_DEG
    d_lon = rng.uniform(-jitter_m, jitter_m, len(lat)) / (_M_PER_DEG * np.cos(np.radians(lat)))
    coords[inserted] = np.round(coords[inserted] + np.column_stack([d_lon, d_lat]), 7)
    out = shapely.set_coordinates(np.array(dense, dtype=object, copy=True), coords)
    bad = ~shapely.is_valid(out)
    out[bad] = dense[bad]
    still_bad = ~shapely.is_valid(out)
    out[still_bad] = cells[still_bad]
    return out


def make_units(
    n_units: int,
    *,
    seed: int = 20240601,
    region: shapely.Geometry = EASTERN_CHINA,
    units_per_county: float = 11.0,
    min_vertices: int = 200,
) -> gpd.GeoDataFrame:
    """Voronoi township cells over ``region`` with realistic outlines, grouped into counties.

    The cells' corners are shared exactly by neighbours, but their edges are densified and
    the inserted vertices jittered per cell (:func:`realistic_outlines`), so neighbouring
    outlines are not noded: they leave slivers of gap and overlap a few metres wide along
    every shared edge, as real exports of township boundaries do.

    Parameters
    ----------
    n_units
        Number of township-level units.
    seed
        Random seed (the same seed gives the same units).
    region
        Outline to fill (EPSG:4326 degrees).
    units_per_county
        Average number of units per county (counties are cells of a square grid).
    min_vertices
        Fewest vertices of a unit's outline.

    Returns
    -------
    geopandas.GeoDataFrame
        The normalised unit table (``code``, ``name``, ``county``, ``county_code``, ``kind``,
        ``population``, ``pop_60plus``, ``households``, geometry) in EPSG:4326, sorted by code.
    """
    rng = np.random.default_rng(seed)
    seeds = _sample_in(region, n_units, rng)
    pts = shapely.multipoints(seeds)
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=region, ordered=True))
    cells = shapely.intersection(cells, region)
    cells = shapely.set_precision(cells, 1e-7)  # snap shared vertices: exact common edges
    cells = realistic_outlines(cells, np.random.default_rng([seed, 1]), min_vertices=min_vertices)
    # counties: a square grid sized so that a cell holds ~units_per_county seeds
    size = float(np.sqrt(region.area * units_per_county / n_units))
    x0, y0 = region.bounds[:2]
    gx = np.floor((seeds[:, 0] - x0) / size).astype(np.int64)
    gy = np.floor((seeds[:, 1] - y0) / size).astype(np.int64)
    cell_key = gy * 100_000 + gx
    county_keys, county_of = np.unique(cell_key, return_inverse=True)
    cy = y0 + (county_keys // 100_000 + 0.5) * size
    cx = x0 + (county_keys % 100_000 + 0.5) * size
    prov = np.empty(len(county_keys), dtype=np.int64)
    for upper, west, east in reversed(_PROVINCES):
        band = cy < upper
        prov[band] = np.where(cx[band] < 116.0, west, east)
    county_seq = np.zeros(len(county_keys), dtype=np.int64)
    for p in np.unique(prov):
        sel = np.flatnonzero(prov == p)
        county_seq[sel] = np.arange(1, len(sel) + 1)
    county_codes = np.char.add(
        prov.astype(str), np.char.zfill((county_seq + 100).astype(str), 4)
    ).astype(object)
    county_suffix = np.array(["区", "县", "市"])[rng.integers(0, 3, len(county_keys))]
    county_names = _names(np.arange(len(county_keys)), _width(len(county_keys)))
    county_names = np.char.add(county_names, county_suffix).astype(object)
    # township numbers within each county, in seed order (south to north, west to east)
    order = np.lexsort((seeds[:, 0], seeds[:, 1], county_of))
    rank_in_county = np.empty(n_units, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(county_of[order])) + 1]
    counts = np.diff(np.r_[starts, n_units])
    rank_in_county[order] = np.arange(n_units) - np.repeat(starts, counts) + 1
    kind_i = rng.choice(len(_KINDS), size=n_units, p=_KIND_P)
    kind_i[rank_in_county >= 900] = 1
    code_kind = np.where(kind_i == 3, 400 + rank_in_county, rank_in_county)
    codes = np.char.add(
        county_codes[county_of].astype(str), np.char.zfill(code_kind.astype(str), 3)
    )
    names = np.char.add(_names(np.arange(n_units), _width(n_units)), _KIND_SUFFIX[kind_i])
    population = rng.lognormal(10.3, 0.6, n_units).round().astype(np.int64)
    pop60 = (population * rng.uniform(0.12, 0.28, n_units)).round().astype(np.int64)
    households = (population / rng.uniform(2.3, 3.2, n_units)).round().astype(np.int64)
    units = gpd.GeoDataFrame(
        {
            "code": codes.astype(object),
            "name": names.astype(object),
            "county": county_names[county_of],
            "county_code": county_codes[county_of],
            "kind": _KINDS[kind_i].astype(object),
            "population": population,
            "pop_60plus": pop60,
            "households": households,
        },
        geometry=cells,
        crs=4326,
    )
    return units.sort_values("code", ignore_index=True)


def _type_names(catalog: Catalog) -> tuple[list[str], list[int], np.ndarray]:
    """Raw type values (names and aliases), their type index, and type weights."""
    values: list[str] = []
    owner: list[int] = []
    for i, ft in enumerate(catalog.facility_types):
        for v in (ft.name_zh, *ft.aliases[:2]):
            values.append(v)
            owner.append(i)
    weights = np.array(
        [
            0.4 if ft.level == "county" else 1.5 if ft.level == "city" else 1.0
            for ft in catalog.facility_types
        ]
    )
    return values, owner, weights / weights.sum()


def _wkb_points(x: np.ndarray, y: np.ndarray) -> pa.Array:
    """Little-endian WKB points built in bulk (21 bytes each), as a pyarrow binary array."""
    rec = np.empty(len(x), dtype=[("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
    rec["order"], rec["kind"], rec["x"], rec["y"] = 1, 1, x, y
    buf = pa.py_buffer(rec.tobytes())
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(21), len(x), [None, buf]).cast(
        pa.binary()
    )


def make_facilities(
    units: gpd.GeoDataFrame,
    n: int,
    *,
    seed: int = 7,
    catalog: Catalog | None = None,
    source_file: str = "national_facilities.parquet",
) -> pa.Table:
    """``n`` facility rows placed inside ``units``, over every catalogue facility type.

    Parameters
    ----------
    units
        Units from :func:`make_units`.
    n
        Number of facility rows.
    seed
        Random seed (the same seed and units give the same rows).
    catalog
        Catalogue whose facility types (names and aliases) are used; default the embedded one.
    source_file
        Value of the ``source_file`` column.

    Returns
    -------
    pyarrow.Table
        The normalised facility columns plus a WKB ``geometry`` column (EPSG:4326 points).
    """
    catalog = catalog or load_catalog()
    rng = np.random.default_rng(seed)
    n_units = len(units)
    geoms = units.geometry.to_numpy()
    bounds = shapely.bounds(geoms)
    uidx = rng.integers(0, n_units, n)
    x = np.empty(n)
    y = np.empty(n)
    todo = np.arange(n)
    shapely.prepare(geoms)
    while len(todo):  # rejection sampling inside each row's unit (cells are convex-ish)
        b = bounds[uidx[todo]]
        tx = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
        ty = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
        ok = shapely.contains_xy(geoms[uidx[todo]], tx, ty)
        x[todo[ok]], y[todo[ok]] = tx[ok], ty[ok]
        todo = todo[~ok]
    x, y = np.round(x, 7), np.round(y, 7)
    # rounding may move a point onto or over a cell edge: keep only points still inside
    bad = np.flatnonzero(~shapely.contains_xy(geoms[uidx], x, y))
    while len(bad):
        b = bounds[uidx[bad]]
        tx = np.round(b[:, 0] + rng.random(len(bad)) * (b[:, 2] - b[:, 0]), 7)
        ty = np.round(b[:, 1] + rng.random(len(bad)) * (b[:, 3] - b[:, 1]), 7)
        ok = shapely.contains_xy(geoms[uidx[bad]], tx, ty)
        x[bad[ok]], y[bad[ok]] = tx[ok], ty[ok]
        bad = bad[~ok]
    values, owner, weights = _type_names(catalog)
    tidx = rng.choice(len(weights), size=n, p=weights)
    owner_arr = np.array(owner)
    # one of the type's names/aliases, deterministically
    alias_slot = rng.integers(0, 8, n)
    first_of = np.searchsorted(owner_arr, np.arange(len(weights)))
    n_alias = np.bincount(owner_arr, minlength=len(weights))
    vidx = first_of[tidx] + np.where(alias_slot < 6, 0, alias_slot % n_alias[tidx])
    status_i = rng.choice(len(_STATUS), size=n, p=_STATUS_P)
    day0 = np.datetime64("2000-01-01", "D")
    opened_days = rng.integers(0, 365 * 24, n)
    opened = (day0 + opened_days).astype("datetime64[ms]")
    opened_null = rng.random(n) < 0.05
    closed_days = opened_days + rng.integers(30, 365 * 6, n)
    closed = (day0 + closed_days).astype("datetime64[ms]")
    closed_null = status_i != 2
    is_inst = np.isin(
        tidx, [i for i, ft in enumerate(catalog.facility_types) if ft.code == "elderly_institution"]
    )
    beds = np.where(is_inst, rng.integers(20, 600, n), np.nan)
    nursing = np.where(is_inst, np.floor(beds * rng.uniform(0.3, 0.9, n)), np.nan)
    area = np.round(rng.lognormal(6.0, 0.7, n), 1)
    ms_draw = rng.random(n)
    meets = pa.array(ms_draw < 0.6, mask=ms_draw > 0.9)
    unit_names = pa.array(units["name"].to_numpy().astype(str))
    county_names = pa.array(units["county"].to_numpy().astype(str))
    u = pa.array(uidx)
    seq = pc.cast(pa.array(np.arange(1, n + 1)), pa.string())
    type_vals = pa.array(values).take(pa.array(vidx))
    name = pc.binary_join_element_wise(unit_names.take(u), type_vals, seq, "")
    road = pa.array(np.char.add(_SYLLABLES, "路").astype(str)).take(
        pa.array(rng.integers(0, len(_SYLLABLES), n))
    )
    number = pc.cast(pa.array(rng.integers(1, 999, n)), pa.string())
    address = pc.binary_join_element_wise(
        county_names.take(u), unit_names.take(u), road, number, pa.scalar("号"), ""
    )
    return pa.table(
        {
            "source_file": pa.array(np.full(n, source_file)),
            "source_sheet": pa.nulls(n, pa.string()),
            "source_row": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "name": name,
            "type_raw": type_vals,
            "address": address,
            "county_name": county_names.take(u),
            "unit_name": unit_names.take(u),
            "lon": pa.array(x),
            "lat": pa.array(y),
            "status": pa.array(_STATUS[status_i].astype(str)),
            "opened": pa.array(opened, mask=opened_null),
            "closed": pa.array(closed, mask=closed_null),
            "meets_standard": meets,
            "beds": pa.array(beds, from_pandas=True),
            "nursing_beds": pa.array(nursing, from_pandas=True),
            "area_m2": pa.array(area),
            "row_error": pa.nulls(n, pa.string()),
            "geometry": _wkb_points(x, y),
        }
    )


def _geo_metadata(table: pa.Table) -> dict[bytes, bytes]:
    lon, lat = table["lon"], table["lat"]
    bbox = [
        pc.min(lon).as_py(),
        pc.min(lat).as_py(),
        pc.max(lon).as_py(),
        pc.max(lat).as_py(),
    ]
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["Point"],
                "crs": CRS.from_epsg(4326).to_json_dict(),
                "bbox": bbox,
            }
        },
    }
    return {b"geo": json.dumps(geo).encode()}


def write_facilities(table: pa.Table, path: Path, *, row_group_size: int = 262_144) -> Path:
    """Write a facility table as GeoParquet (``.parquet``) or GeoPackage (``.gpkg``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gpkg":
        import pyogrio

        path.unlink(missing_ok=True)
        pyogrio.write_arrow(
            table,
            path,
            layer="facilities",
            driver="GPKG",
            geometry_name="geometry",
            geometry_type="Point",
            crs="EPSG:4326",
            layer_options={"SPATIAL_INDEX": "NO"},
        )
        return path
    meta = dict(table.schema.metadata or {})
    meta.update(_geo_metadata(table))
    pq.write_table(
        table.replace_schema_metadata(meta),
        path,
        row_group_size=row_group_size,
        compression="zstd",
    )
    return path


def write_units(units: gpd.GeoDataFrame, path: Path) -> Path:
    """Write units as GeoParquet (``.parquet``) or GeoPackage (``.gpkg``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gpkg":
        path.unlink(missing_ok=True)
        units.to_file(path, layer="units", driver="GPKG", engine="pyogrio")
    else:
        units.to_parquet(path, compression="zstd", write_covering_bbox=False)
    return path


def main(argv: list[str] | None = None) -> None:
    """Generate the benchmark files (skipping files that already exist)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="*", default=[4000, 40000])
    ap.add_argument("--facilities", type=int, nargs="*", default=[100_000, 1_000_000, 5_000_000])
    ap.add_argument(
        "--gpkg-max",
        type=int,
        default=5_000_000,
        help="also write GeoPackage for facility sets up to this size",
    )
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    args = ap.parse_args(argv)
    catalog = load_catalog()
    for n_units in args.units:
        t0 = time.perf_counter()
        units = make_units(n_units)
        for suffix in ("parquet", "gpkg"):
            p = units_path(n_units, suffix, args.out)
            if args.force or not p.exists():
                write_units(units, p)
        print(f"units {n_units:>7,}: {time.perf_counter() - t0:6.1f} s", flush=True)
        for n in args.facilities:
            paths = [facilities_path(n_units, n, "parquet", args.out)]
            if n <= args.gpkg_max:
                paths.append(facilities_path(n_units, n, "gpkg", args.out))
            todo = [p for p in paths if args.force or not p.exists()]
            if not todo:
                continue
            t0 = time.perf_counter()
            table = make_facilities(units, n, catalog=catalog, source_file=paths[0].name)
            t1 = time.perf_counter()
            for p in todo:
                write_facilities(table, p)
            print(
                f"  facilities {n:>10,}: generated {t1 - t0:6.1f} s, "
                f"written {time.perf_counter() - t1:6.1f} s ({', '.join(p.suffix for p in todo)})",
                flush=True,
            )


if __name__ == "__main__":
    main()
