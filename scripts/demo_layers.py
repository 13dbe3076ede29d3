"""Schematic context layers of the Suzhou demo: water, roads and communities (示意数据).

Called by ``scripts/make_demo_data.py`` after the township cells are built; every layer is
derived from the same cells and water polygons, from seeded random generators, so reruns
give the same files. Nothing here is real: rivers, roads and communities are drawn to look
plausible at city scale, for exercising the accessibility engine.

Outputs (relative to the repository root)::

    data/water/suzhou_water_demo.geojson
    data/roads/suzhou_roads_demo.gpkg
    data/population/suzhou_communities_demo.csv
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

ROOT = Path(__file__).resolve().parent.parent
WATER_OUT = ROOT / "data" / "water" / "suzhou_water_demo.geojson"
ROADS_OUT = ROOT / "data" / "roads" / "suzhou_roads_demo.gpkg"
COMMUNITIES_OUT = ROOT / "data" / "population" / "suzhou_communities_demo.csv"

METRIC_CRS = "EPSG:4549"
ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
LAYER_DESCRIPTION = (
    "示意数据，非真实水系/路网/人口分布 / schematic data, not the real water, roads or "
    "population; derived from the demo township outlines (" + ATTRIBUTION + ")"
)

#: Rivers and canals: (name, hand-drawn course lon/lat, width in metres).
RIVERS: list[tuple[str, list[tuple[float, float]], float]] = [
    (
        "京杭大运河",
        [
            (120.700, 30.790), (120.665, 30.880), (120.645, 30.960), (120.650, 31.040),
            (120.668, 31.120), (120.655, 31.170), (120.640, 31.220), (120.625, 31.262),
            (120.605, 31.285), (120.588, 31.302), (120.572, 31.332), (120.545, 31.362),
            (120.505, 31.395), (120.470, 31.425), (120.432, 31.458), (120.400, 31.490),
        ],
        70.0,
    ),
    (
        "吴淞江",
        [
            (120.630, 31.180), (120.690, 31.215), (120.760, 31.235), (120.840, 31.255),
            (120.920, 31.265), (121.000, 31.270), (121.100, 31.262), (121.200, 31.250),
        ],
        60.0,
    ),
    (
        "望虞河",
        [
            (120.420, 31.452), (120.500, 31.490), (120.580, 31.540), (120.650, 31.600),
            (120.710, 31.660), (120.780, 31.720), (120.860, 31.790), (120.910, 31.830),
        ],
        50.0,
    ),
    (
        "娄江",
        [
            (120.650, 31.320), (120.740, 31.345), (120.850, 31.372), (120.960, 31.395),
            (121.060, 31.430), (121.150, 31.460), (121.230, 31.485), (121.320, 31.512),
        ],
        45.0,
    ),
]  # fmt: skip

ROAD_WORDS = [
    "人民", "长江", "东环", "富民", "新华", "兴业", "振兴", "建设", "文昌", "迎春", "学士", "金山",
    "滨河", "和平", "友谊", "幸福", "光明", "胜利", "团结", "青年", "园林", "香樟", "银杏", "荷花",
    "玉兰", "桂花", "同心", "太湖", "运河", "锦绣", "秀水", "南环", "北环", "西园", "东湖", "春申",
    "观前", "干将", "十全", "凤凰", "华山", "嵩山", "泰山", "珠江", "黄河", "淮海", "湘江", "钟园",
]  # fmt: skip
NAME_HEADS = [
    "永", "新", "长", "金", "石", "东", "西", "南", "北", "红", "三", "龙", "凤", "青", "白", "黄",
    "万", "双", "太", "兴", "和", "安", "庆", "丰", "华", "民", "福", "乐", "荷", "莲", "桥", "塘",
]  # fmt: skip
NAME_TAILS = [
    "丰", "桥", "巷", "港", "潭", "星", "民", "浜", "林", "泾", "河", "湾", "田", "园", "庄", "塘",
    "泉", "溪", "苑", "坊", "湖", "山", "圩", "墩", "荡", "漾", "里", "亭", "阳", "光", "盛", "旺",
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


class Metric:
    """WGS84 ↔ the demo's metric CRS for shapely geometries."""

    def __init__(self) -> None:
        self.fwd = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
        self.inv = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)

    def to_m(self, g: BaseGeometry) -> BaseGeometry:
        """Geometry in metres."""
        return shapely.transform(g, lambda xy: np.column_stack(self.fwd.transform(*xy.T)))

    def to_wgs(self, g: BaseGeometry) -> BaseGeometry:
        """Geometry in lon/lat."""
        return shapely.transform(g, lambda xy: np.column_stack(self.inv.transform(*xy.T)))


def smooth(n: int, rng: np.random.Generator, sigma: float, width: int) -> np.ndarray:
    """``n``×2 smooth offsets (std ≈ ``sigma``), zero at both ends."""
    k = np.exp(-0.5 * (np.arange(-2 * width, 2 * width + 1) / width) ** 2)
    k /= k.sum()
    noise = rng.normal(0.0, 1.0, size=(n + len(k) - 1, 2))
    out = np.column_stack([np.convolve(noise[:, a], k, mode="valid") for a in range(2)])
    out *= sigma / (out.std() or 1.0)
    out -= np.linspace(out[0], out[-1], n)
    return out


def feature_collection(name: str, feats: list[dict]) -> str:
    """A compact GeoJSON FeatureCollection (one feature per line) with the schematic note."""
    doc = {
        "type": "FeatureCollection",
        "name": name,
        "description": LAYER_DESCRIPTION,
        "attribution": ATTRIBUTION,
        "license": "ODbL-1.0",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": feats,
    }
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return text.replace('{"type":"Feature"', '\n{"type":"Feature"') + "\n"


def rounded(obj: object, nd: int = 6) -> object:
    """Coordinates rounded to ``nd`` decimals (nested lists)."""
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, list | tuple):
        return [rounded(o, nd) for o in obj]
    return obj


# ---------------------------------------------------------------------------------------------
# Water
# ---------------------------------------------------------------------------------------------


def build_rivers(
    land: BaseGeometry, rng: np.random.Generator, m: Metric
) -> dict[str, BaseGeometry]:
    """River and canal polygons (tens of metres wide) on the city's land, in lon/lat."""
    land_m = m.to_m(land)
    out = {}
    for name, course, width in RIVERS:
        line = m.to_m(LineString(course))
        dense = np.asarray(shapely.segmentize(line, 150.0).coords)
        dense = dense + smooth(len(dense), rng, 120.0, 6)
        poly = LineString(dense).buffer(width / 2, quad_segs=2, cap_style="flat")
        poly = shapely.simplify(poly.intersection(land_m), 2.0)
        out[name] = m.to_wgs(poly)
    return out


def write_water(
    lakes: dict[str, BaseGeometry], rivers: dict[str, BaseGeometry], path: Path
) -> list[dict]:
    """Write 太湖, 阳澄湖, 长江 and the rivers/canals as schematic water polygons."""
    kinds = {"太湖": "lake", "阳澄湖": "lake", "长江": "river"}
    feats = []
    for name, g in [*lakes.items(), *rivers.items()]:
        g = shapely.set_precision(g, 1e-6)
        gj = json.loads(shapely.to_geojson(g))
        feats.append(
            {
                "type": "Feature",
                "properties": {"name": name, "kind": kinds.get(name, "river"), "schematic": True},
                "geometry": {"type": gj["type"], "coordinates": rounded(gj["coordinates"])},
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(feature_collection("suzhou_water_demo", feats), encoding="utf-8")
    return feats


# ---------------------------------------------------------------------------------------------
# Roads
# ---------------------------------------------------------------------------------------------


def grid_lines(
    poly_m: BaseGeometry,
    centre: Point,
    spacing: float,
    angle: float,
    rng: np.random.Generator,
    radius: float | None = None,
) -> list[LineString]:
    """A jittered street grid (two families of near-parallel lines) clipped to ``poly_m``.

    With ``radius`` only the disc of that radius around ``centre`` gets streets.
    """
    area = poly_m if radius is None else poly_m.intersection(centre.buffer(radius, quad_segs=8))
    if area.is_empty:
        return []
    x0, y0, x1, y1 = area.bounds
    half = 0.5 * np.hypot(x1 - x0, y1 - y0) + spacing
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    lines = []
    for theta in (angle, angle + np.pi / 2 + rng.normal(0, 0.04)):
        d = np.array([np.cos(theta), np.sin(theta)])
        nrm = np.array([-d[1], d[0]])
        offs = np.arange(-half, half, spacing) + rng.uniform(0, spacing)
        for o in offs:
            o = o + rng.normal(0, 0.12 * spacing)
            tilt = rng.normal(0, 0.03)
            dd = d + tilt * nrm
            p = np.array([cx, cy]) + o * nrm
            seg = LineString([p - half * dd, p + half * dd])
            clipped = seg.intersection(area)
            for part in shapely.get_parts(clipped):
                if isinstance(part, LineString) and part.length > 0.4 * spacing:
                    lines.append(part)
    return lines


def arterial_links(
    cells_m: Sequence[BaseGeometry], centres: Sequence[Point], barrier_m: BaseGeometry
) -> list[tuple[int, int, LineString]]:
    """Links between neighbouring unit centres via a point on their shared edge.

    Links that would cross a lake or the Yangtze are left out.
    """
    tree = shapely.STRtree(list(cells_m))
    out = []
    for i, g in enumerate(cells_m):
        for j in tree.query(g, predicate="intersects"):
            j = int(j)
            if j <= i:
                continue
            shared = g.boundary.intersection(cells_m[j].boundary)
            if shared.length < 200:
                continue
            mid = shapely.line_interpolate_point(shapely.line_merge(shared), 0.5, normalized=True)
            if mid.geom_type != "Point":
                mid = shared.representative_point()
            line = LineString([centres[i], mid, centres[j]])
            if line.intersects(barrier_m):
                continue
            out.append((i, j, line))
    return out


def node_network(
    lines: list[LineString], attrs: list[dict], cutters: list[BaseGeometry]
) -> tuple[list[LineString], list[dict]]:
    """Node all lines at their crossings (and at river banks); attributes follow the source."""
    bank = [shapely.boundary(c) for c in cutters]
    noded = shapely.get_parts(shapely.union_all([*lines, *bank], grid_size=0.01))
    tree = shapely.STRtree(lines)
    keep_g, keep_a = [], []
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    for seg, mid in zip(noded, mids, strict=True):
        if seg.length < 1.0:  # a sliver between two nearly coincident crossings
            continue
        hits = tree.query(mid, predicate="dwithin", distance=0.05)
        if len(hits) == 0:
            continue  # a piece of river bank, not a road
        src = int(min(hits))  # arterials come first
        keep_g.append(seg)
        keep_a.append(dict(attrs[src], _src=src))
    return keep_g, keep_a


def build_roads(
    units: pd.DataFrame,
    cells: list[BaseGeometry],
    lakes: dict[str, BaseGeometry],
    rivers: dict[str, BaseGeometry],
    rng: np.random.Generator,
    m: Metric,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The schematic road network as noded LineStrings (lon/lat) and a few statistics."""
    cells_m = [m.to_m(g) for g in cells]
    barrier_m = m.to_m(shapely.union_all(list(lakes.values()))).buffer(30)
    river_m = [m.to_m(g) for g in rivers.values()]
    river_u = shapely.union_all(river_m)
    stems = [n.removesuffix("街道").removesuffix("镇") if len(n) > 3 else n for n in units["name"]]
    centres = []
    for i, g in enumerate(cells_m):
        p = m.to_m(Point(units["lon"].iloc[i], units["lat"].iloc[i]))
        centres.append(p if g.buffer(-300).contains(p) else g.representative_point())

    lines: list[LineString] = []
    attrs: list[dict] = []
    for i, j, line in arterial_links(cells_m, centres, barrier_m):
        lines.append(line)
        attrs.append({"name": f"{stems[i]}{stems[j]}公路", "class": "arterial", "oneway": 0})
    # 太湖大桥: the causeway from 金庭 (西山岛) to the 胥口 shore.
    jin = int(np.flatnonzero(units["name"] == "金庭镇")[0])
    xu = int(np.flatnonzero(units["name"] == "胥口镇")[0])
    lines.append(LineString([centres[jin], centres[xu]]))
    attrs.append({"name": "太湖大桥", "class": "arterial", "oneway": 0})

    for i, g in enumerate(cells_m):
        kind = units["kind"].iloc[i]
        angle = rng.uniform(-0.3, 0.3) + (np.pi / 4 if rng.random() < 0.2 else 0.0)
        streets: list[LineString] = []
        core = units["county"].iloc[i] in {"姑苏区", "苏州工业园区"}
        if kind == "街道" and core:  # the old city and the park: a street grid throughout
            streets += grid_lines(g, centres[i], rng.uniform(350, 550), angle, rng)
        elif kind == "功能区":
            streets += grid_lines(g, centres[i], rng.uniform(600, 900), angle, rng)
        else:  # a dense centre, sparse roads between villages
            sparse, r = (
                ((1400, 2000), (1500, 2500)) if kind == "街道" else ((2000, 3000), (800, 1400))
            )
            streets += grid_lines(g, centres[i], rng.uniform(*sparse), angle, rng)
            streets += grid_lines(
                g, centres[i], rng.uniform(450, 650), angle, rng, radius=rng.uniform(*r)
            )
        gusu = units["county"].iloc[i] == "姑苏区"
        for s in streets:
            lines.append(s)
            nm = (
                ""
                if rng.random() < 0.08
                else f"{stems[i]}{ROAD_WORDS[int(rng.integers(len(ROAD_WORDS)))]}{'路' if rng.random() < 0.8 else '街'}"
            )
            attrs.append(
                {"name": nm, "class": "local", "oneway": int(gusu and rng.random() < 0.06)}
            )

    geoms, eattrs = node_network(lines, attrs, river_m)
    # Keep the connected network (drop fragments cut off by the unit outlines).
    ends = np.array([[g.coords[0], g.coords[-1]] for g in geoms]).reshape(-1, 2)
    keys, inv = np.unique(np.round(ends, 2), axis=0, return_inverse=True)
    inv = inv.reshape(-1, 2)
    n = len(keys)
    adj = coo_matrix((np.ones(len(inv)), (inv[:, 0], inv[:, 1])), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    main = np.bincount(label).argmax()
    keep = label[inv[:, 0]] == main
    dropped = int((~keep).sum())
    geoms = [g for g, k in zip(geoms, keep, strict=True) if k]
    eattrs = [a for a, k in zip(eattrs, keep, strict=True) if k]
    inv = inv[keep]

    # A few real-file defects: a street drawn through a crossing (not split there) and a
    # few ends stopping 3 m short of the street they meet.
    deg = np.bincount(inv.ravel(), minlength=n)
    by_node: dict[int, list[int]] = {}
    for e, (a, b) in enumerate(inv):
        by_node.setdefault(int(a), []).append(e)
        by_node.setdefault(int(b), []).append(e)
    merged: set[int] = set()
    removed: set[int] = set()
    n_through = 0
    order = rng.permutation(n)
    for node in order:
        if n_through >= 6:
            break
        if deg[node] != 4:
            continue
        same = [e for e in by_node[int(node)] if eattrs[e]["class"] == "local" and e not in merged]
        pairs = [
            (a, b) for a in same for b in same if a < b and eattrs[a]["_src"] == eattrs[b]["_src"]
        ]
        if not pairs:
            continue
        a, b = pairs[0]
        ca, cb = list(geoms[a].coords), list(geoms[b].coords)
        pt = keys[node]
        if np.allclose(np.round(ca[0], 2), pt):
            ca = ca[::-1]
        if not np.allclose(np.round(cb[0], 2), pt):
            cb = cb[::-1]
        geoms[a] = LineString(ca + cb[1:])
        merged |= {a, b}
        removed.add(b)
        n_through += 1
    short = 0
    for node in order[::-1]:
        if short >= 4:
            break
        if deg[node] < 3:
            continue
        es = [e for e in by_node[int(node)] if eattrs[e]["class"] == "local" and e not in merged]
        if not es or geoms[es[0]].length < 50:
            continue
        e = es[0]
        g = geoms[e]
        if np.allclose(np.round(g.coords[-1], 2), keys[node]):
            g = shapely.reverse(g)
        geoms[e] = substring(g, 3.0, g.length)
        merged.add(e)
        short += 1
    geoms = [g for e, g in enumerate(geoms) if e not in removed]
    eattrs = [a for e, a in enumerate(eattrs) if e not in removed]
    stats = {
        "edges": len(geoms),
        "arterial_edges": sum(1 for a in eattrs if a["class"] == "arterial"),
        "fragments_dropped": dropped,
        "through_crossings": n_through,
        "short_ends": short,
    }
    mids = shapely.line_interpolate_point(np.array(geoms, dtype=object), 0.5, normalized=True)
    bridge = shapely.within(mids, river_u.buffer(0.5)).astype(int)
    stats["bridges"] = int(bridge.sum())
    gdf = gpd.GeoDataFrame(
        {
            "name": [a["name"] for a in eattrs],
            "class": [a["class"] for a in eattrs],
            "oneway": [a["oneway"] for a in eattrs],
            "bridge": bridge,
            "schematic": 1,
        },
        geometry=[shapely.set_precision(m.to_wgs(g), 1e-7) for g in geoms],
        crs="EPSG:4326",
    )
    return gdf, stats


def write_roads(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write the GeoPackage and pin its timestamps so reruns give the same content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    gdf.to_file(path, driver="GPKG", layer="roads", engine="pyogrio")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE gpkg_contents SET last_change = '2026-11-29T00:00:00.000Z'")
        con.execute(
            "UPDATE gpkg_contents SET description = ? WHERE table_name = 'roads'",
            (LAYER_DESCRIPTION,),
        )
    con.close()
    with sqlite3.connect(path) as con:
        con.execute("VACUUM")
    con.close()


# ---------------------------------------------------------------------------------------------
# Communities (村/社区)
# ---------------------------------------------------------------------------------------------

COMMUNITY_COLUMNS = [
    "序号",
    "社区(村)名称",
    "所属区县",
    "所属镇(街道)",
    "经度",
    "纬度",
    "户数",
    "常住人口",
    "60岁及以上人口",
]


def split_total(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (largest remainder)."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    rest = total - int(out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


def build_communities(
    units: pd.DataFrame,
    cells: list[BaseGeometry],
    rivers: dict[str, BaseGeometry],
    rng: np.random.Generator,
    m: Metric,
) -> pd.DataFrame:
    """村/社区 points with residents, 60+ residents and households summing to each unit."""
    river_m = m.to_m(shapely.union_all(list(rivers.values()))).buffer(40)
    rows = []
    for i, g in enumerate(cells):
        u = units.iloc[i]
        pop, old, hh = int(u["population"]), int(u["pop_60plus"]), int(u["households"])
        n = int(np.clip(round(pop / 8000) + rng.integers(-3, 4), 10, 25))
        area = m.to_m(g).buffer(-80).difference(river_m)
        x0, y0, x1, y1 = area.bounds
        pts: list[tuple[float, float]] = []
        while len(pts) < n:
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if not shapely.contains_xy(area, x, y):
                continue
            lon, lat = m.inv.transform(x, y)
            lon, lat = round(float(lon), 6), round(float(lat), 6)
            if g.contains(Point(lon, lat)):
                pts.append((lon, lat))
        residents = split_total(pop, rng.lognormal(0.0, 0.5, n))
        share = rng.lognormal(0.0, 0.15, n)
        elderly = split_total(old, residents * share)
        elderly = np.minimum(elderly, residents)
        elderly[np.argmax(residents)] += old - int(elderly.sum())
        households = split_total(hh, residents / rng.uniform(2.4, 2.8, n))
        p_village = {"街道": 0.1, "镇": 0.65}.get(u["kind"], 0.0)
        names: dict[str, None] = {}  # insertion-ordered (a set's order varies between runs)
        while len(names) < n:
            head = NAME_HEADS[int(rng.integers(len(NAME_HEADS)))]
            tail = NAME_TAILS[int(rng.integers(len(NAME_TAILS)))]
            if head == tail:
                continue
            names[head + tail + ("村" if rng.random() < p_village else "社区")] = None
        for k, nm in enumerate(rng.permutation(list(names))):
            rows.append(
                {
                    "社区(村)名称": str(nm),
                    "所属区县": u["county"],
                    "所属镇(街道)": u["name"],
                    "经度": pts[k][0],
                    "纬度": pts[k][1],
                    "户数": int(households[k]),
                    "常住人口": int(residents[k]),
                    "60岁及以上人口": int(elderly[k]),
                }
            )
    df = pd.DataFrame(rows)
    df.insert(0, "序号", np.arange(1, len(df) + 1))
    return df


def write_communities(df: pd.DataFrame, rng: np.random.Generator, path: Path) -> dict[str, object]:
    """UTF-8 (BOM) CSV with a few real-shaped quirks; returns where the quirks are."""
    text = df.astype(object).copy()
    for col in ("经度", "纬度"):
        text[col] = [f"{v:.6f}" for v in df[col]]
    for col in ("序号", "户数", "常住人口", "60岁及以上人口"):
        text[col] = [str(v) for v in df[col]]
    big = np.flatnonzero(df["常住人口"].to_numpy() >= 1000)
    r_suffix, r_comma, r_blank = (int(x) for x in rng.choice(big, 3, replace=False))
    text.loc[r_suffix, "常住人口"] = f"{df.loc[r_suffix, '常住人口']}人"
    text.loc[r_comma, "常住人口"] = f"{df.loc[r_comma, '常住人口']:,}"
    text.loc[r_blank, "60岁及以上人口"] = ""
    total = {
        "序号": "",
        "社区(村)名称": "合计",
        "所属区县": "",
        "所属镇(街道)": "",
        "经度": "",
        "纬度": "",
        "户数": str(int(df["户数"].sum())),
        "常住人口": str(int(df["常住人口"].sum())),
        # the sum a spreadsheet shows: the blank cell counts as 0
        "60岁及以上人口": str(int(df["60岁及以上人口"].sum() - df.loc[r_blank, "60岁及以上人口"])),
    }
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COMMUNITY_COLUMNS)
    for rec in text[COMMUNITY_COLUMNS].itertuples(index=False):
        w.writerow(list(rec))
    w.writerow([total[c] for c in COMMUNITY_COLUMNS])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))
    return {
        "人_suffix": (r_suffix + 2, text.loc[r_suffix, "常住人口"]),
        "thousands_comma": (r_comma + 2, text.loc[r_comma, "常住人口"]),
        "blank_60plus": (
            r_blank + 2,
            int(df.loc[r_blank, "60岁及以上人口"]),
            df.loc[r_blank, "所属镇(街道)"],
        ),
        "total_row": len(df) + 2,
    }


def parse_count(value: str) -> int | None:
    """A count as planners write it: ``1,234``, ``3456人`` or blank (None)."""
    v = value.strip().replace(",", "").removesuffix("人")
    return int(v) if v else None


def verify_layers(
    units_path: Path, water_path: Path, roads_path: Path, communities_path: Path
) -> bool:
    """Read the written layers back and check them against the township file."""
    ok = True
    bnd = gpd.read_file(units_path)
    water = gpd.read_file(water_path)
    roads = gpd.read_file(roads_path)
    com = pd.read_csv(communities_path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    if com["社区(村)名称"].iloc[-1] != "合计":
        print("communities: the 合计 row is missing")
        ok = False
    com = com.iloc[:-1]
    res = com["常住人口"].map(parse_count)
    old = com["60岁及以上人口"].map(parse_count)
    by_unit = pd.DataFrame({"u": com["所属镇(街道)"], "res": res, "old": old.fillna(0)})
    sums = by_unit.groupby("u").sum()
    bpop = bnd.set_index("name")["population"]
    bold = bnd.set_index("name")["pop_60plus"]
    bad_res = [n for n in bpop.index if sums.loc[n, "res"] != bpop[n]]
    blank_units = set(com.loc[old.isna(), "所属镇(街道)"])
    bad_old = [n for n in bold.index if sums.loc[n, "old"] != bold[n] and n not in blank_units]
    if bad_res or bad_old or len(blank_units) != 1:
        print("communities: sums off", bad_res[:5], bad_old[:5], blank_units)
        ok = False
    counts = com.groupby("所属镇(街道)").size()
    if counts.min() < 10 or counts.max() > 25:
        print("communities per unit out of 10–25:", counts.min(), counts.max())
        ok = False
    pts = gpd.GeoDataFrame(
        com,
        geometry=gpd.points_from_xy(com["经度"].astype(float), com["纬度"].astype(float)),
        crs="EPSG:4326",
    )
    j = gpd.sjoin(pts, bnd[["name", "geometry"]], how="left", predicate="within")
    if (j["name"] != j["所属镇(街道)"]).any():
        print("communities outside their unit:", int((j["name"] != j["所属镇(街道)"]).sum()))
        ok = False
    wet = shapely.union_all(water.geometry.to_numpy())
    n_wet = int(shapely.intersects(wet, pts.geometry.to_numpy()).sum())
    if n_wet:
        print("communities in water:", n_wet)
        ok = False
    lakes = shapely.union_all(
        water.loc[water["name"].isin(["太湖", "阳澄湖", "长江"]), "geometry"].to_numpy()
    )
    into_lake = roads[roads.geometry.intersects(lakes.buffer(-0.0002))]
    if len(into_lake) != 1 or into_lake["name"].iloc[0] != "太湖大桥":
        print("roads in a lake (only 太湖大桥 may cross):", into_lake["name"].tolist()[:5])
        ok = False
    # noding: endpoints shared within 1 m, except the few deliberate defects
    ends = np.vstack(
        [shapely.get_coordinates(shapely.get_point(roads.geometry, k)) for k in (0, -1)]
    )
    from scipy.spatial import cKDTree

    xy = np.column_stack(Metric().fwd.transform(ends[:, 0], ends[:, 1]))
    pairs = cKDTree(xy).query_pairs(1.0, output_type="ndarray")
    print(
        f"layers: water {len(water)} features; roads {len(roads):,} edges "
        f"({int((roads['class'] == 'arterial').sum())} arterial, {int(roads['bridge'].sum())} "
        f"bridges, {len(pairs):,} endpoint pairs within 1 m); communities {len(com):,} in "
        f"{len(counts)} units, residents {int(res.sum()):,}"
    )
    return ok
