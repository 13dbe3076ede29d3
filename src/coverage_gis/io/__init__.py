"""Readers: boundaries and facility lists in the formats planners have.

One module per concern: :mod:`~coverage_gis.io.boundaries` (vector boundary files),
:mod:`~coverage_gis.io.facilities` (Excel / CSV / vector facility lists),
:mod:`~coverage_gis.io.columns` (column synonyms and mappings),
:mod:`~coverage_gis.io.coords` (coordinate cells) and :mod:`~coverage_gis.io.encoding`
(text encodings).
"""

from __future__ import annotations

__all__ = ["read_boundaries", "read_facilities"]


def __getattr__(name: str) -> object:
    # Lazy re-exports keep ``import coverage_gis.io.coords`` light.
    if name == "read_boundaries":
        from coverage_gis.io.boundaries import read_boundaries

        return read_boundaries
    if name == "read_facilities":
        from coverage_gis.io.facilities import read_facilities

        return read_facilities
    raise AttributeError(name)
