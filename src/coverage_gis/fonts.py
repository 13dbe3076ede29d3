"""Finding a Chinese-capable font for static maps and charts (matplotlib).

Only fonts already installed on the system are used; nothing is downloaded. When none is
found, :func:`use_cjk_font` returns ``None`` and emits a :class:`CJKFontWarning` telling
the user how to install one (``apt-get install fonts-noto-cjk`` on Debian/Ubuntu; on
Windows 微软雅黑/SimHei are present by default).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

__all__ = ["CJK_FONT_NAMES", "CJKFontWarning", "find_cjk_font", "use_cjk_font"]

#: Families tried in order (Linux, Windows, macOS).
CJK_FONT_NAMES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "SimSun",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)


class CJKFontWarning(UserWarning):
    """No Chinese-capable font is installed: Chinese text will render as boxes."""


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """Return the family name of an installed Chinese-capable font, or ``None``."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in installed:
            return name
    return None


def use_cjk_font() -> str | None:
    """Configure matplotlib to draw Chinese with an installed font; warn when none exists."""
    import matplotlib

    name = find_cjk_font()
    if name is None:
        warnings.warn(
            "未找到中文字体，图中的中文将显示为方框。请安装 fonts-noto-cjk（Debian/Ubuntu: "
            "apt-get install fonts-noto-cjk）/ No Chinese-capable font found; Chinese text will show "
            "as boxes. Install one, e.g. `apt-get install fonts-noto-cjk`.",
            CJKFontWarning,
            stacklevel=2,
        )
        return None
    matplotlib.rcParams["font.sans-serif"] = [name, *matplotlib.rcParams["font.sans-serif"]]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    return name
