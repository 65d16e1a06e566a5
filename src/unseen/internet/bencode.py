"""A small, bounded bencode decoder for evidence (resume files, ``.torrent`` files).

Values decode to ``int``, ``bytes``, ``list`` and ``dict`` (keys stay ``bytes``). The
decoder is iterative in spirit and bounded in practice: nesting depth, element count
and integer length are capped, so hostile input is a ``BencodeError``, never a crash or
a hang. It also reports the exact byte span of the top-level ``info`` value, because a
torrent's info-hash is the hash of those bytes as they are in the file (re-encoding
could change them when the file is not canonical).
"""

from __future__ import annotations

from dataclasses import dataclass

from unseen.core.errors import EvidenceError

MAX_DEPTH = 64
MAX_ELEMENTS = 2_000_000
MAX_INT_DIGITS = 40

Value = int | bytes | list["Value"] | dict[bytes, "Value"]


class BencodeError(EvidenceError):
    """Malformed or over-limit bencoded data."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded value and where things are in the input.

    Attributes:
        value: the decoded top-level value.
        end: offset just after it (``len(data)`` unless trailing bytes follow).
        info_span: (start, end) of the top-level dictionary's ``info`` value, if any.
    """

    value: Value
    end: int
    info_span: tuple[int, int] | None


class _Decoder:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.elements = 0
        self.info_span: tuple[int, int] | None = None

    def fail(self, pos: int, why: str) -> BencodeError:
        return BencodeError(f"malformed bencode at offset {pos}: {why}")

    def more(self, pos: int, what: str) -> None:
        if pos >= len(self.data):
            raise self.fail(pos, f"{what} not terminated before the end of data")

    def value(self, pos: int, depth: int) -> tuple[Value, int]:
        if depth > MAX_DEPTH:
            raise self.fail(pos, f"nested deeper than {MAX_DEPTH}")
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise self.fail(pos, f"more than {MAX_ELEMENTS} elements")
        if pos >= len(self.data):
            raise self.fail(pos, "unexpected end of data")
        lead = self.data[pos : pos + 1]
        if lead == b"i":
            return self.integer(pos)
        if lead == b"l":
            return self.list(pos, depth)
        if lead == b"d":
            return self.dict(pos, depth)
        if lead.isdigit():
            return self.string(pos)
        raise self.fail(pos, f"unexpected byte {lead!r}")

    def integer(self, pos: int) -> tuple[int, int]:
        end = self.data.find(b"e", pos + 1, pos + 2 + MAX_INT_DIGITS)
        if end < 0:
            raise self.fail(pos, "integer without end or too long")
        text = self.data[pos + 1 : end]
        if not text or not text.lstrip(b"-").isdigit() or text.count(b"-") > 1:
            raise self.fail(pos, f"bad integer {text[:20]!r}")
        return int(text), end + 1

    def string(self, pos: int) -> tuple[bytes, int]:
        colon = self.data.find(b":", pos, pos + MAX_INT_DIGITS)
        if colon < 0 or not self.data[pos:colon].isdigit():
            raise self.fail(pos, "bad string length")
        length = int(self.data[pos:colon])
        start, end = colon + 1, colon + 1 + length
        if end > len(self.data):
            raise self.fail(pos, f"string of {length} bytes runs past the end")
        return self.data[start:end], end

    def list(self, pos: int, depth: int) -> tuple[list[Value], int]:
        items: list[Value] = []
        pos += 1
        while self.data[pos : pos + 1] != b"e":
            self.more(pos, "list")
            item, pos = self.value(pos, depth + 1)
            items.append(item)
        return items, pos + 1

    def dict(self, pos: int, depth: int) -> tuple[dict[bytes, Value], int]:
        found: dict[bytes, Value] = {}
        pos += 1
        while self.data[pos : pos + 1] != b"e":
            self.more(pos, "dictionary")
            if not self.data[pos : pos + 1].isdigit():
                raise self.fail(pos, "dictionary key is not a string")
            key, pos = self.string(pos)
            start = pos
            found[key], pos = self.value(pos, depth + 1)
            if depth == 0 and key == b"info":
                self.info_span = (start, pos)
        return found, pos + 1


def decode(data: bytes) -> Decoded:
    """Decode one bencoded value from the start of ``data``.

    Raises:
        BencodeError: the data is malformed, truncated or over the limits.

    Example:
        >>> decode(b"d3:fooi42ee").value
        {b'foo': 42}
    """
    decoder = _Decoder(data)
    value, end = decoder.value(0, 0)
    return Decoded(value, end, decoder.info_span)


def text(value: object) -> str | None:
    """A bencoded string as text (UTF-8, undecodable bytes as ``\\xNN``), else None."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return None


def integer(value: object) -> int | None:
    """A bencoded integer, else None (booleans are not integers here)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
