"""MD4 (RFC 1320) and the eDonkey ED2K file hash.

OpenSSL 3 no longer offers MD4 by default, so ``hashlib.new("md4")`` may fail; a pure
Python MD4 is used then (slow: a few MB/s, hence the size bound the stage applies).

ED2K: the content is cut into chunks of 9 728 000 bytes (9500 KiB); a file of less than
one chunk hashes to the MD4 of its content; otherwise to the MD4 of the concatenated
chunk MD4s. For sizes that are an exact multiple of the chunk size two conventions
exist: eMule's (``CKnownFile::CreateFromFile``; "red") appends the MD4 of an empty
final chunk, the later "blue" one does not. ``ed2k`` is the eMule convention, because
eMule's ``known.met`` is what we match against; ``ed2k_blue`` is given too, and the two
differ only for exact multiples.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 9_728_000


_WORDS = struct.Struct("<16I").unpack_from


# fmt: off
def _compress(state: list[int], data: bytes, offset: int) -> None:
    """One 64-byte block (RFC 1320 section 3.4), unrolled for speed."""
    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15 = _WORDS(data, offset)
    a, b, c, d = state
    t = (a + ((b & c) | (~b & d)) + x0) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + ((a & b) | (~a & c)) + x1) & 0xFFFFFFFF
    d = ((t << 7) | (t >> 25)) & 0xFFFFFFFF
    t = (c + ((d & a) | (~d & b)) + x2) & 0xFFFFFFFF
    c = ((t << 11) | (t >> 21)) & 0xFFFFFFFF
    t = (b + ((c & d) | (~c & a)) + x3) & 0xFFFFFFFF
    b = ((t << 19) | (t >> 13)) & 0xFFFFFFFF
    t = (a + ((b & c) | (~b & d)) + x4) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + ((a & b) | (~a & c)) + x5) & 0xFFFFFFFF
    d = ((t << 7) | (t >> 25)) & 0xFFFFFFFF
    t = (c + ((d & a) | (~d & b)) + x6) & 0xFFFFFFFF
    c = ((t << 11) | (t >> 21)) & 0xFFFFFFFF
    t = (b + ((c & d) | (~c & a)) + x7) & 0xFFFFFFFF
    b = ((t << 19) | (t >> 13)) & 0xFFFFFFFF
    t = (a + ((b & c) | (~b & d)) + x8) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + ((a & b) | (~a & c)) + x9) & 0xFFFFFFFF
    d = ((t << 7) | (t >> 25)) & 0xFFFFFFFF
    t = (c + ((d & a) | (~d & b)) + x10) & 0xFFFFFFFF
    c = ((t << 11) | (t >> 21)) & 0xFFFFFFFF
    t = (b + ((c & d) | (~c & a)) + x11) & 0xFFFFFFFF
    b = ((t << 19) | (t >> 13)) & 0xFFFFFFFF
    t = (a + ((b & c) | (~b & d)) + x12) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + ((a & b) | (~a & c)) + x13) & 0xFFFFFFFF
    d = ((t << 7) | (t >> 25)) & 0xFFFFFFFF
    t = (c + ((d & a) | (~d & b)) + x14) & 0xFFFFFFFF
    c = ((t << 11) | (t >> 21)) & 0xFFFFFFFF
    t = (b + ((c & d) | (~c & a)) + x15) & 0xFFFFFFFF
    b = ((t << 19) | (t >> 13)) & 0xFFFFFFFF
    t = (a + ((b & c) | (b & d) | (c & d)) + x0 + 0x5A827999) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + ((a & b) | (a & c) | (b & c)) + x4 + 0x5A827999) & 0xFFFFFFFF
    d = ((t << 5) | (t >> 27)) & 0xFFFFFFFF
    t = (c + ((d & a) | (d & b) | (a & b)) + x8 + 0x5A827999) & 0xFFFFFFFF
    c = ((t << 9) | (t >> 23)) & 0xFFFFFFFF
    t = (b + ((c & d) | (c & a) | (d & a)) + x12 + 0x5A827999) & 0xFFFFFFFF
    b = ((t << 13) | (t >> 19)) & 0xFFFFFFFF
    t = (a + ((b & c) | (b & d) | (c & d)) + x1 + 0x5A827999) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + ((a & b) | (a & c) | (b & c)) + x5 + 0x5A827999) & 0xFFFFFFFF
    d = ((t << 5) | (t >> 27)) & 0xFFFFFFFF
    t = (c + ((d & a) | (d & b) | (a & b)) + x9 + 0x5A827999) & 0xFFFFFFFF
    c = ((t << 9) | (t >> 23)) & 0xFFFFFFFF
    t = (b + ((c & d) | (c & a) | (d & a)) + x13 + 0x5A827999) & 0xFFFFFFFF
    b = ((t << 13) | (t >> 19)) & 0xFFFFFFFF
    t = (a + ((b & c) | (b & d) | (c & d)) + x2 + 0x5A827999) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + ((a & b) | (a & c) | (b & c)) + x6 + 0x5A827999) & 0xFFFFFFFF
    d = ((t << 5) | (t >> 27)) & 0xFFFFFFFF
    t = (c + ((d & a) | (d & b) | (a & b)) + x10 + 0x5A827999) & 0xFFFFFFFF
    c = ((t << 9) | (t >> 23)) & 0xFFFFFFFF
    t = (b + ((c & d) | (c & a) | (d & a)) + x14 + 0x5A827999) & 0xFFFFFFFF
    b = ((t << 13) | (t >> 19)) & 0xFFFFFFFF
    t = (a + ((b & c) | (b & d) | (c & d)) + x3 + 0x5A827999) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + ((a & b) | (a & c) | (b & c)) + x7 + 0x5A827999) & 0xFFFFFFFF
    d = ((t << 5) | (t >> 27)) & 0xFFFFFFFF
    t = (c + ((d & a) | (d & b) | (a & b)) + x11 + 0x5A827999) & 0xFFFFFFFF
    c = ((t << 9) | (t >> 23)) & 0xFFFFFFFF
    t = (b + ((c & d) | (c & a) | (d & a)) + x15 + 0x5A827999) & 0xFFFFFFFF
    b = ((t << 13) | (t >> 19)) & 0xFFFFFFFF
    t = (a + (b ^ c ^ d) + x0 + 0x6ED9EBA1) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + (a ^ b ^ c) + x8 + 0x6ED9EBA1) & 0xFFFFFFFF
    d = ((t << 9) | (t >> 23)) & 0xFFFFFFFF
    t = (c + (d ^ a ^ b) + x4 + 0x6ED9EBA1) & 0xFFFFFFFF
    c = ((t << 11) | (t >> 21)) & 0xFFFFFFFF
    t = (b + (c ^ d ^ a) + x12 + 0x6ED9EBA1) & 0xFFFFFFFF
    b = ((t << 15) | (t >> 17)) & 0xFFFFFFFF
    t = (a + (b ^ c ^ d) + x2 + 0x6ED9EBA1) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + (a ^ b ^ c) + x10 + 0x6ED9EBA1) & 0xFFFFFFFF
    d = ((t << 9) | (t >> 23)) & 0xFFFFFFFF
    t = (c + (d ^ a ^ b) + x6 + 0x6ED9EBA1) & 0xFFFFFFFF
    c = ((t << 11) | (t >> 21)) & 0xFFFFFFFF
    t = (b + (c ^ d ^ a) + x14 + 0x6ED9EBA1) & 0xFFFFFFFF
    b = ((t << 15) | (t >> 17)) & 0xFFFFFFFF
    t = (a + (b ^ c ^ d) + x1 + 0x6ED9EBA1) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + (a ^ b ^ c) + x9 + 0x6ED9EBA1) & 0xFFFFFFFF
    d = ((t << 9) | (t >> 23)) & 0xFFFFFFFF
    t = (c + (d ^ a ^ b) + x5 + 0x6ED9EBA1) & 0xFFFFFFFF
    c = ((t << 11) | (t >> 21)) & 0xFFFFFFFF
    t = (b + (c ^ d ^ a) + x13 + 0x6ED9EBA1) & 0xFFFFFFFF
    b = ((t << 15) | (t >> 17)) & 0xFFFFFFFF
    t = (a + (b ^ c ^ d) + x3 + 0x6ED9EBA1) & 0xFFFFFFFF
    a = ((t << 3) | (t >> 29)) & 0xFFFFFFFF
    t = (d + (a ^ b ^ c) + x11 + 0x6ED9EBA1) & 0xFFFFFFFF
    d = ((t << 9) | (t >> 23)) & 0xFFFFFFFF
    t = (c + (d ^ a ^ b) + x7 + 0x6ED9EBA1) & 0xFFFFFFFF
    c = ((t << 11) | (t >> 21)) & 0xFFFFFFFF
    t = (b + (c ^ d ^ a) + x15 + 0x6ED9EBA1) & 0xFFFFFFFF
    b = ((t << 15) | (t >> 17)) & 0xFFFFFFFF
    state[0] = (state[0] + a) & 0xFFFFFFFF
    state[1] = (state[1] + b) & 0xFFFFFFFF
    state[2] = (state[2] + c) & 0xFFFFFFFF
    state[3] = (state[3] + d) & 0xFFFFFFFF
# fmt: on


class PureMD4:
    """MD4 in pure Python with the ``hashlib`` interface we use (update, digest)."""

    def __init__(self, data: bytes = b"") -> None:
        self._state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
        self._buffer = b""
        self._length = 0
        self.update(data)

    def update(self, data: bytes) -> None:
        self._length += len(data)
        data = self._buffer + data
        whole = len(data) - len(data) % 64
        for offset in range(0, whole, 64):
            _compress(self._state, data, offset)
        self._buffer = data[whole:]

    def digest(self) -> bytes:
        bits = (self._length * 8) & 0xFFFFFFFFFFFFFFFF
        pad = b"\x80" + b"\x00" * ((55 - self._length) % 64) + struct.pack("<Q", bits)
        tail = PureMD4()
        tail._state = list(self._state)
        tail._buffer = self._buffer
        tail.update(pad)
        return struct.pack("<4I", *tail._state)

    def hexdigest(self) -> str:
        return self.digest().hex()


def _native_md4() -> Callable[[], object] | None:
    try:
        hashlib.new("md4", b"")
    except ValueError:
        return None
    return lambda: hashlib.new("md4")


_NATIVE = _native_md4()


def md4(data: bytes = b"") -> PureMD4:
    """An MD4 hasher, native when OpenSSL offers it, else pure Python.

    Example:
        >>> md4(b"abc").hexdigest()
        'a448017aaf21d8525fc10ae87aa6729d'
    """
    if _NATIVE is not None:
        native = _NATIVE()
        native.update(data)  # type: ignore[attr-defined]
        return native  # type: ignore[return-value]
    return PureMD4(data)


@dataclass(frozen=True, slots=True)
class Ed2k:
    """Both ED2K readings of one content (equal unless the size is a chunk multiple)."""

    ed2k: str
    ed2k_blue: str
    size: int


def ed2k_stream(stream: BinaryIO, limit: int | None = None, chunk: int = CHUNK) -> Ed2k:
    """ED2K of a stream, read once in chunks (memory stays at one read).

    Args:
        stream: the content.
        limit: refuse content longer than this many bytes.
        chunk: the chunk size; eDonkey's is ``CHUNK`` (other values serve tests of the
            chunking rules without hashing ten megabytes).

    Raises:
        ValueError: the stream holds more than ``limit`` bytes.
    """
    chunk_hashes: list[bytes] = []
    size = 0
    last_full = True
    while True:
        hasher = md4()
        got = 0
        while got < chunk:
            block = stream.read(min(1024 * 1024, chunk - got))
            if not block:
                break
            hasher.update(block)
            got += len(block)
        size += got
        if limit is not None and size > limit:
            raise ValueError(f"larger than the {limit}-byte ED2K limit")
        if got == 0 and chunk_hashes:
            break
        chunk_hashes.append(hasher.digest())
        last_full = got == chunk
        if not last_full:
            break
    if len(chunk_hashes) == 1:
        blue = chunk_hashes[0].hex()
    else:
        blue = md4(b"".join(chunk_hashes)).hexdigest()
    # eMule: an exact multiple of the chunk size gets the empty chunk's MD4 appended.
    exact = bool(size) and last_full
    red = md4(b"".join(chunk_hashes) + md4().digest()).hexdigest() if exact else blue
    return Ed2k(red, blue, size)
