"""Review while ``unseen process`` runs, and the real ``unseen serve`` / demo servers."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from .helpers import item_ids, login, make_client

IMG1 = "DCIM/100TEST/IMG_0001.JPG"


def test_progress_of_an_unfinished_run(case_dir: Path) -> None:
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute("UPDATE items SET status = 'pending' WHERE path LIKE 'downloads/%'")
        db.execute("UPDATE runs SET finished_at = NULL")
    with make_client(case_dir) as client:
        login(client, "ron")
        progress = client.get("/api/progress").json()
        page = " ".join(client.get("/").text.split())
    assert progress["pending"] == 7
    assert progress["processed"] == 10
    assert progress["running"] is True
    assert progress["last_run"]["finished_at"] is None
    assert '<span id="p-pending">7</span> pending' in page
    assert 'data-running="yes"' in page


def test_pages_and_decisions_while_the_processor_holds_the_write_lock(case_dir: Path) -> None:
    """WAL: reads go on while another process writes; our writes wait for its commit."""
    image = item_ids(case_dir)[IMG1]
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        writer = sqlite3.connect(
            case_dir / "case.db", isolation_level=None, check_same_thread=False
        )
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE items SET status = 'pending' WHERE id = ?", (image,))
        started = time.monotonic()
        assert client.get("/grid").status_code == 200
        assert client.get(f"/item/{image}").status_code == 200
        assert time.monotonic() - started < 5  # not blocked by the writer
        release = threading.Timer(0.5, lambda: writer.execute("COMMIT"))
        release.start()
        done = client.post(
            "/api/categorise", json={"items": [image], "code": "A"}, headers={"X-CSRF-Token": csrf}
        )
        release.join()
        writer.close()
        assert done.status_code == 200
        assert client.get("/api/progress").json()["pending"] == 1  # the writer's commit is seen


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unseen_serve_command(case_dir: Path, unseen_exe: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(unseen_exe), "serve", str(case_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/login")
        anonymous = httpx.get(f"http://127.0.0.1:{port}/grid", follow_redirects=False)
        assert anonymous.status_code == 303
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/" in output


def test_demo_serving_prints_url_and_a_one_time_admin_password(case_dir: Path) -> None:
    port = free_port()
    code = (
        "import sys; from pathlib import Path; from unseen.cli.review import serve_demo; "
        "from unseen.store.case import Case; "
        f"serve_demo(Case.open(Path({str(case_dir)!r})), port={port})"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        text = "".join(lines)
        assert f"review UI: http://127.0.0.1:{port}/" in text, text
        password = re.search(r"one-time password: (\S+)", text)
        assert password, text
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/login")
        with httpx.Client(base_url=base, follow_redirects=False) as browser:
            form = browser.get("/login").text
            token = re.search(r'name="csrf" value="([^"]+)"', form)
            assert token
            data = {"name": "admin", "password": password.group(1), "csrf": token.group(1)}
            assert browser.post("/login", data=data).status_code == 303
            assert browser.get("/audit").status_code == 200
    finally:
        server.terminate()
        server.communicate(timeout=20)
    with sqlite3.connect(case_dir / "case.db") as db:
        users = db.execute("SELECT name, role FROM users WHERE name = 'admin'").fetchall()
        log = db.execute("SELECT action, target, details FROM audit_log ORDER BY id").fetchall()
    assert users == [("admin", "admin")]
    assert ("user_add", "admin", json.dumps({"role": "admin"}, separators=(",", ":"))) in log
