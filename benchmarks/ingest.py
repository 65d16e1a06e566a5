"""Ingest benchmark: ``unseen process`` against the plainest possible floor.

Builds (once, cached) a corpus of camera-like JPEGs with EXIF, then, with the same
number of worker processes, times

* the floor: read + MD5 + SHA-1 + SHA-256 + JPEG draft decode + PDQ, written as
  plainly as possible, in a process pool fed chunks of files, and
* unseen: ``process_case`` on a fresh case holding the same folder (type sniffing,
  EXIF, PDQ and its 8 dihedral hashes, thumbnails and the database included).

Each side runs in its own fresh Python process, so its peak memory is its own. The
page cache is warmed before any timing, and the sides alternate over the repeats
(best of each kept). It prints files, MB, seconds, files/s, MB/s and peak RSS for
both, and the ratio floor seconds / unseen seconds (target >= 0.80, i.e. unseen
costs at most 25 % more than the floor). Always exits 0: a benchmark, not a test.

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
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pdqhash
import piexif
from PIL import Image, ImageDraw

TARGET = 0.80
BIG = (4000, 3000)  # 12 MP
SMALL = (1632, 1224)  # 2 MP
CHUNK = 16  # files per task, as unseen's default batch_size
MIN_SHORT_SIDE = 256  # draft policy: keep the short side >= 256 px (as unseen)
GENERATOR = "ingest-v1"  # bump when the corpus generator changes

# ----------------------------------------------------------------------------- corpus


def _dms(value: float) -> tuple[tuple[int, int], ...]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60 * 1000)
    return ((d, 1), (m, 1), (s, 1000))


def camera_exif(rng: np.random.Generator, index: int) -> bytes:
    """EXIF as a phone camera writes it: make, model, serial, time, GPS, thumbnail."""
    lat, lon = float(rng.uniform(-60, 60)), float(rng.uniform(-170, 170))
    when = (
        f"2023:{rng.integers(1, 13):02d}:{rng.integers(1, 29):02d} 1{index % 10}:2{index % 6}:07"
    )
    thumb = io.BytesIO()
    Image.new("RGB", (160, 120), tuple(int(v) for v in rng.integers(0, 256, 3))).save(
        thumb, "JPEG", quality=70
    )
    return bytes(
        piexif.dump(
            {
                "0th": {
                    piexif.ImageIFD.Make: b"BenchCam",
                    piexif.ImageIFD.Model: f"BC-{index % 3 + 1}00".encode(),
                    piexif.ImageIFD.Software: b"BenchCam firmware 1.2",
                    piexif.ImageIFD.Orientation: 1,
                    piexif.ImageIFD.DateTime: when.encode(),
                },
                "Exif": {
                    piexif.ExifIFD.DateTimeOriginal: when.encode(),
                    0x9011: b"+02:00",  # OffsetTimeOriginal
                    piexif.ExifIFD.BodySerialNumber: f"SN{index % 3:06d}".encode(),
                    piexif.ExifIFD.LensModel: b"BenchLens 4.2mm f/1.8",
                },
                "GPS": {
                    piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S",
                    piexif.GPSIFD.GPSLatitude: _dms(lat),
                    piexif.GPSIFD.GPSLongitudeRef: b"E" if lon >= 0 else b"W",
                    piexif.GPSIFD.GPSLongitude: _dms(lon),
                    piexif.GPSIFD.GPSAltitudeRef: 0,
                    piexif.GPSIFD.GPSAltitude: (int(rng.integers(0, 3000)), 1),
                },
                "1st": {piexif.ImageIFD.JPEGInterchangeFormat: 0},
                "thumbnail": thumb.getvalue(),
            }
        )
    )


def camera_like_jpeg(path: Path, width: int, height: int, seed: int) -> None:
    """A benign synthetic photo: smooth colour field, shapes, sensor-like noise; q=95.

    Pure noise would make unrealistically large files; this gives about 3.8 MB at
    12 MP and 0.7 MB at 2 MP, like a phone camera.
    """
    rng = np.random.default_rng(seed)
    lw, lh = max(2, width // 32), max(2, height // 32)
    y, x = np.mgrid[0:lh, 0:lw].astype(np.float32)
    field = np.empty((lh, lw, 3), np.float32)
    for c in range(3):
        gx, gy = rng.uniform(-1, 1, 2)
        fx, fy = rng.uniform(0.02, 0.3, 2)
        phase = rng.uniform(0, 6)
        field[..., c] = (
            128 + 60 * (gx * x / lw + gy * y / lh) + 40 * np.sin(fx * x + phase) * np.cos(fy * y)
        )
    img = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8)).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    draw = ImageDraw.Draw(img)
    short = min(width, height)
    for _ in range(25):
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(short // 20, short // 3))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        elif shape == 1:
            draw.rectangle((cx - r, cy - r // 2, cx + r, cy + r // 2), fill=colour)
        else:
            points = [(int(rng.integers(0, width)), int(rng.integers(0, height))) for _ in "abc"]
            draw.polygon(points, fill=colour)
    pixels = np.asarray(img).astype(np.int16)
    pixels += rng.integers(-8, 9, pixels.shape, dtype=np.int16)
    out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    out.save(path, "JPEG", quality=95, exif=camera_exif(rng, seed))


def build_corpus(
    cache: Path, big: int, small: int, big_size: tuple[int, int] = BIG, small_size=SMALL
) -> Path:
    """The corpus folder for these parameters, generated unless already cached."""
    params = {"generator": GENERATOR, "big": [big, *big_size], "small": [small, *small_size]}
    folder = cache / f"b{big}x{big_size[0]}-s{small}x{small_size[0]}"
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
    with ProcessPoolExecutor(default_workers()) as pool:
        list(pool.map(_generate, jobs, chunksize=4))
    manifest.write_text(json.dumps(params))
    print(f"generated {len(jobs)} JPEGs in {time.perf_counter() - started:.1f} s: {files}")
    return files


def _generate(job: tuple[Path, int, int, int]) -> None:
    camera_like_jpeg(*job)


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
    if img.mode != "RGB":
        img = img.convert("RGB")
    bits, _quality = pdqhash.compute(np.asarray(img))
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


def new_case(root: Path, work: Path) -> object:
    """A fresh case in ``work`` holding ``root`` as a folder source (not timed)."""
    from unseen import plugins
    from unseen.store import repo
    from unseen.store.case import Case

    plugins.load()
    case = Case.create(work / "case", name="bench", examiner="bench")
    repo.add_source(case, "folder", str(root.resolve()), "corpus", "bench")
    return case


def run_unseen(case: object, workers: int) -> dict[str, str]:
    """``process_case`` (what ``unseen process`` runs); returns ``{path: pdq hex}``."""
    from sqlalchemy import select

    from unseen.engine.runner import process_case
    from unseen.store import schema as s
    from unseen.store.case import Case

    assert isinstance(case, Case)
    process_case(case, workers=workers)
    query = select(s.items.c.path, s.images.c.pdq).join(
        s.images, s.images.c.item_id == s.items.c.id
    )
    with case.engine.connect() as conn:
        return {path: pdq for path, pdq in conn.execute(query)}


# ------------------------------------------------------------------------ measurement


class PeakRss(threading.Thread):
    """Samples the peak RSS (VmHWM) of every descendant process, 5 times a second.

    Pool workers are children of the fork server, not of us, so RUSAGE_CHILDREN
    never sees them; /proc does.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[int, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.sample()

    def sample(self) -> None:
        for pid in _descendants(os.getpid()):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    kib = int(line.split()[1])
                    self.peaks[pid] = max(self.peaks.get(pid, 0), kib)

    def stop(self) -> int:
        """Stop sampling; the largest peak of any one descendant, KiB."""
        self.done.set()
        self.join()
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return max([children, *self.peaks.values()])


def _descendants(pid: int) -> Iterator[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return
    for child in map(int, children):
        yield child
        yield from _descendants(child)


@dataclass
class SideResult:
    side: str
    files: int
    seconds: float
    main_rss_kib: int
    worker_rss_kib: int
    hashes: dict[str, str]


def measure(side: str, root: Path, workers: int) -> SideResult:
    """Time one side in this process; set-up (the fresh case) is not timed."""
    with tempfile.TemporaryDirectory(prefix="unseen-bench-") as tmp:
        case = new_case(root, Path(tmp)) if side == "unseen" else None
        sampler = PeakRss()
        sampler.start()
        started = time.perf_counter()
        hashes = run_floor(root, workers) if side == "floor" else run_unseen(case, workers)
        seconds = time.perf_counter() - started
        worker_rss = sampler.stop()
    main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return SideResult(side, len(hashes), seconds, main_rss, worker_rss, hashes)


def measure_in_subprocess(side: str, root: Path, workers: int) -> SideResult:
    """``measure`` in a fresh interpreter, so each side's peak memory is its own."""
    cmd = [sys.executable, __file__, "--side", side, "--root", str(root)]
    done = subprocess.run([*cmd, "--workers", str(workers)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{side} side failed:\n{done.stderr}")
    return SideResult(**json.loads(done.stdout.splitlines()[-1]))


# ------------------------------------------------------------------------------- main


def table(results: list[SideResult], total_bytes: int) -> str:
    mb = total_bytes / 1e6
    head = f"{'side':<7} {'files':>6} {'MB':>8} {'s':>7} {'files/s':>8} {'MB/s':>7}"
    lines = [f"{head} {'main RSS MB':>12} {'worker RSS MB':>14}"]
    for r in results:
        lines.append(
            f"{r.side:<7} {r.files:>6} {mb:>8.1f} {r.seconds:>7.2f} {r.files / r.seconds:>8.1f}"
            f" {mb / r.seconds:>7.1f} {r.main_rss_kib / 1024:>12.0f}"
            f" {r.worker_rss_kib / 1024:>14.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--big", type=int, default=60, help="12 MP JPEGs (default 60)")
    parser.add_argument("--small", type=int, default=240, help="2 MP JPEGs (default 240)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--dir", type=Path, default=Path(".bench/ingest"), help="corpus cache")
    parser.add_argument("--quick", action="store_true", help="6 big + 24 small (smoke run)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per side, best kept")
    parser.add_argument("--side", choices=("floor", "unseen"), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:  # one measurement, asked for by measure_in_subprocess
        print(json.dumps(asdict(measure(args.side, args.root, args.workers))))
        return 0
    big, small = (6, 24) if args.quick else (args.big, args.small)
    root = build_corpus(args.dir, big, small)
    paths = corpus_files(root)
    total = warm_cache(paths)
    print(f"corpus: {big} x 12 MP + {small} x 2 MP JPEGs, {total / 1e6:.1f} MB, {root}")
    print(f"workers: {args.workers}; best of {args.repeat} per side, alternating order")
    best: dict[str, SideResult] = {}
    for rep in range(args.repeat):
        for side in ("floor", "unseen") if rep % 2 == 0 else ("unseen", "floor"):
            result = measure_in_subprocess(side, root, args.workers)
            print(f"  run {rep + 1} {side:<6} {result.seconds:6.2f} s")
            if side not in best or result.seconds < best[side].seconds:
                best[side] = result
    floor, unseen = best["floor"], best["unseen"]
    print(table([floor, unseen], total))
    differ = sum(1 for p, h in floor.hashes.items() if unseen.hashes.get(p) != h)
    print(f"PDQ hashes: {len(floor.hashes) - differ} of {len(floor.hashes)} identical")
    ratio = floor.seconds / unseen.seconds
    verdict = "PASS" if ratio >= TARGET else "BELOW TARGET"
    print(f"ratio floor/unseen = {ratio:.2f} (target >= {TARGET:.2f}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
