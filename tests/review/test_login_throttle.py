"""Login brute force: back-off per account and per address, lockout, and unknown names
counted per hour instead of flooding the audit log with attacker-chosen text."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response

from unseen.review.config import ReviewConfig
from unseen.review.throttle import unlock
from unseen.store.case import write_engine

from .helpers import PASSWORD, make_client

LOCKED = "this account is locked after too many failed logins; an administrator can unlock it"


def attempt(client: TestClient, name: str, password: str) -> Response:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    form = {"name": name, "password": password, "csrf": token.group(1), "next": "/"}
    return client.post("/login", data=form)


def error_of(response: Response) -> str:
    found = re.search(r'<p class="error"[^>]*>([^<]*)</p>', response.text)
    return found.group(1) if found else ""


def audit_actions(case_dir: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        rows = db.execute(
            "SELECT user, action FROM audit_log WHERE action LIKE 'login%' ORDER BY id"
        ).fetchall()
    return [(u, a) for u, a in rows]


def test_back_off_refuses_even_the_right_password_unchecked(case_dir: Path) -> None:
    config = ReviewConfig(login_free_failures=3, login_backoff_s=600)
    with make_client(case_dir, config) as client:
        for _ in range(3):
            assert attempt(client, "rob", "wrong guess").status_code == 401
        refused = attempt(client, "rob", PASSWORD)
        assert refused.status_code == 429
        assert re.fullmatch(r"too many failed logins; try again in 6\d\d s", error_of(refused))
    assert audit_actions(case_dir) == [("rob", "login_failed")] * 3  # the wait is not audited


def test_the_address_is_throttled_across_account_names(case_dir: Path) -> None:
    config = ReviewConfig(login_free_failures=2, login_backoff_s=600, login_lockout_after=50)
    with make_client(case_dir, config) as client:
        assert attempt(client, "rob", "guess 1").status_code == 401
        assert attempt(client, "ron", "guess 2").status_code == 401
        assert attempt(client, "eve", PASSWORD).status_code == 429


def test_lockout_until_an_admin_unlocks(case_dir: Path) -> None:
    config = ReviewConfig(login_free_failures=100, login_lockout_after=3)
    with make_client(case_dir, config) as client:
        for _ in range(3):
            assert attempt(client, "rob", "wrong guess").status_code == 401
        refused = attempt(client, "rob", PASSWORD)
        assert (refused.status_code, error_of(refused)) == (429, LOCKED)
    with make_client(case_dir, config) as other:
        assert attempt(other, "eve", PASSWORD).status_code == 303  # others still log in
    engine = write_engine(f"sqlite:///{case_dir / 'case.db'}")
    with engine.begin() as conn:
        assert unlock(conn, "rob")
    engine.dispose()
    with make_client(case_dir, config) as client:
        assert attempt(client, "rob", PASSWORD).status_code == 303
    assert audit_actions(case_dir) == [
        ("rob", "login_failed"),
        ("rob", "login_failed"),
        ("rob", "login_failed"),
        ("rob", "login_locked"),
        ("eve", "login"),
        ("rob", "login"),
    ]


def test_unknown_names_are_counted_not_audited_one_by_one(case_dir: Path) -> None:
    config = ReviewConfig(login_free_failures=1000)
    names = [f"<b>intruder {n}</b>\x1b[31m" + "x" * 60 for n in range(21)]
    with make_client(case_dir, config) as client:
        for name in names:
            assert attempt(client, name, "guess").status_code == 401
    actions = audit_actions(case_dir)
    assert actions == [("(unknown names)", "login_failed_unknown")]
    with sqlite3.connect(case_dir / "case.db") as db:
        ((failures, kept),) = db.execute("SELECT failures, names FROM login_unknown").fetchall()
    kept_names = json.loads(kept)
    assert failures == 21
    assert len(kept_names) == 20
    assert kept_names[0] == "<b>intruder 0</b>\\x1b[31m" + "x" * 18 + "..."
