"""Where the next facilities should go (新设施选址): location models and candidate sites.

Qt-free numpy/scipy/shapely code: :mod:`coverage_gis.siting.models` holds the models
(presence per gap unit, LSCP, MCLP, p-median, greedy MCLP) returning a
:class:`SitingResult`, :mod:`coverage_gis.siting.capacity` the capacitated maximal covering
model (beds); :mod:`coverage_gis.siting.candidates` builds candidate sets from points, unit
interiors or thinned demand points, refusing unusable ones with findings;
:mod:`coverage_gis.siting.suggest` applies them to an audit's gaps and
:mod:`coverage_gis.siting.scenario` evaluates planned sites (规划方案) like real data.
"""

from coverage_gis.siting.candidates import (
    CandidateSet,
    candidates_from_points,
    demand_point_candidates,
    unit_centroid_candidates,
)
from coverage_gis.siting.capacity import capacitated_mclp
from coverage_gis.siting.models import (
    SOLVER,
    SitingResult,
    greedy_mclp,
    lscp,
    mclp,
    p_median,
    pairs_within,
    presence_sites,
)

__all__ = [
    "SOLVER",
    "CandidateSet",
    "SitingResult",
    "candidates_from_points",
    "capacitated_mclp",
    "demand_point_candidates",
    "greedy_mclp",
    "lscp",
    "mclp",
    "p_median",
    "pairs_within",
    "presence_sites",
    "unit_centroid_candidates",
]
