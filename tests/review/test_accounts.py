"""Account management from the CLI: list, disable, enable, remove, reset, role, revoke,
unlock. Each change is audited, and the ones that take rights away end the user's
live sessions at once (checked with a logged-in client)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from unseen.cli.main import app

from .helpers import PASSWORD, login, make_client

runner = CliRunner()


def unseen(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def audit_tail(case_dir: Path, n: int) -> list[tuple[str, str, dict[str, object]]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        rows = db.execute(
            "SELECT action, target, details FROM audit_log ORDER BY id DESC LIMIT ?", (n,)
        ).fetchall()
    return [(a, t, json.loads(d)) for a, t, d in reversed(rows)]


def logged_in(case_dir: Path, name: str) -> TestClient:
    client = make_client(case_dir).__enter__()
    login(client, name)
    assert client.get("/").status_code == 200
    return client


def try_login(case_dir: Path, name: str, password: str) -> int:
    with make_client(case_dir) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        form = {"name": name, "password": password, "csrf": token.group(1)}
        return client.post("/login", data=form).status_code


def test_disable_ends_live_sessions_and_enable_restores_login(case_dir: Path) -> None:
    client = logged_in(case_dir, "rob")
    out = unseen("user", "disable", str(case_dir), "rob")
    assert out == "disabled rob; 1 open sessions ended"
    assert client.get("/").status_code == 303  # the live session is gone at once
    assert try_login(case_dir, "rob", PASSWORD) == 401
    assert unseen("user", "enable", str(case_dir), "rob") == "enabled rob"
    assert try_login(case_dir, "rob", PASSWORD) == 303
    client.__exit__(None, None, None)
    assert [(a, t) for a, t, _ in audit_tail(case_dir, 4)] == [
        ("user_disable", "rob"),
        ("login_failed", "review server"),
        ("user_enable", "rob"),
        ("login", "review server"),
    ]
    assert audit_tail(case_dir, 4)[0][2] == {"sessions_ended": 1}


def test_a_new_role_ends_live_sessions(case_dir: Path) -> None:
    client = logged_in(case_dir, "rob")
    out = unseen("user", "role", str(case_dir), "rob", "read-only")
    assert out == "rob: reviewer -> read-only; 1 open sessions ended"
    assert client.get("/").status_code == 303
    client.__exit__(None, None, None)
    assert audit_tail(case_dir, 1) == [
        ("user_role", "rob", {"from": "reviewer", "to": "read-only", "sessions_ended": 1})
    ]
    with sqlite3.connect(case_dir / "case.db") as db:
        assert db.execute("SELECT role FROM users WHERE name = 'rob'").fetchone() == ("read-only",)


def test_remove_keeps_the_name_and_nothing_logs_in(case_dir: Path) -> None:
    client = logged_in(case_dir, "ron")
    assert unseen("user", "remove", str(case_dir), "ron") == "removed ron; 1 open sessions ended"
    assert client.get("/").status_code == 303
    client.__exit__(None, None, None)
    assert try_login(case_dir, "ron", PASSWORD) == 401
    listing = unseen("user", "list", str(case_dir))
    assert re.search(r"ron │ read-only │ removed │ 0", listing), listing
    failed = runner.invoke(app, ["user", "enable", str(case_dir), "ron"])
    assert failed.exit_code != 0
    assert "'ron' was removed; add a new account instead" in failed.output


def test_reset_revoke_and_sessions(case_dir: Path) -> None:
    client = logged_in(case_dir, "eve")
    assert unseen("user", "sessions", str(case_dir), "eve").endswith("1 open sessions")
    assert unseen("user", "revoke", str(case_dir), "eve") == "1 open sessions of eve ended"
    assert client.get("/").status_code == 303
    client.__exit__(None, None, None)
    out = unseen(
        "user", "reset", str(case_dir), "eve", "--password-stdin", stdin="new secret 123\n"
    )
    assert out == "new password for eve; 0 open sessions ended"
    assert try_login(case_dir, "eve", PASSWORD) == 401
    assert try_login(case_dir, "eve", "new secret 123") == 303
    assert unseen("user", "sessions", str(case_dir), "eve", "--revoke") == (
        "1 open sessions of eve ended"
    )
    actions = [a for a, _, _ in audit_tail(case_dir, 5)]
    assert actions == ["user_revoke", "user_reset", "login_failed", "login", "user_revoke"]


def test_unlock_lifts_a_lockout(case_dir: Path) -> None:
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute(
            "INSERT INTO login_throttle (key, failures, last_failure, locked_at) "
            "VALUES ('user:rob', 10, 0, '2026-01-01T00:00:00Z')"
        )
    assert try_login(case_dir, "rob", PASSWORD) == 429
    assert "rob │ reviewer │ active, locked" in unseen("user", "list", str(case_dir))
    assert unseen("user", "unlock", str(case_dir), "rob") == "unlocked rob"
    assert try_login(case_dir, "rob", PASSWORD) == 303
    assert unseen("user", "unlock", str(case_dir), "rob") == "rob was not locked"
    unlocks = [(a, t, d) for a, t, d in audit_tail(case_dir, 3) if a == "user_unlock"]
    assert unlocks == [
        ("user_unlock", "rob", {"was_locked": True}),
        ("user_unlock", "rob", {"was_locked": False}),
    ]


def test_unknown_accounts_are_refused(case_dir: Path) -> None:
    failed = runner.invoke(app, ["user", "disable", str(case_dir), "nobody"])
    assert failed.exit_code != 0
    assert "the case has no user named 'nobody'" in failed.output
