"""A case at rest is private to its owner: folders 0700, files 0600, from creation.

The case database holds what the pictures show in words (GPS, OCR text, categories),
the review accounts' password hashes and the audit log; thumbnails are pictures.
Any other local account that can read the folder can read all of that, so nothing in
a case is created readable by group or others: the CLI and the server run with umask
077, and what ``Case.create`` makes is made private explicitly (a library caller may
not have set the umask). ``widened`` finds what was opened up later (``chmod``, a copy
made with another umask) so ``unseen status`` and ``unseen verify`` can say so.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077
SHOWN = 10  # widened paths named one by one; the rest are counted


def private_umask() -> int:
    """Make everything this process creates private; returns the previous umask."""
    return os.umask(UMASK)


def make_private_dir(path: Path) -> None:
    """Create a folder (and missing parents) and make it owner-only whatever the umask."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)


def write_private(path: Path, text: str) -> None:
    """Write a text file that is owner-only from its first byte (never a window at 0644)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), FILE_MODE)
        fh.write(text)


def touch_private(path: Path) -> None:
    """Create an empty owner-only file if absent.

    SQLite gives its -wal and -shm files the mode of the database file, so making
    ``case.db`` private before SQLite opens it makes all three private.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def widened(root: Path) -> list[tuple[Path, int]]:
    """Paths of the case that group or others may access, with their modes.

    Checks the case folder, every folder below it, and the files directly in the case
    folder and in ``logs/``. Thumbnail files are not stat'ed one by one (a large case
    has hundreds of thousands): their folders are, and a widening by ``chmod -R`` or by
    copying with another umask shows there too.
    """
    found: list[tuple[Path, int]] = []
    for folder, dirnames, filenames in os.walk(root):
        here = Path(folder)
        _check(here, found)
        dirnames.sort()
        if here == root or here == root / "logs":
            for name in sorted(filenames):
                _check(here / name, found)
    return found


def _check(path: Path, found: list[tuple[Path, int]]) -> None:
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISLNK(st.st_mode):
        return  # a link's own mode means nothing; its target is checked where it lives
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        found.append((path, mode))


def warnings(root: Path) -> list[str]:
    """The exact lines ``unseen status`` and ``unseen verify`` print (none: all private)."""
    found = widened(root)
    if not found:
        return []
    lines = [
        f"warning: {path} is accessible to other users (mode {mode:04o})"
        for path, mode in found[:SHOWN]
    ]
    if len(found) > SHOWN:
        lines.append(f"warning: and {len(found) - SHOWN} more paths")
    lines.append(
        "warning: a case must be private to its owner (folders 0700, files 0600); "
        f"run: chmod -R go-rwx {root}"
    )
    return lines
