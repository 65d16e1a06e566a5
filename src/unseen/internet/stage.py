"""The ``internet`` case stage: parse browser, P2P and registry artefacts, scan for tool
presence, and tie P2P records to files in the case.

Items are chosen by path (``plan``); parsing fans out through the driver like every
per-item job (``engine.driver``) and each batch of outcomes is written in one
transaction by this process, the single writer. The stage is resumable and
rerunnable: a parser already run on an item in its current version (the ledger) is
skipped, and everything it stores replaces what the same (item, parser) stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from unseen import plugins
from unseen.core.jobs import Workers
from unseen.core.settings import Settings
from unseen.engine.driver import drive
from unseen.engine.stages import STAGES, CaseStage
from unseen.internet import links, presence
from unseen.internet.plan import make_plan, path_rows
from unseen.internet.store import coverage_versions, delete_pair, replace_case_wide, write_outcomes
from unseen.internet.worker import (
    HashResult,
    HashTask,
    ItemOutcome,
    crashed,
    hash_batch,
    hash_crashed,
    parse_batch,
)
from unseen.store.case import Case

log = logging.getLogger(__name__)
BATCH = 4
T = TypeVar("T")
R = TypeVar("R")


class InternetStage(CaseStage):
    NAME = "internet"
    VERSION = "1"
    DESCRIPTION = "browser, P2P, registry and tool-presence artefacts for the internet profile"
    DEPENDS_ON = ()

    def run(self, case: Case, settings: Settings, workers: int | Workers) -> str:
        plugins.load()
        with case.engine.connect() as conn:
            plan = make_plan(conn, coverage_versions(conn))
        with case.engine.begin() as conn:
            for item_id, parser in plan.stale:
                delete_pair(conn, item_id, parser)
        totals = [0, 0]

        def store(outcomes: list[ItemOutcome]) -> None:
            with case.engine.begin() as conn:
                records, errors = write_outcomes(conn, outcomes)
            totals[0] += records
            totals[1] += errors

        drive(parse_batch, plan.tasks, store, crashed, workers, BATCH)
        with case.engine.connect() as conn:
            found = presence.scan(path_rows(conn))
        with case.engine.begin() as conn:
            replace_case_wide(conn, presence.NAME, presence.version(), found)
        linked = self._link(case, workers)
        tools = sum(1 for _, r in found if r.TYPE == "tool.presence")
        summary = (
            f"{plan.selected} items matched, {len(plan.tasks)} parsed: {totals[0]} records, "
            f"{totals[1]} errors; {tools} tools present; {linked} P2P records tied to case files"
        )
        log.info("internet: %s", summary)
        return summary

    def _link(self, case: Case, workers: int | Workers) -> int:
        with case.engine.connect() as conn:
            plan = links.make_link_plan(conn)

        def runner(tasks: list[HashTask], store: Callable[[list[HashResult]], None]) -> None:
            drive(hash_batch, tasks, store, hash_crashed, workers, BATCH)

        results = links.run_hashes(plan, runner)
        with case.engine.begin() as conn:
            return links.store_links(conn, plan, results)


STAGES.register(InternetStage)
