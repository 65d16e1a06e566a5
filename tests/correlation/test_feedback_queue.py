"""Decisions on big groups queued and re-scored after: the same leads in the end.

The queue only moves the work out of the reviewer's click; the invariant stays: a
decision, re-scored now or later, followed by a full run ranks like the decision.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from unseen.cli.main import app
from unseen.core.schemes import load_scheme
from unseen.correlation import feedback
from unseen.review import decisions
from unseen.store import schema as s
from unseen.store.case import Case

from .test_feedback_scale import _case, _correlate, _leads, _members


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "home"))
    return _case(tmp_path)


def assert_a_full_run_agrees(case: Case) -> None:
    """The leads as the decisions left them are those a whole-case ranking gives."""
    alone = _leads(case)
    _correlate(case)
    assert _leads(case) == alone


def test_queued_decisions_end_as_the_leads_of_decisions_made_at_once(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With its sessions and time windows the busiest camera's decisions read 3,868
    # members, the smallest camera's 1,993.
    monkeypatch.setattr(feedback, "INLINE_MAX", 3000)
    _correlate(case)
    scheme = load_scheme("uk")
    with case.engine.connect() as conn:
        cameras = _members(conn, "camera")
        unknown = set(
            conn.execute(select(s.leads.c.target_id).where(s.leads.c.target_kind == "item"))
            .scalars()
            .all()
        )
    busiest = [i for i in cameras[0] if i in unknown]
    smallest = [i for i in cameras[-1] if i in unknown]
    steps = [
        ("rob", busiest[:1], "A"),  # 623 pictures in its camera: queued
        ("rob", smallest[:2], "NI"),  # a small camera: at once
        ("amy", busiest[1:3], "NI"),
    ]
    queued = []
    for user, items, code in steps:
        before = _leads(case)
        with case.engine.begin() as conn:
            decisions.categorise(conn, scheme, user, items, code)
            queued.append(feedback.waiting(conn))
        if queued[-1]:
            # Nothing re-scored yet (the order already puts the decided items last).
            assert _scores(_leads(case)) == _scores(before)
        assert feedback.drain(case.engine.begin) == (1 if queued[-1] else 0)
        assert_a_full_run_agrees(case)
    assert [bool(n) for n in queued] == [True, False, True]
    assert queued[0] > 623


def test_a_full_run_supersedes_what_is_queued(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feedback, "INLINE_MAX", 0)
    _correlate(case)
    with case.engine.connect() as conn:
        first = conn.execute(select(s.leads.c.target_id).where(s.leads.c.target_kind == "item"))
        item = int(first.scalars().first() or 0)
    with case.engine.begin() as conn:
        decisions.categorise(conn, load_scheme("uk"), "rob", [item], "A")
        assert feedback.waiting(conn) > 0
    _correlate(case)
    with case.engine.connect() as conn:
        assert feedback.waiting(conn) == 0
    assert feedback.drain(case.engine.begin) == 0


def test_decisions_queued_together_are_rescored_once(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feedback, "INLINE_MAX", 0)
    _correlate(case)
    with case.engine.connect() as conn:
        cameras = _members(conn, "camera")
        runs = conn.execute(select(func.count()).select_from(s.lead_runs)).scalar()
    scheme = load_scheme("uk")
    for code in ("A", "B"):  # a reviewer changing their mind on one picture
        with case.engine.begin() as conn:
            decisions.categorise(conn, scheme, "rob", cameras[0][:1], code)
    assert feedback.drain(case.engine.begin) == 2
    with case.engine.connect() as conn:
        causes = conn.execute(select(s.lead_runs.c.cause).order_by(s.lead_runs.c.id)).scalars()
        made = causes.all()[runs:]
    assert len(made) == 1 and made[0].count("rob categorised") == 2
    assert_a_full_run_agrees(case)


def test_commands_that_read_the_leads_catch_up_first(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feedback, "INLINE_MAX", 0)
    _correlate(case)
    with case.engine.connect() as conn:
        busiest = _members(conn, "camera")[0]
    with case.engine.begin() as conn:  # as a server stopped before re-scoring leaves it
        decisions.categorise(conn, load_scheme("uk"), "rob", busiest[:1], "A")
        waiting = feedback.waiting(conn)
    result = CliRunner().invoke(app, ["leads", str(case.root), "--json", "--top", "3"])
    assert result.exit_code == 0, result.output
    assert f"re-scoring {waiting:,} pictures after queued review decisions" in result.stderr
    with case.engine.connect() as conn:
        assert feedback.waiting(conn) == 0
    assert_a_full_run_agrees(case)


def _scores(leads: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Leads without their computed rank: (kind, target, score, reasons)."""
    return [(k, t, sc, rs) for k, t, sc, _, rs in leads]
