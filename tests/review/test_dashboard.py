"""The dashboard after a write: a decision recounts only what decisions change.

Counting what the items and hash sets hold reads every item (seconds at a million);
only processing and matching change it, so a reviewer's decision must not pay for it,
and the counts it does change must equal a count from scratch.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from unseen.core.schemes import load_scheme
from unseen.review.data import CaseView
from unseen.review.decisions import categorise
from unseen.store.case import Case

from .helpers import item_ids
from .test_server_blur import A, B, C

KNOWN = (
    "INSERT INTO auto_categories (item_id, category, reason, source, conflict, "
    "known_good, decided_at) VALUES (?, ?, 'r', 'hashset:T v1', 0, ?, 't')"
)
DECIDED = (
    "INSERT INTO review_state (item_id, review_id, category, user, at) VALUES (?, 1, ?, 'u', 't')"
)


def test_a_decision_recounts_only_the_decided_items(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = item_ids(case_dir)
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute(KNOWN, (ids[A], "A", 0))
        db.execute(KNOWN, (ids[B], None, 1))
    case = Case.open(case_dir)
    view = CaseView(load_scheme("uk"))
    with case.engine.connect() as conn:
        first = view.dashboard_at(conn, (1,))
        assert first == view.dashboard(conn)
        assert (first["known"], first["reviewed"], first["uncategorised"]) == (
            2,
            0,
            first["media"] - 2,
        )
        first["files"] = -1  # a caller's change never reaches the next visit
        assert view.dashboard_at(conn, (1,))["files"] != -1
    with case.engine.begin() as conn:
        categorise(conn, view.scheme, "rob", [ids[A]], "B")  # disagrees with the set's A
        categorise(conn, view.scheme, "rob", [ids[B], ids[C]], "A")  # known-good; unknown
    with case.engine.connect() as conn:
        expected = view.dashboard(conn)
        monkeypatch.setattr(view, "_contents", _never)
        got = view.dashboard_at(conn, (2,))
    assert got == expected
    assert (got["reviewed"], got["reviewer_categorised"], got["disagreements"]) == (3, 3, 2)
    assert got["uncategorised"] == first["uncategorised"] - 1
    assert got["by_reviewer"] == {"A": 2, "B": 1}
    case.close()


def test_processing_or_matching_recounts_everything(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = Case.open(case_dir)
    view = CaseView(load_scheme("uk"))
    counted: list[int] = []
    contents = view._contents

    def counting(conn: Any) -> dict[str, Any]:
        counted.append(1)
        return contents(conn)

    monkeypatch.setattr(view, "_contents", counting)
    with case.engine.connect() as conn:
        view.dashboard_at(conn, (1,))
        view.dashboard_at(conn, (2,))
    assert len(counted) == 1
    with case.engine.begin() as conn:  # a matching run replaced the categories
        conn.exec_driver_sql(
            "INSERT INTO match_runs (at, library, sets, thresholds, transformations, stats) "
            "VALUES ('t', 'l', '[]', '{}', '{}', '{}')"
        )
    with case.engine.connect() as conn:
        view.dashboard_at(conn, (3,))
    assert len(counted) == 2
    with case.engine.begin() as conn:  # a run under way: its items change under it
        conn.exec_driver_sql(
            "INSERT INTO runs (started_at, tool_version, workers, settings, analysers, examiner)"
            " VALUES ('t', 'v', 1, '{}', '{}', 'e')"
        )
    with case.engine.connect() as conn:
        view.dashboard_at(conn, (4,))
        view.dashboard_at(conn, (5,))
    assert len(counted) == 4
    case.close()


def _never(conn: Any) -> dict[str, Any]:
    raise AssertionError("a decision must not count every item again")


def test_without_a_sign_of_writes_the_item_counts_are_still_kept(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL case gives no sign of writes (``case_version`` is None): only what
    decisions change is counted on each visit."""
    ids = item_ids(case_dir)
    case = Case.open(case_dir)
    view = CaseView(load_scheme("uk"))
    with case.engine.connect() as conn:
        first = view.dashboard_at(conn, None)
    with case.engine.begin() as conn:
        categorise(conn, view.scheme, "rob", [ids[C]], "A")
    with case.engine.connect() as conn:
        expected = view.dashboard(conn)
        monkeypatch.setattr(view, "_contents", _never)
        got = view.dashboard_at(conn, None)
    assert got == expected and got["reviewed"] == first["reviewed"] + 1
    case.close()
