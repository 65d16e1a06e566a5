"""EXIF read as the reference readers read it, on files built here with piexif."""

from __future__ import annotations

import io
import re
from pathlib import Path

import piexif
import pytest
from PIL import Image

from unseen.analysis.exif import iso_datetime

from .helpers import item_errors, process_files


def jpeg_with(zeroth: dict[int, object], exif: dict[int, object] | None = None) -> bytes:
    out = io.BytesIO()
    tags = piexif.dump({"0th": zeroth, "Exif": exif or {}})
    Image.new("RGB", (64, 48), (90, 140, 200)).save(out, "JPEG", quality=90, exif=tags)
    return out.getvalue()


def test_text_ends_at_the_first_nul_and_orientation_zero_is_unknown(tmp_path: Path) -> None:
    records = process_files(
        tmp_path,
        {
            "nul.jpg": jpeg_with(
                {piexif.ImageIFD.Make: b"Maker\x00junk", piexif.ImageIFD.Model: b"ION230\x00F"},
                {piexif.ExifIFD.BodySerialNumber: b"AB12\x00\x00\x0099"},
            ),
            "zero.jpg": jpeg_with(
                {piexif.ImageIFD.Model: b"Zero Turn", piexif.ImageIFD.Orientation: 0}
            ),
        },
    )
    nul = records["nul.jpg"]
    assert (nul["exif"]["make"], nul["exif"]["model"], nul["exif"]["serial"]) == (
        "Maker", "ION230", "AB12",
    )  # fmt: skip
    zero = records["zero.jpg"]
    assert (zero["exif"]["model"], zero["exif"]["orientation"]) == ("Zero Turn", None)
    assert item_errors(nul, "exif") == item_errors(zero, "exif") == []


def test_a_capture_time_is_digits_to_the_second_or_malformed() -> None:
    assert iso_datetime("2024:05:01 12:34:56", "+02:00") == "2024-05-01T12:34:56+02:00"
    assert iso_datetime("2024:05:01 12:34:56.5") == "2024-05-01T12:34:56"
    assert iso_datetime("    :  :     :  :  ") is None
    # "10:00+01" is eight characters that read as a time with an offset.
    for bad in ("2024:05:01 10:00+01", "2024:05:01 12:34", "2024:05:01 1 :02:03"):
        with pytest.raises(ValueError, match=re.escape(f"malformed date {bad!r}")):
            iso_datetime(bad)
