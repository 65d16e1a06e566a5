"""Thumbnails are blurred and greyscale on the server; the clear one needs an audited,
metered, short-lived grant; viewing leads and searching are audited.

The attack: any session (read-only included) could fetch every clear thumbnail with
a script, unmetered and unaudited, because the blur was CSS only.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image

from unseen.review.config import ReviewConfig
from unseen.review.thumbs import blurred

from .helpers import item_ids, login, make_client

A, B, C = "DCIM/100TEST/IMG_0001.JPG", "DCIM/100TEST/IMG_0002.JPG", "downloads/pic_07.png"


def audit_rows(case_dir: Path, action: str) -> list[tuple[str, str, dict[str, object]]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        rows = db.execute(
            "SELECT user, target, details FROM audit_log WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    return [(user, target, json.loads(details)) for user, target, details in rows]


def thumb_file(case_dir: Path, item_id: int) -> Path:
    with sqlite3.connect(case_dir / "case.db") as db:
        (rel,) = db.execute(
            "SELECT thumbnail FROM images WHERE item_id = ?", (item_id,)
        ).fetchone()
    return case_dir / "thumbs" / rel


def reveal(client: TestClient, csrf: str, items: list[int]) -> Response:
    return client.post("/api/reveal-thumbs", json={"items": items}, headers={"X-CSRF-Token": csrf})


def test_thumbnails_leave_the_server_blurred_and_greyscale(
    client: TestClient, case_dir: Path
) -> None:
    ids = item_ids(case_dir)
    login(client, "ron")
    response = client.get(f"/thumb/{ids[A]}")
    assert response.status_code == 200
    clear = thumb_file(case_dir, ids[A])
    assert response.content != clear.read_bytes()
    assert response.content == blurred(clear, ReviewConfig().thumb_blur_radius)
    with Image.open(io.BytesIO(response.content)) as img, Image.open(clear) as original:
        assert (img.format, img.mode, img.size) == ("JPEG", "L", original.size)
    assert client.get(f"/thumb/{ids[A]}?t=made-up").status_code == 403
    assert audit_rows(case_dir, "reveal_thumbs") == []


def test_a_clear_thumbnail_needs_an_audited_grant_for_that_item_and_session(
    client: TestClient, case_dir: Path
) -> None:
    ids = item_ids(case_dir)
    csrf = login(client, "ron")  # read-only goes through the same gate
    answer = reveal(client, csrf, [ids[B], ids[A], ids[A]])
    assert answer.status_code == 200
    token = answer.json()["token"]
    assert answer.json()["expires_s"] == 20
    for path in (A, B):
        got = client.get(f"/thumb/{ids[path]}?t={token}")
        assert got.content == thumb_file(case_dir, ids[path]).read_bytes()
    assert client.get(f"/thumb/{ids[C]}?t={token}").status_code == 403  # not in the grant
    rows = audit_rows(case_dir, "reveal_thumbs")
    assert len(rows) == 1  # one row for the batch, none per picture fetched
    user, target, details = rows[0]
    assert (user, target, details["items"]) == ("ron", "2 thumbnails", sorted([ids[A], ids[B]]))
    with make_client(case_dir) as other:
        login(other, "rob")
        assert other.get(f"/thumb/{ids[A]}?t={token}").status_code == 403  # another session


def test_reveals_are_metered_per_session_and_grants_expire(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    config = ReviewConfig(thumb_reveals_per_minute=3, thumb_token_s=0)
    with make_client(case_dir, config) as client:
        csrf = login(client, "rob")
        first = reveal(client, csrf, [ids[A], ids[B]])
        assert first.status_code == 200
        token = first.json()["token"]
        assert client.get(f"/thumb/{ids[A]}?t={token}").status_code == 403  # expired
        over = reveal(client, csrf, [ids[C], ids[A]])
        assert over.status_code == 429
        assert over.json() == {"detail": "more than 3 thumbnails revealed in a minute"}
        assert reveal(client, csrf, [ids[C]]).status_code == 200
    assert [r[1] for r in audit_rows(case_dir, "reveal_thumbs")] == ["2 thumbnails", "1 thumbnail"]


def test_a_reveal_batch_is_bounded_and_anonymous_users_get_nothing(
    client: TestClient, case_dir: Path
) -> None:
    ids = item_ids(case_dir)
    assert client.get(f"/thumb/{ids[A]}").status_code == 401
    csrf = login(client, "eve")
    assert reveal(client, csrf, list(range(1, 26))).status_code == 422
    assert reveal(client, csrf, []).status_code == 422


def test_viewing_leads_and_searching_are_audited(client: TestClient, case_dir: Path) -> None:
    login(client, "ron")
    assert client.get("/leads").status_code == 200
    assert client.get("/grid").status_code == 200  # browsing is not a search
    assert client.get("/grid?q=IMG_000").status_code == 200
    leads = audit_rows(case_dir, "view_leads")
    assert [(u, t) for u, t, _ in leads] == [("ron", "leads")]
    assert audit_rows(case_dir, "search") == [
        ("ron", "IMG_000", {"filter": {"q": "IMG_000"}, "matches": 6})
    ]
