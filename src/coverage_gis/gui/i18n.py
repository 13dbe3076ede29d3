"""The desktop app's language: ``tr(zh, en)``, the package's one bilingual mechanism
(:mod:`coverage_gis.text`) with the app's current language.

Every user-facing string of the GUI is written in Chinese and English at the call site and
passed through :func:`tr`, which returns the text of the current language. Chinese is the
default; English is chosen in the settings (stored as ``ui/lang``). Plain Python, no Qt.
"""

from __future__ import annotations

from typing import Any

from coverage_gis import text
from coverage_gis.text import LANGUAGES

__all__ = ["LANGUAGES", "language", "named", "pick", "set_language", "tr"]

_lang = "zh"


def set_language(lang: str) -> None:
    """Set the UI language (``"zh"`` or ``"en"``; anything else falls back to Chinese)."""
    global _lang
    _lang = lang if lang in LANGUAGES else "zh"


def language() -> str:
    """The current UI language code."""
    return _lang


def tr(zh: str, en: str) -> str:
    """Return ``zh`` or ``en`` according to the current language."""
    return text.pick((zh, en), _lang)


def pick(pair: tuple[str, str]) -> str:
    """:func:`tr` for a ``(zh, en)`` tuple, e.g. an entry of ``FIELD_LABELS``."""
    return text.pick(pair, _lang)


def named(obj: Any) -> str:
    """The ``name_zh``/``name_en`` of a catalogue entry in the current language."""
    return text.named(obj, _lang)
