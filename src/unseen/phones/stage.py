"""The ``phones`` case stage: parse message databases and device files, tie
attachments to case items, derive each picture's provenance, index message text.

Like the internet stage: items chosen by path, parsing fanned out crash-isolated by
the driver, each batch written in one transaction by this process. Rerunnable: a
parser already run on an item in its current version (the ledger) is skipped;
links, provenance and the text index are rebuilt whole.
"""

from __future__ import annotations

import logging

from unseen import plugins
from unseen.core.jobs import Workers
from unseen.core.settings import Settings
from unseen.engine.driver import drive
from unseen.engine.stages import STAGES, CaseStage
from unseen.phones import links
from unseen.phones.plan import make_plan
from unseen.phones.search import rebuild_index
from unseen.phones.store import write_outcomes
from unseen.phones.worker import ItemOutcome, crashed, parse_batch
from unseen.store.case import Case

log = logging.getLogger(__name__)
BATCH = 4


class PhonesStage(CaseStage):
    NAME = "phones"
    VERSION = "1"
    DESCRIPTION = "messages, contacts and devices from phone app databases; media provenance"
    DEPENDS_ON = ()

    def run(self, case: Case, settings: Settings, workers: int | Workers) -> str:
        plugins.load()
        with case.engine.connect() as conn:
            plan = make_plan(conn)
        totals = [0, 0]

        def store(outcomes: list[ItemOutcome]) -> None:
            with case.engine.begin() as conn:
                records, errors = write_outcomes(conn, outcomes)
            totals[0] += records
            totals[1] += errors

        drive(parse_batch, plan.tasks, store, crashed, workers, BATCH)
        with case.engine.begin() as conn:
            tied, absent = links.relink(conn)
            provenance = links.derive_provenance(conn)
            rebuild_index(conn)
        summary = (
            f"{plan.selected} databases matched, {len(plan.tasks)} parsed: {totals[0]} records, "
            f"{totals[1]} errors; attachments {tied} tied to case items, {absent} absent; "
            f"{provenance} provenance facts"
        )
        log.info("phones: %s", summary)
        return summary


STAGES.register(PhonesStage)
