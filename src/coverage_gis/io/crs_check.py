"""Is a vector file's coordinate system plausible for its coordinates?

A GeoJSON file holding Gauss-Krüger metres (x ≈ 500 000, y ≈ 3 400 000) but declaring no CRS
is read by GDAL as WGS84 degrees; a file that declares EPSG:4549 but holds degrees lands a
few hundred metres from the false origin. Either way every feature ends outside China and
the audit would run on nonsense. :func:`check_crs_plausible` refuses such a file with the
coordinate system its numbers most likely are in (:func:`likely_crs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coverage_gis.core.errors import InputError
from coverage_gis.io.coords import in_china

__all__ = ["MIN_SHARE_IN_CHINA", "check_crs_plausible", "likely_crs"]

#: A file is refused when fewer than this share of its features fall inside China.
MIN_SHARE_IN_CHINA = 0.5

_GK3_PREFIXED = (25, 45, 4513)  # zones 25–45 → EPSG:4513–4533 (x with the zone number)
_GK6_PREFIXED = (13, 23, 4491)  # zones 13–23 → EPSG:4491–4501


def likely_crs(x: np.ndarray, y: np.ndarray) -> list[str]:
    """Coordinate systems that numbers of this size are usually in (bilingual labels).

    Parameters
    ----------
    x, y
        Raw coordinates (as stored in the file); NaN ignored.
    """
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return []
    mx, my = float(np.median(x[ok])), float(np.median(y[ok]))
    if in_china(mx, my):
        return ["EPSG:4490（CGCS2000 经纬度 / geographic）", "EPSG:4326（WGS84）"]
    if in_china(my, mx):
        return ["EPSG:4490（CGCS2000 经纬度，纬度在前 / geographic, latitude first）"]
    if 1e6 <= my <= 6.1e6:
        if 1e7 <= mx < 5e7:
            zone = int(mx // 1e6)
            for first, last, epsg in (_GK3_PREFIXED, _GK6_PREFIXED):
                if first <= zone <= last:
                    width = "3度带" if epsg == _GK3_PREFIXED[2] else "6度带"
                    return [
                        f"EPSG:{epsg + zone - first}（CGCS2000 {width}高斯-克吕格 第{zone}带 / "
                        f"Gauss-Kruger zone {zone}, x with zone number）"
                    ]
        if 1e5 <= mx <= 9e5:
            return [
                "EPSG:4534–4554（CGCS2000 3度带高斯-克吕格，按中央经线选，苏州 120°E = EPSG:4549 / "
                "CGCS2000 3-degree Gauss-Kruger by central meridian; Suzhou 120°E is EPSG:4549）"
            ]
    return []


def check_crs_plausible(
    x_raw: np.ndarray,
    y_raw: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    crs: Any,
    *,
    file: str,
    option: str = "--boundaries-crs",
) -> None:
    """Refuse a file whose features mostly fall outside China in its declared/assumed CRS.

    Parameters
    ----------
    x_raw, y_raw
        One representative coordinate per feature, as stored in the file.
    lon, lat
        The same points in WGS84 after reading them in ``crs``.
    crs
        The coordinate system they were read in (a pyproj-readable value, for the message).
    file
        File name for the message.
    option
        The option that declares the CRS (named in the suggestion).

    Raises
    ------
    InputError
        Naming the CRS used, the coordinate range found and the likely CRS.
    """
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return
    share = float(in_china(lon[ok], lat[ok]).mean())
    if share >= MIN_SHARE_IN_CHINA:
        return
    from pyproj import CRS

    name = CRS.from_user_input(crs).name if crs is not None else "WGS84"
    fin = np.isfinite(x_raw) & np.isfinite(y_raw)
    xs, ys = x_raw[fin], y_raw[fin]
    rng = f"x {xs.min():.6g}…{xs.max():.6g}, y {ys.min():.6g}…{ys.max():.6g}" if len(xs) else "-"
    likely = likely_crs(x_raw, y_raw)
    hint_zh = f"坐标更像是：{'；'.join(likely)}" if likely else "无法从数值判断坐标系"
    hint_en = f"the numbers look like: {'; '.join(likely)}" if likely else "the CRS cannot be told"
    raise InputError(
        f"按坐标系“{name}”读取后 {100 * (1 - share):.0f}% 的要素不在中国范围内（{rng}）；"
        f"文件的坐标系声明有误或缺失。{hint_zh}",
        f"Read in '{name}', {100 * (1 - share):.0f}% of the features fall outside China "
        f"({rng}); the file's CRS is wrong or missing; {hint_en}",
        file=file,
        suggestion=f"用 {option} 声明正确的坐标系，或在 GIS 中修正 .prj / crs / "
        f"declare the right CRS with {option}, or fix the file's .prj / crs",
    )
