"""Messages benchmark: a generated WhatsApp ``msgstore.db`` parsed and stored by the
phones stage vs a bare ``sqlite3`` SELECT of the same rows.

Writes a ``msgstore.db`` with the app's schema (``unseen.phones.appschemas``) holding N
messages (default 1 million) in 2,000 chats, one in ten with a ``message_media`` row
(100 k attachments at the default). Then, each in a fresh Python process so that peak
RSS is its own:

* floor: ``sqlite3`` runs the parser's own join (messages, chats, JIDs, media) and
  iterates every row, discarding it - the least any tool must do to read them;
* unseen: the ``phones`` stage on a case holding the database (a private copy checked
  and carried into the case in SQL, ``phones.carry``, or parsed and stored when the
  checks leave it to the parser; contacts, conversations, messages and attachments;
  attachments tied to items, provenance derived, the FTS5 text index rebuilt). The
  whole-case steps are timed and printed beside it, and the ratio is printed also
  without the text index rebuild, with that rebuild's cost.

Prints seconds, CPU seconds, messages/s, peak RSS and the ratio floor/unseen (goal >=
0.3; peak RSS goal < 500 MB), and the load average around each run: on a shared machine
the wall-clock ratio moves with the load, CPU seconds much less. ``--runs N`` repeats
floor and stage on fresh copies of the case and prints the medians. Always exits 0: a
benchmark, not a test. A large database that is not carried in SQL (``--workers``
does not change that; a PostgreSQL case or unusual rows do) is parsed in chunks of
``phones.plan.CHUNK_MESSAGES`` messages, so peak RSS does not grow with N: compare
``--messages 1000000`` and ``--messages 2000000``. With ``--workers`` the chunks are
parsed on a process pool while this process stores; peak RSS is then this process's
(the writer's), each worker holding about one chunk besides. A carried database with
``--workers`` has its rows checked, and the text index rebuilt, each in a process
beside this one (as ``unseen process`` runs it, whose default is a worker per core):
the wall-clock ratio then counts them, CPU seconds do not.

``--parse`` measures the Python path (parse, then store) that a PostgreSQL case, a remote
cluster or unusual rows take. ``--wal`` keeps the last tenth of the messages (and their
media) in a ``-wal`` file beside the database, as on a phone that was in use: the
floor then reads a private copy of both (SQLite replays the log), and unseen marks
those rows as found only in the WAL.

By default the stage has a pool of a process per core, as ``unseen process`` has it
(``--workers 0``: everything in this one process).

Usage: ``.venv/bin/python benchmarks/messages.py [--messages N] [--workers W] [--runs R]
[--parse] [--wal]``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
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

from unseen.engine.driver import default_workers
from unseen.phones.appschemas import MSGSTORE_DDL

CHATS = 2000
MEDIA_EVERY = 10
DB_REL = "data/data/com.whatsapp/databases/msgstore.db"
T0_MS = 1_700_000_000_000
RSS_GOAL_MB = 500
RATIO_GOAL = 0.3


def generate(path: Path, messages: int, wal: bool = False) -> None:
    """The database, written in large transactions; with ``wal`` its last tenth kept
    in a ``-wal`` file (written on a scratch copy, both files copied while it is open:
    closing would fold the log into the database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not wal:
        _write(path, 1, messages)
        return
    with tempfile.TemporaryDirectory(prefix="unseen-bench-wal-") as scratch:
        work = Path(scratch) / "msgstore.db"
        split = messages - messages // 10
        _write(work, 1, split)
        conn = sqlite3.connect(work)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        _rows(conn, split + 1, messages)
        conn.commit()
        shutil.copyfile(work, path)
        shutil.copyfile(str(work) + "-wal", str(path) + "-wal")
        conn.close()


def _write(path: Path, first: int, last: int) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(MSGSTORE_DDL)
    conn.executemany(
        "INSERT INTO jid (_id, user, server, agent, device, type, raw_string) "
        "VALUES (?, ?, 's.whatsapp.net', 0, 0, 0, ?)",
        ((n, f"44770{n:07d}", f"44770{n:07d}@s.whatsapp.net") for n in range(1, CHATS + 1)),
    )
    conn.executemany(
        "INSERT INTO chat (_id, jid_row_id) VALUES (?, ?)", ((n, n) for n in range(1, CHATS + 1))
    )
    _rows(conn, first, last)
    conn.commit()
    conn.close()


def _rows(conn: sqlite3.Connection, first: int, last: int) -> None:
    """Messages ``first``..``last``, every tenth with a media row."""
    conn.executemany(
        "INSERT INTO message (_id, chat_row_id, from_me, key_id, status, timestamp,"
        " message_type, text_data, sort_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (n, 1 + n % CHATS, n % 3 == 0, f"K{n}", 13, T0_MS + n * 1000,
             1 if n % MEDIA_EVERY == 0 else 0, f"message number {n} about the garden", n)
            for n in range(first, last + 1)
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size,"
        " mime_type, media_name, file_hash) VALUES (?, ?, ?, ?, 'image/jpeg', ?, ?)",
        (
            (n, 1 + n % CHATS, f"Media/WhatsApp Images/IMG-{n:08d}.jpg", 50_000 + n,
             f"IMG-{n:08d}.jpg",
             base64.b64encode(hashlib.sha256(n.to_bytes(8, "little")).digest()).decode())
            for n in range(first + (-first) % MEDIA_EVERY, last + 1, MEDIA_EVERY)
        ),
    )  # fmt: skip


def floor(db: Path) -> dict[str, float]:
    from unseen.phones.parsers.whatsapp_android import CURRENT, MEDIA, MEDIA_JOIN

    if Path(str(db) + "-wal").exists():
        # Reading would fold the log into the evidence: read a private copy of both.
        private = Path(tempfile.mkdtemp(prefix="unseen-bench-floor-")) / db.name
        shutil.copyfile(db, private)
        shutil.copyfile(str(db) + "-wal", str(private) + "-wal")
        db = private
    start, cpu = time.perf_counter(), _cpu()
    conn = sqlite3.connect(db)
    rows = 0
    for _ in conn.execute(CURRENT.format(media=MEDIA, join=MEDIA_JOIN, where="")):
        rows += 1
    conn.close()
    result = {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "rows": rows}
    if db.parent.name.startswith("unseen-bench-floor-"):
        shutil.rmtree(db.parent)
    return result


def prepare(evidence: Path, case_dir: Path) -> None:
    """The case with the database listed and hashed (the fast pass), phones not run."""
    from unseen import plugins
    from unseen.core.settings import Settings
    from unseen.engine.runner import process_case
    from unseen.engine.stages import STAGES
    from unseen.store import repo
    from unseen.store.case import Case

    plugins.load()
    case = Case.create(case_dir, name="BENCH")
    repo.add_source(case, "folder", str(evidence), "EV", "bench")
    process_case(case, workers=0, settings=Settings(skip=tuple(STAGES.names())))
    case.close()


def unseen(case_dir: Path, workers: int, carry: bool = True) -> dict[str, float]:
    from unseen import plugins
    from unseen.core.settings import Settings
    from unseen.engine.driver import process_pool
    from unseen.phones import carry as carry_module
    from unseen.phones import links, stage
    from unseen.store.case import Case

    plugins.load()
    stage.SQL_CARRY = carry
    parts: dict[str, list[float]] = {}
    # The whole-case steps after the messages are stored, timed where the stage calls.
    for module, name in (
        (stage, "rebuild_index"),
        (stage, "_finished"),
        (links, "find_links"),
        (links, "store_links"),
        (links, "derive_provenance"),
    ):
        setattr(module, name, _timed(getattr(module, name), parts.setdefault(name, [0.0, 0.0])))
    carried: list[tuple[int, int] | None] = []
    real = carry_module.CARRIERS["whatsapp_android"]

    def spy(*args: Any) -> tuple[int, int] | None:  # what each carry gave (None: parsed)
        carried.append(real(*args))
        return carried[-1]

    carry_module.CARRIERS["whatsapp_android"] = spy
    if workers:  # the fork server started and ready, as ``unseen process`` has it
        warm = process_pool(1)
        warm.submit(int).result()
        warm.shutdown()
    case = Case.open(case_dir)
    start, cpu = time.perf_counter(), _cpu()
    summary = stage.PhonesStage().run(case, Settings(), workers=workers)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    with case.engine.connect() as conn:
        wal = conn.exec_driver_sql("SELECT count(*) FROM messages WHERE from_wal").scalar_one()
    case.close()
    summary += f"; {wal} messages found only in the WAL; carried in SQL: {carried}"
    return {"seconds": seconds, "cpu": cpu, "summary": summary, "parts": parts}  # type: ignore[dict-item]


def _timed(step: Any, spent: list[float]) -> Any:
    """``step``, adding its wall and CPU seconds to ``spent``."""

    def timed(*args: Any) -> Any:
        start, cpu = time.perf_counter(), _cpu()
        try:
            return step(*args)
        finally:
            spent[0] += time.perf_counter() - start
            spent[1] += _cpu() - cpu

    return timed


def _cpu() -> float:
    """CPU seconds of this process and its ended children (a pool's workers)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _child(mode: str, *args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, *args], check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="a pool of this many processes, as `unseen process` has (default: one per "
        "core, its default; 0: all in this one process)",
    )
    parser.add_argument("--runs", type=int, default=1, help="repeat, print medians")
    parser.add_argument(
        "--parse",
        action="store_true",
        help="parse and store in Python (as for a PostgreSQL case or unusual rows), not "
        "carry the database in SQL",
    )
    parser.add_argument(
        "--wal", action="store_true", help="keep the last tenth of the messages in a WAL"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        if mode == "prepare":
            prepare(Path(rest[0]), Path(rest[1]))
            result: dict[str, object] = {}
        else:
            result = dict(
                floor(Path(rest[0]))
                if mode == "floor"
                else unseen(Path(rest[0]), int(rest[1]), rest[2] == "carry")
            )
        result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="unseen-bench-messages-") as tmp:
        evidence, case_dir = Path(tmp) / "evidence", Path(tmp) / "case"
        db = evidence / DB_REL
        t = time.perf_counter()
        generate(db, args.messages, args.wal)
        size = db.stat().st_size / 1e6
        print(f"generated {args.messages:,} messages, {args.messages // MEDIA_EVERY:,} "
              f"attachments, {size:.0f} MB in {time.perf_counter() - t:.1f} s")  # fmt: skip
        pristine = Path(tmp) / "pristine"
        _child("prepare", str(evidence), str(pristine))
        how = "parse" if args.parse else "carry"
        runs = [_run(db, pristine, case_dir, args.messages, args.workers, how)
                for _ in range(args.runs)]  # fmt: skip
    if args.runs > 1:
        print(f"median of {args.runs}: " + ", ".join(
            f"{key} {statistics.median(r[key] for r in runs):.2f}" for key in runs[0]
        ))  # fmt: skip


def _run(
    db: Path, pristine: Path, case_dir: Path, messages: int, workers: int, how: str
) -> dict[str, float]:
    """Floor and stage once, the stage on a fresh copy of the prepared case."""
    shutil.rmtree(case_dir, ignore_errors=True)
    shutil.copytree(pristine, case_dir)
    load = os.getloadavg()[0]
    low = _child("floor", str(db))
    ours = _child("unseen", str(case_dir), str(workers), how)
    for name, r in (("bare sqlite3 SELECT", low), ("unseen phones stage", ours)):
        secs = float(r["seconds"])  # type: ignore[arg-type]
        print(f"{name:22s} {secs:8.2f} s  {float(r['cpu']):8.2f} CPU s  "  # type: ignore[arg-type]
              f"{messages / secs:12,.0f} messages/s  "
              f"peak RSS {float(r['rss_mb']):6.0f} MB")  # type: ignore[arg-type]  # fmt: skip
    print(f"unseen: {ours['summary']}")
    parts: dict[str, list[float]] = ours["parts"]  # type: ignore[assignment]
    print("  of which " + ", ".join(
        f"{name} {wall:.2f} s ({cpu:.2f} CPU s)" for name, (wall, cpu) in parts.items()
    ))  # fmt: skip
    fts_wall, fts_cpu = parts["rebuild_index"]
    ratio = float(low["seconds"]) / float(ours["seconds"])  # type: ignore[arg-type]
    cpu_ratio = float(low["cpu"]) / float(ours["cpu"])  # type: ignore[arg-type]
    rss = float(ours["rss_mb"])  # type: ignore[arg-type]
    print(f"floor/unseen = {ratio:.2f} (goal >= {RATIO_GOAL}), in CPU seconds {cpu_ratio:.2f}; "
          f"peak RSS {rss:.0f} MB (goal < {RSS_GOAL_MB} MB); "
          f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")  # fmt: skip
    if workers:
        print(
            "  with a pool: the row checks and the text index run in processes beside this "
            "one, whose CPU seconds are not counted (_finished: the wait for the index)"
        )
    # The text index is rebuilt whole for the case after the messages are stored:
    # the ratio without it, with its cost beside, shows the messages' own path.
    stage_s, stage_cpu = float(ours["seconds"]), float(ours["cpu"])  # type: ignore[arg-type]
    floor_s, floor_cpu = float(low["seconds"]), float(low["cpu"])  # type: ignore[arg-type]
    store_ratio, store_cpu = floor_s / (stage_s - fts_wall), floor_cpu / (stage_cpu - fts_cpu)
    if fts_wall:
        print(
            f"floor/unseen without the full-text index rebuild = {store_ratio:.2f}, in CPU "
            f"seconds {store_cpu:.2f}; the rebuild {fts_wall:.2f} s ({fts_cpu:.2f} CPU s)"
        )
    return {"ratio": ratio, "cpu_ratio": cpu_ratio, "stage_s": stage_s, "stage_cpu_s": stage_cpu,
            "floor_s": floor_s, "floor_cpu_s": floor_cpu, "rss_mb": rss,
            "ratio_without_fts": store_ratio, "cpu_ratio_without_fts": store_cpu,
            "fts_s": fts_wall, "fts_cpu_s": fts_cpu}  # fmt: skip


if __name__ == "__main__":
    main()
