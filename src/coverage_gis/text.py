"""User-facing text: the one bilingual mechanism, and the value formats every output shares.

Every text a user reads is written in Chinese and English where it is made — a finding's
``message_zh``/``message_en``, a ``(zh, en)`` pair in a table of labels, a catalogue
entry's ``name_zh``/``name_en`` — and one language is chosen where it is shown, by the
functions here: :func:`pick` for a pair, :func:`named` for an object with ``name_zh`` and
``name_en``, :meth:`Finding.message <coverage_gis.core.findings.Finding.message>` for a finding.
The CLI, the workbook, the map export and the desktop app (``gui.i18n.tr``, which adds the
app's current language) all go through them; ``tests/test_architecture.py`` refuses a
``lang == "zh"`` test anywhere else.

Values are formatted once for every output (:func:`format_value`), and terminal tables are
aligned by display width (:func:`display_width`, :func:`pad`: CJK characters take two
columns).
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any, Literal, NamedTuple, Protocol

__all__ = [
    "LANGUAGES",
    "Lang",
    "Text",
    "as_lang",
    "check_lang",
    "display_width",
    "format_value",
    "named",
    "pad",
    "pick",
]

#: A language code of the outputs.
Lang = Literal["zh", "en"]
#: Supported languages, Chinese (the default) first.
LANGUAGES: tuple[Lang, ...] = ("zh", "en")


class Text(NamedTuple):
    """A text in both languages (a plain ``(zh, en)`` tuple is accepted wherever a
    :class:`Text` is)."""

    zh: str
    en: str

    def both(self, sep: str = " / ") -> str:
        """Both languages in one string, Chinese first (``"中文 / English"``)."""
        return self.zh if self.zh == self.en else f"{self.zh}{sep}{self.en}"


class _Named(Protocol):
    name_zh: str
    name_en: str


def check_lang(lang: str) -> Lang:
    """``lang`` if it is a supported language; otherwise a bilingual ``InputError``."""
    if lang not in LANGUAGES:
        from coverage_gis.core.errors import InputError

        raise InputError(f"未知语言：{lang}", f"Unknown language: {lang}", value=lang)
    return lang  # type: ignore[return-value]


def as_lang(lang: str) -> Lang:
    """``lang`` as a :data:`Lang`: English for ``"en"``, Chinese (the default) otherwise."""
    return "en" if lang == "en" else "zh"


def pick(text: tuple[str, str], lang: str) -> str:
    """The ``lang`` half of a ``(zh, en)`` pair: English for ``"en"``, Chinese otherwise."""
    return text[1] if lang == "en" else text[0]


def named(obj: _Named, lang: str) -> str:
    """The name of a catalogue entry (facility type, indicator, catalogue) in ``lang``."""
    return pick((obj.name_zh, obj.name_en), lang)


def format_value(value: Any, unit: str, *, grouping: bool = True) -> str:
    """An indicator value or target as every output shows it.

    ``—`` for a missing or non-finite value; one decimal and ``%`` for a percentage; a
    whole number without decimals; otherwise two decimals. ``grouping`` adds thousands
    separators (tables and reports; chart labels leave them out).
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    v = float(value)
    if unit == "%":
        return f"{v:.1f}%"
    if v.is_integer():
        return f"{v:,.0f}" if grouping else f"{v:.0f}"
    return f"{v:,.2f}" if grouping else f"{v:.2f}"


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` display columns."""
    return text + " " * max(0, width - display_width(text))
