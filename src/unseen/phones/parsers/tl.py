"""A small, bounded reader of Telegram's TL serialisation (the "type language" of MTProto),
as Telegram for Android keeps its objects in ``cache4.db`` blobs.

TL is little-endian: a 4-byte constructor id names each boxed object, ``#`` fields are
32-bit flag words whose bits say which optional fields follow, strings and byte arrays
carry a 1-byte length (or 0xFE and a 3-byte length) and are padded to 4 bytes, vectors
are the constructor ``0x1cb5c415``, a count and the elements. The reader never reads
past its buffer, never allocates more than the buffer holds, and refuses vectors and
nesting beyond fixed limits: every malformed blob is a ``TLError``, never a crash.
"""

from __future__ import annotations

import struct

VECTOR = 0x1CB5C415
MAX_VECTOR = 10_000  # elements; a real message holds a few dozen at most
_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")


class TLError(ValueError):
    """The blob is not what its constructors say: truncated, or an unknown constructor."""


class Unknown(TLError):
    """A constructor this reader does not know (a layer it was not written for)."""

    def __init__(self, where: str, constructor: int) -> None:
        super().__init__(f"unknown {where} constructor {constructor:#010x}")
        self.constructor = constructor


class Reader:
    """Reads one blob front to back."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise TLError(f"truncated: {n} bytes wanted at offset {self.pos} of {len(self.data)}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def int32(self) -> int:
        return int(_I32.unpack(self._take(4))[0])

    def uint32(self) -> int:
        return int(_U32.unpack(self._take(4))[0])

    def int64(self) -> int:
        return int(_I64.unpack(self._take(8))[0])

    def double(self) -> float:
        return float(_F64.unpack(self._take(8))[0])

    def raw_bytes(self) -> bytes:
        """A TL ``bytes`` (and, decoded, ``string``) with its length prefix and padding."""
        first = self._take(1)[0]
        if first == 0xFF:
            raise TLError(f"bad length marker 0xff at offset {self.pos - 1}")
        if first == 0xFE:
            length = int.from_bytes(self._take(3), "little")
            head = 4
        else:
            length, head = first, 1
        value = self._take(length)
        self._take((-(head + length)) % 4)
        return value

    def string(self) -> str:
        # Undecodable bytes stay visible as \\xNN, as for every other evidence text.
        return self.raw_bytes().decode("utf-8", "backslashreplace")

    def vector_count(self) -> int:
        """The element count of a boxed vector, checked against the limit and the bytes
        left (every element takes at least 4)."""
        constructor = self.uint32()
        if constructor != VECTOR:
            raise Unknown("vector", constructor)
        count = self.int32()
        if not 0 <= count <= MAX_VECTOR or count * 4 > len(self.data) - self.pos:
            raise TLError(f"implausible vector of {count} elements at offset {self.pos}")
        return count

    def remaining(self) -> int:
        return len(self.data) - self.pos


def flag(word: int, bit: int) -> bool:
    return bool(word >> bit & 1)
