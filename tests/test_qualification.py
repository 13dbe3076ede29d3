"""The engine says why: per indicator, which facility rows count and why the others do not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage_gis.core.engine import audit
from coverage_gis.core.rules import QUALIFICATION_REASONS, qualification, service_reasons
from coverage_gis.export.report_tables import facility_detail, unit_presence
from tests.conftest import fac_rows


def test_each_rule_gives_its_reason(units, catalog):
    fac = fac_rows(
        {"type_raw": "康复驿站", "lon": 120.05, "lat": 31.05, "meets_standard": True},  # counts
        {"type_raw": "康复驿站", "lon": 120.15, "lat": 31.02, "meets_standard": False},
        {
            "type_raw": "康复驿站",
            "lon": 120.05,
            "lat": 31.15,
            "meets_standard": True,
            "status": "在建",
        },
        {
            "type_raw": "康复驿站",
            "lon": 120.05,
            "lat": 31.15,
            "meets_standard": True,
            "opened": "2026-03-01",
        },
        {
            "type_raw": "康复驿站",
            "lon": 120.05,
            "lat": 31.15,
            "meets_standard": True,
            "closed": "2024-06-30",
        },
        {
            "type_raw": "康复驿站",
            "lon": 120.05,
            "lat": 31.15,
            "meets_standard": True,
            "status": "停用",
        },
        {"type_raw": "社会救助中心", "lon": 120.05, "lat": 31.05},  # another type
        {"type_raw": "不存在的类型", "lon": 120.05, "lat": 31.05},  # excluded: unknown type
        {"type_raw": "康复驿站", "county_name": "乙市", "meets_standard": True},  # county only
    )
    r = audit(units, fac, catalog, "2025-01-01")
    q = qualification(r, "T2-9")
    assert list(q["reason"]) == [
        "qualifies", "condition", "not_open", "opens_later", "closed", "closed_no_date",
        "other_type", "excluded", "not_located",
    ]  # fmt: skip
    assert list(q["qualifies"]) == [True] + [False] * 8
    assert set(q["reason"]) <= set(QUALIFICATION_REASONS)
    # the engine's own count is the qualifying rows'
    assert q["qualifies"].sum() == r.indicator("T2-9").numerator
    # not-in-service reasons do not depend on the indicator
    why = service_reasons(r)
    assert list(why[2:6]) == ["not_open", "opens_later", "closed", "closed_no_date"]
    assert why[0] is None and why[7] is None  # in service; excluded


def test_workbook_tables_read_the_engine(units, catalog):
    fac = fac_rows(
        {"type_raw": "康复驿站", "lon": 120.05, "lat": 31.05, "meets_standard": True},
        {"type_raw": "康复驿站", "lon": 120.15, "lat": 31.02, "status": "拟建"},
        {"type_raw": "康复驿站", "lon": 120.15, "lat": 31.02, "opened": "2030-01-01"},
    )
    r = audit(units, fac, catalog, "2025-01-01")
    detail = facility_detail(r)
    assert [None if pd.isna(v) else v for v in detail["not_in_service_reason"]] == [
        None, "尚未建成（状态：拟建）", "建成时间晚于评估日期",
    ]  # fmt: skip
    has = unit_presence(r)["T2-9"]
    counted = r.units.set_index("code")["counted"]
    failing = set(map(str, r.indicator("T2-9").failing))
    assert {c for c in has.index if counted[c] and not has.at[c, "has"]} == failing


def test_demo_qualification_matches_the_engine_counts():
    from coverage_gis.core.catalog import load_catalog
    from coverage_gis.workflow import (
        demo_boundaries_path,
        demo_facilities_paths,
        load_inputs,
        run_audit,
    )

    r = run_audit(
        load_inputs(demo_boundaries_path(), demo_facilities_paths()), load_catalog(), "2025-12-31"
    )
    for ir in r.indicators:
        ind = ir.indicator
        if ind.kind != "presence" or ind.level != "township":
            continue
        q = qualification(r, ind.id)
        per_unit = (
            r.facilities.loc[q["qualifies"].to_numpy(), "unit_code"]
            .value_counts()
            .reindex(r.units["code"], fill_value=0)
        )
        has = per_unit.to_numpy() >= ind.min_count
        counted = r.units["counted"].to_numpy(dtype=bool)
        assert int((has & counted).sum()) == ir.numerator, ind.id
        assert set(r.units["code"].to_numpy()[counted & ~has]) == set(ir.failing), ind.id
    # every row has one reason, and rows the engine excluded say so
    q = qualification(r, "T2-5")
    assert q["reason"].notna().all()
    excluded = ~r.facilities["used"].to_numpy(dtype=bool)
    assert (q["reason"].to_numpy()[excluded] == "excluded").all()
    assert isinstance(q, pd.DataFrame) and np.array_equal(q.index, r.facilities.index)
