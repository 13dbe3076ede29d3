"""Entry point of the frozen desktop build (``packaging/coverage-gis.spec``).

``coverage-gis`` (``coverage-gis.exe``) starts the desktop app exactly like
``coverage-gis-gui`` (``--demo``, ``--project``, ``--screenshot PNG``, ``--lang``, files).
``coverage-gis --cli ARGS…`` runs the command line instead (``coverage-gis --cli map --demo
--out gap_map.html``), so the bundle can audit and export without a Python installation;
the frozen build's tests use it to check the HTML map export.

In the bundle the libraries find their own data (PROJ's ``proj.db``, GDAL's data) next to
their modules; a ``PROJ_LIB``/``PROJ_DATA``/``GDAL_DATA`` left in the environment by another
GIS program (QGIS, OSGeo4W) would point them at files of another version, so those
variables are dropped when frozen.
"""

from __future__ import annotations

import os
import sys

#: Environment variables that would send the bundled GDAL/PROJ to another installation's data.
FOREIGN_GIS_ENV = ("PROJ_LIB", "PROJ_DATA", "GDAL_DATA", "GDAL_DRIVER_PATH")

#: First argument that selects the command line instead of the desktop app.
CLI_FLAG = "--cli"


def _isolate_from_foreign_gis() -> None:
    for name in FOREIGN_GIS_ENV:
        os.environ.pop(name, None)


def main(argv: list[str] | None = None) -> int:
    """Run the desktop app, or the command line after ``--cli``; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if getattr(sys, "frozen", False):
        _isolate_from_foreign_gis()
    os.environ.setdefault("MPLBACKEND", "Agg")  # charts and static maps draw off-screen
    if args[:1] == [CLI_FLAG]:
        from coverage_gis.cli import main as cli_main

        return cli_main(args[1:])
    from coverage_gis.gui.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
