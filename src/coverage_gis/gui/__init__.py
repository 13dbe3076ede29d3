"""Desktop app (PySide6): the planner's workbench.

This is the only package of coverage-gis that imports Qt. It is a thin shell over the same
operations as the CLI (:mod:`coverage_gis.workflow`, :mod:`coverage_gis.core.engine`, the readers
and the exporters): widgets are views over :class:`~coverage_gis.gui.model.AuditSession`,
long work runs in worker threads (:mod:`coverage_gis.gui.workers`).

Importing this package does not load Qt; :func:`coverage_gis.gui.app.main` does.
"""

__all__: list[str] = []
