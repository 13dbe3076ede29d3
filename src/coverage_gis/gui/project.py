"""Project files: which inputs, how to read them, and the view settings.

A project is a small JSON file (TOML is read too) with paths relative to the project file,
so a folder with the project and its data can be moved or mailed. Saving writes a temporary
file next to the target and renames it over the target (:func:`os.replace`), so a crash
never leaves a half-written project. Plain Python, no Qt.

A project file may come from someone else, and its paths may point anywhere
(``../../…``, ``/home/…``). :func:`outside_paths` lists the inputs that lie outside the
project file's folder; the desktop app shows that list and asks before it reads any of them
(projects the app wrote itself — autosave, last session — are not asked about).

Example::

    {
      "format": "coverage-gis-project", "version": 1,
      "boundaries": "data/townships.geojson", "boundaries_crs": null,
      "facilities": [{"path": "data/养老设施.xlsx", "crs": "gcj02", "columns": {"lon": "X"}}],
      "catalog": null, "as_of": "2025-12-31", "indicator": "T2-4", "county": null,
      "include_functional_zones": false, "demo": false,
      "scenario": {"name": "规划方案", "sites": [{"name": "规划点位 1",
                   "type_code": "regional_elderly_care_center", "lon": 120.86, "lat": 31.02}]}
    }

``scenario`` (optional; older files have none) is the planning scenario as
:meth:`coverage_gis.siting.scenario.Scenario.to_dict` writes it. A bad site in it (a
latitude of 95, a date that is not ``YYYY-MM-DD``) makes :func:`load_project` refuse the
file with an :class:`~coverage_gis.core.errors.InputError` naming the file, site row and field.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coverage_gis.core.errors import InputError
from coverage_gis.siting.scenario import Scenario
from coverage_gis.spec import AuditSpec, FacilitySpec

__all__ = [
    "FORMAT",
    "FacilitySource",
    "Project",
    "load_project",
    "outside_paths",
    "save_project",
]

FORMAT = "coverage-gis-project"
VERSION = 1


@dataclass
class FacilitySource:
    """One facility file and how to read it.

    Attributes
    ----------
    path
        File path (absolute in memory; relative to the project file on disk).
    crs
        Source coordinate system (wgs84, cgcs2000, gcj02, bd09, EPSG:n); ``None`` = not
        declared (read as WGS84, and a system is suggested from the named units).
    columns
        Explicit column mapping ``{field: header}`` chosen in the mapping dialog.
    encoding
        Forced CSV encoding (``None`` = detect).
    layer
        Layer of a GeoPackage or zip archive (``None``: the only or first one).
    """

    path: str
    crs: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    layer: str | None = None


@dataclass
class Project:
    """Inputs and settings of one audit session."""

    boundaries: str | None = None
    boundaries_crs: str | None = None
    facilities: list[FacilitySource] = field(default_factory=list)
    catalog: str | None = None
    as_of: str | None = None
    indicator: str | None = None
    county: str | None = None
    include_functional_zones: bool = False
    demo: bool = False
    #: Inputs of access indicators: community table or population raster, water, roads
    #: (``None``: the units' own population; no water; no roads — the demo has its own).
    population: str | None = None
    water: str | None = None
    roads: str | None = None
    #: The planning scenario (规划方案): planned sites evaluated beside the real data
    #: (``None``: no planned site).
    scenario: Scenario | None = None
    #: Boundary layer and column mapping; manual indicator values (TOML).
    boundaries_layer: str | None = None
    boundary_columns: dict[str, str] = field(default_factory=dict)
    values: str | None = None

    # -- the audit it declares ----------------------------------------------------------
    def to_spec(self) -> AuditSpec:
        """The :class:`~coverage_gis.spec.AuditSpec` of this project: what the desktop app
        reads and audits (the view — indicator, county, scenario — is not part of it).

        Per-file CSV encodings become the spec's one encoding when they agree (the
        readers take one); files with their own encoding otherwise fall back to detection.
        """
        encodings = {f.encoding for f in self.facilities}
        return AuditSpec(
            demo=self.demo,
            boundaries=None if self.demo else self.boundaries,
            boundaries_layer=self.boundaries_layer,
            boundaries_crs=self.boundaries_crs,
            boundary_columns=tuple(self.boundary_columns.items()),
            facilities=()
            if self.demo
            else tuple(
                FacilitySpec(f.path, crs=f.crs, layer=f.layer, columns=tuple(f.columns.items()))
                for f in self.facilities
            ),
            catalog=self.catalog,
            population=None if self.demo else self.population,
            water=None if self.demo else self.water,
            roads=None if self.demo else self.roads,
            encoding=encodings.pop() if len(encodings) == 1 else None,
            as_of=self.as_of,
            values=self.values,
            include_functional_zones=self.include_functional_zones,
        )

    @classmethod
    def from_spec(cls, spec: AuditSpec, **view: Any) -> Project:
        """A project auditing ``spec`` (``view``: indicator, county, scenario …)."""
        return cls(
            demo=spec.demo,
            boundaries=spec.boundaries,
            boundaries_layer=spec.boundaries_layer,
            boundaries_crs=spec.boundaries_crs,
            boundary_columns=dict(spec.boundary_columns),
            facilities=[
                FacilitySource(
                    f.path,
                    crs=f.crs,
                    columns=dict(f.columns),
                    encoding=spec.encoding,
                    layer=f.layer,
                )
                for f in spec.facilities
            ],
            catalog=spec.catalog,
            population=spec.population,
            water=spec.water,
            roads=spec.roads,
            as_of=spec.as_of,
            values=spec.values,
            include_functional_zones=spec.include_functional_zones,
            **view,
        )

    # -- (de)serialisation --------------------------------------------------------------
    def to_dict(self, base_dir: Path | None = None) -> dict[str, Any]:
        """JSON-ready dict; paths relative to ``base_dir`` where possible."""

        def rel(p: str | None) -> str | None:
            if p is None or base_dir is None:
                return p
            try:
                return Path(os.path.relpath(Path(p).resolve(), base_dir.resolve())).as_posix()
            except ValueError:  # another drive on Windows
                return str(p)

        return {
            "format": FORMAT,
            "version": VERSION,
            "demo": self.demo,
            "boundaries": None if self.demo else rel(self.boundaries),
            "boundaries_crs": self.boundaries_crs,
            "facilities": []
            if self.demo
            else [
                {
                    "path": rel(f.path),
                    "crs": f.crs,
                    "columns": dict(f.columns),
                    "encoding": f.encoding,
                    "layer": f.layer,
                }
                for f in self.facilities
            ],
            "boundaries_layer": self.boundaries_layer,
            "boundary_columns": dict(self.boundary_columns),
            "values": rel(self.values),
            "catalog": rel(self.catalog),
            "as_of": self.as_of,
            "indicator": self.indicator,
            "county": self.county,
            "include_functional_zones": self.include_functional_zones,
            "population": None if self.demo else rel(self.population),
            "water": None if self.demo else rel(self.water),
            "roads": None if self.demo else rel(self.roads),
            "scenario": self.scenario.to_dict() if self.scenario is not None else None,
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], base_dir: Path | None = None, *, file: str | None = None
    ) -> Project:
        """Inverse of :meth:`to_dict` (relative paths resolved against ``base_dir``).

        Parameters
        ----------
        data
            The project file's table.
        base_dir
            Folder relative paths are resolved against.
        file
            The project file, named by the error about a bad scenario.

        Raises
        ------
        InputError
            When the scenario holds a bad site (see
            :meth:`~coverage_gis.siting.scenario.Scenario.from_dict`).
        """

        def absolute(p: Any) -> str | None:
            if p is None or p == "":
                return None
            path = Path(str(p))
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            return str(path.resolve())

        facilities = []
        for item in data.get("facilities") or []:
            if isinstance(item, str):
                item = {"path": item}
            facilities.append(
                FacilitySource(
                    path=absolute(item.get("path")) or "",
                    crs=item.get("crs") or None,
                    columns={str(k): str(v) for k, v in (item.get("columns") or {}).items()},
                    encoding=item.get("encoding") or None,
                    layer=item.get("layer") or None,
                )
            )
        return cls(
            boundaries=absolute(data.get("boundaries")),
            boundaries_crs=data.get("boundaries_crs") or None,
            facilities=facilities,
            catalog=absolute(data.get("catalog")),
            as_of=data.get("as_of") or None,
            indicator=data.get("indicator") or None,
            county=data.get("county") or None,
            include_functional_zones=bool(data.get("include_functional_zones", False)),
            demo=bool(data.get("demo", False)),
            population=absolute(data.get("population")),
            water=absolute(data.get("water")),
            roads=absolute(data.get("roads")),
            scenario=None
            if data.get("scenario") is None
            else Scenario.from_dict(data["scenario"], file=file),
            boundaries_layer=data.get("boundaries_layer") or None,
            boundary_columns={
                str(k): str(v) for k, v in (data.get("boundary_columns") or {}).items()
            },
            values=absolute(data.get("values")),
        )

    @property
    def has_inputs(self) -> bool:
        """True when the project names boundaries and at least one facility file."""
        return self.demo or (self.boundaries is not None and bool(self.facilities))


def save_project(project: Project, path: str | Path) -> Path:
    """Write a project as JSON, atomically (temporary file + :func:`os.replace`).

    Relative paths are written relative to the project file's folder.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(project.to_dict(target.parent), ensure_ascii=False, indent=2)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_project(path: str | Path) -> Project:
    """Read a project file (JSON, or TOML with the same keys).

    Raises
    ------
    InputError
        When the file cannot be read, is not a coverage-gis project, or its scenario holds
        a bad site (the error names the file, the site's row and the field).
    """
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
        data = tomllib.loads(raw) if p.suffix.lower() == ".toml" else json.loads(raw)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"无法读取项目文件：{exc}", f"Cannot read project file: {exc}", file=str(p)
        ) from exc
    if not isinstance(data, dict) or data.get("format", FORMAT) != FORMAT:
        raise InputError(
            "不是 coverage-gis 项目文件", "Not a coverage-gis project file", file=str(p)
        )
    return Project.from_dict(data, p.parent, file=str(p))


def outside_paths(project: Project, project_file: str | Path) -> list[str]:
    """The input files of ``project`` that lie outside the folder of ``project_file``.

    Parameters
    ----------
    project
        A project as read by :func:`load_project` (absolute paths).
    project_file
        The project file it was read from.

    Returns
    -------
    list of str
        Boundaries, facility files, catalogue, population, water, roads and manual values,
        in that order, whose resolved path
        (symbolic links followed) is not inside the project file's folder or below it. The
        demo data shipped with the program does not count; the list is empty for the demo
        and for a project whose inputs all sit beside it.
    """
    from coverage_gis._paths import data_path

    trusted = [Path(project_file).resolve().parent, data_path().resolve()]
    paths = [
        project.boundaries,
        *(f.path for f in project.facilities),
        project.catalog,
        project.population,
        project.water,
        project.roads,
        project.values,
    ]
    return [str(p) for p in paths if p and not any(_below(Path(p), root) for root in trusted)]


def _below(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True
