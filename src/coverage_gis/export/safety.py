"""Spreadsheet formula injection: the one rule every CSV and XLSX writer applies.

A facility list is data from many hands. A name such as ``=HYPERLINK("http://x","click")``
or ``=cmd|' /C calc'!A0`` written verbatim into a CSV or an Excel workbook is run as a
formula when a planner opens the file (OWASP "CSV injection"). Excel starts a formula on a
cell that begins with ``=``, ``+``, ``-`` or ``@``, and a leading tab or carriage return
can hide such a start. The rule, for every file this program writes:

CSV (:func:`spreadsheet_safe`, :func:`safe_frame`)
    A **text** cell (a ``str``; in object, string or categorical columns) that starts with
    one of :data:`FORMULA_PREFIXES` is written with a single quote ``'`` in front, as
    OWASP recommends; Excel then shows it as text (with the quote). Column headers follow
    the same rule. Numeric columns are never touched, so a genuine ``-3.5`` stays the
    number ``-3.5``; a text cell that is a plain number (``"-3.5"``, ``"+86"``, matched by
    :data:`PLAIN_NUMBER`) is left as it is too, since Excel reads it as a number, never as a
    formula. Everything else is unchanged.
XLSX (:func:`protect_cell`)
    Every ``str`` value is stored as a string cell (``data_type = "s"``), never as a
    formula (openpyxl would make one of any text starting with ``=``) or an error value
    (``#N/A``); a text that starts with one of :data:`FORMULA_PREFIXES` also gets Excel's
    "quote prefix" style, so editing the cell in Excel keeps it text. The text itself is
    not changed. The workbooks of this program contain no formulas of their own.

Bidirectional text (:func:`bidi_isolate`)
    A name holding U+202E RIGHT-TO-LEFT OVERRIDE (or other bidi controls, or right-to-left
    letters) reorders the text that follows it on screen: ``‮txt.exe`` beside other names
    in one line can make them read backwards. Where several names are joined into one
    display string (summary lines, the map's data-source line, the desktop app's detail
    title), each such name is wrapped in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE
    (U+2068 … U+2069), which confines it. Names without such characters are unchanged,
    and the CSV/XLSX/JSON data keeps every name as written.

Terminal text (:func:`terminal_safe`)
    Text printed to a terminal (the indicator table, the validation report, error
    messages) shows control characters (ESC sequences that could clear the screen, retitle
    the window or hide text; bidi overrides) as visible escapes such as ``\x1b``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where a frame is made safe (the CLI imports this early)
    import pandas as pd

__all__ = [
    "BIDI_ISOLATE",
    "FORMULA_PREFIXES",
    "PLAIN_NUMBER",
    "bidi_isolate",
    "protect_cell",
    "safe_frame",
    "safe_series",
    "spreadsheet_safe",
    "terminal_safe",
]

#: Characters that make Excel (or LibreOffice) read a cell as a formula, or hide such a start.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: A text that is just a number (``-3.5``, ``+1e3``): read as a number, never as a formula.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_STARTS_RISKY = re.compile("[" + re.escape("".join(FORMULA_PREFIXES)) + "]")


def _risky(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES) and PLAIN_NUMBER.fullmatch(text) is None


def spreadsheet_safe(value: Any) -> Any:
    """Return ``value`` as it may be written to a CSV cell (see the module docstring).

    Parameters
    ----------
    value
        Any cell value. Only ``str`` values are ever changed.

    Returns
    -------
    Any
        ``"'" + value`` for a text that starts with one of :data:`FORMULA_PREFIXES` and is
        not a plain number; ``value`` itself otherwise.
    """
    if isinstance(value, str) and _risky(value):
        return "'" + value
    return value


def safe_series(s: pd.Series) -> pd.Series:
    """A column with :func:`spreadsheet_safe` applied to its text cells (vectorised).

    Numeric, boolean and date columns are returned as they are; object, string and
    categorical columns are checked with pandas string methods, non-text cells left alone.
    """
    import pandas as pd

    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        return s
    try:
        starts = s.str.match(_STARTS_RISKY, na=False)
    except AttributeError:  # no text cell at all (e.g. only None, bools or dates)
        return s
    starts = starts.astype(bool)
    if not starts.any():
        return s
    number = s[starts].str.fullmatch(PLAIN_NUMBER, na=False).astype(bool)
    hit = starts.copy()
    hit[starts] = ~number.to_numpy()  # positional (pandas 2 aligns a Series and upcasts)
    if not hit.any():
        return s
    out = s.copy()  # object or string dtype: both take the prefixed text
    out[hit] = "'" + s[hit].astype(str)
    return out


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` that is safe to write as CSV (text cells and headers).

    Parameters
    ----------
    frame
        The table to write.

    Returns
    -------
    pandas.DataFrame
        The same shape, index and dtypes except where a text cell or header was prefixed
        (see the module docstring). ``frame`` itself is not modified.
    """
    out = frame.copy(deep=False)
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        safe = safe_series(col)
        if safe is not col:
            out.isetitem(j, safe)
    out.columns = [spreadsheet_safe(c) for c in out.columns]
    return out


def protect_cell(cell: Any) -> Any:
    """Make an openpyxl cell holding text a plain string cell (see the module docstring).

    Call it after assigning the value. Non-text cells are left alone.

    Parameters
    ----------
    cell
        An ``openpyxl.cell.cell.Cell``.

    Returns
    -------
    Any
        The same cell.
    """
    value = cell.value
    if isinstance(value, str):
        if cell.data_type != "s":
            cell.data_type = "s"  # never a formula ('f') or an error value ('e')
        if value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    return cell


#: FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE.
BIDI_ISOLATE = ("\u2068", "\u2069")
# right-to-left letters and the explicit embedding, override and isolate controls
_BIDI_CLASSES = frozenset(
    {"R", "AL", "RLE", "LRE", "RLO", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI"}
)


def bidi_isolate(text: str) -> str:
    """``text`` confined for bidirectional display when it could reorder its neighbours.

    Parameters
    ----------
    text
        A name to be shown next to other text.

    Returns
    -------
    str
        ``text`` wrapped in U+2068 … U+2069 when it holds a right-to-left letter or a bidi
        control character (U+202A–U+202E, U+2066–U+2069); ``text`` itself otherwise.
    """
    if any(unicodedata.bidirectional(ch) in _BIDI_CLASSES for ch in text):
        return BIDI_ISOLATE[0] + text + BIDI_ISOLATE[1]
    return text


# C0/C1 controls but newline and tab, and the bidi embedding/override/isolate controls
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with control characters shown as escapes, for printing to a terminal.

    Parameters
    ----------
    text
        Text that may hold names from the data.

    Returns
    -------
    str
        The same text; each control character other than newline and tab (ESC, BEL, CR …,
        C1 controls, U+202A–U+202E, U+2066–U+2069) replaced by ``\\xNN`` or ``\\uNNNN``.
    """
    return _TERMINAL_UNSAFE.sub(lambda m: repr(m.group())[1:-1], text)
