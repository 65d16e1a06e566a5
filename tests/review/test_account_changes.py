"""``review.auth``'s audited account changes, as the account commands and tools call
them: the change and its audit entry commit together, or neither does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from unseen.core.errors import UserError
from unseen.review import auth
from unseen.store.case import Case


def audit_rows(case_dir: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        rows = db.execute("SELECT user, action, target, details FROM audit_log ORDER BY id")
        return [tuple(r) for r in rows]


def test_a_change_and_its_entry_are_one_transaction(case_dir: Path) -> None:
    case = Case.open(case_dir)
    before = audit_rows(case_dir)
    auth.create_account(case, "cli:tester", "mallory", auth.REVIEWER, "long enough pw", "tester")
    assert auth.change_role(case, "cli:tester", "mallory", auth.EXAMINER) == (auth.REVIEWER, 0)
    assert auth.disable_account(case, "cli:tester", "mallory") == 0
    with pytest.raises(UserError, match="the case has no user named 'nobody'"):
        auth.disable_account(case, "cli:tester", "nobody")
    with pytest.raises(UserError, match="a password has at least 8 characters"):
        auth.reset_account(case, "cli:tester", "mallory", "short")
    assert audit_rows(case_dir)[len(before) :] == [
        ("cli:tester", "user_add", "mallory", '{"role":"reviewer"}'),
        (
            "cli:tester",
            "user_role",
            "mallory",
            '{"from":"reviewer","sessions_ended":0,"to":"examiner"}',
        ),
        ("cli:tester", "user_disable", "mallory", '{"sessions_ended":0}'),
    ]
    with sqlite3.connect(case_dir / "case.db") as db:
        row = db.execute("SELECT role, disabled, created_by FROM users WHERE name = 'mallory'")
        assert row.fetchone() == ("examiner", 1, "tester")
    case.close()
