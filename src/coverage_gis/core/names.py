"""Normalising and matching Chinese administrative unit names.

Facility lists write a unit as 浒墅关镇, 浒墅关, 狮山街道办事处 or ＂狮山 街道＂. Matching goes
in two steps (see :func:`match_unit_names`): first the exact name after NFKC and whitespace
removal, then the *stem* — the name with a trailing 街道办事处 / 办事处 / 街道 / 镇 / 乡 removed —
but only when the stem identifies a single unit (in the given county, if one is named).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = ["match_unit_names", "name_key", "name_keys", "name_stem", "name_stems"]

_SPACE_RE = re.compile(r"[\s\u3000\"'“”]+")
#: The same class for Arrow's RE2: Python's ``\s`` is ``str.isspace`` (\p{Z} and controls).
_SPACE_RE2 = r"[\t\n\x{0b}\f\r\x{1c}-\x{1f}\x{85}\p{Z}\"'“”]+"
_SUFFIXES = ("街道办事处", "人民政府", "办事处", "街道", "镇", "乡")


def name_key(value: object) -> str:
    """NFKC-normalised name with whitespace and quotes removed (``""`` for missing)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if type(value) is str:
        return _key_of_str(value)
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", str(value)))


@lru_cache(maxsize=1 << 18)
def _key_of_str(value: str) -> str:
    # national lists repeat ~40,000 unit names across calls: normalise each once
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", value))


def name_stem(value: object) -> str:
    """Name key without an administrative suffix: 浒墅关镇 → 浒墅关, 狮山街道办事处 → 狮山."""
    return _stem_of_key(name_key(value))


@lru_cache(maxsize=1 << 18)
def _stem_of_key(key: str) -> str:
    changed = True
    while changed and key:
        changed = False
        for suffix in _SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix) + 1:
                key = key[: -len(suffix)]
                changed = True
                break
    return key


def name_keys(values: Sequence[object]) -> list[str]:
    """:func:`name_key` of many values at once (Arrow compute for text, no Python loop)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    vals = list(values)
    if not vals:
        return []
    if not all(type(v) is str for v in vals):
        return [name_key(v) for v in vals]
    arr = pc.utf8_normalize(pa.array(vals, type=pa.string()), form="NFKC")
    arr = pc.replace_substring_regex(arr, pattern=_SPACE_RE2, replacement="")
    return arr.to_pylist()


def name_stems(keys: Sequence[str]) -> list[str]:
    """:func:`name_stem` of many name keys at once (same rule, vectorised).

    Each round strips, from every key, the first suffix of :data:`_SUFFIXES` it ends with
    (keeping at least two characters), until no key changes: the loop of
    :func:`_stem_of_key`, run over arrays.
    """
    if not len(keys):
        return []
    out = pd.Series(list(keys), dtype=object).astype("string[pyarrow]")
    for _ in range(8):
        lengths = out.str.len().to_numpy()
        applied = np.zeros(len(out), dtype=bool)
        for suffix in _SUFFIXES:
            m = (
                ~applied
                & out.str.endswith(suffix).to_numpy(dtype=bool)
                & (lengths > len(suffix) + 1)
            )
            if m.any():
                out[m] = out[m].str.slice(0, -len(suffix))
                applied |= m
        if not applied.any():
            break
    return out.astype(object).tolist()


def match_unit_names(
    names: Sequence[object],
    unit_names: Sequence[str],
    *,
    counties: Sequence[object] | None = None,
    unit_counties: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Match free-text unit names to a list of units.

    Parameters
    ----------
    names
        Names as written in a facility list (may be missing).
    unit_names
        The units' official names.
    counties, unit_counties
        Optional county names of the rows and of the units, used to disambiguate stems
        shared by units in different counties.

    Returns
    -------
    index : ndarray of int
        Position in ``unit_names`` of the matched unit, ``-1`` when there is none.
    ambiguous : ndarray of bool
        True where the name fits several units and none was chosen.
    """
    n = len(names)
    index = np.full(n, -1, dtype=np.int64)
    ambiguous = np.zeros(n, dtype=bool)
    unit_names = tuple(unit_names)
    exact = _exact_index(unit_names)
    # Resolve each distinct (name, county) pair once, then broadcast back to the rows:
    # lists repeat the same few dozen names, so this is O(unique) Python work. Pairs are
    # found on integer codes (no per-row string building), which keeps a million rows fast.
    ncodes, nuniq = pd.factorize(_as_objects(names, n), use_na_sentinel=True)
    if counties is not None:
        ccodes, cuniq = pd.factorize(_as_objects(counties, n), use_na_sentinel=True)
    else:
        ccodes, cuniq = np.full(n, -1, dtype=np.int64), np.empty(0, dtype=object)
    width = len(cuniq) + 1
    pair = (ncodes.astype(np.int64) + 1) * width + (ccodes.astype(np.int64) + 1)
    codes, upair = pd.factorize(pair)
    upair = np.asarray(upair, dtype=np.int64)
    pair_name = upair // width - 1  # -1: no name
    pair_county = upair % width - 1  # -1: no county
    # exact names are looked up once per distinct name, in bulk; only the pairs left over
    # (short names, suffix variants) go through the stem and county rules one by one
    keys = name_keys(nuniq)
    exact_of_name = np.array([exact.get(k, -1) if k else -1 for k in keys] + [-1], dtype=np.int64)
    u_index = exact_of_name[pair_name]
    u_amb = np.zeros(len(upair), dtype=bool)
    leftover = np.flatnonzero((u_index < 0) & (pair_name >= 0)).tolist()
    if leftover:  # the stem indexes are built only when some name needs them
        by_stem = _stem_index(unit_names)
        ucounty = _county_stems(tuple(unit_counties)) if unit_counties is not None else None
        left_stems = name_stems([keys[pair_name[j]] for j in leftover])
        county_stems = name_stems(name_keys([str(c) for c in cuniq]))
    for j, stem in zip(leftover, left_stems if leftover else [], strict=True):
        key = keys[pair_name[j]]
        if not key:
            continue
        cands = by_stem.get(stem, [])
        c = pair_county[j]
        ckey = county_stems[c] if c >= 0 else ""
        if len(cands) > 1 and ckey and ucounty is not None:
            cands = [i for i in cands if ucounty[i] == ckey]
        if len(cands) == 1:
            u_index[j] = cands[0]
        else:
            u_amb[j] = len(cands) > 1
    if n:
        index = u_index[codes.ravel()]
        ambiguous = u_amb[codes.ravel()]
    return index, ambiguous


@lru_cache(maxsize=4)
def _exact_index(unit_names: tuple[str, ...]) -> dict[str, int]:
    """Name key → first unit with it (cached: the same units are matched again)."""
    exact: dict[str, int] = {}
    for i, key in enumerate(name_keys(unit_names)):
        exact.setdefault(key, i)
    return exact


@lru_cache(maxsize=4)
def _stem_index(unit_names: tuple[str, ...]) -> dict[str, list[int]]:
    """Stem → units with it (cached; only built when a name has no exact match)."""
    by_stem: dict[str, list[int]] = {}
    for i, stem in enumerate(name_stems(name_keys(unit_names))):
        by_stem.setdefault(stem, []).append(i)
    return by_stem


@lru_cache(maxsize=4)
def _county_stems(unit_counties: tuple[str, ...]) -> list[str]:
    """Stem of each unit's county name (cached)."""
    distinct = sorted(set(unit_counties))
    stems = dict(zip(distinct, name_stems(name_keys(distinct)), strict=True))
    return [stems[c] for c in unit_counties]


def _as_objects(values: Sequence[object], n: int) -> np.ndarray:
    """``values`` as a 1-d object array (no copy for object arrays and Series)."""
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=object)
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    out = np.empty(n, dtype=object)
    out[:] = list(values)
    return out
