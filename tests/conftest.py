"""Shared fixtures: a small hand-made township layout with known answers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
os.environ.setdefault("MPLBACKEND", "Agg")
# the boundary-check cache stays off in tests (tests/test_check_cache.py turns it on in tmp)
os.environ.setdefault("COVERAGE_GIS_CACHE", "0")

from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from coverage_gis.core.catalog import Catalog, load_catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The embedded Suzhou catalogue."""
    return load_catalog()


def make_units() -> gpd.GeoDataFrame:
    """Five units in two counties (degrees near Suzhou, 0.1° cells).

    ::

        county 320501 (甲区):  A 甲山镇 [120.0–120.1]  B 乙水街道 [120.1–120.2] (with a hole)
                               F 丙湖开发区 (功能区) [120.2–120.3]
        county 320502 (乙市):  C 丁桥镇 multipolygon: [120.0–120.1]×[31.1–31.2] + island
                               D 戊港镇 [120.1–120.2]×[31.1–31.2]

    The hole of B is [120.14–120.16]×[31.04–31.06] and belongs to nobody.
    """
    hole = [(120.14, 31.04), (120.16, 31.04), (120.16, 31.06), (120.14, 31.06)]
    b_poly = Polygon(box(120.1, 31.0, 120.2, 31.1).exterior.coords, [hole])
    c_poly = MultiPolygon([box(120.0, 31.1, 120.1, 31.2), box(120.3, 31.3, 120.35, 31.35)])
    return gpd.GeoDataFrame(
        {
            "code": ["320501001", "320501002", "320501400", "320502101", "320502102"],
            "name": ["甲山镇", "乙水街道", "丙湖开发区", "丁桥镇", "戊港镇"],
            "county": ["甲区", "甲区", "甲区", "乙市", "乙市"],
            "county_code": ["320501", "320501", "320501", "320502", "320502"],
            "kind": ["镇", "街道", "功能区", "镇", "镇"],
            "population": [50000, 80000, 10000, 40000, 30000],
            "pop_60plus": [10000, 16000, 1000, 10000, 8000],
            "households": [19000, 30000, 4000, 15000, 12000],
        },
        geometry=[
            box(120.0, 31.0, 120.1, 31.1),
            b_poly,
            box(120.2, 31.0, 120.3, 31.1),
            c_poly,
            box(120.1, 31.1, 120.2, 31.2),
        ],
        crs=4326,
    )


@pytest.fixture
def units() -> gpd.GeoDataFrame:
    return make_units()


def fac_rows(*rows: dict[str, Any]) -> pd.DataFrame:
    """Facility rows with defaults (source file t.csv, rows numbered from 2)."""
    out = []
    for i, r in enumerate(rows):
        base: dict[str, Any] = {
            "source_file": "t.csv",
            "source_row": i + 2,
            "name": f"设施{i}",
            "status": "运营",
        }
        base.update(r)
        out.append(base)
    return pd.DataFrame(out)
