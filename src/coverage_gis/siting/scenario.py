"""Scenarios (规划方案): today's facilities plus planned sites, evaluated like real data.

A :class:`Scenario` is a named list of :class:`PlannedSite` — suggested by
:func:`~coverage_gis.siting.suggest.suggest_sites`, placed by hand (a click on the desktop
map) or read from a file of planned sites with 计划建成时间. Each site counts from its
planned date like a real facility from its opening date; a site that is not accepted stays
in the list (the planner can accept it later) but does not count.

:func:`evaluate_scenario` appends the accepted sites to a prepared audit
(:meth:`~coverage_gis.core.engine.PreparedAudit.with_facilities`: only the new rows are matched
and located) and evaluates it, so the indicator table can show "now → with this plan";
the prepared audit of the real data is never changed. Plain Python, no Qt; the desktop
project file stores a scenario as :meth:`Scenario.to_dict`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Findings
from coverage_gis.core.schema import coerce_facilities

if TYPE_CHECKING:
    from coverage_gis.core.catalog import Catalog
    from coverage_gis.core.engine import PreparedAudit
    from coverage_gis.core.results import AuditOptions, AuditResult
    from coverage_gis.siting.suggest import SiteSuggestion

__all__ = [
    "ORIGINS",
    "PlannedSite",
    "Scenario",
    "evaluate_scenario",
    "planned_sites_from_suggestion",
    "read_scenario_file",
    "scenario_from_rows",
    "site_fields",
    "suggested_layer",
]

#: Where a planned site came from.
ORIGINS = ("manual", "suggested", "file")


@dataclass(frozen=True)
class PlannedSite:
    """One planned facility.

    Attributes
    ----------
    name
        Site name (shown in tables, tooltips and the workbook).
    type_code
        Catalogue facility type code (e.g. ``regional_elderly_center``).
    lon, lat
        WGS84 degrees.
    planned
        计划建成时间: the site counts from this date; ``None`` = from any date.
    meets_standard
        Built to the standard (达标); indicators that count only standard facilities
        need it.
    beds, nursing_beds
        Capacity, where the type has one.
    origin
        ``manual`` (placed by hand), ``suggested`` (a siting model) or ``file``.
    indicator
        The indicator it was suggested for, if any.
    gain
        What the model said it adds (residents within reach), if suggested.
    accepted
        Counted in the scenario (a rejected suggestion stays listed but does not count).
    """

    name: str
    type_code: str
    lon: float
    lat: float
    planned: dt.date | None = None
    meets_standard: bool | None = True
    beds: float | None = None
    nursing_beds: float | None = None
    origin: str = "manual"
    indicator: str | None = None
    gain: float | None = None
    accepted: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO text; ``None`` fields left out, except an unknown
        ``meets_standard``, which differs from the default)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None and f.name != "meets_standard":
                continue
            out[f.name] = v.isoformat() if isinstance(v, dt.date) else v
        return out


@dataclass(frozen=True)
class Scenario:
    """A named list of planned sites (see the module docstring)."""

    name: str = "规划方案"
    sites: tuple[PlannedSite, ...] = field(default_factory=tuple)

    @property
    def accepted(self) -> tuple[PlannedSite, ...]:
        """The sites that count."""
        return tuple(s for s in self.sites if s.accepted)

    def adding(self, *sites: PlannedSite) -> Scenario:
        """This scenario with ``sites`` appended."""
        return dataclasses.replace(self, sites=(*self.sites, *sites))

    def removing(self, index: int) -> Scenario:
        """This scenario without the site at ``index``."""
        self._check(index)
        return dataclasses.replace(self, sites=self.sites[:index] + self.sites[index + 1 :])

    def accepting(self, index: int, accepted: bool = True) -> Scenario:
        """This scenario with the site at ``index`` accepted (or rejected)."""
        self._check(index)
        site = dataclasses.replace(self.sites[index], accepted=bool(accepted))
        return dataclasses.replace(
            self, sites=(*self.sites[:index], site, *self.sites[index + 1 :])
        )

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self.sites):
            raise IndexError(f"no site {index} in a scenario of {len(self.sites)}")

    @property
    def source(self) -> str:
        """The name the scenario's rows carry as their source file (accounting, findings)."""
        return f"规划方案 {self.name}"

    def to_facilities(self, *, all_sites: bool = False) -> pd.DataFrame:
        """The accepted sites (every site with ``all_sites``) as normalised facility rows.

        ``source_row`` is the site's position in :attr:`sites` plus one, so a finding
        about a row names the site as the planner sees it in the list.
        """
        rows = [(i, s) for i, s in enumerate(self.sites) if all_sites or s.accepted]
        frame = pd.DataFrame(
            {
                "source_file": [self.source] * len(rows),
                "source_sheet": [None] * len(rows),
                "source_row": [i + 1 for i, _ in rows],
                "name": [s.name for _, s in rows],
                "type_raw": [s.type_code for _, s in rows],
                "lon": [float(s.lon) for _, s in rows],
                "lat": [float(s.lat) for _, s in rows],
                "status": [None] * len(rows),
                "opened": [pd.Timestamp(s.planned) if s.planned else pd.NaT for _, s in rows],
                "meets_standard": pd.array([s.meets_standard for _, s in rows], dtype="boolean"),
                "beds": [np.nan if s.beds is None else float(s.beds) for _, s in rows],
                "nursing_beds": [
                    np.nan if s.nursing_beds is None else float(s.nursing_beds) for _, s in rows
                ],
            }
        )
        return coerce_facilities(frame)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as the desktop project file stores it."""
        return {"name": self.name, "sites": [s.to_dict() for s in self.sites]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None) -> Scenario:
        """Read :meth:`to_dict`'s form back, refusing bad values with a bilingual error.

        Raises
        ------
        InputError
            A site without a name or type, coordinates that are not numbers in range, a
            date that is not ISO ``YYYY-MM-DD``, an unknown origin.
        """
        if not isinstance(data, Mapping):
            raise InputError("规划方案格式不对", "A scenario must be a table", file=file)
        name = str(data.get("name") or "规划方案")
        raw_sites = data.get("sites") or []
        if not isinstance(raw_sites, list):
            raise InputError(
                "规划方案的 sites 应为列表", "A scenario's sites must be a list", file=file
            )
        return cls(name, tuple(_site(d, i + 1, file) for i, d in enumerate(raw_sites)))


def _site(d: Any, row: int, file: str | None) -> PlannedSite:
    def bad(column: str, value: Any, zh: str, en: str) -> InputError:
        return InputError(
            f"规划方案第 {row} 个点位：{zh}",
            f"Scenario site {row}: {en}",
            file=file,
            row=row,
            column=column,
            value=None if value is None else str(value),
        )

    if not isinstance(d, Mapping):
        raise bad("sites", d, "应为键值表", "must be a table")
    name = d.get("name")
    type_code = d.get("type_code")
    if not isinstance(name, str) or not name.strip():
        raise bad("name", name, "缺少名称", "has no name")
    if not isinstance(type_code, str) or not type_code.strip():
        raise bad("type_code", type_code, "缺少设施类型", "has no facility type")
    coords = {}
    for key, lo, hi in (("lon", -180.0, 180.0), ("lat", -90.0, 90.0)):
        v = d.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise bad(key, v, "坐标不是数字", "coordinate is not a number")
        if not lo <= float(v) <= hi:
            raise bad(key, v, "坐标超出范围", "coordinate out of range")
        coords[key] = float(v)
    planned = d.get("planned")
    if planned is not None:
        try:
            planned = dt.date.fromisoformat(str(planned))
        except ValueError:
            raise bad(
                "planned", planned, "计划建成时间应为 YYYY-MM-DD", "planned date must be YYYY-MM-DD"
            ) from None
    origin = d.get("origin", "manual")
    if origin not in ORIGINS:
        raise bad(
            "origin", origin, f"来源应为 {'/'.join(ORIGINS)}", f"origin must be one of {ORIGINS}"
        )
    numbers: dict[str, float | None] = {}
    for key in ("beds", "nursing_beds", "gain"):
        v = d.get(key)
        if v is not None and (
            isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
        ):
            raise bad(key, v, "不是数字", "is not a number")
        numbers[key] = None if v is None else float(v)
    meets = d.get("meets_standard", True)
    if meets is not None and not isinstance(meets, bool):
        raise bad("meets_standard", meets, "应为 true/false", "must be true or false")
    indicator = d.get("indicator")
    return PlannedSite(
        name=name.strip(),
        type_code=type_code.strip(),
        lon=coords["lon"],
        lat=coords["lat"],
        planned=planned,
        meets_standard=meets,
        beds=numbers["beds"],
        nursing_beds=numbers["nursing_beds"],
        origin=origin,
        indicator=str(indicator) if indicator is not None else None,
        gain=numbers["gain"],
        accepted=bool(d.get("accepted", True)),
    )


def read_scenario_file(
    path: str | Path, *, encoding: str | None = None
) -> tuple[pd.DataFrame, Findings, dict[str, Any]]:
    """A file of planned sites as facility rows, with the reader's findings and a
    description of the file (role ``scenario``, path, sha256, rows).

    The file is read like a facility file (any format; headers as in facility files;
    coordinates WGS84, ``encoding`` for CSV); each row counts from its planned date
    (``计划建成时间`` or any ``opened`` column), and its status column is ignored (a
    planned site is in service once built).
    """
    from coverage_gis.io.digest import file_sha256
    from coverage_gis.io.facilities import read_facility_file

    frame, found = read_facility_file(path, encoding=encoding)
    frame = frame.copy()
    if "status" in frame:
        frame["status"] = None
    described = {
        "role": "scenario",
        "path": str(path),
        "sha256": file_sha256(path),
        "rows": len(frame),
    }
    return frame, found, described


def scenario_from_rows(
    rows: pd.DataFrame, catalog: Catalog, name: str, *, file: str | None = None
) -> tuple[Scenario, Findings]:
    """The rows of a planned-sites file (:func:`read_scenario_file`) as a scenario the
    desktop app can edit, and a finding for each row left out (a reader error, a type not
    in the catalogue, no coordinates): every row is a site or a finding.
    """
    from coverage_gis.core.findings import Finding

    found = Findings()
    sites: list[PlannedSite] = []
    for r in rows.itertuples(index=False):
        error = not pd.isna(r.row_error)
        code = None if error else catalog.match_type(r.type_raw)
        lon, lat = float(r.lon), float(r.lat)
        reason = (
            ("reader_error", "该行有读取错误", "the row has a reading error")
            if error
            else (
                "unknown_facility_type",
                f"设施类型“{r.type_raw}”不在目录中",
                f"type '{r.type_raw}' is not in the catalogue",
            )
            if code is None
            else ("no_location", "没有坐标", "no coordinates")
            if not (math.isfinite(lon) and math.isfinite(lat))
            else None
        )
        if reason is not None:
            found.add(
                Finding(
                    "warning",
                    reason[0],
                    f"规划点位未加入方案：{reason[1]}",
                    f"Planned site not added to the scenario: {reason[2]}",
                    file=file or str(r.source_file),
                    sheet=None if pd.isna(r.source_sheet) else str(r.source_sheet),
                    row=int(r.source_row),
                    column="type" if reason[0] == "unknown_facility_type" else None,
                    value=None if pd.isna(r.type_raw) else str(r.type_raw),
                )
            )
            continue
        opened = r.opened
        sites.append(
            PlannedSite(
                name=str(r.name) if not pd.isna(r.name) else f"规划点位 {r.source_row}",
                type_code=code,
                lon=lon,
                lat=lat,
                planned=None if pd.isna(opened) else pd.Timestamp(opened).date(),
                meets_standard=None if pd.isna(r.meets_standard) else bool(r.meets_standard),
                beds=None if pd.isna(r.beds) else float(r.beds),
                nursing_beds=None if pd.isna(r.nursing_beds) else float(r.nursing_beds),
                origin="file",
            )
        )
    return Scenario(name, tuple(sites)), found


def evaluate_scenario(
    prepared: PreparedAudit,
    plan: Scenario | pd.DataFrame,
    as_of: dt.date | str,
    options: AuditOptions | None = None,
    *,
    findings: Findings | None = None,
    described: Iterable[dict[str, Any]] = (),
) -> AuditResult:
    """Evaluate ``prepared`` with the plan's sites added (the accepted sites of a
    :class:`Scenario`, or facility rows such as :func:`read_scenario_file` returns).

    ``prepared`` is not changed; the result's facility table holds the planned rows after
    the real ones, and its inputs list the scenario.
    """
    if isinstance(plan, Scenario):
        rows = plan.to_facilities()
        described = [
            *described,
            {"role": "scenario", "path": plan.source, "rows": len(rows)},
        ]
    else:
        rows = plan
    extended = prepared.with_facilities(rows, findings=findings, inputs=list(described))
    return extended.evaluate(as_of, options)


def site_fields(catalog: Catalog, indicator_id: str) -> dict[str, Any]:
    """Attributes a new site needs to count for ``indicator_id``: built to the standard
    (``meets_standard``) and the capacities its ``eq``/``ge`` conditions ask for."""
    fields: dict[str, Any] = {"meets_standard": True}
    for cond in catalog.indicator(indicator_id).conditions:
        if cond.field in ("meets_standard", "beds", "nursing_beds") and cond.op in ("eq", "ge"):
            fields[cond.field] = cond.value
    return fields


def planned_sites_from_suggestion(
    suggestion: SiteSuggestion,
    catalog: Catalog,
    *,
    planned: dt.date | None = None,
    accepted: bool = False,
) -> tuple[PlannedSite, ...]:
    """The suggested sites as planned sites of the indicator's (first) facility type,
    built to what the indicator counts (its ``eq``/``ge`` conditions on ``meets_standard``
    and capacities; the capacitated model's beds). Suggestions start rejected
    (``accepted=False``) for the planner to accept one by one.
    """
    ind = catalog.indicator(suggestion.indicator)
    fields = site_fields(catalog, ind.id)
    if suggestion.capacity is not None and suggestion.capacity[0] in ("beds", "nursing_beds"):
        fields[suggestion.capacity[0]] = suggestion.capacity[1]  # built with the model's beds
    type_code = ind.facility_types[0]
    ft = catalog.facility_type(type_code)
    return tuple(
        PlannedSite(
            name=f"{row.site}（建议{ft.name_zh}）",
            type_code=type_code,
            lon=float(row.lon),
            lat=float(row.lat),
            planned=planned,
            origin="suggested",
            indicator=suggestion.indicator,
            gain=float(row.gain),
            accepted=accepted,
            **fields,
        )
        for row in suggestion.table.itertuples()
    )


@dataclass(frozen=True)
class SuggestedSites:
    """A scenario's suggestions not accepted yet, for one indicator, shaped like a
    :class:`~coverage_gis.siting.suggest.SiteSuggestion` for the map's 选址建议 layer:
    ``table`` has :data:`~coverage_gis.siting.suggest.SITE_COLUMNS`."""

    indicator: str
    table: pd.DataFrame


def suggested_layer(scenario: Scenario, result: AuditResult) -> list[SuggestedSites]:
    """The suggested sites of ``scenario`` that are not accepted, per indicator in the
    order suggested (rank 1 first), located in ``result``'s units (the engine's rule) —
    what the desktop map draws as 选址建议 beside the accepted (planned) sites."""
    from coverage_gis.core.locate import locate_facilities
    from coverage_gis.siting.suggest import SITE_COLUMNS

    pending = [s for s in scenario.sites if s.origin == "suggested" and not s.accepted]
    if not pending:
        return []
    units = result.units
    pos, _ = locate_facilities(
        units, np.array([s.lon for s in pending]), np.array([s.lat for s in pending])
    )
    codes = units["code"].astype(str).to_numpy()
    names = units["name"].astype(str).to_numpy()
    counties = units["county"].astype(str).to_numpy()
    failing = {r.indicator.id: set(map(str, r.failing)) for r in result.indicators}
    out: list[SuggestedSites] = []
    for ind_id in dict.fromkeys(s.indicator or "" for s in pending):
        rows = [
            (s, int(p)) for s, p in zip(pending, pos, strict=True) if (s.indicator or "") == ind_id
        ]
        ind = result.indicator(ind_id).indicator if ind_id in failing else None
        field = ind.access.population_field if ind is not None and ind.access else "pop_60plus"
        presence = ind is not None and ind.kind == "presence"
        table = pd.DataFrame(
            {
                "rank": np.arange(1, len(rows) + 1),
                "site": [s.name for s, _ in rows],
                "lon": [s.lon for s, _ in rows],
                "lat": [s.lat for s, _ in rows],
                "unit_code": [codes[p] if p >= 0 else "" for _, p in rows],
                "unit": [names[p] if p >= 0 else "" for _, p in rows],
                "county": [counties[p] if p >= 0 else "" for _, p in rows],
                "gain": [float(s.gain or 0.0) for s, _ in rows],
                "gain_field": field,
                "closes": [
                    codes[p] if presence and p >= 0 and codes[p] in failing[ind_id] else ""
                    for _, p in rows
                ],
                "nearest_existing_m": np.nan,
            },
            columns=list(SITE_COLUMNS),
        )
        out.append(SuggestedSites(ind_id, table))
    return out
