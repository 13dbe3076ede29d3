"""The main window on the demo and on small files: tables, date control, map link,
import, export, projects, errors (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtWidgets import QDialog, QFileDialog

from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.engine import prepare
from coverage_gis.core.results import AuditOptions
from coverage_gis.gui.mapview import MapView
from coverage_gis.gui.tables import RAW_ROLE
from coverage_gis.workflow import (
    demo_access_paths,
    demo_boundaries_path,
    demo_facilities_paths,
    load_inputs,
)
from tests.conftest import make_units
from tests.gui.conftest import ARTIFACTS, idle, js

HEADER = "名称,类型,所属镇(街道),经度,纬度,状态,建成时间,是否达标\n"
ROWS = [
    "甲山骨灰堂,骨灰堂,甲山镇,120.05,31.05,运营,2019-05-01,是\n",
    "戊港骨灰堂,公益性骨灰安放设施,戊港,,,运营,2022-01-01,\n",
    "乙水驿站,康复驿站,乙水街道,120.15,31.02,运营,2020-01-01,是\n",
    "老年食堂,老年食堂,乙水街道,120.15,31.02,运营,,\n",
]


@pytest.fixture(scope="module")
def demo_prepared() -> Any:
    # the desktop demo reads the embedded population, water and road layers too
    inputs = load_inputs(demo_boundaries_path(), demo_facilities_paths(), **demo_access_paths())
    return prepare(
        inputs.units,
        inputs.facilities,
        load_catalog(),
        findings=inputs.findings,
        inputs=inputs.inputs,
        access=inputs.access,
    )


@pytest.fixture
def small_inputs(tmp_path: Path) -> tuple[Path, Path]:
    b = tmp_path / "data" / "units.geojson"
    b.parent.mkdir()
    make_units().to_file(b, driver="GeoJSON")
    f = tmp_path / "data" / "设施.csv"
    f.write_text(HEADER + "".join(ROWS), encoding="gbk")  # as saved by Excel on Chinese Windows
    return b, f


def _table_values(window: Any) -> dict[str, tuple[Any, Any, Any]]:
    m = window.indicator_model
    out = {}
    for row in range(m.rowCount()):
        ident = m.data(m.index(row, 0), RAW_ROLE)
        out[ident] = tuple(m.data(m.index(row, c), RAW_ROLE) for c in (5, 6, 8))
    return out


def _engine_values(prepared: Any, as_of: dt.date) -> dict[str, tuple[Any, Any, Any]]:
    res = prepared.evaluate(as_of)
    return {r.indicator.id: (r.value, r.gap, r.met) for r in res.indicators}


def test_demo_window_table_indicator_and_year(make_window, qtbot, demo_prepared) -> None:
    w = make_window()
    assert w.session.result.as_of == dt.date(2025, 12, 31)
    assert _table_values(w) == _engine_values(demo_prepared, dt.date(2025, 12, 31))
    header = [w.indicator_model.headerData(c, _h()) for c in range(w.indicator_model.columnCount())]
    assert header[1:] == [
        "指标名称",
        "单位",
        "2020 基准",
        "2025 目标",
        "当前值",
        "差距",
        "属性",
        "是否达标",
    ]

    # choosing a row shows that indicator on the map
    row = w.indicator_model.row_of("T2-19")
    w.indicator_view.selectRow(row)
    assert w.session.indicator_id == "T2-19"
    qtbot.waitUntil(lambda: js(qtbot, w, "window.coverageGis.indicator()") == "T2-19")
    assert w.units_model.headers[5] == "当前指标"

    # the year slider re-evaluates (no re-reading) and the table follows the engine
    prepared_before = w.session.prepared
    w.year_slider.setValue(2021)
    assert w.date_edit.date().toPython() == dt.date(2021, 12, 31)
    qtbot.waitUntil(lambda: w.session.result.as_of == dt.date(2021, 12, 31), timeout=20_000)
    assert w.session.prepared is prepared_before
    assert _table_values(w) == _engine_values(demo_prepared, dt.date(2021, 12, 31))
    # an exact date
    w.date_edit.setDate(dt.date(2023, 6, 30))
    assert w.year_slider.value() == 2023
    qtbot.waitUntil(lambda: w.session.result.as_of == dt.date(2023, 6, 30), timeout=20_000)
    assert _table_values(w) == _engine_values(demo_prepared, dt.date(2023, 6, 30))
    idle(qtbot, w)
    assert "2023-06-30" in js(qtbot, w, "document.body.innerText")


def _h() -> Any:
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def test_county_filter_uses_county_rollup(make_window, demo_prepared) -> None:
    w = make_window()
    res = w.session.result
    county = str(res.counties["county_code"].iloc[0])
    w.county_combo.setCurrentIndex(w.county_combo.findData(county))
    assert w.session.county_code == county
    by = res.indicator("T2-4").by_county.set_index("county_code").loc[county]
    row = w.indicator_model.row_of("T2-4")
    assert w.indicator_model.data(w.indicator_model.index(row, 5), RAW_ROLE) == pytest.approx(
        by["value"]
    )
    assert set(w.units_model.frame["county_code"]) == {county}


def test_map_click_through_web_channel_fills_detail(make_window, qtbot) -> None:
    w = make_window()
    res = w.session.result
    code = str(res.units.loc[res.units["counted"], "code"].iloc[3])
    name = str(res.units.set_index("code").loc[code, "name"])
    # a real click on the township's polygon in the page → bridge.unitClicked(code)
    with qtbot.waitSignal(w.map.unitClicked, timeout=10_000) as sig:
        w.map.run_js(
            "window.coverageGis.map.eachLayer(function(l){"
            f"if(l.feature&&l.feature.properties&&l.feature.properties.code==={json.dumps(code)})"
            "{l.fire('click');}});"
        )
    assert sig.args == [code]
    assert w.session.unit_code == code
    assert name in w.detail.title.text()
    for ft in res.catalog.facility_types:
        assert w.detail.count_for(ft.code)[0] == int(res.counts_qualifying.loc[code, ft.code])
    # the township table selects the same unit
    sel = w.units_view.selectionModel().selectedRows()
    assert [w.units_model.data(i, 256) for i in sel] == [code]
    # selecting another row in the table zooms the map to it
    other = 0 if w.units_model.data(w.units_model.index(0, 0), 256) != code else 1
    w.units_view.selectRow(other)
    other_code = w.units_model.data(w.units_model.index(other, 0), 256)
    assert w.session.unit_code == other_code


def test_year_change_updates_the_drawn_map_in_place(make_window, qtbot) -> None:
    from coverage_gis.mapexport import format_indicator_line

    w = make_window()
    page = w.map.path
    loads: list[bool] = []
    w.map.view.loadStarted.connect(lambda: loads.append(True))
    w.year_slider.setValue(2021)
    qtbot.waitUntil(lambda: w.session.result.as_of.year == 2021, timeout=20_000)
    idle(qtbot, w)
    qtbot.waitUntil(
        lambda: js(qtbot, w, "window.coverageGis.asOf()") == w.session.result.as_of.isoformat(),
        timeout=10_000,
    )
    assert loads == [] and w.map.path == page  # no reload: updated through coverageGis.update
    ir = w.session.result.indicator(w.session.indicator_id)
    shown = js(qtbot, w, "document.querySelector('.cg-value').textContent")
    assert shown == format_indicator_line(ir, "zh")
    # a patch from other inputs is refused, so the window falls back to a reload
    assert js(qtbot, w, "window.coverageGis.update({key: 'other', indicators: []})") is False


def test_indicator_picked_on_the_map_selects_the_table_row(make_window, qtbot) -> None:
    w = make_window()
    target = "T2-19"
    assert w.session.indicator_id != target
    # the user picks an indicator in the map's title box → bridge.indicatorSelected(id)
    with qtbot.waitSignal(w.map.indicatorPicked, timeout=10_000) as sig:
        w.map.run_js(
            "var s=document.getElementById('cg-indicator-select');"
            f"s.value={json.dumps(target)};s.dispatchEvent(new Event('change'));"
        )
    assert sig.args == [target]
    assert w.session.indicator_id == target
    sel = w.indicator_view.selectionModel().selectedRows()
    assert [w.indicator_model.row_of(target)] == [i.row() for i in sel]


def test_import_gbk_csv_through_file_dialogs(make_window, qtbot, small_inputs, monkeypatch) -> None:
    b, f = small_inputs
    w = make_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(b), ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(f)], ""))
    w.act_open_boundaries.trigger()
    assert w.session.project.boundaries == str(b.resolve())
    assert w.session.project.facilities == []
    w.date_edit.setDate(dt.date(2023, 12, 31))
    with qtbot.waitSignal(w.sessionLoaded, timeout=30_000):
        w.act_open_facilities.trigger()
    idle(qtbot, w)
    res = w.session.result
    assert res.as_of == dt.date(2023, 12, 31)
    t219 = res.indicator("T2-19")
    assert (t219.value, t219.numerator, t219.denominator) == (50.0, 2, 4)
    assert set(res.facilities["name"]) >= {"甲山骨灰堂", "戊港骨灰堂"}  # GBK decoded
    assert "设施.csv" in w.files_label.text()
    assert "读取 4" in w.rows_label.text()
    # the data-issues panel lists the findings; double-click jumps to the facility row
    fm = w.findings_model
    row = next(i for i, it in enumerate(fm.items) if it.code == "counted_by_name")
    w._finding_activated(fm.index(row, 0))
    sel = w.facilities_view.selectionModel().selectedRows()
    assert len(sel) == 1
    assert w.facilities_model.data(w.facilities_model.index(sel[0].row(), 2)) == "戊港骨灰堂"
    assert w.session.unit_code == "320502102"


def test_uncertain_columns_open_mapping_dialog(
    make_window, qtbot, small_inputs, tmp_path, monkeypatch
) -> None:
    b, _ = small_inputs
    odd = tmp_path / "odd.csv"
    odd.write_text(
        "站点,门类,X,Y,属地\n甲山骨灰堂,骨灰堂,120.05,31.05,甲山镇\n丁桥骨灰堂,骨灰堂,120.05,31.15,丁桥镇\n",
        encoding="gbk",
    )
    shown: list[Any] = []

    def fake_exec(dlg: Any) -> int:
        shown.append(dlg)
        assert dlg.table.rowCount() == 3  # preview of the first rows
        assert dlg.combos["lon"].currentData() == "X"
        dlg.combos["type_raw"].setCurrentIndex(dlg.combos["type_raw"].findData("门类"))
        dlg.combos["name"].setCurrentIndex(dlg.combos["name"].findData("站点"))
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr("coverage_gis.gui.dialogs.MappingDialog.exec", fake_exec)
    w = make_window()
    w.set_boundaries(b)
    with qtbot.waitSignal(w.sessionLoaded, timeout=30_000):
        w.add_facility_files([odd])
    assert len(shown) == 1
    src = w.session.project.facilities[0]
    assert src.columns["type_raw"] == "门类" and src.crs == "wgs84"
    assert w.session.result.indicator("T2-19").numerator == 2


def test_exports_html_xlsx_png(make_window, qtbot, tmp_path, monkeypatch) -> None:
    w = make_window()
    out = tmp_path / "exports"
    out.mkdir()
    targets = iter([out / "map.html", out / "report.xlsx", out / "map.png"])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(next(targets)), ""))
    with qtbot.waitSignal(w.exports.exported, timeout=60_000) as sig:
        w.act_export_html.trigger()
    html = Path(sig.args[0]).read_text(encoding="utf-8")
    assert "coverageGis" in html
    # offline page: no script or stylesheet is fetched
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"http", html)
    assert w.exports.notice is not None and "打开所在文件夹" in w.exports.notice.text()
    with qtbot.waitSignal(w.exports.exported, timeout=60_000) as sig:
        w.act_export_xlsx.trigger()
    wb = openpyxl.load_workbook(sig.args[0])
    assert wb.sheetnames[:8] == [
        "指标汇总",
        "镇街矩阵",
        "缺口清单",
        "县级汇总",
        "可达性",
        "设施明细",
        "数据问题",
        "说明",
    ]
    text = " ".join(str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c)
    assert "镇(街道)综合养老(为老)服务中心覆盖率" in text
    wb.close()
    with qtbot.waitSignal(w.exports.exported, timeout=60_000) as sig:
        w.act_export_png.trigger()
    assert Path(sig.args[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_and_reopen_project(make_window, qtbot, tmp_path, monkeypatch, gui_home) -> None:
    w = make_window()
    w.indicator_view.selectRow(w.indicator_model.row_of("T2-19"))
    w.year_slider.setValue(2022)
    qtbot.waitUntil(lambda: w.session.result.as_of == dt.date(2022, 12, 31), timeout=20_000)
    target = tmp_path / "projects" / "苏州审计.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    w.act_save.trigger()
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["demo"] is True and data["as_of"] == "2022-12-31" and data["indicator"] == "T2-19"
    assert w.projects.path == target
    assert w.windowTitle().startswith("苏州审计.json")  # the saved file names the window
    # recent projects
    assert [a.text() for a in w.projects.recent_menu.actions()] == [str(target)]
    # reopen in a fresh window
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    w2 = make_window()
    with qtbot.waitSignal(w2.sessionLoaded, timeout=60_000):
        w2.act_open_project.trigger()
    assert w2.session.result.as_of == dt.date(2022, 12, 31)
    assert w2.session.indicator_id == "T2-19"
    assert w2.year_slider.value() == 2022
    assert _table_values(w2) == _table_values(w)
    assert w2.projects.path == target and w2.windowTitle().startswith("苏州审计.json")
    # the recent-projects menu opens the file again
    with qtbot.waitSignal(w2.sessionLoaded, timeout=60_000):
        w2.projects.recent_menu.actions()[0].trigger()
    assert w2.session.result.as_of == dt.date(2022, 12, 31)
    # autosave is written for crash recovery
    w2.projects.write_autosave()
    assert (
        json.loads((gui_home / "autosave.json").read_text(encoding="utf-8"))["as_of"]
        == "2022-12-31"
    )


def test_worker_error_shows_dialog_and_app_keeps_running(
    make_window, qtbot, dialogs, tmp_path, monkeypatch
) -> None:
    w = make_window()

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("boom in worker")

    monkeypatch.setattr("coverage_gis.gui.mainwindow.evaluate", broken)
    w.year_slider.setValue(2020)
    qtbot.waitUntil(lambda: len(dialogs) == 1, timeout=20_000)
    assert "boom in worker" in dialogs[0]["text"] and "Traceback" in dialogs[0]["details"]
    assert "RuntimeError" in (
        Path(str(tmp_path / "gui-home" / "coverage-gis-gui.log")).read_text(encoding="utf-8")
    )
    assert w.isVisible() and w.session.result.as_of == dt.date(2025, 12, 31)
    # an input error (a broken workbook) shows the bilingual message; state unchanged
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"not a workbook")
    w.add_facility_files([bad])
    qtbot.waitUntil(lambda: len(dialogs) == 2, timeout=20_000)
    assert "坏文件.xlsx" in dialogs[1]["text"] and "Excel" in dialogs[1]["text"]
    assert w.session.project.demo
    # and the app still works
    monkeypatch.undo()
    monkeypatch.setenv("COVERAGE_GIS_GUI_HOME", str(tmp_path / "gui-home"))
    w.year_slider.setValue(2024)
    qtbot.waitUntil(lambda: w.session.result.as_of == dt.date(2024, 12, 31), timeout=20_000)


def test_english_ui(make_window) -> None:
    from coverage_gis.gui.i18n import set_language

    set_language("en")
    w = make_window()
    assert w.indicator_model.headerData(1, _h()) == "Indicator"
    assert "Township" in w.windowTitle()
    row = w.indicator_model.row_of("T2-4")
    name_en = w.session.catalog.indicator("T2-4").name_en
    assert w.indicator_model.data(w.indicator_model.index(row, 1)) == name_en
    assert "Rows: read 1247" in w.rows_label.text()


def test_screenshot_artifact(make_window, qtbot) -> None:
    w = make_window()
    w.resize(1400, 900)
    res = w.session.result
    w.session.select_unit(str(res.units["code"].iloc[10]))
    qtbot.wait(800)
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "gui_main_window.png"
    assert w.grab().save(str(out), "PNG")
    assert out.stat().st_size > 50_000
    assert isinstance(w.map, MapView) and w.launch_to_map is not None


def test_options_recount_functional_zones(make_window, qtbot) -> None:
    w = make_window()
    before = w.session.result.indicator("T2-4").denominator
    w.act_zones.setChecked(True)
    qtbot.waitUntil(lambda: w.session.result.options.include_functional_zones, timeout=20_000)
    after = w.session.result.indicator("T2-4").denominator
    n_zones = int(
        (~w.session.prepared.evaluate(w.session.as_of, AuditOptions()).units["counted"]).sum()
    )
    assert after == before + n_zones


def test_reading_and_evaluating_run_off_the_ui_thread(make_window, qtbot, monkeypatch) -> None:
    """Loading and re-evaluating happen on the worker thread, never on the UI thread.

    (How long the event loop stalls is measured by benchmarks/bench_gui_responsiveness.py,
    not asserted here: timings on shared machines are noisy.)
    """
    import threading

    from coverage_gis import workflow
    from coverage_gis.core.engine import PreparedAudit

    seen: list[tuple[str, bool]] = []
    real_load, real_eval = workflow.load_inputs, PreparedAudit.evaluate

    def load(*a: Any, **k: Any) -> Any:
        seen.append(("load", threading.current_thread() is threading.main_thread()))
        return real_load(*a, **k)

    def evaluate(self: PreparedAudit, *a: Any, **k: Any) -> Any:
        seen.append(("evaluate", threading.current_thread() is threading.main_thread()))
        return real_eval(self, *a, **k)

    monkeypatch.setattr(workflow, "load_inputs", load)  # what the project's spec is read by
    monkeypatch.setattr(PreparedAudit, "evaluate", evaluate)
    w = make_window()
    with qtbot.waitSignal(w.sessionLoaded, timeout=60_000):
        w.open_demo()
    w.year_slider.setValue(2022)
    qtbot.waitUntil(lambda: w.session.result.as_of.year == 2022, timeout=20_000)
    idle(qtbot, w)
    assert {kind for kind, _ in seen} == {"load", "evaluate"}
    assert not any(on_main for _, on_main in seen), seen


def test_year_slider_spans_the_catalogue_s_plan_period(make_window, tmp_path) -> None:
    """The slider's years come from the catalogue (baseline_year … target_year), not from a
    constant: a 15th-plan catalogue gives 2025 … 2030."""
    from coverage_gis._paths import resource_path
    from coverage_gis.gui.project import Project

    text = resource_path("catalogs", "suzhou_14th_fyp.toml").read_text("utf-8")
    assert "baseline_year = 2020" in text and "target_year = 2025" in text
    (tmp_path / "catalogs").mkdir()
    (tmp_path / "facility_types.toml").write_bytes(
        resource_path("facility_types.toml").read_bytes()
    )
    cat = tmp_path / "catalogs" / "fifteenth.toml"
    cat.write_text(
        text.replace("baseline_year = 2020", "baseline_year = 2025").replace(
            "target_year = 2025", "target_year = 2030"
        ),
        encoding="utf-8",
    )
    w = make_window(Project(demo=True, as_of="2027-06-30", catalog=str(cat)), wait_map=False)
    assert (w.year_slider.minimum(), w.year_slider.maximum()) == (2025, 2030)
    assert w.year_slider.value() == 2027
    w2 = make_window(Project(demo=True, as_of="2025-12-31"), wait_map=False)
    assert (w2.year_slider.minimum(), w2.year_slider.maximum()) == (2020, 2025)


def test_detail_panel_says_why_facilities_do_not_count(make_window) -> None:
    """For a township that misses a target although it has facilities of the type, the
    detail panel lists them with the engine's reason (``qualification``), and each
    facility row says why it is not counted."""
    from coverage_gis.core.rules import QUALIFICATION_REASONS, qualification

    w = make_window()
    res = w.session.result
    fac = res.facilities
    found = None
    for ir in res.indicators:
        ind = ir.indicator
        if ind.kind != "presence" or ind.level != "township":
            continue
        q = qualification(res, ind.id)
        down = (~q["qualifies"] & (q["reason"] != "other_type")).to_numpy()
        down = down & fac["unit_code"].isin(list(ir.failing)).to_numpy()
        if down.any():
            found = (ind.id, str(fac.loc[down, "unit_code"].iloc[0]), q)
            break
    assert found is not None, "the demo has a failing township with uncounted facilities"
    ind_id, code, q = found
    w.session.select_unit(code)
    items = [w.detail.missing.item(i).text() for i in range(w.detail.missing.count())]
    head = next(i for i, t in enumerate(items) if t.startswith(f"✗ {ind_id} "))
    mine = (fac["unit_code"] == code).to_numpy()
    reasons = q.loc[mine & (~q["qualifies"] & (q["reason"] != "other_type")).to_numpy(), "reason"]
    assert f"该类设施 {len(reasons)} 处未计入" in items[head + 1]
    for reason, n in reasons.value_counts().items():
        assert f"{QUALIFICATION_REASONS[reason][0]} {n}" in items[head + 1]
    # the facility table: one row per facility of the township, the reason in column 5
    t = w.detail.facilities
    assert t.rowCount() == int(mine.sum())
    shown = {t.item(r, 4).text() for r in range(t.rowCount())}
    down_here = fac.loc[mine & ~fac["in_service"].to_numpy(dtype=bool)]
    if len(down_here):
        assert shown - {""}, "rows not in service carry a reason"
    assert "" in shown or not fac.loc[mine, "in_service"].any()
