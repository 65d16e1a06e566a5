"""Scale benchmark: whole-case steps and review pages on generated 100k- and 1M-item cases.

No media is needed: the case store is written directly, with the distributions a
seized phone-and-camera collection shows (a few hundred cameras, most pictures from a
few of them, shot in sessions; GPS on a third of the camera pictures around a few
dozen towns; near-duplicates and exact copies; downloads without EXIF; faces of a
few thousand people in some of the pictures; some documents). Then, for each size and
each in a fresh Python process (so that its peak RSS is its own):

* correlation: the ``correlate`` stage (groupings, first-generation indicators, lead
  ranking, storing them);
* export: ``unseen export --format jsonl``;
* pages: the review server in-process (no network), logged in as an admin: the
  dashboard, a grid page, the next grid page, an item page, the clusters and the
  leads pages, and categorising one picture (which re-scores the leads around it);
  the first request of each and the median of three more.

Prints seconds and peak RSS per step and size, the growth exponent between the two
sizes (log of the time ratio over log of the size ratio; the goal is <= 1.2), every
page against 0.5 s at the largest size, and peak RSS against 4 GB. Always exits 0: a
benchmark, not a test.

Usage: ``.venv/bin/python benchmarks/scale.py [--sizes 100000,1000000] [--dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

GROWTH_GOAL = 1.2
PAGE_GOAL_S = 0.5
RSS_GOAL_MB = 4096
PASSWORD = "scale benchmark password"
PAGES = ("dashboard", "grid", "grid next", "item", "clusters", "leads", "categorise")
CHUNK = 50_000


def build(root: Path, items: int) -> Path:
    """A fresh copy of the generated case of ``items`` items (generated once, kept)."""
    pristine, case_dir = root / f"case-{items}-pristine", root / f"case-{items}"
    if not (pristine / "built").exists():
        shutil.rmtree(pristine, ignore_errors=True)
        _build(root, pristine, items)
    shutil.rmtree(case_dir, ignore_errors=True)  # every run starts from the same case
    shutil.copytree(pristine, case_dir)
    return case_dir


def _build(root: Path, case_dir: Path, items: int) -> None:
    from unseen.review import auth
    from unseen.store import repo
    from unseen.store.case import Case

    evidence = root / "evidence"
    evidence.mkdir(parents=True, exist_ok=True)
    case = Case.create(case_dir, name=f"SCALE-{items}")
    source_id = repo.add_source(case, "folder", str(evidence), "EV", "bench").id
    auth.create_account(case, "cli:bench", "admin", "admin", PASSWORD, "bench")
    case.close()
    db = sqlite3.connect(case_dir / "case.db")
    rng = np.random.default_rng(items)
    with db:
        for start in range(0, items, CHUNK):
            _write_chunk(db, rng, source_id, start, min(CHUNK, items - start))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    (case_dir / "built").touch()


def _write_chunk(
    db: sqlite3.Connection, rng: np.random.Generator, source_id: int, start: int, n: int
) -> None:
    ids = np.arange(start + 1, start + n + 1)
    cameras = np.minimum(rng.zipf(1.6, n), 300) - 1  # a few cameras take most pictures
    has_camera = rng.random(n) < 0.75
    document = rng.random(n) < 0.05
    picture = ~document
    # Sessions: pictures of one camera come in bursts of about 20 within an hour.
    session = ids // 20
    when = 1.42e9 + (session * 7919 % 300_000) * 1000.0 + rng.integers(0, 3600, n)
    sha = [f"{x:064x}" for x in rng.integers(0, 2**62, n)]
    for k in np.nonzero(rng.random(n) < 0.02)[0]:  # exact copies of an earlier item
        if k:
            sha[k] = sha[int(rng.integers(0, k))]
    rows_items = []
    for k, item in enumerate(ids):
        if document[k]:
            path, mime = f"Documents/file_{item:07d}.pdf", "application/pdf"
        elif has_camera[k]:
            path, mime = f"DCIM/{cameras[k]:03d}CAM/IMG_{item:07d}.JPG", "image/jpeg"
        else:
            path, mime = f"Downloads/img_{item:07d}.jpg", "image/jpeg"
        rows_items.append(
            (int(item), source_id, path, path.encode(), "file", int(rng.integers(50_000, 6e6)),
             float(when[k]), "done", "fast", sha[k][:32], sha[k][:40], sha[k], mime)
        )  # fmt: skip
    db.executemany(
        "INSERT INTO items (id, source_id, path, locator, kind, size, mtime, status, "
        "analysers, md5, sha1, sha256, mime, deleted, carved) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
        rows_items,
    )
    pdq = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    for k in np.nonzero(rng.random(n) < 0.03)[0]:  # near-duplicates: a few bits apart
        if k:
            pdq[k] = pdq[int(rng.integers(0, k))]
            pdq[k, rng.integers(0, 32, 3)] ^= rng.integers(1, 8, 3).astype(np.uint8)
    db.executemany(
        "INSERT INTO images (item_id, format, mode, width, height, frames, pdq, pdq_quality) "
        "VALUES (?, 'JPEG', 'RGB', 4000, 3000, 1, ?, 90)",
        [(int(ids[k]), pdq[k].tobytes().hex()) for k in np.nonzero(picture)[0]],
    )
    towns = np.random.default_rng(0).uniform([36.0, -9.0], [60.0, 25.0], (40, 2))
    exif = []
    for k in np.nonzero(picture & has_camera)[0]:
        cam = int(cameras[k])
        gps = towns[cam % 40] + rng.normal(0, 0.01, 2) if rng.random() < 0.33 else (None, None)
        stamp = time.strftime("%Y:%m:%d %H:%M:%S", time.gmtime(float(when[k])))
        serial = f"SN{cam:06d}" if cam % 5 else None
        make = ("Canon", "Nikon", "Apple", "Samsung", "Sony", "Google")[cam % 6]
        exif.append((int(ids[k]), make, f"{make} M{cam}", serial, stamp, *map(_opt, gps), 1))
    db.executemany(
        "INSERT INTO exif (item_id, make, model, serial, datetime_original, gps_lat, gps_lon, "
        "orientation, thumbnail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        exif,
    )
    people = np.random.default_rng(1).normal(0.0, 0.1, (max(10, (start + n) // 500), 128))
    faces = []
    for k in np.nonzero(picture & (rng.random(n) < 0.04))[0]:
        who = people[int(rng.integers(0, len(people)))]
        vector = (who + rng.normal(0.0, 0.018, 128)).astype(np.float32)
        faces.append((int(ids[k]), 100, 100, 80, 80, 1.0, vector.tobytes(), "bench"))
    db.executemany(
        "INSERT INTO faces (item_id, x, y, w, h, score, embedding, model) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        faces,
    )


def _opt(value: float | None) -> float | None:
    return None if value is None else float(value)


def step(name: str, case_dir: Path) -> dict[str, object]:
    """Run one step in a fresh process; its seconds (or pages) and peak RSS in MB."""
    out = subprocess.run(
        [sys.executable, __file__, "--step", name, "--case", str(case_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_step(name: str, case_dir: Path) -> dict[str, object]:
    os.environ["UNSEEN_LOAD_PLUGINS"] = "0"
    from unseen import plugins

    plugins.load()  # the built-in groupings, signals and hooks, as `unseen process` loads them
    started = time.perf_counter()
    result: dict[str, object] = {}
    if name == "correlation":
        from unseen.core.settings import Settings
        from unseen.correlation.stage import CorrelationStage
        from unseen.store.case import Case

        case = Case.open(case_dir)
        result["said"] = CorrelationStage().run(case, Settings.from_case(case_dir), 0)
        case.close()
    elif name == "export":
        target = Path(tempfile.mkdtemp()) / "items.jsonl"
        exe = Path(sys.executable).with_name("unseen")
        subprocess.run(
            [str(exe), "export", str(case_dir), "--format", "jsonl", "-o", str(target)],
            check=True,
            capture_output=True,
        )
        result["lines"] = sum(1 for _ in target.open("rb"))
        target.unlink()
    elif name == "pages":
        result["pages"] = _pages(case_dir)
    result["seconds"] = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["rss_mb"] = max(own, children) / 1024
    return result


def _pages(case_dir: Path) -> dict[str, list[float]]:
    from fastapi.testclient import TestClient

    from unseen.review.app import create_app
    from unseen.store.case import Case

    times: dict[str, list[float]] = {}
    with TestClient(create_app(Case.open(case_dir)), base_url="https://bench") as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token
        data = {"name": "admin", "password": PASSWORD, "csrf": token.group(1), "next": "/"}
        client.post("/login", data=data, follow_redirects=False)
        grid = client.get("/grid").text
        after = re.search(r"after=([^\"&]+)", grid)
        # A picture of the busiest camera: its decision touches the most leads.
        with sqlite3.connect(case_dir / "case.db") as db:
            busiest = "SELECT min(id) FROM items WHERE path LIKE 'DCIM/000CAM/%'"
            item = str(db.execute(busiest).fetchone()[0])
        urls = {
            "dashboard": "/",
            "grid": "/grid",
            "grid next": f"/grid?after={after.group(1)}" if after else "/grid",
            "item": f"/item/{item}",
            "clusters": "/clusters",
            "leads": "/leads",
        }
        for name, url in urls.items():
            times[name] = []
            for _ in range(4):
                started = time.perf_counter()
                answer = client.get(url)
                times[name].append(time.perf_counter() - started)
                if answer.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {answer.status_code}")
        # A decision re-scores the leads around the item (its camera, session, place...).
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/").text)
        assert csrf
        times["categorise"] = []
        for code in ("A", "B", "C", "A"):
            body = {"items": [int(item)], "code": code}
            started = time.perf_counter()
            answer = client.post(
                "/api/categorise", json=body, headers={"X-CSRF-Token": csrf.group(1)}
            )
            times["categorise"].append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise SystemExit(f"categorise: HTTP {answer.status_code} {answer.text[:200]}")
        # A decision on a big group answers first and is re-scored after it, by the
        # server's background job: how long until the leads have caught up.
        started = time.perf_counter()
        while _queued(case_dir):
            time.sleep(0.05)
        times["re-scored after"] = [time.perf_counter() - started]
        times |= _decisions(client, csrf.group(1), case_dir)
    return times


def _decide(client: Any, csrf: str, item: int) -> float:
    started = time.perf_counter()
    answer = client.post(
        "/api/categorise", json={"items": [item], "code": "A"}, headers={"X-CSRF-Token": csrf}
    )
    if answer.status_code != 200:
        raise SystemExit(f"categorise: HTTP {answer.status_code} {answer.text[:200]}")
    return time.perf_counter() - started


def _decisions(client: Any, csrf: str, case_dir: Path) -> dict[str, list[float]]:
    """(a) a first decision on a small-group item (re-scored inline), (b) one on the
    busiest camera (queued), (c) one on another small-group item right after (b)
    answers, while (b) is re-scored; then how long until the queue is empty."""
    with sqlite3.connect(case_dir / "case.db") as db:
        undecided = "id NOT IN (SELECT item_id FROM review_state)"
        busy = f"SELECT min(id) FROM items WHERE path LIKE 'DCIM/000CAM/%' AND {undecided}"
        busiest = int(db.execute(busy).fetchone()[0])
        # Items whose groups are the smallest: their decisions stay inline.
        small = [
            int(r[0])
            for r in db.execute(
                "SELECT m.item_id FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
                f"WHERE m.item_id IN (SELECT target_id FROM leads WHERE target_kind = 'item' "
                f"AND target_id IN (SELECT id FROM items WHERE {undecided})) "
                "GROUP BY m.item_id ORDER BY max(c.size), m.item_id LIMIT 2"
            )
        ]
    got = {"decide small (a)": [_decide(client, csrf, small[0])]}
    got["decide busiest (b)"] = [_decide(client, csrf, busiest)]
    started = time.perf_counter()
    got["decide during re-score (c)"] = [_decide(client, csrf, small[1])]
    while _queued(case_dir):
        time.sleep(0.05)
    got["queue empty after (b)"] = [time.perf_counter() - started]
    return got


def _queued(case_dir: Path) -> int:
    with sqlite3.connect(case_dir / "case.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM rescore_queue").fetchone()[0])


def report(sizes: list[int], results: dict[int, dict[str, dict[str, object]]]) -> None:
    low, high = sizes[0], sizes[-1]
    print(f"{'step':<20}" + "".join(f"{n:>12,}" for n in sizes) + "    growth  peak RSS")
    rows: list[tuple[str, list[float], float]] = []
    for name in ("correlation", "export"):
        secs = [float(results[n][name].get("seconds", math.nan)) for n in sizes]  # type: ignore[arg-type]
        rss = max(float(results[n][name].get("rss_mb", math.nan)) for n in sizes)  # type: ignore[arg-type]
        rows.append((name, secs, rss))
    for page in PAGES:
        warm = []
        for n in sizes:
            got = results[n]["pages"].get("pages", {})
            values = got.get(page) if isinstance(got, dict) else None
            warm.append(statistics.median(values[1:]) if values else math.nan)
        rss = max(float(results[n]["pages"].get("rss_mb", math.nan)) for n in sizes)  # type: ignore[arg-type]
        rows.append((f"page {page}", warm, rss))
    for name, secs, rss in rows:
        growth = math.log(secs[-1] / secs[0]) / math.log(high / low) if secs[0] > 0 else math.nan
        flag = "" if growth <= GROWTH_GOAL else "  (over the goal)"
        cells = "".join(f"{s:>11.3f}s" for s in secs)
        print(f"{name:<20}{cells}    {growth:5.2f}  {rss:7.0f} MB{flag}")
    # The first request of each page: what a reviewer waits for after the case changed
    # (the medians above may be served by counts kept until the next change).
    for n in sizes:
        got = results[n]["pages"].get("pages", {})
        firsts = [f"{p} {got[p][0]:.3f}s" for p in PAGES if isinstance(got, dict) and got.get(p)]
        print(f"first requests at {n:,}: {', '.join(firsts)}")
    for n in sizes:
        got = results[n]["pages"].get("pages", {})
        after = got.get("re-scored after") if isinstance(got, dict) else None
        if after:
            print(f"decisions re-scored in the background at {n:,}: {after[0]:.1f}s after")
    for n in sizes:
        got = results[n]["pages"].get("pages", {})
        if not isinstance(got, dict):
            continue
        said = [f"{k} {v[0]:.3f}s" for k, v in got.items() if "(" in k]
        if said:
            print(f"decisions at {n:,}: {', '.join(said)}")
    slow = [n for n, secs, _ in rows if n.startswith("page") and secs[-1] > PAGE_GOAL_S]
    print(f"pages over {PAGE_GOAL_S} s at {high:,} items: {', '.join(slow) or 'none'}")
    heavy = max(r for _, _, r in rows)
    print(f"largest peak RSS {heavy:.0f} MB (goal <= {RSS_GOAL_MB} MB)")
    errors = {(n, s): r["error"] for n in sizes for s, r in results[n].items() if "error" in r}
    for (n, s), why in errors.items():
        print(f"  {s} at {n:,} items failed: {why}")
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dir", type=Path, default=Path(".bench/scale"))
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--case", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("UNSEEN_HOME", str(args.dir.resolve() / "library"))
    if args.step:
        print(json.dumps(run_step(args.step, args.case)))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results: dict[int, dict[str, dict[str, object]]] = {}
    for n in sizes:
        started = time.perf_counter()
        case_dir = build(args.dir.resolve(), n)
        print(f"{n:,} items: case ready in {time.perf_counter() - started:.0f} s", flush=True)
        results[n] = {}
        for name in ("correlation", "export", "pages"):
            results[n][name] = step(name, case_dir)
            took = results[n][name].get("seconds", math.nan)
            said = results[n][name].get("said") or results[n][name].get("error") or ""
            print(f"  {name}: {took:.1f} s {said}", flush=True)  # type: ignore[str-format]
    report(sizes, results)


if __name__ == "__main__":
    main()
