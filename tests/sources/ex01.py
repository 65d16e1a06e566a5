"""An EnCase 7 Ex01 (EWF2) image written by code, for tests.

The ewfacquire packaged here writes EWF1 whatever ``-f encase7-v2`` says, and no
other tool here writes EWF2, so one segment is laid out as the format documents it
(libewf's and keramics' EWF2 notes): the 32-byte file header, then sections each
ending with its 64-byte descriptor that points back to the previous one - device
information and case data (zlib-compressed UTF-16 object strings), the sector data
(zlib chunks, 16-byte aligned), the sector table, the MD5 of the media, done.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

SIGNATURE = b"EVF2\r\n\x81\x00"
SECTORS_PER_CHUNK = 64
CHUNK = SECTORS_PER_CHUNK * 512
DEVICE, CASE, SECTORS, TABLE, MD5, DONE = 0x01, 0x02, 0x03, 0x04, 0x08, 0x0F
COMPRESSED = 0x01


def _pad16(data: bytes) -> tuple[bytes, int]:
    padding = -len(data) % 16
    return data + bytes(padding), padding


def _objects(tags: list[str], values: list[str]) -> bytes:
    """A serialized object string: one object "main", its tags, its values."""
    text = "1\nmain\n" + "\t".join(tags) + "\n" + "\t".join(values) + "\n\n"
    return zlib.compress(b"\xff\xfe" + text.encode("utf-16-le"))


class _Segment:
    def __init__(self) -> None:
        header = SIGNATURE + struct.pack("<BBHI", 2, 1, 1, 1) + bytes(range(16))
        self.data = bytearray(header)
        self.previous = 0

    def section(self, kind: int, payload: bytes, padding: int = 0) -> int:
        """Append a section; returns where its data starts."""
        start = len(self.data)
        self.data += payload
        here = len(self.data)
        descriptor = struct.pack(
            "<IIQQII16s12x", kind, 0, self.previous, len(payload), 64, padding, bytes(16)
        )
        self.data += descriptor + struct.pack("<I", zlib.adler32(descriptor))
        self.previous = here
        return start


def ex01(media: bytes, target: Path) -> Path:
    """``media`` (a whole number of sectors) as the one-segment Ex01 ``target``."""
    chunks = [media[at : at + CHUNK] for at in range(0, len(media), CHUNK)]
    segment = _Segment()
    sectors = str(len(media) // 512)
    device = _objects(
        ["sn", "md", "lb", "ts", "hs", "dc", "dt", "pid", "rs", "ls", "bp", "ph"],
        ["TEST-SN", "synthetic disk", "", sectors, "0", "0", "f", "", "", "", "512", "1"],
    )
    segment.section(DEVICE, *_pad16(device))
    case = _objects(
        ["nm", "cn", "en", "ex", "nt", "av", "os", "tt", "at", "tb", "cp", "sb", "gr", "wb"],
        [
            "synthetic test disk", "CASE-002", "EV-2", "Test Examiner", "no real data",
            "7.0", "Linux", "1700000000", "1700000000", str(len(chunks)), "1",
            str(SECTORS_PER_CHUNK), "64", "",
        ],
    )  # fmt: skip
    segment.section(CASE, *_pad16(case))

    packed = [_pad16(zlib.compress(chunk)) for chunk in chunks]
    data_start = len(segment.data)
    entries, at = b"", data_start
    for stored, padding in packed:
        entries += struct.pack("<QII", at, len(stored) - padding, COMPRESSED)
        at += len(stored)
    segment.section(SECTORS, b"".join(stored for stored, _ in packed))

    head = struct.pack("<QII", 0, len(chunks), 0)
    table = head + struct.pack("<I", zlib.adler32(head)) + bytes(12)
    table += entries + struct.pack("<I", zlib.adler32(entries)) + bytes(12)
    segment.section(TABLE, table, 24)

    digest = hashlib.md5(media).digest()
    segment.section(MD5, digest + struct.pack("<I", zlib.adler32(digest)) + bytes(12), 12)
    segment.section(DONE, b"")
    target.write_bytes(bytes(segment.data))
    return target
