"""The coverage engine and its records, pure Python (no Qt, no folium, no file formats).

* :mod:`~coverage_gis.core.catalog` — facility types and indicators (TOML → frozen records);
* :mod:`~coverage_gis.core.schema` — the normalised facility and unit tables;
* :mod:`~coverage_gis.core.engine` — ``prepare`` assigns every row, ``evaluate(as_of)`` counts;
* :mod:`~coverage_gis.core.rules` — what counts: status classes, dates, conditions, and why a
  row does not (``qualification``);
* :mod:`~coverage_gis.core.locate` / :mod:`~coverage_gis.core.point_in_polygon` — which unit
  covers each point;
* :mod:`~coverage_gis.core.engine_partitioned` / :mod:`~coverage_gis.core.engine_dask` — the
  same audit partition by partition;
* :mod:`~coverage_gis.core.results`, :mod:`~coverage_gis.core.findings`,
  :mod:`~coverage_gis.core.errors` — what an audit returns and reports;
* :mod:`~coverage_gis.core.names`, :mod:`~coverage_gis.core.vocabularies`,
  :mod:`~coverage_gis.core.coordsys` — township names, status words, Chinese coordinate systems.
"""
