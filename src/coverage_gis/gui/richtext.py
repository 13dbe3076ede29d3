"""Text from the data in Qt widgets: shown as text, never interpreted as markup.

Qt renders a string as rich text (a subset of HTML: ``<img src>``, ``<a href>``, tables,
styles) when a widget is set to ``Qt.RichText`` or, for labels, tooltips and message boxes
left on ``Qt.AutoText``, when the string merely looks like HTML
(:func:`Qt.mightBeRichText`). A facility named ``<img src=x>`` or a catalogue called
``<a href=…>`` would then be drawn as an image or a link. The rules of the desktop app:

* item views (tables, lists, combo boxes, tree items) show their text as plain text;
* a label or message box that shows data is set to ``Qt.PlainText``;
* rich text built from data escapes every piece with :func:`esc` (HTML-escaped, and confined
  for bidirectional display when it holds U+202E or right-to-left letters, see
  :func:`coverage_gis.export.safety.bidi_isolate`);
* tooltips that may hold data go through :func:`tooltip` (escaped and always rich, so Qt
  never guesses).
"""

from __future__ import annotations

import html

from PySide6.QtGui import Qt

from coverage_gis.export.safety import bidi_isolate

__all__ = ["esc", "tooltip"]


def esc(value: object) -> str:
    """``value`` as text to embed in Qt rich text (escaped, bidi-isolated when needed)."""
    return html.escape(bidi_isolate(str(value)), quote=True)


def tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally, line breaks kept."""
    return Qt.convertFromPlainText("\n".join(bidi_isolate(line) for line in text.split("\n")))
