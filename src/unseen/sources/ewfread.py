"""Reading the media of EWF1 (E01, EnCase 1-7 "EVF") images with zlib.

The libewf wheel on PyPI carries its own inflate (no zlib) and reads compressed
images at about a tenth of zlib's speed, so the chunk data is read here: the
``volume`` section gives the geometry, the ``table`` sections the chunk offsets
(bit 31: compressed), and each chunk is inflated with zlib or, stored, checked
against its Adler-32. Anything not laid out that way (EWF2/Ex01, SMART, EnCase 1
layouts without ``sectors`` sections, missing segments) raises ``Unsupported`` and
the caller reads through libewf instead. A damaged chunk (it does not inflate, or fails
its checksum) reads as zeros, as libewf gives it, and is listed in ``damaged``.
"""

from __future__ import annotations

import struct
import zlib
from collections import OrderedDict
from typing import IO

from unseen.sources.streams import PositionalStream

MAGIC = b"EVF\x09\x0d\x0a\xff\x00"
_DESCRIPTOR = 76  # section descriptor: type[16], next u64, size u64, padding, checksum
_CACHE = 16  # decompressed chunks kept (TSK reads 64 KiB blocks across two chunks)


class Unsupported(ValueError):
    """The image is not an EWF1 layout this reader handles; use libewf."""


class EwfMedia(PositionalStream):
    """The acquired media of an E01 segment set (streams in segment order)."""

    def __init__(self, segments: list[IO[bytes]]) -> None:
        self._segments = segments
        # (segment index, stored offset, stored size, compressed) of each chunk
        self._chunks: list[tuple[int, int, int, bool]] = []
        self._geometry: tuple[int, int, int] | None = None  # chunks, chunk bytes, media bytes
        for index, segment in enumerate(segments):
            self._parse(index, segment)
        if self._geometry is None:
            raise Unsupported("no volume section")
        count, chunk_size, size = self._geometry
        self.chunk_size: int = chunk_size
        if count != len(self._chunks) or not chunk_size:
            raise Unsupported(f"{len(self._chunks)} chunks found, {count} announced")
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self.damaged: set[int] = set()
        super().__init__(size)

    def _parse(self, index: int, f: IO[bytes]) -> None:
        f.seek(0)
        head = f.read(13)
        if head[:8] != MAGIC or struct.unpack_from("<H", head, 9)[0] != index + 1:
            raise Unsupported(f"segment {index + 1} is not the next EWF1 segment")
        offset, sectors_end = 13, None
        while True:
            f.seek(offset)
            desc = f.read(_DESCRIPTOR)
            if len(desc) < _DESCRIPTOR:
                raise Unsupported("section list ends early")
            kind = desc[:16].rstrip(b"\x00")
            following, size = struct.unpack_from("<QQ", desc, 16)
            if kind in (b"volume", b"disk"):
                self._volume(f.read(24))
            elif kind == b"sectors":
                sectors_end = offset + size
            elif kind == b"table":
                if sectors_end is None:
                    raise Unsupported("table without a sectors section")
                self._table(index, f, sectors_end)
            if kind in (b"done", b"next") or following <= offset:
                return
            offset = following

    def _volume(self, data: bytes) -> None:
        if len(data) < 24:
            raise Unsupported("short volume section")
        chunks, per_chunk, sector, sectors = struct.unpack_from("<IIIQ", data, 4)
        self._geometry = (chunks, per_chunk * sector, sectors * sector)

    def _table(self, index: int, f: IO[bytes], end: int) -> None:
        header = f.read(24)
        count, _, base = struct.unpack_from("<IIQ", header)
        entries = struct.unpack(f"<{count}I", f.read(4 * count))
        starts = [(e & 0x7FFFFFFF) + base for e in entries]
        for i, entry in enumerate(entries):
            stop = starts[i + 1] if i + 1 < count else end
            if stop <= starts[i]:
                raise Unsupported("chunk offsets out of order")
            self._chunks.append((index, starts[i], stop - starts[i], bool(entry >> 31)))

    def chunk(self, number: int) -> bytes:
        """Chunk ``number`` decompressed and checked (zeros, and noted, when damaged)."""
        found = self._cache.get(number)
        if found is not None:
            self._cache.move_to_end(number)
            return found
        segment, at, stored, compressed = self._chunks[number]
        f = self._segments[segment]
        f.seek(at)
        raw = f.read(stored)
        expected = min(self.chunk_size, self.size - number * self.chunk_size)
        try:
            data = zlib.decompress(raw) if compressed else raw[:-4]
        except zlib.error:
            data = b""
        stored_sum = int.from_bytes(raw[-4:], "little")
        if len(data) < expected or (not compressed and zlib.adler32(data) != stored_sum):
            self.damaged.add(number)
            data = bytes(expected)
        data = data[:expected]
        self._cache[number] = data
        if len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return data

    def _read_at(self, offset: int, n: int) -> bytes:
        out = bytearray()
        while n > 0 and offset < self.size:
            number, skip = divmod(offset, self.chunk_size)
            piece = self.chunk(number)[skip : skip + n]
            out += piece
            offset += len(piece)
            n -= len(piece)
        return bytes(out)
