"""The library: versions, removal, strict and lenient imports, duplicates, kill safety."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from unseen.core.errors import UserError
from unseen.matching.formats.loader import BATCH, MAX_PROBLEMS
from unseen.matching.library import HashSetImportError, Library, library_home
from unseen.matching.library_schema import entries, hashsets

from .hashset_files import md5, media, vics_media

INDEXES = ["ix_entries_md5", "ix_entries_set", "ix_entries_sha1", "ix_entries_sha256"]


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    return Library.open(tmp_path / "library")


def md5_list(path: Path, numbers: range, extra_lines: Sequence[str] = ()) -> Path:
    with path.open("w") as out:
        for i in numbers:
            out.write(f"{md5(i)}  file{i}.jpg\n")
        for line in extra_lines:
            out.write(line + "\n")
    return path


def entry_count(lib: Library) -> int:
    with lib.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(entries)) or 0)


def index_names(lib: Library) -> list[str]:
    with lib.engine.connect() as conn:
        found = conn.execute(
            text("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='entries'")
        )
        return sorted(name for (name,) in found)


def test_home_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("UNSEEN_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert library_home() == tmp_path / "home" / ".local" / "share" / "unseen"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert library_home() == tmp_path / "xdg" / "unseen"
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "env"))
    assert library_home() == tmp_path / "env"
    assert library_home(tmp_path / "given") == tmp_path / "given"
    lib = Library.open()
    assert (lib.home, (tmp_path / "env" / "library.db").is_file()) == (tmp_path / "env", True)


def test_versions_are_kept_and_numbered(lib: Library, tmp_path: Path) -> None:
    first = lib.import_file(md5_list(tmp_path / "a.txt", range(3)), "local")
    second = lib.import_file(md5_list(tmp_path / "b.txt", range(5)), "local")
    other = lib.import_file(md5_list(tmp_path / "c.txt", range(1)), "another")
    assert [(s.name, s.version, s.entries) for s in lib.sets()] == [
        ("another", 1, 1), ("local", 1, 3), ("local", 2, 5),
    ]  # fmt: skip
    assert first.info.file_sha256 != second.info.file_sha256
    assert first.info.source_file == str(tmp_path / "a.txt")
    assert lib.get("local") == second.info
    assert lib.get("local", 1) == first.info
    assert other.info.label == "another v1"
    assert entry_count(lib) == 9


def test_remove_marks_every_version_and_frees_entries(lib: Library, tmp_path: Path) -> None:
    path = md5_list(tmp_path / "a.txt", range(3))
    lib.import_file(path, "gone")
    lib.import_file(path, "gone")
    kept = lib.import_file(path, "kept")
    assert lib.remove("gone") == 2
    assert lib.sets() == [kept.info]
    removed = [s for s in lib.sets(include_removed=True) if s.name == "gone"]
    assert [(s.version, s.removed_at is not None) for s in removed] == [(1, True), (2, True)]
    assert entry_count(lib) == 3
    with pytest.raises(UserError, match="no hash set 'gone' to remove"):
        lib.remove("gone")
    # Version numbers never come back: the history stays unambiguous.
    assert lib.import_file(path, "gone").info.version == 3


def test_lenient_counts_and_duplicates(lib: Library, tmp_path: Path) -> None:
    records = [media(1, 1), media(2, 2), media(1, 1), media(1, 2), media(3, 9), media(2, 2)]
    result = lib.import_file(vics_media(tmp_path / "d.json", records), "d")
    assert (result.read, result.imported, result.duplicates, result.rejected) == (6, 3, 2, 1)
    assert [(p.ref, p.reason) for p in result.problems] == [
        ("record 5", "Category 9 is not defined for VICS profile US (scheme us)"),
        ("record 3", "duplicate of record 1"),
        ("record 6", "duplicate of record 2"),
    ]
    with lib.engine.connect() as conn:
        kept = conn.execute(select(entries.c.ref, entries.c.category).order_by(entries.c.id))
        # Same hashes with another category is not a duplicate: it is kept for matching
        # to show as a conflict.
        assert kept.all() == [("record 1", "CAT-1"), ("record 2", "CAT-2"), ("record 4", "CAT-2")]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([media(1, 1), {"MD5": "xyz"}, media(3, 1)], "record 2: MD5 'xyz' is not 32 hex digits"),
        ([media(1, 1), media(2, 1), media(1, 1)], "record 3: duplicate of record 1"),
    ],
)
def test_strict_fails_on_the_first_problem_and_leaves_nothing(
    lib: Library, tmp_path: Path, records: list[object], message: str
) -> None:
    path = vics_media(tmp_path / "s.json", records)
    with pytest.raises(HashSetImportError, match=message) as failure:
        lib.import_file(path, "strict", strict=True)
    assert failure.value.exit_code == 2
    assert lib.sets(include_removed=True) == []
    assert entry_count(lib) == 0
    assert index_names(lib) == INDEXES
    assert lib.import_file(path, "strict").info.version == 1


def test_problem_list_is_capped_but_counted(lib: Library, tmp_path: Path) -> None:
    bad = ["zz  bad.jpg"] * (MAX_PROBLEMS + 150)
    result = lib.import_file(md5_list(tmp_path / "b.txt", range(10), bad), "capped")
    assert (result.imported, result.rejected, len(result.problems)) == (10, 1150, MAX_PROBLEMS)
    assert result.problems[0].ref == "line 11"


def test_indexes_survive_both_load_paths(lib: Library, tmp_path: Path) -> None:
    # An empty library: indexes dropped and rebuilt around the bulk insert.
    lib.import_file(md5_list(tmp_path / "big.txt", range(3000)), "big")
    assert index_names(lib) == INDEXES
    # A tiny file into a bigger library: inserted with the indexes live.
    small = lib.import_file(md5_list(tmp_path / "small.txt", range(5000, 5002)), "small")
    assert index_names(lib) == INDEXES
    with lib.engine.connect() as conn:
        plan = conn.execute(
            text("EXPLAIN QUERY PLAN SELECT id FROM entries WHERE md5 = :m"), {"m": md5(5001)}
        ).all()
        found = conn.execute(select(entries.c.set_id).where(entries.c.md5 == md5(5001))).all()
    assert "ix_entries_md5" in str(plan)
    assert found == [(small.info.id,)]


def test_a_killed_import_leaves_nothing(lib: Library, tmp_path: Path) -> None:
    path = md5_list(tmp_path / "kill.txt", range(3 * BATCH))
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from unseen.matching.library import Library\n"
        "def die(n):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "Library.open(Path(sys.argv[1])).import_file(Path(sys.argv[2]), 'k', progress=die)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(lib.home), str(path)], capture_output=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL
    reopened = Library.open(lib.home)
    assert reopened.sets(include_removed=True) == []
    with reopened.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(hashsets)) == 0
    assert entry_count(reopened) == 0
    assert index_names(reopened) == INDEXES
    result = reopened.import_file(path, "k")
    assert (result.info.version, result.imported) == (1, 3 * BATCH)


def test_bad_arguments(lib: Library, tmp_path: Path) -> None:
    path = md5_list(tmp_path / "a.txt", range(2))
    with pytest.raises(UserError, match="is not a file"):
        lib.import_file(tmp_path / "missing.txt", "x")
    with pytest.raises(UserError, match="bad hash-set name"):
        lib.import_file(path, "bad\nname")
    with pytest.raises(UserError, match="--category needs --scheme"):
        lib.import_file(path, "x", category="A")
    with pytest.raises(UserError, match="--category 'Z' is not a code of scheme uk"):
        lib.import_file(path, "x", scheme="uk", category="Z")
    with pytest.raises(UserError, match="no hash set 'nothing'"):
        lib.get("nothing")
    assert lib.sets() == []


def test_known_good_override_and_category_for_lists(lib: Library, tmp_path: Path) -> None:
    path = md5_list(tmp_path / "a.txt", range(2))
    result = lib.import_file(path, "ok", known_good=True, scheme="us", category="CAT-5")
    assert (result.info.known_good, result.info.scheme) == (True, "us")
    with lib.engine.connect() as conn:
        got = conn.execute(select(entries.c.md5, entries.c.category).order_by(entries.c.id))
        assert got.all() == [(md5(0), "CAT-5"), (md5(1), "CAT-5")]


def test_an_import_in_progress_is_invisible_to_readers(lib: Library, tmp_path: Path) -> None:
    seen = []

    def peek(read: int) -> None:
        other = Library.open(lib.home)
        seen.append((read, other.sets(include_removed=True), entry_count(other)))
        other.close()

    lib.import_file(md5_list(tmp_path / "p.txt", range(2 * BATCH + 5)), "p", progress=peek)
    assert seen == [(BATCH, [], 0), (2 * BATCH, [], 0)]
    assert [s.entries for s in lib.sets()] == [2 * BATCH + 5]
