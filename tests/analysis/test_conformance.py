"""Conformance with reference implementations, on files generated here.

- EXIF: every field the EXIF analyser reads, against exifread (a reference reader).
- PDQ: every decodable format, rotated and mirrored copies included, against Meta's
  reference core (``pdqhash``) on a full decode of the same file.
"""

from __future__ import annotations

import io
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import exifread
import numpy as np
import pdqhash
import piexif
import pytest
from PIL import Image

from .helpers import analyse
from .pictures import detailed

FIELDS: dict[str, dict[int, Any]] = {
    "0th": {
        piexif.ImageIFD.Make: b"Reference Cam",
        piexif.ImageIFD.Model: b"RC-2 Mark\x00II",  # text after a NUL is not part of it
        piexif.ImageIFD.Software: b"firmware 1.02",
        piexif.ImageIFD.Orientation: 8,
    },
    "Exif": {
        piexif.ExifIFD.DateTimeOriginal: b"2022:07:14 08:09:10",
        piexif.ExifIFD.OffsetTimeOriginal: b"-05:00",
        piexif.ExifIFD.BodySerialNumber: b"RC2-000981",
        piexif.ExifIFD.LensModel: b"Zoom 24-70mm",
    },
    "GPS": {
        piexif.GPSIFD.GPSLatitudeRef: b"N",
        piexif.GPSIFD.GPSLatitude: ((48, 1), (51, 1), (2988, 100)),
        piexif.GPSIFD.GPSLongitudeRef: b"E",
        piexif.GPSIFD.GPSLongitude: ((2, 1), (17, 1), (4020, 100)),
        piexif.GPSIFD.GPSAltitudeRef: 0,
        piexif.GPSIFD.GPSAltitude: (3505, 100),
    },
}


def _degrees(tag: Any, ref: Any, negative: str) -> float:
    d, m, s = (Fraction(v.num, v.den) for v in tag.values)
    value = float(d + m / 60 + s / 3600)
    return round(-value if str(ref) == negative else value, 7)


def reference_exif(data: bytes) -> dict[str, Any]:
    """What exifread reads, normalised the way our records are (documented rules)."""
    t = exifread.process_file(io.BytesIO(data), details=False)
    date, _, clock = str(t["EXIF DateTimeOriginal"]).partition(" ")
    altitude = t["GPS GPSAltitude"].values[0]
    return {
        "make": str(t["Image Make"]),
        "model": str(t["Image Model"]),
        "software": str(t["Image Software"]),
        "orientation": t["Image Orientation"].values[0],
        "datetime_original": f"{date.replace(':', '-')}T{clock}{t['EXIF OffsetTimeOriginal']}",
        "serial": str(t["EXIF BodySerialNumber"]),
        "lens": str(t["EXIF LensModel"]),
        "gps_lat": _degrees(t["GPS GPSLatitude"], t["GPS GPSLatitudeRef"], "S"),
        "gps_lon": _degrees(t["GPS GPSLongitude"], t["GPS GPSLongitudeRef"], "W"),
        "gps_alt": round(altitude.num / altitude.den, 3),
    }


def test_every_exif_field_agrees_with_exifread(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 60, 90)).save(out, "JPEG", exif=piexif.dump(FIELDS))
    data = out.getvalue()
    record = analyse(tmp_path, "ref.jpg", data)
    assert record.exif is not None and record.errors == []
    ours = {k: getattr(record.exif, k) for k in reference_exif(data)}
    assert ours == reference_exif(data)
    assert ours["model"] == "RC-2 Mark"  # both stop at the NUL


@cache
def _picture() -> Image.Image:
    return detailed(400, 300, 11, noise=6)  # under the draft minimum: decoded whole


def reference_pdq(data: bytes) -> list[str]:
    """Meta's reference: pdqhash's eight dihedral hashes of a full RGB decode."""
    rgb = Image.open(io.BytesIO(data)).convert("RGB")
    hashes, _ = pdqhash.compute_dihedral(np.ascontiguousarray(np.asarray(rgb)))
    return [np.packbits(h.astype(np.uint8)).tobytes().hex() for h in hashes]


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP", "TIFF", "WEBP", "JPEG"])
@pytest.mark.parametrize("turn", [None, Image.Transpose.ROTATE_90, Image.Transpose.TRANSPOSE])
def test_pdq_equals_the_reference_on_a_full_decode(
    tmp_path: Path, fmt: str, turn: Image.Transpose | None
) -> None:
    picture = _picture()
    if turn is not None:
        picture = picture.transpose(turn)
    out = io.BytesIO()
    picture.save(out, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    record = analyse(tmp_path, f"p.{fmt.lower()}", out.getvalue())
    assert record.image is not None and record.image.pdq_policy == "full"
    assert list(record.image.pdq_dihedral) == reference_pdq(out.getvalue())
