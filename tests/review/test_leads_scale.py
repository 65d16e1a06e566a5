"""The leads page's strips at scale: big groups read from their kept best members,
small ones ranked member by member; either way exactly the strips of ranking every
member, after leads rise and fall, undos and decisions."""

from __future__ import annotations

import math
import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from unseen.correlation import candidates
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


def _keep(case: Case) -> None:
    """What correlation keeps: each big group's best by the undecided leads' scores."""
    with case.engine.begin() as conn:
        decided = {i for (i,) in conn.execute(text("SELECT item_id FROM review_state"))}
        leads = conn.execute(text("SELECT target_id, score FROM leads WHERE target_kind = 'item'"))
        scores = {int(i): float(x) for i, x in leads if i not in decided}
        groups: dict[int, list[int]] = {}
        for c, i in conn.execute(text("SELECT cluster_id, item_id FROM cluster_members")):
            groups.setdefault(int(c), []).append(int(i))
        candidates.keep(conn, sorted(groups.items()), lambda i: scores.get(i, math.nan))


def _check(case: Case, tmp_path: Path, pers: tuple[int, ...] = (1, 6, 50)) -> list[int]:
    """Every per's strips are those of ranking every member; the groups ranked whole."""
    ids = list(range(1, len(SIZES) + 1))
    ranked: set[int] = set()
    with case.engine.connect() as conn:
        for per in pers:
            found, short = leadqueue.strips(conn, ids, per)
            assert found == _expected(tmp_path, per)
            ranked.update(short)
    return sorted(ranked)


def _big() -> list[int]:
    return [i for i, size in enumerate(SIZES, 1) if size > candidates.KEEP]


def _run(case: Case, statement: str, *params: object) -> None:
    """As the test case was written: items and reviews stand for themselves."""
    db = sqlite3.connect(case.root / "case.db")
    with db:
        db.execute(statement, params)
    db.close()


def _decide(case: Case, item_id: int) -> None:
    _run(
        case,
        "INSERT OR IGNORE INTO review_state (item_id, review_id, category, user, at) "
        "VALUES (?, 1, 'A', 'u', 't')",
        item_id,
    )


def _kept(case: Case, cluster_id: int) -> tuple[list[int], tuple[float, int]]:
    """A group's kept members and floor."""
    with case.engine.connect() as conn:
        kept = "SELECT item_id FROM strip_candidates WHERE cluster_id = ? ORDER BY item_id"
        members = [int(i) for (i,) in conn.exec_driver_sql(kept, (cluster_id,))]
        floor = "SELECT score, item_id FROM strip_floors WHERE cluster_id = ?"
        score, item_id = conn.exec_driver_sql(floor, (cluster_id,)).one()
    return members, (float(score), int(item_id))


@pytest.fixture
def kept_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    # Eight kept a group: groups of 9-30 members are kept too, and strips of 50
    # always outrun what is kept.
    monkeypatch.setattr(candidates, "KEEP", 8)
    case = _case(tmp_path)
    _keep(case)
    return case


def test_kept_best_give_the_strips_of_ranking_every_member(
    kept_case: Case, tmp_path: Path
) -> None:
    assert len(_expected(tmp_path, 6)) == len(SIZES)
    # Strips of one and six read what is kept; fifty rank the big groups whole, but
    # for those with no more undecided pictures than were kept (no floor).
    assert _check(kept_case, tmp_path, (1, 6)) == []
    with kept_case.engine.connect() as conn:
        floored = "SELECT cluster_id FROM strip_floors WHERE score IS NOT NULL"
        limited = sorted(int(i) for (i,) in conn.exec_driver_sql(floored))
    assert set(limited) < set(_big())
    assert _check(kept_case, tmp_path, (50,)) == limited
    kept_case.close()


def test_a_lead_risen_past_the_floor_is_admitted(kept_case: Case, tmp_path: Path) -> None:
    camera = 1
    kept, (floor, _) = _kept(kept_case, camera)
    with kept_case.engine.connect() as conn:
        members = {
            int(i)
            for (i,) in conn.exec_driver_sql(
                "SELECT item_id FROM cluster_members WHERE cluster_id = 1 "
                "AND item_id IN (SELECT target_id FROM leads) "
                "AND item_id NOT IN (SELECT item_id FROM review_state)"
            )
        }
    risen = max(members - set(kept))  # not kept: below the floor
    _run(kept_case, "UPDATE leads SET score = ? WHERE target_id = ?", floor + 10, risen)
    assert _expected(tmp_path, 1)[camera] == [risen]
    with kept_case.engine.connect() as conn:
        assert leadqueue.strips(conn, [camera], 1)[0][camera] != [risen]  # not admitted yet
    with kept_case.engine.begin() as conn:
        candidates.admit(conn, [risen])
    assert risen in _kept(kept_case, camera)[0]
    assert _check(kept_case, tmp_path, (1, 6)) == []
    kept_case.close()


def test_a_kept_lead_that_fell_is_ranked_by_its_score(kept_case: Case, tmp_path: Path) -> None:
    camera = 1
    with kept_case.engine.connect() as conn:
        best = leadqueue.strips(conn, [camera], 1)[0][camera][0]
    _run(kept_case, "UPDATE leads SET score = 0 WHERE target_id = ?", best)
    # The fallen one now ranks below the floor: six others still reach it.
    assert _check(kept_case, tmp_path, (1, 6)) == []
    # Two of them decided: the sixth kept is the fallen one, below the floor, where
    # members not kept may rank above it.
    others = [i for i in _kept(kept_case, camera)[0] if i != best]
    for item_id in others[:2]:
        _decide(kept_case, item_id)
    assert _check(kept_case, tmp_path, (6,)) == [camera]
    kept_case.close()


def test_an_undo_readmits_and_decisions_past_the_kept_rank_whole(
    kept_case: Case, tmp_path: Path
) -> None:
    camera = 1
    with kept_case.engine.connect() as conn:
        decided = conn.exec_driver_sql(
            "SELECT r.item_id FROM review_state r JOIN cluster_members m "
            "ON m.item_id = r.item_id AND m.cluster_id = 1 "
            "JOIN leads l ON l.target_id = r.item_id "
            "ORDER BY l.score DESC, r.item_id LIMIT 1"
        ).scalar_one()
    _run(kept_case, "DELETE FROM review_state WHERE item_id = ?", decided)  # an undo
    with kept_case.engine.begin() as conn:
        candidates.admit(conn, [decided])
    assert decided in _kept(kept_case, camera)[0]
    assert _check(kept_case, tmp_path, (1, 6)) == []
    # Deciding all but three kept pictures: six cannot be read from what is kept.
    for item_id in _kept(kept_case, camera)[0][3:]:
        _decide(kept_case, item_id)
    assert _check(kept_case, tmp_path, (1, 6)) == [camera]
    with kept_case.engine.begin() as conn:
        candidates.refill(conn, [camera])
    assert _check(kept_case, tmp_path, (1, 6)) == []
    kept_case.close()


def test_a_case_without_kept_groups_ranks_them_and_keeps_them(tmp_path: Path) -> None:
    case = _case(tmp_path)  # as a case upgraded from before groups were kept
    assert _check(case, tmp_path, (6,)) == _big()
    with case.engine.begin() as conn:
        candidates.refill(conn, _big())
    assert _check(case, tmp_path, (6,)) == []
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
