"""Relevance feedback renumbers nothing: the queue's order is computed where it is
read (decided items after every undecided one), never from a stored rank."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from unseen.core.schemes import load_scheme
from unseen.core.settings import Settings
from unseen.correlation import ledger
from unseen.demo import scenarios
from unseen.engine.runner import process_case
from unseen.review import decisions
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    scenarios.build_with_library(tmp_path)
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "home"))
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(tmp_path / "ev"), "EV1", "test")
    process_case(case, workers=0, settings=Settings(skip=("deep", "internet")))
    return case


def stored_leads(conn: Connection) -> list[tuple[object, ...]]:
    """Every lead with its rank as readers compute it, in one order: what a decision and
    a rerun must agree on."""
    lead = s.leads
    found: list[tuple[object, ...]] = []
    for kind in ("cluster", "item"):
        rows = conn.execute(
            select(lead.c.target_id, lead.c.score, lead.c.reasons)
            .where(lead.c.target_kind == kind)
            .order_by(*ledger.order(kind))
        )
        found += [(kind, t, sc, n, rs) for n, (t, sc, rs) in enumerate(rows, 1)]
    return sorted(found, key=lambda r: (str(r[0]), int(r[1])))  # type: ignore[call-overload]


def stored_ranks(conn: Connection) -> list[tuple[object, ...]]:
    """The stored ``rank`` column: a full run's by-product, which no decision writes."""
    lead = s.leads
    rows = conn.execute(
        select(lead.c.target_kind, lead.c.target_id, lead.c.rank).order_by(
            lead.c.target_kind, lead.c.target_id
        )
    )
    return [tuple(r) for r in rows]


def test_a_decision_renumbers_nothing_and_the_order_puts_decided_items_last(
    case: Case,
) -> None:
    scheme = load_scheme("uk")
    with case.engine.begin() as conn:
        burst = conn.execute(
            select(s.items.c.id).where(s.items.c.path.like("DCIM/100CANON/IMG_003%"))
        ).scalars()
        ids = sorted(burst)[:2]
        stored = stored_ranks(conn)
        before = [t for t, _ in ledger.ranks(conn, "item")]
        decisions.categorise(conn, scheme, "rob", ids, "A")
        order = [t for t, _ in ledger.ranks(conn, "item")]
        assert order[-2:] == ids  # decided: after every undecided lead, by score then id
        decisions.categorise(conn, scheme, "rob", ids, "B")  # the same pull, other words
        runs = conn.execute(select(s.lead_runs.c.cause, s.lead_runs.c.changed)).all()
        assert runs[-1].changed == 0 and "categorised 2 items B" in runs[-1].cause
        assert [t for t, _ in ledger.ranks(conn, "item")] == order
        decisions.undo_last(conn, "rob")  # back to A: still decided, same scores
        assert [t for t, _ in ledger.ranks(conn, "item")] == order
        decisions.undo_last(conn, "rob")  # undecided again: back in their places
        assert [t for t, _ in ledger.ranks(conn, "item")] == before
        assert [n for _, n in ledger.ranks(conn, "item")] == list(range(1, len(order) + 1))
        assert stored_ranks(conn) == stored  # no decision wrote a rank
    case.close()
