"""Camera body serials from maker notes, built here byte by byte in each maker's layout
(as exifread and ExifTool document them), and the tag each serial came from."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import exifread
import piexif
from PIL import Image

from .helpers import item_errors, process_files

BE = ">"  # piexif writes big-endian ("MM") EXIF, so notes that follow it do too


def ifd(order: str, entries: list[tuple[int, int, int, bytes]], data_at: int) -> bytes:
    """An IFD: entries (tag, type, count, value); values over 4 bytes are placed after
    it, their offsets counted so that the IFD's first byte is at ``data_at``."""
    head = struct.pack(order + "H", len(entries))
    tail = b""
    body = b""
    after = data_at + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            body += struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            body += struct.pack(order + "HHII", tag, kind, count, after + len(tail))
            tail += value
    return head + body + b"\x00\x00\x00\x00" + tail


def jpeg(make: bytes, note: bytes | Callable[[int], bytes], serial: bytes | None = None) -> bytes:
    """A small JPEG whose EXIF holds ``make`` and the maker note. A callable note is
    given its own offset from the TIFF header (for notes whose offsets are absolute):
    written once to find where it lands, then again with the offsets right."""
    exif: dict[int, object] = {}
    if serial is not None:
        exif[piexif.ExifIFD.BodySerialNumber] = serial
    first = note(0) if callable(note) else note
    exif[piexif.ExifIFD.MakerNote] = first
    tags = {"0th": {piexif.ImageIFD.Make: make, piexif.ImageIFD.Model: b"Test"}, "Exif": exif}
    blob = piexif.dump(tags)
    if callable(note):
        exif[piexif.ExifIFD.MakerNote] = note(blob.index(first) - 6)
        blob = piexif.dump(tags)
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (120, 90, 60)).save(out, "JPEG", exif=blob)
    return out.getvalue()


def canon() -> bytes:
    return jpeg(b"Canon", ifd(BE, [(0x000C, 4, 1, struct.pack(">I", 560123456))], 0))


def nikon() -> bytes:
    inner = b"MM\x00\x2a\x00\x00\x00\x08" + ifd(BE, [(0x001D, 2, 8, b"3004567\x00")], 8)
    return jpeg(b"NIKON CORPORATION", b"Nikon\x00\x02\x10\x00\x00" + inner)


def olympus() -> bytes:
    def note(at: int) -> bytes:
        return b"OLYMP\x00\x01\x00" + ifd(BE, [(0x0404, 2, 10, b"BHP123456\x00")], at + 8)

    return jpeg(b"OLYMPUS IMAGING CORP.", note)


def fujifilm() -> bytes:
    entries = [(0x0010, 2, 13, b"FF02B1234567\x00")]
    return jpeg(b"FUJIFILM", b"FUJIFILM" + struct.pack("<I", 12) + ifd("<", entries, 12))


def panasonic(outside: bool = False) -> bytes:
    def note(at: int) -> bytes:
        serial = b"F541105160149\x00\x00\x00"
        body = ifd(BE, [(0x0025, 7, 16, serial)], at + 12)
        if outside:  # the serial's offset points past the end of the EXIF block
            body = body[:10] + struct.pack(">I", 1 << 20) + body[14:]
        return b"Panasonic\x00\x00\x00" + body

    return jpeg(b"Panasonic", note)


def test_body_serials_come_from_each_makers_note(tmp_path: Path) -> None:
    files = {
        "canon.jpg": canon(),
        "nikon.jpg": nikon(),
        "olympus.jpg": olympus(),
        "fujifilm.jpg": fujifilm(),
        "panasonic.jpg": panasonic(),
        # Where EXIF's own field is filled it wins, and says so.
        "both.jpg": jpeg(b"Canon", ifd(BE, [(0x000C, 4, 1, struct.pack(">I", 7))], 0), b"E1"),
        "broken.jpg": panasonic(outside=True),
    }
    records = process_files(tmp_path, files)
    found = {n: (r["exif"]["serial"], r["exif"]["serial_source"]) for n, r in records.items()}
    assert found == {
        "canon.jpg": ("0560123456", "MakerNote Canon SerialNumber (0x000C)"),
        "nikon.jpg": ("3004567", "MakerNote Nikon SerialNumber (0x001D)"),
        "olympus.jpg": ("BHP123456", "MakerNote Olympus SerialNumber (0x0404)"),
        "fujifilm.jpg": ("FF02B1234567", "MakerNote Fujifilm InternalSerialNumber (0x0010)"),
        "panasonic.jpg": ("F541105160149", "MakerNote Panasonic InternalSerialNumber (0x0025)"),
        "both.jpg": ("E1", "EXIF BodySerialNumber (0xA431)"),
        "broken.jpg": (None, None),
    }
    assert item_errors(records["broken.jpg"], "exif") == [
        "exif: EXIF maker note malformed: maker note points outside its EXIF block"
    ]
    assert records["broken.jpg"]["exif"]["make"] == "Panasonic"  # the rest survives
    assert all(item_errors(r, "exif") == [] for n, r in records.items() if n != "broken.jpg")


def without_jfif(data: bytes) -> bytes:
    """The JPEG without Pillow's JFIF APP0 segment: EXIF first, as cameras write it."""
    assert data[2:4] == b"\xff\xe0"
    return data[:2] + data[4 + int.from_bytes(data[4:6], "big") :]


def test_the_reference_reader_agrees_on_the_maker_notes_it_decodes(tmp_path: Path) -> None:
    """exifread reads the same serials from the files built above, laid out as cameras
    write them (Panasonic's maker note is not one it decodes). With a JFIF header in
    front, as after re-saving, exifread misplaces Nikon's out-of-line values; ours
    does not."""
    expected = {
        canon: "560123456",  # the stored number; shown with ten digits, as Canon does
        nikon: "3004567",
        olympus: "BHP123456",
        fujifilm: "FF02B1234567",
    }
    for build, serial in expected.items():
        tags = exifread.process_file(io.BytesIO(without_jfif(build())), details=True)
        name = "InternalSerialNumber" if build is fujifilm else "SerialNumber"
        assert tags[f"MakerNote {name}"].printable.strip() == serial, build.__name__
    resaved = exifread.process_file(io.BytesIO(nikon()), details=True)
    assert resaved["MakerNote SerialNumber"].printable != "3004567"
    records = process_files(tmp_path, {"camera.jpg": without_jfif(nikon())})
    assert records["camera.jpg"]["exif"]["serial"] == "3004567"
