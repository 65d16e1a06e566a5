"""Relevance feedback renumbers ranks only when their order can have moved, and the
ranks it leaves are exactly those a renumbering of every lead gives."""

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
    """Every lead as stored, in one order: what a decision and a rerun must agree on."""
    lead = s.leads
    rows = conn.execute(
        select(
            lead.c.target_kind, lead.c.target_id, lead.c.score, lead.c.rank, lead.c.reasons
        ).order_by(lead.c.target_kind, lead.c.target_id)
    )
    return [tuple(r) for r in rows]


def test_ranks_are_renumbered_only_when_their_order_moved(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheme = load_scheme("uk")
    calls: list[str] = []
    rerank = ledger.rerank

    def counted(conn: Connection, kind: str) -> None:
        calls.append(kind)
        rerank(conn, kind)

    monkeypatch.setattr(ledger, "rerank", counted)
    with case.engine.begin() as conn:
        burst = conn.execute(
            select(s.items.c.id).where(s.items.c.path.like("DCIM/100CANON/IMG_003%"))
        ).scalars()
        ids = sorted(burst)[:2]
        decisions.categorise(conn, scheme, "rob", ids, "A")  # newly decided: renumbered
        assert calls == ["item", "cluster"]
        calls.clear()
        decisions.categorise(conn, scheme, "rob", ids, "B")  # the same pull, other words
        assert calls == []
        runs = conn.execute(select(s.lead_runs.c.cause, s.lead_runs.c.changed)).all()
        assert runs[-1].changed == 0 and "categorised 2 items B" in runs[-1].cause
        kept = stored_leads(conn)
        rerank(conn, "item")
        rerank(conn, "cluster")
        assert stored_leads(conn) == kept  # what renumbering every lead would give
        calls.clear()
        decisions.undo_last(conn, "rob")  # back to A: still decided, same scores
        assert calls == []
        decisions.undo_last(conn, "rob")  # undecided again: renumbered
        assert calls == ["item", "cluster"]
    case.close()
