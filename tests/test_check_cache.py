"""The boundary checks' cache: keyed by content and options, never wrong, never required."""

from __future__ import annotations

import json

import pytest

from coverage_gis.io import check_cache
from coverage_gis.io.boundaries import check_coverage, read_boundaries
from tests.conftest import make_units


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COVERAGE_GIS_CACHE", "1")
    monkeypatch.setenv("COVERAGE_GIS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def overlapping(tmp_path):
    u = make_units()
    geoms = u.geometry.to_numpy().copy()
    geoms[1] = geoms[1].buffer(0.005)  # 乙水街道 now overlaps its neighbours
    p = tmp_path / "units.geojson"
    u.set_geometry(geoms).to_file(p, driver="GeoJSON")
    return p


def _keys(findings):
    return [(f.code, f.value, f.message_en) for f in findings]


def test_a_second_check_of_the_same_file_comes_from_the_cache(cache, overlapping):
    units, _ = read_boundaries(overlapping, check=False)
    first = check_cache.cached_coverage_check(units, file=str(overlapping))
    assert any(f.code == "units_overlap" for f in first)

    def fail(*a, **k):
        raise AssertionError("computed again")

    again = check_cache.cached_coverage_check(units, file=str(overlapping), compute=fail)
    assert _keys(again) == _keys(first) == _keys(check_coverage(units, file=str(overlapping)))


def test_other_content_or_options_miss_and_corrupt_entries_are_ignored(cache, overlapping):
    units, _ = read_boundaries(overlapping, check=False)
    check_cache.cached_coverage_check(units, file=str(overlapping))
    calls = []

    def count(*a, **k):
        calls.append(1)
        return check_coverage(*a, **k)

    check_cache.cached_coverage_check(
        units, file=str(overlapping), options={"layer": "x"}, compute=count
    )
    assert calls == [1]  # other reading options: computed
    make_units().to_file(overlapping, driver="GeoJSON")  # other content, same name
    units2, _ = read_boundaries(overlapping, check=False)
    got = check_cache.cached_coverage_check(units2, file=str(overlapping), compute=count)
    assert calls == [1, 1] and not any(f.code == "units_overlap" for f in got)
    for entry in cache.glob("*.json"):
        entry.write_text("{not json", encoding="utf-8")
    again = check_cache.cached_coverage_check(units2, file=str(overlapping), compute=count)
    assert calls == [1, 1, 1] and _keys(again) == _keys(got)

    def valid(entry):
        try:
            return bool(json.loads(entry.read_text(encoding="utf-8")))
        except ValueError:
            return False

    assert sum(map(valid, cache.glob("*.json"))) == 1  # the entry used was rewritten


def test_the_cache_can_be_turned_off(cache, overlapping, monkeypatch):
    monkeypatch.setenv("COVERAGE_GIS_CACHE", "0")
    assert check_cache.cache_dir() is None
    units, _ = read_boundaries(overlapping, check=False)
    check_cache.cached_coverage_check(units, file=str(overlapping))
    assert not cache.exists()


def test_the_same_content_under_another_path_comes_from_the_cache(cache, overlapping, tmp_path):
    """A copy (or another spelling of the path) hits the entry; its findings name the path
    asked for, exactly as a fresh check would."""
    import shutil

    units, _ = read_boundaries(overlapping, check=False)
    check_cache.cached_coverage_check(units, file=str(overlapping))
    copy = tmp_path / "copy" / "same.geojson"
    copy.parent.mkdir()
    shutil.copy(overlapping, copy)

    def fail(*a, **k):
        raise AssertionError("computed again")

    got = check_cache.cached_coverage_check(units, file=str(copy), compute=fail)
    want = check_coverage(units, file=str(copy))
    assert got and [f.to_dict() for f in got] == [f.to_dict() for f in want]
    assert {f.file for f in got} == {str(copy)}
    # and the original path still hits, naming itself
    back = check_cache.cached_coverage_check(units, file=str(overlapping), compute=fail)
    assert {f.file for f in back} == {str(overlapping)}
