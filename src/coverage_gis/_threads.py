"""Long-lived worker threads, one pool per role, shared by the whole process.

Work is overlapped on the machine's cores with threads (file reads, Arrow decoding, GEOS
and numpy release the GIL). The threads are never torn down: pyproj keeps per-thread state,
and short-lived threads that used it have been seen to crash the process later (the desktop
app hit this with pooled Qt threads); reusing them also saves starting threads per audit.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

__all__ = ["pool"]


@cache
def pool(role: str, workers: int = 1) -> ThreadPoolExecutor:
    """The process-wide pool for ``role`` (e.g. ``"reader"``), made on first use.

    Roles in use: ``reader`` (facility files, :func:`coverage_gis.workflow.load_inputs`),
    ``checks`` (boundary checks, same), ``locate`` (point location of
    :mod:`coverage_gis.core.engine`), ``demand`` (the units' demand points, made ahead by
    :func:`coverage_gis.core.engine.prepare`), ``pip`` (the point-in-polygon passes of
    :mod:`coverage_gis.core.point_in_polygon`), ``normalise`` (batches of a GeoParquet
    facility file, :func:`coverage_gis.io.normalise.normalise_facilities`) and ``pairs``
    (the two halves of :func:`coverage_gis.access.euclidean.euclidean_pairs`).
    """
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"coverage-gis-{role}")
