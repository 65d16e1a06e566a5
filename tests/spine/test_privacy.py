"""A case at rest is private: folders 0700, files 0600 from creation; widening is reported."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from unseen.store.case import Case


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Run as an examiner whose shell has the usual umask 022."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def run(exe: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, check=False, umask=0o022
    )


def test_case_create_makes_a_private_case_whatever_the_umask(
    tmp_path: Path, open_umask: None
) -> None:
    case = Case.create(tmp_path / "case", name="PRIVATE")
    with case.engine.connect():  # the database and its WAL exist while open
        root = tmp_path / "case"
        modes = {p.name: mode(p) for p in [root, *root.iterdir()]}
    case.close()
    assert modes.pop("case.db-wal", 0o600) == 0o600
    assert modes.pop("case.db-shm", 0o600) == 0o600
    assert modes == {
        "case": 0o700,
        "thumbs": 0o700,
        "logs": 0o700,
        "case.json": 0o600,
        "case.db": 0o600,
    }


def test_the_cli_keeps_everything_it_creates_private(unseen_exe: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(evidence / "red.png")
    (evidence / "note.txt").write_text("benign\n")
    case_dir = tmp_path / "case"
    for args in (("init", str(case_dir)), ("add", str(case_dir), str(evidence))):
        assert run(unseen_exe, *args).returncode == 0
    done = run(unseen_exe, "process", str(case_dir), "--workers", "0")
    assert done.returncode == 0, done.stderr
    found = [(p, mode(p)) for p in [case_dir, *case_dir.rglob("*")]]
    assert any(p.parent == case_dir / "thumbs" or "thumbs" in p.parts for p, _ in found[1:])
    wide = [(str(p), oct(m)) for p, m in found if m & 0o077]
    assert wide == []
    status = run(unseen_exe, "status", str(case_dir))
    assert status.returncode == 0
    assert "warning" not in status.stderr


def test_status_and_verify_warn_when_the_case_was_opened_up(
    unseen_exe: Path, tmp_path: Path
) -> None:
    case_dir = tmp_path / "case"
    assert run(unseen_exe, "init", str(case_dir)).returncode == 0
    case_dir.chmod(0o755)
    (case_dir / "case.db").chmod(0o644)
    expected = [
        f"warning: {case_dir} is accessible to other users (mode 0755)",
        # SQLite gives the WAL and shared-memory files the database file's mode.
        *(
            f"warning: {case_dir / name} is accessible to other users (mode 0644)"
            for name in ("case.db", "case.db-shm", "case.db-wal")
        ),
        "warning: a case must be private to its owner (folders 0700, files 0600); "
        f"run: chmod -R go-rwx {case_dir}",
    ]
    for command in ("status", "verify"):
        done = run(unseen_exe, command, str(case_dir))
        assert done.returncode == 0, done.stderr
        assert [line for line in done.stderr.splitlines() if "warning" in line] == expected
    subprocess.run(["chmod", "-R", "go-rwx", str(case_dir)], check=True)
    assert "warning" not in run(unseen_exe, "status", str(case_dir)).stderr
