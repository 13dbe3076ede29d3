"""Locate the shipped ``resources/`` and ``data/`` folders.

In an installed wheel they live inside the package (``coverage_gis/resources``,
``coverage_gis/data``); in a source checkout (editable install) they sit at the repository
root. Both are looked up at call time, never downloaded.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _root(name: str) -> Path:
    inside = _PKG / name
    if inside.is_dir():
        return inside
    checkout = _PKG.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"coverage-gis 安装不完整：找不到 {name}/ / incomplete installation: {name}/ not found"
    )


def resource_path(*parts: str) -> Path:
    """Path of a file under ``resources/``."""
    return _root("resources").joinpath(*parts)


def data_path(*parts: str) -> Path:
    """Path of a file under ``data/`` (embedded demo data)."""
    return _root("data").joinpath(*parts)
