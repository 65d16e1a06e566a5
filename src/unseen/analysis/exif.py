"""EXIF: what the camera wrote, normalised.

GPS becomes signed decimal degrees (south and west negative, below sea level
negative), ``DateTimeOriginal`` becomes ISO 8601 (with its offset when the camera
recorded one). The body serial comes from EXIF's ``BodySerialNumber`` or, where that is
empty, from the maker note (``analysis.makernotes``); ``serial_source`` names the tag.
A malformed field is recorded as an error; the other fields survive.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from PIL import ExifTags, Image

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext
from unseen.analysis.makernotes import MAKER_NOTE, maker_note_serial, maker_of
from unseen.core.models import ExifRecord

_IFD0 = {"make": 0x010F, "model": 0x0110, "software": 0x0131}
_EXIF_IFD = {"serial": 0xA431, "lens": 0xA434}
_ORIENTATION = 0x0112
_DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x9003, 0x9011
_THUMB_OFFSET = 0x0201
BODY_SERIAL_SOURCE = "EXIF BodySerialNumber (0xA431)"


def text(value: Any) -> str | None:
    """An EXIF ASCII/UNDEFINED value as clean text; None if absent or empty."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    # An EXIF ASCII value ends at its first NUL (EXIF 2.32, 4.6.2); what follows is
    # padding or leftovers of an earlier value, as ExifTool and exifread also read it.
    value = value.split("\x00", 1)[0].strip()
    return value or None


def iso_datetime(value: Any, offset: Any = None) -> str | None:
    """``2024:05:01 12:34:56`` (+ ``+02:00``) as ``2024-05-01T12:34:56+02:00``."""
    raw = text(value)
    # An unknown date is written as zeros or blanks (EXIF 2.3, 4.6.5): not recorded.
    if raw is None or raw.startswith("0000") or not raw.strip(" :"):
        return None
    date, _, clock = raw.partition(" ")
    parts = date.split(":")
    hms = clock[:8].split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in (*parts, *hms)) or len(hms) != 3:
        # Digits only: "10:00+01" would be read as a time with an offset.
        raise ValueError(f"malformed date {raw!r}")
    iso = f"{parts[0]}-{parts[1]}-{parts[2]}T{clock[:8]}"
    try:
        datetime.fromisoformat(iso)  # month 13 or 25 o'clock: corrupt, not a time
    except ValueError:
        raise ValueError(f"malformed date {raw!r}") from None
    off = text(offset) if offset is not None else None
    return iso + off if off and len(off) == 6 and off[0] in "+-" else iso


def _number(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number (zero denominator?)")
    return number


def degrees(dms: Any, ref: Any, negative: str, limit: float = 180.0) -> float | None:
    """Degrees, minutes, seconds + hemisphere as signed decimal degrees (7 places);
    more than ``limit`` (90 for a latitude) is no place on Earth: malformed."""
    if dms is None:
        return None
    d, m, s = (_number(v) for v in dms)
    value = d + m / 60 + s / 3600
    if not abs(value) <= limit:  # also catches a sum that overflowed
        raise ValueError(f"{value:g} degrees is beyond {limit:g}")
    if text(ref) == negative:
        value = -value
    return round(value, 7)


def altitude(value: Any, ref: Any) -> float | None:
    """Metres above sea level; reference 1 means below."""
    if value is None:
        return None
    below = ref in (1, b"\x01", "\x01")
    return round(-_number(value) if below else _number(value), 3)


class ExifAnalyser(FileAnalyser):
    NAME = "exif"
    VERSION = "2"
    DESCRIPTION = (
        "camera EXIF: make, model, serial (also from maker notes), lens, software, time, "
        "GPS, orientation"
    )
    DEPENDS_ON = ("image",)

    def applies_to(self, ctx: ItemContext) -> bool:
        return ctx.image is not None

    def analyse(self, ctx: ItemContext) -> None:
        assert ctx.image is not None
        exif = ctx.image.getexif()
        if not exif:
            return
        rec = ExifRecord()
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        fields: dict[str, Callable[[], Any]] = {
            **{k: partial(_text_of, exif, t) for k, t in _IFD0.items()},
            **{k: partial(_text_of, ifd, t) for k, t in _EXIF_IFD.items()},
            "orientation": lambda: _orientation(exif.get(_ORIENTATION)),
            "datetime_original": lambda: iso_datetime(
                ifd.get(_DATETIME_ORIGINAL), ifd.get(_OFFSET_ORIGINAL)
            ),
            "gps_lat": lambda: degrees(gps.get(2), gps.get(1), "S", 90.0),
            "gps_lon": lambda: degrees(gps.get(4), gps.get(3), "W"),
            "gps_alt": lambda: altitude(gps.get(6), gps.get(5)),
            "thumbnail": lambda: _THUMB_OFFSET in exif.get_ifd(ExifTags.IFD.IFD1),
        }
        for name, read in fields.items():
            try:
                value = read()
            except (ValueError, TypeError, ZeroDivisionError, KeyError) as exc:
                ctx.record.error(self.NAME, f"EXIF {name} malformed: {exc}")
                continue
            if value is not None:
                setattr(rec, name, value)
        if rec.serial is not None:
            rec.serial_source = BODY_SERIAL_SOURCE
        else:
            self._maker_note_serial(ctx, exif, ifd, rec)
        ctx.record.exif = rec

    def _maker_note_serial(
        self, ctx: ItemContext, exif: Image.Exif, ifd: Any, rec: ExifRecord
    ) -> None:
        """The body serial from the maker note, where EXIF's own field is empty."""
        note = ifd.get(MAKER_NOTE)
        if not isinstance(note, bytes) or maker_of(rec.make) is None:
            return
        assert ctx.image is not None
        raw = ctx.image.info.get("exif")
        tiff = raw[6:] if isinstance(raw, bytes) and raw.startswith(b"Exif\x00\x00") else b""
        try:
            found = maker_note_serial(ctx.data or b"", tiff, note, rec.make)
        except (ValueError, struct.error) as exc:
            ctx.record.error(self.NAME, f"EXIF maker note malformed: {exc}")
            return
        if found is not None:
            rec.serial, rec.serial_source = found.value, found.source


def _text_of(tags: Any, tag: int) -> str | None:
    return text(tags.get(tag))


def _orientation(value: Any) -> int | None:
    if value is None:
        return None
    number = int(value)
    if number == 0:
        # Written by some phones and editors for "not set": upright, nothing to record.
        return None
    if not 1 <= number <= 8:
        raise ValueError(f"orientation {number} outside 1-8")
    return number


def apply_orientation(img: Image.Image, orientation: int | None) -> Image.Image:
    """Turn an image upright for display according to its EXIF orientation."""
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation or 1)
    return img.transpose(method) if method is not None else img


ANALYSERS.register(ExifAnalyser)
