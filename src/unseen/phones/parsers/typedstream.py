"""The text of an iMessage ``attributedBody``: an NSAttributedString archived in
Apple's typedstream format, read as far as its first NSString and no further.

Since iOS 16 / macOS Ventura many messages keep their text only there (``text`` is
NULL). The archive writes the class chain ``NSString`` then, after a fixed type
marker (``01 94 84 01 2B``), the UTF-8 length (one byte; ``0x81`` + two bytes
little-endian; ``0x82`` + four) and the bytes. Anything else is refused, not guessed.
"""

from __future__ import annotations

_CLASS = b"NSString"
_MARKER = b"\x01\x94\x84\x01\x2b"


def attributed_text(blob: bytes | None) -> str | None:
    """The plain text of an ``attributedBody`` blob, or None when it has none we trust.

    Example:
        >>> attributed_text(b"\\x04\\x0bstreamtyped..NSString" + _MARKER + b"\\x02hi\\x86")
        'hi'
    """
    if not blob:
        return None
    at = blob.find(_CLASS)
    if at < 0 or blob[at + len(_CLASS) : at + len(_CLASS) + len(_MARKER)] != _MARKER:
        return None
    pos = at + len(_CLASS) + len(_MARKER)
    if pos >= len(blob):
        return None
    size, pos = _length(blob, pos)
    if size is None or pos + size > len(blob):
        return None
    return blob[pos : pos + size].decode("utf-8", "backslashreplace")


def _length(blob: bytes, pos: int) -> tuple[int | None, int]:
    first = blob[pos]
    if first == 0x81:
        return int.from_bytes(blob[pos + 1 : pos + 3], "little"), pos + 3
    if first == 0x82:
        return int.from_bytes(blob[pos + 1 : pos + 5], "little"), pos + 5
    if first >= 0x80:
        return None, pos
    return first, pos + 1
