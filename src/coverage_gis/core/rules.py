"""What counts: status classes, dates, conditions — and why a facility row does not.

The rules :meth:`~coverage_gis.core.engine.PreparedAudit.evaluate` applies, in one place, so
that the workbook, the map, the site suggestions and the desktop app read the engine's own
answer (:func:`qualification`, :func:`service_reasons`) instead of re-deriving it:

* a status is classified once per distinct value as open, not yet open, closed or unknown
  (the words in ``resources/vocabularies.toml``; an unknown word counts as open and is
  reported);
* a facility serves on a date when it is not "not yet open", opened on or before the date
  (blank: long ago) and has not closed by then (a closed status without a date: never);
* an indicator's declarative conditions are evaluated with vectorised comparisons, never
  ``eval``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from coverage_gis.core.catalog import Condition
from coverage_gis.core.errors import InputError
from coverage_gis.core.vocabularies import vocabulary

if TYPE_CHECKING:
    from coverage_gis.core.results import AuditResult

__all__ = [
    "CLOSED_STATUSES",
    "EXCLUSION_REASONS",
    "NOT_OPEN_STATUSES",
    "OPEN_STATUSES",
    "QUALIFICATION_REASONS",
    "STATUS_CLOSED",
    "STATUS_NOT_OPEN",
    "STATUS_OPEN",
    "STATUS_UNKNOWN",
    "TARGET_TOLERANCE",
    "as_date",
    "classify_status",
    "compare_target",
    "condition_mask",
    "norm_status",
    "qualification",
    "service_reasons",
]

#: Status values (normalised) meaning "not open yet" (``resources/vocabularies.toml``).
NOT_OPEN_STATUSES = vocabulary("status", "not_open")
#: Status values meaning "no longer in service".
CLOSED_STATUSES = vocabulary("status", "closed")
#: Status values meaning "in service".
OPEN_STATUSES = vocabulary("status", "open")
#: Why a facility row is not used, with bilingual labels.
EXCLUSION_REASONS: dict[str, tuple[str, str]] = {
    "reader_error": ("行数据有错误", "row has an input error"),
    "unknown_type": ("设施类型不在目录中", "facility type not in the catalogue"),
    "no_location": (
        "无坐标且所属镇(街道)/区县无法识别",
        "no coordinates and no recognisable unit or county name",
    ),
    "outside_units": (
        "坐标不在任何镇(街道)内且无可识别的所属镇(街道)",
        "point outside every unit and no recognisable unit name",
    ),
}
#: Status classes of :func:`classify_status` (an unknown word counts as open, and is reported).
STATUS_OPEN, STATUS_NOT_OPEN, STATUS_CLOSED, STATUS_UNKNOWN = 0, 1, 2, 3
#: Tolerance of a value against its target (and of other float comparisons of the engine).
TARGET_TOLERANCE = 1e-9


def norm_status(value: object) -> str:
    """A status word as the vocabularies list it: NFKC, lower case, no spaces, ``_`` or ``-``."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return "".join(text.split()).replace("_", "").replace("-", "")


def classify_status(status: pd.Series) -> np.ndarray:
    """Each row's status class (``STATUS_*``), classified once per distinct value."""
    codes, uniques = pd.factorize(status.to_numpy(dtype=object), use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=np.int8)
    for j, raw in enumerate([*uniques, ""]):
        key = norm_status(raw)
        if key == "" or key in OPEN_STATUSES:
            table[j] = STATUS_OPEN
        elif key in NOT_OPEN_STATUSES:
            table[j] = STATUS_NOT_OPEN
        elif key in CLOSED_STATUSES:
            table[j] = STATUS_CLOSED
        else:
            table[j] = STATUS_UNKNOWN
    return table[codes] if len(status) else np.zeros(0, dtype=np.int8)


def condition_mask(
    fac: pd.DataFrame, conditions: tuple[Condition, ...], rows: np.ndarray | None = None
) -> np.ndarray:
    """Evaluate declarative conditions with vectorised comparisons (never ``eval``).

    With ``rows`` (positions), only those rows are evaluated and the mask is as long as
    ``rows``.
    """
    mask = np.ones(len(fac) if rows is None else len(rows), dtype=bool)
    for cond in conditions:
        col = fac[cond.field] if rows is None else fac[cond.field].iloc[rows]
        if cond.op == "notnull":
            m = col.notna().to_numpy()
        elif cond.op in ("in", "not_in"):
            m = col.isin(list(cond.value)).fillna(False).to_numpy(dtype=bool)
            if cond.op == "not_in":
                m = ~m & col.notna().to_numpy()
        else:
            ops = {
                "eq": "__eq__",
                "ne": "__ne__",
                "ge": "__ge__",
                "gt": "__gt__",
                "le": "__le__",
                "lt": "__lt__",
            }
            res = getattr(col, ops[cond.op])(cond.value)
            m = pd.Series(res).fillna(False).to_numpy(dtype=bool)
        mask &= m
    return mask


def compare_target(value: float, operator: str, target: float) -> tuple[bool, float]:
    """Return (met, gap) for a value against a target."""
    if operator == ">=":
        met = value >= target - TARGET_TOLERANCE
        return met, 0.0 if met else target - value
    if operator == "<=":
        met = value <= target + TARGET_TOLERANCE
        return met, 0.0 if met else value - target
    met = abs(value - target) <= TARGET_TOLERANCE
    return met, target - value


def as_date(value: dt.date | str) -> dt.date:
    """An evaluation date from a date, a datetime or ``YYYY-MM-DD`` text (bilingual
    :class:`InputError` otherwise)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise InputError(
            f"评估日期格式错误：{value}（应为 YYYY-MM-DD）",
            f"Bad evaluation date: {value} (expected YYYY-MM-DD)",
            column="as_of",
            value=value,
        ) from exc


#: Why a facility row does or does not count for an indicator (:func:`qualification`).
QUALIFICATION_REASONS: dict[str, tuple[str, str]] = {
    "qualifies": ("计入", "counts"),
    "excluded": ("该行被排除", "row excluded"),
    "other_type": ("类型不属于该指标", "type not counted by the indicator"),
    "not_open": ("尚未建成（状态）", "not built yet (status)"),
    "opens_later": ("建成时间晚于评估日期", "opens after the evaluation date"),
    "closed": ("评估日期前已停用", "closed before the evaluation date"),
    "closed_no_date": ("状态为停用且无停用时间", "closed status without a closing date"),
    "not_in_service": ("评估日期未在役", "not in service on the evaluation date"),
    "condition": ("不满足指标条件", "does not meet the indicator's conditions"),
    "not_located": ("未落入任何镇(街道)", "not located in a township"),
}


_Q_CODES = list(QUALIFICATION_REASONS)


def qualification(
    result: AuditResult, indicator_id: str, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """Per facility row of ``result``: does it count for the indicator, and if not, why.

    The rules are the engine's own (the status classes and dates :meth:`PreparedAudit.
    in_service` uses, the indicator's facility types and its conditions through the same
    evaluator, located in a 镇(街道) for township-level indicators). The workbook, the map and
    the site suggestions read this instead of re-deriving them.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``result.facilities``: ``qualifies`` (bool) and ``reason`` (a key of
        :data:`QUALIFICATION_REASONS`, the first rule the row fails; ``qualifies`` when it
        counts). A row's reason checks, in order: excluded (reading, type or location —
        see ``excluded_reason``), other type, not in service (why), conditions, location.
        With ``rows`` (positions in ``result.facilities``), only those rows, e.g. one
        township's in the desktop app's detail panel.
    """
    fac = result.facilities if rows is None else result.facilities.iloc[np.asarray(rows)]
    ind = result.indicator(indicator_id).indicator
    n = len(fac)
    used = fac["used"].to_numpy(dtype=bool)
    serving = fac["in_service"].to_numpy(dtype=bool)
    typed = fac["type_code"].isin(list(ind.facility_types)).to_numpy(dtype=bool)
    cond = condition_mask(fac, ind.conditions) if ind.conditions else np.ones(n, dtype=bool)
    where = "unit_code" if ind.level == "township" else "county_code"
    located = fac[where].notna().to_numpy(dtype=bool)
    code = np.full(n, _Q_CODES.index("qualifies"), dtype=np.int8)
    code[~located] = _Q_CODES.index("not_located")
    code[~cond] = _Q_CODES.index("condition")
    # why not in service, only for the rows where that is the answer (used, of the type)
    down = ~serving & typed & used
    if down.any():
        code[down] = _not_serving_codes(fac, down, result.as_of)
    code[~typed] = _Q_CODES.index("other_type")
    code[~used] = _Q_CODES.index("excluded")
    qualifies = code == _Q_CODES.index("qualifies")
    reason = np.array(_Q_CODES, dtype=object)[code]
    return pd.DataFrame({"qualifies": qualifies, "reason": reason}, index=fac.index)


def service_reasons(result: AuditResult) -> np.ndarray:
    """Per facility row: why it is not in service on the result's date (a key of
    :data:`QUALIFICATION_REASONS`: ``not_open``, ``opens_later``, ``closed``,
    ``closed_no_date``, ``not_in_service``), ``None`` where it is or the row is excluded."""
    fac = result.facilities
    out = np.full(len(fac), None, dtype=object)
    down = ~fac["in_service"].to_numpy(dtype=bool) & fac["used"].to_numpy(dtype=bool)
    if down.any():
        out[down] = np.array(_Q_CODES, dtype=object)[_not_serving_codes(fac, down, result.as_of)]
    return out


def _not_serving_codes(fac: pd.DataFrame, rows: np.ndarray, as_of: dt.date) -> np.ndarray:
    """Why rows (mask) that are not in service are not: the tests of ``in_service``
    (a partitioned audit that kept no dates or statuses says only ``not_in_service``)."""
    sub = fac.loc[rows]
    if not {"status", "opened", "closed"} <= set(sub.columns):
        return np.full(len(sub), _Q_CODES.index("not_in_service"), dtype=np.int8)
    day = np.datetime64(pd.Timestamp(as_of).normalize().to_datetime64(), "ns")
    status = classify_status(sub["status"])
    opened = sub["opened"].to_numpy(dtype="datetime64[ns]")
    closed = sub["closed"].to_numpy(dtype="datetime64[ns]")
    out = np.full(len(sub), _Q_CODES.index("not_in_service"), dtype=np.int8)
    out[~np.isnat(closed) & (closed <= day)] = _Q_CODES.index("closed")
    out[(status == STATUS_CLOSED) & np.isnat(closed)] = _Q_CODES.index("closed_no_date")
    out[~np.isnat(opened) & (opened > day)] = _Q_CODES.index("opens_later")
    out[status == STATUS_NOT_OPEN] = _Q_CODES.index("not_open")
    return out
