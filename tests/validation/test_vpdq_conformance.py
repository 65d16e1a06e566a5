"""Video frame hashes agree with Meta's reference vPDQ (the ``vpdq`` package, optional
extra ``vpdq``; it builds from source against FFmpeg's development headers).

Generated benign videos (synthetic rooms panned across, H.264 and MPEG-4 Part 2) are
processed as evidence; the frames the video analyser hashed are compared with what
``vpdq.computeHash`` gives for the same file at the same seconds per hash: the same
frame numbers, timestamps, PDQ hashes and qualities, bit for bit, although the two
decode and scale with different FFmpeg builds (PyAV's bundled one, the system's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from unseen.demo.synth import render_scene
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

vpdq = pytest.importorskip("vpdq", reason="needs the vpdq extra (built against FFmpeg)")
av = pytest.importorskip("av", reason="needs the video extra")


def encode(path: Path, codec: str, fps: int, count: int) -> None:
    """A benign room panned across: frames cut from a wider synthetic picture."""
    room = np.asarray(render_scene(731, (960, 360)))
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = 640, 360, "yuv420p"
        for i in range(count):
            left = (3 * i) % 320
            frame = np.ascontiguousarray(room[:, left : left + 640])
            out.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(video.encode())


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, Path]:
    root = tmp_path_factory.mktemp("vpdq")
    evidence = root / "ev"
    evidence.mkdir()
    encode(evidence / "pan.mp4", "libx264", 25, 100)
    encode(evidence / "pan.avi", "mpeg4", 10, 40)
    case = Case.create(root / "case")
    repo.add_source(case, "folder", str(evidence), "EV1", "tester")
    process_case(case, workers=0)
    return case, evidence


def ours(case: Case, name: str) -> list[tuple[int, float, str, int]]:
    f, i = s.video_frames, s.items
    query = (
        select(f.c.frame_index, f.c.timestamp, f.c.pdq, f.c.quality)
        .select_from(f.join(i, i.c.id == f.c.item_id))
        .where(i.c.path == name)
        .order_by(f.c.frame_index)
    )
    with case.engine.connect() as conn:
        return [(r[0], r[1], r[2], r[3]) for r in conn.execute(query)]


@pytest.mark.parametrize(
    ("name", "frames"), [("pan.mp4", [0, 25, 50, 75]), ("pan.avi", [0, 10, 20, 30])]
)
def test_frame_hashes_agree_with_reference_vpdq(
    processed: tuple[Case, Path], name: str, frames: list[int]
) -> None:
    case, evidence = processed
    mine = ours(case, name)
    theirs = vpdq.computeHash(str(evidence / name), seconds_per_hash=1.0)
    assert [r[0] for r in mine] == frames
    assert [(n, round(t, 6), h, q) for n, t, h, q in mine] == [
        (f.frame_number, round(f.timestamp, 6), f.hex, f.quality) for f in theirs
    ]
