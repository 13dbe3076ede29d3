"""Matching the unit names written in facility lists to the boundary units."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gis.core.names import match_unit_names, name_key, name_stem

UNITS = ["浒墅关镇", "狮山街道", "东山镇", "东山街道", "枫桥街道", "新区东山镇"]
COUNTIES = ["高新区", "高新区", "吴中区", "姑苏区", "高新区", "高新区"]


def test_keys_and_stems():
    assert name_key(" 浒墅关　镇 ") == "浒墅关镇"
    assert name_key("＂狮山＂") == "狮山"  # NFKC turns the full-width quote into '"'
    assert name_key(None) == "" and name_key(float("nan")) == ""
    assert name_stem("狮山街道办事处") == "狮山" and name_stem("浒墅关") == "浒墅关"
    assert name_stem("镇") == "镇"  # a suffix alone is not stripped to nothing


def test_exact_stem_county_and_ambiguous_names():
    names = [
        "浒墅关镇",  # exact
        "浒墅关",  # stem, unique
        "狮山街道办事处",  # stem of a longer suffix
        "东山",  # two units share the stem, no county: ambiguous
        "东山",  # ... the county picks one
        "东山",  # ... a county that has neither: not found there
        None,  # missing
        "  ",  # blank
        "不存在镇",  # unknown
        12,  # not text
    ]
    counties = [None, None, None, None, "吴中区", "相城区", None, None, None, None]
    index, ambiguous = match_unit_names(names, UNITS, counties=counties, unit_counties=COUNTIES)
    assert index.tolist() == [0, 0, 1, -1, 2, -1, -1, -1, -1, -1]
    assert ambiguous.tolist() == [False, False, False, True] + [False] * 6


def test_rows_repeat_the_answer_of_their_distinct_pair():
    rng = np.random.default_rng(3)
    base = np.array(["浒墅关", "东山", "枫桥街道", None, "狮山"], dtype=object)
    county = np.array(["高新区", "姑苏区", None, None, "高新区"], dtype=object)
    pick = rng.integers(0, len(base), 500)
    index, ambiguous = match_unit_names(
        base[pick], UNITS, counties=county[pick], unit_counties=COUNTIES
    )
    one_i, one_a = match_unit_names(base, UNITS, counties=county, unit_counties=COUNTIES)
    assert (index == one_i[pick]).all() and (ambiguous == one_a[pick]).all()
    assert one_i.tolist() == [0, 3, 4, -1, 1]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from(
                list('甲山街道办事处人民政府镇乡 　"“”ＡB1\t\v\x1c\x85\u2028\u2029\xa0\u2003\u200b')
            ),
            max_size=12,
        ),
        max_size=20,
    )
)
def test_vectorised_keys_and_stems_equal_the_one_by_one_rule(values):
    from coverage_gis.core.names import name_key, name_keys, name_stem, name_stems

    keys = name_keys(values)
    assert keys == [name_key(v) for v in values]
    assert name_stems(keys) == [name_stem(v) for v in values]
