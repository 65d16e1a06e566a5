"""Inputs the fuzz harnesses found, kept as exact regression tests."""

from __future__ import annotations

import io
import sqlite3
import tarfile
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
