"""Which items the phones stage reads, chosen by path in the main process.

A parser already run on an item in its current version is skipped; the siblings each
parser asks for (the ``-wal``, ``wa.db``) are looked up among the same source's items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, select

from unseen.core.models import SourceSpec
from unseen.internet.base import GlobIndex, ParseTask, Sibling
from unseen.internet.plan import item_pages
from unseen.phones.base import MESSAGE_PARSERS
from unseen.phones.worker import ChunkTask
from unseen.store import done, repo
from unseen.store import schema as s

IN_CHUNK = 500
# A database is read in chunks of about this many messages, each its own task, so the
# memory a parse holds is bounded by the chunk, not by the database (a message held in
# memory costs about 400 bytes).
CHUNK_MESSAGES = 200_000
# Smaller databases are read whole without asking where they split (no parser can fit
# a chunk's worth of messages in fewer bytes).
SURVEY_BYTES = 16 * 1024 * 1024


@dataclass
class Plan:
    tasks: list[ParseTask] = field(default_factory=list)
    selected: int = 0


def done_versions(conn: Connection) -> dict[tuple[int, str], str]:
    """(item id, parser) -> parser version, for every pair that has run (the ledger)."""
    return done.pairs(conn, MESSAGE_PARSERS.names())


def make_plan(conn: Connection) -> Plan:
    index = GlobIndex((cls.NAME, g) for cls in MESSAGE_PARSERS for g in cls.PATH_GLOBS)
    done = done_versions(conn)
    chosen: list[tuple[Any, tuple[str, ...]]] = []
    for page in item_pages(conn):
        chosen += [(r, tuple(names)) for r in page if (names := index.match(r.path))]
    wanted = {
        (r.source_id, sib)
        for r, names in chosen
        for n in names
        for sib in MESSAGE_PARSERS.get(n).sibling_paths(r.path)
    }
    existing = _existing(conn, wanted)
    specs: dict[int, SourceSpec] = {spec.id: spec for spec in repo.source_specs(conn)}
    plan = Plan(selected=len(chosen))
    for r, matched in chosen:
        todo = tuple(n for n in matched if done.get((r.id, n)) != MESSAGE_PARSERS.get(n).VERSION)
        if not todo:
            continue
        siblings = tuple(
            existing[(r.source_id, sib)]
            for n in todo
            for sib in MESSAGE_PARSERS.get(n).sibling_paths(r.path)
            if (r.source_id, sib) in existing
        )
        plan.tasks.append(
            ParseTask(
                r.id,
                specs[r.source_id],
                r.path,
                bytes(r.locator),
                r.size,
                todo,
                tuple(dict.fromkeys(siblings)),
            )
        )
    return plan


def _existing(conn: Connection, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], Sibling]:
    found: dict[tuple[int, str], Sibling] = {}
    paths: Sequence[str] = sorted({path for _, path in wanted})
    i = s.items
    for start in range(0, len(paths), IN_CHUNK):
        rows = conn.execute(
            select(i.c.id, i.c.source_id, i.c.path, i.c.locator, i.c.size).where(
                and_(i.c.path.in_(paths[start : start + IN_CHUNK]), i.c.kind == "file")
            )
        )
        for r in rows:
            if (r.source_id, r.path) in wanted:
                found[(r.source_id, r.path)] = Sibling(r.id, r.path, bytes(r.locator), r.size)
    return found


def to_survey(tasks: list[ParseTask]) -> list[ParseTask]:
    """The tasks of databases that may be read in chunks: one parser that can read a
    window of its messages, and an item large enough to hold more than one chunk."""
    return [
        task
        for task in tasks
        if len(task.parsers) == 1
        and MESSAGE_PARSERS.get(task.parsers[0]).CHUNK_KEYS is not None
        and (task.size is None or task.size >= SURVEY_BYTES)
    ]


def chunk_tasks(task: ParseTask, bounds: Sequence[int]) -> list[ChunkTask]:
    """The chunks of one database: key windows from its first message to the first
    bound, between bounds, and from the last bound on."""
    edges: list[int | None] = [None, *bounds, None]
    parts = len(edges) - 1
    return [ChunkTask(task, (edges[n], edges[n + 1]), n, parts) for n in range(parts)]
