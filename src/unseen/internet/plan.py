"""Which items the internet stage reads, with which parsers, and what it must forget.

Items are selected by path (each parser's ``PATH_GLOBS``), in the main process and
without reading content. A parser that already ran on an item in its current version
is not run again; rows of pairs that no longer apply (a parser renamed, a glob
narrowed) are listed as stale. A ``-wal`` file whose database is absent becomes a task
of its own, so the missing database is recorded against it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, select

from unseen.core.models import SourceSpec
from unseen.internet.base import ARTEFACT_PARSERS, ParseTask, Sibling, parsers_for
from unseen.internet.presence import PathRow
from unseen.internet.sqlite import SqliteParser
from unseen.store import repo
from unseen.store import schema as s

PAGE = 5000
IN_CHUNK = 500


@dataclass
class Plan:
    """Parse tasks, stale (item, parser) pairs to forget, and how many items matched."""

    tasks: list[ParseTask] = field(default_factory=list)
    stale: list[tuple[int, str]] = field(default_factory=list)
    selected: int = 0


def item_pages(conn: Connection) -> Iterator[Sequence[Any]]:
    """Pages of file items (id, source, path, locator, size, mtime), in id order."""
    i = s.items
    after = 0
    query = select(i.c.id, i.c.source_id, i.c.path, i.c.locator, i.c.size, i.c.mtime)
    while True:
        rows = conn.execute(
            query.where(and_(i.c.kind == "file", i.c.id > after)).order_by(i.c.id).limit(PAGE)
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def path_rows(conn: Connection) -> Iterator[PathRow]:
    """Every file item as the presence scan sees it."""
    labels = {spec.id: spec.label for spec in repo.source_specs(conn)}
    for page in item_pages(conn):
        for r in page:
            yield PathRow(r.id, labels[r.source_id], r.path, r.mtime)


def _sqlite_parsers(path: str) -> tuple[str, ...]:
    return tuple(n for n in parsers_for(path) if issubclass(ARTEFACT_PARSERS.get(n), SqliteParser))


def _existing(conn: Connection, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], Sibling]:
    """The items among (source id, exact display path) pairs that exist."""
    found: dict[tuple[int, str], Sibling] = {}
    paths = sorted({path for _, path in wanted})
    i = s.items
    for start in range(0, len(paths), IN_CHUNK):
        chunk = paths[start : start + IN_CHUNK]
        rows = conn.execute(
            select(i.c.id, i.c.source_id, i.c.path, i.c.locator, i.c.size).where(
                and_(i.c.path.in_(chunk), i.c.kind == "file")
            )
        )
        for r in rows:
            if (r.source_id, r.path) in wanted:
                found[(r.source_id, r.path)] = Sibling(r.id, r.path, bytes(r.locator), r.size)
    return found


def make_plan(conn: Connection, done: dict[tuple[int, str], str]) -> Plan:
    """Tasks for every item some parser should (re)read, and the stale pairs."""
    specs: dict[int, SourceSpec] = {spec.id: spec for spec in repo.source_specs(conn)}
    chosen: list[tuple[Any, tuple[str, ...]]] = []
    wal_only: list[tuple[Any, tuple[str, ...]]] = []
    for page in item_pages(conn):
        for r in page:
            names = parsers_for(r.path)
            if names:
                chosen.append((r, names))
            elif r.path.casefold().endswith("-wal") and _sqlite_parsers(r.path[:-4]):
                wal_only.append((r, _sqlite_parsers(r.path[:-4])))
    wanted = {
        (r.source_id, sib)
        for r, names in chosen
        for n in names
        for sib in ARTEFACT_PARSERS.get(n).sibling_paths(r.path)
    }
    wanted |= {(r.source_id, r.path[:-4]) for r, _ in wal_only}
    existing = _existing(conn, wanted)
    orphans = [(r, names) for r, names in wal_only if (r.source_id, r.path[:-4]) not in existing]
    plan = Plan(selected=len(chosen) + len(orphans))
    applicable: set[tuple[int, str]] = set()
    for r, names in chosen + orphans:
        applicable |= {(r.id, n) for n in names}
        todo = tuple(n for n in names if done.get((r.id, n)) != ARTEFACT_PARSERS.get(n).VERSION)
        if not todo:
            continue
        siblings = tuple(
            existing[(r.source_id, sib)]
            for n in todo
            for sib in ARTEFACT_PARSERS.get(n).sibling_paths(r.path)
            if (r.source_id, sib) in existing
        )
        spec = specs[r.source_id]
        plan.tasks.append(
            ParseTask(
                r.id, spec, r.path, bytes(r.locator), r.size, todo, tuple(dict.fromkeys(siblings))
            )
        )
    plan.stale = sorted(pair for pair in done if pair not in applicable)
    return plan
