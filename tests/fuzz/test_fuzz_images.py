"""Image headers, EXIF and decoding on damaged pictures: the fast pass's analysers.

Runs every registered analyser on the item the way ``process_item`` does, but without
its catch-all, so what an analyser raises reaches the property. Analysers record
decoder failures from what Pillow raises on bad input (OSError, including
``UnidentifiedImageError``; ValueError; SyntaxError; EOFError; the decompression-bomb
error) and our own ``UnseenError``; anything else (IndexError, struct.error,
ZeroDivisionError, RecursionError...) is a finding.
"""

from __future__ import annotations

import io
import struct
from functools import cache
from pathlib import Path

import piexif
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from unseen.analysis.base import ItemContext
from unseen.core.errors import UnseenError
from unseen.core.models import FileRecord, ItemTask, SourceSpec
from unseen.core.settings import Settings
from unseen.engine import pipeline
from unseen.sources.base import open_source

from .common import fuzz_settings, hostile, only

RECORDED = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    UnseenError,
    Image.DecompressionBombError,
)


def _exif() -> bytes:
    gps = {
        piexif.GPSIFD.GPSLatitudeRef: b"N",
        piexif.GPSIFD.GPSLatitude: ((51, 1), (30, 1), (1234, 100)),
        piexif.GPSIFD.GPSLongitudeRef: b"W",
        piexif.GPSIFD.GPSLongitude: ((0, 1), (7, 1), (0, 0)),  # a zero denominator
    }
    return piexif.dump(
        {
            "0th": {piexif.ImageIFD.Make: b"Synthetic", piexif.ImageIFD.Orientation: 6},
            "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2024:03:01 11:00:00"},
            "GPS": gps,
        }
    )


@cache
def seeds() -> dict[str, bytes]:
    picture = Image.new("RGB", (48, 32), (200, 60, 20))
    out = {}
    for fmt, extra in (
        ("JPEG", {"exif": _exif(), "quality": 80}),
        ("PNG", {}),
        ("GIF", {}),
        ("BMP", {}),
        ("TIFF", {"exif": _exif()}),
        ("WEBP", {"quality": 50}),
    ):
        buf = io.BytesIO()
        picture.save(buf, fmt, **extra)
        out[fmt] = buf.getvalue()
    return out


def analyse(root: Path, data: bytes, name: str) -> None:
    (root / name).write_bytes(data)
    config = pipeline.WorkerConfig(Settings(), str(root / "thumbs"))
    pipeline._load_plugins(config)
    task = ItemTask(1, SourceSpec(1, "folder", str(root), "FUZZ"), name, name.encode(), len(data))
    record = FileRecord(item_id=1)
    with open_source(task.source).open(task.locator) as stream:
        ctx = ItemContext(task, record, config.settings, root / "thumbs", stream)
        ctx.head = stream.read(pipeline.HEAD_BYTES)
        for analyser in pipeline.analysers_for(config):
            if analyser.applies_to(ctx):
                analyser.analyse(ctx)


# Pillow warns about each corrupt tag it skips: expected here, noise in the report.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
FORMATS = ["JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP"]


@pytest.mark.parametrize("fmt", FORMATS)
@fuzz_settings(50)
@given(data=st.data())
def test_image_analysers_raise_only_recorded_errors(
    fmt: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    payload = data.draw(hostile(seeds()[fmt]))
    root = tmp_path_factory.mktemp("ev")
    (root / "thumbs").mkdir()
    only(RECORDED, lambda: analyse(root, payload, f"picture.{fmt.lower()}"))


@fuzz_settings(80)
@given(block=st.binary(max_size=600))
def test_exif_blocks_raise_only_recorded_errors(
    block: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Arbitrary APP1 Exif payloads inside an otherwise valid JPEG."""
    jpeg = seeds()["JPEG"]
    app1 = b"Exif\x00\x00" + block
    payload = jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]
    root = tmp_path_factory.mktemp("ev")
    (root / "thumbs").mkdir()
    only(RECORDED, lambda: analyse(root, payload, "exif.jpg"))
