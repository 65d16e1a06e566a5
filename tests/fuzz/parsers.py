"""Running one artefact parser on given bytes the way the internet stage does, minus its
catch-all: what the parser raises reaches the property."""

from __future__ import annotations

from pathlib import Path

from unseen.core.models import SourceSpec
from unseen.internet.base import ARTEFACT_PARSERS, ParseContext, ParseTask
from unseen.internet.records import to_row

RECORDS = 2000  # records taken per example: a bound on time, not a limit of the parser


def parse_bytes(parser: str, root: Path, rel: str, data: bytes) -> int:
    """Write ``data`` at ``root/rel`` and run ``parser`` on it; returns records seen."""
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    cls = ARTEFACT_PARSERS.get(parser)
    task = ParseTask(
        1, SourceSpec(1, "folder", str(root), "FUZZ"), rel, rel.encode(), len(data), (parser,)
    )
    ctx = ParseContext(task, cls.NAME, cls.VERSION)
    seen = 0
    try:
        for record in cls().parse(ctx):
            to_row(record)  # what the stage stores must be buildable too
            seen += 1
            if seen >= RECORDS:
                break
    finally:
        ctx.cleanup()
    return seen
