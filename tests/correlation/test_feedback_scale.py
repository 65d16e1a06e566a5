"""A decision followed by a full correlation run ranks exactly like the decision alone,
on a generated case shaped like a seized collection: one camera holding 40 % of the
pictures, a few mid-sized ones, many small sessions and folders, hash-set anchors in
big and small groups. Whatever way a decision comes to re-score its neighbourhood,
the leads it leaves (scores, ranks, reasons word for word) must be those a whole
recomputation gives."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from unseen import plugins
from unseen.core.schemes import Scheme, load_scheme
from unseen.core.settings import Settings
from unseen.correlation import candidates, feedback, stage
from unseen.correlation.association import Anchor
from unseen.correlation.facts import ItemFacts
from unseen.correlation.stage import CorrelationStage
from unseen.review import decisions, leadqueue
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .test_feedback_order import stored_leads

ITEMS = 1500
CAMERAS = [0.4, 0.15, 0.1, 0.05] + [0.01] * 10  # share of the camera pictures


def _case(tmp_path: Path) -> Case:
    """The store written directly, as ``benchmarks/scale.py`` does, at a test's size."""
    evidence = tmp_path / "ev"
    evidence.mkdir()
    case = Case.create(tmp_path / "case", name="FEEDBACK-SCALE")
    source_id = repo.add_source(case, "folder", str(evidence), "EV", "test").id
    case.close()
    rng = random.Random(21)
    db = sqlite3.connect(tmp_path / "case" / "case.db")
    with db:
        for item in range(1, ITEMS + 1):
            _item(db, rng, source_id, item)
        # Hash-set anchors: a few in the big camera, some in small groups, one known-good.
        anchored = rng.sample(range(1, ITEMS + 1), 60)
        for item in anchored:
            known_good = item % 7 == 0
            db.execute(
                "INSERT INTO auto_categories (item_id, category, reason, source, conflict, "
                "known_good, decided_at) VALUES (?, ?, 'hash', 'hashset:T v1', 0, ?, 't')",
                (item, None if known_good else "A", int(known_good)),
            )
        # Exact copies across groups (duplicate groups sit between cameras and folders
        # in cluster order), half of them copies of anchored pictures.
        for k, copy in enumerate(rng.sample(range(1, ITEMS + 1), 40)):
            original = anchored[k] if k % 2 else rng.randint(1, ITEMS)
            db.execute(
                "UPDATE items SET md5 = o.md5, sha1 = o.sha1, sha256 = o.sha256 "
                "FROM items o WHERE o.id = ? AND items.id = ?",
                (original, copy),
            )
    db.close()
    return Case.open(tmp_path / "case")


def _item(db: sqlite3.Connection, rng: random.Random, source_id: int, item: int) -> None:
    camera = rng.choices(range(len(CAMERAS)), CAMERAS)[0] if rng.random() < 0.8 else None
    # Sessions: bursts of about 15 pictures within the hour, shuffled across cameras.
    when = 1.42e9 + (item // 15) * 86_400.0 + rng.randint(0, 3600)
    if camera is None:
        path = f"Downloads/{item % 9}/img_{item:05d}.jpg"
    else:
        path = f"DCIM/{camera:03d}CAM/IMG_{item:05d}.JPG"
    sha = f"{rng.getrandbits(256):064x}"
    db.execute(
        "INSERT INTO items (id, source_id, path, locator, kind, size, mtime, status, "
        "analysers, md5, sha1, sha256, mime, deleted, carved) "
        "VALUES (?, ?, ?, ?, 'file', 1000, ?, 'done', 'fast', ?, ?, ?, 'image/jpeg', 0, 0)",
        (item, source_id, path, path.encode(), when, sha[:32], sha[:40], sha),
    )
    db.execute(
        "INSERT INTO images (item_id, format, mode, width, height, frames, pdq, pdq_quality) "
        "VALUES (?, 'JPEG', 'RGB', 4000, 3000, 1, ?, 90)",
        (item, f"{rng.getrandbits(256):064x}"),
    )
    if camera is not None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when))  # as the fast pass stores it
        serial = f"SN{camera:06d}" if camera % 3 else None
        db.execute(
            "INSERT INTO exif (item_id, make, model, serial, datetime_original, gps_lat, "
            "gps_lon, orientation, thumbnail) VALUES (?, 'Canon', ?, ?, ?, NULL, NULL, 1, 0)",
            (item, f"Canon M{camera}", serial, stamp),
        )


def _correlate(case: Case) -> None:
    plugins.load()  # the groupings register as plugins
    CorrelationStage().run(case, Settings.from_case(case.root), 0)


def _leads(case: Case) -> list[tuple[object, ...]]:
    with case.engine.connect() as conn:
        return stored_leads(conn)


def _members(conn: Connection, kind: str) -> list[list[int]]:
    """Each group of ``kind``'s members, biggest group first."""
    c, m = s.clusters, s.cluster_members
    groups: dict[int, list[int]] = {}
    query = select(m.c.cluster_id, m.c.item_id).join(c, c.c.id == m.c.cluster_id)
    for cluster_id, item_id in conn.execute(query.where(c.c.kind == kind)):
        groups.setdefault(int(cluster_id), []).append(int(item_id))
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g))


def _strips_as_ranked(case: Case) -> None:
    """The leads page's strips read from the kept best pictures (no group ranked
    whole) equal ranking every member by its lead as stored now."""
    with case.engine.connect() as conn:
        ids = [int(i) for i in conn.execute(select(s.clusters.c.id)).scalars()]
        score = {r[1]: r[2] for r in stored_leads(conn) if r[0] == "item"}
        decided = set(conn.execute(select(s.review_state.c.item_id)).scalars())
        members = conn.execute(select(s.cluster_members.c.cluster_id, s.cluster_members.c.item_id))
        expected: dict[int, list[int]] = {}
        for cluster_id, item_id in members:
            if item_id in score and item_id not in decided:
                expected.setdefault(cluster_id, []).append(item_id)
        for per in (1, 6):
            best = {c: sorted(g, key=lambda i: (-score[i], i))[:per] for c, g in expected.items()}
            assert leadqueue.strips(conn, ids, per) == (best, [])


def _moved(before: list[tuple[object, ...]], after: list[tuple[object, ...]]) -> tuple[int, int]:
    """How many item leads changed score, and how many changed reasons."""
    old = {r[1]: r for r in before if r[0] == "item"}
    new = {r[1]: r for r in after if r[0] == "item"}
    scored = sum(1 for k, r in new.items() if k in old and old[k][2] != r[2])
    worded = sum(1 for k, r in new.items() if k in old and old[k][4] != r[4])
    return scored, worded


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "home"))
    return _case(tmp_path)


def test_decisions_in_big_and_small_groups_equal_a_full_recomputation(case: Case) -> None:
    _correlate(case)
    scheme = load_scheme("uk")
    with case.engine.connect() as conn:
        cameras, folders = _members(conn, "camera"), _members(conn, "folder")
        unknown = {
            int(i)
            for i in conn.execute(
                select(s.leads.c.target_id).where(s.leads.c.target_kind == "item")
            ).scalars()
        }
    assert [len(g) for g in cameras] == [623, 230, 130, 81, 23, 22, 19, 17, 17, 16, 14, 13, 12, 8]
    assert len(folders) == 23 and len(unknown) == 1440
    busiest = [i for i in cameras[0] if i in unknown]
    # Small groups: the smallest cameras (and their folders) and a downloads folder.
    small = [i for g in (cameras[-1], folders[-1], folders[-12]) for i in g if i in unknown]
    steps = [
        ("rob", busiest[:1], "A"),  # the busiest camera gains a reviewer anchor
        ("rob", small[:2], "NI"),  # a small camera lowered
        ("rob", busiest[:1], "B"),  # the same pull in other words
        ("amy", busiest[4:6], "NI"),  # the busiest camera's folder lowered: every member
        ("amy", busiest[1:4] + small[2:3], "A"),  # big and small groups in one decision
    ]
    moved, before = [], _leads(case)
    for user, items, code in steps:
        with case.engine.begin() as conn:
            decisions.categorise(conn, scheme, user, items, code)
        alone = _leads(case)
        _strips_as_ranked(case)
        moved.append(_moved(before, alone))
        _correlate(case)
        before = _leads(case)
        assert before == alone, (user, items, code)
    # (scores moved, reasons reworded) per decision: the big camera's anchors are past
    # the cap, so a positive decision there rewords 604 leads and moves only the scores
    # of 9 pictures that share its session or time window (7 of other cameras).
    assert moved == [(9, 604), (17, 17), (0, 604), (606, 606), (34, 623)]
    with case.engine.begin() as conn:
        decisions.undo_last(conn, "amy")  # undecided again: the anchors go
    alone = _leads(case)
    _strips_as_ranked(case)
    _correlate(case)
    assert _leads(case) == alone
    case.close()


def test_kept_best_pictures_follow_decisions_and_undos(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Eight pictures kept a group of over eight: sessions of about fifteen are kept,
    # and a camera's pull lifts its pictures past their sessions' floors.
    monkeypatch.setattr(candidates, "KEEP", 8)
    _correlate(case)
    scheme = load_scheme("uk")
    with case.engine.connect() as conn:
        cameras = _members(conn, "camera")
        c = s.clusters.c
        biggest = select(c.id).where(c.kind == "camera").order_by(c.size.desc()).limit(1)
        best = leadqueue.strips(conn, [conn.execute(biggest).scalar_one()], 1)[0]
    (top,) = best.values()  # the busiest camera's best picture
    _strips_as_ranked(case)
    for user, items in (("rob", cameras[1][:1]), ("amy", top)):
        with case.engine.begin() as conn:
            decisions.categorise(conn, scheme, user, items, "A")
        _strips_as_ranked(case)
        _correlate(case)  # kept again without the decided ones
        with case.engine.begin() as conn:
            decisions.undo_last(conn, user)  # undecided again: kept again
        _strips_as_ranked(case)
    case.close()


@pytest.mark.parametrize("queued", [False, True])
def test_decisions_made_while_correlation_runs_are_re_scored_after_it(
    case: Case, monkeypatch: pytest.MonkeyPatch, queued: bool
) -> None:
    # The ranking reads the decisions as they are when it begins; a reviewer goes on
    # deciding while it computes, and its store replaces the leads they re-scored.
    monkeypatch.setattr(feedback, "INLINE_MAX", 3000)  # the busiest camera's: queued
    _correlate(case)
    with case.engine.connect() as conn:
        cameras = _members(conn, "camera")
    picked = cameras[0][:2] if queued else cameras[-1][:2]
    read = stage.anchors

    def deciding_meanwhile(facts: Iterable[ItemFacts], scheme: Scheme) -> dict[int, Anchor]:
        known = read(facts, scheme)
        with case.engine.begin() as other:
            decisions.categorise(other, load_scheme("uk"), "rob", picked, "A")
        return known

    monkeypatch.setattr(stage, "anchors", deciding_meanwhile)
    _correlate(case)
    monkeypatch.setattr(stage, "anchors", read)
    with case.engine.connect() as conn:
        assert bool(feedback.waiting(conn)) is queued
    feedback.drain(case.engine.begin)
    caught_up = _leads(case)
    _correlate(case)  # a whole ranking that read the decisions
    assert _leads(case) == caught_up
    case.close()
