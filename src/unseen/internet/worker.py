"""Per-item work of the internet stage, as pure functions of plain data.

``parse_item`` runs the named parsers on one item and returns what they found, with
every failure recorded (never raised); ``hash_item`` computes the ED2K hash and
first-piece SHA-1s of a case file for matching P2P records. Both run the same in this
process or in a worker of the process pool, and never touch the case database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from unseen import plugins
from unseen.core.models import SourceSpec
from unseen.engine.driver import CRASHED
from unseen.engine.pipeline import describe
from unseen.internet.base import ARTEFACT_PARSERS, ParseContext, ParseTask, TooLarge
from unseen.internet.ed2k import ed2k_stream
from unseen.internet.records import ArtefactRow, to_row
from unseen.sources.base import open_source

# Records kept per parser and item: a bound on memory for hostile or enormous files.
MAX_RECORDS = 500_000


@dataclass(frozen=True, slots=True)
class ParserOutcome:
    """How one parser did on one item: ``ok`` (records), ``empty`` or ``failed``."""

    parser: str
    version: str
    status: str
    rows: tuple[ArtefactRow, ...]
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    item_id: int
    outcomes: tuple[ParserOutcome, ...]


def parse_item(task: ParseTask) -> ItemOutcome:
    """Run every parser of ``task`` on its item; failures are recorded, never raised."""
    plugins.load()  # a fresh worker process registers the plugins once
    return ItemOutcome(task.item_id, tuple(_run(task, name) for name in task.parsers))


def _run(task: ParseTask, name: str) -> ParserOutcome:
    try:
        cls = ARTEFACT_PARSERS.get(name)
    except KeyError as exc:
        return ParserOutcome(name, "?", "failed", (), (str(exc),))
    ctx = ParseContext(task, cls.NAME, cls.VERSION)
    rows: list[ArtefactRow] = []
    failed = False
    try:
        if task.size is not None and task.size > cls.MAX_BYTES:
            raise TooLarge(f"{task.size} bytes, over the {cls.MAX_BYTES}-byte limit for {name}")
        for record in cls().parse(ctx):
            if len(rows) >= MAX_RECORDS:
                ctx.error(f"stopped after {MAX_RECORDS} records; the rest was not read")
                break
            rows.append(to_row(record))
    except Exception as exc:  # hostile evidence: any failure becomes a recorded error
        failed = True
        ctx.error(describe(exc))
    finally:
        ctx.cleanup()
    status = "failed" if failed else ("ok" if rows else "empty")
    return ParserOutcome(name, cls.VERSION, status, tuple(rows), tuple(ctx.errors))


def parse_batch(tasks: list[ParseTask]) -> list[ItemOutcome]:
    """``parse_item`` over a batch: fewer round trips between processes."""
    return [parse_item(task) for task in tasks]


def crashed(task: ParseTask) -> ItemOutcome:
    """The outcome recorded for an item whose parsing killed its worker process."""
    return ItemOutcome(
        task.item_id,
        tuple(ParserOutcome(name, "?", "failed", (), (CRASHED,)) for name in task.parsers),
    )


@dataclass(frozen=True, slots=True)
class HashTask:
    """A case file to hash for P2P matching: ED2K and/or the SHA-1 of its first bytes."""

    item_id: int
    source: SourceSpec
    locator: bytes
    ed2k: bool
    piece_lengths: tuple[int, ...]
    ed2k_limit: int


@dataclass(frozen=True, slots=True)
class HashResult:
    item_id: int
    ed2k: str | None
    ed2k_blue: str | None
    first_pieces: tuple[tuple[int, str], ...]
    error: str | None


def hash_item(task: HashTask) -> HashResult:
    """ED2K and first-piece SHA-1s of one file; a failure is recorded, never raised."""
    red = blue = None
    pieces: list[tuple[int, str]] = []
    try:
        source = open_source(task.source)
        for length in task.piece_lengths:
            with source.open(task.locator) as stream:
                pieces.append((length, _sha1_head(stream, length)))
        if task.ed2k:
            with source.open(task.locator) as stream:
                found = ed2k_stream(stream, task.ed2k_limit)
            red, blue = found.ed2k, found.ed2k_blue
    except Exception as exc:  # hostile evidence: any failure becomes a recorded error
        return HashResult(task.item_id, red, blue, tuple(pieces), describe(exc))
    return HashResult(task.item_id, red, blue, tuple(pieces), None)


def _sha1_head(stream: BinaryIO, length: int) -> str:
    """SHA-1 of the first ``length`` bytes (fewer if the stream is shorter)."""
    digest = hashlib.sha1()
    left = length
    while left > 0 and (chunk := stream.read(min(left, 1024 * 1024))):
        digest.update(chunk)
        left -= len(chunk)
    return digest.hexdigest()


def hash_batch(tasks: list[HashTask]) -> list[HashResult]:
    """``hash_item`` over a batch."""
    plugins.load()
    return [hash_item(task) for task in tasks]


def hash_crashed(task: HashTask) -> HashResult:
    """The result recorded for a file whose hashing killed its worker process."""
    return HashResult(task.item_id, None, None, (), CRASHED)
