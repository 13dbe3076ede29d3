"""The boundary checks' findings, cached by the boundary file's content.

Checking overlaps and gaps of 40,000 detailed township outlines takes seconds to a minute,
while a bureau's boundary file changes once a year. :func:`cached_coverage_check` keys the
findings of :func:`coverage_gis.io.boundaries.check_coverage` on the SHA-256 of the file,
the options it was read with, the software version and the check's thresholds, and keeps
them as JSON in a per-user cache directory:

* ``$COVERAGE_GIS_CACHE_DIR``, else ``$XDG_CACHE_HOME/coverage-gis``, else
  ``~/.cache/coverage-gis``; ``COVERAGE_GIS_CACHE=0`` turns the cache off;
* an unreadable or corrupt entry is ignored (and rewritten); entries are written to a
  temporary file and renamed, so a crash never leaves half an entry.

A changed file, other reading options or another version of the software miss the cache;
the same content under another path (a copy, a relative spelling) hits it, its findings
naming the path asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd

from coverage_gis.core.findings import Finding

__all__ = ["cache_dir", "cached_coverage_check", "check_key"]

#: Bump when check_coverage's rules change, so that old entries are not used.
CHECK_VERSION = "2"


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is turned off."""
    if os.environ.get("COVERAGE_GIS_CACHE", "1").strip().lower() in ("0", "off", "no", "false"):
        return None
    if os.environ.get("COVERAGE_GIS_CACHE_DIR"):
        return Path(os.environ["COVERAGE_GIS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "coverage-gis"


def check_key(file_sha256: str, options: Mapping[str, Any]) -> str:
    """Cache key of one boundary file's check: content, reading options, versions."""
    from coverage_gis import __version__
    from coverage_gis.io.boundaries import coverage_parameters

    payload = json.dumps(
        {
            "file": file_sha256,
            "options": {k: options[k] for k in sorted(options)},
            "software": __version__,
            "check": CHECK_VERSION,
            "coverage": coverage_parameters(),  # the check's own version and thresholds
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def cached_coverage_check(
    units: gpd.GeoDataFrame,
    *,
    file: str,
    options: Mapping[str, Any] | None = None,
    compute: Callable[..., list[Finding]] | None = None,
    digest: str | None = None,
) -> list[Finding]:
    """``check_coverage(units, file=file)``, from the cache when the file was checked before.

    Parameters
    ----------
    units
        The units read from ``file`` with ``options``.
    file
        The boundary file (its content is hashed).
    options
        How the file was read (layer, CRS, column mapping): part of the key.
    compute
        The check (default :func:`coverage_gis.io.boundaries.check_coverage`).
    digest
        The file's SHA-256 when the caller has it already (hashed here otherwise).
    """
    from coverage_gis.io.boundaries import check_coverage

    compute = compute or check_coverage
    folder = cache_dir()
    if folder is None or not Path(file).is_file():
        return compute(units, file=file)
    from coverage_gis.io.digest import file_sha256

    key = check_key(digest or file_sha256(file), dict(options or {}))
    path = folder / f"coverage-check-{key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") == key:
            # the same content under another name (a copy, a relative path): the findings
            # are the same but for the file they name
            was, now = data["file"], str(file)
            return [
                Finding(**({**f, "file": now} if f.get("file") == was else f))
                for f in data["findings"]
            ]
    except (OSError, ValueError, TypeError, KeyError):
        pass  # missing or corrupt: computed again and rewritten
    findings = compute(units, file=file)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".check-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(
                {"key": key, "file": str(file), "findings": [f.to_dict() for f in findings]},
                fh,
                ensure_ascii=False,
            )
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home is no reason to fail an audit
    return findings
