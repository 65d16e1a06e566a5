"""Evidence paths: display text that never lies about the bytes behind it.

File names on seized media are bytes in whatever encoding the suspect's system used.
We keep the raw bytes to reopen the file and show a text form in which every byte that
is not valid UTF-8 appears as ``\\xNN`` (and a backslash that would read as such
an escape as ``\\x5c``), so two different names never display the same.
"""

from __future__ import annotations

import codecs


def _escape_invalid(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    bad = err.object[err.start : err.end]
    return "".join(f"\\x{b:02x}" for b in bad), err.end


codecs.register_error("unseen-escape", _escape_invalid)


def display_name(raw: bytes) -> tuple[str, bool]:
    """Return the display text of a raw name and whether it decoded cleanly.

    Backslashes are left alone, except one followed by ``x``, shown as ``\\x5c``: so
    a name that really contains the text ``\\xff`` cannot display like one holding
    the byte 0xFF (the display of a folder is part of every path below it).

    Example:
        >>> display_name(b"caf\\xe9"), display_name(b"caf\\\\xe9")
        (('caf\\\\xe9', False), ('caf\\\\x5cxe9', True))
    """
    raw = raw.replace(b"\\x", b"\\x5cx")
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", "unseen-escape"), False


def join(parent: str, name: str) -> str:
    """Join evidence path parts with ``/`` whatever the host system uses."""
    return f"{parent}/{name}" if parent else name
