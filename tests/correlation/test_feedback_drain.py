"""The drain computes outside the write lock and writes in short batches: a decision
made between two of its batches, or a second drain at once, ends in the same leads
as a full run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from review.helpers import build_evidence
from unseen.core.schemes import load_scheme
from unseen.correlation import feedback, ledger
from unseen.engine.runner import process_case
from unseen.review import decisions
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case, write_engine

from .test_feedback_queue import assert_a_full_run_agrees
from .test_feedback_scale import _case, _correlate, _members


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Case]:
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(feedback, "INLINE_MAX", 300)
    case = _case(tmp_path)
    _correlate(case)
    yield case


def writer(case: Case) -> Engine:
    """Transactions that take the write lock first (BEGIN IMMEDIATE), as the server's."""
    return write_engine(case.engine.url.render_as_string(hide_password=False))


def test_a_decision_between_two_batches_of_a_drain(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheme = load_scheme("uk")
    with case.engine.connect() as conn:
        cameras = _members(conn, "camera")
    write = writer(case)
    with write.begin() as conn:
        decisions.categorise(conn, scheme, "rob", cameras[0][:1], "A")  # queued
        assert feedback.waiting(conn) > 0
    batches: list[int] = []

    def decide_once() -> None:
        batches.append(1)
        if len(batches) == 2:  # between the second and third batch
            # Re-scored inline over the same camera: the drain's later batches were
            # computed before it, so the drain must compute again.
            monkeypatch.setattr(feedback, "INLINE_MAX", 10**6)
            with write.begin() as conn:
                decisions.categorise(conn, scheme, "amy", cameras[0][1:2], "NI")
                assert feedback.waiting(conn) > 0  # still queued: the drain is not done
            monkeypatch.setattr(feedback, "INLINE_MAX", 300)

    drained = feedback.drain(write.begin, case.engine.connect, batch=50, between=decide_once)
    assert drained == 1
    assert len(batches) > 10  # the first pass left the entry, the second took it
    with case.engine.connect() as conn:
        assert feedback.waiting(conn) == 0
    assert_a_full_run_agrees(case)


def test_two_drains_at_once(case: Case) -> None:
    scheme = load_scheme("uk")
    with case.engine.connect() as conn:
        cameras = _members(conn, "camera")
    write = writer(case)
    with write.begin() as conn:
        decisions.categorise(conn, scheme, "rob", cameras[0][:2], "A")
        decisions.categorise(conn, scheme, "amy", cameras[1][:1], "NI")
    done: list[int] = []

    def drain() -> None:
        done.append(feedback.drain(write.begin, case.engine.connect, batch=40))

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(done) >= 2  # each entry taken once, by one of them (or both passes)
    with case.engine.connect() as conn:
        assert feedback.waiting(conn) == 0
    assert_a_full_run_agrees(case)


@pytest.mark.postgres
def test_a_decision_between_two_batches_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_database: Callable[[], str]
) -> None:
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "home"))
    url = pg_database()
    build_evidence(tmp_path / "evidence")
    case = Case.create(tmp_path / "case", name="PG", database_url=url)
    repo.add_source(case, "folder", str(tmp_path / "evidence"), "EV01", "Test Examiner")
    process_case(case, workers=0)
    with case.engine.connect() as conn:
        lead = s.leads
        items = list(
            conn.execute(
                select(lead.c.target_id)
                .where(lead.c.target_kind == "item")
                .order_by(*ledger.best_first())
            ).scalars()
        )
    scheme = load_scheme("uk")
    monkeypatch.setattr(feedback, "INLINE_MAX", 0)
    with case.engine.begin() as conn:
        decisions.categorise(conn, scheme, "rob", items[:1], "A")  # queued

    def decide_once() -> None:
        monkeypatch.setattr(feedback, "INLINE_MAX", 10**6)
        with case.engine.begin() as conn:
            decisions.categorise(conn, scheme, "amy", items[1:2], "NI")  # inline
        monkeypatch.setattr(feedback, "INLINE_MAX", 0)

    hooks = [decide_once]
    drained = feedback.drain(
        case.engine.begin,
        case.engine.connect,
        batch=1,
        between=lambda: hooks.pop()() if hooks else None,
    )
    assert drained == 1 and not hooks
    assert_a_full_run_agrees(case)
    case.close()
