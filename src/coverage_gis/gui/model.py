"""The GUI's state model and the operations its workers run.

:class:`AuditSession` holds what the window shows — the project, the catalogue, the
prepared audit, the result for the evaluation date, the planning scenario and its result
for the same date, the chosen indicator, township and county — and announces changes with
signals. Widgets subscribe to it and never talk to
each other (napari: Qt views over a model).

The functions :func:`load_session` and :func:`evaluate` (with
:func:`~coverage_gis.gui.plan.evaluate_plan` for the scenario) are what the worker threads
run: they call the same workflow operations as the CLI and touch no widget. The scenario logic that needs no Qt lives in :mod:`coverage_gis.gui.plan`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from coverage_gis.core.catalog import Catalog, load_catalog
from coverage_gis.core.engine import PreparedAudit
from coverage_gis.core.errors import InputError
from coverage_gis.core.findings import Finding
from coverage_gis.core.results import AuditOptions, AuditResult
from coverage_gis.gui.plan import ScenarioOutcome, evaluate_plan
from coverage_gis.gui.project import Project
from coverage_gis.siting.scenario import Scenario
from coverage_gis.spec import spec_inputs
from coverage_gis.workflow import (
    AuditInputs,
    demo_boundaries_path,
    demo_facilities_paths,
    prepare_audit,
)

__all__ = [
    "PLAN_YEARS",
    "AuditSession",
    "Loaded",
    "default_as_of",
    "evaluate",
    "load_session",
    "plan_years",
    "project_paths",
]

#: Years of the evaluation slider when the catalogue names none (the Suzhou plan's).
PLAN_YEARS = (2020, 2025)


def plan_years(catalog: Catalog | None) -> tuple[int, int]:
    """The evaluation slider's years: the catalogue's baseline to target year (its
    ``baseline_year``/``target_year``), else :data:`PLAN_YEARS`."""
    if catalog is None or catalog.target_year is None:
        return PLAN_YEARS
    start = catalog.baseline_year if catalog.baseline_year is not None else catalog.target_year - 5
    return (min(start, catalog.target_year), catalog.target_year)


ProgressFn = Callable[[str, str], None]


def default_as_of(today: dt.date | None = None, years: tuple[int, int] = PLAN_YEARS) -> dt.date:
    """Today within the plan period ``years``, else the end of the target year."""
    today = today or dt.date.today()
    if years[0] <= today.year <= years[1]:
        return today
    return dt.date(years[1], 12, 31)


@dataclass
class Loaded:
    """What :func:`load_session` produced (handed to the UI thread).

    ``plan`` is the project's scenario evaluated on the same date (``None``: not
    evaluated; the session then evaluates it itself).
    """

    project: Project
    catalog: Catalog
    inputs: AuditInputs
    prepared: PreparedAudit
    result: AuditResult
    seconds: float
    plan: ScenarioOutcome | None = None


def project_paths(project: Project) -> tuple[Path, list[Path]]:
    """Boundary path and facility paths of a project (the embedded demo when ``demo``)."""
    if project.demo:
        return demo_boundaries_path(), demo_facilities_paths()
    if project.boundaries is None or not project.facilities:
        raise InputError(
            "需要先打开边界文件和至少一个设施文件",
            "Open a boundary file and at least one facility file first",
        )
    return Path(project.boundaries), [Path(f.path) for f in project.facilities]


def load_session(project: Project, as_of: dt.date, progress: ProgressFn) -> Loaded:
    """Read the project's inputs, prepare the audit and evaluate it on ``as_of``.

    The inputs are read from the project's :meth:`~coverage_gis.gui.project.Project.to_spec`
    by :func:`coverage_gis.spec.spec_inputs`, as for ``coverage-gis audit --spec``. Rows
    with errors are excluded (the GUI lists them in the data-issues panel instead of
    refusing to run, like ``audit --allow-errors``). The project's scenario, if it has
    accepted sites, is evaluated too.
    """
    t0 = time.perf_counter()
    progress("读取指标目录", "loading catalogue")
    catalog = load_catalog(project.catalog)
    project_paths(project)  # a clear message when the project has no inputs yet
    # the project declares an audit like the command line and batch jobs do
    spec = project.to_spec()
    inputs = spec_inputs(spec, progress=progress)
    options = spec.options()
    prepared = prepare_audit(inputs, catalog, options, allow_errors=True, progress=progress)
    progress("计算指标", "evaluating indicators")
    result = prepared.evaluate(as_of)
    scenario = project.scenario or Scenario()
    if scenario.accepted:
        progress("计算规划方案", "evaluating the scenario")
    plan = evaluate_plan(prepared, scenario, result.as_of, result.options)
    return Loaded(project, catalog, inputs, prepared, result, time.perf_counter() - t0, plan)


def evaluate(
    prepared: PreparedAudit,
    as_of: dt.date,
    progress: ProgressFn,
    options: AuditOptions | None = None,
) -> AuditResult:
    """Re-evaluate a prepared audit on another date or with other options (no re-reading)."""
    progress("计算指标", "evaluating indicators")
    return prepared.evaluate(as_of, options)


class AuditSession(QObject):
    """State shown by the main window.

    Signals
    -------
    loaded
        New inputs were read and prepared.
    resultChanged
        A new result (other date or new inputs).
    indicatorChanged(str)
        The indicator shown on the map changed.
    unitSelected(str)
        A township was selected (code; empty string clears).
    countyChanged(str)
        The county filter changed (county code; empty string = whole city).
    scenarioChanged
        The scenario was edited (:meth:`set_scenario`); :attr:`scenario_result` is already
        its evaluation. (A new date or new inputs re-evaluate the scenario too; that is
        announced by ``resultChanged``, with :attr:`scenario_result` already updated.)

    Attributes
    ----------
    scenario
        The planning scenario (规划方案); empty by default.
    scenario_result
        The audit with the scenario's accepted sites, for the same date, inputs and
        options as :attr:`result`; ``None`` when no site is accepted.
    scenario_ms
        Milliseconds the last evaluation of the scenario took.
    plan_findings
        Data issues from importing planned-site files and from site suggestions (shown
        with the audit's own); cleared when another scenario is loaded or on
        :meth:`clear_plan_findings`.
    """

    loaded = Signal()
    resultChanged = Signal()  # noqa: N815 - Qt naming
    indicatorChanged = Signal(str)  # noqa: N815
    unitSelected = Signal(str)  # noqa: N815
    countyChanged = Signal(str)  # noqa: N815
    scenarioChanged = Signal()  # noqa: N815

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = Project(demo=True)
        self.catalog: Catalog | None = None
        self.inputs: AuditInputs | None = None
        self.prepared: PreparedAudit | None = None
        self.result: AuditResult | None = None
        self.as_of: dt.date = default_as_of()
        self.indicator_id: str = ""
        self.unit_code: str = ""
        self.county_code: str = ""
        self.load_seconds: float = 0.0
        self.scenario: Scenario = Scenario()
        self.scenario_result: AuditResult | None = None
        self.scenario_ms: float = 0.0
        self.plan_findings: list[Finding] = []
        self._plan: ScenarioOutcome | None = None

    def set_loaded(self, loaded: Loaded) -> None:
        """Adopt what a load produced (the project's scenario with it)."""
        self.project = loaded.project
        self.catalog = loaded.catalog
        self.inputs = loaded.inputs
        self.prepared = loaded.prepared
        self.result = loaded.result
        self.as_of = loaded.result.as_of
        self.load_seconds = loaded.seconds
        scenario = loaded.project.scenario or Scenario()
        if scenario != self.scenario:
            self.plan_findings = []
        self.scenario = scenario
        self._adopt_plan(loaded.plan)
        ids = [r.indicator.id for r in loaded.result.indicators]
        wanted = self.project.indicator or self.indicator_id
        self.indicator_id = wanted if wanted in ids else self.first_map_indicator()
        codes = set(loaded.result.units["code"])
        if self.unit_code not in codes:
            self.unit_code = ""
        counties = set(loaded.result.counties["county_code"])
        wanted_county = self.project.county or self.county_code
        self.county_code = wanted_county if wanted_county in counties else ""
        self.loaded.emit()
        self.resultChanged.emit()
        self.indicatorChanged.emit(self.indicator_id)

    def set_result(self, result: AuditResult, plan: ScenarioOutcome | None = None) -> None:
        """Adopt a re-evaluation.

        Parameters
        ----------
        result
            The real audit on another date or with other options.
        plan
            The scenario evaluated with it (:func:`~coverage_gis.gui.plan.evaluate_plan`,
            on the worker, with the result's date and options); when it is
            missing or was computed for a scenario edited since, the current scenario is
            evaluated here, so :attr:`scenario_result` is always for this result's date.
        """
        self.result = result
        self.as_of = result.as_of
        self.project.as_of = result.as_of.isoformat()
        self._adopt_plan(plan)
        self.resultChanged.emit()

    # -- scenario -----------------------------------------------------------------------
    def set_scenario(self, scenario: Scenario) -> None:
        """Use another scenario: evaluate it now (synchronously) and announce it.

        The evaluation (:func:`~coverage_gis.gui.plan.evaluate_plan`) runs on the calling
        thread, so the indicator table can follow in the same event-loop turn; on the demo
        it takes well under 100 ms. Nothing is evaluated when no site is accepted, or when
        the accepted sites and their positions did not change (only rejected sites were
        added after them): the previous result is kept.
        """
        self.scenario = scenario
        self.project.scenario = scenario if scenario.sites else None
        self._adopt_plan(self._plan)
        self.scenarioChanged.emit()

    def clear_plan_findings(self) -> None:
        """Forget the findings of imports and suggestions (the scenario was cleared)."""
        self.plan_findings = []

    def add_plan_findings(self, findings: list[Finding]) -> None:
        """Keep the findings of an import or a suggestion (shown as data issues)."""
        self.plan_findings = [*self.plan_findings, *findings]

    @property
    def shown_result(self) -> AuditResult | None:
        """What the map shows: the scenario's result when it has accepted sites, else the
        real one."""
        return self.scenario_result if self.scenario_result is not None else self.result

    def _adopt_plan(self, plan: ScenarioOutcome | None) -> None:
        """Take ``plan`` when it is the current scenario's evaluation for the current
        result, else evaluate the current scenario now."""
        if plan is None or not plan.fits(self.scenario, self.as_of) or self.result is None:
            options = self.result.options if self.result is not None else None
            prepared = self.prepared if self.result is not None else None
            plan = evaluate_plan(prepared, self.scenario, self.as_of, options)
        self._plan = plan
        self.scenario_result = plan.result
        if plan.result is not None:
            self.scenario_ms = plan.ms

    def first_map_indicator(self) -> str:
        """The first indicator that can be drawn (township-level presence), else the first."""
        if self.result is None or not self.result.indicators:
            return ""
        for r in self.result.indicators:
            if r.indicator.kind == "presence" and r.indicator.level == "township":
                return r.indicator.id
        return self.result.indicators[0].indicator.id

    def select_indicator(self, indicator_id: str) -> None:
        """Show another indicator."""
        if indicator_id == self.indicator_id:
            return
        self.indicator_id = indicator_id
        self.project.indicator = indicator_id
        self.indicatorChanged.emit(indicator_id)

    def select_unit(self, code: str) -> None:
        """Select a township by code (empty string clears)."""
        if code == self.unit_code:
            return
        self.unit_code = code
        self.unitSelected.emit(code)

    def set_county(self, county_code: str) -> None:
        """Filter by county (empty string = whole city)."""
        if county_code == self.county_code:
            return
        self.county_code = county_code
        self.project.county = county_code or None
        self.countyChanged.emit(county_code)
