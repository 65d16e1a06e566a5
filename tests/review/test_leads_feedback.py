"""The leads page shows what each lead is tied to and how a decision moved it."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.correlation import candidates, feedback
from unseen.demo import scenarios
from unseen.engine.runner import process_case
from unseen.review.context import AppContext
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .helpers import csrf_of, lead_strips, login, make_client, make_users


@pytest.fixture
def case_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    scenarios.build_with_library(tmp_path)
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "home"))
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(tmp_path / "ev"), "EV1", "test")
    process_case(case, workers=0, settings=Settings(skip=("deep", "internet")))
    make_users(case)
    case.close()
    return tmp_path / "case"


def test_leads_page_names_associated_material_and_moves_with_decisions(case_dir: Path) -> None:
    case = Case.open(case_dir)
    with case.engine.connect() as conn:
        ids = {p: i for i, p in conn.execute(select(s.items.c.id, s.items.c.path))}
    case.close()
    with make_client(case_dir) as client:
        login(client, "rob")
        page = client.get("/leads").text
        assert page.count("16 pictures categorised A by hash set UK-A") >= 16
        first = re.search(r'id="lead-items".*?data-id="(\d+)"', page, re.S)
        assert (
            first is not None
            and int(first.group(1)) == ids["Pictures/Camera Uploads/DSC_0016.JPG"]
        )
        burst = [f"DCIM/100CANON/IMG_{n:04d}.JPG" for n in range(36, 48)]
        response = client.post(
            "/api/categorise",
            json={"items": [ids[p] for p in burst[:3]], "code": "NI"},
            headers={"X-CSRF-Token": csrf_of(client)},
        )
        assert response.status_code == 200, response.text
        page = client.get("/leads").text
    assert f'data-id="{ids[burst[0]]}"' not in page  # decided: no longer unseen
    assert (
        "lowered -10.75: same folder (DCIM/100CANON) as 3 pictures categorised NI by "
        "reviewer rob; same capture session" in page
    )


def test_more_like_this_ranks_the_room_camera_and_is_audited(case_dir: Path) -> None:
    case = Case.open(case_dir)
    with case.engine.connect() as conn:
        ids = {p: i for i, p in conn.execute(select(s.items.c.id, s.items.c.path))}
    case.close()
    seed = ids["Pictures/Camera Uploads/DSC_0016.JPG"]
    with make_client(case_dir) as client:
        login(client, "ron")
        page = client.get(f"/like?item={seed}&by=camera").text
        assert client.get("/like").status_code == 404
        assert client.get(f"/like?item={2**63}").status_code == 422
    hits = re.findall(r'id="like-hits".*', page, re.S)[0]
    found = [int(i) for i in re.findall(r'data-id="(\d+)"', hits)]
    room = {i for p, i in ids.items() if p.startswith("Pictures/Camera Uploads/")}
    assert set(found[:31]) == room - {seed} and len(found) == 31
    assert "same camera: NIKON CORPORATION NIKON D5600 serial 999" in page
    case = Case.open(case_dir)
    with case.engine.connect() as conn:
        logged = conn.execute(
            select(s.audit_log.c.user, s.audit_log.c.action, s.audit_log.c.target).where(
                s.audit_log.c.action == "more_like_this"
            )
        ).all()
    case.close()
    assert [tuple(r) for r in logged] == [("ron", "more_like_this", f"item {seed}")]


def app_context_of(client: TestClient) -> AppContext:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    assert isinstance(ctx, AppContext)
    return ctx


def _queued(case_dir: Path) -> int:
    with sqlite3.connect(case_dir / "case.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM rescore_queue").fetchone()[0])


def test_a_decision_on_a_big_group_is_rescored_after_it_answers(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feedback, "INLINE_MAX", 0)  # every group counts as big here
    case = Case.open(case_dir)
    with case.engine.connect() as conn:
        ids = {p: i for i, p in conn.execute(select(s.items.c.id, s.items.c.path))}
    case.close()
    burst = [f"DCIM/100CANON/IMG_{n:04d}.JPG" for n in range(36, 48)]
    with make_client(case_dir) as client:
        login(client, "rob")
        rescorer = app_context_of(client).rescorer
        woken: list[bool] = []
        real_wake = rescorer.wake
        monkeypatch.setattr(rescorer, "wake", lambda: woken.append(True))  # held back
        response = client.post(
            "/api/categorise",
            json={"items": [ids[p] for p in burst[:3]], "code": "NI"},
            headers={"X-CSRF-Token": csrf_of(client)},
        )
        assert response.status_code == 200, response.text
        assert woken == [True] and _queued(case_dir) == 1  # answered, not re-scored yet
        page = client.get("/leads").text
        assert 'id="reranking"' in page
        assert "lowered -10.75" not in page
        real_wake()  # the background re-scoring
        deadline = time.monotonic() + 60
        while _queued(case_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _queued(case_dir) == 0
        page = client.get("/leads").text
        assert 'id="reranking"' not in page
        # What the decision re-scored inline gives (the test above).
        assert (
            "lowered -10.75: same folder (DCIM/100CANON) as 3 pictures categorised NI by "
            "reviewer rob; same capture session" in page
        )
        with sqlite3.connect(case_dir / "case.db") as db:  # as a decision leaves it
            db.execute(
                "INSERT INTO rescore_queue (items, cause, settled, members, at) "
                "VALUES ('[1]', 'test', 0, 31044, 't')"
            )
        page = client.get("/leads").text
    assert (
        '<p class="muted" id="reranking">Re-ranking after a decision on a large group: '
        "31,044 pictures are being scored again." in page
    )


def test_groups_the_page_ranked_whole_are_kept_again_in_the_background(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Groups of over two keep their best pictures; the run kept only those of over
    # 64 (the 120 pictures of a camera and of its folder), so the page ranks the others
    # and the server keeps them, a group at a time.
    ran = _kept(case_dir)
    assert ran == [1, 3]
    monkeypatch.setattr(candidates, "KEEP", 2)
    big = (
        "SELECT c.id FROM clusters c JOIN leads l ON l.target_kind = 'cluster' "
        "AND l.target_id = c.id WHERE c.size > 2"
    )
    expected = sorted({int(str(i)) for (i,) in _sql(case_dir, big)} | {1, 3})
    assert len(expected) == 18
    with make_client(case_dir) as client:
        login(client, "rob")
        first = client.get("/leads").text
        deadline = time.monotonic() + 30
        while _kept(case_dir) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _kept(case_dir) == expected
        # Read from what is kept now: the same strips as ranking every member gave.
        assert lead_strips(client.get("/leads").text) == lead_strips(first)
        assert lead_strips(first)


def _sql(case_dir: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return db.execute(query).fetchall()


def _kept(case_dir: Path) -> list[int]:
    rows = _sql(case_dir, "SELECT cluster_id FROM strip_floors ORDER BY 1")
    return [int(str(i)) for (i,) in rows]
