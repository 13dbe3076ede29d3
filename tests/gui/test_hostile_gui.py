"""The desktop app with hostile inputs: names shown as text, never as Qt rich text or in
the map as markup; a project pointing outside its folder is questioned before any read.

Qt renders a label, tooltip or message box as HTML when it is set to rich text or when
the text merely looks like HTML (``Qt.mightBeRichText``). The checks below render each
such text the way Qt would (:class:`QTextDocument`) and compare what is shown.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox

from coverage_gis.core.errors import InputError
from coverage_gis.gui.dialogs import ExportNotice
from coverage_gis.gui.project import FacilitySource, Project, save_project
from coverage_gis.gui.reporting import show_error
from coverage_gis.gui.tables import KEY_ROLE
from tests import hostile_inputs as hi
from tests.gui.conftest import idle, js

Qt: Any = sys.modules["PySide6.QtGui"].Qt  # Qt.mightBeRichText lives in QtGui
TAGS = ("<img", "<script", "<iframe", "<table")


def _rendered(text: str) -> tuple[str, int, list[str]]:
    """Render rich text as Qt does: (plain text, number of images, link targets)."""
    doc = QTextDocument()
    doc.setHtml(text)
    images, links = 0, []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            images += fmt.isImageFormat()
            if fmt.isAnchor():
                links.append(fmt.anchorHref())
            it += 1
        block = block.next()
    return doc.toPlainText(), images, links


def _norm(text: str) -> str:
    """Whitespace folded; Qt turns U+2028/U+2029 into line breaks when it lays text out."""
    return re.sub(r"[\s\u2028\u2029]+", " ", text)


def assert_inert(text: str, fmt: Any = None) -> str:
    """What Qt shows for a label/tooltip text, after checking that nothing in it became
    markup: no image, no link other than a file: one, no tag left unescaped."""
    auto = fmt is None or fmt == Qt.TextFormat.AutoText
    if not (fmt == Qt.TextFormat.RichText or (auto and Qt.mightBeRichText(text))):
        return text  # plain text: shown as it is
    plain, images, links = _rendered(text)
    lowered = text.lower()
    assert images == 0 and not any(tag in lowered for tag in TAGS), text
    assert all(href.startswith("file:") for href in links), links
    return plain


@pytest.fixture
def hostile(tmp_path: Path) -> hi.HostileInputs:
    return hi.write_hostile_inputs(tmp_path / "hostile")


def test_hostile_names_are_text_in_labels_tooltips_tables_and_map(
    make_window: Any, qtbot: Any, hostile: hi.HostileInputs, tmp_path: Path
) -> None:
    w = make_window(
        Project(
            boundaries=str(hostile.boundaries),
            facilities=[FacilitySource(str(hostile.facilities))],
            catalog=str(hostile.catalog),
            as_of="2025-12-31",
        )
    )
    idle(qtbot, w)
    assert w.session.result.catalog.name_zh == hi.CATALOG_NAME

    # township detail: a rich-text title, one hostile township after the other
    for code, name in hi.UNIT_NAMES.items():
        w.session.select_unit(code)
        title = assert_inert(w.detail.title.text(), w.detail.title.textFormat())
        assert _norm(name) in _norm(title), code
    assert hi.COUNTY_NAMES["乙市"] in title

    # the catalogue panel
    w.catalog_panel.refresh()
    panel = assert_inert(w.catalog_panel.text(), w.catalog_panel.textFormat())
    assert hi.CATALOG_NAME in panel and hi.MINUS in panel  # name and version

    # every label of the window
    for label in w.findChildren(QLabel):
        assert_inert(label.text(), label.textFormat())
        if label.toolTip():
            assert_inert(label.toolTip())
    tip = assert_inert(w.files_label.toolTip())
    assert str(hostile.facilities) in tip and str(hostile.boundaries) in tip
    assert "=1+1.csv" in assert_inert(w.files_label.text(), w.files_label.textFormat())

    # tooltips of the indicator table and the data-issues list
    m = w.indicator_model
    tips = {}
    for row in range(m.rowCount()):
        key = m.data(m.index(row, 0), KEY_ROLE)
        tips[key] = assert_inert(m.data(m.index(row, 1), Qt.ItemDataRole.ToolTipRole))
    assert tips["A-1"] == "\n".join([hi.IND_HALL, hi.IND_HALL_EN, hi.IND_SOURCE, hi.IND_NOTE])
    assert hi.IND_STATION in tips[hi.IND_STATION_ID] and hi.IMG in tips[hi.IND_STATION_ID]
    fm = w.findings_model
    finding_tips = [
        assert_inert(fm.data(fm.index(r, 0), Qt.ItemDataRole.ToolTipRole))
        for r in range(fm.rowCount())
    ]
    assert any(hi.UNKNOWN_TYPE in t for t in finding_tips)

    # item views show the names as they are (plain text)
    um = w.units_model
    names = {
        um.data(um.index(r, c))
        for r in range(um.rowCount())
        for c in range(um.columnCount())
        if isinstance(um.data(um.index(r, c)), str)
    }
    assert set(hi.UNIT_NAMES.values()) - {hi.UNIT_NAMES["320501400"]} <= names  # 功能区 aside

    # the map page: nothing ran, nothing was created, the names are there as text
    assert js(qtbot, w, "typeof window.__pwned") == "undefined"
    assert js(qtbot, w, "document.querySelectorAll('img, [onerror], iframe').length") == 0
    assert js(qtbot, w, "document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    w.session.select_unit("320501002")
    qtbot.wait(200)
    labels = js(
        qtbot,
        w,
        "Array.from(document.querySelectorAll('.cg-label')).map(function (e) {"
        " return e.textContent; }).join('|')",
    )
    assert hi.UNIT_NAMES["320501002"] in labels
    assert js(qtbot, w, "typeof window.__pwned") == "undefined"

    # the export notice names a hostile file as text
    notice = ExportNotice(tmp_path / (hi.IMG + ".xlsx"), w)
    try:
        texts = [assert_inert(lab.text(), lab.textFormat()) for lab in notice.findChildren(QLabel)]
        assert any(hi.IMG + ".xlsx" in t for t in texts)
    finally:
        notice.deleteLater()


def test_error_dialog_shows_the_message_as_plain_text(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, Any]] = []

    def exec_(self: QMessageBox) -> int:
        seen.append((self.text(), self.textFormat()))
        return int(QMessageBox.StandardButton.Ok)

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    show_error(None, InputError(f"无法读取 {hi.IMG}", f"Cannot read {hi.IMG}", value=hi.SCRIPT))
    [(text, fmt)] = seen
    assert fmt == Qt.TextFormat.PlainText and hi.IMG in text and hi.SCRIPT in text


@pytest.fixture
def outside_project(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A project in ``proj/`` whose inputs sit in ``elsewhere/``, outside its folder."""
    h = hi.write_hostile_inputs(tmp_path / "elsewhere")
    project = Project(
        boundaries=str(h.boundaries),
        facilities=[FacilitySource(str(h.facilities))],
        catalog=str(h.catalog),
        as_of="2025-12-31",
    )
    path = save_project(project, tmp_path / "proj" / "p.json")
    return path, [h.boundaries, h.facilities, h.catalog]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Files under ``tmp_path/elsewhere`` opened by Python, and calls of load_session."""
    import coverage_gis.gui.mainwindow as mw

    seen: list[str] = []
    watched = str(tmp_path / "elsewhere")
    active = [True]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if active[0] and event == "open" and args and str(args[0]).startswith(watched):
            seen.append(str(args[0]))

    sys.addaudithook(hook)  # audit hooks cannot be removed: switched off after the test
    real = mw.load_session

    def spy(project: Project, *a: Any, **k: Any) -> Any:
        seen.append("load_session")
        return real(project, *a, **k)

    monkeypatch.setattr(mw, "load_session", spy)
    yield seen
    active[0] = False


def _answer(monkeypatch: pytest.MonkeyPatch, button: Any) -> list[dict[str, Any]]:
    asked: list[dict[str, Any]] = []

    def exec_(self: QMessageBox) -> int:
        asked.append(
            {
                "title": self.windowTitle(),
                "text": self.text(),
                "details": self.detailedText(),
                "format": self.textFormat(),
                "default": self.defaultButton() is self.button(QMessageBox.StandardButton.No),
            }
        )
        return int(button)

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return asked


def test_project_outside_its_folder_answered_no_reads_nothing(
    make_window: Any,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
    outside_project: tuple[Path, list[Path]],
    reads: list[str],
) -> None:
    path, inputs = outside_project
    w = make_window()  # the demo
    before = w.session.result
    reads.clear()
    asked = _answer(monkeypatch, QMessageBox.StandardButton.No)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    w.act_open_project.trigger()
    qtbot.wait(300)
    [q] = asked
    assert q["title"] == "项目引用了其文件夹之外的文件"
    assert q["format"] == Qt.TextFormat.PlainText and q["default"]
    assert "p.json" in q["text"] and "3 个文件" in q["text"]
    for p in inputs:
        assert str(p.resolve()) in q["text"] and str(p.resolve()) in q["details"]
    assert reads == []  # no input opened, no load started
    assert not w.runner.busy and w.session.result is before and w.projects.path is None
    assert w.session.project.demo


def test_project_outside_its_folder_answered_yes_is_read(
    make_window: Any,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
    outside_project: tuple[Path, list[Path]],
    reads: list[str],
) -> None:
    path, inputs = outside_project
    w = make_window()
    reads.clear()
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(w.sessionLoaded, timeout=60_000):
        w.open_project_file(path)
    assert len(asked) == 1 and reads[0] == "load_session"
    assert str(inputs[2].resolve()) in reads  # the catalogue, read by Python after consent
    assert w.projects.path == path and w.session.result.catalog.name_zh == hi.CATALOG_NAME


def test_project_with_inputs_beside_it_is_opened_without_a_question(
    make_window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    h = hi.write_hostile_inputs(tmp_path / "proj" / "data")
    path = save_project(
        Project(
            boundaries=str(h.boundaries),
            facilities=[FacilitySource(str(h.facilities))],
            as_of="2025-12-31",
        ),
        tmp_path / "proj" / "p.json",
    )
    w = make_window()
    asked = _answer(monkeypatch, QMessageBox.StandardButton.No)
    with qtbot.waitSignal(w.sessionLoaded, timeout=60_000):
        w.open_project_file(path)
    assert asked == [] and w.projects.path == path
