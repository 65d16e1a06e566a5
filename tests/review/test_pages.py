"""Pages and media: exact counts, filters, keyset paging, escaping, headers, reveals."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from unseen.review.config import ReviewConfig
from unseen.store.case import Case

from .helpers import HOSTILE, add_auto_category, item_ids, login, make_client

TEMPLATES = Path(__file__).parents[2] / "src" / "unseen" / "review" / "templates"
CAMERA = [f"DCIM/100TEST/IMG_{n:04d}.JPG" for n in range(1, 7)]
DOWNLOADS = ["downloads/copy_small.jpg", *(f"downloads/pic_{n:02d}.png" for n in range(7, 12))]
DOWNLOADS.append("downloads/rotated.png")
MISC = [f"misc/{HOSTILE}", "misc/broken.jpg", "misc/clip.mp4"]
MEDIA = CAMERA + DOWNLOADS + MISC  # listing order; misc/notes.txt is not media


def sql(case_dir: Path, statement: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return db.execute(statement, args).fetchall()


def grid_ids(html: str) -> list[int]:
    return [
        int(i)
        for i in re.findall(r'<figure class="tile[^"]*" tabindex="-1" data-id="(\d+)"', html)
    ]


def dashboard_numbers(html: str) -> dict[str, int]:
    return {
        k: int(v) for k, v in re.findall(r'<span class="n" id="n-([a-z]+)">(\d+)</span>', html)
    }


def with_errors(case_dir: Path) -> list[str]:
    """Media with recorded errors: the truncated JPEG, and the stub MP4 where a video
    analyser is installed (it cannot decode it)."""
    rows = sql(
        case_dir, "SELECT DISTINCT i.path FROM items i JOIN item_errors e ON e.item_id = i.id"
    )
    failed = [p for p in MEDIA if (p,) in rows]
    assert failed in (["misc/broken.jpg"], ["misc/broken.jpg", "misc/clip.mp4"])
    return failed


def test_dashboard_counts(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        before = dashboard_numbers(client.get("/").text)
        for path, code in ((CAMERA[0], "A"), (CAMERA[1], "U")):
            client.post(
                "/api/categorise",
                json={"items": [ids[path]], "code": code},
                headers={"X-CSRF-Token": csrf},
            )
        after = dashboard_numbers(client.get("/").text)
    errors = len(with_errors(case_dir))
    base = {"files": 17, "images": 15, "videos": 1, "reviewed": 0, "errors": errors}
    assert before == {**base, "uncategorised": 16, "remaining": 16} | _auto_zero(before)
    # "U" (uncategorised) is a decision but not a category: the item still needs one.
    assert after == {**base, "uncategorised": 15, "remaining": 14, "reviewed": 2} | _auto_zero(
        after
    )


def _auto_zero(numbers: dict[str, int]) -> dict[str, int]:
    """The hash-set cards, present only when the case has hash-set tables."""
    keys = ("known", "ignorable", "unknown", "conflicts", "disagreements")
    return {k: (16 if k == "unknown" else 0) for k in keys if k in numbers}


def test_dashboard_with_hash_set_categories(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    add_auto_category(case_dir, ids[CAMERA[0]], "A")
    add_auto_category(case_dir, ids[CAMERA[1]], None, known_good=True)
    with make_client(case_dir) as client:
        login(client, "eve")
        page = client.get("/").text
        grid = client.get("/grid", params={"cat": "auto:A"}).text
        item = client.get(f"/item/{ids[CAMERA[0]]}").text
    numbers = dashboard_numbers(page)
    assert {k: numbers[k] for k in ("known", "ignorable", "unknown", "uncategorised")} == {
        "known": 2,
        "ignorable": 1,
        "unknown": 14,
        "uncategorised": 14,
    }
    assert grid_ids(grid) == [ids[CAMERA[0]]]
    assert "SET-X v1: md5 entry 17 · hashset:SET-X v1" in item
    matches = re.search(r'<table class="facts" id="matches">(.*?)</table>', item, re.S)
    assert matches
    cells = [" ".join(c.split()) for c in re.findall(r"<td>(.*?)</td>", matches.group(1), re.S)]
    assert cells == ["SET-X v1", "md5", 'A <span class="muted">(uk scheme)</span>', "line 18"]


def test_hostile_file_names_are_escaped_everywhere(case_dir: Path) -> None:
    hostile_id = item_ids(case_dir)[f"misc/{HOSTILE}"]
    escaped = "&lt;img src=x onerror=alert(1)&gt;.png"
    with make_client(case_dir) as client:
        login(client, "ada")
        pages = [client.get(p).text for p in ("/grid", f"/item/{hostile_id}", "/timeline")]
    for html in pages:
        assert escaped in html
        assert "<img src=x" not in html


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"<style|\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name


def test_security_headers(client: TestClient) -> None:
    login(client, "rob")
    page = client.get("/grid")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "default-src 'none'" in csp and "unsafe" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert client.get("/static/js/grid.js").headers["cache-control"] == "private, max-age=3600"


def test_grid_filters(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    source_id = sql(case_dir, "SELECT id FROM sources")[0][0]
    failed = with_errors(case_dir)
    expected = {
        (): MEDIA,
        (("gps", "yes"),): CAMERA[:3],
        (("gps", "no"),): CAMERA[3:] + DOWNLOADS + MISC,
        (("camera", "yes"),): CAMERA,
        (("errors", "yes"),): failed,
        (("q", "pic_1"),): ["downloads/pic_10.png", "downloads/pic_11.png"],
        (("q", "%"),): [],  # LIKE wildcards are matched literally
        (("source", str(source_id)),): MEDIA,
        (("source", "999"),): [],
        (("cat", "rev:none"),): MEDIA,
        (("cat", "rev:A"),): [],
        (("tfrom", "2024-05-02"), ("tto", "2024-05-04")): CAMERA[1:3],
        (("cat", "none"), ("camera", "yes"), ("gps", "no")): CAMERA[3:],
    }
    with make_client(case_dir) as client:
        login(client, "ron")
        for params, paths in expected.items():
            html = client.get("/grid", params=dict(params)).text
            assert grid_ids(html) == [ids[p] for p in paths], params
            assert f"{len(paths)} item{'' if len(paths) == 1 else 's'} match" in html


def test_deleted_filter(case_dir: Path) -> None:
    with sqlite3.connect(case_dir / "case.db") as db:
        if "deleted" not in {row[1] for row in db.execute("PRAGMA table_info(items)")}:
            pytest.skip("this tree has no items.deleted column (disk images) yet")
        db.execute("UPDATE items SET deleted = 1 WHERE path = ?", (CAMERA[3],))
    ids = item_ids(case_dir)
    with make_client(case_dir) as client:
        login(client, "ron")
        assert grid_ids(client.get("/grid?deleted=yes").text) == [ids[CAMERA[3]]]
        rest = [ids[p] for p in MEDIA if p != CAMERA[3]]
        assert grid_ids(client.get("/grid?deleted=no").text) == rest


def test_keyset_paging_visits_every_item_once(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    config = ReviewConfig(page_size=5)
    for sort, order in (
        ("id", MEDIA),
        ("path", sorted(MEDIA)),
    ):
        with make_client(case_dir, config) as client:
            login(client, "ron")
            seen, pages, url = [], [], f"/grid?sort={sort}"
            while url:
                html = client.get(url).text
                pages.append(grid_ids(html))
                seen += pages[-1]
                nxt = re.search(r'id="next-page" href="([^"]+)"', html)
                url = nxt.group(1).replace("&amp;", "&") if nxt else ""
            assert seen == [ids[p] for p in order], sort
            assert [len(p) for p in pages] == [5, 5, 5, 1]
            back = re.search(r'id="prev-page" href="([^"]+)"', html)
            assert back
            assert grid_ids(client.get(back.group(1).replace("&amp;", "&")).text) == pages[2]
            assert grid_ids(client.get("/grid?after=not-a-cursor").text) == pages[0]


def test_grid_time_sort(client: TestClient, case_dir: Path) -> None:
    ids = item_ids(case_dir)
    login(client, "ron")
    order = grid_ids(client.get("/grid", params={"sort": "time"}).text)
    # Camera times (2024) first, then the rest by file time (all equal here) and id.
    assert order[:6] == [ids[p] for p in CAMERA]
    assert sorted(order[6:]) == order[6:]


def test_item_page(client: TestClient, case_dir: Path) -> None:
    ids = item_ids(case_dir)
    login(client, "eve")
    first = client.get(f"/item/{ids[CAMERA[0]]}").text
    assert "TestCam" in first and "Model X100" in first and "2024-05-01T11:00:00" in first
    assert "53.799700, -1.549200" in first
    similar = re.findall(r'data-href="/item/(\d+)"', first.split("Similar images")[1])
    assert ids["downloads/copy_small.jpg"] in [int(i) for i in similar]
    second = client.get(f"/item/{ids[CAMERA[1]]}").text
    near = [
        int(i) for i in re.findall(r'data-href="/item/(\d+)"', second.split("Similar images")[1])
    ]
    assert ids["downloads/rotated.png"] in near  # found through the dihedral hashes
    broken = client.get(f"/item/{ids['misc/broken.jpg']}").text
    assert re.search(r'<table class="facts" id="errors">\s*<tr><th>image</th>', broken)
    assert client.get("/item/99999").status_code == 404


def test_thumbnails_are_served_by_item_id_only(client: TestClient, case_dir: Path) -> None:
    ids = item_ids(case_dir)
    login(client, "ron")
    thumb = client.get(f"/thumb/{ids[CAMERA[0]]}")
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["x-content-type-options"] == "nosniff"
    assert thumb.headers["content-disposition"] == f'inline; filename="thumb-{ids[CAMERA[0]]}.jpg"'
    assert thumb.content[:2] == b"\xff\xd8"
    assert client.get(f"/thumb/{ids['misc/notes.txt']}").status_code == 404
    # A recorded path that leaves thumbs/ is never followed.
    sql(case_dir, "UPDATE images SET thumbnail = '../case.db' WHERE item_id = ?", ids[CAMERA[0]])
    assert client.get(f"/thumb/{ids[CAMERA[0]]}").status_code == 404


def test_full_media_only_through_an_audited_reveal(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    image, video = ids[CAMERA[2]], ids["misc/clip.mp4"]
    evidence = Path(sql(case_dir, "SELECT path FROM sources")[0][0])
    with make_client(case_dir) as client, make_client(case_dir) as other:
        csrf = login(client, "rob")
        other_csrf = login(other, "eve")
        assert client.get(f"/media/{image}").status_code == 403
        reveal = client.post(f"/api/reveal/{image}", headers={"X-CSRF-Token": csrf}).json()
        assert reveal["kind"] == "image" and reveal["mime"] == "image/jpeg"
        full = client.get(reveal["url"])
        assert full.status_code == 200
        assert full.content == (evidence / CAMERA[2]).read_bytes()
        assert full.headers["content-disposition"] == f'inline; filename="item-{image}.jpg"'
        assert full.headers["x-content-type-options"] == "nosniff"
        assert full.headers["cache-control"] == "no-store"
        assert other.get(reveal["url"]).status_code == 403  # another session's token
        assert (
            client.get(reveal["url"].replace(f"/media/{image}", f"/media/{video}")).status_code
            == 403
        )
        clip = client.post(f"/api/reveal/{video}", headers={"X-CSRF-Token": csrf}).json()
        assert clip["kind"] == "video"
        part = client.get(clip["url"], headers={"Range": "bytes=4-11"})
        assert part.status_code == 206
        assert part.content == b"ftypmp42"
        size = (evidence / "misc/clip.mp4").stat().st_size
        assert part.headers["content-range"] == f"bytes 4-11/{size}"
        assert (
            other.post(f"/api/reveal/{99999}", headers={"X-CSRF-Token": other_csrf}).status_code
            == 404
        )
    rows = sql(case_dir, "SELECT user, action, target FROM audit_log WHERE action = 'reveal'")
    assert rows == [("rob", "reveal", f"item {image}"), ("rob", "reveal", f"item {video}")]


def test_map_points_and_timeline(client: TestClient, case_dir: Path) -> None:
    ids = item_ids(case_dir)
    login(client, "ron")
    points = client.get("/api/map-points").json()["points"]
    assert [(p[0], round(p[1], 4), round(p[2], 4), p[3]) for p in points] == [
        (ids[CAMERA[0]], 53.7997, -1.5492, None),
        (ids[CAMERA[1]], 53.7997, -1.5492, None),
        (ids[CAMERA[2]], 47.3769, 8.5417, None),
    ]
    page = client.get("/timeline").text
    assert "2024-05" in page
    listed = client.get("/timeline", params={"tfrom": "2024-05", "tto": "2024-06"}).text
    rows = re.findall(r'<a href="/item/(\d+)" class="mono">', listed)
    assert [int(r) for r in rows] == [ids[p] for p in CAMERA]


def test_a_cluster_is_reviewed_in_the_grid(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    case = Case.open(case_dir)
    case.close()  # migrated to head: the cluster tables exist
    with sqlite3.connect(case_dir / "case.db") as db:
        cluster = db.execute(
            "INSERT INTO clusters (kind, key, label, confidence, size, details) "
            "VALUES ('scene', 'test-key', 'test scene <b>', 0.9, 2, '{}')"
        ).lastrowid
        for path in (CAMERA[4], DOWNLOADS[2]):
            db.execute(
                "INSERT INTO cluster_members (cluster_id, item_id, reason, score) "
                "VALUES (?, ?, 'same scene', 1.0)",
                (cluster, ids[path]),
            )
    with make_client(case_dir) as client:
        login(client, "ron")
        assert "test scene &lt;b&gt;" in client.get("/clusters").text
        jump = client.get(f"/clusters/{cluster}")
        assert jump.headers["location"] == f"/grid?cluster={cluster}"
        html = client.get(jump.headers["location"]).text
        assert grid_ids(html) == [ids[CAMERA[4]], ids[DOWNLOADS[2]]]
        assert "Apply to all 2 matching (whole cluster)" not in html  # read-only may not


def test_the_timeline_has_a_lane_per_camera_with_known_and_unknown(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        done = client.post(
            "/api/categorise",
            json={"items": [ids[CAMERA[0]]], "code": "A"},
            headers={"X-CSRF-Token": csrf},
        )
        assert done.status_code == 200
        page = client.get("/timeline").text
    lanes = re.findall(r'<svg class="lane" data-camera="([^"]+)"', page)
    assert lanes[0] == "TestCam Model X100" and lanes[-1] == "no camera in EXIF"
    assert len(lanes) == 2
    assert "TestCam Model X100, 2024-05: 1 known, 5 unknown" in page


def test_videos_are_on_the_map_and_an_area_filters_the_grid(case_dir: Path) -> None:
    """A video's GPS (from its container) is a map point like a picture's; the map's
    view sent as ``area=south,west,north,east`` lists exactly the items inside it."""
    ids = item_ids(case_dir)
    clip = ids["misc/clip.mp4"]
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute("DELETE FROM videos WHERE item_id = ?", (clip,))
        db.execute(
            "INSERT INTO videos (item_id, gps_lat, gps_lon) VALUES (?, 53.80, -1.55)", (clip,)
        )
    with make_client(case_dir) as client:
        login(client, "ron")
        points = client.get("/api/map-points").json()["points"]
        assert [(p[0], p[4]) for p in points] == [
            (ids[CAMERA[0]], "picture"),
            (ids[CAMERA[1]], "picture"),
            (ids[CAMERA[2]], "picture"),
            (clip, "video"),
        ]
        leeds = client.get("/grid", params={"area": "53.7,-1.7,53.9,-1.4"}).text
        shown = {int(i) for i in re.findall(r'data-id="(\d+)" data-href', leeds)}
        assert shown == {ids[CAMERA[0]], ids[CAMERA[1]], clip}
        zurich = client.get("/grid", params={"area": "47.3,8.4,47.5,8.6"}).text
        assert {int(i) for i in re.findall(r'data-id="(\d+)" data-href', zurich)} == {
            ids[CAMERA[2]]
        }
        across = client.get("/grid", params={"area": "40,170,60,10"}).text  # antimeridian
        assert {int(i) for i in re.findall(r'data-id="(\d+)" data-href', across)} == {
            ids[CAMERA[0]],
            ids[CAMERA[1]],
            ids[CAMERA[2]],
            clip,
        }
        assert 'data-id="' not in client.get("/grid", params={"area": "nonsense"}).text
        assert 'id="map-to-grid"' in client.get("/map").text
