"""Ingest benchmark: ``unseen process`` against the plainest possible floor.

Builds (once, cached under ``--dir``) a corpus of camera-like JPEGs with EXIF, then,
with the same number of worker processes, times

* the floor: read + MD5 + SHA-1 + SHA-256 + JPEG draft decode + PDQ, written as
  plainly as possible, in a process pool fed chunks of files, and
* unseen: the fast pass of ``unseen process`` (``process_case``) on a fresh case
  holding the same folder: listing, type sniffing, hashes, PDQ and its 8 dihedral
  hashes, EXIF, thumbnails and the database. The whole-case stages that follow
  (correlation, matching, ...) are not compared; ``--stages`` times them once, and
  ``--end-to-end`` times ``unseen process --skip deep`` whole from outside (start-up,
  fast pass and every stage) against the same floor (target >= 0.80 too).

Each side runs in a fresh Python process, so its CPU time and peak memory are its
own (workers included). The page cache is warmed before any timing, and the sides
alternate over the repeats, the fastest run of each kept. It prints files, MB,
seconds, files/s, MB/s, CPU seconds and peak RSS for both, and the ratio floor
seconds / unseen seconds (target >= 0.80: unseen costs at most 25 % more than the
floor); and, since load from other jobs moves both sides of a round together, the
ratio of each round's floor to unseen's run (and to the end-to-end run that follows
it), with their median and spread. It then prints what the JPEG draft policy costs:
decode + PDQ seconds of the former policy (short side >= 256 px), the current one
(``Settings.pdq_min_short_side``) and a full decode, with each policy's worst PDQ
distance from the full decode.
Always exits 0: a benchmark, not a test.

Usage: ``.venv/bin/python benchmarks/ingest.py [--quick] [--workers N] ...``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pdqhash
from PIL import Image

from unseen.core.settings import Settings

if TYPE_CHECKING:
    from unseen.store.case import Case

TARGET = 0.80
BIG = (4000, 3000)  # 12 MP
SMALL = (1632, 1224)  # 2 MP
CHUNK = 16  # files per task, as unseen's default batch_size
# Draft policy: keep the short side >= this (as unseen); 256 px was the former policy.
MIN_SHORT_SIDE = Settings().pdq_min_short_side
FORMER_MIN_SHORT_SIDE = 256
GENERATOR = "unseen.demo.synth.make_camera_like_jpeg"

# ----------------------------------------------------------------------------- corpus


def build_corpus(
    cache: Path,
    big: int,
    small: int,
    big_size: tuple[int, int] = BIG,
    small_size: tuple[int, int] = SMALL,
) -> Path:
    """The corpus folder for these parameters, generated unless already cached.

    Pictures come from the project's own benign generator: gradients, shapes, sensor
    noise and camera EXIF (make, model, capture time; a body serial for DSLR models and
    GPS on even seeds).
    """
    params = {"generator": GENERATOR, "big": [big, *big_size], "small": [small, *small_size]}
    folder = cache / "b{}x{}x{}-s{}x{}x{}".format(big, *big_size, small, *small_size)
    manifest = folder / "manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text()) == params:
        return folder / "files"
    shutil.rmtree(folder, ignore_errors=True)
    files = folder / "files"
    files.mkdir(parents=True)
    jobs = [(files / f"big/IMG_{i:04d}.jpg", *big_size, i) for i in range(big)]
    jobs += [(files / f"small/IMG_{i:04d}.jpg", *small_size, 10_000 + i) for i in range(small)]
    for sub in ("big", "small"):
        (files / sub).mkdir()
    started = time.perf_counter()
    if len(jobs) < 8:
        for job in jobs:
            _generate(job)
    else:
        with ProcessPoolExecutor(default_workers()) as pool:
            list(pool.map(_generate, jobs, chunksize=4))
    manifest.write_text(json.dumps(params))
    print(f"generated {len(jobs)} JPEGs in {time.perf_counter() - started:.1f} s: {files}")
    return files


def _generate(job: tuple[Path, int, int, int]) -> None:
    from unseen.demo.synth import make_camera_like_jpeg  # not in the floor's workers

    make_camera_like_jpeg(*job, exif=True)


def corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def warm_cache(paths: list[Path]) -> int:
    """Read every file once so both sides start from the same (warm) page cache."""
    total = 0
    for p in paths:
        total += len(p.read_bytes())
    return total


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


# ------------------------------------------------------------------------------ floor


def floor_file(path: str) -> tuple[str, str]:
    """The least work anyone must do per photo: three hashes, a draft decode, PDQ."""
    with open(path, "rb") as f:
        data = f.read()
    hashlib.md5(data).hexdigest()
    hashlib.sha1(data).hexdigest()
    hashlib.sha256(data).hexdigest()
    img = Image.open(io.BytesIO(data))
    k = min(8, min(img.size) // MIN_SHORT_SIDE)
    if img.format == "JPEG" and k >= 2:
        img.draft("RGB", (math.ceil(img.width / k), math.ceil(img.height / k)))
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    bits, _quality = pdqhash.compute(np.asarray(rgb))
    return path, np.packbits(bits.astype(np.uint8)).tobytes().hex()


def floor_chunk(paths: list[str]) -> list[tuple[str, str]]:
    return [floor_file(p) for p in paths]


def run_floor(root: Path, workers: int) -> dict[str, str]:
    """Floor over every file under ``root``; returns ``{relative path: pdq hex}``."""
    paths = [str(p) for p in corpus_files(root)]
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    if workers == 0:
        results = [floor_chunk(c) for c in chunks]
    else:
        context = multiprocessing.get_context("forkserver")  # as unseen's pool
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            results = list(pool.map(floor_chunk, chunks))
    return {os.path.relpath(p, root): h for chunk in results for p, h in chunk}


# ----------------------------------------------------------------------------- unseen


def new_case(root: Path, work: Path) -> Case:
    """A fresh case in ``work`` holding ``root`` as a folder source (not timed)."""
    from unseen import plugins
    from unseen.engine import runner  # noqa: F401 - imported before any clock starts
    from unseen.store import repo
    from unseen.store.case import Case

    plugins.load()
    case = Case.create(work / "case", name="bench", examiner="bench")
    repo.add_source(case, "folder", str(root.resolve()), "corpus", "bench")
    return case


def run_unseen(case: Case, workers: int) -> None:
    """The fast pass of ``unseen process``: its whole-case stages are skipped here and
    timed apart (``run_stages``), as they depend on the case, not on the files."""
    from unseen.engine.driver import ordered_jobs
    from unseen.engine.runner import process_case

    skip = tuple(job.NAME for job in ordered_jobs())
    process_case(case, workers=workers, settings=Settings(skip=skip))


def run_stages(case: Case, workers: int) -> float:
    """Seconds the rest of ``unseen process`` takes: a second run finds nothing
    pending and runs only the whole-case stages (correlation, matching, ...)."""
    from unseen.engine.runner import process_case

    started = time.perf_counter()
    process_case(case, workers=workers)
    return time.perf_counter() - started


def unseen_hashes(case: Case) -> dict[str, str]:
    from sqlalchemy import select

    from unseen.store import schema as s

    query = select(s.items.c.path, s.images.c.pdq).join(
        s.images, s.images.c.item_id == s.items.c.id
    )
    with case.engine.connect() as conn:
        return {path: pdq for path, pdq in conn.execute(query)}


# ------------------------------------------------------------------------ measurement


def stop_forkserver() -> None:
    """Stop (and reap) the fork server, so RUSAGE_CHILDREN counts its pool workers.

    Pool workers are children of the fork server, not of us: their CPU time and peak
    RSS reach us only once the server has reaped them and we have reaped it.
    ``_stop`` is private (CPython's own tests use it); without it the worker figures
    read 0.
    """
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


@dataclass
class SideResult:
    """One timed run of one side; CPU seconds include every process it used."""

    side: str
    files: int
    seconds: float
    cpu_seconds: float
    main_rss_kib: int
    worker_rss_kib: int
    stage_seconds: float
    hashes: dict[str, str]


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(side: str, root: Path, workers: int, stages: bool = False) -> SideResult:
    """Time one side in this (fresh) process; set-up (the new case) is not timed.

    With ``stages``, unseen's whole-case stages are then run and timed too.
    """
    with tempfile.TemporaryDirectory(prefix="unseen-bench-") as tmp:
        case = new_case(root, Path(tmp)) if side == "unseen" else None
        cpu, started = _cpu(), time.perf_counter()
        if case is None:
            hashes = run_floor(root, workers)
        else:
            run_unseen(case, workers)
        seconds = time.perf_counter() - started
        if case is not None:
            hashes = unseen_hashes(case)
        stop_forkserver()
        cpu = _cpu() - cpu
        main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        stage_seconds = run_stages(case, workers) if case is not None and stages else 0.0
    return SideResult(side, len(hashes), seconds, cpu, main_rss, worker_rss, stage_seconds, hashes)


def end_to_end(root: Path, workers: int) -> float:
    """Wall seconds of ``unseen process CASE --skip deep`` timed from outside: start-up,
    the fast pass and every whole-case stage after it, on a new case of the corpus
    (making the case and adding the folder are not timed)."""
    exe = Path(sys.executable).with_name("unseen")
    with tempfile.TemporaryDirectory(prefix="unseen-bench-") as tmp:
        case = str(Path(tmp) / "case")
        env = {**os.environ, "UNSEEN_HOME": str(Path(tmp) / "library")}
        for setup in (["init", case, "--name", "E2E"], ["add", case, str(root)]):
            subprocess.run([str(exe), *setup], check=True, capture_output=True, env=env)
        started = time.perf_counter()
        command = [str(exe), "process", case, "--skip", "deep", "--workers", str(workers)]
        subprocess.run(command, check=True, capture_output=True, env=env)
        return time.perf_counter() - started


def measure_in_subprocess(side: str, root: Path, workers: int, stages: bool) -> SideResult:
    """``measure`` in a fresh interpreter, so each side's peak memory is its own."""
    cmd = [sys.executable, __file__, "--side", side, "--root", str(root)]
    cmd += ["--workers", str(workers), *(["--stages"] if stages else [])]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{side} side failed:\n{done.stderr}")
    return SideResult(**json.loads(done.stdout.splitlines()[-1]))


# ---------------------------------------------------------------------- decode policy


def _draft_pdq(data: bytes, min_short_side: int) -> tuple[str, float]:
    """PDQ of a JPEG draft-decoded as far as the short side stays >= the minimum
    (0: full decode), and the seconds the decode and hash took."""
    started = time.perf_counter()
    img = Image.open(io.BytesIO(data))
    k = min(8, min(img.size) // min_short_side) if min_short_side else 1
    if k >= 2:
        img.draft("RGB", (math.ceil(img.width / k), math.ceil(img.height / k)))
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    bits, _quality = pdqhash.compute(np.asarray(rgb))
    digest = np.packbits(bits.astype(np.uint8)).tobytes().hex()
    return digest, time.perf_counter() - started


def decode_policy_cost(paths: list[Path]) -> str:
    """Decode + PDQ seconds of the former (256 px) and current draft policies against a
    full decode, in this process, with each policy's worst distance from the full hash."""
    totals = {0: 0.0, FORMER_MIN_SHORT_SIDE: 0.0, MIN_SHORT_SIDE: 0.0}
    worst = dict.fromkeys(totals, 0)
    for path in paths:
        data = path.read_bytes()
        full, seconds = _draft_pdq(data, 0)
        totals[0] += seconds
        for policy in (FORMER_MIN_SHORT_SIDE, MIN_SHORT_SIDE):
            digest, seconds = _draft_pdq(data, policy)
            totals[policy] += seconds
            worst[policy] = max(worst[policy], (int(digest, 16) ^ int(full, 16)).bit_count())
    lines = [f"decode policy on the {len(paths)} 12 MP JPEGs (decode + PDQ, one process):"]
    for policy, label in (
        (0, "full decode"),
        (FORMER_MIN_SHORT_SIDE, "former"),
        (MIN_SHORT_SIDE, "current"),
    ):
        name = f"{label} (short side >= {policy} px)" if policy else label
        lines.append(
            f"  {name:<34} {totals[policy]:6.2f} s = {totals[policy] / totals[0]:.2f} x full,"
            f" worst PDQ distance from full {worst[policy]} bits"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------- main


def table(results: list[SideResult], total_bytes: int) -> str:
    mb = total_bytes / 1e6
    head = f"{'side':<7} {'files':>6} {'MB':>7} {'s':>6} {'files/s':>8} {'MB/s':>6} {'CPU s':>6}"
    lines = [f"{head} {'main RSS MB':>12} {'worker RSS MB':>14}"]
    for r in results:
        lines.append(
            f"{r.side:<7} {r.files:>6} {mb:>7.1f} {r.seconds:>6.2f} {r.files / r.seconds:>8.1f}"
            f" {mb / r.seconds:>6.1f} {r.cpu_seconds:>6.2f} {r.main_rss_kib / 1024:>12.0f}"
            f" {r.worker_rss_kib / 1024:>14.0f}"
        )
    return "\n".join(lines)


def _rounds(name: str, floors: list[float], ours: list[float]) -> str:
    """The ratio of each round's floor to ours in the same round: the median and its
    spread are what the README quotes (a round's two runs share the machine's load)."""
    ratios = sorted(f / o for f, o in zip(floors, ours, strict=True))
    return (
        f"{name}: floor/unseen per round {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"median {statistics.median(ratios):.2f} [{ratios[0]:.2f}-{ratios[-1]:.2f}]"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--big", type=int, default=60, help="12 MP JPEGs (default 60)")
    parser.add_argument("--small", type=int, default=240, help="2 MP JPEGs (default 240)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--dir", type=Path, default=Path(".bench/ingest"), help="corpus cache")
    parser.add_argument("--quick", action="store_true", help="6 big + 24 small (smoke run)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side, best kept")
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="also time `unseen process --skip deep` whole, from outside",
    )
    parser.add_argument("--side", choices=("floor", "unseen"), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--stages", action="store_true", help="also time the whole-case stages once"
    )
    args = parser.parse_args(argv)
    if args.side:  # one measurement, asked for by measure_in_subprocess
        print(json.dumps(asdict(measure(args.side, args.root, args.workers, args.stages))))
        return 0
    big, small = (6, 24) if args.quick else (args.big, args.small)
    root = build_corpus(args.dir, big, small)
    total = warm_cache(corpus_files(root))
    print(f"corpus: {big} x 12 MP + {small} x 2 MP JPEGs, {total / 1e6:.1f} MB, {root}")
    print(f"workers: {args.workers}; best of {args.repeat} per side, alternating order")
    best: dict[str, SideResult] = {}
    least_cpu: dict[str, float] = {}
    seconds: dict[str, list[float]] = {"floor": [], "unseen": [], "end to end": []}
    stage_seconds = 0.0
    for rep in range(args.repeat):
        for side in ("floor", "unseen") if rep % 2 == 0 else ("unseen", "floor"):
            # The whole-case stages depend on the case more than on the files: once.
            run = measure_in_subprocess(side, root, args.workers, args.stages and rep == 0)
            print(f"  run {rep + 1} {side:<6} {run.seconds:6.2f} s, CPU {run.cpu_seconds:6.2f} s")
            stage_seconds += run.stage_seconds
            seconds[side].append(run.seconds)
            least_cpu[side] = min(least_cpu.get(side, math.inf), run.cpu_seconds)
            if side not in best or run.seconds < best[side].seconds:
                best[side] = run
        if args.end_to_end:  # right after this round's floor: a ratio per round
            seconds["end to end"].append(end_to_end(root, args.workers))
            print(f"  run {rep + 1} unseen process, end to end {seconds['end to end'][-1]:6.2f} s")
    floor, unseen = best["floor"], best["unseen"]
    print(table([floor, unseen], total))
    same = sum(1 for path, pdq in floor.hashes.items() if unseen.hashes.get(path) == pdq)
    print(f"PDQ hashes identical: {same} of {len(floor.hashes)}")
    if args.stages:
        print(f"then unseen process's whole-case stages: {stage_seconds:.2f} s (not compared)")
    print(decode_policy_cost([p for p in corpus_files(root) if p.parent.name == "big"]))
    print(_rounds("fast pass", seconds["floor"], seconds["unseen"]))
    if args.end_to_end:
        whole = min(seconds["end to end"])
        print(
            f"end to end (unseen process --skip deep, from outside, best of {args.repeat}): "
            f"{whole:.2f} s; ratio floor/end-to-end = {floor.seconds / whole:.2f} "
            f"(target >= {TARGET:.2f})"
        )
        print(_rounds("end to end", seconds["floor"], seconds["end to end"]))
    cpu_ratio = least_cpu["floor"] / least_cpu["unseen"]
    print(f"CPU-time ratio floor/unseen = {cpu_ratio:.2f} (least of each; all processes)")
    ratio = floor.seconds / unseen.seconds
    verdict = "PASS" if ratio >= TARGET else "BELOW TARGET"
    print(f"ratio floor/unseen = {ratio:.2f} (target >= {TARGET:.2f}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
