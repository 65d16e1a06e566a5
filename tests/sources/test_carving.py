"""Carving and nested locators on bytes built here (no disk image needed)."""

from __future__ import annotations

import io

import numpy as np
import piexif
import pytest
from PIL import Image

from unseen.core.locator import split, unescape
from unseen.sources.carving import carve
from unseen.sources.containers import nest, top_locator

from .artefacts import photo


def _carve(blob: bytes, max_size: int = 1 << 20) -> list[tuple[int, int, str]]:
    return list(carve(lambda at, n: blob[at : at + n], 0, len(blob), max_size))


def _noise(n: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def test_carves_each_format_at_its_offset_with_its_exact_length() -> None:
    jpeg_with_thumb = io.BytesIO()
    thumb = io.BytesIO()
    Image.new("RGB", (64, 48), (9, 90, 200)).save(thumb, "JPEG")
    exif = piexif.dump({"0th": {}, "Exif": {}, "1st": {}, "thumbnail": thumb.getvalue()})
    Image.open(io.BytesIO(photo(8))).save(jpeg_with_thumb, "JPEG", exif=exif)
    pieces = [
        _noise(1000, 1),
        jpeg_with_thumb.getvalue(),
        _noise(333, 2),
        photo(6, (64, 48), "PNG"),
        bytes(5000),
        photo(7, (64, 48), "GIF"),
        _noise(77, 3),
    ]
    blob = b"".join(pieces)
    starts = np.cumsum([0, *map(len, pieces)])
    assert _carve(blob) == [
        (int(starts[1]), len(pieces[1]), "jpg"),  # its EXIF thumbnail is not carved again
        (int(starts[3]), len(pieces[3]), "png"),
        (int(starts[5]), len(pieces[5]), "gif"),
    ]


def test_broken_or_oversized_files_are_not_carved() -> None:
    png = bytearray(photo(6, (64, 48), "PNG"))
    png[40] ^= 0xFF  # a chunk CRC no longer matches
    jpeg = photo(1)
    cut = jpeg[: len(jpeg) // 2] + bytes(100)  # no end of image
    gif = photo(7, (64, 48), "GIF")[:-1]  # no trailer
    assert _carve(bytes(png) + cut + gif + bytes(10)) == []
    assert _carve(jpeg, max_size=len(jpeg) - 1) == []
    assert _carve(jpeg, max_size=len(jpeg)) == [(0, len(jpeg), "jpg")]


def test_headers_across_scan_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    from unseen.sources import carving

    monkeypatch.setattr(carving, "WINDOW", 4096)
    jpeg = photo(2)
    for at in (4093, 4094, 4095, 4096):  # the header straddles a window boundary
        blob = bytes(at) + jpeg + bytes(10)
        assert _carve(blob) == [(at, len(jpeg), "jpg")], at


@pytest.mark.parametrize(
    "member", [b"3:photos/x.jpg", b"f1048576:i12:a128-4", b"na\x00me\x01odd\x01\x30", b""]
)
def test_nested_locators_round_trip(member: bytes) -> None:
    top = b"Users/jo/a\x01b.zip"  # a folder source's raw path: opaque, never escaped
    locator = nest(nest(top, "zip", b"0:inner.tar"), "tar", member)
    assert split(locator) == (top, [("zip", b"0:inner.tar"), ("tar", member)])
    assert unescape(top_locator(member)) == member
    assert b"\x00" not in top_locator(member)
