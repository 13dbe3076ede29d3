"""Access indicators through the engine: hand-made cases whose answers are known."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from coverage_gis.access.demand import Demand
from coverage_gis.access.evaluate import AccessInputs
from coverage_gis.core.catalog import AccessRule, Catalog, Indicator
from coverage_gis.core.engine import prepare
from coverage_gis.core.findings import Findings
from tests.conftest import fac_rows, make_units

M_PER_DEG_LAT = 6371008.8 * math.pi / 180


def _indicator(
    mode: str = "euclidean",
    metres: float = 1000.0,
    field: str = "pop_60plus",
    measure: str = "share",
    types: tuple[str, ...] = ("elderly_care_center",),
    target: float = 90.0,
) -> Indicator:
    return Indicator(
        id="X",
        name_zh="测试可达",
        name_en="test access",
        unit="%" if measure == "share" else "张/千人",
        target=target,
        operator=">=",
        attribute="expected",
        source_ref="test",
        kind="access",
        level="township",
        facility_types=types,
        scale=1000.0 if measure == "fca" else 100.0,
        access=AccessRule(
            population_field=field,
            mode=mode,  # type: ignore[arg-type]
            threshold_m=metres,
            measure=measure,  # type: ignore[arg-type]
            capacity_field="beds" if measure == "fca" else None,
        ),
    )


def _demand(lon: list[float], lat: list[float], old: list[float]) -> Demand:
    n = len(lon)
    return Demand(
        lon=np.asarray(lon, dtype=float),
        lat=np.asarray(lat, dtype=float),
        weights=pd.DataFrame({"pop_60plus": np.asarray(old, dtype=float)}),
        name=np.array([f"社区{i}" for i in range(n)], dtype=object),
        unit_code=None,
        unit_name=None,
        source_row=np.arange(2, n + 2),
        kind="points",
        source="communities.csv",
        findings=Findings(),
        accounting=pd.DataFrame(),
    )


def _north(lat: float, metres: float) -> float:
    return lat + metres / M_PER_DEG_LAT


def _audit(catalog: Catalog, indicator: Indicator, facilities: pd.DataFrame, access: AccessInputs):
    cat = dataclasses.replace(catalog, indicators=(indicator,))
    prepared = prepare(make_units(), facilities, cat, access=access)
    return prepared.evaluate("2024-06-30")


# A centre in 甲山镇 (unit A, [120.0–120.1]×[31.0–31.1]) at (120.05, 31.05); residents
# 500 m and 2,000 m north of it, and 300 m north of it but in the next row of units.
CENTRE = (120.05, 31.05)


def _centre_rows(**extra: object) -> pd.DataFrame:
    return fac_rows(
        {
            "type_raw": "综合养老服务中心",
            "lon": CENTRE[0],
            "lat": CENTRE[1],
            "opened": "2019-01-01",
            "unit_name": "甲山镇",
            **extra,
        }
    )


def test_share_within_reach_per_unit_county_and_city(catalog):
    demand = _demand(
        [CENTRE[0], CENTRE[0], 120.15],
        [_north(CENTRE[1], 500), _north(CENTRE[1], 2000), 31.15],
        [600, 400, 1000],  # A: 600 served + 400 not; D (戊港镇): 1000 not
    )
    result = _audit(catalog, _indicator(), _centre_rows(), AccessInputs(demand=demand))
    r = result.indicator("X")
    assert r.status == "computed"
    assert r.numerator == pytest.approx(600) and r.denominator == pytest.approx(2000)
    assert r.value == pytest.approx(30.0) and r.met is False and r.gap == pytest.approx(60.0)
    by_unit = r.access.by_unit.set_index("code")
    assert by_unit.loc["320501001", "share"] == pytest.approx(60.0)
    assert by_unit.loc["320501001", "nearest_facility"] == "设施0"
    # population-weighted median distance in A: 600 of 1,000 residents at ~500 m
    assert by_unit.loc["320501001", "median_distance_m"] == pytest.approx(500, rel=0.01)
    assert by_unit.loc["320502102", "share"] == 0.0
    assert set(r.failing) == {"320501001", "320502102"}
    county = r.by_county.set_index("county_code")
    assert county.loc["320501", "value"] == pytest.approx(60.0)
    assert county.loc["320502", "value"] == pytest.approx(0.0)
    units_csv = result.units_table().set_index("code")
    assert units_csv.loc["320501001", "X_served"] == pytest.approx(600)


def test_threshold_grows_the_share(catalog):
    demand = _demand([CENTRE[0]] * 3, [_north(CENTRE[1], d) for d in (300, 900, 1800)], [1, 1, 1])
    shares = [
        _audit(catalog, _indicator(metres=m), _centre_rows(), AccessInputs(demand=demand))
        .indicator("X")
        .value
        for m in (200, 500, 1000, 2000)
    ]
    assert shares == pytest.approx([0.0, 100 / 3, 200 / 3, 100.0])


def test_same_date_and_status_rules_as_presence(catalog):
    demand = _demand([CENTRE[0]], [_north(CENTRE[1], 200)], [100])
    later = _audit(
        catalog, _indicator(), _centre_rows(opened="2025-03-01"), AccessInputs(demand=demand)
    )
    closed = _audit(catalog, _indicator(), _centre_rows(status="停业"), AccessInputs(demand=demand))
    served = _audit(catalog, _indicator(), _centre_rows(), AccessInputs(demand=demand))
    assert later.indicator("X").value == 0.0
    assert closed.indicator("X").value == 0.0
    assert served.indicator("X").value == 100.0


def test_a_lake_between_blocks_the_barrier_mode_only(catalog):
    # residents 800 m north of the centre; a 3 km wide lake between them spans the unit
    lake = box(120.0, _north(CENTRE[1], 200), 120.1, _north(CENTRE[1], 600))
    demand = _demand([CENTRE[0]], [_north(CENTRE[1], 800)], [100])
    inputs = AccessInputs(demand=demand, water=np.array([lake], dtype=object))
    straight = _audit(catalog, _indicator("euclidean"), _centre_rows(), inputs)
    barrier = _audit(catalog, _indicator("barrier"), _centre_rows(), inputs)
    assert straight.indicator("X").value == 100.0
    assert barrier.indicator("X").value == 0.0


def test_network_mode_without_roads_says_so(catalog):
    demand = _demand([CENTRE[0]], [_north(CENTRE[1], 100)], [100])
    result = _audit(catalog, _indicator("network"), _centre_rows(), AccessInputs(demand=demand))
    r = result.indicator("X")
    assert r.status == "no_data" and r.value is None
    assert any(f.code == "access_input_missing" for f in result.findings.items)


def test_2sfca_is_beds_per_thousand_residents_within_reach(catalog):
    # two homes share 50 beds between 10,000 elderly residents within reach: 5 per 1,000
    homes = fac_rows(
        {"type_raw": "养老机构", "lon": 120.05, "lat": 31.05, "beds": 20, "unit_name": "甲山镇"},
        {"type_raw": "养老机构", "lon": 120.06, "lat": 31.05, "beds": 30, "unit_name": "甲山镇"},
    )
    demand = _demand([120.055, 120.055], [31.052, 31.048], [4000, 6000])
    ind = _indicator(metres=5000, measure="fca", types=("elderly_institution",), target=40)
    r = _audit(catalog, ind, homes, AccessInputs(demand=demand)).indicator("X")
    assert r.value == pytest.approx(5.0)
    assert r.met is False


def test_units_own_totals_are_the_demand_without_a_population_file(catalog):
    # no community table: 甲山镇's 10,000 elderly are spread over its 0.1° cell; a 20 km
    # reach from its centre covers the whole unit
    result = _audit(catalog, _indicator(metres=20_000), _centre_rows(), AccessInputs())
    r = result.indicator("X")
    by_unit = r.access.by_unit.set_index("code")
    assert by_unit.loc["320501001", "demand"] == pytest.approx(10_000)
    assert by_unit.loc["320501001", "share"] == pytest.approx(100.0)
    # 功能区 (丙湖开发区) is not counted: the denominator is the counted units' elderly
    assert r.denominator == pytest.approx(10_000 + 16_000 + 10_000 + 8_000)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 4), st.integers(-1, 6), st.sampled_from([0.0, 1.0, 2.5, 3.0])),
        max_size=40,
    )
)
def test_main_facility_is_the_one_nearest_to_most_weight(rows):
    """Per unit, the facility that is nearest for the largest total weight (ties: lowest)."""
    from coverage_gis.access.evaluate import _main_facility

    group = np.array([r[0] for r in rows], dtype=np.int64)
    fac = np.array([r[1] for r in rows], dtype=np.int64)
    weight = np.array([r[2] for r in rows], dtype=float)
    got = _main_facility(group, fac, weight, 5)
    for g in range(5):
        totals: dict[int, float] = {}
        for gg, f, w in rows:
            if gg == g and f >= 0 and w > 0:
                totals[f] = totals.get(f, 0.0) + w
        want = min(totals, key=lambda f: (-totals[f], f)) if totals else -1
        assert got[g] == want


def test_demand_points_are_made_ahead_only_for_an_audit_that_evaluates_next(catalog, monkeypatch):
    """``evaluate_next`` starts the units' demand points on a worker during ``prepare``;
    a partition or a check (the default) makes none, and the evaluation is the same."""
    calls: list[int] = []
    real = AccessInputs.demand_for

    def counting(self, units, *, key=None):
        calls.append(len(units))
        return real(self, units, key=key)

    monkeypatch.setattr(AccessInputs, "demand_for", counting)
    cat = dataclasses.replace(catalog, indicators=(_indicator(),))
    units = make_units()
    plain = prepare(units, _centre_rows(), cat)
    assert calls == [] and plain.access is None
    ahead = prepare(units, _centre_rows(), cat, evaluate_next=True)
    assert ahead.access is not None
    got = ahead.evaluate("2024-06-30")
    # asked for on the worker, then by the evaluation, which finds it made: one entry
    assert calls == [len(units), len(units)]
    assert len([k for k in ahead.access._cache if k[0] == "units_demand"]) == 1
    want = plain.evaluate("2024-06-30")
    assert got.indicators[0].value == want.indicators[0].value
    assert got.indicators[0].access.by_unit.equals(want.indicators[0].access.by_unit)
