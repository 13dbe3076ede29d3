"""Text encodings of files from Chinese Windows PCs: detect, decode, refuse mojibake.

Excel on a Chinese Windows PC saves CSV as GBK (code page 936); newer tools write UTF-8,
with or without a byte-order mark; shapefile .dbf files are usually GBK with no .cpg.
GB18030 is a superset of GBK and GB2312, so it is used for all of them.

Detection order (:func:`detect_encoding`): UTF-8 BOM → ``"utf-8-sig"``; strict UTF-8 →
``"utf-8"``; strict GB18030 → ``"gb18030"``; otherwise an :class:`InputError`. Real GBK text
is almost never valid UTF-8, so trying UTF-8 first is safe.

Garbled-text heuristic (:func:`garbled_reason`)
-----------------------------------------------
Decoding can succeed and still give 乱码 (mojibake), e.g. when the file was already
mis-decoded and saved again. The decoded text is refused when any of these hold:

1. It contains U+FFFD (the replacement character left by an earlier lossy decode).
2. Among its non-ASCII characters, at least 3 and at least 20 % are *suspicious*: C0/C1
   control characters, box-drawing/block elements (U+2500–U+259F), private-use characters
   (U+E000–U+F8FF), and Latin-1 supplement characters other than common symbols
   (``° ± · × ÷ ² ³ µ`` …) that sit next to another non-ASCII character. This catches GBK
   or UTF-8 bytes read as Latin-1/cp1252 ("ËÕÖÝ" for 苏州), which always come in runs,
   while accented words ("Café", "naïve") pass.
3. It has at least 8 *distinct* CJK ideographs and at least 50 % of the distinct ones lie
   outside GB2312 (the 6763 common simplified characters). UTF-8 bytes read as GBK give
   mostly such rare characters ("鑻忓窞" for 苏州, about 60 %), while real Suzhou place names
   use few (甪 of 甪直 is one; 浒墅关, 璜泾, 澄 are in GB2312); counting distinct characters
   keeps a column that repeats 甪直 a thousand times from tipping the share.
   Traditional-character text runs at about 35 %.
4. Runs of non-ASCII characters totalling at least 4 characters and at least half of all
   non-ASCII characters turn back into valid UTF-8 when re-encoded as GB18030: UTF-8 that
   was read as GBK and saved again. Genuine GBK text practically never forms valid UTF-8.
"""

from __future__ import annotations

import os
import re
import struct
import unicodedata
from collections import Counter
from pathlib import Path

from coverage_gis.core.errors import InputError

__all__ = [
    "decode_dbf_hint",
    "detect_encoding",
    "garbled_reason",
    "read_text",
]

_UTF8_BOM = b"\xef\xbb\xbf"
_ALLOWED_LATIN1 = frozenset("\xa0°±·×÷²³¹µ¼½¾§©®¥£¢º")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_C0_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_ALWAYS_SUSPICIOUS = re.compile(r"[\x80-\x9f\u2500-\u259f\ue000-\uf8ff]")
_LATIN1_SUSPICIOUS = re.compile(
    "[" + "".join(chr(c) for c in range(0xA0, 0x100) if chr(c) not in _ALLOWED_LATIN1) + "]"
)

#: Share thresholds of the heuristic (see module docstring).
SUSPICIOUS_MIN_COUNT = 3
SUSPICIOUS_MIN_SHARE = 0.2
RARE_CJK_MIN_COUNT = 8
RARE_CJK_MIN_SHARE = 0.5
REPAIRABLE_MIN_CHARS = 4
REPAIRABLE_MIN_SHARE = 0.5


#: A UTF-8 byte-order mark followed by GB18030/GBK bytes (read as GB18030 after the mark).
BOM_THEN_GB18030 = "gb18030 (after a UTF-8 BOM)"


def detect_encoding(raw: bytes) -> str:
    """Return the encoding of ``raw``: ``"utf-8-sig"``, ``"utf-8"`` or ``"gb18030"``.

    Parameters
    ----------
    raw
        The file's bytes.

    Returns
    -------
    str
        ``"utf-8-sig"`` when it starts with a UTF-8 BOM (:data:`BOM_THEN_GB18030` when
        what follows the mark is GB18030 and not UTF-8), ``"utf-8"`` when it decodes
        strictly as UTF-8 (pure ASCII included), else ``"gb18030"`` when it decodes strictly
        as GB18030 (a superset of GBK).

    Raises
    ------
    InputError
        When it decodes as none of them.
    """
    if raw.startswith(_UTF8_BOM):
        try:
            raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            # A BOM put in front of GBK text (some editors add one when "converting")
            try:
                raw[len(_UTF8_BOM) :].decode("gb18030")
            except UnicodeDecodeError:
                pass
            else:
                return BOM_THEN_GB18030
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise _undecodable_error(None, raw)


def _undecodable_error(file: str | None, raw: bytes, encoding: str | None = None) -> InputError:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return InputError(
            "文件是 UTF-16（“Unicode 文本”）编码，无法读取。",
            "The file is UTF-16 (Excel 'Unicode Text'); it cannot be read.",
            file=file,
            suggestion="在 Excel 中另存为“CSV UTF-8”或“CSV（逗号分隔）” / "
            "save it from Excel as 'CSV UTF-8' or 'CSV (Comma delimited)'",
        )
    tried = encoding or "UTF-8, GB18030/GBK"
    return InputError(
        f"文件编码无法识别（已尝试 {tried}），可能不是文本文件或已损坏。",
        f"Cannot decode the file (tried {tried}); it may not be a text file or is damaged.",
        file=file,
        suggestion="用 Excel 或记事本打开后另存为 UTF-8 / "
        "open it in Excel or Notepad and save it as UTF-8",
    )


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x323AF


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _repairs_as_utf8(run: str) -> bool:
    try:
        fixed = run.encode("gb18030").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return fixed != run


#: Text longer than this is checked on a sample (:func:`_sample`): mojibake comes from how
#: a whole file was decoded, so it shows in every part of it.
GARBLE_SAMPLE_CHARS = 1 << 19
_SAMPLE_WINDOWS = 8


def _sample(text: str) -> str:
    """The whole text when short, else evenly spaced windows cut at line ends."""
    if len(text) <= GARBLE_SAMPLE_CHARS:
        return text
    width = GARBLE_SAMPLE_CHARS // _SAMPLE_WINDOWS
    parts = []
    for k in range(_SAMPLE_WINDOWS):
        start = (len(text) - width) * k // (_SAMPLE_WINDOWS - 1)
        if k:
            nl = text.find("\n", start)
            start = nl + 1 if 0 <= nl < start + width // 2 else start
        parts.append(text[start : start + width])
    return "\n".join(parts)


def garbled_reason(text: str) -> str | None:
    """Return why ``text`` looks like mojibake, or ``None`` when it looks fine.

    The rules of the module docstring are shares, so a long text is judged on a sample
    (:data:`GARBLE_SAMPLE_CHARS`), and each distinct run of non-ASCII characters is looked
    at once and weighted by how often it occurs.

    Parameters
    ----------
    text
        Decoded text.

    Returns
    -------
    str or None
        A short English reason (rule of the heuristic in the module docstring), or None.
    """
    if "\ufffd" in text:
        return "contains U+FFFD replacement characters"
    text = _sample(text)
    runs = Counter(_NON_ASCII_RUN.findall(text))
    controls = len(_C0_CONTROL.findall(text))
    n = sum(len(run) * k for run, k in runs.items()) + controls
    if n == 0:
        return None
    suspicious = controls + sum(len(_ALWAYS_SUSPICIOUS.findall(run)) * k for run, k in runs.items())
    # Latin-1 letters only count inside runs of non-ASCII characters: "Café" is fine,
    # "ËÕÖÝ" (GBK read as Latin-1) is not.
    suspicious += sum(
        len(_LATIN1_SUSPICIOUS.findall(run)) * k for run, k in runs.items() if len(run) >= 2
    )
    if suspicious >= SUSPICIOUS_MIN_COUNT and suspicious / n >= SUSPICIOUS_MIN_SHARE:
        return (
            f"{suspicious} of {n} non-ASCII characters are control, Latin-1, "
            "box-drawing or private-use characters"
        )
    cjk = {ch for run in runs for ch in run if _is_cjk(ch)}
    if len(cjk) >= RARE_CJK_MIN_COUNT:
        rare = sum(1 for ch in cjk if not _in_gb2312(ch))
        if rare / len(cjk) >= RARE_CJK_MIN_SHARE:
            return f"{rare} of {len(cjk)} distinct Chinese characters are rare (outside GB2312)"
    repairable = sum(
        len(run) * k for run, k in runs.items() if len(run) >= 2 and _repairs_as_utf8(run)
    )
    if repairable >= REPAIRABLE_MIN_CHARS and repairable / n >= REPAIRABLE_MIN_SHARE:
        return f"{repairable} of {n} non-ASCII characters are UTF-8 read as GBK"
    return None


def read_text(
    path: str | os.PathLike[str], encoding: str | None = None, *, max_bytes: int | None = None
) -> tuple[str, str]:
    """Read a text file, detecting its encoding, and refuse garbled text.

    Parameters
    ----------
    path
        File to read.
    encoding
        Force this encoding instead of detecting it (decoded strictly).
    max_bytes
        Read only about the first ``max_bytes`` (cut after the last line feed, a byte that
        never occurs inside a UTF-8 or GB18030 character), e.g. for a preview.

    Returns
    -------
    text : str
        The decoded text (a UTF-8 BOM is removed; newlines are left as they are).
    encoding : str
        The encoding used.

    Raises
    ------
    InputError
        When the bytes do not decode, or decode to text that looks garbled (see
        :func:`garbled_reason`). The message names the file.
    """
    file = os.fspath(path)
    try:
        if max_bytes is None:
            raw = Path(file).read_bytes()
        else:
            with open(file, "rb") as fh:
                raw = fh.read(max_bytes + 1)
            if len(raw) > max_bytes:
                cut = raw.rfind(b"\n", 0, max_bytes)
                raw = raw[: cut + 1] if cut >= 0 else raw[:max_bytes]
    except OSError as exc:
        raise InputError(
            f"无法读取文件：{exc.strerror or exc}",
            f"Cannot read the file: {exc.strerror or exc}",
            file=file,
        ) from exc
    if encoding is None:
        encoding = _detect_or_none(raw)
        if encoding is None:
            raise _undecodable_error(file, raw)
    try:
        if encoding == BOM_THEN_GB18030:
            text = raw[len(_UTF8_BOM) :].decode("gb18030")
        else:
            text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise _undecodable_error(file, raw, encoding) from exc
    reason = garbled_reason(text)
    if reason is not None:
        sample = _garbled_sample(text)
        raise InputError(
            f"文件内容是乱码（{encoding} 解码后仍不可读：{reason}）。示例：{sample}",
            f"The file content is garbled (mojibake after decoding as {encoding}: {reason}). "
            f"Sample: {sample}",
            file=file,
            suggestion="找到原始文件，或用 Excel 打开后另存为“CSV UTF-8” / "
            "find the original file, or open it in Excel and save as 'CSV UTF-8'",
        )
    return text, encoding


def _detect_or_none(raw: bytes) -> str | None:
    """Like :func:`detect_encoding` but return ``None`` instead of raising."""
    try:
        return detect_encoding(raw)
    except InputError:
        return None


def _garbled_sample(text: str, width: int = 30) -> str:
    for line in text.splitlines():
        if any(ord(ch) > 0x7F for ch in line):
            cleaned = "".join(
                ch if unicodedata.category(ch)[0] != "C" else "?" for ch in line.strip()
            )
            return cleaned[:width]
    return text[:width]


# --------------------------------------------------------------------------- .dbf

_DBF_MAX_BYTES = 8 * 1024 * 1024
_LDID_CHINESE = {0x4D}  # code page 936 (GBK/GB2312)


def _dbf_path(shp_path: str | os.PathLike[str]) -> Path | None:
    path = Path(os.fspath(shp_path))
    candidates = [path] if path.suffix.lower() == ".dbf" else []
    candidates += [path.with_suffix(".dbf"), path.with_suffix(".DBF")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _dbf_text_values(data: bytes) -> tuple[list[tuple[bytes, bool]], int]:
    """Return the language-driver byte and the raw field names and character values.

    Each value comes with a flag that is True when it fills its field completely (so that
    a writer may have cut its last character).
    """
    if len(data) < 32:
        return [], 0
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    ldid = data[29]
    fields: list[tuple[int, int]] = []  # (offset in record, length) of 'C' fields
    values: list[tuple[bytes, bool]] = []
    offset = 1  # deletion flag
    pos = 32
    while pos + 32 <= min(header_len, len(data)) and data[pos] != 0x0D:
        descriptor = data[pos : pos + 32]
        values.append((descriptor[:11].split(b"\x00", 1)[0], False))
        ftype = chr(descriptor[11])
        length = descriptor[16]
        if ftype == "C":
            length += descriptor[17] * 256  # some writers use the decimal byte as high byte
            fields.append((offset, length))
        offset += length
        pos += 32
    if record_len <= 0:
        return values, ldid
    start = header_len
    for i in range(n_records):
        rec_start = start + i * record_len
        if rec_start + record_len > len(data):
            break
        record = data[rec_start : rec_start + record_len]
        for field_offset, length in fields:
            value = record[field_offset : field_offset + length].rstrip(b" \x00")
            values.append((value, len(value) == length))
    return values, ldid


def _decodes(value: bytes, encoding: str, *, field_full: bool) -> bool:
    try:
        value.decode(encoding)
    except UnicodeDecodeError as exc:
        # A writer may cut a multi-byte character at the field width: tolerate a broken
        # last character in a value that fills its field.
        truncated = (
            exc.reason.startswith("unexpected end") or exc.reason == "incomplete multibyte sequence"
        )
        return field_full and exc.start >= len(value) - 3 and truncated
    return True


def decode_dbf_hint(shp_path: str | os.PathLike[str]) -> str | None:
    """Guess the encoding of a shapefile's .dbf from its bytes (for files with no .cpg).

    Parameters
    ----------
    shp_path
        The .shp (or .dbf) path; the .dbf beside it is read (at most the first 8 MiB).

    Returns
    -------
    str or None
        ``"utf-8"`` when the non-ASCII string values and field names decode as UTF-8,
        ``"gb18030"`` when they decode as GB18030 but not as UTF-8 (or decode as neither
        and the header's language-driver byte says code page 936), ``None`` when there is
        no non-ASCII byte, no .dbf, or nothing fits.
    """
    path = _dbf_path(shp_path)
    if path is None:
        return None
    with path.open("rb") as fh:
        data = fh.read(_DBF_MAX_BYTES)
    values, ldid = _dbf_text_values(data)
    non_ascii = [(v, full) for v, full in values if any(b > 0x7F for b in v)]
    if not non_ascii:
        return None
    if all(_decodes(v, "utf-8", field_full=full) for v, full in non_ascii):
        return "utf-8"
    if all(_decodes(v, "gb18030", field_full=full) for v, full in non_ascii):
        return "gb18030"
    return "gb18030" if ldid in _LDID_CHINESE else None
