"""Correlation stages its clusters in temporary tables of its own connection and reads
the case's facts as it walks them: reviewers write while the groupings run, a run
that fails leaves the case as it was, and the facts a walk does not name are left
at their defaults."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import Connection, select

from unseen.core.settings import Settings
from unseen.correlation import feedback, stage
from unseen.correlation.association import ANCHOR_LIST, Anchor, Held
from unseen.correlation.base import Cluster, Grouping
from unseen.correlation.facts import HeldFacts, StoredFacts
from unseen.correlation.stage import CorrelationStage
from unseen.store import schema as s
from unseen.store.case import Case

from .test_feedback_order import case, stored_leads  # noqa: F401 (the fixture)


def correlate(case: Case) -> None:  # noqa: F811
    CorrelationStage().run(case, Settings(skip=("deep", "internet")), 0)


def correlation_rows(conn: Connection) -> list[object]:
    c, m = s.clusters, s.cluster_members
    return [
        conn.execute(select(c).order_by(c.c.id)).all(),
        conn.execute(select(m).order_by(m.c.cluster_id, m.c.item_id)).all(),
        stored_leads(conn),
    ]


class Probe(Grouping):
    """A grouping run last that does what is asked of it halfway through the walk."""

    NAME = "probe"
    VERSION = "1"
    KIND = "probe"
    DESCRIPTION = "test"
    action = staticmethod(lambda: None)

    def group(self, facts: object, conn: Connection) -> Iterator[Cluster]:
        type(self).action()
        return iter(())


def test_a_reviewer_writes_while_the_groupings_run(
    case: Case,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = case.root / "case.db"
    written: list[int] = []

    def review_meanwhile() -> None:
        # A write that takes the lock at once and does not wait: the staged clusters
        # already written must hold no lock on the case.
        other = sqlite3.connect(database, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO case_info (key, value) VALUES ('probe', 'written')")
        other.execute("COMMIT")
        other.close()
        written.append(1)

    monkeypatch.setattr(Probe, "action", staticmethod(review_meanwhile))
    monkeypatch.setattr(stage, "GROUPINGS", [*stage.GROUPINGS, Probe])
    with case.engine.connect() as conn:
        before = correlation_rows(conn)
    correlate(case)
    assert written == [1]
    with case.engine.connect() as conn:
        assert correlation_rows(conn) == before  # the same clusters and leads again
        temporary = conn.exec_driver_sql("SELECT name FROM sqlite_temp_master").scalars().all()
        assert temporary == []  # dropped with the run


@pytest.mark.parametrize("where", ["grouping", "store"])
def test_a_run_that_fails_leaves_the_case_as_it_was_and_the_next_one_runs(
    case: Case,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    with case.engine.connect() as conn:
        before = correlation_rows(conn)

    def fail(*args: object) -> None:
        raise RuntimeError(f"failed in the {where}")

    if where == "grouping":
        monkeypatch.setattr(Probe, "action", staticmethod(fail))
        monkeypatch.setattr(stage, "GROUPINGS", [*stage.GROUPINGS, Probe])
    else:  # the last step of the store's transaction, everything else written
        monkeypatch.setattr(feedback, "catch_up", fail)
    with pytest.raises(RuntimeError, match=f"failed in the {where}"):
        correlate(case)
    monkeypatch.undo()
    with case.engine.connect() as conn:
        assert correlation_rows(conn) == before
    # The run's connection was closed, not pooled with its staged rows: every pooled
    # connection is taken at once (the pool hands out its oldest first).
    with ExitStack() as held:
        pooled = [held.enter_context(case.engine.connect()) for _ in range(3)]
        temporary = "SELECT name FROM sqlite_temp_master"
        assert [c.exec_driver_sql(temporary).all() for c in pooled] == [[], [], []]
    correlate(case)
    with case.engine.connect() as conn:
        assert correlation_rows(conn) == before


def test_a_walk_reads_the_facts_it_names_and_leaves_the_rest_at_their_defaults(
    case: Case,  # noqa: F811
) -> None:
    with case.engine.connect() as conn:
        facts = StoredFacts(conn)
        whole = list(facts)
        narrow = list(facts.scan("make", "model"))
        assert [f.id for f in narrow] == [f.id for f in whole]
        for f, g in zip(whole, narrow, strict=True):
            assert (g.camera, g.path, g.sha256, g.mime, g.matched) == (
                f.camera,
                "",
                None,
                None,
                False,
            )
        assert any(f.camera for f in narrow) and any(f.matched for f in whole)
        some = [whole[0].id, whole[-1].id, 10**9]
        ends = {f.id: f for f in (whole[0], whole[-1])}
        assert facts.get(some) == ends
        assert whole[0].id in facts and 10**9 not in facts and -1 not in facts
        with pytest.raises(ValueError, match="no such facts"):
            list(facts.scan("colour"))
    held = HeldFacts(reversed(whole))  # in id order, whatever order given
    assert list(held) == list(held.scan("make")) == whole
    assert held.get(some) == ends and whole[0].id in held and 10**9 not in held


def test_held_anchors_keep_the_lowest_ids_their_count_and_labels() -> None:
    a, b = Anchor(1, "A", "hash set UK-A"), Anchor(1, "B", "reviewer rob")
    benign = Anchor(-1, None, "hash set NSRL")
    known = {i: a for i in range(20, 10, -1)} | {5: b, 3: benign}
    members = [3, 5, *range(20, 10, -1), 40]
    held = Held.of(members, known, 1)
    assert held.total == 11 and held.counts == Counter({a.label: 10, b.label: 1})
    assert held.ids == (5, 11, 12, 13, 14, 15)[: ANCHOR_LIST + 1]
    seen_from_5 = held.without(5, b)
    assert (seen_from_5.total, seen_from_5.ids) == (10, (11, 12, 13, 14, 15))
    assert seen_from_5.counts == Counter({a.label: 10})
    assert held.without(40, None) is held and held.without(3, benign) is held
    lowering = Held.of(members, known, -1)
    assert (lowering.total, lowering.ids, lowering.counts) == (1, (3,), Counter({benign.label: 1}))
