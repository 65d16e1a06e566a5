"""Inputs the fuzz harnesses found, kept as exact regression tests."""

from __future__ import annotations

import io
import sqlite3
import struct
import tarfile
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from PIL import Image

from unseen import plugins
from unseen.core.models import FileRecord, ItemTask, SourceSpec
from unseen.core.settings import Settings
from unseen.engine import pipeline
from unseen.engine.runner import process_case
from unseen.matching.formats import FORMATS
from unseen.matching.formats.base import BadFile
from unseen.sources.containers import CONTAINERS, Limits
from unseen.store import repo
from unseen.store.case import Case

from .parsers import parse_bytes
from .test_fuzz_images import seeds as image_seeds

plugins.load()
TRUNCATED = "damaged TAR member: Compressed file ended before the end-of-stream marker was reached"


def truncated_tar_gz(keep: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name in ("a.bin", "b.bin"):
            data = bytes(range(256)) * 800 + name.encode()
            data = bytes((b * 7 + i) % 251 for i, b in enumerate(data))  # not too compressible
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()[:keep]


def test_reading_a_truncated_tar_member_is_an_os_error() -> None:
    reader = CONTAINERS.get("tar")(io.BytesIO(truncated_tar_gz(2000)))
    (member,) = list(reader.members(Limits()))
    with reader.open_member(member.entry.locator) as stream, pytest.raises(OSError) as err:
        stream.read()
    assert str(err.value) == TRUNCATED


def test_a_truncated_tar_gz_is_recorded_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by test_fuzz_archives: the member's first read raised EOFError, which
    # escaped the per-item function and stopped the whole run, on every rerun.
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "library"))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "t.tar.gz").write_bytes(truncated_tar_gz(600))
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(evidence), "EV", "tests")
    process_case(case, workers=0)
    case.close()
    with sqlite3.connect(tmp_path / "case" / "case.db") as db:
        items = db.execute("SELECT id, path, status FROM items ORDER BY id").fetchall()
        errors = db.execute(
            "SELECT item_id, analyser, message FROM item_errors ORDER BY id"
        ).fetchall()
    assert items == [(1, "t.tar.gz", "done"), (2, "t.tar.gz!a.bin", "done")]
    assert errors == [
        (
            1,
            "containers",
            "TAR archive damaged after 1 members: Compressed file ended before "
            "the end-of-stream marker was reached",
        ),
        (2, "read", f"cannot read: {TRUNCATED}"),
    ]


def _zipped(name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytearray:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        info = zipfile.ZipInfo(name)  # the only way to write an empty name
        info.compress_type = method
        zf.writestr(info, data)
    return bytearray(buf.getvalue())


def _bad_crc() -> bytes:
    data = _zipped("a.txt", b"benign text\n" * 10, zipfile.ZIP_STORED)
    data[data.index(b"benign")] ^= 1
    return bytes(data)


def _bad_deflate() -> bytes:
    data = _zipped("a.txt", bytes(range(256)) * 20)
    start = data.index(b"a.txt") + 10
    for k in range(35):
        data[start + k] ^= 0x55
    return bytes(data)


def _central_directory_too_far() -> bytes:
    data = _zipped("a.txt", b"x" * 10)
    end = data.rindex(b"PK\x05\x06")
    offset = struct.unpack_from("<I", data, end + 16)[0]
    struct.pack_into("<I", data, end + 16, offset + 2**24)
    return bytes(data)


def _read_zip(data: bytes) -> list[tuple[str, int | str]]:
    reader = CONTAINERS.get("zip")(io.BytesIO(data))
    out: list[tuple[str, int | str]] = []
    for member in reader.members(Limits()):
        try:
            with reader.open_member(member.entry.locator) as stream:
                out.append((member.entry.path, len(stream.read())))
        except OSError as exc:
            out.append((member.entry.path, str(exc)))
    return out


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_bad_crc(), [("a.txt", "damaged ZIP member: Bad CRC-32 for file 'a.txt'")]),
        (
            _bad_deflate(),
            [
                (
                    "a.txt",
                    "damaged ZIP member: Error -3 while decompressing data: "
                    "invalid distance too far back",
                )
            ],
        ),
        (
            _central_directory_too_far(),
            [("a.txt", "damaged ZIP member: negative seek value -16777216")],
        ),
        (bytes(_zipped("", b"x" * 10)), [("_", 10)]),  # is_dir() raised IndexError on ""
    ],
    ids=["bad-crc", "bad-deflate", "negative-seek", "empty-name"],
)
def test_damaged_zip_members_are_os_errors(
    data: bytes, expected: list[tuple[str, object]]
) -> None:
    # Found by test_fuzz_archives: BadZipFile, zlib.error and ValueError escaped from
    # member reads and opens, and IndexError from listing a member with an empty name.
    assert _read_zip(data) == expected


def _schema_not_utf8(path: Path) -> Path:
    """An SQLite file whose schema names a table in bytes that are not UTF-8: SQLite's
    "malformed database schema (...)" message then quotes them."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE urls (id INTEGER)")
        db.commit()
    data = bytearray(path.read_bytes())
    name = data.index(b"tableurlsurls") + 6
    data[name] = 0xB4  # the name column: "u\xb4ls"
    sql = data.index(b"CREATE TABLE urls")
    data[sql + 14] = 0x20  # so that the schema no longer parses
    path.write_bytes(bytes(data))
    return path


def test_a_browser_database_with_a_non_utf8_schema_is_a_database_error(tmp_path: Path) -> None:
    # Found by test_fuzz_browsers: Python could not build SQLite's error and raised
    # UnicodeDecodeError from opening the copy.
    data = _schema_not_utf8(tmp_path / "seed").read_bytes()
    rel = "Users/u/AppData/Local/Google/Chrome/User Data/Default/History"
    with pytest.raises(sqlite3.DatabaseError) as err:
        parse_bytes("chromium_history", tmp_path / "ev", rel, data)
    assert str(err.value) == (
        "corrupt database: 'utf-8' codec can't decode byte 0xb4 in position 28: invalid start byte"
    )


def test_an_nsrl_file_with_a_non_utf8_schema_is_a_bad_file(tmp_path: Path) -> None:
    path = _schema_not_utf8(tmp_path / "nsrl.db")
    with pytest.raises(BadFile) as err:
        FORMATS.get("nsrl")(path).header()
    assert str(err.value) == (
        "database: not a readable SQLite database: 'utf-8' codec can't decode byte 0xb4 "
        "in position 28: invalid start byte"
    )


def test_a_csv_header_with_a_stray_carriage_return_is_a_bad_file(tmp_path: Path) -> None:
    # Found by test_fuzz_hashsets: csv.Error escaped from reading the header.
    path = tmp_path / "set.csv"
    path.write_bytes(b"md5,cat\regory\n" + b"0" * 31 + b"1,1\n")
    with pytest.raises(BadFile) as err:
        FORMATS.get("csv")(path).header()
    assert str(err.value) == (
        "line 1: header is not CSV: new-line character seen in unquoted field - "
        "do you need to open the file in universal-newline mode?"
    )


def test_a_corrupt_lzma_stream_in_a_7z_member_is_an_os_error() -> None:
    # Found by test_fuzz_archives: LZMAError escaped from extracting the member.
    py7zr = pytest.importorskip("py7zr")
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        archive.writestr(bytes(range(256)) * 40, "a.bin")
    data = bytearray(buf.getvalue())
    for k in range(40, 80):  # the packed stream, after the 32-byte signature header
        data[k] ^= 0x5A
    reader = CONTAINERS.get("7z")(io.BytesIO(bytes(data)))
    (member,) = list(reader.members(Limits()))
    with pytest.raises(OSError) as err:
        reader.open_member(member.entry.locator)
    assert str(err.value) == "7z member not readable: Corrupt input data"


def test_an_icse_header_with_a_stray_carriage_return_is_a_bad_file(tmp_path: Path) -> None:
    # Found by test_fuzz_hashsets: csv.Error escaped from reading an ICSE file's header.
    path = tmp_path / "set.csv"
    path.write_bytes(b"MD5,SHA1,Cat\regory\n")
    with pytest.raises(BadFile) as err:
        list(FORMATS.get("icse")(path).records())
    assert str(err.value) == (
        "line 1: header is not CSV: new-line character seen in unquoted field - "
        "do you need to open the file in universal-newline mode?"
    )


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on the corrupt tags
def test_a_tiff_with_a_damaged_frame_chain_is_recorded_and_still_read(tmp_path: Path) -> None:
    # Found by test_fuzz_images: counting a TIFF's frames made Pillow raise TypeError
    # ("Missing dimensions", from a KeyError) out of the image analyser.
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 60, 20)).save(buf, "TIFF")
    data = bytearray(buf.getvalue())
    data[8] ^= 0xFF
    (tmp_path / "damaged.tif").write_bytes(bytes(data))
    (tmp_path / "thumbs").mkdir()
    task = ItemTask(1, SourceSpec(1, "folder", str(tmp_path), "EV"), "damaged.tif",
                    b"damaged.tif", len(data))  # fmt: skip
    config = pipeline.WorkerConfig(Settings(), str(tmp_path / "thumbs"))
    record = pipeline.process_item(task, config)
    assert record.image is not None
    assert (record.image.width, record.image.height, record.image.frames) == (48, 32, None)
    assert [e for e in record.errors if e[0] == "image"] == [
        ("image", "frame count unreadable (damaged frame chain): Missing dimensions")
    ]


def _fast_pass(folder: Path, name: str, data: bytes) -> FileRecord:
    (folder / name).write_bytes(data)
    (folder / "thumbs").mkdir(exist_ok=True)
    task = ItemTask(1, SourceSpec(1, "folder", str(folder), "EV"), name, name.encode(), len(data))
    return pipeline.process_item(task, pipeline.WorkerConfig(Settings(), str(folder / "thumbs")))


def test_a_gif_with_a_cut_frame_chain_is_recorded(tmp_path: Path) -> None:
    # Found by test_fuzz_images: counting its frames made Pillow raise struct.error.
    data = b"GIF87a" + b"\x00" * 7 + b",\x00\x00\x00\x00\x00\x01\x00\x01\x00\x00\x00,"
    record = _fast_pass(tmp_path, "cut.gif", data)
    assert record.errors == [
        ("image", "frame count unreadable (damaged frame chain): unpack_from requires a "
         "buffer of at least 2 bytes for unpacking 2 bytes at offset 0 (actual buffer size "
         "is 0)"),
        ("image", "cannot decode: image file is truncated (1 bytes not processed)"),
    ]  # fmt: skip


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on the corrupt tags
def test_a_tiff_tile_outside_the_image_is_recorded(tmp_path: Path) -> None:
    # Found by test_fuzz_images: Pillow's decoder raised SystemError out of the analyser.
    data = bytearray(image_seeds()["TIFF"])
    data[178] ^= 0xFF
    record = _fast_pass(tmp_path, "tile.tif", bytes(data))
    assert record.errors == [
        ("image", "frame count unreadable (damaged frame chain): Missing dimensions"),
        ("image", "cannot decode: tile cannot extend outside image"),
    ]


def test_a_file_system_cut_after_its_boot_sector_is_one_recorded_item() -> None:
    """The Sleuth Kit opens the file system from the boot sector alone, then cannot read
    the root folder: that is one item with the reason, never an exception out of the
    listing."""
    from .test_fuzz_disks import seeds as disk_seeds

    if "disk" not in CONTAINERS.names() or "fat" not in disk_seeds():
        pytest.skip("the disk extra or mkfs.vfat is missing")
    reader = CONTAINERS.get("disk")(io.BytesIO(disk_seeds()["fat"][:512]))
    members = list(reader.members(Limits()))
    assert [(m.entry.path, m.entry.kind) for m in members] == [(".", "dir")]
    (message,) = members[0].entry.errors
    assert message.startswith("cannot list the root folder: Directory_Con: ")
