"""Videos: container facts, vPDQ frame hashes checked against a reference decode, sheets."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
import pytest
from PIL import Image
from sqlalchemy import select

from unseen import plugins
from unseen.analysis.videometa import parse_iso6709
from unseen.engine.runner import process_case
from unseen.reports.records import iter_records
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

av = pytest.importorskip("av")

LOCATION = "+47.3769+008.5417+408.000/"


def frames(count: int, width: int = 640, height: int = 360) -> list[np.ndarray]:
    """Smooth moving pictures: a colour gradient scrolling under a sliding bright block."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], -1)
    base = base.astype(np.uint8)
    out = []
    for i in range(count):
        img = np.roll(base, 7 * i, axis=1)
        left = (13 * i) % (width - 100)
        img[height // 4 : height // 2, left : left + 100] = (250, 250, 250)
        out.append(img)
    return out


def encode(
    path: Path, fmt: str, codec: str, fps: int, count: int, meta: dict[str, str], audio: bool
) -> None:
    options = {"movflags": "use_metadata_tags"} if fmt == "mp4" else {}
    with av.open(str(path), "w", format=fmt, options=options) as out:
        out.metadata.update(meta)
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = 640, 360, "yuv420p"
        video.options = {"g": "50", "preset": "ultrafast"} if codec == "libx264" else {}
        sound = out.add_stream("aac", rate=44100) if audio else None
        for img in frames(count):
            out.mux(video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(video.encode())
        if sound is not None:
            samples = (np.sin(np.arange(44100 * count // fps) / 20) * 8000).astype(np.int16)
            for start in range(0, len(samples), 1024):
                chunk = samples[None, start : start + 1024]
                frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
                frame.sample_rate = 44100
                out.mux(sound.encode(frame))
            out.mux(sound.encode())


def reference(path: Path, every: int) -> list[tuple[int, float, str, int]]:
    """vPDQ's rows computed straight from a PyAV decode, for comparison."""
    rows = []
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        fps = float(stream.average_rate)
        for n, frame in enumerate(c.decode(stream)):
            if n % every == 0:
                rgb = frame.to_ndarray(format="rgb24", interpolation="AREA")
                bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
                hexa = np.packbits(bits.astype(np.uint8)).tobytes().hex()
                rows.append((n, n / fps, hexa, int(quality)))
    return rows


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    folder = root / "phone"
    folder.mkdir()
    meta = {
        "creation_time": "2024-05-01T12:34:56.000000Z",
        "location": LOCATION,
        "com.apple.quicktime.make": "TestCam",
        "com.apple.quicktime.model": "Model X100",
    }
    encode(folder / "clip.mp4", "mp4", "libx264", 25, 250, meta, audio=True)
    encode(folder / "short.mkv", "matroska", "mpeg4", 10, 30, {}, audio=False)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(folder / "clip.mp4", "DCIM/clip.mp4")
    (folder / "backup.zip").write_bytes(buf.getvalue())
    whole = (folder / "clip.mp4").read_bytes()
    (folder / "broken.mp4").write_bytes(whole[:4096])
    return folder


@pytest.fixture(scope="module")
def processed(evidence: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, Any]:
    plugins.load()
    case = Case.create(tmp_path_factory.mktemp("case") / "c", name="V", examiner="T")
    repo.add_source(case, "folder", str(evidence), "phone", "T")
    process_case(case, workers=0)
    with case.engine.connect() as conn:
        records = {r["path"]: r for r in iter_records(conn)}
    return case, records


def stored_frames(case: Case, path: str) -> list[tuple[int, float, str, int]]:
    f, i = s.video_frames, s.items
    query = (
        select(f.c.frame_index, f.c.timestamp, f.c.pdq, f.c.quality)
        .select_from(f.join(i, i.c.id == f.c.item_id))
        .where(i.c.path == path)
        .order_by(f.c.frame_index)
    )
    with case.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def test_mp4_facts_from_container_metadata(processed: tuple[Case, Any], evidence: Path) -> None:
    case, records = processed
    clip = records["clip.mp4"]
    assert clip["mime"] == "video/mp4"
    video = clip["video"]
    sheet = video.pop("contact_sheet")
    assert round(video.pop("duration"), 1) == 10.0
    assert video == {
        "video_codec": "h264",
        "audio_codec": "aac",
        "width": 640,
        "height": 360,
        "fps": 25.0,
        "frames": 250,
        "creation_time": "2024-05-01T12:34:56Z",
        "make": "TestCam",
        "model": "Model X100",
        "gps_lat": 47.3769,
        "gps_lon": 8.5417,
        "gps_alt": 408.0,
        "hashed_frames": 10,
    }
    assert sheet == f"{clip['sha256'][:2]}/{clip['sha256']}.jpg"
    with Image.open(case.thumbs_dir / sheet) as img:
        assert img.size == (255, 144)  # 3 x 3 cells of 85 x 48


def test_frame_hashes_match_a_reference_decode(
    processed: tuple[Case, Any], evidence: Path
) -> None:
    case, _ = processed
    expected = reference(evidence / "clip.mp4", 25)
    assert [r[0] for r in expected] == list(range(0, 250, 25))
    assert stored_frames(case, "clip.mp4") == expected
    assert [r[0] for r in stored_frames(case, "short.mkv")] == [0, 10, 20]
    assert stored_frames(case, "short.mkv") == reference(evidence / "short.mkv", 10)


def test_video_inside_an_archive_hashes_the_same(processed: tuple[Case, Any]) -> None:
    case, records = processed
    nested = records["backup.zip!DCIM/clip.mp4"]
    assert nested["container"] == ["backup.zip"]
    assert nested["video"]["hashed_frames"] == 10
    assert stored_frames(case, "backup.zip!DCIM/clip.mp4") == stored_frames(case, "clip.mp4")


def test_broken_video_is_recorded(processed: tuple[Case, Any]) -> None:
    _, records = processed
    broken = records["broken.mp4"]
    assert broken["status"] == "done"
    assert len(broken["errors"]) == 1 and broken["errors"][0].startswith("video: video not ")


def test_without_pyav_the_item_says_so(
    processed: tuple[Case, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, evidence: Path
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # as if the [video] extra were absent
    case = Case.create(tmp_path / "c", name="NOAV", examiner="T")
    only = tmp_path / "one"
    only.mkdir()
    (only / "clip.mp4").write_bytes((evidence / "clip.mp4").read_bytes())
    repo.add_source(case, "folder", str(only), "one", "T")
    process_case(case, workers=0)
    with case.engine.connect() as conn:
        (record,) = iter_records(conn)
    assert record["errors"] == ["video: video analysis unavailable: install unseen[video]"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LOCATION, (47.3769, 8.5417, 408.0)),
        ("-33.8599-070.6565/", (-33.8599, -70.6565, None)),
        ("+4722.614+00832.502/", (47.3769, 8.54170, None)),  # degrees and minutes
        ("+472236.84+0083230.12+12.5/", (47.3769, 8.54170, 12.5)),  # and seconds
        ("+91.0000+000.0000/", None),
        ("somewhere", None),
    ],
)
def test_iso6709(text: str, expected: tuple[float, float, float | None] | None) -> None:
    got = parse_iso6709(text)
    if expected is None or got is None:
        assert got == expected
    else:
        assert got == pytest.approx(expected, abs=1e-4)
