"""The scenario model: planned sites appended to a prepared audit, evaluated like real data."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.errors import InputError
from coverage_gis.siting.scenario import (
    PlannedSite,
    Scenario,
    evaluate_scenario,
    planned_sites_from_suggestion,
    read_scenario_file,
    scenario_from_rows,
)
from coverage_gis.siting.suggest import suggest_sites
from coverage_gis.workflow import (
    demo_access_paths,
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
    prepare_audit,
    run_audit,
    with_scenario,
)
from tests.test_scenario import LILI, PLAN, TANGQIAO

DAY = "2025-12-31"


@pytest.fixture(scope="module")
def demo():
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    catalog = load_catalog()
    prepared = prepare_audit(inputs, catalog, allow_errors=True)
    return inputs, catalog, prepared, prepared.evaluate(DAY)


def _values(result):
    return {r.indicator.id: (r.value, r.numerator, r.denominator) for r in result.indicators}


def _inside(units, code):
    geom = units.loc[units["code"] == code, "geometry"].iloc[0]
    p = geom.representative_point()
    return float(p.x), float(p.y)


def test_appending_rows_equals_preparing_them_with_the_rest(demo, tmp_path):
    """The incremental path (only the planned rows located) gives the full path's audit."""
    inputs, catalog, prepared, _ = demo
    plan = tmp_path / "规划方案.csv"
    plan.write_text(PLAN, encoding="gbk")
    rows, found, described = read_scenario_file(plan)
    fast = evaluate_scenario(prepared, rows, DAY, findings=found, described=[described])
    full = run_audit(with_scenario(inputs, plan), catalog, DAY, allow_errors=True)
    assert _values(fast) == _values(full)
    for r_fast, r_full in zip(fast.indicators, full.indicators, strict=True):
        assert list(map(str, r_fast.failing)) == list(map(str, r_full.failing))
    cols = ["source_file", "type_code", "unit_code", "used", "in_service"]
    pd.testing.assert_frame_equal(fast.facilities[cols], full.facilities[cols])
    key = "source_file"
    pd.testing.assert_frame_equal(
        fast.accounting.sort_values(key).reset_index(drop=True),
        full.accounting.sort_values(key).reset_index(drop=True),
    )
    assert sorted(f.code for f in fast.findings) == sorted(f.code for f in full.findings)
    assert fast.inputs[-1]["role"] == "scenario"


def test_an_accepted_site_closes_its_township_and_a_rejected_one_does_not(demo):
    _inputs, _catalog, prepared, now = demo
    n_rows = len(prepared.facilities)
    lon, lat = _inside(now.units, LILI)
    site = PlannedSite("黎里规划中心", "regional_elderly_care_center", lon, lat)
    assert LILI in set(map(str, now.indicator("T2-5").failing))
    with_site = evaluate_scenario(prepared, Scenario("方案一", (site,)), DAY)
    assert set(map(str, now.indicator("T2-5").failing)) - set(
        map(str, with_site.indicator("T2-5").failing)
    ) == {LILI}
    row = with_site.facilities.iloc[-1]
    assert row["unit_code"] == LILI and row["source_file"] == "规划方案 方案一"
    rejected = Scenario("方案一", (site,)).accepting(0, False)
    assert _values(evaluate_scenario(prepared, rejected, DAY)) == _values(now)
    # the real prepared audit is unchanged
    assert len(prepared.facilities) == n_rows == len(prepared.unit_idx)
    assert _values(prepared.evaluate(DAY)) == _values(now)


def test_a_site_counts_from_its_planned_date(demo):
    _, _, prepared, now = demo
    lon, lat = _inside(now.units, TANGQIAO)
    site = PlannedSite(
        "塘桥规划中心", "regional_elderly_care_center", lon, lat, dt.date(2027, 3, 1)
    )
    plan = Scenario("远期", (site,))
    before = evaluate_scenario(prepared, plan, "2027-02-28").indicator("T2-5")
    after = evaluate_scenario(prepared, plan, "2027-03-01").indicator("T2-5")
    assert TANGQIAO in set(map(str, before.failing))
    assert TANGQIAO not in set(map(str, after.failing))


def test_a_site_outside_every_unit_is_accounted_for_with_a_finding(demo):
    _, _, prepared, now = demo
    site = PlannedSite("海上", "regional_elderly_care_center", 122.9, 31.0)
    res = evaluate_scenario(prepared, Scenario("x", (site,)), DAY)
    assert _values(res) == _values(now)
    acc = res.accounting.set_index("source_file").loc["规划方案 x"]
    assert acc["rows_read"] == 1 and acc["outside_units"] == 1
    f = [f for f in res.findings if f.file == "规划方案 x"]
    assert [x.code for x in f] == ["point_outside_units"] and f[0].row == 1


def test_suggested_sites_accepted_close_exactly_the_gaps(demo):
    inputs, catalog, prepared, now = demo
    s = suggest_sites(inputs, now, "T2-5")
    sites = planned_sites_from_suggestion(s, catalog)
    assert sites and not any(x.accepted for x in sites)  # start rejected
    plan = Scenario("建议", sites)
    assert _values(evaluate_scenario(prepared, plan, DAY)) == _values(now)
    for i in range(len(sites)):
        plan = plan.accepting(i)
    res = evaluate_scenario(prepared, plan, DAY).indicator("T2-5")
    closed = set(map(str, now.indicator("T2-5").failing)) - set(map(str, res.failing))
    assert closed == set(s.table["closes"]) and len(closed) == len(sites)


def test_suggested_sites_meet_the_indicators_conditions(demo):
    inputs, catalog, prepared, now = demo
    ind = next(
        r.indicator
        for r in now.indicators
        if r.indicator.conditions and r.indicator.level == "township" and r.failing
    )
    s = suggest_sites(inputs, now, ind.id)
    sites = planned_sites_from_suggestion(s, catalog, accepted=True)
    res = evaluate_scenario(prepared, Scenario("c", sites), DAY).indicator(ind.id)
    assert len(res.failing) == len(now.indicator(ind.id).failing) - len(sites)


def test_round_trip_through_json():
    plan = Scenario(
        "方案 <b>一</b>",
        (
            PlannedSite("甲", "t1", 120.5, 31.2, dt.date(2026, 6, 30), beds=40.0),
            PlannedSite(
                "乙",
                "t2",
                120.6,
                31.3,
                None,
                None,
                origin="suggested",
                gain=812.0,
                indicator="T2-5",
                accepted=False,
            ),
        ),
    )
    back = Scenario.from_dict(json.loads(json.dumps(plan.to_dict(), ensure_ascii=False)))
    assert back == plan


@pytest.mark.parametrize(
    ("site", "column"),
    [
        ({"type_code": "t", "lon": 120, "lat": 31}, "name"),
        ({"name": "a", "lon": 120, "lat": 31}, "type_code"),
        ({"name": "a", "type_code": "t", "lon": "120", "lat": 31}, "lon"),
        ({"name": "a", "type_code": "t", "lon": 120, "lat": 95}, "lat"),
        ({"name": "a", "type_code": "t", "lon": 120, "lat": 31, "planned": "2026/6/1"}, "planned"),
        ({"name": "a", "type_code": "t", "lon": 120, "lat": 31, "origin": "x"}, "origin"),
        ({"name": "a", "type_code": "t", "lon": 120, "lat": 31, "beds": "40张"}, "beds"),
    ],
)
def test_bad_saved_sites_are_refused_naming_row_and_column(site, column):
    good = {"name": "ok", "type_code": "t", "lon": 120.0, "lat": 31.0}
    with pytest.raises(InputError) as e:
        Scenario.from_dict({"name": "p", "sites": [good, site]}, file="p.json")
    assert e.value.row == 2 and e.value.column == column and e.value.file == "p.json"


_TYPES = ("regional_elderly_care_center", "child_care_home", "mental_rehab_station")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(_TYPES), st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
        min_size=1,
        max_size=4,
    )
)
def test_adding_sites_never_lowers_a_presence_indicator(demo, picks):
    _, catalog, prepared, now = demo
    types = [t for t in _TYPES if t in catalog.type_codes]
    assume_types = {t for t, _, _ in picks} & set(types)
    x0, y0, x1, y1 = shapely.total_bounds(now.units.geometry.to_numpy())
    sites = tuple(
        PlannedSite(f"s{i}", t, x0 + fx * (x1 - x0), y0 + fy * (y1 - y0))
        for i, (t, fx, fy) in enumerate(picks)
        if t in types
    )
    res = evaluate_scenario(prepared, Scenario("p", sites), DAY)
    for r_now, r_plan in zip(now.indicators, res.indicators, strict=True):
        ind = r_now.indicator
        if ind.kind != "presence" or r_now.numerator is None:
            continue
        if set(ind.facility_types) & assume_types:
            assert r_plan.numerator >= r_now.numerator, ind.id
        else:
            assert r_plan.numerator == r_now.numerator, ind.id
    assert len(res.facilities) == len(prepared.facilities) + len(sites)
    assert np.array_equal(
        res.facilities["unit_code"].iloc[: len(now.facilities)].fillna("").to_numpy(),
        now.facilities["unit_code"].fillna("").to_numpy(),
    )


@pytest.mark.parametrize("mode", ["euclidean", "barrier", "network"])
def test_pairs_for_appended_facilities_equal_pairs_measured_at_once(demo, mode):
    """The access cache measures only a scenario's new sites; the pairs are the same."""
    from coverage_gis.core.catalog import AccessRule

    _inputs, _, prepared, now = demo
    access = prepared.access
    demand = access.demand_for(now.units)
    rule = AccessRule(population_field="pop_60plus", threshold_m=1500.0, mode=mode)
    fac = now.facilities
    ok = np.isfinite(fac["lon"].to_numpy(dtype=float))
    lon, lat = fac["lon"].to_numpy(dtype=float)[ok][:60], fac["lat"].to_numpy(dtype=float)[ok][:60]
    head = access.pairs(rule, demand, lon[:50], lat[:50], 1500.0)
    both = access.pairs(rule, demand, lon, lat, 1500.0)  # the first 50 come from the cache
    fresh = access._measure(rule, demand, lon, lat, 1500.0)
    assert len(both) > len(head)

    def key(p):
        order = np.lexsort((p.facility, p.demand))
        return p.demand[order], p.facility[order], p.dist_m[order]

    for a, b in zip(key(both), key(fresh), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    for a, b in zip(both.nearest(), fresh.nearest(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_a_planned_sites_file_becomes_an_editable_scenario_row_for_row(demo, tmp_path):
    _, catalog, prepared, _ = demo
    plan = tmp_path / "plan.csv"
    plan.write_text(
        PLAN + "无名点,不存在的类型,120.6,31.3,2025-01-01,\n缺坐标,儿童关爱之家,,,2025-01-01,\n",
        encoding="utf-8",
    )
    rows, _found, _ = read_scenario_file(plan)
    sc, left_out = scenario_from_rows(rows, catalog, "文件方案", file=str(plan))
    assert [s.origin for s in sc.sites] == ["file", "file"]
    assert sc.sites[1].planned == dt.date(2027, 3, 1)
    assert sorted((f.code, f.row) for f in left_out) == [
        ("no_location", 5),
        ("unknown_facility_type", 4),
    ]
    good = rows.iloc[:2]
    a = evaluate_scenario(prepared, good, "2027-12-31")
    b = evaluate_scenario(prepared, sc, "2027-12-31")
    assert _values(a) == _values(b)


def test_scenarios_and_dates_evaluated_on_two_threads_agree_with_one(demo):
    """The desktop app evaluates a scenario on the UI thread while a worker evaluates
    another date: the shared access caches are locked, the answers are the sequential ones."""
    from concurrent.futures import ThreadPoolExecutor

    _, _, prepared, now = demo
    gaps = [str(c) for c in now.indicator("T2-5").failing][:4]
    plans = [
        Scenario(
            f"t{i}", (PlannedSite("s", "regional_elderly_care_center", *_inside(now.units, c)),)
        )
        for i, c in enumerate(gaps)
    ]
    jobs = [(p, DAY) for p in plans] + [(None, d) for d in ("2021-12-31", "2023-06-30")]

    def run(job):
        plan, day = job
        return _values(
            prepared.evaluate(day) if plan is None else evaluate_scenario(prepared, plan, day)
        )

    want = [run(j) for j in jobs]
    with ThreadPoolExecutor(2) as ex:
        got = list(ex.map(run, jobs * 2))
    assert got == want * 2


@pytest.mark.parametrize("mode", ["euclidean", "barrier", "network"])
def test_pairs_taken_from_every_possible_facility_equal_pairs_of_the_taken(demo, mode):
    """Another date measures no pair again: the pairs of every facility an indicator could
    count are cached and the date's taken; they equal the pairs measured for those alone."""
    from coverage_gis.core.catalog import AccessRule

    _, _, prepared, now = demo
    access = prepared.access
    demand = access.demand_for(now.units)
    rule = AccessRule(population_field="pop_60plus", threshold_m=1500.0, mode=mode)
    fac = now.facilities
    ok = np.isfinite(fac["lon"].to_numpy(dtype=float))
    lon, lat = fac["lon"].to_numpy(dtype=float)[ok][:80], fac["lat"].to_numpy(dtype=float)[ok][:80]
    take = np.arange(0, 80, 3)
    got = access.pairs(rule, demand, lon, lat, 1500.0, take=take)
    want = access._measure(rule, demand, lon[take], lat[take], 1500.0)
    assert got.n_facility == len(take) and len(got) == len(want) > 0

    def key(p):
        order = np.lexsort((p.facility, p.demand))
        return p.demand[order], p.facility[order], p.dist_m[order]

    for a, b in zip(key(got), key(want), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    for a, b in zip(got.nearest(), want.nearest(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_accepted_capacity_suggestions_carry_their_beds_and_raise_the_indicator(demo):
    inputs, catalog, prepared, now = demo
    s = suggest_sites(inputs, now, "A-4", n_new=2, capacity=300.0)
    assert s.capacity == ("beds", 300.0)
    sites = planned_sites_from_suggestion(s, catalog, accepted=True)
    assert [x.beds for x in sites] == [300.0, 300.0]
    after = evaluate_scenario(prepared, Scenario("床位", sites), DAY).indicator("A-4")
    assert after.value > now.indicator("A-4").value


def test_the_suggested_layer_lists_the_pending_suggestions_where_they_lie(demo):
    from coverage_gis.siting.scenario import suggested_layer

    inputs, catalog, _, now = demo
    s = suggest_sites(inputs, now, "T2-5")
    plan = Scenario("建议", planned_sites_from_suggestion(s, catalog)).accepting(0)
    (layer,) = suggested_layer(plan, now)
    assert layer.indicator == "T2-5" and len(layer.table) == len(s.table) - 1
    t = layer.table
    assert list(t["rank"]) == list(range(1, len(t) + 1))
    assert list(t["unit_code"]) == list(s.table["unit_code"].iloc[1:])
    assert list(t["closes"]) == list(s.table["closes"].iloc[1:])  # each closes its gap
    np.testing.assert_allclose(t["gain"], s.table["gain"].iloc[1:])
    assert suggested_layer(Scenario(), now) == []
