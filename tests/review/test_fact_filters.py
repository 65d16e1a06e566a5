"""A grid filter for every fact the case records: each returns exactly the items the
test planted the fact on (rows written as the stages would write them)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from .helpers import item_ids, login, make_client

IMG = "DCIM/100TEST/IMG_000{}.JPG"


@pytest.fixture
def planted(case_dir: Path) -> dict[str, int]:
    ids = item_ids(case_dir)
    img = {n: ids[IMG.format(n)] for n in range(1, 7)}
    with sqlite3.connect(case_dir / "case.db") as db:
        already = [r[0] for r in db.execute("SELECT id FROM items WHERE extension_mismatch")]
        assert [p for p, i in ids.items() if i in already] == [
            "downloads/copy_small.jpg"
        ]  # the evidence's own PNG named .jpg
        db.execute("UPDATE items SET extension_mismatch = 1 WHERE id = ?", (img[1],))
        db.execute("UPDATE items SET carved = 1 WHERE id = ?", (img[2],))
        db.execute(
            "INSERT INTO faces (item_id, x, y, w, h, score, embedding, model) "
            "VALUES (?, 1, 2, 30, 30, 0.9, zeroblob(512), 'test')",
            (img[3],),
        )
        db.execute(
            "INSERT INTO ocr_text (item_id, text, confidence, words, lang) "
            "VALUES (?, 'HOTEL Bellevue 100%_sure', 91.0, '[]', 'eng')",
            (img[4],),
        )
        db.execute("UPDATE exif SET serial = '183012345678' WHERE item_id = ?", (img[5],))
        artefact = db.execute(
            "INSERT INTO artefacts (item_id, parser, parser_version, type, record_ref, data) "
            "VALUES (?, 'bittorrent', '1', 'p2p.torrent', 'resume.dat', '{}')",
            (img[6],),
        ).lastrowid
        db.execute(
            "INSERT INTO artefact_links (artefact_id, item_id, method, detail) "
            "VALUES (?, ?, 'btih piece', 'piece 0')",
            (artefact, img[6]),
        )
    return {f"img{n}": i for n, i in img.items()} | {"renamed": already[0]}


def shown(client: object, query: str) -> set[int]:
    ids: set[int] = set()
    cursor = ""
    for _ in range(20):
        page = client.get(f"/grid?{query}{cursor}").text  # type: ignore[attr-defined]
        ids |= {int(i) for i in re.findall(r'data-id="(\d+)" data-href', page)}
        found = re.search(r'href="/grid\?[^"]*after=([^"&]+)', page)
        if not found:
            return ids
        cursor = f"&after={found.group(1)}"
    return ids


def test_each_fact_filter_returns_exactly_the_planted_items(
    case_dir: Path, planted: dict[str, int]
) -> None:
    with make_client(case_dir) as client:
        login(client, "rob")
        everything = shown(client, "")
        assert shown(client, "mismatch=yes") == {planted["img1"], planted["renamed"]}
        assert shown(client, "carved=yes") == {planted["img2"]}
        assert shown(client, "faces=yes") == {planted["img3"]}
        assert shown(client, "text=bellevue") == {planted["img4"]}
        assert shown(client, "text=100%25_") == {planted["img4"]}  # % and _ are literal
        assert shown(client, "text=100_") == set()
        assert shown(client, "serial=183012345678") == {planted["img5"]}
        assert shown(client, "linked=yes") == {planted["img6"]}
        assert shown(client, "faces=no") == everything - {planted["img3"]}
        # Filters combine.
        assert shown(client, "faces=yes&mismatch=yes") == set()


def cluster(db: sqlite3.Connection, kind: str, label: str, members: list[int]) -> None:
    """A cluster as the correlation stage writes it."""
    cid = db.execute(
        "INSERT INTO clusters (kind, key, label, confidence, size, details) "
        "VALUES (?, ?, ?, 1.0, ?, '{}')",
        (kind, f"{kind}:{label}", label, len(members)),
    ).lastrowid
    db.executemany(
        "INSERT INTO cluster_members (cluster_id, item_id, reason, score)"
        " VALUES (?, ?, 'test', 1)",
        [(cid, m) for m in members],
    )


def test_place_identity_session_and_stage_filters(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    img = {n: ids[IMG.format(n)] for n in range(1, 7)}
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute("DELETE FROM cluster_members")
        db.execute("DELETE FROM clusters")
        cluster(db, "place", "Leeds, England, GB", [img[1], img[2]])
        cluster(db, "place", "Bradford, England, GB", [img[3]])
        cluster(db, "identity", "person 1 (3 pictures)", [img[2], img[4]])
        cluster(db, "session", "Canon EOS 80D, 12 pictures", [img[5]])
        db.execute("DELETE FROM item_errors")
        db.execute("DELETE FROM artefact_errors")
        db.execute(
            "INSERT INTO item_errors (item_id, analyser, message) VALUES (?, 'exif', 'bad IFD')",
            (img[6],),
        )
        db.execute(
            "INSERT INTO artefact_errors (item_id, parser, message) "
            "VALUES (?, 'chromium_history', 'not a database')",
            (img[1],),
        )
    with make_client(case_dir) as client:
        login(client, "rob")
        assert shown(client, "place=leeds") == {img[1], img[2]}
        assert shown(client, "place=England") == {img[1], img[2], img[3]}
        assert shown(client, "place=%25") == set()  # a literal %, not a wildcard
        assert shown(client, "identity=yes") == {img[2], img[4]}
        assert shown(client, "session=yes") == {img[5]}
        assert shown(client, "stage=exif") == {img[6]}
        assert shown(client, "stage=chromium_history&errors=yes") == {img[1]}
        assert shown(client, "place=leeds&identity=yes") == {img[2]}


def test_a_filter_result_exports_from_the_grid_and_the_command_line(
    case_dir: Path, planted: dict[str, int], unseen_exe: Path
) -> None:
    """What a filter shows exports as the records ``unseen export`` writes, for those
    items only, from the grid (examiners) and with ``--where``; both are audited."""
    import json
    import subprocess

    paths = {i: p for p, i in item_ids(case_dir).items()}
    want = sorted(paths[planted[k]] for k in ("img1", "renamed"))  # named as another type
    with make_client(case_dir) as client:
        login(client, "rob")
        assert "export-jsonl" not in client.get("/grid?mismatch=yes").text  # a reviewer
        assert client.get("/export?mismatch=yes").status_code == 403
    with make_client(case_dir) as client:
        login(client, "eve")
        page = client.get("/grid?mismatch=yes").text
        assert 'href="/export?mismatch=yes&amp;fmt=jsonl"' in page
        done = client.get("/export?mismatch=yes&fmt=jsonl")
        assert done.status_code == 200
        assert done.headers["content-type"] == "application/x-ndjson"
        records = [json.loads(line) for line in done.text.splitlines()]
        assert sorted(r["path"] for r in records) == want
        assert all(r["extension_mismatch"] is True for r in records)
        csv_rows = client.get("/export?mismatch=yes&fmt=csv").text.splitlines()
        assert csv_rows[0].startswith("path,source,kind,") and len(csv_rows) == 3
    cli = subprocess.run(
        [str(unseen_exe), "export", str(case_dir), "--where", "mismatch=yes"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert sorted(json.loads(line)["path"] for line in cli.stdout.splitlines()) == want
    wrong = subprocess.run(
        [str(unseen_exe), "export", str(case_dir), "--where", "mismatches=yes"],
        capture_output=True,
        text=True,
    )
    assert wrong.returncode == 2 and "no filter named 'mismatches'" in wrong.stderr
    with sqlite3.connect(case_dir / "case.db") as db:
        audited = db.execute(
            "SELECT user, details FROM audit_log WHERE action = 'export' ORDER BY id"
        ).fetchall()
    assert [a for a, _ in audited][:2] == ["eve", "eve"]
    assert json.loads(audited[0][1])["where"] == {"mismatch": "yes"}
    assert json.loads(audited[-1][1])["where"] == "mismatch=yes"
