"""A gallery of benign synthetic files, processed once and shared by the analysis tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import piexif
import pytest
from PIL import Image

from unseen.store.case import Case

from .casework import by_path, export, library_case
from .evidence import encode, exif_jpeg, jpeg, scene, write

# JPEG sizes for the draft-decoding checks: (width, height) -> expected policy.
DRAFT_SIZES = {
    (600, 450): "full",
    (1024, 768): "full",
    (2048, 1536): "jpeg-draft-1/2",
    (4000, 3000): "jpeg-draft-1/2",
}

# Non-RGB JPEGs of 1600 x 1536 (draft 1/2): CMYK (Adobe) and greyscale.
DRAFT_MODES = ("CMYK", "L")

SOUTH_WEST = {
    "zeroth": {
        piexif.ImageIFD.Make: b"Synthetic Cam Co",
        piexif.ImageIFD.Model: b"SC-1000",
        piexif.ImageIFD.Software: b"unseen-test 1.0",
        piexif.ImageIFD.Orientation: 1,
    },
    "exif": {
        piexif.ExifIFD.DateTimeOriginal: b"2024:05:01 12:34:56",
        piexif.ExifIFD.OffsetTimeOriginal: b"+02:00",
        piexif.ExifIFD.BodySerialNumber: b"SN0042",
        piexif.ExifIFD.LensModel: b"SynthLens 35mm f/1.8",
    },
    "gps": {
        # 33 deg 51' 35.64" S, 70 deg 39' 23.4" W, 42.35 m below sea level
        piexif.GPSIFD.GPSLatitudeRef: b"S",
        piexif.GPSIFD.GPSLatitude: ((33, 1), (51, 1), (3564, 100)),
        piexif.GPSIFD.GPSLongitudeRef: b"W",
        piexif.GPSIFD.GPSLongitude: ((70, 1), (39, 1), (2340, 100)),
        piexif.GPSIFD.GPSAltitudeRef: 1,
        piexif.GPSIFD.GPSAltitude: (4235, 100),
    },
}

NORTH_EAST = {
    "zeroth": {
        piexif.ImageIFD.Make: b"Other Optics",
        piexif.ImageIFD.Model: b"OO-7",
        piexif.ImageIFD.Orientation: 6,
    },
    "exif": {piexif.ExifIFD.DateTimeOriginal: b"2023:12:31 23:59:59"},
    "gps": {
        # 51 deg 30' 0.36" N, 0 deg 7' 39.9876" E, 123.5 m above sea level
        piexif.GPSIFD.GPSLatitudeRef: b"N",
        piexif.GPSIFD.GPSLatitude: ((51, 1), (30, 1), (36, 100)),
        piexif.GPSIFD.GPSLongitudeRef: b"E",
        piexif.GPSIFD.GPSLongitude: ((0, 1), (7, 1), (399876, 10000)),
        piexif.GPSIFD.GPSAltitudeRef: 0,
        piexif.GPSIFD.GPSAltitude: (1235, 10),
    },
}


MALFORMED = {
    "zeroth": {piexif.ImageIFD.Make: b"Good Make", piexif.ImageIFD.Orientation: 9},
    "exif": {piexif.ExifIFD.DateTimeOriginal: b"2024:13:45 25:61:00"},
    "gps": {
        piexif.GPSIFD.GPSLatitudeRef: b"N",
        piexif.GPSIFD.GPSLatitude: ((0, 0), (0, 0), (0, 0)),  # zero denominators
        piexif.GPSIFD.GPSLongitudeRef: b"E",
        piexif.GPSIFD.GPSLongitude: ((2, 1), (17, 1), (0, 1)),
    },
}

# Blank DateTimeOriginal: the EXIF way of saying "unknown".
BLANK_DATE = {
    "zeroth": {piexif.ImageIFD.Model: b"Blank Clock"},
    "exif": {piexif.ExifIFD.DateTimeOriginal: b"    :  :     :  :  "},
    "gps": {},
}


@dataclass
class Gallery:
    evidence: Path
    case: Case
    payloads: dict[str, bytes]
    records: dict[str, dict[str, Any]]


def halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: shows which way a picture was turned."""
    arr = np.zeros((height, width, 3), np.uint8)
    arr[:, : width // 2] = (220, 20, 20)
    arr[:, width // 2 :] = (20, 20, 220)
    return Image.fromarray(arr, "RGB")


def grey16(width: int, height: int) -> Image.Image:
    """A 16-bit greyscale picture using values 1000-60000 (mode I;16)."""
    luma = np.asarray(scene(width, height, 31).convert("L"), np.float64)
    return Image.fromarray((1000 + luma * (59000 / 255)).astype(np.uint16))


def gallery_payloads() -> dict[str, bytes]:
    """File name -> content of every gallery file."""
    files: dict[str, bytes] = {}
    img = scene(320, 240, 1)
    for name, fmt, params in (
        ("formats/photo.jpg", "JPEG", {"quality": 75}),
        ("formats/photo.png", "PNG", {}),
        ("formats/photo.bmp", "BMP", {}),
        ("formats/photo.tiff", "TIFF", {}),
        ("formats/photo.webp", "WEBP", {"quality": 80}),
    ):
        files[name] = encode(img, fmt, **params)
    files["formats/photo.gif"] = encode(img.convert("P", palette=Image.Palette.ADAPTIVE), "GIF")
    files["mime/jpeg_named.txt"] = jpeg(200, 150, 2)
    files["mime/text_named.jpg"] = b"Meeting notes: nothing to see here.\n" * 4
    files["mime/notes.txt"] = b"plain text notes\n"
    for (w, h), _policy in DRAFT_SIZES.items():
        files[f"draft/{w}x{h}.jpg"] = jpeg(w, h, seed=w, quality=90)
    for mode in DRAFT_MODES:  # draft-decoded in their own colour space
        files[f"draft/{mode}.jpg"] = encode(scene(1600, 1536, 3).convert(mode), "JPEG")
    base = scene(300, 220, 5)
    files["modes/cmyk.jpg"] = encode(base.convert("CMYK"), "JPEG", quality=90)
    files["modes/palette_transparent.png"] = encode(
        base.convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "PNG", transparency=0
    )
    files["modes/bilevel.png"] = encode(base.convert("L").convert("1"), "PNG")
    rgba = base.copy()
    rgba.putalpha(Image.linear_gradient("L").resize(base.size))
    files["modes/rgba.png"] = encode(rgba, "PNG")
    files["modes/grey16.png"] = encode(grey16(300, 220), "PNG")
    turn = scene(640, 480, 9)  # PDQ's own flips drift from real ones below ~500 px
    files["dihedral/original.png"] = encode(turn, "PNG")
    files["dihedral/rotated90.png"] = encode(turn.transpose(Image.Transpose.ROTATE_90), "PNG")
    files["exif/south_west.jpg"] = exif_jpeg(11, **SOUTH_WEST, thumbnail=True)
    files["exif/north_east.jpg"] = exif_jpeg(12, **NORTH_EAST, thumbnail=False)
    files["exif/malformed.jpg"] = exif_jpeg(13, **MALFORMED, thumbnail=False)
    files["exif/blank_date.jpg"] = exif_jpeg(14, **BLANK_DATE, thumbnail=False)
    files["exif/upright6.jpg"] = encode(
        halves(400, 200), "JPEG", quality=90, exif=piexif.dump({"0th": {274: 6}})
    )
    for quality, seeds in ((50, (21, 22)), (75, (23, 24)), (90, (25,))):
        for seed in seeds:
            files[f"quality/q{quality}_{seed}.jpg"] = jpeg(320, 240, seed, quality=quality)
    return files


@pytest.fixture(scope="session")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gallery]:
    root = tmp_path_factory.mktemp("gallery")
    payloads = gallery_payloads()
    for name, data in payloads.items():
        write(root / "evidence" / name, data)
    case = library_case(root / "case", root / "evidence")
    yield Gallery(root / "evidence", case, payloads, by_path(export(case)))
    case.close()
