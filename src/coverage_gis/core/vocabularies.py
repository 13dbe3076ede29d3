"""The status and yes/no vocabularies, read once from ``resources/vocabularies.toml``.

Plain data: the engine classifies statuses and the readers parse flags with these sets, so
a planner's new spelling is one line in the TOML file, not a code change.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache

from coverage_gis._paths import resource_path

__all__ = ["vocabulary"]


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, frozenset[str]]]:
    data = tomllib.loads(resource_path("vocabularies.toml").read_text(encoding="utf-8"))
    return {
        section: {key: frozenset(str(v) for v in values) for key, values in words.items()}
        for section, words in data.items()
    }


def vocabulary(section: str, key: str) -> frozenset[str]:
    """The words of ``[section] key`` (e.g. ``vocabulary("status", "closed")``)."""
    return _table()[section][key]
