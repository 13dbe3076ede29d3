"""Validation findings: one structured list of what was noticed in the inputs.

A :class:`Finding` is a data issue that does not stop the program by itself (an error-level
finding makes ``audit`` refuse to run unless errors are allowed). Readers and the engine
append findings to a :class:`Findings` collection; exporters turn it into a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd

from coverage_gis.text import pick

__all__ = ["FINDING_COLUMNS", "Finding", "Findings", "Severity"]

Severity = Literal["error", "warning", "info"]

FINDING_COLUMNS = [
    "severity",
    "code",
    "message_zh",
    "message_en",
    "file",
    "sheet",
    "row",
    "column",
    "value",
    "suggestion",
    "count",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One data issue.

    ``code`` is a stable machine-readable identifier such as ``point_outside_units``;
    ``row`` is the row number the user sees in the source file; ``count`` is the number of
    rows the finding stands for when it summarises several (e.g. unmatched type values).
    """

    severity: Severity
    code: str
    message_zh: str
    message_en: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    suggestion: str | None = None
    count: int = 1

    def message(self, lang: str) -> str:
        """The message in ``lang`` (see :func:`coverage_gis.text.pick`)."""
        return pick((self.message_zh, self.message_en), lang)

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a plain dict (JSON-friendly values)."""
        d = asdict(self)
        if d["value"] is not None and not isinstance(d["value"], (str, int, float, bool)):
            d["value"] = str(d["value"])
        return d


@dataclass
class Findings:
    """An ordered, appendable collection of :class:`Finding`."""

    items: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        """Append one finding."""
        self.items.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        """Append several findings."""
        self.items.extend(findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def count(self, severity: Severity) -> int:
        """Number of findings of one severity."""
        return sum(1 for f in self.items if f.severity == severity)

    @property
    def has_errors(self) -> bool:
        """True when at least one error-level finding is present."""
        return any(f.severity == "error" for f in self.items)

    def to_frame(self) -> pd.DataFrame:
        """Return the findings as a DataFrame with :data:`FINDING_COLUMNS`."""
        if not self.items:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS})
        return pd.DataFrame([f.to_dict() for f in self.items], columns=FINDING_COLUMNS)
