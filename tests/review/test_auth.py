"""Logging in and out, session cookies, the idle timeout and CSRF protection."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from fastapi.testclient import TestClient

from unseen.review.config import ReviewConfig

from .helpers import PASSWORD, item_ids, login, make_client


def audit_rows(case_dir: Path) -> list[tuple[str, str, str, dict[str, object]]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        rows = db.execute("SELECT user, action, target, details FROM audit_log ORDER BY id")
        return [(u, a, t, json.loads(d)) for u, a, t, d in rows]


def login_form_token(client: TestClient) -> str:
    page = client.get("/login")
    marker = 'name="csrf" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def test_login_sets_a_strict_httponly_cookie_and_is_audited(case_dir: Path) -> None:
    with make_client(case_dir) as client:
        token = login_form_token(client)
        done = client.post(
            "/login", data={"name": "rob", "password": PASSWORD, "csrf": token, "next": "/grid"}
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/grid"
        cookies = [v for k, v in done.headers.multi_items() if k == "set-cookie"]
        session = next(c for c in cookies if c.startswith("unseen_") and "_login=" not in c)
        assert "HttpOnly" in session
        assert "SameSite=strict" in session
        assert "Path=/" in session
        assert client.get("/grid").status_code == 200
    assert audit_rows(case_dir)[-1] == ("rob", "login", "review server", {"role": "reviewer"})


def test_a_wrong_password_or_unknown_name_fails_and_is_audited(case_dir: Path) -> None:
    with make_client(case_dir) as client:
        for name, password in (("rob", "wrong password"), ("<b>mallory</b>", PASSWORD)):
            token = login_form_token(client)
            done = client.post("/login", data={"name": name, "password": password, "csrf": token})
            assert done.status_code == 401
            assert "wrong name or password" in done.text
            assert "<b>mallory</b>" not in done.text  # nothing echoed unescaped
        assert client.get("/").status_code == 303
    # Unknown names are counted per hour (one audit entry), not audited one by one.
    assert [r[:2] for r in audit_rows(case_dir)[-2:]] == [
        ("rob", "login_failed"),
        ("(unknown names)", "login_failed_unknown"),
    ]


def test_login_needs_the_form_token(case_dir: Path) -> None:
    with make_client(case_dir) as client:
        login_form_token(client)
        done = client.post("/login", data={"name": "rob", "password": PASSWORD, "csrf": "forged"})
        assert done.status_code == 403
        assert client.get("/").status_code == 303


def test_a_disabled_user_cannot_log_in(case_dir: Path) -> None:
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute("UPDATE users SET disabled = 1 WHERE name = 'rob'")
    with make_client(case_dir) as client:
        token = login_form_token(client)
        done = client.post("/login", data={"name": "rob", "password": PASSWORD, "csrf": token})
        assert done.status_code == 401


def test_redirect_after_login_stays_on_this_server(case_dir: Path) -> None:
    with make_client(case_dir) as client:
        token = login_form_token(client)
        data = {"name": "rob", "password": PASSWORD, "csrf": token, "next": "//evil.example/"}
        assert client.post("/login", data=data).headers["location"] == "/"


def test_logout_ends_the_session(case_dir: Path) -> None:
    with make_client(case_dir) as client:
        csrf = login(client, "eve")
        cookie = dict(client.cookies)
        assert client.post("/logout", data={"csrf": csrf}).status_code == 303
        # Replaying the old cookie does not bring the session back.
        client.cookies.update(cookie)
        assert client.get("/").status_code == 303
    with sqlite3.connect(case_dir / "case.db") as db:
        ended = db.execute("SELECT ended_at FROM review_sessions").fetchall()
    assert len(ended) == 1 and ended[0][0] is not None
    assert audit_rows(case_dir)[-1][:2] == ("eve", "logout")


def test_idle_sessions_time_out(case_dir: Path) -> None:
    config = ReviewConfig(idle_timeout_s=600, touch_interval_s=30)
    with make_client(case_dir, config) as client:
        login(client, "rob")
        with sqlite3.connect(case_dir / "case.db") as db:
            db.execute("UPDATE review_sessions SET last_seen = ?", (time.time() - 100,))
        assert client.get("/").status_code == 200  # active: the visit moves last_seen on
        with sqlite3.connect(case_dir / "case.db") as db:
            (seen,) = db.execute("SELECT last_seen FROM review_sessions").fetchone()
        assert time.time() - seen < 5
        with sqlite3.connect(case_dir / "case.db") as db:
            db.execute("UPDATE review_sessions SET last_seen = ?", (time.time() - 601,))
        done = client.get("/grid")
        assert done.status_code == 303
        assert done.headers["location"] == "/login?next=%2Fgrid&timeout=1"
        assert "inactivity" in client.get(done.headers["location"]).text
        assert client.post("/api/undo", json={}).status_code == 401


def test_every_state_change_needs_the_session_csrf_token(case_dir: Path) -> None:
    image = item_ids(case_dir)["DCIM/100TEST/IMG_0001.JPG"]
    body = {"items": [image], "code": "A"}
    with make_client(case_dir) as other:
        foreign = login(other, "eve")
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        assert client.post("/api/categorise", json=body).status_code == 403
        for token in ("", "x" * 43, foreign):
            headers = {"X-CSRF-Token": token}
            assert client.post("/api/categorise", json=body, headers=headers).status_code == 403
        assert client.post("/settings", data={"blur": "3"}).status_code == 403
        assert client.post("/logout").status_code == 403
        cross = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
        assert client.post("/api/categorise", json=body, headers=cross).status_code == 403
        with sqlite3.connect(case_dir / "case.db") as db:
            assert db.execute("SELECT count(*) FROM reviews").fetchone() == (0,)
        ok = client.post("/api/categorise", json=body, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200
        assert client.post("/settings", data={"blur": "3", "csrf": csrf}).status_code == 303
        assert 'name="blur" content="3"' in client.get("/").text
