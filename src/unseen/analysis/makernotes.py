"""Camera body serial numbers kept in maker notes, with the tag each came from.

Many cameras write their body serial only in the maker's private block (``MakerNote``,
EXIF tag 0x927C) and not in EXIF's ``BodySerialNumber``: without it, pictures of one
camera split into several camera clusters. The maker notes of Canon, Olympus and
Fujifilm (and unlabelled Nikon ones) are read with ``exifread`` (BSD-3), a reference
reader; Panasonic's, which exifread does not decode, and labelled Nikon type 2 notes,
whose out-of-line values exifread 3.5 misplaces by 18 bytes in a JPEG that also has a
JFIF header (any file re-saved by common software), with the small IFD reader below
(tags 0x0025 and 0x001D, laid out as in ExifTool's Panasonic and Nikon tables). Sony
keeps its serial in an enciphered block (0x9050) that is not read here. A maker note is
hostile data like any other: reading it may fail, which is reported and loses only the
serial.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any

import exifread

MAKER_NOTE = 0x927C
PANASONIC_HEADER = b"Panasonic\x00\x00\x00"
PANASONIC_SERIAL = 0x0025
NIKON_HEADER = b"Nikon\x00\x02"
NIKON_SERIAL = 0x001D
PANASONIC_SOURCE = "MakerNote Panasonic InternalSerialNumber (0x0025)"
# exifread's tag name -> how it is recorded, per make (as exifread names the make).
EXIFREAD_SERIALS: dict[str, tuple[str, str]] = {
    "canon": ("MakerNote SerialNumber", "MakerNote Canon SerialNumber (0x000C)"),
    "nikon": ("MakerNote SerialNumber", "MakerNote Nikon SerialNumber (0x001D)"),
    "olympus": ("MakerNote SerialNumber", "MakerNote Olympus SerialNumber (0x0404)"),
    "fujifilm": (
        "MakerNote InternalSerialNumber",
        "MakerNote Fujifilm InternalSerialNumber (0x0010)",
    ),
}


@dataclass(frozen=True, slots=True)
class Serial:
    """A body serial and the tag it was read from."""

    value: str
    source: str


def maker_of(make: str | None) -> str | None:
    """The maker-note family of an EXIF ``Make`` (``NIKON CORPORATION`` -> ``nikon``)."""
    folded = (make or "").casefold()
    for family in ("canon", "nikon", "olympus", "fujifilm", "panasonic"):
        if folded.startswith(family):
            return family
    return None


def maker_note_serial(data: bytes, tiff: bytes, note: bytes, make: str | None) -> Serial | None:
    """The body serial in a picture's maker note, if its make is one we read.

    ``data`` is the whole file (for exifread), ``tiff`` the EXIF block from its TIFF
    header on, ``note`` the raw maker note.

    Raises:
        ValueError: the maker note (or the EXIF around it) is malformed.
    """
    family = maker_of(make)
    if family is None:
        return None
    if family == "panasonic":
        return _panasonic(tiff, note)
    if family == "nikon" and note.startswith(NIKON_HEADER):
        return _nikon(note)
    tags = _exifread_tags(data)
    name, source = EXIFREAD_SERIALS[family]
    tag = tags.get(name)
    if tag is None:
        return None
    value = _canon_serial(tag.values) if family == "canon" else _text(tag.values)
    return Serial(value, source) if value else None


def _exifread_tags(data: bytes) -> dict[str, Any]:
    try:
        tags: dict[str, Any] = exifread.process_file(
            io.BytesIO(data), details=True, extract_thumbnail=False, strict=False
        )
    except Exception as exc:  # a third-party parser on hostile bytes: any failure
        raise ValueError(f"unreadable ({exc.__class__.__name__}: {exc})") from None
    return tags


def _text(values: Any) -> str | None:
    """An ASCII or UNDEFINED tag's values as text, ending at the first NUL."""
    if isinstance(values, str):
        raw = values.encode("latin-1", "replace")
    elif isinstance(values, bytes):
        raw = values
    elif isinstance(values, list) and all(isinstance(v, int) for v in values):
        raw = bytes(v & 0xFF for v in values)
    else:
        return None
    value = raw.split(b"\x00", 1)[0].decode("ascii", "replace").strip()
    return value or None


def _canon_serial(values: Any) -> str | None:
    """Canon stores the serial as a number, written with ten digits (leading zeros
    kept, as the camera and ExifTool show it)."""
    number = values[0] if isinstance(values, list) and values else values
    if not isinstance(number, int) or number <= 0:
        return None
    return f"{number:010d}"


def _panasonic(tiff: bytes, note: bytes) -> Serial | None:
    """Panasonic: ``Panasonic\\0\\0\\0`` then an IFD in the EXIF byte order, whose
    offsets count from the EXIF TIFF header (so the note's place in it is needed)."""
    if not note.startswith(PANASONIC_HEADER) or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    start = tiff.find(note)
    if start < 0:
        raise ValueError("maker note not found in its EXIF block")
    raw = _ifd_value(tiff, start + len(PANASONIC_HEADER), order, PANASONIC_SERIAL)
    value = _text(raw) if raw is not None else None
    return Serial(value, PANASONIC_SOURCE) if value else None


def _nikon(note: bytes) -> Serial | None:
    """Nikon type 2 (labelled): ``Nikon\\0\\2`` + version, then a TIFF header of its own
    at byte 10, from which every offset in the note counts."""
    tiff = note[10:]
    if tiff[:2] not in (b"II", b"MM"):
        raise ValueError("Nikon maker note without its TIFF header")
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", _slice(tiff, 4, 4))
    raw = _ifd_value(tiff, ifd, order, NIKON_SERIAL)
    value = _text(raw) if raw is not None else None
    return Serial(value, "MakerNote Nikon SerialNumber (0x001D)") if value else None


def _ifd_value(tiff: bytes, ifd: int, order: str, wanted: int) -> bytes | None:
    """The raw bytes of an ASCII or UNDEFINED tag of the IFD at ``ifd`` in ``tiff``."""
    (count,) = struct.unpack(order + "H", _slice(tiff, ifd, 2))
    for i in range(count):
        entry = _slice(tiff, ifd + 2 + 12 * i, 12)
        tag, kind, length = struct.unpack(order + "HHI", entry[:8])
        if tag != wanted:
            continue
        if kind not in (2, 7) or not 0 < length <= 64:  # ASCII or UNDEFINED, short
            raise ValueError(f"serial tag 0x{tag:04X} has type {kind}, length {length}")
        if length <= 4:
            return entry[8 : 8 + length]
        (offset,) = struct.unpack(order + "I", entry[8:])
        return _slice(tiff, offset, length)
    return None


def _slice(data: bytes, start: int, length: int) -> bytes:
    if start < 0 or start + length > len(data):
        raise ValueError("maker note points outside its EXIF block")
    return data[start : start + length]
