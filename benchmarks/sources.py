"""Sources benchmark: disk-image formats against a folder of the same files; video hashing.

1. **Image formats vs folder.** The same camera-like JPEGs, once as a plain folder and
   once inside a FAT32 partition of an MBR disk, stored as that raw disk, an E01
   (ewfacquire, deflate) and, made from the raw disk by ``qemu-img convert``, a VMDK,
   a VHDX and a QCOW2. ``process_case`` (fast pass only, carving off so every side does
   the same work) runs on a fresh case for each, with the same workers; the E01 once
   more with carving on. Printed per format: seconds, files/s and the ratio folder
   seconds / format seconds (1.0: the layers cost nothing) against its target (0.8
   for raw, VMDK and VHDX; 0.7 for the compressed E01 and QCOW2).
2. **Video.** A synthetic H.264 clip (640x360, 25 fps). The floor decodes every frame
   with PyAV and nothing else; unseen's video analyser decodes every frame too, then
   hashes one frame per second with PDQ and draws the contact sheet. Printed: seconds,
   decoded frames/s, and the ratio decode seconds / analysis seconds.

``--repeat`` rounds, each running every side once; printed: median seconds, and each
ratio as the median of the rounds' ratios with its spread. Always exits 0: a benchmark, not a
test. Needs mkfs.vfat, mtools, sfdisk and ewfacquire for part 1 (qemu-img for the
virtual disks, skipped without it), PyAV for part 2.

Usage: ``.venv/bin/python benchmarks/sources.py [--quick] [--workers N] [--repeat N]``
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

import numpy as np
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from unseen import plugins
from unseen.analysis.base import ItemContext
from unseen.analysis.video import VideoAnalyser
from unseen.core.models import FileRecord, ItemTask, SourceSpec
from unseen.core.settings import Settings
from unseen.engine.driver import default_workers, ordered_jobs
from unseen.engine.runner import process_case
from unseen.sources.base import detect_kind
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case


def photo(seed: int, size: tuple[int, int]) -> bytes:
    rng = np.random.default_rng(seed)
    w, h = size
    cells = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
    img = Image.fromarray(cells).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y, r = (float(v) for v in rng.uniform(0, 1, 3) * (w, h, h / 4))
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3))
        )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def run(*cmd: str | Path, stdin: bytes | None = None) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, input=stdin)


# Format, file made from the raw disk, target ratio folder/format.
TARGETS = {"raw": 0.8, "E01": 0.7, "VMDK": 0.8, "VHDX": 0.8, "QCOW2": 0.7}
QEMU = {"VMDK": "vmdk", "VHDX": "vhdx", "QCOW2": "qcow2"}


def build_evidence(root: Path, files: int, size: tuple[int, int]) -> tuple[Path, dict[str, Path]]:
    """(folder, {format: image}) holding the same ``files`` JPEGs."""
    folder = root / "folder"
    folder.mkdir()
    for i in range(files):
        (folder / f"IMG_{i:04d}.JPG").write_bytes(photo(i, size))
    total = sum(p.stat().st_size for p in folder.iterdir())
    fs_mib = max(40, total * 3 // 2 // 2**20 + 8)
    part = root / "p1.raw"
    run("truncate", "-s", f"{fs_mib}M", part)
    run("mkfs.vfat", "-F", "32", "-n", "BENCH", part)
    run("mcopy", "-i", part, *sorted(folder.iterdir()), "::/")
    disk = root / "disk.raw"
    run("truncate", "-s", f"{fs_mib + 2}M", disk)
    run("sfdisk", "-q", disk, stdin=b"label: dos\nstart=2048, type=c\n")
    run("dd", f"if={part}", f"of={disk}", "bs=1M", "seek=1", "conv=notrunc", "status=none")
    run("ewfacquire", "-u", "-q", "-t", root / "disk", "-f", "encase6", "-c", "deflate:fast", disk)
    part.unlink()
    images = {"raw": disk, "E01": root / "disk.E01"}
    if shutil.which("qemu-img"):
        for name, fmt in QEMU.items():
            target = root / f"disk.{fmt}"
            run("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, disk, target)
            images[name] = target
    return folder, images


def ingest(
    evidence: Path, work: Path, workers: int, carve: bool = True, expected: int = 0
) -> float:
    """Seconds of the fast pass; warns when fewer than ``expected`` JPEGs were hashed."""
    shutil.rmtree(work, ignore_errors=True)
    case = Case.create(work, name="BENCH", examiner="bench")
    repo.add_source(case, detect_kind(evidence), str(evidence), evidence.name, "bench")
    start = time.perf_counter()
    # The fast pass only: whole-case stages (matching, correlation...) are not sources.
    stages = tuple(job.NAME for job in ordered_jobs())
    settings = Settings(skip=stages, carve_unallocated=carve)
    process_case(case, workers=workers, settings=settings)
    seconds = time.perf_counter() - start
    with case.engine.connect() as conn:
        pictures = conn.execute(
            select(func.count()).where(
                s.items.c.mime == "image/jpeg", s.items.c.sha256.is_not(None)
            )
        ).scalar_one()
    if pictures < expected:  # a side that failed is not fast, it is wrong
        print(f"  WARNING: {evidence.name}: only {pictures} JPEGs hashed")
    return seconds


def compare_formats(
    root: Path, folder: Path, images: dict[str, Path], files: int, workers: int, repeat: int
) -> None:
    """Ingest the folder and every image format, alternating, and print the ratios."""
    mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6

    def side(name: str, evidence: Path, carve: bool = False) -> Callable[[], float]:
        return lambda: ingest(evidence, root / f"case-{name}", workers, carve, files)

    names = list(images)
    sides = [side("folder", folder), *(side(n, images[n]) for n in names)]
    sides.append(side("E01-carving", images["E01"], carve=True))
    t_folder, *t_formats, t_carving = rounds(repeat, *sides)
    print(f"ingest: {files} JPEGs ({mb:.1f} MB), {workers} workers, carving off")
    print(f"  folder {median(t_folder):7.2f} s  {files / median(t_folder):7.1f} files/s")
    for name, seconds in zip(names, t_formats, strict=True):
        ratio, target = ratios(t_folder, seconds), TARGETS[name]
        verdict = "meets" if median(ratio) >= target else "BELOW"
        print(
            f"  {name:<6} {median(seconds):7.2f} s  {files / median(seconds):7.1f} files/s  "
            f"ratio folder/{name} = {spread(ratio)} ({verdict} target {target})"
        )
    missing = sorted(set(TARGETS) - set(images))
    if missing:
        print(f"  skipped: {', '.join(missing)} (needs qemu-img)")
    print(
        f"  E01 with carving of its free space: {median(t_carving):7.2f} s, ratio folder/E01 = "
        f"{spread(ratios(t_folder, t_carving))}"
    )


def make_clip(path: Path, seconds: int) -> None:
    import av

    y, x = np.mgrid[0:360, 0:640]
    base = np.stack([x * 255 // 640, y * 255 // 360, (x + y) * 255 // 1000], -1).astype(np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"preset": "veryfast", "g": "50"}
        for i in range(seconds * 25):
            frame = np.roll(base, 5 * i, axis=1)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())


def decode_only(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        video = c.streams.video[0]
        video.codec_context.thread_type = "AUTO"
        return sum(1 for _ in c.decode(video))


def analyse_video(path: Path, thumbs: Path) -> int:
    record = FileRecord(item_id=1, sha256="0" * 64, mime="video/mp4")
    spec = SourceSpec(1, "folder", str(path.parent), "bench")
    task = ItemTask(1, spec, path.name, path.name.encode(), path.stat().st_size)
    with path.open("rb") as stream:
        ctx = ItemContext(task, record, Settings(), thumbs, stream)
        VideoAnalyser().analyse(ctx)
    assert record.video is not None
    return record.video.frames or 0


def rounds(repeat: int, *sides: Callable[[], float]) -> list[list[float]]:
    """Every side's seconds in each of ``repeat`` rounds (a round runs each side once)."""
    times: list[list[float]] = [[] for _ in sides]
    for _ in range(repeat):
        for i, side in enumerate(sides):
            times[i].append(side())
    return times


def ratios(floor: list[float], ours: list[float]) -> list[float]:
    """Round by round: rounds share the machine's state, so their ratio is the fair one."""
    return [f / o for f, o in zip(floor, ours, strict=True)]


def spread(values: list[float]) -> str:
    return f"{median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def timed(fn: Callable[[], object]) -> Callable[[], float]:
    def side() -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return side


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpus and clip")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    plugins.load()
    files, size, seconds = (40, (1024, 768), 10) if args.quick else (300, (1600, 1200), 60)
    with tempfile.TemporaryDirectory(prefix="unseen-bench-sources-") as tmp:
        root = Path(tmp)
        if all(shutil.which(t) for t in ("mkfs.vfat", "mcopy", "sfdisk", "ewfacquire")):
            folder, images = build_evidence(root, files, size)
            compare_formats(root, folder, images, files, args.workers, args.repeat)
        else:
            print("ingest: skipped (needs mkfs.vfat, mtools, sfdisk, ewfacquire)")
        try:
            clip = root / "clip.mp4"
            make_clip(clip, seconds)
        except ImportError:
            print("video: skipped (needs PyAV: pip install unseen[video])")
            return
        frames = decode_only(clip)
        thumbs = root / "thumbs"
        t_decode, t_hash = rounds(
            args.repeat,
            timed(lambda: decode_only(clip)),
            timed(lambda: analyse_video(clip, thumbs)),
        )
        decode, hashed = median(t_decode), median(t_hash)
        print(f"video: {seconds} s clip, 640x360 @ 25 fps, {frames} frames, {seconds} hashed")
        print(f"  decode only      {decode:6.2f} s  {frames / decode:7.1f} frames/s")
        print(f"  decode + vPDQ   {hashed:6.2f} s  {frames / hashed:7.1f} frames/s")
        print(f"  ratio decode/analysis = {spread(ratios(t_decode, t_hash))}")


if __name__ == "__main__":
    main()
