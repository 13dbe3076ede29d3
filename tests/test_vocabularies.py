"""The status and flag words live in resources/vocabularies.toml and drive the engine."""

from __future__ import annotations

import pandas as pd

from coverage_gis.core.rules import classify_status, norm_status
from coverage_gis.core.vocabularies import vocabulary


def test_every_status_word_is_classified_as_its_list_says():
    for key, code in (("open", 0), ("not_open", 1), ("closed", 2)):
        words = sorted(vocabulary("status", key))
        assert words and all(norm_status(w) == w for w in words)  # stored normalised
        assert set(classify_status(pd.Series(words, dtype=object))) == {code}, key
    lists = [vocabulary("status", k) for k in ("open", "not_open", "closed")]
    assert not (lists[0] & lists[1] or lists[0] & lists[2] or lists[1] & lists[2])


def test_flag_words_read_as_yes_and_no(tmp_path):
    from coverage_gis.io.facilities import read_facility_file

    yes, no = sorted(vocabulary("flag", "true")), sorted(vocabulary("flag", "false"))
    assert not set(yes) & set(no)
    lines = ["名称,类型,经度,纬度,是否达标"]
    lines += [f"n{i},康复驿站,120.6,31.3,{w}" for i, w in enumerate(yes + no)]
    path = tmp_path / "flags.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame, findings = read_facility_file(path)
    assert list(frame["meets_standard"]) == [True] * len(yes) + [False] * len(no)
    assert not [f for f in findings if f.code == "bad_flag"]
