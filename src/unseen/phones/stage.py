"""The ``phones`` case stage: parse message databases and device files, tie
attachments to case items, derive each picture's provenance, index message text.

Like the internet stage: items chosen by path, parsing fanned out crash-isolated by
the driver, each batch written in one transaction by this process. Rerunnable: a
parser already run on an item in its current version (the ledger) is skipped;
links, provenance and the text index are rebuilt whole (the index, with a local pool,
in a process of its own while the links are found), unless nothing they read has
changed since they were last built (``LINKS_JOB`` in the ledger).
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import Future
from dataclasses import replace
from functools import partial

from sqlalchemy import Connection, func, select

from unseen import plugins
from unseen.core.jobs import CASE_WIDE, Workers
from unseen.core.settings import Settings
from unseen.engine.driver import drive, process_pool
from unseen.engine.stages import STAGES, CaseStage
from unseen.internet.base import ParseTask
from unseen.phones import links
from unseen.phones import plan as plan_module
from unseen.phones import store as store_module
from unseen.phones.carry import CARRIERS
from unseen.phones.plan import chunk_tasks, make_plan, to_survey
from unseen.phones.search import rebuild_index, rebuild_index_at
from unseen.phones.store import (
    Chunked,
    forget_item,
    put_indexes_back,
    set_indexes_aside,
    write_outcomes,
)
from unseen.phones.worker import (
    ChunkTask,
    ItemOutcome,
    Survey,
    crashed,
    parse_batch,
    parse_packed,
    survey_batch,
    unsurveyed,
)
from unseen.store import done
from unseen.store import schema as s
from unseen.store.case import Case

log = logging.getLogger(__name__)
BATCH = 4
# Large databases that a carrier can move in SQL skip the parse (see ``carry``).
SQL_CARRY = True
# From this many messages (by id) the text index is rebuilt beside the writer: about
# 0.1 s of rebuild, what starting a process costs.
INDEX_BESIDE_MESSAGES = 100_000
# The ledger's entry (item 0) for the links, provenance and text index: the digest of
# what they were built from (``_inputs``).
LINKS_JOB = "phones.links"


class PhonesStage(CaseStage):
    NAME = "phones"
    VERSION = "1"
    DESCRIPTION = "messages, contacts and devices from phone app databases; media provenance"
    DEPENDS_ON = ()

    def run(self, case: Case, settings: Settings, workers: int | Workers) -> str:
        plugins.load()
        with case.engine.connect() as conn:
            plan = make_plan(conn)
            inputs = _inputs(conn, self.version(settings))
            built = done.versions(conn, LINKS_JOB).get(CASE_WIDE)
        if not plan.tasks and built == inputs:  # a run that set indexes aside forgot it
            return f"{plan.selected} databases matched, none new: links and text index kept"
        with case.engine.begin() as conn:  # a kill from here on leaves them to be rebuilt
            done.forget(conn, (LINKS_JOB,), [CASE_WIDE])
        totals = [0, 0]
        chunked: dict[tuple[int, str], Chunked] = {}
        aside = [False]

        def store(outcomes: list[ItemOutcome]) -> None:
            with case.engine.begin() as conn:
                records, errors = write_outcomes(conn, outcomes, chunked, aside[0])
            totals[0] += records
            totals[1] += errors

        with case.engine.begin() as conn:
            put_indexes_back(conn)  # after a kill while they were set aside
        tasks = _carry(case, plan.tasks, workers, totals)
        whole, chunks = _split(case, tasks, workers)
        drive(parse_batch, whole, store, crashed, workers, BATCH)
        # One chunk per task: a batch of chunks would hold several chunks' messages;
        # from a pool they come packed (see ``worker.pack``).
        if chunks:
            work = parse_packed if Workers.of(workers).count else parse_batch
            coming = len(chunks) * plan_module.CHUNK_MESSAGES
            if coming >= store_module.BULK_MESSAGES:
                with case.engine.begin() as conn:
                    aside[0] = set_indexes_aside(conn, coming)
            try:
                drive(work, chunks, store, crashed, workers, 1)
            finally:
                if aside[0]:
                    with case.engine.begin() as conn:
                        put_indexes_back(conn)
        indexing = _index_beside(case, workers)
        with case.engine.connect() as conn:
            found = links.find_links(conn)
        indexed = _finished(indexing)
        with case.engine.begin() as conn:
            tied, absent = links.store_links(conn, found)
            provenance = links.derive_provenance(conn)
            if not indexed:
                rebuild_index(conn)
            done.mark(conn, LINKS_JOB, _inputs(conn, self.version(settings)), [CASE_WIDE])
        summary = (
            f"{plan.selected} databases matched, {len(plan.tasks)} parsed: {totals[0]} records, "
            f"{totals[1]} errors; attachments {tied} tied to case items, {absent} absent; "
            f"{provenance} provenance facts"
        )
        log.info("phones: %s", summary)
        return summary


def _inputs(conn: Connection, version: str) -> str:
    """A digest of what tying attachments and indexing text read: the stage's version,
    the case's items (new ones by the highest id, ones still to analyse by their
    count), and the messages, attachments and photo-library assets (by highest id:
    only a run that parses changes them, and such a run rebuilds in any case)."""
    i = s.items
    parts = [
        version,
        conn.scalar(select(func.max(i.c.id))),
        conn.scalar(select(func.count()).select_from(i).where(i.c.status == "pending")),
        *(
            conn.scalar(select(func.max(t.c.id)))
            for t in (s.messages, s.msg_attachments, s.media_assets)
        ),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _carry(
    case: Case, tasks: list[ParseTask], workers: int | Workers, totals: list[int]
) -> list[ParseTask]:
    """The tasks left to parse once the large databases that can be carried in SQL
    (``carry.CARRIERS``) are stored that way: on a SQLite case, by this process, which
    can then read the evidence itself (not on a remote cluster). With a local pool a
    carrier may check the rows in a process beside it."""
    pool = Workers.of(workers)
    if not SQL_CARRY or case.engine.dialect.name != "sqlite" or pool.remote:
        return tasks
    done: set[int] = set()
    for task in to_survey(tasks):
        # Only a task that parser alone reads: the task leaves the list once carried,
        # and another parser of the same file must still read it.
        carrier = CARRIERS.get(task.parsers[0]) if len(task.parsers) == 1 else None
        carried = carrier(case.engine, task, pool.count > 0) if carrier else None
        if carried is not None:
            done.add(task.item_id)
            totals[0] += carried[0]
            totals[1] += carried[1]
    return [t for t in tasks if t.item_id not in done]


def _index_beside(case: Case, workers: int | Workers) -> Future[None] | None:
    """The text index rebuilt in a process of its own while this one ties the
    attachments (reading only): where there is a local pool, the case is SQLite and
    holds enough messages to pay for the process. None otherwise.

    The one place a second process writes the case during a run, and only a derived
    index: this process, the writer, holds no transaction until that one has ended
    (``_finished``), so the two never write at once; a kill leaves the index to the
    next run, which rebuilds it whole."""
    pool = Workers.of(workers)
    if pool.count == 0 or pool.remote or case.engine.dialect.name != "sqlite":
        return None
    with case.engine.connect() as conn:  # the highest id: no count of a large table
        last = conn.execute(select(func.max(s.messages.c.id))).scalar()
    if (last or 0) < INDEX_BESIDE_MESSAGES:
        return None
    executor = process_pool(1)
    try:
        url = case.engine.url.render_as_string(hide_password=False)
        return executor.submit(rebuild_index_at, url)
    finally:
        executor.shutdown(wait=False)  # the submitted rebuild still runs to its end


def _finished(indexing: Future[None] | None) -> bool:
    """Whether the index was rebuilt beside; if that failed it is rebuilt here."""
    if indexing is None:
        return False
    try:
        indexing.result()
    except Exception as exc:  # a killed process, a busy database: rebuilt by the writer
        log.warning("phones: text index not rebuilt beside (%s); rebuilding here", exc)
        return False
    return True


def _split(
    case: Case, tasks: list[ParseTask], workers: int | Workers
) -> tuple[list[ParseTask | ChunkTask], list[ParseTask | ChunkTask]]:
    """The tasks read whole, and the chunks of the large databases. Where a database
    splits is asked of its parser on the workers (it means reading the database); what
    was stored for a chunked one is removed here, before any of its chunks comes back."""
    surveys: dict[int, tuple[int, ...]] = {}

    def keep(found: list[Survey]) -> None:
        surveys.update((s.item_id, s.bounds) for s in found if s.bounds)

    candidates = to_survey(tasks)
    if candidates:  # no pool is started for nothing
        every = plan_module.CHUNK_MESSAGES
        quiet = replace(Workers.of(workers), progress=None)  # the bar counts parses
        drive(partial(survey_batch, every), candidates, keep, unsurveyed, quiet, 1)
    whole: list[ParseTask | ChunkTask] = [t for t in tasks if t.item_id not in surveys]
    large = [t for t in tasks if t.item_id in surveys]
    if large:
        with case.engine.begin() as conn:
            for task in large:
                for parser in task.parsers:
                    forget_item(conn, task.item_id, parser)
    return whole, [chunk for t in large for chunk in chunk_tasks(t, surveys[t.item_id])]


STAGES.register(PhonesStage)
