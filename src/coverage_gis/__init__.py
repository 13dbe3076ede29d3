"""coverage-gis: which 镇/街道 still lack a required civil-affairs facility.

Public API (pure Python, no Qt)::

    from coverage_gis import load_catalog, load_inputs, run_audit, audit, prepare

* :func:`load_catalog` — facility types and plan indicators from TOML;
* :func:`load_inputs` — read boundary and facility files (Excel, CSV, vector);
* :func:`audit` / :func:`prepare` — the coverage engine on normalised tables;
* :func:`run_audit` — the same from :class:`AuditInputs`, refusing inputs with errors.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "AuditInputs",
    "AuditOptions",
    "AuditResult",
    "CatalogError",
    "InputError",
    "__version__",
    "audit",
    "load_catalog",
    "load_inputs",
    "prepare",
    "run_audit",
]

_LAZY = {
    "AuditInputs": "coverage_gis.workflow",
    "load_inputs": "coverage_gis.workflow",
    "run_audit": "coverage_gis.workflow",
    "AuditOptions": "coverage_gis.core.results",
    "AuditResult": "coverage_gis.core.results",
    "audit": "coverage_gis.core.engine",
    "prepare": "coverage_gis.core.engine",
    "load_catalog": "coverage_gis.core.catalog",
    "CatalogError": "coverage_gis.core.errors",
    "InputError": "coverage_gis.core.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'coverage_gis' has no attribute {name!r}")
