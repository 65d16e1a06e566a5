"""Scale benchmark: whole-case steps and review pages on generated 100k- and 1M-item cases.

No media is needed: the case store is written directly, with the distributions a
seized phone-and-camera collection shows (a few hundred cameras, most pictures from a
few of them, shot in sessions; GPS on a third of the camera pictures around a few
dozen towns; near-duplicates and exact copies; downloads without EXIF; faces of a
few thousand people in some of the pictures; some documents; every picture with its
eight dihedral PDQ hashes and JPEG table fingerprint, as the fast pass stores them).
Then, for each size and each in a fresh Python process (so that its peak RSS is its own):

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

Each figure is the median of ``--runs`` runs (3 by default, each on a fresh copy of the
generated case) with its spread.

Usage: ``.venv/bin/python benchmarks/scale.py [--sizes 100000,1000000] [--runs 3] [--dir DIR]``
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
STORE = "3"  # what the generated store holds: a kept one of another version is rebuilt
DECISIONS = (
    "decide small (a)",
    "decide busiest (b)",
    "decide during re-score (c)",
    "queue empty after (b)",
)


def build(root: Path, items: int) -> Path:
    """A fresh copy of the generated case of ``items`` items (generated once, kept)."""
    pristine, case_dir = root / f"case-{items}-pristine", root / f"case-{items}"
    built = pristine / "built"
    if not built.exists() or built.read_text() != STORE:
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
    (case_dir / "built").write_text(STORE)


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
    # As the fast pass stores them: the eight dihedral hashes (rotations and mirrors,
    # the picture's own first) and the JPEG tables' fingerprint, one per camera model.
    turned = rng.integers(0, 256, (n, 7, 32), dtype=np.uint8)
    tables = [f"{(c * 2654435761 + 97) % 2**64:016x}" for c in range(300)]
    images = []
    for k in np.nonzero(picture)[0]:
        own = pdq[k].tobytes().hex()
        dihedral = ",".join([own, *(v.tobytes().hex() for v in turned[k])])
        table = tables[int(cameras[k])] if has_camera[k] else tables[int(ids[k]) % 7]
        images.append((int(ids[k]), own, dihedral, table))
    db.executemany(
        "INSERT INTO images (item_id, format, mode, width, height, frames, pdq, pdq_quality, "
        "pdq_dihedral, jpeg_qtables, jpeg_quality) "
        "VALUES (?, 'JPEG', 'RGB', 4000, 3000, 1, ?, 90, ?, ?, 92)",
        images,
    )
    towns = np.random.default_rng(0).uniform([36.0, -9.0], [60.0, 25.0], (40, 2))
    exif = []
    for k in np.nonzero(picture & has_camera)[0]:
        cam = int(cameras[k])
        gps = towns[cam % 40] + rng.normal(0, 0.01, 2) if rng.random() < 0.33 else (None, None)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(float(when[k])))
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
    small_a, busy_b, during_c, caught_up = DECISIONS
    got = {small_a: [_decide(client, csrf, small[0])]}
    got[busy_b] = [_decide(client, csrf, busiest)]
    started = time.perf_counter()
    got[during_c] = [_decide(client, csrf, small[1])]
    while _queued(case_dir):
        time.sleep(0.05)
    got[caught_up] = [time.perf_counter() - started]
    return got


def _queued(case_dir: Path) -> int:
    with sqlite3.connect(case_dir / "case.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM rescore_queue").fetchone()[0])


Runs = list[dict[str, dict[str, object]]]  # per run: each step's result


def _page_values(runs: Runs, key: str) -> list[list[float]]:
    """``key``'s request times in each run that has them."""
    found = []
    for run in runs:
        got = run["pages"].get("pages", {})
        if isinstance(got, dict) and got.get(key):
            found.append(got[key])
    return found


def _per_run(runs: Runs, name: str) -> list[float]:
    """One figure per run: a step's seconds, or a page's median warm request."""
    if not name.startswith("page "):
        return [float(r[name].get("seconds", math.nan)) for r in runs]  # type: ignore[arg-type]
    return [statistics.median(v[1:]) for v in _page_values(runs, name[5:])] or [math.nan]


def _said(values: list[float]) -> str:
    """A median with its spread over the runs."""
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.3f}s"
    return f"{middle:.3f}s [{min(values):.3f}-{max(values):.3f}]"


def report(sizes: list[int], results: dict[int, Runs]) -> None:
    low, high = sizes[0], sizes[-1]
    runs = len(results[high])
    print(f"median of {runs} run(s) [spread]; pages: the median warm request of each run")
    medians: dict[str, list[float]] = {}
    for name in ("correlation", "export", *(f"page {p}" for p in PAGES)):
        step_name = "pages" if name.startswith("page ") else name
        rss = max(float(r[step_name].get("rss_mb", math.nan)) for n in sizes for r in results[n])  # type: ignore[arg-type]
        per_size = [_per_run(results[n], name) for n in sizes]
        medians[name] = [statistics.median(v) for v in per_size]
        first, last = medians[name][0], medians[name][-1]
        growth = math.log(last / first) / math.log(high / low) if first > 0 else math.nan
        flag = "" if growth <= GROWTH_GOAL else "  (over the goal)"
        cells = "   ".join(f"{n:,}: {_said(v)}" for n, v in zip(sizes, per_size, strict=True))
        print(f"{name:<16}{cells}   growth {growth:5.2f}  peak RSS {rss:5.0f} MB{flag}")
    # The first request of each page: what a reviewer waits for after the case changed
    # (the medians above may be served by counts kept until the next change); then the
    # decisions, each once a run.
    for n in sizes:
        firsts = [(p, [v[0] for v in _page_values(results[n], p)]) for p in PAGES]
        print(f"first requests at {n:,}: " + ", ".join(f"{p} {_said(v)}" for p, v in firsts if v))
        after = [v[0] for v in _page_values(results[n], "re-scored after")]
        if after:
            print(f"decisions re-scored in the background at {n:,}: {_said(after)} after")
        keys = [k for k in DECISIONS if _page_values(results[n], k)]
        said = [f"{k} {_said([v[0] for v in _page_values(results[n], k)])}" for k in keys]
        if said:
            print(f"decisions at {n:,}: {', '.join(said)}")
    slow = [p for p in PAGES if medians[f"page {p}"][-1] > PAGE_GOAL_S]
    print(f"pages over {PAGE_GOAL_S} s at {high:,} items: {', '.join(slow) or 'none'}")
    heavy = max(float(r[s].get("rss_mb", 0)) for n in sizes for r in results[n] for s in r)  # type: ignore[arg-type]
    print(f"largest peak RSS {heavy:.0f} MB (goal <= {RSS_GOAL_MB} MB)")
    for n in sizes:
        for r in results[n]:
            for step_name, got in r.items():
                if "error" in got:
                    print(f"  {step_name} at {n:,} items failed: {got['error']}")
    load = os.getloadavg()
    print(
        f"load average at the end: {load[0]:.1f} (15 min {load[2]:.1f}) on {os.cpu_count()} CPUs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dir", type=Path, default=Path(".bench/scale"))
    parser.add_argument("--runs", type=int, default=3, help="runs per size (median, spread)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--case", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("UNSEEN_HOME", str(args.dir.resolve() / "library"))
    if args.step:
        print(json.dumps(run_step(args.step, args.case)))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results: dict[int, Runs] = {n: [] for n in sizes}
    for run in range(args.runs):
        for n in sizes:
            started = time.perf_counter()
            case_dir = build(args.dir.resolve(), n)
            print(
                f"run {run + 1}, {n:,} items: case ready in {time.perf_counter() - started:.0f} s"
            )
            got: dict[str, dict[str, object]] = {}
            for name in ("correlation", "export", "pages"):
                got[name] = step(name, case_dir)
                took = got[name].get("seconds", math.nan)
                said = got[name].get("said") or got[name].get("error") or ""
                print(f"  {name}: {took:.1f} s {said}", flush=True)  # type: ignore[str-format]
            results[n].append(got)
    report(sizes, results)


if __name__ == "__main__":
    main()
