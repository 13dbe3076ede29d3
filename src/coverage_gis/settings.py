"""User configuration: a small TOML file read at call time (never written by the engine).

Location: ``$COVERAGE_GIS_CONFIG`` if set, else ``%APPDATA%\\coverage-gis\\config.toml`` on
Windows and ``$XDG_CONFIG_HOME/coverage-gis/config.toml`` (default ``~/.config``) elsewhere.

Known keys::

    [map]
    tianditu_key = "…"     # 天地图 key for --basemap tianditu
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from coverage_gis.core.errors import InputError

__all__ = ["CONFIG_ENV", "config_path", "get_setting"]

CONFIG_ENV = "COVERAGE_GIS_CONFIG"


def config_path() -> Path:
    """Where the user configuration file is looked for."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "coverage-gis" / "config.toml"


def get_setting(dotted: str, default: Any = None) -> Any:
    """Value of ``section.key`` from the user configuration, or ``default``.

    Raises
    ------
    InputError
        When the file exists but is not valid TOML (naming the file).
    """
    path = config_path()
    if not path.is_file():
        return default
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(
            f"配置文件无法读取：{exc}", f"Cannot read the configuration file: {exc}", file=str(path)
        ) from exc
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return default
        data = data[part]
    return data
