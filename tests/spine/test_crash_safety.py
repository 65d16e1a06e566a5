"""Crash safety: kill -9 mid-run and rerun gives the uninterrupted case; a worker that
dies costs one item (recorded as such), never the run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from sqlalchemy import select

from unseen import plugins
from unseen.core.settings import Settings
from unseen.engine.driver import CRASHED
from unseen.engine.runner import process_case
from unseen.engine.stages import STAGES
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .casework import LABEL, by_path, cli, cli_export, export, library_case, spine_errors, thumbs
from .crashers import CRASH_ON, crashing_pool
from .evidence import digests, encode, scene, write

N_FILES = 300


def fast_pass_only() -> list[str]:
    """``--skip`` options for every case stage: this test is about the fast pass, and
    the stages (deep analysis of 300 pictures) would take longer than the rest."""
    plugins.load()
    return [arg for name in STAGES.names() for arg in ("--skip", name)]


def many_images(root: Path) -> None:
    """300 small pictures (JPEG and PNG), a few of them identical copies."""
    for i in range(N_FILES):
        img = scene(160, 120, seed=1000 + i % 290)  # the last 10 repeat earlier ones
        fmt, ext = ("PNG", "png") if i % 3 == 0 else ("JPEG", "jpg")
        write(root / f"dir{i % 7}" / f"img{i:03}.{ext}", encode(img, fmt))


def done_count(db: Path) -> int:
    """Items the running program has committed as done (read-only, never blocks it)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    except sqlite3.OperationalError:  # not created yet
        return 0
    try:
        return int(conn.execute("SELECT count(*) FROM items WHERE status='done'").fetchone()[0])
    except sqlite3.OperationalError:  # busy for a moment, or the table is not there yet
        return 0
    finally:
        conn.close()


def kill_midway(exe: Path, case_dir: Path) -> int:
    """Start ``unseen process --workers 2``; SIGKILL its process group once some items
    are done. Returns how many were done when it died."""
    proc = subprocess.Popen(
        [str(exe), "process", str(case_dir), "--workers", "2", *fast_pass_only()],
        start_new_session=True,  # its own process group: the pool's workers included
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = case_dir / "case.db"
    deadline = time.monotonic() + 120
    try:
        while done_count(db) < 32:  # two batches of 16 committed
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return done_count(db)


def test_kill_9_and_rerun_equals_an_uninterrupted_run(tmp_path: Path, unseen_exe: Path) -> None:
    evidence = tmp_path / "evidence"
    many_images(evidence)
    case_dir = tmp_path / "killed"
    cli(unseen_exe, "init", str(case_dir))
    cli(unseen_exe, "add", str(case_dir), str(evidence), "--label", LABEL)

    done_at_kill = kill_midway(unseen_exe, case_dir)
    assert 0 < done_at_kill < N_FILES

    cli(unseen_exe, "process", str(case_dir), "--workers", "2", *fast_pass_only())
    resumed = cli_export(unseen_exe, case_dir)
    reference = library_case(
        tmp_path / "uninterrupted", evidence, settings=Settings(skip=tuple(STAGES.names()))
    )

    assert len(resumed) == N_FILES and len(by_path(resumed)) == N_FILES  # none lost, no dups
    assert resumed == export(reference)  # every field of every record
    assert {r["status"] for r in resumed} == {"done"}
    assert all(spine_errors(r) == [] and r["pdq"] for r in resumed)
    assert thumbs(case_dir) == thumbs(reference.root)  # no stray half-written files
    assert len(thumbs(case_dir)) == len({r["sha256"] for r in resumed})  # one per content
    case = Case.open(case_dir)
    with case.engine.connect() as conn:
        runs = conn.execute(select(s.runs.c.id, s.runs.c.finished_at)).all()
    case.close()
    assert [r.id for r in runs] == [1, 2]
    assert runs[0].finished_at is None and runs[1].finished_at is not None


def test_a_worker_that_dies_costs_only_its_item(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    payloads = {f"file{i:02}.txt": f"file number {i}\n".encode() for i in range(30)}
    payloads[CRASH_ON] = b"the decoder of this one crashes\n"
    for name, data in payloads.items():
        write(evidence / name, data)
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(evidence), LABEL, "Test Examiner")

    summary = process_case(
        case, workers=2, settings=Settings(batch_size=4), executor_factory=crashing_pool
    )

    assert summary.crashed == [CRASH_ON]
    recs = by_path(export(case))
    assert sorted(recs) == sorted(payloads)
    boom = recs.pop(CRASH_ON)
    assert (boom["status"], boom["md5"], boom["size"]) == ("done", None, len(payloads[CRASH_ON]))
    assert spine_errors(boom) == [f"engine: {CRASHED}"]
    assert CRASHED == (
        "worker process died while analysing this item (a decoder crashed or ran out of memory)"
    )
    for name, rec in recs.items():
        assert spine_errors(rec) == [], name
        assert {k: rec[k] for k in ("size", "md5", "sha1", "sha256")} == digests(payloads[name])
    case.close()
