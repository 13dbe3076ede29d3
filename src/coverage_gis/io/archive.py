"""Zip archives given as inputs (zipped shapefiles): checked before anything reads them.

coverage-gis never extracts an archive: GDAL reads a zipped shapefile in place through
``/vsizip/`` and writes nothing to disk. Still, an archive from someone else is refused
before it is opened for reading when its central directory (read without decompressing
anything) shows

* a member whose name is absolute (``/x``, ``\\x``, ``C:x``) or climbs out (``../x``), or a
  symbolic link: no legitimate shapefile archive has one, and a tool that does extract
  would write outside its folder (a "zip slip");
* more than :data:`MAX_MEMBERS` members;
* a declared uncompressed size above :data:`MAX_UNCOMPRESSED_BYTES` in total (a "zip
  bomb": a few megabytes that inflate to gigabytes);
* a member above :data:`RATIO_MIN_BYTES` whose size is more than :data:`MAX_RATIO` times
  its compressed size (real data compresses 2–20×; zeros ~1,000×).

Each refusal is an :class:`~coverage_gis.core.errors.InputError` (exit code 2) that names the
file, the member and the limit. The sizes are those the archive declares; a reader that
trusts them inflates no more than that.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from coverage_gis.core.errors import InputError

__all__ = [
    "MAX_MEMBERS",
    "MAX_RATIO",
    "MAX_UNCOMPRESSED_BYTES",
    "RATIO_MIN_BYTES",
    "check_archive",
    "unsafe_member_name",
]

#: Total declared uncompressed size above which an archive is refused (2 GiB).
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
#: Largest accepted ratio of a member's uncompressed to compressed size …
MAX_RATIO = 200
#: … for members larger than this (small files, e.g. a .dbf of blank padding, may compress
#: far better and cannot hurt).
RATIO_MIN_BYTES = 64 * 1024**2
#: Largest accepted number of members.
MAX_MEMBERS = 10_000


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def unsafe_member_name(name: str) -> bool:
    """True when an archive member's name is absolute or climbs out of the archive's root.

    Both ``/`` and ``\\`` count as separators (archives made on Windows), and a drive
    (``C:``) counts as absolute.
    """
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) >= 2 and text[1] == ":"):
        return True
    return ".." in PurePosixPath(text).parts


def _refuse(path: Path, zh: str, en: str, member: str | None = None) -> InputError:
    return InputError(
        f"拒绝读取压缩包：{zh}",
        f"Archive refused: {en}",
        file=str(path),
        value=member,
        suggestion="请检查压缩包来源；需要时先自行解压，再读取其中的 .shp / check where the "
        "archive came from; if it is genuine, unzip it yourself and read the .shp",
    )


def check_archive(path: str | Path) -> list[zipfile.ZipInfo]:
    """Check a zip archive's central directory before it is read (see the module docstring).

    Parameters
    ----------
    path
        The ``.zip`` file.

    Returns
    -------
    list of zipfile.ZipInfo
        Its members, when the archive is accepted.

    Raises
    ------
    InputError
        When the file is not a zip archive, or has an unsafe member name, too many members,
        too large a declared uncompressed size, or a member with an implausible compression
        ratio. Nothing has been decompressed or written at that point.
    """
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as zf:  # reads only the central directory
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            f"不是有效的 zip 压缩包：{exc}", f"Not a valid zip archive: {exc}", file=str(p)
        ) from exc
    if len(members) > MAX_MEMBERS:
        raise _refuse(
            p,
            f"成员过多（{len(members):,} 个，上限 {MAX_MEMBERS:,} 个）",
            f"too many members ({len(members):,}; the limit is {MAX_MEMBERS:,})",
        )
    for info in members:
        if unsafe_member_name(info.filename):
            raise _refuse(
                p,
                f"成员路径不安全（绝对路径或含 ..）：{info.filename}",
                f"unsafe member path (absolute or with ..): {info.filename}",
                info.filename,
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(
                p,
                f"成员是符号链接：{info.filename}",
                f"member is a symbolic link: {info.filename}",
                info.filename,
            )
    total = sum(info.file_size for info in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse(
            p,
            f"解压后过大（声明的解压大小 {_size(total)}，上限 {_size(MAX_UNCOMPRESSED_BYTES)}）",
            f"too large when uncompressed (declares {_size(total)}; the limit is "
            f"{_size(MAX_UNCOMPRESSED_BYTES)})",
        )
    for info in members:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO:
            raise _refuse(
                p,
                f"成员 {info.filename} 压缩比异常（{_size(info.compress_size)} 解压为 "
                f"{_size(info.file_size)}，{ratio:,.0f} 倍，上限 {MAX_RATIO} 倍）",
                f"member {info.filename} has an implausible compression ratio "
                f"({_size(info.compress_size)} inflates to {_size(info.file_size)}, "
                f"{ratio:,.0f}×; the limit is {MAX_RATIO}×)",
                info.filename,
            )
    return members
