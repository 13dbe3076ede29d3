"""Dialogs: column / CRS mapping with a preview, the export-finished notice, and the
question asked before a project's inputs outside its folder are read."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from coverage_gis.core.coordsys import normalize_source_crs
from coverage_gis.core.errors import InputError
from coverage_gis.gui.i18n import pick, tr
from coverage_gis.gui.preview import FilePreview
from coverage_gis.gui.richtext import esc
from coverage_gis.io.columns import FIELD_LABELS

__all__ = ["CRS_CHOICES", "ExportNotice", "MappingDialog"]

#: Source coordinate systems offered in the mapping dialog: (value, zh label, en label).
CRS_CHOICES: list[tuple[str, str, str]] = [
    ("wgs84", "WGS84（GPS、OpenStreetMap）", "WGS84 (GPS, OpenStreetMap)"),
    ("cgcs2000", "CGCS2000（国家2000、天地图）", "CGCS2000 (national 2000, Tianditu)"),
    ("gcj02", "GCJ-02（高德、腾讯地图）", "GCJ-02 (Amap, Tencent maps)"),
    ("bd09", "BD-09（百度地图）", "BD-09 (Baidu maps)"),
]
_NONE = "—"
_REQUIRED = ("type_raw", "lon", "lat", "unit_name")


class MappingDialog(QDialog):
    """Pick the columns and the source CRS of a facility file, with its first rows shown.

    Parameters
    ----------
    preview
        The file's raw first rows and recognised columns.
    suggested_crs
        The system suggested from the named units (pre-selected), if any.
    current_crs
        The system the file is currently read in (``None`` = undeclared).
    mapping
        A mapping chosen before (``{field: header}``).
    reasons
        Extra reasons to show (e.g. a CRS suggestion), as ``(zh, en)`` pairs.
    """

    def __init__(
        self,
        preview: FilePreview,
        *,
        suggested_crs: str | None = None,
        current_crs: str | None = None,
        mapping: dict[str, str] | None = None,
        reasons: list[tuple[str, str]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.preview = preview
        name = Path(preview.path).name + (f" [{preview.sheet}]" if preview.sheet else "")
        self.setWindowTitle(tr(f"列与坐标系：{name}", f"Columns and CRS: {name}"))
        self.resize(980, 640)
        lay = QVBoxLayout(self)
        why = [*(reasons or []), *preview.reasons]
        intro = tr(
            "请确认设施文件的列和坐标系。", "Please confirm the columns and the coordinate system."
        )
        if why:
            intro += "<ul>" + "".join(f"<li>{esc(pick(r))}</li>" for r in why) + "</ul>"
        label = QLabel(intro)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        lay.addWidget(label)

        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._fill_preview()
        lay.addWidget(self.table, 3)

        row = QHBoxLayout()
        row.addWidget(QLabel(tr("表头所在行：", "Header row:")))
        self.header_row = QSpinBox()
        self.header_row.setRange(
            preview.first_row, preview.first_row + max(len(preview.rows) - 1, 0)
        )
        self.header_row.setValue(preview.first_row + (preview.header_index or 0))
        self.header_row.valueChanged.connect(self._header_changed)
        row.addWidget(self.header_row)
        row.addStretch(1)
        lay.addLayout(row)

        box = QGroupBox(tr("列对应", "Columns"))
        grid = QGridLayout(box)
        self.combos: dict[str, QComboBox] = {}
        for i, (fld, labels) in enumerate(FIELD_LABELS.items()):
            combo = QComboBox()
            star = " *" if fld in _REQUIRED else ""
            grid.addWidget(QLabel(pick(labels) + star), i // 3, (i % 3) * 2)
            grid.addWidget(combo, i // 3, (i % 3) * 2 + 1)
            self.combos[fld] = combo
        lay.addWidget(box)
        self._fill_combos(mapping or {})

        crs_box = QGroupBox(tr("坐标系", "Coordinate system"))
        form = QFormLayout(crs_box)
        self.crs = QComboBox()
        self.crs.setEditable(True)
        for value, zh, en in CRS_CHOICES:
            mark = tr("（建议）", " (suggested)") if value == suggested_crs else ""
            self.crs.addItem(tr(zh, en) + mark, value)
        start = suggested_crs or current_crs or "wgs84"
        idx = self.crs.findData(start)
        if idx < 0:
            self.crs.addItem(start, start)
            idx = self.crs.count() - 1
        self.crs.setCurrentIndex(idx)
        self.crs.setToolTip(
            tr("也可输入 EPSG 代码，如 EPSG:4549", "An EPSG code may be typed, e.g. EPSG:4549")
        )
        form.addRow(tr("设施坐标的坐标系：", "CRS of the coordinates:"), self.crs)
        lay.addWidget(crs_box)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("确定", "OK"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消", "Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    # -- preview and combos ---------------------------------------------------------------
    def _fill_preview(self) -> None:
        rows = self.preview.rows
        width = max((len(r) for r in rows), default=0)
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(width)
        self.table.setVerticalHeaderLabels(
            [str(self.preview.first_row + i) for i in range(len(rows))]
        )
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                item = QTableWidgetItem(v)
                if i == self.preview.header_index:
                    item.setBackground(QBrush(QColor("#dbe8fb")))
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()

    def _fill_combos(self, mapping: dict[str, str]) -> None:
        headers = self.preview.headers
        for fld, combo in self.combos.items():
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(_NONE, None)
            for j, h in enumerate(headers):
                if h:
                    combo.addItem(f"{h}", h)
                    combo.setItemData(combo.count() - 1, j, Qt.ItemDataRole.UserRole + 1)
            wanted = mapping.get(fld)
            if wanted is None and fld in self.preview.recognised:
                wanted = headers[self.preview.recognised[fld]]
            idx = combo.findData(wanted) if wanted else 0
            combo.setCurrentIndex(max(idx, 0))
            combo.blockSignals(False)

    def _header_changed(self, value: int) -> None:
        self.preview.set_header_index(value - self.preview.first_row)
        self._fill_preview()
        self._fill_combos({})

    # -- results --------------------------------------------------------------------------
    def mapping(self) -> dict[str, str]:
        """The chosen ``{field: header}`` (fields left at “—” are omitted)."""
        return {fld: c.currentData() for fld, c in self.combos.items() if c.currentData()}

    def crs_value(self) -> str:
        """The chosen source CRS, normalised (raises InputError for an unknown text)."""
        data = self.crs.currentData()
        text = self.crs.currentText()
        idx = self.crs.findText(text)
        if data is None or idx != self.crs.currentIndex() or idx < 0:
            return normalize_source_crs(text)
        return normalize_source_crs(str(data))

    def accept(self) -> None:
        """Check the choices before closing."""
        try:
            self.crs_value()
        except InputError as exc:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                tr("坐标系", "Coordinate system"),
                exc.describe(),
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setTextFormat(Qt.TextFormat.PlainText)  # the text holds what the user typed
            box.exec()
            return
        chosen = self.mapping()
        if "type_raw" not in chosen:
            QMessageBox.warning(
                self, tr("列对应", "Columns"), tr("请选择“类型”列", "Please choose the type column")
            )
            return
        super().accept()


class ExportNotice(QMessageBox):
    """Non-blocking "export finished" notice with an "open folder" link."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        folder = self.path.parent
        self.setIcon(QMessageBox.Icon.Information)
        self.setWindowTitle(tr("导出完成", "Export finished"))
        self.setTextFormat(Qt.TextFormat.RichText)
        href = QUrl.fromLocalFile(str(folder)).toString(QUrl.ComponentFormattingOption.FullyEncoded)
        self.setText(
            tr("已导出：", "Exported: ")
            + f'{esc(self.path.name)}<br><a href="{esc(href)}">'
            + tr("打开所在文件夹", "Open folder")
            + "</a>"
        )
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.setStandardButtons(QMessageBox.StandardButton.Close)
        self.setWindowModality(Qt.WindowModality.NonModal)
        for label in self.findChildren(QLabel):
            label.setOpenExternalLinks(False)
            label.linkActivated.connect(self.open_folder)

    def open_folder(self, *_args: object) -> None:
        """Open the folder of the exported file in the system file manager."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path.parent)))


#: Outside paths listed in the question itself (all of them are in its details).
OUTSIDE_LISTED = 12


def confirm_outside_inputs(parent: QWidget | None, project_file: Path, outside: list[str]) -> bool:
    """Ask before reading a project's input files that lie outside the project's folder.

    Parameters
    ----------
    parent
        Parent widget of the question.
    project_file
        The project file being opened.
    outside
        The paths outside its folder (:func:`coverage_gis.gui.project.outside_paths`).

    Returns
    -------
    bool
        True when there is nothing to ask or the user answers Yes; nothing has been read.
    """
    if not outside:
        return True
    shown = outside[:OUTSIDE_LISTED]
    more = len(outside) - len(shown)
    listing = "\n".join(f"  {p}" for p in shown) + (
        tr(f"\n  … 另有 {more} 个", f"\n  … and {more} more") if more else ""
    )
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        tr("项目引用了其文件夹之外的文件", "Project uses files outside its folder"),
        tr(
            f"项目 {project_file.name} 要读取其所在文件夹（{project_file.parent}）之外的 "
            f"{len(outside)} 个文件：\n{listing}\n\n只有信任这个项目文件的来源时才继续。要读取这些文件吗？",
            f"The project {project_file.name} reads {len(outside)} file(s) outside its folder "
            f"({project_file.parent}):\n{listing}\n\nContinue only if you trust where the project "
            "file came from. Read these files?",
        ),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setTextFormat(Qt.TextFormat.PlainText)  # paths from the project file
    box.setDetailedText("\n".join(outside))
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes
