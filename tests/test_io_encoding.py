"""Tests of coverage_gis.io.encoding (GBK / UTF-8 files, mojibake, .dbf hints)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage_gis.core.errors import InputError
from coverage_gis.io.encoding import decode_dbf_hint, detect_encoding, garbled_reason, read_text

CSV_TEXT = (
    "苏州市养老服务设施名录（2023年）\r\n"
    "名称,类型,地址,经度,纬度,所属区县,所属镇(街道),状态\r\n"
    "甪直镇综合养老服务中心,综合养老服务中心,吴中区甪直镇,120.85,31.26,吴中区,甪直镇,已建成\r\n"
    "浒墅关镇区域性养老服务中心,区域性养老服务中心,虎丘区浒墅关镇,120.47,31.38,虎丘区,浒墅关镇,运营\r\n"
    "璜泾镇社会工作站,社会工作站,太仓市璜泾镇,121.09,31.63,太仓市,璜泾镇,已建成\r\n"
    "澄湖社区康复驿站,康复驿站,吴中区甪直镇澄湖,120°51′E,31°14′30″N,吴中区,甪直镇,运营\r\n"
)
RARE_NAMES = ["甪直", "浒墅关", "璜泾", "澄"]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# detect_encoding ---------------------------------------------------------------------


def test_detect_encoding_basic():
    assert detect_encoding(b"") == "utf-8"
    assert detect_encoding(b"name,lon,lat\n") == "utf-8"
    assert detect_encoding(CSV_TEXT.encode("utf-8")) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8")) == "utf-8-sig"
    assert detect_encoding(CSV_TEXT.encode("gbk")) == "gb18030"
    assert detect_encoding(CSV_TEXT.encode("gb18030")) == "gb18030"


def test_detect_encoding_rejects_undecodable():
    with pytest.raises(InputError):
        detect_encoding(b"\x80\xff\xfe abc")


# read_text: good files ---------------------------------------------------------------


def test_read_gbk_csv_with_rare_place_names(tmp_path):
    path = _write(tmp_path, "设施.csv", CSV_TEXT.encode("gbk"))
    text, encoding = read_text(path)
    assert encoding == "gb18030"
    assert text == CSV_TEXT
    for name in RARE_NAMES:
        assert name in text


def test_read_utf8_without_bom(tmp_path):
    path = _write(tmp_path, "utf8.csv", CSV_TEXT.encode("utf-8"))
    assert read_text(path) == (CSV_TEXT, "utf-8")


def test_read_utf8_with_bom(tmp_path):
    path = _write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8"))
    text, encoding = read_text(str(path))
    assert encoding == "utf-8-sig"
    assert text == CSV_TEXT
    assert not text.startswith("\ufeff")


def test_read_with_forced_encoding(tmp_path):
    path = _write(tmp_path, "gbk.csv", CSV_TEXT.encode("gbk"))
    assert read_text(path, "gbk") == (CSV_TEXT, "gbk")


@pytest.mark.parametrize(
    "text",
    [
        "甪直",
        "甪直\n" * 500,
        "名称\n甪直镇\n浒墅关镇\n璜泾镇\n澄湖\n",
        "120°37′12.5″,31°18′ · 面积 25 m² × 2 ± 1",
        # Traditional characters (about a third outside GB2312) are legitimate text.
        "蘇州市民政局養老服務設施名錄，姑蘇區滄浪街道，吳中區甪直鎮，崑山市，張家港市，常熟市",
        "Café Ünïcode, naïve",
    ],
)
def test_legitimate_text_is_accepted(tmp_path, text):
    assert garbled_reason(text) is None
    for encoding in ("utf-8", "gb18030"):
        path = _write(tmp_path, f"ok_{encoding}.csv", text.encode(encoding))
        assert read_text(path)[0] == text


# read_text: mojibake -----------------------------------------------------------------


def test_utf8_file_read_as_gbk_is_rejected(tmp_path):
    path = _write(tmp_path, "utf8_as_gbk.csv", CSV_TEXT.encode("utf-8"))
    for forced in ("gbk", "gb18030"):
        with pytest.raises(InputError) as info:
            read_text(path, forced)
        assert info.value.file == str(path)
        assert str(path) in str(info.value)


def test_utf8_read_as_gbk_then_saved_is_rejected(tmp_path):
    # Someone opened a UTF-8 file as GBK and saved the garbage back as UTF-8.
    mojibake = CSV_TEXT.encode("utf-8").decode("gb18030", errors="ignore")
    assert "鑻忓窞" in mojibake  # 苏州
    assert garbled_reason(mojibake) is not None
    path = _write(tmp_path, "鑻忓窞.csv", mojibake.encode("utf-8"))
    with pytest.raises(InputError) as info:
        read_text(path)
    err = info.value
    assert err.file == str(path)
    assert "乱码" in err.message_zh and "garbled" in err.message_en


def test_replacement_characters_are_rejected(tmp_path):
    mojibake = CSV_TEXT.encode("utf-8").decode("gb18030", errors="replace")
    assert "\ufffd" in mojibake
    path = _write(tmp_path, "replaced.csv", mojibake.encode("utf-8"))
    with pytest.raises(InputError, match=r"replaced\.csv"):
        read_text(path)


def test_gbk_read_as_latin1_then_saved_is_rejected(tmp_path):
    # Classic mojibake: GBK bytes decoded as Latin-1, re-encoded as UTF-8 ("ËÕÖÝ" = 苏州).
    mojibake = CSV_TEXT.encode("gbk").decode("latin-1")
    assert mojibake.startswith("ËÕÖÝ")
    path = _write(tmp_path, "latin1.csv", mojibake.encode("utf-8"))
    with pytest.raises(InputError) as info:
        read_text(path)
    assert info.value.file == str(path)
    assert "Latin-1" in info.value.message_en


def test_utf8_read_as_cp1252_then_saved_is_rejected(tmp_path):
    mojibake = CSV_TEXT.encode("utf-8").decode("cp1252", errors="ignore")
    path = _write(tmp_path, "cp1252.csv", mojibake.encode("utf-8"))
    with pytest.raises(InputError):
        read_text(path)


def test_short_mojibake_runs_are_rejected():
    assert garbled_reason("名称\n鑻忓窞甯傚吇鑰佹湇鍔\n") is not None
    assert garbled_reason("box ╔══╗ ║│║ ╚══╝ drawing") is not None
    assert garbled_reason("private \ue001\ue002\ue003\ue004 use") is not None


def test_undecodable_and_utf16_files(tmp_path):
    path = _write(tmp_path, "binary.csv", b"\x80\x81\xff\x00\x01" * 10)
    with pytest.raises(InputError) as info:
        read_text(path)
    assert info.value.file == str(path)
    path = _write(tmp_path, "utf16.txt", "名称,经度".encode("utf-16"))
    with pytest.raises(InputError) as info:
        read_text(path)
    assert "UTF-16" in info.value.message_en


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        read_text(tmp_path / "nope.csv")
    assert info.value.file == str(tmp_path / "nope.csv")


def test_bad_forced_encoding_name(tmp_path):
    path = _write(tmp_path, "a.csv", b"abc")
    with pytest.raises(InputError):
        read_text(path, "no-such-codec")


# Property: random bytes never crash ------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=200))
def test_random_bytes_never_crash(tmp_path_factory, raw):
    try:
        encoding = detect_encoding(raw)
    except InputError:
        encoding = None
    else:
        assert encoding in ("utf-8-sig", "utf-8", "gb18030")
    path = tmp_path_factory.mktemp("rand") / "random.csv"
    path.write_bytes(raw)
    try:
        text, used = read_text(path)
    except InputError as exc:
        error: InputError | None = exc
    else:
        error = None
        assert isinstance(text, str)
        assert used == encoding
    if error is not None:
        assert error.file == str(path)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80))
def test_random_text_never_crashes(text):
    reason = garbled_reason(text)
    assert reason is None or isinstance(reason, str)


# .dbf hints -----------------------------------------------------------------------


def _write_dbf(
    path: Path, fields: list[tuple[bytes, int]], rows: list[list[bytes]], ldid: int
) -> None:
    """Write a minimal dBase III file with character fields only."""
    header_len = 32 + 32 * len(fields) + 1
    record_len = 1 + sum(length for _, length in fields)
    header = struct.pack("<BBBBIHH", 3, 124, 1, 1, len(rows), header_len, record_len)
    header += b"\x00" * 17 + bytes([ldid]) + b"\x00\x00"
    descriptors = b""
    for name, length in fields:
        descriptors += name.ljust(11, b"\x00") + b"C" + b"\x00" * 4 + bytes([length, 0])
        descriptors += b"\x00" * 14
    body = b""
    for row in rows:
        body += b" " + b"".join(
            v.ljust(length, b" ") for v, (_, length) in zip(row, fields, strict=True)
        )
    path.write_bytes(header + descriptors + b"\x0d" + body + b"\x1a")


def _shp_with_dbf(tmp_path: Path, encoding: str | None, ldid: int = 0x4D) -> Path:
    shp = tmp_path / "units.shp"
    shp.write_bytes(b"")
    enc = encoding or "ascii"
    names = ["甪直镇", "浒墅关镇", "璜泾镇", "澄阳街道"] if encoding else ["Luzhi", "Xushuguan"]
    rows = [[n.encode(enc), b"320506"] for n in names]
    _write_dbf(shp.with_suffix(".dbf"), [(b"NAME", 20), (b"CODE", 9)], rows, ldid)
    return shp


def test_dbf_hint_gbk(tmp_path):
    assert decode_dbf_hint(_shp_with_dbf(tmp_path, "gbk")) == "gb18030"


def test_dbf_hint_utf8(tmp_path):
    assert decode_dbf_hint(_shp_with_dbf(tmp_path, "utf-8", ldid=0x57)) == "utf-8"


def test_dbf_hint_ascii_only(tmp_path):
    assert decode_dbf_hint(_shp_with_dbf(tmp_path, None)) is None


def test_dbf_hint_accepts_dbf_path_and_missing(tmp_path):
    shp = _shp_with_dbf(tmp_path, "gbk")
    assert decode_dbf_hint(shp.with_suffix(".dbf")) == "gb18030"
    assert decode_dbf_hint(tmp_path / "missing.shp") is None


def test_dbf_hint_gbk_field_names(tmp_path):
    shp = tmp_path / "names.shp"
    _write_dbf(shp.with_suffix(".dbf"), [("名称".encode("gbk"), 10)], [[b"abc"]], 0)
    assert decode_dbf_hint(shp) == "gb18030"


def test_dbf_hint_utf8_cut_at_field_width(tmp_path):
    shp = tmp_path / "cut.shp"
    value = "甪直镇综合".encode()[:8]  # a writer cut the last character in half
    _write_dbf(shp.with_suffix(".dbf"), [(b"NAME", 8)], [[value], ["澄".encode()]], 0)
    assert decode_dbf_hint(shp) == "utf-8"


def test_dbf_hint_truncated_file(tmp_path):
    shp = _shp_with_dbf(tmp_path, "gbk")
    dbf = shp.with_suffix(".dbf")
    data = dbf.read_bytes()
    dbf.write_bytes(data[:-40])  # last record incomplete
    assert decode_dbf_hint(shp) == "gb18030"
    dbf.write_bytes(data[:20])
    assert decode_dbf_hint(shp) is None


def test_dbf_hint_on_real_shapefile(tmp_path):
    gpd = pytest.importorskip("geopandas")
    shapely_geometry = pytest.importorskip("shapely.geometry")
    gdf = gpd.GeoDataFrame(
        {"name": ["甪直镇", "浒墅关镇", "璜泾镇"], "code": ["320506100", "320505001", "320585102"]},
        geometry=[shapely_geometry.Point(120.85, 31.26)] * 3,
        crs="EPSG:4490",
    )
    shp = tmp_path / "real.shp"
    gdf.to_file(shp, engine="pyogrio", encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    hint = decode_dbf_hint(shp)
    assert hint == "gb18030"
    back = gpd.read_file(shp, engine="pyogrio", encoding=hint)
    assert back["name"].tolist() == ["甪直镇", "浒墅关镇", "璜泾镇"]
