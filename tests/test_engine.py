"""Known-answer tests of the coverage engine on hand-made geometries (see conftest)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage_gis.core.engine import audit, prepare
from coverage_gis.core.errors import InputError
from coverage_gis.core.results import AuditOptions
from tests.conftest import fac_rows, make_units

ASHES = "公益性骨灰安放设施"
A, B, F, C, D = "320501001", "320501002", "320501400", "320502101", "320502102"


def codes_of(result, kind: str = "point") -> dict[str, str]:
    fac = result.facilities
    return dict(zip(fac["name"], fac["unit_code"], strict=True))


def test_point_in_polygon_and_township_coverage(units, catalog):
    fac = fac_rows(
        {"name": "a", "type_raw": ASHES, "lon": 120.05, "lat": 31.05},
        {"name": "d", "type_raw": "骨灰堂", "lon": 120.15, "lat": 31.15},  # alias
    )
    r = audit(units, fac, catalog, "2025-01-01")
    ind = r.indicator("T2-19")
    assert (ind.numerator, ind.denominator) == (2, 4)  # 功能区 F not in the denominator
    assert ind.value == pytest.approx(50.0)
    assert ind.met is False and ind.gap == pytest.approx(50.0)
    assert sorted(ind.failing) == [B, C]
    assert codes_of(r) == {"a": A, "d": D}
    assert r.counts_qualifying.loc[A, "ashes_repository"] == 1
    assert r.counts_qualifying.loc[B, "ashes_repository"] == 0


def test_shared_edge_goes_to_smallest_code_whatever_the_order(units, catalog):
    edge = {"name": "edge", "type_raw": ASHES, "lon": 120.1, "lat": 31.05}  # A|B edge
    corner = {"name": "corner", "type_raw": ASHES, "lon": 120.1, "lat": 31.1}  # A, B, C, D corner
    r1 = audit(units, fac_rows(edge, corner), catalog, "2025-01-01")
    r2 = audit(units.iloc[::-1], fac_rows(corner, edge), catalog, "2025-01-01")
    for r in (r1, r2):
        assert codes_of(r) == {"edge": A, "corner": A}
        assert sum(f.code == "point_on_shared_edge" for f in r.findings) == 2


def test_hole_is_outside_and_named_rows_count_by_name(units, catalog):
    fac = fac_rows(
        {"name": "hole", "type_raw": ASHES, "lon": 120.15, "lat": 31.05},
        {"name": "hole-named", "type_raw": ASHES, "lon": 120.15, "lat": 31.05, "unit_name": "乙水"},
        {"name": "island", "type_raw": ASHES, "lon": 120.32, "lat": 31.32},
        {"name": "short", "type_raw": ASHES, "unit_name": "戊港"},
        {"name": "office", "type_raw": ASHES, "unit_name": "乙水街道办事处"},
        {"name": "nowhere", "type_raw": ASHES, "unit_name": "不存在镇"},
    )
    r = audit(units, fac, catalog, "2025-01-01")
    got = codes_of(r)
    assert got["hole"] is None and got["nowhere"] is None
    assert (
        got["hole-named"] == B and got["island"] == C and got["short"] == D and got["office"] == B
    )
    reasons = dict(zip(r.facilities["name"], r.facilities["excluded_reason"], strict=True))
    assert reasons["hole"] == "outside_units" and reasons["nowhere"] == "no_location"
    methods = dict(zip(r.facilities["name"], r.facilities["assign_method"], strict=True))
    assert methods["short"] == "name" and methods["island"] == "point"
    codes = [f.code for f in r.findings]
    assert codes.count("point_outside_units") == 2
    assert "unknown_unit_name" in codes
    assert codes.count("counted_by_name") == 2  # short, office (hole-named is reported as outside)
    assert r.indicator("T2-19").numerator == 3  # B, C, D


def test_conflict_point_wins_and_is_flagged(units, catalog):
    fac = fac_rows(
        {"name": "x", "type_raw": ASHES, "lon": 120.05, "lat": 31.05, "unit_name": "丁桥镇"}
    )
    r = audit(units, fac, catalog, "2025-01-01")
    assert codes_of(r) == {"x": A}
    conflict = [f for f in r.findings if f.code == "unit_name_conflict"]
    assert len(conflict) == 1 and conflict[0].row == 2 and "甲山镇" in conflict[0].message_zh
    assert bool(r.facilities["conflict"].iloc[0])


def test_functional_zone_drawn_not_counted_unless_asked(units, catalog):
    fac = fac_rows({"name": "fz", "type_raw": ASHES, "lon": 120.25, "lat": 31.05})
    r = audit(units, fac, catalog, "2025-01-01")
    ind = r.indicator("T2-19")
    assert (ind.numerator, ind.denominator) == (0, 4)
    assert F not in ind.failing
    assert r.counts_qualifying.loc[F, "ashes_repository"] == 1
    r2 = audit(units, fac, catalog, "2025-01-01", AuditOptions(include_functional_zones=True))
    assert (r2.indicator("T2-19").numerator, r2.indicator("T2-19").denominator) == (1, 5)


def test_as_of_status_and_dates(units, catalog):
    fac = fac_rows(
        {"name": "new", "type_raw": ASHES, "lon": 120.05, "lat": 31.05, "opened": "2022-05-01"},
        {
            "name": "closed",
            "type_raw": ASHES,
            "lon": 120.15,
            "lat": 31.02,
            "opened": "2015-01-01",
            "closed": "2022-06-30",
            "status": "停用",
        },
        {"name": "building", "type_raw": ASHES, "lon": 120.05, "lat": 31.15, "status": "在建"},
        {
            "name": "closed-nodate",
            "type_raw": ASHES,
            "lon": 120.15,
            "lat": 31.15,
            "status": "已停用",
        },
    )
    prepared = prepare(units, fac, catalog)
    r21, r23 = prepared.evaluate("2021-12-31"), prepared.evaluate("2023-12-31")
    assert r21.indicator("T2-19").failing == [A, C, D]  # only B (closed later) counts
    assert r23.indicator("T2-19").failing == [B, C, D]  # only A (new) counts
    assert r23.counts_all.loc[C, "ashes_repository"] == 1  # located, just not in service
    assert r23.counts_qualifying.loc[C, "ashes_repository"] == 0
    assert any(f.code == "closed_without_date" and f.row == 5 for f in r23.findings)


def test_meets_standard_condition(units, catalog):
    fac = fac_rows(
        {"type_raw": "康复驿站", "lon": 120.05, "lat": 31.05, "meets_standard": True},
        {"type_raw": "康复驿站", "lon": 120.15, "lat": 31.02, "meets_standard": False},
        {"type_raw": "康复驿站", "lon": 120.05, "lat": 31.15},  # unknown standard: not counted
    )
    r = audit(units, fac, catalog, "2025-01-01")
    assert r.indicator("T2-9").numerator == 1
    assert r.counts_qualifying["mental_rehab_station"].sum() == 3


def test_county_level_and_county_name_only_rows(units, catalog):
    fac = fac_rows(
        {"type_raw": "社会救助中心", "county_name": "乙市"},  # no coordinates, county only
        {
            "type_raw": "未成年人保护中心",
            "lon": 120.25,
            "lat": 31.05,
            "meets_standard": True,
        },  # in 功能区 F of 甲区
    )
    r = audit(units, fac, catalog, "2025-01-01")
    t1 = r.indicator("T2-1")
    assert (t1.numerator, t1.denominator, t1.failing) == (1, 2, ["320501"])
    t8 = r.indicator("T2-8")
    assert (t8.numerator, t8.failing) == (
        1,
        ["320502"],
    )  # county-level facility in a 功能区 counts for its county
    assert any(f.code == "counted_by_county_name" for f in r.findings)
    assert r.facilities["assign_method"].tolist() == ["county_name", "point"]


def test_ratio_indicators_and_county_rollup(units, catalog):
    fac = fac_rows(
        {"type_raw": "养老院", "lon": 120.05, "lat": 31.05, "beds": 100, "nursing_beds": 80},
        {"type_raw": "敬老院", "lon": 120.15, "lat": 31.15, "beds": 300, "nursing_beds": 150},
        {
            "type_raw": "养老机构",
            "lon": 120.15,
            "lat": 31.15,
            "beds": 500,
            "nursing_beds": 500,
            "status": "在建",
        },
    )
    r = audit(units, fac, catalog, "2025-01-01")
    t6 = r.indicator("T2-6")
    assert t6.value == pytest.approx(100 * 230 / 400)
    assert (t6.numerator, t6.denominator) == (230, 400)
    by = t6.by_county.set_index("county_code")
    assert by.loc["320501", "value"] == pytest.approx(80.0) and bool(by.loc["320501", "met"])
    assert by.loc["320502", "value"] == pytest.approx(50.0) and not bool(by.loc["320502", "met"])
    assert t6.failing == ["320502"]
    beds = r.indicator("T1-beds-per-1000")
    assert beds.value == pytest.approx(1000 * 400 / 45000)  # pop_60plus summed over all units


def test_unknown_types_accounting_and_manual_values(units, catalog):
    fac = fac_rows(
        {"type_raw": "老年食堂", "lon": 120.05, "lat": 31.05},
        {"type_raw": "老年食堂", "lon": 120.05, "lat": 31.05},
        {"type_raw": ASHES, "lon": 120.05, "lat": 31.05},
        {"type_raw": ASHES, "lon": 121.5, "lat": 31.05},
        {"type_raw": ASHES, "row_error": "bad date"},
    )
    r = audit(
        units, fac, catalog, "2025-01-01", AuditOptions(manual_values={"T2-2": 19.0, "T2-3": 51000})
    )
    unk = [f for f in r.findings if f.code == "unknown_facility_type"]
    assert len(unk) == 1 and unk[0].count == 2 and unk[0].value == "老年食堂"
    acc = r.accounting.iloc[0]
    assert (acc.rows_read, acc.rows_used, acc.rows_excluded) == (5, 1, 4)
    assert (acc.unknown_type, acc.outside_units, acc.reader_error) == (2, 1, 1)
    t22, t23, t27 = r.indicator("T2-2"), r.indicator("T2-3"), r.indicator("T2-7")
    assert (t22.met, t22.gap) == (False, pytest.approx(1.0))
    assert (t23.met, t23.gap) == (True, 0.0)
    assert t27.status == "manual_missing" and t27.value is None and t27.met is None


def test_county_rollup_of_township_indicator(units, catalog):
    fac = fac_rows({"type_raw": ASHES, "lon": 120.05, "lat": 31.05})
    by = (
        audit(units, fac, catalog, "2025-01-01")
        .indicator("T2-19")
        .by_county.set_index("county_code")
    )
    assert by.loc["320501", ["numerator", "denominator"]].tolist() == [1, 2]
    assert by.loc["320501", "value"] == pytest.approx(50.0)
    assert by.loc["320502", ["numerator", "denominator"]].tolist() == [0, 2]


def test_units_table_and_reprojected_input(units, catalog):
    fac = fac_rows({"type_raw": ASHES, "lon": 120.05, "lat": 31.05})
    r1 = audit(units, fac, catalog, "2025-01-01")
    r2 = audit(units.to_crs(4549), fac, catalog, "2025-01-01")
    t = r1.units_table()
    assert list(t.columns[:6]) == ["code", "name", "county_code", "county", "kind", "counted"]
    assert t.set_index("code").loc[A, "ashes_repository"] == 1
    assert r2.indicator("T2-19").numerator == 1


def test_bad_units_are_rejected(units, catalog):
    dup = units.copy()
    dup.loc[1, "code"] = A
    with pytest.raises(InputError, match="Duplicate unit codes"):
        audit(dup, fac_rows(), catalog, "2025-01-01")
    with pytest.raises(InputError, match="lacks columns: kind"):
        audit(units.drop(columns=["kind"]), fac_rows(), catalog, "2025-01-01")
    with pytest.raises(InputError, match="Bad evaluation date"):
        audit(units, fac_rows(), catalog, "2025-13-01")


# -- properties ---------------------------------------------------------------------------

_UNITS = make_units()
_TYPES = [ASHES, "康复驿站", "社会救助中心", "区域性养老服务中心", "关爱之家"]
_points = st.tuples(
    st.floats(119.98, 120.36, allow_nan=False),
    st.floats(30.98, 31.36, allow_nan=False),
    st.sampled_from(_TYPES),
    st.booleans(),
    st.sampled_from(["运营", "在建", "停用"]),
)


def _frame(points: list[tuple[float, float, str, bool, str]], files: int = 1) -> pd.DataFrame:
    return fac_rows(
        *[
            {
                "lon": x,
                "lat": y,
                "type_raw": t,
                "meets_standard": m,
                "status": s,
                "closed": "2020-01-01" if s == "停用" else None,
                "source_file": f"f{i % files}.csv",
            }
            for i, (x, y, t, m, s) in enumerate(points)
        ]
    )


def _values(r) -> dict[str, float | None]:
    return {x.indicator.id: x.value for x in r.indicators}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(points=st.lists(_points, max_size=25), extra=_points)
def test_adding_a_qualifying_facility_never_lowers_presence(catalog, points, extra):
    before = audit(_UNITS, _frame(points), catalog, "2025-01-01")
    x, y, t, _m, _s = extra
    after = audit(_UNITS, _frame([*points, (x, y, t, True, "运营")]), catalog, "2025-01-01")
    for b, a in zip(before.indicators, after.indicators, strict=True):
        if b.indicator.kind == "presence" and b.value is not None:
            assert a.value >= b.value - 1e-9, b.indicator.id


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    points=st.lists(_points, min_size=1, max_size=25),
    seed=st.integers(0, 2**32 - 1),
    files=st.integers(1, 4),
)
def test_row_order_and_file_split_do_not_change_results(catalog, points, seed, files):
    base = audit(_UNITS, _frame(points), catalog, "2025-01-01")
    perm = np.random.default_rng(seed).permutation(len(points))
    shuffled = audit(_UNITS, _frame([points[i] for i in perm], files=files), catalog, "2025-01-01")
    assert _values(base) == _values(shuffled)
    pd.testing.assert_frame_equal(base.units_table(), shuffled.units_table())
    assert int(shuffled.accounting["rows_read"].sum()) == len(points)
    assert (
        shuffled.accounting["rows_read"]
        == shuffled.accounting["rows_used"] + shuffled.accounting["rows_excluded"]
    ).all()


def test_county_rollup_count_leaves_out_functional_zones(units, catalog):
    fac = fac_rows(
        {"type_raw": ASHES, "lon": 120.05, "lat": 31.05},  # A (counted)
        {"type_raw": ASHES, "lon": 120.25, "lat": 31.05},  # F (功能区, not counted)
    )
    by = (
        audit(units, fac, catalog, "2025-01-01")
        .indicator("T2-19")
        .by_county.set_index("county_code")
    )
    assert by.loc["320501", ["count", "numerator", "denominator"]].tolist() == [1, 1, 2]
    with_fz = audit(units, fac, catalog, "2025-01-01", AuditOptions(include_functional_zones=True))
    by2 = with_fz.indicator("T2-19").by_county.set_index("county_code")
    assert by2.loc["320501", ["count", "numerator", "denominator"]].tolist() == [2, 2, 3]


def test_unresolved_unit_names_one_finding_per_file_and_name(catalog):
    units = make_units()
    units.loc[0, "name"] = "新桥镇"  # A, county 甲区
    units.loc[4, "name"] = "新桥街道"  # D, county 乙市: "新桥" alone fits both
    units.loc[1, "name"], units.loc[3, "name"] = "东湖街道", "东湖镇"  # B 甲区, C 乙市
    row = {"type_raw": ASHES}
    fac = fac_rows(
        {**row, "source_file": "a.csv", "unit_name": "新桥"},
        {**row, "source_file": "a.csv", "unit_name": "不存在镇"},
        {**row, "source_file": "b.csv", "unit_name": "新桥"},
        {**row, "source_file": "a.csv", "unit_name": "新桥", "county_name": "乙市"},  # resolves
        {**row, "source_file": "a.csv", "unit_name": "新桥"},
        {**row, "source_file": "b.csv", "unit_name": "无名乡"},
        {**row, "source_file": "a.csv", "unit_name": "不存在镇"},
        {**row, "source_file": "b.csv", "unit_name": "东湖"},  # one row, ambiguous
        # unknown county: not ambiguous on its own, but the name is (in any file)
        {**row, "source_file": "c.csv", "unit_name": "新桥", "county_name": "丙县"},
        {**row, "source_file": "a.csv", "unit_name": "不存在镇"},
        {**row, "source_file": "a.csv", "unit_name": "  "},  # blank: not a name
    )
    got = [
        (f.code, f.file, f.value, f.count)
        for f in prepare(units, fac, catalog).findings.items
        if f.code in ("ambiguous_unit_name", "unknown_unit_name")
    ]
    assert got == [
        ("ambiguous_unit_name", "a.csv", "新桥", 2),
        ("unknown_unit_name", "a.csv", "不存在镇", 3),
        ("ambiguous_unit_name", "b.csv", "新桥", 1),
        ("unknown_unit_name", "b.csv", "无名乡", 1),
        ("ambiguous_unit_name", "b.csv", "东湖", 1),
        ("ambiguous_unit_name", "c.csv", "新桥", 1),
    ]
