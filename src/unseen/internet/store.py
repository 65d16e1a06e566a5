"""Reads and writes of the internet tables (``artefacts``, ``artefact_signals``,
``artefact_coverage``, ``artefact_errors``), always in the caller's transaction.

Rows belong to an (item, parser) pair: storing a parser's outcome for an item first
removes whatever that pair stored before, so reruns replace instead of piling up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, and_, delete, insert, select

from unseen.core.jobs import CASE_WIDE
from unseen.core.timeconv import utc_now
from unseen.internet.base import ARTEFACT_PARSERS
from unseen.internet.records import Artefact, ArtefactRow, to_row
from unseen.internet.worker import ItemOutcome
from unseen.store import done
from unseen.store import schema as s


def coverage_versions(conn: Connection) -> dict[tuple[int, str], str]:
    """(item id, parser) -> parser version, for every pair that has run (the ledger)."""
    return done.pairs(conn, ARTEFACT_PARSERS.names())


def delete_pair(conn: Connection, item_id: int | None, parser: str) -> None:
    """Remove everything an (item, parser) pair stored (item None: case-wide rows)."""
    a = s.artefacts
    if item_id is None:
        owned = select(a.c.id).where(a.c.parser == parser)
    else:
        owned = select(a.c.id).where(and_(a.c.item_id == item_id, a.c.parser == parser))
    for table in (s.artefact_signals, s.artefact_links):
        conn.execute(delete(table).where(table.c.artefact_id.in_(owned)))
    conn.execute(delete(a).where(a.c.id.in_(owned)))
    for table in (s.artefact_coverage, s.artefact_errors):
        match = table.c.item_id.is_(None) if item_id is None else table.c.item_id == item_id
        conn.execute(delete(table).where(and_(match, table.c.parser == parser)))
    done.forget(conn, (parser,), [CASE_WIDE if item_id is None else item_id])


def insert_rows(conn: Connection, pairs: Sequence[tuple[int, ArtefactRow]]) -> int:
    """Insert artefact rows (with their signals); returns how many."""
    if not pairs:
        return 0
    a = s.artefacts
    ids = conn.execute(
        insert(a).returning(a.c.id, sort_by_parameter_order=True),
        [
            {
                "item_id": item_id,
                "parser": r.parser,
                "parser_version": r.parser_version,
                "type": r.type,
                "ts_utc": r.ts_utc,
                "ts_raw": r.ts_raw,
                "ts_epoch": r.ts_epoch,
                "record_ref": r.record_ref,
                "data": r.data,
            }
            for item_id, r in pairs
        ],
    ).scalars()
    signals = [
        {"artefact_id": artefact_id, "kind": kind, "value": value}
        for artefact_id, (_, row) in zip(ids, pairs, strict=True)
        for kind, value in row.signals
    ]
    if signals:
        conn.execute(insert(s.artefact_signals), signals)
    return len(pairs)


def write_outcomes(conn: Connection, outcomes: Iterable[ItemOutcome]) -> tuple[int, int]:
    """Store parser outcomes, replacing earlier ones; returns (records, errors) stored."""
    now = utc_now()
    records = errors = 0
    for outcome in outcomes:
        for p in outcome.outcomes:
            delete_pair(conn, outcome.item_id, p.parser)
            records += insert_rows(conn, [(outcome.item_id, row) for row in p.rows])
            conn.execute(
                insert(s.artefact_coverage).values(
                    item_id=outcome.item_id,
                    parser=p.parser,
                    parser_version=p.version,
                    status=p.status,
                    records=len(p.rows),
                    errors=len(p.errors),
                    run_at=now,
                )
            )
            done.mark(conn, p.parser, p.version, [outcome.item_id])
            if p.errors:
                conn.execute(
                    insert(s.artefact_errors),
                    [
                        {"item_id": outcome.item_id, "parser": p.parser, "message": m}
                        for m in p.errors
                    ],
                )
                errors += len(p.errors)
    return records, errors


def replace_case_wide(
    conn: Connection, parser: str, version: str, found: Sequence[tuple[int, Artefact]]
) -> None:
    """Replace a case-wide scan's records (presence rules) and its coverage row."""
    delete_pair(conn, None, parser)
    insert_rows(conn, [(item_id, to_row(record)) for item_id, record in found])
    conn.execute(
        insert(s.artefact_coverage).values(
            item_id=None,
            parser=parser,
            parser_version=version,
            status="ok" if found else "empty",
            records=len(found),
            errors=0,
            run_at=utc_now(),
        )
    )
    done.mark(conn, parser, version, [CASE_WIDE])
