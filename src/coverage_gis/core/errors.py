"""Domain exceptions.

Every exception that reaches a user carries a Chinese and an English message and, where it
applies, the file, sheet, row, column and value that caused it. The CLI maps
:class:`InputError` to exit code 2 and anything else to exit code 1; the GUI shows a dialog.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CatalogError", "CoverageGisError", "InputError"]


class CoverageGisError(Exception):
    """Base class of coverage-gis errors."""


class InputError(CoverageGisError, ValueError):
    """Bad user input: a file, a row, a column or a value the program cannot use.

    Parameters
    ----------
    message_zh, message_en
        What is wrong, in Chinese and in English.
    file, sheet, row, column, value
        Where it is. ``row`` is the row number as the user sees it in the source
        (Excel row number, CSV line number); ``None`` when not applicable.
    suggestion
        What the user can do about it (bilingual, optional).
    """

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        suggestion: str | None = None,
    ) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        self.value = value
        self.suggestion = suggestion
        super().__init__(self.describe())

    def location(self) -> str:
        """Return ``file[sheet] row N column C value V`` for the parts that are known."""
        parts: list[str] = []
        if self.file:
            parts.append(f"文件/file: {self.file}")
        if self.sheet:
            parts.append(f"工作表/sheet: {self.sheet}")
        if self.row is not None:
            parts.append(f"行/row: {self.row}")
        if self.column:
            parts.append(f"列/column: {self.column}")
        if self.value is not None:
            parts.append(f"值/value: {self.value!r}")
        return "; ".join(parts)

    def describe(self) -> str:
        """Return the full bilingual message with its location and suggestion."""
        text = f"{self.message_zh}\n{self.message_en}"
        loc = self.location()
        if loc:
            text += f"\n[{loc}]"
        if self.suggestion:
            text += f"\n建议/suggestion: {self.suggestion}"
        return text


class CatalogError(InputError):
    """An indicator or facility-type catalogue is invalid (names file and entry)."""
