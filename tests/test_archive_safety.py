"""Zipped inputs: members with ``../`` or absolute paths write nothing anywhere and are
refused; zip bombs are refused from their declared sizes before anything is inflated.

Every archive is generated here at run time (the bomb from a generator of zero blocks).
"""

from __future__ import annotations

import stat
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from coverage_gis.cli import main
from coverage_gis.core.errors import InputError
from coverage_gis.io import archive
from coverage_gis.io.archive import (
    MAX_RATIO,
    MAX_UNCOMPRESSED_BYTES,
    check_archive,
    unsafe_member_name,
)
from coverage_gis.io.boundaries import read_boundaries, read_vector
from tests.conftest import make_units

FACILITIES = "名称,类型,所属镇(街道),经度,纬度\n甲山骨灰堂,骨灰堂,甲山镇,120.05,31.05\n"


def _files(*roots: Path) -> set[Path]:
    return {p for root in roots for p in root.rglob("*")}


def _shapefile_members(folder: Path) -> dict[str, bytes]:
    """The five units as a shapefile: {member name: bytes}."""
    shp = folder / "shp" / "townships.shp"
    shp.parent.mkdir(parents=True)
    units = make_units()[["code", "name", "county", "kind", "geometry"]]  # ≤ 10-char fields
    units.to_file(shp, driver="ESRI Shapefile", encoding="utf-8")
    return {p.name: p.read_bytes() for p in sorted(shp.parent.iterdir())}


def _zip(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)  # names kept exactly as given
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def _zeros(total: int, block: int = 1 << 24) -> Iterator[memoryview]:
    """``total`` zero bytes in blocks (never held in memory at once)."""
    zero = memoryview(bytes(block))
    while total > 0:
        n = min(block, total)
        yield zero[:n]
        total -= n


def _bomb(path: Path, size: int) -> Path:
    """A zip whose one member inflates to ``size`` bytes of zeros (streamed, deflated)."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("townships.dbf", "w", force_zip64=True) as fh,
    ):
        for chunk in _zeros(size):
            fh.write(chunk)
    return path


@pytest.fixture
def no_gdal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail the test if GDAL is asked to open anything."""
    import pyogrio

    calls: list[str] = []

    def refuse(src: object, *_a: object, **_k: object) -> None:
        calls.append(str(src))
        raise AssertionError(f"GDAL opened {src}")

    monkeypatch.setattr(pyogrio, "read_dataframe", refuse)
    monkeypatch.setattr(pyogrio, "list_layers", refuse)
    return calls


@pytest.mark.parametrize(
    ("name", "unsafe"),
    [
        ("townships.shp", False),
        ("data/townships.shp", False),
        ("a/../b.shp", True),
        ("../evil.txt", True),
        ("..\\evil.txt", True),
        ("/etc/cron.d/evil", True),
        ("\\evil.txt", True),
        ("C:evil.txt", True),
        ("C:/Windows/evil.txt", True),
        ("..data.shp", False),
    ],
)
def test_unsafe_member_names(name: str, unsafe: bool) -> None:
    assert unsafe_member_name(name) is unsafe


@pytest.fixture
def traversal_zip(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A real zipped shapefile plus members aimed outside the archive's folder."""
    folder = tmp_path / "in"
    members = _shapefile_members(tmp_path)
    targets = [tmp_path / "escaped_abs.txt", tmp_path.parent / "escaped_rel.txt"]
    members[str(targets[0])] = b"absolute"  # "/tmp/…/escaped_abs.txt"
    members["../../escaped_rel.txt"] = b"relative"
    members["..\\..\\escaped_win.txt"] = b"windows"
    folder.mkdir()
    return _zip(folder / "townships.zip", members), targets


def test_reading_a_zip_never_extracts_it(
    traversal_zip: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GDAL's /vsizip/ (what read_vector uses) reads in place: no file appears anywhere."""
    import pyogrio

    path, targets = traversal_zip
    work, gdal_tmp = tmp_path / "cwd", tmp_path / "gdal-tmp"
    work.mkdir()
    gdal_tmp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("CPL_TMPDIR", str(gdal_tmp))
    monkeypatch.setenv("TMPDIR", str(gdal_tmp))
    before = _files(tmp_path)
    gdf = pyogrio.read_dataframe(f"/vsizip/{path}", layer="townships")  # the check bypassed
    assert len(gdf) == 5
    assert _files(tmp_path) == before
    assert not any(t.exists() for t in targets)
    assert not (tmp_path.parent.parent / "escaped_rel.txt").exists()


def test_a_zip_with_unsafe_member_paths_is_refused(
    traversal_zip: tuple[Path, list[Path]], tmp_path: Path, no_gdal: list[str]
) -> None:
    path, targets = traversal_zip
    before = _files(tmp_path)
    with pytest.raises(InputError) as info:
        read_vector(path)
    err = info.value
    assert err.file == str(path)
    assert err.message_zh.startswith("拒绝读取压缩包：成员路径不安全")
    assert "unsafe member path (absolute or with ..)" in err.message_en
    assert err.value == str(targets[0])  # the first offending member is named
    assert no_gdal == [] and _files(tmp_path) == before
    assert not any(t.exists() for t in targets)


def test_a_symlink_member_is_refused(tmp_path: Path, no_gdal: list[str]) -> None:
    path = _zip(tmp_path / "t.zip", _shapefile_members(tmp_path), symlink="extra.prj")
    with pytest.raises(InputError, match=r"member is a symbolic link: extra\.prj"):
        read_vector(path)


def test_a_plain_zipped_shapefile_is_read(tmp_path: Path) -> None:
    path = _zip(tmp_path / "townships.zip", _shapefile_members(tmp_path))
    assert [i.filename for i in check_archive(path)][:1] == ["townships.cpg"]
    units, _findings = read_boundaries(path)
    assert sorted(units["name"]) == sorted(make_units()["name"])


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~10 MB on disk declaring 2 GiB + 16 MiB of zeros (a few seconds to make)."""
    size = MAX_UNCOMPRESSED_BYTES + (1 << 24)
    path = _bomb(tmp_path_factory.mktemp("bomb") / "townships.zip", size)
    assert path.stat().st_size < 16 * 1024**2
    return path


def test_a_zip_bomb_is_refused_before_it_is_inflated(bomb: Path, no_gdal: list[str]) -> None:
    t0 = time.perf_counter()
    with pytest.raises(InputError) as info:
        read_vector(bomb)
    assert time.perf_counter() - t0 < 1.0  # the central directory only
    err = info.value
    assert err.file == str(bomb)
    assert "解压后过大（声明的解压大小 2.0 GiB，上限 2.0 GiB）" in err.message_zh
    assert "too large when uncompressed (declares 2.0 GiB; the limit is 2.0 GiB)" in err.message_en
    assert no_gdal == []


def test_the_cli_refuses_a_zip_bomb_with_exit_code_2(
    bomb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_gdal: list[str]
) -> None:
    fac = tmp_path / "fac.csv"
    fac.write_text(FACILITIES, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["audit", "-b", str(bomb), "-f", str(fac), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "拒绝读取压缩包：解压后过大" in err and "Archive refused: too large" in err
    assert f"文件/file: {bomb}" in err and "2.0 GiB" in err
    assert not out.exists()


def test_an_implausible_compression_ratio_is_refused(tmp_path: Path, no_gdal: list[str]) -> None:
    """Far below the size limit, 100 MiB of zeros (~1,000×) is still refused."""
    path = _bomb(tmp_path / "ratio.zip", 100 * 1024**2)
    with pytest.raises(InputError) as info:
        read_vector(path)
    err = info.value
    assert err.value == "townships.dbf" and err.file == str(path)
    assert "压缩比异常" in err.message_zh and f"上限 {MAX_RATIO} 倍" in err.message_zh
    assert f"the limit is {MAX_RATIO}×" in err.message_en


def test_too_many_members_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_gdal: list[str]
) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 3)
    path = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(5)})
    with pytest.raises(InputError, match=r"too many members \(5; the limit is 3\)"):
        read_vector(path)


def test_a_broken_zip_is_a_clear_input_error(tmp_path: Path, no_gdal: list[str]) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError, match="Not a valid zip archive"):
        read_vector(path)


def test_a_zipped_facility_list_is_checked_too(tmp_path: Path, no_gdal: list[str]) -> None:
    """Facility .zip files must go through the same check before GDAL opens them."""
    from coverage_gis.io.facilities import read_facility_file

    path = _bomb(tmp_path / "facilities.zip", 100 * 1024**2)
    with pytest.raises(InputError, match="Archive refused"):
        read_facility_file(path)


def test_bomb_generator_streams(tmp_path: Path) -> None:
    """The generator yields exactly the size asked for, in bounded blocks."""
    blocks = list(_zeros(5 * (1 << 20) + 3, block=1 << 20))
    assert sum(len(b) for b in blocks) == 5 * (1 << 20) + 3 and max(map(len, blocks)) == 1 << 20
