"""What an audit hands to people: tables (CSV/JSON/terminal), the Excel workbook, the
one-page summary, charts, the validation report and the site suggestions' files.

Every exporter reads an :class:`~coverage_gis.core.results.AuditResult` and the engine's own
answers (``qualification``, ``service_reasons``); none re-derives a rule. Spreadsheet and
HTML text goes through :mod:`~coverage_gis.export.safety`.
"""
