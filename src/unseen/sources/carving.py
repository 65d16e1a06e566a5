"""Carving JPEG, PNG and GIF files out of raw bytes (unallocated disk space).

Each candidate header is followed through the format's structure, not just to the
next end marker: JPEG marker segments and entropy-coded data up to EOI, PNG chunks
with their CRCs up to IEND, GIF blocks up to the trailer. A candidate that breaks the
structure, or runs past the region or the size limit, is not carved. Only contiguous
files are recovered (fragmented ones are not), and carving resumes after each file
found, so a JPEG's embedded EXIF thumbnail is not carved again.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator

Read = Callable[[int, int], bytes]  # (absolute offset, length) -> bytes
WINDOW = 4 * 1024 * 1024  # bytes scanned for headers at a time
_BLOCK = 64 * 1024
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
# JPEG start-of-frame markers (C4 DHT, C8 JPG and CC DAC are not frames).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class _View:
    """Random access to ``[start, end)`` of the image through a few cached blocks."""

    def __init__(self, read: Read, start: int, end: int) -> None:
        self.read, self.start, self.end = read, start, end
        self._blocks: dict[int, bytes] = {}

    @property
    def size(self) -> int:
        return self.end - self.start

    def get(self, pos: int, n: int) -> bytes:
        """Up to ``n`` bytes at relative ``pos`` (fewer at the end of the region)."""
        out = bytearray()
        while n > 0 and pos < self.size:
            block, skip = divmod(pos, _BLOCK)
            data = self._block(block)[skip : skip + n]
            if not data:
                break
            out += data
            pos += len(data)
            n -= len(data)
        return bytes(out)

    def _block(self, index: int) -> bytes:
        data = self._blocks.get(index)
        if data is None:
            if len(self._blocks) >= 64:
                self._blocks.clear()
            at = self.start + index * _BLOCK
            data = self._blocks[index] = self.read(at, min(_BLOCK, self.end - at))
        return data

    def find(self, needle: int, pos: int) -> int:
        """Relative position of the next byte ``needle`` at or after ``pos``, or -1."""
        while pos < self.size:
            block, skip = divmod(pos, _BLOCK)
            found = self._block(block).find(bytes((needle,)), skip)
            if found >= 0:
                return block * _BLOCK + found
            pos = (block + 1) * _BLOCK
        return -1


def _jpeg(v: _View) -> int | None:
    pos, frame, scan = 2, False, False
    while pos < v.size:
        b = v.get(pos, 4)
        if len(b) < 2 or b[0] != 0xFF:
            return None
        marker = b[1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0xD9:
            return pos + 2 if frame and scan else None
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
        else:
            if len(b) < 4 or int.from_bytes(b[2:4], "big") < 2:
                return None
            frame |= marker in _SOF
            pos += 2 + int.from_bytes(b[2:4], "big")
            if marker == 0xDA:
                scan = True
                end = _entropy_end(v, pos)
                if end is None:
                    return None
                pos = end
    return None


def _entropy_end(v: _View, pos: int) -> int | None:
    """Where the entropy-coded data starting at ``pos`` ends (its next marker)."""
    while True:
        pos = v.find(0xFF, pos)
        if pos < 0:
            return None
        after = v.get(pos + 1, 1)
        if not after:
            return None
        if after[0] == 0x00 or 0xD0 <= after[0] <= 0xD7:
            pos += 2  # stuffed byte or restart marker: still entropy data
        elif after[0] == 0xFF:
            pos += 1
        else:
            return pos


def _png(v: _View) -> int | None:
    pos, first = 8, True
    while pos + 12 <= v.size:
        head = v.get(pos, 8)
        length, kind = int.from_bytes(head[:4], "big"), head[4:8]
        if (first and kind != b"IHDR") or pos + 12 + length > v.size:
            return None
        crc = zlib.crc32(kind)
        done = 0
        while done < length:
            piece = v.get(pos + 8 + done, min(_BLOCK, length - done))
            crc = zlib.crc32(piece, crc)
            done += len(piece)
        if crc != int.from_bytes(v.get(pos + 8 + length, 4), "big"):
            return None
        pos += 12 + length
        if kind == b"IEND":
            return pos
        first = False
    return None


def _gif(v: _View) -> int | None:
    flags = v.get(10, 1)
    if not flags:
        return None
    pos, images = 13, 0
    if flags[0] & 0x80:
        pos += 3 * (2 << (flags[0] & 7))
    while pos < v.size:
        block = v.get(pos, 1)
        if block == b";":
            return pos + 1 if images else None
        if block == b"!":
            found = _sub_blocks(v, pos + 2)
        elif block == b",":
            desc = v.get(pos + 1, 9)
            if len(desc) < 9:
                return None
            pos += 10 + (3 * (2 << (desc[8] & 7)) if desc[8] & 0x80 else 0)
            found = _sub_blocks(v, pos + 1)  # after the LZW minimum code size
            images += 1
        else:
            return None
        if found is None:
            return None
        pos = found
    return None


def _sub_blocks(v: _View, pos: int) -> int | None:
    while pos < v.size:
        n = v.get(pos, 1)
        if not n:
            return None
        pos += 1 + n[0]
        if n[0] == 0:
            return pos
    return None


_CARVERS: dict[bytes, tuple[str, Callable[[_View], int | None]]] = {
    b"\xff": ("jpg", _jpeg),
    b"\x89": ("png", _png),
    b"G": ("gif", _gif),
}


def _headers(data: bytes, limit: int) -> list[int]:
    """Positions (below ``limit``) of every header signature in ``data``, in order."""
    found = []
    for signature in _SIGNATURES:
        at = data.find(signature)
        while 0 <= at < limit:
            found.append(at)
            at = data.find(signature, at + 1)
    return sorted(found)


def carve(read: Read, start: int, length: int, max_size: int) -> Iterator[tuple[int, int, str]]:
    """``(offset, size, extension)`` of every file carved from ``[start, start+length)``.

    Offsets are absolute (as ``read`` takes them); files are at most ``max_size``.
    """
    end = start + length
    resume = start
    for window in range(start, end, WINDOW):
        # Overlap windows by a header's length so no header straddles unseen.
        data = read(window, min(WINDOW + 8, end - window))
        for pos in _headers(data, WINDOW):
            at = window + pos
            if at < resume:
                continue
            ext, carver = _CARVERS[data[pos : pos + 1]]
            size = carver(_View(read, at, min(end, at + max_size)))
            if size is not None:
                yield at, size, ext
                resume = at + size
