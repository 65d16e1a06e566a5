"""Private by default on the command line: umask 077, and warnings when a case was opened up."""

from __future__ import annotations

from pathlib import Path

from unseen.cli.common import say
from unseen.store import privacy


def private_by_default() -> None:
    """Account for every file on seized media, categorise the known, rank the unseen.

    Runs before every command: everything unseen creates (case folders, databases,
    thumbnails, logs, exports, the review server's files) is private to its owner.
    """
    privacy.private_umask()


def warn_widened(root: Path) -> int:
    """Print the permission warnings for a case folder to stderr; returns how many paths."""
    lines = privacy.warnings(root)
    for line in lines:
        say(line, "yellow")
    return max(0, len(lines) - 1)
