"""A correlation run writes each image's lead as it is computed, range by range, and
records every change against the lead it replaces: in small batches the leads and the
change rows are exactly those of the whole case compared at once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Connection, delete, func, insert, select

from unseen.core.settings import Settings
from unseen.correlation import ledger, stage
from unseen.correlation.stage import CorrelationStage, Scores
from unseen.store import schema as s
from unseen.store.case import Case

from .test_feedback_order import case, stored_leads  # noqa: F401 (the fixture)


def correlate(case: Case) -> None:  # noqa: F811
    CorrelationStage().run(case, Settings(skip=("deep", "internet")), 0)


def item_leads(conn: Connection) -> dict[ledger.Key, ledger.Lead]:
    return {("item", i): lead for i, lead in ledger.current(conn, "item").items()}


def test_leads_written_in_ranges_record_what_moved_appeared_and_went(
    case: Case,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with case.engine.begin() as conn:
        # A lead past every image (its item no longer has content): the range after
        # the last image's id must replace it too.
        stale = int(conn.execute(select(func.max(s.items.c.id))).scalar_one())
        conn.execute(
            insert(s.leads).values(
                target_kind="item", target_id=stale + 5, score=3.0, rank=0, reasons="[]"
            )
        )
        before = item_leads(conn)
        ranked = sorted(i for _, i in before if i <= stale)
        a = s.auto_categories
        known = conn.execute(select(a.c.item_id).order_by(a.c.item_id).limit(1)).scalar_one()
        # The first and the last unknown image become known (their leads go, the last
        # one's range being the one past every image), one known image becomes unknown
        # (a lead appears), and the rest move with them.
        went = [ranked[0], ranked[-1]]
        conn.execute(delete(a).where(a.c.item_id == known))
        conn.execute(
            insert(a),
            [
                {
                    "item_id": i,
                    "category": "A",
                    "reason": "test",
                    "source": "hashset:TEST v1",
                    "conflict": False,
                    "known_good": False,
                    "decided_at": "2026-12-05T00:00:00Z",
                }
                for i in went
            ],
        )
    monkeypatch.setattr(stage, "LEAD_BATCH", 7)
    correlate(case)
    with case.engine.connect() as conn:
        after = item_leads(conn)
        run = conn.execute(select(s.lead_runs).order_by(s.lead_runs.c.id.desc())).first()
        assert run is not None
        ch = s.lead_changes
        rows = conn.execute(
            select(ch.c.target_id, ch.c.old_score, ch.c.new_score, ch.c.gained, ch.c.lost)
            .where(ch.c.run_id == run.id, ch.c.target_kind == "item")
            .order_by(ch.c.target_id)
        ).all()
        items = [r for r in ledger.changes(before, after) if r["target_kind"] == "item"]
        written = stored_leads(conn)
        total = conn.execute(select(ch.c.id).where(ch.c.run_id == run.id)).all()
    assert ("item", known) in after and ("item", known) not in before
    assert all(("item", i) not in after for i in went)
    assert [(r["target_id"], r["old_score"], r["new_score"]) for r in items][:1] == [
        (went[0], before[("item", went[0])].score, None)
    ]
    assert [tuple(r) for r in rows] == [
        (r["target_id"], r["old_score"], r["new_score"], r["gained"], r["lost"]) for r in items
    ]
    assert {went[0], went[1], known, stale + 5} <= {r[0] for r in rows}
    assert rows[-1][:3] == (stale + 5, 3.0, None)
    assert run.changed == len(total)
    # The same ranking from nothing, in one batch: the same leads.
    monkeypatch.setattr(stage, "LEAD_BATCH", 10_000)
    with case.engine.begin() as conn:
        conn.execute(delete(s.leads))
    correlate(case)
    with case.engine.connect() as conn:
        assert stored_leads(conn) == written
        latest = conn.execute(select(s.lead_runs).order_by(s.lead_runs.c.id.desc())).first()
        assert latest is not None and latest.changed == 0
        first = conn.execute(select(s.first_generation.c.item_id)).scalars().all()
    assert len(first) == len(set(first)) > len(after)
    assert json.loads(written[0][4])  # every lead keeps its reasons


def test_scores_by_id_read_like_a_dict() -> None:
    scores = Scores()
    scores[3] = 1.5
    scores[7] = -2.0
    assert (3 in scores, 4 in scores, 70 in scores, -1 in scores) == (True, False, False, False)
    assert (scores[7], dict(scores), len(scores)) == (-2.0, {3: 1.5, 7: -2.0}, 2)
    with pytest.raises(KeyError):
        scores[4]
