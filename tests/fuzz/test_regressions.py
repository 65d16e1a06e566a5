"""Inputs the fuzz harnesses found, kept as exact regression tests."""

from __future__ import annotations

import io
import sqlite3
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from unseen import plugins
from unseen.engine.runner import process_case
from unseen.sources.containers import CONTAINERS, Limits
from unseen.store import repo
from unseen.store.case import Case

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
