"""The deep stage: run the deep analysers over every picture, best leads first.

Pictures are taken in lead order (the current ranking from the correlation stage),
so the pictures most likely to matter are analysed first; the ranking is refreshed
every few minutes and at the end, so better leads appear while the pass runs.
Resumable: what each analyser version has done is recorded per item.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select

from unseen import plugins
from unseen.core.jobs import Workers
from unseen.core.models import ItemTask
from unseen.core.settings import Settings
from unseen.correlation import ledger
from unseen.correlation.deep.base import DEEP_ANALYSERS, DeepAnalyser
from unseen.correlation.deep.worker import DeepResult, DeepTask, deep_batch
from unseen.correlation.facts import ItemFacts, load_facts
from unseen.correlation.stage import CorrelationStage
from unseen.engine.driver import CRASHED, drive, ensure_tables, forget_output
from unseen.engine.stages import STAGES, CaseStage
from unseen.store import done, repo
from unseen.store import schema as s
from unseen.store.case import Case

REFRESH_SECONDS = 120.0
RATE_WINDOW = 600.0  # seconds of recent work the deep pass's rate is taken over
DECODE = "deep"  # errors of the shared decode, before any analyser ran
BATCH = 8


class DeepStage(CaseStage):
    NAME = "deep"
    VERSION = "1"
    DESCRIPTION = "faces, text, sensor noise and scenes, best leads first"
    DEPENDS_ON = ("correlate",)

    def run(self, case: Case, settings: Settings, workers: int | Workers) -> str:
        plugins.load()
        usable, notes = _usable(settings)
        if not usable:
            return "; ".join(["no deep analysers to run", *notes])
        for analyser in usable:
            ensure_tables(case, analyser)
        with case.engine.connect() as conn:
            todo = list(_todo(conn, usable, settings))
        writer = _Writer(case, usable, settings)
        work = partial(deep_batch, settings=settings)
        drive(work, todo, writer.store, _crashed, workers, BATCH)
        writer.refresh(final=True)
        names = ", ".join(a.NAME for a in usable)
        return "; ".join([f"{len(todo)} pictures analysed by {names}", *notes])


@dataclass(frozen=True, slots=True)
class DeepProgress:
    """How far the deep pass has got: pictures done and left, and the recent rate."""

    done: int
    left: int
    per_minute: float

    def minutes_left(self) -> float | None:
        """At the recent rate; None when nothing was done lately (not running)."""
        return self.left / self.per_minute if self.per_minute and self.left else None


def deep_progress(conn: Connection, settings: Settings) -> DeepProgress:
    """The deep pass's progress in a case, as the next run would see it; the rate is
    that of the last ``RATE_WINDOW`` seconds (a run in progress, or none)."""
    plugins.load()
    usable, _ = _usable(settings)
    names = [a.NAME for a in usable]
    left = _left(conn, usable, settings)
    recent = done.recent(conn, names, time.time() - RATE_WINDOW)
    return DeepProgress(done.items_done(conn, names), left, recent * 60 / RATE_WINDOW)


def _usable(settings: Settings) -> tuple[list[DeepAnalyser], list[str]]:
    usable, notes = [], []
    # By name, so results and errors come out in the same order in every process.
    for cls in sorted(DEEP_ANALYSERS, key=lambda c: c.NAME):
        if cls.NAME in settings.skip:
            notes.append(f"{cls.NAME} switched off")
            continue
        analyser = cls(settings)
        reason = analyser.unavailable()
        if reason:
            notes.append(f"{cls.NAME} unavailable: {reason}")
        else:
            usable.append(analyser)
    return usable, notes


def _todo(
    conn: Connection, analysers: list[DeepAnalyser], settings: Settings
) -> Iterator[DeepTask]:
    """Pictures some analyser has not yet done in its current version, by lead rank."""
    wanted = dict(_wanted(conn, analysers, settings))
    ranked = [
        r.target_id
        for r in conn.execute(
            select(s.leads.c.target_id)
            .where(s.leads.c.target_kind == "item")
            .order_by(*ledger.order("item"))
        )
    ]
    first = set(ranked)
    order = [i for i in ranked if i in wanted] + [i for i in wanted if i not in first]
    specs = {spec.id: spec for spec in repo.source_specs(conn)}
    items = {
        r.id: r for r in conn.execute(select(s.items.c.id, s.items.c.locator, s.items.c.size))
    }
    for item_id in order:
        f, names = wanted[item_id]
        row = items[item_id]
        task = ItemTask(item_id, specs[f.source_id], f.path, bytes(row.locator), row.size)
        yield DeepTask(task, f, names)


def _wanted(
    conn: Connection, analysers: list[DeepAnalyser], settings: Settings
) -> Iterator[tuple[int, tuple[ItemFacts, tuple[str, ...]]]]:
    """Each picture some analyser has not yet done in its current version, with those
    analysers' names, in id order (``unseen status`` counts these without ranking them
    or reading where they lie)."""
    ledger = {a.NAME: done.versions(conn, a.NAME) for a in analysers}
    current = {a.NAME: a.version(settings) for a in analysers}  # once, not per picture
    for f in load_facts(conn):
        names = tuple(
            a.NAME
            for a in analysers
            if a.applies_to(f) and ledger[a.NAME].get(f.id) != current[a.NAME]
        )
        if names:
            yield f.id, (f, names)


def _left(conn: Connection, analysers: list[DeepAnalyser], settings: Settings) -> int:
    """How many pictures ``_wanted`` would give, without building every picture's
    facts: analysers decide from type and size, and a million pictures come in a few
    thousand of those, so each shape is asked once."""
    ledger = {a.NAME: done.versions(conn, a.NAME) for a in analysers}
    current = {a.NAME: a.version(settings) for a in analysers}
    i, im = s.items, s.images
    query = (
        select(i.c.id, i.c.mime, im.c.width, im.c.height)
        .select_from(i.outerjoin(im, im.c.item_id == i.c.id))
        .where(i.c.status == "done", i.c.sha256.is_not(None))
    )
    shapes: dict[tuple[Any, ...], tuple[str, ...]] = {}
    left = 0
    for item_id, mime, width, height in conn.execute(query):
        names = shapes.get((mime, width, height))
        if names is None:
            shape = ItemFacts(0, 0, "", None, mime, width, height)
            names = tuple(a.NAME for a in analysers if a.applies_to(shape))
            shapes[mime, width, height] = names
        if any(ledger[n].get(item_id) != current[n] for n in names):
            left += 1
    return left


def _crashed(t: DeepTask) -> DeepResult:
    result = DeepResult(t.task.item_id)
    result.errors.append((DECODE, CRASHED))
    result.done.extend((name, "") for name in t.analysers)
    return result


class _Writer:
    """Stores deep results (single writer) and refreshes the leads now and then."""

    def __init__(self, case: Case, analysers: list[DeepAnalyser], settings: Settings) -> None:
        self.case = case
        self.analysers = {a.NAME: a for a in analysers}
        self.settings = settings
        self.last_refresh = time.monotonic()
        self.dirty = False

    def store(self, results: list[DeepResult]) -> None:
        """Each analyser's rows, errors and ledger entries replace its earlier ones."""
        ids = [r.item_id for r in results]
        by_analyser: dict[str, list[int]] = defaultdict(list)
        for r in results:
            for name, _ in r.done:
                by_analyser[name].append(r.item_id)
        with self.case.engine.begin() as conn:
            e = s.item_errors
            conn.execute(delete(e).where(and_(e.c.item_id.in_(ids), e.c.analyser == DECODE)))
            for name, done_ids in by_analyser.items():
                forget_output(conn, self.analysers[name], done_ids)
            # One executemany per table and column set, not one statement per row.
            tables = {t.name: t for a in self.analysers.values() for t in a.TABLES}
            rows: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
            for r in results:
                for name, values in r.rows:
                    row = {"item_id": r.item_id, **values}
                    rows[(name, tuple(sorted(row)))].append(row)
            for (name, _), batch in rows.items():
                conn.execute(insert(tables[name]), batch)
            errors = [
                {"item_id": r.item_id, "analyser": a, "message": m}
                for r in results
                for a, m in r.errors
            ]
            if errors:
                conn.execute(insert(e), errors)
            for name, done_ids in by_analyser.items():
                done.mark(conn, name, self.analysers[name].version(self.settings), done_ids)
        self.dirty = True
        self.refresh()

    def refresh(self, final: bool = False) -> None:
        due = time.monotonic() - self.last_refresh > REFRESH_SECONDS
        if self.dirty and (final or due):
            CorrelationStage().run(self.case, self.settings, 0)
            self.last_refresh, self.dirty = time.monotonic(), False


STAGES.register(DeepStage)
