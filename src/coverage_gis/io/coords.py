"""Parse coordinate cells the way planners type them, and sanity-check lon/lat pairs.

Cells come from Excel or CSV: real numbers, numbers stored as text (with stray spaces or in
full-width digits, "１２０．６２"), or 度分秒 text in many spellings::

    120°37′12.5″   120°37'12.5"   120度37分12.5秒   E120°37′12.5″   120°37′12.5″E
    N31°18′        31°18.5′       东经120°37′       -120°37′12.5″

The plain-number path is vectorised with :func:`pandas.to_numeric`; only the cells left over
go through the 度分秒 regular expression.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CHINA_BOUNDS",
    "CHINA_LAT_RANGE",
    "CHINA_LON_RANGE",
    "OUT_OF_CHINA_EN",
    "OUT_OF_CHINA_ZH",
    "detect_swapped",
    "in_china",
    "parse_coordinate_value",
    "parse_coordinate_values",
]

#: China's bounding box ``(lon_min, lat_min, lon_max, lat_max)`` in degrees, the one box
#: :func:`in_china` (and so every "in China" check) uses: the Pamirs (73.5°E) to the
#: Heixiazi island at the Ussuri mouth (135.1°E), Zengmu Ansha in the Nansha islands (3.9°N,
#: the southernmost; Sansha's Yongxing island is at 16.8°N) to Mohe (53.6°N).
CHINA_BOUNDS: tuple[float, float, float, float] = (73.0, 3.8, 135.1, 54.0)
#: Longitude range (degrees) of :data:`CHINA_BOUNDS`.
CHINA_LON_RANGE: tuple[float, float] = (CHINA_BOUNDS[0], CHINA_BOUNDS[2])
#: Latitude range (degrees) of :data:`CHINA_BOUNDS`.
CHINA_LAT_RANGE: tuple[float, float] = (CHINA_BOUNDS[1], CHINA_BOUNDS[3])
# No latitude in the box is a longitude in it (54 < 73): a pair is inside in at most one
# order, so detect_swapped is never ambiguous.


def _span(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}–{bounds[1]:g}"


#: Message (Chinese) for coordinates outside :data:`CHINA_BOUNDS`, quoting the box.
OUT_OF_CHINA_ZH = (
    f"坐标不在中国范围内（经度{_span(CHINA_LON_RANGE)}，纬度{_span(CHINA_LAT_RANGE)}）"
)
#: Message (English) for coordinates outside :data:`CHINA_BOUNDS`, quoting the box.
OUT_OF_CHINA_EN = (
    f"Coordinates outside China (lon {_span(CHINA_LON_RANGE)}, lat {_span(CHINA_LAT_RANGE)})"
)

# Characters normalised before matching (after NFKC, which maps full-width forms to ASCII).
_DEGREE_CHARS = "°º˚度"
_MINUTE_CHARS = "′'’‘´`分"
_SECOND_CHARS = '″"“”〃秒'
_HEMISPHERES = {
    "东经": "E",
    "北纬": "N",
    "西经": "W",
    "南纬": "S",
    "东": "E",
    "北": "N",
    "西": "W",
    "南": "S",
}

_NUM = r"\d+(?:\.\d*)?|\.\d+"
_DMS_RE = re.compile(
    rf"""
    ^(?P<sign>[+-])?
    (?P<pre>[NSEW])?
    (?P<deg>{_NUM})
    (?:
        (?:°|\s+|:)                        # degree mark, or a space/colon separator
        (?:
            (?P<min>{_NUM})
            (?:
                (?:'|\s+|:)                # minute mark, or a separator
                (?:(?P<sec>{_NUM})"?)?
            )?
        )?
    )?
    (?P<post>[NSEW])?$
    """,
    re.VERBOSE,
)


def _normalise_text(text: str) -> str:
    """Map the many spellings of marks and hemispheres onto ``° ' " N S E W``."""
    for ch in _DEGREE_CHARS:
        text = text.replace(ch, "°")
    text = text.replace("″", '"').replace("〃", '"')
    # NFKC: full-width digits/letters/punctuation to ASCII, U+2033 to two primes.
    text = unicodedata.normalize("NFKC", text)
    for ch in _MINUTE_CHARS:
        text = text.replace(ch, "'")
    text = text.replace("''", '"')  # two primes/apostrophes mean seconds
    for ch in _SECOND_CHARS:
        text = text.replace(ch, '"')
    for word, letter in _HEMISPHERES.items():
        text = text.replace(word, letter)
    text = text.upper().replace("\u3000", " ").strip()
    # Spaces next to marks and hemisphere letters carry no meaning.
    text = re.sub(r"\s*([°'\"NSEW])\s*", r"\1", text)
    return text


def parse_coordinate_value(value: object) -> float | None:
    """Parse one coordinate cell; return ``None`` if it cannot be parsed.

    Parameters
    ----------
    value
        A number, or text: a plain number (half- or full-width) or 度分秒 with optional
        hemisphere (E/N positive, W/S negative; also 东经/北纬/西经/南纬).

    Returns
    -------
    float or None
        Decimal degrees (NaN for a blank cell), or ``None`` when the cell is not blank and
        cannot be read as a coordinate.
    """
    if _is_blank(value):
        return math.nan
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Number):  # int, float, numpy scalars, Decimal, Fraction
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            return None
        return number if math.isfinite(number) else None
    if not isinstance(value, str):
        return None
    text = _normalise_text(value)
    if not text:
        return math.nan
    if "_" in text:  # float() would accept "1_000"
        return None
    try:
        number = float(text)
    except ValueError:
        return _parse_dms(text)
    return number if math.isfinite(number) else None


def _parse_dms(text: str) -> float | None:
    """Parse normalised 度分秒 text (see :func:`_normalise_text`)."""
    match = _DMS_RE.match(text)
    if match is None:
        return None
    sign_s, pre, post = match.group("sign"), match.group("pre"), match.group("post")
    deg_s, min_s, sec_s = match.group("deg"), match.group("min"), match.group("sec")
    if pre and post:
        return None
    hemi = pre or post
    if hemi and sign_s:
        return None
    # A bare number with no mark and no hemisphere is handled by float(); here the
    # separator-only forms like "120 37" need at least the minutes to be meaningful.
    degrees = float(deg_s)
    minutes = float(min_s) if min_s is not None else 0.0
    seconds = float(sec_s) if sec_s is not None else 0.0
    if min_s is not None and not degrees.is_integer():
        return None
    if sec_s is not None and not minutes.is_integer():
        return None
    if minutes >= 60.0 or seconds >= 60.0:
        return None
    result = degrees + minutes / 60.0 + seconds / 3600.0
    if result > 180.0:
        return None
    if sign_s == "-" or hemi in ("W", "S"):
        result = -result
    return result


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip(" \t\r\n\u3000\xa0")


def parse_coordinate_values(
    values: Sequence[object],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Parse a column of coordinate cells.

    Parameters
    ----------
    values
        Cells as read from Excel/CSV (numbers, text, ``None``/NaN for blanks).

    Returns
    -------
    numbers : numpy.ndarray
        float64 decimal degrees, NaN where the cell is blank or unparsable.
    unparsable : numpy.ndarray
        bool, True only for non-blank cells that could not be parsed (including
        infinities and booleans). Never raises for odd input.
    """
    series = pd.Series(list(values), dtype=object)
    n = len(series)
    numbers = np.full(n, np.nan, dtype=np.float64)
    unparsable = np.zeros(n, dtype=bool)
    if n == 0:
        return numbers, unparsable

    is_bool = series.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
    try:
        fast = pd.to_numeric(series.where(~is_bool, None), errors="coerce")
        fast_np = fast.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError, OverflowError):  # exotic objects: go cell by cell
        fast_np = np.full(n, np.nan, dtype=np.float64)
    ok = np.isfinite(fast_np) & ~is_bool
    numbers[ok] = fast_np[ok]

    for i in np.flatnonzero(~ok):
        parsed = parse_coordinate_value(series.iat[i])
        if parsed is None:
            unparsable[i] = True
        else:
            numbers[i] = parsed
    return numbers, unparsable


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where ``(lon, lat)`` lies in :data:`CHINA_BOUNDS` (lon 73–135.1, lat 3.8–54).

    The box includes the South China Sea islands (Sansha, 112.3°E 16.8°N, down to Zengmu
    Ansha at 3.9°N), and with them part of the neighbouring countries: it tells impossible
    coordinates (other continents, swapped or unconverted numbers), not borders.

    Parameters
    ----------
    lon, lat
        Degrees; NaN gives False.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the broadcast shape.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    return (
        (lon_a >= CHINA_LON_RANGE[0])
        & (lon_a <= CHINA_LON_RANGE[1])
        & (lat_a >= CHINA_LAT_RANGE[0])
        & (lat_a <= CHINA_LAT_RANGE[1])
    )


def detect_swapped(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True for rows whose longitude and latitude were evidently swapped.

    A row is flagged when ``(lon, lat)`` is outside China's box but ``(lat, lon)`` is
    inside it (e.g. 31.3, 120.6 entered as lon, lat). The box's latitudes (3.8–54) are all
    below its longitudes (73–135.1), so no pair is inside both ways round: a flagged row
    has a "latitude" of 73 or more, which no point in China has (and above 90, none on
    Earth).

    Parameters
    ----------
    lon, lat
        Degrees as entered; NaN gives False.

    Returns
    -------
    numpy.ndarray
        Boolean mask.
    """
    return ~in_china(lon, lat) & in_china(lat, lon)
