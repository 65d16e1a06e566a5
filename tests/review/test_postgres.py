"""The review server on a case kept in PostgreSQL (UNSEEN_TEST_PG_URL; ``bash
scripts/with-postgres.sh`` starts a throwaway server)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from unseen.correlation import candidates
from unseen.engine.runner import process_case
from unseen.review import leadqueue
from unseen.store import audit, repo
from unseen.store.case import Case

from .helpers import build_evidence, lead_strips, login, make_client, make_users

SERVER = os.environ.get("UNSEEN_TEST_PG_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not SERVER,
        reason="UNSEEN_TEST_PG_URL is not set; run under `bash scripts/with-postgres.sh`",
    ),
]


@pytest.fixture
def pg_case(tmp_path: Path, pg_database: Callable[[], str]) -> Path:
    build_evidence(tmp_path / "evidence")
    case = Case.create(tmp_path / "case", name="PG", database_url=pg_database())
    repo.add_source(case, "folder", str(tmp_path / "evidence"), "EV01", "Test Examiner")
    process_case(case, workers=0)
    make_users(case)
    case.close()
    return tmp_path / "case"


def test_review_on_postgresql(pg_case: Path) -> None:
    with make_client(pg_case) as client:
        csrf = login(client, "rob")
        grid = client.get("/grid", params={"sort": "time"}).text
        ids = [int(i) for i in re.findall(r'data-id="(\d+)" data-href', grid)]
        assert len(ids) == 16
        timeline = client.get("/timeline", params={"tfrom": "2024-05", "tto": "2024-06"}).text
        assert len(re.findall(r'<a href="/item/\d+" class="mono">', timeline)) == 6
        headers = {"X-CSRF-Token": csrf}
        done = client.post(
            "/api/categorise", json={"items": ids[:3], "code": "B"}, headers=headers
        )
        assert done.json()["count"] == 3
        assert client.post("/api/undo", json={}, headers=headers).json()["count"] == 3
        assert client.get(f"/item/{ids[0]}").status_code == 200
        assert client.get("/").status_code == 200
    case = Case.open(pg_case)
    with case.engine.connect() as conn:
        verdict = audit.verify(conn)
    case.close()
    assert verdict.ok and verdict.entries == 4 + 3  # user_add x4, login, categorise, undo


def test_leads_strips_on_postgresql(pg_case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Groups of over two keep their best: none kept by the run, so each page ranks
    # them (six a strip) and keeps them again, a decision and its undo admit and
    # settle them; strips of one then read what is kept.
    monkeypatch.setattr(candidates, "KEEP", 2)
    with make_client(pg_case) as client:
        csrf = login(client, "rob")
        first = lead_strips(client.get("/leads").text)
        assert first and lead_strips(client.get("/leads").text) == first
        headers = {"X-CSRF-Token": csrf}
        best = first[0][0]
        body = {"items": [best], "code": "B"}
        assert client.post("/api/categorise", json=body, headers=headers).status_code == 200
        assert best not in {i for strip in lead_strips(client.get("/leads").text) for i in strip}
        assert client.post("/api/undo", json={}, headers=headers).json()["count"] == 1
        assert lead_strips(client.get("/leads").text) == first
    case = Case.open(pg_case)
    on_page = text("SELECT target_id FROM leads WHERE target_kind = 'cluster'")
    with case.engine.begin() as conn:
        ids = [int(i) for i in conn.execute(on_page).scalars()]
        candidates.refill(conn, ids)
    with case.engine.connect() as conn:
        found, ranked = leadqueue.strips(conn, ids, 1)
        kept = conn.execute(text("SELECT count(*) FROM strip_floors")).scalar()
        assert kept and ranked == []
        assert found == {i: [x for x, _ in candidates.ranked(conn, i, 1)] for i in found}
        assert sorted(found) == sorted(ids)
    case.close()


def test_hardening_on_postgresql(pg_case: Path) -> None:
    """Throttle counters, unknown-name windows, thumbnail grants, evidence checks and
    the error counts run on PostgreSQL too."""
    from unseen.reports.status import case_status

    with make_client(pg_case) as client:
        for name in ("rob", "nobody"):  # a third would start the address back-off
            page = client.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert token
            form = {"name": name, "password": "wrong", "csrf": token.group(1)}
            assert client.post("/login", data=form).status_code == 401
        csrf = login(client, "ron")
        grid = client.get("/grid?q=IMG_0001").text
        (item,) = [int(i) for i in re.findall(r'data-id="(\d+)" data-href', grid)]
        headers = {"X-CSRF-Token": csrf}
        grant = client.post("/api/reveal-thumbs", json={"items": [item]}, headers=headers)
        assert client.get(f"/thumb/{item}?t={grant.json()['token']}").status_code == 200
    with make_client(pg_case) as client:
        csrf = login(client, "rob")
        reveal = client.post(f"/api/reveal/{item}", headers={"X-CSRF-Token": csrf})
        assert client.get(reveal.json()["url"]).status_code == 200
    case = Case.open(pg_case)
    with case.engine.connect() as conn:
        actions = [e["action"] for e in audit.entries(conn)][4:]
        status = case_status(conn, case.info)
    case.close()
    assert actions == [
        "login_failed",
        "login_failed_unknown",
        "login",
        "search",
        "reveal_thumbs",
        "login",
        "reveal",
    ]
    assert status["items_with_errors"] >= 1


def test_two_servers_two_reviewers_one_item(pg_case: Path) -> None:
    """A team server: two ``unseen serve`` processes on one PostgreSQL case, two
    reviewers grading the same picture at once. The later decision is the effective
    one; both stay in the item's history and in the audit log, nothing lost."""
    import threading

    from unseen.review import decisions

    first, second = make_client(pg_case), make_client(pg_case)  # two servers
    with first as a, second as b:
        csrf_a, csrf_b = login(a, "rob"), login(b, "eve")
        grid = a.get("/grid", params={"q": "IMG_0001"}).text
        (item,) = [int(i) for i in re.findall(r'data-id="(\d+)" data-href', grid)]
        answers: dict[str, int] = {}

        def grade(client: object, csrf: str, code: str, who: str) -> None:
            response = client.post(  # type: ignore[attr-defined]
                "/api/categorise",
                json={"items": [item], "code": code},
                headers={"X-CSRF-Token": csrf},
            )
            answers[who] = response.status_code

        threads = [
            threading.Thread(target=grade, args=(a, csrf_a, "A", "rob")),
            threading.Thread(target=grade, args=(b, csrf_b, "C", "eve")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert answers == {"rob": 200, "eve": 200}
    case = Case.open(pg_case)
    with case.engine.connect() as conn:
        history = decisions.history(conn, item)
        state = conn.execute(
            text('SELECT category, "user" FROM review_state WHERE item_id = :i'), {"i": item}
        ).one()
        graded = [e for e in audit.entries(conn) if e["action"] == "categorise"]
        verdict = audit.verify(conn)
    case.close()
    assert sorted((h["user"], h["category"]) for h in history) == [("eve", "C"), ("rob", "A")]
    last = max(history, key=lambda h: int(str(h["id"])))
    assert (state.category, state.user) == (last["category"], last["user"])
    assert sorted(e["user"] for e in graded) == ["eve", "rob"]
    assert verdict.ok
