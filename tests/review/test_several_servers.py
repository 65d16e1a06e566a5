"""Several server processes on one case: what one issues, another honours.

The reveal grants and the thumbnail meter used to live in one process's memory, so a
second process (``unseen serve --processes 2``, or two servers behind one address)
refused every grant the first handed out, and each process metered reveals on its
own, multiplying the per-minute cap. Two applications on one case stand in for two
processes here (they share nothing but the case); one test runs the real command.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from unseen.review.config import ReviewConfig
from unseen.review.grants import Grants, review_key

from .helpers import PASSWORD, item_ids, login, make_client
from .test_live import free_port, wait_for
from .test_server_blur import A, B, C, reveal, thumb_file


def share_session(first: TestClient, second: TestClient) -> None:
    """The browser's cookies, sent to the other process as a load balancer would."""
    for cookie in first.cookies.jar:
        second.cookies.set(cookie.name, cookie.value or "")


def test_a_grant_from_one_process_opens_the_picture_in_another(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    with make_client(case_dir) as one, make_client(case_dir) as two:
        csrf = login(one, "rob")
        share_session(one, two)
        token = reveal(one, csrf, [ids[A]]).json()["token"]
        got = two.get(f"/thumb/{ids[A]}?t={token}")
        assert got.content == thumb_file(case_dir, ids[A]).read_bytes()
        assert two.get(f"/thumb/{ids[B]}?t={token}").status_code == 403  # not granted
        full = one.post(f"/api/reveal/{ids[A]}", headers={"X-CSRF-Token": csrf}).json()
        assert two.get(full["url"]).status_code == 200
        # A thumbnail grant never opens the full-size picture, in any process.
        assert two.get(f"/media/{ids[A]}?t={token}").status_code == 403


def test_the_reveal_meter_counts_across_processes(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    config = ReviewConfig(thumb_reveals_per_minute=3)
    with make_client(case_dir, config) as one, make_client(case_dir, config) as two:
        csrf = login(one, "rob")
        share_session(one, two)
        assert reveal(one, csrf, [ids[A], ids[B]]).status_code == 200
        assert reveal(two, csrf, [ids[C], ids[A]]).status_code == 429
        assert reveal(two, csrf, [ids[C]]).status_code == 200
        assert reveal(one, csrf, [ids[A]]).status_code == 429


def test_grants_are_signed_for_their_purpose_session_item_and_time(tmp_path: Path) -> None:
    key = review_key(tmp_path)
    assert review_key(tmp_path) == key and len(key) == 32  # made once, then read
    assert (tmp_path / "review.key").stat().st_mode & 0o777 == 0o600
    thumbs = Grants(key, "thumb", 20)
    token = thumbs.issue(7, frozenset({3, 12}))
    assert thumbs.check(token, 7, 12) and thumbs.check(token, 7, 3)
    assert not thumbs.check(token, 7, 1)  # "1" is a prefix of "12", not an item
    assert not thumbs.check(token, 8, 12)  # another session
    assert not Grants(key, "full", 20).check(token, 7, 12)  # another purpose
    assert not Grants(b"k" * 32, "thumb", 20).check(token, 7, 12)  # another case
    forged = token.replace(".3-12.", ".3-4.")
    assert forged != token and not thumbs.check(forged, 7, 4)
    for junk in ("", ".", "made-up", "1.2.3.x", "é." + token, token + "\x00"):
        assert not thumbs.check(junk, 7, 12)
    assert not Grants(key, "thumb", 0).check(Grants(key, "thumb", 0).issue(7, 12), 7, 12)
    with pytest.raises(ValueError):
        thumbs.issue(7, frozenset())


def test_unseen_serve_with_two_processes(case_dir: Path, unseen_exe: Path) -> None:
    ids = item_ids(case_dir)
    with _two_processes(case_dir, unseen_exe) as (server, base):
        _wait_for_servers(server.pid, 2)
        # No keep-alive: each request is a new connection, dealt to either process.
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=base, follow_redirects=False, limits=limits) as browser:
            csrf = _login(browser, "rob")
            codes = ["A", "B", "C"] * 4
            for code in codes:
                body = {"items": [ids[A]], "code": code}
                done = browser.post("/api/categorise", json=body, headers={"X-CSRF-Token": csrf})
                assert done.status_code == 200, done.text
            token = browser.post(
                "/api/reveal-thumbs", json={"items": [ids[B]]}, headers={"X-CSRF-Token": csrf}
            ).json()["token"]
            for _ in range(6):
                assert browser.get(f"/thumb/{ids[B]}?t={token}").status_code == 200
    with sqlite3.connect(case_dir / "case.db") as db:
        made = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'categorise'")
        assert made.fetchone() == (len(codes),)


def test_a_server_process_that_dies_is_replaced_and_no_connection_is_refused(
    case_dir: Path, unseen_exe: Path
) -> None:
    with _two_processes(case_dir, unseen_exe) as (server, base):
        first = _wait_for_servers(server.pid, 2)
        first[0].kill()
        replaced = _wait_for_servers(server.pid, 2, without=first[0].pid)
        assert first[1].pid in {p.pid for p in replaced}
        # Each request a new connection, hashed by the kernel to either socket: the
        # dead process's socket stayed open in the parent for its successor.
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=base, limits=limits) as browser:
            assert [browser.get("/login").status_code for _ in range(20)] == [200] * 20
    output, _ = server.communicate(timeout=30)
    assert re.search(r"server process [01] ended \(-9\): restarting it", output)


def test_server_processes_that_cannot_start_are_not_restarted_forever(
    case_dir: Path, unseen_exe: Path
) -> None:
    with _two_processes(case_dir, unseen_exe) as (server, _):
        first = _wait_for_servers(server.pid, 2)
        (case_dir / "case.json").rename(case_dir / "moved.json")  # no case there now
        first[0].kill()
        server.wait(timeout=120)
    output, _ = server.communicate(timeout=30)
    assert server.returncode != 0
    assert "the server processes keep ending within 10 s of starting" in output
    # The killed one may count as young too (it had run under 10 s).
    assert output.count("restarting it") in (5, 6)


@contextmanager
def _two_processes(
    case_dir: Path, unseen_exe: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``unseen serve --processes 2`` on a free port, answering; stopped on leaving."""
    port = free_port()
    command = [str(unseen_exe), "serve", str(case_dir), "--port", str(port), "--processes", "2"]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/login")
        yield server, base
    finally:
        server.terminate()
        if server.returncode is None:
            server.wait(timeout=30)


def _wait_for_servers(pid: int, count: int, without: int = 0) -> list[psutil.Process]:
    """The parent's server processes once there are ``count``, none of them ``without``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _servers(pid)
        if len(found) == count and without not in {p.pid for p in found}:
            return found
        time.sleep(0.2)
    raise AssertionError(f"never {count} server processes: {_servers(pid)}")


def _servers(pid: int) -> list[psutil.Process]:
    """The live server processes spawned under ``pid`` (not multiprocessing's resource
    tracker, nor one killed and not yet reaped)."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            pass
    return found


def _login(browser: httpx.Client, name: str) -> str:
    form = browser.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token
    data = {"name": name, "password": PASSWORD, "csrf": token.group(1), "next": "/"}
    assert browser.post("/login", data=data).status_code == 303
    page = browser.get("/settings").text
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found
    return found.group(1)
