"""The indicator catalogue: the embedded Suzhou plan and the validation of other cities'."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage_gis.core.catalog import load_catalog, normalize_type_value
from coverage_gis.core.errors import CatalogError


def test_suzhou_catalogue_has_all_table2_rows_and_box_targets(catalog):
    ids = [i.id for i in catalog.indicators]
    assert [f"T2-{n}" for n in range(1, 21)] == [i for i in ids if i.startswith("T2-")]
    assert {"B2-rehab-aid", "B2-dementia-care", "B2-aging-showroom", "B3-child-care-home"} <= set(
        ids
    )
    t = {i.id: i for i in catalog.indicators}
    assert (t["T2-1"].baseline, t["T2-1"].target, t["T2-1"].operator, t["T2-1"].attribute) == (
        50,
        90,
        ">=",
        "expected",
    )
    assert (t["T2-5"].baseline, t["T2-5"].binding, t["T2-5"].level) == (35, True, "township")
    assert t["T2-19"].facility_types == ("ashes_repository",) and t["T2-19"].baseline is None
    assert t["T2-9"].conditions[0].field == "meets_standard"
    assert t["T2-6"].kind == "ratio" and t["T2-6"].numerator.field == "nursing_beds"
    assert t["T2-16"].unit == "万人" and t["T2-16"].kind == "manual"
    kinds = {i.kind for i in catalog.indicators}
    assert kinds == {"presence", "ratio", "manual", "access"}
    # the access indicators are marked as additions to the plan, not its rows
    access = [i for i in catalog.indicators if i.kind == "access"]
    assert [i.id for i in access] == ["A-1", "A-2", "A-3", "A-4"]
    assert all(i.source_ref.startswith("补充指标") for i in access)
    assert t["A-1"].access.mode == "network" and t["A-1"].access.threshold_m == 1000.0
    assert t["A-4"].access.measure == "fca" and t["A-4"].access.capacity_field == "beds"


def test_aliases_match_through_normalisation(catalog):
    assert catalog.match_type("骨灰堂") == "ashes_repository"
    assert catalog.match_type(" 公益性骨灰堂 ") == "ashes_repository"
    assert catalog.match_type("镇（街道）综合养老服务中心") == "elderly_care_center"
    assert catalog.match_type("精神障碍社区康复驿站") == "mental_rehab_station"
    assert catalog.match_type("ashes_repository") == "ashes_repository"
    assert catalog.match_type("老年食堂") is None
    assert normalize_type_value("儿童“关爱之家”") == "儿童关爱之家"


def _write(tmp_path: Path, body: str, types: str | None = None) -> Path:
    ft = tmp_path / "types.toml"
    ft.write_text(
        types
        or '[[facility_type]]\ncode = "hall"\nname_zh = "骨灰堂"\nname_en = "Hall"\nlevel = "township"\ncolor = "#123456"\n',
        encoding="utf-8",
    )
    cat = tmp_path / "city.toml"
    cat.write_text('[catalog]\nid = "x"\nfacility_types = "types.toml"\n' + body, encoding="utf-8")
    return cat


_OK = """
[[indicator]]
id = "A-1"
name_zh = "覆盖率"
name_en = "coverage"
unit = "%"
target = 100
operator = "{op}"
attribute = "binding"
kind = "presence"
level = "township"
facility_types = ["{ft}"]
"""


def test_another_city_catalogue_loads(tmp_path):
    cat = load_catalog(_write(tmp_path, _OK.format(op="≥", ft="hall")))
    assert cat.indicators[0].operator == ">=" and cat.type_codes == ("hall",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_OK.format(op=">=", ft="nope"), r"#1 \(A-1\).*unknown facility type 'nope'"),
        (_OK.format(op=">>", ft="hall"), r"#1 \(A-1\).*bad target operator '>>'"),
        (_OK.format(op=">=", ft="hall") * 2, r"#2 \(A-1\).*duplicate indicator id 'A-1'"),
        (
            _OK.format(op=">=", ft="hall").replace('kind = "presence"', 'kind = "magic"'),
            "unknown kind 'magic'",
        ),
        (
            _OK.format(op=">=", ft="hall")
            + 'conditions = [{ field = "meets_standard", op = "eval", value = "x" }]\n',
            "unknown condition operator 'eval'",
        ),
        (_OK.format(op=">=", ft="hall").replace("target = 100\n", ""), "missing field 'target'"),
        ("[[indicator]\n", "not valid TOML"),
    ],
)
def test_invalid_catalogues_name_file_entry_and_problem(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(CatalogError, match=message) as info:
        load_catalog(path)
    assert info.value.file == str(path)
    assert "city.toml" in str(info.value)


def test_alias_claimed_twice_is_an_error(tmp_path):
    types = (
        '[[facility_type]]\ncode = "a"\nname_zh = "甲"\nname_en = "A"\nlevel = "township"\ncolor = "#000000"\naliases = ["骨灰堂"]\n'
        '[[facility_type]]\ncode = "b"\nname_zh = "乙"\nname_en = "B"\nlevel = "township"\ncolor = "#000000"\naliases = ["骨灰堂"]\n'
    )
    with pytest.raises(CatalogError, match="claimed by both 'a' and 'b'"):
        load_catalog(_write(tmp_path, _OK.format(op=">=", ft="a"), types))


def test_missing_catalogue_file(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "none.toml")


_ACCESS = _OK.replace('kind = "presence"', 'kind = "access"') + 'population_field = "pop_60plus"\n'


def test_access_indicator_minutes_become_metres_at_the_walking_speed(tmp_path):
    body = _ACCESS.format(op=">=", ft="hall") + 'mode = "network"\nthreshold_min = 15\n'
    rule = load_catalog(_write(tmp_path, body)).indicators[0].access
    assert rule is not None
    assert (rule.mode, rule.population_field, rule.measure) == ("network", "pop_60plus", "share")
    assert rule.threshold_m == pytest.approx(1000.0)  # 15 min at 4 km/h, GB 50180's 15-min circle
    assert rule.reach_label[0].startswith("15 分钟")
    faster = body.replace("threshold_min = 15\n", "threshold_min = 15\nspeed_kmh = 5\n")
    assert load_catalog(_write(tmp_path, faster)).indicators[0].access.threshold_m == 1250.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('mode = "teleport"\nthreshold_m = 500\n', "unknown distance mode 'teleport'"),
        ("threshold_m = 500\nthreshold_min = 10\n", "exactly one of threshold_m and threshold_min"),
        ("", "exactly one of threshold_m and threshold_min"),
        ("threshold_m = -5\n", "threshold_m must be a positive number"),
        ('threshold_m = 500\nmeasure = "fca"\n', "the fca measure needs capacity_field"),
        ('threshold_m = 500\nmeasure = "gravity"\n', "unknown access measure 'gravity'"),
    ],
)
def test_invalid_access_rules_are_named(tmp_path, extra, message):
    with pytest.raises(CatalogError, match=message):
        load_catalog(_write(tmp_path, _ACCESS.format(op=">=", ft="hall") + extra))
