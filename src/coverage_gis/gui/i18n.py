"""The one translation mechanism of the desktop app: ``tr(zh, en)``.

Every user-facing string of the GUI is written in Chinese and English at the call site and
passed through :func:`tr`, which returns the text of the current language. Chinese is the
default; English is chosen in the settings (stored as ``ui/lang``). Plain Python, no Qt.
"""

from __future__ import annotations

__all__ = ["LANGUAGES", "language", "pick", "set_language", "tr"]

#: Supported UI languages.
LANGUAGES = ("zh", "en")

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
    return zh if _lang == "zh" else en


def pick(pair: tuple[str, str]) -> str:
    """:func:`tr` for a ``(zh, en)`` tuple, e.g. an entry of ``FIELD_LABELS``."""
    return tr(pair[0], pair[1])
