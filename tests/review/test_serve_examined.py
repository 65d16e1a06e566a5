"""The server serves only what was examined: no links followed, size and hash checked.

The attack: after processing, a sub-folder of the source was swapped for a symbolic
link, and the server sent whatever the link pointed to (``/etc/shadow`` as a JPEG).
Each test works on its own copy of the evidence, re-pointed in a copy of the case.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from unseen.review.evidence import Mismatch, open_no_follow

from .helpers import item_ids, login, make_client

JPG = "DCIM/100TEST/IMG_0001.JPG"
LINKED = (
    "not served: the source changed since processing: a component of the path is now a "
    "symbolic link or not a folder"
)


@pytest.fixture
def evidence(case_dir: Path, pristine_case: Path, tmp_path: Path) -> Path:
    """A private copy of the evidence, which the case copy now points at."""
    copy = tmp_path / "evidence"
    shutil.copytree(pristine_case.parent / "evidence", copy, symlinks=True)
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute("UPDATE sources SET path = ?", (str(copy),))
    return copy


def refusals(case_dir: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        rows = db.execute(
            "SELECT user, target, details FROM audit_log WHERE action = 'serve_refused' "
            "ORDER BY id"
        ).fetchall()
    return [(user, target, json.loads(details)["reason"]) for user, target, details in rows]


def fetch(client: TestClient, csrf: str, item_id: int) -> tuple[int, str]:
    grant = client.post(f"/api/reveal/{item_id}", headers={"X-CSRF-Token": csrf})
    response = client.get(grant.json()["url"])
    detail = response.json()["detail"] if response.status_code != 200 else ""
    return response.status_code, detail


def test_untouched_evidence_is_served(case_dir: Path, evidence: Path) -> None:
    ids = item_ids(case_dir)
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        assert fetch(client, csrf, ids[JPG]) == (200, "")
        assert fetch(client, csrf, ids["misc/clip.mp4"]) == (200, "")
    assert refusals(case_dir) == []


def test_a_folder_swapped_for_a_link_is_refused_and_audited(
    case_dir: Path, evidence: Path, tmp_path: Path
) -> None:
    ids = item_ids(case_dir)
    outside = tmp_path / "outside" / "100TEST"
    outside.mkdir(parents=True)
    (outside / "IMG_0001.JPG").write_bytes(b"secret: not evidence")
    shutil.rmtree(evidence / "DCIM" / "100TEST")
    (evidence / "DCIM" / "100TEST").symlink_to(outside)
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        assert fetch(client, csrf, ids[JPG]) == (409, LINKED)
    assert refusals(case_dir) == [("rob", f"item {ids[JPG]}", LINKED[len("not served: ") :])]


def test_a_file_swapped_for_a_link_is_refused(case_dir: Path, evidence: Path) -> None:
    ids = item_ids(case_dir)
    target = evidence / "misc" / "clip.mp4"
    target.unlink()
    target.symlink_to("/etc/passwd")
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        assert fetch(client, csrf, ids["misc/clip.mp4"]) == (409, LINKED)
    assert len(refusals(case_dir)) == 1


def test_changed_bytes_are_refused_for_pictures_and_videos(case_dir: Path, evidence: Path) -> None:
    ids = item_ids(case_dir)
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        assert fetch(client, csrf, ids["misc/clip.mp4"]) == (200, "")  # verified once
        for rel in (JPG, "misc/clip.mp4"):
            path = evidence / rel
            data = bytearray(path.read_bytes())
            data[-1] ^= 0xFF  # same size, other content
            path.write_bytes(bytes(data))
        changed = "the item's content differs from the SHA-256 recorded when examined"
        assert fetch(client, csrf, ids[JPG]) == (409, f"not served: {changed}")
        assert fetch(client, csrf, ids["misc/clip.mp4"]) == (409, f"not served: {changed}")
        (evidence / JPG).write_bytes(b"short")
        shrunk = f"the item is now 5 bytes; {item_size(case_dir, ids[JPG])} were examined"
        assert fetch(client, csrf, ids[JPG]) == (409, f"not served: {shrunk}")
    jpg, mp4 = f"item {ids[JPG]}", f"item {ids['misc/clip.mp4']}"
    assert refusals(case_dir) == [
        ("rob", jpg, changed),
        ("rob", mp4, changed),
        ("rob", jpg, shrunk),
    ]


def item_size(case_dir: Path, item_id: int) -> int:
    with sqlite3.connect(case_dir / "case.db") as db:
        (size,) = db.execute("SELECT size FROM items WHERE id = ?", (item_id,)).fetchone()
    return int(size)


def test_open_no_follow_refuses_links_and_relative_components(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with open_no_follow(bytes(tmp_path), b"real/f") as stream:
        assert stream.read() == b"x"
    for rel in (b"link/f", b"real/../real/f", b"real//f"):
        with pytest.raises(Mismatch):
            open_no_follow(bytes(tmp_path), rel)
