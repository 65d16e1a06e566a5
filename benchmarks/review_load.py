"""Review server under load: 20 logged-in reviewers on a 100k-item case, p50/p95 per route.

Builds a case the real way, then grows it to ``--items`` generated items:

* a handful of benign generated JPEGs are processed by ``process_case`` (so every
  table a real case has is there, with real rows);
* one processed picture's ``items`` and ``images`` rows are copied in SQL to make the
  rest (distinct paths and hashes; thumbnails shared among ``--thumbs`` tiny files, so
  the case needs no media beyond them);
* ``--sessions`` reviewer accounts are created.

Then it starts the real ``unseen serve`` on 127.0.0.1, logs every reviewer in (the
logins are timed as their own routes), and once all are in drives one session per
reviewer, concurrently, each looping: a grid page (following the page's own "next"
cursor), the first ``--thumbs-per-page`` thumbnails on it, one item page, and one
categorisation of that item. It stops after ``--seconds`` or ``--max-requests`` per
session, whichever comes first, and prints for each route the count, p50 and p95 in
milliseconds, the p95 against the 300 ms target, and the error count (any status other
than the expected one, or a transport error). The floor is a static file
(``/static/app.css``) under the same load: what the server costs for a request that
touches no case data.

Always exits 0: a benchmark, not a test.

Usage: ``.venv/bin/python benchmarks/review_load.py [--items 100000] [--sessions 20]
[--seconds 60] [--server-cpus 0,1] [--processes 2] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
from PIL import Image

TARGET_MS = 300.0
PASSWORD = "load test password"
CODES = ("A", "B", "C")


def build_case(base: Path, items: int, thumbs: int, sessions: int) -> Path:
    """A processed case grown to ``items`` items, with ``sessions`` reviewer accounts."""
    from unseen.engine.runner import process_case
    from unseen.review import auth
    from unseen.store import repo
    from unseen.store.case import Case

    evidence = base / "evidence"
    evidence.mkdir(parents=True)
    for n in range(6):
        Image.new("RGB", (320, 240), (40 * n, 200 - 30 * n, 90)).save(evidence / f"p{n}.jpg")
    case = Case.create(base / "case", name="LOAD")
    repo.add_source(case, "folder", str(evidence), "EV", "bench")
    process_case(case, workers=0)
    for n in range(sessions):
        auth.create_account(case, "cli:bench", f"rev{n:02d}", "reviewer", PASSWORD, "bench")
    case.close()
    grow(base / "case", items, thumbs)
    return base / "case"


def grow(case_dir: Path, items: int, thumbs: int) -> None:
    """Copy one processed picture's rows until the case holds ``items`` items."""
    folder = case_dir / "thumbs" / "load"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(thumbs):
        Image.new("RGB", (64, 48), (n % 256, (7 * n) % 256, 120)).save(folder / f"{n}.jpg")
    db = sqlite3.connect(case_dir / "case.db")
    with db:
        tpl = db.execute(
            "SELECT i.id FROM items i JOIN images g ON g.item_id = i.id ORDER BY i.id LIMIT 1"
        ).fetchone()[0]
        have = db.execute("SELECT count(*) FROM items").fetchone()[0]
        item_cols = [r[1] for r in db.execute("PRAGMA table_info(items)") if r[1] != "id"]
        generated = {
            "path": "printf('gen/%06d.jpg', n)",
            "locator": "CAST(printf('gen/%06d.jpg', n) AS BLOB)",
            "md5": "printf('%032x', n)",
            "sha1": "printf('%040x', n)",
            "sha256": "printf('%064x', n)",
        }
        chosen = ", ".join(generated.get(c, f"t.{c}") for c in item_cols)
        db.execute(
            f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) "
            f"INSERT INTO items ({', '.join(item_cols)}) SELECT {chosen} "
            f"FROM seq, (SELECT * FROM items WHERE id = ?) t",
            (max(items - have, 0), tpl),
        )
        image_cols = [r[1] for r in db.execute("PRAGMA table_info(images)") if r[1] != "item_id"]
        # Distinct pictures have unrelated PDQ hashes: random ones, without the eight
        # rotations (the item page then probes one hash, not eight: a floor for its cost).
        own = {
            "thumbnail": f"'load/' || (i.id % {thumbs}) || '.jpg'",
            "pdq": "lower(hex(randomblob(32)))",
            "pdq_dihedral": "NULL",
        }
        picked = ", ".join(own.get(c, f"t.{c}") for c in image_cols)
        db.execute(
            f"INSERT INTO images (item_id, {', '.join(image_cols)}) SELECT i.id, {picked} "
            f"FROM items i, (SELECT * FROM images WHERE item_id = ?) t "
            f"WHERE i.path LIKE 'gen/%'",
            (tpl,),
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    case_dir: Path, port: int, cpus: str | None, processes: int
) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("unseen")
    pin = ["taskset", "-c", cpus] if cpus else []  # e.g. "0,1": the 2-core target machine
    where = ["--host", "127.0.0.1", "--port", str(port), "--processes", str(processes)]
    server = subprocess.Popen(
        [*pin, str(exe), "serve", str(case_dir), *where],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not answer: {server.communicate()[0][-2000:]}")


class Recorder:
    """Latencies per route and the errors met."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.started = time.monotonic()

    async def call(
        self, client: httpx.AsyncClient, route: str, method: str, url: str, ok: int, **kw: object
    ) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = await client.request(method, url, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.errors[route] += 1
            self.samples.append(f"{route}: {type(exc).__name__}")
            return None
        self.ms[route].append((time.perf_counter() - start) * 1000)
        if response.status_code != ok:
            self.errors[route] += 1
            if len(self.samples) < 10:
                self.samples.append(f"{route}: HTTP {response.status_code} {url}")
            return None
        return response


async def login(client: httpx.AsyncClient, name: str, rec: Recorder) -> str:
    page = await rec.call(client, "GET /login", "GET", "/login", 200)
    assert page is not None
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    form = {"name": name, "password": PASSWORD, "csrf": token.group(1), "next": "/"}
    done = await rec.call(client, "POST /login", "POST", "/login", 303, data=form)
    assert done is not None, rec.samples
    settings = await client.get("/settings")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', settings.text)
    assert found, settings.text[:500]
    return found.group(1)


async def reviewer(
    base: str,
    name: str,
    rec: Recorder,
    start: asyncio.Barrier,
    seconds: float,
    max_requests: int,
    per_page: int,
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False) as client:
        csrf = await login(client, name, rec)
        # Every session logs in first (argon2, by design slow: its own row), then the
        # measured work of 20 logged-in reviewers starts together.
        if await start.wait() == 0:
            rec.started = time.monotonic()
        stop_at = time.monotonic() + seconds
        after, made, turn = "", 0, 0
        while time.monotonic() < stop_at and made < max_requests:
            url = f"/grid?after={after}" if after else "/grid"
            page = await rec.call(client, "GET /grid", "GET", url, 200)
            made += 1
            if page is None:
                continue
            found = re.search(r"after=([^\"&]+)", page.text)
            after = found.group(1) if found else ""
            ids = list(dict.fromkeys(int(i) for i in re.findall(r"/thumb/(\d+)", page.text)))
            for item in ids[:per_page]:
                await rec.call(client, "GET /thumb/{id}", "GET", f"/thumb/{item}", 200)
                made += 1
            if not ids:
                continue
            item = ids[turn % len(ids)]
            await rec.call(client, "GET /item/{id}", "GET", f"/item/{item}", 200)
            body = {"items": [item], "code": CODES[turn % len(CODES)]}
            headers = {"X-CSRF-Token": csrf}
            await rec.call(
                client, "POST /api/categorise", "POST", "/api/categorise", 200,
                json=body, headers=headers,
            )  # fmt: skip
            await rec.call(client, "GET /static (floor)", "GET", "/static/app.css", 200)
            made += 3
            turn += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(rec: Recorder, seconds: float) -> None:
    print(f"{'route':<22}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p95/300':>9}{'errors':>8}")
    for route in sorted(rec.ms):
        values = rec.ms[route]
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        print(
            f"{route:<22}{len(values):>7}{p50:>9.1f}{p95:>9.1f}{p95 / TARGET_MS:>9.2f}"
            f"{rec.errors.get(route, 0):>8}"
        )
    floor = rec.ms.get("GET /static (floor)")
    if floor:
        worst = max(percentile(v, 0.95) for v in rec.ms.values())
        print(f"floor p95 {percentile(floor, 0.95):.1f} ms; worst route p95 / floor p95 = "
              f"{worst / percentile(floor, 0.95):.1f}")  # fmt: skip
    # On a shared machine the latencies say as much about the neighbours as the server.
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    total = sum(len(v) for v in rec.ms.values())
    print(f"{total} requests in {seconds:.0f} s ({total / seconds:.1f}/s); "
          f"errors: {sum(rec.errors.values())}")  # fmt: skip
    for sample in rec.samples[:10]:
        print(f"  error: {sample}")


async def drive(port: int, args: argparse.Namespace) -> None:
    rec = Recorder()
    base = f"http://127.0.0.1:{port}"
    start = asyncio.Barrier(args.sessions)
    await asyncio.gather(
        *(
            reviewer(
                base,
                f"rev{n:02d}",
                rec,
                start,
                args.seconds,
                args.max_requests,
                args.thumbs_per_page,
            )
            for n in range(args.sessions)
        )
    )
    report(rec, time.monotonic() - rec.started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=3000, help="per session")
    parser.add_argument("--thumbs", type=int, default=500, help="distinct thumbnail files")
    parser.add_argument("--thumbs-per-page", type=int, default=24)
    parser.add_argument("--keep", type=Path, help="build the case here and keep it")
    parser.add_argument("--server-cpus", help="pin the server to these CPUs (taskset -c)")
    parser.add_argument("--processes", type=int, default=1, help="unseen serve --processes")
    args = parser.parse_args()
    os.environ.setdefault("UNSEEN_LOAD_PLUGINS", "0")
    base = args.keep or Path(tempfile.mkdtemp(prefix="unseen-load-"))
    os.environ["UNSEEN_HOME"] = str(base / "library")  # never the examiner's library
    try:
        started = time.monotonic()
        case_dir = build_case(base, args.items, args.thumbs, args.sessions)
        print(f"built a {args.items}-item case in {time.monotonic() - started:.0f} s")
        port = free_port()
        server = start_server(case_dir, port, args.server_cpus, args.processes)
        try:
            asyncio.run(drive(port, args))
        finally:
            server.terminate()
            server.communicate(timeout=30)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
