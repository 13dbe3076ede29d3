"""The facility table contract: dtypes per column kind, whatever the reader produced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from coverage_gis.core.schema import (
    FACILITY_COLUMNS,
    TEXT_COLUMNS,
    TEXT_DTYPE,
    coerce_facilities,
    empty_facilities,
)


def _frame(name_values: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": name_values,
            "type_raw": pd.Series(["养老机构", None, 3], dtype=object),
            "address": pd.Series([None, None, None], dtype=object),
        }
    )


@pytest.mark.parametrize(
    "names",
    [
        pd.Series(["甲敬老院", None, 17], dtype=object),  # mixed objects from Excel
        pd.Series(["甲敬老院", None, "17"], dtype=pd.ArrowDtype(pa.string())),
        pd.Series(["甲敬老院", None, "17"], dtype=pd.StringDtype("pyarrow")),  # pd.NA
        pd.Series(["甲敬老院", np.nan, "17"], dtype=TEXT_DTYPE),
    ],
    ids=["object", "arrow", "string-na", "str"],
)
def test_text_columns_are_arrow_strings_with_nan(names):
    out = coerce_facilities(_frame(names))
    assert tuple(out.columns) == FACILITY_COLUMNS
    for col in TEXT_COLUMNS:
        assert out[col].dtype == TEXT_DTYPE
    assert out["name"].iloc[0] == "甲敬老院" and out["name"].iloc[2] == "17"
    assert out["name"].isna().tolist() == [False, True, False]
    assert out["address"].isna().all()
    # matched columns keep the object contract: str or None
    assert out["type_raw"].dtype == object
    assert out["type_raw"].tolist() == ["养老机构", None, "3"]


def test_coerced_frame_round_trips_and_concatenates():
    out = coerce_facilities(_frame(pd.Series(["a", None, "b"], dtype=object)))
    again = coerce_facilities(out)
    pd.testing.assert_frame_equal(out, again)
    both = coerce_facilities(pd.concat([empty_facilities(), out, out], ignore_index=True))
    assert both["name"].dtype == TEXT_DTYPE and len(both) == 6
    assert both["name"].isna().sum() == 2


def test_facility_frame_checks_dtypes_and_uses_positions():
    from coverage_gis.core.schema import coerce_column, facility_frame

    names = pd.Series(["b", "a"], index=[7, 3], dtype=TEXT_DTYPE)  # a stray index
    frame = facility_frame({"name": names, "lon": coerce_column("lon", None, 2)}, 2)
    assert frame["name"].tolist() == ["b", "a"]  # by position, not aligned to 0..1
    assert frame["lat"].isna().all() and frame["type_raw"].tolist() == [None, None]
    with pytest.raises(TypeError, match="name"):
        facility_frame({"name": pd.Series(["x", "y"], dtype=object)}, 2)
