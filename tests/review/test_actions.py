"""Categorising (one, a selection, a whole filter), undo, disagreements and exposure."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from unseen.review.config import ReviewConfig
from unseen.review.security import BUSY
from unseen.store import case as case_module

from .helpers import add_auto_category, item_ids, login, make_client

IMG1, IMG2, IMG3 = (f"DCIM/100TEST/IMG_000{n}.JPG" for n in (1, 2, 3))


def sql(case_dir: Path, statement: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return db.execute(statement, args).fetchall()


def post(client: TestClient, csrf: str, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers={"X-CSRF-Token": csrf})


def state(case_dir: Path) -> dict[int, str]:
    return dict(sql(case_dir, "SELECT item_id, category FROM review_state"))


def test_categorise_one_item(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        done = post(client, csrf, "/api/categorise", {"items": [ids[IMG1]], "code": "A"})
    assert done.status_code == 200
    body = done.json()
    assert body["count"] == 1
    assert body["items"] == {str(ids[IMG1]): {"rev": "A", "disagree": False}}
    rows = sql(
        case_dir, "SELECT id, item_id, scheme, category, user, batch_id, undoes FROM reviews"
    )
    assert rows == [(1, ids[IMG1], "uk", "A", "rob", body["batch"], None)]
    assert state(case_dir) == {ids[IMG1]: "A"}
    user, action, target, details = sql(
        case_dir, "SELECT user, action, target, details FROM audit_log ORDER BY id DESC LIMIT 1"
    )[0]
    assert (user, action, target) == ("rob", "categorise", f"item {ids[IMG1]}")
    assert json.loads(details) == {
        "batch": body["batch"],
        "code": "A",
        "items": [ids[IMG1]],
        "reviews": [1],
        "scheme": "uk",
    }


def test_bulk_categorise_and_undo_walk_back_through_history(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    one, two, three = ids[IMG1], ids[IMG2], ids[IMG3]
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        post(client, csrf, "/api/categorise", {"items": [one], "code": "A"})
        bulk = post(
            client, csrf, "/api/categorise", {"items": [three, one, two, 99999], "code": "B"}
        )
        assert bulk.json()["count"] == 3  # the unknown id is skipped
        assert state(case_dir) == {one: "B", two: "B", three: "B"}
        batches = sql(case_dir, "SELECT count(DISTINCT batch_id) FROM reviews")
        assert batches == [(2,)]

        undone = post(client, csrf, "/api/undo", {}).json()
        assert undone["count"] == 3
        assert undone["items"] == {
            str(one): {"rev": "A", "disagree": False},
            str(two): {"rev": None, "disagree": False},
            str(three): {"rev": None, "disagree": False},
        }
        assert state(case_dir) == {one: "A"}
        assert post(client, csrf, "/api/undo", {}).json()["count"] == 1
        assert state(case_dir) == {}
        assert post(client, csrf, "/api/undo", {}).json() == {
            "batch": None,
            "count": 0,
            "items": {},
        }
    # Nothing was deleted: 4 decisions and 4 undo rows, each undo naming what it reverts.
    rows = sql(case_dir, "SELECT id, item_id, category, undoes FROM reviews ORDER BY id")
    assert [(r[2], r[3]) for r in rows] == [
        ("A", None),
        ("B", None),
        ("B", None),
        ("B", None),
        (None, 2),
        (None, 3),
        (None, 4),
        (None, 1),
    ]
    actions = [a for (a,) in sql(case_dir, "SELECT action FROM audit_log WHERE user = 'rob'")]
    assert actions == ["login", "categorise", "categorise", "undo", "undo"]


def test_undo_only_reverts_your_own_decisions(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    with make_client(case_dir) as rob, make_client(case_dir) as eve:
        rob_csrf, eve_csrf = login(rob, "rob"), login(eve, "eve")
        post(rob, rob_csrf, "/api/categorise", {"items": [ids[IMG1]], "code": "C"})
        assert post(eve, eve_csrf, "/api/undo", {}).json()["count"] == 0
    assert state(case_dir) == {ids[IMG1]: "C"}


def test_unknown_codes_are_refused(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        done = post(client, csrf, "/api/categorise", {"items": [ids[IMG1]], "code": "CAT-1"})
        assert done.status_code == 400
        assert "no category 'CAT-1'" in done.json()["detail"]
    assert sql(case_dir, "SELECT count(*) FROM reviews") == [(0,)]


def test_categorise_a_whole_filter_result(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    downloads = sorted(i for p, i in ids.items() if p.startswith("downloads/"))
    assert len(downloads) == 7
    with make_client(case_dir) as client:
        csrf = login(client, "eve")
        stale = {"filter": {"q": "downloads/"}, "code": "NI", "expected": 6}
        refused = post(client, csrf, "/api/categorise-filter", stale)
        assert refused.status_code == 409
        assert refused.json()["detail"] == "the filter now matches 7 items, not 6"
        assert sql(case_dir, "SELECT count(*) FROM reviews") == [(0,)]
        done = post(client, csrf, "/api/categorise-filter", {**stale, "expected": 7})
        assert done.json()["count"] == 7
    assert state(case_dir) == dict.fromkeys(downloads, "NI")
    assert sql(case_dir, "SELECT count(DISTINCT batch_id) FROM reviews") == [(1,)]


def test_disagreements_with_hash_set_categories_are_flagged(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    add_auto_category(case_dir, ids[IMG1], "A")
    add_auto_category(case_dir, ids[IMG2], None, known_good=True)
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        graded = post(
            client, csrf, "/api/categorise", {"items": [ids[IMG1], ids[IMG2]], "code": "B"}
        )
        assert graded.json()["items"] == {
            str(ids[IMG1]): {"rev": "B", "disagree": True},
            str(ids[IMG2]): {"rev": "B", "disagree": True},  # graded, but hash sets say benign
        }
        grid = client.get("/grid", params={"cat": "disagree"}).text
        assert grid.count('class="tile disagree"') == 2
        agree = post(client, csrf, "/api/categorise", {"items": [ids[IMG1]], "code": "A"})
        assert agree.json()["items"][str(ids[IMG1])]["disagree"] is False
        benign = post(client, csrf, "/api/categorise", {"items": [ids[IMG2]], "code": "NI"})
        assert benign.json()["items"][str(ids[IMG2])]["disagree"] is False


def test_exposure_is_metered_and_a_break_is_offered(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    config = ReviewConfig(break_after_reveals=3, break_after_seconds=3600)
    with make_client(case_dir, config) as client:
        csrf = login(client, "rob")
        answers = [
            post(
                client, csrf, "/api/exposure", {"item": ids[IMG1], "kind": "thumb", "ms": ms}
            ).json()
            for ms in (400, 1200, 900)
        ]
        assert answers == [
            {"reveals": 1, "seconds": 0, "break": False},
            {"reveals": 2, "seconds": 1, "break": False},
            {"reveals": 3, "seconds": 2, "break": True},
        ]
        assert post(client, csrf, "/api/break", {}).json() == {"ok": True}
        after = post(client, csrf, "/api/exposure", {"item": None, "kind": "full", "ms": 10**9})
        assert after.json() == {"reveals": 1, "seconds": 600, "break": False}  # clamped to 10 min
        bad = post(client, csrf, "/api/exposure", {"item": 99999, "kind": "peek", "ms": 1})
        assert bad.status_code == 400
        settings = " ".join(client.get("/settings").text.split())
        assert "4 reveals, 602 seconds revealed (1 and 600 s since your last break)" in settings
    rows = sql(case_dir, "SELECT user, item_id, kind, duration_ms FROM exposure ORDER BY id")
    assert rows == [
        ("rob", ids[IMG1], "thumb", 400),
        ("rob", ids[IMG1], "thumb", 1200),
        ("rob", ids[IMG1], "thumb", 900),
        ("rob", None, "full", 600_000),
    ]
    with make_client(case_dir) as admin:
        login(admin, "ada")
        users = admin.get("/users").text
    assert "<td>rob</td><td>1</td><td>4</td><td>10.0</td>" in users.replace("\n", "")


def test_a_write_behind_another_process_s_long_transaction_is_answered_busy(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_module, "BUSY_TIMEOUT_MS", 200)
    ids = item_ids(case_dir)
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        # Another process's write transaction, as a correlation run's at scale.
        holder = sqlite3.connect(case_dir / "case.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            busy = post(client, csrf, "/api/categorise", {"items": [ids[IMG1]], "code": "A"})
            page = client.get("/leads")  # viewing is audited: a write too
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        done = post(client, csrf, "/api/categorise", {"items": [ids[IMG2]], "code": "B"})
    assert (busy.status_code, busy.json(), busy.headers["retry-after"]) == (
        503,
        {"detail": BUSY},
        "60",
    )
    assert page.status_code == 503 and BUSY in page.text
    assert done.status_code == 200
    assert state(case_dir) == {ids[IMG2]: "B"}  # the busy one recorded nothing
