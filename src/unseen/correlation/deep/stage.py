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
from functools import partial
from typing import Any

from sqlalchemy import Connection, MetaData, Table, and_, delete, insert, select

from unseen import plugins
from unseen.analysis.decode import pixel_budget
from unseen.core.models import ItemTask
from unseen.core.settings import Settings
from unseen.correlation.deep.base import DEEP_ANALYSERS, DeepAnalyser
from unseen.correlation.deep.worker import DeepResult, DeepTask, deep_batch
from unseen.correlation.facts import load_facts
from unseen.correlation.stage import CorrelationStage
from unseen.engine.fanout import batched, fan_out
from unseen.engine.runner import CRASHED, process_pool
from unseen.engine.stages import STAGES, CaseStage
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

REFRESH_SECONDS = 120.0
BATCH = 8


class DeepStage(CaseStage):
    NAME = "deep"
    VERSION = "1"
    DESCRIPTION = "faces, text, sensor noise and scenes, best leads first"
    DEPENDS_ON = ("correlate",)

    def run(self, case: Case, settings: Settings, workers: int) -> str:
        plugins.load()
        usable, notes = _usable(settings)
        if not usable:
            return "; ".join(["no deep analysers to run", *notes])
        names = tuple(a.NAME for a in usable)
        with case.engine.connect() as conn:
            todo = list(_todo(conn, usable))
        writer = _Writer(case, usable)
        work = partial(deep_batch, names=names, budget=pixel_budget(settings))
        if workers == 0:
            for batch in batched(todo, BATCH):
                writer.store(work(batch))
        else:
            fan_out(process_pool, workers, work, batched(todo, BATCH), writer.store, _crashed)
        writer.refresh(final=True)
        return "; ".join([f"{len(todo)} pictures analysed by {', '.join(names)}", *notes])


def _usable(settings: Settings) -> tuple[list[DeepAnalyser], list[str]]:
    usable, notes = [], []
    # By name, so results and errors come out in the same order in every process.
    for cls in sorted(DEEP_ANALYSERS, key=lambda c: c.NAME):
        if cls.NAME in settings.skip:
            notes.append(f"{cls.NAME} switched off")
            continue
        analyser = cls()
        reason = analyser.unavailable()
        if reason:
            notes.append(f"{cls.NAME} unavailable: {reason}")
        else:
            usable.append(analyser)
    return usable, notes


def _todo(conn: Connection, analysers: list[DeepAnalyser]) -> Iterator[DeepTask]:
    """Pictures some analyser has not yet done in its current version, by lead rank."""
    facts = {f.id: f for f in load_facts(conn)}
    done: dict[int, set[tuple[str, str]]] = {}
    for item_id, name, version in conn.execute(select(s.deep_done)):
        done.setdefault(item_id, set()).add((name, version))
    wanted = {(a.NAME, a.VERSION) for a in analysers}
    ranked = [
        r.target_id
        for r in conn.execute(
            select(s.leads.c.target_id).where(s.leads.c.target_kind == "item").order_by("rank")
        )
    ]
    first = set(ranked)
    order = ranked + [i for i in facts if i not in first]
    specs = {spec.id: spec for spec in repo.source_specs(conn)}
    items = {
        r.id: r for r in conn.execute(select(s.items.c.id, s.items.c.locator, s.items.c.size))
    }
    for item_id in order:
        f = facts.get(item_id)
        if f is None or not wanted - done.get(item_id, set()):
            continue
        if not any(a.applies_to(f) for a in analysers):
            continue
        row = items[item_id]
        task = ItemTask(item_id, specs[f.source_id], f.path, bytes(row.locator), row.size)
        yield DeepTask(task, f)


def _crashed(t: DeepTask) -> DeepResult:
    result = DeepResult(t.task.item_id)
    result.errors.append(("deep", CRASHED))
    return result


class _Writer:
    """Stores deep results (single writer) and refreshes the leads now and then."""

    def __init__(self, case: Case, analysers: list[DeepAnalyser]) -> None:
        self.case = case
        self.analysers = analysers
        self.tables = {
            name: Table(name, MetaData(), autoload_with=case.engine)
            for a in analysers
            for name in a.TABLES
        }
        self.last_refresh = time.monotonic()
        self.dirty = False

    def store(self, results: list[DeepResult]) -> None:
        ids = [r.item_id for r in results]
        names = [a.NAME for a in self.analysers]
        with self.case.engine.begin() as conn:
            for table in self.tables.values():
                conn.execute(delete(table).where(table.c.item_id.in_(ids)))
            conn.execute(delete(s.deep_done).where(s.deep_done.c.item_id.in_(ids)))
            conn.execute(
                delete(s.item_errors).where(
                    and_(
                        s.item_errors.c.item_id.in_(ids),
                        s.item_errors.c.analyser.in_([*names, "deep"]),
                    )
                )
            )
            # One executemany per table and column set, not one statement per row.
            rows: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
            for r in results:
                for name, values in r.rows:
                    row = {"item_id": r.item_id, **values}
                    rows[(name, tuple(sorted(row)))].append(row)
            for (name, _), batch in rows.items():
                conn.execute(insert(self.tables[name]), batch)
            done = [
                {"item_id": r.item_id, "analyser": n, "version": v}
                for r in results
                for n, v in r.done
            ]
            errors = [
                {"item_id": r.item_id, "analyser": a, "message": m}
                for r in results
                for a, m in r.errors
            ]
            for table, batch in ((s.deep_done, done), (s.item_errors, errors)):
                if batch:
                    conn.execute(insert(table), batch)
        self.dirty = True
        self.refresh()

    def refresh(self, final: bool = False) -> None:
        due = time.monotonic() - self.last_refresh > REFRESH_SECONDS
        if self.dirty and (final or due):
            CorrelationStage().run(self.case, Settings(), 0)
            self.last_refresh, self.dirty = time.monotonic(), False


STAGES.register(DeepStage)
