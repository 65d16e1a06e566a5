"""Hash-set file formats, one module each, registered in ``FORMATS`` by name.

``detect`` picks the format of a file from its first bytes, in the order below (most
specific first: an ICSE file is also a CSV file).
"""

from __future__ import annotations

from pathlib import Path

from unseen.core.errors import UserError
from unseen.matching.formats import icse, md5list, nsrl, plaincsv, vics
from unseen.matching.formats.base import FORMATS, HashSetFormat

SNIFF_ORDER = (nsrl.NsrlFormat, vics.VicsFormat, icse.IcseFormat, plaincsv.PlainCsvFormat,
               md5list.Md5ListFormat)  # fmt: skip
HEAD_BYTES = 64 * 1024


def detect(path: Path) -> type[HashSetFormat]:
    """The format of ``path`` judged by its first bytes.

    Raises:
        UserError: no format recognises the file.
    """
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    for fmt in SNIFF_ORDER:
        if fmt.sniff(head):
            return fmt
    raise UserError(
        f"{path.name}: format not recognised; give --format ({', '.join(FORMATS.names())})"
    )


def get(name: str) -> type[HashSetFormat]:
    """A format by name. Raises UserError for an unknown name."""
    if name not in FORMATS.names():
        raise UserError(f"unknown hash-set format {name!r} (known: {', '.join(FORMATS.names())})")
    return FORMATS.get(name)


__all__ = ["FORMATS", "SNIFF_ORDER", "HashSetFormat", "detect", "get"]
