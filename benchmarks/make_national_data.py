"""Deterministic synthetic national data for the scale and reader benchmarks, shaped like real files.

**Units.** Township-level units are Voronoi cells of random seeds over a rough outline of
eastern China, grouped into counties by a coarse grid and into provinces by latitude band;
codes follow the 民政 pattern (6-digit county code + 3-digit township number). Their outlines
have at least 200 vertices and are *not* noded: cell corners are shared exactly, but edges are
densified per cell and the inserted vertices jittered by a few metres
(:func:`realistic_outlines`), leaving slivers of gap and overlap along shared edges as real
exports do.

**Facilities** look like planners' tables: Chinese headers (a different mix of the recognised
synonyms per format), every value as text — dates in several spellings, 是否达标 as 是/否/达标/
不达标, statuses with spelling variants, bed numbers with units and thousands separators, a
few bad values (maybe, 待定, 若干) — 所属镇(街道) written with or without its suffix (浒墅关 /
浒墅关镇, 狮山街道 / 狮山街道办事处), ~2 % of rows without coordinates (named unit only), ~0.5 %
of an uncatalogued type (社区食堂) and a handful of swapped longitude/latitude. Each point lies
inside the unit its row names. :func:`make_facilities` gives the same rows as the normalised
table of :mod:`coverage_gis.core.schema` (what a perfect reader would return, before the
planner's spellings), :func:`make_planner_facilities` as they are written to the files.

**Files** (``benchmarks/.data/``, git-ignored): GeoParquet (text columns and a WKB point
geometry, GeoParquet 1.1 metadata) and GeoPackage for units and facilities; a CSV in GBK with
CRLF line ends as Excel on Chinese Windows saves it (经度/纬度 text columns); an .xlsx with a
title row, a two-row header with 坐标 merged over 经度/纬度, and a note row at the end.

Everything is vectorised (numpy, shapely and pyarrow compute over small vocabularies of
strings) and generated in chunks of :data:`CHUNK_ROWS` rows with their own seeds, so files of
tens of millions of rows stream to disk; the same seed always gives the same data::

    python benchmarks/make_national_data.py                  # the benchmarks' sizes
    python benchmarks/make_national_data.py --units 4000 --facilities 100000 --csv-rows 0
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from coverage_gis.core.catalog import Catalog, load_catalog

__all__ = [
    "CHUNK_ROWS",
    "CSV_ENCODING",
    "DATA_DIR",
    "EASTERN_CHINA",
    "FORMATS",
    "SUZHOU_BBOX",
    "TYPE_HEADER",
    "UNCATALOGUED_TYPE",
    "XLSX_TITLE",
    "facilities_path",
    "iter_planner_chunks",
    "make_facilities",
    "make_planner_facilities",
    "make_units",
    "planner_view",
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


#: File formats of the facility sets (units: ``parquet`` and ``gpkg`` only).
FORMATS = ("parquet", "gpkg", "csv", "xlsx")


def units_path(n_units: int, fmt: str = "parquet", root: Path = DATA_DIR) -> Path:
    """Where the units of a given size are written (``fmt``: ``parquet`` or ``gpkg``)."""
    if fmt not in ("parquet", "gpkg"):
        raise ValueError(f"units are written as parquet or gpkg, not {fmt}")
    return root / f"units_{n_units}.{fmt}"


def facilities_path(
    n_units: int, n_facilities: int, fmt: str = "parquet", root: Path = DATA_DIR
) -> Path:
    """Where the facilities of a given size are written (``fmt``: one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown facility file format {fmt} (known: {', '.join(FORMATS)})")
    return root / f"facilities_u{n_units}_f{n_facilities}.{fmt}"


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


# -- facilities: the rows ----------------------------------------------------------------------

#: Rows generated per chunk; each chunk has its own seeds, so any size streams to disk.
CHUNK_ROWS = 1 << 20
#: The type written in ~0.5 % of the rows, which no catalogue knows.
UNCATALOGUED_TYPE = "社区食堂"
#: Header of the facility type in the GeoParquet and GeoPackage files.
TYPE_HEADER = "类型"
#: Encoding of the CSV files (Excel's "CSV (逗号分隔)" on Chinese Windows: code page 936).
CSV_ENCODING = "gbk"
#: Title row of the .xlsx files.
XLSX_TITLE = "苏州市养老服务设施名录（2023年）"

_P_NO_COORDS = 0.02  # rows with the named unit only
_P_UNCATALOGUED = 0.005
_P_BLANK_UNIT = 0.005  # rows with coordinates but no 所属镇(街道)
_SWAP_RATE = 5e-5  # swapped lon/lat, at least one per chunk
_P_BAD_DATE = 0.0005  # 待定
_P_BAD_FLAG = 0.001  # maybe / 待定
_P_BAD_BEDS = 0.005  # 若干 (of the rows with beds)
_DAYS = 365 * 24  # opening dates 2000-01-01 … 2023
_DAY0 = dt.date(2000, 1, 1)
# date spellings: 2015-01-01, 2015/1/1, 2015年1月1日, 2015.01, 2015, and the last one an
# Excel serial number (42005) in .xlsx, pandas' datetime text elsewhere
_DATE_P = np.array([0.40, 0.25, 0.14, 0.07, 0.08, 0.06])
# (spellings, probabilities) of the status per true class: in service, not open yet, closed
_STATUS_TEXT = (
    (("运营", "已建成", "运营中", "在用", "正常运营", "营业中", None),
     (0.55, 0.17, 0.10, 0.03, 0.02, 0.02, 0.11)),
    (("在建", "筹建", "建设中"), (0.6, 0.3, 0.1)),
    (("停业", "已撤销", "停用"), (0.4, 0.3, 0.3)),
)  # fmt: skip
_FLAG_TEXT = ("是", "达标", "否", "不达标", "maybe", "待定", None)
_MAX_BEDS = 1999
_BEDS_P = np.array([0.60, 0.25, 0.15])  # 45 / 45张 / 1,200
# unit name as written: exact, stem (浒墅关镇 → 浒墅关), alternative (狮山街道 → 狮山街道办事处)
_UNIT_P = np.array([0.80, 0.12, 0.08])

#: Columns of each format: (field of the planner chunk, header).
_VIEWS: dict[str, tuple[tuple[str, str], ...]] = {
    "parquet": (
        ("name", "名称"),
        ("type", TYPE_HEADER),
        ("address", "地址"),
        ("county", "所属区县"),
        ("unit", "所属镇(街道)"),
        ("status", "状态"),
        ("opened", "建成时间"),
        ("meets", "是否达标"),
        ("beds", "床位数"),
    ),
    "csv": (
        ("seq", "序号"),
        ("name", "机构名称"),
        ("type", "设施类型"),
        ("address", "详细地址"),
        ("county", "区县"),
        ("unit", "镇街"),
        ("lon", "经度"),
        ("lat", "纬度"),
        ("status", "运营状态"),
        ("opened", "建成日期"),
        ("meets", "是否达标"),
        ("beds", "床位数(张)"),
    ),
    "xlsx": (
        ("seq", "序号"),
        ("name", "设施名称"),
        ("type", "类别"),
        ("address", "地址"),
        ("county", "所属区(县)"),
        ("unit", "所属镇(街道)"),
        ("lon", "经度"),
        ("lat", "纬度"),
        ("status", "状态"),
        ("opened_xlsx", "投用时间"),
        ("meets", "达标情况"),
        ("beds", "床位数"),
    ),
}
_VIEWS["gpkg"] = _VIEWS["parquet"]


def _pick(rng: np.random.Generator, p: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with probabilities ``p`` (one uniform draw each)."""
    cum = np.cumsum(p)
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"), len(cum) - 1)


def _chunks(n: int) -> Iterator[tuple[int, int]]:
    """(first row, number of rows) of each chunk of ``n`` rows."""
    for start in range(0, n, CHUNK_ROWS):
        yield start, min(CHUNK_ROWS, n - start)


@dataclass
class _Setting:
    """What every chunk draws from: the prepared units and the vocabularies."""

    geoms: np.ndarray
    bounds: np.ndarray
    unit_names: pa.Array
    county_names: pa.Array
    unit_spellings: pa.Array  # 3 per unit (exact, stem, alternative), then one null
    type_values: list[str]
    type_owner: np.ndarray
    type_weights: np.ndarray
    institution_types: np.ndarray  # type indices with beds


def _unit_spellings(names: np.ndarray, kinds: np.ndarray) -> pa.Array:
    """Each unit's name as written (exact, stem, alternative), three per unit, then a null."""
    out: list[str | None] = []
    for name, kind in zip(names.tolist(), kinds.tolist(), strict=True):
        if kind == "街道":
            stem = name.removesuffix("街道")
            out += [name, stem, stem + "街道办事处"]
        elif kind in ("镇", "乡"):
            stem = name.removesuffix(kind)
            out += [name, stem, stem]
        else:  # 功能区 (…开发区): written as named
            out += [name, name, name]
    out.append(None)
    return pa.array(out, pa.string())


def _setting(units: gpd.GeoDataFrame, catalog: Catalog) -> _Setting:
    geoms = units.geometry.to_numpy()
    shapely.prepare(geoms)
    values, owner, weights = _type_names(catalog)
    inst = [i for i, ft in enumerate(catalog.facility_types) if ft.code == "elderly_institution"]
    names = units["name"].to_numpy().astype(str)
    return _Setting(
        geoms=geoms,
        bounds=shapely.bounds(geoms),
        unit_names=pa.array(names),
        county_names=pa.array(units["county"].to_numpy().astype(str)),
        unit_spellings=_unit_spellings(names, units["kind"].to_numpy().astype(str)),
        type_values=values,
        type_owner=np.array(owner),
        type_weights=weights,
        institution_types=np.array(inst, dtype=np.int64),
    )


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


def _inside(s: _Setting, uidx: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A point strictly inside each row's unit, rounded to 7 decimals (rejection sampling)."""
    n = len(uidx)
    x, y = np.empty(n), np.empty(n)
    todo = np.arange(n)
    while len(todo):
        b = s.bounds[uidx[todo]]
        tx = np.round(b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0]), 7)
        ty = np.round(b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1]), 7)
        ok = shapely.contains_xy(s.geoms[uidx[todo]], tx, ty)
        x[todo[ok]], y[todo[ok]] = tx[ok], ty[ok]
        todo = todo[~ok]
    return x, y


def _draw(s: _Setting, start: int, m: int, seed: int) -> dict[str, np.ndarray]:
    """The true attributes of rows ``start … start + m - 1`` (one chunk)."""
    rng = np.random.default_rng([seed, start // CHUNK_ROWS])
    n_types = len(s.type_weights)
    uidx = rng.integers(0, len(s.geoms), m)
    x, y = _inside(s, uidx, rng)
    tidx = _pick(rng, s.type_weights, m)
    # one of the type's names/aliases, deterministically
    alias_slot = rng.integers(0, 8, m)
    first_of = np.searchsorted(s.type_owner, np.arange(n_types))
    n_alias = np.bincount(s.type_owner, minlength=n_types)
    vidx = first_of[tidx] + np.where(alias_slot < 6, 0, alias_slot % n_alias[tidx])
    status_i = _pick(rng, _STATUS_P, m)
    opened_days = rng.integers(0, _DAYS, m)
    closed_days = opened_days + rng.integers(30, 365 * 6, m)
    is_inst = np.isin(tidx, s.institution_types)
    beds = np.where(rng.random(m) < 0.1, rng.integers(400, 1500, m), rng.integers(20, 400, m))
    return {
        "uidx": uidx,
        "x": x,
        "y": y,
        "tidx": tidx,
        "vidx": vidx,
        "status_i": status_i,
        "opened_days": opened_days,
        "opened_null": rng.random(m) < 0.05,
        "closed_days": closed_days,
        "is_inst": is_inst,
        "beds": np.where(is_inst, beds, np.nan),
        "nursing_share": rng.uniform(0.3, 0.9, m),
        "area": np.round(rng.lognormal(6.0, 0.7, m), 1),
        "meets_draw": rng.random(m),
        "road": rng.integers(0, len(_SYLLABLES), m),
        "number": rng.integers(1, 999, m),
    }


def _text_parts(s: _Setting, r: dict[str, np.ndarray], start: int) -> dict[str, pa.Array]:
    """Columns shared by the normalised and the planner's table."""
    m = len(r["uidx"])
    u = pa.array(r["uidx"])
    unit = s.unit_names.take(u)
    county = s.county_names.take(u)
    road = pa.array(np.char.add(_SYLLABLES, "路").astype(str)).take(pa.array(r["road"]))
    number = pc.cast(pa.array(r["number"]), pa.string())
    address = pc.binary_join_element_wise(county, unit, road, number, pa.scalar("号"), "")
    seq = pc.cast(pa.array(np.arange(start + 1, start + m + 1)), pa.string())
    return {"unit": unit, "county": county, "address": address, "seq": seq}


def _normalised(s: _Setting, r: dict[str, np.ndarray], start: int, source_file: str) -> pa.Table:
    """One chunk as the normalised facility table (plus a WKB ``geometry``)."""
    m = len(r["uidx"])
    parts = _text_parts(s, r, start)
    type_vals = pa.array(s.type_values).take(pa.array(r["vidx"]))
    day0 = np.datetime64(_DAY0.isoformat(), "D")
    opened = (day0 + r["opened_days"]).astype("datetime64[ms]")
    closed = (day0 + r["closed_days"]).astype("datetime64[ms]")
    meets = pa.array(r["meets_draw"] < 0.6, mask=r["meets_draw"] > 0.9)
    nursing = np.floor(r["beds"] * r["nursing_share"])
    return pa.table(
        {
            "source_file": pa.array(np.full(m, source_file)),
            "source_sheet": pa.nulls(m, pa.string()),
            "source_row": pa.array(np.arange(start + 1, start + m + 1, dtype=np.int64)),
            "name": pc.binary_join_element_wise(parts["unit"], type_vals, parts["seq"], ""),
            "type_raw": type_vals,
            "address": parts["address"],
            "county_name": parts["county"],
            "unit_name": parts["unit"],
            "lon": pa.array(r["x"]),
            "lat": pa.array(r["y"]),
            "status": pa.array(_STATUS[r["status_i"]].astype(str)),
            "opened": pa.array(opened, mask=r["opened_null"]),
            "closed": pa.array(closed, mask=r["status_i"] != 2),
            "meets_standard": meets,
            "beds": pa.array(r["beds"], from_pandas=True),
            "nursing_beds": pa.array(nursing, from_pandas=True),
            "area_m2": pa.array(r["area"]),
            "row_error": pa.nulls(m, pa.string()),
            "geometry": _wkb_points(r["x"], r["y"]),
        }
    )


def _wkb_points(x: np.ndarray, y: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Little-endian WKB points built in bulk (21 bytes each; null where not ``valid``)."""
    rec = np.empty(len(x), dtype=[("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
    rec["order"], rec["kind"], rec["x"], rec["y"] = 1, 1, x, y
    buf = pa.py_buffer(rec.tobytes())
    arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(21), len(x), [None, buf]).cast(pa.binary())
    if valid is None:
        return arr
    return pc.if_else(pa.array(valid), arr, pa.scalar(None, pa.binary()))


def make_facilities(
    units: gpd.GeoDataFrame,
    n: int,
    *,
    seed: int = 7,
    catalog: Catalog | None = None,
    source_file: str = "national_facilities.parquet",
) -> pa.Table:
    """``n`` facility rows placed inside ``units``, as the normalised facility table.

    These are the true values of the rows :func:`make_planner_facilities` writes with the
    same seed (before the planner's spellings, blanks and mistakes).

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
    s = _setting(units, catalog or load_catalog())
    return pa.concat_tables(
        [_normalised(s, _draw(s, a, m, seed), a, source_file) for a, m in _chunks(n)]
    )


# -- facilities: as planners write them --------------------------------------------------------


@lru_cache(maxsize=2)
def _date_vocab(excel_serial: bool) -> pa.Array:
    """Every opening day in every spelling (index ``day * 6 + spelling``), then 待定, null."""
    out: list[str | None] = []
    for d in range(_DAYS):
        day = _DAY0 + dt.timedelta(days=d)
        y, mo, da = day.year, day.month, day.day
        last = str((day - dt.date(1899, 12, 30)).days) if excel_serial else f"{day} 00:00:00"
        out += [f"{day}", f"{y}/{mo}/{da}", f"{y}年{mo}月{da}日", f"{y}.{mo:02d}", f"{y}", last]
    out += ["待定", None]
    return pa.array(out, pa.string())


@lru_cache(maxsize=1)
def _beds_vocab() -> pa.Array:
    """Bed numbers 0 … _MAX_BEDS as 45 / 45张 / 1,200 (index ``beds * 3 + spelling``), 若干, null."""
    out: list[str | None] = []
    for b in range(_MAX_BEDS + 1):
        out += [str(b), f"{b}张", f"{b:,}"]
    out += ["若干", None]
    return pa.array(out, pa.string())


def _swapped(rng: np.random.Generator, has: np.ndarray) -> np.ndarray:
    """A handful of rows (among those with coordinates) whose lon/lat are swapped."""
    cand = np.flatnonzero(has)
    k = min(len(cand), max(1, round(len(has) * _SWAP_RATE)))
    out = np.zeros(len(has), dtype=bool)
    out[rng.choice(cand, k, replace=False)] = True
    return out


def _some(
    rng: np.random.Generator, p: float, n: int, among: np.ndarray | None = None
) -> np.ndarray:
    """Rows drawn with probability ``p`` (within ``among``), at least one if any is eligible.

    So that even a small file has every kind of row the benchmark data promises.
    """
    out = rng.random(n) < p
    if among is not None:
        out &= among
    cand = np.flatnonzero(among) if among is not None else np.arange(n)
    if not out.any() and len(cand):
        out[cand[rng.integers(0, len(cand))]] = True
    return out


def _planner_chunk(s: _Setting, r: dict[str, np.ndarray], start: int, seed: int) -> pa.Table:
    """One chunk of rows as a planner writes them (columns keyed by field, all text)."""
    rng = np.random.default_rng([seed, start // CHUNK_ROWS, 1])
    m = len(r["uidx"])
    parts = _text_parts(s, r, start)
    # type: the catalogue's names and aliases, and an uncatalogued one
    uncat = _some(rng, _P_UNCATALOGUED, m)
    type_vals = pa.array([*s.type_values, UNCATALOGUED_TYPE]).take(
        pa.array(np.where(uncat, len(s.type_values), r["vidx"]))
    )
    name = pc.binary_join_element_wise(parts["unit"], type_vals, parts["seq"], "")
    # coordinates: some rows without, a handful swapped
    has = ~_some(rng, _P_NO_COORDS, m)
    swap = _swapped(rng, has)
    lon, lat = np.where(swap, r["y"], r["x"]), np.where(swap, r["x"], r["y"])
    lon_text = pc.cast(pa.array(lon, mask=~has), pa.string())
    lat_text = pc.cast(pa.array(lat, mask=~has), pa.string())
    # 所属镇(街道): spelling variants; blank on a few rows that have coordinates
    spell = _pick(rng, _UNIT_P, m)
    blank_unit = _some(rng, _P_BLANK_UNIT, m, has)
    unit_i = np.where(blank_unit, len(s.unit_spellings) - 1, r["uidx"] * 3 + spell)
    unit = s.unit_spellings.take(pa.array(unit_i))
    # status: a spelling of the row's true class
    status_vocab: list[str | None] = []
    status_i = np.zeros(m, dtype=np.int64)
    u_status = rng.random(m)
    for cls, (texts, p) in enumerate(_STATUS_TEXT):
        sel = r["status_i"] == cls
        cum = np.cumsum(p) / np.sum(p)
        pick = np.minimum(np.searchsorted(cum, u_status[sel], side="right"), len(p) - 1)
        status_i[sel] = len(status_vocab) + pick
        status_vocab += list(texts)
    status = pa.array(status_vocab, pa.string()).take(pa.array(status_i))
    # opening date in one of six spellings, blank, or 待定
    n_date = _DAYS * 6
    date_i = r["opened_days"] * 6 + _pick(rng, _DATE_P, m)
    date_i = np.where(r["opened_null"], n_date + 1, date_i)
    date_i = np.where(_some(rng, _P_BAD_DATE, m), n_date, date_i)
    date_idx = pa.array(date_i)
    # 是否达标: 是/达标, 否/不达标, blank, a few maybe/待定
    meets = r["meets_draw"]
    variant = rng.integers(0, 4, m) == 0  # 达标 / 不达标 in a quarter of the rows
    flag_i = np.where(meets < 0.6, np.where(variant, 1, 0), np.where(variant, 3, 2))
    flag_i = np.where(meets > 0.9, 6, flag_i)
    bad_flag = _some(rng, _P_BAD_FLAG, m)
    flag_i = np.where(bad_flag, 4 + rng.integers(0, 2, m), flag_i)
    # 床位数 (institutions only): 45 / 45张 / 1,200, a few 若干
    n_beds = (_MAX_BEDS + 1) * 3
    beds_i = np.nan_to_num(r["beds"], nan=0).astype(np.int64) * 3 + _pick(rng, _BEDS_P, m)
    beds_i = np.where(_some(rng, _P_BAD_BEDS, m, r["is_inst"]), n_beds, beds_i)
    beds_i = np.where(r["is_inst"], beds_i, n_beds + 1)
    return pa.table(
        {
            "seq": parts["seq"],
            "name": name,
            "type": type_vals,
            "address": parts["address"],
            "county": parts["county"],
            "unit": unit,
            "lon": lon_text,
            "lat": lat_text,
            "status": status,
            "opened": _date_vocab(False).take(date_idx),
            "opened_xlsx": _date_vocab(True).take(date_idx),
            "meets": pa.array(_FLAG_TEXT, pa.string()).take(pa.array(flag_i)),
            "beds": _beds_vocab().take(pa.array(beds_i)),
            "geometry": _wkb_points(lon, lat, has),
        }
    )


def iter_planner_chunks(
    units: gpd.GeoDataFrame, n: int, *, seed: int = 7, catalog: Catalog | None = None
) -> Iterator[pa.Table]:
    """The planner's rows in chunks of :data:`CHUNK_ROWS` (columns keyed by field).

    Select and name the columns of one format with :func:`planner_view`.
    """
    s = _setting(units, catalog or load_catalog())
    for start, m in _chunks(n):
        yield _planner_chunk(s, _draw(s, start, m, seed), start, seed)


def planner_view(chunk: pa.Table, fmt: str) -> pa.Table:
    """The columns of one file format, under that format's headers (plus ``geometry``)."""
    fields = [f for f, _ in _VIEWS[fmt]]
    headers = [h for _, h in _VIEWS[fmt]]
    if fmt in ("parquet", "gpkg"):
        fields.append("geometry")
        headers.append("geometry")
    return chunk.select(fields).rename_columns(headers)


def make_planner_facilities(
    units: gpd.GeoDataFrame,
    n: int,
    *,
    fmt: str = "parquet",
    seed: int = 7,
    catalog: Catalog | None = None,
) -> pa.Table:
    """``n`` facility rows as a planner's table in one format (text columns; see the module).

    Parameters
    ----------
    units
        Units from :func:`make_units`.
    n
        Number of rows.
    fmt
        ``parquet``/``gpkg`` (headers 名称, 类型 … and a WKB ``geometry``, null without
        coordinates), ``csv`` or ``xlsx`` (other recognised headers, 经度/纬度 as text; in
        ``xlsx`` some dates are Excel serial numbers, still as text here).
    seed, catalog
        As :func:`make_facilities`, which gives the true values of the same rows.
    """
    return pa.concat_tables(
        [planner_view(c, fmt) for c in iter_planner_chunks(units, n, seed=seed, catalog=catalog)]
    )


# -- writing -----------------------------------------------------------------------------------


class _Out:
    """A facility file written chunk by chunk, under a temporary name until closed."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self.tmp = path.with_name(f"{path.stem}.partial{path.suffix}")
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.unlink(missing_ok=True)

    def write(self, table: pa.Table) -> None:
        """Append one chunk (already in this format's columns)."""
        raise NotImplementedError

    def finish(self) -> None:
        """Complete the file (the temporary file becomes ``path``)."""
        self.tmp.replace(self.path)

    def abandon(self) -> None:
        """Remove the temporary file after a failure."""
        self.tmp.unlink(missing_ok=True)


class _ParquetOut(_Out):
    def __init__(self, path: Path, bbox: list[float]) -> None:
        super().__init__(path, "parquet")
        self.bbox = bbox
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            geo = {
                "version": "1.1.0",
                "primary_column": "geometry",
                "columns": {
                    "geometry": {
                        "encoding": "WKB",
                        "geometry_types": ["Point"],
                        "crs": CRS.from_epsg(4326).to_json_dict(),
                        "bbox": self.bbox,
                    }
                },
            }
            schema = table.schema.with_metadata({b"geo": json.dumps(geo).encode()})
            self.writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        self.writer.write_table(table.cast(self.writer.schema), row_group_size=262_144)

    def finish(self) -> None:
        assert self.writer is not None
        self.writer.close()
        super().finish()

    def abandon(self) -> None:
        if self.writer is not None:
            self.writer.close()
        super().abandon()


class _GpkgOut(_Out):
    def __init__(self, path: Path) -> None:
        super().__init__(path, "gpkg")
        self.started = False

    def write(self, table: pa.Table) -> None:
        import pyogrio

        pyogrio.write_arrow(
            table,
            self.tmp,
            layer="facilities",
            driver="GPKG",
            geometry_name="geometry",
            geometry_type="Point",
            crs="EPSG:4326",
            append=self.started,
            layer_options=None if self.started else {"SPATIAL_INDEX": "NO"},
        )
        self.started = True


class _CsvOut(_Out):
    """Excel's CSV: GBK, CRLF, header unquoted, fields quoted only when needed."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "csv")
        self.fh = self.tmp.open("wb")
        self.started = False

    def write(self, table: pa.Table) -> None:
        if not self.started:
            self.fh.write((",".join(table.column_names) + "\r\n").encode(CSV_ENCODING))
            self.started = True
        cols = []
        for col in table.columns:
            col = pc.fill_null(col, "")
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
            cols.append(pc.if_else(pc.match_substring_regex(col, '[,"\r\n]'), quoted, col))
        lines = pc.binary_join_element_wise(*cols, ",").to_pylist()
        text = "\r\n".join(lines) + "\r\n"
        self.fh.write(text.encode(CSV_ENCODING))

    def finish(self) -> None:
        self.fh.close()
        super().finish()

    def abandon(self) -> None:
        self.fh.close()
        super().abandon()


class _XlsxOut(_Out):
    """A planner's workbook: title row, 坐标 merged over 经度/纬度, a note row at the end.

    Written with openpyxl in write-only mode. Every cell is text except the dates that look
    like Excel serial numbers (42005), which are numbers, as in a sheet where someone
    cleared a date column's format.
    """

    def __init__(self, path: Path, title: str = XLSX_TITLE) -> None:
        import openpyxl

        super().__init__(path, "xlsx")
        self.wb = openpyxl.Workbook(write_only=True)
        self.ws = self.wb.create_sheet("设施名录")
        self.title = title
        self.started = False

    def _header(self, headers: list[str]) -> None:
        from openpyxl.utils import get_column_letter

        ws, n = self.ws, len(headers)
        lon, lat = headers.index("经度"), headers.index("纬度")
        top = [None if c == lat else "坐标" if c == lon else h for c, h in enumerate(headers)]
        low = [h if c in (lon, lat) else None for c, h in enumerate(headers)]
        ws.append([self.title, *([None] * (n - 1))])
        ws.append(top)
        ws.append(low)
        ws.merged_cells.add(f"A1:{get_column_letter(n)}1")
        ws.merged_cells.add(f"{get_column_letter(lon + 1)}2:{get_column_letter(lat + 1)}2")
        for c in range(n):
            if c not in (lon, lat):
                col = get_column_letter(c + 1)
                ws.merged_cells.add(f"{col}2:{col}3")
        self.date_col = next(i for i, (f, _) in enumerate(_VIEWS["xlsx"]) if f == "opened_xlsx")

    def write(self, table: pa.Table) -> None:
        if not self.started:
            self._header(table.column_names)
            self.started = True
        columns = [c.to_pylist() for c in table.columns]
        dates = columns[self.date_col]
        columns[self.date_col] = [
            int(v) if v is not None and len(v) == 5 and v.isdigit() else v for v in dates
        ]
        for row in zip(*columns, strict=True):
            self.ws.append(row)

    def finish(self) -> None:
        self.ws.append([])
        self.ws.append(["注：坐标为 WGS84 经纬度；床位数为核定床位数。"])
        self.wb.save(self.tmp)
        super().finish()


def _bbox(units: gpd.GeoDataFrame) -> list[float]:
    """A box covering every point: the units' and, for the swapped rows, its transpose."""
    x0, y0, x1, y1 = (float(v) for v in units.total_bounds)
    return [min(x0, y0), min(y0, x0), max(x1, y1), max(y1, x1)]


def write_facilities(
    units: gpd.GeoDataFrame,
    n: int,
    paths: Sequence[Path],
    *,
    seed: int = 7,
    catalog: Catalog | None = None,
) -> list[Path]:
    """Generate ``n`` planner's rows once and write them to each of ``paths``.

    The format follows each path's suffix (``.parquet``, ``.gpkg``, ``.csv``, ``.xlsx``); rows
    stream chunk by chunk, so the memory is one chunk whatever ``n``. A file appears under its
    name only when complete.
    """
    outs: list[_Out] = []
    for p in paths:
        fmt = p.suffix.lstrip(".")
        if fmt == "parquet":
            outs.append(_ParquetOut(p, _bbox(units)))
        elif fmt == "gpkg":
            outs.append(_GpkgOut(p))
        elif fmt == "csv":
            outs.append(_CsvOut(p))
        elif fmt == "xlsx":
            outs.append(_XlsxOut(p))
        else:
            raise ValueError(f"unknown facility file format {p.suffix}")
    try:
        for chunk in iter_planner_chunks(units, n, seed=seed, catalog=catalog):
            for out in outs:
                out.write(planner_view(chunk, out.fmt))
        for out in outs:
            out.finish()
    except BaseException:
        for out in outs:
            out.abandon()
        raise
    return list(paths)


def write_units(units: gpd.GeoDataFrame, path: Path) -> Path:
    """Write units as GeoParquet (``.parquet``) or GeoPackage (``.gpkg``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gpkg":
        path.unlink(missing_ok=True)
        units.to_file(path, layer="units", driver="GPKG", engine="pyogrio")
    else:
        units.to_parquet(path, compression="zstd", write_covering_bbox=False)
    return path


def _jobs(args: argparse.Namespace, n_units: int) -> tuple[list[Path], dict[int, list[Path]]]:
    """Unit files and facility files (by row count) still to write for one unit set."""
    unit_files = [units_path(n_units, f, args.out) for f in ("parquet", "gpkg")]
    wanted: dict[int, list[Path]] = {}
    if n_units in args.units:
        for n in args.facilities:
            wanted.setdefault(n, []).append(facilities_path(n_units, n, "parquet", args.out))
            if n <= args.gpkg_max:
                wanted[n].append(facilities_path(n_units, n, "gpkg", args.out))
    if n_units == args.reader_units:
        for fmt, n in (("csv", args.csv_rows), ("xlsx", args.xlsx_rows)):
            if n > 0:
                wanted.setdefault(n, []).append(facilities_path(n_units, n, fmt, args.out))

    def todo(ps: Iterable[Path]) -> list[Path]:
        return [p for p in ps if args.force or not p.exists()]

    jobs = {n: t for n, ps in wanted.items() if (t := todo(ps))}
    return todo(unit_files), jobs


def main(argv: list[str] | None = None) -> None:
    """Generate the benchmark files (skipping files that already exist)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="*", default=[4000, 40000])
    ap.add_argument(
        "--facilities",
        type=int,
        nargs="*",
        default=[100_000, 1_000_000, 5_000_000],
        help="facility sets (GeoParquet) for every --units size",
    )
    ap.add_argument(
        "--gpkg-max",
        type=int,
        default=5_000_000,
        help="also write GeoPackage for facility sets up to this size",
    )
    ap.add_argument(
        "--reader-units", type=int, default=4000, help="unit set of the CSV and .xlsx files"
    )
    ap.add_argument("--csv-rows", type=int, default=200_000, help="GBK CSV rows (0: none)")
    ap.add_argument("--xlsx-rows", type=int, default=50_000, help=".xlsx rows (0: none)")
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    args = ap.parse_args(argv)
    catalog = load_catalog()
    sizes = set(args.units)
    if args.csv_rows > 0 or args.xlsx_rows > 0:
        sizes.add(args.reader_units)
    for n_units in sorted(sizes):
        unit_files, jobs = _jobs(args, n_units)
        if not unit_files and not jobs:
            continue
        t0 = time.perf_counter()
        units = make_units(n_units)
        for p in unit_files:
            write_units(units, p)
        print(f"units {n_units:>7,}: {time.perf_counter() - t0:6.1f} s", flush=True)
        for n, paths in sorted(jobs.items()):
            t0 = time.perf_counter()
            write_facilities(units, n, paths, catalog=catalog)
            print(
                f"  facilities {n:>10,}: {time.perf_counter() - t0:6.1f} s "
                f"({', '.join(p.suffix for p in paths)})",
                flush=True,
            )


if __name__ == "__main__":
    main()
