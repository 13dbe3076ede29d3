"""The 规划方案 panel on the demo: suggestions, placing on the map, accepting, importing,
project files (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from coverage_gis.gui.project import Project, load_project
from coverage_gis.gui.tables import RAW_ROLE
from coverage_gis.siting.scenario import PlannedSite, Scenario
from tests.gui.conftest import idle, js

LILI, TANGQIAO = "320509107", "320582100"
REGIONAL = "regional_elderly_care_center"
CHECK = Qt.ItemDataRole.CheckStateRole


def _inside(window: Any, code: str) -> tuple[float, float]:
    units = window.session.result.units
    p = units.loc[units["code"] == code, "geometry"].iloc[0].representative_point()
    return float(p.x), float(p.y)


def _shown(window: Any, indicator: str, key: str) -> Any:
    """The raw value of the indicator table's column ``key`` for ``indicator``."""
    m = window.indicator_model
    col = m.column_of(key)
    assert col >= 0, f"no column {key}"
    return m.data(m.index(m.row_of(indicator), col), RAW_ROLE)


def _cell(window: Any, row: int, key: str, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    m = window.scenario_panel.model
    return m.data(m.index(row, m.COLUMNS.index(key)), role)


def _accept(window: Any, row: int, on: bool = True) -> bool:
    m = window.scenario_panel.model
    state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
    return m.setData(m.index(row, 0), state, CHECK)


def _failing(result: Any, indicator: str) -> set[str]:
    return set(map(str, result.indicator(indicator).failing))


def test_suggestions_start_rejected_and_one_accepted_adds_one_township(make_window, qtbot):
    w = make_window()
    w.session.select_indicator("T2-5")
    real = w.session.result
    t25 = real.indicator("T2-5")
    n_rows = len(real.facilities)
    w.scenario_panel.suggest_button.click()
    qtbot.waitUntil(lambda: w.scenario_panel.model.rowCount() > 0, timeout=60_000)
    m = w.scenario_panel.model
    n = m.rowCount()
    assert n == len(t25.failing)  # the demo has a candidate in every gap township
    assert all(_cell(w, r, "accepted", CHECK) == Qt.CheckState.Unchecked for r in range(n))
    assert {_cell(w, r, "origin") for r in range(n)} == {"选址建议"}
    assert all(s.origin == "suggested" and not s.accepted for s in w.session.scenario.sites)
    assert int(_cell(w, 0, "gain").replace(",", "")) == round(w.session.scenario.sites[0].gain)
    # the solver's status and time are shown under the table
    status = w.scenario_panel.status.text()
    assert "T2-5" in status and "状态 optimal" in status and "秒" in status
    # nothing accepted: the indicators are unchanged and there is no with-plan column
    assert w.session.scenario_result is None
    assert w.indicator_model.column_of("plan") == -1
    assert _shown(w, "T2-5", "value") == pytest.approx(t25.value)

    # accepting one site updates the with-plan column in the same turn
    assert _accept(w, 0)
    plan_value = _shown(w, "T2-5", "plan")
    assert plan_value == pytest.approx(t25.value + 100.0 / t25.denominator)
    assert _shown(w, "T2-5", "value") == pytest.approx(t25.value)
    header = w.indicator_model.headerData(w.indicator_model.column_of("plan"), Qt.Horizontal)
    assert header == "方案"
    text = w.indicator_model.data(
        w.indicator_model.index(
            w.indicator_model.row_of("T2-5"), w.indicator_model.column_of("plan")
        )
    )
    assert text.endswith(f"（+{100.0 / t25.denominator:.1f}%）")
    # the township the site closes is the one it lies in, shown in the panel
    site = w.session.scenario.sites[0]
    closed = _failing(real, "T2-5") - _failing(w.session.scenario_result, "T2-5")
    assert len(closed) == 1
    (code,) = closed
    assert _cell(w, 0, "unit") == str(real.units.set_index("code").loc[code, "name"])
    assert site.accepted and w.session.scenario.sites[1].accepted is False
    # the real result is untouched
    assert w.session.result is real
    assert real.indicator("T2-5").value == pytest.approx(t25.value)
    assert len(real.facilities) == n_rows == len(w.session.prepared.facilities)
    # rejecting it again removes the plan's effect
    assert _accept(w, 0, False)
    assert w.session.scenario_result is None and w.indicator_model.column_of("plan") == -1


def test_placing_a_site_on_the_map_closes_its_township(make_window, qtbot, dialogs):
    w = make_window()
    w.session.select_indicator("T2-5")
    t25 = w.session.result.indicator("T2-5")
    assert LILI in _failing(w.session.result, "T2-5")
    lon, lat = _inside(w, LILI)
    # a click while placing mode is off adds nothing
    w.map.bridge.mapClicked(lon, lat)
    assert w.session.scenario.sites == ()
    w.scenario_panel.place_button.click()
    assert w.scenario_panel.placing and w.map.placing
    with qtbot.waitSignal(w.map.pointClicked, timeout=5_000) as sig:
        w.map.bridge.mapClicked(lon, lat)  # what the page calls in placing mode
    assert sig.args == [pytest.approx(lon), pytest.approx(lat)]
    (site,) = w.session.scenario.sites
    assert (site.name, site.type_code, site.origin, site.accepted, site.planned) == (
        "规划点位 1",
        REGIONAL,
        "manual",
        True,
        None,
    )
    # one click, one site: placing mode ends
    assert not w.scenario_panel.place_button.isChecked() and not w.map.placing
    plan = w.session.scenario_result
    assert plan is not None and plan.as_of == w.session.result.as_of
    assert _failing(w.session.result, "T2-5") - _failing(plan, "T2-5") == {LILI}
    assert _shown(w, "T2-5", "plan") == pytest.approx(t25.value + 100.0 / t25.denominator)
    assert _cell(w, 0, "unit") == "黎里镇"
    assert _cell(w, 0, "planned") == "不限"
    # the re-evaluation was timed (no threshold asserted: shared machines are noisy)
    assert w.session.scenario_ms > 0
    # the map shows the plan's result (drawn again with the planned site)
    idle(qtbot, w)
    qtbot.waitUntil(lambda: not w.runner.busy and w.map.ready, timeout=60_000)
    assert w.session.shown_result is plan

    # placing for an indicator that counts no facilities is refused with a dialog
    w.session.select_indicator("T2-6")
    w.scenario_panel.place_button.click()
    assert not w.scenario_panel.place_button.isChecked() and not w.map.placing
    assert len(dialogs) == 1 and "T2-6" in dialogs[0]["text"]
    assert "counts no facilities" in dialogs[0]["text"]
    assert len(w.session.scenario.sites) == 1 and w.isVisible()


def test_placing_through_the_page(make_window, qtbot):
    """The page's placing mode reports a real Leaflet click through the web channel."""
    w = make_window()
    has = js(qtbot, w, "typeof window.coverageGis.setPlacing === 'function'")
    if not has:
        pytest.skip("the map page has no placing mode yet")
    w.session.select_indicator("T2-5")
    lon, lat = _inside(w, LILI)
    w.scenario_panel.place_button.click()
    qtbot.waitUntil(lambda: js(qtbot, w, "window.coverageGis.placing()") is True, timeout=10_000)
    with qtbot.waitSignal(w.map.pointClicked, timeout=10_000):
        w.map.run_js(f"window.coverageGis.map.fire('click', {{latlng: L.latLng({lat}, {lon})}});")
    assert len(w.session.scenario.sites) == 1
    assert not w.scenario_panel.placing
    idle(qtbot, w)
    # the page drawn again shows the planned site and is no longer in placing mode
    qtbot.waitUntil(lambda: js(qtbot, w, "window.coverageGis.counts().planned") == 1)
    assert js(qtbot, w, "window.coverageGis.placing()") is False


def _demo_scenario(w: Any) -> Scenario:
    lon, lat = _inside(w, LILI)
    t_lon, t_lat = _inside(w, TANGQIAO)
    return Scenario(
        "方案一",
        (
            PlannedSite("黎里规划中心", REGIONAL, lon, lat, origin="manual"),
            PlannedSite(
                "塘桥建议", REGIONAL, t_lon, t_lat, origin="suggested", gain=1234.5, accepted=False
            ),
            PlannedSite("远期", REGIONAL, t_lon, t_lat, planned=dt.date(2027, 3, 1), beds=30.0),
        ),
    )


def test_scenario_is_saved_with_the_project_and_reopened(
    make_window, qtbot, tmp_path, monkeypatch, gui_home
):
    w = make_window()
    sc = _demo_scenario(w)
    w.session.set_scenario(sc)
    target = tmp_path / "projects" / "方案.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    w.act_save.trigger()
    raw = json.loads(target.read_text(encoding="utf-8"))
    assert raw["scenario"] == sc.to_dict()
    # the autosave carries it too
    w.projects.write_autosave()
    assert load_project(gui_home / "autosave.json").scenario == sc
    # reopen in a fresh window
    w2 = make_window()
    with qtbot.waitSignal(w2.sessionLoaded, timeout=60_000):
        w2.open_project_file(target)
    assert w2.session.scenario == sc
    assert [s.accepted for s in w2.session.scenario.sites] == [True, False, True]
    assert w2.scenario_panel.model.rowCount() == 3
    assert _cell(w2, 1, "accepted", CHECK) == Qt.CheckState.Unchecked
    assert _cell(w2, 2, "planned") == "2027-03-01"
    # evaluated on load, for the project's date, with the same answer as before
    assert w2.session.scenario_result is not None
    assert _shown(w2, "T2-5", "plan") == pytest.approx(_shown(w, "T2-5", "plan"))


def test_older_project_without_scenario_loads(make_window, tmp_path):
    old = tmp_path / "old.json"
    old.write_text(
        json.dumps({"format": "coverage-gis-project", "version": 1, "demo": True}),
        encoding="utf-8",
    )
    assert load_project(old).scenario is None
    w = make_window(load_project(old), path=old)
    assert w.session.scenario == Scenario() and w.session.scenario_result is None
    assert w.indicator_model.column_of("plan") == -1
    assert Project.from_dict(Project(demo=True).to_dict()).scenario is None


def test_bad_scenario_in_a_project_file_shows_the_input_error(
    make_window, qtbot, tmp_path, dialogs
):
    w = make_window()
    bad = tmp_path / "坏方案.json"
    bad.write_text(
        json.dumps(
            {
                "format": "coverage-gis-project",
                "version": 1,
                "demo": True,
                "scenario": {
                    "name": "x",
                    "sites": [
                        {"name": "ok", "type_code": REGIONAL, "lon": 120.6, "lat": 31.2},
                        {"name": "北极", "type_code": REGIONAL, "lon": 120.6, "lat": 95},
                    ],
                },
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    w.open_project_file(bad)
    assert len(dialogs) == 1
    text = dialogs[0]["text"]
    assert str(bad) in text and "坏方案.json" in text
    assert "规划方案第 2 个点位" in text and "Scenario site 2" in text
    assert "lat" in text and "95" in text
    assert w.isVisible() and w.session.result is not None
    assert w.session.scenario == Scenario()
    # the app still works
    w.session.select_indicator("T2-5")
    w.scenario_panel.place_button.click()
    w.map.bridge.mapClicked(*_inside(w, LILI))
    assert w.session.scenario_result is not None


def test_import_a_gbk_plan_file(make_window, qtbot, tmp_path, monkeypatch):
    w = make_window()
    w.session.select_indicator("T2-5")
    lon, lat = _inside(w, LILI)
    t_lon, t_lat = _inside(w, TANGQIAO)
    plan = tmp_path / "规划点位.csv"
    plan.write_text(
        "名称,类型,经度,纬度,计划建成时间\n"
        f"黎里镇区域性养老服务中心(规划),区域性养老服务中心,{lon},{lat},2025-06-30\n"
        f"塘桥镇区域性养老服务中心(规划),区域性养老服务中心,{t_lon},{t_lat},2027-03-01\n"
        f"某某未知设施,星际补给站,{lon},{lat},2025-01-01\n",
        encoding="gbk",
    )
    before = list(w.findings_model.items)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(plan), ""))
    w.scenario_panel.import_button.click()
    qtbot.waitUntil(lambda: w.scenario_panel.model.rowCount() == 2, timeout=30_000)
    idle(qtbot, w)
    sites = w.session.scenario.sites
    assert [s.name for s in sites] == [
        "黎里镇区域性养老服务中心(规划)",
        "塘桥镇区域性养老服务中心(规划)",
    ]  # GBK decoded
    assert all(s.origin == "file" and s.accepted and s.type_code == REGIONAL for s in sites)
    assert [_cell(w, r, "origin") for r in range(2)] == ["方案文件", "方案文件"]
    assert [_cell(w, r, "unit") for r in range(2)] == ["黎里镇", "塘桥镇"]
    assert _cell(w, 1, "planned") == "2027-03-01"
    # the row of an unknown type is listed, once, in the data-issues panel
    added = [f for f in w.findings_model.items if f not in before]
    assert [(f.code, f.value) for f in added] == [("unknown_facility_type", "星际补给站")]
    assert "规划点位.csv" in w.scenario_panel.status.text()
    # on 2025-12-31 the plan closes Lili only; Tangqiao's site counts from 2027-03-01
    real = w.session.result
    assert _failing(real, "T2-5") - _failing(w.session.scenario_result, "T2-5") == {LILI}
    # another date re-evaluates the scenario for that date
    w.date_edit.setDate(dt.date(2027, 12, 31))
    qtbot.waitUntil(lambda: w.session.result.as_of == dt.date(2027, 12, 31), timeout=20_000)
    assert w.session.scenario_result.as_of == dt.date(2027, 12, 31)
    assert _failing(w.session.result, "T2-5") - _failing(w.session.scenario_result, "T2-5") == {
        LILI,
        TANGQIAO,
    }
    t25 = w.session.result.indicator("T2-5")
    assert _shown(w, "T2-5", "plan") == pytest.approx(t25.value + 200.0 / t25.denominator)


def test_remove_and_clear(make_window, qtbot):
    w = make_window()
    w.session.set_scenario(_demo_scenario(w))
    panel = w.scenario_panel
    assert panel.clear_button.isEnabled() and not panel.remove_button.isEnabled()
    panel.view.selectRow(0)
    assert panel.remove_button.isEnabled()
    panel.remove_button.click()
    assert [s.name for s in w.session.scenario.sites] == ["塘桥建议", "远期"]
    # the remaining accepted site counts from 2027: nothing closes on 2025-12-31
    assert w.session.scenario_result is not None
    assert _shown(w, "T2-5", "plan") == pytest.approx(_shown(w, "T2-5", "value"))
    panel.clear_button.click()
    assert w.session.scenario.sites == () and panel.model.rowCount() == 0
    assert w.session.scenario_result is None and w.indicator_model.column_of("plan") == -1
    assert w.current_project().scenario is None


def test_suggesting_for_an_indicator_that_cannot_be_sited_shows_the_input_error(
    make_window, qtbot, dialogs
):
    w = make_window()
    w.session.select_indicator("T2-6")  # a ratio indicator
    w.scenario_panel.suggest_button.click()
    qtbot.waitUntil(lambda: len(dialogs) == 1, timeout=30_000)
    assert "T2-6" in dialogs[0]["text"] and "no sites can be suggested" in dialogs[0]["text"]
    assert w.isVisible() and w.session.scenario.sites == ()


def test_suggested_sites_are_a_map_layer_until_accepted(make_window, qtbot):
    """Suggestions not yet accepted are drawn as the numbered 选址建议 layer; an accepted one
    leaves it and is drawn as a planned site instead."""
    w = make_window()
    w.session.select_indicator("T2-5")
    w.scenario_panel.suggest_button.click()
    qtbot.waitUntil(lambda: w.scenario_panel.model.rowCount() > 0, timeout=60_000)
    names = [s.name for s in w.session.scenario.sites]
    idle(qtbot, w)
    qtbot.waitUntil(
        lambda: (
            js(qtbot, w, "JSON.stringify(window.coverageGis.sites())")
            == json.dumps(names, ensure_ascii=False, separators=(",", ":"))
        ),
        timeout=30_000,
    )
    assert _accept(w, 0)
    idle(qtbot, w)
    qtbot.waitUntil(lambda: js(qtbot, w, "window.coverageGis.counts().planned") == 1)
    shown = json.loads(js(qtbot, w, "JSON.stringify(window.coverageGis.sites())"))
    assert shown == names[1:]
