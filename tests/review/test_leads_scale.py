"""The leads page's strips at scale: big groups are walked in rank order, small ones
ranked member by member, and both give exactly the strips of ranking every member."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from unseen.review import leadqueue
from unseen.store.case import Case

ITEMS = 3000
# One camera group with 40 % of the case, a few mid-sized ones, many small sessions.
SIZES = [1200, 400, 300, 120] + [random.Random(7).randint(2, 30) for _ in range(60)]


def _case(tmp_path: Path) -> Case:
    case = Case.create(tmp_path / "case", name="STRIPS")
    case.close()
    rng = random.Random(13)
    db = sqlite3.connect(tmp_path / "case" / "case.db")
    with db:
        # Scores with many ties, so the item-id tie-break matters.
        scores = {i: rng.choice([0.5, 1.0, 1.5, 2.0, 2.25, 3.0]) for i in range(1, ITEMS + 1)}
        leads = sorted((i for i in scores if i % 97), key=lambda i: (-scores[i], i))
        decided = set(rng.sample(leads, 400))
        ordered = sorted(leads, key=lambda i: (i in decided, -scores[i], i))
        db.executemany(
            "INSERT INTO leads (target_kind, target_id, score, rank, reasons) "
            "VALUES ('item', ?, ?, ?, '[]')",
            [(i, scores[i], rank) for rank, i in enumerate(ordered, 1)],
        )
        db.executemany(
            "INSERT INTO review_state (item_id, review_id, category, user, at) "
            "VALUES (?, 1, 'A', 'u', 't')",
            [(i,) for i in decided],
        )
        db.executemany(  # hash-set matches, some of them also decided
            "INSERT INTO auto_categories (item_id, category, reason, source, conflict, "
            "known_good, decided_at) VALUES (?, 'A', 'r', 'hashset:T v1', 0, 0, 't')",
            [(i,) for i in rng.sample(range(1, ITEMS + 1), 300)],
        )
        for cluster_id, size in enumerate(SIZES, 1):
            db.execute(
                "INSERT INTO clusters (id, kind, key, label, confidence, size, details) "
                "VALUES (?, 'session', ?, 'g', 1.0, ?, '{}')",
                (cluster_id, str(cluster_id), size),
            )
            members = rng.sample(range(1, ITEMS + 1), size)
            db.executemany(
                "INSERT INTO cluster_members (cluster_id, item_id, reason, score) "
                "VALUES (?, ?, 'r', 1.0)",
                [(cluster_id, m) for m in members],
            )
    db.close()
    return Case.open(tmp_path / "case")


def _expected(tmp_path: Path, per: int) -> dict[int, list[int]]:
    """Every member ranked in Python: best score, then item id, undecided leads only."""
    db = sqlite3.connect(tmp_path / "case" / "case.db")
    score = dict(db.execute("SELECT target_id, score FROM leads WHERE target_kind = 'item'"))
    decided = {i for (i,) in db.execute("SELECT item_id FROM review_state")}
    found: dict[int, list[int]] = {}
    for cluster_id, item_id in db.execute("SELECT cluster_id, item_id FROM cluster_members"):
        if item_id in score and item_id not in decided:
            found.setdefault(cluster_id, []).append(item_id)
    db.close()
    return {c: sorted(ids, key=lambda i: (-score[i], i))[:per] for c, ids in sorted(found.items())}


@pytest.mark.parametrize("window", [1, 256])
def test_both_ways_give_the_strips_of_ranking_every_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    # Windows of 1, 2, 4... ranks: the small groups outrun the walk's budget and are
    # ranked instead; windows of 256: the walk reaches the last rank first.
    monkeypatch.setattr(leadqueue, "WINDOW", window)
    case = _case(tmp_path)
    ids = list(range(1, len(SIZES) + 1))
    with case.engine.connect() as conn:
        for per in (1, 6, 50):
            expected = _expected(tmp_path, per)
            assert leadqueue._ranked_strips(conn, ids, per) == expected
            assert leadqueue.strips(conn, ids, per) == expected
        assert len(expected) == len(SIZES)
    case.close()


def test_undecided_counts_both_ways(tmp_path: Path) -> None:
    case = _case(tmp_path)
    ids = list(range(1, len(SIZES) + 1))
    db = sqlite3.connect(tmp_path / "case" / "case.db")
    settled = {i for (i,) in db.execute("SELECT item_id FROM auto_categories")}
    settled |= {i for (i,) in db.execute("SELECT item_id FROM review_state")}
    expected: dict[int, int] = {}
    for cluster_id, item_id in db.execute("SELECT cluster_id, item_id FROM cluster_members"):
        if item_id not in settled:
            expected[cluster_id] = expected.get(cluster_id, 0) + 1
    db.close()
    with case.engine.connect() as conn:
        assert leadqueue._undecided_by_members(conn, ids) == expected
        sizes = {i: SIZES[i - 1] for i in ids}
        assert leadqueue._undecided_by_settled(conn, sizes) == expected
        assert leadqueue.undecided_counts(conn, ids) == expected
        assert leadqueue.undecided_counts(conn, ids[4:6]) == {
            i: expected[i] for i in ids[4:6] if i in expected
        }  # small groups: fewer members than settled items, counted member by member
        assert leadqueue.undecided_counts(conn, []) == {}
    case.close()
